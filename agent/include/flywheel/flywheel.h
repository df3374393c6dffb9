/*
 * flywheel/flywheel.h — the public API of libflywheel, the Flywheel agent.
 *
 * libflywheel lives inside an application that calls LLMs. The application
 * records each finished generation (and, later, feedback about it); the agent
 * copies the event into a bounded in-memory queue and returns at once. One
 * background thread per agent encodes the event as a flywheel.v1 protobuf
 * Event, applies sampling, redaction and truncation, and produces it to Kafka
 * with an idempotent librdkafka producer. When Kafka cannot take it, the event
 * goes to an on-disk spool and is replayed later. Every recorded event ends in
 * exactly one place: delivered, spooled, sampled out, or dropped and counted
 * with a reason (see fw_agent_stats()).
 *
 * This header is the specification. Every function says what it does, what it
 * returns on error, and three things: thread-safety, blocking, ownership.
 *
 * Conventions that hold for the whole API:
 *  - Handles are opaque. Stats are read through getters. The API evolves by
 *    adding functions, enum values and configuration keys, never by changing
 *    a signature or the value of an existing enumerator.
 *  - Every string or byte input is copied before the call returns; the caller
 *    may free or reuse it immediately. Strings are UTF-8, NUL-terminated
 *    unless a length is given (the `_n` variants). Content that is not valid
 *    UTF-8 or contains NUL is repaired on the agent's thread (invalid bytes
 *    become U+FFFD, NUL is removed), because the store rejects it.
 *  - A `const char *` returned by the library is owned by the library; its
 *    lifetime is stated at the function.
 *  - Destroy functions accept NULL.
 *  - Functions that can fail return an fw_err_t (FW_OK is 0). Constructors
 *    return NULL and write a message into the caller's errstr buffer.
 *  - No function aborts the host process. Out of memory is an error code and a
 *    counted drop, never a crash.
 *  - Callbacks (log, redaction) run on the agent's background thread, never
 *    on an application thread, and must not call back into the same agent.
 *
 * Fork: an agent belongs to the process that created it. In a child made
 * by fork() after fw_agent_new() the agent's background thread does not
 * exist and its librdkafka handle must not be used (librdkafka's threads do
 * not survive fork). The library notices the fork (a pthread_atfork handler
 * bumps a counter, so the check costs no system call) and in the child:
 * fw_gen_record() and fw_feedback_record() drop the event and return
 * FW_ERR_FORKED (counted as recorded and as dropped, reason forked, in the
 * child's copy of the counters); fw_agent_flush() returns FW_ERR_FORKED at
 * once; fw_agent_destroy() releases nothing and returns at once (the memory
 * is the parent's copy and the librdkafka handle cannot be destroyed
 * there). Nothing in the child ever touches the inherited librdkafka handle,
 * and the parent's agent is unaffected. A child gets its own agent with
 * fw_conf_new() + fw_agent_new() after the fork (it may keep the inherited
 * handle around, unused; do not give two live agents the same spool.dir).
 * A process cloned without fork() (a raw clone system call, which skips the
 * atfork handlers) is not detected.
 *
 * Threads and interpreter locks: callbacks (log, redaction) run on the
 * agent's background thread, never on the caller's. fw_agent_flush() and
 * fw_agent_destroy() block and, while they wait, the agent thread may run a
 * callback: a binding for a language with a global interpreter lock (such
 * as CPython's GIL) must release that lock around these two calls, or a
 * callback that needs it deadlocks the process. (Python's ctypes.CDLL does
 * this for every call.)
 *
 * Memory: queue.max_bytes bounds the memory of queued events, as allocated
 * (builders round up to powers of two, at least 1 KiB). librdkafka holds
 * encoded, compressed-later messages in its own buffer, bounded by
 * kafka.queue.buffering.max.kbytes, which the agent sets by default to a
 * quarter of queue.max_bytes. The spool is on disk, bounded by
 * spool.max_bytes.
 */
#ifndef FLYWHEEL_FLYWHEEL_H
#define FLYWHEEL_FLYWHEEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(FW_BUILDING_LIBRARY)
#define FW_API __attribute__((visibility("default")))
#else
#define FW_API
#endif

/* ------------------------------------------------------------------------- */
/* Version and errors                                                        */
/* ------------------------------------------------------------------------- */

