/*
 * collector_poison: poison messages interleaved with good ones never stall
 * a partition. Garbage, a NUL in a string, invalid UTF-8, an oversize field
 * or whole message (both dead letters carry the event id), an unknown
 * schema version, a missing event id, a negative cost, an empty message,
 * and a row PostgreSQL itself refuses (a CHECK constraint this test adds,
 * found by splitting the batch) each become one dead letter with the right
 * reason, raw bytes and key; every good event is stored, and so is an event
 * whose tool-call arguments hold a number jsonb cannot (1e1000000), with
 * the arguments as a JSON string; the stored offsets cover every message.
 * A generation whose event id is not a UUIDv7 is a dead letter
 * (invalid_event_id), and good events sent again with the same id and their
 * time moved +1 s and -2 days stay one row each, with the first time.
 * Then `flywheel dlq list/show/replay`: after raising the field limit the
 * oversize ones replay into generations (replayed_at and replay_count set),
 * while garbage stays invalid and is left untouched.
 */
#include "flywheel/v1/flywheel.pb-c.h"
#include "expect.h"
#include "gen.h"
#include "harness.h"

#include <signal.h>

#define N_GOOD 2000
#define EVERY  50 /* one poison message after every EVERY good ones */
#define KINDS  10
/* Good events sent again, with the same event id and the event time moved
 * +1 s and -2 days (regression: issue #11 item 18, two rows per id). */
#define N_RESENT 40

static const char *const reasons[KINDS] = {
    "undecodable",   "nul_in_text",  "invalid_utf8",     "oversize",      "unknown_schema_version",
    "missing_field", "out_of_range", "data_error:23514", "empty_message", "invalid_event_id"};

/* The collector's whole-message limit in this test: kind 3 alternates an
 * oversize field in a message under it and a message over it. */
#define MAX_MESSAGE_BYTES 100000

static uint8_t *minimal(int kind, uint64_t i, size_t *len)
{
    uint8_t id[16];
    fwc_gen_event_id(i, id);
    Flywheel__V1__Event ev = FLYWHEEL__V1__EVENT__INIT;
    Flywheel__V1__Generation g = FLYWHEEL__V1__GENERATION__INIT;
    Flywheel__V1__Message m = FLYWHEEL__V1__MESSAGE__INIT;
    Flywheel__V1__Part p = FLYWHEEL__V1__PART__INIT;
    Flywheel__V1__ToolCall tc = FLYWHEEL__V1__TOOL_CALL__INIT;
    Flywheel__V1__Message *ms[1] = {&m};
    Flywheel__V1__Part *ps[1] = {&p};
    ev.event_id = (ProtobufCBinaryData){16, id};
    ev.time_unix_nano = FWC_T0_NS + i * 1000;
    ev.schema_version = 1;
    ev.body_case = FLYWHEEL__V1__EVENT__BODY_GENERATION;
    ev.generation = &g;
    if (kind == 4)
        ev.schema_version = 7;
    if (kind == 5)
        ev.event_id.len = 0;
    if (kind == 6)
        g.cost_micro_usd = -5;
    if (kind == 9)
        id[6] = 0x40; /* a version-4 uuid: no time to place the row by */
    if (kind == 7)
        ev.project = "refused-by-check"; /* see the constraint in main() */
    if (kind == 100) {                   /* not poison: a number jsonb cannot hold */
        m.role = FLYWHEEL__V1__ROLE__ROLE_ASSISTANT;
        p.content_case = FLYWHEEL__V1__PART__CONTENT_TOOL_CALL;
        p.tool_call = &tc;
        tc.id = "c1";
        tc.name = "f";
        tc.arguments_json = "{\"a\": 1e1000000}";
        m.n_parts = 1;
        m.parts = ps;
        g.n_output_messages = 1;
        g.output_messages = ms;
    }
    *len = flywheel__v1__event__get_packed_size(&ev);
    uint8_t *b = malloc(*len);
    flywheel__v1__event__pack(&ev, b);
    return b;
}

static uint8_t *poison(int kind, uint64_t i, size_t *len)
{
    if (kind == 0) {
        *len = 9;
        uint8_t *b = malloc(9);
        memcpy(b, "\xff\xfe\x01garbag", 9);
        return b;
    }
    if (kind == 1 || kind == 2) {
        uint8_t *b = fwc_gen_event(i, 0, 0, len);
        uint8_t *a = memmem(b, *len, "alice", 5);
        FWT_CHECK(a != NULL);
        a[2] = kind == 1 ? 0x00 : 0xFF;
        return b;
    }
    if (kind == 3) /* alternately under and over MAX_MESSAGE_BYTES */
        return fwc_gen_event(i, ((i - 1000000) / 20 / KINDS) % 2 ? 150000 : 70000, 0, len);
    if (kind == 8) {
        *len = 0;
        return malloc(1);
    }
    return minimal(kind, i, len);
}

