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

#endif
