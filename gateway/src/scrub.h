/*
 * Redaction at the edge: the content of every event the gateway produces
 * goes through the agent's redactor (redact.h: the same detectors, the same
 * operator rules, the same configuration keys) before it leaves the
 * process, so PII the operator configures never reaches Kafka. Unlike the
 * agent, the gateway also redacts the values of the unmapped span
 * attributes it keeps, because OTLP instrumentations put content there too
 * (OpenInference's input.value and output.value hold whole requests).
 *
 * Redactors are not thread-safe and compile their rules once, so they are
 * pooled: a request takes one, uses it for all its events, gives it back.
 */
#ifndef FWG_SCRUB_H
#define FWG_SCRUB_H

#include "flywheel/v1/flywheel.pb-c.h"
#include "gw_config.h"

#include <stddef.h>

typedef struct fwg_scrubber fwg_scrubber;
typedef struct fwr_redactor fwr_redactor;

/* Strings the scrubber allocated for one event; freed after packing. */
typedef struct {
    char **p;
    size_t n, cap;
} fwg_allocs;

/* NULL with err when a rule does not compile or memory runs out. */
fwg_scrubber *fwg_scrubber_new(const fwg_config *cfg, char *err, size_t errsize);
void fwg_scrubber_free(fwg_scrubber *s);

/* A redactor for the calling thread's exclusive use (NULL: out of memory). */
fwr_redactor *fwg_scrubber_take(fwg_scrubber *s);
void fwg_scrubber_give(fwg_scrubber *s, fwr_redactor *r);

/*
 * Applies redact.omit, then redacts every content string of ev (message
 * parts, tool call arguments and results, system instructions, tool
 * definitions, error message, prompt variables, kept attribute values) by
 * replacing the pointer with a new string recorded in a; nothing is written
 * through the old pointers. Returns the number of spans replaced, or -1
 * when out of memory.
 */
int fwg_scrub_event(const fwg_scrubber *s, fwr_redactor *r, Flywheel__V1__Event *ev, fwg_allocs *a);
void fwg_allocs_free(fwg_allocs *a);

#endif
