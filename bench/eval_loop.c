/*
 * eval_loop: the baseline of `scripts/bench eval`: a bare libcurl multi loop
 * that POSTs each request body of BODIES_FILE (one JSON per line) to URL
 * with at most K transfers in flight, reusing handles and connections, and
 * nothing else (no parsing, no scoring, no database). Prints
 * "<requests> <seconds>".
 *
 * usage: eval_loop URL BODIES_FILE K
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* argv[i] as an integer in [lo, hi], or exit 2 naming the argument. */
static int int_arg(const char *what, const char *s, int lo, int hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "%s: %s must be an integer from %d to %d, not \"%s\"\n", "eval_loop", what,
                lo, hi, s);
        exit(2);
    }
    return (int)v;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: eval_loop URL BODIES_FILE K\n");
        return 2;
    }
    int k = int_arg("K", argv[3], 1, 100000);
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        fprintf(stderr, "eval_loop: cannot read %s\n", argv[2]);
        return 1;
    }
    char **bodies = NULL, *line = NULL;
    size_t n = 0, cap = 0, lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            bodies = realloc(bodies, cap * sizeof *bodies);
        }
        bodies[n++] = strdup(line);
    }
    fclose(f);
    free(line);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    size_t next = 0, done = 0;
    int failed = 0;
    double t0 = now();
    for (int i = 0; i < k && next < n; i++) {
        CURL *e = curl_easy_init();
        curl_easy_setopt(e, CURLOPT_URL, argv[1]);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, bodies[next++]);
        curl_multi_add_handle(m, e);
    }
    while (done < n) {
        int running;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *e = msg->easy_handle;
            long status = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            failed |= msg->data.result != CURLE_OK || status != 200;
            done++;
            curl_multi_remove_handle(m, e);
            if (next < n) {
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, bodies[next++]);
                curl_multi_add_handle(m, e);
            } else {
                curl_easy_cleanup(e);
            }
        }
        if (done < n)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    double t = now() - t0;
    printf("%zu %.6f\n", n, t);
    curl_slist_free_all(h);
    curl_multi_cleanup(m);
    for (size_t i = 0; i < n; i++)
        free(bodies[i]);
    free(bodies);
    if (failed)
        fprintf(stderr, "eval_loop: some requests failed\n");
    return failed;
}
