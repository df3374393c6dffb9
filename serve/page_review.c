/*
 * The reviewer's pages: my queues, claim next, the item page and its
 * actions (submit and go to the next item, save a draft, preview a
 * correction's diff, skip or flag with a reason, release), the queue's
 * guidelines. Every query runs as the reviewer's role (server.c switched
 * to it): the review functions take the reviewer from it, and row-level
 * security shows only the reviewer's own assignments, labels and drafts.
 *
 * The item page is rendered from the JSON of flywheel.web_item(): the
 * conversation on the left (system prompt folded, tool calls with their
 * arguments and results, the output split into sentences for span labels),
 * the rubric form on the right. Blind review: nothing but the conversation
 * and the rubric is shown — no model, prompt version, feedback or other
 * reviewer's answer (the function does not even return the latter two).
 *
 * Form fields: "f:<field>" for the rubric's fields, "s:<field>:<message>:
 * <part>:<start>:<end>" for a span label on one sentence (offsets in code
 * points), "ver" the assignment id the page was rendered for (a stale tab or
 * a second submit is refused with 409), "action", "reason", "csrf". A draft
 * stores these fields as they are and restores them into the form.
 */
#include "app.h"
#include "review_ui.h"

#include "diff.h"
#include "flywheel/store.h"
#include "log.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------- */

static void queue_url(sv_buf *b, const char *queue, const char *rest)
{
    sv_puts(b, "/q/");
    sv_urlenc(b, queue);
    sv_puts(b, rest);
}

static void redirect_item(sv_req *r, const char *queue, long long item)
{
    sv_buf u = {0};
    queue_url(&u, queue, "/item/");
    sv_printf(&u, "%lld", item);
    sv_redirect(r, sv_buf_cstr(&u));
    sv_buf_free(&u);
}

static void redirect_queue(sv_req *r, const char *queue, const char *rest)
{
    sv_buf u = {0};
    queue_url(&u, queue, rest);
    sv_redirect(r, sv_buf_cstr(&u));
    sv_buf_free(&u);
}

/* Runs a query returning one json/jsonb value; *out is NULL for SQL NULL.
 * Returns the result on success (caller clears), or answers the request
 * with the database error and returns NULL. */
PGresult *sv_json_query(sv_req *r, const char *sql, int n, const char *const *p, json_t **out)
{
    *out = NULL;
    sv_db *d = sv_req_db(r);
    if (!d) {
        sv_unavailable(r);
        return NULL;
    }
    PGresult *res = sv_db_exec(d, sql, n, p);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        sv_db_error_page(r, res);
        PQclear(res);
        return NULL;
    }
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        json_error_t je;
        *out = json_loads(PQgetvalue(res, 0, 0), 0, &je);
        if (!*out) {
            fw_log_error("invalid json from the database", "error=%s", je.text);
            sv_error_page(r, 500, "Internal error", "The item could not be read.");
            PQclear(res);
            return NULL;
        }
    }
    return res;
}

const char *sv_jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Normalizes a textarea value (browsers send CR LF) into a malloc'd string. */
static char *unix_newlines(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(n + 1), *p = o;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '\r' && s[i + 1] == '\n'))
            *p++ = s[i];
    *p = '\0';
    return o;
}

/* The text of an output (all text parts of all messages, blank-line
 * separated): what a correction starts from. */
static void output_text(const json_t *messages, sv_buf *b)
{
    size_t i, k;
    json_t *m, *part;
    int first = 1;
    json_array_foreach(messages, i, m)
    {
        json_array_foreach(json_object_get(m, "parts"), k, part)
        {
            const char *t = sv_jstr(part, "type"), *c = sv_jstr(part, "content");
            if (t && strcmp(t, "text") == 0 && c) {
                if (!first)
                    sv_puts(b, "\n\n");
                sv_puts(b, c);
                first = 0;
            }
        }
    }
}

typedef struct {
    size_t bstart, bend; /* bytes */
    size_t cstart, cend; /* code points */
} sentence;

/*
 * The units a span label attaches to: the sentences of a text part by the
 * store's one shared segmentation (fw_store_sentences, rules V2 — the
 * terminal reviewer's and the classifier export's), so a label given here
 * means the same sentence there. Offsets in code points as the SQL checks
 * them, bytes for slicing.
 */
typedef struct {
    sentence *s;
    size_t n, max;
} seg_ctx;

static void seg_add(void *ctx, const fw_store_sentence *fs)
{
    seg_ctx *c = ctx;
    if (c->n < c->max) {
        c->s[c->n].bstart = fs->byte_start;
        c->s[c->n].bend = fs->byte_end;
        c->s[c->n].cstart = fs->start;
        c->s[c->n].cend = fs->end;
    }
    c->n++;
}

/* Fills up to max sentences of text into s; returns how many there are (may
 * exceed max). */
static size_t segment(const char *text, sentence *s, size_t max)
{
    seg_ctx c = {s, 0, max};
    fw_store_sentences(text, strlen(text), FW_STORE_SENTENCES_V2, seg_add, &c);
    return c.n;
}

const char *sv_value_of(const sv_values *v, const char *key)
{
    if (v->form)
        return sv_form_get(v->form, key);
    if (v->draft)
        return sv_jstr(v->draft, key);
    return NULL;
}

/* ---- my queues, claim, done, guidelines ------------------------------------ */

