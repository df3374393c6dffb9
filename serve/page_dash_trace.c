/*
 * Dashboards: the read-only trace view (/dash/trace/<event id>). One
 * generation's conversation: every generation of the same conversation id
 * (in the same project), else of the same trace id, else the generation
 * alone, with its timing, tokens and cost; the messages, tool calls with
 * their arguments and results; the feedback on them; their review items and
 * labels. Nothing here changes anything.
 *
 * Who sees what is PostgreSQL's decision, section by section, like the
 * other dashboards: the timing and metadata come from generation_facts (an
 * admin or a reader); the messages, feedback comments and label values are
 * read from the tables, which only flywheel_admin may read, so for a reader
 * those sections say the account may not read them, and a reviewer or an
 * adjudicator (no generation_facts) gets 403. Model text is escaped by the
 * review page's renderer (sv_render_conversation), never markup.
 *
 * The generation's event id names its partition (id_time, V0038), so the
 * anchor is one partition's lookup; the conversation is looked up within
 * three days of it (run-time partition pruning, then the conversation or
 * trace index of each partition left), which is where a conversation's
 * calls are: the page says so when the search is cut there.
 */
#include "dash.h"
#include "review_ui.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GENS_N 200
#define STR_(x)    #x
#define STR(x)     STR_(x)
#define MAX_GENS   STR(MAX_GENS_N)

static const char anchor_sql[] =
    "SELECT f.conversation_id, f.trace_id, f.project, f.id_time"
    " FROM flywheel.generation_facts f"
    " WHERE f.event_id = $1::uuid AND f.id_time = flywheel.event_id_time($1::uuid)";

/* The conversation's generations: $1 the anchor's id_time, $2 the key
 * (conversation id, trace id or event id), $3 the project (a
 * conversation only). %s is the alias (f or g) and the match, fixed text. */
#define CONV_SCOPE                                                                                 \
    " WHERE %s.id_time >= $1::timestamptz - interval '3 days'"                                     \
    " AND %s.id_time < $1::timestamptz + interval '3 days' AND %s"

static const char gens_sql[] =
    "SELECT f.event_id, to_char(f.event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'),"
    "       f.model, f.provider_name, f.status, f.error_type, round(f.duration_ms::numeric, 1),"
    "       round(f.ttft_ms::numeric, 1), f.input_tokens, f.output_tokens,"
    "       round(f.cost_micro_usd / 1e6, 6), f.release, f.prompt_template, f.prompt_version,"
    "       f.response_id, f.trace_id, f.environment, f.project, f.conversation_id,"
    "       array_to_string(f.finish_reasons, ', '), f.operation_name, f.user_id"
    " FROM flywheel.generation_facts f" CONV_SCOPE
    " ORDER BY f.event_time, f.event_id LIMIT " MAX_GENS;
enum {
    G_ID,
    G_TIME,
    G_MODEL,
    G_PROVIDER,
    G_STATUS,
    G_ERRTYPE,
    G_DUR,
    G_TTFT,
    G_IN,
    G_OUT,
    G_COST,
    G_RELEASE,
    G_TEMPLATE,
    G_VERSION,
    G_RESPONSE,
    G_TRACE,
    G_ENV,
    G_PROJECT,
    G_CONV,
    G_FINISH,
    G_OP,
    G_USER,
};

/* The content, from the table itself (admin only). */
static const char content_sql[] =
    "SELECT g.event_id, jsonb_build_object('status', g.status, 'system_instructions',"
    "   g.system_instructions, 'tool_definitions', g.tool_definitions, 'input_messages',"
    "   g.input_messages, 'output_messages', g.output_messages, 'error_message',"
    "   g.error_message)::text"
    " FROM flywheel.generations g" CONV_SCOPE " ORDER BY g.event_time, g.event_id LIMIT " MAX_GENS;

/* Feedback on them: $1 event ids, $2 response ids, $3 trace ids (text
 * arrays). The table (comments, corrections) for an admin; the view
 * without them for a reader. */
#define FB_MATCH                                                                                   \
    " WHERE fb.target_event_id = ANY($1::uuid[]) OR fb.target_response_id = ANY($2::text[])"       \
    " OR fb.target_trace_id = ANY($3::text[])"                                                     \
    " ORDER BY fb.event_time, fb.event_id LIMIT 200"
