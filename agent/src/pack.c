/*
 * pack — flywheel.v1.Event written by hand; the contract and the two passes
 * are described in pack.h.
 *
 * One visit function per message serves both passes: a writer in sizing
 * mode (o == NULL) counts bytes and records lengths on the tape, in writing
 * mode it emits bytes and reads the lengths back, so the two passes cannot
 * disagree about which fields are present or in which order. Each message
 * function lists its fields in field-number order, which is the order
 * protobuf-c packs them in (its descriptors are sorted by number), with
 * protobuf-c 1.4's rules for leaving a field out:
 *   - proto3 scalar, string, bytes: left out when zero, NULL or "" (bytes:
 *     when its length is 0; doubles: when == 0.0, so -0.0 too);
 *   - singular message: left out when NULL (an empty one is written);
 *   - oneof member: written when its case is set, whatever the value, except
 *     a string or message pointer that is NULL or a string that is
 *     protobuf_c_empty_string (the field's default);
 *   - repeated string or message: every element, a NULL one as empty;
 *   - enums are int32: a negative one is ten bytes, sign-extended.
 */
#include "pack.h"

#include <stdlib.h>
#include <string.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2 };

#define TAG(num, wt) ((uint32_t)(num) << 3 | (uint32_t)(wt))

typedef struct {
    uint8_t *o;         /* writing: next byte; NULL while sizing */
    const uint32_t *rd; /* writing: next tape entry */
    fwp_tape *t;        /* sizing: the tape being filled */
    size_t n;           /* sizing: bytes counted */
    int bad;            /* sizing: out of memory or a length over 32 bits */
} pw;

