/*
 * encode — entry → flywheel.v1 Event bytes; the steps are described in
 * encode.h. Content strings (message parts, tool arguments and results,
 * tool definitions, system instructions, prompt variables, error messages,
 * feedback comments and corrections) are redacted and may be truncated;
 * metadata strings (ids, model names, attributes) are only repaired.
 */
#include "encode.h"

#include "fw_utf8.h"
#include "pack.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "flywheel/v1/flywheel.pb-c.h"

/* ---- arena -------------------------------------------------------------- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    unsigned char mem[];
} chunk;

typedef struct {
    char **slot;
    size_t len;
    int flag; /* FWE_TR_* */
} cslot;

struct fwe_ctx {
    chunk *head; /* current chunk first; reset keeps only the largest */
    cslot *content;
    size_t n_content, cap_content;
    cslot *meta;
    size_t n_meta, cap_meta;
    fwp_tape tape; /* lengths for pack.c, reused */
};

fwe_ctx *fwe_new(void)
{
    return calloc(1, sizeof(fwe_ctx));
}

void fwe_free(fwe_ctx *c)
{
    if (!c)
        return;
    while (c->head) {
        chunk *n = c->head->next;
        free(c->head);
        c->head = n;
    }
    free(c->content);
    free(c->meta);
    fwp_tape_free(&c->tape);
    free(c);
}

static void arena_reset(fwe_ctx *c)
{
    c->n_content = 0;
    c->n_meta = 0;
    if (!c->head)
        return;
    /* Keep the first (largest, most recent) chunk. */
    chunk *keep = c->head, *n = keep->next;
    while (n) {
        chunk *nx = n->next;
        free(n);
        n = nx;
    }
    keep->next = NULL;
    keep->used = 0;
}

static void *arena_alloc(fwe_ctx *c, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!c->head || c->head->cap - c->head->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        if (c->head && c->head->cap * 2 > cap && c->head->cap < (16u << 20))
            cap = c->head->cap * 2 > n ? c->head->cap * 2 : n;
        chunk *k = malloc(sizeof *k + cap);
        if (!k)
            return NULL;
        k->cap = cap;
        k->used = 0;
        k->next = c->head;
        c->head = k;
    }
    void *p = c->head->mem + c->head->used;
    c->head->used += n;
    return p;
}

#define NEW(c, T, init)                                                                            \
    ({                                                                                             \
        T *p_ = arena_alloc(c, sizeof(T));                                                         \
        if (p_) {                                                                                  \
            T i_ = init;                                                                           \
            *p_ = i_;                                                                              \
        }                                                                                          \
        p_;                                                                                        \
    })

/* A scalar field or map value set twice keeps one slot: the later length. */
static int relen(cslot *v, size_t n, char **slot, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].slot == slot) {
            v[i].len = len;
            return 1;
        }
    return 0;
}

/* Appends a slot to v. A slot set for the first time (a new element of a
 * repeated field, a field of a new message part) needs no search. */
static int push_slot(cslot **v, size_t *n, size_t *cap, char **slot, int flag, size_t len)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        cslot *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = (cslot){slot, len, flag};
    return 0;
}

static int add_content(fwe_ctx *c, char **slot, int flag, size_t len)
{
    if (relen(c->content, c->n_content, slot, len))
        return 0;
    return push_slot(&c->content, &c->n_content, &c->cap_content, slot, flag, len);
}

static int add_content_new(fwe_ctx *c, char **slot, int flag, size_t len)
{
    return push_slot(&c->content, &c->n_content, &c->cap_content, slot, flag, len);
}

static int add_meta(fwe_ctx *c, char **slot, size_t len)
{
    if (relen(c->meta, c->n_meta, slot, len))
        return 0;
    return push_slot(&c->meta, &c->n_meta, &c->cap_meta, slot, 0, len);
}

static int add_meta_new(fwe_ctx *c, char **slot, size_t len)
{
    return push_slot(&c->meta, &c->n_meta, &c->cap_meta, slot, 0, len);
}

