/*
 * collector_unit_encode: the COPY/JSON encoders and the validator, in
 * process: escaping of every special byte, shortest doubles, timestamps,
 * uuids, the JSON syntax check (numbers jsonb cannot hold included), UTF-8
 * validation, how tool-call arguments and responses are embedded, and a
 * dead-letter reason for each kind of bad message, with the event id of an
 * oversize message and the byte position of a malformed field.
 */
#include "copyenc.h"
#include "decode.h"
#include "fwtest.h"
#include "gen.h"
#include "fw_utf8.h"
#include "rows.h"

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

static const char *detail_of(const uint8_t *buf, size_t len)
{
    static char detail[sizeof((fw_decoded *)0)->detail];
    fw_limits lim = {1 << 20, 0};
    fw_decoded d;
    fw_decode(buf, len, &lim, &d);
    snprintf(detail, sizeof detail, "%s", d.detail);
    fw_decode_free(&d);
    return detail;
}

/* "1" or "0." followed by n zeros, or "0." followed by n digits "1". */
static char *digits(const char *head, size_t n, char fill)
{
    size_t h = strlen(head);
    char *s = malloc(h + n + 1);
    memcpy(s, head, h);
    memset(s + h, fill, n);
    s[h + n] = '\0';
    return s;
}

/* The messages JSON of one assistant message with a tool call (arguments)
 * and a tool response (content), as COPY text. */
