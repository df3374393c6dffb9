/*
 * Decode and validate; see decode.h for the order of the checks and why the
 * wire is walked before protobuf-c unpacks it.
 */
#include "decode.h"

#include "fw_utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH   32
#define ARENA_ALIGN 16
#define ARENA_BLOCK 16384

struct fw_arena_block {
    fw_arena_block *next;
    size_t cap, used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

/* protobuf-c allocator over an fw_arena: bump allocation, free is a no-op
 * (fw_decode_free releases everything). NULL when out of memory, which
 * makes protobuf-c fail the unpack. */
static void *arena_alloc(void *opaque, size_t size)
{
    fw_arena *a = opaque;
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (size == 0)
        size = ARENA_ALIGN;
    if (size <= sizeof a->buf - a->used) {
        void *p = a->buf + a->used;
        a->used += size;
        return p;
    }
    fw_arena_block *b = a->blocks;
    if (!b || size > b->cap - b->used) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->blocks;
        b->cap = cap;
        b->used = 0;
        a->blocks = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

static void arena_free(void *opaque, void *p)
{
    (void)opaque;
    (void)p;
}

static void arena_release(fw_arena *a)
{
    while (a->blocks) {
        fw_arena_block *next = a->blocks->next;
        free(a->blocks);
        a->blocks = next;
    }
    a->used = 0;
}

const char *fw_dl_reason_code(fw_dl_reason r)
{
    static const char *const codes[] = {
#define X(name, code) code,
        FW_REASONS(X)
#undef X
    };
    if ((int)r < 0 || r >= FW_DL_COUNT)
        return "unknown";
    return codes[r];
}

typedef struct {
    const fw_limits *lim;
    fw_dl_reason reason; /* first text problem found (the walk goes on for structure) */
    char *detail;
    size_t detailsize;
} walk_state;

static int read_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return -1;
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static void note(walk_state *st, fw_dl_reason r, const ProtobufCMessageDescriptor *d,
                 const ProtobufCFieldDescriptor *f, const char *what)
{
    if (st->reason != FW_DL_NONE)
        return;
    st->reason = r;
    snprintf(st->detail, st->detailsize, "%s.%s %s", d->short_name, f->name, what);
}

/* Walks one message that starts `base` bytes into the whole message.
 * Returns 0, or -1 when the structure is malformed (the detail is then set,
 * naming the offset of the malformed field's tag in the whole message).
 * Text problems are recorded in st and do not stop it. */
static int walk(walk_state *st, const uint8_t *p, size_t len, const ProtobufCMessageDescriptor *d,
                int depth, size_t base)
{
    if (depth > MAX_DEPTH) {
        snprintf(st->detail, st->detailsize, "messages nested deeper than %d", MAX_DEPTH);
        return -1;
    }
    size_t pos = 0, start = 0;
    while (pos < len) {
        uint64_t tag, v;
        start = pos;
        if (read_varint(p, len, &pos, &tag) != 0 || (tag >> 3) == 0 || (tag >> 3) > 0x1FFFFFFF)
            goto malformed;
        unsigned field = (unsigned)(tag >> 3);
        switch (tag & 7) {
        case 0:
            if (read_varint(p, len, &pos, &v) != 0)
                goto malformed;
            break;
        case 1:
            if (len - pos < 8)
                goto malformed;
            pos += 8;
            break;
        case 5:
            if (len - pos < 4)
                goto malformed;
            pos += 4;
            break;
        case 2: {
            if (read_varint(p, len, &pos, &v) != 0 || v > len - pos)
                goto malformed;
            const uint8_t *fp = p + pos;
            size_t flen = (size_t)v;
            pos += flen;
            const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, field);
            if (!f)
                break; /* unknown field: passes */
            if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_BYTES) {
                if (st->lim->max_field_bytes && flen > st->lim->max_field_bytes) {
                    char what[96];
                    snprintf(what, sizeof what, "is %zu bytes, over the limit of %zu", flen,
                             st->lim->max_field_bytes);
                    note(st, FW_DL_OVERSIZE, d, f, what);
                }
                if (f->type == PROTOBUF_C_TYPE_STRING) {
                    if (memchr(fp, 0, flen))
                        note(st, FW_DL_NUL_IN_TEXT, d, f, "contains a NUL byte");
                    else if (!fw_utf8_valid(fp, flen))
                        note(st, FW_DL_INVALID_UTF8, d, f, "is not valid UTF-8");
                }
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (walk(st, fp, flen, f->descriptor, depth + 1, base + (size_t)(fp - p)) != 0)
                    return -1;
            }
            break;
        }
        default:
            goto malformed; /* groups (3, 4) are not used by proto3; 6, 7 do not exist */
        }
    }
    return 0;
malformed:
    snprintf(st->detail, st->detailsize, "malformed protobuf in %s at byte %zu", d->short_name,
             base + start);
    return -1;
}

