/*
 * What the store's modules share and front ends do not see: building
 * errors (error.c), results as JSON and read snapshots (pgjson.c).
 */
#ifndef FW_STORE_INT_H
#define FW_STORE_INT_H

#include "flywheel/store.h"

/* Fills err from text "message[\ndetail: ...][\nhint: ...]" with code. */
void fw_store_error_from_text(fw_store_error *err, fw_store_code code, const char *text);

/* printf into err with code (text as for fw_store_error_from_text).
 * Returns -1, so that `return fw_store_fail(...)` reads naturally. */
int fw_store_fail(fw_store_error *err, fw_store_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills err (FW_STORE_DATABASE) from a failed result, or from the
 * connection when the result carries no error: "could not <what>: primary",
 * the SQLSTATE, detail and hint. what may be NULL. Returns -1. */
int fw_store_fail_pg(fw_store_error *err, const char *what, const PGresult *res,
                     const PGconn *conn);

/* Starts a REPEATABLE READ READ ONLY transaction: one snapshot for the
 * queries of a document. Returns 0, or -1 with err filled. The caller ends
 * it with ROLLBACK (nothing to keep). */
int fw_store_begin_snapshot(PGconn *conn, fw_store_error *err);

/* A result cell as JSON by its column type: bool, integer (int2/4/8 and
 * integral numeric), real (float, other numeric; NaN and infinities become
 * null), else the text; SQL NULL is null. NULL when out of memory. */
json_t *fw_store_cell_json(const PGresult *res, int row, int col);

/* Row `row` as an object keyed by column name; every row as an array of
 * such objects. NULL when out of memory. */
json_t *fw_store_row_json(const PGresult *res, int row);
json_t *fw_store_rows_json(const PGresult *res);

#endif
