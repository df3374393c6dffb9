/*
 * Row encoding; see rows.h for the mapping rules. Each field is appended in
 * column order followed by a tab (the last by a newline), straight into the
 * COPY buffer: no intermediate strings, no allocation besides the buffer.
 */
#include "rows.h"

#include "copyenc.h"
#include "decode.h"

#include <string.h>

#define TAB(b)       fw_buf_addc(b, '\t')
#define NUL_FIELD(b) fw_buf_add(b, "\\N", 2)

static void text_or_null(fw_buf *b, const char *s)
{
    if (!s || !*s)
        NUL_FIELD(b);
    else
        fw_copy_text(b, s, strlen(s));
}

static void text(fw_buf *b, const char *s)
{
    fw_copy_text(b, s, strlen(s));
}

static void hex_or_null(fw_buf *b, const ProtobufCBinaryData *d)
{
    if (d->len == 0)
        NUL_FIELD(b);
    else
        fw_put_hex(b, d->data, d->len);
}

static void text_array(fw_buf *b, char *const *v, size_t n)
{
    fw_buf_addc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            fw_buf_addc(b, ',');
        fw_copy_array_elem(b, v[i], strlen(v[i]));
    }
    fw_buf_addc(b, '}');
}

static void json_str(fw_buf *b, const char *s)
{
    fw_copy_json_string(b, s, strlen(s));
}

/* A JSON value: embedded as is when it is valid JSON, else as a string. */
static void json_value_or_string(fw_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (fw_json_valid(s, n))
        fw_copy_json_raw(b, s, n);
    else
        fw_copy_json_string(b, s, n);
}

static void i64_or_null(fw_buf *b, int present, int64_t v)
{
    if (present)
        fw_put_i64(b, v);
    else
        NUL_FIELD(b);
}

static void ts_or_null(fw_buf *b, uint64_t ns)
{
    if (ns)
        fw_put_timestamp_ns(b, ns);
    else
        NUL_FIELD(b);
}

/* {"k": "v", ...} from a protobuf map<string, string>. */
typedef struct {
    ProtobufCMessage base;
    char *key;
    char *value;
} map_entry;

static void map_json(fw_buf *b, void *const *entries, size_t n)
{
    fw_buf_addc(b, '{');
    for (size_t i = 0; i < n; i++) {
        const map_entry *e = entries[i];
        if (i)
            fw_buf_addc(b, ',');
        json_str(b, e->key);
        fw_buf_addc(b, ':');
        json_str(b, e->value);
    }
    fw_buf_addc(b, '}');
}

static const char *role_name(Flywheel__V1__Role r)
{
    switch (r) {
    case FLYWHEEL__V1__ROLE__ROLE_SYSTEM:
        return "system";
    case FLYWHEEL__V1__ROLE__ROLE_USER:
        return "user";
    case FLYWHEEL__V1__ROLE__ROLE_ASSISTANT:
        return "assistant";
    case FLYWHEEL__V1__ROLE__ROLE_TOOL:
        return "tool";
    case FLYWHEEL__V1__ROLE__ROLE_DEVELOPER:
        return "developer";
    default:
        return "unspecified";
    }
}

