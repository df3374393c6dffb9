/*
 * Dashboards: the collector and ingest (/dash/ingest), and one dead letter
 * (/dash/deadletter/<id>, with its replay for admins).
 *
 * From the store, as the signed-in account (flywheel_reader or
 * flywheel_admin): events per second over the window (generations and
 * feedback by their event time, dead letters by when they were stored),
 * ingest lag per source partition (generation_facts: received_at minus
 * event_time), where each consumer group stands on each partition and how
 * long since its offset moved (ingest_progress), dead letters by reason and
 * the latest ones (dead_letter_facts, without payloads).
 *
 * From the collectors, where reachable: the /metrics of every URL in
 * dash.collector_metrics, fetched together with libcurl's multi interface
 * under one deadline (dash.metrics_timeout_ms), so a collector that hangs
 * costs the page that long and no more; one that fails is listed with the
 * reason. Only the configured URLs are fetched, never one from the request.
 * The consumer lag (messages behind the high watermark) exists only there.
 *
 * A dead letter's page reads the row through the store library
 * (fw_store_dlq_show) and its replay runs fw_store_dlq_replay, the function
 * behind `flywheel dlq replay`, on the account's connection: PostgreSQL
 * lets flywheel_admin read payloads and insert rows and refuses everyone
 * else (403). The payload is shown as a hex dump with its printable ASCII,
 * never interpreted.
 */
#include "dash.h"

#include "flywheel/store.h"
#include "log.h"

#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define I_END    "coalesce(nullif($2, '')::timestamptz, now())"
#define I_ORIGIN "timestamptz '2000-01-01 00:00:00+00'"

/* $1 window, $2 end, $3 bucket. Columns: 0 bucket, 1 generations/s,
 * 2 feedback/s, 3 dead letters/s. */
static const char rate_sql[] =
    "WITH b AS (SELECT generate_series(date_bin($3::interval, " I_END " - $1::interval, " I_ORIGIN
    "), " I_END " - interval '1 microsecond', $3::interval) AS t),"
    " g AS (SELECT date_bin($3::interval, f.event_time, " I_ORIGIN ") AS t, count(*) AS n"
    "  FROM flywheel.generation_facts f WHERE f.event_time >= " I_END " - $1::interval"
    "  AND f.event_time < " I_END " GROUP BY 1),"
    " fb AS (SELECT date_bin($3::interval, f.event_time, " I_ORIGIN ") AS t, count(*) AS n"
    "  FROM flywheel.feedback_events f WHERE f.event_time >= " I_END " - $1::interval"
    "  AND f.event_time < " I_END " GROUP BY 1),"
    " d AS (SELECT date_bin($3::interval, d.received_at, " I_ORIGIN ") AS t, count(*) AS n"
    "  FROM flywheel.dead_letter_facts d WHERE d.received_at >= " I_END " - $1::interval"
    "  AND d.received_at < " I_END " GROUP BY 1)"
    " SELECT to_char(b.t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
    "  round(coalesce(g.n, 0) / extract(epoch FROM $3::interval), 4),"
    "  round(coalesce(fb.n, 0) / extract(epoch FROM $3::interval), 4),"
    "  round(coalesce(d.n, 0) / extract(epoch FROM $3::interval), 4)"
    " FROM b LEFT JOIN g USING (t) LEFT JOIN fb USING (t) LEFT JOIN d USING (t) ORDER BY b.t";

/* $1 window, $2 end. Columns: 0 topic/partition, 1 p50, 2 p95, 3 max (ms),
 * 4 generations. */
static const char lag_sql[] =
    "SELECT CASE WHEN f.source_topic IS NULL THEN '(not from Kafka)'"
    "            ELSE f.source_topic || '/' || f.source_partition END,"
    "  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.ingest_lag_ms)::numeric, 1),"
    "  round(percentile_cont(0.95) WITHIN GROUP (ORDER BY f.ingest_lag_ms)::numeric, 1),"
    "  round(max(f.ingest_lag_ms)::numeric, 1), count(*)"
    " FROM flywheel.generation_facts f WHERE f.event_time >= " I_END " - $1::interval"
    " AND f.event_time < " I_END " GROUP BY f.source_topic, f.source_partition"
    " ORDER BY f.source_topic NULLS LAST, f.source_partition LIMIT 64";

