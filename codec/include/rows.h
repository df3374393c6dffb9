/*
 * Row encoding: one validated flywheel.v1.Event into one line of COPY text
 * for flywheel.generations or flywheel.feedback, and one Kafka message into
 * a line for flywheel.dead_letters.
 *
 * The column lists below are the contract with pg_sink.c (which names them
 * in COPY and INSERT ... SELECT) and with migrations/V0001__create_store.sql
 * (whose comments define each mapping): ids as uuid, trace and span ids as
 * lower-case hex, messages as OpenTelemetry gen_ai message JSON, durations
 * in milliseconds, empty optional strings as NULL, a generation's id_time
 * from its event id (V0038: the row's partition follows from the id alone).
 * received_at is left to its default.
 *
 * Every function appends exactly one '\n'-terminated line to `b`, or sets
 * b->oom. They never fail otherwise: the event was validated by decode.c.
 */
#ifndef FW_ROWS_H
#define FW_ROWS_H

#include "flywheel/v1/flywheel.pb-c.h"
#include "fw_buf.h"

#include <stdint.h>

#define FW_GEN_COLUMNS                                                                             \
    "event_id, event_time, project, environment, release, sdk_name, sdk_version, "                 \
    "schema_version, attributes, tags, trace_id, span_id, parent_span_id, conversation_id, "       \
    "session_id, user_id, operation_name, provider_name, request_model, response_model, "          \
    "response_id, request_params, input_messages, output_messages, system_instructions, "          \
    "tool_definitions, finish_reasons, input_tokens, output_tokens, cache_read_input_tokens, "     \
    "cache_creation_input_tokens, reasoning_output_tokens, cost_micro_usd, start_time, end_time, " \
    "duration_ms, ttft_ms, status, error_type, error_message, prompt_template, prompt_version, "   \
    "prompt_variables, truncated, source_topic, source_partition, source_offset, id_time"

#define FW_FB_COLUMNS                                                                              \
    "event_id, event_time, project, environment, release, sdk_name, sdk_version, "                 \
    "schema_version, attributes, tags, target_event_id, target_response_id, target_trace_id, "     \
    "target_span_id, name, value_type, bool_value, number_value, category_value, comment, "        \
    "correction, source, "                                                                         \
    "author_id, source_topic, source_partition, source_offset"

#define FW_DL_COLUMNS                                                                              \
    "consumer_group, topic, partition, \"offset\", message_key, payload, message_time, reason, "   \
    "detail, event_id"

/* Where a row came from. */
typedef struct {
    const char *topic;
    int32_t partition;
    int64_t offset;
} fw_origin;

void fw_row_generation(fw_buf *b, const Flywheel__V1__Event *ev, const fw_origin *o);
void fw_row_feedback(fw_buf *b, const Flywheel__V1__Event *ev, const fw_origin *o);

/*
 * A dead letter. `reason` is the stable code (with ":SQLSTATE" for data
 * errors); `key` may be NULL; `message_time_ms` < 0 means unknown;
 * `event_id` may be NULL. `detail` must not contain message content.
 */
void fw_row_dead_letter(fw_buf *b, const char *group, const fw_origin *o, const void *key,
                        size_t keylen, const void *payload, size_t len, int64_t message_time_ms,
                        const char *reason, const char *detail, const uint8_t *event_id);

/* The messages JSON (gen_ai message shape) of n messages, COPY-escaped. */
void fw_row_messages_json(fw_buf *b, Flywheel__V1__Message *const *m, size_t n);

#endif
