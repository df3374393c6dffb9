/*
 * Partition maintenance: an event whose day has no partition lands in the
 * default partition (never rejected); maintain_partitions() then creates
 * that day's partition and moves the row there; it is idempotent, and
 * duplicate event ids are absorbed by the primary key. Rows are placed by
 * the time their event id carries (id_time, V0038), so a re-sent id with
 * another event time is still one row, and no writer can choose another
 * place (a check constraint).
 */
#include "fwtest.h"

/* Inserts a generation through SQL: the id, its event time, and id_time as
 * the id says (the caller passes SQL expressions). */
static void insert_gen(PGconn *c, const char *id, const char *time)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO flywheel.generations (event_id, event_time, schema_version, id_time) "
             "VALUES (%s, %s, 1, flywheel.event_id_time(%s)) ON CONFLICT DO NOTHING",
             id, time, id);
    fwt_pg_exec(c, sql);
}

/* Runs sql, which must fail with SQLSTATE `state`. */
static void expect_error(PGconn *c, const char *sql, const char *state)
{
    PGresult *r = PQexec(c, sql);
    const char *got = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    FWT_CHECK_MSG(PQresultStatus(r) == PGRES_FATAL_ERROR && got && strcmp(got, state) == 0,
                  "expected SQLSTATE %s from: %s (got %s)", state, sql, got ? got : "success");
    PQclear(r);
}

int main(void)
{
    char dsn[512];
    fwt_pg_create_db("fwt_part", dsn, sizeof dsn);
    fwt_pg_migrate(dsn);
    PGconn *c = fwt_pg_connect(dsn);
    /* A UUIDv7 whose time is t, with n in its last bits. */
    fwt_pg_exec(c, "CREATE FUNCTION pg_temp.v7(t timestamptz, n int) RETURNS uuid LANGUAGE sql "
                   "AS $$ SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7000-8000-' "
                   "|| lpad(to_hex(n), 12, '0'))::uuid FROM (SELECT lpad(to_hex(floor("
                   "extract(epoch FROM t) * 1000)::bigint), 12, '0') AS h) s $$");
    /* The test's "now", fixed (each statement is its own transaction). */
    fwt_pg_exec(c, "CREATE TEMP TABLE t0 AS SELECT now() AS t");
    fwt_pg_exec(c, "CREATE FUNCTION pg_temp.t0() RETURNS timestamptz LANGUAGE sql "
                   "AS $$ SELECT t FROM t0 $$");

    /* Today's partition exists; a day 40 days ago does not. Rows are placed
     * by the time their id carries. */
    FWT_CHECK(fwt_pg_int(c, "SELECT count(*) FROM pg_inherits WHERE inhparent = "
                            "'flywheel.generations'::regclass") >= 9);
    insert_gen(c, "pg_temp.v7(pg_temp.t0(), 1)", "now()");
    insert_gen(c, "pg_temp.v7(now() - interval '40 days', 2)", "now()");
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations_default"), 1);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations"), 2);

    long long created = fwt_pg_int(c, "SELECT flywheel.maintain_partitions()");
    FWT_CHECK_EQ_INT(created, 1);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations_default"), 0);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations"), 2);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT flywheel.maintain_partitions()"), 0);

    /* The moved row is in its id's day's partition, which is lz4 like the rest. */
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations g "
                                   "JOIN pg_class p ON p.oid = g.tableoid WHERE p.relname = "
                                   "'generations_' || to_char((now() AT TIME ZONE 'UTC')::date "
                                   "- 40, 'YYYYMMDD')"),
                     1);

    /* A duplicate event is absorbed with ON CONFLICT DO NOTHING. */
    fwt_pg_exec(c,
                "INSERT INTO flywheel.generations (event_id, event_time, schema_version, id_time) "
                "SELECT event_id, event_time, 1, id_time FROM flywheel.generations "
                "ON CONFLICT DO NOTHING");
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations"), 2);

    /* Regression (issue #11 item 18): the same event id sent again with its
     * event time moved by +1 s and by -2 days is still one row, with the
     * first event time; the row's place follows from the id alone. */
    insert_gen(c, "pg_temp.v7(pg_temp.t0(), 1)", "now() + interval '1 second'");
    insert_gen(c, "pg_temp.v7(pg_temp.t0(), 1)", "now() - interval '2 days'");
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations "
                                   "WHERE event_id = pg_temp.v7(pg_temp.t0(), 1)"),
                     1);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations"), 2);
    /* An id_time other than the id's is refused, so no writer can place a
     * second copy elsewhere. */
    expect_error(
        c,
        "INSERT INTO flywheel.generations (event_id, event_time, schema_version, "
        "id_time) VALUES (pg_temp.v7(pg_temp.t0(), 1), now(), 1, now() - interval '2 days')",
        "23514");
    /* The SQL function and the collector's rule agree on the edges: a
     * non-v7 uuid (and a v7-versioned one with another variant) carries no
     * time and is placed at 1970-01-01; the last millisecond a v7 id can
     * carry is exact. */
    FWT_CHECK_EQ_INT(fwt_pg_int(c,
                                "SELECT count(*) FROM (VALUES "
                                "(flywheel.event_id_time(md5('x')::uuid), timestamptz 'epoch'), "
                                "(flywheel.event_id_time('018f3a10-2233-7044-c055-667788990001'), "
                                " timestamptz 'epoch'), "
                                "(flywheel.event_id_time('ffffffff-ffff-7fff-bfff-ffffffffffff'), "
                                " timestamptz '10889-08-02 05:31:50.655+00'), "
                                "(flywheel.event_id_time('018f3406-9e00-7000-8000-000000000001'), "
                                " timestamptz '2024-05-01 12:00:00+00')) v(a, b) WHERE a = b"),
                     4);
    insert_gen(c, "md5('legacy')::uuid", "now()");
    insert_gen(c, "md5('legacy')::uuid", "now() - interval '2 days'");
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations "
                                   "WHERE event_id = md5('legacy')::uuid AND id_time = 'epoch'"),
                     1);
    fwt_pg_exec(c, "DELETE FROM flywheel.generations WHERE event_id = md5('legacy')::uuid");

    /* Feedback may arrive before its generation: it shows as an orphan. */
    fwt_pg_exec(c, "INSERT INTO flywheel.feedback (event_id, event_time, schema_version, "
                   "target_event_id, name, value_type, bool_value) VALUES "
                   "('018f3a10-2233-7044-8055-6677889900f1', now(), 1, "
                   "pg_temp.v7(pg_temp.t0(), 170), 'thumbs', 'bool', false), "
                   "('018f3a10-2233-7044-8055-6677889900f2', now(), 1, "
                   "pg_temp.v7(pg_temp.t0(), 1), 'thumbs', 'bool', true)");
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.orphan_feedback"), 1);
    insert_gen(c, "pg_temp.v7(pg_temp.t0(), 170)", "now()");
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.orphan_feedback"), 0);
    PQfinish(c);
    return 0;
}
