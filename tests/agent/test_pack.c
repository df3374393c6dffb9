/*
 * The agent's hand-written protobuf writer (agent/src/pack.c) against
 * protobuf-c: random Events, every field of every message filled or left
 * unset at random, are packed by both and must give the same bytes.
 *
 * The events are made through protobuf-c's descriptors (reflection, here in
 * the test only), field by field of every message type reachable from
 * Event, so a field added to the schema is filled here at once and the test
 * fails until pack.c writes it too. Values cover what changes the wire: the
 * zero of every type, -0.0, NaN, negative int64 and enum values (ten-byte
 * varints), varint length boundaries (127/128, 16383/16384), empty strings
 * and NULL ones, protobuf-c's empty-string default in a oneof, empty
 * elements of repeated fields, empty nested messages, multi-byte UTF-8 and long
 * strings; oneof members with their case set and a NULL or default value.
 * A few events are also checked against protobuf-c's unpacker, which is how
 * the collector reads them.
 */
#include "fwtest.h"
#include "pack.h"

#include <math.h>

/* ---- deterministic randomness --------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned pick(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* ---- an arena for one event ----------------------------------------------- */

static void **blocks;
static size_t n_blocks, cap_blocks;

static void *alloc(size_t n)
{
    if (n_blocks == cap_blocks) {
        cap_blocks = cap_blocks ? cap_blocks * 2 : 256;
        blocks = realloc(blocks, cap_blocks * sizeof *blocks);
        FWT_CHECK(blocks);
    }
    void *p = calloc(1, n ? n : 1);
    FWT_CHECK(p);
    blocks[n_blocks++] = p;
    return p;
}

static void free_all(void)
{
    for (size_t i = 0; i < n_blocks; i++)
        free(blocks[i]);
    n_blocks = 0;
}

/* ---- values ----------------------------------------------------------------- */

static const char *const PIECES[] = {"a",  "chat", " ",    "é",         "日本語", "😀",
                                     "\"", "\\",   "\x7f", "{\"k\":1}", "ß",      "\t\n"};

/* A string of n bytes or a little more (whole UTF-8 pieces), no NUL. */
static char *rand_text(size_t n)
{
    char *s = alloc(n + 16); /* the longest piece is 9 bytes */
    size_t w = 0;
    while (w < n) {
        const char *p = PIECES[pick(sizeof PIECES / sizeof PIECES[0])];
        size_t l = strlen(p);
        memcpy(s + w, p, l);
        w += l;
    }
    s[w] = '\0';
    return s;
}

static size_t rand_len(void)
{
    static const size_t edges[] = {0, 1, 2, 127, 128, 129, 300, 16383, 16384, 20000};
    unsigned k = pick(20);
    if (k < 10)
        return edges[k] > 400 && pick(8) ? pick(64) : edges[k];
    return pick(k < 17 ? 24 : 600);
}

/* A value for a string field: NULL, protobuf-c's default, "", or text. */
static char *rand_string(void)
{
    switch (pick(8)) {
    case 0:
        return NULL;
    case 1:
        return (char *)(uintptr_t)protobuf_c_empty_string;
    case 2:
        return alloc(1);
    default:
        return rand_text(rand_len());
    }
}

static uint64_t rand_u64(void)
{
    static const uint64_t edges[] = {0,
                                     1,
                                     127,
                                     128,
                                     16383,
                                     16384,
                                     UINT32_MAX,
                                     (uint64_t)INT64_MAX,
                                     (uint64_t)INT64_MIN,
                                     UINT64_MAX,
                                     (uint64_t)-2,
                                     (uint64_t)-129};
    unsigned k = pick(16);
    if (k < 12)
        return edges[k];
    return k == 12 ? rnd() : rnd() >> pick(64);
}

static uint32_t rand_u32(void)
{
    static const uint32_t edges[] = {0,          1,         127,         128, 16383,       16384,
                                     UINT32_MAX, INT32_MAX, 0x80000000u, 5,   (uint32_t)-1};
    unsigned k = pick(14);
    if (k < 11)
        return edges[k];
    return (uint32_t)(rnd() >> pick(64));
}

