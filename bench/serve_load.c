/*
 * flywheel-bench-serve: load for `scripts/bench serve`. N client threads,
 * each signed in as its own reviewer (a session cookie and CSRF token from
 * the sessions file), loop for a fixed time over one keep-alive connection
 * and record each request's latency; or, for the baselines, make the same
 * SQL calls directly over libpq as the same reviewer role. Prints one JSON
 * line with requests/s and percentiles.
 *
 *   --mode healthz     GET /healthz (the HTTP floor: no session, no SQL)
 *   --mode item        GET the reviewer's item page (session lookup, SET
 *                      ROLE, flywheel.web_item, rendering)
 *   --mode submit      POST "submit and next" on the item page (web_item,
 *                      review_submit, the audit row, review_claim of the next
 *                      item); the GET that reads the next form's version is
 *                      not timed
 *   --mode sql-item    SELECT flywheel.web_item(queue, item) as the reviewer
 *   --mode sql-submit  web_item + review_submit + review_claim as the reviewer
 *
 * Usage: flywheel-bench-serve --mode M --queue Q --seconds S
 *        (--port P --sessions FILE | --dsn DSN --accounts FILE)
 * The sessions file has one "cookie csrf" line per client; the accounts
 * file one account name per client (the DSN's login must be able to SET
 * ROLE to them: a member of flywheel_web).
 */
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define MAX_SAMPLES (1 << 21)

static const char *g_mode, *g_queue = "bench", *g_dsn;
static int g_port, g_seconds = 10, g_clients;
static char g_cookie[MAX_CLIENTS][128], g_csrf[MAX_CLIENTS][64], g_account[MAX_CLIENTS][64];
static int64_t g_deadline_ns;
static double *g_lat;
static atomic_long g_n, g_errors;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void record(int64_t t0)
{
    long i = atomic_fetch_add(&g_n, 1);
    if (i < MAX_SAMPLES)
        g_lat[i] = (double)(now_ns() - t0) / 1e6;
}

static void error(const char *what, const char *detail)
{
    if (atomic_fetch_add(&g_errors, 1) < 5)
        fprintf(stderr, "flywheel-bench-serve: %s%s%s\n", what, detail ? ": " : "",
                detail ? detail : "");
}

/* ---- a minimal HTTP/1.1 keep-alive client ------------------------------- */

typedef struct {
    int fd;
    char *buf; /* the last response: headers and body */
    size_t len, cap;
    int status;
    const char *body;
} http;

static int http_connect(http *h)
{
    h->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (h->fd < 0)
        return -1;
    int one = 1;
    setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(h->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(h->fd);
        h->fd = -1;
        return -1;
    }
    return 0;
}

static int grow(http *h, size_t need)
{
    if (need <= h->cap)
        return 0;
    size_t cap = h->cap ? h->cap : 65536;
    while (cap < need)
        cap *= 2;
    char *p = realloc(h->buf, cap);
    if (!p)
        return -1;
    h->buf = p;
    h->cap = cap;
    return 0;
}

/* Sends one request and reads its response (Content-Length bodies only,
 * which is what the server sends). Reconnects once when the server closed
 * the idle connection. Returns 0, or -1. */
static int http_do(http *h, const char *req, size_t reqlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (h->fd < 0 && http_connect(h) != 0)
            return -1;
        if (send(h->fd, req, reqlen, MSG_NOSIGNAL) != (ssize_t)reqlen)
            goto retry;
        h->len = 0;
        size_t head = 0, total = 0;
        for (;;) {
            if (grow(h, h->len + 65536 + 1) != 0)
                return -1;
            ssize_t n = recv(h->fd, h->buf + h->len, h->cap - h->len - 1, 0);
            if (n <= 0)
                goto retry;
            h->len += (size_t)n;
            h->buf[h->len] = '\0';
            if (!head) {
                char *e = strstr(h->buf, "\r\n\r\n");
                if (!e)
                    continue;
                head = (size_t)(e - h->buf) + 4;
                const char *cl = strcasestr(h->buf, "\r\ncontent-length:");
                if (!cl || cl > e)
                    return -1;
                total = head + strtoul(cl + 17, NULL, 10);
                /* "HTTP/1.1 NNN": three digits, anything else is not a status line. */
                char *end;
                long st = strtol(h->buf + 9, &end, 10);
                if (end != h->buf + 12 || st < 100 || st > 599)
                    return -1;
                h->status = (int)st;
            }
            if (h->len >= total)
                break;
        }
        h->body = h->buf + head;
        return 0;
    retry:
        close(h->fd);
        h->fd = -1;
    }
    return -1;
}

