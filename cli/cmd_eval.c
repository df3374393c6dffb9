/*
 * `flywheel eval run|list|show|compare|agreement`: argument parsing and
 * rendering over the eval library (flywheel/eval.h). The cases of a run
 * come from the store (fw_store_eval_cases): the recorded eval dataset
 * version re-exported in memory, byte for byte the lines `flywheel export
 * --dataset NAME --version N` writes (checked against the version's
 * recorded sha256s).
 */
#include "cli.h"
#include "opts.h"
#include "flywheel/store.h"
#include "flywheel/eval.h"
#include "names.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_GATES 32

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void eval_usage(FILE *f)
{
    fprintf(
        f,
        "usage: flywheel eval run --dataset NAME --version N --endpoint URL --model M\n"
        "                         [--name RUN] [--prompt FILE] [--scorers FILE | --scorer "
        "TYPE]...\n"
        "                         [--concurrency K] [--rate R/s] [--timeout S] [--retries N]\n"
        "                         [--temperature T] [--max-tokens N] [--price IN,OUT]\n"
        "                         [--split NAME] [--api-key-env VAR] [--no-progress] [-q]\n"
        "       flywheel eval run --resume --name RUN\n"
        "       flywheel eval list [--json]\n"
        "       flywheel eval show RUN [--cases] [--json]\n"
        "       flywheel eval compare RUN_A RUN_B [--json] [--fail-if-regressed SCORER:DELTA]...\n"
        "                         [--seed N] [--resamples N] [--confidence C]\n"
        "       flywheel eval agreement RUN --scorer JUDGE --queue Q --field F [--positive V]\n"
        "                         [--threshold T] [--json]\n"
        "All take --dsn DSN. The API key is read from $FLYWHEEL_EVAL_API_KEY (or the variable\n"
        "named by --api-key-env) and is never stored or logged. `compare` exits with 3 when a\n"
        "gate fails. See docs/evals.md.\n");
}

/* ---- the case source ------------------------------------------------------ */

static int read_file(const char *path, char **out, size_t *len, char *err, size_t errsize)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsize, "could not open \"%s\": %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    while (b) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        char *nb = realloc(b, cap * 2 + 1);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!b || bad) {
        free(b);
        snprintf(err, errsize, "could not read \"%s\"", path);
        return -1;
    }
    b[n] = '\0';
    *out = b;
    *len = n;
    return 0;
}

/* Hands one case of the store's re-export to the runner. */
static int add_case(void *ctx, const char *split, const char *line, size_t len, fw_store_error *err)
{
    char msg[512];
    if (fw_eval_cases_add(ctx, line, len, split, msg, sizeof msg) == 0)
        return 0;
    fw_store_error_clear(err);
    err->code = FW_STORE_INVALID;
    snprintf(err->message, sizeof err->message, "%s", msg);
    return -1;
}

/* The case source of a run: the store's cases of the recorded version
 * (fw_store_eval_cases), byte for byte what `flywheel export` writes. */
static int load_version(void *ctx, PGconn *conn, const char *dataset, int version,
                        fw_eval_cases *out, char *err, size_t errsize)
{
    (void)ctx;
    fw_store_error serr;
    if (fw_store_eval_cases(conn, dataset, version, add_case, out, &serr) == 0)
        return 0;
    snprintf(err, errsize, "%s%s%s", serr.message, serr.hint[0] ? "\nhint: " : "", serr.hint);
    return -1;
}

/* ---- run ------------------------------------------------------------------- */

typedef struct {
    int tty;
    int drawn;
} progress_ctx;

static int on_progress(void *ctx, const fw_eval_progress *p)
{
    progress_ctx *pc = ctx;
    if (pc->tty) {
        long long total = p->total > 0 ? p->total : 1;
        int width = 30, fill = (int)(width * p->done / total);
        char bar[64];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        double rate = p->elapsed_s > 0 ? (double)(p->done - p->resumed) / p->elapsed_s : 0;
        fprintf(stderr, "\r[%s] %3d%% %lld/%lld cases, %lld errors, %lld retries, %.1f cases/s ",
                bar, (int)(100 * p->done / total), p->done, p->total, p->errors, p->retries, rate);
        fflush(stderr);
        pc->drawn = 1;
    }
    return interrupted;
}