int main(void)
{
    char dsn[1024], topic[96], group[96];
    fwt_pg_create_db("fwt_coll_poison", dsn, sizeof dsn);
    fwt_pg_migrate(dsn);
    {
        /* A row PostgreSQL refuses although the collector's validation
         * passes it: the data-error path (batch split, data_error:SQLSTATE). */
        PGconn *admin = fwt_pg_connect(dsn);
        fwt_pg_exec(admin, "ALTER TABLE flywheel.generations ADD CONSTRAINT fwt_poison_refused "
                           "CHECK (project <> 'refused-by-check')");
        PQfinish(admin);
    }
    fwt_unique_name("fwt_coll_poison", topic, sizeof topic);
    fwt_unique_name("fwt_coll_poison_g", group, sizeof group);

    rd_kafka_t *p = fwc_producer();
    int n_poison = 0, per_kind[KINDS] = {0}, n_whole_oversize = 0;
    for (uint64_t i = 0; i < N_GOOD; i++) {
        fwc_produce_range(p, topic, i, i + 1);
        if (i % EVERY == EVERY - 1) {
            int kind = n_poison % KINDS;
            size_t len;
            uint8_t *b =
                poison(kind, 1000000 + 20 * (uint64_t)n_poison, &len); /* never a feedback index */
            char key[64];
            snprintf(key, sizeof key, "poison-%d-%d", kind, n_poison);
            fwc_produce(p, topic, key, b, len);
            free(b);
            per_kind[kind]++;
            if (kind == 3 && (n_poison / KINDS) % 2)
                n_whole_oversize++;
            n_poison++;
        }
    }
    {
        size_t len;
        uint8_t *b = minimal(100, 999999, &len);
        fwc_produce(p, topic, "bignum", b, len);
        free(b);
    }
    int n_resent = 0;
    for (uint64_t i = 0; n_resent < 2 * N_RESENT; i++) {
        if (fwc_gen_is_feedback(i))
            continue;
        /* Same key as the first send: same partition, after it. */
        char key[32];
        snprintf(key, sizeof key, "trace-%d", (int)(i % 64));
        const uint64_t t = FWC_T0_NS + i * 1000;
        const uint64_t moved[2] = {t + UINT64_C(1000000000), t - UINT64_C(2) * 86400 * 1000000000};
        for (int k = 0; k < 2; k++) {
            size_t len;
            uint8_t *b = fwc_gen_event(i, 0, moved[k], &len);
            fwc_produce(p, topic, key, b, len);
            free(b);
            n_resent++;
        }
    }
    fwc_producer_done(p);
    const int total = N_GOOD + 1 + n_poison + n_resent;

    PGconn *conn = fwt_pg_connect(dsn);
    fwc_proc c;
    char max_message[64];
    snprintf(max_message, sizeof max_message, "--validate.max_message_bytes=%d", MAX_MESSAGE_BYTES);
    const char *extra[] = {"--validate.max_field_bytes=65536", max_message, NULL};
    fwc_collector_start(&c, dsn, topic, group, extra);
    char q[256];
    snprintf(q, sizeof q,
             "SELECT coalesce(sum(next_offset), 0) FROM flywheel.ingest_offsets "
             "WHERE consumer_group = '%s'",
             group);
    long long covered = fwc_wait_value(conn, q, total, 60000);
    if (covered != total)
        fwc_collector_dump_log(&c);
    FWT_CHECK_EQ_INT(covered, total);

    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.generations") +
                         fwt_pg_int(conn, "SELECT count(*) FROM flywheel.feedback"),
                     N_GOOD + 1);
    /* The re-sent ids are one row each, with the time of the first send,
     * in the partition their id names. */
    FWT_CHECK_EQ_INT(
        fwt_pg_int(conn, "SELECT count(*) FROM flywheel.generations WHERE "
                         "event_time <> timestamptz '2024-05-01 12:00:00+00' + " FWC_I_OF_EVENT_ID
                         " * interval '1 microsecond' "
                         "OR NOT " FWC_ID_TIME_OK),
        0);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(DISTINCT event_id) FROM flywheel.generations"),
                     fwt_pg_int(conn, "SELECT count(*) FROM flywheel.generations"));
    /* A generation whose id is not a UUIDv7 names its id in the dead letter. */
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.dead_letters WHERE "
                                      "reason = 'invalid_event_id' AND event_id IS NOT NULL AND "
                                      "detail LIKE 'event_id is not a UUIDv7 (version 4)%'"),
                     per_kind[9]);
    /* Valid JSON jsonb cannot hold is kept as a JSON string, like \u0000. */
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.generations WHERE "
                                      "output_messages->0->'parts'->0->'arguments' = "
                                      "to_jsonb('{\"a\": 1e1000000}'::text)"),
                     1);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.dead_letters"), n_poison);
    for (int k = 0; k < KINDS; k++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM flywheel.dead_letters WHERE reason = '%s' "
                 "AND convert_from(message_key, 'UTF8') LIKE 'poison-%d-%%' "
                 "AND consumer_group = '%s' AND (length(payload) > 0) = (%d <> 8)",
                 reasons[k], k, group, k);
        long long n = fwt_pg_int(conn, sql);
        FWT_CHECK_MSG(n == per_kind[k], "reason %s: %lld dead letters, want %d", reasons[k], n,
                      per_kind[k]);
    }
    /* Raw bytes kept exactly: the garbage payload. */
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.dead_letters WHERE "
                                      "payload = '\\xfffe01676172626167'::bytea"),
                     per_kind[0]);
    /* The event id is recovered where the message decodes that far, and
     * from the top-level fields of a message over the size limit. */
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.dead_letters WHERE "
                                      "reason = 'oversize' AND event_id IS NOT NULL"),
                     per_kind[3]);
    FWT_CHECK(n_whole_oversize > 0 && n_whole_oversize < per_kind[3]);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.dead_letters WHERE "
                                      "reason = 'oversize' AND detail LIKE 'message is %'"),
                     n_whole_oversize);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.dead_letters WHERE "
                                      "reason = 'empty_message' AND event_id IS NULL AND "
                                      "detail = 'message is empty (0 bytes)'"),
                     per_kind[8]);

    char body[1 << 16];
    FWT_CHECK_EQ_INT(fwc_http_get(c.port, "/metrics", body, sizeof body), 200);
    FWT_CHECK(fwc_metric(body, "flywheel_collector_dead_letters_total{reason=\"undecodable\"}") ==
              per_kind[0]);
    FWT_CHECK(
        fwc_metric(body,
                   "flywheel_collector_dead_letters_total{reason=\"data_error\",class=\"23\"}") ==
        per_kind[7]);
    FWT_CHECK(fwc_metric(body, "flywheel_collector_pg_errors_total{class=\"23\"}") >= 1);
    FWT_CHECK(fwc_metric(body, "flywheel_collector_dead_letters_total{reason=\"empty_message\"}") ==
              per_kind[8]);
    FWT_CHECK_EQ_INT(fwc_collector_signal(&c, SIGTERM), 0);

    /* flywheel dlq */
    char cmd[2048];
    const char *cli = fwt_program("cli/flywheel");
    snprintf(cmd, sizeof cmd,
             "%s dlq list --dsn '%s' --limit 1000 | grep -c nul_in_text | grep -qx %d", cli, dsn,
             per_kind[1]);
    FWT_CHECK_EQ_INT(fwt_run(cmd), 0);
    long long some_id = fwt_pg_int(conn, "SELECT min(id) FROM flywheel.dead_letters");
    snprintf(cmd, sizeof cmd, "%s dlq show %lld --dsn '%s' | grep -q '^payload_hex'", cli, some_id,
             dsn);
    FWT_CHECK_EQ_INT(fwt_run(cmd), 0);

    long long before = fwt_pg_int(conn, "SELECT count(*) FROM flywheel.generations");
    /* With the collector's limit the oversize ones are still refused... */
    snprintf(cmd, sizeof cmd,
             "%s dlq replay --reason oversize --max-field-bytes 65536 --dsn '%s' >&2", cli, dsn);
    FWT_CHECK_EQ_INT(fwt_run(cmd), 1);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.generations"), before);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.dead_letters "
                                      "WHERE replay_count > 0 OR replayed_at IS NOT NULL"),
                     0);
    /* ...with the default 1 MiB limit they replay. */
    snprintf(cmd, sizeof cmd, "%s dlq replay --reason oversize --dsn '%s' >&2", cli, dsn);
    FWT_CHECK_EQ_INT(fwt_run(cmd), 0);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.generations"),
                     before + per_kind[3]);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.dead_letters "
                                      "WHERE reason = 'oversize' AND replay_count = 1 "
                                      "AND replayed_at IS NOT NULL"),
                     per_kind[3]);
    FWT_CHECK_EQ_INT(
        fwt_pg_int(conn, "SELECT count(*) FROM flywheel.generations g JOIN "
                         "flywheel.dead_letters d ON d.event_id = g.event_id "
                         "AND d.\"offset\" = g.source_offset "
                         "AND d.partition = g.source_partition "
                         "WHERE d.reason = 'oversize' AND length(g.input_messages::text) > 65536"),
        per_kind[3]);
    /* Replaying again skips them; garbage and the refused row stay as they are. */
    FWT_CHECK_EQ_INT(fwt_run(cmd), 0);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.generations"),
                     before + per_kind[3]);
    snprintf(cmd, sizeof cmd, "%s dlq replay --reason undecodable --dsn '%s' >&2", cli, dsn);
    FWT_CHECK_EQ_INT(fwt_run(cmd), 1);
    snprintf(cmd, sizeof cmd, "%s dlq replay --reason data_error --dsn '%s' >&2", cli, dsn);
    FWT_CHECK_EQ_INT(fwt_run(cmd), 1);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.generations"),
                     before + per_kind[3]);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.dead_letters "
                                      "WHERE reason <> 'oversize' AND replay_count > 0"),
                     0);
    PQfinish(conn);
    return 0;
}
