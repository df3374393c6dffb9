/* Collector test helpers; see harness.h. */
#include "harness.h"

#include "gen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

rd_kafka_t *fwc_producer(void)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    const char *kv[][2] = {
        {"bootstrap.servers", fwt_kafka_bootstrap()},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "5"},
        {"compression.codec", "zstd"},
        {"queue.buffering.max.messages", "1000000"},
        {"message.max.bytes", "4000000"},
        {"reconnect.backoff.max.ms", "1000"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        FWT_CHECK_MSG(rd_kafka_conf_set(c, kv[i][0], kv[i][1], err, sizeof err) == 0, "%s", err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    FWT_CHECK_MSG(rk != NULL, "rd_kafka_new: %s", err);
    return rk;
}

void fwc_produce(rd_kafka_t *p, const char *topic, const char *key, const void *buf, size_t len)
{
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic),
                                  RD_KAFKA_V_VALUE((void *)(uintptr_t)buf, len),
                                  RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(p, 10);
    FWT_CHECK_MSG(e == 0, "produce: %s", rd_kafka_err2str(e));
    rd_kafka_poll(p, 0);
}

void fwc_produce_range(rd_kafka_t *p, const char *topic, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to; i++) {
        size_t len;
        uint8_t *buf = fwc_gen_event(i, 0, 0, &len);
        FWT_CHECK(buf != NULL);
        char key[32];
        snprintf(key, sizeof key, "trace-%d", (int)(i % 64));
        fwc_produce(p, topic, key, buf, len);
        free(buf);
    }
}

void fwc_producer_done(rd_kafka_t *p)
{
    FWT_CHECK_MSG(rd_kafka_flush(p, 60000) == 0, "producer flush did not complete");
    FWT_CHECK_EQ_INT(rd_kafka_outq_len(p), 0);
    rd_kafka_destroy(p);
}

int fwc_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    FWT_CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t l = sizeof a;
    FWT_CHECK(getsockname(s, (struct sockaddr *)&a, &l) == 0);
    close(s);
    return ntohs(a.sin_port);
}

/* Children still running when the test exits (a failed check) are killed,
 * so a failing test never leaves a collector behind. */
static pid_t g_children[32];

static void kill_children(void)
{
    for (size_t i = 0; i < sizeof g_children / sizeof g_children[0]; i++)
        if (g_children[i] > 0 && kill(g_children[i], SIGKILL) == 0)
            waitpid(g_children[i], NULL, 0);
}

static void track_child(pid_t pid, int add)
{
    static int registered;
    if (!registered) {
        atexit(kill_children);
        registered = 1;
    }
    for (size_t i = 0; i < sizeof g_children / sizeof g_children[0]; i++) {
        if (add && g_children[i] <= 0) {
            g_children[i] = pid;
            return;
        }
        if (!add && g_children[i] == pid) {
            g_children[i] = 0;
            return;
        }
    }
}