#define FB_COLS                                                                                    \
    "SELECT to_char(fb.event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), fb.name,"          \
    " coalesce(fb.bool_value::text, fb.number_value::text, fb.category_value, ''), fb.source,"     \
    " coalesce(fb.author_id, ''), coalesce(fb.target_event_id::text, fb.target_response_id,"       \
    " fb.target_trace_id),"
static const char feedback_full_sql[] = FB_COLS " fb.comment, fb.correction::text"
                                                " FROM flywheel.feedback fb" FB_MATCH;
static const char feedback_facts_sql[] = FB_COLS " NULL::text, NULL::text"
                                                 " FROM flywheel.feedback_events fb" FB_MATCH;

/* Review items of the generations ($1 event ids), and (admin) the current
 * labels with their values. */
static const char items_sql[] =
    "SELECT i.event_id::text, i.queue, i.item_id, i.status, i.n_labels,"
    " to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
    " coalesce(to_char(i.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '')"
    " FROM flywheel.review_item_facts i WHERE i.event_id = ANY($1::uuid[])"
    " ORDER BY i.item_id LIMIT 100";
static const char labels_sql[] =
    "SELECT q.name, c.item_id, c.reviewer, c.version, c.value::text,"
    " to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
    " FROM flywheel.review_current_labels c JOIN flywheel.review_items i ON i.id = c.item_id"
    " JOIN flywheel.review_queues q ON q.id = i.queue_id"
    " WHERE i.event_id = ANY($1::uuid[]) ORDER BY c.item_id, c.reviewer LIMIT 200";

/* Appends s to a PostgreSQL array literal: every element quoted, " and \
 * escaped. */
static void array_elem(sv_buf *a, const char *s)
{
    sv_putc(a, a->len > 1 ? ',' : '{');
    sv_putc(a, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sv_putc(a, '\\');
        sv_putc(a, *s);
    }
    sv_putc(a, '"');
}

static void array_close(sv_buf *a)
{
    if (a->len == 0)
        sv_putc(a, '{');
    sv_putc(a, '}');
}

static void dt_dd(sv_buf *b, const char *dt, const char *dd)
{
    sv_puts(b, "<div><dt>");
    sv_esc(b, dt);
    sv_puts(b, "</dt><dd>");
    sv_esc(b, dd && *dd ? dd : "–");
    sv_puts(b, "</dd></div>");
}

/* The generations' metadata as a table. */
static void gens_table(sv_buf *b, PGresult *g)
{
    static const char *const headers[] = {
        "#",         "time (UTC)", "model",      "provider", "status", "duration (ms)", "TTFT (ms)",
        "tokens in", "tokens out", "cost (USD)", "release",  "prompt", "finish"};
    sv_puts(b, "<div class=\"listbox\"><table class=\"grid nums\" id=\"calls-data\"><caption>"
               "Calls of this conversation</caption><thead><tr>");
    for (size_t k = 0; k < sizeof headers / sizeof headers[0]; k++)
        sv_printf(b, "<th scope=\"col\">%s</th>", headers[k]);
    sv_puts(b, "</tr></thead><tbody>");
    static const int cols[] = {G_TIME, G_MODEL, G_PROVIDER, G_STATUS,  G_DUR, G_TTFT,
                               G_IN,   G_OUT,   G_COST,     G_RELEASE, -1,    G_FINISH};
    for (int i = 0; i < PQntuples(g); i++) {
        sv_printf(b, "<tr><th scope=\"row\"><a href=\"#call-%d\">%d</a></th>", i + 1, i + 1);
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
            sv_puts(b, "<td>");
            if (cols[k] < 0) {
                const char *t = PQgetvalue(g, i, G_TEMPLATE), *v = PQgetvalue(g, i, G_VERSION);
                if (*t || *v) {
                    sv_esc(b, t);
                    sv_puts(b, " v");
                    sv_esc(b, v);
                } else {
                    sv_puts(b, "–");
                }
            } else if (PQgetisnull(g, i, cols[k]) || !*PQgetvalue(g, i, cols[k])) {
                sv_puts(b, "–");
            } else {
                sv_esc(b, PQgetvalue(g, i, cols[k]));
                if (cols[k] == G_STATUS && !PQgetisnull(g, i, G_ERRTYPE)) {
                    sv_puts(b, " (");
                    sv_esc(b, PQgetvalue(g, i, G_ERRTYPE));
                    sv_puts(b, ")");
                }
            }
            sv_puts(b, "</td>");
        }
        sv_puts(b, "</tr>");
    }
    sv_puts(b, "</tbody></table></div>");
}