int sv_page_queues(sv_req *r)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    PGresult *res = sv_db_exec(d,
                               "SELECT queue, coalesce(description, ''), paused, overlap, "
                               "submitted, skipped, holding, open_items "
                               "FROM flywheel.web_my_queues()",
                               0, NULL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = sv_db_error_page(r, res);
        PQclear(res);
        return rc;
    }
    sv_page_begin(r, "My queues", "queues");
    sv_puts(&r->out, "<main><h1>My queues</h1>");
    if (PQntuples(res) == 0)
        sv_puts(&r->out, "<p class=\"empty\">There are no review queues yet.</p>");
    else
        sv_puts(&r->out, "<table class=\"grid queues\"><thead><tr><th>Queue</th>"
                         "<th>Description</th><th>I labelled</th><th>I skipped</th>"
                         "<th>Open items</th><th>Reviewers per item</th><th></th></tr></thead>"
                         "<tbody>");
    for (int i = 0; i < PQntuples(res); i++) {
        const char *q = PQgetvalue(res, i, 0);
        int paused = PQgetvalue(res, i, 2)[0] == 't';
        sv_puts(&r->out, "<tr><td class=\"qname\">");
        sv_esc(&r->out, q);
        sv_puts(&r->out, "<br><a href=\"");
        queue_url(&r->out, q, "/guidelines");
        sv_puts(&r->out, "\">guidelines</a></td><td>");
        sv_esc(&r->out, PQgetvalue(res, i, 1));
        for (int c = 4; c <= 5; c++) {
            sv_puts(&r->out, "</td><td class=\"num\">");
            sv_esc(&r->out, PQgetvalue(res, i, c));
        }
        sv_puts(&r->out, "</td><td class=\"num\">");
        sv_esc(&r->out, PQgetvalue(res, i, 7));
        sv_puts(&r->out, "</td><td class=\"num\">");
        sv_esc(&r->out, PQgetvalue(res, i, 3));
        sv_puts(&r->out, "</td><td>");
        if (paused) {
            sv_puts(&r->out, "<span class=\"badge\">paused</span>");
        } else if (!PQgetisnull(res, i, 6)) {
            sv_puts(&r->out, "<a class=\"button\" href=\"");
            queue_url(&r->out, q, "/item/");
            sv_esc(&r->out, PQgetvalue(res, i, 6));
            sv_puts(&r->out, "\">Continue my item</a>");
        } else {
            sv_puts(&r->out, "<form method=\"post\" action=\"");
            queue_url(&r->out, q, "/next");
            sv_puts(&r->out, "\">");
            sv_csrf_field(r);
            sv_puts(&r->out, "<button type=\"submit\" class=\"primary start\">Start "
                             "reviewing</button></form>");
        }
        sv_puts(&r->out, "</td></tr>");
    }
    if (PQntuples(res))
        sv_puts(&r->out, "</tbody></table>");
    sv_puts(&r->out, "</main>");
    PQclear(res);
    sv_page_end(r);
    return 0;
}

/* Claims the next item of the queue and redirects to it (or to the queue's
 * "done" page). Used by POST /q/Q/next and after a submit or skip. */
static int claim_next(sv_req *r, const char *queue)
{
    const char *p[1] = {queue};
    json_t *it;
    PGresult *res = sv_json_query(r, "SELECT flywheel.review_claim($1)::text", 1, p, &it);
    if (!res)
        return 0;
    PQclear(res);
    if (!it) {
        redirect_queue(r, queue, "/done");
        return 0;
    }
    json_int_t id = json_integer_value(json_object_get(it, "item_id"));
    json_decref(it);
    redirect_item(r, queue, (long long)id);
    return 0;
}

int sv_page_next(sv_req *r)
{
    return claim_next(r, r->cap_str);
}

int sv_page_done(sv_req *r)
{
    sv_page_begin(r, "All done", "done");
    sv_puts(&r->out, "<main class=\"narrow\"><h1>Nothing left for you in ");
    sv_esc(&r->out, r->cap_str);
    sv_puts(&r->out, "</h1><p>Every item you may review in this queue is labelled or taken by "
                     "other reviewers. New items arrive as the queue fills.</p><form "
                     "method=\"post\" action=\"");
    queue_url(&r->out, r->cap_str, "/next");
    sv_puts(&r->out, "\">");
    sv_csrf_field(r);
    sv_puts(&r->out, "<button type=\"submit\">Check again</button></form><p><a "
                     "href=\"/queues\">Back to my queues</a></p></main>");
    sv_page_end(r);
    return 0;
}

static void paragraphs(sv_buf *b, const char *text)
{
    /* text, escaped, a <p> per blank-line separated paragraph */
    const char *p = text;
    while (*p) {
        const char *e = strstr(p, "\n\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        sv_puts(b, "<p class=\"text\">");
        sv_esc_n(b, p, n);
        sv_puts(b, "</p>");
        p += n;
        while (*p == '\n')
            p++;
    }
}

int sv_page_guidelines(sv_req *r)
{
    const char *p[1] = {r->cap_str};
    json_t *g;
    PGresult *res = sv_json_query(r, "SELECT flywheel.web_queue_rubric($1)::text", 1, p, &g);
    if (!res)
        return 0;
    PQclear(res);
    if (!g)
        return sv_error_page(r, 404, "Not found", "There is no such queue.");
    const json_t *rubric = json_object_get(g, "rubric");
    sv_page_begin(r, "Guidelines", "guidelines");
    sv_puts(&r->out, "<main class=\"narrow wide\"><h1>Guidelines: ");
    sv_esc(&r->out, r->cap_str);
    sv_puts(&r->out, "</h1>");
    if (sv_jstr(g, "description"))
        paragraphs(&r->out, sv_jstr(g, "description"));
    if (sv_jstr(rubric, "instructions"))
        paragraphs(&r->out, sv_jstr(rubric, "instructions"));
    sv_puts(&r->out, "<h2>What you answer</h2><dl>");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(rubric, "fields"), i, f)
    {
        sv_puts(&r->out, "<dt>");
        sv_esc(&r->out, sv_jstr(f, "label") ? sv_jstr(f, "label") : sv_jstr(f, "name"));
        sv_puts(&r->out, " <span class=\"badge\">");
        sv_esc(&r->out, sv_jstr(f, "type"));
        if (json_is_true(json_object_get(f, "required")))
            sv_puts(&r->out, ", required");
        sv_puts(&r->out, "</span></dt><dd>");
        if (sv_jstr(f, "instructions"))
            paragraphs(&r->out, sv_jstr(f, "instructions"));
        sv_puts(&r->out, "</dd>");
    }
    sv_puts(&r->out, "</dl><p><a href=\"/queues\">Back to my queues</a></p></main>");
    json_decref(g);
    sv_page_end(r);
    return 0;
}

/* ---- the item page ------------------------------------------------------------ */

