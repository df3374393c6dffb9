/*
 * Scorer configuration and the scorers that need no model; contract in
 * score.h. Explanations are short and name both sides when that helps a
 * reviewer see why a case regressed; they cite at most 80 bytes of either.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "score.h"

#include "jschema.h"

#include <ctype.h>
#include <math.h>
#include <openssl/sha.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const char *name;
    fw_sc_type type;
    const char *const *options;
} sc_kind;

static const char *const o_match[] = {"label", NULL};
static const char *const o_contains[] = {"value", "values", "any", "case_insensitive",
                                         "label", NULL};
static const char *const o_regex[] = {"pattern", "case_insensitive", NULL};
static const char *const o_none[] = {NULL};
static const char *const o_schema[] = {"schema", NULL};
static const char *const o_tool[] = {"arguments", NULL};
static const char *const o_numeric[] = {"tolerance", "relative", "position", "label", NULL};
static const char *const o_judge[] = {"endpoint", "model",       "rubric", "mode",
                                      "scale",    "api_key_env", NULL};

static const sc_kind kinds[] = {
    {"exact", FW_SC_EXACT, o_match},          {"normalized", FW_SC_NORMALIZED, o_match},
    {"contains", FW_SC_CONTAINS, o_contains}, {"regex", FW_SC_REGEX, o_regex},
    {"json_valid", FW_SC_JSON_VALID, o_none}, {"json_schema", FW_SC_JSON_SCHEMA, o_schema},
    {"tool_call", FW_SC_TOOL_CALL, o_tool},   {"numeric", FW_SC_NUMERIC, o_numeric},
    {"judge", FW_SC_JUDGE, o_judge},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

const char *fw_sc_type_name(fw_sc_type t)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (kinds[i].type == t)
            return kinds[i].name;
    return "?";
}

void fw_scorers_free(fw_scorers *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].re)
            pcre2_code_free(s->v[i].re);
    free(s->v);
    free(s->canonical);
    json_decref(s->config);
    free(s);
}

static int name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 63)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)n[i]) && !strchr("_.-", n[i]))
            return 0;
    return 1;
}

static const char *opt_str(const json_t *o, const char *k, int *bad)
{
    const json_t *v = json_object_get(o, k);
    if (v && !json_is_string(v))
        *bad = 1;
    return json_string_value(v);
}

/* Fills the options of one scorer; returns 0 or -1 with err. */
static int parse_options(fw_scorer *sc, char *err, size_t errsize)
{
    const json_t *o = sc->cfg;
    int bad = 0;
    const json_t *v;
    sc->label = opt_str(o, "label", &bad);
    if (bad) {
        snprintf(err, errsize, "scorer \"%s\": \"label\" must be a string", sc->name);
        return -1;
    }
    v = json_object_get(o, "case_insensitive");
    if (v && !json_is_boolean(v)) {
        snprintf(err, errsize, "scorer \"%s\": \"case_insensitive\" must be true or false",
                 sc->name);
        return -1;
    }
    sc->nocase = json_is_true(v);
    switch (sc->type) {
    case FW_SC_CONTAINS: {
        const json_t *one = json_object_get(o, "value"), *many = json_object_get(o, "values");
        if ((one && !json_is_string(one)) || (one && many)) {
            snprintf(err, errsize,
                     "scorer \"%s\": \"value\" must be a string (and not given "
                     "with \"values\")",
                     sc->name);
            return -1;
        }
        if (many) {
            size_t i;
            json_t *e;
            if (!json_is_array(many) || json_array_size(many) == 0)
                bad = 1;
            json_array_foreach(many, i, e) if (!json_is_string(e)) bad = 1;
            if (bad) {
                snprintf(err, errsize,
                         "scorer \"%s\": \"values\" must be a non-empty list of "
                         "strings",
                         sc->name);
                return -1;
            }
            sc->values = many;
        } else if (one) {
            json_t *arr = json_pack("[O]", one);
            if (!arr || json_object_set_new((json_t *)(uintptr_t)o, "values", arr) ||
                json_object_del((json_t *)(uintptr_t)o, "value")) {
                snprintf(err, errsize, "out of memory");
                return -1;
            }
            sc->values = arr;
        }
        v = json_object_get(o, "any");
        if (v && !json_is_boolean(v)) {
            snprintf(err, errsize, "scorer \"%s\": \"any\" must be true or false", sc->name);
            return -1;
        }
        sc->any = json_is_true(v);
        return 0;
    }
    case FW_SC_REGEX: {
        const char *pat = opt_str(o, "pattern", &bad);
        if (!pat || bad) {
            snprintf(err, errsize, "scorer \"%s\": \"pattern\" (a string) is required", sc->name);
            return -1;
        }
        int ec;
        PCRE2_SIZE off;
        sc->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                               PCRE2_UTF | (sc->nocase ? PCRE2_CASELESS : 0), &ec, &off, NULL);
        if (!sc->re) {
            PCRE2_UCHAR buf[160];
            pcre2_get_error_message(ec, buf, sizeof buf);
            snprintf(err, errsize, "scorer \"%s\": invalid pattern: %s at offset %zu", sc->name,
                     (const char *)buf, (size_t)off);
            return -1;
        }
        return 0;
    }
    case FW_SC_JSON_SCHEMA: {
        char why[400];
        sc->schema = json_object_get(o, "schema");
        if (!sc->schema) {
            snprintf(err, errsize, "scorer \"%s\": \"schema\" is required", sc->name);
            return -1;
        }
        if (fw_jschema_check(sc->schema, why, sizeof why)) {
            snprintf(err, errsize, "scorer \"%s\": %s", sc->name, why);
            return -1;
        }
        return 0;
    }
    case FW_SC_TOOL_CALL: {
        const char *a = opt_str(o, "arguments", &bad);
        if (!a || strcmp(a, "exact") == 0)
            sc->args = FW_ARGS_EXACT;
        else if (strcmp(a, "subset") == 0)
            sc->args = FW_ARGS_SUBSET;
        else if (strcmp(a, "ignore") == 0)
            sc->args = FW_ARGS_IGNORE;
        else
            bad = 1;
        if (bad) {
            snprintf(err, errsize,
                     "scorer \"%s\": \"arguments\" must be \"exact\", \"subset\" "
                     "or \"ignore\"",
                     sc->name);
            return -1;
        }
        return 0;
    }
    case FW_SC_NUMERIC: {
        const json_t *t = json_object_get(o, "tolerance"), *r = json_object_get(o, "relative");
        const char *pos = opt_str(o, "position", &bad);
        if ((t && (!json_is_number(t) || json_number_value(t) < 0)) ||
            (r && (!json_is_number(r) || json_number_value(r) < 0))) {
            snprintf(err, errsize,
                     "scorer \"%s\": \"tolerance\" and \"relative\" must be "
                     "non-negative numbers",
                     sc->name);
            return -1;
        }
        if (bad || (pos && strcmp(pos, "first") != 0 && strcmp(pos, "last") != 0)) {
            snprintf(err, errsize, "scorer \"%s\": \"position\" must be \"first\" or \"last\"",
                     sc->name);
            return -1;
        }
        sc->tol = t ? json_number_value(t) : 0;
        sc->rel_tol = r ? json_number_value(r) : 0;
        sc->last = pos && strcmp(pos, "last") == 0;
        return 0;
    }
    case FW_SC_JUDGE: {
        sc->j_endpoint = opt_str(o, "endpoint", &bad);
        sc->j_model = opt_str(o, "model", &bad);
        sc->j_rubric = opt_str(o, "rubric", &bad);
        sc->j_key_env = opt_str(o, "api_key_env", &bad);
        const char *mode = opt_str(o, "mode", &bad);
        if (bad || !sc->j_endpoint || !sc->j_model || !sc->j_rubric) {
            snprintf(err, errsize,
                     "scorer \"%s\": a judge needs \"endpoint\", \"model\" and "
                     "\"rubric\" (strings)",
                     sc->name);
            return -1;
        }
        if (mode && strcmp(mode, "score") != 0 && strcmp(mode, "pairwise") != 0) {
            snprintf(err, errsize, "scorer \"%s\": \"mode\" must be \"score\" or \"pairwise\"",
                     sc->name);
            return -1;
        }
        sc->j_pairwise = mode && strcmp(mode, "pairwise") == 0;
        const json_t *scale = json_object_get(o, "scale");
        sc->j_min = 1;
        sc->j_max = 5;
        if (scale) {
            if (!json_is_array(scale) || json_array_size(scale) != 2 ||
                !json_is_number(json_array_get(scale, 0)) ||
                !json_is_number(json_array_get(scale, 1)) ||
                json_number_value(json_array_get(scale, 0)) >=
                    json_number_value(json_array_get(scale, 1))) {
                snprintf(err, errsize,
                         "scorer \"%s\": \"scale\" must be [min, max] with "
                         "min < max",
                         sc->name);
                return -1;
            }
            sc->j_min = json_number_value(json_array_get(scale, 0));
            sc->j_max = json_number_value(json_array_get(scale, 1));
        }
        return 0;
    }
    default:
        return 0;
    }
}