/* The timing chart: per call, time to first token and the rest of the
 * call, stacked. */
typedef struct {
    char (*labels)[32];
    const char **x;
    double *v;
    sv_chart c;
} timing_chart;

static int timing_from(timing_chart *t, PGresult *g, const char *csv_href)
{
    static const char *const names[] = {"time to first token", "rest of the call"};
    int n = PQntuples(g);
    memset(t, 0, sizeof *t);
    t->labels = calloc(n ? (size_t)n : 1, sizeof *t->labels);
    t->x = calloc(n ? (size_t)n : 1, sizeof *t->x);
    t->v = calloc(2 * (size_t)(n ? n : 1), sizeof *t->v);
    if (!t->labels || !t->x || !t->v)
        return -1;
    for (int i = 0; i < n; i++) {
        /* "3 · 12:04:05" */
        snprintf(t->labels[i], sizeof t->labels[i], "%d · %.8s", i + 1,
                 PQgetvalue(g, i, G_TIME) + 11);
        t->x[i] = t->labels[i];
        double dur = PQgetisnull(g, i, G_DUR) ? NAN : strtod(PQgetvalue(g, i, G_DUR), NULL);
        double ttft = PQgetisnull(g, i, G_TTFT) ? NAN : strtod(PQgetvalue(g, i, G_TTFT), NULL);
        t->v[i] = ttft;
        t->v[(size_t)n + (size_t)i] = isnan(dur) ? NAN : isnan(ttft) ? dur : dur - ttft;
    }
    t->c.kind = SV_CHART_STACKED;
    t->c.id = "timing";
    t->c.title = "Timing of each call";
    t->c.x_title = "call · start (UTC)";
    t->c.unit = "ms";
    t->c.decimals = 1;
    t->c.n = n;
    t->c.x_labels = t->x;
    t->c.nseries = 2;
    t->c.series_names = names;
    t->c.values = t->v;
    t->c.csv_href = csv_href;
    return 0;
}

static void timing_free(timing_chart *t)
{
    free(t->labels);
    free(t->x);
    free(t->v);
}

/* The messages of each call. A call whose input starts with the previous
 * call's input and output (a chat that goes on) shows only what is new. */
static void render_calls(sv_req *r, PGresult *g, PGresult *content)
{
    sv_buf *b = &r->out;
    json_t *prev = NULL;
    for (int i = 0; i < PQntuples(g); i++) {
        sv_printf(b, "<section class=\"call\" id=\"call-%d\" aria-label=\"Call %d\"><h3>Call %d · ",
                  i + 1, i + 1, i + 1);
        sv_esc(b, PQgetvalue(g, i, G_MODEL));
        sv_puts(b, " · ");
        sv_esc(b, PQgetvalue(g, i, G_TIME));
        sv_puts(b, " UTC</h3>");
        json_t *gen = NULL;
        for (int k = 0; content && k < PQntuples(content); k++) {
            if (strcmp(PQgetvalue(content, k, 0), PQgetvalue(g, i, G_ID)) == 0) {
                gen = json_loads(PQgetvalue(content, k, 1), 0, NULL);
                break;
            }
        }
        if (!gen) {
            sv_puts(b, "<p class=\"empty\">The messages of this call could not be read.</p>"
                       "</section>");
            json_decref(prev);
            prev = NULL;
            continue;
        }
        json_t *in = json_object_get(gen, "input_messages");
        size_t skip = 0;
        if (prev && json_is_array(in)) {
            json_t *pin = json_object_get(prev, "input_messages"),
                   *pout = json_object_get(prev, "output_messages");
            size_t np = json_array_size(pin), no = json_array_size(pout);
            int same = np + no > 0 && json_array_size(in) >= np + no;
            for (size_t k = 0; same && k < np + no; k++)
                same = json_equal(json_array_get(in, k),
                                  k < np ? json_array_get(pin, k) : json_array_get(pout, k - np));
            if (same)
                skip = np + no;
        }
        json_t *shown = json_deep_copy(gen);
        if (shown && skip) {
            json_t *tail = json_array();
            for (size_t k = skip; tail && k < json_array_size(in); k++)
                json_array_append(tail, json_array_get(in, k));
            if (tail)
                json_object_set_new(shown, "input_messages", tail);
            json_object_del(shown, "system_instructions");
            json_object_del(shown, "tool_definitions");
            sv_printf(b,
                      "<p class=\"muted\">The first %zu messages of its input are the previous "
                      "call's, shown above.</p>",
                      skip);
        }
        if (!shown) {
            b->oom = 1;
        } else {
            sv_item_ctx c = {.r = r};
            sv_render_conversation(&c, shown, 0, NULL);
            const char *em = sv_jstr(gen, "error_message");
            if (em && *em) {
                sv_puts(b, "<p class=\"msg err\">Error message: ");
                sv_esc(b, em);
                sv_puts(b, "</p>");
            }
        }
        json_decref(shown);
        json_decref(prev);
        prev = gen;
        sv_puts(b, "</section>");
    }
    json_decref(prev);
}

