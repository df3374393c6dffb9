/*
 * POST /v1/feedback: feedback about a generation from a web or mobile front
 * end, as JSON, without any Flywheel library. Each feedback becomes a
 * flywheel.v1 Event with a Feedback body, produced like every other event.
 *
 * The body is one object or an array of up to 1000:
 *
 *   {"event_id": "<uuid>"                  target: the generation's event id,
 *    | "trace_id": "<32 hex>", "span_id": "<16 hex>"   or its span,
 *    | "response_id": "chatcmpl-..."                   or the provider's id,
 *    "value": true | 0.8 | "off_topic",    thumbs (bool), score (number) or
 *                                          category (string); optional
 *    "name": "thumbs",                     what is judged (default from the
 *                                          value: thumbs, score, category,
 *                                          comment, correction)
 *    "comment": "...", "correction": "..." | [messages],
 *    "source": "end_user" | "automated" | "model_judge" | "reviewer",
 *    "author_id": "...", "id": "<uuid>"    (the feedback's own id: send the
 *                                          same id again and it is one row)}
 *
 * A (trace_id, span_id) target becomes Feedback.target_trace_id and
 * target_span_id, which the store matches to the generation of that span:
 * an OTLP generation's event id also depends on its start time, which a
 * front end does not know, and the gateway keeps no state to look it up.
 * Feedback about a span that has no generation (not stored yet, or not an
 * LLM call) is stored all the same and stays unattached. Ids are hex, either
 * case; all-zero ids are refused like malformed ones.
 */
#ifndef FWG_FEEDBACK_H
#define FWG_FEEDBACK_H

#include "flywheel/v1/flywheel.pb-c.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    Flywheel__V1__Event **ev;
    size_t n;
    void *mem; /* everything the events point to */
} fwg_feedback_list;

/*
 * Parses a feedback body into events for `project`. Returns 0, or -1 with a
 * message in err (the body is refused as a whole: 400). now_ns is the event
 * time; ids of feedback without "id" are random UUIDv7s.
 */
int fwg_feedback_parse(const char *body, size_t len, const char *project, uint64_t now_ns,
                       fwg_feedback_list *out, char *err, size_t errsize);
void fwg_feedback_free(fwg_feedback_list *l);

#endif