static char *slurp_text(const char *path, const char *what)
{
    char *buf = NULL, err[512];
    size_t len;
    if (read_file(path, &buf, &len, err, sizeof err)) {
        fprintf(stderr, "flywheel eval run: %s: %s\n", what, err);
        return NULL;
    }
    if (strlen(buf) != len) {
        fprintf(stderr, "flywheel eval run: %s \"%s\" contains a NUL byte\n", what, path);
        free(buf);
        return NULL;
    }
    return buf;
}

static const char *env_lookup(const char *name)
{
    return getenv(name);
}

static int print_means(PGconn *conn, const char *name)
{
    char err[2048];
    json_t *doc = fw_eval_show(conn, name, 0, err, sizeof err);
    if (!doc) {
        fw_cli_error("eval run", err);
        return 1;
    }
    const char *k;
    json_t *v;
    printf("%-24s %s\n", "scorer", "mean");
    json_object_foreach(json_object_get(doc, "scores"), k, v)
    {
        if (json_is_number(v))
            printf("%-24s %.4f\n", k, json_number_value(v));
        else
            printf("%-24s -\n", k);
    }
    json_decref(doc);
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || (*end && strcmp(end, "/s") != 0) || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int do_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dataset", required_argument, 0, 'd'},    {"version", required_argument, 0, 'V'},
        {"endpoint", required_argument, 0, 'e'},   {"model", required_argument, 0, 'm'},
        {"prompt", required_argument, 0, 'p'},     {"scorers", required_argument, 0, 'S'},
        {"scorer", required_argument, 0, 's'},     {"concurrency", required_argument, 0, 'c'},
        {"rate", required_argument, 0, 'r'},       {"timeout", required_argument, 0, 't'},
        {"retries", required_argument, 0, 'R'},    {"temperature", required_argument, 0, 'T'},
        {"max-tokens", required_argument, 0, 'M'}, {"price", required_argument, 0, 'P'},
        {"split", required_argument, 0, 'x'},      {"api-key-env", required_argument, 0, 'k'},
        {"name", required_argument, 0, 'n'},       {"resume", no_argument, 0, 'z'},
        {"no-progress", no_argument, 0, 'N'},      {0, 0, 0, 0}};
    fw_cli cli = {.cmd = "eval run", .accepts = FW_CLI_DSN | FW_CLI_QUIET, .usage = eval_usage};
    fw_eval_run_opts o;
    fw_eval_run_opts_init(&o);
    const char *dsn = NULL, *prompt_file = NULL, *scorers_file = NULL, *key_env = NULL;
    const char *types[16];
    int n_types = 0, no_progress = 0, quiet = 0;
    int c;
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        int bad = 0;
        switch (c) {
        case 'd':
            o.dataset = optarg;
            break;
        case 'V':
            bad = parse_int(optarg, 1, 1 << 30, &o.version);
            break;
        case 'e':
            o.endpoint = optarg;
            break;
        case 'm':
            o.model = optarg;
            break;
        case 'p':
            prompt_file = optarg;
            break;
        case 'S':
            scorers_file = optarg;
            break;
        case 's':
            if (n_types == 16)
                bad = 1;
            else
                types[n_types++] = optarg;
            break;
        case 'c':
            bad = parse_int(optarg, 1, 1024, &o.concurrency);
            break;
        case 'r':
            bad = parse_double(optarg, &o.rate) || o.rate < 0;
            break;
        case 't':
            bad = parse_double(optarg, &o.timeout_s) || o.timeout_s <= 0;
            break;
        case 'R':
            bad = parse_int(optarg, 0, 100, &o.max_retries);
            break;
        case 'T':
            bad = parse_double(optarg, &o.temperature) || o.temperature < 0;
            break;
        case 'M':
            bad = parse_int(optarg, 1, 1 << 24, &o.max_tokens);
            break;
        case 'P': {
            char *end;
            o.price_in = strtod(optarg, &end);
            bad = *end != ',';
            if (!bad) {
                o.price_out = strtod(end + 1, &end);
                bad = *end || o.price_in < 0 || o.price_out < 0;
            }
            break;
        }
        case 'x':
            o.split = optarg;
            break;
        case 'k':
            key_env = optarg;
            break;
        case 'n':
            if (fw_cli_check_name("eval run", "eval run", optarg) != 0)
                return 2;
            o.name = optarg;
            break;
        case 'z':
            o.resume = 1;
            break;
        case 'N':
            no_progress = 1;
            break;
        default:
            eval_usage(stderr);
            return 2;
        }
        if (bad) {
            fw_cli_errorf(&cli, "invalid value \"%s\"", optarg);
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    dsn = cli.dsn;
    quiet = cli.quiet;
    if (optind != argc) {
        fprintf(stderr, "flywheel eval run: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (scorers_file && n_types) {
        fprintf(stderr,
                "flywheel eval run: give either --scorers FILE or --scorer TYPE, not both\n");
        return 2;
    }
    char namebuf[64];
    if (!o.name) {
        if (o.resume) {
            fprintf(stderr, "flywheel eval run: --resume needs --name\n");
            return 2;
        }
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(namebuf, sizeof namebuf, "run-%Y%m%d-%H%M%S", &tm);
        o.name = namebuf;
    }
    char *prompt = NULL, *scorers = NULL;
    if (prompt_file && !(prompt = slurp_text(prompt_file, "prompt")))
        return 1;
    if (scorers_file && !(scorers = slurp_text(scorers_file, "scorer configuration"))) {
        free(prompt);
        return 1;
    }
    if (n_types) {
        json_t *list = json_array();
        for (int i = 0; i < n_types; i++)
            json_array_append_new(list, json_pack("{s:s}", "type", types[i]));
        json_t *cfg = json_pack("{s:o}", "scorers", list);
        scorers = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
        json_decref(cfg);
    }
    o.prompt = prompt;
    o.scorers = scorers;
    o.api_key = getenv(key_env ? key_env : "FLYWHEEL_EVAL_API_KEY");
    if (o.api_key && !*o.api_key)
        o.api_key = NULL;
    if (key_env && !o.api_key) {
        fprintf(stderr, "flywheel eval run: $%s is not set\n", key_env);
        free(prompt);
        free(scorers);
        return 2;
    }
    o.getenv_fn = env_lookup;
    o.load = load_version;
    progress_ctx pc = {!no_progress && !quiet && isatty(STDERR_FILENO), 0};
    o.progress = on_progress;
    o.progress_ctx = &pc;
    PGconn *conn = fw_cli_connect("eval run", dsn);
    if (!conn) {
        free(prompt);
        free(scorers);
        return 1;
    }
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    char err[2048];
    fw_eval_progress sum = {0};
    int rc = fw_eval_run(conn, &o, &sum, err, sizeof err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (pc.drawn)
        fputc('\n', stderr);
    if (rc == 1) {
        fw_cli_error("eval run", err);
    } else if (rc == 2) {
        fprintf(stderr,
                "flywheel eval run: interrupted after %lld of %lld cases\n"
                "hint: Continue with flywheel eval run --resume --name %s\n",
                sum.done, sum.total, o.name);
        rc = 1;
    } else {
        if (!quiet)
            fprintf(stderr,
                    "flywheel eval run: run \"%s\" finished: %lld cases (%lld stored before), "
                    "%lld errors, %lld calls, %lld retries in %.2f s\n",
                    o.name, sum.total, sum.resumed, sum.errors, sum.calls, sum.retries,
                    sum.elapsed_s);
        rc = print_means(conn, o.name);
    }
    PQfinish(conn);
    free(prompt);
    free(scorers);
    return rc;
}

/* ---- list, show --------------------------------------------------------------- */

static void print_json(json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) {
        puts(s);
        free(s);
    }
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

static void print_scores(const json_t *scores)
{
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach((json_t *)(uintptr_t)scores, k, v)
    {
        if (json_is_number(v))
            printf("%s%s=%.3f", first ? "" : " ", k, json_number_value(v));
        else
            printf("%s%s=-", first ? "" : " ", k);
        first = 0;
    }
}

typedef struct {
    const char *dsn;
    int json, cases;
    const char *args[2];
    int nargs;
} common_opts;

static int parse_common(int argc, char **argv, const char *cmd, common_opts *co, int want)
{
    static const struct option opts[] = {{"cases", no_argument, 0, 'c'}, {0, 0, 0, 0}};
    char full[32];
    snprintf(full, sizeof full, "eval %s", cmd);
    fw_cli cli = {.cmd = full, .accepts = FW_CLI_DSN | FW_CLI_JSON, .usage = eval_usage};
    int c;
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        if (c == 'c' && strcmp(cmd, "show") == 0) {
            co->cases = 1;
        } else {
            eval_usage(stderr);
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    co->dsn = cli.dsn;
    co->json = cli.json;
    if (argc - optind != want) {
        fprintf(stderr, "flywheel eval %s: expected %d argument%s\n", cmd, want,
                want == 1 ? "" : "s");
        return 2;
    }
    for (int i = 0; i < want; i++)
        co->args[i] = argv[optind + i];
    co->nargs = want;
    return -1;
}

static int do_list(int argc, char **argv)
{
    common_opts co = {0};
    int prc = parse_common(argc, argv, "list", &co, 0);
    if (prc >= 0)
        return prc;
    PGconn *conn = fw_cli_connect("eval list", co.dsn);
    if (!conn)
        return 1;
    char err[2048];
    json_t *doc = fw_eval_list(conn, err, sizeof err);
    PQfinish(conn);
    if (!doc) {
        fw_cli_error("eval list", err);
        return 1;
    }
    if (co.json) {
        print_json(doc);
    } else {
        printf("%-24s %-20s %-20s %-9s %7s %6s  %s\n", "run", "dataset", "model", "status", "cases",
               "errors", "scores");
        size_t i;
        json_t *r;
        json_array_foreach(doc, i, r)
        {
            char ds[128];
            snprintf(ds, sizeof ds, "%s@%lld", str(r, "dataset"),
                     (long long)json_integer_value(json_object_get(r, "version")));
            printf("%-24s %-20s %-20s %-9s %7lld %6lld  ", str(r, "name"), ds, str(r, "model"),
                   str(r, "status"), (long long)json_integer_value(json_object_get(r, "cases")),
                   (long long)json_integer_value(json_object_get(r, "errors")));
            print_scores(json_object_get(r, "scores"));
            putchar('\n');
        }
    }
    json_decref(doc);
    return 0;
}

static int do_show(int argc, char **argv)
{
    common_opts co = {0};
    int prc = parse_common(argc, argv, "show", &co, 1);
    if (prc >= 0)
        return prc;
    PGconn *conn = fw_cli_connect("eval show", co.dsn);
    if (!conn)
        return 1;
    char err[2048];
    json_t *doc = fw_eval_show(conn, co.args[0], co.cases, err, sizeof err);
    PQfinish(conn);
    if (!doc) {
        fw_cli_error("eval show", err);
        return 1;
    }
    if (co.json) {
        print_json(doc);
        json_decref(doc);
        return 0;
    }
    printf("run        %s (%s)\n", str(doc, "name"), str(doc, "status"));
    printf("dataset    %s version %lld\n", str(doc, "dataset"),
           (long long)json_integer_value(json_object_get(doc, "version")));
    printf("endpoint   %s\nmodel      %s\n", str(doc, "endpoint"), str(doc, "model"));
    printf("prompt     %s\nscorers    %s\n", str(doc, "prompt_sha256"), str(doc, "scorers_sha256"));
    printf("cases      %lld of %lld, %lld errors\n",
           (long long)json_integer_value(json_object_get(doc, "cases")),
           (long long)json_integer_value(json_object_get(doc, "cases_total")),
           (long long)json_integer_value(json_object_get(doc, "errors")));
    const json_t *u = json_object_get(doc, "usage");
    printf("cost       %.6f USD\nlatency    p50 %.1f ms, p95 %.1f ms\n",
           json_number_value(json_object_get(u, "cost_usd")),
           json_number_value(json_object_get(u, "latency_ms_p50")),
           json_number_value(json_object_get(u, "latency_ms_p95")));
    printf("scores     ");
    print_scores(json_object_get(doc, "scores"));
    putchar('\n');
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "cases_detail"), i, c)
    {
        printf("\ncase %s [%s]\n", str(c, "case_id"), str(c, "status"));
        const char *k;
        json_t *s;
        json_object_foreach(json_object_get(c, "scores"), k, s)
        {
            const json_t *sc = json_object_get(s, "score");
            if (json_is_number(sc))
                printf("  %-20s %.3f  %s\n", k, json_number_value(sc), str(s, "explanation"));
            else
                printf("  %-20s   -    %s\n", k, str(s, "explanation"));
        }
    }
    json_decref(doc);
    return 0;
}

/* ---- compare ---------------------------------------------------------------- */

static void print_ci(const json_t *ci)
{
    if (json_array_size(ci) == 2)
        printf("[%.3f, %.3f]", json_number_value(json_array_get(ci, 0)),
               json_number_value(json_array_get(ci, 1)));
    else
        printf("%-16s", "-");
}

static void render_compare(const json_t *doc)
{
    printf("A = %s (baseline), B = %s (candidate); %lld resamples, seed %lld, %.0f%% intervals\n\n",
           str(doc, "a"), str(doc, "b"),
           (long long)json_integer_value(json_object_get(doc, "resamples")),
           (long long)json_integer_value(json_object_get(doc, "seed")),
           100 * json_number_value(json_object_get(doc, "confidence")));
    printf("%-18s %5s  %-24s %-24s %-26s %5s %5s %5s\n", "scorer", "n", "mean A", "mean B", "B - A",
           "up", "down", "same");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(doc, "scorers"), i, s)
    {
        printf("%-18s %5lld  ", str(s, "scorer"),
               (long long)json_integer_value(json_object_get(s, "n")));
        printf("%.3f ", json_number_value(json_object_get(s, "mean_a")));
        print_ci(json_object_get(s, "ci_a"));
        printf("  %.3f ", json_number_value(json_object_get(s, "mean_b")));
        print_ci(json_object_get(s, "ci_b"));
        printf("  %+.3f ", json_number_value(json_object_get(s, "diff")));
        print_ci(json_object_get(s, "ci_diff"));
        printf(" %5lld %5lld %5lld\n",
               (long long)json_integer_value(json_object_get(s, "improved")),
               (long long)json_integer_value(json_object_get(s, "regressed")),
               (long long)json_integer_value(json_object_get(s, "unchanged")));
    }
    const json_t *cost = json_object_get(doc, "cost_usd"),
                 *lat = json_object_get(doc, "latency_ms");
    const json_t *err = json_object_get(doc, "errors"), *cases = json_object_get(doc, "cases");
    printf("\n%-18s %14s %14s\n", "", "A", "B");
    printf("%-18s %14lld %14lld\n", "cases",
           (long long)json_integer_value(json_object_get(cases, "a")),
           (long long)json_integer_value(json_object_get(cases, "b")));
    printf("%-18s %14lld %14lld\n", "errors",
           (long long)json_integer_value(json_object_get(err, "a")),
           (long long)json_integer_value(json_object_get(err, "b")));
    printf("%-18s %14.6f %14.6f\n", "cost (USD)", json_number_value(json_object_get(cost, "a")),
           json_number_value(json_object_get(cost, "b")));
    const char *lk[3] = {"mean", "p50", "p95"};
    for (int k = 0; k < 3; k++)
        printf("latency %-10s %14.1f %14.1f\n", lk[k],
               json_number_value(json_object_get(json_object_get(lat, "a"), lk[k])),
               json_number_value(json_object_get(json_object_get(lat, "b"), lk[k])));
    json_array_foreach(json_object_get(doc, "scorers"), i, s)
    {
        const json_t *reg = json_object_get(s, "regressed_cases");
        if (json_array_size(reg) == 0)
            continue;
        printf("\nregressed on %s:\n", str(s, "scorer"));
        size_t k;
        json_t *r;
        json_array_foreach(reg, k, r)
            printf("  %s  %.3f -> %.3f  %s\n", str(r, "case_id"),
                   json_number_value(json_object_get(r, "a")),
                   json_number_value(json_object_get(r, "b")), str(r, "explanation_b"));
    }
    json_array_foreach(json_object_get(doc, "gates"), i, s)
    {
        printf("%sgate %s: B - A = %+.4f, allowed drop %.4f: %s\n", i ? "" : "\n", str(s, "scorer"),
               json_number_value(json_object_get(s, "diff")),
               json_number_value(json_object_get(s, "delta")),
               json_is_true(json_object_get(s, "passed")) ? "passed" : "FAILED");
    }
}