void fw_row_messages_json(fw_buf *b, Flywheel__V1__Message *const *m, size_t n)
{
    fw_buf_addc(b, '[');
    for (size_t i = 0; i < n; i++) {
        const Flywheel__V1__Message *msg = m[i];
        if (i)
            fw_buf_addc(b, ',');
        fw_buf_adds(b, "{\"role\":\"");
        fw_buf_adds(b, role_name(msg->role));
        fw_buf_addc(b, '"');
        if (msg->name[0]) {
            fw_buf_adds(b, ",\"name\":");
            json_str(b, msg->name);
        }
        fw_buf_adds(b, ",\"parts\":[");
        int first = 1;
        for (size_t k = 0; k < msg->n_parts; k++) {
            const Flywheel__V1__Part *p = msg->parts[k];
            if (p->content_case == FLYWHEEL__V1__PART__CONTENT__NOT_SET)
                continue;
            if (!first)
                fw_buf_addc(b, ',');
            first = 0;
            switch (p->content_case) {
            case FLYWHEEL__V1__PART__CONTENT_TEXT:
                fw_buf_adds(b, "{\"type\":\"text\",\"content\":");
                json_str(b, p->text);
                break;
            case FLYWHEEL__V1__PART__CONTENT_REASONING:
                fw_buf_adds(b, "{\"type\":\"reasoning\",\"content\":");
                json_str(b, p->reasoning);
                break;
            case FLYWHEEL__V1__PART__CONTENT_TOOL_CALL:
                fw_buf_adds(b, "{\"type\":\"tool_call\",\"id\":");
                json_str(b, p->tool_call->id);
                fw_buf_adds(b, ",\"name\":");
                json_str(b, p->tool_call->name);
                fw_buf_adds(b, ",\"arguments\":");
                json_value_or_string(b, p->tool_call->arguments_json);
                break;
            case FLYWHEEL__V1__PART__CONTENT_TOOL_CALL_RESPONSE:
                fw_buf_adds(b, "{\"type\":\"tool_call_response\",\"id\":");
                json_str(b, p->tool_call_response->id);
                fw_buf_adds(b, ",\"response\":");
                json_value_or_string(b, p->tool_call_response->content);
                break;
            default:
                break;
            }
            fw_buf_addc(b, '}');
        }
        fw_buf_addc(b, ']');
        if (msg->finish_reason[0]) {
            fw_buf_adds(b, ",\"finish_reason\":");
            json_str(b, msg->finish_reason);
        }
        fw_buf_addc(b, '}');
    }
    fw_buf_addc(b, ']');
}

static void request_params(fw_buf *b, const Flywheel__V1__RequestParams *r)
{
    fw_buf_addc(b, '{');
    int first = 1;
#define KEY(name)                                                                                  \
    do {                                                                                           \
        if (!first)                                                                                \
            fw_buf_addc(b, ',');                                                                   \
        first = 0;                                                                                 \
        fw_buf_adds(b, "\"" name "\":");                                                           \
    } while (0)
    if (r) {
        if (r->_temperature_case) {
            KEY("temperature");
            fw_put_double(b, r->temperature);
        }
        if (r->_top_p_case) {
            KEY("top_p");
            fw_put_double(b, r->top_p);
        }
        if (r->_top_k_case) {
            KEY("top_k");
            fw_put_i64(b, r->top_k);
        }
        if (r->_max_tokens_case) {
            KEY("max_tokens");
            fw_put_i64(b, r->max_tokens);
        }
        if (r->_seed_case) {
            KEY("seed");
            fw_put_i64(b, r->seed);
        }
        if (r->n_stop_sequences) {
            KEY("stop_sequences");
            fw_buf_addc(b, '[');
            for (size_t i = 0; i < r->n_stop_sequences; i++) {
                if (i)
                    fw_buf_addc(b, ',');
                json_str(b, r->stop_sequences[i]);
            }
            fw_buf_addc(b, ']');
        }
        if (r->_frequency_penalty_case) {
            KEY("frequency_penalty");
            fw_put_double(b, r->frequency_penalty);
        }
        if (r->_presence_penalty_case) {
            KEY("presence_penalty");
            fw_put_double(b, r->presence_penalty);
        }
        if (r->_stream_case) {
            KEY("stream");
            fw_buf_adds(b, r->stream ? "true" : "false");
        }
        if (r->_choice_count_case) {
            KEY("choice_count");
            fw_put_i64(b, r->choice_count);
        }
        if (r->extra_json[0]) {
            size_t n = strlen(r->extra_json);
            KEY("extra");
            if (fw_json_valid_object(r->extra_json, n))
                fw_copy_json_raw(b, r->extra_json, n);
            else
                fw_copy_json_string(b, r->extra_json, n);
        }
    }
#undef KEY
    fw_buf_addc(b, '}');
}

static void envelope(fw_buf *b, const Flywheel__V1__Event *ev)
{
    fw_put_uuid(b, ev->event_id.data);
    TAB(b);
    fw_put_timestamp_ns(b, ev->time_unix_nano);
    TAB(b);
    text(b, ev->project);
    TAB(b);
    text(b, ev->environment);
    TAB(b);
    text(b, ev->release);
    TAB(b);
    text(b, ev->sdk_name);
    TAB(b);
    text(b, ev->sdk_version);
    TAB(b);
    fw_put_i64(b, ev->schema_version);
    TAB(b);
    map_json(b, (void *const *)ev->attributes, ev->n_attributes);
    TAB(b);
    text_array(b, ev->tags, ev->n_tags);
    TAB(b);
}

