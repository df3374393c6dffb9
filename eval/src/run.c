/*
 * The eval runner (fw_eval_run in flywheel/eval.h).
 *
 * One thread, one curl multi engine, one PostgreSQL connection. Cases move
 * through: queued -> model call -> judge calls (if any) -> ready -> stored.
 * After every turn of the HTTP loop the ready cases are stored in one
 * statement (cases, scores and generations together, so it is atomic), and
 * only then are new cases started: the number of cases whose answer is
 * known but not stored is bounded by the concurrency, and a case is never
 * sent again once its row exists.
 *
 * The crash window: a case whose answer arrived but whose statement had
 * not committed when the process died has no row, so a resumed run sends
 * it again (the endpoint sees it twice; the store still gets one row and
 * one generation, whose event id is derived from the run and the case).
 * "Exactly once in total" therefore holds for every case that was stored,
 * and the window is one loop turn wide per in-flight case. A concurrent
 * second runner of the same run is refused with an advisory lock.
 */
#include "flywheel/eval.h"

#include "chat.h"
#include "http.h"
#include "judge.h"
#include "pgutil.h"
#include "score.h"

#include <math.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_SCORERS "{\"scorers\":[{\"type\":\"exact\"},{\"type\":\"normalized\"}]}"

typedef struct {
    char *id, *split;
    json_t *line;
} ecase;

struct fw_eval_cases {
    ecase *v;
    size_t n, cap;
};

int fw_eval_cases_add(fw_eval_cases *c, const char *line, size_t len, const char *split, char *err,
                      size_t errsize)
{
    json_error_t je;
    json_t *v = json_loadb(line, len, 0, &je);
    if (!v) {
        snprintf(err, errsize, "eval line is not valid JSON: %s", je.text);
        return -1;
    }
    const char *id = json_string_value(json_object_get(v, "id"));
    if (!id || !json_is_array(json_object_get(json_object_get(v, "input"), "messages"))) {
        json_decref(v);
        snprintf(err, errsize, "line is not in the eval format (no \"id\" or \"input.messages\")");
        return -1;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        ecase *nv = realloc(c->v, cap * sizeof *nv);
        if (!nv) {
            json_decref(v);
            snprintf(err, errsize, "out of memory");
            return -1;
        }
        c->v = nv;
        c->cap = cap;
    }
    /* Two members of one generation (two review items) keep distinct ids. */
    char idbuf[200];
    snprintf(idbuf, sizeof idbuf, "%s", id);
    for (int k = 2;; k++) {
        int dup = 0;
        for (size_t i = c->n; i > 0 && !dup; i--)
            dup = strcmp(c->v[i - 1].id, idbuf) == 0;
        if (!dup)
            break;
        snprintf(idbuf, sizeof idbuf, "%s#%d", id, k);
    }
    ecase *e = &c->v[c->n];
    e->id = strdup(idbuf);
    e->split = strdup(split ? split : "");
    e->line = v;
    if (!e->id || !e->split) {
        free(e->id);
        free(e->split);
        json_decref(v);
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    c->n++;
    return 0;
}

static void cases_free(fw_eval_cases *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].id);
        free(c->v[i].split);
        json_decref(c->v[i].line);
    }
    free(c->v);
}

void fw_eval_run_opts_init(fw_eval_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->concurrency = 4;
    o->timeout_s = 60;
    o->max_retries = 5;
    o->backoff_base_s = 0.5;
    o->temperature = -1;
}

/* ---- the run row --------------------------------------------------------- */

typedef struct {
    long long id;
    long long created_ms; /* when the run was recorded: the time in its event ids */
    char *dataset, *endpoint, *model, *prompt, *scorers;
    const char *name;
    int version;
    fw_chat_params cp;
    double price_in, price_out;
    char *split;
    char url[2048];
} run_info;