/* Columns: 0 label, 1 group, 2 topic, 3 partition, 4 next offset,
 * 5 updated (UTC), 6 seconds since it moved. */
static const char offsets_sql[] =
    "SELECT p.topic || '/' || p.partition || ' · ' || p.consumer_group, p.consumer_group,"
    "  p.topic, p.partition, p.next_offset,"
    "  to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
    "  round(p.seconds_since_update::numeric, 1)"
    " FROM flywheel.ingest_progress p ORDER BY p.topic, p.partition, p.consumer_group LIMIT 256";

/* $1 window, $2 end. Columns: 0 reason, 1 not replayed, 2 replayed. */
static const char reasons_sql[] =
    "SELECT d.reason, count(*) FILTER (WHERE NOT d.replayed), count(*) FILTER (WHERE d.replayed)"
    " FROM flywheel.dead_letter_facts d WHERE d.received_at >= " I_END " - $1::interval"
    " AND d.received_at < " I_END " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 20";

/* $1 window, $2 end. The latest dead letters of the window. */
static const char letters_sql[] =
    "SELECT d.id, to_char(d.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), d.topic,"
    "  d.partition, d.\"offset\", d.reason, d.payload_bytes,"
    "  CASE WHEN d.replayed THEN 'yes (' || d.replay_count || ')' ELSE 'no' END"
    " FROM flywheel.dead_letter_facts d WHERE d.received_at >= " I_END " - $1::interval"
    " AND d.received_at < " I_END " ORDER BY d.id DESC LIMIT 50";

enum { Q_RATE, Q_LAG, Q_OFFSETS, Q_REASONS, Q_LETTERS, N_Q };

/* ---- the collectors' /metrics ------------------------------------------- */

#define MAX_COLLECTORS 16
#define MAX_BODY       (1u << 20)
#define MAX_PARTS      256

typedef struct {
    char url[512];
    CURL *h;
    sv_buf body;
    char curl_err[CURL_ERROR_SIZE];
    int done, too_big;
    long http_status;
    char error[256]; /* "" when it answered 200 with metrics */
    double pg_up, paused, assigned, consumed;
} collector;

typedef struct {
    char label[160]; /* topic/partition · url number */
    double lag;
} part_lag;

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    collector *c = ctx;
    size_t len = size * n;
    if (c->body.len + len > MAX_BODY) {
        c->too_big = 1;
        return 0; /* aborts the transfer */
    }
    sv_put(&c->body, data, len);
    return c->body.oom ? 0 : len;
}

/* The value of `name` (no labels) in a Prometheus text body; NAN when
 * absent. */
static double metric_value(const char *body, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    }
    return NAN;
}

/* The value of a label in a `{k="v",...}` set, copied into out. */
static int label_of(const char *set, const char *key, char *out, size_t size)
{
    char pat[64];
    snprintf(pat, sizeof pat, "%s=\"", key);
    const char *p = strstr(set, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    size_t n = strcspn(p, "\"\n");
    if (n >= size)
        n = size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* flywheel_collector_consumer_lag{topic="t",partition="p"} v lines. */
static void collect_lags(const collector *c, int idx, part_lag *parts, int *nparts)
{
    static const char name[] = "flywheel_collector_consumer_lag{";
    const char *body = sv_buf_cstr(&c->body);
    for (const char *p = body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, sizeof name - 1) != 0 || *nparts >= MAX_PARTS)
            continue;
        const char *close = strchr(p, '}');
        const char *eol = strchr(p, '\n');
        if (!close || (eol && close > eol))
            continue;
        char set[256], topic[96], part[16];
        size_t sl = (size_t)(close - p);
        snprintf(set, sizeof set, "%.*s", (int)(sl < sizeof set ? sl : sizeof set - 1), p);
        if (label_of(set, "topic", topic, sizeof topic) != 0 ||
            label_of(set, "partition", part, sizeof part) != 0)
            continue;
        part_lag *pl = &parts[(*nparts)++];
        snprintf(pl->label, sizeof pl->label, "%s/%s · #%d", topic, part, idx + 1);
        pl->lag = strtod(close + 1, NULL);
    }
}