/*
 * The version of this header. FW_VERSION_NUM is MAJOR * 1000000 +
 * MINOR * 1000 + PATCH (0.2.0 is 2000), so versions compare as integers.
 * Each release's new functions sit in their own node of the symbol version
 * script (FLYWHEEL_0 for 0.1, FLYWHEEL_0.2.0, ...).
 */
#define FW_VERSION_MAJOR 0
#define FW_VERSION_MINOR 2
#define FW_VERSION_PATCH 0
#define FW_VERSION_NUM   (FW_VERSION_MAJOR * 1000000 + FW_VERSION_MINOR * 1000 + FW_VERSION_PATCH)

/*
 * Returns the library version as "MAJOR.MINOR.PATCH". Thread-safe, never
 * blocks; the string is static and owned by the library.
 */
FW_API const char *fw_version(void);

/*
 * Returns the FW_VERSION_NUM of the library that is loaded, which may differ
 * from the header an application was compiled with: a binding loading the
 * library at run time compares it with the oldest version it needs (since
 * 0.2.0; an older library lacks the symbol). Thread-safe, never blocks.
 */
FW_API int fw_version_num(void);

/* The one error list: X(NAME, value, "description"). Values never change. */
#define FW_ERR_MAP(X)                                                                              \
    X(OK, 0, "success")                                                                            \
    X(INVALID_ARG, 1, "invalid argument")                                                          \
    X(NOMEM, 2, "out of memory")                                                                   \
    X(QUEUE_FULL, 3, "queue full: event dropped and counted")                                      \
    X(UNKNOWN_KEY, 4, "unknown configuration key")                                                 \
    X(INVALID_VALUE, 5, "invalid configuration value")                                             \
    X(TIMED_OUT, 6, "timed out")                                                                   \
    X(NO_MESSAGE, 7, "no message to add a part to: call fw_gen_add_message first")                 \
    X(WRONG_TYPE, 8, "field does not have this type")                                              \
    X(IO, 9, "input/output error")                                                                 \
    X(KAFKA, 10, "kafka client error")                                                             \
    X(BUILDER_FAILED, 11, "an earlier call on this builder failed: event dropped and counted")     \
    X(SAMPLED_OUT, 12, "event not kept by sampling")                                               \
    X(FORKED, 13, "agent created in the parent process: event dropped and counted (see Fork)")

typedef enum {
#define FW_ERR_ENUM_(name, value, desc) FW_ERR_##name = value,
    FW_ERR_MAP(FW_ERR_ENUM_)
#undef FW_ERR_ENUM_
} fw_err_t;
#define FW_OK FW_ERR_OK

/*
 * fw_err_name() returns the enumerator's name without prefix ("QUEUE_FULL"),
 * fw_strerror() a lower-case description. Unknown values give "UNKNOWN" and
 * "unknown error". Thread-safe, never block; the strings are static.
 */
FW_API const char *fw_err_name(fw_err_t err);
FW_API const char *fw_strerror(fw_err_t err);

/* ------------------------------------------------------------------------- */
/* Configuration                                                             */
/* ------------------------------------------------------------------------- */

typedef struct fw_conf_s fw_conf_t;

/*
 * Creates a configuration holding the defaults. Returns NULL when out of
 * memory. Thread-safe; never blocks. The caller owns the result: pass it to
 * fw_agent_new() (which takes it on success) or fw_conf_destroy().
 */
FW_API fw_conf_t *fw_conf_new(void);