/* ---- helpers ------------------------------------------------------------ */

static uint64_t hash64(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

int fwe_keep(const unsigned char *key, size_t len, double rate)
{
    if (rate >= 1.0)
        return 1;
    if (rate <= 0.0)
        return 0;
    double u = (double)(hash64(key, len) >> 11) * (1.0 / 9007199254740992.0);
    return u < rate;
}

/* ---- decode ------------------------------------------------------------- */

typedef struct {
    Flywheel__V1__Event ev;
    Flywheel__V1__Generation g;
    Flywheel__V1__Feedback fb;
    Flywheel__V1__RequestParams rp;
    Flywheel__V1__Usage us;
    Flywheel__V1__PromptTemplate pt;
    Flywheel__V1__Truncation tr;
    int has_rp, has_us, has_pt;
    unsigned trunc;
} dec;

static char *str_of(const unsigned char *p)
{
    return (char *)(uintptr_t)p; /* payloads are NUL-terminated (entry.h) */
}

/* Sets a map entry (Event.attributes or PromptTemplate.variables); a later
 * value for the same key replaces the earlier one. */
static int map_set(fwe_ctx *c, void ***arr, size_t *n, size_t cap, char *k, size_t klen, char *v,
                   const ProtobufCMessageDescriptor *d, char ***vslot)
{
    for (size_t i = 0; i < *n; i++) {
        Flywheel__V1__Event__AttributesEntry *e = (*arr)[i];
        if (!strcmp(e->key, k)) {
            e->value = v;
            *vslot = &e->value;
            return 0;
        }
    }
    if (*n >= cap)
        return 0;
    Flywheel__V1__Event__AttributesEntry *e = arena_alloc(c, sizeof *e);
    if (!e)
        return -1;
    /* Both entry types have the same layout: base, key, value. */
    protobuf_c_message_init(d, e);
    e->key = k;
    e->value = v;
    (*arr)[(*n)++] = e;
    *vslot = &e->value;
    return add_meta_new(c, &e->key, klen);
}

static int decode(fwe_ctx *c, fw_entry *e, dec *d)
{
    size_t nrec = 0, off = 0;
    fwe_rec r;
    while (fwe_next(e, &off, &r))
        nrec++;
    size_t ptrs = nrec ? nrec : 1;
    Flywheel__V1__Message **in = arena_alloc(c, ptrs * sizeof *in);
    Flywheel__V1__Message **outm = arena_alloc(c, ptrs * sizeof *outm);
    Flywheel__V1__Part **parts = arena_alloc(c, ptrs * sizeof *parts);
    char **stops = arena_alloc(c, ptrs * sizeof(char *));
    char **finish = arena_alloc(c, ptrs * sizeof(char *));
    char **tags = arena_alloc(c, ptrs * sizeof(char *));
    void **attrs = arena_alloc(c, ptrs * sizeof(void *));
    void **pvars = arena_alloc(c, ptrs * sizeof(void *));
    if (!in || !outm || !parts || !stops || !finish || !tags || !attrs || !pvars)
        return -1;
    Flywheel__V1__Generation *g = &d->g;
    Flywheel__V1__Feedback *fb = &d->fb;
    int fbk = e->kind == FWE_KIND_FEEDBACK;
    g->input_messages = in;
    g->output_messages = outm;
    fb->correction = outm;
    d->rp.stop_sequences = stops;
    g->finish_reasons = finish;
    d->ev.tags = tags;
    d->ev.attributes = (Flywheel__V1__Event__AttributesEntry **)attrs;
    d->pt.variables = (Flywheel__V1__PromptTemplate__VariablesEntry **)pvars;

    Flywheel__V1__Message *msg = NULL;
    int msg_dir = 0;
    size_t n_parts = 0;
    off = 0;
    const unsigned char *p;
    while ((p = fwe_next(e, &off, &r))) {
        char *s = str_of(p);
        char **meta = NULL;
        int fresh = 0; /* meta is a new element of a repeated field */
        switch (r.tag) {
        case FWE_T_STR:
            if (fbk) {
                switch (r.aux) {
                case FW_FEEDBACK_TARGET_RESPONSE_ID:
                    fb->target_response_id = s;
                    meta = &fb->target_response_id;
                    break;
                case FW_FEEDBACK_NAME:
                    fb->name = s;
                    meta = &fb->name;
                    break;
                case FW_FEEDBACK_AUTHOR_ID:
                    fb->author_id = s;
                    meta = &fb->author_id;
                    break;
                case FW_FEEDBACK_COMMENT:
                    fb->comment = s;
                    if (add_content(c, &fb->comment, FWE_TR_OTHER | (FWI_OMIT_FB_COMMENT << 8),
                                    r.len) < 0)
                        return -1;
                    break;
                }
                break;
            }
            switch (r.aux) {
            case FW_GEN_CONVERSATION_ID:
                g->conversation_id = s;
                meta = &g->conversation_id;
                break;
            case FW_GEN_SESSION_ID:
                g->session_id = s;
                meta = &g->session_id;
                break;
            case FW_GEN_USER_ID:
                g->user_id = s;
                meta = &g->user_id;
                break;
            case FW_GEN_OPERATION_NAME:
                g->operation_name = s;
                meta = &g->operation_name;
                break;
            case FW_GEN_PROVIDER_NAME:
                g->provider_name = s;
                meta = &g->provider_name;
                break;
            case FW_GEN_REQUEST_MODEL:
                g->request_model = s;
                meta = &g->request_model;
                break;
            case FW_GEN_RESPONSE_MODEL:
                g->response_model = s;
                meta = &g->response_model;
                break;
            case FW_GEN_RESPONSE_ID:
                g->response_id = s;
                meta = &g->response_id;
                break;
            case FW_GEN_ERROR_TYPE:
                g->error_type = s;
                meta = &g->error_type;
                break;
            case FW_GEN_PROMPT_NAME:
                d->pt.name = s;
                d->has_pt = 1;
                meta = &d->pt.name;
                break;
            case FW_GEN_PROMPT_VERSION:
                d->pt.version = s;
                d->has_pt = 1;
                meta = &d->pt.version;
                break;
            case FW_GEN_REQUEST_EXTRA_JSON:
                d->rp.extra_json = s;
                d->has_rp = 1;
                meta = &d->rp.extra_json;
                break;
            case FW_GEN_TOOL_DEFINITIONS_JSON:
                g->tool_definitions_json = s;
                if (add_content(c, &g->tool_definitions_json,
                                FWE_TR_TOOLDEFS | (FWI_OMIT_TOOLDEFS << 8), r.len) < 0)
                    return -1;
                break;
            case FW_GEN_SYSTEM_INSTRUCTIONS:
                g->system_instructions = s;
                if (add_content(c, &g->system_instructions,
                                FWE_TR_SYSINSTR | (FWI_OMIT_SYSINSTR << 8), r.len) < 0)
                    return -1;
                break;
            case FW_GEN_ERROR_MESSAGE:
                g->error_message = s;
                if (add_content(c, &g->error_message, FWE_TR_OTHER | (FWI_OMIT_ERROR << 8), r.len) <
                    0)
                    return -1;
                break;
            }
            break;
        case FWE_T_INT: {
            int64_t v;
            memcpy(&v, p, sizeof v);
            switch (r.aux) {
#define PRES(obj, field, CASE, flag)                                                               \
    obj._##field##_case = CASE;                                                                    \
    obj.field = v;                                                                                 \
    flag = 1;                                                                                      \
    break;
            case FW_GEN_REQUEST_TOP_K:
                PRES(d->rp, top_k, FLYWHEEL__V1__REQUEST_PARAMS___TOP_K_TOP_K, d->has_rp)
            case FW_GEN_REQUEST_MAX_TOKENS:
                PRES(d->rp, max_tokens, FLYWHEEL__V1__REQUEST_PARAMS___MAX_TOKENS_MAX_TOKENS,
                     d->has_rp)
            case FW_GEN_REQUEST_SEED:
                PRES(d->rp, seed, FLYWHEEL__V1__REQUEST_PARAMS___SEED_SEED, d->has_rp)
            case FW_GEN_REQUEST_CHOICE_COUNT:
                PRES(d->rp, choice_count, FLYWHEEL__V1__REQUEST_PARAMS___CHOICE_COUNT_CHOICE_COUNT,
                     d->has_rp)
            case FW_GEN_USAGE_INPUT_TOKENS:
                PRES(d->us, input_tokens, FLYWHEEL__V1__USAGE___INPUT_TOKENS_INPUT_TOKENS,
                     d->has_us)
            case FW_GEN_USAGE_OUTPUT_TOKENS:
                PRES(d->us, output_tokens, FLYWHEEL__V1__USAGE___OUTPUT_TOKENS_OUTPUT_TOKENS,
                     d->has_us)
            case FW_GEN_USAGE_CACHE_READ_INPUT_TOKENS:
                PRES(d->us, cache_read_input_tokens,
                     FLYWHEEL__V1__USAGE___CACHE_READ_INPUT_TOKENS_CACHE_READ_INPUT_TOKENS,
                     d->has_us)
            case FW_GEN_USAGE_CACHE_CREATION_INPUT_TOKENS:
                PRES(d->us, cache_creation_input_tokens,
                     FLYWHEEL__V1__USAGE___CACHE_CREATION_INPUT_TOKENS_CACHE_CREATION_INPUT_TOKENS,
                     d->has_us)
            case FW_GEN_USAGE_REASONING_OUTPUT_TOKENS:
                PRES(d->us, reasoning_output_tokens,
                     FLYWHEEL__V1__USAGE___REASONING_OUTPUT_TOKENS_REASONING_OUTPUT_TOKENS,
                     d->has_us)
#undef PRES
            case FW_GEN_REQUEST_STREAM:
                d->rp._stream_case = FLYWHEEL__V1__REQUEST_PARAMS___STREAM_STREAM;
                d->rp.stream = v != 0;
                d->has_rp = 1;
                break;
            case FW_GEN_COST_MICRO_USD:
                g->cost_micro_usd = v;
                break;
            case FW_GEN_START_TIME_UNIX_NANO:
                g->start_time_unix_nano = (uint64_t)v;
                break;
            case FW_GEN_END_TIME_UNIX_NANO:
                g->end_time_unix_nano = (uint64_t)v;
                break;
            case FW_GEN_TIME_TO_FIRST_TOKEN_NANOS:
                g->_time_to_first_token_nanos_case =
                    FLYWHEEL__V1__GENERATION___TIME_TO_FIRST_TOKEN_NANOS_TIME_TO_FIRST_TOKEN_NANOS;
                g->time_to_first_token_nanos = v;
                break;
            case FW_GEN_STATUS:
                g->status = (Flywheel__V1__Status)v;
                break;
            }
            break;
        }
        case FWE_T_DBL: {
            double v;
            memcpy(&v, p, sizeof v);
            d->has_rp = 1;
            switch (r.aux) {
            case FW_GEN_REQUEST_TEMPERATURE:
                d->rp._temperature_case = FLYWHEEL__V1__REQUEST_PARAMS___TEMPERATURE_TEMPERATURE;
                d->rp.temperature = v;
                break;
            case FW_GEN_REQUEST_TOP_P:
                d->rp._top_p_case = FLYWHEEL__V1__REQUEST_PARAMS___TOP_P_TOP_P;
                d->rp.top_p = v;
                break;
            case FW_GEN_REQUEST_FREQUENCY_PENALTY:
                d->rp._frequency_penalty_case =
                    FLYWHEEL__V1__REQUEST_PARAMS___FREQUENCY_PENALTY_FREQUENCY_PENALTY;
                d->rp.frequency_penalty = v;
                break;
            case FW_GEN_REQUEST_PRESENCE_PENALTY:
                d->rp._presence_penalty_case =
                    FLYWHEEL__V1__REQUEST_PARAMS___PRESENCE_PENALTY_PRESENCE_PENALTY;
                d->rp.presence_penalty = v;
                break;
            }
            break;
        }
        case FWE_T_TRACE:
            g->trace_id = (ProtobufCBinaryData){16, (uint8_t *)(uintptr_t)p};
            g->span_id = (ProtobufCBinaryData){(r.aux & 1) ? 8 : 0, (uint8_t *)(uintptr_t)p + 16};
            g->parent_span_id =
                (ProtobufCBinaryData){(r.aux & 2) ? 8 : 0, (uint8_t *)(uintptr_t)p + 24};
            break;
        case FWE_T_STOP_SEQ:
            stops[d->rp.n_stop_sequences] = s;
            meta = &stops[d->rp.n_stop_sequences++];
            fresh = 1;
            d->has_rp = 1;
            break;
        case FWE_T_FINISH_REASON:
            finish[g->n_finish_reasons] = s;
            meta = &finish[g->n_finish_reasons++];
            fresh = 1;
            break;
        case FWE_T_TAG:
            tags[d->ev.n_tags] = s;
            meta = &tags[d->ev.n_tags++];
            fresh = 1;
            break;
        case FWE_T_ATTR:
        case FWE_T_PVAR: {
            fwe_rec r2;
            const unsigned char *v = fwe_next(e, &off, &r2);
            if (!v || r2.tag != FWE_T_CONT)
                return -1;
            char **vslot = NULL;
            if (r.tag == FWE_T_ATTR) {
                if (map_set(c, &attrs, &d->ev.n_attributes, ptrs, s, r.len, str_of(v),
                            &flywheel__v1__event__attributes_entry__descriptor, &vslot) < 0 ||
                    add_meta(c, vslot, r2.len) < 0)
                    return -1;
            } else {
                d->has_pt = 1;
                if (map_set(c, &pvars, &d->pt.n_variables, ptrs, s, r.len, str_of(v),
                            &flywheel__v1__prompt_template__variables_entry__descriptor,
                            &vslot) < 0 ||
                    add_content(c, vslot, FWE_TR_PVARS | (FWI_OMIT_PVARS << 8), r2.len) < 0)
                    return -1;
            }
            break;
        }
        case FWE_T_MSG:
            msg = NEW(c, Flywheel__V1__Message, FLYWHEEL__V1__MESSAGE__INIT);
            if (!msg)
                return -1;
            msg_dir = r.aux >> 8;
            msg->role = (Flywheel__V1__Role)(r.aux & 0xff);
            msg->name = s;
            msg->parts = parts + n_parts;
            if (add_meta_new(c, &msg->name, r.len) < 0)
                return -1;
            if (msg_dir == FWE_DIR_INPUT)
                in[g->n_input_messages++] = msg;
            else if (msg_dir == FWE_DIR_OUTPUT)
                outm[g->n_output_messages++] = msg;
            else
                outm[fb->n_correction++] = msg;
            break;
        case FWE_T_MSG_FINISH:
            if (msg) {
                msg->finish_reason = s;
                meta = &msg->finish_reason;
            }
            break;
        case FWE_T_TEXT:
        case FWE_T_REASONING:
        case FWE_T_TOOL_CALL:
        case FWE_T_TOOL_RESP: {
            if (!msg)
                return -1;
            int flag = msg_dir == FWE_DIR_INPUT    ? FWE_TR_INPUT | (FWI_OMIT_INPUT << 8)
                       : msg_dir == FWE_DIR_OUTPUT ? FWE_TR_OUTPUT | (FWI_OMIT_OUTPUT << 8)
                                                   : FWE_TR_OTHER | (FWI_OMIT_FB_CORRECTION << 8);
            Flywheel__V1__Part *part = NEW(c, Flywheel__V1__Part, FLYWHEEL__V1__PART__INIT);
            if (!part)
                return -1;
            parts[n_parts++] = part;
            msg->n_parts++;
            if (r.tag == FWE_T_TEXT || r.tag == FWE_T_REASONING) {
                part->content_case = r.tag == FWE_T_TEXT ? FLYWHEEL__V1__PART__CONTENT_TEXT
                                                         : FLYWHEEL__V1__PART__CONTENT_REASONING;
                part->text = s; /* text and reasoning share the union */
                if (add_content_new(c, &part->text, flag, r.len) < 0)
                    return -1;
            } else if (r.tag == FWE_T_TOOL_CALL) {
                fwe_rec r2, r3;
                const unsigned char *nm = fwe_next(e, &off, &r2), *args = fwe_next(e, &off, &r3);
                Flywheel__V1__ToolCall *tc =
                    NEW(c, Flywheel__V1__ToolCall, FLYWHEEL__V1__TOOL_CALL__INIT);
                if (!nm || !args || !tc)
                    return -1;
                tc->id = s;
                tc->name = str_of(nm);
                tc->arguments_json = str_of(args);
                part->content_case = FLYWHEEL__V1__PART__CONTENT_TOOL_CALL;
                part->tool_call = tc;
                if (add_meta_new(c, &tc->id, r.len) < 0 || add_meta_new(c, &tc->name, r2.len) < 0 ||
                    add_content_new(c, &tc->arguments_json, flag, r3.len) < 0)
                    return -1;
            } else {
                fwe_rec r2;
                const unsigned char *ct = fwe_next(e, &off, &r2);
                Flywheel__V1__ToolCallResponse *tr =
                    NEW(c, Flywheel__V1__ToolCallResponse, FLYWHEEL__V1__TOOL_CALL_RESPONSE__INIT);
                if (!ct || !tr)
                    return -1;
                tr->id = s;
                tr->content = str_of(ct);
                part->content_case = FLYWHEEL__V1__PART__CONTENT_TOOL_CALL_RESPONSE;
                part->tool_call_response = tr;
                if (add_meta_new(c, &tr->id, r.len) < 0 ||
                    add_content_new(c, &tr->content, flag, r2.len) < 0)
                    return -1;
            }
            break;
        }
        case FWE_T_FB_EVENT:
            fb->target_event_id = (ProtobufCBinaryData){16, (uint8_t *)(uintptr_t)p};
            break;
        case FWE_T_FB_TRACE:
            fb->target_trace_id = (ProtobufCBinaryData){16, (uint8_t *)(uintptr_t)p};
            break;
        case FWE_T_FB_BOOL:
            fb->value_case = FLYWHEEL__V1__FEEDBACK__VALUE_BOOL_VALUE;
            fb->bool_value = p[0] != 0;
            break;
        case FWE_T_FB_NUMBER:
            fb->value_case = FLYWHEEL__V1__FEEDBACK__VALUE_NUMBER_VALUE;
            memcpy(&fb->number_value, p, sizeof(double));
            break;
        case FWE_T_FB_CATEGORY:
            fb->value_case = FLYWHEEL__V1__FEEDBACK__VALUE_CATEGORY_VALUE;
            fb->category_value = s;
            meta = &fb->category_value;
            break;
        case FWE_T_FB_SOURCE: {
            int64_t v;
            memcpy(&v, p, sizeof v);
            fb->source = (Flywheel__V1__FeedbackSource)v;
            break;
        }
        default:
            break;
        }
        if (meta && (fresh ? add_meta_new(c, meta, r.len) : add_meta(c, meta, r.len)) < 0)
            return -1;
    }
    return 0;
}

/* ---- encode ------------------------------------------------------------- */

/* Length of the leading run of s[0, n) that is ASCII without NUL: what
 * needs no repair. 32 bytes a step with SSE2 (every x86-64), 8 elsewhere. */
static size_t plain_prefix(const unsigned char *p, size_t n)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    for (; i + 32 <= n; i += 32) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16));
        /* A byte >= 0x80 sets the sign bit of a|b; a NUL makes min 0. */
        if (_mm_movemask_epi8(_mm_or_si128(a, b)) |
            _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(a, b), zero)))
            break;
    }