/* Fetches every configured URL at once, within the deadline. */
static int fetch_collectors(const sv_config *cfg, collector *cs)
{
    int n = 0;
    for (const char *u = cfg->collector_metrics; *u && n < MAX_COLLECTORS;) {
        size_t len = strcspn(u, ",");
        if (len > 0 && len < sizeof cs[n].url) {
            memset(&cs[n], 0, sizeof cs[n]);
            memcpy(cs[n].url, u, len);
            cs[n].url[len] = '\0';
            cs[n].pg_up = cs[n].paused = cs[n].assigned = cs[n].consumed = NAN;
            n++;
        }
        u += len;
        if (*u == ',')
            u++;
    }
    if (n == 0)
        return 0;
    CURLM *m = curl_multi_init();
    for (int i = 0; i < n; i++) {
        collector *c = &cs[i];
        c->h = m ? curl_easy_init() : NULL;
        if (!c->h) {
            snprintf(c->error, sizeof c->error, "out of memory");
            c->done = 1;
            continue;
        }
        curl_easy_setopt(c->h, CURLOPT_URL, c->url);
        curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, (long)cfg->metrics_timeout_ms);
        curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->metrics_timeout_ms);
        curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->curl_err);
        curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
        curl_multi_add_handle(m, c->h);
    }
    double deadline = sv_wall_now() + (double)cfg->metrics_timeout_ms / 1000.0 + 0.05;
    int running = 1;
    while (m && running) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            collector *c = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            if (!c)
                continue;
            c->done = 1;
            if (msg->data.result != CURLE_OK) {
                snprintf(c->error, sizeof c->error, "%s",
                         c->too_big     ? "the answer is larger than 1 MiB"
                         : *c->curl_err ? c->curl_err
                                        : curl_easy_strerror(msg->data.result));
            } else {
                curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &c->http_status);
                if (c->http_status != 200)
                    snprintf(c->error, sizeof c->error, "HTTP status %ld", c->http_status);
            }
        }
        double left_s = deadline - sv_wall_now();
        if (!running || left_s <= 0)
            break;
        curl_multi_poll(m, NULL, 0, left_s > 0.1 ? 100 : (int)(left_s * 1000) + 1, NULL);
    }
    for (int i = 0; i < n; i++) {
        collector *c = &cs[i];
        if (!c->done)
            snprintf(c->error, sizeof c->error, "no answer within %lld ms",
                     (long long)cfg->metrics_timeout_ms);
        if (!c->error[0]) {
            const char *body = sv_buf_cstr(&c->body);
            c->pg_up = metric_value(body, "flywheel_collector_pg_up");
            c->paused = metric_value(body, "flywheel_collector_paused");
            c->assigned = metric_value(body, "flywheel_collector_assigned_partitions");
            c->consumed = metric_value(body, "flywheel_collector_messages_consumed_total");
            if (isnan(c->pg_up))
                snprintf(c->error, sizeof c->error,
                         "the answer has no flywheel_collector_pg_up: not a Flywheel collector?");
        }
        if (c->h) {
            if (m)
                curl_multi_remove_handle(m, c->h);
            curl_easy_cleanup(c->h);
            c->h = NULL;
        }
    }
    curl_multi_cleanup(m);
    return n;
}

static void collectors_free(collector *cs, int n)
{
    for (int i = 0; i < n; i++)
        sv_buf_free(&cs[i].body);
}

static void num_cell(sv_buf *b, double v)
{
    sv_puts(b, "<td>");
    if (isnan(v))
        sv_puts(b, "–");
    else
        sv_printf(b, "%.0f", v);
    sv_puts(b, "</td>");
}