static int parse_one(fw_scorer *sc, json_t *o, char *err, size_t errsize)
{
    if (!json_is_object(o)) {
        snprintf(err, errsize, "each scorer must be an object");
        return -1;
    }
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!type) {
        snprintf(err, errsize, "a scorer has no \"type\"");
        return -1;
    }
    const sc_kind *k = NULL;
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(kinds[i].name, type) == 0)
            k = &kinds[i];
    if (!k) {
        snprintf(err, errsize,
                 "unknown scorer type \"%s\"\nhint: Use one of exact, normalized, "
                 "contains, regex, json_valid, json_schema, tool_call, numeric, "
                 "judge.",
                 type);
        return -1;
    }
    if (!json_object_get(o, "name") && json_object_set_new(o, "name", json_string(type))) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    sc->name = json_string_value(json_object_get(o, "name"));
    if (!sc->name || !name_ok(sc->name)) {
        snprintf(err, errsize, "scorer name must be 1 to 63 letters, digits, '_', '.' or '-'");
        return -1;
    }
    sc->type = k->type;
    sc->cfg = o;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        int known = strcmp(key, "name") == 0 || strcmp(key, "type") == 0;
        for (const char *const *p = k->options; *p && !known; p++)
            known = strcmp(*p, key) == 0;
        if (!known) {
            snprintf(err, errsize, "scorer \"%s\": unknown option \"%s\" for type %s", sc->name,
                     key, type);
            return -1;
        }
    }
    return parse_options(sc, err, errsize);
}