/*
 * Sets one key. Keys (defaults in brackets):
 *   kafka.bootstrap.servers   brokers, host:port,... (required)
 *   kafka.<name>              any librdkafka producer property, validated now
 *   topic                     [flywheel.events]
 *   project, environment, release   copied into every Event [""]
 *   queue.max_bytes           memory budget of the queue [67108864]
 *   queue.full_policy         drop_newest | drop_oldest | spool [drop_newest]
 *                             drop_newest: a record that does not fit is
 *                               dropped (FW_ERR_QUEUE_FULL);
 *                             drop_oldest: the oldest queued events are
 *                               dropped to make room (if the agent thread
 *                               is taking events off the queue at that
 *                               instant, the new event is dropped instead:
 *                               recording never waits for it);
 *                             spool: like drop_newest on the application
 *                               thread, and the agent thread spools to disk
 *                               instead of waiting whenever Kafka cannot keep
 *                               up (queue above half its budget or librdkafka's
 *                               buffer full), so the queue rarely fills.
 *   spool.dir                 directory of the spool; "" disables it [""]
 *   spool.max_bytes           disk budget of the spool [1073741824]
 *   spool.segment_bytes       size of one segment file [16777216]
 *   sample.rate               0..1, head sampling by trace id (else by
 *                             conversation id, else per event); feedback is
 *                             never sampled [1]
 *   max_event_bytes           larger events have content truncated and the
 *                             Truncation flags set [1048576]
 *   redact.email, redact.phone, redact.card, redact.secret, redact.ipv4
 *                             built-in detectors, true|false [true]
 *   redact.regex.<label>      PCRE2 pattern; matches become "[<LABEL>]"
 *   redact.omit               comma list of content not to capture at all
 *                             (metadata only): input_messages,
 *                             output_messages, tool_definitions,
 *                             system_instructions, prompt_variables,
 *                             error_message, feedback_comment,
 *                             feedback_correction, all [""]
 *   log.level                 error | warn | info | debug [warn]
 *   shutdown.timeout_ms       fw_agent_destroy() flush budget [5000]
 * Returns FW_OK; FW_ERR_UNKNOWN_KEY or FW_ERR_INVALID_VALUE with a message in
 * errstr (on error nothing is modified). errstr may be NULL when size is 0.
 * Not thread-safe on the same conf; never blocks; key and value are copied.
 */
FW_API fw_err_t fw_conf_set(fw_conf_t *conf, const char *key, const char *value, char *errstr,
                            size_t size);

/*
 * Reads FLYWHEEL_* environment variables into conf: for each key above,
 * FLYWHEEL_ + the key upper-cased with '.' replaced by '_' (e.g.
 * FLYWHEEL_QUEUE_MAX_BYTES, FLYWHEEL_SPOOL_DIR); FLYWHEEL_KAFKA_BOOTSTRAP and
 * FLYWHEEL_TOPIC as aliases of kafka.bootstrap.servers and topic;
 * FLYWHEEL_KAFKA_<X> for kafka.<x> (lower-cased, '_' becomes '.'). The library
 * never reads the environment except through this function. Returns like
 * fw_conf_set() for the first variable that fails (earlier ones stay set).
 * Not thread-safe (getenv); never blocks.
 */
FW_API fw_err_t fw_conf_from_env(fw_conf_t *conf, char *errstr, size_t size);

/*
 * Returns the value of a key as set (or its default), or NULL for an unknown
 * key or an unset kafka.* key. The string is owned by conf and valid until
 * the key is set again or conf is destroyed. Not thread-safe on the same conf.
 */
FW_API const char *fw_conf_get(const fw_conf_t *conf, const char *key);

/* Log lines are logfmt, without a trailing newline. level: 0 error, 1 warn,
 * 2 info, 3 debug. Called on the agent's thread (or in fw_agent_new()). */
typedef void(fw_log_cb)(void *opaque, int level, const char *line);

/*
 * Sets the log callback (NULL: stderr, the default). The agent never logs
 * prompt or response content: ids, sizes and counts only. Not thread-safe on
 * the same conf; never blocks; opaque is not owned.
 */
FW_API void fw_conf_set_log_cb(fw_conf_t *conf, fw_log_cb *cb, void *opaque);

typedef struct fw_redact_match_s fw_redact_match_t;

/*
 * Custom redaction: called on the agent's thread for every content string
 * (after the built-in detectors' matches are known), with the text and its
 * length in bytes. Report each span to replace with fw_redact_match(). The
 * text is valid only during the call.
 */
typedef void(fw_redact_cb)(void *opaque, const char *text, size_t len, fw_redact_match_t *m);

/* Sets the custom redaction callback (NULL: none). Not thread-safe on the
 * same conf; never blocks; opaque is not owned. */
FW_API void fw_conf_set_redact_cb(fw_conf_t *conf, fw_redact_cb *cb, void *opaque);

