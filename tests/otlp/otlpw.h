/*
 * Test support for the OTLP tests: a protobuf writer, and a converter from
 * an OTLP/JSON trace request to its protobuf encoding, written
 * independently of the library's decoders so that a parity test compares
 * two readings of the same request.
 */
#ifndef FW_TEST_OTLPW_H
#define FW_TEST_OTLPW_H

#include "fw_otlp.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *p;
    size_t len, cap;
} pbw;

void pbw_varint(pbw *w, uint64_t v);
void pbw_tag(pbw *w, unsigned field, unsigned wt);
void pbw_bytes(pbw *w, unsigned field, const void *p, size_t n);
void pbw_str(pbw *w, unsigned field, const char *s);
void pbw_fixed64(pbw *w, unsigned field, uint64_t v);
void pbw_fixed32(pbw *w, unsigned field, uint32_t v);
void pbw_free(pbw *w);

/* The protobuf encoding of an OTLP/JSON ExportTraceServiceRequest; aborts
 * on JSON the test did not mean to write. */
void otlpw_json_to_proto(const char *json, pbw *out);

/* The events mapped from a request, each packed, and unpacked again. */
typedef struct {
    Flywheel__V1__Event **ev;
    uint8_t **packed;
    size_t *packed_len;
    size_t n;
    fw_otlp_map_stats st;
} mapped;

/* Decodes `json` (and, with `also_proto`, its protobuf encoding, checking
 * that both map to byte-identical events) and maps it. */
void map_json(const char *json, const fw_otlp_map_opts *o, int also_proto, mapped *out);
void mapped_free(mapped *m);

/* Messages as compact JSON for assertions:
 * [{"role":"user","parts":[{"text":"hi"},{"tool_call":["id","name","args"]}]}] */
char *msgs_json(Flywheel__V1__Message *const *m, size_t n);

/* The value of Event.attributes[key], or NULL. */
const char *ev_attr(const Flywheel__V1__Event *ev, const char *key);

#endif