fw_scorers *fw_scorers_parse(const char *text, char *err, size_t errsize)
{
    json_error_t je;
    fw_scorers *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errsize, "scorer configuration is not valid JSON: %s (line %d)", je.text,
                 je.line);
        goto fail;
    }
    if (json_is_array(root)) {
        s->config = json_pack("{s:o}", "scorers", root);
        root = NULL;
    } else {
        s->config = root;
        root = NULL;
    }
    json_t *list = json_object_get(s->config, "scorers");
    if (!json_is_array(list) || json_array_size(list) == 0 || json_object_size(s->config) != 1) {
        snprintf(err, errsize,
                 "scorer configuration must be {\"scorers\": [...]} with at least "
                 "one scorer");
        goto fail;
    }
    s->n = json_array_size(list);
    s->v = calloc(s->n, sizeof *s->v);
    if (!s->v) {
        snprintf(err, errsize, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (parse_one(&s->v[i], json_array_get(list, i), err, errsize))
            goto fail;
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->v[j].name, s->v[i].name) == 0) {
                snprintf(err, errsize, "two scorers are named \"%s\"", s->v[i].name);
                goto fail;
            }
        if (s->v[i].type == FW_SC_JUDGE)
            s->has_judge = 1;
    }
    s->canonical = json_dumps(s->config, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s->canonical) {
        snprintf(err, errsize, "out of memory");
        goto fail;
    }
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)s->canonical, strlen(s->canonical), md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(s->sha256 + 2 * i, 3, "%02x", md[i]);
    return s;
fail:
    json_decref(root);
    fw_scorers_free(s);
    return NULL;
}

char *fw_sc_expected_text(const fw_scorer *sc, const json_t *line)
{
    const json_t *v;
    if (sc->label)
        v = json_object_get(json_object_get(line, "labels"), sc->label);
    else
        v = json_object_get(line, "ideal");
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_number(v) || json_is_boolean(v))
        return json_dumps(v, JSON_ENCODE_ANY);
    return NULL;
}