/* Reads Event.event_id from the top-level fields of a message that is not
 * walked (one over the size limit), so that its dead letter names the
 * event. Stops quietly at the first malformed field. Returns 1 when a
 * 16-byte id was found (the last one, as protobuf would take). */
static int peek_event_id(const uint8_t *p, size_t len, uint8_t id[16])
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
        &flywheel__v1__event__descriptor, "event_id");
    size_t pos = 0;
    int found = 0;
    while (f && pos < len) {
        uint64_t tag, v;
        if (read_varint(p, len, &pos, &tag) != 0)
            break;
        switch (tag & 7) {
        case 0:
            if (read_varint(p, len, &pos, &v) != 0)
                return found;
            break;
        case 1:
        case 5: {
            size_t n = (tag & 7) == 1 ? 8 : 4;
            if (len - pos < n)
                return found;
            pos += n;
            break;
        }
        case 2:
            if (read_varint(p, len, &pos, &v) != 0 || v > len - pos)
                return found;
            if ((tag >> 3) == f->id) {
                found = v == 16;
                if (found)
                    memcpy(id, p + pos, 16);
            }
            pos += (size_t)v;
            break;
        default:
            return found;
        }
    }
    return found;
}

static int fail(fw_decoded *out, fw_dl_reason r, const char *msg)
{
    out->reason = r;
    snprintf(out->detail, sizeof out->detail, "%s", msg);
    return -1;
}

static int check_messages(fw_decoded *out, Flywheel__V1__Message **m, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if ((int)m[i]->role < 0 || m[i]->role > FLYWHEEL__V1__ROLE__ROLE_DEVELOPER) {
            char msg[96];
            snprintf(msg, sizeof msg, "%s has an unknown role", what);
            return fail(out, FW_DL_OUT_OF_RANGE, msg);
        }
    }
    return 0;
}

static int finite_or_fail(fw_decoded *out, int present, double v, const char *name)
{
    if (present && !isfinite(v)) {
        char m[96];
        snprintf(m, sizeof m, "%s is not a finite number", name);
        return fail(out, FW_DL_OUT_OF_RANGE, m);
    }
    return 0;
}

