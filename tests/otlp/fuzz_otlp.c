/*
 * libFuzzer target for the OTLP decoders and the mapping. The first byte
 * picks the decoder (even: protobuf, odd: JSON), the rest is the body. Any
 * body is either refused with a message or decoded; every span of a decoded
 * request is mapped, and every event the mapping makes must pack, and must
 * pass the collector's own decode and validation (fw_decode) as it stands:
 * whatever a client sends, the mapping never produces a dead letter. Built
 * with ASan and UBSan, so no read out of bounds, leak or overflow passes.
 */
#include "decode.h"
#include "fw_otlp.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *opaque, Flywheel__V1__Event *ev, const fw_otlp_span *span)
{
    (void)opaque;
    (void)span;
    size_t n = flywheel__v1__event__get_packed_size(ev);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return 1;
    if (flywheel__v1__event__pack(ev, buf) != n)
        abort();
    fw_limits lim = {0, 0};
    fw_decoded d;
    if (fw_decode(buf, n, &lim, &d) != FW_DL_NONE)
        abort(); /* the mapping made an event the collector refuses */
    fw_decode_free(&d);
    free(buf);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fw_otlp_request *req;
    char err[256];
    int rc = (data[0] & 1)
                 ? fw_otlp_decode_json((const char *)data + 1, size - 1, &req, err, sizeof err)
                 : fw_otlp_decode_proto(data + 1, size - 1, &req, err, sizeof err);
    if (rc != 0) {
        if (req != NULL || err[0] == '\0')
            abort();
        return 0;
    }
    fw_otlp_map_opts o = {.project = "fuzz"};
    fw_otlp_map_stats st;
    memset(&st, 0, sizeof st);
    if (fw_otlp_map(req, &o, check, NULL, &st) != 0)
        abort();
    if (st.generations + st.skipped + st.rejected != st.spans || st.spans != req->n_spans)
        abort();
    fw_otlp_request_free(req);
    return 0;
}