char *fw_sc_normalize(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    int space = 0;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x80 && ispunct(c))
            continue;
        if (c < 0x80 && isspace(c)) {
            space = 1;
            continue;
        }
        if (space && o > out)
            *o++ = ' ';
        space = 0;
        *o++ = (char)(c < 0x80 ? tolower(c) : c);
    }
    *o = '\0';
    return out;
}

/* Quotes at most 80 bytes of s for an explanation, cut at a UTF-8 boundary. */
static void quote(char *buf, size_t size, const char *s)
{
    size_t n = strlen(s);
    if (n <= 80) {
        snprintf(buf, size, "\"%s\"", s);
        return;
    }
    n = 80;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    snprintf(buf, size, "\"%.*s...\"", (int)n, s);
}

static int score_match(const fw_scorer *sc, const char *text, const json_t *line, double *score,
                       char *expl, size_t explsize)
{
    char *exp = fw_sc_expected_text(sc, line);
    if (!exp) {
        *score = 0;
        snprintf(expl, explsize, "the case has no expected text");
        return 0;
    }
    int eq;
    if (sc->type == FW_SC_NORMALIZED) {
        char *a = fw_sc_normalize(text), *b = fw_sc_normalize(exp);
        if (!a || !b) {
            free(a);
            free(b);
            free(exp);
            return -1;
        }
        eq = strcmp(a, b) == 0;
        free(a);
        free(b);
    } else {
        eq = strcmp(text, exp) == 0;
    }
    char q[100];
    quote(q, sizeof q, exp);
    *score = eq ? 1 : 0;
    snprintf(expl, explsize, eq ? "matches %s" : "differs from %s", q);
    free(exp);
    return 0;
}

static int contains_one(const char *hay, const char *needle, int nocase)
{
    return (nocase ? strcasestr(hay, needle) : strstr(hay, needle)) != NULL;
}

static int score_contains(const fw_scorer *sc, const char *text, const json_t *line, double *score,
                          char *expl, size_t explsize)
{
    char q[100];
    if (!sc->values) {
        char *exp = fw_sc_expected_text(sc, line);
        if (!exp) {
            *score = 0;
            snprintf(expl, explsize, "the case has no expected text");
            return 0;
        }
        int ok = contains_one(text, exp, sc->nocase);
        quote(q, sizeof q, exp);
        *score = ok;
        snprintf(expl, explsize, ok ? "contains %s" : "does not contain %s", q);
        free(exp);
        return 0;
    }
    size_t i, hits = 0, n = json_array_size(sc->values);
    const char *missing = NULL, *found = NULL;
    json_t *e;
    json_array_foreach(sc->values, i, e)
    {
        if (contains_one(text, json_string_value(e), sc->nocase)) {
            hits++;
            if (!found)
                found = json_string_value(e);
        } else if (!missing) {
            missing = json_string_value(e);
        }
    }
    if (sc->any) {
        *score = hits > 0;
        if (found) {
            quote(q, sizeof q, found);
            snprintf(expl, explsize, "contains %s", q);
        } else {
            snprintf(expl, explsize, "contains none of the %zu values", n);
        }
        return 0;
    }
    *score = hits == n;
    if (missing) {
        quote(q, sizeof q, missing);
        snprintf(expl, explsize, "%zu of %zu values; missing %s", hits, n, q);
    } else {
        snprintf(expl, explsize, "contains all %zu values", n);
    }
    return 0;
}

static int score_regex(const fw_scorer *sc, const char *text, double *score, char *expl,
                       size_t explsize)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(sc->re, NULL);
    if (!md)
        return -1;
    int rc = pcre2_match(sc->re, (PCRE2_SPTR)text, strlen(text), 0, 0, md, NULL);
    const char *pat = json_string_value(json_object_get(sc->cfg, "pattern"));
    char q[100];
    quote(q, sizeof q, pat);
    if (rc >= 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        *score = 1;
        snprintf(expl, explsize, "matches %s at byte %zu", q, (size_t)ov[0]);
    } else if (rc == PCRE2_ERROR_NOMATCH) {
        *score = 0;
        snprintf(expl, explsize, "does not match %s", q);
    } else {
        PCRE2_UCHAR buf[120];
        pcre2_get_error_message(rc, buf, sizeof buf);
        *score = 0;
        snprintf(expl, explsize, "matching failed: %s", (const char *)buf);
    }
    pcre2_match_data_free(md);
    return 0;
}