static int validate_generation(fw_decoded *out, const Flywheel__V1__Generation *g)
{
    const Flywheel__V1__RequestParams *r = g->request;
    if (r) {
        if (finite_or_fail(out, r->_temperature_case != 0, r->temperature, "request.temperature") ||
            finite_or_fail(out, r->_top_p_case != 0, r->top_p, "request.top_p") ||
            finite_or_fail(out, r->_frequency_penalty_case != 0, r->frequency_penalty,
                           "request.frequency_penalty") ||
            finite_or_fail(out, r->_presence_penalty_case != 0, r->presence_penalty,
                           "request.presence_penalty"))
            return -1;
        if ((r->_max_tokens_case && r->max_tokens < 0) || (r->_top_k_case && r->top_k < 0) ||
            (r->_choice_count_case && r->choice_count < 0))
            return fail(out, FW_DL_OUT_OF_RANGE, "request has a negative count");
    }
    const Flywheel__V1__Usage *u = g->usage;
    if (u && ((u->_input_tokens_case && u->input_tokens < 0) ||
              (u->_output_tokens_case && u->output_tokens < 0) ||
              (u->_cache_read_input_tokens_case && u->cache_read_input_tokens < 0) ||
              (u->_cache_creation_input_tokens_case && u->cache_creation_input_tokens < 0) ||
              (u->_reasoning_output_tokens_case && u->reasoning_output_tokens < 0)))
        return fail(out, FW_DL_OUT_OF_RANGE, "usage has a negative token count");
    if (g->cost_micro_usd < 0)
        return fail(out, FW_DL_OUT_OF_RANGE, "cost_micro_usd is negative");
    if (g->_time_to_first_token_nanos_case && g->time_to_first_token_nanos < 0)
        return fail(out, FW_DL_OUT_OF_RANGE, "time_to_first_token_nanos is negative");
    if (g->start_time_unix_nano && g->end_time_unix_nano &&
        g->end_time_unix_nano < g->start_time_unix_nano)
        return fail(out, FW_DL_OUT_OF_RANGE, "end_time_unix_nano is before start");
    if ((int)g->status < 0 || g->status > FLYWHEEL__V1__STATUS__STATUS_ERROR)
        return fail(out, FW_DL_OUT_OF_RANGE, "status has an unknown value");
    if (check_messages(out, g->input_messages, g->n_input_messages, "input_messages") ||
        check_messages(out, g->output_messages, g->n_output_messages, "output_messages"))
        return -1;
    return 0;
}

static int validate_feedback(fw_decoded *out, const Flywheel__V1__Feedback *f)
{
    if (f->target_event_id.len != 0 && f->target_event_id.len != 16)
        return fail(out, FW_DL_MISSING_FIELD, "feedback.target_event_id is not 16 bytes");
    if (f->target_event_id.len == 0 && f->target_response_id[0] == '\0' &&
        f->target_trace_id.len == 0)
        return fail(out, FW_DL_MISSING_FIELD, "feedback has no target");
    if (f->target_span_id.len != 0 && f->target_span_id.len != 8)
        return fail(out, FW_DL_MISSING_FIELD, "feedback.target_span_id is not 8 bytes");
    if (f->target_span_id.len != 0 && f->target_trace_id.len == 0)
        return fail(out, FW_DL_MISSING_FIELD, "feedback.target_span_id without target_trace_id");
    if (f->value_case == FLYWHEEL__V1__FEEDBACK__VALUE_NUMBER_VALUE &&
        finite_or_fail(out, 1, f->number_value, "feedback.number_value"))
        return -1;
    if ((int)f->source < 0 || f->source > FLYWHEEL__V1__FEEDBACK_SOURCE__FEEDBACK_SOURCE_REVIEWER)
        return fail(out, FW_DL_OUT_OF_RANGE, "feedback.source has an unknown value");
    return check_messages(out, f->correction, f->n_correction, "feedback.correction");
}

int fw_event_id_time_ms(const uint8_t id[16], uint64_t *ms)
{
    if ((id[6] >> 4) != 7 || (id[8] & 0xC0) != 0x80)
        return 0;
    uint64_t t = 0;
    for (int i = 0; i < 6; i++)
        t = t << 8 | id[i];
    if (t >= FW_MAX_ID_TIME_MS)
        return 0;
    *ms = t;
    return 1;
}

/* A generation's id must carry its row's place (a UUIDv7). Feedback keeps
 * one row per id whatever its version (its table is not partitioned). */
static int check_generation_id(fw_decoded *out, const uint8_t id[16])
{
    uint64_t ms;
    if (fw_event_id_time_ms(id, &ms))
        return 0;
    out->reason = FW_DL_INVALID_EVENT_ID;
    if ((id[6] >> 4) != 7 || (id[8] & 0xC0) != 0x80)
        snprintf(out->detail, sizeof out->detail,
                 "event_id is not a UUIDv7 (version %d); a generation's id must be one, its "
                 "time places the row",
                 id[6] >> 4);
    else
        snprintf(out->detail, sizeof out->detail,
                 "event_id's time is not before 10000-01-01 (the id's time places the row)");
    return -1;
}

