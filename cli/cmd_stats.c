/*
 * `flywheel stats`: the flywheel's numbers for a time window, in a terminal
 * or as JSON for scripts. The document is the store's (fw_store_stats);
 * `--json` prints it, and the text summary is rendered from the same
 * document, so the two never disagree.
 */
#include "cli.h"
#include "opts.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Text rendering, from the JSON document only.
 * ------------------------------------------------------------------------ */

/* doc value at a dotted path, or NULL. */
static json_t *jget(json_t *doc, const char *path)
{
    char part[128];
    const char *dot;
    while (doc && (dot = strchr(path, '.')) != NULL) {
        size_t n = (size_t)(dot - path);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        doc = json_object_get(doc, part);
        path = dot + 1;
    }
    return doc ? json_object_get(doc, path) : NULL;
}

static int jhas(json_t *doc, const char *path)
{
    json_t *v = jget(doc, path);
    return v && json_is_number(v);
}

static double jnum(json_t *doc, const char *path)
{
    json_t *v = jget(doc, path);
    return v && json_is_number(v) ? json_number_value(v) : 0.0;
}

/* Formats a duration in milliseconds: "850 ms", "1.23 s", "4.1 min"; "-"
 * when absent. */
static const char *fmt_ms(char *buf, size_t size, json_t *v)
{
    if (!v || !json_is_number(v)) {
        snprintf(buf, size, "-");
        return buf;
    }
    double ms = json_number_value(v);
    if (ms < 1000)
        snprintf(buf, size, "%.0f ms", ms);
    else if (ms < 60000)
        snprintf(buf, size, "%.2f s", ms / 1000);
    else
        snprintf(buf, size, "%.1f min", ms / 60000);
    return buf;
}

/* Formats a count compactly: 950, 12.3k, 4.56M. */
static const char *fmt_count(char *buf, size_t size, double n)
{
    if (n < 10000)
        snprintf(buf, size, "%.0f", n);
    else if (n < 1e6)
        snprintf(buf, size, "%.1fk", n / 1e3);
    else if (n < 1e9)
        snprintf(buf, size, "%.2fM", n / 1e6);
    else
        snprintf(buf, size, "%.2fG", n / 1e9);
    return buf;
}