/* The answer parsed as JSON, with one surrounding Markdown code fence
 * (```json ... ```) removed first, as chat models often add one. */
static json_t *parse_answer(const char *text, char *why, size_t whysize)
{
    const char *s = text, *e = text + strlen(text);
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    if (e - s >= 6 && strncmp(s, "```", 3) == 0 && strncmp(e - 3, "```", 3) == 0) {
        const char *nl = memchr(s, '\n', (size_t)(e - s));
        if (nl && nl < e - 3) {
            s = nl + 1;
            e -= 3;
        }
    }
    json_error_t je;
    json_t *v = json_loadb(s, (size_t)(e - s), JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!v)
        snprintf(why, whysize, "not valid JSON: %s at line %d column %d", je.text, je.line,
                 je.column);
    return v;
}

static int score_json(const fw_scorer *sc, const char *text, double *score, char *expl,
                      size_t explsize)
{
    char why[300];
    json_t *v = parse_answer(text, why, sizeof why);
    if (!v) {
        *score = 0;
        snprintf(expl, explsize, "%s", why);
        return 0;
    }
    if (sc->type == FW_SC_JSON_VALID) {
        json_decref(v);
        *score = 1;
        snprintf(expl, explsize, "valid JSON");
        return 0;
    }
    int rc = fw_jschema_validate(sc->schema, v, why, sizeof why);
    json_decref(v);
    if (rc < 0)
        return -1;
    *score = rc;
    snprintf(expl, explsize, "%s", rc ? "conforms to the schema" : why);
    return 0;
}

/* The tool calls of the last expected assistant message that has any. */
static const json_t *expected_calls(const json_t *line)
{
    const json_t *exp = json_object_get(line, "expected");
    for (size_t i = json_array_size(exp); i > 0; i--) {
        const json_t *c = json_object_get(json_array_get(exp, i - 1), "tool_calls");
        if (json_array_size(c) > 0)
            return c;
    }
    return NULL;
}

static json_t *call_args(const json_t *call)
{
    const json_t *a = json_object_get(json_object_get(call, "function"), "arguments");
    if (json_is_string(a)) {
        json_t *v = json_loads(json_string_value(a), JSON_DECODE_ANY, NULL);
        return v ? v : json_incref((json_t *)(uintptr_t)a);
    }
    return a ? json_incref((json_t *)(uintptr_t)a) : json_object();
}

/* Whether every key of `want` is in `got` with an equal value. */
static int args_subset(const json_t *want, const json_t *got)
{
    if (!json_is_object(want) || !json_is_object(got))
        return fw_json_equal_num(want, got);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)want, k, v)
    {
        const json_t *g = json_object_get(got, k);
        if (!g || !fw_json_equal_num(v, g))
            return 0;
    }
    return 1;
}

static int score_tools(const fw_scorer *sc, const json_t *msg, const json_t *line, double *score,
                       char *expl, size_t explsize)
{
    const json_t *want = expected_calls(line), *got = json_object_get(msg, "tool_calls");
    size_t nw = json_array_size(want), ng = json_array_size(got);
    if (nw == 0 && ng == 0) {
        *score = 1;
        snprintf(expl, explsize, "no tool call expected and none made");
        return 0;
    }
    size_t ok = 0, n = nw < ng ? nw : ng;
    char first[200] = "";
    for (size_t i = 0; i < n; i++) {
        const json_t *w = json_array_get(want, i), *g = json_array_get(got, i);
        const char *wn = json_string_value(json_object_get(json_object_get(w, "function"), "name"));
        const char *gn = json_string_value(json_object_get(json_object_get(g, "function"), "name"));
        if (!wn || !gn || strcmp(wn, gn) != 0) {
            if (!*first)
                snprintf(first, sizeof first, "; call %zu: expected %.60s, got %.60s", i + 1,
                         wn ? wn : "?", gn ? gn : "?");
            continue;
        }
        int eq = 1;
        if (sc->args != FW_ARGS_IGNORE) {
            json_t *wa = call_args(w), *ga = call_args(g);
            if (!wa || !ga) {
                json_decref(wa);
                json_decref(ga);
                return -1;
            }
            eq = sc->args == FW_ARGS_SUBSET ? args_subset(wa, ga) : fw_json_equal_num(wa, ga);
            json_decref(wa);
            json_decref(ga);
        }
        if (eq)
            ok++;
        else if (!*first)
            snprintf(first, sizeof first, "; call %zu (%.60s): arguments differ", i + 1, wn);
    }
    size_t denom = nw > ng ? nw : ng;
    *score = (double)ok / (double)denom;
    snprintf(expl, explsize, "%zu of %zu expected calls matched (%zu made)%s", ok, nw, ng, first);
    return 0;
}