/*
 * Inside an fw_redact_cb only: replace text[offset, offset+length) with
 * "[<label>]" (label copied; NULL means "REDACTED"). Spans that overlap an
 * earlier span are ignored. Returns FW_OK, FW_ERR_INVALID_ARG for a span
 * outside the text, FW_ERR_NOMEM.
 */
FW_API fw_err_t fw_redact_match(fw_redact_match_t *m, size_t offset, size_t length,
                                const char *label);

/* Destroys a configuration that was not passed successfully to
 * fw_agent_new(). NULL is accepted. */
FW_API void fw_conf_destroy(fw_conf_t *conf);

/* ------------------------------------------------------------------------- */
/* Agent                                                                     */
/* ------------------------------------------------------------------------- */

typedef struct fw_agent_s fw_agent_t;

/*
 * Creates an agent: validates conf, creates the Kafka producer, opens the
 * spool (replaying what a previous process left there) and starts the
 * background thread. On success the agent owns conf; on failure returns NULL,
 * writes a message into errstr and the caller still owns conf. Does not wait
 * for a broker: an unreachable cluster is not an error here. Thread-safe;
 * blocks only on local file system access of the spool.
 */
FW_API fw_agent_t *fw_agent_new(fw_conf_t *conf, char *errstr, size_t size);

/*
 * Waits until every event recorded before the call has been delivered or
 * spooled (or dropped and counted), or timeout_ms passed. Returns FW_OK,
 * FW_ERR_TIMED_OUT, FW_ERR_FORKED (in a forked child, at once),
 * FW_ERR_INVALID_ARG (agent NULL). Thread-safe; BLOCKS up to timeout_ms
 * (never call it on a latency-sensitive path); callbacks may run on the
 * agent thread meanwhile (release an interpreter lock around it, see
 * Threads above).
 */
FW_API fw_err_t fw_agent_flush(fw_agent_t *agent, int timeout_ms);

/*
 * Stops the agent: encodes what is queued, flushes for up to
 * shutdown.timeout_ms, then moves what is still undelivered (queued or in
 * flight) to the spool, which the next agent on the same spool.dir replays.
 * Without a spool such events are counted as dropped (reason shutdown).
 * NULL is accepted. Must not be called concurrently with any other call on
 * the same agent, nor from a callback. BLOCKS up to about shutdown.timeout_ms
 * plus the time to spool (release an interpreter lock around it). Frees the
 * agent and its conf. In a forked child it returns at once and frees
 * nothing (see Fork).
 */
FW_API void fw_agent_destroy(fw_agent_t *agent);

/*
 * Kinds of stats, the third column of FW_STAT_MAP:
 *   FW_STATK_COUNTER  only ever grows;
 *   FW_STATK_GAUGE    a current level;
 *   FW_STATK_DROP     a counter that is one reason of a drop: DROPPED is the
 *                     sum of every stat of this kind, so a reason added to the
 *                     list is in the total without anything else changing;
 *   FW_STATK_TOTAL    DROPPED itself.
 */
#define FW_STATK_COUNTER 0
#define FW_STATK_GAUGE   1
#define FW_STATK_DROP    2
#define FW_STATK_TOTAL   3

/* Counters and gauges: the one list. X(NAME, value, kind, "description").
 * The enum, the names (fw_stat_name()), the kinds (fw_stat_kind()) and the
 * DROPPED total are generated from it. Values never change. */