/* The collectors' table and their consumer lag chart. */
static void render_collectors(sv_req *r, const dash_filter *f, collector *cs, int n)
{
    sv_buf *b = &r->out;
    sv_puts(b, "<h2>Collectors</h2>");
    if (n == 0) {
        sv_puts(b, "<p class=\"empty\">No collector metrics are configured: set "
                   "<code>dash.collector_metrics</code> to the collectors' <code>/metrics</code> "
                   "URLs to see their consumer lag here.</p>");
        return;
    }
    sv_puts(b, "<div class=\"listbox\"><table class=\"grid nums\" id=\"collectors-data\"><caption>"
               "The collectors' /metrics, read now</caption><thead><tr><th scope=\"col\">#</th>"
               "<th scope=\"col\">URL</th><th scope=\"col\">state</th><th scope=\"col\">"
               "PostgreSQL up</th><th scope=\"col\">paused</th><th scope=\"col\">assigned "
               "partitions</th><th scope=\"col\">messages consumed</th></tr></thead><tbody>");
    static part_lag parts_none[1];
    part_lag *parts = calloc(MAX_PARTS, sizeof *parts);
    int nparts = 0;
    for (int i = 0; i < n; i++) {
        collector *c = &cs[i];
        sv_printf(b, "<tr><th scope=\"row\">%d</th><td class=\"url\">", i + 1);
        sv_esc(b, c->url);
        sv_puts(b, "</td><td>");
        if (c->error[0]) {
            sv_puts(b, "<span class=\"badge err\">unreachable</span> ");
            sv_esc(b, c->error);
        } else {
            sv_puts(b, "<span class=\"badge\">ok</span>");
            if (parts)
                collect_lags(c, i, parts, &nparts);
        }
        sv_puts(b, "</td>");
        num_cell(b, c->pg_up);
        num_cell(b, c->paused);
        num_cell(b, c->assigned);
        num_cell(b, c->consumed);
        sv_puts(b, "</tr>");
    }
    sv_puts(b, "</tbody></table></div>");
    if (!parts) {
        b->oom = 1;
        parts = parts_none;
    }
    const char **x = calloc((size_t)(nparts ? nparts : 1), sizeof *x);
    double *v = calloc((size_t)(nparts ? nparts : 1), sizeof *v);
    if (!x || !v) {
        b->oom = 1;
    } else {
        for (int i = 0; i < nparts; i++) {
            x[i] = parts[i].label;
            v[i] = parts[i].lag < 0 ? NAN : parts[i].lag;
        }
        static const char *const names[] = {"consumer lag"};
        sv_chart c = {.kind = SV_CHART_BAR,
                      .id = "consumer-lag",
                      .title = "Consumer lag per partition (collectors' /metrics, now)",
                      .x_title = "topic/partition · collector",
                      .unit = "messages",
                      .decimals = 0,
                      .n = nparts,
                      .x_labels = x,
                      .nseries = 1,
                      .series_names = names,
                      .values = v,
                      .csv_href = NULL};
        (void)f;
        sv_puts(b, "<div class=\"charts\">");
        sv_chart_figure(b, &c);
        sv_puts(b, "</div>");
    }
    free(x);
    free(v);
    if (parts != parts_none)
        free(parts);
}

/* ---- the page ------------------------------------------------------------ */

typedef struct {
    const char *id, *title, *unit, *x_title; /* x_title NULL: the bucket */
    sv_chart_kind kind;
    int decimals, src, cols[3], ncols;
    const char *names[3];
} i_chart;

static const i_chart charts[] = {
    {"rate",
     "Events per second",
     "events/s",
     NULL,
     SV_CHART_LINE,
     4,
     Q_RATE,
     {1, 2, 3},
     3,
     {"generations", "feedback", "dead letters"}},
    {"lag",
     "Ingest lag per partition (event time to stored)",
     "ms",
     "topic/partition",
     SV_CHART_BAR,
     1,
     Q_LAG,
     {1, 2, 3},
     3,
     {"p50", "p95", "max"}},
    {"offsets",
     "Seconds since each partition's offset moved",
     "seconds",
     "topic/partition · consumer group",
     SV_CHART_BAR,
     1,
     Q_OFFSETS,
     {6},
     1,
     {"since the offset moved"}},
    {"reasons",
     "Dead letters by reason",
     "dead letters",
     "reason",
     SV_CHART_STACKED,
     0,
     Q_REASONS,
     {1, 2},
     2,
     {"not replayed", "replayed"}},
};
#define N_CHARTS ((int)(sizeof charts / sizeof charts[0]))

