/*
 * Event ids of OTLP spans. A span has no id of its own that fits the store's
 * uuid key, and a client may send it again (a retry after a timeout, the
 * collector's kafka exporter re-sending a batch), sometimes with a corrected
 * end time. The id is therefore a function of what does not change: the
 * trace id and span id pick 74 bits of a SHA-256, and the span's start time
 * gives the 48-bit millisecond prefix of a UUIDv7, which is what places the
 * row in its time partition.
 */
#include "fw_otlp.h"

#include <openssl/sha.h>
#include <string.h>

void fw_otlp_event_id(const uint8_t trace_id[16], const uint8_t span_id[8], uint64_t time_unix_nano,
                      uint8_t out[16])
{
    static const char domain[] = "flywheel.otlp.v1";
    uint8_t in[sizeof domain - 1 + 16 + 8], h[SHA256_DIGEST_LENGTH];
    memcpy(in, domain, sizeof domain - 1);
    memcpy(in + sizeof domain - 1, trace_id, 16);
    memcpy(in + sizeof domain - 1 + 16, span_id, 8);
    SHA256(in, sizeof in, h);
    uint64_t ms = time_unix_nano / 1000000u;
    for (int i = 0; i < 6; i++)
        out[i] = (uint8_t)(ms >> (40 - 8 * i));
    out[6] = (uint8_t)(0x70 | (h[0] & 0x0F));
    out[7] = h[1];
    out[8] = (uint8_t)(0x80 | (h[2] & 0x3F));
    memcpy(out + 9, h + 3, 7);
}