#define FW_STAT_MAP(X)                                                                             \
    X(RECORDED, 0, FW_STATK_COUNTER, "events recorded (every fw_*_record call that made an id)")   \
    X(DELIVERED, 1, FW_STATK_COUNTER, "events acknowledged by Kafka on first produce")             \
    X(IN_QUEUE, 2, FW_STATK_GAUGE, "events in the agent queue")                                    \
    X(IN_QUEUE_BYTES, 3, FW_STATK_GAUGE, "bytes of the agent queue")                               \
    X(IN_FLIGHT, 4, FW_STATK_GAUGE, "events handed to librdkafka (or held for a new producer)")    \
    X(SPOOLED, 5, FW_STATK_COUNTER, "events written to the spool instead of being delivered")      \
    X(REPLAYED, 6, FW_STATK_COUNTER, "spooled events (this or earlier processes) delivered")       \
    X(SPOOL_PENDING, 7, FW_STATK_GAUGE, "records in the spool waiting for replay")                 \
    X(SPOOL_PENDING_BYTES, 8, FW_STATK_GAUGE, "bytes of spool segment files")                      \
    X(SAMPLED_OUT, 9, FW_STATK_COUNTER, "events not kept by sample.rate")                          \
    X(DROPPED, 10, FW_STATK_TOTAL, "events dropped, all reasons (the sum of the dropped_* stats)") \
    X(DROPPED_QUEUE_FULL, 11, FW_STATK_DROP, "dropped: queue full (newest or oldest by policy)")   \
    X(DROPPED_NOMEM, 12, FW_STATK_DROP, "dropped: out of memory")                                  \
    X(DROPPED_SPOOL_FULL, 13, FW_STATK_DROP, "dropped: spool at spool.max_bytes")                  \
    X(DROPPED_TOO_LARGE, 14, FW_STATK_DROP, "dropped: larger than max_event_bytes after cutting")  \
    X(DROPPED_ENCODE_ERROR, 15, FW_STATK_DROP, "dropped: could not be encoded")                    \
    X(DROPPED_DELIVERY_FAILED, 16, FW_STATK_DROP, "dropped: delivery failed and no spool")         \
    X(DROPPED_SHUTDOWN, 17, FW_STATK_DROP, "dropped: undelivered at destroy and no spool")         \
    X(DROPPED_BUILDER_ERROR, 18, FW_STATK_DROP, "dropped: an earlier builder call failed")         \
    X(RECORDED_BYTES, 19, FW_STATK_COUNTER, "bytes of recorded events as queued")                  \
    X(DELIVERED_BYTES, 20, FW_STATK_COUNTER, "bytes of encoded events acknowledged by Kafka")      \
    X(TRUNCATED, 21, FW_STATK_COUNTER, "events whose content was truncated to max_event_bytes")    \
    X(REDACTIONS, 22, FW_STATK_COUNTER, "spans replaced by redaction")                             \
    X(SPOOL_CORRUPT, 23, FW_STATK_COUNTER, "corrupt spool records detected and skipped")           \
    X(SPOOL_ERRORS, 24, FW_STATK_COUNTER, "spool input/output errors")                             \
    X(PRODUCER_RESTARTS, 25, FW_STATK_COUNTER, "producers recreated after a fatal error")          \
    X(DROPPED_FORKED, 26, FW_STATK_DROP, "dropped: recorded in a forked child (FW_ERR_FORKED)")    \
    X(WAKEUPS, 27, FW_STATK_COUNTER, "records that woke the idle agent thread (lock + syscall)")

typedef enum {
#define FW_STAT_ENUM_(name, value, kind, desc) FW_STAT_##name = value,
    FW_STAT_MAP(FW_STAT_ENUM_)
#undef FW_STAT_ENUM_
        FW_STAT__COUNT
} fw_stat_t;

/*
 * Returns one counter or gauge (0 for an unknown stat). Thread-safe; never
 * blocks. Reading stats one by one races with the agent; for the ledger use
 * fw_agent_stats().
 */
FW_API uint64_t fw_agent_stat(const fw_agent_t *agent, fw_stat_t stat);

/*
 * Copies every stat in one call: out[i] = stat i for i < min(n,
 * FW_STAT__COUNT); returns how many were written (0 when agent or out is
 * NULL). A caller compiled against an older header passes its smaller n; a
 * caller loading a newer library learns the count from the result. The
 * ledger
 *   RECORDED <= DELIVERED + IN_FLIGHT + IN_QUEUE + SPOOLED + SAMPLED_OUT +
 *               DROPPED
 * holds in every snapshot — no event ever looks missing, because the
 * stats are read along the path of an event (RECORDED first, the outcomes
 * last) and every move counts the event in its new place before taking it
 * out of the old one — with equality whenever no event is moving (after
 * fw_agent_flush() returned FW_OK with no recorder running, or after the
 * agent thread went idle). Thread-safe; never blocks; lock-free.
 */
FW_API size_t fw_agent_stats(const fw_agent_t *agent, uint64_t *out, size_t n);

/* Name of a stat in lower case ("dropped_queue_full"), or NULL. Static. */
FW_API const char *fw_stat_name(fw_stat_t stat);

/* Kind of a stat (FW_STATK_*), or -1 for an unknown stat. Thread-safe. */
FW_API int fw_stat_kind(fw_stat_t stat);