fw_dl_reason fw_decode(const uint8_t *data, size_t len, const fw_limits *lim, fw_decoded *out)
{
    /* Not memset: the arena's inline block needs no clearing. */
    out->event = NULL;
    out->reason = FW_DL_NONE;
    out->detail[0] = '\0';
    memset(out->event_id, 0, sizeof out->event_id);
    out->has_event_id = 0;
    out->arena.used = 0;
    out->arena.blocks = NULL;
    if (len == 0) {
        /* protobuf would unpack it as an event with every field unset and
         * report whatever check comes first; say what it is instead. */
        out->reason = FW_DL_EMPTY_MESSAGE;
        snprintf(out->detail, sizeof out->detail, "message is empty (0 bytes)");
        return out->reason;
    }
    if (lim->max_message_bytes && len > lim->max_message_bytes) {
        out->reason = FW_DL_OVERSIZE;
        snprintf(out->detail, sizeof out->detail, "message is %zu bytes, over the limit of %zu",
                 len, lim->max_message_bytes);
        out->has_event_id = peek_event_id(data, len, out->event_id);
        return out->reason;
    }
    walk_state st = {lim, FW_DL_NONE, out->detail, sizeof out->detail};
    if (walk(&st, data, len, &flywheel__v1__event__descriptor, 0, 0) != 0) {
        out->reason = FW_DL_UNDECODABLE;
        return out->reason;
    }
    ProtobufCAllocator alloc = {arena_alloc, arena_free, &out->arena};
    Flywheel__V1__Event *ev = flywheel__v1__event__unpack(&alloc, len, data);
    if (!ev) {
        arena_release(&out->arena);
        if (st.reason == FW_DL_NONE) {
            out->reason = FW_DL_UNDECODABLE;
            snprintf(out->detail, sizeof out->detail, "protobuf-c could not unpack the event");
        } else {
            out->reason = st.reason;
        }
        return out->reason;
    }
    if (ev->event_id.len == 16) {
        memcpy(out->event_id, ev->event_id.data, 16);
        out->has_event_id = 1;
    }
    if (st.reason != FW_DL_NONE) {
        out->reason = st.reason;
        goto reject;
    }
    if (ev->schema_version != FLYWHEEL__V1__SCHEMA_VERSION__SCHEMA_VERSION_1) {
        out->reason = FW_DL_UNKNOWN_SCHEMA_VERSION;
        snprintf(out->detail, sizeof out->detail, "schema_version %u is not supported (1 is)",
                 (unsigned)ev->schema_version);
        goto reject;
    }
    if (ev->event_id.len != 16) {
        fail(out, FW_DL_MISSING_FIELD, "event_id is not 16 bytes");
        goto reject;
    }
    if (ev->time_unix_nano == 0) {
        fail(out, FW_DL_MISSING_FIELD, "time_unix_nano is missing");
        goto reject;
    }
    if (ev->body_case == FLYWHEEL__V1__EVENT__BODY_GENERATION) {
        if (check_generation_id(out, ev->event_id.data) != 0 ||
            validate_generation(out, ev->generation) != 0)
            goto reject;
    } else if (ev->body_case == FLYWHEEL__V1__EVENT__BODY_FEEDBACK) {
        if (validate_feedback(out, ev->feedback) != 0)
            goto reject;
    } else {
        fail(out, FW_DL_MISSING_FIELD, "event has no body (generation or feedback)");
        goto reject;
    }
    out->event = ev;
    out->reason = FW_DL_NONE;
    return FW_DL_NONE;
reject:
    arena_release(&out->arena);
    return out->reason;
}

void fw_decode_free(fw_decoded *d)
{
    arena_release(&d->arena);
    d->event = NULL;
}
