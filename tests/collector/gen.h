/*
 * Deterministic flywheel.v1 events for the collector tests and the ingest
 * benchmark. Every field of event i is a function of i, so a test can state
 * the expected row in SQL (gen_expect.sql.h) independently of the collector's
 * C encoder and compare all 100k rows in one query.
 *
 * Event i is a Feedback when i % 20 == 19 (pointing at generation i - 1),
 * else a Generation. Text fields carry tabs, newlines, quotes, backslashes
 * and non-ASCII characters to exercise every escaping layer.
 */
#ifndef FWC_GEN_H
#define FWC_GEN_H

#include <stddef.h>
#include <stdint.h>

/* 2024-05-01 12:00:00 UTC in Unix nanoseconds. */
#define FWC_T0_NS UINT64_C(1714564800000000000)

/* Packs event i into a malloc'd buffer; *len receives its size. `pad` adds
 * that many bytes of extra user text (for ~1.2 KB benchmark events).
 * time_ns == 0 uses FWC_T0_NS + i microseconds + 789 ns. */
uint8_t *fwc_gen_event(uint64_t i, size_t pad, uint64_t time_ns, size_t *len);

/* 1 when event i is a feedback event. */
int fwc_gen_is_feedback(uint64_t i);

/* The time every generated event id carries: 2024-05-01 12:00:00 UTC in
 * Unix milliseconds (the ids' rows all sit in that day's partition). */
#define FWC_ID_MS 1714564800000ull

/* The event id of event i: a UUIDv7 with the time FWC_ID_MS, then byte 8 =
 * 0x80 (the variant) and the low 56 bits of i big-endian in bytes 9-15:
 * "018f3406-9e00-7000-80ii-iiiiiiiiiiii". */
void fwc_gen_event_id(uint64_t i, uint8_t out[16]);

#endif