/* ------------------------------------------------------------------------- */
/* Event ids                                                                 */
/* ------------------------------------------------------------------------- */

/* A UUIDv7 made when the event is recorded: 16 bytes and the canonical
 * 36-character lower-case text form, NUL-terminated. */
typedef struct {
    unsigned char bytes[16];
    char str[37];
} fw_event_id_t;

/* Parses the 36-character form (case-insensitive) into out[16]. Returns FW_OK
 * or FW_ERR_INVALID_ARG. Thread-safe, never blocks. */
FW_API fw_err_t fw_event_id_parse(const char *str, unsigned char out[16]);

/* ------------------------------------------------------------------------- */
/* Recording a generation                                                    */
/* ------------------------------------------------------------------------- */

/*
 * A generation is built with a builder on the application thread and handed
 * over with fw_gen_record(). Setters copy into the builder's own buffer
 * (amortised, one allocation per doubling); nothing is encoded until the
 * agent thread takes the event. A builder belongs to one thread at a time.
 * When a setter fails (out of memory, invalid argument), the builder
 * remembers it: the event will be dropped and counted at fw_gen_record().
 * Setting a scalar twice keeps the last value; add functions append.
 */
typedef struct fw_gen_s fw_gen_t;

/* Fields, each with one type: S string, I integer, D double. */
typedef enum {
    FW_GEN_CONVERSATION_ID = 1,       /* S gen_ai.conversation.id */
    FW_GEN_SESSION_ID = 2,            /* S session.id */
    FW_GEN_USER_ID = 3,               /* S user.id */
    FW_GEN_OPERATION_NAME = 4,        /* S chat, text_completion, embeddings, execute_tool */
    FW_GEN_PROVIDER_NAME = 5,         /* S openai, anthropic, ... */
    FW_GEN_REQUEST_MODEL = 6,         /* S */
    FW_GEN_RESPONSE_MODEL = 7,        /* S */
    FW_GEN_RESPONSE_ID = 8,           /* S */
    FW_GEN_TOOL_DEFINITIONS_JSON = 9, /* S a JSON array (content) */
    FW_GEN_ERROR_TYPE = 10,           /* S */
    FW_GEN_ERROR_MESSAGE = 11,        /* S (content) */
    FW_GEN_SYSTEM_INSTRUCTIONS = 12,  /* S (content) */
    FW_GEN_PROMPT_NAME = 13,          /* S prompt template name */
    FW_GEN_PROMPT_VERSION = 14,       /* S prompt template version */
    FW_GEN_REQUEST_EXTRA_JSON = 15,   /* S other request parameters, a JSON object */
    FW_GEN_REQUEST_TOP_K = 32,        /* I */
    FW_GEN_REQUEST_MAX_TOKENS = 33,   /* I */
    FW_GEN_REQUEST_SEED = 34,         /* I */
    FW_GEN_REQUEST_CHOICE_COUNT = 35, /* I */
    FW_GEN_REQUEST_STREAM = 36,       /* I 0 or 1 */
    FW_GEN_USAGE_INPUT_TOKENS = 37,   /* I */
    FW_GEN_USAGE_OUTPUT_TOKENS = 38,  /* I */
    FW_GEN_USAGE_CACHE_READ_INPUT_TOKENS = 39,     /* I */
    FW_GEN_USAGE_CACHE_CREATION_INPUT_TOKENS = 40, /* I */
    FW_GEN_USAGE_REASONING_OUTPUT_TOKENS = 41,     /* I */
    FW_GEN_COST_MICRO_USD = 42,                    /* I millionths of a US dollar */
    FW_GEN_START_TIME_UNIX_NANO = 43,              /* I */
    FW_GEN_END_TIME_UNIX_NANO = 44,                /* I; also the Event time (default: now) */
    FW_GEN_TIME_TO_FIRST_TOKEN_NANOS = 45,         /* I streaming only */
    FW_GEN_STATUS = 46,                            /* I an fw_status_t */
    FW_GEN_REQUEST_TEMPERATURE = 64,               /* D */
    FW_GEN_REQUEST_TOP_P = 65,                     /* D */
    FW_GEN_REQUEST_FREQUENCY_PENALTY = 66,         /* D */
    FW_GEN_REQUEST_PRESENCE_PENALTY = 67           /* D */
} fw_gen_field_t;

