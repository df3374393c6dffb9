/*
 * Judge prompts and answers; contract in judge.h. The conversation is
 * rendered as plain "role: text" lines (tool calls as name(arguments)), the
 * form every chat model reads without a special format, and the reply is
 * constrained to a small JSON object so that reading it is not guesswork.
 */
#include "judge.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fw_judge_calls(const fw_scorer *sc)
{
    return sc->j_pairwise ? 2 : 1;
}

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void puts_(sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void render_message(sbuf *b, const json_t *m)
{
    const char *content = json_string_value(json_object_get(m, "content"));
    if (content && *content)
        puts_(b, content);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(m, "tool_calls"), i, c)
    {
        const json_t *fn = json_object_get(c, "function");
        const char *name = json_string_value(json_object_get(fn, "name"));
        const char *args = json_string_value(json_object_get(fn, "arguments"));
        if (content || i > 0)
            puts_(b, "\n");
        puts_(b, "[tool call] ");
        puts_(b, name ? name : "?");
        puts_(b, "(");
        puts_(b, args ? args : "");
        puts_(b, ")");
    }
}

static void render_conversation(sbuf *b, const json_t *line)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(json_object_get(line, "input"), "messages"), i, m)
    {
        const char *role = json_string_value(json_object_get(m, "role"));
        puts_(b, role ? role : "?");
        puts_(b, ": ");
        render_message(b, m);
        puts_(b, "\n");
    }
}

/* The reference answer: the last expected assistant message. */
static const json_t *reference(const json_t *line)
{
    const json_t *exp = json_object_get(line, "expected");
    size_t n = json_array_size(exp);
    return n ? json_array_get(exp, n - 1) : NULL;
}

json_t *fw_judge_request(const fw_scorer *sc, int order, const json_t *line, const char *text,
                         const json_t *msg, int *skip, char *why, size_t whysize)
{
    *skip = 0;
    const json_t *ref = reference(line);
    if (sc->j_pairwise && !ref) {
        *skip = 1;
        snprintf(why, whysize, "the case has no reference answer to compare with");
        return NULL;
    }
    sbuf sys = {0}, user = {0};
    char num[128];
    if (sc->j_pairwise) {
        puts_(&sys, "You are an impartial judge. Compare two answers to the same conversation "
                    "using the rubric. Reply with only a JSON object: {\"winner\": \"A\" or \"B\" "
                    "or \"tie\", \"reason\": \"one sentence\"}.");
    } else {
        snprintf(num, sizeof num, "%g to %g", sc->j_min, sc->j_max);
        puts_(&sys, "You are an impartial judge. Apply the rubric to the answer. Reply with only a "
                    "JSON object: {\"score\": a number from ");
        puts_(&sys, num);
        puts_(&sys, ", \"reason\": \"one sentence\"}.");
    }
    puts_(&user, "Rubric:\n");
    puts_(&user, sc->j_rubric);
    puts_(&user, "\n\nConversation:\n");
    render_conversation(&user, line);
    sbuf ans = {0}, refs = {0};
    if (msg)
        render_message(&ans, msg);
    else
        puts_(&ans, text ? text : "");
    if (ref)
        render_message(&refs, ref);
    if (sc->j_pairwise) {
        const sbuf *a = order == 0 ? &ans : &refs, *b = order == 0 ? &refs : &ans;
        puts_(&user, "\nAnswer A:\n");
        puts_(&user, a->p ? a->p : "");
        puts_(&user, "\n\nAnswer B:\n");
        puts_(&user, b->p ? b->p : "");
    } else {
        puts_(&user, "\nReference answer:\n");
        puts_(&user, refs.p ? refs.p : "(none)");
        puts_(&user, "\n\nAnswer to judge:\n");
        puts_(&user, ans.p ? ans.p : "");
    }
    json_t *req = NULL;
    if (!sys.oom && !user.oom && !ans.oom && !refs.oom)
        req = json_pack("{s:s,s:[{s:s,s:s},{s:s,s:s}],s:i}", "model", sc->j_model, "messages",
                        "role", "system", "content", sys.p, "role", "user", "content", user.p,
                        "temperature", 0);
    free(sys.p);
    free(user.p);
    free(ans.p);
    free(refs.p);
    return req;
}

/* The reply as a JSON object, with one Markdown code fence removed. */
static json_t *reply_object(const char *s)
{
    const char *b = strchr(s, '{'), *e = strrchr(s, '}');
    if (!b || !e || e < b)
        return NULL;
    json_t *v = json_loadb(b, (size_t)(e - b + 1), 0, NULL);
    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

int fw_judge_read(const fw_scorer *sc, int order, const char *answer, double *value, char *why,
                  size_t whysize)
{
    json_t *o = reply_object(answer ? answer : "");
    if (!o) {
        snprintf(why, whysize, "the judge did not reply with a JSON object");
        return 0;
    }
    const char *reason = json_string_value(json_object_get(o, "reason"));
    int ok = 0;
    if (sc->j_pairwise) {
        const char *w = json_string_value(json_object_get(o, "winner"));
        if (w && (strcmp(w, "A") == 0 || strcmp(w, "B") == 0 || strcmp(w, "tie") == 0)) {
            const char *mine = order == 0 ? "A" : "B";
            *value = strcmp(w, "tie") == 0 ? 0.5 : strcmp(w, mine) == 0 ? 1.0 : 0.0;
            snprintf(why, whysize, "%s%s%.200s",
                     strcmp(w, "tie") == 0 ? "tie"
                     : *value > 0          ? "answer preferred"
                                           : "reference preferred",
                     reason ? ": " : "", reason ? reason : "");
            ok = 1;
        } else {
            snprintf(why, whysize, "the judge's \"winner\" is not \"A\", \"B\" or \"tie\"");
        }
    } else {
        const json_t *s = json_object_get(o, "score");
        double d = json_number_value(s);
        if (!json_is_number(s) || !isfinite(d) || d < sc->j_min || d > sc->j_max) {
            snprintf(why, whysize, "the judge's score is missing or outside %g..%g", sc->j_min,
                     sc->j_max);
        } else {
            *value = (d - sc->j_min) / (sc->j_max - sc->j_min);
            snprintf(why, whysize, "judge score %g%s%.200s", d, reason ? ": " : "",
                     reason ? reason : "");
            ok = 1;
        }
    }
    json_decref(o);
    return ok;
}
