/*
 * collector_unit_encode: the COPY/JSON encoders and the validator, in
 * process: escaping of every special byte, shortest doubles, timestamps,
 * uuids, the JSON syntax check, UTF-8 validation, and a dead-letter reason
 * for each kind of bad message.
 */
#include "copyenc.h"
#include "decode.h"
#include "fwtest.h"
#include "gen.h"
#include "fw_utf8.h"

#include <math.h>

static const char *enc(void (*f)(fw_buf *, const char *, size_t), const char *s)
{
    static fw_buf b;
    fw_buf_reset(&b);
    f(&b, s, strlen(s));
    return fw_buf_cstr(&b);
}

static fw_dl_reason reason_of(const uint8_t *buf, size_t len, size_t maxfield)
{
    fw_limits lim = {1 << 20, maxfield};
    fw_decoded d;
    fw_dl_reason r = fw_decode(buf, len, &lim, &d);
    fw_decode_free(&d);
    return r;
}

static uint8_t *pack(Flywheel__V1__Event *ev, size_t *len)
{
    *len = flywheel__v1__event__get_packed_size(ev);
    uint8_t *b = malloc(*len);
    flywheel__v1__event__pack(ev, b);
    return b;
}

int main(void)
{
    FWT_CHECK_EQ_STR(enc(fw_copy_text, "a\tb\nc\rd\\e"), "a\\tb\\nc\\rd\\\\e");
    FWT_CHECK_EQ_STR(enc(fw_copy_json_string, "q\"b\\n\n\x01"),
                     "\"q\\\\\"b\\\\\\\\n\\\\n\\\\u0001\"");
    FWT_CHECK_EQ_STR(enc(fw_copy_array_elem, "a\"b\\c,d"), "\"a\\\\\"b\\\\\\\\c,d\"");
    FWT_CHECK_EQ_STR(enc(fw_copy_json_raw, "{\"a\":\n\"b\\n\"}"), "{\"a\":\\n\"b\\\\n\"}");

    fw_buf b = {0};
    fw_put_double(&b, 0.2);
    fw_buf_addc(&b, ' ');
    fw_put_double(&b, 1.0 / 3);
    fw_buf_addc(&b, ' ');
    fw_put_i64(&b, INT64_MIN);
    fw_buf_addc(&b, ' ');
    fw_put_timestamp_ns(&b, FWC_T0_NS + 123456789);
    fw_buf_addc(&b, ' ');
    uint8_t id[16];
    fwc_gen_event_id(0x0102030405060708ull, id);
    fw_put_uuid(&b, id);
    FWT_CHECK_EQ_STR(fw_buf_cstr(&b), "0.2 0.33333333333333331 -9223372036854775808 "
                                      "2024-05-01 12:00:00.123456+00 "
                                      "00000000-0000-0000-0102-030405060708");
    fw_buf_free(&b);

    const char *good[] = {"{}",    "[]", " {\"a\": [1, -2.5e3, true, null, \"x\\u00e9\"]} ",
                          "\"s\"", "0",  "{\"a\":{\"b\":\"\\ud83d\\ude80\"}}"};
    const char *bad[] = {"",    "{",         "{bad", "[1,]",    "01", "\"\\u0000\"", "\"\\ud800\"",
                         "nul", "{\"a\" 1}", "1 2",  "\"a\nb\""};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        FWT_CHECK_MSG(fw_json_valid(good[i], strlen(good[i])), "should be valid: %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        FWT_CHECK_MSG(!fw_json_valid(bad[i], strlen(bad[i])), "should be invalid: %s", bad[i]);
    FWT_CHECK(fw_json_valid_object(" {}", 3) && !fw_json_valid_object("[]", 2));

    FWT_CHECK(fw_utf8_valid((const uint8_t *)"plain ascii text here", 21));
    FWT_CHECK(fw_utf8_valid((const uint8_t *)"\xc3\xa9\xf0\x9f\x9a\x80", 6));
    FWT_CHECK(!fw_utf8_valid((const uint8_t *)"\xc0\xaf", 2));     /* overlong */
    FWT_CHECK(!fw_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3)); /* surrogate */
    FWT_CHECK(!fw_utf8_valid((const uint8_t *)"abc\xff", 4));
    FWT_CHECK(!fw_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    FWT_CHECK(!fw_utf8_valid((const uint8_t *)"ab\xe2\x82", 4));       /* truncated */

    /* Reasons. */
    size_t len;
    uint8_t *ok = fwc_gen_event(5, 0, 0, &len);
    FWT_CHECK_EQ_INT(reason_of(ok, len, 0), FW_DL_NONE);
    FWT_CHECK_EQ_INT(reason_of(ok, len - 3, 0), FW_DL_UNDECODABLE);
    FWT_CHECK_EQ_INT(reason_of((const uint8_t *)"\xff\xff\xff", 3, 0), FW_DL_UNDECODABLE);
    FWT_CHECK_EQ_INT(reason_of(ok, len, 8), FW_DL_OVERSIZE);
    free(ok);

    uint8_t eid[16] = {1};
    Flywheel__V1__Event ev = FLYWHEEL__V1__EVENT__INIT;
    Flywheel__V1__Generation g = FLYWHEEL__V1__GENERATION__INIT;
    ev.event_id = (ProtobufCBinaryData){16, eid};
    ev.time_unix_nano = FWC_T0_NS;
    ev.schema_version = 1;
    ev.body_case = FLYWHEEL__V1__EVENT__BODY_GENERATION;
    ev.generation = &g;
    uint8_t *buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_NONE);
    free(buf);

    ev.schema_version = 2;
    buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_UNKNOWN_SCHEMA_VERSION);
    free(buf);
    ev.schema_version = 1;

    ev.event_id.len = 15;
    buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_MISSING_FIELD);
    free(buf);
    ev.event_id.len = 16;

    ev.time_unix_nano = 0;
    buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_MISSING_FIELD);
    free(buf);
    ev.time_unix_nano = FWC_T0_NS;

    g.cost_micro_usd = -1;
    buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_OUT_OF_RANGE);
    free(buf);
    g.cost_micro_usd = 0;

    Flywheel__V1__RequestParams rp = FLYWHEEL__V1__REQUEST_PARAMS__INIT;
    rp._temperature_case = FLYWHEEL__V1__REQUEST_PARAMS___TEMPERATURE_TEMPERATURE;
    rp.temperature = NAN;
    g.request = &rp;
    buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_OUT_OF_RANGE);
    free(buf);
    g.request = NULL;

    /* NUL and invalid UTF-8 inside a string, placed by editing the wire. */
    g.request_model = "modelXname";
    buf = pack(&ev, &len);
    uint8_t *x = memmem(buf, len, "modelXname", 10);
    FWT_CHECK(x != NULL);
    x[5] = 0;
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_NUL_IN_TEXT);
    x[5] = 0xC3; /* a lead byte followed by ASCII */
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_INVALID_UTF8);
    free(buf);

    /* Feedback without any target. */
    Flywheel__V1__Feedback fb = FLYWHEEL__V1__FEEDBACK__INIT;
    ev.body_case = FLYWHEEL__V1__EVENT__BODY_FEEDBACK;
    ev.feedback = &fb;
    buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_MISSING_FIELD);
    free(buf);
    fb.target_response_id = "r1";
    buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_NONE);
    free(buf);

    ev.body_case = FLYWHEEL__V1__EVENT__BODY__NOT_SET;
    buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_MISSING_FIELD);
    free(buf);

    FWT_CHECK_EQ_STR(fw_dl_reason_code(FW_DL_NUL_IN_TEXT), "nul_in_text");
    return 0;
}
