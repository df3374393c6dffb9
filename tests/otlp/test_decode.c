/*
 * Unit tests of the OTLP decoders: the protobuf wire reader and the JSON
 * reader, on hand-built requests, including every way a body can be wrong.
 */
#include "fwtest.h"
#include "otlpw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t TRACE[16] = {0x5b, 0x8e, 0xfb, 0xf3, 0x3c, 0x6a, 0x4e, 0x11,
                                  0x9d, 0x2a, 0x40, 0x1c, 0x7e, 0x55, 0x0b, 0x01};
static const uint8_t SPAN[8] = {0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18};

/* A span with ids, a name and times. */
static void span_bytes(pbw *s)
{
    pbw_bytes(s, 1, TRACE, 16);
    pbw_bytes(s, 2, SPAN, 8);
    pbw_str(s, 5, "chat gpt-4o-mini");
    pbw_fixed64(s, 7, 1765000000000000000ull);
    pbw_fixed64(s, 8, 1765000001000000000ull);
}

/* ExportTraceServiceRequest{ResourceSpans{ScopeSpans{span}}}. */
static void wrap(const pbw *span, pbw *out)
{
    pbw ss = {0}, rs = {0};
    memset(out, 0, sizeof *out);
    pbw_bytes(&ss, 2, span->p, span->len);
    pbw_bytes(&rs, 2, ss.p, ss.len);
    pbw_bytes(out, 1, rs.p, rs.len);
    pbw_free(&ss);
    pbw_free(&rs);
}

static int decode(const pbw *w, fw_otlp_request **req, char *err, size_t n)
{
    return fw_otlp_decode_proto(w->p, w->len, req, err, n);
}

static void test_empty(void)
{
    fw_otlp_request *req;
    char err[256];
    FWT_CHECK_EQ_INT(fw_otlp_decode_proto(NULL, 0, &req, err, sizeof err), 0);
    FWT_CHECK_EQ_INT(req->n_resources, 0);
    fw_otlp_request_free(req);
    FWT_CHECK_EQ_INT(fw_otlp_decode_json("{}", 2, &req, err, sizeof err), 0);
    FWT_CHECK_EQ_INT(req->n_spans, 0);
    fw_otlp_request_free(req);
    FWT_CHECK_EQ_INT(fw_otlp_decode_json("{\"resourceSpans\":[]}", 20, &req, err, sizeof err), 0);
    FWT_CHECK_EQ_INT(req->n_spans, 0);
    fw_otlp_request_free(req);
    /* A resource with no spans. */
    pbw w = {0}, rs = {0};
    pbw_bytes(&rs, 1, "", 0);
    pbw_bytes(&w, 1, rs.p, rs.len);
    FWT_CHECK_EQ_INT(decode(&w, &req, err, sizeof err), 0);
    FWT_CHECK_EQ_INT(req->n_resources, 1);
    FWT_CHECK_EQ_INT(req->n_spans, 0);
    fw_otlp_request_free(req);
    pbw_free(&w);
    pbw_free(&rs);
}