static void run_info_free(run_info *r)
{
    free(r->dataset);
    free(r->endpoint);
    free(r->model);
    free(r->prompt);
    free(r->scorers);
    free(r->split);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void sha256_hex(const char *s, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)s, strlen(s), md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int pg_fail(PGresult *res, PGconn *conn, const char *what, char *err, size_t errsize)
{
    char msg[1024];
    snprintf(err, errsize, "%s: %s", what, fw_pg_errstr(msg, sizeof msg, res, conn));
    PQclear(res);
    return -1;
}

/* Refuses endpoints that carry credentials: they would be stored. */
static int check_endpoint(const char *ep, char *err, size_t errsize)
{
    const char *s = strstr(ep, "://");
    if (!s || (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0)) {
        snprintf(err, errsize, "endpoint \"%s\" is not an http:// or https:// URL", ep);
        return -1;
    }
    const char *host = s + 3, *slash = strchr(host, '/'), *at = strchr(host, '@');
    if (at && (!slash || at < slash)) {
        snprintf(err, errsize,
                 "endpoint must not contain credentials\n"
                 "hint: Pass the API key through the environment "
                 "(FLYWHEEL_EVAL_API_KEY); it is never stored.");
        return -1;
    }
    return 0;
}

static int load_run(PGconn *conn, const fw_eval_run_opts *o, run_info *ri, fw_scorers **scorers,
                    char *err, size_t errsize)
{
    const char *p[1] = {o->name};
    PGresult *res = PQexecParams(conn,
                                 "SELECT id, dataset, dataset_version, endpoint, model, prompt, "
                                 "scorers::text, parameters::text, status, "
                                 "(extract(epoch FROM created_at) * 1000)::bigint "
                                 "FROM flywheel.eval_runs WHERE name = $1",
                                 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_fail(res, conn, "could not read eval runs", err, errsize);
    int exists = PQntuples(res) == 1;
    if (exists && strcmp(PQgetvalue(res, 0, 8), "finished") == 0) {
        snprintf(err, errsize, "eval run \"%s\" is already finished\nhint: Choose another --name.",
                 o->name);
        PQclear(res);
        return -1;
    }
    if (exists && !o->resume) {
        snprintf(err, errsize,
                 "eval run \"%s\" already exists\nhint: Pass --resume to continue "
                 "it with its recorded dataset, endpoint, model, prompt and "
                 "scorers.",
                 o->name);
        PQclear(res);
        return -1;
    }
    if (!exists && o->resume) {
        snprintf(err, errsize, "eval run \"%s\" does not exist", o->name);
        PQclear(res);
        return -1;
    }
    ri->name = o->name;
    if (exists) {
        ri->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        ri->created_ms = strtoll(PQgetvalue(res, 0, 9), NULL, 10);
        ri->dataset = strdup(PQgetvalue(res, 0, 1));
        ri->version = (int)strtol(PQgetvalue(res, 0, 2), NULL, 10);
        ri->endpoint = strdup(PQgetvalue(res, 0, 3));
        ri->model = strdup(PQgetvalue(res, 0, 4));
        ri->prompt = PQgetisnull(res, 0, 5) ? NULL : strdup(PQgetvalue(res, 0, 5));
        ri->scorers = strdup(PQgetvalue(res, 0, 6));
        json_t *params = json_loads(PQgetvalue(res, 0, 7), 0, NULL);
        ri->cp.temperature = json_is_number(json_object_get(params, "temperature"))
                                 ? json_number_value(json_object_get(params, "temperature"))
                                 : -1;
        ri->cp.max_tokens = (int)json_integer_value(json_object_get(params, "max_tokens"));
        ri->price_in = json_number_value(json_object_get(params, "price_in"));
        ri->price_out = json_number_value(json_object_get(params, "price_out"));
        ri->split = dup_or_null(json_string_value(json_object_get(params, "split")));
        json_decref(params);
        PQclear(res);
        /* What the caller passes again must agree with what was recorded. */
        const char *what = NULL;
        if (o->endpoint && strcmp(o->endpoint, ri->endpoint) != 0)
            what = "endpoint";
        else if (o->model && strcmp(o->model, ri->model) != 0)
            what = "model";
        else if (o->dataset && (strcmp(o->dataset, ri->dataset) != 0 || o->version != ri->version))
            what = "dataset version";
        else if (o->prompt && (!ri->prompt || strcmp(o->prompt, ri->prompt) != 0))
            what = "prompt";
        if (what) {
            snprintf(err, errsize,
                     "the %s given differs from the one recorded with eval run "
                     "\"%s\"\nhint: Resume without it, or start a new run.",
                     what, o->name);
            return -1;
        }
        *scorers = fw_scorers_parse(ri->scorers, err, errsize);
        if (!*scorers)
            return -1;
        if (o->scorers) {
            fw_scorers *given = fw_scorers_parse(o->scorers, err, errsize);
            int same = given && strcmp(given->sha256, (*scorers)->sha256) == 0;
            fw_scorers_free(given);
            if (!same) {
                snprintf(err, errsize,
                         "the scorer configuration given differs from the one "
                         "recorded with eval run \"%s\"",
                         o->name);
                return -1;
            }
        }
        return 0;
    }
    PQclear(res);
    if (!o->dataset || o->version < 1 || !o->endpoint || !o->model) {
        snprintf(err, errsize,
                 "a new eval run needs a dataset, a version, an endpoint and a model");
        return -1;
    }
    if (check_endpoint(o->endpoint, err, errsize))
        return -1;
    *scorers = fw_scorers_parse(o->scorers ? o->scorers : DEFAULT_SCORERS, err, errsize);
    if (!*scorers)
        return -1;
    ri->dataset = strdup(o->dataset);
    ri->version = o->version;
    ri->endpoint = strdup(o->endpoint);
    ri->model = strdup(o->model);
    ri->prompt = dup_or_null(o->prompt);
    ri->scorers = strdup((*scorers)->canonical);
    ri->cp.temperature = o->temperature;
    ri->cp.max_tokens = o->max_tokens;
    ri->price_in = o->price_in;
    ri->price_out = o->price_out;
    ri->split = dup_or_null(o->split);
    if (!ri->dataset || !ri->endpoint || !ri->model || !ri->scorers) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    char ver[16], psha[65];
    snprintf(ver, sizeof ver, "%d", o->version);
    const char *fp[2] = {o->dataset, ver};
    res = PQexecParams(conn,
                       "SELECT format FROM flywheel.dataset_versions WHERE dataset = $1 AND "
                       "version = $2::int",
                       2, NULL, fp, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_fail(res, conn, "could not read dataset versions", err, errsize);
    if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "eval") != 0) {
        snprintf(err, errsize,
                 PQntuples(res) ? "dataset \"%s\" version %d is not an eval set (format %s)"
                                : "dataset \"%s\" has no version %d%s",
                 o->dataset, o->version, PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
        if (!PQntuples(res))
            snprintf(err + strlen(err), errsize - strlen(err),
                     "\nhint: Record one with flywheel export --format eval --dataset %s.",
                     o->dataset);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    json_t *params = json_pack("{s:i,s:f,s:f,s:i,s:f,s:f}", "concurrency", o->concurrency, "rate",
                               o->rate, "timeout_s", o->timeout_s, "max_retries", o->max_retries,
                               "price_in", o->price_in, "price_out", o->price_out);
    if (params && o->temperature >= 0)
        json_object_set_new(params, "temperature", json_real(o->temperature));
    if (params && o->max_tokens > 0)
        json_object_set_new(params, "max_tokens", json_integer(o->max_tokens));
    if (params && o->split)
        json_object_set_new(params, "split", json_string(o->split));
    char *ptext = params ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(params);
    if (!ptext) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    if (o->prompt)
        sha256_hex(o->prompt, psha);
    const char *ip[9] = {o->name,
                         o->dataset,
                         ver,
                         o->endpoint,
                         o->model,
                         o->prompt,
                         o->prompt ? psha : NULL,
                         ri->scorers,
                         (*scorers)->sha256};
    const char *ip2[10];
    memcpy(ip2, ip, sizeof ip);
    ip2[9] = ptext;
    res = PQexecParams(conn,
                       "INSERT INTO flywheel.eval_runs (name, dataset, dataset_version, endpoint, "
                       "model, prompt, prompt_sha256, scorers, scorers_sha256, parameters) "
                       "VALUES ($1, $2, $3::int, $4, $5, $6, $7, $8::jsonb, $9, $10::jsonb) "
                       "RETURNING id, (extract(epoch FROM created_at) * 1000)::bigint",
                       10, NULL, ip2, NULL, NULL, 0);
    free(ptext);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_fail(res, conn, "could not record the eval run", err, errsize);
    ri->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    ri->created_ms = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    return 0;
}

/* ---- jobs ------------------------------------------------------------------ */

typedef struct job job;
typedef struct {
    job *j;
    int scorer; /* index into the scorer set */
    int order;
    fw_http_req req;
    json_t *request; /* NULL when the case was not sent to this judge */
    fw_chat_answer ans;
    int answered; /* ans holds a parsed answer */
    int failed;   /* the call failed: why says how */
    double t_start, t_end;
    int have;
    double value;
    char why[400];
} jcall;

struct job {
    ecase *c;
    int seq;
    size_t slot;
    fw_http_req req;
    int state; /* 0 model, 1 judges, 2 ready */
    int error;
    char errtext[300];
    fw_chat_answer ans;
    double *scores; /* per scorer; NAN: none */
    char **expl;
    jcall *calls;
    int n_calls, calls_left;
    json_t *request;
    double t_start; /* wall clock of the first attempt */
    double t_end;
    job *next;
};

typedef struct {
    PGconn *conn;
    const fw_eval_run_opts *o;
    run_info *ri;
    fw_scorers *sc;
    fw_http *h;
    fw_limiter lim, jlim;
    const char **judge_keys;
    char **judge_urls;
    int n_judge_calls;
    job *ready;
    job **slots; /* every live job, so an error exit frees them all */
    size_t n_ready, in_flight;
    fw_eval_progress prog;
    double t0, last_progress;
    int prepared;
} runner;

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void job_free(runner *r, job *j)
{
    if (!j)
        return;
    if (r->slots[j->slot] == j)
        r->slots[j->slot] = NULL;
    free(j->req.body);
    fw_http_req_reset(&j->req);
    for (int i = 0; i < j->n_calls; i++) {
        free(j->calls[i].req.body);
        fw_http_req_reset(&j->calls[i].req);
        json_decref(j->calls[i].request);
        if (j->calls[i].answered)
            fw_chat_answer_free(&j->calls[i].ans);
    }
    free(j->calls);
    for (size_t i = 0; j->expl && i < r->sc->n; i++)
        free(j->expl[i]);
    free(j->expl);
    free(j->scores);
    fw_chat_answer_free(&j->ans);
    json_decref(j->request);
    free(j);
}

static int set_expl(job *j, size_t i, const char *s)
{
    free(j->expl[i]);
    j->expl[i] = strdup(s);
    return j->expl[i] ? 0 : -1;
}

static void make_ready(runner *r, job *j)
{
    j->state = 2;
    j->next = r->ready;
    r->ready = j;
    r->n_ready++;
}

static int start_job(runner *r, ecase *c, int seq, char *err, size_t errsize)
{
    job *j = calloc(1, sizeof *j);
    if (!j || !(j->scores = calloc(r->sc->n, sizeof(double))) ||
        !(j->expl = calloc(r->sc->n, sizeof(char *)))) {
        job_free(r, j);
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    j->c = c;
    j->seq = seq;
    for (j->slot = 0; r->slots[j->slot]; j->slot++)
        ;
    r->slots[j->slot] = j;
    for (size_t i = 0; i < r->sc->n; i++)
        j->scores[i] = NAN;
    j->request = fw_chat_request(c->line, r->ri->model, r->ri->prompt, &r->ri->cp);
    char *body = j->request ? json_dumps(j->request, JSON_COMPACT) : NULL;
    if (!body) {
        job_free(r, j);
        snprintf(err, errsize, "could not build the request of case %s", c->id);
        return -1;
    }
    j->req.url = r->ri->url;
    j->req.body = body;
    j->req.body_len = strlen(body);
    j->req.api_key = r->o->api_key;
    j->req.lim = &r->lim;
    j->req.user = j;
    j->req.tag = 0;
    j->t_start = wall_now();
    fw_http_submit(r->h, &j->req);
    r->in_flight++;
    return 0;
}

/* Scores an answered case with every scorer that needs no model and
 * submits its judge calls. */
static int score_job(runner *r, job *j, char *err, size_t errsize)
{
    char expl[600];
    int judges = 0;
    for (size_t i = 0; i < r->sc->n; i++) {
        const fw_scorer *s = &r->sc->v[i];
        if (j->error) {
            j->scores[i] = 0;
            snprintf(expl, sizeof expl, "no answer: %s", j->errtext);
        } else if (s->type == FW_SC_JUDGE) {
            judges += fw_judge_calls(s);
            continue;
        } else if (fw_sc_score(s, j->ans.text, j->ans.message, j->c->line, &j->scores[i], expl,
                               sizeof expl)) {
            snprintf(err, errsize, "out of memory");
            return -1;
        }
        if (set_expl(j, i, expl)) {
            snprintf(err, errsize, "out of memory");
            return -1;
        }
    }
    if (judges == 0) {
        make_ready(r, j);
        return 0;
    }
    j->calls = calloc((size_t)judges, sizeof *j->calls);
    if (!j->calls) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    j->state = 1;
    int k = 0, key = 0;
    for (size_t i = 0; i < r->sc->n; i++) {
        const fw_scorer *s = &r->sc->v[i];
        if (s->type != FW_SC_JUDGE)
            continue;
        for (int order = 0; order < fw_judge_calls(s); order++) {
            jcall *c = &j->calls[k++];
            c->j = j;
            c->scorer = (int)i;
            c->order = order;
            int skip = 0;
            json_t *req = fw_judge_request(s, order, j->c->line, j->ans.text, j->ans.message, &skip,
                                           c->why, sizeof c->why);
            if (skip) {
                c->have = 0;
                continue;
            }
            char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
            c->request = req; /* kept: the call is recorded as a generation */
            if (!body) {
                snprintf(err, errsize, "out of memory");
                return -1;
            }
            c->req.url = r->judge_urls[key];
            c->req.body = body;
            c->req.body_len = strlen(body);
            c->req.api_key = r->judge_keys[key];
            c->req.lim = &r->jlim;
            c->req.user = c;
            c->req.tag = 1;
            c->t_start = wall_now();
            fw_http_submit(r->h, &c->req);
            j->calls_left++;
        }
        key++;
    }
    j->n_calls = k;
    if (j->calls_left == 0)
        goto judged;
    return 0;
judged:
    return 1; /* caller finishes the judges at once */
}

/* Combines the judge calls of a job into scores. */
static int finish_judges(runner *r, job *j, char *err, size_t errsize)
{
    for (size_t i = 0; i < r->sc->n; i++) {
        if (r->sc->v[i].type != FW_SC_JUDGE)
            continue;
        double sum = 0;
        int n = 0, all = 1;
        char expl[900] = "";
        for (int k = 0; k < j->n_calls; k++) {
            jcall *c = &j->calls[k];
            if (c->scorer != (int)i)
                continue;
            size_t len = strlen(expl);
            if (r->sc->v[i].j_pairwise)
                snprintf(expl + len, sizeof expl - len, "%sorder %d: %s", len ? "; " : "",
                         c->order + 1, c->why);
            else
                snprintf(expl + len, sizeof expl - len, "%s", c->why);
            if (c->have) {
                sum += c->value;
                n++;
            } else {
                all = 0;
            }
        }
        j->scores[i] = all && n > 0 ? sum / n : NAN;
        if (set_expl(j, i, expl)) {
            snprintf(err, errsize, "out of memory");
            return -1;
        }
    }
    make_ready(r, j);
    return 0;
}

static void model_done(runner *r, job *j, char *err, size_t errsize, int *rc)
{
    fw_http_req *q = &j->req;
    j->t_end = wall_now();
    r->prog.calls += q->attempts;
    if (q->failed || q->status < 200 || q->status > 299) {
        j->error = 1;
        if (q->failed)
            snprintf(j->errtext, sizeof j->errtext, "%s after %d attempts", q->error, q->attempts);
        else
            snprintf(j->errtext, sizeof j->errtext, "HTTP status %ld after %d attempts", q->status,
                     q->attempts);
    } else if (fw_chat_parse(q->resp, q->resp_len, &j->ans, j->errtext, sizeof j->errtext)) {
        j->error = 1;
    }
    int s = score_job(r, j, err, errsize);
    if (s < 0)
        *rc = -1;
    else if (s == 1 && finish_judges(r, j, err, errsize))
        *rc = -1;
}

static void judge_done(runner *r, jcall *c, char *err, size_t errsize, int *rc)
{
    job *j = c->j;
    fw_http_req *q = &c->req;
    c->t_end = wall_now();
    r->prog.calls += q->attempts;
    char why[300];
    if (q->failed || q->status < 200 || q->status > 299) {
        c->failed = 1;
        if (q->failed)
            snprintf(c->why, sizeof c->why, "judge call failed: %s after %d attempts", q->error,
                     q->attempts);
        else
            snprintf(c->why, sizeof c->why, "judge call failed: HTTP status %ld after %d attempts",
                     q->status, q->attempts);
    } else if (fw_chat_parse(q->resp, q->resp_len, &c->ans, why, sizeof why)) {
        c->failed = 1;
        snprintf(c->why, sizeof c->why, "judge %s", why);
    } else {
        c->answered = 1;
        c->have = fw_judge_read(&r->sc->v[c->scorer], c->order, c->ans.text, &c->value, c->why,
                                sizeof c->why);
    }
    if (--j->calls_left == 0 && finish_judges(r, j, err, errsize))
        *rc = -1;
}

/* ---- storing --------------------------------------------------------------- */

/*
 * The event id of a generation the run records: a UUIDv7 whose time is when
 * the run was recorded and whose other 74 bits come from SHA-256 of `key`
 * (the run and the case, and for a judge call the scorer and the order). It
 * is the same every time the run is resumed, so a call sent again in the
 * crash window is still one generation, and like every event id it places
 * its row by its time (schema/README.md).
 */
static void event_uuid(long long created_ms, const char *key, char out[37])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)key, strlen(key), md);
    unsigned long long ms = created_ms > 0 ? (unsigned long long)created_ms : 0;
    for (int i = 0; i < 6; i++)
        md[i] = (unsigned char)(ms >> (40 - 8 * i));
    md[6] = (unsigned char)((md[6] & 0x0F) | 0x70); /* version 7 */
    md[8] = (unsigned char)((md[8] & 0x3F) | 0x80); /* RFC 9562 variant */
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[md[i] >> 4];
        out[o++] = hex[md[i] & 15];
    }
    out[o] = '\0';
}