static void render_json_pre(sv_buf *b, const json_t *v)
{
    if (!v)
        return;
    char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    sv_puts(b, "<pre class=\"json\">");
    sv_esc(b, s ? s : json_string_value(v));
    sv_puts(b, "</pre>");
    free(s);
}

/* The span selects of one sentence (one per span field). */
static void span_selects(sv_item_ctx *c, size_t msg, size_t part, const sentence *s)
{
    size_t i;
    json_t *f;
    json_array_foreach(c->rubric_fields, i, f)
    {
        const char *type = sv_jstr(f, "type"), *name = sv_jstr(f, "name");
        if (!type || strcmp(type, "span") != 0 || !name)
            continue;
        char key[256];
        snprintf(key, sizeof key, "s:%s:%zu:%zu:%zu:%zu", name, msg, part, s->cstart, s->cend);
        const char *cur = sv_value_of(c->vals, key);
        sv_puts(&c->r->out, "<span class=\"spanpick\"><label class=\"inline\">");
        sv_esc(&c->r->out, sv_jstr(f, "label") ? sv_jstr(f, "label") : name);
        sv_puts(&c->r->out, " <select name=\"");
        sv_esc(&c->r->out, key);
        sv_puts(&c->r->out, "\"><option value=\"\">—</option>");
        size_t k;
        json_t *cat;
        json_array_foreach(json_object_get(f, "categories"), k, cat)
        {
            const char *cv = json_string_value(cat);
            sv_puts(&c->r->out, "<option value=\"");
            sv_esc(&c->r->out, cv);
            sv_puts(&c->r->out, "\"");
            if (cur && cv && strcmp(cur, cv) == 0)
                sv_puts(&c->r->out, " selected");
            sv_printf(&c->r->out, ">%zu ", k + 1);
            sv_esc(&c->r->out, cv);
            sv_puts(&c->r->out, "</option>");
        }
        sv_puts(&c->r->out, "</select></label></span>");
    }
}

int sv_has_span_field(const json_t *fields)
{
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *t = sv_jstr(f, "type");
        if (t && strcmp(t, "span") == 0)
            return 1;
    }
    return 0;
}

/* The category reviewer label `value` gives field `name` on one sentence,
 * or NULL. */
static const char *span_category(const json_t *value, const char *name, size_t msg, size_t part,
                                 const sentence *s)
{
    size_t i;
    json_t *sp;
    json_array_foreach(json_object_get(value, name), i, sp)
    {
        if ((size_t)json_integer_value(json_object_get(sp, "message")) == msg &&
            (size_t)json_integer_value(json_object_get(sp, "part")) == part &&
            (size_t)json_integer_value(json_object_get(sp, "start")) == s->cstart &&
            (size_t)json_integer_value(json_object_get(sp, "end")) == s->cend)
            return sv_jstr(sp, "category");
    }
    return NULL;
}

/* Adjudication: each reviewer's span categories on one sentence; returns 1
 * when the reviewers differ on it (a category against another or none). */
static int others_on_sentence(sv_item_ctx *c, sv_buf *b, size_t msg, size_t part, const sentence *s)
{
    int differ = 0;
    size_t i, k;
    json_t *f, *o;
    sv_puts(b, "<span class=\"others\">");
    json_array_foreach(c->rubric_fields, i, f)
    {
        const char *type = sv_jstr(f, "type"), *name = sv_jstr(f, "name");
        if (!type || strcmp(type, "span") != 0 || !name)
            continue;
        const char *first = NULL;
        json_array_foreach(c->others, k, o)
        {
            const char *cat = span_category(json_object_get(o, "value"), name, msg, part, s);
            if (k == 0)
                first = cat;
            else if ((first == NULL) != (cat == NULL) || (first && strcmp(first, cat) != 0))
                differ = 1;
            sv_puts(b, "<span class=\"other\">");
            sv_esc(b, sv_jstr(o, "alias"));
            sv_puts(b, ": ");
            sv_esc(b, cat ? cat : "—");
            sv_puts(b, "</span>");
        }
    }
    sv_puts(b, "</span>");
    return differ;
}

static void render_text_part(sv_item_ctx *c, const char *text, int output, size_t msg, size_t part)
{
    sv_buf *b = &c->r->out;
    if (!output || !sv_has_span_field(c->rubric_fields)) {
        sv_puts(b, "<div class=\"text\">");
        sv_esc(b, text);
        sv_puts(b, "</div>");
        return;
    }
    size_t n = segment(text, NULL, 0);
    sentence *s = n ? calloc(n, sizeof *s) : NULL;
    if (n && !s) {
        /* out of memory: the text without span pickers (nothing is lost but
         * the pickers; a submit without them is refused if they are required) */
        sv_puts(b, "<div class=\"text\">");
        sv_esc(b, text);
        sv_puts(b, "</div>");
        return;
    }
    segment(text, s, n);
    sv_puts(b, "<ol class=\"sents\">");
    for (size_t i = 0; i < n; i++) {
        c->sentence_no++;
        sv_buf others = {0};
        int differ = c->others ? others_on_sentence(c, &others, msg, part, &s[i]) : 0;
        sv_printf(b, "<li data-sent=\"%d\" id=\"s%d\" value=\"%d\"%s>", c->sentence_no,
                  c->sentence_no, c->sentence_no, differ ? " class=\"dispute\"" : "");
        if (differ)
            sv_puts(b, "<span class=\"badge err\">reviewers differ</span> ");
        sv_puts(b, "<span class=\"stext\">");
        sv_esc_n(b, text + s[i].bstart, s[i].bend - s[i].bstart);
        sv_puts(b, "</span><span class=\"spantag\"></span>");
        if (c->others)
            sv_put(b, others.data, others.len);
        sv_buf_free(&others);
        span_selects(c, msg, part, &s[i]);
        sv_puts(b, "</li>");
    }
    sv_puts(b, "</ol>");
    free(s);
}

