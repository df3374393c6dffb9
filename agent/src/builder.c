/*
 * builder — the application-thread side of the agent: the fw_gen_* and
 * fw_feedback_* builders, event ids, and the hand-over to the queue.
 *
 * Everything here runs on application threads and must stay cheap and
 * non-blocking: setters append a record to the entry's log (entry.h) with one
 * memcpy, growing the block by doubling; fw_*_record() makes a UUIDv7 from
 * the wall clock and a per-thread generator, reserves the entry's size
 * against queue.max_bytes and links it into the queue. No lock, no system
 * call (unless the agent thread sleeps after a long idle period, when one
 * condition-variable signal wakes it, counted in FW_STAT_WAKEUPS). Failures
 * never abort: they poison the builder and are counted when the event is
 * recorded. In a child of fork() the event is dropped (FW_ERR_FORKED).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "fw_hex.h"
#include "internal.h"
#include "fw_utf8.h"

#define GEN_INITIAL_BYTES FWI_GEN_INITIAL_BYTES
#define FB_INITIAL_BYTES  1024

struct fw_builder {
    fw_agent_t *agent;
    fw_entry *e;
    fw_err_t failed;
    int dir; /* direction of the current message, -1 none */
};
struct fw_gen_s {
    struct fw_builder b;
};
struct fw_feedback_s {
    struct fw_builder b;
};

/* ---- event ids ---------------------------------------------------------- */

/* Bumped in the child after fork(): each thread re-seeds its generator, and
 * agents made before the fork know they belong to the parent. */
static atomic_uint fork_generation = 1;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void on_fork_child(void)
{
    atomic_fetch_add(&fork_generation, 1);
}
static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

void fwi_atfork_register(void)
{
    pthread_once(&atfork_once, register_atfork);
}

unsigned fwi_fork_generation(void)
{
    return atomic_load_explicit(&fork_generation, memory_order_relaxed);
}

static _Thread_local uint64_t rng_s[2];
static _Thread_local unsigned rng_generation;

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* xorshift128+, seeded from getrandom() once per thread (and after fork). */
static uint64_t rng_next(void)
{
    unsigned gen = atomic_load_explicit(&fork_generation, memory_order_relaxed);
    if (rng_generation != gen) {
        uint64_t seed[2] = {0, 0};
        if (getrandom(seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            seed[0] ^= (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)&seed;
        }
        uint64_t x = seed[0] ^ (seed[1] << 1);
        rng_s[0] = splitmix(&x);
        rng_s[1] = splitmix(&x) | 1;
        rng_generation = gen;
    }
    uint64_t s1 = rng_s[0];
    const uint64_t s0 = rng_s[1];
    rng_s[0] = s0;
    s1 ^= s1 << 23;
    rng_s[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return rng_s[1] + s0;
}

/* UUIDv7: 48-bit Unix milliseconds, version 7, 74 random bits, variant 10. */
static void make_uuid7(unsigned char b[16], uint64_t unix_nanos)
{
    uint64_t ms = unix_nanos / 1000000u;
    uint64_t r1 = rng_next(), r2 = rng_next();
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70 | ((r1 >> 8) & 0x0f));
    b[7] = (unsigned char)r1;
    b[8] = (unsigned char)(0x80 | ((r1 >> 16) & 0x3f));
    for (int i = 9; i < 16; i++)
        b[i] = (unsigned char)(r2 >> (8 * (i - 9)));
}

fw_err_t fw_event_id_parse(const char *str, unsigned char out[16])
{
    if (!str || !out || strlen(str) != 36)
        return FW_ERR_INVALID_ARG;
    unsigned char tmp[16];
    size_t j = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (str[i] != '-')
                return FW_ERR_INVALID_ARG;
            i++;
            continue;
        }
        int h = fw_hex_val((unsigned char)str[i]), l = fw_hex_val((unsigned char)str[i + 1]);
        if (h < 0 || l < 0)
            return FW_ERR_INVALID_ARG;
        tmp[j++] = (unsigned char)(h << 4 | l);
        i += 2;
    }
    memcpy(out, tmp, 16);
    return FW_OK;
}

/* ---- entry blocks (the pool is described in internal.h) ------------------ */