/* Finds the first or last number in s; returns 1 with *out, 0 when none. */
static int find_number(const char *s, int last, double *out)
{
    int found = 0;
    const char *p = s;
    while (*p) {
        int sign = (*p == '-' || *p == '+') &&
                   (isdigit((unsigned char)p[1]) || (p[1] == '.' && isdigit((unsigned char)p[2])));
        if (isdigit((unsigned char)*p) || sign || (*p == '.' && isdigit((unsigned char)p[1]))) {
            /* Thousands separators: "1,234.5" reads as 1234.5. */
            char buf[128];
            size_t n = 0;
            const char *q = p;
            while (*q && n + 1 < sizeof buf) {
                if (*q == ',' && n > 0 && isdigit((unsigned char)q[1]) &&
                    isdigit((unsigned char)buf[n - 1])) {
                    q++;
                    continue;
                }
                if (!(isdigit((unsigned char)*q) || *q == '.' || *q == 'e' || *q == 'E' ||
                      ((*q == '-' || *q == '+') && (q == p || q[-1] == 'e' || q[-1] == 'E'))))
                    break;
                buf[n++] = *q++;
            }
            buf[n] = '\0';
            char *end;
            double d = strtod(buf, &end);
            if (end != buf) {
                *out = d;
                found = 1;
                if (!last)
                    return 1;
            }
            p = q > p ? q : p + 1;
            continue;
        }
        p++;
    }
    return found;
}

static int score_numeric(const fw_scorer *sc, const char *text, const json_t *line, double *score,
                         char *expl, size_t explsize)
{
    char *exp = fw_sc_expected_text(sc, line);
    double want, got;
    *score = 0;
    if (!exp || !find_number(exp, sc->last, &want)) {
        snprintf(expl, explsize, "the case has no expected number");
        free(exp);
        return 0;
    }
    free(exp);
    if (!find_number(text, sc->last, &got)) {
        snprintf(expl, explsize, "no number in the answer (expected %g)", want);
        return 0;
    }
    double allowed = sc->tol > sc->rel_tol * fabs(want) ? sc->tol : sc->rel_tol * fabs(want);
    double diff = fabs(got - want);
    *score = diff <= allowed;
    snprintf(expl, explsize, "%g vs expected %g: difference %g %s tolerance %g", got, want, diff,
             *score ? "within" : "beyond", allowed);
    return 0;
}

int fw_sc_score(const fw_scorer *sc, const char *text, const json_t *msg, const json_t *line,
                double *score, char *expl, size_t explsize)
{
    if (!text)
        text = "";
    switch (sc->type) {
    case FW_SC_EXACT:
    case FW_SC_NORMALIZED:
        return score_match(sc, text, line, score, expl, explsize);
    case FW_SC_CONTAINS:
        return score_contains(sc, text, line, score, expl, explsize);
    case FW_SC_REGEX:
        return score_regex(sc, text, score, expl, explsize);
    case FW_SC_JSON_VALID:
    case FW_SC_JSON_SCHEMA:
        return score_json(sc, text, score, expl, explsize);
    case FW_SC_TOOL_CALL:
        return score_tools(sc, msg, line, score, expl, explsize);
    case FW_SC_NUMERIC:
        return score_numeric(sc, text, line, score, expl, explsize);
    case FW_SC_JUDGE:
        break;
    }
    *score = 0;
    snprintf(expl, explsize, "a judge is scored by the runner");
    return 0;
}
