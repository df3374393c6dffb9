/*
 * fw-otlp-load: the load side of `scripts/bench otlp`. Builds OTLP trace
 * requests (protobuf, REQS requests of SPANS GenAI chat spans each, about
 * PAD bytes of message text per span, every span id distinct) and either
 *
 *   http URL REQS SPANS PAD CONC    POSTs them to a gateway from CONC threads,
 *                                   each over one keep-alive connection,
 *                                   retrying a 429/503 after its Retry-After
 *   kafka BOOTSTRAP TOPIC REQS SPANS PAD
 *                                   produces them as messages of an OTLP topic
 *                                   (what an OpenTelemetry Collector's kafka
 *                                   exporter writes), and waits for the acks
 *
 * and prints the seconds it took. The requests are built before the clock
 * starts.
 */
#include <curl/curl.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    uint8_t *p;
    size_t len, cap;
} wbuf;

static void grow(wbuf *w, size_t n)
{
    if (w->len + n <= w->cap)
        return;
    size_t cap = w->cap ? w->cap * 2 : 4096;
    while (cap < w->len + n)
        cap *= 2;
    w->p = realloc(w->p, cap);
    if (!w->p) {
        fprintf(stderr, "fw-otlp-load: out of memory\n");
        exit(1);
    }
    w->cap = cap;
}

static void varint(wbuf *w, uint64_t v)
{
    grow(w, 10);
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        w->p[w->len++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
}

static void bytes(wbuf *w, unsigned field, const void *p, size_t n)
{
    varint(w, (uint64_t)field << 3 | 2);
    varint(w, n);
    grow(w, n);
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

static void sub(wbuf *w, unsigned field, wbuf *in)
{
    bytes(w, field, in->p, in->len);
    in->len = 0;
}

static void fixed64(wbuf *w, unsigned field, uint64_t v)
{
    varint(w, (uint64_t)field << 3 | 1);
    grow(w, 8);
    for (int i = 0; i < 8; i++)
        w->p[w->len++] = (uint8_t)(v >> (8 * i));
}

static void kv_str(wbuf *w, unsigned field, const char *k, const char *v)
{
    wbuf kv = {0}, av = {0};
    bytes(&av, 1, v, strlen(v));
    bytes(&kv, 1, k, strlen(k));
    sub(&kv, 2, &av);
    sub(w, field, &kv);
    free(kv.p);
    free(av.p);
}

static void kv_int(wbuf *w, unsigned field, const char *k, int64_t v)
{
    wbuf kv = {0}, av = {0};
    varint(&av, 3 << 3 | 0);
    varint(&av, (uint64_t)v);
    bytes(&kv, 1, k, strlen(k));
    sub(&kv, 2, &av);
    sub(w, field, &kv);
    free(kv.p);
    free(av.p);
}

/* Request r: SPANS chat spans of one trace (and an HTTP parent span). */
static void build(wbuf *out, int r, int spans, int pad)
{
    wbuf res = {0}, ss = {0}, rs = {0}, sp = {0};
    char *text = malloc((size_t)pad + 1), msgs[8192], hex[64];
    memset(text, 'x', (size_t)pad);
    for (int i = 0; i < pad; i += 7)
        text[i] = ' ';
    text[pad] = '\0';
    kv_str(&res, 1, "service.name", "bench-app");
    kv_str(&res, 1, "service.version", "1.0.0");
    sub(&rs, 1, &res);
    uint8_t trace[16] = {0x5b, 0x8e}, span[8] = {0xa1};
    memcpy(trace + 8, &r, sizeof r);
    uint64_t t0 = 1765000000000000000ull + (uint64_t)r * 1000000ull;
    bytes(&ss, 1,
          "\x0a\x05"
          "bench",
          7); /* scope{name} */
    for (int s = 0; s < spans; s++) {
        memcpy(span + 4, &s, sizeof s);
        memcpy(span + 1, &r, 3);
        bytes(&sp, 1, trace, 16);
        bytes(&sp, 2, span, 8);
        bytes(&sp, 5, "chat gpt-4o-mini", 16);
        varint(&sp, 6 << 3 | 0);
        varint(&sp, 3);
        fixed64(&sp, 7, t0 + (uint64_t)s * 1000);
        fixed64(&sp, 8, t0 + (uint64_t)s * 1000 + 800000000ull);
        kv_str(&sp, 9, "gen_ai.operation.name", "chat");
        kv_str(&sp, 9, "gen_ai.provider.name", "openai");
        kv_str(&sp, 9, "gen_ai.request.model", "gpt-4o-mini");
        kv_str(&sp, 9, "gen_ai.response.model", "gpt-4o-mini-2024-07-18");
        snprintf(hex, sizeof hex, "chatcmpl-%d-%d", r, s);
        kv_str(&sp, 9, "gen_ai.response.id", hex);
        kv_int(&sp, 9, "gen_ai.usage.input_tokens", 120 + s);
        kv_int(&sp, 9, "gen_ai.usage.output_tokens", 40);
        snprintf(msgs, sizeof msgs,
                 "[{\"role\":\"system\",\"parts\":[{\"type\":\"text\",\"content\":\"You are a "
                 "support agent.\"}]},{\"role\":\"user\",\"parts\":[{\"type\":\"text\","
                 "\"content\":\"%.*s\"}]}]",
                 pad / 2, text);
        kv_str(&sp, 9, "gen_ai.input.messages", msgs);
        snprintf(msgs, sizeof msgs,
                 "[{\"role\":\"assistant\",\"finish_reason\":\"stop\",\"parts\":[{\"type\":"
                 "\"text\",\"content\":\"%.*s\"}]}]",
                 pad / 2, text);
        kv_str(&sp, 9, "gen_ai.output.messages", msgs);
        sub(&ss, 2, &sp);
    }
    sub(&rs, 2, &ss);
    out->len = 0;
    sub(out, 1, &rs);
    free(res.p);
    free(ss.p);
    free(rs.p);
    free(sp.p);
    free(text);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static wbuf *reqs;
static int n_reqs;
static atomic_int next_req;
static const char *url;

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static void *http_worker(void *arg)
{
    (void)arg;
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    int i;
    while ((i = atomic_fetch_add(&next_req, 1)) < n_reqs) {
        for (;;) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, reqs[i].p);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)reqs[i].len);
            long code = 0;
            if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
            if (code == 200)
                break;
            if (code != 429 && code != 503 && code != 0) {
                fprintf(stderr, "fw-otlp-load: HTTP %ld\n", code);
                exit(1);
            }
            usleep(200000);
        }
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *o)
{
    (void)rk;
    (void)o;
    if (m->err) {
        fprintf(stderr, "fw-otlp-load: delivery failed: %s\n", rd_kafka_err2str(m->err));
        exit(1);
    }
}