static void case_uuid(const run_info *ri, const char *case_id, char out[37])
{
    char key[512];
    snprintf(key, sizeof key, "flywheel.eval\x1f%lld\x1f%s", ri->id, case_id);
    event_uuid(ri->created_ms, key, out);
}

static json_t *iso_time(double t)
{
    char buf[64];
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%06ldZ", (long)((t - (double)s) * 1e6));
    return json_string(buf);
}

/* One call (to the model or to a judge) as a generation, in the collector's
 * column shapes. `ans` is NULL when the call failed (errtext says why).
 * Takes the references of attrs and tags. */
typedef struct {
    const char *uuid, *model, *errtext;
    const json_t *request;
    const fw_chat_answer *ans;
    double t_start, t_end, cost;
    json_t *attrs, *tags;
} call_gen;

static json_t *gen_json(const runner *r, const ecase *c, call_gen *g)
{
    json_t *gen = json_object();
    int bad = !gen || !g->attrs || !g->tags;
    const fw_chat_answer *a = g->ans;
    json_t *in = fw_chat_to_otel(json_object_get(g->request, "messages"));
    json_t *outm = json_array();
    if (outm && a) {
        json_t *one = json_pack("[O]", a->message);
        json_t *conv = one ? fw_chat_to_otel(one) : NULL;
        json_decref(one);
        json_decref(outm);
        outm = conv;
        if (outm && a->finish_reason)
            json_object_set_new(json_array_get(outm, 0), "finish_reason",
                                json_string(a->finish_reason));
    }
    const json_t *meta = json_object_get(c->line, "metadata");
    const char *project = json_string_value(json_object_get(meta, "project"));
    json_t *params = json_deep_copy(g->request);
    if (params) {
        json_object_del(params, "messages");
        json_object_del(params, "tools");
        json_object_del(params, "model");
    }
    bad |= !in || !outm || !params;
    if (!gen) {
        json_decref(in);
        json_decref(outm);
        json_decref(params);
        json_decref(g->attrs);
        json_decref(g->tags);
        return NULL;
    }
    bad |= json_object_set_new(gen, "event_id", json_string(g->uuid));
    bad |= json_object_set_new(gen, "event_time", iso_time(g->t_end));
    bad |= json_object_set_new(gen, "input_messages", in);
    bad |= json_object_set_new(gen, "output_messages", outm);
    bad |= json_object_set_new(gen, "attributes", g->attrs);
    bad |= json_object_set_new(gen, "request_params", params);
    bad |= json_object_set_new(gen, "tags", g->tags);
    bad |= json_object_set_new(gen, "project", json_string(project ? project : ""));
    bad |= json_object_set_new(gen, "release", json_string(r->ri->name));
    bad |= json_object_set_new(gen, "request_model", json_string(g->model));
    bad |= json_object_set_new(gen, "response_model", json_string(a && a->model ? a->model : ""));
    if (a && a->id)
        bad |= json_object_set_new(gen, "response_id", json_string(a->id));
    if (a && a->input_tokens >= 0)
        bad |= json_object_set_new(gen, "input_tokens", json_integer(a->input_tokens));
    if (a && a->output_tokens >= 0)
        bad |= json_object_set_new(gen, "output_tokens", json_integer(a->output_tokens));
    const json_t *tools = json_object_get(g->request, "tools");
    if (tools) {
        json_t *t = fw_chat_tools_to_otel(tools);
        bad |= !t || json_object_set_new(gen, "tool_definitions", t);
    }
    bad |= json_object_set_new(gen, "finish_reasons",
                               a && a->finish_reason ? json_pack("[s]", a->finish_reason)
                                                     : json_array());
    bad |= json_object_set_new(gen, "cost_micro_usd",
                               json_integer(g->cost > 0 ? (json_int_t)llround(g->cost * 1e6) : 0));
    bad |= json_object_set_new(gen, "start_time", iso_time(g->t_start));
    bad |= json_object_set_new(gen, "end_time", iso_time(g->t_end));
    bad |= json_object_set_new(gen, "duration_ms", json_real((g->t_end - g->t_start) * 1000));
    bad |= json_object_set_new(gen, "status", json_string(a ? "ok" : "error"));
    if (!a) {
        bad |= json_object_set_new(gen, "error_type", json_string("eval_call_failed"));
        bad |= json_object_set_new(gen, "error_message", json_string(g->errtext ? g->errtext : ""));
    }
    if (bad) {
        json_decref(gen);
        return NULL;
    }
    return gen;
}

