/*
 * flywheel/eval.h: eval runs, the part of the store layer behind
 * `flywheel eval` (and later the web pages and the Python binding).
 *
 * A run sends every case of a recorded eval dataset version to an
 * OpenAI-compatible chat completions endpoint, scores each answer with the
 * configured scorers and stores the case, its scores and a generation
 * (environment "eval") in PostgreSQL before it moves on. Runs are compared
 * with bootstrap confidence intervals, and a comparison can gate a release.
 *
 * Rules of the library: no stdio, no exit, no terminal; results come back
 * as jansson documents or through the callbacks given; errors as a
 * PostgreSQL-style message in the caller's buffer (a primary line, then
 * optional "detail: " and "hint: " lines). Functions block on PostgreSQL
 * and on HTTP; none is thread-safe on the same connection. Strings passed
 * in are copied or used only during the call.
 */
#ifndef FLYWHEEL_EVAL_H
#define FLYWHEEL_EVAL_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

/* One case source: called by fw_eval_run once the dataset version is
 * known, it appends the version's eval lines with fw_eval_cases_add.
 * Returns 0, or -1 with err filled. */
typedef struct fw_eval_cases fw_eval_cases;
typedef int (*fw_eval_load_fn)(void *ctx, PGconn *conn, const char *dataset, int version,
                               fw_eval_cases *out, char *err, size_t errsize);

/* Appends one eval-format line (see docs/export.md) of split `split`.
 * Returns 0, or -1 when it is not an eval line (err says why). */
int fw_eval_cases_add(fw_eval_cases *c, const char *line, size_t len, const char *split, char *err,
                      size_t errsize);

typedef struct {
    long long total, done, errors; /* done includes cases finished before a resume */
    long long resumed;             /* cases skipped because they were already stored */
    long long calls, retries;      /* HTTP calls made by this process (model and judge) */
    double elapsed_s;
} fw_eval_progress;

/* Progress, at most ~10 times a second and once at the end. A non-zero
 * return cancels the run (it stays resumable). */
typedef int (*fw_eval_progress_fn)(void *ctx, const fw_eval_progress *p);

typedef struct {
    const char *name;    /* run name, required */
    int resume;          /* continue an unfinished run of this name */
    const char *dataset; /* new runs: the eval dataset and version */
    int version;
    const char *endpoint; /* base URL; POST {endpoint}/chat/completions */
    const char *model;
    const char *prompt;  /* system prompt replacing the cases' own; NULL: keep theirs */
    const char *scorers; /* scorer configuration (JSON text); NULL: exact + normalized */
    const char *api_key; /* never stored; NULL: no Authorization header */
    const char *(*getenv_fn)(const char *name); /* for judges' api_key_env; NULL: none */
    int concurrency;                            /* default 4 */
    double rate;                                /* requests/s to the endpoint; 0: unlimited */
    double timeout_s;                           /* per attempt, default 60 */
    int max_retries;                            /* default 5 */
    double backoff_base_s;                      /* default 0.5 */
    double temperature;                         /* < 0: not sent (default -1) */
    int max_tokens;                             /* 0: not sent */
    double price_in, price_out;                 /* USD per million tokens, for cost; 0: unknown */
    const char *split;                          /* only cases of this split; NULL: all */
    fw_eval_load_fn load;
    void *load_ctx;
    fw_eval_progress_fn progress;
    void *progress_ctx;
} fw_eval_run_opts;

/* Defaults for every field (zeroed strings, documented numbers). */
void fw_eval_run_opts_init(fw_eval_run_opts *o);

/*
 * Runs (or resumes) an eval run. Each finished case is committed, with its
 * scores and its generation, before the slot it used takes another case.
 * Returns 0 when every case is stored (the run is then "finished"), 1 on
 * error (err filled; stored cases stay, the run is resumable), 2 when the
 * progress callback cancelled. *summary (may be NULL) gets the final
 * progress.
 */
int fw_eval_run(PGconn *conn, const fw_eval_run_opts *o, fw_eval_progress *summary, char *err,
                size_t errsize);

/* Runs, newest first: [{"name", "dataset", "version", "model", "status", "cases",
 * "errors", "created_at", "scores": {scorer: mean}}]. NULL on error. */
json_t *fw_eval_list(PGconn *conn, char *err, size_t errsize);

/* One run: its row, per-scorer means, and with `cases` every case with its
 * scores. NULL on error (an unknown run is an error). */
json_t *fw_eval_show(PGconn *conn, const char *name, int cases, char *err, size_t errsize);

typedef struct {
    unsigned long long seed; /* default 1 */
    int resamples;           /* default 2000 */
    double confidence;       /* default 0.95 */
    double epsilon;          /* |b - a| <= epsilon counts as unchanged; default 1e-9 */
} fw_eval_compare_opts;

void fw_eval_compare_opts_init(fw_eval_compare_opts *o);

/*
 * Compares run B (candidate) with run A (baseline) on the cases both ran.
 * The document: {"a", "b", "cases_common", "seed", "resamples", "confidence",
 * "scorers": [{"scorer", "n", "mean_a", "mean_b", "ci_a": [lo, hi], "ci_b",
 * "diff", "ci_diff", "improved", "regressed", "unchanged",
 * "regressed_cases": [{"case_id", "a", "b", "explanation_b"}]}],
 * "cost": {"a", "b"}, "latency_ms": {"a": {"mean","p50","p95"}, "b": ...},
 * "errors": {"a", "b"}}. NULL on error.
 */
json_t *fw_eval_compare(PGconn *conn, const char *a, const char *b, const fw_eval_compare_opts *o,
                        char *err, size_t errsize);

/*
 * Applies gates "SCORER:DELTA" to a comparison: a gate fails when
 * mean_b - mean_a < -DELTA (or the scorer is missing). Adds "gates":
 * [{"scorer", "delta", "diff", "passed"}] to cmp. Returns 0 when all pass,
 * 1 when one fails, -1 on a malformed gate (err filled).
 */
int fw_eval_gate(json_t *cmp, const char *const *gates, size_t n, char *err, size_t errsize);

typedef struct {
    const char *run, *scorer;  /* the judge scorer of the run */
    const char *queue, *field; /* the review queue and the rubric field humans filled */
    const char *positive;      /* for a category field: the value that means good */
    double threshold;          /* judge score >= threshold counts as good (default 0.5) */
} fw_eval_agree_opts;

void fw_eval_agree_opts_init(fw_eval_agree_opts *o);

/*
 * The judge against the humans: for the run's cases whose generation is an
 * item of `queue` with the field labelled, the judge's score beside the
 * human consensus. {"run", "scorer", "queue", "field", "n", "pearson",
 * "spearman", "cohen": {"threshold", "observed_agreement", "kappa",
 * "table": {...}}} ("cohen" only when the human values are binary; null
 * where undefined, e.g. no variance). NULL on error.
 */
json_t *fw_eval_agreement(PGconn *conn, const fw_eval_agree_opts *o, char *err, size_t errsize);

/*
 * Fills the pairwise review queue `queue` from two runs of the same dataset
 * version: one item per case both answered, the two generations in an
 * order chosen per case from sha256(seed ":" case id) (seed NULL: "0").
 * Items already in the queue are skipped. Sets *added. Returns 0, or -1 with
 * err (unknown queue or run, no pairwise field, different dataset versions).
 */
int fw_eval_review_fill(PGconn *conn, const char *queue, const char *run_a, const char *run_b,
                        const char *seed, long long *added, char *err, size_t errsize);

#endif