static void test_attribute_shapes(void)
{
    /* Every AnyValue shape, with a negative int (a ten-byte varint), a
     * nested kvlist inside an array, and bytes. */
    pbw s = {0}, kv, v, arr, kvl, inner;
    span_bytes(&s);
    /* neg = -42 */
    memset(&kv, 0, sizeof kv), memset(&v, 0, sizeof v);
    pbw_str(&kv, 1, "neg");
    pbw_tag(&v, 3, 0);
    pbw_varint(&v, (uint64_t)(int64_t)-42);
    FWT_CHECK(v.len == 11); /* tag + ten bytes */
    pbw_bytes(&kv, 2, v.p, v.len);
    pbw_bytes(&s, 9, kv.p, kv.len);
    pbw_free(&kv), pbw_free(&v);
    /* d = 0.5, b = true */
    memset(&kv, 0, sizeof kv), memset(&v, 0, sizeof v);
    pbw_str(&kv, 1, "d");
    double half = 0.5;
    uint64_t bits;
    memcpy(&bits, &half, 8);
    pbw_fixed64(&v, 4, bits);
    pbw_bytes(&kv, 2, v.p, v.len);
    pbw_bytes(&s, 9, kv.p, kv.len);
    pbw_free(&kv), pbw_free(&v);
    memset(&kv, 0, sizeof kv), memset(&v, 0, sizeof v);
    pbw_str(&kv, 1, "b");
    pbw_tag(&v, 2, 0);
    pbw_varint(&v, 1);
    pbw_bytes(&kv, 2, v.p, v.len);
    pbw_bytes(&s, 9, kv.p, kv.len);
    pbw_free(&kv), pbw_free(&v);
    /* arr = [ "x", {k: 7} ] */
    memset(&kv, 0, sizeof kv), memset(&v, 0, sizeof v), memset(&arr, 0, sizeof arr);
    memset(&kvl, 0, sizeof kvl), memset(&inner, 0, sizeof inner);
    pbw_str(&kv, 1, "arr");
    pbw x = {0};
    pbw_str(&x, 1, "x");
    pbw_bytes(&arr, 1, x.p, x.len);
    pbw_free(&x);
    pbw ikv = {0}, iv = {0};
    pbw_str(&ikv, 1, "k");
    pbw_tag(&iv, 3, 0);
    pbw_varint(&iv, 7);
    pbw_bytes(&ikv, 2, iv.p, iv.len);
    pbw_bytes(&kvl, 1, ikv.p, ikv.len);
    pbw_bytes(&inner, 6, kvl.p, kvl.len);
    pbw_bytes(&arr, 1, inner.p, inner.len);
    pbw_bytes(&v, 5, arr.p, arr.len);
    pbw_bytes(&kv, 2, v.p, v.len);
    pbw_bytes(&s, 9, kv.p, kv.len);
    pbw_free(&ikv), pbw_free(&iv), pbw_free(&kvl), pbw_free(&inner), pbw_free(&arr);
    pbw_free(&kv), pbw_free(&v);
    /* raw = bytes 00 ff */
    memset(&kv, 0, sizeof kv), memset(&v, 0, sizeof v);
    pbw_str(&kv, 1, "raw");
    pbw_bytes(&v, 7, "\x00\xff", 2);
    pbw_bytes(&kv, 2, v.p, v.len);
    pbw_bytes(&s, 9, kv.p, kv.len);
    pbw_free(&kv), pbw_free(&v);
    /* Unknown fields of every wire type in the span and in an AnyValue. */
    pbw_tag(&s, 99, 0);
    pbw_varint(&s, 12345);
    pbw_fixed64(&s, 100, 1);
    pbw_bytes(&s, 101, "zz", 2);
    pbw_fixed32(&s, 102, 1);

    pbw req;
    wrap(&s, &req);
    pbw_tag(&req, 77, 2); /* unknown top-level field, empty */
    pbw_varint(&req, 0);
    fw_otlp_request *r;
    char err[256];
    FWT_CHECK_MSG(decode(&req, &r, err, sizeof err) == 0, "decode: %s", err);
    FWT_CHECK_EQ_INT(r->n_spans, 1);
    const fw_otlp_span *sp = &r->resources[0].scopes[0].spans[0];
    FWT_CHECK(memcmp(sp->trace_id, TRACE, 16) == 0);
    FWT_CHECK_EQ_STR(sp->name, "chat gpt-4o-mini");
    FWT_CHECK_EQ_INT(sp->n_attrs, 5);
    FWT_CHECK_EQ_STR(sp->attrs[0].key, "neg");
    FWT_CHECK_EQ_INT(sp->attrs[0].value.type, FW_OTLP_INT);
    FWT_CHECK_EQ_INT(sp->attrs[0].value.u.i, -42);
    FWT_CHECK(sp->attrs[1].value.type == FW_OTLP_DOUBLE && sp->attrs[1].value.u.d == 0.5);
    FWT_CHECK(sp->attrs[2].value.type == FW_OTLP_BOOL && sp->attrs[2].value.u.b == 1);
    const fw_otlp_value *a = &sp->attrs[3].value;
    FWT_CHECK_EQ_INT(a->type, FW_OTLP_ARRAY);
    FWT_CHECK_EQ_INT(a->u.arr.n, 2);
    FWT_CHECK_EQ_STR(a->u.arr.v[0].u.s.p, "x");
    FWT_CHECK_EQ_INT(a->u.arr.v[1].type, FW_OTLP_KVLIST);
    FWT_CHECK_EQ_STR(a->u.arr.v[1].u.kvl.kv[0].key, "k");
    FWT_CHECK_EQ_INT(a->u.arr.v[1].u.kvl.kv[0].value.u.i, 7);
    FWT_CHECK(sp->attrs[4].value.type == FW_OTLP_BYTES && sp->attrs[4].value.u.s.len == 2);
    char *j = fw_otlp_value_json(a);
    FWT_CHECK_EQ_STR(j, "[\"x\",{\"k\":7}]");
    free(j);
    j = fw_otlp_value_json(&sp->attrs[4].value);
    FWT_CHECK_EQ_STR(j, "\"AP8=\"");
    free(j);
    fw_otlp_request_free(r);
    pbw_free(&req);
    pbw_free(&s);
}