static json_t *run_attrs(const runner *r, const job *j)
{
    char ds[128];
    snprintf(ds, sizeof ds, "%s@%d", r->ri->dataset, r->ri->version);
    return json_pack("{s:s,s:I,s:s,s:s}", "flywheel.eval.run", r->ri->name, "flywheel.eval.run_id",
                     (json_int_t)r->ri->id, "flywheel.eval.case", j->c->id, "flywheel.eval.dataset",
                     ds);
}

static json_t *case_json(runner *r, job *j)
{
    char uuid[37];
    case_uuid(r->ri, j->c->id, uuid);
    json_t *o = json_object(), *scores = json_array(), *gens = json_array();
    if (!o || !scores || !gens || json_object_set_new(o, "scores", scores) ||
        json_object_set_new(o, "gens", gens)) {
        json_decref(o);
        return NULL;
    }
    int bad = 0;
    bad |= json_object_set_new(o, "case_id", json_string(j->c->id));
    bad |= json_object_set_new(o, "seq", json_integer(j->seq));
    bad |= json_object_set_new(o, "split", json_string(j->c->split));
    bad |= json_object_set_new(o, "status", json_string(j->error ? "error" : "ok"));
    if (!j->error) {
        bad |= json_object_set(o, "output", j->ans.message);
        bad |= json_object_set_new(o, "output_text", json_string(j->ans.text));
    } else {
        bad |= json_object_set_new(o, "error", json_string(j->errtext));
    }
    if (j->req.status)
        bad |= json_object_set_new(o, "http_status", json_integer(j->req.status));
    bad |= json_object_set_new(o, "attempts", json_integer(j->req.attempts));
    double cost = -1;
    if (!j->error && j->ans.input_tokens >= 0)
        bad |= json_object_set_new(o, "input_tokens", json_integer(j->ans.input_tokens));
    if (!j->error && j->ans.output_tokens >= 0)
        bad |= json_object_set_new(o, "output_tokens", json_integer(j->ans.output_tokens));
    if (!j->error && (r->ri->price_in > 0 || r->ri->price_out > 0) && j->ans.input_tokens >= 0 &&
        j->ans.output_tokens >= 0) {
        cost = ((double)j->ans.input_tokens * r->ri->price_in +
                (double)j->ans.output_tokens * r->ri->price_out) /
               1e6;
        bad |= json_object_set_new(o, "cost_usd", json_real(cost));
    }
    if (j->req.attempts > 0)
        bad |= json_object_set_new(o, "latency_ms", json_real(j->req.latency_ms));
    bad |= json_object_set_new(o, "event_id", json_string(uuid));
    bad |= json_object_set_new(o, "event_time", iso_time(j->t_end));
    for (size_t i = 0; i < r->sc->n; i++) {
        json_t *s = json_pack("{s:s,s:s}", "scorer", r->sc->v[i].name, "explanation",
                              j->expl[i] ? j->expl[i] : "");
        if (s && !isnan(j->scores[i]))
            json_object_set_new(s, "score", json_real(j->scores[i]));
        bad |= json_array_append_new(scores, s);
    }
    /* The model's call, then every judge call made for the case: each is a
     * generation, tagged with the run, that can be reviewed like any other. */
    char tag[128];
    snprintf(tag, sizeof tag, "eval-run:%s", r->ri->name);
    call_gen mg = {.uuid = uuid,
                   .model = r->ri->model,
                   .errtext = j->errtext,
                   .request = j->request,
                   .ans = j->error ? NULL : &j->ans,
                   .t_start = j->t_start,
                   .t_end = j->t_end,
                   .cost = cost,
                   .attrs = run_attrs(r, j),
                   .tags = json_pack("[s,s]", "eval", tag)};
    bad |= json_array_append_new(gens, gen_json(r, j->c, &mg));
    for (int k = 0; k < j->n_calls; k++) {
        const jcall *c = &j->calls[k];
        if (!c->request)
            continue; /* not sent (a pairwise judge without a reference) */
        const fw_scorer *sc = &r->sc->v[c->scorer];
        char key[600], juuid[37];
        snprintf(key, sizeof key, "flywheel.eval.judge\x1f%lld\x1f%s\x1f%s\x1f%d", r->ri->id,
                 j->c->id, sc->name, c->order);
        event_uuid(r->ri->created_ms, key, juuid);
        json_t *attrs = run_attrs(r, j);
        if (attrs) {
            bad |= json_object_set_new(attrs, "flywheel.eval.judge", json_string(sc->name));
            bad |=
                json_object_set_new(attrs, "flywheel.eval.judge_order", json_integer(c->order + 1));
            bad |= json_object_set_new(attrs, "flywheel.eval.judged_event_id", json_string(uuid));
            if (c->have)
                bad |= json_object_set_new(attrs, "flywheel.eval.judge_value", json_real(c->value));
        }
        call_gen jg = {.uuid = juuid,
                       .model = sc->j_model ? sc->j_model : "",
                       .errtext = c->why,
                       .request = c->request,
                       .ans = c->answered ? &c->ans : NULL,
                       .t_start = c->t_start,
                       .t_end = c->t_end,
                       .cost = -1,
                       .attrs = attrs,
                       .tags = json_pack("[s,s,s]", "eval", tag, "eval-judge")};
        bad |= json_array_append_new(gens, gen_json(r, j->c, &jg));
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char store_sql[] =
    "WITH b AS ("
    "  SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(case_id text, seq int, split text,"
    "    status text, output jsonb, output_text text, error text, http_status int,"
    "    attempts int, input_tokens bigint, output_tokens bigint, cost_usd float8,"
    "    latency_ms float8, event_id uuid, event_time timestamptz, scores jsonb, gens jsonb)),"
    " c AS (INSERT INTO flywheel.eval_cases (run_id, case_id, seq, split, status, output,"
    "    output_text, error, http_status, attempts, input_tokens, output_tokens, cost_usd,"
    "    latency_ms, event_id, event_time)"
    "  SELECT $1::bigint, case_id, seq, split, status, output, output_text, error, http_status,"
    "    attempts, input_tokens, output_tokens, cost_usd, latency_ms, event_id, event_time"
    "  FROM b),"
    " s AS (INSERT INTO flywheel.eval_scores (run_id, case_id, scorer, score, explanation)"
    "  SELECT $1::bigint, b.case_id, x.scorer, x.score, x.explanation FROM b,"
    "    jsonb_to_recordset(b.scores) AS x(scorer text, score float8, explanation text)),"
    " g AS (INSERT INTO flywheel.generations (event_id, event_time, project, environment,"
    "    release, sdk_name, sdk_version, schema_version, attributes, tags, operation_name,"
    "    provider_name, request_model, response_model, response_id, request_params,"
    "    input_messages, output_messages, tool_definitions, finish_reasons, input_tokens,"
    "    output_tokens, cost_micro_usd, start_time, end_time, duration_ms, status, error_type,"
    "    error_message, id_time)"
    "  SELECT (gen->>'event_id')::uuid, (gen->>'event_time')::timestamptz, gen->>'project',"
    "    'eval', gen->>'release', 'flywheel-eval', $3, 1, gen->'attributes',"
    "    ARRAY(SELECT jsonb_array_elements_text(gen->'tags')), 'chat', 'openai',"
    "    gen->>'request_model', gen->>'response_model', gen->>'response_id',"
    "    gen->'request_params', gen->'input_messages', gen->'output_messages',"
    "    gen->'tool_definitions', ARRAY(SELECT jsonb_array_elements_text(gen->'finish_reasons')),"
    "    (gen->>'input_tokens')::bigint, (gen->>'output_tokens')::bigint,"
    "    (gen->>'cost_micro_usd')::bigint, (gen->>'start_time')::timestamptz,"
    "    (gen->>'end_time')::timestamptz, (gen->>'duration_ms')::float8, gen->>'status',"
    "    gen->>'error_type', gen->>'error_message', "
    "flywheel.event_id_time((gen->>'event_id')::uuid)"
    "  FROM b, jsonb_array_elements(b.gens) AS gen)"
    " SELECT count(*) FROM b";

#ifndef FW_VERSION_STR
#define FW_VERSION_STR "unknown"
#endif

static int store_ready(runner *r, char *err, size_t errsize)
{
    if (!r->ready)
        return 0;
    json_t *arr = json_array();
    int rc = -1;
    if (!arr) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    for (job *j = r->ready; j; j = j->next) {
        json_t *c = case_json(r, j);
        if (!c || json_array_append_new(arr, c)) {
            snprintf(err, errsize, "out of memory");
            goto out;
        }
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    if (!text) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", r->ri->id);
    const char *p[3] = {id, text, FW_VERSION_STR};
    PGresult *res;
    if (!r->prepared) {
        /* Planned once: the statement is the same every turn. */
        res = PQprepare(r->conn, "fw_eval_store", store_sql, 3, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            free(text);
            pg_fail(res, r->conn, "could not prepare the statement storing eval cases", err,
                    errsize);
            goto out;
        }
        PQclear(res);
        r->prepared = 1;
    }
    res = PQexecPrepared(r->conn, "fw_eval_store", 3, p, NULL, NULL, 0);
    free(text);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pg_fail(res, r->conn, "could not store eval cases", err, errsize);
        goto out;
    }
    PQclear(res);
    while (r->ready) {
        job *j = r->ready;
        r->ready = j->next;
        r->prog.done++;
        if (j->error)
            r->prog.errors++;
        r->in_flight--;
        job_free(r, j);
    }
    r->n_ready = 0;
    rc = 0;
out:
    json_decref(arr);
    return rc;
}

/* ---- the loop ---------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Ids of the cases the run already stored, sorted. */
static char **done_ids(PGconn *conn, long long run_id, size_t *n, char *err, size_t errsize)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", run_id);
    const char *p[1] = {id};
    PGresult *res = PQexecParams(conn, "SELECT case_id FROM flywheel.eval_cases WHERE run_id = $1",
                                 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pg_fail(res, conn, "could not read stored cases", err, errsize);
        return NULL;
    }
    *n = (size_t)PQntuples(res);
    char **v = calloc(*n + 1, sizeof *v);
    for (size_t i = 0; v && i < *n; i++)
        if (!(v[i] = strdup(PQgetvalue(res, (int)i, 0)))) {
            for (size_t k = 0; k < i; k++)
                free(v[k]);
            free(v);
            v = NULL;
        }
    PQclear(res);
    if (!v) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static int report(runner *r, int force)
{
    double now = fw_http_now();
    if (!r->o->progress || (!force && now - r->last_progress < 0.1))
        return 0;
    r->last_progress = now;
    r->prog.elapsed_s = now - r->t0;
    r->prog.retries = fw_http_retries(r->h);
    return r->o->progress(r->o->progress_ctx, &r->prog);
}

static int lock_run(PGconn *conn, long long id, char *err, size_t errsize)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *p[1] = {ids};
    PGresult *res = PQexecParams(conn,
                                 "SELECT pg_try_advisory_lock(hashtext('flywheel.eval_run'), "
                                 "$1::int)",
                                 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_fail(res, conn, "could not lock the eval run", err, errsize);
    int got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!got) {
        snprintf(err, errsize,
                 "eval run is being run by another process\n"
                 "detail: Another session holds the run's advisory lock.");
        return -1;
    }
    return 0;
}

static int finish_run(runner *r, char *err, size_t errsize)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", r->ri->id);
    const char *p[1] = {id};
    PGresult *res =
        PQexecParams(r->conn,
                     "UPDATE flywheel.eval_runs SET status = 'finished', finished_at = now() "
                     "WHERE id = $1 AND cases_total = (SELECT count(*) FROM flywheel.eval_cases "
                     "WHERE run_id = $1)",
                     1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return pg_fail(res, r->conn, "could not finish the eval run", err, errsize);
    PQclear(res);
    return 0;
}

static int set_total(runner *r, long long total, char *err, size_t errsize)
{
    char id[24], n[24];
    snprintf(id, sizeof id, "%lld", r->ri->id);
    snprintf(n, sizeof n, "%lld", total);
    const char *p[2] = {id, n};
    PGresult *res =
        PQexecParams(r->conn, "UPDATE flywheel.eval_runs SET cases_total = $2 WHERE id = $1", 2,
                     NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return pg_fail(res, r->conn, "could not update the eval run", err, errsize);
    PQclear(res);
    return 0;
}

static int loop(runner *r, fw_eval_cases *cases, char **done, size_t n_done, char *err,
                size_t errsize)
{
    size_t next = 0;
    size_t cap = (size_t)r->o->concurrency;
    int rc = 0;
    for (;;) {
        /* Refill only after the previous turn's answers are stored. */
        while (r->in_flight < cap && next < cases->n) {
            ecase *c = &cases->v[next];
            int seq = (int)next++;
            if (r->ri->split && strcmp(c->split, r->ri->split) != 0)
                continue;
            if (bsearch(&c->id, done, n_done, sizeof *done, cmp_str))
                continue;
            if (start_job(r, c, seq, err, errsize))
                return 1;
        }
        if (r->in_flight == 0 && next >= cases->n)
            break;
        fw_http_req *fin = fw_http_run(r->h, 100);
        int frc = 0;
        while (fin) {
            fw_http_req *q = fin;
            fin = q->next;
            q->next = NULL;
            if (q->tag == 0)
                model_done(r, (job *)q->user, err, errsize, &frc);
            else
                judge_done(r, (jcall *)q->user, err, errsize, &frc);
        }
        if (frc)
            return 1;
        if (store_ready(r, err, errsize))
            return 1;
        if (report(r, 0)) {
            rc = 2;
            break;
        }
    }
    return rc;
}

int fw_eval_run(PGconn *conn, const fw_eval_run_opts *o, fw_eval_progress *summary, char *err,
                size_t errsize)
{
    run_info ri = {0};
    fw_scorers *sc = NULL;
    fw_eval_cases cases = {0};
    char **done = NULL;
    size_t n_done = 0;
    runner r = {0};
    int rc = 1;
    err[0] = '\0';
    if (!o->name || !o->load) {
        snprintf(err, errsize, "an eval run needs a name and a case source");
        return 1;
    }
    if (load_run(conn, o, &ri, &sc, err, errsize) || lock_run(conn, ri.id, err, errsize))
        goto out;
    snprintf(ri.url, sizeof ri.url, "%.*s/chat/completions",
             (int)(strlen(ri.endpoint) - (ri.endpoint[strlen(ri.endpoint) - 1] == '/')),
             ri.endpoint);
    if (o->load(o->load_ctx, conn, ri.dataset, ri.version, &cases, err, errsize))
        goto out;
    long long total = 0;
    for (size_t i = 0; i < cases.n; i++)
        if (!ri.split || strcmp(cases.v[i].split, ri.split) == 0)
            total++;
    r.conn = conn;
    r.o = o;
    r.ri = &ri;
    r.sc = sc;
    r.lim.rate = o->rate;
    r.slots = calloc((size_t)(o->concurrency > 0 ? o->concurrency : 1) + 1, sizeof *r.slots);
    if (!r.slots) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    if (set_total(&r, total, err, errsize))
        goto out;
    if (!(done = done_ids(conn, ri.id, &n_done, err, errsize)))
        goto out;
    r.judge_keys = calloc(sc->n + 1, sizeof *r.judge_keys);
    r.judge_urls = calloc(sc->n + 1, sizeof *r.judge_urls);
    if (!r.judge_keys || !r.judge_urls) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    for (size_t i = 0, k = 0; i < sc->n; i++)
        if (sc->v[i].type == FW_SC_JUDGE) {
            const char *env = sc->v[i].j_key_env, *ep = sc->v[i].j_endpoint;
            size_t len = strlen(ep);
            if (check_endpoint(ep, err, errsize))
                goto out;
            r.judge_urls[k] = malloc(len + 32);
            if (!r.judge_urls[k]) {
                snprintf(err, errsize, "out of memory");
                goto out;
            }
            snprintf(r.judge_urls[k], len + 32, "%.*s/chat/completions",
                     (int)(len - (len > 0 && ep[len - 1] == '/')), ep);
            r.judge_keys[k] = env && o->getenv_fn ? o->getenv_fn(env) : NULL;
            if (env && !r.judge_keys[k]) {
                snprintf(err, errsize, "judge \"%s\" needs its API key in $%s", sc->v[i].name, env);
                goto out;
            }
            k++;
        }
    fw_http_opts ho = {o->concurrency > 0 ? o->concurrency : 1,
                       o->timeout_s > 0 ? o->timeout_s : 60,
                       o->max_retries >= 0 ? o->max_retries : 0,
                       o->backoff_base_s > 0 ? o->backoff_base_s : 0.5, 30};
    r.h = fw_http_new(&ho, err, errsize);
    if (!r.h)
        goto out;
    r.prog.total = total;
    r.prog.done = r.prog.resumed = (long long)n_done;
    r.t0 = fw_http_now();
    rc = loop(&r, &cases, done, n_done, err, errsize);
    if (rc == 0 && finish_run(&r, err, errsize))
        rc = 1;
    report(&r, 1);
out:
    if (summary)
        *summary = r.prog;
    if (r.prepared)
        PQclear(PQexec(conn, "DEALLOCATE fw_eval_store"));
    fw_http_free(r.h);
    for (size_t i = 0; r.slots && i < (size_t)o->concurrency + 1; i++)
        job_free(&r, r.slots[i]);
    free(r.slots);
    free(r.judge_keys);
    for (size_t i = 0; r.judge_urls && i < sc->n; i++)
        free(r.judge_urls[i]);
    free(r.judge_urls);
    for (size_t i = 0; done && i < n_done; i++)
        free(done[i]);
    free(done);
    cases_free(&cases);
    fw_scorers_free(sc);
    run_info_free(&ri);
    return rc;
}