typedef enum { FW_STATUS_UNSET = 0, FW_STATUS_OK = 1, FW_STATUS_ERROR = 2 } fw_status_t;

typedef enum {
    FW_ROLE_UNSPECIFIED = 0,
    FW_ROLE_SYSTEM = 1,
    FW_ROLE_USER = 2,
    FW_ROLE_ASSISTANT = 3,
    FW_ROLE_TOOL = 4,
    FW_ROLE_DEVELOPER = 5
} fw_role_t;

typedef enum { FW_INPUT = 0, FW_OUTPUT = 1 } fw_direction_t;

/*
 * Starts a generation. Returns NULL when out of memory (counted as recorded
 * and dropped, reason nomem) or when agent is NULL. Thread-safe (any number
 * of builders on any threads); never waits for another thread. It allocates:
 * the builder (malloc of a few dozen bytes) and a 4 KiB entry block, taken
 * from the agent's pool of recycled blocks when the pool's lock is free at
 * that instant (pthread_mutex_trylock, never a wait), else from malloc.
 * Setters that outgrow the block realloc it (doubling). The caller owns the
 * builder until fw_gen_record() or fw_gen_discard().
 */
FW_API fw_gen_t *fw_gen_new(fw_agent_t *agent);

/*
 * Setters. Return FW_OK, FW_ERR_INVALID_ARG (NULL builder or string, unknown
 * field), FW_ERR_WRONG_TYPE (field of another type), FW_ERR_NOMEM,
 * FW_ERR_NO_MESSAGE (fw_gen_msg_* before any fw_gen_add_message). Any error
 * other than INVALID_ARG for a NULL builder poisons the builder (see above).
 * Not thread-safe on the same builder; never block; inputs are copied.
 * A string longer than max_event_bytes is cut there (at a UTF-8 boundary) and
 * the event's Truncation flag for that content is set.
 */
FW_API fw_err_t fw_gen_set_str(fw_gen_t *g, fw_gen_field_t field, const char *value);
FW_API fw_err_t fw_gen_set_str_n(fw_gen_t *g, fw_gen_field_t field, const char *value, size_t len);
FW_API fw_err_t fw_gen_set_int(fw_gen_t *g, fw_gen_field_t field, int64_t value);
FW_API fw_err_t fw_gen_set_double(fw_gen_t *g, fw_gen_field_t field, double value);
/* W3C trace context: trace_id 16 bytes, span_id and parent_span_id 8 bytes;
 * span_id and parent_span_id may be NULL. */
FW_API fw_err_t fw_gen_set_trace(fw_gen_t *g, const unsigned char trace_id[16],
                                 const unsigned char span_id[8],
                                 const unsigned char parent_span_id[8]);
FW_API fw_err_t fw_gen_add_stop_sequence(fw_gen_t *g, const char *value);
FW_API fw_err_t fw_gen_add_finish_reason(fw_gen_t *g, const char *value);
FW_API fw_err_t fw_gen_add_tag(fw_gen_t *g, const char *tag);
FW_API fw_err_t fw_gen_set_attribute(fw_gen_t *g, const char *key, const char *value);
FW_API fw_err_t fw_gen_set_prompt_variable(fw_gen_t *g, const char *name, const char *value);

/* Appends a message (input: the prompt, system prompt included; output: the
 * model's choices); the fw_gen_msg_* calls that follow add to it. name may be
 * NULL. */
FW_API fw_err_t fw_gen_add_message(fw_gen_t *g, fw_direction_t dir, fw_role_t role,
                                   const char *name);
FW_API fw_err_t fw_gen_msg_set_finish_reason(fw_gen_t *g, const char *reason);
FW_API fw_err_t fw_gen_msg_add_text(fw_gen_t *g, const char *text);
FW_API fw_err_t fw_gen_msg_add_text_n(fw_gen_t *g, const char *text, size_t len);
FW_API fw_err_t fw_gen_msg_add_reasoning(fw_gen_t *g, const char *text);
FW_API fw_err_t fw_gen_msg_add_tool_call(fw_gen_t *g, const char *id, const char *name,
                                         const char *arguments_json);
