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

#include <libpq-fe.h>

typedef struct {
    const char *dataset;       /* record a version of this dataset; NULL: ad hoc */
    int version;               /* > 0: re-export this recorded version */
    const char *description;   /* of a new dataset */
    const char *out_dir;       /* directory, or NULL / "-" for stdout */
    const char *only_split;    /* with stdout: write only this split */
    const char *manifest_path; /* with stdout: where the manifest goes (optional) */
    int progress;              /* 1 on, 0 off, -1 when stderr is a terminal */
    int quiet;
    const char *baseline_copy; /* bench only: run COPY (stream query) TO this file instead */
} fw_xrun_target;

/*
 * Runs the export. `o` holds the options of a new export; for a re-export
 * its recorded fields are replaced by the version's parameters. Returns 0,
 * 1 on failure (errbuf filled, nothing recorded), or 3 when a re-export's
 * files differ from the recorded sha256s (files written, errbuf says which).
 */
int fw_xrun(PGconn *conn, fw_xopts *o, const fw_xrun_target *t, char *errbuf, size_t errsize);

#endif
