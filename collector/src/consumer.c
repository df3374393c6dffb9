/*
 * Consumer loop; see consumer.h for the offset protocol and the states of
 * a partition. Kafka, the partition states and the batch being built live
 * on this one thread (librdkafka calls the rebalance callback from inside
 * rd_kafka_consumer_poll); the writer thread (writer.h) only writes the
 * batch handed to it, and its outcome is applied here, in order.
 */
#include "consumer.h"

#include "batch.h"
#include "log.h"
#include "metrics.h"
#include "pg_sink.h"
#include "writer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char topic[128];
    int32_t partition;
    int ready;
    int64_t consumed; /* next offset expected from Kafka; -1 unknown */
    int64_t stored;   /* next offset stored in PostgreSQL; -1 unknown */
} part_state;

typedef struct {
    const fw_config *cfg;
    rd_kafka_t *rk;
    fw_sink *sink;
    fw_writer *writer;
    fw_batch batch;    /* being built by this thread */
    fw_batch inflight; /* lent to the writer thread while it is busy */
    fw_limits lim;
    part_state *parts;
    size_t nparts, capparts;
    int pg_down;
    int64_t down_since_ms; /* when pg_down was set */
    int attempts;          /* reconnect attempts since then */
    int paused;
    int64_t backoff_ms;
    int64_t next_retry_ms;
    int fatal;
    int64_t next_maintain_ms;
    int64_t next_gauges_ms;
} consumer;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static part_state *find_part(consumer *c, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < c->nparts; i++)
        if (c->parts[i].partition == partition && strcmp(c->parts[i].topic, topic) == 0)
            return &c->parts[i];
    return NULL;
}

static part_state *add_part(consumer *c, const char *topic, int32_t partition)
{
    part_state *p = find_part(c, topic, partition);
    if (p)
        return p;
    if (c->nparts == c->capparts) {
        size_t cap = c->capparts ? c->capparts * 2 : 16;
        part_state *np = realloc(c->parts, cap * sizeof *np);
        if (!np)
            return NULL;
        c->parts = np;
        c->capparts = cap;
    }
    p = &c->parts[c->nparts++];
    memset(p, 0, sizeof *p);
    snprintf(p->topic, sizeof p->topic, "%s", topic);
    p->partition = partition;
    p->consumed = p->stored = -1;
    return p;
}

static void remove_part(consumer *c, const char *topic, int32_t partition)
{
    part_state *p = find_part(c, topic, partition);
    if (p)
        *p = c->parts[--c->nparts];
}

static void publish_state(consumer *c)
{
    /* The sink is the writer's while it is busy: do not look at it then. */
    int up = !c->pg_down && (fw_writer_busy(c->writer) || fw_sink_connected(c->sink));
    fw_metrics_set_state(up, c->paused, (int)c->nparts);
}

static int64_t reset_offset(consumer *c)
{
    return strcmp(c->cfg->auto_offset_reset, "latest") == 0 ? RD_KAFKA_OFFSET_END
                                                            : RD_KAFKA_OFFSET_BEGINNING;
}

/* PostgreSQL became unavailable: pause everything, forget positions. */
static void go_down(consumer *c, const char *why)
{
    if (!c->pg_down) {
        char q[128];
        fw_log_warn("postgresql unavailable, pausing partitions",
                    "partitions=%zu target=%s reason=%s", c->nparts, fw_sink_target(c->sink),
                    fw_log_quote(q, sizeof q, why));
        c->down_since_ms = now_ms();
        c->attempts = 0;
    }
    c->pg_down = 1;
    fw_sink_disconnect(c->sink);
    c->next_retry_ms = now_ms() + c->backoff_ms;
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(c->rk, &a) == 0 && a) {
        if (a->cnt > 0)
            rd_kafka_pause_partitions(c->rk, a);
        rd_kafka_topic_partition_list_destroy(a);
    }
    for (size_t i = 0; i < c->nparts; i++)
        c->parts[i].ready = 0;
    c->paused = 1;
    publish_state(c);
}

