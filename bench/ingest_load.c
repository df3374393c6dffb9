/*
 * fw-ingest-load: the producer side of `scripts/bench ingest`.
 *
 *   fw-ingest-load produce TOPIC N PAD
 *       pre-produces N generation events (tests/collector/gen.c, PAD bytes of
 *       extra user text each) and prints their mean encoded size.
 *   fw-ingest-load latency TOPIC DSN GROUP RATE SECONDS PAD
 *       produces RATE events/s for SECONDS, each stamped with the wall-clock
 *       time it was recorded, while polling flywheel.ingest_offsets every
 *       5 ms. A row is visible when its partition's stored next offset
 *       passes its offset (offsets commit in the same transaction as the
 *       rows), so latency = time seen - time recorded. Prints
 *       "p50_ms p99_ms count".
 */
#include "gen.h"

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PARTS 64

static int64_t *g_rec_ns;            /* record time of event i */
static int64_t *g_by_off[MAX_PARTS]; /* event index at (partition, offset), -1 none */
static size_t g_cap;

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
        exit(1);
    }
    if (g_rec_ns && m->partition < MAX_PARTS && (size_t)m->offset < g_cap)
        g_by_off[m->partition][m->offset] = (int64_t)(intptr_t)m->_private;
}

static rd_kafka_t *producer(void)
{
    char err[512];
    const char *boot = getenv("FLYWHEEL_KAFKA_BOOTSTRAP");
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    const char *kv[][2] = {{"bootstrap.servers", boot ? boot : "127.0.0.1:9092"},
                           {"enable.idempotence", "true"},
                           {"acks", "all"},
                           {"linger.ms", "5"},
                           {"compression.codec", "zstd"},
                           {"queue.buffering.max.messages", "1000000"},
                           {"queue.buffering.max.kbytes", "1048576"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(c, kv[i][0], kv[i][1], err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            exit(1);
        }
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return rk;
}

static void produce(rd_kafka_t *p, const char *topic, uint64_t i, size_t pad, uint64_t t_ns,
                    size_t *bytes, int64_t opaque)
{
    size_t len;
    uint8_t *b = fwc_gen_event(i, pad, t_ns, &len);
    char key[32];
    snprintf(key, sizeof key, "trace-%d", (int)(i % 64));
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(b, len),
                                  RD_KAFKA_V_KEY(key, strlen(key)),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                  RD_KAFKA_V_OPAQUE((void *)(intptr_t)opaque), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(p, 10);
    if (e) {
        fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
        exit(1);
    }
    rd_kafka_poll(p, 0);
    *bytes += len;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "produce") == 0) {
        uint64_t n = strtoull(argv[3], NULL, 10), made = 0;
        size_t pad = strtoul(argv[4], NULL, 10), bytes = 0;
        rd_kafka_t *p = producer();
        for (uint64_t i = 0; made < n; i++) {
            if (fwc_gen_is_feedback(i))
                continue;
            produce(p, argv[2], i, pad, 0, &bytes, 0);
            made++;
        }
        if (rd_kafka_flush(p, 120000) != 0) {
            fprintf(stderr, "flush incomplete\n");
            return 1;
        }
        rd_kafka_destroy(p);
        printf("%zu\n", bytes / (size_t)n);
        return 0;
    }
    if (argc >= 8 && strcmp(argv[1], "latency") == 0) {
        const char *topic = argv[2], *dsn = argv[3], *group = argv[4];
        int rate = (int)strtol(argv[5], NULL, 10);
        int secs = (int)strtol(argv[6], NULL, 10);
        size_t pad = strtoul(argv[7], NULL, 10), bytes = 0;
        size_t n = (size_t)rate * (size_t)secs;
        g_cap = n + 16;
        g_rec_ns = calloc(g_cap, sizeof *g_rec_ns);
        for (int k = 0; k < MAX_PARTS; k++) {
            g_by_off[k] = malloc(g_cap * sizeof **g_by_off);
            for (size_t j = 0; j < g_cap; j++)
                g_by_off[k][j] = -1;
        }
        int64_t *lat = calloc(n, sizeof *lat);
        size_t nlat = 0;
        int64_t seen[MAX_PARTS] = {0};
        PGconn *c = PQconnectdb(dsn);
        if (PQstatus(c) != CONNECTION_OK) {
            fprintf(stderr, "%s", PQerrorMessage(c));
            return 1;
        }
        rd_kafka_t *p = producer();
        int64_t start = wall_ns(), step = 1000000000 / rate;
        size_t sent = 0;
        int64_t end_by = start + (int64_t)(secs + 20) * 1000000000;
        const char *params[1] = {group};
        while (nlat < n && wall_ns() < end_by) {
            int64_t now = wall_ns();
            while (sent < n && start + (int64_t)sent * step <= now) {
                g_rec_ns[sent] = wall_ns();
                /* multiples of 20 are never feedback indices */
                produce(p, topic, 5000000 + sent * 20, pad, (uint64_t)g_rec_ns[sent], &bytes,
                        (int64_t)sent);
                sent++;
            }
            rd_kafka_poll(p, 0);
            PGresult *r = PQexecParams(c,
                                       "SELECT partition, next_offset FROM flywheel.ingest_offsets "
                                       "WHERE consumer_group = $1",
                                       1, NULL, params, NULL, NULL, 0);
            int64_t t_seen = wall_ns();
            for (int k = 0; PQresultStatus(r) == PGRES_TUPLES_OK && k < PQntuples(r); k++) {
                int part = (int)strtol(PQgetvalue(r, k, 0), NULL, 10);
                int64_t next = strtoll(PQgetvalue(r, k, 1), NULL, 10);
                if (part < 0 || part >= MAX_PARTS)
                    continue;
                for (int64_t off = seen[part]; off < next && (size_t)off < g_cap; off++) {
                    int64_t idx = g_by_off[part][off];
                    if (idx >= 0)
                        lat[nlat++] = t_seen - g_rec_ns[idx];
                }
                if (next > seen[part])
                    seen[part] = next;
            }
            PQclear(r);
            struct timespec ts = {0, 5 * 1000000};
            nanosleep(&ts, NULL);
        }
        rd_kafka_flush(p, 10000);
        rd_kafka_destroy(p);
        PQfinish(c);
        if (nlat == 0) {
            fprintf(stderr, "no event became visible\n");
            return 1;
        }
        qsort(lat, nlat, sizeof *lat, cmp64);
        printf("%.1f %.1f %zu\n", (double)lat[nlat / 2] / 1e6,
               (double)lat[(size_t)((double)nlat * 0.99)] / 1e6, nlat);
        return 0;
    }
    fprintf(stderr, "usage: fw-ingest-load produce TOPIC N PAD\n"
                    "       fw-ingest-load latency TOPIC DSN GROUP RATE SECONDS PAD\n");
    return 2;
}