static void render_messages(sv_item_ctx *c, const json_t *messages, int output)
{
    sv_buf *b = &c->r->out;
    size_t i, k;
    json_t *m, *part;
    json_array_foreach(messages, i, m)
    {
        const char *role = sv_jstr(m, "role");
        role = role ? role : "message";
        sv_puts(b, "<div class=\"msgblock ");
        sv_esc(b, strcmp(role, "user") == 0 || strcmp(role, "assistant") == 0 ||
                          strcmp(role, "tool") == 0
                      ? role
                      : "other");
        if (output)
            sv_puts(b, " output");
        sv_puts(b, "\"><div class=\"role\">");
        sv_esc(b, output ? "output · " : "");
        sv_esc(b, role);
        sv_puts(b, "</div>");
        json_array_foreach(json_object_get(m, "parts"), k, part)
        {
            const char *t = sv_jstr(part, "type");
            t = t ? t : "";
            if (strcmp(t, "text") == 0) {
                render_text_part(c, sv_jstr(part, "content") ? sv_jstr(part, "content") : "",
                                 output, i, k);
            } else if (strcmp(t, "tool_call") == 0) {
                sv_puts(b, "<details class=\"tool\"><summary>tool call <code>");
                sv_esc(b, sv_jstr(part, "name"));
                sv_puts(b, "</code></summary>");
                render_json_pre(b, json_object_get(part, "arguments"));
                sv_puts(b, "</details>");
            } else if (strcmp(t, "tool_call_response") == 0) {
                sv_puts(b, "<details class=\"tool\" open><summary>tool result");
                if (sv_jstr(part, "id")) {
                    sv_puts(b, " <code>");
                    sv_esc(b, sv_jstr(part, "id"));
                    sv_puts(b, "</code>");
                }
                sv_puts(b, "</summary>");
                render_json_pre(b, json_object_get(part, "response"));
                sv_puts(b, "</details>");
            } else if (strcmp(t, "reasoning") == 0) {
                sv_puts(b, "<details><summary>reasoning</summary><div class=\"text\">");
                sv_esc(b, sv_jstr(part, "content"));
                sv_puts(b, "</div></details>");
            } else {
                sv_puts(b, "<details><summary>");
                sv_esc(b, t);
                sv_puts(b, "</summary>");
                render_json_pre(b, part);
                sv_puts(b, "</details>");
            }
        }
        sv_puts(b, "</div>");
    }
}

void sv_render_conversation(sv_item_ctx *c, const json_t *gen, int flip, const json_t *gen_b)
{
    sv_buf *b = &c->r->out;
    sv_puts(b, "<section class=\"conv\" aria-label=\"Conversation\">");
    const char *sys = sv_jstr(gen, "system_instructions");
    if (sys && *sys) {
        sv_puts(b, "<details class=\"msgblock system\"><summary>system prompt</summary>"
                   "<div class=\"text\">");
        sv_esc(b, sys);
        sv_puts(b, "</div></details>");
    }
    const json_t *tools = json_object_get(gen, "tool_definitions");
    if (tools && !json_is_null(tools)) {
        sv_puts(b, "<details class=\"msgblock system\"><summary>tool definitions</summary>");
        render_json_pre(b, tools);
        sv_puts(b, "</details>");
    }
    render_messages(c, json_object_get(gen, "input_messages"), 0);
    if (gen_b) {
        const json_t *left = flip ? gen_b : gen, *right = flip ? gen : gen_b;
        sv_puts(b, "<div class=\"pair\"><div><h3>Response 1</h3>");
        render_messages(c, json_object_get(left, "output_messages"), 0);
        sv_puts(b, "</div><div><h3>Response 2</h3>");
        render_messages(c, json_object_get(right, "output_messages"), 0);
        sv_puts(b, "</div></div>");
    } else {
        const char *status = sv_jstr(gen, "status");
        if (status && strcmp(status, "error") == 0)
            sv_puts(b, "<p><span class=\"badge err\">the call ended in an error</span></p>");
        render_messages(c, json_object_get(gen, "output_messages"), 1);
    }
    sv_puts(b, "</section>");
}

static void field_head(sv_item_ctx *c, const json_t *f, const char *name, const char *type)
{
    sv_buf *b = &c->r->out;
    int bad = c->error_col && strcmp(c->error_col, name) == 0;
    sv_puts(b, "<fieldset tabindex=\"-1\" data-field=\"");
    sv_esc(b, name);
    sv_puts(b, "\" data-type=\"");
    sv_esc(b, type);
    sv_puts(b, bad ? "\" class=\"invalid\"><legend>" : "\"><legend>");
    sv_esc(b, sv_jstr(f, "label") ? sv_jstr(f, "label") : name);
    if (json_is_true(json_object_get(f, "required")))
        sv_puts(b, " <span class=\"req\" title=\"required\">*</span>");
    sv_puts(b, "</legend>");
    if (sv_jstr(f, "instructions")) {
        sv_puts(b, "<p class=\"hint\">");
        sv_esc(b, sv_jstr(f, "instructions"));
        sv_puts(b, "</p>");
    }
}

static void radio(sv_item_ctx *c, const char *key, const char *value, const char *label, int n,
                  const char *side, const char *cur)
{
    sv_buf *b = &c->r->out;
    sv_puts(b, "<label class=\"opt\"><input type=\"radio\" name=\"");
    sv_esc(b, key);
    sv_puts(b, "\" value=\"");
    sv_esc(b, value);
    sv_puts(b, "\"");
    if (side) {
        sv_puts(b, " data-side=\"");
        sv_esc(b, side);
        sv_puts(b, "\"");
    }
    if (cur && strcmp(cur, value) == 0)
        sv_puts(b, " checked");
    if (side)
        sv_printf(b, "><kbd>%s</kbd> ", side[0] == 'A' ? "a" : side[0] == 'B' ? "b" : "e");
    else
        sv_printf(b, "><kbd>%d</kbd> ", n);
    sv_esc(b, label);
    sv_puts(b, "</label>");
}