/* After a commit: remember stored offsets and tell Kafka, as a courtesy. */
static void committed(consumer *c, const fw_batch *b)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < b->n; i++) {
        const rd_kafka_message_t *m = b->items[i].msg;
        part_state *p = find_part(c, rd_kafka_topic_name(m->rkt), m->partition);
        if (p && m->offset + 1 > p->stored)
            p->stored = m->offset + 1;
    }
    for (size_t i = 0; i < c->nparts; i++)
        if (c->parts[i].stored >= 0)
            rd_kafka_topic_partition_list_add(l, c->parts[i].topic, c->parts[i].partition)->offset =
                c->parts[i].stored;
    if (l->cnt > 0)
        rd_kafka_commit(c->rk, l, 1);
    rd_kafka_topic_partition_list_destroy(l);
}

/*
 * Applies the outcome of the batch the writer finished, in submission
 * order: metrics, then stored offsets and the Kafka courtesy commit, or the
 * pause for an outage (the batch being built is dropped too: its messages
 * are read again from the stored offsets after the outage), or the stop on
 * a fatal error. Frees the finished batch's messages.
 */
static void apply_outcome(consumer *c, const fw_write_outcome *o)
{
    fw_batch *b = &c->inflight;
    for (int t = 0; t < FW_T_COUNT; t++)
        if (o->st.inserted[t] || o->st.duplicates[t])
            fw_metrics_rows((fw_table)t, o->st.inserted[t], o->st.duplicates[t]);
    double seconds = o->finished_at - o->started_at;
    if (o->result == FW_PG_OK) {
        fw_metrics_batch(b->n, o->finished_at - b->first_at, seconds);
        fw_log_debug(
            "batch committed",
            "messages=%zu generations=%llu feedback=%llu "
            "dead_letters=%llu duplicates=%llu seconds=%.3f",
            b->n, (unsigned long long)o->st.inserted[FW_T_GENERATIONS],
            (unsigned long long)o->st.inserted[FW_T_FEEDBACK],
            (unsigned long long)o->st.inserted[FW_T_DEAD_LETTERS],
            (unsigned long long)(o->st.duplicates[0] + o->st.duplicates[1] + o->st.duplicates[2]),
            seconds);
        committed(c, b);
    } else if (o->result == FW_PG_RETRY) {
        go_down(c, "write failed");
        fw_batch_clear(&c->batch);
    } else {
        c->fatal = 1;
        fw_batch_clear(&c->batch);
    }
    fw_batch_clear(b);
}

/* Waits for the batch in flight, if any, and applies its outcome. After
 * this the writer is idle and the sink is this thread's. */
static void drain(consumer *c)
{
    fw_write_outcome o;
    if (fw_writer_collect(c->writer, -1, &o))
        apply_outcome(c, &o);
}

/*
 * Hands the batch being built to the writer, once the one in flight is
 * done (so at most one is written while the next is built), or drops it
 * when PostgreSQL is down. Blocks at most for the transaction in flight,
 * as a synchronous write would, so the poll cadence is unchanged.
 */
static void flush(consumer *c)
{
    drain(c);
    if (c->batch.n == 0)
        return;
    if (c->pg_down || c->fatal) {
        fw_batch_clear(&c->batch);
        return;
    }
    fw_batch spare = c->inflight; /* empty: reuse its memory for the next batch */
    c->inflight = c->batch;
    c->batch = spare;
    fw_writer_submit(c->writer, &c->inflight);
}

/* Sets each partition's start offset from PostgreSQL (or the reset policy). */
static fw_pg_class position_from_pg(consumer *c, rd_kafka_topic_partition_list_t *parts)
{
    char err[1024];
    for (int i = 0; i < parts->cnt; i++)
        parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
    fw_pg_class r = fw_sink_read_offsets(c->sink, parts, err, sizeof err);
    if (r != FW_PG_OK) {
        char q[1100];
        fw_log_warn("could not read stored offsets", "target=%s error=%s", fw_sink_target(c->sink),
                    fw_log_quote(q, sizeof q, err));
        return r;
    }
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].offset == RD_KAFKA_OFFSET_INVALID)
            parts->elems[i].offset = reset_offset(c);
    return FW_PG_OK;
}

