/*
 * entry — the queued form of one recorded event, as written by the builder
 * on the application thread and read by the encoder on the agent thread.
 *
 * An entry is one heap block: a fixed header followed by a log of records
 * that mirrors the setter calls. Each record is an 8-byte header {tag, aux,
 * len} followed by len payload bytes; strings are stored with a trailing NUL
 * that len does not count (every record has it, also fixed-size ones, to keep
 * the walk uniform), so the encoder points protobuf-c straight at them
 * (zero copy). A setter appends a record; nothing is interpreted until the
 * agent thread decodes the log, which keeps the hot path to memcpy. Records
 * that need several strings (tool calls, key/value pairs) are a head record
 * followed by FWE_T_CONT records. A later scalar record overrides an earlier
 * one with the same field. Message parts follow their FWE_T_MSG record.
 *
 * node.size is the size of the whole allocation and is what the entry costs
 * against queue.max_bytes.
 */
#ifndef FW_AGENT_ENTRY_H
#define FW_AGENT_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "queue.h"

enum { FWE_KIND_GENERATION = 1, FWE_KIND_FEEDBACK = 2 };

/* Truncation flags, the fields of flywheel.v1.Truncation. */
enum {
    FWE_TR_INPUT = 1,
    FWE_TR_OUTPUT = 2,
    FWE_TR_TOOLDEFS = 4,
    FWE_TR_SYSINSTR = 8,
    FWE_TR_PVARS = 16,
    FWE_TR_OTHER = 32 /* feedback content or metadata: no schema flag */
};

enum {
    FWE_T_STR = 1,       /* aux = fw_gen_field_t or fw_feedback_field_t */
    FWE_T_INT,           /* aux = field, payload int64 */
    FWE_T_DBL,           /* aux = field, payload double */
    FWE_T_TRACE,         /* aux bit0 span, bit1 parent; payload 16+8+8 */
    FWE_T_STOP_SEQ,      /* string */
    FWE_T_FINISH_REASON, /* string */
    FWE_T_TAG,           /* string */
    FWE_T_ATTR,          /* key string, then CONT value */
    FWE_T_PVAR,          /* name string, then CONT value */
    FWE_T_MSG,           /* aux = dir << 8 | role; name string */
    FWE_T_MSG_FINISH,    /* string, applies to the current message */
    FWE_T_TEXT,          /* part */
    FWE_T_REASONING,     /* part */
    FWE_T_TOOL_CALL,     /* part: id, CONT name, CONT arguments */
    FWE_T_TOOL_RESP,     /* part: id, CONT content */
    FWE_T_CONT,
    FWE_T_FB_EVENT,    /* 16 bytes */
    FWE_T_FB_TRACE,    /* 16 bytes */
    FWE_T_FB_BOOL,     /* 1 byte */
    FWE_T_FB_NUMBER,   /* double */
    FWE_T_FB_CATEGORY, /* string */
    FWE_T_FB_SOURCE    /* int64 */
};

/* Direction of FWE_T_MSG: input, output, or a feedback correction. */
enum { FWE_DIR_INPUT = 0, FWE_DIR_OUTPUT = 1, FWE_DIR_CORRECTION = 2 };

typedef struct {
    uint16_t tag;
    uint16_t aux;
    uint32_t len;
} fwe_rec;

typedef struct fw_entry {
    fwq_node node; /* first member: the queue links entries */
    uint8_t kind;
    uint8_t trunc; /* FWE_TR_* set while copying */
    uint8_t spare[2];
    uint32_t len; /* bytes used in data[] */
    uint32_t cap; /* bytes available in data[] */
    unsigned char event_id[16];
    uint64_t time_unix_nano;
    unsigned char data[];
} fw_entry;

/* Starts loading the whole entry into the cache. The agent thread usually
 * finds an entry that another core wrote, or one that waited in a long
 * queue and left the cache: without this, walking the record log is one
 * cache miss after another, each waiting for the last (the length in a
 * record's header says where the next one is). */
static inline void fwe_prefetch(const fw_entry *e)
{
    for (size_t off = 0; off < e->len; off += 64)
        __builtin_prefetch(e->data + off);
}

/* Iterates records: returns a pointer to the payload and fills *r, or NULL at
 * the end (or on a malformed log, which cannot happen for builder output). */
static inline const unsigned char *fwe_next(const fw_entry *e, size_t *off, fwe_rec *r)
{
    if (*off + sizeof *r > e->len)
        return NULL;
    memcpy(r, e->data + *off, sizeof *r);
    size_t plen = (size_t)r->len + 1; /* every payload is followed by a NUL */
    if (*off + sizeof *r + plen > e->len)
        return NULL;
    const unsigned char *p = e->data + *off + sizeof *r;
    *off += sizeof *r + plen;
    return p;
}

#endif
