/*
 * libFuzzer target for the decode-and-validate path and the row encoder:
 * any bytes either become a dead-letter reason or a validated event whose
 * COPY line is encoded; nothing may crash, leak or read out of bounds
 * (built with ASan and UBSan). Every JSON value the encoder emits for a
 * message list is checked to be valid JSON once COPY escaping is undone.
 */
#include "copyenc.h"
#include "decode.h"
#include "rows.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Undoes COPY text escaping of one field in place; returns its length. */
static size_t uncopy(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char e = s[++i];
            s[o++] = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        } else {
            s[o++] = s[i];
        }
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fw_limits lim = {1 << 20, 1 << 16};
    fw_decoded d;
    if (fw_decode(data, size, &lim, &d) != FW_DL_NONE) {
        if (d.reason <= FW_DL_NONE || d.reason >= FW_DL_COUNT)
            abort();
        return 0;
    }
    fw_buf b = {0};
    fw_origin o = {"fuzz", 0, 1};
    if (d.event->body_case == FLYWHEEL__V1__EVENT__BODY_GENERATION) {
        fw_row_generation(&b, d.event, &o);
        fw_buf m = {0};
        fw_row_messages_json(&m, d.event->generation->input_messages,
                             d.event->generation->n_input_messages);
        size_t n = uncopy(m.data, m.len);
        if (!m.oom && !fw_json_valid(m.data, n))
            abort();
        fw_buf_free(&m);
    } else {
        fw_row_feedback(&b, d.event, &o);
    }
    if (!b.oom && (b.len == 0 || b.data[b.len - 1] != '\n' ||
                   memchr(b.data, '\n', b.len) != b.data + b.len - 1))
        abort(); /* exactly one line */
    fw_buf_free(&b);
    fw_decode_free(&d);
    return 0;
}
