/*
 * What the store's modules share and front ends do not see: building
 * errors (error.c).
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

#endif