static const char *const offset_headers[] = {"consumer group", "topic",          "partition",
                                             "next offset",    "moved at (UTC)", "seconds since"};
static const int offset_cols[] = {1, 2, 3, 4, 5, 6};
static const char *const letter_headers[] = {"id",     "stored (UTC)", "topic",         "partition",
                                             "offset", "reason",       "payload bytes", "replayed"};
static const int letter_cols[] = {0, 1, 2, 3, 4, 5, 6, 7};

static const struct {
    const char *id, *caption;
    int src, ncols;
    const char *const *headers;
    const int *cols;
    const char *link_prefix;
} lists[] = {
    {"partitions", "Collector offsets per partition (the store, now)", Q_OFFSETS, 6, offset_headers,
     offset_cols, NULL},
    {"deadletters", "The latest dead letters of the window (at most 50)", Q_LETTERS, 8,
     letter_headers, letter_cols, "/dash/deadletter/"},
};
#define N_LISTS ((int)(sizeof lists / sizeof lists[0]))

typedef struct {
    const dash_filter *f;
    sv_buf href;
    char title[128];
} i_ctx;

static const char *csv_link(i_ctx *x, const char *id)
{
    char extra[48];
    snprintf(extra, sizeof extra, "csv=%s", id);
    sv_buf_reset(&x->href);
    sv_puts(&x->href, "/dash/ingest");
    dash_filter_query(&x->href, x->f, extra);
    return sv_buf_cstr(&x->href);
}

static int fill_chart(i_ctx *x, int k, PGresult *res, dash_chart *dc)
{
    const i_chart *q = &charts[k];
    memset(dc, 0, sizeof *dc);
    if (dash_chart_from(dc, res, 0, q->cols, q->ncols) != 0)
        return -1;
    if (q->src == Q_OFFSETS)
        snprintf(x->title, sizeof x->title, "%s", q->title);
    else
        snprintf(x->title, sizeof x->title, "%s, last %s", q->title, x->f->window);
    dc->c.kind = q->kind;
    dc->c.id = q->id;
    dc->c.title = x->title;
    dc->c.x_title = q->x_title ? q->x_title : x->f->bucket_name;
    dc->c.unit = q->unit;
    dc->c.decimals = q->decimals;
    dc->c.series_names = q->names;
    dc->c.csv_href = csv_link(x, q->id);
    return 0;
}

static void list_table(i_ctx *x, int l, dash_table *t)
{
    memset(t, 0, sizeof *t);
    t->id = lists[l].id;
    t->caption = lists[l].caption;
    t->ncols = lists[l].ncols;
    t->headers = lists[l].headers;
    t->cols = lists[l].cols;
    t->link_prefix = lists[l].link_prefix;
    t->csv_href = csv_link(x, lists[l].id);
}