static const char *tool_json(char *arguments, char *content)
{
    static fw_buf b;
    Flywheel__V1__Message m = FLYWHEEL__V1__MESSAGE__INIT;
    Flywheel__V1__Part call = FLYWHEEL__V1__PART__INIT, resp = FLYWHEEL__V1__PART__INIT;
    Flywheel__V1__ToolCall tc = FLYWHEEL__V1__TOOL_CALL__INIT;
    Flywheel__V1__ToolCallResponse tr = FLYWHEEL__V1__TOOL_CALL_RESPONSE__INIT;
    Flywheel__V1__Part *parts[2] = {&call, &resp};
    Flywheel__V1__Message *ms[1] = {&m};
    m.role = FLYWHEEL__V1__ROLE__ROLE_ASSISTANT;
    call.content_case = FLYWHEEL__V1__PART__CONTENT_TOOL_CALL;
    call.tool_call = &tc;
    tc.id = "c1";
    tc.name = "f";
    tc.arguments_json = arguments;
    resp.content_case = FLYWHEEL__V1__PART__CONTENT_TOOL_CALL_RESPONSE;
    resp.tool_call_response = &tr;
    tr.id = "c1";
    tr.content = content;
    m.n_parts = 2;
    m.parts = parts;
    fw_buf_reset(&b);
    fw_row_messages_json(&b, ms, 1);
    return fw_buf_cstr(&b);
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
    fw_buf_addc(&b, ' ');
    fw_put_timestamp_ms(&b, FW_MAX_ID_TIME_MS - 1);
    FWT_CHECK_EQ_STR(fw_buf_cstr(&b), "0.2 0.33333333333333331 -9223372036854775808 "
                                      "2024-05-01 12:00:00.123456+00 "
                                      "018f3406-9e00-7000-8002-030405060708 "
                                      "9999-12-31 23:59:59.999000+00");
    fw_buf_free(&b);

    /* The time an event id carries (generations.id_time): UUIDv7 only,
     * version 7 and variant 10, before 10000-01-01. */
    {
        uint64_t ms = 0;
        FWT_CHECK(fw_event_id_time_ms(id, &ms) && ms == FWC_ID_MS);
        uint8_t v[16];
        memcpy(v, id, 16);
        v[6] = 0x40; /* version 4 */
        FWT_CHECK(!fw_event_id_time_ms(v, &ms));
        memcpy(v, id, 16);
        v[8] = 0xc0; /* variant 110 (Microsoft) */
        FWT_CHECK(!fw_event_id_time_ms(v, &ms));
        memcpy(v, id, 16);
        for (int k = 0; k < 6; k++)
            v[5 - k] = (uint8_t)(FW_MAX_ID_TIME_MS >> (8 * k));
        FWT_CHECK(!fw_event_id_time_ms(v, &ms));
        for (int k = 0; k < 6; k++)
            v[5 - k] = (uint8_t)((FW_MAX_ID_TIME_MS - 1) >> (8 * k));
        FWT_CHECK(fw_event_id_time_ms(v, &ms) && ms == FW_MAX_ID_TIME_MS - 1);
    }

    const char *good[] = {"{}",    "[]", " {\"a\": [1, -2.5e3, true, null, \"x\\u00e9\"]} ",
                          "\"s\"", "0",  "{\"a\":{\"b\":\"\\ud83d\\ude80\"}}"};
    const char *bad[] = {"",    "{",         "{bad", "[1,]",    "01", "\"\\u0000\"", "\"\\ud800\"",
                         "nul", "{\"a\" 1}", "1 2",  "\"a\nb\""};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        FWT_CHECK_MSG(fw_json_valid(good[i], strlen(good[i])), "should be valid: %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        FWT_CHECK_MSG(!fw_json_valid(bad[i], strlen(bad[i])), "should be invalid: %s", bad[i]);
    FWT_CHECK(fw_json_valid_object(" {}", 3) && !fw_json_valid_object("[]", 2));

    /* Numbers: jsonb stores them as numeric. These limits were checked with
     * psql against PostgreSQL 15 ('...'::jsonb succeeds for the first list,
     * fails with 22003 "value overflows numeric format" for the second). */
    const char *fits[] = {"1e131071",    "9.9e131071", "0.001e131074", "10e131070",
                          "1e-16383",    "0e-16383",   "0e131072",     "0e1073741822",
                          "[1e5, -0.5]", "-1.5E+300",  "0.5e-16382"};
    const char *overflows[] = {"{\"n\": 1e1000000}", "1e131072",       "100e131070",
                               "0.001e131075",       "1e-16384",       "1.5e-16383",
                               "0e-16384",           "0.000e-16381",   "123e-16385",
                               "0e1073741823",       "-0e-1073741822", "1e99999999999999999999",
                               "[1, 1e-99999]"};
    for (size_t i = 0; i < sizeof fits / sizeof *fits; i++)
        FWT_CHECK_MSG(fw_json_valid(fits[i], strlen(fits[i])), "jsonb holds %s", fits[i]);
    for (size_t i = 0; i < sizeof overflows / sizeof *overflows; i++)
        FWT_CHECK_MSG(!fw_json_valid(overflows[i], strlen(overflows[i])), "jsonb cannot hold %s",
                      overflows[i]);
    char *n1 = digits("1", 131071, '0'), *n2 = digits("1", 131072, '0');
    char *f1 = digits("0.", 16383, '1'), *f2 = digits("0.", 16384, '0');
    FWT_CHECK(fw_json_valid(n1, strlen(n1)) && !fw_json_valid(n2, strlen(n2)));
    FWT_CHECK(fw_json_valid(f1, strlen(f1)) && !fw_json_valid(f2, strlen(f2)));
    free(n1);
    free(n2);
    free(f1);
    free(f2);

    /* Tool-call arguments and responses: parsed JSON when jsonb can hold
     * them, else a JSON string (COPY doubles the backslashes). */
    char args_ok[] = "{\"q\": 1}", resp_ok[] = "{\"temp\": 21}";
    char args_big[] = "{\"n\": 1e1000000}", resp_text[] = "sunny";
    FWT_CHECK_EQ_STR(tool_json(args_ok, resp_ok),
                     "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\",\"id\":\"c1\","
                     "\"name\":\"f\",\"arguments\":{\"q\": 1}},{\"type\":\"tool_call_response\","
                     "\"id\":\"c1\",\"response\":{\"temp\": 21}}]}]");
    FWT_CHECK_EQ_STR(tool_json(args_big, resp_text),
                     "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\",\"id\":\"c1\","
                     "\"name\":\"f\",\"arguments\":\"{\\\\\"n\\\\\": 1e1000000}\"},"
                     "{\"type\":\"tool_call_response\",\"id\":\"c1\",\"response\":\"sunny\"}]}]");

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

    /* An empty message is called that, not an unknown schema version. */
    FWT_CHECK_EQ_INT(reason_of((const uint8_t *)"", 0, 0), FW_DL_EMPTY_MESSAGE);
    FWT_CHECK_EQ_STR(fw_dl_reason_code(FW_DL_EMPTY_MESSAGE), "empty_message");
    FWT_CHECK_EQ_STR(detail_of((const uint8_t *)"", 0), "message is empty (0 bytes)");

    /* A message over the size limit still names its event. */
    {
        fw_limits small = {64, 0};
        fw_decoded d;
        uint8_t want[16];
        fwc_gen_event_id(5, want);
        FWT_CHECK_EQ_INT(fw_decode(ok, len, &small, &d), FW_DL_OVERSIZE);
        FWT_CHECK(d.has_event_id && memcmp(d.event_id, want, 16) == 0);
        fw_decode_free(&d);
        /* ...and an unreadable one does not invent an id. */
        uint8_t junk[80];
        memset(junk, 0xff, sizeof junk);
        FWT_CHECK_EQ_INT(fw_decode(junk, sizeof junk, &small, &d), FW_DL_OVERSIZE);
        FWT_CHECK(!d.has_event_id);
        fw_decode_free(&d);
    }
    free(ok);

    /* "at byte N" is where the malformed field starts (its tag), counted
     * in the whole message, also inside a nested message. */
    {
        uint8_t m[32] = {0x0a, 0x10};
        memset(m + 2, 0x11, 16);
        m[18] = 0x11; /* time_unix_nano, fixed64: only 3 of its 8 bytes follow */
        m[19] = m[20] = m[21] = 1;
        FWT_CHECK_EQ_STR(detail_of(m, 22), "malformed protobuf in Event at byte 18");
        /* generation (field 16, 2-byte tag), 3 bytes long, holding a
         * fixed64 field 1 with only 2 bytes */
        const uint8_t nested[] = {0x82, 0x01, 0x03, 0x09, 0xaa, 0xbb};
        memcpy(m + 18, nested, sizeof nested);
        FWT_CHECK_EQ_STR(detail_of(m, 18 + sizeof nested),
                         "malformed protobuf in Generation at byte 21");
    }

    uint8_t eid[16];
    fwc_gen_event_id(1, eid);
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

    /* A generation whose id is not a UUIDv7 has no place: a dead letter
     * that says why (regression: issue #11 item 18). */
    eid[6] = 0x40;
    buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_INVALID_EVENT_ID);
    FWT_CHECK_EQ_STR(detail_of(buf, len), "event_id is not a UUIDv7 (version 4); a generation's "
                                          "id must be one, its time places the row");
    FWT_CHECK_EQ_STR(fw_dl_reason_code(FW_DL_INVALID_EVENT_ID), "invalid_event_id");
    free(buf);
    eid[6] = 0x70;
    {
        /* The row ends with id_time, from the id, whatever the event time. */
        fw_buf row = {0};
        fw_origin o = {"t", 0, 7};
        ev.time_unix_nano = FWC_T0_NS + 2 * 86400ull * 1000000000u;
        fw_row_generation(&row, &ev, &o);
        const char *r = fw_buf_cstr(&row);
        const char *tail = "\t7\t2024-05-01 12:00:00.000000+00\n";
        FWT_CHECK(row.len > strlen(tail) && strcmp(r + row.len - strlen(tail), tail) == 0);
        FWT_CHECK(strstr(r, "2024-05-03 12:00:00.000000+00") != NULL);
        fw_buf_free(&row);
        ev.time_unix_nano = FWC_T0_NS;
    }

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

    /* A span target (V0040) needs its trace and eight bytes. */
    static uint8_t trace[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
                                0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
    static uint8_t span[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
    fb.target_response_id = "";
    fb.target_span_id = (ProtobufCBinaryData){8, span};
    buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_MISSING_FIELD); /* no trace */
    free(buf);
    fb.target_trace_id = (ProtobufCBinaryData){16, trace};
    fb.target_span_id = (ProtobufCBinaryData){7, span};
    buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_MISSING_FIELD); /* 7 bytes */
    free(buf);
    fb.target_span_id = (ProtobufCBinaryData){8, span};
    buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_NONE);
    free(buf);
    fb.name = "thumbs";
    fw_buf row = {0};
    fw_origin o = {"t", 0, 0};
    fw_row_feedback(&row, &ev, &o);
    FWT_CHECK(strstr(fw_buf_cstr(&row),
                     "\t\\N\t\\N\t4bf92f3577b34da6a3ce929d0e0e4736\t00f067aa0ba902b7\tthumbs\t") !=
              NULL);
    fw_buf_free(&row);

    ev.body_case = FLYWHEEL__V1__EVENT__BODY__NOT_SET;
    buf = pack(&ev, &len);
    FWT_CHECK_EQ_INT(reason_of(buf, len, 0), FW_DL_MISSING_FIELD);
    free(buf);

    FWT_CHECK_EQ_STR(fw_dl_reason_code(FW_DL_NUL_IN_TEXT), "nul_in_text");
    return 0;
}
