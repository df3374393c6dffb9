/*
 * Streaming urlencoded parser; see form.h. A byte-at-a-time state machine:
 * the only state carried between pieces is whether we are in a key or a
 * value and a half-read percent escape (0, 1 or 2 hex digits seen), so any
 * split of the body gives the same fields.
 */
#include "fw_hex.h"
#include "form.h"

#include "html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;
    char *val;
    size_t len;
} field;

struct sv_form {
    size_t max_body, max_field, max_fields;
    size_t body;
    sv_form_status status;
    char err[256];
    field *fields;
    size_t n, cap;
    /* the field being read */
    int in_value;
    int started; /* any byte of this field seen */
    char key[SV_FORM_MAX_KEY + 1];
    size_t klen;
    char *val;
    size_t vlen, vcap;
    int pct;          /* digits of a percent escape seen: 0, 1 or 2 */
    unsigned pct_val; /* the first digit's value */
};

sv_form *sv_form_new(size_t max_body, size_t max_field, size_t max_fields)
{
    sv_form *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->max_body = max_body;
    f->max_field = max_field;
    f->max_fields = max_fields;
    return f;
}

void sv_form_free(sv_form *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->fields[i].key);
        free(f->fields[i].val);
    }
    free(f->fields);
    free(f->val);
    free(f);
}

/* The key read so far, for messages: printable ASCII only (it may be
 * partial or invalid UTF-8). */
static const char *shown_key(sv_form *f, char *out, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < f->klen && k + 1 < size; i++) {
        char c = f->key[i];
        out[k++] = (c >= 0x20 && c < 0x7F && c != '"') ? c : '?';
    }
    out[k] = '\0';
    return out;
}

static sv_form_status fail(sv_form *f, sv_form_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sv_form_status fail(sv_form *f, sv_form_status st, const char *fmt, ...)
{
    if (f->status == SV_FORM_OK) {
        f->status = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->err, sizeof f->err, fmt, ap);
        va_end(ap);
    }
    return f->status;
}

/* Appends one decoded byte to the key or the value. */
static sv_form_status put(sv_form *f, unsigned char c)
{
    if (!f->in_value) {
        if (f->klen >= SV_FORM_MAX_KEY) {
            char k[64];
            return fail(f, SV_FORM_BAD, "field name \"%s...\" is longer than %d bytes",
                        shown_key(f, k, sizeof k), SV_FORM_MAX_KEY);
        }
        f->key[f->klen++] = (char)c;
        return SV_FORM_OK;
    }
    if (f->vlen >= f->max_field) {
        char k[64];
        return fail(f, SV_FORM_TOO_LARGE, "field \"%s\" is longer than %zu bytes",
                    shown_key(f, k, sizeof k), f->max_field);
    }
    if (f->vlen + 1 >= f->vcap) {
        size_t cap = f->vcap ? f->vcap * 2 : 64;
        char *v = realloc(f->val, cap);
        if (!v)
            return fail(f, SV_FORM_TOO_LARGE, "out of memory");
        f->val = v;
        f->vcap = cap;
    }
    f->val[f->vlen++] = (char)c;
    return SV_FORM_OK;
}

/* Completes the current field (at '&' or the end of the body). */
static sv_form_status end_field(sv_form *f)
{
    if (f->pct) {
        char k[64];
        return fail(f, SV_FORM_BAD, "incomplete percent escape in field \"%s\"",
                    shown_key(f, k, sizeof k));
    }
    if (!f->started)
        return SV_FORM_OK;
    char k[64];
    f->key[f->klen] = '\0';
    if (!sv_utf8_valid(f->key, f->klen) || f->klen == 0)
        return fail(f, SV_FORM_BAD, "invalid field name \"%s\"", shown_key(f, k, sizeof k));
    if (!sv_utf8_valid(f->val ? f->val : "", f->vlen))
        return fail(f, SV_FORM_BAD, "field \"%s\" is not valid UTF-8 text",
                    shown_key(f, k, sizeof k));
    if (f->n >= f->max_fields)
        return fail(f, SV_FORM_TOO_LARGE, "more than %zu fields", f->max_fields);
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        field *nf = realloc(f->fields, cap * sizeof *nf);
        if (!nf)
            return fail(f, SV_FORM_TOO_LARGE, "out of memory");
        f->fields = nf;
        f->cap = cap;
    }
    field *fl = &f->fields[f->n];
    fl->key = strdup(f->key);
    if (!fl->key)
        return fail(f, SV_FORM_TOO_LARGE, "out of memory");
    if (f->val) {
        f->val[f->vlen] = '\0';
        fl->val = f->val;
    } else {
        fl->val = strdup("");
        if (!fl->val) {
            free(fl->key);
            return fail(f, SV_FORM_TOO_LARGE, "out of memory");
        }
    }
    fl->len = f->vlen;
    f->n++;
    f->val = NULL;
    f->vlen = f->vcap = 0;
    f->klen = 0;
    f->in_value = 0;
    f->started = 0;
    return SV_FORM_OK;
}

sv_form_status sv_form_feed(sv_form *f, const char *data, size_t n)
{
    if (f->status != SV_FORM_OK)
        return f->status;
    if (n > f->max_body - f->body || f->body > f->max_body)
        return fail(f, SV_FORM_TOO_LARGE, "request body is larger than %zu bytes", f->max_body);
    f->body += n;
    for (size_t i = 0; i < n && f->status == SV_FORM_OK; i++) {
        unsigned char c = (unsigned char)data[i];
        if (f->pct) {
            int h = fw_hex_val(c);
            if (h < 0) {
                char k[64];
                return fail(f, SV_FORM_BAD, "invalid percent escape in field \"%s\"",
                            shown_key(f, k, sizeof k));
            }
            if (f->pct == 1) {
                f->pct_val = (unsigned)h;
                f->pct = 2;
            } else {
                f->pct = 0;
                put(f, (unsigned char)(f->pct_val << 4 | (unsigned)h));
            }
            continue;
        }
        switch (c) {
        case '&':
            end_field(f);
            break;
        case '=':
            f->started = 1;
            if (!f->in_value)
                f->in_value = 1;
            else
                put(f, c);
            break;
        case '%':
            f->started = 1;
            f->pct = 1;
            break;
        case '+':
            f->started = 1;
            put(f, ' ');
            break;
        default:
            f->started = 1;
            put(f, c);
        }
    }
    return f->status;
}

sv_form_status sv_form_finish(sv_form *f)
{
    if (f->status == SV_FORM_OK)
        end_field(f);
    return f->status;
}

sv_form_status sv_form_status_of(const sv_form *f)
{
    return f->status;
}

const char *sv_form_error(const sv_form *f)
{
    return f->err;
}

size_t sv_form_count(const sv_form *f)
{
    return f->n;
}

const char *sv_form_key(const sv_form *f, size_t i)
{
    return i < f->n ? f->fields[i].key : NULL;
}

const char *sv_form_value(const sv_form *f, size_t i, size_t *len)
{
    if (i >= f->n)
        return NULL;
    if (len)
        *len = f->fields[i].len;
    return f->fields[i].val;
}

const char *sv_form_get(const sv_form *f, const char *key)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->fields[i].key, key) == 0)
            return f->fields[i].val;
    return NULL;
}
