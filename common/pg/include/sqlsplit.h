/*
 * Splits a SQL script into statements at top-level semicolons, honouring
 * quoted strings ('...', E'...'), quoted identifiers ("..."), dollar quotes
 * ($tag$...$tag$), line comments and nested block comments. Used to run
 * no-transaction migrations one statement at a time, since PostgreSQL runs a
 * multi-statement query string as one implicit transaction.
 */
#ifndef FW_SQLSPLIT_H
#define FW_SQLSPLIT_H

#include <stddef.h>

/*
 * Finds the next statement in sql[*pos..len). On return *start and *end
 * delimit it (without the semicolon) and *pos is past it. Returns 1 when a
 * statement was found, 0 at the end (only whitespace and comments left).
 */
int fw_sql_next_statement(const char *sql, size_t len, size_t *pos, size_t *start, size_t *end);

#endif
