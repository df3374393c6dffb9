/*
 * The item rendering shared by the reviewer's item page (page_review.c),
 * the adjudication page and the history's edit page (page_adjudicate.c):
 * the conversation with the output in sentences, the rubric form, and the
 * label built back from a posted form. One renderer, so what an adjudicator
 * or a reviewer editing a label sees is what the reviewer saw.
 */
#ifndef FW_SERVE_REVIEW_UI_H
#define FW_SERVE_REVIEW_UI_H

#include "app.h"

#include <jansson.h>

/* Values shown in the form: the posted form when re-rendering after an
 * error or a preview, else the saved draft (form keys → strings), else
 * nothing. */
typedef struct {
    const sv_form *form;
    const json_t *draft;
} sv_values;

typedef struct {
    sv_req *r;
    const json_t *item;
    const json_t *rubric_fields;
    const sv_values *vals;
    const char *error;      /* message shown above the form (422) */
    const char *error_col;  /* the field it names, if any */
    const char *diff_field; /* show the diff of this correction field */
    int sentence_no;
    /* Adjudication: the reviewers' current labels, [{"alias", "value"}]; each
     * sentence of the output then shows every reviewer's span category and
     * is marked when they differ. NULL on the reviewer's pages. */
    const json_t *others;
} sv_item_ctx;

const char *sv_jstr(const json_t *o, const char *key);
const char *sv_value_of(const sv_values *v, const char *key);

/* Runs a query returning one json/jsonb value; *out is NULL for SQL NULL.
 * Returns the result on success (caller clears), or answers the request
 * with the database error and returns NULL. */
PGresult *sv_json_query(sv_req *r, const char *sql, int n, const char *const *p, json_t **out);

int sv_has_span_field(const json_t *fields);
/* Which side of a pair a reviewer sees first, fixed per account and item. */
int sv_pair_flip(const char *account, long long item);
void sv_render_conversation(sv_item_ctx *c, const json_t *gen, int flip, const json_t *gen_b);
void sv_render_field(sv_item_ctx *c, const json_t *f, const json_t *gen, int flip);

/* The label of the posted form ("f:" and "s:" fields) for item (its rubric
 * and generation). NULL with *err (and *col, the field) on a value that is
 * not even of the field's type; the database checks the rest. */
json_t *sv_build_label(sv_req *r, const json_t *item, const char **err, const char **col);

/* A stored label as form values ("f:<field>" and "s:<field>:<message>:
 * <part>:<start>:<end>" keys → strings), to fill the form with it. */
json_t *sv_label_to_values(const json_t *fields, const json_t *label);

#endif