static int do_compare(int argc, char **argv)
{
    static const struct option opts[] = {{"fail-if-regressed", required_argument, 0, 'g'},
                                         {"seed", required_argument, 0, 's'},
                                         {"resamples", required_argument, 0, 'r'},
                                         {"confidence", required_argument, 0, 'c'},
                                         {0, 0, 0, 0}};
    fw_cli cli = {.cmd = "eval compare", .accepts = FW_CLI_DSN | FW_CLI_JSON, .usage = eval_usage};
    fw_eval_compare_opts co;
    fw_eval_compare_opts_init(&co);
    const char *dsn = NULL, *gates[MAX_GATES];
    size_t n_gates = 0;
    int json = 0, c;
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        int bad = 0;
        char *end;
        switch (c) {
        case 'g':
            bad = n_gates == MAX_GATES;
            if (!bad)
                gates[n_gates++] = optarg;
            break;
        case 's':
            errno = 0;
            co.seed = strtoull(optarg, &end, 10);
            bad = errno || *end || end == optarg;
            break;
        case 'r':
            bad = parse_int(optarg, 1, 1000000, &co.resamples);
            break;
        case 'c':
            bad = parse_double(optarg, &co.confidence) || co.confidence <= 0 || co.confidence >= 1;
            break;
        default:
            eval_usage(stderr);
            return 2;
        }
        if (bad) {
            fw_cli_errorf(&cli, "invalid value \"%s\"", optarg);
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    dsn = cli.dsn;
    json = cli.json;
    if (argc - optind != 2) {
        fprintf(stderr, "flywheel eval compare: expected two runs (baseline, candidate)\n");
        return 2;
    }
    PGconn *conn = fw_cli_connect("eval compare", dsn);
    if (!conn)
        return 1;
    char err[2048];
    json_t *doc = fw_eval_compare(conn, argv[optind], argv[optind + 1], &co, err, sizeof err);
    PQfinish(conn);
    if (!doc) {
        fw_cli_error("eval compare", err);
        return 1;
    }
    int g = fw_eval_gate(doc, gates, n_gates, err, sizeof err);
    if (g < 0) {
        fw_cli_error("eval compare", err);
        json_decref(doc);
        return 2;
    }
    if (json)
        print_json(doc);
    else
        render_compare(doc);
    json_decref(doc);
    return g ? 3 : 0;
}

/* ---- agreement ------------------------------------------------------------------ */

static int do_agreement(int argc, char **argv)
{
    static const struct option opts[] = {
        {"scorer", required_argument, 0, 's'},    {"queue", required_argument, 0, 'Q'},
        {"field", required_argument, 0, 'f'},     {"positive", required_argument, 0, 'p'},
        {"threshold", required_argument, 0, 't'}, {0, 0, 0, 0}};
    fw_cli cli = {
        .cmd = "eval agreement", .accepts = FW_CLI_DSN | FW_CLI_JSON, .usage = eval_usage};
    fw_eval_agree_opts ao;
    fw_eval_agree_opts_init(&ao);
    const char *dsn = NULL;
    int json = 0, c;
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        switch (c) {
        case 's':
            ao.scorer = optarg;
            break;
        case 'Q':
            ao.queue = optarg;
            break;
        case 'f':
            ao.field = optarg;
            break;
        case 'p':
            ao.positive = optarg;
            break;
        case 't':
            if (parse_double(optarg, &ao.threshold)) {
                fw_cli_errorf(&cli, "invalid threshold \"%s\"", optarg);
                return 2;
            }
            break;
        default:
            eval_usage(stderr);
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    dsn = cli.dsn;
    json = cli.json;
    if (argc - optind != 1 || !ao.scorer || !ao.queue || !ao.field) {
        fprintf(stderr, "flywheel eval agreement: needs RUN, --scorer, --queue and --field\n");
        return 2;
    }
    ao.run = argv[optind];
    PGconn *conn = fw_cli_connect("eval agreement", dsn);
    if (!conn)
        return 1;
    char err[2048];
    json_t *doc = fw_eval_agreement(conn, &ao, err, sizeof err);
    PQfinish(conn);
    if (!doc) {
        fw_cli_error("eval agreement", err);
        return 1;
    }
    if (json) {
        print_json(doc);
    } else {
        printf("judge %s of run %s against queue %s field %s: %lld cases\n", ao.scorer, ao.run,
               ao.queue, ao.field, (long long)json_integer_value(json_object_get(doc, "n")));
        const json_t *r = json_object_get(doc, "pearson"), *rho = json_object_get(doc, "spearman");
        if (json_is_number(r))
            printf("pearson r     %.4f\n", json_number_value(r));
        else
            printf("pearson r     - (fewer than 2 cases or no variance)\n");
        if (json_is_number(rho))
            printf("spearman rho  %.4f\n", json_number_value(rho));
        const json_t *k = json_object_get(doc, "cohen");
        if (k) {
            const json_t *t = json_object_get(k, "table");
            const json_t *kap = json_object_get(k, "kappa");
            printf("cohen kappa   %s", json_is_number(kap) ? "" : "-\n");
            if (json_is_number(kap))
                printf("%.4f\n", json_number_value(kap));
            printf("agreement     %.4f (judge score >= %g counts as pass)\n",
                   json_number_value(json_object_get(k, "observed_agreement")),
                   json_number_value(json_object_get(k, "threshold")));
            printf("                 human pass  human fail\n");
            printf("judge pass       %10lld  %10lld\n",
                   (long long)json_integer_value(json_object_get(t, "judge_pass_human_pass")),
                   (long long)json_integer_value(json_object_get(t, "judge_pass_human_fail")));
            printf("judge fail       %10lld  %10lld\n",
                   (long long)json_integer_value(json_object_get(t, "judge_fail_human_pass")),
                   (long long)json_integer_value(json_object_get(t, "judge_fail_human_fail")));
        }
    }
    json_decref(doc);
    return 0;
}

int fw_cmd_eval(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        eval_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "run") == 0)
        return do_run(argc - 1, argv + 1);
    if (strcmp(sub, "list") == 0)
        return do_list(argc - 1, argv + 1);
    if (strcmp(sub, "show") == 0)
        return do_show(argc - 1, argv + 1);
    if (strcmp(sub, "compare") == 0)
        return do_compare(argc - 1, argv + 1);
    if (strcmp(sub, "agreement") == 0)
        return do_agreement(argc - 1, argv + 1);
    fprintf(stderr, "flywheel eval: unknown subcommand \"%s\"\n", sub);
    eval_usage(stderr);
    return 2;
}