#endif
    const uint64_t lo = 0x0101010101010101ull, hi = 0x8080808080808080ull;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if ((w & hi) || ((w - lo) & ~w & hi))
            break;
    }
    while (i < n && p[i] < 0x80 && p[i] != 0)
        i++;
    return i;
}

static int fix_string(fwe_ctx *c, char **slot, size_t *len_io)
{
    size_t n = *len_io, nl = n;
    /* Fast path: plain ASCII without NUL needs no copy. */
    if (plain_prefix((const unsigned char *)*slot, n) < n) {
        char *buf = arena_alloc(c, 3 * n + 1);
        if (!buf)
            return -1;
        const char *r = fw_utf8_repair(*slot, n, buf, &nl);
        if (r != *slot)
            *slot = buf;
        else
            nl = n;
    }
    *len_io = nl;
    return 0;
}

/* Cuts s to at most max bytes at a UTF-8 boundary, in place. */
static size_t cut_utf8(char *s, size_t n, size_t max)
{
    size_t k = fw_utf8_cut(s, n, max);
    s[k] = '\0';
    return k;
}

int fwe_encode(fwe_ctx *c, fw_entry *e, const fwi_settings *s, fwr_redactor *red, fwe_out *out)
{
    fwe_prefetch(e);
    arena_reset(c);
    memset(out, 0, sizeof *out);
    dec *d = arena_alloc(c, sizeof *d);
    if (!d)
        return FWE_NOMEM;
    Flywheel__V1__Event ev0 = FLYWHEEL__V1__EVENT__INIT;
    Flywheel__V1__Generation g0 = FLYWHEEL__V1__GENERATION__INIT;
    Flywheel__V1__Feedback f0 = FLYWHEEL__V1__FEEDBACK__INIT;
    Flywheel__V1__RequestParams rp0 = FLYWHEEL__V1__REQUEST_PARAMS__INIT;
    Flywheel__V1__Usage u0 = FLYWHEEL__V1__USAGE__INIT;
    Flywheel__V1__PromptTemplate pt0 = FLYWHEEL__V1__PROMPT_TEMPLATE__INIT;
    Flywheel__V1__Truncation tr0 = FLYWHEEL__V1__TRUNCATION__INIT;
    d->ev = ev0;
    d->g = g0;
    d->fb = f0;
    d->rp = rp0;
    d->us = u0;
    d->pt = pt0;
    d->tr = tr0;
    d->has_rp = d->has_us = d->has_pt = 0;
    if (decode(c, e, d) < 0)
        return FWE_NOMEM;

    Flywheel__V1__Event *ev = &d->ev;
    int fbk = e->kind == FWE_KIND_FEEDBACK;
    /* Kafka key and sampling key. */
    if (!fbk && d->g.trace_id.len == 16) {
        memcpy(out->key, d->g.trace_id.data, 16);
        out->key_len = 16;
    } else if (!fbk && d->g.conversation_id[0]) {
        size_t n = strlen(d->g.conversation_id);
        out->key_len = n < FWE_MAX_KEY ? n : FWE_MAX_KEY;
        memcpy(out->key, d->g.conversation_id, out->key_len);
    } else if (fbk && d->fb.target_trace_id.len == 16) {
        memcpy(out->key, d->fb.target_trace_id.data, 16);
        out->key_len = 16;
    } else if (fbk && d->fb.target_event_id.len == 16) {
        memcpy(out->key, d->fb.target_event_id.data, 16);
        out->key_len = 16;
    } else {
        memcpy(out->key, e->event_id, 16);
        out->key_len = 16;
    }
    if (!fbk && !fwe_keep(out->key, out->key_len, s->sample_rate))
        return FWE_SAMPLED_OUT;

    ev->event_id = (ProtobufCBinaryData){16, e->event_id};
    ev->time_unix_nano =
        !fbk && d->g.end_time_unix_nano ? d->g.end_time_unix_nano : e->time_unix_nano;
    ev->project = (char *)(uintptr_t)s->project;
    ev->environment = (char *)(uintptr_t)s->environment;
    ev->release = (char *)(uintptr_t)s->release;
    ev->sdk_name = "libflywheel";
    ev->sdk_version = (char *)(uintptr_t)fw_version();
    ev->schema_version = 1;
    if (fbk) {
        ev->body_case = FLYWHEEL__V1__EVENT__BODY_FEEDBACK;
        ev->feedback = &d->fb;
    } else {
        ev->body_case = FLYWHEEL__V1__EVENT__BODY_GENERATION;
        ev->generation = &d->g;
        if (d->has_rp)
            d->g.request = &d->rp;
        if (d->has_us)
            d->g.usage = &d->us;
        if (d->has_pt)
            d->g.prompt = &d->pt;
    }

    for (size_t i = 0; i < c->n_meta; i++)
        if (fix_string(c, c->meta[i].slot, &c->meta[i].len) < 0)
            return FWE_NOMEM;
    unsigned trunc = e->trunc;
    for (size_t i = 0; i < c->n_content; i++) {
        cslot *cs = &c->content[i];
        unsigned omit_bit = (unsigned)cs->flag >> 8;
        if (s->omit & omit_bit) {
            /* Not protobuf_c_empty_string: protobuf-c would then skip a
             * oneof text part entirely; the part stays, empty. */
            static char omitted[1];
            *cs->slot = omitted;
            cs->len = 0;
            continue;
        }
        if (fix_string(c, cs->slot, &cs->len) < 0)
            return FWE_NOMEM;
        if (red && cs->len) {
            /* Rendered straight into the arena: the content is copied once. */
            size_t rl = 0;
            int n = fwr_find(red, *cs->slot, cs->len, &rl);
            if (n < 0)
                return FWE_NOMEM;
            if (n > 0) {
                char *copy = arena_alloc(c, rl + 1);
                if (!copy)
                    return FWE_NOMEM;
                fwr_render(red, *cs->slot, cs->len, copy);
                *cs->slot = copy;
                cs->len = rl;
                out->redactions += (unsigned)n;
            }
        }
    }

    size_t size = fwp_size(ev, &c->tape);
    if (size == SIZE_MAX)
        return FWE_NOMEM;
    while (size > s->max_event_bytes) {
        size_t best = SIZE_MAX, best_len = 0;
        for (size_t i = 0; i < c->n_content; i++)
            if (c->content[i].len > best_len) {
                best_len = c->content[i].len;
                best = i;
            }
        if (best == SIZE_MAX)
            return FWE_TOO_LARGE;
        cslot *cs = &c->content[best];
        size_t excess = size - s->max_event_bytes + 16;
        size_t keep = cs->len > excess ? cs->len - excess : 0;
        cs->len = cut_utf8(*cs->slot, cs->len, keep);
        trunc |= (unsigned)cs->flag & 0xff;
        size = fwp_size(ev, &c->tape);
        if (size == SIZE_MAX)
            return FWE_NOMEM;
    }
    if (trunc) {
        out->truncated = 1;
        if (!fbk && (trunc & 0x1f)) {
            d->tr.input_messages = (trunc & FWE_TR_INPUT) != 0;
            d->tr.output_messages = (trunc & FWE_TR_OUTPUT) != 0;
            d->tr.tool_definitions = (trunc & FWE_TR_TOOLDEFS) != 0;
            d->tr.system_instructions = (trunc & FWE_TR_SYSINSTR) != 0;
            d->tr.prompt_variables = (trunc & FWE_TR_PVARS) != 0;
            d->g.truncation = &d->tr;
            size = fwp_size(ev, &c->tape);
            if (size == SIZE_MAX)
                return FWE_NOMEM;
        }
    }
    out->buf = malloc(size ? size : 1);
    if (!out->buf)
        return FWE_NOMEM;
    out->len = fwp_write(ev, &c->tape, out->buf);
    return FWE_OK;
}
