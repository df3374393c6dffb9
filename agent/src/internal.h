/*
 * internal — the agent's private types shared by its modules: parsed
 * settings, the configuration object, the agent handle and its counters,
 * and the internal logger. Nothing here is part of the public API.
 */
#ifndef FW_AGENT_INTERNAL_H
#define FW_AGENT_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "flywheel/flywheel.h"
#include "entry.h"
#include "queue.h"
#include "redact.h"

#define FWI_HIDDEN __attribute__((visibility("hidden")))

enum { FWI_POLICY_DROP_NEWEST = 0, FWI_POLICY_DROP_OLDEST = 1, FWI_POLICY_SPOOL = 2 };

/* redact.omit bits. */
enum {
    FWI_OMIT_INPUT = 1,
    FWI_OMIT_OUTPUT = 2,
    FWI_OMIT_TOOLDEFS = 4,
    FWI_OMIT_SYSINSTR = 8,
    FWI_OMIT_PVARS = 16,
    FWI_OMIT_ERROR = 32,
    FWI_OMIT_FB_COMMENT = 64,
    FWI_OMIT_FB_CORRECTION = 128
};

/* The configuration, parsed. Filled by fwi_conf_parse(). */
typedef struct {
    const char *topic, *project, *environment, *release, *spool_dir;
    uint64_t queue_max_bytes, spool_max_bytes, spool_segment_bytes, max_event_bytes;
    int full_policy;
    double sample_rate;
    unsigned redact_detectors; /* FWR_* */
    unsigned omit;             /* FWI_OMIT_* */
    int log_level;
    int shutdown_timeout_ms;
} fwi_settings;

typedef struct {
    char *key, *value;
} fwi_kv;

struct fw_conf_s {
    char **vals; /* one per property, owned */
    fwi_kv *kafka;
    size_t n_kafka;
    fwi_kv *regex; /* label, pattern */
    size_t n_regex;
    fw_log_cb *log_cb;
    void *log_opaque;
    fw_redact_cb *redact_cb;
    void *redact_opaque;
};

/* Parses conf into s (pointers into conf). Returns FW_OK or an error with a
 * message in errstr. */
FWI_HIDDEN fw_err_t fwi_conf_parse(const fw_conf_t *conf, fwi_settings *s, char *errstr,
                                   size_t size);

struct fws;
struct fwe_ctx;

/*
 * Entry blocks of the builder's first size are recycled through a small
 * stack instead of going back to malloc: the agent thread frees what
 * application threads allocated, and with glibc that takes the allocating
 * thread's arena lock (4 KiB blocks bypass the per-thread cache), which an
 * application thread then waits for; fresh blocks also page-fault on first
 * touch. Both sides only ever try the lock (pthread_mutex_trylock) and fall
 * back to malloc/free, so nobody waits for it. At most FWI_POOL_MAX blocks
 * (~260 KiB) sit in the pool, outside queue.max_bytes.
 */
#define FWI_GEN_INITIAL_BYTES 4096
#define FWI_POOL_MAX          64

/*
 * Where each stat is stored in fw_agent_s.st[]: RECORDED and RECORDED_BYTES,
 * which every fw_*_record() adds to on the application threads, have a cache
 * line of their own after the others, so that the agent thread's counts
 * (DELIVERED, IN_FLIGHT's neighbours, ...) do not take that line away from
 * the recorders between two records.
 */
#define FWI_ST_SLOTS (((FW_STAT__COUNT + 7) & ~7) + 8)
static inline unsigned fwi_st_slot(fw_stat_t s)
{
    return s == FW_STAT_RECORDED         ? FWI_ST_SLOTS - 8
           : s == FW_STAT_RECORDED_BYTES ? FWI_ST_SLOTS - 7
                                         : (unsigned)s;
}

struct fw_agent_s {
    fw_conf_t *conf;
    fwi_settings s;
    fwq q;
    pid_t pid;
    unsigned fork_gen; /* fwi_fork_generation() when the agent was made */
    _Alignas(64) _Atomic uint64_t st[FWI_ST_SLOTS]; /* by fwi_st_slot() */

    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;     /* agent thread sleeps here */
    pthread_cond_t progress; /* flushers wait here */
    atomic_int sleeping;     /* agent thread is (about to be) waiting on wake */
    atomic_int stop;
    atomic_int paused;       /* test hook: agent thread does not pop */
    atomic_int inject_fatal; /* test hook */

    pthread_mutex_t pool_lock; /* only ever tried */
    int n_pool;
    void *pool[FWI_POOL_MAX];

    /* Owned by the agent thread. */
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt; /* a->s.topic on rk, created with rk (see make_producer) */
    struct fws *spool;
    fwr_redactor *redactor;
    struct fwe_ctx *enc;
    int online;     /* last signal from Kafka was good */
    int fatal;      /* fatal producer error seen: recreate */
    int recreating; /* DRs with errors are collected for resend */
    void **resend;  /* rd_kafka_message_t copies: {payload, key} */
    size_t n_resend, cap_resend;
    uint64_t replay_seq;
    uint64_t replay_batch; /* id of the batch in flight, 0 none */
    uint64_t replay_outstanding;
    uint64_t replay_count; /* records in the batch */
    int replay_failed;
    atomic_int flush_waiters;
    int64_t next_replay_ms;
    atomic_uint_fast64_t in_flight_live;
    atomic_uint_fast64_t in_flight_replay;
    uint64_t last_logged_nomem;
};

FWI_HIDDEN void fwi_log(const fw_agent_t *a, int level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Release order: fw_agent_stats() reads with acquire, so a move counted in
 * its new place before it leaves the old one is seen in that order (see
 * fw_agent_stats() in flywheel.h). On x86-64 this is the same instruction as
 * a relaxed add. */
static inline void fwi_count(fw_agent_t *a, fw_stat_t st, uint64_t n)
{
    atomic_fetch_add_explicit(&a->st[fwi_st_slot(st)], n, memory_order_release);
}

/* Fork detection without a system call: a pthread_atfork child handler bumps
 * a process-wide generation; an agent made under another generation belongs
 * to the parent. fwi_atfork_register() is idempotent. */
FWI_HIDDEN void fwi_atfork_register(void);
FWI_HIDDEN unsigned fwi_fork_generation(void);
static inline int fwi_forked(const fw_agent_t *a)
{
    return fwi_fork_generation() != a->fork_gen;
}

/* A block for a generation entry of FWI_GEN_INITIAL_BYTES, from the pool or
 * malloc (NULL when out of memory). Never waits. */
FWI_HIDDEN fw_entry *fwi_entry_alloc(fw_agent_t *a);
/* Frees an entry, or keeps it in the pool when it has the first size. Never
 * waits. */
FWI_HIDDEN void fwi_entry_free(fw_agent_t *a, fw_entry *e);

/* Monotonic and wall clocks. */
FWI_HIDDEN int64_t fwi_now_ms(void);
FWI_HIDDEN uint64_t fwi_unix_nanos(void);

/* Test hooks (linked only from flywheel_static by the tests). */
FWI_HIDDEN void fwi_agent_pause(fw_agent_t *a, int paused);
FWI_HIDDEN void fwi_agent_inject_fatal(fw_agent_t *a);
/* Benchmark hook: CPU time consumed so far by the agent thread, in ns (0 if
 * it is not running or the clock is unavailable). */
FWI_HIDDEN uint64_t fwi_agent_thread_cpu_ns(fw_agent_t *a);

#endif