/* The origin columns; the caller ends the line. */
static void origin(fw_buf *b, const fw_origin *o)
{
    text(b, o->topic);
    TAB(b);
    fw_put_i64(b, o->partition);
    TAB(b);
    fw_put_i64(b, o->offset);
}

static void put_ms(fw_buf *b, int64_t ns)
{
    fw_put_double(b, (double)ns / 1e6);
}

void fw_row_generation(fw_buf *b, const Flywheel__V1__Event *ev, const fw_origin *o)
{
    const Flywheel__V1__Generation *g = ev->generation;
    envelope(b, ev);
    hex_or_null(b, &g->trace_id);
    TAB(b);
    hex_or_null(b, &g->span_id);
    TAB(b);
    hex_or_null(b, &g->parent_span_id);
    TAB(b);
    text_or_null(b, g->conversation_id);
    TAB(b);
    text_or_null(b, g->session_id);
    TAB(b);
    text_or_null(b, g->user_id);
    TAB(b);
    text(b, g->operation_name);
    TAB(b);
    text(b, g->provider_name);
    TAB(b);
    text(b, g->request_model);
    TAB(b);
    text(b, g->response_model);
    TAB(b);
    text_or_null(b, g->response_id);
    TAB(b);
    request_params(b, g->request);
    TAB(b);
    fw_row_messages_json(b, g->input_messages, g->n_input_messages);
    TAB(b);
    fw_row_messages_json(b, g->output_messages, g->n_output_messages);
    TAB(b);
    text_or_null(b, g->system_instructions);
    TAB(b);
    if (g->tool_definitions_json[0])
        json_value_or_string(b, g->tool_definitions_json);
    else
        NUL_FIELD(b);
    TAB(b);
    text_array(b, g->finish_reasons, g->n_finish_reasons);
    TAB(b);
    const Flywheel__V1__Usage *u = g->usage;
    i64_or_null(b, u && u->_input_tokens_case, u ? u->input_tokens : 0);
    TAB(b);
    i64_or_null(b, u && u->_output_tokens_case, u ? u->output_tokens : 0);
    TAB(b);
    i64_or_null(b, u && u->_cache_read_input_tokens_case, u ? u->cache_read_input_tokens : 0);
    TAB(b);
    i64_or_null(b, u && u->_cache_creation_input_tokens_case,
                u ? u->cache_creation_input_tokens : 0);
    TAB(b);
    i64_or_null(b, u && u->_reasoning_output_tokens_case, u ? u->reasoning_output_tokens : 0);
    TAB(b);
    fw_put_i64(b, g->cost_micro_usd);
    TAB(b);
    ts_or_null(b, g->start_time_unix_nano);
    TAB(b);
    ts_or_null(b, g->end_time_unix_nano);
    TAB(b);
    if (g->start_time_unix_nano && g->end_time_unix_nano)
        put_ms(b, (int64_t)(g->end_time_unix_nano - g->start_time_unix_nano));
    else
        NUL_FIELD(b);
    TAB(b);
    if (g->_time_to_first_token_nanos_case)
        put_ms(b, g->time_to_first_token_nanos);
    else
        NUL_FIELD(b);
    TAB(b);
    fw_buf_adds(b, g->status == FLYWHEEL__V1__STATUS__STATUS_OK      ? "ok"
                   : g->status == FLYWHEEL__V1__STATUS__STATUS_ERROR ? "error"
                                                                     : "unset");
    TAB(b);
    text_or_null(b, g->error_type);
    TAB(b);
    text_or_null(b, g->error_message);
    TAB(b);
    const Flywheel__V1__PromptTemplate *pt = g->prompt;
    text_or_null(b, pt ? pt->name : NULL);
    TAB(b);
    text_or_null(b, pt ? pt->version : NULL);
    TAB(b);
    if (pt && pt->n_variables)
        map_json(b, (void *const *)pt->variables, pt->n_variables);
    else
        NUL_FIELD(b);
    TAB(b);
    const Flywheel__V1__Truncation *t = g->truncation;
    char *names[5];
    size_t nn = 0;
    if (t) {
        if (t->input_messages)
            names[nn++] = "input_messages";
        if (t->output_messages)
            names[nn++] = "output_messages";
        if (t->tool_definitions)
            names[nn++] = "tool_definitions";
        if (t->system_instructions)
            names[nn++] = "system_instructions";
        if (t->prompt_variables)
            names[nn++] = "prompt_variables";
    }
    text_array(b, names, nn);
    TAB(b);
    origin(b, o);
    TAB(b);
    /* id_time: the place of the row, from the id alone. decode.c refused
     * every generation whose id carries no time, so this always holds. */
    uint64_t ms = 0;
    (void)fw_event_id_time_ms(ev->event_id.data, &ms);
    fw_put_timestamp_ms(b, ms);
    fw_buf_addc(b, '\n');
}

