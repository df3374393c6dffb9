/*
 * Dataset versions as recorded (flywheel/store.h, fw_store_dataset_*): the
 * list of versions, a version's manifest, and what changed between two
 * versions — members added, removed or relabelled (flywheel.dataset_diff)
 * and the parameters that differ. Read-only; each call is one snapshot.
 */
#include "store_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a read-only query; NULL with err filled on failure. */
static PGresult *query(PGconn *c, const char *what, const char *sql, int n, const char *const *p,
                       fw_store_error *err)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        fw_store_error_pg(err, what, r, c);
        PQclear(r);
        return NULL;
    }
    return r;
}

json_t *fw_store_dataset_list(PGconn *conn, fw_store_error *err)
{
    fw_store_error_clear(err);
    PGresult *r = query(conn, "list dataset versions",
                        "SELECT v.dataset, v.version, v.format, v.members,"
                        " (v.manifest #>> '{lines,train}')::bigint AS train,"
                        " (v.manifest #>> '{lines,validation}')::bigint AS validation,"
                        " (v.manifest #>> '{lines,test}')::bigint AS test,"
                        " (v.manifest ->> 'rejected_total')::bigint AS rejected,"
                        " to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
                        "   AS created_at, v.created_by "
                        "FROM flywheel.dataset_versions v ORDER BY v.dataset, v.version",
                        0, NULL, err);
    if (!r)
        return NULL;
    json_t *rows = fw_store_rows_json(r);
    PQclear(r);
    if (!rows)
        fw_store_fail(err, FW_STORE_NOMEM, "could not list dataset versions: out of memory");
    return rows;
}

json_t *fw_store_dataset_manifest(PGconn *conn, const char *dataset, int version,
                                  fw_store_error *err)
{
    fw_store_error_clear(err);
    if (version < 0)
        return fw_store_fail(err, FW_STORE_INVALID, "invalid version %d", version), NULL;
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *p[2] = {dataset, v};
    PGresult *r = query(conn, "read the dataset version",
                        version > 0 ? "SELECT manifest::text FROM flywheel.dataset_versions "
                                      "WHERE dataset = $1 AND version = $2::integer"
                                    : "SELECT manifest::text FROM flywheel.dataset_versions "
                                      "WHERE dataset = $1 ORDER BY version DESC LIMIT 1",
                        version > 0 ? 2 : 1, p, err);
    if (!r)
        return NULL;
    if (PQntuples(r) != 1) {
        PQclear(r);
        if (version > 0)
            fw_store_fail(err, FW_STORE_NOT_FOUND,
                          "dataset \"%s\" has no version %d\n"
                          "hint: `flywheel dataset list` lists the recorded versions.",
                          dataset, version);
        else
            fw_store_fail(err, FW_STORE_NOT_FOUND,
                          "dataset \"%s\" has no versions\n"
                          "hint: `flywheel dataset list` lists the recorded versions.",
                          dataset);
        return NULL;
    }
    json_error_t jerr;
    json_t *m = json_loads(PQgetvalue(r, 0, 0), 0, &jerr);
    PQclear(r);
    if (!m)
        fw_store_fail(err, FW_STORE_DATABASE, "the recorded manifest is not valid JSON: %s",
                      jerr.text);
    return m;
}

/* Appends {"path", "from", "to"} to out for every leaf where a and b
 * differ (absent on one side: null there). Returns 0 or -1 (out of memory). */
static int diff_params(json_t *out, const char *path, const json_t *a, const json_t *b)
{
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *v;
        char sub[512];
        json_object_foreach((json_t *)(uintptr_t)a, k, v)
        {
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
            if (diff_params(out, sub, v, json_object_get(b, k)) != 0)
                return -1;
        }
        json_object_foreach((json_t *)(uintptr_t)b, k, v)
        {
            if (!json_object_get(a, k)) {
                snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
                if (diff_params(out, sub, NULL, v) != 0)
                    return -1;
            }
        }
        return 0;
    }
    if (a && b && json_equal((json_t *)(uintptr_t)a, (json_t *)(uintptr_t)b))
        return 0;
    json_t *d = json_pack("{s:s, s:O?, s:O?}", "path", path, "from", a, "to", b);
    return d ? json_array_append_new(out, d) : -1;
}