/* argv[i] as an integer in [lo, hi], or exit 2 naming the argument. */
static int int_arg(const char *what, const char *s, int lo, int hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "%s: %s must be an integer from %d to %d, not \"%s\"\n", "fw-otlp-load",
                what, lo, hi, s);
        exit(2);
    }
    return (int)v;
}

int main(int argc, char **argv)
{
    int http = argc == 7 && strcmp(argv[1], "http") == 0;
    int kafka = argc == 7 && strcmp(argv[1], "kafka") == 0;
    if (!http && !kafka) {
        fprintf(stderr, "usage: fw-otlp-load http URL REQS SPANS PAD CONC\n"
                        "       fw-otlp-load kafka BOOTSTRAP TOPIC REQS SPANS PAD\n");
        return 2;
    }
    n_reqs = int_arg("REQS", argv[http ? 3 : 4], 1, 10000000);
    int spans = int_arg("SPANS", argv[http ? 4 : 5], 1, 100000);
    int pad = int_arg("PAD", argv[http ? 5 : 6], 0, 100000000);
    reqs = calloc((size_t)n_reqs, sizeof *reqs);
    size_t total = 0;
    for (int r = 0; r < n_reqs; r++) {
        build(&reqs[r], r, spans, pad);
        total += reqs[r].len;
    }
    fprintf(stderr, "fw-otlp-load: %d requests of %d spans, %.0f bytes per request\n", n_reqs,
            spans, (double)total / n_reqs);
    double t0 = now_s();
    if (http) {
        url = argv[2];
        int conc = int_arg("CONC", argv[6], 1, 64);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        pthread_t th[64];
        for (int i = 0; i < conc; i++)
            pthread_create(&th[i], NULL, http_worker, NULL);
        for (int i = 0; i < conc; i++)
            pthread_join(th[i], NULL);
    } else {
        char e[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[2], e, sizeof e) ||
            rd_kafka_conf_set(conf, "enable.idempotence", "true", e, sizeof e) ||
            rd_kafka_conf_set(conf, "linger.ms", "2", e, sizeof e) ||
            rd_kafka_conf_set(conf, "compression.codec", "zstd", e, sizeof e)) {
            fprintf(stderr, "fw-otlp-load: %s\n", e);
            return 1;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
        if (!rk) {
            fprintf(stderr, "fw-otlp-load: %s\n", e);
            return 1;
        }
        for (int r = 0; r < n_reqs; r++) {
            while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[3]),
                                     RD_KAFKA_V_VALUE(reqs[r].p, reqs[r].len),
                                     RD_KAFKA_V_KEY(&r, sizeof r),
                                     RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 10);
            rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 60000);
        rd_kafka_destroy(rk);
    }
    printf("%.3f\n", now_s() - t0);
    return 0;
}