/* Every prefix of a valid request that cuts a varint, a length or a fixed
 * field must fail cleanly (and never read past the end: ASan runs). */
static void test_truncations(void)
{
    pbw s = {0}, req;
    span_bytes(&s);
    pbw kv = {0}, v = {0};
    pbw_str(&kv, 1, "gen_ai.usage.input_tokens");
    pbw_tag(&v, 3, 0);
    pbw_varint(&v, 300);
    pbw_bytes(&kv, 2, v.p, v.len);
    pbw_bytes(&s, 9, kv.p, kv.len);
    wrap(&s, &req);
    int failed = 0;
    for (size_t n = 1; n < req.len; n++) {
        fw_otlp_request *r;
        char err[256];
        if (fw_otlp_decode_proto(req.p, n, &r, err, sizeof err) != 0) {
            failed++;
            FWT_CHECK(r == NULL && err[0] != '\0');
        } else {
            fw_otlp_request_free(r);
        }
    }
    FWT_CHECK_EQ_INT(failed, (int)req.len - 1);
    /* A varint of eleven bytes. */
    uint8_t overlong[] = {0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    fw_otlp_request *r;
    char err[256];
    FWT_CHECK(fw_otlp_decode_proto(overlong, sizeof overlong, &r, err, sizeof err) != 0);
    FWT_CHECK(strstr(err, "varint") != NULL);
    /* A length larger than the body. */
    uint8_t big[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
    FWT_CHECK(fw_otlp_decode_proto(big, sizeof big, &r, err, sizeof err) != 0);
    FWT_CHECK(strstr(err, "remain") != NULL);
    pbw_free(&kv), pbw_free(&v), pbw_free(&s), pbw_free(&req);
}

static void test_bad_contents(void)
{
    fw_otlp_request *r;
    char err[256];
    /* A trace id of 15 bytes. */
    pbw s = {0}, req;
    pbw_bytes(&s, 1, TRACE, 15);
    pbw_bytes(&s, 2, SPAN, 8);
    wrap(&s, &req);
    FWT_CHECK(decode(&req, &r, err, sizeof err) != 0);
    FWT_CHECK(strstr(err, "trace_id is 15 bytes") != NULL);
    pbw_free(&s), pbw_free(&req);
    /* A name that is not UTF-8, then one with a NUL. */
    const char *bad[] = {"\xc3\x28", "a\0b"};
    for (int i = 0; i < 2; i++) {
        memset(&s, 0, sizeof s);
        pbw_bytes(&s, 1, TRACE, 16);
        pbw_bytes(&s, 2, SPAN, 8);
        pbw_bytes(&s, 5, bad[i], 2 + (size_t)i);
        wrap(&s, &req);
        FWT_CHECK(decode(&req, &r, err, sizeof err) != 0);
        FWT_CHECK(strstr(err, i == 0 ? "UTF-8" : "NUL") != NULL);
        pbw_free(&s), pbw_free(&req);
    }
    /* Values nested deeper than the limit. */
    pbw v = {0};
    pbw_str(&v, 1, "leaf");
    for (int i = 0; i < FW_OTLP_MAX_DEPTH + 5; i++) {
        pbw arr = {0}, outer = {0};
        pbw_bytes(&arr, 1, v.p, v.len);
        pbw_bytes(&outer, 5, arr.p, arr.len);
        pbw_free(&arr);
        pbw_free(&v);
        v = outer;
    }
    pbw kv = {0};
    memset(&s, 0, sizeof s);
    span_bytes(&s);
    pbw_str(&kv, 1, "deep");
    pbw_bytes(&kv, 2, v.p, v.len);
    pbw_bytes(&s, 9, kv.p, kv.len);
    wrap(&s, &req);
    FWT_CHECK(decode(&req, &r, err, sizeof err) != 0);
    FWT_CHECK(strstr(err, "nested deeper") != NULL);
    pbw_free(&s), pbw_free(&req), pbw_free(&kv), pbw_free(&v);
}

/* An OTLP logs export (ExportLogsServiceRequest) posted as traces: the same
 * field numbers, other wire types. */
static void test_logs_payload(void)
{
    pbw rec = {0}, sl = {0}, rl = {0}, req = {0};
    pbw_fixed64(&rec, 1, 1765000000000000000ull); /* time_unix_nano */
    pbw_tag(&rec, 2, 0);                          /* severity_number */
    pbw_varint(&rec, 9);
    pbw_str(&rec, 3, "INFO");
    pbw_bytes(&sl, 2, rec.p, rec.len);
    pbw_bytes(&rl, 2, sl.p, sl.len);
    pbw_bytes(&req, 1, rl.p, rl.len);
    fw_otlp_request *r;
    char err[256];
    FWT_CHECK(decode(&req, &r, err, sizeof err) != 0);
    FWT_CHECK_MSG(strstr(err, "logs") != NULL, "message: %s", err);
    pbw_free(&rec), pbw_free(&sl), pbw_free(&rl), pbw_free(&req);
    const char *json = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{"
                       "\"stringValue\":\"x\"}}]}]}]}";
    FWT_CHECK(fw_otlp_decode_json(json, strlen(json), &r, err, sizeof err) != 0);
    FWT_CHECK(strstr(err, "resourceLogs") != NULL);
}

static void test_json_quirks(void)
{
    /* Upper-case hex ids, int64 as string and number, doubles as strings,
     * bytes in base64, unknown keys, times as numbers. */
    const char *json =
        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[]},\"whatever\":1,\"scopeSpans\":[{"
        "\"scope\":{\"name\":\"s\"},\"spans\":[{\"traceId\":\"5B8EFBF33C6A4E119D2A401C7E550B01\","
        "\"spanId\":\"A1B2C3D4E5F60718\",\"parentSpanId\":\"\",\"name\":\"n\",\"kind\":3,"
        "\"startTimeUnixNano\":1765000000000000000,\"endTimeUnixNano\":\"1765000001000000000\","
        "\"attributes\":[{\"key\":\"a\",\"value\":{\"intValue\":\"-9223372036854775808\"}},"
        "{\"key\":\"b\",\"value\":{\"intValue\":12}},{\"key\":\"c\",\"value\":{\"doubleValue\":"
        "\"NaN\"}},"
        "{\"key\":\"d\",\"value\":{\"doubleValue\":\"-Infinity\"}},{\"key\":\"e\",\"value\":{"
        "\"bytesValue\":\"AAEC/w==\"}},"
        "{\"key\":\"f\",\"value\":{}},{\"key\":\"g\",\"value\":{\"doubleValue\":3}}],"
        "\"status\":{\"code\":2,\"message\":\"boom\"},\"flags\":257}]}]}]}";
    fw_otlp_request *r;
    char err[256];
    FWT_CHECK_MSG(fw_otlp_decode_json(json, strlen(json), &r, err, sizeof err) == 0, "%s", err);
    const fw_otlp_span *sp = &r->resources[0].scopes[0].spans[0];
    FWT_CHECK(memcmp(sp->trace_id, TRACE, 16) == 0);
    FWT_CHECK(memcmp(sp->span_id, SPAN, 8) == 0);
    FWT_CHECK_EQ_INT(sp->parent_span_id_len, 0);
    FWT_CHECK(sp->start_time_unix_nano == 1765000000000000000ull);
    FWT_CHECK(sp->end_time_unix_nano == 1765000001000000000ull);
    FWT_CHECK(sp->attrs[0].value.u.i == INT64_MIN);
    FWT_CHECK_EQ_INT(sp->attrs[1].value.u.i, 12);
    FWT_CHECK(isnan(sp->attrs[2].value.u.d));
    FWT_CHECK(isinf(sp->attrs[3].value.u.d) && sp->attrs[3].value.u.d < 0);
    FWT_CHECK(sp->attrs[4].value.type == FW_OTLP_BYTES && sp->attrs[4].value.u.s.len == 4 &&
              memcmp(sp->attrs[4].value.u.s.p, "\x00\x01\x02\xff", 4) == 0);
    FWT_CHECK_EQ_INT(sp->attrs[5].value.type, FW_OTLP_EMPTY);
    FWT_CHECK(sp->attrs[6].value.type == FW_OTLP_DOUBLE && sp->attrs[6].value.u.d == 3.0);
    FWT_CHECK_EQ_INT(sp->status_code, 2);
    FWT_CHECK_EQ_STR(sp->status_message, "boom");
    fw_otlp_request_free(r);

    static const char *const bad[] = {
        "[]",
        "{\"resourceSpans\":{}}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"zz\",\"spanId\":"
        "\"a1b2c3d4e5f60718\"}]}]}]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
        "\"5b8efbf33c6a4e119d2a401c7e550b01\"}]}]}]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
        "\"5b8efbf33c6a4e119d2a401c7e550b01\",\"spanId\":\"a1b2c3d4e5f60718\",\"attributes\":{}}]}]"
        "}]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
        "\"5b8efbf33c6a4e119d2a401c7e550b01\",\"spanId\":\"a1b2c3d4e5f60718\","
        "\"startTimeUnixNano\":\"12x\"}]}]}]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
        "\"5b8efbf33c6a4e119d2a401c7e550b01\",\"spanId\":\"a1b2c3d4e5f60718\",\"attributes\":[{"
        "\"key\":\"k\",\"value\":{\"stringValue\":\"a\\u0000b\"}}]}]}]}]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
        "\"5b8efbf33c6a4e119d2a401c7e550b01\",\"spanId\":\"a1b2c3d4e5f60718\",\"attributes\":[{"
        "\"key\":\"k\",\"value\":{\"intValue\":\"9223372036854775808\"}}]}]}]}]}",
        "{\"resourceSpans\":[",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FWT_CHECK_MSG(fw_otlp_decode_json(bad[i], strlen(bad[i]), &r, err, sizeof err) != 0,
                      "bad JSON %zu was accepted", i);
        FWT_CHECK(r == NULL && err[0] != '\0');
    }
}

int main(void)
{
    test_empty();
    test_attribute_shapes();
    test_truncations();
    test_bad_contents();
    test_logs_payload();
    test_json_quirks();
    return 0;
}
