/*
 * encode — turns a queued entry into the bytes of one flywheel.v1 Event, on
 * the agent thread: decode the entry's record log into protobuf-c structs
 * (pointing into the entry, no copies), decide head sampling, repair
 * invalid UTF-8 and NUL, drop omitted content, redact, truncate content to
 * max_event_bytes, pack (pack.h: written by hand, the same bytes protobuf-c
 * would write).
 *
 * All temporary memory comes from an arena owned by the context and reset
 * per event, so encoding allocates nothing per event once warm except the
 * output buffer, which is handed to librdkafka (RD_KAFKA_MSG_F_FREE).
 * Not thread-safe: one context per agent thread.
 */
#ifndef FW_AGENT_ENCODE_H
#define FW_AGENT_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "internal.h"

typedef struct fwe_ctx fwe_ctx;

enum { FWE_OK = 0, FWE_SAMPLED_OUT = 1, FWE_TOO_LARGE = 2, FWE_NOMEM = -1 };

#define FWE_MAX_KEY 256

typedef struct {
    unsigned char *buf; /* malloc'd packed Event */
    size_t len;
    unsigned char key[FWE_MAX_KEY];
    size_t key_len;
    unsigned redactions;
    int truncated; /* content was cut (here or on the application thread) */
} fwe_out;

fwe_ctx *fwe_new(void);
void fwe_free(fwe_ctx *c);

/*
 * Encodes e (whose string payloads may be modified in place). Returns FWE_OK
 * with out filled, FWE_SAMPLED_OUT, FWE_TOO_LARGE (metadata alone exceeds
 * max_event_bytes), FWE_NOMEM. red may be NULL (no redaction).
 */
int fwe_encode(fwe_ctx *c, fw_entry *e, const fwi_settings *s, fwr_redactor *red, fwe_out *out);

/* Head-sampling decision for a key: deterministic, uniform over keys. */
int fwe_keep(const unsigned char *key, size_t len, double rate);

#endif