/* The line counts per split of both manifests: {"train": {"from", "to"}, ...}. */
static json_t *diff_lines(const json_t *ma, const json_t *mb)
{
    static const char *const splits[] = {"train", "validation", "test"};
    json_t *o = json_object();
    for (int i = 0; o && i < 3; i++) {
        json_int_t a = json_integer_value(json_object_get(json_object_get(ma, "lines"), splits[i]));
        json_int_t b = json_integer_value(json_object_get(json_object_get(mb, "lines"), splits[i]));
        if (json_object_set_new(o, splits[i], json_pack("{s:I, s:I}", "from", a, "to", b)) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *fw_store_dataset_diff(PGconn *conn, const char *dataset, int from, int to, int members,
                              fw_store_error *err)
{
    fw_store_error_clear(err);
    if (from < 1 || to < 1)
        return fw_store_fail(err, FW_STORE_INVALID, "invalid version %d", from < 1 ? from : to),
               NULL;
    char vf[16], vt[16];
    snprintf(vf, sizeof vf, "%d", from);
    snprintf(vt, sizeof vt, "%d", to);
    const char *p[3] = {dataset, vf, vt};
    json_t *doc = NULL, *pa = NULL, *pb = NULL, *ma = NULL, *mb = NULL;
    int ok = 0;
    /* One snapshot for the versions and their members. */
    if (fw_store_begin_snapshot(conn, err) != 0)
        return NULL;
    PGresult *r =
        query(conn, "read the dataset versions",
              "SELECT version, parameters::text, manifest::text FROM flywheel.dataset_versions "
              "WHERE dataset = $1 AND version IN ($2::integer, $3::integer) "
              "ORDER BY version = $3::integer",
              3, p, err);
    if (!r)
        goto out;
    if (PQntuples(r) != 2 && !(from == to && PQntuples(r) == 1)) {
        fw_store_fail(err, FW_STORE_NOT_FOUND,
                      "dataset \"%s\" does not have both versions %d and %d\n"
                      "hint: `flywheel dataset list` lists the recorded versions.",
                      dataset, from, to);
        goto out;
    }
    int last = PQntuples(r) - 1;
    pa = json_loads(PQgetvalue(r, 0, 1), 0, NULL);
    pb = json_loads(PQgetvalue(r, last, 1), 0, NULL);
    ma = json_loads(PQgetvalue(r, 0, 2), 0, NULL);
    mb = json_loads(PQgetvalue(r, last, 2), 0, NULL);
    PQclear(r);
    r = NULL;
    if (!pa || !pb || !ma || !mb) {
        fw_store_fail(err, FW_STORE_DATABASE, "a recorded manifest or its parameters are not JSON");
        goto out;
    }
    doc = json_pack("{s:s, s:i, s:i, s:[], s:o}", "dataset", dataset, "from", from, "to", to,
                    "parameters", "lines", diff_lines(ma, mb));
    if (!doc || diff_params(json_object_get(doc, "parameters"), "", pa, pb) != 0)
        goto oom;

    r = query(conn, "compare the members",
              "SELECT change, count(*) FROM flywheel.dataset_diff($1, $2::integer, $3::integer) "
              "GROUP BY 1 ORDER BY 1",
              3, p, err);
    if (!r)
        goto out;
    json_t *counts = json_pack("{s:I, s:I, s:I}", "added", (json_int_t)0, "removed", (json_int_t)0,
                               "relabelled", (json_int_t)0);
    if (!counts || json_object_set_new(doc, "members", counts) != 0)
        goto oom;
    for (int i = 0; i < PQntuples(r); i++)
        if (json_object_set_new(counts, PQgetvalue(r, i, 0),
                                json_integer(strtoll(PQgetvalue(r, i, 1), NULL, 10))) != 0)
            goto oom;
    PQclear(r);
    r = NULL;
    if (members) {
        r = query(conn, "compare the members",
                  "SELECT change, event_id::text AS event_id, item_id,"
                  " old_label_ids, new_label_ids "
                  "FROM flywheel.dataset_diff($1, $2::integer, $3::integer)",
                  3, p, err);
        if (!r)
            goto out;
        json_t *rows = fw_store_rows_json(r);
        if (!rows || json_object_set_new(doc, "changes", rows) != 0)
            goto oom;
    }
    ok = 1;
    goto out;
oom:
    fw_store_fail(err, FW_STORE_NOMEM, "could not compare dataset versions: out of memory");
out:
    PQclear(r);
    PQclear(PQexec(conn, "ROLLBACK"));
    json_decref(pa);
    json_decref(pb);
    json_decref(ma);
    json_decref(mb);
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