void sv_render_field(sv_item_ctx *c, const json_t *f, const json_t *gen, int flip)
{
    sv_buf *b = &c->r->out;
    const char *name = sv_jstr(f, "name"), *type = sv_jstr(f, "type");
    if (!name || !type || strcmp(type, "span") == 0)
        return;
    char key[200];
    snprintf(key, sizeof key, "f:%s", name);
    const char *cur = sv_value_of(c->vals, key);
    field_head(c, f, name, type);
    if (strcmp(type, "boolean") == 0) {
        radio(c, key, "true", "Yes", 1, NULL, cur);
        radio(c, key, "false", "No", 2, NULL, cur);
    } else if (strcmp(type, "category") == 0) {
        const json_t *vals = json_object_get(f, "values");
        size_t i;
        json_t *v;
        if (json_array_size(vals) <= 9) {
            json_array_foreach(vals, i, v)
                radio(c, key, json_string_value(v), json_string_value(v), (int)i + 1, NULL, cur);
        } else {
            sv_puts(b, "<select name=\"");
            sv_esc(b, key);
            sv_puts(b, "\"><option value=\"\">—</option>");
            json_array_foreach(vals, i, v)
            {
                sv_puts(b, "<option");
                if (cur && strcmp(cur, json_string_value(v)) == 0)
                    sv_puts(b, " selected");
                sv_puts(b, ">");
                sv_esc(b, json_string_value(v));
                sv_puts(b, "</option>");
            }
            sv_puts(b, "</select>");
        }
    } else if (strcmp(type, "number") == 0) {
        const json_t *mn = json_object_get(f, "min"), *mx = json_object_get(f, "max"),
                     *st = json_object_get(f, "step");
        double lo = json_number_value(mn), hi = json_number_value(mx),
               step = st ? json_number_value(st) : 1;
        if (mn && mx && step > 0 && (hi - lo) / step < 9 && lo == (long long)lo &&
            step == (long long)step) {
            int n = 1;
            for (double x = lo; x <= hi + 1e-9; x += step, n++) {
                char v[32];
                snprintf(v, sizeof v, "%g", x);
                radio(c, key, v, v, n, NULL, cur);
            }
        } else {
            sv_puts(b, "<input type=\"number\" name=\"");
            sv_esc(b, key);
            sv_puts(b, "\" step=\"any\"");
            if (mn)
                sv_printf(b, " min=\"%g\"", lo);
            if (mx)
                sv_printf(b, " max=\"%g\"", hi);
            if (cur) {
                sv_puts(b, " value=\"");
                sv_esc(b, cur);
                sv_puts(b, "\"");
            }
            sv_puts(b, ">");
        }
    } else if (strcmp(type, "pairwise") == 0) {
        radio(c, key, flip ? "B" : "A", "Response 1 is better", 1, "A", cur);
        radio(c, key, flip ? "A" : "B", "Response 2 is better", 2, "B", cur);
        radio(c, key, "tie", "Equally good", 3, "tie", cur);
    } else if (strcmp(type, "text") == 0) {
        sv_puts(b, "<textarea name=\"");
        sv_esc(b, key);
        sv_puts(b, "\" aria-label=\"");
        sv_esc(b, name);
        sv_puts(b, "\"");
        const json_t *ml = json_object_get(f, "max_length");
        if (json_is_integer(ml))
            sv_printf(b, " maxlength=\"%lld\"", (long long)json_integer_value(ml));
        sv_puts(b, ">");
        sv_esc(b, cur);
        sv_puts(b, "</textarea>");
    } else if (strcmp(type, "correction") == 0) {
        sv_buf orig = {0};
        output_text(json_object_get(gen, "output_messages"), &orig);
        const char *text = cur ? cur : sv_buf_cstr(&orig);
        sv_puts(b, "<textarea class=\"correction\" rows=\"8\" name=\"");
        sv_esc(b, key);
        sv_puts(b, "\" aria-label=\"");
        sv_esc(b, name);
        sv_puts(b, "\">");
        sv_esc(b, text);
        sv_puts(b, "</textarea><div class=\"actions\"><button type=\"submit\" name=\"action\" "
                   "value=\"preview\" class=\"preview\">Show the changes</button></div>");
        if (c->diff_field && strcmp(c->diff_field, name) == 0) {
            char *now = unix_newlines(text);
            sv_puts(b, "<div class=\"diff\" aria-label=\"Changes\">");
            long n = now ? sv_word_diff(b, sv_buf_cstr(&orig), now) : -1;
            sv_puts(b, "</div>");
            if (n == 0)
                sv_puts(b, "<p class=\"hint\">No change: the original output is kept.</p>");
            free(now);
        }
        sv_buf_free(&orig);
    }
    if (c->error_col && strcmp(c->error_col, name) == 0 && c->error) {
        sv_puts(b, "<p class=\"msg err\">");
        sv_esc(b, c->error);
        sv_puts(b, "</p>");
    }
    sv_puts(b, "</fieldset>");
}