fw_entry *fwi_entry_alloc(fw_agent_t *a)
{
    fw_entry *e = NULL;
    if (pthread_mutex_trylock(&a->pool_lock) == 0) {
        if (a->n_pool > 0)
            e = a->pool[--a->n_pool];
        pthread_mutex_unlock(&a->pool_lock);
    }
    return e ? e : malloc(sizeof *e + GEN_INITIAL_BYTES);
}

void fwi_entry_free(fw_agent_t *a, fw_entry *e)
{
    if (e && e->node.size == sizeof *e + GEN_INITIAL_BYTES &&
        pthread_mutex_trylock(&a->pool_lock) == 0) {
        int kept = a->n_pool < FWI_POOL_MAX;
        if (kept)
            a->pool[a->n_pool++] = e;
        pthread_mutex_unlock(&a->pool_lock);
        if (kept)
            return;
    }
    free(e);
}

/* ---- builder ------------------------------------------------------------ */

static struct fw_builder *builder_new(fw_agent_t *agent, int kind, size_t initial)
{
    if (!agent)
        return NULL;
    struct fw_builder *b = malloc(sizeof *b);
    fw_entry *e =
        initial == GEN_INITIAL_BYTES ? fwi_entry_alloc(agent) : malloc(sizeof *e + initial);
    if (!b || !e) {
        free(b);
        if (e)
            e->node.size = sizeof *e + initial;
        fwi_entry_free(agent, e);
        fwi_count(agent, FW_STAT_DROPPED_NOMEM, 1);
        fwi_count(agent, FW_STAT_RECORDED, 1);
        return NULL;
    }
    memset(e, 0, sizeof *e);
    /* The block usually comes from the pool, last read by the agent thread
     * on another core: ask for every line of it for writing now, so that the
     * setters' copies find them owned instead of each store waiting for its
     * line, and the first atomic instruction of the record (a full barrier)
     * does not wait for all of them at once. */
    for (size_t off = 64; off < sizeof *e + initial; off += 64)
        __builtin_prefetch((char *)e + off, 1);
    e->kind = (uint8_t)kind;
    e->cap = (uint32_t)initial;
    e->node.size = sizeof *e + initial;
    b->agent = agent;
    b->e = e;
    b->failed = FW_OK;
    b->dir = -1;
    return b;
}

static fw_err_t fail(struct fw_builder *b, fw_err_t err)
{
    if (b->failed == FW_OK)
        b->failed = err;
    return err;
}

/* Makes room for `need` more bytes. */
static fw_err_t reserve(struct fw_builder *b, size_t need)
{
    fw_entry *e = b->e;
    if ((size_t)e->len + need <= e->cap)
        return FW_OK;
    size_t want = (size_t)e->len + need, cap = e->cap ? e->cap : 64;
    while (cap < want)
        cap *= 2;
    if (cap > UINT32_MAX)
        return fail(b, FW_ERR_NOMEM);
    fw_entry *ne = realloc(e, sizeof *ne + cap);
    if (!ne)
        return fail(b, FW_ERR_NOMEM);
    ne->cap = (uint32_t)cap;
    ne->node.size = sizeof *ne + cap;
    b->e = ne;
    return FW_OK;
}

/* Appends one record. trunc_flag is the Truncation bit for content cut to
 * max_event_bytes (0: never cut, e.g. fixed-size payloads). */
static fw_err_t put(struct fw_builder *b, int tag, int aux, const void *p, size_t n, int trunc_flag)
{
    if (b->failed != FW_OK)
        return b->failed;
    if (trunc_flag && n > b->agent->s.max_event_bytes) {
        n = fw_utf8_cut(p, n, (size_t)b->agent->s.max_event_bytes);
        b->e->trunc |= (uint8_t)trunc_flag;
    }
    if (n > UINT32_MAX - 16)
        return fail(b, FW_ERR_INVALID_ARG);
    fw_err_t err = reserve(b, sizeof(fwe_rec) + n + 1);
    if (err != FW_OK)
        return err;
    fw_entry *e = b->e;
    fwe_rec r = {(uint16_t)tag, (uint16_t)aux, (uint32_t)n};
    memcpy(e->data + e->len, &r, sizeof r);
    if (n)
        memcpy(e->data + e->len + sizeof r, p, n);
    e->data[e->len + sizeof r + n] = '\0';
    e->len += (uint32_t)(sizeof r + n + 1);
    return FW_OK;
}