FW_API fw_err_t fw_gen_msg_add_tool_response(fw_gen_t *g, const char *id, const char *content);

/*
 * Hands the generation to the agent and frees the builder (in every case: do
 * not use g afterwards). Makes the event id and writes it to id_out (may be
 * NULL), also when the event is dropped. Returns FW_OK (queued),
 * FW_ERR_QUEUE_FULL (dropped and counted), FW_ERR_BUILDER_FAILED (an earlier
 * setter failed; dropped and counted), FW_ERR_INVALID_ARG (g NULL; nothing
 * recorded), FW_ERR_FORKED (called in a child process forked after the
 * agent was created: dropped and counted, see Fork). Sampling happens later
 * on the agent thread, so a sampled-out event also returns FW_OK.
 * Thread-safe; never waits for another thread. Cost: a UUIDv7 (a
 * clock_gettime through the vDSO, no system call), a few atomic additions on
 * the agent's counters and queue budget, and one atomic exchange to link the
 * event; no lock and no system call, except when the agent thread is asleep
 * after about 50 ms without events: then the record that finds it asleep
 * locks the agent's mutex (held by others only for a few instructions) and
 * signals a condition variable (one futex system call), counted in
 * FW_STAT_WAKEUPS. Under steady traffic the agent thread does not sleep.
 */
FW_API fw_err_t fw_gen_record(fw_gen_t *g, fw_event_id_t *id_out);

/* Frees a builder without recording anything. NULL is accepted. */
FW_API void fw_gen_discard(fw_gen_t *g);

/* ------------------------------------------------------------------------- */
/* Recording feedback                                                        */
/* ------------------------------------------------------------------------- */

/* Feedback is built and recorded like a generation; it is never sampled. */
typedef struct fw_feedback_s fw_feedback_t;

typedef enum {
    FW_FEEDBACK_TARGET_RESPONSE_ID = 1, /* the provider's gen_ai.response.id */
    FW_FEEDBACK_NAME = 2,               /* e.g. "thumbs", "rating", "resolved" */
    FW_FEEDBACK_COMMENT = 3,            /* free text (content) */
    FW_FEEDBACK_AUTHOR_ID = 4
} fw_feedback_field_t;

typedef enum {
    FW_SOURCE_UNSPECIFIED = 0,
    FW_SOURCE_END_USER = 1,
    FW_SOURCE_AUTOMATED = 2,
    FW_SOURCE_MODEL_JUDGE = 3,
    FW_SOURCE_REVIEWER = 4
} fw_feedback_source_t;

/* Same contract as fw_gen_new(). */
FW_API fw_feedback_t *fw_feedback_new(fw_agent_t *agent);
/* Same contract as the fw_gen_set_* functions. The value setters (bool,
 * number, category) are exclusive: the last one called wins. */
FW_API fw_err_t fw_feedback_set_str(fw_feedback_t *f, fw_feedback_field_t field, const char *value);
FW_API fw_err_t fw_feedback_set_target_event(fw_feedback_t *f, const unsigned char event_id[16]);
FW_API fw_err_t fw_feedback_set_target_trace(fw_feedback_t *f, const unsigned char trace_id[16]);
FW_API fw_err_t fw_feedback_set_bool(fw_feedback_t *f, int value);
FW_API fw_err_t fw_feedback_set_number(fw_feedback_t *f, double value);
FW_API fw_err_t fw_feedback_set_category(fw_feedback_t *f, const char *value);
FW_API fw_err_t fw_feedback_set_source(fw_feedback_t *f, fw_feedback_source_t source);
/* A correction: replacement output messages, built like generation messages. */
FW_API fw_err_t fw_feedback_add_correction(fw_feedback_t *f, fw_role_t role, const char *name);
FW_API fw_err_t fw_feedback_msg_add_text(fw_feedback_t *f, const char *text);
FW_API fw_err_t fw_feedback_msg_add_tool_call(fw_feedback_t *f, const char *id, const char *name,
                                              const char *arguments_json);
/* Same contract as fw_gen_record() and fw_gen_discard(). */
FW_API fw_err_t fw_feedback_record(fw_feedback_t *f, fw_event_id_t *id_out);
FW_API void fw_feedback_discard(fw_feedback_t *f);

#ifdef __cplusplus
}
#endif

#endif