static void render(sv_req *r, i_ctx *x, PGresult **res)
{
    const dash_filter *f = x->f;
    sv_buf *b = &r->out;
    collector cs[MAX_COLLECTORS];
    int ncs = fetch_collectors(r->cfg, cs);
    dash_page_begin(r, "Collector and ingest", "/dash/ingest");
    sv_puts(b, "<main class=\"dash\"><h1>Collector and ingest</h1>");
    dash_filter_form(r, f, "/dash/ingest", 0);
    sv_puts(b, "<p class=\"window\">Last ");
    sv_esc(b, f->window);
    sv_puts(b, " ending ");
    sv_esc(b, f->end[0] ? f->end : "now");
    sv_puts(b, "; times are UTC. Generations and feedback count at their event time, dead "
               "letters when they were stored; offsets and the collectors' metrics are as of "
               "now.</p>");
    double nd = 0;
    for (int i = 0; i < PQntuples(res[Q_REASONS]); i++)
        nd += strtod(PQgetvalue(res[Q_REASONS], i, 1), NULL);
    sv_printf(b,
              "<dl class=\"tiles\"><div><dt>Dead letters not replayed</dt><dd "
              "id=\"tile-deadletters\">%.0f</dd></div><div><dt>Partitions with offsets</dt><dd "
              "id=\"tile-partitions\">%d</dd></div></dl>",
              nd, PQntuples(res[Q_OFFSETS]));
    render_collectors(r, f, cs, ncs);
    collectors_free(cs, ncs);
    static const char *const heads[] = {"Throughput", "Ingest lag", "Offsets", "Dead letters"};
    dash_chart dc;
    for (int k = 0; k < N_CHARTS; k++) {
        sv_printf(b, "<h2>%s</h2><div class=\"charts\">", heads[k]);
        if (fill_chart(x, k, res[charts[k].src], &dc) != 0) {
            b->oom = 1;
            break;
        }
        sv_chart_figure(b, &dc.c);
        dash_chart_free(&dc);
        sv_puts(b, "</div>");
        for (int l = 0; l < N_LISTS; l++) {
            if (lists[l].src == charts[k].src ||
                (charts[k].src == Q_REASONS && lists[l].src == Q_LETTERS)) {
                dash_table t;
                list_table(x, l, &t);
                dash_table_html(b, &t, res[lists[l].src]);
            }
        }
    }
    sv_puts(b, "</main>");
    sv_page_end(r);
}

int sv_page_dash_ingest(sv_req *r)
{
    dash_filter f;
    if (dash_filter_read(r, &f, "24h") != 0)
        return 0;
    char csv[24];
    int csv_chart = -1, csv_list = -1;
    int has_csv = sv_query(r, "csv", csv, sizeof csv);
    if (has_csv != 0) {
        for (int k = 0; has_csv > 0 && k < N_CHARTS; k++)
            if (strcmp(charts[k].id, csv) == 0)
                csv_chart = k;
        for (int l = 0; has_csv > 0 && l < N_LISTS; l++)
            if (strcmp(lists[l].id, csv) == 0)
                csv_list = l;
        if (csv_chart < 0 && csv_list < 0)
            return sv_error_page(r, 404, "Not found", "There is no such chart on this page.");
    }
    static const char *const sqls[N_Q] = {rate_sql, lag_sql, offsets_sql, reasons_sql, letters_sql};
    static const int nparams[N_Q] = {3, 2, 0, 2, 2};
    const char *params[3] = {f.interval, f.end, f.bucket};
    PGresult *res[N_Q] = {0};
    int ok = 1;
    for (int q = 0; q < N_Q && ok; q++) {
        int need = has_csv == 0 || (csv_chart >= 0 && charts[csv_chart].src == q) ||
                   (csv_list >= 0 && lists[csv_list].src == q);
        if (need) {
            res[q] = dash_exec(r, sqls[q], nparams[q], nparams[q] ? params : NULL);
            ok = res[q] != NULL;
        }
    }
    i_ctx x = {.f = &f};
    if (!ok) {
        /* answered by dash_exec */
    } else if (csv_chart >= 0) {
        dash_chart dc;
        if (fill_chart(&x, csv_chart, res[charts[csv_chart].src], &dc) == 0) {
            dash_csv_answer(r, &dc.c);
            dash_chart_free(&dc);
        } else {
            r->out.oom = 1;
        }
    } else if (csv_list >= 0) {
        dash_table t;
        list_table(&x, csv_list, &t);
        sv_buf_reset(&r->out);
        r->ctype = "text/csv; charset=utf-8";
        dash_table_csv(&r->out, &t, res[lists[csv_list].src]);
    } else {
        render(r, &x, res);
    }
    sv_buf_free(&x.href);
    for (int q = 0; q < N_Q; q++)
        PQclear(res[q]);
    return 0;
}