static fw_err_t put_str(struct fw_builder *b, int tag, int aux, const char *s, int trunc_flag)
{
    if (!b)
        return FW_ERR_INVALID_ARG;
    if (!s)
        return fail(b, FW_ERR_INVALID_ARG);
    return put(b, tag, aux, s, strlen(s), trunc_flag);
}

static int part_flag(const struct fw_builder *b)
{
    return b->dir == FWE_DIR_INPUT    ? FWE_TR_INPUT
           : b->dir == FWE_DIR_OUTPUT ? FWE_TR_OUTPUT
                                      : FWE_TR_OTHER;
}

static fw_err_t add_message(struct fw_builder *b, int dir, fw_role_t role, const char *name)
{
    if (!b)
        return FW_ERR_INVALID_ARG;
    if ((unsigned)role > FW_ROLE_DEVELOPER)
        return fail(b, FW_ERR_INVALID_ARG);
    fw_err_t err = put(b, FWE_T_MSG, dir << 8 | (int)role, name ? name : "",
                       name ? strlen(name) : 0, FWE_TR_OTHER);
    if (err == FW_OK)
        b->dir = dir;
    return err;
}

static fw_err_t add_part(struct fw_builder *b, int tag, const char *s, size_t n)
{
    if (!b)
        return FW_ERR_INVALID_ARG;
    if (b->dir < 0)
        return fail(b, FW_ERR_NO_MESSAGE);
    if (!s)
        return fail(b, FW_ERR_INVALID_ARG);
    return put(b, tag, 0, s, n, part_flag(b));
}

static fw_err_t add_tool_call(struct fw_builder *b, const char *id, const char *name,
                              const char *args)
{
    if (!b)
        return FW_ERR_INVALID_ARG;
    if (b->dir < 0)
        return fail(b, FW_ERR_NO_MESSAGE);
    fw_err_t err = put_str(b, FWE_T_TOOL_CALL, 0, id ? id : "", FWE_TR_OTHER);
    if (err == FW_OK)
        err = put_str(b, FWE_T_CONT, 0, name ? name : "", FWE_TR_OTHER);
    if (err == FW_OK)
        err = put_str(b, FWE_T_CONT, 0, args ? args : "", part_flag(b));
    return err;
}

/* Hands the entry over; frees the builder in every case. */
static fw_err_t record(struct fw_builder *b, fw_event_id_t *id_out)
{
    if (!b)
        return FW_ERR_INVALID_ARG;
    fw_agent_t *a = b->agent;
    fw_entry *e = b->e;
    fw_err_t failed = b->failed;
    free(b);

    e->time_unix_nano = fwi_unix_nanos();
    make_uuid7(e->event_id, e->time_unix_nano);
    if (id_out) {
        memcpy(id_out->bytes, e->event_id, 16);
        fw_uuid_format(id_out->str, e->event_id);
        id_out->str[36] = '\0';
    }
    /* Every path counts the event's place (queue or drop reason) before
     * RECORDED, so that a stats snapshot never shows it missing. */
    if (failed != FW_OK) {
        fwi_count(a, failed == FW_ERR_NOMEM ? FW_STAT_DROPPED_NOMEM : FW_STAT_DROPPED_BUILDER_ERROR,
                  1);
        fwi_count(a, FW_STAT_RECORDED, 1);
        fwi_entry_free(a, e);
        return FW_ERR_BUILDER_FAILED;
    }
    if (fwi_forked(a)) {
        /* A child of fork(): the agent thread and the librdkafka handle are
         * the parent's; touch neither (see Fork in flywheel.h). */
        fwi_count(a, FW_STAT_DROPPED_FORKED, 1);
        fwi_count(a, FW_STAT_RECORDED, 1);
        fwi_entry_free(a, e);
        return FW_ERR_FORKED;
    }
    size_t size = e->node.size;
    int ok = fwq_reserve(&a->q, size);
    if (!ok && a->s.full_policy == FWI_POLICY_DROP_OLDEST && size <= a->q.max_bytes) {
        while (!ok) {
            /* Never wait for the agent thread's pop: if it (or another
             * recorder) is popping right now, this event is the one
             * dropped. */
            fwq_node *old = fwq_try_pop(&a->q);
            if (!old)
                break; /* what is left is being processed by the agent thread */
            fwi_count(a, FW_STAT_DROPPED_QUEUE_FULL, 1);
            fwq_release(&a->q, old->size);
            fwi_entry_free(a, (fw_entry *)old);
            ok = fwq_reserve(&a->q, size);
        }
    }
    if (!ok) {
        fwi_count(a, FW_STAT_DROPPED_QUEUE_FULL, 1);
        fwi_count(a, FW_STAT_RECORDED, 1);
        fwi_entry_free(a, e);
        return FW_ERR_QUEUE_FULL;
    }
    fwi_count(a, FW_STAT_RECORDED_BYTES, size);
    fwi_count(a, FW_STAT_RECORDED, 1); /* after fwq_reserve() counted it in the queue */
    fwq_push(&a->q, &e->node);
    if (atomic_load_explicit(&a->sleeping, memory_order_seq_cst)) {
        fwi_count(a, FW_STAT_WAKEUPS, 1);
        pthread_mutex_lock(&a->lock);
        pthread_cond_signal(&a->wake);
        pthread_mutex_unlock(&a->lock);
    }
    return FW_OK;
}