static void mark_ready(consumer *c, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        part_state *p = add_part(c, parts->elems[i].topic, parts->elems[i].partition);
        if (!p)
            continue;
        p->ready = 1;
        p->stored = p->consumed = parts->elems[i].offset >= 0 ? parts->elems[i].offset : -1;
        fw_log_info("partition assigned", "topic=%s partition=%d start_offset=%lld", p->topic,
                    (int)p->partition, (long long)parts->elems[i].offset);
    }
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    consumer *c = opaque;
    int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    fw_metrics_rebalance();
    /* The batch in flight ends first (it cannot be recalled), its offsets
     * are applied, and the sink is ours again for reading offsets. */
    drain(c);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        int ok = !c->pg_down && position_from_pg(c, parts) == FW_PG_OK;
        if (!ok)
            for (int i = 0; i < parts->cnt; i++)
                parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
        rd_kafka_error_t *e = NULL;
        if (coop)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        if (e) {
            fw_log_error("could not assign partitions", "error=%s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        if (ok) {
            mark_ready(c, parts);
        } else {
            for (int i = 0; i < parts->cnt; i++)
                add_part(c, parts->elems[i].topic, parts->elems[i].partition);
            go_down(c, "offsets unavailable at assignment");
        }
    } else {
        if (rd_kafka_assignment_lost(rk)) {
            fw_log_warn("assignment lost, dropping the batch in flight", "messages=%zu",
                        c->batch.n);
            fw_batch_clear(&c->batch);
        } else {
            flush(c);
            drain(c);
        }
        for (int i = 0; i < parts->cnt; i++) {
            fw_log_info("partition revoked", "topic=%s partition=%d", parts->elems[i].topic,
                        (int)parts->elems[i].partition);
            remove_part(c, parts->elems[i].topic, parts->elems[i].partition);
        }
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, NULL);
        }
        /* Messages still queued for revoked partitions are dropped by the
         * ready check in the loop. */
    }
    publish_state(c);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    fw_log_level l = level <= 3   ? FW_LOG_ERROR
                     : level <= 4 ? FW_LOG_WARN
                     : level <= 6 ? FW_LOG_INFO
                                  : FW_LOG_DEBUG;
    if (fw_log_enabled(l)) {
        char q[1024];
        fw_log_write(l, "librdkafka", "facility=%s detail=%s", fac, fw_log_quote(q, sizeof q, buf));
    }
}

/* Tries to reconnect; on success seeks every partition to its stored
 * offset and resumes. */