/* Which side each reviewer sees first, fixed per reviewer and item. */
int sv_pair_flip(const char *account, long long item)
{
    uint32_t h = 2166136261u;
    for (const char *p = account; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (int i = 0; i < 8; i++)
        h = (h ^ (unsigned char)(item >> (8 * i))) * 16777619u;
    return (int)(h >> 7 & 1);
}

static int render_item(sv_req *r, const char *queue, long long item_id, const json_t *item,
                       const sv_values *vals, unsigned status, const char *error,
                       const char *error_col, const char *diff_field)
{
    const json_t *rubric = json_object_get(json_object_get(item, "rubric"), "definition");
    const json_t *gen = json_object_get(item, "generation");
    const json_t *gen_b = json_object_get(item, "generation_b");
    if (json_is_null(gen_b))
        gen_b = NULL;
    int flip = gen_b ? sv_pair_flip(r->account, item_id) : 0;
    sv_item_ctx c = {r, item, json_object_get(rubric, "fields"), vals, error, error_col, diff_field,
                     0, NULL};
    r->status = status;
    char title[64];
    snprintf(title, sizeof title, "Item %lld", item_id);
    sv_page_begin(r, title, "item");
    sv_buf *b = &r->out;
    sv_puts(b, "<main><div class=\"topline\"><span class=\"queue\">");
    sv_esc(b, queue);
    sv_printf(b, "</span><span>item %lld</span><span class=\"lease\">", item_id);
    if (json_is_true(json_object_get(item, "lease_expired")))
        sv_puts(b, "<span class=\"badge err\">your reservation ran out: submit soon, someone "
                   "else may take this item</span>");
    else {
        sv_puts(b, "reserved for you until <time>");
        const char *lu = sv_jstr(item, "lease_until");
        sv_esc_n(b, lu ? lu : "", lu && strlen(lu) >= 16 ? 16 : 0);
        sv_puts(b, "</time> UTC");
    }
    sv_puts(b, "</span><a id=\"guidelines-link\" href=\"");
    queue_url(b, queue, "/guidelines");
    sv_puts(b, "\">Guidelines <kbd>g</kbd></a><span id=\"dirty\" class=\"hint\">");
    if (!vals->form && vals->draft)
        sv_puts(b, "draft restored");
    sv_puts(b, "</span></div>");
    if (error && !error_col) {
        sv_puts(b, "<p class=\"msg err\" role=\"alert\">");
        sv_esc(b, error);
        sv_puts(b, "</p>");
    }
    sv_puts(b, "<form method=\"post\" id=\"review-form\" action=\"");
    queue_url(b, queue, "/item/");
    sv_printf(b, "%lld\">", item_id);
    /* Enter in a one-line input submits with the form's first button: make
     * that a draft save, never a submit of a half-filled form. */
    sv_puts(b, "<button type=\"submit\" name=\"action\" value=\"draft\" class=\"vh\" "
               "tabindex=\"-1\" aria-hidden=\"true\">Save draft</button>");
    sv_csrf_field(r);
    sv_printf(b, "<input type=\"hidden\" name=\"ver\" value=\"%lld\">",
              (long long)json_integer_value(json_object_get(item, "assignment_id")));
    sv_puts(b, "<div class=\"review\">");
    sv_render_conversation(&c, gen, flip, gen_b);
    sv_puts(b, "<aside class=\"rubric\" aria-label=\"Your answer\">");
    if (error && error_col) {
        sv_puts(b, "<p class=\"msg err\" role=\"alert\">");
        sv_esc(b, error);
        sv_puts(b, "</p>");
    }
    if (sv_jstr(rubric, "instructions")) {
        sv_puts(b, "<p class=\"hint\">");
        sv_esc(b, sv_jstr(rubric, "instructions"));
        sv_puts(b, "</p>");
    }
    size_t i;
    json_t *f;
    json_array_foreach(c.rubric_fields, i, f) sv_render_field(&c, f, gen, flip);
    if (sv_has_span_field(c.rubric_fields))
        sv_puts(b, "<p class=\"hint\">Label sentences of the output on the left: <kbd>j</kbd>/"
                   "<kbd>k</kbd> to move, a digit to pick a category, <kbd>0</kbd> to clear.</p>");
    sv_puts(b, "<div class=\"actions\"><button type=\"submit\" name=\"action\" value=\"submit\" "
               "class=\"primary\" id=\"submit\">Submit and next <kbd>Ctrl</kbd>+<kbd>Enter</kbd>"
               "</button><button type=\"submit\" name=\"action\" value=\"draft\">Save draft"
               "</button><button type=\"submit\" name=\"action\" value=\"release\">Give back"
               "</button></div><label for=\"reason\">Skip or flag: why?</label><input "
               "type=\"text\" id=\"reason\" name=\"reason\" maxlength=\"500\"");
    const char *reason = vals->form ? sv_form_get(vals->form, "reason") : NULL;
    if (reason) {
        sv_puts(b, " value=\"");
        sv_esc(b, reason);
        sv_puts(b, "\"");
    }
    sv_puts(b, "><div class=\"actions\"><button type=\"submit\" name=\"action\" value=\"skip\">"
               "Skip</button><button type=\"submit\" name=\"action\" value=\"flag\">Flag a "
               "problem</button></div><p class=\"legend-keys\"><kbd>1</kbd>–<kbd>9</kbd> pick · "
               "<kbd>↑</kbd><kbd>↓</kbd> fields · <kbd>j</kbd><kbd>k</kbd> sentences · "
               "<kbd>Ctrl</kbd>+<kbd>S</kbd> draft · <kbd>?</kbd> all keys</p></aside></div>"
               "</form></main>");
    sv_page_end(r);
    return 0;
}

/* Loads the caller's active claim on the item of the URL. Returns the JSON,
 * or NULL after answering 404 (or an error page). */
static json_t *load_item(sv_req *r)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", r->cap_num[0]);
    const char *p[2] = {r->cap_str, id};
    json_t *it;
    PGresult *res = sv_json_query(r, "SELECT flywheel.web_item($1, $2)::text", 2, p, &it);
    if (!res)
        return NULL;
    PQclear(res);
    if (!it)
        sv_error_page(r, 404, "Not found",
                      "You hold no reservation on this item. It may have been submitted, "
                      "given back, or reserved by someone else.");
    return it;
}

int sv_page_item_get(sv_req *r)
{
    json_t *it = load_item(r);
    if (!it)
        return 0;
    sv_values v = {NULL, json_object_get(it, "draft")};
    if (json_is_null(v.draft))
        v.draft = NULL;
    render_item(r, r->cap_str, r->cap_num[0], it, &v, 200, NULL, NULL, NULL);
    json_decref(it);
    return 0;
}

/* Builds the label from the form. Returns it, or NULL with a message (the
 * field in *col) for what the database would refuse anyway but cannot be
 * sent as JSON (a number that is not one). */