static void discard(struct fw_builder *b)
{
    if (!b)
        return;
    fwi_entry_free(b->agent, b->e);
    free(b);
}

/* ---- generation --------------------------------------------------------- */

fw_gen_t *fw_gen_new(fw_agent_t *agent)
{
    return (fw_gen_t *)builder_new(agent, FWE_KIND_GENERATION, GEN_INITIAL_BYTES);
}

static int gen_str_field(fw_gen_field_t f)
{
    return f >= FW_GEN_CONVERSATION_ID && f <= FW_GEN_REQUEST_EXTRA_JSON;
}
static int gen_int_field(fw_gen_field_t f)
{
    return f >= FW_GEN_REQUEST_TOP_K && f <= FW_GEN_STATUS;
}
static int gen_dbl_field(fw_gen_field_t f)
{
    return f >= FW_GEN_REQUEST_TEMPERATURE && f <= FW_GEN_REQUEST_PRESENCE_PENALTY;
}
static fw_err_t check_field(struct fw_builder *b, fw_gen_field_t f, int (*want)(fw_gen_field_t))
{
    if (want(f))
        return FW_OK;
    if (gen_str_field(f) || gen_int_field(f) || gen_dbl_field(f))
        return fail(b, FW_ERR_WRONG_TYPE);
    return fail(b, FW_ERR_INVALID_ARG);
}

fw_err_t fw_gen_set_str_n(fw_gen_t *g, fw_gen_field_t field, const char *value, size_t len)
{
    if (!g)
        return FW_ERR_INVALID_ARG;
    fw_err_t err = check_field(&g->b, field, gen_str_field);
    if (err != FW_OK)
        return err;
    if (!value)
        return fail(&g->b, FW_ERR_INVALID_ARG);
    int flag = field == FW_GEN_TOOL_DEFINITIONS_JSON ? FWE_TR_TOOLDEFS
               : field == FW_GEN_SYSTEM_INSTRUCTIONS ? FWE_TR_SYSINSTR
                                                     : FWE_TR_OTHER;
    return put(&g->b, FWE_T_STR, (int)field, value, len, flag);
}

fw_err_t fw_gen_set_str(fw_gen_t *g, fw_gen_field_t field, const char *value)
{
    if (g && !value)
        return fail(&g->b, FW_ERR_INVALID_ARG);
    return fw_gen_set_str_n(g, field, value, value ? strlen(value) : 0);
}

fw_err_t fw_gen_set_int(fw_gen_t *g, fw_gen_field_t field, int64_t value)
{
    if (!g)
        return FW_ERR_INVALID_ARG;
    fw_err_t err = check_field(&g->b, field, gen_int_field);
    if (err != FW_OK)
        return err;
    return put(&g->b, FWE_T_INT, (int)field, &value, sizeof value, 0);
}

fw_err_t fw_gen_set_double(fw_gen_t *g, fw_gen_field_t field, double value)
{
    if (!g)
        return FW_ERR_INVALID_ARG;
    fw_err_t err = check_field(&g->b, field, gen_dbl_field);
    if (err != FW_OK)
        return err;
    return put(&g->b, FWE_T_DBL, (int)field, &value, sizeof value, 0);
}

