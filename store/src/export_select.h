/*
 * What an export selects and how, as one options structure, its JSON form
 * (the `parameters` recorded with a dataset version), and the SQL that
 * resolves a selection into member rows.
 *
 * Selection happens in two steps so that a new export and the re-export of
 * a recorded version run the very same streaming query:
 *   1. resolve: INSERT INTO <members> SELECT the matching generations (and,
 *      with a queue, the review items and the exact label ids the consensus
 *      rule uses), server side, in export order;
 *   2. stream: read the members joined to their generations and resolved
 *      labels (export_run).
 * Every value from the command line reaches the SQL as a bound parameter;
 * only fixed fragments of this file are concatenated.
 */
#ifndef FW_EXPORT_SELECT_H
#define FW_EXPORT_SELECT_H

#include "flywheel/store.h"
#include "fw_buf.h"
#include "export_check.h"
#include "export_split.h"

#include <jansson.h>

#define FW_XMAX_PARAMS 160

/* The recorded parameters of o, keys in a fixed order. NULL if out of memory. */
json_t *fw_xopts_to_json(const fw_xopts *o);

/*
 * Fills the recorded fields of o from parameters p (as written by
 * fw_xopts_to_json). Strings point into p, which must outlive o. Returns 0,
 * or -1 with errbuf filled when p is not a valid parameter object.
 */
int fw_xopts_from_json(fw_xopts *o, const json_t *p, char *errbuf, size_t errsize);

/* A SQL statement under construction with its bound parameters. */
typedef struct {
    fw_buf sql;
    const char *params[FW_XMAX_PARAMS];
    int nparams;
    char owned[FW_XMAX_PARAMS][64]; /* storage for parameters built here (names, numbers) */
} fw_xsql;

/*
 * Builds step 1: an INSERT INTO `table` (flywheel.dataset_members or the
 * session's temporary pg_temp.fw_export_members) of the selected members,
 * tagged with dataset $1 and version $2 (the caller binds those two first:
 * q->params[0], q->params[1]). `comparable` is the list of the rubric's
 * comparable fields (boolean, category, number, pairwise) as a PostgreSQL
 * array literal, for the majority rule. Returns 0, or -1 with errbuf filled
 * (a malformed --where or --feedback predicate, too many parameters).
 */
int fw_xselect_build(const fw_xopts *o, const char *table, const char *comparable, fw_xsql *q,
                     char *errbuf, size_t errsize);

/*
 * Checks the rubric fields a new export names against rubric `rubric`
 * version `version`, whose definition is def ({"fields": [...]}), so that a
 * typo is an error instead of an empty selection: every --where field must
 * exist; < <= > >= need a number field and a number; = and != need a
 * boolean (true/false), category (one of its values), number, text or
 * pairwise field; score_field (NULL: not given) must be a number or boolean
 * field. Returns 0, or -1 with errbuf filled ("message\ndetail: the fields
 * that exist").
 */
int fw_xselect_check_fields(const fw_xopts *o, const char *score_field, const json_t *def,
                            const char *rubric, int version, char *errbuf, size_t errsize);

void fw_xsql_free(fw_xsql *q);

/* Like fw_xsql_param, but copies value (at most 63 bytes) into q. */
int fw_xsql_param_copy(fw_xsql *q, const char *value);

/* Adds a parameter and appends its placeholder ($n) to the SQL. Returns 0
 * or -1 when there are too many parameters. */
int fw_xsql_param(fw_xsql *q, const char *value);

#endif