/* ---- one dead letter ------------------------------------------------------- */

/* A hex dump: offset, 16 bytes in hex, the printable ASCII ('.' for the
 * rest). Only hex digits and escaped ASCII reach the page. */
static void hex_dump(sv_buf *b, const char *hex)
{
    size_t n = strlen(hex) / 2;
    sv_puts(b, "<pre class=\"payload\" id=\"payload\">");
    for (size_t row = 0; row < n; row += 16) {
        sv_printf(b, "%08zx  ", row);
        char ascii[17];
        size_t k;
        for (k = 0; k < 16; k++) {
            if (row + k < n) {
                char pair[3] = {hex[2 * (row + k)], hex[2 * (row + k) + 1], 0};
                if (!isxdigit((unsigned char)pair[0]) || !isxdigit((unsigned char)pair[1]))
                    pair[0] = pair[1] = '?';
                sv_printf(b, "%s ", pair);
                unsigned v = (unsigned)strtoul(pair, NULL, 16);
                ascii[k] = v >= 0x20 && v < 0x7f ? (char)v : '.';
            } else {
                sv_puts(b, "   ");
                ascii[k] = ' ';
            }
            if (k == 7)
                sv_putc(b, ' ');
        }
        ascii[16] = '\0';
        sv_puts(b, " |");
        sv_esc(b, ascii);
        sv_puts(b, "|\n");
    }
    sv_puts(b, "</pre>");
}

static const char *jtext(const json_t *o, const char *k, char *buf, size_t size)
{
    const json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return "–";
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    return "?";
}

/* The outcomes a replay redirects with (?outcome=), and what they say. */
static const struct {
    const char *name, *text;
} outcomes[] = {
    {"inserted", "Replayed: the row was inserted."},
    {"present", "Replayed: the row was already stored (same event id)."},
    {"skipped", "Not replayed: it was replayed before."},
    {"invalid", "Not replayed: it still fails validation."},
    {"refused", "Not replayed: PostgreSQL refused the row's data."},
};

static int store_error_page(sv_req *r, const fw_store_error *err)
{
    if (strcmp(err->sqlstate, "42501") == 0)
        return sv_error_page(r, 403, "Not allowed", "Your account is not allowed to do this.");
    if (err->code == FW_STORE_NOT_FOUND)
        return sv_error_page(r, 404, "Not found", "There is no such dead letter.");
    char q[1200];
    fw_log_error("dead letter operation failed", "sqlstate=%s error=%s",
                 err->sqlstate[0] ? err->sqlstate : "none",
                 fw_log_quote(q, sizeof q, err->message));
    return sv_error_page(r, 500, "Internal error", "The request failed; it has been logged.");
}

