/*
 * SQLSTATE classification follows the pgbench rule (canRetryError): decide by
 * code, never by message text, which is translated and changes.
 */
#include "pgutil.h"

#include <stdio.h>
#include <string.h>

fw_pg_class fw_pg_classify_sqlstate(const char *s)
{
    if (!s || strlen(s) != 5)
        return FW_PG_RETRY;
    if (strcmp(s, "00000") == 0)
        return FW_PG_OK;
    if (strncmp(s, "08", 2) == 0 || strncmp(s, "53", 2) == 0)
        return FW_PG_RETRY;
    if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 || strcmp(s, "55P03") == 0)
        return FW_PG_RETRY;
    if (strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 || strcmp(s, "57P03") == 0)
        return FW_PG_RETRY;
    if (strncmp(s, "22", 2) == 0 || strncmp(s, "23", 2) == 0)
        return FW_PG_DATA;
    return FW_PG_FATAL;
}

const char *fw_pg_sqlstate(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

fw_pg_class fw_pg_classify(const PGresult *res, const PGconn *conn)
{
    if (!res)
        return FW_PG_RETRY;
    switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
    case PGRES_SINGLE_TUPLE:
        return FW_PG_OK;
    default:
        break;
    }
    if (conn && PQstatus(conn) == CONNECTION_BAD)
        return FW_PG_RETRY;
    return fw_pg_classify_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE));
}

static size_t copy_trimmed(char *buf, size_t size, size_t at, const char *s)
{
    size_t len = strlen(s);
    while (len > 0 && s[len - 1] == '\n')
        len--;
    if (at + len >= size)
        len = size - at - 1;
    memcpy(buf + at, s, len);
    buf[at + len] = '\0';
    return at + len;
}

char *fw_pg_errstr(char *buf, size_t size, const PGresult *res, const PGconn *conn)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    size_t n = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (!primary) {
        const char *m = conn ? PQerrorMessage(conn) : NULL;
        n = copy_trimmed(buf, size, 0, m && *m ? m : "unknown error");
        return buf;
    }
    n = copy_trimmed(buf, size, 0, primary);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state && n + 20 < size)
        n += (size_t)snprintf(buf + n, size - n, " (SQLSTATE %s)", state);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    if (detail && n + 12 < size) {
        n = copy_trimmed(buf, size, n, "; detail: ");
        n = copy_trimmed(buf, size, n, detail);
    }
    const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    if (hint && n + 10 < size) {
        n = copy_trimmed(buf, size, n, "; hint: ");
        n = copy_trimmed(buf, size, n, hint);
    }
    return buf;
}