static void feedback_table(sv_buf *b, PGresult *fb, int full)
{
    sv_puts(b,
            "<div class=\"listbox\"><table class=\"grid\" id=\"feedback-data\"><caption>Feedback "
            "on these calls</caption><thead><tr><th scope=\"col\">time (UTC)</th>"
            "<th scope=\"col\">name</th><th scope=\"col\">value</th><th scope=\"col\">source"
            "</th><th scope=\"col\">author</th><th scope=\"col\">target</th>");
    if (full)
        sv_puts(b, "<th scope=\"col\">comment</th><th scope=\"col\">correction</th>");
    sv_puts(b, "</tr></thead><tbody>");
    if (PQntuples(fb) == 0)
        sv_printf(b, "<tr><td colspan=\"%d\" class=\"empty\">No feedback on these calls</td></tr>",
                  full ? 8 : 6);
    for (int i = 0; i < PQntuples(fb); i++) {
        sv_puts(b, "<tr>");
        for (int k = 0; k < (full ? 8 : 6); k++) {
            sv_puts(b, k == 0 ? "<th scope=\"row\">" : "<td>");
            if (k == 7 && !PQgetisnull(fb, i, k)) {
                sv_puts(b, "<details><summary>corrected output</summary><pre class=\"json\">");
                sv_esc(b, PQgetvalue(fb, i, k));
                sv_puts(b, "</pre></details>");
            } else if (k >= 6 && PQgetisnull(fb, i, k)) {
                sv_puts(b, "–");
            } else {
                sv_esc(b, PQgetvalue(fb, i, k));
            }
            sv_puts(b, k == 0 ? "</th>" : "</td>");
        }
        sv_puts(b, "</tr>");
    }
    sv_puts(b, "</tbody></table></div>");
}

static void plain_table(sv_buf *b, const char *id, const char *caption, PGresult *res,
                        const char *const *headers, int ncols, int pre_col)
{
    sv_printf(b, "<div class=\"listbox\"><table class=\"grid\" id=\"%s-data\"><caption>", id);
    sv_esc(b, caption);
    sv_puts(b, "</caption><thead><tr>");
    for (int k = 0; k < ncols; k++) {
        sv_puts(b, "<th scope=\"col\">");
        sv_esc(b, headers[k]);
        sv_puts(b, "</th>");
    }
    sv_puts(b, "</tr></thead><tbody>");
    if (PQntuples(res) == 0)
        sv_printf(b, "<tr><td colspan=\"%d\" class=\"empty\">None</td></tr>", ncols);
    for (int i = 0; i < PQntuples(res); i++) {
        sv_puts(b, "<tr>");
        for (int k = 0; k < ncols; k++) {
            sv_puts(b, k == 0 ? "<th scope=\"row\">" : "<td>");
            if (k == pre_col) {
                sv_puts(b, "<pre class=\"json\">");
                sv_esc(b, PQgetvalue(res, i, k));
                sv_puts(b, "</pre>");
            } else {
                sv_esc(b, PQgetisnull(res, i, k) ? "–" : PQgetvalue(res, i, k));
            }
            sv_puts(b, k == 0 ? "</th>" : "</td>");
        }
        sv_puts(b, "</tr>");
    }
    sv_puts(b, "</tbody></table></div>");
}