int sv_page_dash_deadletter(sv_req *r)
{
    long long id = r->cap_num[0];
    char outcome[16];
    int oc = -1;
    if (sv_query(r, "outcome", outcome, sizeof outcome) > 0) {
        for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
            if (strcmp(outcomes[i].name, outcome) == 0)
                oc = (int)i;
    }
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    fw_store_error err;
    json_t *dl = fw_store_dlq_show(d->c, id, &err);
    if (!dl)
        return store_error_page(r, &err);
    char t[64];
    sv_buf *b = &r->out;
    char title[64];
    snprintf(title, sizeof title, "Dead letter %lld", id);
    dash_page_begin(r, title, "/dash/deadletter");
    sv_printf(b, "<main class=\"dash\"><h1>Dead letter %lld</h1>", id);
    if (oc >= 0) {
        sv_puts(b, "<p class=\"msg\" role=\"status\" id=\"outcome\">");
        sv_esc(b, outcomes[oc].text);
        sv_puts(b, "</p>");
    }
    static const struct {
        const char *key, *label;
    } fields[] = {
        {"received_at", "Stored at"},
        {"reason", "Reason"},
        {"detail", "Detail"},
        {"consumer_group", "Consumer group"},
        {"topic", "Topic"},
        {"partition", "Partition"},
        {"offset", "Offset"},
        {"key", "Message key"},
        {"message_time", "Message time"},
        {"event_id", "Event id"},
        {"replayed_at", "Replayed at"},
        {"replay_count", "Times replayed"},
        {"payload_bytes", "Payload bytes"},
    };
    sv_puts(b, "<dl class=\"facts\" id=\"deadletter\">");
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        sv_puts(b, "<div><dt>");
        sv_esc(b, fields[i].label);
        sv_puts(b, "</dt><dd>");
        sv_esc(b, jtext(dl, fields[i].key, t, sizeof t));
        sv_puts(b, "</dd></div>");
    }
    sv_puts(b, "</dl><h2>Payload</h2>");
    const char *hex = json_string_value(json_object_get(dl, "payload_hex"));
    json_int_t bytes = json_integer_value(json_object_get(dl, "payload_bytes"));
    if ((json_int_t)(hex ? strlen(hex) / 2 : 0) < bytes)
        sv_printf(b,
                  "<p class=\"muted\">The first %zu of %lld bytes, as hex and printable "
                  "ASCII.</p>",
                  hex ? strlen(hex) / 2 : 0, (long long)bytes);
    else
        sv_puts(b, "<p class=\"muted\">As hex and printable ASCII.</p>");
    hex_dump(b, hex ? hex : "");
    if (strcmp(r->kind, "admin") == 0) {
        int replayed = !json_is_null(json_object_get(dl, "replayed_at"));
        sv_printf(b,
                  "<h2>Replay</h2><p>Validates the payload again with the collector's decoder "
                  "and, when it passes now, stores the row (as <code>flywheel dlq replay "
                  "%lld</code>%s does).</p><form method=\"post\" "
                  "action=\"/dash/deadletter/%lld/replay\">",
                  id, replayed ? " --again" : "", id);
        sv_csrf_field(r);
        if (replayed)
            sv_puts(b, "<input type=\"hidden\" name=\"again\" value=\"1\">");
        sv_printf(b, "<button type=\"submit\" class=\"primary\">%s</button></form>",
                  replayed ? "Replay again" : "Replay");
    }
    sv_puts(b, "<p><a href=\"/dash/ingest\">Back to Collector and ingest</a></p></main>");
    json_decref(dl);
    sv_page_end(r);
    return 0;
}

typedef struct {
    fw_store_dlq_outcome outcome;
    int seen;
} replay_ctx;

static void on_replayed(void *ctx, const fw_store_dlq_replayed *rp)
{
    replay_ctx *c = ctx;
    c->outcome = rp->outcome;
    c->seen = 1;
}

int sv_page_dash_deadletter_replay(sv_req *r)
{
    long long id = r->cap_num[0];
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    const char *again = sv_form_get(r->form, "again");
    replay_ctx c = {0};
    fw_store_dlq_replay_opts o;
    fw_store_dlq_replay_opts_init(&o);
    o.ids = &id;
    o.nids = 1;
    o.again = again && strcmp(again, "1") == 0;
    o.fn = on_replayed;
    o.ctx = &c;
    fw_store_dlq_counts counts;
    fw_store_error err;
    if (fw_store_dlq_replay(d->c, &o, &counts, &err) != 0 || !c.seen)
        return store_error_page(r, &err);
    static const char *const names[] = {
        [FW_STORE_DLQ_INSERTED] = "inserted", [FW_STORE_DLQ_PRESENT] = "present",
        [FW_STORE_DLQ_VALID] = "inserted",    [FW_STORE_DLQ_SKIPPED] = "skipped",
        [FW_STORE_DLQ_INVALID] = "invalid",   [FW_STORE_DLQ_REFUSED] = "refused",
    };
    const char *name = names[c.outcome];
    char detail[96];
    snprintf(detail, sizeof detail, "{\"dead_letter\": %lld, \"outcome\": \"%s\"}", id, name);
    sv_audit(r, "dlq_replay", 0, detail);
    char loc[96];
    snprintf(loc, sizeof loc, "/dash/deadletter/%lld?outcome=%s", id, name);
    sv_redirect(r, loc);
    return 0;
}