void fwp_tape_free(fwp_tape *t)
{
    if (!t)
        return;
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

/* ---- primitives ---------------------------------------------------------- */

static inline size_t vsize(uint64_t v)
{
    /* 1 + floor(log2(v) / 7), for v >= 1; 1 for 0. */
    return (size_t)(((63 - __builtin_clzll(v | 1)) * 9 + 73) / 64);
}

static inline uint8_t *put_varint(uint8_t *o, uint64_t v)
{
    while (v >= 0x80) {
        *o++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *o++ = (uint8_t)v;
    return o;
}

static inline uint8_t *put_fixed64(uint8_t *o, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        o[i] = (uint8_t)(v >> (8 * i));
    return o + 8;
}

/* Reserves a tape entry (sizing). Returns its index, or SIZE_MAX. */
static inline size_t tape_push(pw *w, uint32_t v)
{
    fwp_tape *t = w->t;
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        uint32_t *nv = realloc(t->v, nc * sizeof *nv);
        if (!nv) {
            w->bad = 1;
            return SIZE_MAX;
        }
        t->v = nv;
        t->cap = nc;
    }
    t->v[t->n] = v;
    return t->n++;
}

/* A varint field, always written (the caller decides presence). */
static inline void varint_field(pw *w, uint32_t tag, uint64_t v)
{
    if (!w->o) {
        w->n += vsize(tag) + vsize(v);
        return;
    }
    w->o = put_varint(put_varint(w->o, tag), v);
}

/* A 64-bit field, always written. */
static inline void fixed64_field(pw *w, uint32_t tag, uint64_t v)
{
    if (!w->o) {
        w->n += vsize(tag) + 8;
        return;
    }
    w->o = put_fixed64(put_varint(w->o, tag), v);
}

static inline void double_field(pw *w, uint32_t tag, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    fixed64_field(w, tag, v);
}

/* A length-delimited field of len bytes known to both passes. */
static inline void bytes_field(pw *w, uint32_t tag, const void *p, size_t len)
{
    if (!w->o) {
        w->n += vsize(tag) + vsize(len) + len;
        return;
    }
    w->o = put_varint(put_varint(w->o, tag), len);
    if (len)
        memcpy(w->o, p, len);
    w->o += len;
}

/* A string field, always written: measured once, while sizing. */
static inline void string_field(pw *w, uint32_t tag, const char *s)
{
    if (!w->o) {
        size_t len = strlen(s);
        if (len > UINT32_MAX) {
            w->bad = 1;
            return;
        }
        tape_push(w, (uint32_t)len);
        w->n += vsize(tag) + vsize(len) + len;
        return;
    }
    uint32_t len = *w->rd++;
    w->o = put_varint(put_varint(w->o, tag), len);
    memcpy(w->o, s, len);
    w->o += len;
}

/* proto3 string: left out when NULL or "". */
static inline void str3(pw *w, uint32_t num, const char *s)
{
    if (s && s[0])
        string_field(w, TAG(num, WT_LEN), s);
}

/* Element of a repeated string: NULL is written as "". */
static inline void str_elem(pw *w, uint32_t num, const char *s)
{
    string_field(w, TAG(num, WT_LEN), s ? s : "");
}

/* Member of a oneof whose case is set. */
static inline void str_oneof(pw *w, uint32_t num, const char *s)
{
    if (s && s != protobuf_c_empty_string)
        string_field(w, TAG(num, WT_LEN), s);
}

static inline void bytes3(pw *w, uint32_t num, const ProtobufCBinaryData *b)
{
    if (b->len)
        bytes_field(w, TAG(num, WT_LEN), b->data, b->len);
}

static inline void u64_3(pw *w, uint32_t num, uint64_t v)
{
    if (v)
        varint_field(w, TAG(num, WT_VARINT), v);
}

static inline void fixed64_3(pw *w, uint32_t num, uint64_t v)
{
    if (v)
        fixed64_field(w, TAG(num, WT_I64), v);
}

static inline void enum3(pw *w, uint32_t num, int32_t v)
{
    if (v)
        varint_field(w, TAG(num, WT_VARINT), (uint64_t)(int64_t)v);
}

static inline void bool3(pw *w, uint32_t num, protobuf_c_boolean v)
{
    if (v)
        varint_field(w, TAG(num, WT_VARINT), 1);
}

/* Nested message: its size goes on the tape before its fields' entries. */
typedef struct {
    size_t slot, start;
} mark;

static inline mark msg_open(pw *w)
{
    mark m = {0, 0};
    if (!w->o) {
        m.slot = tape_push(w, 0);
        m.start = w->n;
    }
    return m;
}

static inline void msg_close(pw *w, uint32_t tag, mark m)
{
    size_t len = w->n - m.start;
    if (len > UINT32_MAX)
        w->bad = 1;
    if (m.slot != SIZE_MAX)
        w->t->v[m.slot] = (uint32_t)len;
    w->n += vsize(tag) + vsize(len);
}

/* Writes the tag and size of a nested message (writing pass). */
static inline void msg_head(pw *w, uint32_t tag)
{
    uint32_t len = *w->rd++;
    w->o = put_varint(put_varint(w->o, tag), len);
}

/* Visits message p (which may be NULL: then an empty message) as field num
 * with the visit function fn. */
#define SUB(w, num, fn, p)                                                                         \
    do {                                                                                           \
        uint32_t tag_ = TAG(num, WT_LEN);                                                          \
        if ((w)->o) {                                                                              \
            msg_head(w, tag_);                                                                     \
            fn(w, p);                                                                              \
        } else {                                                                                   \
            mark m_ = msg_open(w);                                                                 \
            fn(w, p);                                                                              \
            msg_close(w, tag_, m_);                                                                \
        }                                                                                          \
    } while (0)

/* ---- messages ------------------------------------------------------------ */

/* Event.AttributesEntry and PromptTemplate.VariablesEntry (same layout). */
static void v_entry(pw *w, const Flywheel__V1__Event__AttributesEntry *e)
{
    if (!e)
        return;
    str3(w, 1, e->key);
    str3(w, 2, e->value);
}

static void v_var(pw *w, const Flywheel__V1__PromptTemplate__VariablesEntry *e)
{
    if (!e)
        return;
    str3(w, 1, e->key);
    str3(w, 2, e->value);
}

static void v_tool_call(pw *w, const Flywheel__V1__ToolCall *c)
{
    str3(w, 1, c->id);
    str3(w, 2, c->name);
    str3(w, 3, c->arguments_json);
}

static void v_tool_resp(pw *w, const Flywheel__V1__ToolCallResponse *r)
{
    str3(w, 1, r->id);
    str3(w, 2, r->content);
}

static void v_part(pw *w, const Flywheel__V1__Part *p)
{
    if (!p)
        return;
    switch (p->content_case) {
    case FLYWHEEL__V1__PART__CONTENT_TEXT:
        str_oneof(w, 1, p->text);
        break;
    case FLYWHEEL__V1__PART__CONTENT_TOOL_CALL:
        if (p->tool_call)
            SUB(w, 2, v_tool_call, p->tool_call);
        break;
    case FLYWHEEL__V1__PART__CONTENT_TOOL_CALL_RESPONSE:
        if (p->tool_call_response)
            SUB(w, 3, v_tool_resp, p->tool_call_response);
        break;
    case FLYWHEEL__V1__PART__CONTENT_REASONING:
        str_oneof(w, 4, p->reasoning);
        break;
    default:
        break;
    }
}

static void v_message(pw *w, const Flywheel__V1__Message *m)
{
    if (!m)
        return;
    enum3(w, 1, (int32_t)m->role);
    str3(w, 2, m->name);
    for (size_t i = 0; i < m->n_parts; i++)
        SUB(w, 3, v_part, m->parts[i]);
    str3(w, 4, m->finish_reason);
}

static void v_request(pw *w, const Flywheel__V1__RequestParams *r)
{
    if (r->_temperature_case == FLYWHEEL__V1__REQUEST_PARAMS___TEMPERATURE_TEMPERATURE)
        double_field(w, TAG(1, WT_I64), r->temperature);
    if (r->_top_p_case == FLYWHEEL__V1__REQUEST_PARAMS___TOP_P_TOP_P)
        double_field(w, TAG(2, WT_I64), r->top_p);
    if (r->_top_k_case == FLYWHEEL__V1__REQUEST_PARAMS___TOP_K_TOP_K)
        varint_field(w, TAG(3, WT_VARINT), (uint64_t)r->top_k);
    if (r->_max_tokens_case == FLYWHEEL__V1__REQUEST_PARAMS___MAX_TOKENS_MAX_TOKENS)
        varint_field(w, TAG(4, WT_VARINT), (uint64_t)r->max_tokens);
    if (r->_seed_case == FLYWHEEL__V1__REQUEST_PARAMS___SEED_SEED)
        varint_field(w, TAG(5, WT_VARINT), (uint64_t)r->seed);
    for (size_t i = 0; i < r->n_stop_sequences; i++)
        str_elem(w, 6, r->stop_sequences[i]);
    if (r->_frequency_penalty_case ==
        FLYWHEEL__V1__REQUEST_PARAMS___FREQUENCY_PENALTY_FREQUENCY_PENALTY)
        double_field(w, TAG(7, WT_I64), r->frequency_penalty);
    if (r->_presence_penalty_case ==
        FLYWHEEL__V1__REQUEST_PARAMS___PRESENCE_PENALTY_PRESENCE_PENALTY)
        double_field(w, TAG(8, WT_I64), r->presence_penalty);
    if (r->_stream_case == FLYWHEEL__V1__REQUEST_PARAMS___STREAM_STREAM)
        varint_field(w, TAG(9, WT_VARINT), r->stream ? 1 : 0);
    if (r->_choice_count_case == FLYWHEEL__V1__REQUEST_PARAMS___CHOICE_COUNT_CHOICE_COUNT)
        varint_field(w, TAG(10, WT_VARINT), (uint64_t)r->choice_count);
    str3(w, 15, r->extra_json);
}

static void v_usage(pw *w, const Flywheel__V1__Usage *u)
{
    if (u->_input_tokens_case == FLYWHEEL__V1__USAGE___INPUT_TOKENS_INPUT_TOKENS)
        varint_field(w, TAG(1, WT_VARINT), (uint64_t)u->input_tokens);
    if (u->_output_tokens_case == FLYWHEEL__V1__USAGE___OUTPUT_TOKENS_OUTPUT_TOKENS)
        varint_field(w, TAG(2, WT_VARINT), (uint64_t)u->output_tokens);
    if (u->_cache_read_input_tokens_case ==
        FLYWHEEL__V1__USAGE___CACHE_READ_INPUT_TOKENS_CACHE_READ_INPUT_TOKENS)
        varint_field(w, TAG(3, WT_VARINT), (uint64_t)u->cache_read_input_tokens);
    if (u->_cache_creation_input_tokens_case ==
        FLYWHEEL__V1__USAGE___CACHE_CREATION_INPUT_TOKENS_CACHE_CREATION_INPUT_TOKENS)
        varint_field(w, TAG(4, WT_VARINT), (uint64_t)u->cache_creation_input_tokens);
    if (u->_reasoning_output_tokens_case ==
        FLYWHEEL__V1__USAGE___REASONING_OUTPUT_TOKENS_REASONING_OUTPUT_TOKENS)
        varint_field(w, TAG(5, WT_VARINT), (uint64_t)u->reasoning_output_tokens);
}

static void v_prompt(pw *w, const Flywheel__V1__PromptTemplate *p)
{
    str3(w, 1, p->name);
    str3(w, 2, p->version);
    for (size_t i = 0; i < p->n_variables; i++)
        SUB(w, 3, v_var, p->variables[i]);
}

static void v_truncation(pw *w, const Flywheel__V1__Truncation *t)
{
    bool3(w, 1, t->input_messages);
    bool3(w, 2, t->output_messages);
    bool3(w, 3, t->tool_definitions);
    bool3(w, 4, t->system_instructions);
    bool3(w, 5, t->prompt_variables);
}

static void v_generation(pw *w, const Flywheel__V1__Generation *g)
{
    bytes3(w, 1, &g->trace_id);
    bytes3(w, 2, &g->span_id);
    bytes3(w, 3, &g->parent_span_id);
    str3(w, 4, g->conversation_id);
    str3(w, 5, g->session_id);
    str3(w, 6, g->user_id);
    str3(w, 7, g->operation_name);
    str3(w, 8, g->provider_name);
    str3(w, 9, g->request_model);
    str3(w, 10, g->response_model);
    str3(w, 11, g->response_id);
    if (g->request)
        SUB(w, 12, v_request, g->request);
    for (size_t i = 0; i < g->n_input_messages; i++)
        SUB(w, 13, v_message, g->input_messages[i]);
    for (size_t i = 0; i < g->n_output_messages; i++)
        SUB(w, 14, v_message, g->output_messages[i]);
    str3(w, 15, g->tool_definitions_json);
    for (size_t i = 0; i < g->n_finish_reasons; i++)
        str_elem(w, 16, g->finish_reasons[i]);
    if (g->usage)
        SUB(w, 17, v_usage, g->usage);
    u64_3(w, 18, (uint64_t)g->cost_micro_usd);
    fixed64_3(w, 19, g->start_time_unix_nano);
    fixed64_3(w, 20, g->end_time_unix_nano);
    if (g->_time_to_first_token_nanos_case ==
        FLYWHEEL__V1__GENERATION___TIME_TO_FIRST_TOKEN_NANOS_TIME_TO_FIRST_TOKEN_NANOS)
        varint_field(w, TAG(21, WT_VARINT), (uint64_t)g->time_to_first_token_nanos);
    enum3(w, 22, (int32_t)g->status);
    str3(w, 23, g->error_type);
    str3(w, 24, g->error_message);
    if (g->prompt)
        SUB(w, 25, v_prompt, g->prompt);
    if (g->truncation)
        SUB(w, 26, v_truncation, g->truncation);
    str3(w, 27, g->system_instructions);
}

static void v_feedback(pw *w, const Flywheel__V1__Feedback *f)
{
    bytes3(w, 1, &f->target_event_id);
    str3(w, 2, f->target_response_id);
    bytes3(w, 3, &f->target_trace_id);
    str3(w, 4, f->name);
    switch (f->value_case) {
    case FLYWHEEL__V1__FEEDBACK__VALUE_BOOL_VALUE:
        varint_field(w, TAG(5, WT_VARINT), f->bool_value ? 1 : 0);
        break;
    case FLYWHEEL__V1__FEEDBACK__VALUE_NUMBER_VALUE:
        double_field(w, TAG(6, WT_I64), f->number_value);
        break;
    case FLYWHEEL__V1__FEEDBACK__VALUE_CATEGORY_VALUE:
        str_oneof(w, 7, f->category_value);
        break;
    default:
        break;
    }
    str3(w, 8, f->comment);
    for (size_t i = 0; i < f->n_correction; i++)
        SUB(w, 9, v_message, f->correction[i]);
    enum3(w, 10, (int32_t)f->source);
    str3(w, 11, f->author_id);
    bytes3(w, 12, &f->target_span_id);
}

static void v_event(pw *w, const Flywheel__V1__Event *ev)
{
    bytes3(w, 1, &ev->event_id);
    fixed64_3(w, 2, ev->time_unix_nano);
    str3(w, 3, ev->project);
    str3(w, 4, ev->environment);
    str3(w, 5, ev->release);
    str3(w, 6, ev->sdk_name);
    str3(w, 7, ev->sdk_version);
    u64_3(w, 8, ev->schema_version);
    for (size_t i = 0; i < ev->n_attributes; i++)
        SUB(w, 9, v_entry, ev->attributes[i]);
    for (size_t i = 0; i < ev->n_tags; i++)
        str_elem(w, 10, ev->tags[i]);
    if (ev->body_case == FLYWHEEL__V1__EVENT__BODY_GENERATION && ev->generation)
        SUB(w, 16, v_generation, ev->generation);
    else if (ev->body_case == FLYWHEEL__V1__EVENT__BODY_FEEDBACK && ev->feedback)
        SUB(w, 17, v_feedback, ev->feedback);
}

/* ---- entry points -------------------------------------------------------- */

size_t fwp_size(const Flywheel__V1__Event *ev, fwp_tape *t)
{
    pw w = {.t = t};
    t->n = 0;
    v_event(&w, ev);
    return w.bad ? SIZE_MAX : w.n;
}

size_t fwp_write(const Flywheel__V1__Event *ev, const fwp_tape *t, uint8_t *out)
{
    pw w = {.o = out, .rd = t->v};
    v_event(&w, ev);
    return (size_t)(w.o - out);
}
