/*
 * The store's error type (flywheel/store.h) and the two ways errors enter
 * it: from the library's own checks (fw_store_fail, whose text may carry
 * "\ndetail: ..." and "\nhint: ..." lines, the way the engines have always
 * written them) and from a PostgreSQL result (fw_store_fail_pg: SQLSTATE,
 * primary message, detail and hint as the server sent them).
 */
#include "store_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *fw_store_code_text(fw_store_code code)
{
    static const char *const text[] = {
#define FW_STORE_X(name, t) t,
        FW_STORE_ERRORS(FW_STORE_X)
#undef FW_STORE_X
    };
    if ((int)code < 0 || (size_t)code >= sizeof text / sizeof text[0])
        return "unknown error";
    return text[code];
}

void fw_store_error_clear(fw_store_error *err)
{
    if (!err)
        return;
    err->code = FW_STORE_OK;
    err->sqlstate[0] = err->message[0] = err->detail[0] = err->hint[0] = '\0';
}

static void copy_trim(char *dst, size_t size, const char *src, size_t n)
{
    while (n > 0 && (src[n - 1] == '\n' || src[n - 1] == ' '))
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void fw_store_error_from_text(fw_store_error *err, fw_store_code code, const char *text)
{
    fw_store_error_clear(err);
    err->code = code;
    const char *p = text;
    int part = 0; /* 0 message, 1 detail, 2 hint */
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *dst = err->message;
        size_t size = sizeof err->message;
        if (part > 0 && n > 8 && strncmp(p, "detail: ", 8) == 0) {
            dst = err->detail, size = sizeof err->detail, p += 8, n -= 8;
        } else if (part > 0 && n > 6 && strncmp(p, "hint: ", 6) == 0) {
            dst = err->hint, size = sizeof err->hint, p += 6, n -= 6;
        } else if (part > 0) {
            /* A continuation line of the message: keep it in the message. */
            size_t have = strlen(err->message);
            if (have + 1 < sizeof err->message) {
                err->message[have] = '\n';
                copy_trim(err->message + have + 1, sizeof err->message - have - 1, p, n);
            }
            p = nl ? nl + 1 : p + n;
            continue;
        }
        copy_trim(dst, size, p, n);
        part++;
        p = nl ? nl + 1 : p + n;
    }
}

int fw_store_fail(fw_store_error *err, fw_store_code code, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (err)
        fw_store_error_from_text(err, code, text);
    return -1;
}

static const struct {
    const char *sqlstate;
    fw_store_code code;
    const char *meaning;
} fr_codes[] = {
#define FW_STORE_FR_X(state, code, meaning) {state, FW_STORE_##code, meaning},
    FW_STORE_FR_CODES(FW_STORE_FR_X)
#undef FW_STORE_FR_X
};

static int fr_index(const char *sqlstate)
{
    if (!sqlstate)
        return -1;
    for (size_t i = 0; i < sizeof fr_codes / sizeof fr_codes[0]; i++)
        if (strcmp(fr_codes[i].sqlstate, sqlstate) == 0)
            return (int)i;
    return -1;
}

fw_store_code fw_store_sqlstate_code(const char *sqlstate)
{
    int i = fr_index(sqlstate);
    return i < 0 ? FW_STORE_DATABASE : fr_codes[i].code;
}

const char *fw_store_sqlstate_meaning(const char *sqlstate)
{
    int i = fr_index(sqlstate);
    return i < 0 ? NULL : fr_codes[i].meaning;
}

/* A missing table, schema or function of Flywheel's: the database was not
 * migrated (or is older than this build). Another missing object — a
 * typo in a user's --where, a temporary table — is not that. */
static int missing_schema(const char *state, const char *primary)
{
    if (!state || !primary)
        return 0;
    if (strcmp(state, "42P01") != 0 && strcmp(state, "3F000") != 0 && strcmp(state, "42883") != 0)
        return 0;
    return strstr(primary, "\"flywheel\"") != NULL || strstr(primary, "flywheel.") != NULL;
}

int fw_store_error_pg(fw_store_error *err, const char *what, const PGresult *res,
                      const PGconn *conn)
{
    if (!err)
        return -1;
    fw_store_error_clear(err);
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
    err->code = fw_store_sqlstate_code(state);
    char msg[768];
    if (primary) {
        copy_trim(msg, sizeof msg, primary, strlen(primary));
    } else {
        /* libpq's own text ("server closed the connection unexpectedly\n\t
         * This probably means..."), or a server message it kept only as
         * text: the first line without its severity, one line like every
         * other message. */
        const char *m = res ? PQresultErrorMessage(res) : NULL;
        if (!m || !*m)
            m = conn ? PQerrorMessage(conn) : NULL;
        if (!m || !*m)
            m = "unknown error";
        static const char *const severities[] = {"FATAL:  ", "ERROR:  ", "PANIC:  "};
        for (size_t i = 0; i < sizeof severities / sizeof severities[0]; i++)
            if (strncmp(m, severities[i], strlen(severities[i])) == 0)
                m += strlen(severities[i]);
        copy_trim(msg, sizeof msg, m, strcspn(m, "\n"));
    }
    if (what)
        snprintf(err->message, sizeof err->message, "could not %.200s: %s", what, msg);
    else
        snprintf(err->message, sizeof err->message, "%s", msg);
    if (state)
        snprintf(err->sqlstate, sizeof err->sqlstate, "%s", state);
    if (detail)
        copy_trim(err->detail, sizeof err->detail, detail, strlen(detail));
    if (missing_schema(state, primary)) {
        snprintf(err->detail, sizeof err->detail,
                 "The database has no Flywheel schema, or an older one than this build "
                 "needs.");
        snprintf(err->hint, sizeof err->hint,
                 "Run `flywheel migrate` against this database (the same --dsn), then "
                 "try again.");
    } else if (hint) {
        copy_trim(err->hint, sizeof err->hint, hint, strlen(hint));
    }
    return -1;
}

int fw_store_fail_pg(fw_store_error *err, const char *what, const PGresult *res, const PGconn *conn)
{
    return fw_store_error_pg(err, what, res, conn);
}
