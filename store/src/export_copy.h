/*
 * Rows of a `COPY (…) TO STDOUT` in PostgreSQL's text format, split into
 * their fields in place.
 *
 * The exporter streams its rows with COPY rather than a cursor: the server
 * produces rows without waiting for a FETCH round trip, the planner picks
 * the same (possibly parallel) plan as for any COPY, and libpq hands over
 * exactly one row per PQgetCopyData() buffer. The text format separates
 * fields with a tab, ends the row with a newline, writes SQL NULL as \N and
 * escapes backslash, tab, newline, carriage return, backspace, form feed and
 * vertical tab with a backslash; COPY TO never writes octal or hex escapes,
 * but they are decoded too so that the parser accepts all of the format.
 */
#ifndef FW_EXPORT_COPY_H
#define FW_EXPORT_COPY_H

#include <stddef.h>

/*
 * Splits one text-format row of `len` bytes at `row` (modified in place:
 * every field is unescaped and NUL-terminated; row[len] must be writable,
 * as it is in the NUL-terminated buffers PQgetCopyData() returns) into at
 * most `max` fields.
 * fields[i] points to field i, or is NULL for SQL NULL; lens[i] is its
 * length. Returns the number of fields, or -1 when the row has more than
 * `max` fields.
 */
int fw_xcopy_split(char *row, size_t len, char **fields, size_t *lens, int max);

#endif