fw_err_t fw_gen_set_trace(fw_gen_t *g, const unsigned char trace_id[16],
                          const unsigned char span_id[8], const unsigned char parent_span_id[8])
{
    if (!g)
        return FW_ERR_INVALID_ARG;
    if (!trace_id)
        return fail(&g->b, FW_ERR_INVALID_ARG);
    unsigned char buf[32] = {0};
    memcpy(buf, trace_id, 16);
    if (span_id)
        memcpy(buf + 16, span_id, 8);
    if (parent_span_id)
        memcpy(buf + 24, parent_span_id, 8);
    return put(&g->b, FWE_T_TRACE, (span_id ? 1 : 0) | (parent_span_id ? 2 : 0), buf, sizeof buf,
               0);
}

fw_err_t fw_gen_add_stop_sequence(fw_gen_t *g, const char *value)
{
    return put_str(g ? &g->b : NULL, FWE_T_STOP_SEQ, 0, value, FWE_TR_OTHER);
}

fw_err_t fw_gen_add_finish_reason(fw_gen_t *g, const char *value)
{
    return put_str(g ? &g->b : NULL, FWE_T_FINISH_REASON, 0, value, FWE_TR_OTHER);
}

fw_err_t fw_gen_add_tag(fw_gen_t *g, const char *tag)
{
    return put_str(g ? &g->b : NULL, FWE_T_TAG, 0, tag, FWE_TR_OTHER);
}

static fw_err_t put_pair(struct fw_builder *b, int tag, const char *k, const char *v, int vflag)
{
    if (!b)
        return FW_ERR_INVALID_ARG;
    if (!k || !v)
        return fail(b, FW_ERR_INVALID_ARG);
    fw_err_t err = put_str(b, tag, 0, k, FWE_TR_OTHER);
    return err == FW_OK ? put_str(b, FWE_T_CONT, 0, v, vflag) : err;
}

fw_err_t fw_gen_set_attribute(fw_gen_t *g, const char *key, const char *value)
{
    return put_pair(g ? &g->b : NULL, FWE_T_ATTR, key, value, FWE_TR_OTHER);
}

fw_err_t fw_gen_set_prompt_variable(fw_gen_t *g, const char *name, const char *value)
{
    return put_pair(g ? &g->b : NULL, FWE_T_PVAR, name, value, FWE_TR_PVARS);
}

fw_err_t fw_gen_add_message(fw_gen_t *g, fw_direction_t dir, fw_role_t role, const char *name)
{
    if (g && dir != FW_INPUT && dir != FW_OUTPUT)
        return fail(&g->b, FW_ERR_INVALID_ARG);
    return add_message(g ? &g->b : NULL, dir == FW_INPUT ? FWE_DIR_INPUT : FWE_DIR_OUTPUT, role,
                       name);
}

fw_err_t fw_gen_msg_set_finish_reason(fw_gen_t *g, const char *reason)
{
    if (g && g->b.dir < 0)
        return fail(&g->b, FW_ERR_NO_MESSAGE);
    return put_str(g ? &g->b : NULL, FWE_T_MSG_FINISH, 0, reason, FWE_TR_OTHER);
}

fw_err_t fw_gen_msg_add_text_n(fw_gen_t *g, const char *text, size_t len)
{
    return add_part(g ? &g->b : NULL, FWE_T_TEXT, text, len);
}

fw_err_t fw_gen_msg_add_text(fw_gen_t *g, const char *text)
{
    return add_part(g ? &g->b : NULL, FWE_T_TEXT, text, text ? strlen(text) : 0);
}

fw_err_t fw_gen_msg_add_reasoning(fw_gen_t *g, const char *text)
{
    return add_part(g ? &g->b : NULL, FWE_T_REASONING, text, text ? strlen(text) : 0);
}

fw_err_t fw_gen_msg_add_tool_call(fw_gen_t *g, const char *id, const char *name,
                                  const char *arguments_json)
{
    return add_tool_call(g ? &g->b : NULL, id, name, arguments_json);
}

