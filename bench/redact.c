/*
 * bench_redact — speed of the redaction scan (every built-in detector on)
 * over typical chat text, against memchr() and strlen() over the same bytes
 * in the same run: the memory-speed yardsticks of this machine.
 *
 *   bench_redact [--bytes N] [--rounds R]
 *
 * The text is a chat transcript of prose, numbers, prices, dates, a JSON
 * tool result and one e-mail address (so one span is rendered per copy),
 * repeated to about N bytes (default 2 MiB: larger than L2, like a batch of
 * events streaming through the agent thread) and scanned in 2 KB pieces,
 * the size of one generation's content. Each figure is the best of R rounds
 * (default 15) of thread CPU time, so that preemption on a shared machine
 * does not count. Prints one JSON object.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redact.h"

static const char *const CHAT[] = {
    "You are a support assistant for Acme Cloud. Answer concisely and accurately. When the user "
    "asks about an account, a bill or an order, call the lookup tool with the identifier they "
    "gave; never invent identifiers. If you are not sure, say so and offer to escalate to a human "
    "agent. Keep answers under 150 words, use plain language, no marketing tone.\n",
    "Hi, my last invoice looks higher than usual. Can you tell me why the amount went up compared "
    "to the previous month? Account 88231, billing contact jane.doe@example.com.\n",
    "{\"account\":\"88231\",\"invoices\":[{\"period\":\"2024-05\",\"total\":182.40,\"items\":[{"
    "\"sku\":"
    "\"vm-standard\",\"qty\":3},{\"sku\":\"storage-gb\",\"qty\":500}]},{\"period\":\"2024-06\","
    "\"total\":241.10,\"items\":[{\"sku\":\"vm-standard\",\"qty\":4}]}]}\n",
    "Your June invoice is $58.70 higher than May's. Two things changed: - a fourth vm-standard "
    "instance ran for the whole of June (+$41.20); - storage grew from 500 GB to 620 GB "
    "(+$17.50). The fourth VM, web-3, is still running today. If you no longer need it, stop it "
    "from the console under Compute > Instances; billing stops within the hour.\n",
    "Sure. Here is a short Python function that parses the CSV export and sums the totals per "
    "month:\n\n    def totals(path):\n        out = {}\n        for row in "
    "csv.DictReader(open(path)):\n"
    "            out[row['period']] = out.get(row['period'], 0) + float(row['total'])\n"
    "        return out\n\nIt assumes the header has the columns period and total, as in the "
    "export from 12 March 2024.\n",
};

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum { PIECE = 2048 };

int main(int argc, char **argv)
{
    size_t want = 2u << 20;
    int rounds = 15;
    static const struct option opts[] = {{"bytes", 1, 0, 'b'}, {"rounds", 1, 0, 'r'}, {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        if (o == 'b') {
            want = strtoull(optarg, &end, 10);
            if (*end || want < PIECE) {
                fprintf(stderr, "bench_redact: invalid --bytes \"%s\"\n", optarg);
                return 2;
            }
        } else if (o == 'r') {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 1000) {
                fprintf(stderr, "bench_redact: invalid --rounds \"%s\"\n", optarg);
                return 2;
            }
            rounds = (int)v;
        } else {
            fprintf(stderr, "usage: bench_redact [--bytes N] [--rounds R]\n");
            return 2;
        }
    }
    char *text = malloc(want + 1);
    fwr_redactor *r = fwr_new(FWR_ALL);
    char *out = malloc(2 * PIECE + 64);
    if (!text || !r || !out) {
        fprintf(stderr, "bench_redact: out of memory\n");
        return 1;
    }
    size_t n = 0;
    for (size_t k = 0; n < want; k++) {
        const char *s = CHAT[k % (sizeof CHAT / sizeof *CHAT)];
        size_t l = strlen(s);
        if (l > want - n)
            l = want - n;
        memcpy(text + n, s, l);
        n += l;
    }
    text[n] = '\0';
    size_t pieces = n / PIECE;
    size_t bytes = pieces * PIECE;

    uint64_t best_red = UINT64_MAX, best_chr = UINT64_MAX, best_len = UINT64_MAX;
    long spans = 0;
    volatile size_t sink = 0;
    for (int round = 0; round < rounds; round++) {
        /* Order alternates so a frequency or cache trend favours neither. */
        for (int side = 0; side < 3; side++) {
            int which = (side + round) % 3;
            uint64_t t0 = cpu_ns();
            if (which == 0) {
                long found = 0;
                for (size_t p = 0; p < pieces; p++) {
                    size_t ol;
                    const char *s = text + p * PIECE;
                    int k = fwr_find(r, s, PIECE, &ol);
                    if (k < 0) {
                        fprintf(stderr, "bench_redact: out of memory\n");
                        return 1;
                    }
                    if (k > 0) {
                        fwr_render(r, s, PIECE, out);
                        found += k;
                    }
                }
                spans = found;
            } else if (which == 1) {
                for (size_t p = 0; p < pieces; p++)
                    sink += memchr(text + p * PIECE, '\x01', PIECE) == NULL;
            } else {
                /* strlen needs a terminator per piece: one long string
                 * scanned from each piece start to the end would be
                 * quadratic, so scan the whole text once per piece count. */
                sink += strlen(text);
            }
            uint64_t dt = cpu_ns() - t0;
            uint64_t *best = which == 0 ? &best_red : which == 1 ? &best_chr : &best_len;
            if (dt < *best)
                *best = dt;
        }
    }
    double red = (double)bytes / (double)best_red, chr = (double)bytes / (double)best_chr,
           len = (double)n / (double)best_len; /* bytes per ns = GB/s */
    printf("{\"bench\":\"redact\",\"bytes\":%zu,\"piece_bytes\":%d,\"rounds\":%d,"
           "\"spans\":%ld,\"redact_gb_per_s\":%.3f,\"memchr_gb_per_s\":%.3f,"
           "\"strlen_gb_per_s\":%.3f,\"ratio_to_memchr\":%.3f,\"ratio_to_strlen\":%.3f,"
           "\"ns_per_2kb\":%.0f}\n",
           bytes, PIECE, rounds, spans, red, chr, len, red / chr, red / len,
           (double)best_red / (double)pieces);
    fwr_free(r);
    free(text);
    free(out);
    return sink == (size_t)-1;
}