/* The value of a response header (copied into out), or -1. */
static int header(const http *h, const char *name, char *out, size_t size)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\r\n%s:", name);
    const char *p = strcasestr(h->buf, pat);
    if (!p || p > h->body)
        return -1;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\r\n");
    if (n >= size)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

static int get(http *h, int id, const char *path)
{
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n\r\n",
                     path, g_cookie[id]);
    return http_do(h, req, (size_t)n);
}

static int post(http *h, int id, const char *path, const char *form)
{
    char req[4096];
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n"
                     "Sec-Fetch-Site: same-origin\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     path, g_cookie[id], strlen(form), form);
    return http_do(h, req, (size_t)n);
}

/* The reviewer's current item page path: claims one (POST .../next). */
static int claim(http *h, int id, char *path, size_t size)
{
    char p[256], form[128];
    snprintf(p, sizeof p, "/q/%s/next", g_queue);
    snprintf(form, sizeof form, "csrf=%s", g_csrf[id]);
    if (post(h, id, p, form) != 0 || h->status != 303 || header(h, "Location", path, size) != 0)
        return -1;
    return strstr(path, "/item/") ? 0 : -1;
}

static void *http_client(void *arg)
{
    int id = (int)(long)arg;
    http h = {.fd = -1};
    char path[256] = "/healthz", ver[32], form[512];
    if (strcmp(g_mode, "healthz") != 0 && claim(&h, id, path, sizeof path) != 0) {
        error("claim failed", NULL);
        goto out;
    }
    while (now_ns() < g_deadline_ns) {
        if (strcmp(g_mode, "submit") == 0) {
            if (get(&h, id, path) != 0 || h.status != 200) {
                error("item page failed", path);
                break;
            }
            const char *v = strstr(h.body, "name=\"ver\" value=\"");
            if (!v || sscanf(v + 18, "%31[0-9]", ver) != 1) {
                error("no version on the item page", NULL);
                break;
            }
            snprintf(form, sizeof form, "csrf=%s&ver=%s&action=submit&f%%3Aok=true&f%%3Ascore=3",
                     g_csrf[id], ver);
            int64_t t0 = now_ns();
            if (post(&h, id, path, form) != 0 || h.status != 303) {
                error("submit failed", h.buf ? h.buf : NULL);
                break;
            }
            record(t0);
            if (header(&h, "Location", path, sizeof path) != 0 || !strstr(path, "/item/")) {
                error("the queue ran out", path);
                break;
            }
        } else {
            int64_t t0 = now_ns();
            if (get(&h, id, path) != 0 || h.status != 200) {
                error("request failed", path);
                break;
            }
            record(t0);
        }
    }
out:
    if (h.fd >= 0)
        close(h.fd);
    free(h.buf);
    return NULL;
}

/* ---- the same SQL calls, directly ---------------------------------------- */

static PGresult *q(PGconn *c, const char *sql, int n, const char *const *p)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        error("query failed", PQerrorMessage(c));
        PQclear(r);
        return NULL;
    }
    return r;
}

