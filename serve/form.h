/*
 * A streaming parser for application/x-www-form-urlencoded request bodies,
 * the only body type the web server accepts. The body may arrive in pieces
 * of any size (libmicrohttpd hands it over as it reads it); the result is
 * the same however it is split. Limits are enforced while reading, before
 * anything is stored past them:
 *   max_body    raw bytes of the whole body         → SV_FORM_TOO_LARGE
 *   max_field   decoded bytes of one value          → SV_FORM_TOO_LARGE
 *   max_fields  number of fields                    → SV_FORM_TOO_LARGE
 * Keys are at most SV_FORM_MAX_KEY decoded bytes. A bad percent escape, a
 * key or value that is not valid UTF-8 or contains NUL is SV_FORM_BAD.
 * After an error the parser ignores further input and keeps the first
 * error. Fields keep their order; a key may repeat.
 */
#ifndef FW_SERVE_FORM_H
#define FW_SERVE_FORM_H

#include <stddef.h>

#define SV_FORM_MAX_KEY 128

typedef enum { SV_FORM_OK = 0, SV_FORM_BAD = 1, SV_FORM_TOO_LARGE = 2 } sv_form_status;

typedef struct sv_form sv_form;

/* Returns a parser, or NULL when out of memory. */
sv_form *sv_form_new(size_t max_body, size_t max_field, size_t max_fields);
void sv_form_free(sv_form *f);

/* Feeds n more bytes of the body. Returns the parser's status so far. */
sv_form_status sv_form_feed(sv_form *f, const char *data, size_t n);

/* Ends the body (completes the last field). Returns the final status. */
sv_form_status sv_form_finish(sv_form *f);

/* The status and, after an error, a message naming the field (lower case,
 * no trailing period), e.g. `field "note" is longer than 131072 bytes`. */
sv_form_status sv_form_status_of(const sv_form *f);
const char *sv_form_error(const sv_form *f);

/* Number of fields, and the i-th key and value (NUL-terminated; the value's
 * length in *len when len is not NULL). Valid until sv_form_free. */
size_t sv_form_count(const sv_form *f);
const char *sv_form_key(const sv_form *f, size_t i);
const char *sv_form_value(const sv_form *f, size_t i, size_t *len);

/* The value of the first field named key, or NULL. */
const char *sv_form_get(const sv_form *f, const char *key);

#endif
