/*
 * Decoding and validation of one Kafka message into a flywheel.v1.Event.
 *
 * Everything PostgreSQL would refuse, and everything the store's contract
 * forbids, is caught here, before COPY, so that a bad message becomes a
 * dead letter without costing a failed transaction. The checks, in order:
 *
 *   0. a message of 0 bytes (a tombstone, a producer bug)    -> empty_message
 *   1. size:      the message over max_message_bytes         -> oversize
 *                 (the event id is still read from the top-level fields
 *                 when it is there, so the dead letter names its event)
 *   2. wire walk: the protobuf structure is walked with the generated
 *                 descriptors, before unpacking, so that text fields can
 *                 be checked as bytes (protobuf-c hands strings back as C
 *                 strings, which would hide an embedded NUL):
 *                 malformed varints, lengths or wire types   -> undecodable
 *                 ("at byte N": the offset in the whole message
 *                 of the field whose tag or value is malformed)
 *                 a string or bytes field over max_field_bytes -> oversize
 *                 a string field with a NUL byte             -> nul_in_text
 *                 a string field that is not UTF-8           -> invalid_utf8
 *   3. unpack with protobuf-c (unknown fields pass)          -> undecodable
 *   4. schema_version other than 1                -> unknown_schema_version
 *   5. event_id not 16 bytes, no body, no time, feedback without any target
 *                                                            -> missing_field
 *      a generation whose event_id is not a UUIDv7, or whose id time is
 *      not before 10000-01-01 (the id's time places the row)  -> invalid_event_id
 *   6. negative tokens, cost or durations, end before start, NaN or
 *      infinite numbers, unknown enum values                 -> out_of_range
 *
 * The first failing check decides the reason. The walk is iterative over
 * fields and recursive over nested messages with a depth limit, so a
 * hostile message cannot exhaust the stack. No function here allocates
 * except fw_decode (through protobuf-c), and all are thread-safe.
 */
#ifndef FW_DECODE_H
#define FW_DECODE_H

#include "flywheel/v1/flywheel.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/* Dead-letter reasons: stable codes stored in flywheel.dead_letters.reason. */
#define FW_REASONS(X)                                                                              \
    X(NONE, "none")                                                                                \
    X(UNDECODABLE, "undecodable")                                                                  \
    X(UNKNOWN_SCHEMA_VERSION, "unknown_schema_version")                                            \
    X(MISSING_FIELD, "missing_field")                                                              \
    X(INVALID_UTF8, "invalid_utf8")                                                                \
    X(NUL_IN_TEXT, "nul_in_text")                                                                  \
    X(OVERSIZE, "oversize")                                                                        \
    X(OUT_OF_RANGE, "out_of_range")                                                                \
    X(DATA_ERROR, "data_error")                                                                    \
    X(EMPTY_MESSAGE, "empty_message")                                                              \
    X(INVALID_EVENT_ID, "invalid_event_id")

typedef enum {
#define X(name, code) FW_DL_##name,
    FW_REASONS(X)
#undef X
        FW_DL_COUNT
} fw_dl_reason;

/* The stable code of a reason ("undecodable", ...). data_error is stored
 * with its SQLSTATE appended: "data_error:22P02". */
const char *fw_dl_reason_code(fw_dl_reason r);

/* 10000-01-01 00:00:00 UTC in Unix milliseconds: id times from here on are
 * refused (a timestamptz literal has four year digits here). */
#define FW_MAX_ID_TIME_MS 253402300800000ull

/*
 * The time a generation's event id carries, which places its row
 * (flywheel.generations.id_time; flywheel.event_id_time() in SQL computes
 * the same). Returns 1 and sets *ms (Unix milliseconds) when `id` is a
 * UUIDv7 — version 7, variant 10, the first 48 bits the time — with a time
 * before FW_MAX_ID_TIME_MS; returns 0 otherwise. Thread-safe.
 */
int fw_event_id_time_ms(const uint8_t id[16], uint64_t *ms);

typedef struct {
    size_t max_message_bytes; /* 0 = no limit */
    size_t max_field_bytes;   /* 0 = no limit */
} fw_limits;

/*
 * The memory of one decoded event. protobuf-c allocates the unpacked event
 * (every submessage, string and array) from it with a bump allocator: an
 * inline block big enough for a typical event, then malloc'd blocks; it is
 * released all at once by fw_decode_free. This replaces a malloc and a free
 * per field, which were a sixth of the collector's CPU.
 */
typedef struct fw_arena_block fw_arena_block;
typedef struct {
    size_t used;            /* bytes of buf handed out */
    fw_arena_block *blocks; /* overflow blocks, newest first */
    _Alignas(16) unsigned char buf[8192];
} fw_arena;

typedef struct {
    Flywheel__V1__Event *event; /* set when the reason is NONE; free with fw_decode_free */
    fw_dl_reason reason;
    char detail[160];     /* for a dead letter: which field, which limit */
    uint8_t event_id[16]; /* valid when has_event_id */
    int has_event_id;
    fw_arena arena; /* event's memory: never copy a decoded fw_decoded */
} fw_decoded;

/*
 * Decodes and validates `len` bytes. Always fills `out`: on success
 * out->reason is FW_DL_NONE and out->event is set (it lives in out->arena:
 * call fw_decode_free, and do not copy *out while the event is used);
 * otherwise out->event is NULL, nothing needs freeing, and reason/detail say
 * why (event_id is filled when the message decoded that far). Returns
 * out->reason.
 */
fw_dl_reason fw_decode(const uint8_t *data, size_t len, const fw_limits *lim, fw_decoded *out);

void fw_decode_free(fw_decoded *d);

#endif
