/*
 * Small libpq helpers shared by the collector and the CLI: classifying an
 * error by SQLSTATE (never by message text) and formatting a result's error
 * in PostgreSQL's style.
 */
#ifndef FW_PGUTIL_H
#define FW_PGUTIL_H

#include <libpq-fe.h>
#include <stddef.h>

typedef enum {
    FW_PG_OK = 0,
    FW_PG_RETRY, /* connection lost, serialization failure, deadlock, resources, shutdown */
    FW_PG_DATA,  /* class 22 (data exception) or 23 (integrity): the row is at fault */
    FW_PG_FATAL, /* anything else: configuration, permissions, schema */
} fw_pg_class;

/*
 * Classifies a SQLSTATE: 08xxx, 40001, 40P01, 53xxx, 57P01..57P03 and 55P03
 * (lock not available) retry; 22xxx and 23xxx are data errors; the rest are
 * fatal. NULL or empty (no server answer: the connection broke) retries.
 */
fw_pg_class fw_pg_classify_sqlstate(const char *sqlstate);

/* Classifies a result (NULL result = connection-level failure → retry). */
fw_pg_class fw_pg_classify(const PGresult *res, const PGconn *conn);

/* The SQLSTATE of a result, or "" when there is none. Never NULL. */
const char *fw_pg_sqlstate(const PGresult *res);

/*
 * Formats the error of `res` (or of `conn` when res has none) into buf as
 * one line: "primary message (SQLSTATE xxxxx)", with the detail and hint
 * appended when present. Always NUL-terminates. Returns buf.
 */
char *fw_pg_errstr(char *buf, size_t size, const PGresult *res, const PGconn *conn);

#endif