static const char *fmt_pct(char *buf, size_t size, json_t *v)
{
    if (!v || !json_is_number(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.1f%%", json_number_value(v) * 100);
    return buf;
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "(none)";
}

static void render_text(json_t *doc, FILE *f)
{
    char a[32], b[32], c[32], d[32], e[32];
    json_t *w = json_object_get(doc, "window");
    const char *project = json_string_value(json_object_get(w, "project"));
    fprintf(f, "flywheel stats  %s .. %s  %s%s\n\n", json_string_value(json_object_get(w, "from")),
            json_string_value(json_object_get(w, "to")), project ? "project " : "all projects",
            project ? project : "");

    fprintf(f,
            "traffic       %s generations, %s errors (%s), %s users, %s conversations, "
            "%.0f models\n",
            fmt_count(a, sizeof a, jnum(doc, "traffic.generations")),
            fmt_count(b, sizeof b, jnum(doc, "traffic.errors")),
            fmt_pct(c, sizeof c, jget(doc, "traffic.error_rate")),
            fmt_count(d, sizeof d, jnum(doc, "traffic.users")),
            fmt_count(e, sizeof e, jnum(doc, "traffic.conversations")),
            jnum(doc, "traffic.models"));
    fprintf(f, "latency       p50 %s", fmt_ms(a, sizeof a, jget(doc, "latency.p50_ms")));
    fprintf(f, "  p90 %s", fmt_ms(a, sizeof a, jget(doc, "latency.p90_ms")));
    fprintf(f, "  p95 %s", fmt_ms(a, sizeof a, jget(doc, "latency.p95_ms")));
    fprintf(f, "  p99 %s\n", fmt_ms(a, sizeof a, jget(doc, "latency.p99_ms")));
    fprintf(f, "              time to first token p50 %s",
            fmt_ms(a, sizeof a, jget(doc, "latency.ttft_p50_ms")));
    fprintf(f, "  p95 %s", fmt_ms(a, sizeof a, jget(doc, "latency.ttft_p95_ms")));
    if (jhas(doc, "latency.output_tokens_per_s_p50"))
        fprintf(f, "; %.0f output tokens/s (median)", jnum(doc, "latency.output_tokens_per_s_p50"));
    fputc('\n', f);
    fprintf(f, "usage         %s input tokens (%s cached), %s output (%s reasoning); cost $%.2f\n",
            fmt_count(a, sizeof a, jnum(doc, "usage.input_tokens")),
            fmt_count(b, sizeof b, jnum(doc, "usage.cached_input_tokens")),
            fmt_count(c, sizeof c, jnum(doc, "usage.output_tokens")),
            fmt_count(d, sizeof d, jnum(doc, "usage.reasoning_tokens")),
            jnum(doc, "usage.cost_usd"));
    fprintf(f, "feedback      %s of generations have feedback; %s events: %s thumbs (%s up), ",
            fmt_pct(a, sizeof a, jget(doc, "feedback.feedback_rate")),
            fmt_count(b, sizeof b, jnum(doc, "feedback.events")),
            fmt_count(c, sizeof c, jnum(doc, "feedback.thumbs")),
            fmt_pct(d, sizeof d, jget(doc, "feedback.thumbs_up_ratio")));
    if (jhas(doc, "feedback.mean_score"))
        fprintf(f, "%s scores (mean %.2f), ", fmt_count(a, sizeof a, jnum(doc, "feedback.scores")),
                jnum(doc, "feedback.mean_score"));
    fprintf(f, "%s corrections\n", fmt_count(a, sizeof a, jnum(doc, "feedback.corrections")));

    fprintf(f, "dead letters  %s in window",
            fmt_count(a, sizeof a, jnum(doc, "dead_letters.in_window")));
    json_t *reasons = jget(doc, "dead_letters.by_reason");
    size_t i;
    json_t *row;
    if (json_array_size(reasons) > 0) {
        fputs(" (", f);
        json_array_foreach(reasons, i, row)
        {
            fprintf(f, "%s%s %lld", i ? ", " : "", jstr(row, "reason"),
                    (long long)json_integer_value(json_object_get(row, "dead_letters")));
        }
        fputc(')', f);
    }
    fprintf(f, "; %s not replayed in total\n",
            fmt_count(a, sizeof a, jnum(doc, "dead_letters.not_replayed_total")));

    fprintf(f, "ingest        lag p50 %s", fmt_ms(a, sizeof a, jget(doc, "ingest.lag_p50_ms")));
    fprintf(f, "  p99 %s", fmt_ms(a, sizeof a, jget(doc, "ingest.lag_p99_ms")));
    fprintf(f, "  max %s", fmt_ms(a, sizeof a, jget(doc, "ingest.lag_max_ms")));
    json_t *parts = jget(doc, "ingest.partitions");
    double stale = 0;
    json_array_foreach(parts, i, row)
    {
        double s = json_number_value(json_object_get(row, "seconds_since_update"));
        if (s > stale)
            stale = s;
    }
    if (json_array_size(parts) > 0)
        fprintf(f, "; %zu partitions, slowest last moved %.0f s ago\n", json_array_size(parts),
                stale);
    else
        fputs("; no collector has stored offsets yet\n", f);

    if (json_is_object(json_object_get(doc, "review"))) {
        json_t *p50 = jget(doc, "review.time_to_label_p50_s");
        json_t *p50_ms = json_is_number(p50) ? json_real(json_number_value(p50) * 1000) : NULL;
        fprintf(f, "review        %s labels by %.0f reviewers",
                fmt_count(a, sizeof a, jnum(doc, "review.labels")), jnum(doc, "review.reviewers"));
        if (jnum(doc, "review.adjudications") > 0)
            fprintf(f, ", %s adjudications by %.0f adjudicators",
                    fmt_count(a, sizeof a, jnum(doc, "review.adjudications")),
                    jnum(doc, "review.adjudicators"));
        fprintf(f, ", %s items finished (time to label p50 %s); %s of generations labelled\n",
                fmt_count(b, sizeof b, jnum(doc, "review.items_finished")),
                fmt_ms(c, sizeof c, p50_ms),
                fmt_pct(d, sizeof d, jget(doc, "review.label_coverage")));
        json_decref(p50_ms);
    }
    json_t *models = json_object_get(doc, "by_model");
    if (json_array_size(models) > 0) {
        fprintf(f, "\nby model\n  %-28s %8s %6s %9s %9s %9s %9s %6s %10s\n", "MODEL", "GENS", "ERR",
                "P50", "P95", "P99", "TTFT P50", "TOK/S", "COST");
        json_array_foreach(models, i, row)
        {
            fprintf(f, "  %-28.28s %8s %6s", jstr(row, "model"),
                    fmt_count(a, sizeof a, jnum(row, "generations")),
                    fmt_pct(b, sizeof b, json_object_get(row, "error_rate")));
            fprintf(f, " %9s", fmt_ms(a, sizeof a, json_object_get(row, "p50_ms")));
            fprintf(f, " %9s", fmt_ms(a, sizeof a, json_object_get(row, "p95_ms")));
            fprintf(f, " %9s", fmt_ms(a, sizeof a, json_object_get(row, "p99_ms")));
            fprintf(f, " %9s", fmt_ms(a, sizeof a, json_object_get(row, "ttft_p50_ms")));
            snprintf(b, sizeof b, "$%.2f", jnum(row, "cost_usd"));
            fprintf(f, " %6.0f %10s\n", jnum(row, "output_tokens_per_s_p50"), b);
        }
    }
    json_t *errs = json_object_get(doc, "errors_by_type");
    if (json_array_size(errs) > 0) {
        fputs("\nerrors by type\n", f);
        json_array_foreach(errs, i, row)
        {
            fprintf(f, "  %-28.28s %8s\n", jstr(row, "error_type"),
                    fmt_count(a, sizeof a, jnum(row, "errors")));
        }
    }
    json_t *users = json_object_get(doc, "top_users");
    if (json_array_size(users) > 0) {
        fputs("\ntop users by cost\n", f);
        json_array_foreach(users, i, row)
        {
            fprintf(f, "  %-28.28s %8s gens  $%.2f\n", jstr(row, "user_id"),
                    fmt_count(a, sizeof a, jnum(row, "generations")), jnum(row, "cost_usd"));
        }
    }
    json_t *queues = json_object_get(doc, "queues");
    if (json_is_array(queues)) {
        fputs("\nreview queues\n", f);
        if (json_array_size(queues) == 0)
            fputs("  (none)\n", f);
        else
            fprintf(f, "  %-24s %8s %9s %8s %8s %11s %12s\n", "QUEUE", "PENDING", "IN REVIEW",
                    "LABELLED", "DISPUTED", "ADJUDICATED", "OLDEST OPEN");
        json_array_foreach(queues, i, row)
        {
            json_t *age = json_object_get(row, "oldest_open_age_s");
            json_t *age_ms = json_is_number(age) ? json_real(json_number_value(age) * 1000) : NULL;
            fprintf(f, "  %-24.24s %8.0f %9.0f %8.0f %8.0f %11.0f %12s%s\n", jstr(row, "queue"),
                    jnum(row, "pending"), jnum(row, "in_review"), jnum(row, "labelled"),
                    jnum(row, "disputed"), jnum(row, "adjudicated"), fmt_ms(a, sizeof a, age_ms),
                    json_is_true(json_object_get(row, "paused")) ? "  (paused)" : "");
            json_decref(age_ms);
        }
    }
}

static void stats_usage(FILE *f)
{
    fprintf(f, "usage: flywheel stats [--since DURATION | --from TIME [--to TIME]] [options]\n"
               "\n"
               "Traffic, latency percentiles, usage and cost, feedback, review queues, dead\n"
               "letters and ingest lag for a time window, from the dashboard views.\n"
               "\n"
               "options:\n"
               "  --since DURATION     the last DURATION: 90s, 15m, 24h, 7d, 2w (default 24h)\n"
               "  --from TIME          window start, any PostgreSQL timestamptz (2026-01-31,\n"
               "                       '2026-01-31 12:00+01')\n"
               "  --to TIME            window end (default now)\n"
               "  --project P          only project P\n");
}

int fw_cmd_stats(int argc, char **argv)
{
    const char *since = NULL;
    fw_cli cli = {.cmd = "stats", .accepts = FW_CLI_DSN | FW_CLI_JSON, .usage = stats_usage};
    fw_store_stats_window w = {.since_s = 24 * 3600};
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"project", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        switch (c) {
        case 's':
            since = optarg;
            break;
        case 'f':
            w.from = optarg;
            break;
        case 't':
            w.to = optarg;
            break;
        case 'p':
            w.project = optarg;
            break;
        default:
            stats_usage(stderr);
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    if (optind < argc) {
        fw_cli_errorf(&cli, "unexpected argument \"%s\"", argv[optind]);
        return 2;
    }
    if (since && (w.from || w.to)) {
        fw_cli_errorf(&cli, "--since cannot be combined with --from or --to");
        return 2;
    }
    if (w.to && !w.from) {
        fw_cli_errorf(&cli, "--to needs --from");
        return 2;
    }
    if (since && fw_store_stats_parse_since(since, &w.since_s) != 0) {
        fw_cli_errorf(&cli,
                      "invalid duration \"%s\"\n"
                      "hint: Use a positive number with a unit: 90s, 15m, 24h, 7d, 2w.",
                      since);
        return 2;
    }
    if (w.from)
        w.since_s = 0;

    PGconn *conn = fw_cli_connect("stats", cli.dsn);
    if (!conn)
        return 1;
    fw_store_error err;
    json_t *doc = fw_store_stats(conn, &w, &err);
    PQfinish(conn);
    if (!doc) {
        fw_cli_store_error("stats", &err);
        return fw_cli_store_status(&err);
    }
    int rc = 0;
    if (cli.json) {
        if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0)
            rc = 1;
        else
            fputc('\n', stdout);
    } else {
        render_text(doc, stdout);
    }
    json_decref(doc);
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = 1;
    if (rc != 0)
        fw_cli_errorf(&cli, "could not write output: %s", strerror(errno));
    return rc;
}