fw_err_t fw_gen_msg_add_tool_response(fw_gen_t *g, const char *id, const char *content)
{
    if (!g)
        return FW_ERR_INVALID_ARG;
    if (g->b.dir < 0)
        return fail(&g->b, FW_ERR_NO_MESSAGE);
    fw_err_t err = put_str(&g->b, FWE_T_TOOL_RESP, 0, id ? id : "", FWE_TR_OTHER);
    return err == FW_OK ? put_str(&g->b, FWE_T_CONT, 0, content ? content : "", part_flag(&g->b))
                        : err;
}

fw_err_t fw_gen_record(fw_gen_t *g, fw_event_id_t *id_out)
{
    return record(g ? &g->b : NULL, id_out);
}

void fw_gen_discard(fw_gen_t *g)
{
    discard(g ? &g->b : NULL);
}

/* ---- feedback ----------------------------------------------------------- */

fw_feedback_t *fw_feedback_new(fw_agent_t *agent)
{
    return (fw_feedback_t *)builder_new(agent, FWE_KIND_FEEDBACK, FB_INITIAL_BYTES);
}

fw_err_t fw_feedback_set_str(fw_feedback_t *f, fw_feedback_field_t field, const char *value)
{
    if (!f)
        return FW_ERR_INVALID_ARG;
    if (field < FW_FEEDBACK_TARGET_RESPONSE_ID || field > FW_FEEDBACK_AUTHOR_ID)
        return fail(&f->b, FW_ERR_INVALID_ARG);
    return put_str(&f->b, FWE_T_STR, (int)field, value, FWE_TR_OTHER);
}

fw_err_t fw_feedback_set_target_event(fw_feedback_t *f, const unsigned char event_id[16])
{
    if (!f)
        return FW_ERR_INVALID_ARG;
    if (!event_id)
        return fail(&f->b, FW_ERR_INVALID_ARG);
    return put(&f->b, FWE_T_FB_EVENT, 0, event_id, 16, 0);
}

fw_err_t fw_feedback_set_target_trace(fw_feedback_t *f, const unsigned char trace_id[16])
{
    if (!f)
        return FW_ERR_INVALID_ARG;
    if (!trace_id)
        return fail(&f->b, FW_ERR_INVALID_ARG);
    return put(&f->b, FWE_T_FB_TRACE, 0, trace_id, 16, 0);
}

fw_err_t fw_feedback_set_bool(fw_feedback_t *f, int value)
{
    if (!f)
        return FW_ERR_INVALID_ARG;
    unsigned char v = value ? 1 : 0;
    return put(&f->b, FWE_T_FB_BOOL, 0, &v, 1, 0);
}

fw_err_t fw_feedback_set_number(fw_feedback_t *f, double value)
{
    if (!f)
        return FW_ERR_INVALID_ARG;
    return put(&f->b, FWE_T_FB_NUMBER, 0, &value, sizeof value, 0);
}

fw_err_t fw_feedback_set_category(fw_feedback_t *f, const char *value)
{
    return put_str(f ? &f->b : NULL, FWE_T_FB_CATEGORY, 0, value, FWE_TR_OTHER);
}

fw_err_t fw_feedback_set_source(fw_feedback_t *f, fw_feedback_source_t source)
{
    if (!f)
        return FW_ERR_INVALID_ARG;
    if ((unsigned)source > FW_SOURCE_REVIEWER)
        return fail(&f->b, FW_ERR_INVALID_ARG);
    int64_t v = source;
    return put(&f->b, FWE_T_FB_SOURCE, 0, &v, sizeof v, 0);
}

fw_err_t fw_feedback_add_correction(fw_feedback_t *f, fw_role_t role, const char *name)
{
    return add_message(f ? &f->b : NULL, FWE_DIR_CORRECTION, role, name);
}

fw_err_t fw_feedback_msg_add_text(fw_feedback_t *f, const char *text)
{
    return add_part(f ? &f->b : NULL, FWE_T_TEXT, text, text ? strlen(text) : 0);
}

fw_err_t fw_feedback_msg_add_tool_call(fw_feedback_t *f, const char *id, const char *name,
                                       const char *arguments_json)
{
    return add_tool_call(f ? &f->b : NULL, id, name, arguments_json);
}

fw_err_t fw_feedback_record(fw_feedback_t *f, fw_event_id_t *id_out)
{
    return record(f ? &f->b : NULL, id_out);
}

void fw_feedback_discard(fw_feedback_t *f)
{
    discard(f ? &f->b : NULL);
}