/* The item id of a review_claim/web_item JSON, or -1. */
static long long item_of(PGresult *r)
{
    if (!r || PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
        return -1;
    const char *s = strstr(PQgetvalue(r, 0, 0), "\"item_id\": ");
    return s ? strtoll(s + 11, NULL, 10) : -1;
}

static void *sql_client(void *arg)
{
    int id = (int)(long)arg;
    PGconn *c = PQconnectdb(g_dsn);
    if (PQstatus(c) != CONNECTION_OK) {
        error("could not connect", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    const char *role[1] = {g_account[id]};
    PGresult *r = q(c, "SELECT set_config('role', $1, false)", 1, role);
    PQclear(r);
    const char *qp[1] = {g_queue};
    r = q(c, "SELECT flywheel.review_claim($1)::text", 1, qp);
    long long item = item_of(r);
    PQclear(r);
    if (item < 0) {
        error("claim failed", NULL);
        PQfinish(c);
        return NULL;
    }
    char ids[32];
    while (now_ns() < g_deadline_ns) {
        snprintf(ids, sizeof ids, "%lld", item);
        const char *p[2] = {g_queue, ids};
        int64_t t0 = now_ns();
        r = q(c, "SELECT flywheel.web_item($1, $2)::text", 2, p);
        if (!r || item_of(r) != item) {
            PQclear(r);
            error("web_item returned no item", NULL);
            break;
        }
        PQclear(r);
        if (strcmp(g_mode, "sql-submit") == 0) {
            const char *sp[2] = {ids, "{\"ok\": true, \"score\": 3}"};
            r = q(c, "SELECT flywheel.review_submit($1::bigint, $2::jsonb)", 2, sp);
            PQclear(r);
            if (!r)
                break;
            r = q(c, "SELECT flywheel.review_claim($1)::text", 1, qp);
            item = item_of(r);
            PQclear(r);
            if (item < 0) {
                error("the queue ran out", NULL);
                break;
            }
        }
        record(t0);
    }
    PQfinish(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int read_lines(const char *file, int fields)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        perror(file);
        return -1;
    }
    int n = 0;
    while (n < MAX_CLIENTS) {
        int got = fields == 2 ? fscanf(f, "%127s %63s", g_cookie[n], g_csrf[n])
                              : fscanf(f, "%63s", g_account[n]);
        if (got != fields)
            break;
        n++;
    }
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    const char *sessions = NULL, *accounts = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        char *end;
        if (strcmp(k, "--mode") == 0)
            g_mode = v;
        else if (strcmp(k, "--queue") == 0)
            g_queue = v;
        else if (strcmp(k, "--dsn") == 0)
            g_dsn = v;
        else if (strcmp(k, "--sessions") == 0)
            sessions = v;
        else if (strcmp(k, "--accounts") == 0)
            accounts = v;
        else if (strcmp(k, "--port") == 0 || strcmp(k, "--seconds") == 0) {
            long x = strtol(v, &end, 10);
            if (*end || x < 1 || x > 65535) {
                fprintf(stderr, "flywheel-bench-serve: invalid %s \"%s\"\n", k, v);
                return 2;
            }
            *(k[2] == 'p' ? &g_port : &g_seconds) = (int)x;
        } else {
            fprintf(stderr, "flywheel-bench-serve: unknown option %s\n", k);
            return 2;
        }
    }
    int is_sql = g_mode && strncmp(g_mode, "sql-", 4) == 0;
    if (!g_mode || (is_sql ? (!g_dsn || !accounts) : (!g_port || !sessions))) {
        fprintf(stderr, "usage: flywheel-bench-serve --mode M --queue Q --seconds S "
                        "(--port P --sessions FILE | --dsn DSN --accounts FILE)\n");
        return 2;
    }
    g_clients = is_sql ? read_lines(accounts, 1) : read_lines(sessions, 2);
    if (g_clients < 1) {
        fprintf(stderr, "flywheel-bench-serve: no clients in the sessions/accounts file\n");
        return 2;
    }
    g_lat = malloc(sizeof(double) * MAX_SAMPLES);
    if (!g_lat)
        return 1;
    pthread_t t[MAX_CLIENTS];
    int64_t t0 = now_ns();
    g_deadline_ns = t0 + (int64_t)g_seconds * 1000000000;
    for (long i = 0; i < g_clients; i++)
        pthread_create(&t[i], NULL, is_sql ? sql_client : http_client, (void *)i);
    for (int i = 0; i < g_clients; i++)
        pthread_join(t[i], NULL);
    double secs = (double)(now_ns() - t0) / 1e9;
    long n = atomic_load(&g_n);
    if (n > MAX_SAMPLES)
        n = MAX_SAMPLES;
    if (n == 0 || atomic_load(&g_errors) > 0) {
        fprintf(stderr, "flywheel-bench-serve: %ld errors, %ld requests\n", atomic_load(&g_errors),
                n);
        return 1;
    }
    qsort(g_lat, (size_t)n, sizeof(double), cmp_double);
    printf("{\"mode\": \"%s\", \"clients\": %d, \"requests\": %ld, \"per_s\": %.0f, "
           "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f}\n",
           g_mode, g_clients, n, (double)n / secs, g_lat[n / 2], g_lat[n * 90 / 100],
           g_lat[n * 99 / 100]);
    free(g_lat);
    return 0;
}
