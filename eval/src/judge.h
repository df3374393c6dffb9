/*
 * The LLM judge: the request sent to a judge endpoint for one case, and the
 * score read from its answer.
 *
 * mode "score": the judge applies the rubric to the answer (with the
 * conversation and the reference answer as context) and replies
 * {"score": n, "reason": "..."} with n on the configured scale [min, max];
 * the stored score is (n - min) / (max - min).
 *
 * mode "pairwise": the judge compares the answer with the reference answer
 * and replies {"winner": "A" | "B" | "tie", "reason": "..."}. It is asked
 * twice, once with the answer as A and once as B, to cancel position bias;
 * each order gives the answer 1 for a win, 0.5 for a tie, 0 for a loss, and
 * the score is the mean of the two.
 *
 * A judge that does not answer with the JSON asked for gives no score
 * (NULL in the store) and says so in the explanation.
 */
#ifndef FW_EVAL_JUDGE_H
#define FW_EVAL_JUDGE_H

#include "score.h"

#include <jansson.h>

/* Calls a judge scorer makes per case: 1, or 2 for pairwise. */
int fw_judge_calls(const fw_scorer *sc);

/*
 * The request body of call `order` (0 or 1) judging `text` / `msg` (the
 * answer) for the case `line`. Returns a new object, or NULL when out of
 * memory; *skip is set (and NULL returned) with a reason in why when the
 * case cannot be judged (pairwise without a reference).
 */
json_t *fw_judge_request(const fw_scorer *sc, int order, const json_t *line, const char *text,
                         const json_t *msg, int *skip, char *why, size_t whysize);

/*
 * Reads one judge answer (the text of the judge's message) into *value: the
 * normalised score for mode "score", the answer's points for pairwise
 * (order says which side the answer was). Returns 1 with *value and the
 * judge's reason in why, 0 when the answer is not usable (why says why).
 */
int fw_judge_read(const fw_scorer *sc, int order, const char *answer, double *value, char *why,
                  size_t whysize);

#endif