/* The conversation's generations and the match that found them. */
typedef struct {
    const char *key, *project;
    char id_time[64];
    char match_f[160], match_g[160];
    const char *scope; /* "conversation", "trace", "generation" */
} conv_key;

int sv_page_dash_trace(sv_req *r)
{
    const char *id = r->cap_str;
    if (!dash_uuid_shape(id))
        return sv_error_page(r, 404, "Not found", "There is no such generation.");
    char csv[16];
    int has_csv = sv_query(r, "csv", csv, sizeof csv);
    if (has_csv != 0 && (has_csv < 0 || strcmp(csv, "timing") != 0))
        return sv_error_page(r, 404, "Not found", "There is no such chart on this page.");

    PGresult *anchor = NULL, *gens = NULL, *content = NULL, *fb = NULL, *items = NULL,
             *labels = NULL;
    sv_buf ids = {0}, resp = {0}, traces = {0}, href = {0};
    timing_chart tc;
    memset(&tc, 0, sizeof tc);
    const char *p1[1] = {id};
    anchor = dash_exec(r, anchor_sql, 1, p1);
    if (!anchor)
        goto done;
    if (PQntuples(anchor) != 1) {
        sv_error_page(r, 404, "Not found", "There is no such generation.");
        goto done;
    }
    conv_key k = {.project = PQgetvalue(anchor, 0, 2)};
    snprintf(k.id_time, sizeof k.id_time, "%s", PQgetvalue(anchor, 0, 3));
    if (!PQgetisnull(anchor, 0, 0)) {
        k.key = PQgetvalue(anchor, 0, 0);
        k.scope = "conversation";
        snprintf(k.match_f, sizeof k.match_f, "f.conversation_id = $2 AND f.project = $3");
        snprintf(k.match_g, sizeof k.match_g, "g.conversation_id = $2 AND g.project = $3");
    } else if (!PQgetisnull(anchor, 0, 1)) {
        k.key = PQgetvalue(anchor, 0, 1);
        k.scope = "trace";
        snprintf(k.match_f, sizeof k.match_f, "f.trace_id = $2");
        snprintf(k.match_g, sizeof k.match_g, "g.trace_id = $2");
    } else {
        k.key = id;
        k.scope = "generation";
        snprintf(k.match_f, sizeof k.match_f, "f.event_id = $2::uuid");
        snprintf(k.match_g, sizeof k.match_g, "g.event_id = $2::uuid");
    }
    const char *p3[3] = {k.id_time, k.key, k.project};
    int np = strcmp(k.scope, "conversation") == 0 ? 3 : 2;
    char sql[2048];
    snprintf(sql, sizeof sql, gens_sql, "f", "f", k.match_f);
    gens = dash_exec(r, sql, np, p3);
    if (!gens)
        goto done;
    sv_puts(&href, "/dash/trace/");
    sv_urlenc(&href, id);
    sv_puts(&href, "?csv=timing");
    if (timing_from(&tc, gens, sv_buf_cstr(&href)) != 0) {
        r->out.oom = 1;
        goto done;
    }
    if (has_csv > 0) {
        dash_csv_answer(r, &tc.c);
        goto done;
    }

    /* the sections an account may or may not read */
    int denied_content = 0, denied_fb = 0, denied_items = 0, denied_labels = 0;
    snprintf(sql, sizeof sql, content_sql, "g", "g", k.match_g);
    content = dash_section_exec(r, sql, np, p3, &denied_content);
    if (!content && !denied_content)
        goto done;
    for (int i = 0; i < PQntuples(gens); i++) {
        array_elem(&ids, PQgetvalue(gens, i, G_ID));
        if (!PQgetisnull(gens, i, G_RESPONSE))
            array_elem(&resp, PQgetvalue(gens, i, G_RESPONSE));
        if (!PQgetisnull(gens, i, G_TRACE))
            array_elem(&traces, PQgetvalue(gens, i, G_TRACE));
    }
    array_close(&ids);
    array_close(&resp);
    array_close(&traces);
    if (ids.oom || resp.oom || traces.oom) {
        r->out.oom = 1;
        goto done;
    }
    const char *pfb[3] = {sv_buf_cstr(&ids), sv_buf_cstr(&resp), sv_buf_cstr(&traces)};
    int full_fb = 1;
    fb = dash_section_exec(r, feedback_full_sql, 3, pfb, &denied_fb);
    if (!fb && denied_fb) {
        full_fb = 0;
        fb = dash_section_exec(r, feedback_facts_sql, 3, pfb, &denied_fb);
    }
    if (!fb && !denied_fb)
        goto done;
    items = dash_section_exec(r, items_sql, 1, pfb, &denied_items);
    if (!items && !denied_items)
        goto done;
    labels = dash_section_exec(r, labels_sql, 1, pfb, &denied_labels);
    if (!labels && !denied_labels)
        goto done;

    /* the page */
    sv_buf *b = &r->out;
    dash_page_begin(r, "Trace", "/dash/trace");
    sv_puts(b, "<main class=\"dash trace\"><h1>Trace of a ");
    sv_esc(b, k.scope);
    sv_puts(b, "</h1><p class=\"window\">Read-only. Times are UTC. ");
    if (strcmp(k.scope, "generation") != 0)
        sv_printf(b, "The calls of this %s within three days of the selected one%s.", k.scope,
                  PQntuples(gens) >= MAX_GENS_N ? " (the first " MAX_GENS " of them)" : "");
    sv_puts(b, "</p>");
    double dur = 0, cost = 0, tin = 0, tout = 0;
    for (int i = 0; i < PQntuples(gens); i++) {
        dur += strtod(PQgetvalue(gens, i, G_DUR), NULL);
        cost += strtod(PQgetvalue(gens, i, G_COST), NULL);
        tin += strtod(PQgetvalue(gens, i, G_IN), NULL);
        tout += strtod(PQgetvalue(gens, i, G_OUT), NULL);
    }
    sv_puts(b, "<dl class=\"tiles\">");
    dt_dd(b, "Conversation", PQgetvalue(anchor, 0, 0));
    dt_dd(b, "Trace id", PQgetvalue(anchor, 0, 1));
    dt_dd(b, "Project", k.project);
    sv_printf(b, "<div><dt>Calls</dt><dd id=\"tile-calls\">%d</dd></div>", PQntuples(gens));
    sv_printf(b, "<div><dt>Duration</dt><dd id=\"tile-duration\">%.1f ms</dd></div>", dur);
    sv_printf(b, "<div><dt>Tokens</dt><dd id=\"tile-tokens\">%.0f in, %.0f out</dd></div>", tin,
              tout);
    sv_printf(b, "<div><dt>Cost</dt><dd id=\"tile-cost\">%.6f USD</dd></div></dl>", cost);
    sv_puts(b, "<h2>Calls</h2>");
    gens_table(b, gens);
    sv_puts(b, "<div class=\"charts\">");
    sv_chart_figure(b, &tc.c);
    sv_puts(b, "</div><h2>Messages</h2>");
    if (content)
        render_calls(r, gens, content);
    else
        dash_denied_note(r, "The messages, tool calls and system prompt");
    sv_puts(b, "<h2>Feedback</h2>");
    if (fb) {
        if (!full_fb)
            sv_puts(b, "<p class=\"muted\">Comments and corrections are not shown: your account "
                       "may not read feedback text.</p>");
        feedback_table(b, fb, full_fb);
    } else {
        dash_denied_note(r, "Feedback");
    }
    sv_puts(b, "<h2>Review</h2>");
    if (items) {
        static const char *const h[] = {"generation", "queue",        "item",          "status",
                                        "labels",     "queued (UTC)", "finished (UTC)"};
        plain_table(b, "items", "Review items of these calls", items, h, 7, -1);
    } else {
        dash_denied_note(r, "Review items");
    }
    if (labels) {
        static const char *const h[] = {"queue",   "item",  "reviewer",
                                        "version", "value", "time (UTC)"};
        plain_table(b, "labels", "Current labels", labels, h, 6, 4);
    } else {
        dash_denied_note(r, "Label values");
    }
    sv_puts(b, "</main>");
    sv_page_end(r);
done:
    timing_free(&tc);
    sv_buf_free(&ids);
    sv_buf_free(&resp);
    sv_buf_free(&traces);
    sv_buf_free(&href);
    PQclear(anchor);
    PQclear(gens);
    PQclear(content);
    PQclear(fb);
    PQclear(items);
    PQclear(labels);
    return 0;
}
