/*
 * Partition maintenance: an event whose day has no partition lands in the
 * default partition (never rejected); maintain_partitions() then creates
 * that day's partition and moves the row there; it is idempotent, and
 * duplicate event ids within a partition are absorbed by the primary key.
 */
#include "fwtest.h"

int main(void)
{
    char dsn[512];
    fwt_pg_create_db("fwt_part", dsn, sizeof dsn);
    fwt_pg_migrate(dsn);
    PGconn *c = fwt_pg_connect(dsn);

    /* Today's partition exists; a day 40 days ago does not. */
    FWT_CHECK(fwt_pg_int(c, "SELECT count(*) FROM pg_inherits WHERE inhparent = "
                            "'flywheel.generations'::regclass") >= 9);
    fwt_pg_exec(c, "INSERT INTO flywheel.generations (event_id, event_time, schema_version) "
                   "VALUES ('018f3a10-2233-7044-8055-667788990001', now(), 1), "
                   "('018f3a10-2233-7044-8055-667788990002', now() - interval '40 days', 1)");
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations_default"), 1);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations"), 2);

    long long created = fwt_pg_int(c, "SELECT flywheel.maintain_partitions()");
    FWT_CHECK_EQ_INT(created, 1);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations_default"), 0);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations"), 2);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT flywheel.maintain_partitions()"), 0);

    /* The moved row is in its day's partition, which is lz4 like the rest. */
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations g "
                                   "JOIN pg_class p ON p.oid = g.tableoid WHERE p.relname = "
                                   "'generations_' || to_char((now() AT TIME ZONE 'UTC')::date "
                                   "- 40, 'YYYYMMDD')"),
                     1);

    /* A duplicate event is absorbed with ON CONFLICT DO NOTHING. */
    fwt_pg_exec(c, "INSERT INTO flywheel.generations (event_id, event_time, schema_version) "
                   "SELECT event_id, event_time, 1 FROM flywheel.generations "
                   "ON CONFLICT DO NOTHING");
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations"), 2);

    /* Feedback may arrive before its generation: it shows as an orphan. */
    fwt_pg_exec(c, "INSERT INTO flywheel.feedback (event_id, event_time, schema_version, "
                   "target_event_id, name, value_type, bool_value) VALUES "
                   "('018f3a10-2233-7044-8055-6677889900f1', now(), 1, "
                   "'018f3a10-2233-7044-8055-6677889900aa', 'thumbs', 'bool', false), "
                   "('018f3a10-2233-7044-8055-6677889900f2', now(), 1, "
                   "'018f3a10-2233-7044-8055-667788990001', 'thumbs', 'bool', true)");
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.orphan_feedback"), 1);
    fwt_pg_exec(c, "INSERT INTO flywheel.generations (event_id, event_time, schema_version) "
                   "VALUES ('018f3a10-2233-7044-8055-6677889900aa', now(), 1)");
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.orphan_feedback"), 0);
    PQfinish(c);
    return 0;
}
