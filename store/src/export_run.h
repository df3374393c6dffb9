/*
 * One export from start to end: resolve the members (or load a recorded
 * version), stream them from PostgreSQL with COPY (…) TO STDOUT, turn
 * each into lines (export_fmt), redact, validate, dedupe, split, write, and
 * finish with the manifest, recorded with the version in the same
 * transaction as its members.
 *
 * Memory: one row (one PQgetCopyData buffer) and its lines at a time, the
 * output buffers, and the dedupe set, which stays in memory up to 8 MiB and
 * then moves to a temporary file (export_split.h): constant whatever the
 * number of rows.
 */
#ifndef FW_EXPORT_RUN_H
#define FW_EXPORT_RUN_H

#include "export_select.h"
#include "flywheel/store.h"

/* fw_xrun, fw_xrun_target and fw_xrun_result are declared in flywheel/store.h. */

/*
 * The per-row work of an export without a database: rows in the stream
 * query's COPY text format (fw_xrun_stream_sql's columns) go through the
 * code fw_xrun runs for each streamed row — split into columns, lines built
 * (by the streaming transform when `fast` and the options allow it, else
 * by the general path), redacted, checked, deduplicated, split and written
 * to one stream "-" of w. No rubric, but for the name of its correction
 * field (NULL: none). For instruction counts (bench/icount_export.c) and for comparing
 * the two paths (tests/export/test_fast.c); not part of the store's API.
 * fw_xrows_open returns NULL with err filled; fw_xrows_add modifies row
 * (row[len] must be writable) and returns 0 or -1 with err filled;
 * fw_xrows_close closes the stream, fills res and frees r (NULL accepted).
 * o and err must outlive r.
 */
typedef struct fw_xrows fw_xrows;

typedef struct {
    long long lines, fast_lines, rejected, duplicates;
    uint64_t bytes;
    char sha256[65];
} fw_xrows_result;

fw_xrows *fw_xrows_open(const fw_xopts *o, const char *correction_field, const fw_store_writer *w,
                        int fast, fw_store_error *err);
int fw_xrows_add(fw_xrows *r, char *row, size_t len);
int fw_xrows_close(fw_xrows *r, fw_xrows_result *res);

#endif
