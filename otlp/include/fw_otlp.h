/*
 * fw_otlp: OTLP trace requests (ExportTraceServiceRequest) in, flywheel.v1
 * generation events out.
 *
 * Two decoders, one model, one mapping:
 *
 *   bytes (application/x-protobuf) --fw_otlp_decode_proto--+
 *                                                          +--> fw_otlp_request --fw_otlp_map-->
 * Event, Event, ... text  (application/json)       --fw_otlp_decode_json---+
 *
 * The protobuf decoder is hand-written: it reads the ten messages of a trace
 * export, checks every length against the bytes left, checks the wire type of
 * every known field (a logs or metrics export shares field numbers with a
 * trace export and is caught here), skips unknown fields, and limits nesting.
 * The JSON decoder reads the OTLP/JSON mapping (hex ids in any case, int64 as
 * a string or a number, doubles as numbers or "NaN"/"Infinity", bytes in
 * base64, unknown keys ignored). Both give the same fw_otlp_request, so both
 * encodings give byte-identical events.
 *
 * Strings in the model are NUL-terminated UTF-8 without embedded NUL: a
 * string that is not valid UTF-8 or holds a NUL byte makes the request
 * undecodable (PostgreSQL text can hold neither).
 *
 * The mapping (fw_otlp_map) turns each LLM span into one flywheel.v1 Event
 * with a Generation body, following one documented precedence between the
 * OpenTelemetry GenAI conventions (current and deprecated), OpenLLMetry's
 * indexed attributes and OpenInference's attributes (schema/README.md has the
 * table). The event id is derived from (trace id, span id) and the span's
 * start time (fw_otlp_event_id), so a span sent twice is one row.
 *
 * Thread-safety: no global state; a request and its events belong to the
 * caller's thread. Nothing here blocks, prints or exits.
 */
#ifndef FW_OTLP_H
#define FW_OTLP_H

#include "flywheel/v1/flywheel.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/* Deepest AnyValue nesting (arrays and kvlists inside each other) accepted;
 * deeper is an undecodable request. */
#define FW_OTLP_MAX_DEPTH 32

typedef enum {
    FW_OTLP_EMPTY = 0, /* an AnyValue with no value set */
    FW_OTLP_STRING,
    FW_OTLP_BOOL,
    FW_OTLP_INT,
    FW_OTLP_DOUBLE,
    FW_OTLP_ARRAY,
    FW_OTLP_KVLIST,
    FW_OTLP_BYTES
} fw_otlp_vtype;

typedef struct fw_otlp_value fw_otlp_value;
typedef struct fw_otlp_kv fw_otlp_kv;

struct fw_otlp_value {
    fw_otlp_vtype type;
    union {
        struct {
            const char *p; /* STRING: NUL-terminated; BYTES: raw */
            size_t len;
        } s;
        int b;
        int64_t i;
        double d;
        struct {
            fw_otlp_value *v;
            size_t n;
        } arr;
        struct {
            fw_otlp_kv *kv;
            size_t n;
        } kvl;
    } u;
};

struct fw_otlp_kv {
    const char *key; /* NUL-terminated */
    fw_otlp_value value;
};

typedef struct {
    uint64_t time_unix_nano;
    const char *name;
    fw_otlp_kv *attrs;
    size_t n_attrs;
} fw_otlp_event;

typedef struct {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t parent_span_id[8];
    size_t trace_id_len, span_id_len, parent_span_id_len; /* as received */
    const char *name;
    int kind;
    uint64_t start_time_unix_nano, end_time_unix_nano;
    fw_otlp_kv *attrs;
    size_t n_attrs;
    fw_otlp_event *events;
    size_t n_events;
    int status_code; /* 0 unset, 1 ok, 2 error */
    const char *status_message;
} fw_otlp_span;

typedef struct {
    const char *name, *version;
    fw_otlp_kv *attrs;
    size_t n_attrs;
    fw_otlp_span *spans;
    size_t n_spans;
} fw_otlp_scope;

typedef struct {
    fw_otlp_kv *attrs;
    size_t n_attrs;
    fw_otlp_scope *scopes;
    size_t n_scopes;
} fw_otlp_resource;

typedef struct fw_otlp_arena fw_otlp_arena;

/* A decoded export request. Everything lives in its arena. */
typedef struct {
    fw_otlp_resource *resources;
    size_t n_resources;
    size_t n_spans; /* over all resources and scopes */
    fw_otlp_arena *arena;
} fw_otlp_request;

/*
 * Decodes an ExportTraceServiceRequest. Returns 0 and sets *out (free with
 * fw_otlp_request_free), or -1 with a message in err (and *out NULL): the
 * body is malformed, not a trace export, or out of memory (the message says
 * which). Zero bytes are a valid empty request.
 */
int fw_otlp_decode_proto(const uint8_t *data, size_t len, fw_otlp_request **out, char *err,
                         size_t errsize);

/* The same for the OTLP/JSON encoding. */
int fw_otlp_decode_json(const char *data, size_t len, fw_otlp_request **out, char *err,
                        size_t errsize);

void fw_otlp_request_free(fw_otlp_request *r);

/*
 * The event id of a span: UUIDv7-shaped, 48-bit Unix milliseconds of
 * `time_unix_nano` (the span's start time), version 7, variant 10, and 74
 * bits of SHA-256("flywheel.otlp.v1" || trace id || span id). A span re-sent
 * with another end time keeps its id and its time partition.
 */
void fw_otlp_event_id(const uint8_t trace_id[16], const uint8_t span_id[8], uint64_t time_unix_nano,
                      uint8_t out[16]);

typedef struct {
    const char *project;         /* Event.project; "" when NULL */
    size_t max_attribute_bytes;  /* one unmapped value is cut there; 0 = 4096 */
    size_t max_attributes_bytes; /* all unmapped keys and values of a span; 0 = 32768 */
} fw_otlp_map_opts;

typedef struct {
    uint64_t spans;        /* spans seen */
    uint64_t generations;  /* events emitted */
    uint64_t skipped;      /* not LLM calls */
    uint64_t rejected;     /* LLM spans that could not be mapped (bad ids, no time) */
    char first_error[200]; /* why the first rejected span was rejected */
} fw_otlp_map_stats;

/*
 * Called once per mapped span with its event, valid only during the call.
 * Its strings may point into the request and be shared between events: the
 * callback must not write through them, but may replace a pointer with
 * memory of its own (redaction does) that it frees after packing. A
 * non-zero return stops the mapping, and fw_otlp_map returns that value.
 */
typedef int fw_otlp_emit_fn(void *opaque, Flywheel__V1__Event *ev, const fw_otlp_span *span);

/*
 * Maps every span of `req`, in order, calling `emit` for each LLM span.
 * Statistics are added to *st (zero it first). Returns 0, the callback's
 * non-zero value, or -1 when out of memory (st->first_error says so).
 */
int fw_otlp_map(const fw_otlp_request *req, const fw_otlp_map_opts *opts, fw_otlp_emit_fn *emit,
                void *opaque, fw_otlp_map_stats *st);

/* Is this an LLM span (a generation)? Exposed for tests and metrics. */
int fw_otlp_is_llm_span(const fw_otlp_span *span);

/* Serializes an AnyValue as JSON (kvlist as an object, bytes as base64,
 * non-finite doubles as strings). Returns a malloc'd string or NULL. */
char *fw_otlp_value_json(const fw_otlp_value *v);

#endif
