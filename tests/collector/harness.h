/*
 * Helpers for the collector tests: producing with librdkafka, running
 * flywheel-collector as a child process, polling PostgreSQL and the HTTP
 * endpoint with deadlines. Every helper fails the test (fwt_fail) on error.
 */
#ifndef FWC_HARNESS_H
#define FWC_HARNESS_H

#include "fwtest.h"

#include <librdkafka/rdkafka.h>
#include <sys/types.h>

/* An idempotent, acks=all producer to the dev broker. */
rd_kafka_t *fwc_producer(void);
/* Produces one message (copied) to any partition chosen by key. */
void fwc_produce(rd_kafka_t *p, const char *topic, const char *key, const void *buf, size_t len);
/* Produces events [from, to) of gen.c with key "trace-<i % 64>". */
void fwc_produce_range(rd_kafka_t *p, const char *topic, uint64_t from, uint64_t to);
/* Flushes and destroys. */
void fwc_producer_done(rd_kafka_t *p);

typedef struct {
    pid_t pid;
    int port;
    char log[256];
} fwc_proc;

/*
 * Starts flywheel-collector with pg.dsn, kafka.bootstrap.servers, topics,
 * kafka.group.id and http.listen on a free port, plus `extra` flags
 * (NULL-terminated). Its stderr goes to a log file printed on failure.
 */
void fwc_collector_start(fwc_proc *c, const char *dsn, const char *topic, const char *group,
                         const char *const *extra);
/* Sends `sig` and, for SIGTERM/SIGINT/SIGKILL, waits (30 s deadline).
 * Returns the exit status (128+signal when killed). */
int fwc_collector_signal(fwc_proc *c, int sig);
/* Prints the collector's log to stderr (tail). */
void fwc_collector_dump_log(const fwc_proc *c);
/* 1 while the process runs. */
int fwc_collector_alive(fwc_proc *c);

/* Polls `sql` (one integer) until it equals `want` or the deadline passes;
 * returns the last value. */
long long fwc_wait_value(PGconn *conn, const char *sql, long long want, int timeout_ms);

/* Runs a parameterised query returning one integer. */
long long fwc_pg_int1(PGconn *conn, const char *sql, const char *param);

/* GET http://127.0.0.1:port/path; returns the HTTP status and copies the
 * body into body (NUL-terminated). -1 when nothing answers. */
int fwc_http_get(int port, const char *path, char *body, size_t size);

/* Reads a metric's value from /metrics text (exact series name with labels);
 * returns -1 when absent. */
double fwc_metric(const char *text, const char *series);

/* A TCP port that was free a moment ago. */
int fwc_free_port(void);

#endif

/* SELECT count of generations + feedback. */
#define FWC_ROWS_SQL                                                                               \
    "SELECT (SELECT count(*) FROM flywheel.generations) + (SELECT count(*) FROM "                  \
    "flywheel.feedback)"
#define FWC_DISTINCT_SQL                                                                           \
    "SELECT (SELECT count(DISTINCT event_id) FROM flywheel.generations) + "                        \
    "(SELECT count(DISTINCT event_id) FROM flywheel.feedback)"

/* Polls /metrics until `series` satisfies value >= min (or the deadline);
 * returns the last value (-1 when unreachable). */
double fwc_wait_metric(int port, const char *series, double min, int timeout_ms);

/* Polls `sql` every 20 ms until its value is >= min or the deadline passes;
 * returns the last value. */
long long fwc_wait_at_least(PGconn *conn, const char *sql, long long min, int timeout_ms);