static double rand_double(void)
{
    static const double edges[] = {0.0, -0.0, 1.0, -1.5, 0.2, 1e300, -1e-300};
    unsigned k = pick(10);
    if (k < 7)
        return edges[k];
    if (k == 7)
        return NAN;
    if (k == 8)
        return INFINITY;
    uint64_t bits = rnd();
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static void *rand_message(const ProtobufCMessageDescriptor *d, int depth);

/* Fills one value of field f at p (the member or an element of its array). */
static void rand_value(const ProtobufCFieldDescriptor *f, void *p, int depth, int in_array)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        *(uint32_t *)p = rand_u32();
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)p = rand_u64();
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        *(float *)p = (float)rand_double();
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)p = rand_double();
        break;
    case PROTOBUF_C_TYPE_BOOL:
        /* protobuf-c writes any nonzero value as 1. */
        *(protobuf_c_boolean *)p = (protobuf_c_boolean)pick(3);
        break;
    case PROTOBUF_C_TYPE_STRING:
        /* protobuf-c cannot size a NULL element of a repeated field. */
        *(char **)p = rand_string();
        if (in_array && !*(char **)p)
            *(char **)p = alloc(1);
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *b = p;
        unsigned k = pick(4);
        b->len = k == 0 ? 0 : k == 1 ? 16 : k == 2 ? 8 : rand_len();
        b->data = k == 0 && pick(2) ? NULL : alloc(b->len);
        for (size_t i = 0; i < b->len; i++)
            b->data[i] = (uint8_t)rnd();
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        /* NULL (left out; not in a repeated field, which protobuf-c
         * cannot size), an empty message, or a random one. */
        if (!in_array && (pick(5) == 0 || depth > 4))
            *(void **)p = NULL;
        else
            *(void **)p = rand_message(f->descriptor, pick(4) == 0 || depth > 4 ? 99 : depth + 1);
        break;
    default:
        FWT_CHECK_MSG(0, "field %s: type %d not handled by this test", f->name, (int)f->type);
    }
}

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    default:
        return 4;
    }
}

/* A message of type d with each field set or not; depth 99: empty. */
static void *rand_message(const ProtobufCMessageDescriptor *d, int depth)
{
    void *m = alloc(d->sizeof_message);
    protobuf_c_message_init(d, m);
    if (depth == 99)
        return m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        void *member = (char *)m + f->offset;
        void *qmember = (char *)m + f->quantifier_offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            FWT_CHECK_MSG(!(f->flags & PROTOBUF_C_FIELD_FLAG_PACKED) ||
                              f->type == PROTOBUF_C_TYPE_STRING,
                          "field %s: packed repeated fields are not written by pack.c", f->name);
            size_t n = pick(3) == 0 ? 0 : pick(5);
            size_t es = elem_size(f->type);
            char *arr = n ? alloc(n * es) : NULL;
            for (size_t k = 0; k < n; k++)
                rand_value(f, arr + k * es, depth, 1);
            *(size_t *)qmember = n;
            *(void **)member = arr;
        } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            /* Members of one oneof share the member and the case: a later
             * member set here replaces an earlier one. */
            if (pick(2)) {
                *(uint32_t *)qmember = f->id;
                rand_value(f, member, depth, 0);
            }
        } else {
            FWT_CHECK_MSG(f->label == PROTOBUF_C_LABEL_NONE,
                          "field %s: label %d (proto3 fields only are written by pack.c)", f->name,
                          (int)f->label);
            if (pick(4))
                rand_value(f, member, depth, 0);
        }
    }
    return m;
}

/* ---- the comparison ------------------------------------------------------- */

static void compare(const Flywheel__V1__Event *ev, fwp_tape *tape, long iter, int unpack)
{
    size_t want = flywheel__v1__event__get_packed_size(ev);
    uint8_t *a = malloc(want ? want : 1);
    FWT_CHECK(a);
    FWT_CHECK_EQ_INT(flywheel__v1__event__pack(ev, a), want);
    size_t got = fwp_size(ev, tape);
    FWT_CHECK_MSG(got == want, "event %ld: fwp_size %zu, protobuf-c %zu", iter, got, want);
    uint8_t *b = malloc(got + 1);
    FWT_CHECK(b);
    b[got] = 0xa5; /* canary: nothing written past the size */
    size_t wrote = fwp_write(ev, tape, b);
    FWT_CHECK_MSG(wrote == want, "event %ld: fwp_write wrote %zu bytes of %zu", iter, wrote, want);
    FWT_CHECK(b[got] == 0xa5);
    if (memcmp(a, b, want) != 0) {
        size_t k = 0;
        while (a[k] == b[k])
            k++;
        FWT_CHECK_MSG(0, "event %ld: bytes differ at offset %zu of %zu: 0x%02x, protobuf-c 0x%02x",
                      iter, k, want, b[k], a[k]);
    }
    if (unpack) {
        Flywheel__V1__Event *back = flywheel__v1__event__unpack(NULL, got, b);
        FWT_CHECK_MSG(back, "event %ld: protobuf-c cannot unpack the bytes", iter);
        flywheel__v1__event__free_unpacked(back, NULL);
    }
    free(a);
    free(b);
}

/* The shapes the agent makes, by hand: a full generation and feedback with
 * every value kind, so a mistake shows even if the random walk missed it. */
