/*
 * pack — a hand-written protobuf writer for flywheel.v1.Event, used by the
 * agent thread instead of protobuf-c's descriptor-driven packer.
 *
 * It writes exactly the bytes protobuf_c_message_pack() writes for the same
 * structs (protobuf-c 1.4: fields in field-number order, proto3 fields only
 * when not zero or empty, a oneof member when its case is set, repeated
 * strings and messages element by element, a NULL element as an empty one),
 * so the collector's decoder sees no difference; tests/agent/test_pack.c
 * checks that on randomized events, field by field of every message.
 * Unknown fields are not written: the agent never has any.
 *
 * Two passes over the structs: fwp_size() visits every field once and
 * records, in visiting order, the length of each string and the size of
 * each nested message on a tape; fwp_write() makes the same visit and takes
 * those lengths from the tape, so no string is measured twice and no nested
 * message is sized again at each level of nesting (protobuf-c sizes a
 * message once per enclosing level). Nothing is allocated per event once the
 * tape has grown to the largest event seen.
 *
 * Invariant: between fwp_size() and fwp_write() nothing reachable from the
 * event may change. Not thread-safe: one fwp_tape per thread.
 */
#ifndef FW_AGENT_PACK_H
#define FW_AGENT_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "flywheel/v1/flywheel.pb-c.h"

typedef struct {
    uint32_t *v;
    size_t n, cap;
} fwp_tape;

/* Frees the tape's memory (the struct itself is the caller's). */
void fwp_tape_free(fwp_tape *t);

/*
 * Returns the packed size of ev and fills the tape for fwp_write(); returns
 * SIZE_MAX when the tape cannot grow (out of memory) or a string or message
 * is 4 GiB or longer.
 */
size_t fwp_size(const Flywheel__V1__Event *ev, fwp_tape *t);

/*
 * Writes ev into out, which holds the size the last fwp_size() of this ev
 * returned, and returns the number of bytes written (that size).
 */
size_t fwp_write(const Flywheel__V1__Event *ev, const fwp_tape *t, uint8_t *out);

#endif