static const char *source_name(Flywheel__V1__FeedbackSource s)
{
    switch (s) {
    case FLYWHEEL__V1__FEEDBACK_SOURCE__FEEDBACK_SOURCE_END_USER:
        return "end_user";
    case FLYWHEEL__V1__FEEDBACK_SOURCE__FEEDBACK_SOURCE_AUTOMATED:
        return "automated";
    case FLYWHEEL__V1__FEEDBACK_SOURCE__FEEDBACK_SOURCE_MODEL_JUDGE:
        return "model_judge";
    case FLYWHEEL__V1__FEEDBACK_SOURCE__FEEDBACK_SOURCE_REVIEWER:
        return "reviewer";
    default:
        return "unspecified";
    }
}

void fw_row_feedback(fw_buf *b, const Flywheel__V1__Event *ev, const fw_origin *o)
{
    const Flywheel__V1__Feedback *f = ev->feedback;
    envelope(b, ev);
    if (f->target_event_id.len == 16)
        fw_put_uuid(b, f->target_event_id.data);
    else
        NUL_FIELD(b);
    TAB(b);
    text_or_null(b, f->target_response_id);
    TAB(b);
    hex_or_null(b, &f->target_trace_id);
    TAB(b);
    hex_or_null(b, &f->target_span_id);
    TAB(b);
    text(b, f->name);
    TAB(b);
    switch (f->value_case) {
    case FLYWHEEL__V1__FEEDBACK__VALUE_BOOL_VALUE:
        fw_buf_adds(b, "bool\t");
        fw_buf_adds(b, f->bool_value ? "t" : "f");
        fw_buf_adds(b, "\t\\N\t\\N");
        break;
    case FLYWHEEL__V1__FEEDBACK__VALUE_NUMBER_VALUE:
        fw_buf_adds(b, "number\t\\N\t");
        fw_put_double(b, f->number_value);
        fw_buf_adds(b, "\t\\N");
        break;
    case FLYWHEEL__V1__FEEDBACK__VALUE_CATEGORY_VALUE:
        fw_buf_adds(b, "category\t\\N\t\\N\t");
        text(b, f->category_value);
        break;
    default:
        fw_buf_adds(b, "none\t\\N\t\\N\t\\N");
        break;
    }
    TAB(b);
    text_or_null(b, f->comment);
    TAB(b);
    if (f->n_correction)
        fw_row_messages_json(b, f->correction, f->n_correction);
    else
        NUL_FIELD(b);
    TAB(b);
    fw_buf_adds(b, source_name(f->source));
    TAB(b);
    text_or_null(b, f->author_id);
    TAB(b);
    origin(b, o);
    fw_buf_addc(b, '\n');
}

void fw_row_dead_letter(fw_buf *b, const char *group, const fw_origin *o, const void *key,
                        size_t keylen, const void *payload, size_t len, int64_t message_time_ms,
                        const char *reason, const char *detail, const uint8_t *event_id)
{
    text(b, group);
    TAB(b);
    text(b, o->topic);
    TAB(b);
    fw_put_i64(b, o->partition);
    TAB(b);
    fw_put_i64(b, o->offset);
    TAB(b);
    if (key)
        fw_copy_bytea(b, key, keylen);
    else
        NUL_FIELD(b);
    TAB(b);
    fw_copy_bytea(b, payload, len);
    TAB(b);
    if (message_time_ms >= 0)
        fw_put_timestamp_ns(b, (uint64_t)message_time_ms * 1000000u);
    else
        NUL_FIELD(b);
    TAB(b);
    text(b, reason);
    TAB(b);
    text(b, detail);
    TAB(b);
    if (event_id)
        fw_put_uuid(b, event_id);
    else
        NUL_FIELD(b);
    fw_buf_addc(b, '\n');
}
