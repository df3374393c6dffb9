/*
 * Line builders: one stored generation (with its resolved review label)
 * becomes zero or more lines of the target format. A builder never writes
 * and never validates; it hands each line (or the reason there is none) to
 * an emit callback, so the pipeline (export_run) applies redaction,
 * validation, dedupe and the split in one place, in the same order for
 * every format.
 *
 * Key order inside every object is fixed by the code below and documented in
 * docs/export.md; nothing time-dependent is ever written into a line.
 */
#ifndef FW_EXPORT_FMT_H
#define FW_EXPORT_FMT_H

#include "export_check.h"

#include <jansson.h>

/* One generation as read from the store. Strings may be NULL (SQL NULL);
 * json values are owned by whoever filled the row. */
typedef struct {
    const char *event_id;
    const char *trace_id, *conversation_id, *user_id, *session_id;
    const char *project, *environment, *release, *model;
    const char *prompt_template, *prompt_version;
    const char *system_instructions;
    json_t *tags;           /* array or NULL */
    json_t *input;          /* OpenTelemetry messages */
    json_t *output;         /* OpenTelemetry messages */
    json_t *tools;          /* gen_ai.tool.definitions or NULL */
    json_t *labels;         /* resolved label {field: value}, NULL without a queue */
    const char *event_id_b; /* second generation of a pairwise item, or NULL */
    json_t *output_b;
    json_t *feedback_correction; /* the member's recorded feedback correction, or NULL */
} fw_xrow;

typedef struct {
    fw_xfmt fmt;
    int weights;                  /* weight 0 on history assistants, 1 on the target */
    const char *correction_field; /* rubric field names; NULL when the rubric has none */
    const char *pairwise_field;
    const char *span_field;
    const char *score_field;
    const char *negative_label; /* classifier label of unannotated sentences */
    int unmarked_negative;      /* classifier: a reviewed output without spans gives negatives */
    fw_store_sentence_rules sentence_rules; /* classifier sentences */
} fw_xfmt_opts;

/*
 * Receives one line (ownership passes to the callee) with the top-level keys
 * whose values make up its content for dedupe (NULL-terminated; NULL means
 * the whole line), or line == NULL and the reason the row gave no line.
 * Returns 0, or -1 to stop (the builder then returns -1).
 */
typedef int (*fw_xemit_fn)(void *ctx, const fw_xrow *row, json_t *line,
                           const char *const *hash_keys, const char *reason);

/* Builds the lines of one row. Returns 0, or -1 when out of memory or when
 * emit asked to stop. */
int fw_xfmt_row(const fw_xfmt_opts *o, const fw_xrow *r, fw_xemit_fn emit, void *ctx);

#endif
