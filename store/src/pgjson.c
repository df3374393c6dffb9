/*
 * PostgreSQL results as JSON, for the documents the store returns (stats,
 * dead letters, datasets): a cell becomes a JSON value by its column's
 * type, so counts stay integers and a front end never parses text again.
 */
#include "store_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs of the columns the store's queries return (pg_type.dat). */
#define OID_BOOL    16
#define OID_INT8    20
#define OID_INT2    21
#define OID_INT4    23
#define OID_FLOAT4  700
#define OID_FLOAT8  701
#define OID_NUMERIC 1700

json_t *fw_store_cell_json(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return json_null();
    const char *v = PQgetvalue(res, row, col);
    Oid t = PQftype(res, col);
    if (t == OID_BOOL)
        return json_boolean(v[0] == 't');
    if (t == OID_INT2 || t == OID_INT4 || t == OID_INT8 ||
        (t == OID_NUMERIC && strpbrk(v, ".eEN") == NULL)) {
        errno = 0;
        char *end;
        long long n = strtoll(v, &end, 10);
        if (errno == 0 && *end == '\0')
            return json_integer(n);
        /* a numeric beyond 64 bits: fall through to a real */
    }
    if (t == OID_INT8 || t == OID_NUMERIC || t == OID_FLOAT4 || t == OID_FLOAT8) {
        double d = strtod(v, NULL);
        /* NaN and infinities have no JSON spelling. */
        return isfinite(d) ? json_real(d) : json_null();
    }
    return json_string(v);
}

int fw_store_begin_snapshot(PGconn *conn, fw_store_error *err)
{
    PGresult *r = PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fw_store_error_pg(err, "start a transaction", r, conn);
    PQclear(r);
    return ok ? 0 : -1;
}

json_t *fw_store_row_json(const PGresult *res, int row)
{
    json_t *o = json_object();
    for (int c = 0; o && c < PQnfields(res); c++) {
        if (json_object_set_new(o, PQfname(res, c), fw_store_cell_json(res, row, c)) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *fw_store_rows_json(const PGresult *res)
{
    json_t *a = json_array();
    for (int r = 0; a && r < PQntuples(res); r++) {
        if (json_array_append_new(a, fw_store_row_json(res, r)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}