void fwc_collector_start(fwc_proc *c, const char *dsn, const char *topic, const char *group,
                         const char *const *extra)
{
    static int seq;
    c->port = fwc_free_port();
    snprintf(c->log, sizeof c->log, "/tmp/fwc_collector_%d_%d.log", (int)getpid(), seq++);
    char a_dsn[1024], a_boot[512], a_topic[256], a_group[256], a_http[64];
    snprintf(a_dsn, sizeof a_dsn, "--pg.dsn=%s", dsn);
    snprintf(a_boot, sizeof a_boot, "--kafka.bootstrap.servers=%s", fwt_kafka_bootstrap());
    snprintf(a_topic, sizeof a_topic, "--topics=%s", topic);
    snprintf(a_group, sizeof a_group, "--kafka.group.id=%s", group);
    snprintf(a_http, sizeof a_http, "--http.listen=127.0.0.1:%d", c->port);
    const char *argv[64] = {fwt_program("collector/flywheel-collector"),
                            a_dsn,
                            a_boot,
                            a_topic,
                            a_group,
                            a_http,
                            "--kafka.session.timeout.ms=6000",
                            "--kafka.heartbeat.interval.ms=500",
                            "--batch.max_wait_ms=50"};
    int n = 9;
    /* FWC_WRITE_MODE (set by tests/collector.cmake for the second-mode runs)
     * picks pg.write_mode; a test's own flags come later and win. */
    char a_mode[64];
    const char *mode = getenv("FWC_WRITE_MODE");
    if (mode && *mode) {
        snprintf(a_mode, sizeof a_mode, "--pg.write_mode=%s", mode);
        argv[n++] = a_mode;
    }
    /* FWC_GROUP_INSTANCE_ID: static membership (a restarted member reuses
     * the id); only for tests that run one member at a time. */
    char a_instance[160];
    const char *instance = getenv("FWC_GROUP_INSTANCE_ID");
    if (instance && *instance) {
        snprintf(a_instance, sizeof a_instance, "--kafka.group.instance.id=%s", instance);
        argv[n++] = a_instance;
    }
    for (int i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    FWT_CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(c->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
        }
        execv(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    c->pid = pid;
    track_child(pid, 1);
}

int fwc_collector_alive(fwc_proc *c)
{
    if (c->pid <= 0)
        return 0;
    int st;
    pid_t r = waitpid(c->pid, &st, WNOHANG);
    if (r == c->pid) {
        track_child(c->pid, 0);
        c->pid = -1;
        return 0;
    }
    return 1;
}

void fwc_collector_dump_log(const fwc_proc *c)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "tail -n 40 %s >&2", c->log);
    fwt_run(cmd);
}

int fwc_collector_signal(fwc_proc *c, int sig)
{
    FWT_CHECK(c->pid > 0);
    kill(c->pid, sig);
    int64_t deadline = fwt_now_ms() + 30000;
    for (;;) {
        int st;
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid) {
            track_child(c->pid, 0);
            c->pid = -1;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        if (fwt_now_ms() > deadline) {
            fwc_collector_dump_log(c);
            fwt_fail(__FILE__, __LINE__, "collector did not exit within 30 s of signal %d", sig);
        }
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
}

long long fwc_pg_int1(PGconn *conn, const char *sql, const char *param)
{
    const char *params[1] = {param};
    PGresult *r = PQexecParams(conn, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fwt_fail(__FILE__, __LINE__, "query failed: %s\n  %s", PQerrorMessage(conn), sql);
    long long v = PQgetisnull(r, 0, 0) ? 0 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

long long fwc_wait_value(PGconn *conn, const char *sql, long long want, int timeout_ms)
{
    int64_t deadline = fwt_now_ms() + timeout_ms;
    long long v;
    for (;;) {
        v = fwt_pg_int(conn, sql);
        if (v == want || fwt_now_ms() > deadline)
            return v;
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
}

int fwc_http_get(int port, const char *path, char *body, size_t size)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(s);
        return -1;
    }
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (write(s, req, (size_t)n) != n) {
        close(s);
        return -1;
    }
    static char resp[1 << 20];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof resp - 1 && (r = read(s, resp + got, sizeof resp - 1 - got)) > 0)
        got += (size_t)r;
    close(s);
    resp[got] = '\0';
    int status = -1;
    if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    const char *b = strstr(resp, "\r\n\r\n");
    snprintf(body, size, "%s", b ? b + 4 : "");
    return status;
}

double fwc_metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

double fwc_wait_metric(int port, const char *series, double min, int timeout_ms)
{
    static char body[1 << 18];
    int64_t deadline = fwt_now_ms() + timeout_ms;
    double v = -1;
    for (;;) {
        if (fwc_http_get(port, "/metrics", body, sizeof body) == 200)
            v = fwc_metric(body, series);
        if (v >= min || fwt_now_ms() > deadline)
            return v;
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
}

long long fwc_wait_at_least(PGconn *conn, const char *sql, long long min, int timeout_ms)
{
    int64_t deadline = fwt_now_ms() + timeout_ms;
    long long v;
    for (;;) {
        v = fwt_pg_int(conn, sql);
        if (v >= min || fwt_now_ms() > deadline)
            return v;
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
}