json_t *sv_build_label(sv_req *r, const json_t *item, const char **err, const char **col)
{
    const json_t *fields =
        json_object_get(json_object_get(json_object_get(item, "rubric"), "definition"), "fields");
    const json_t *gen = json_object_get(item, "generation");
    json_t *label = json_object();
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *name = sv_jstr(f, "name"), *type = sv_jstr(f, "type");
        if (!name || !type)
            continue;
        char key[200];
        snprintf(key, sizeof key, "f:%s", name);
        const char *v = sv_form_get(r->form, key);
        if (strcmp(type, "span") == 0) {
            json_t *spans = json_array();
            char pre[200];
            int pl = snprintf(pre, sizeof pre, "s:%s:", name);
            for (size_t k = 0; k < sv_form_count(r->form); k++) {
                const char *fk = sv_form_key(r->form, k), *fv = sv_form_value(r->form, k, NULL);
                unsigned long m, p, s, e;
                if (strncmp(fk, pre, (size_t)pl) != 0 || !*fv)
                    continue;
                if (sscanf(fk + pl, "%lu:%lu:%lu:%lu", &m, &p, &s, &e) != 4)
                    continue;
                json_array_append_new(spans,
                                      json_pack("{s:I,s:I,s:I,s:I,s:s}", "message", (json_int_t)m,
                                                "part", (json_int_t)p, "start", (json_int_t)s,
                                                "end", (json_int_t)e, "category", fv));
            }
            if (json_array_size(spans))
                json_object_set_new(label, name, spans);
            else
                json_decref(spans);
            continue;
        }
        if (!v || !*v)
            continue;
        if (strcmp(type, "boolean") == 0) {
            if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
                json_object_set_new(label, name, json_boolean(strcmp(v, "true") == 0));
            else
                json_object_set_new(label, name, json_string(v));
        } else if (strcmp(type, "number") == 0) {
            char *end;
            double x = strtod(v, &end);
            if (*end || end == v) {
                *err = "Enter a number.";
                *col = name;
                json_decref(label);
                return NULL;
            }
            json_object_set_new(label, name,
                                x == (double)(json_int_t)x ? json_integer((json_int_t)x)
                                                           : json_real(x));
        } else if (strcmp(type, "correction") == 0) {
            char *now = unix_newlines(v);
            sv_buf orig = {0};
            output_text(json_object_get(gen, "output_messages"), &orig);
            if (now && strcmp(now, sv_buf_cstr(&orig)) != 0 && *now)
                json_object_set_new(label, name,
                                    json_pack("[{s:s,s:[{s:s,s:s}]}]", "role", "assistant", "parts",
                                              "type", "text", "content", now));
            sv_buf_free(&orig);
            free(now);
        } else if (strcmp(type, "text") == 0) {
            char *now = unix_newlines(v);
            if (now)
                json_object_set_new(label, name, json_string(now));
            free(now);
        } else {
            json_object_set_new(label, name, json_string(v));
        }
    }
    return label;
}

json_t *sv_label_to_values(const json_t *fields, const json_t *label)
{
    json_t *o = json_object();
    size_t i, k;
    json_t *f, *sp;
    json_array_foreach(fields, i, f)
    {
        const char *name = sv_jstr(f, "name"), *type = sv_jstr(f, "type");
        const json_t *v = name ? json_object_get(label, name) : NULL;
        if (!type || !v || json_is_null(v))
            continue;
        char key[256];
        if (strcmp(type, "span") == 0) {
            json_array_foreach(v, k, sp)
            {
                snprintf(key, sizeof key, "s:%s:%lld:%lld:%lld:%lld", name,
                         (long long)json_integer_value(json_object_get(sp, "message")),
                         (long long)json_integer_value(json_object_get(sp, "part")),
                         (long long)json_integer_value(json_object_get(sp, "start")),
                         (long long)json_integer_value(json_object_get(sp, "end")));
                if (sv_jstr(sp, "category"))
                    json_object_set_new(o, key, json_string(sv_jstr(sp, "category")));
            }
            continue;
        }
        snprintf(key, sizeof key, "f:%s", name);
        if (strcmp(type, "correction") == 0) {
            sv_buf t = {0};
            output_text(v, &t);
            json_object_set_new(o, key, json_string(sv_buf_cstr(&t)));
            sv_buf_free(&t);
        } else if (json_is_string(v)) {
            json_object_set_new(o, key, json_string(json_string_value(v)));
        } else if (json_is_boolean(v)) {
            json_object_set_new(o, key, json_string(json_is_true(v) ? "true" : "false"));
        } else if (json_is_number(v)) {
            char num[64];
            if (json_is_integer(v))
                snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            else
                snprintf(num, sizeof num, "%.17g", json_real_value(v));
            json_object_set_new(o, key, json_string(num));
        }
    }
    return o;
}