static void try_reconnect(consumer *c)
{
    char err[1024], q[1100];
    fw_pg_class r = fw_sink_connect(c->sink, err, sizeof err);
    if (r == FW_PG_FATAL) {
        fw_log_error("refusing to run", "error=%s", fw_log_quote(q, sizeof q, err));
        c->fatal = 1;
        return;
    }
    rd_kafka_topic_partition_list_t *a = NULL;
    if (r == FW_PG_OK && rd_kafka_assignment(c->rk, &a) == 0 && a) {
        if (a->cnt > 0 && (r = position_from_pg(c, a)) == FW_PG_OK) {
            rd_kafka_error_t *e = rd_kafka_seek_partitions(c->rk, a, 10000);
            int bad = 0;
            if (e) {
                bad = 1;
                snprintf(err, sizeof err, "%s", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
            }
            for (int i = 0; i < a->cnt && !bad; i++)
                if (a->elems[i].err) {
                    bad = 1;
                    snprintf(err, sizeof err, "%s", rd_kafka_err2str(a->elems[i].err));
                }
            if (bad) {
                fw_log_warn("could not seek to stored offsets", "error=%s",
                            fw_log_quote(q, sizeof q, err));
                r = FW_PG_RETRY;
            } else {
                mark_ready(c, a);
                rd_kafka_resume_partitions(c->rk, a);
            }
        }
    }
    if (a)
        rd_kafka_topic_partition_list_destroy(a);
    if (r != FW_PG_OK) {
        fw_sink_disconnect(c->sink);
        c->backoff_ms =
            c->backoff_ms * 2 > c->cfg->retry_max_ms ? c->cfg->retry_max_ms : c->backoff_ms * 2;
        c->next_retry_ms = now_ms() + c->backoff_ms;
        c->attempts++;
        /* Every failed attempt, with the address and libpq's words: a
         * collector pointed at an address nobody answers any more must say
         * so, not just stay paused. */
        fw_log_warn("postgresql still unavailable",
                    "target=%s attempt=%d down_s=%lld "
                    "retry_in_ms=%lld error=%s",
                    fw_sink_target(c->sink), c->attempts,
                    (long long)((now_ms() - c->down_since_ms) / 1000), (long long)c->backoff_ms,
                    fw_log_quote(q, sizeof q, err));
        return;
    }
    fw_log_info("postgresql available again, resuming", "partitions=%zu target=%s down_s=%.1f",
                c->nparts, fw_sink_target(c->sink), (double)(now_ms() - c->down_since_ms) / 1000.0);
    c->pg_down = 0;
    c->paused = 0;
    c->backoff_ms = c->cfg->retry_initial_ms;
    publish_state(c);
}

static void update_gauges(consumer *c)
{
    fw_part_gauge g[256];
    size_t n = 0;
    for (size_t i = 0; i < c->nparts && n < 256; i++, n++) {
        part_state *p = &c->parts[i];
        int64_t lo = -1, hi = -1;
        snprintf(g[n].topic, sizeof g[n].topic, "%s", p->topic);
        g[n].partition = p->partition;
        g[n].next_offset = p->stored;
        g[n].lag = -1;
        if (rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition, &lo, &hi) == 0 &&
            hi >= 0 && p->stored >= 0)
            g[n].lag = hi > p->stored ? hi - p->stored : 0;
    }
    fw_metrics_set_partitions(g, n);
    publish_state(c);
}

static void maintain(consumer *c)
{
    char err[1024], q[1100];
    int created = 0;
    drain(c);
    if (c->pg_down)
        return;
    fw_pg_class r = fw_sink_maintain(c->sink, &created, err, sizeof err);
    if (r == FW_PG_OK)
        fw_log_info("partitions maintained", "created=%d", created);
    else
        fw_log_warn("could not maintain partitions", "error=%s", fw_log_quote(q, sizeof q, err));
}

