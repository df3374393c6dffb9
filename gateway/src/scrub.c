/*
 * Redaction of gateway events; see scrub.h.
 */
#include "scrub.h"

#include "redact.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fwg_scrubber {
    const fwg_config *cfg;
    pthread_mutex_t mu;
    fwr_redactor **free_list;
    size_t n_free, cap_free;
};

static fwr_redactor *make(const fwg_config *cfg, char *err, size_t errsize)
{
    fwr_redactor *r = fwr_new(cfg->redact_detectors);
    if (!r) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < cfg->n_regex; i++)
        if (fwr_add_regex(r, cfg->regex[i].key, cfg->regex[i].value, err, errsize) != 0) {
            fwr_free(r);
            return NULL;
        }
    return r;
}

fwg_scrubber *fwg_scrubber_new(const fwg_config *cfg, char *err, size_t errsize)
{
    fwg_scrubber *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    pthread_mutex_init(&s->mu, NULL);
    /* One redactor up front: a rule that does not compile fails at start. */
    fwr_redactor *r = make(cfg, err, errsize);
    if (!r) {
        fwg_scrubber_free(s);
        return NULL;
    }
    fwg_scrubber_give(s, r);
    return s;
}

void fwg_scrubber_free(fwg_scrubber *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_free; i++)
        fwr_free(s->free_list[i]);
    free(s->free_list);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

fwr_redactor *fwg_scrubber_take(fwg_scrubber *s)
{
    pthread_mutex_lock(&s->mu);
    fwr_redactor *r = s->n_free ? s->free_list[--s->n_free] : NULL;
    pthread_mutex_unlock(&s->mu);
    if (!r) {
        char err[256];
        r = make(s->cfg, err, sizeof err); /* rules compiled once already: only OOM fails */
    }
    return r;
}

void fwg_scrubber_give(fwg_scrubber *s, fwr_redactor *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&s->mu);
    if (s->n_free == s->cap_free) {
        size_t cap = s->cap_free ? s->cap_free * 2 : 8;
        fwr_redactor **l = realloc(s->free_list, cap * sizeof *l);
        if (!l) {
            pthread_mutex_unlock(&s->mu);
            fwr_free(r);
            return;
        }
        s->free_list = l;
        s->cap_free = cap;
    }
    s->free_list[s->n_free++] = r;
    pthread_mutex_unlock(&s->mu);
}

void fwg_allocs_free(fwg_allocs *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->p[i]);
    a->n = 0;
}

static int keep(fwg_allocs *a, char *p)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        char **l = realloc(a->p, cap * sizeof *l);
        if (!l)
            return -1;
        a->p = l;
        a->cap = cap;
    }
    a->p[a->n++] = p;
    return 0;
}

/* Redacts one string slot; returns the spans replaced or -1. */
static int one(fwr_redactor *r, char **slot, fwg_allocs *a)
{
    if (!*slot || !**slot)
        return 0;
    char *out;
    size_t len;
    int n = fwr_apply(r, *slot, strlen(*slot), &out, &len);
    if (n > 0) {
        if (keep(a, out) != 0) {
            free(out);
            return -1;
        }
        *slot = out;
    }
    return n;
}

static int messages(fwr_redactor *r, Flywheel__V1__Message **m, size_t n, fwg_allocs *a)
{
    int total = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < m[i]->n_parts; k++) {
            Flywheel__V1__Part *p = m[i]->parts[k];
            int c = 0;
            switch (p->content_case) {
            case FLYWHEEL__V1__PART__CONTENT_TEXT:
                c = one(r, &p->text, a);
                break;
            case FLYWHEEL__V1__PART__CONTENT_REASONING:
                c = one(r, &p->reasoning, a);
                break;
            case FLYWHEEL__V1__PART__CONTENT_TOOL_CALL:
                c = one(r, &p->tool_call->arguments_json, a);
                break;
            case FLYWHEEL__V1__PART__CONTENT_TOOL_CALL_RESPONSE:
                c = one(r, &p->tool_call_response->content, a);
                break;
            default:
                break;
            }
            if (c < 0)
                return -1;
            total += c;
        }
    return total;
}

int fwg_scrub_event(const fwg_scrubber *s, fwr_redactor *r, Flywheel__V1__Event *ev, fwg_allocs *a)
{
    static char empty[1];
    unsigned omit = s->cfg->redact_omit;
    if (ev->body_case == FLYWHEEL__V1__EVENT__BODY_FEEDBACK) {
        Flywheel__V1__Feedback *f = ev->feedback;
        if (!s->cfg->redact_detectors && s->cfg->n_regex == 0)
            return 0;
        int c1 = one(r, &f->comment, a);
        if (c1 < 0)
            return -1;
        int c2 = messages(r, f->correction, f->n_correction, a);
        return c2 < 0 ? -1 : c1 + c2;
    }
    if (ev->body_case != FLYWHEEL__V1__EVENT__BODY_GENERATION)
        return 0;
    Flywheel__V1__Generation *g = ev->generation;
    if (omit & FWG_OMIT_INPUT)
        g->n_input_messages = 0;
    if (omit & FWG_OMIT_OUTPUT)
        g->n_output_messages = 0;
    if (omit & FWG_OMIT_TOOLS)
        g->tool_definitions_json = empty;
    if (omit & FWG_OMIT_SYSTEM)
        g->system_instructions = empty;
    if ((omit & FWG_OMIT_PVARS) && g->prompt)
        g->prompt->n_variables = 0;
    if (omit & FWG_OMIT_ERROR)
        g->error_message = empty;
    if (omit & FWG_OMIT_ATTRS)
        ev->n_attributes = 0;
    if (!s->cfg->redact_detectors && s->cfg->n_regex == 0)
        return 0;
    int total = 0, c;
    if ((c = messages(r, g->input_messages, g->n_input_messages, a)) < 0)
        return -1;
    total += c;
    if ((c = messages(r, g->output_messages, g->n_output_messages, a)) < 0)
        return -1;
    total += c;
    char **slots[] = {&g->system_instructions, &g->tool_definitions_json, &g->error_message};
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        if ((c = one(r, slots[i], a)) < 0)
            return -1;
        total += c;
    }
    if (g->prompt)
        for (size_t i = 0; i < g->prompt->n_variables; i++) {
            if ((c = one(r, &g->prompt->variables[i]->value, a)) < 0)
                return -1;
            total += c;
        }
    for (size_t i = 0; i < ev->n_attributes; i++) {
        if ((c = one(r, &ev->attributes[i]->value, a)) < 0)
            return -1;
        total += c;
    }
    return total;
}