static void fixed_events(fwp_tape *tape)
{
    Flywheel__V1__Event ev = FLYWHEEL__V1__EVENT__INIT;
    Flywheel__V1__Generation g = FLYWHEEL__V1__GENERATION__INIT;
    Flywheel__V1__RequestParams rp = FLYWHEEL__V1__REQUEST_PARAMS__INIT;
    Flywheel__V1__Usage us = FLYWHEEL__V1__USAGE__INIT;
    Flywheel__V1__Message m = FLYWHEEL__V1__MESSAGE__INIT, m2 = FLYWHEEL__V1__MESSAGE__INIT;
    Flywheel__V1__Message *mp[2] = {&m, &m2};
    Flywheel__V1__Part text = FLYWHEEL__V1__PART__INIT, empty = FLYWHEEL__V1__PART__INIT,
                       tool = FLYWHEEL__V1__PART__INIT;
    Flywheel__V1__Part *pp[3] = {&text, &empty, &tool};
    Flywheel__V1__ToolCall tc = FLYWHEEL__V1__TOOL_CALL__INIT;
    Flywheel__V1__Truncation tr = FLYWHEEL__V1__TRUNCATION__INIT;
    char *stops[2] = {"\n\n", ""};
    static unsigned char id[16] = {1, 2, 3};
    static char none[1];
    ev.event_id = (ProtobufCBinaryData){16, id};
    ev.time_unix_nano = 1700000000123456789ull;
    ev.project = "proj";
    ev.sdk_name = "libflywheel";
    ev.schema_version = 1;
    ev.body_case = FLYWHEEL__V1__EVENT__BODY_GENERATION;
    ev.generation = &g;
    g.trace_id = (ProtobufCBinaryData){16, id};
    g.conversation_id = "conv-1";
    g.request = &rp;
    rp._temperature_case = FLYWHEEL__V1__REQUEST_PARAMS___TEMPERATURE_TEMPERATURE;
    rp.temperature = 0.0; /* present although zero */
    rp._seed_case = FLYWHEEL__V1__REQUEST_PARAMS___SEED_SEED;
    rp.seed = -1;
    rp.n_stop_sequences = 2;
    rp.stop_sequences = stops;
    g.usage = &us; /* empty, still written */
    g.n_input_messages = 2;
    g.input_messages = mp;
    m.role = (Flywheel__V1__Role)-3;
    m.n_parts = 3;
    m.parts = pp;
    text.content_case = FLYWHEEL__V1__PART__CONTENT_TEXT;
    text.text = "héllo";
    empty.content_case = FLYWHEEL__V1__PART__CONTENT_TEXT;
    empty.text = none; /* an omitted text: the part stays, empty */
    tool.content_case = FLYWHEEL__V1__PART__CONTENT_TOOL_CALL;
    tool.tool_call = &tc;
    tc.id = "call_1";
    tc.arguments_json = "{}";
    g.cost_micro_usd = -5;
    g._time_to_first_token_nanos_case =
        FLYWHEEL__V1__GENERATION___TIME_TO_FIRST_TOKEN_NANOS_TIME_TO_FIRST_TOKEN_NANOS;
    g.status = FLYWHEEL__V1__STATUS__STATUS_OK;
    g.truncation = &tr;
    tr.output_messages = 1;
    compare(&ev, tape, -1, 1);

    Flywheel__V1__Feedback fb = FLYWHEEL__V1__FEEDBACK__INIT;
    ev.body_case = FLYWHEEL__V1__EVENT__BODY_FEEDBACK;
    ev.feedback = &fb;
    fb.target_event_id = (ProtobufCBinaryData){16, id};
    fb.target_span_id = (ProtobufCBinaryData){8, id};
    fb.name = "thumbs";
    fb.value_case = FLYWHEEL__V1__FEEDBACK__VALUE_CATEGORY_VALUE;
    fb.category_value = none;
    fb.n_correction = 1;
    fb.correction = mp;
    fb.source = FLYWHEEL__V1__FEEDBACK_SOURCE__FEEDBACK_SOURCE_REVIEWER;
    compare(&ev, tape, -2, 1);
    fb.value_case = FLYWHEEL__V1__FEEDBACK__VALUE_NUMBER_VALUE;
    fb.number_value = -0.0;
    compare(&ev, tape, -3, 1);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1500;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 20261208;
    fwp_tape tape = {0};
    fixed_events(&tape);
    for (long i = 0; i < n; i++) {
        rng_state = seed + (uint64_t)i * 7919;
        Flywheel__V1__Event *ev = rand_message(&flywheel__v1__event__descriptor, 0);
        compare(ev, &tape, i, i % 16 == 0);
        free_all();
    }
    fwp_tape_free(&tape);
    free(blocks);
    printf("ok: %ld random events packed byte for byte as protobuf-c does (seed %llu)\n", n,
           (unsigned long long)seed);
    return 0;
}