static rd_kafka_t *make_consumer(consumer *c)
{
    const fw_config *cfg = c->cfg;
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* Defaults the user may override: reconnect within a second (2.0.2
     * defaults to 10 s), and do not let an idle fetch wait 500 ms, which
     * would dominate end-to-end latency at low rates. */
    const char *fixed[][2] = {
        {"reconnect.backoff.max.ms", "1000"},
        {"fetch.wait.max.ms", "100"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        rd_kafka_conf_set(conf, fixed[i][0], fixed[i][1], err, sizeof err);
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        if (rd_kafka_conf_set(conf, cfg->kafka[i].key, cfg->kafka[i].value, err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
            fw_log_error("invalid kafka property", "key=%s error=\"%s\"", cfg->kafka[i].key, err);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    const char *forced[][2] = {
        {"bootstrap.servers", cfg->bootstrap_servers}, {"group.id", cfg->group_id},
        {"auto.offset.reset", cfg->auto_offset_reset}, {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},         {"enable.partition.eof", "false"},
    };
    for (size_t i = 0; i < sizeof forced / sizeof forced[0]; i++) {
        if (rd_kafka_conf_set(conf, forced[i][0], forced[i][1], err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
            fw_log_error("invalid kafka property", "key=%s error=\"%s\"", forced[i][0], err);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fw_log_error("could not create kafka consumer", "error=\"%s\"", err);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* Adds the topics of a comma-separated list (each `name` or, for OTLP
 * topics, `name:encoding`) to t. */
static void add_topics(rd_kafka_topic_partition_list_t *t, const char *p)
{
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t colon = strcspn(p, ":,");
        if (colon < n)
            n = colon;
        char name[256];
        size_t s = 0;
        while (s < n && p[s] == ' ')
            s++;
        size_t e = n;
        while (e > s && p[e - 1] == ' ')
            e--;
        if (e > s && e - s < sizeof name) {
            memcpy(name, p + s, e - s);
            name[e - s] = '\0';
            rd_kafka_topic_partition_list_add(t, name, RD_KAFKA_PARTITION_UA);
        }
        p += strcspn(p, ",");
        p += *p == ',';
    }
}

/* For a topic of otlp.topics: 1 for otlp_json, 0 for otlp_proto; -1 when
 * the topic carries flywheel.v1 events. */
static int otlp_encoding(const char *list, const char *topic)
{
    size_t tl = strlen(topic);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        size_t s = 0;
        while (s < n && p[s] == ' ')
            s++;
        size_t name_end = s + strcspn(p + s, ":,");
        if (name_end > n)
            name_end = n;
        size_t e = name_end;
        while (e > s && p[e - 1] == ' ')
            e--;
        if (e - s == tl && strncmp(p + s, topic, tl) == 0)
            return name_end < n && memmem(p + name_end, n - name_end, "otlp_json", 9) != NULL;
        p += n + (p[n] == ',');
    }
    return -1;
}

static int subscribe(consumer *c)
{
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(4);
    add_topics(t, c->cfg->topics);
    add_topics(t, c->cfg->otlp_topics);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, t);
    rd_kafka_topic_partition_list_destroy(t);
    if (e) {
        fw_log_error("could not subscribe", "topics=%s otlp_topics=%s error=\"%s\"", c->cfg->topics,
                     c->cfg->otlp_topics, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

static void handle_message(consumer *c, rd_kafka_message_t *m)
{
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            fw_log_warn("consumer error", "error=\"%s\"", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        return;
    }
    part_state *p = find_part(c, rd_kafka_topic_name(m->rkt), m->partition);
    if (!p || !p->ready || (p->consumed >= 0 && m->offset < p->consumed)) {
        rd_kafka_message_destroy(m);
        return;
    }
    fw_metrics_consumed(1);
    int otlp = *c->cfg->otlp_topics ? otlp_encoding(c->cfg->otlp_topics, p->topic) : -1;
    fw_otlp_source src = {otlp == 1, c->cfg->otlp_project, 0, 0};
    if ((otlp >= 0 ? fw_batch_add_otlp(&c->batch, m, c->cfg->group_id, &c->lim, &src)
                   : fw_batch_add(&c->batch, m, c->cfg->group_id, &c->lim)) != 0) {
        fw_log_error("out of memory encoding a batch", "messages=%zu", c->batch.n);
        rd_kafka_message_destroy(m);
        c->fatal = 1;
        return;
    }
    p->consumed = m->offset + 1;
}

int fw_consumer_run(const fw_config *cfg, volatile sig_atomic_t *stop,
                    volatile sig_atomic_t *reopen_logs)
{
    consumer c = {0};
    char err[1024], q[1100];
    int rc = 1;
    c.cfg = cfg;
    c.lim.max_message_bytes = (size_t)cfg->max_message_bytes;
    c.lim.max_field_bytes = (size_t)cfg->max_field_bytes;
    c.backoff_ms = cfg->retry_initial_ms;
    c.sink = fw_sink_new(cfg->pg_dsn, cfg->group_id, strcmp(cfg->write_mode, "direct") == 0,
                         cfg->copy_dump, err, sizeof err);
    if (!c.sink) {
        fw_log_error("could not start", "error=%s", fw_log_quote(q, sizeof q, err));
        return 1;
    }
    /* At start PostgreSQL must be reachable and at the right schema: a
     * misconfigured collector should fail loudly, not sit paused. */
    fw_pg_class r = fw_sink_connect(c.sink, err, sizeof err);
    if (r != FW_PG_OK) {
        fw_log_error("could not start", "target=%s error=%s", fw_sink_target(c.sink),
                     fw_log_quote(q, sizeof q, err));
        fprintf(stderr, "flywheel-collector: %s\n", err);
        goto done;
    }
    c.writer = fw_writer_new(c.sink, cfg->group_id, err, sizeof err);
    if (!c.writer) {
        fw_log_error("could not start", "error=%s", fw_log_quote(q, sizeof q, err));
        goto done;
    }
    maintain(&c);
    c.next_maintain_ms =
        cfg->maintain_interval_s ? now_ms() + cfg->maintain_interval_s * 1000 : INT64_MAX;
    c.rk = make_consumer(&c);
    if (!c.rk || subscribe(&c) != 0)
        goto done;
    fw_log_info("collector started", "group=%s topics=%s otlp_topics=%s write_mode=%s",
                cfg->group_id, cfg->topics, cfg->otlp_topics, cfg->write_mode);
    publish_state(&c);
    while (!*stop && !c.fatal) {
        fw_metrics_heartbeat();
        if (*reopen_logs) {
            *reopen_logs = 0;
            if (*cfg->log_file && fw_log_open(cfg->log_file) != 0)
                fw_log_error("could not reopen log file", "path=%s", cfg->log_file);
        }
        int64_t now = now_ms();
        if (c.pg_down && now >= c.next_retry_ms)
            try_reconnect(&c);
        int timeout = 100;
        if (c.batch.n > 0) {
            int64_t due = (int64_t)(c.batch.first_at * 1000) + cfg->batch_max_wait_ms - now;
            timeout = due < 0 ? 0 : due < timeout ? (int)due : timeout;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c.rk, timeout);
        if (m)
            handle_message(&c, m);
        fw_write_outcome o;
        if (fw_writer_busy(c.writer) && fw_writer_collect(c.writer, 0, &o))
            apply_outcome(&c, &o);
        rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(c.rk, err, sizeof err);
        if (fatal) {
            /* With static membership the broker fences the older of two
             * members that share an id: name the setting to fix. */
            if (fatal == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID)
                fw_log_error("fatal kafka error", "error=%s hint=%s",
                             fw_log_quote(q, sizeof q, err),
                             "\"another member of the group uses the same "
                             "kafka.group.instance.id; give each collector its own\"");
            else
                fw_log_error("fatal kafka error", "error=%s", fw_log_quote(q, sizeof q, err));
            c.fatal = 1;
            break;
        }
        now = now_ms();
        if (c.batch.n > 0 && (c.batch.n >= (size_t)cfg->batch_max_rows ||
                              fw_batch_bytes(&c.batch) >= (size_t)cfg->batch_max_bytes ||
                              now >= (int64_t)(c.batch.first_at * 1000) + cfg->batch_max_wait_ms))
            flush(&c);
        if (now >= c.next_gauges_ms) {
            update_gauges(&c);
            c.next_gauges_ms = now + 1000;
        }
        if (!c.pg_down && now >= c.next_maintain_ms) {
            maintain(&c);
            c.next_maintain_ms = now + cfg->maintain_interval_s * 1000;
        }
    }
    drain(&c);
    if (!c.fatal) {
        fw_log_info("stopping", "messages_in_flight=%zu", c.batch.n);
        flush(&c); /* finish the batch being built when PostgreSQL allows */
        drain(&c);
    } else {
        fw_batch_clear(&c.batch);
    }
    rd_kafka_consumer_close(c.rk); /* revocation callback: nothing left to write */
    rc = c.fatal ? 1 : 0;
done:
    fw_writer_free(c.writer);
    fw_batch_free(&c.batch);
    fw_batch_free(&c.inflight);
    if (c.rk)
        rd_kafka_destroy(c.rk);
    fw_sink_free(c.sink);
    free(c.parts);
    return rc;
}