/* The posted form fields worth keeping as a draft, as a JSON object. */
static char *draft_json(sv_req *r)
{
    json_t *o = json_object();
    for (size_t k = 0; k < sv_form_count(r->form); k++) {
        const char *fk = sv_form_key(r->form, k);
        if ((fk[0] == 'f' || fk[0] == 's') && fk[1] == ':' && sv_form_value(r->form, k, NULL)[0])
            json_object_set_new(o, fk, json_string(sv_form_value(r->form, k, NULL)));
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* After a refused action: the assignment the form was rendered for is
 * still the caller's (an action that ran before, or a stale tab) → 409;
 * never was → 404. */
static int gone(sv_req *r, const char *ver)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    char id[32];
    snprintf(id, sizeof id, "%lld", r->cap_num[0]);
    const char *p[2] = {ver ? ver : "0", id};
    PGresult *res = sv_db_exec(d,
                               "SELECT state FROM flywheel.review_assignments "
                               "WHERE id = $1::bigint AND item_id = $2::bigint "
                               "AND reviewer = current_user",
                               2, p);
    int mine = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    PQclear(res);
    if (mine)
        return sv_error_page(r, 409, "Already done",
                             "This item was already submitted, skipped or given back from this "
                             "page (or another tab). Nothing was changed.");
    return sv_error_page(r, 404, "Not found", "You hold no reservation on this item.");
}

static int valid_ver(const char *v)
{
    if (!v || !*v || strlen(v) > 18)
        return 0;
    for (const char *p = v; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

int sv_page_item_post(sv_req *r)
{
    const char *action = sv_form_get(r->form, "action");
    const char *ver = sv_form_get(r->form, "ver");
    if (!action)
        return sv_error_page(r, 400, "Bad request", "The form names no action.");
    if (!valid_ver(ver))
        return sv_error_page(r, 400, "Bad request", "The form has no valid version.");
    json_t *it = load_item(r);
    if (!it) {
        if (r->status == 404) {
            sv_buf_reset(&r->out);
            return gone(r, ver);
        }
        return 0;
    }
    long long aid = (long long)json_integer_value(json_object_get(it, "assignment_id"));
    if (strtoll(ver, NULL, 10) != aid) {
        json_decref(it);
        return sv_error_page(r, 409, "This page is out of date",
                             "The item was reserved again since this page was opened (in "
                             "another tab, or after the reservation ran out). Reload it.");
    }
    char id[32];
    snprintf(id, sizeof id, "%lld", r->cap_num[0]);
    sv_values vals = {r->form, NULL};
    sv_db *d = sv_req_db(r);
    int rc = 0;
    if (!d) {
        json_decref(it);
        return sv_unavailable(r);
    }
    if (strcmp(action, "preview") == 0) {
        /* the diff of the first correction field; nothing is stored */
        const char *field = NULL;
        size_t i;
        json_t *f;
        json_array_foreach(
            json_object_get(json_object_get(json_object_get(it, "rubric"), "definition"), "fields"),
            i, f)
        {
            const char *t = sv_jstr(f, "type");
            if (!field && t && strcmp(t, "correction") == 0)
                field = sv_jstr(f, "name");
        }
        rc = render_item(r, r->cap_str, r->cap_num[0], it, &vals, 200, NULL, NULL, field);
    } else if (strcmp(action, "draft") == 0) {
        char *dj = draft_json(r);
        const char *p[2] = {id, dj ? dj : "{}"};
        PGresult *res = sv_db_exec(d,
                                   "INSERT INTO flywheel.review_drafts (item_id, value) "
                                   "VALUES ($1, $2::jsonb) ON CONFLICT (reviewer, item_id) DO "
                                   "UPDATE SET value = excluded.value, saved_at = now()",
                                   2, p);
        free(dj);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            rc = sv_db_error_page(r, res);
        } else {
            sv_audit(r, "draft", r->cap_num[0], NULL);
            redirect_item(r, r->cap_str, r->cap_num[0]);
        }
        PQclear(res);
    } else if (strcmp(action, "submit") == 0) {
        const char *err = NULL, *col = NULL;
        json_t *label = sv_build_label(r, it, &err, &col);
        if (!label) {
            rc = render_item(r, r->cap_str, r->cap_num[0], it, &vals, 422, err, col, NULL);
        } else {
            char *lj = json_dumps(label, JSON_COMPACT);
            json_decref(label);
            const char *p[3] = {id, lj ? lj : "{}", ver};
            PGresult *res = sv_db_exec(
                d,
                "SELECT flywheel.review_submit($1::bigint, $2::jsonb) "
                "FROM flywheel.review_assignments a WHERE a.id = $3::bigint "
                "AND a.item_id = $1::bigint AND a.reviewer = current_user AND a.state = 'active'",
                3, p);
            free(lj);
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
                PQclear(
                    sv_db_exec(d, "DELETE FROM flywheel.review_drafts WHERE item_id = $1", 1, p));
                char detail[64];
                snprintf(detail, sizeof detail, "{\"label_id\": %s}", PQgetvalue(res, 0, 0));
                sv_audit(r, "submit", r->cap_num[0], detail);
                PQclear(res);
                json_decref(it);
                return claim_next(r, r->cap_str);
            } else if (PQresultStatus(res) == PGRES_TUPLES_OK) {
                rc = sv_error_page(r, 409, "Already done",
                                   "This item was already submitted from this page or another "
                                   "tab. Nothing was changed.");
            } else if (fw_store_sqlstate_code(state) == FW_STORE_INVALID) {
                const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
                const char *h = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
                char msg[1024];
                snprintf(msg, sizeof msg, "%s%s%s", m ? m : "invalid answer", h ? ". " : "",
                         h ? h : "");
                rc = render_item(r, r->cap_str, r->cap_num[0], it, &vals, 422, msg,
                                 PQresultErrorField(res, PG_DIAG_COLUMN_NAME), NULL);
            } else {
                rc = sv_db_error_page(r, res);
            }
            PQclear(res);
        }
    } else if (strcmp(action, "skip") == 0 || strcmp(action, "flag") == 0) {
        int flag = action[0] == 'f';
        const char *reason = sv_form_get(r->form, "reason");
        sv_buf rs = {0};
        if (flag)
            sv_puts(&rs, "flagged: ");
        sv_puts(&rs, reason ? reason : "");
        const char *p[3] = {id, (reason && *reason) ? sv_buf_cstr(&rs) : "", ver};
        PGresult *res = sv_db_exec(
            d,
            "SELECT flywheel.review_skip($1::bigint, $2) FROM flywheel.review_assignments a "
            "WHERE a.id = $3::bigint AND a.item_id = $1::bigint AND a.reviewer = current_user "
            "AND a.state = 'active'",
            3, p);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
            PQclear(sv_db_exec(d, "DELETE FROM flywheel.review_drafts WHERE item_id = $1", 1, p));
            sv_audit(r, flag ? "flag" : "skip", r->cap_num[0], NULL);
            PQclear(res);
            sv_buf_free(&rs);
            json_decref(it);
            return claim_next(r, r->cap_str);
        } else if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            rc = gone(r, ver);
        } else if (fw_store_sqlstate_code(state) == FW_STORE_INVALID) {
            rc = render_item(r, r->cap_str, r->cap_num[0], it, &vals, 422,
                             "Say why you skip or flag this item (in the box under the buttons).",
                             NULL, NULL);
        } else {
            rc = sv_db_error_page(r, res);
        }
        PQclear(res);
        sv_buf_free(&rs);
    } else if (strcmp(action, "release") == 0) {
        const char *p[2] = {id, ver};
        PGresult *res = sv_db_exec(
            d,
            "SELECT flywheel.review_release($1::bigint) FROM flywheel.review_assignments a "
            "WHERE a.id = $2::bigint AND a.item_id = $1::bigint AND a.reviewer = current_user "
            "AND a.state = 'active'",
            2, p);
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
            sv_audit(r, "release", r->cap_num[0], NULL);
            sv_redirect(r, "/queues");
        } else if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            rc = gone(r, ver);
        } else {
            rc = sv_db_error_page(r, res);
        }
        PQclear(res);
    } else {
        rc = sv_error_page(r, 400, "Bad request", "Unknown action.");
    }
    json_decref(it);
    return rc;
}
