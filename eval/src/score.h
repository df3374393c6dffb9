/*
 * Scorers: the configuration file of a run, and the scorers that need no
 * model (exact, normalized, contains, regex, json_valid, json_schema,
 * tool_call, numeric). The judge scorer is configured here and runs in
 * judge.c, because it is an HTTP call like the case itself.
 *
 * A configuration is {"scorers": [{"name": ..., "type": ..., options}, ...]}
 * (a bare list is accepted too). It is validated completely when it loads:
 * unknown types or options, a regex that does not compile and a JSON Schema
 * keyword the validator does not support are errors, so a run never starts
 * with a scorer that would silently pass. The canonical form (compact, keys
 * sorted) is what the run stores, and its sha256 identifies the
 * configuration.
 *
 * Every score is in [0, 1] with a one-line explanation; "no score" (NULL in
 * the store) is only for a judge that could not answer.
 */
#ifndef FW_EVAL_SCORE_H
#define FW_EVAL_SCORE_H

#include <jansson.h>
#include <stddef.h>

typedef enum {
    FW_SC_EXACT,
    FW_SC_NORMALIZED,
    FW_SC_CONTAINS,
    FW_SC_REGEX,
    FW_SC_JSON_VALID,
    FW_SC_JSON_SCHEMA,
    FW_SC_TOOL_CALL,
    FW_SC_NUMERIC,
    FW_SC_JUDGE,
} fw_sc_type;

typedef enum { FW_ARGS_EXACT, FW_ARGS_SUBSET, FW_ARGS_IGNORE } fw_sc_args;

typedef struct {
    const char *name; /* points into cfg */
    fw_sc_type type;
    const json_t *cfg;    /* this scorer's object in the configuration */
    const char *label;    /* expected value from this label field instead of "ideal" */
    const json_t *values; /* contains: strings (array) */
    int any;              /* contains: any value suffices (default: all) */
    int nocase;           /* contains, regex: case-insensitive */
    void *re;             /* regex: compiled pcre2 code */
    const json_t *schema; /* json_schema */
    fw_sc_args args;      /* tool_call */
    double tol, rel_tol;  /* numeric */
    int last;             /* numeric: take the last number of the text */
    /* judge */
    const char *j_endpoint, *j_model, *j_rubric, *j_key_env;
    int j_pairwise;
    double j_min, j_max;
} fw_scorer;

typedef struct {
    json_t *config; /* canonical configuration (owned) */
    char sha256[65];
    char *canonical; /* compact text with sorted keys (owned) */
    fw_scorer *v;
    size_t n;
    int has_judge;
} fw_scorers;

/*
 * Parses and checks a configuration. Returns a new set, or NULL with the
 * reason in err (PostgreSQL style: `scorer "x": unknown option "y"`).
 */
fw_scorers *fw_scorers_parse(const char *text, char *err, size_t errsize);

/* Frees a set; accepts NULL. */
void fw_scorers_free(fw_scorers *s);

/* The scorer name for a type ("exact", ...). */
const char *fw_sc_type_name(fw_sc_type t);

/*
 * Scores one output with a scorer that is not a judge. `text` is the
 * answer's text ("" when it has none), `msg` the answer's assistant message
 * (OpenAI form, for tool calls; may be NULL) and `line` the eval case line
 * (ideal, expected, labels). Sets *score and writes the explanation.
 * Returns 0, or -1 when out of memory.
 */
int fw_sc_score(const fw_scorer *sc, const char *text, const json_t *msg, const json_t *line,
                double *score, char *expl, size_t explsize);

/* The expected text of a case for a scorer: the label field when the
 * scorer names one, else the line's "ideal". Returns a new string or NULL
 * when there is none. */
char *fw_sc_expected_text(const fw_scorer *sc, const json_t *line);

/* Normalisation of the `normalized` scorer, into a new string: ASCII
 * letters lower-cased, ASCII punctuation removed, runs of white space one
 * space, ends trimmed. */
char *fw_sc_normalize(const char *s);

#endif
