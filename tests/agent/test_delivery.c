/*
 * Against the dev broker: generations and feedback recorded through the
 * agent arrive on the topic once each, decodable, with their fields, keyed
 * by conversation id; the secrets in their text never appear in the bytes
 * on the topic (redacted before leaving the process); and the ledger holds
 * exactly: recorded = delivered + dropped + sampled out + spooled.
 */
#include "agent_test.h"

#define N 500

static at_idset ids;
static int leaks, checked_full, feedback_seen;
static const char *const secrets[] = {"jane.doe@example.com", "4111 1111 1111 1111",
                                      "sk-proj-SECRETSECRETSECRET0123456789", "10.1.2.3",
                                      "+1 415 555 2671"};
static unsigned char full_id[16];

static int on_msg(void *o, const rd_kafka_message_t *m, Flywheel__V1__Event *ev)
{
    (void)o;
    int *cnt = at_idset_find(&ids, ev->event_id.data);
    FWT_CHECK_MSG(cnt != NULL, "unknown event id on the topic");
    (*cnt)++;
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (memmem(m->payload, m->len, secrets[i], strlen(secrets[i])))
            leaks++;
    FWT_CHECK_EQ_STR(ev->project, "delivery-test");
    FWT_CHECK_EQ_INT(ev->schema_version, 1);
    if (ev->body_case == FLYWHEEL__V1__EVENT__BODY_FEEDBACK) {
        FWT_CHECK(!memcmp(ev->feedback->target_event_id.data, full_id, 16));
        FWT_CHECK_EQ_STR(ev->feedback->name, "thumbs");
        feedback_seen++;
        return 0;
    }
    Flywheel__V1__Generation *g = ev->generation;
    FWT_CHECK(m->key_len == strlen(g->conversation_id) &&
              !memcmp(m->key, g->conversation_id, m->key_len));
    if (!memcmp(ev->event_id.data, full_id, 16)) {
        FWT_CHECK_EQ_STR(g->request_model, "gpt-4o");
        FWT_CHECK_EQ_INT(g->n_input_messages, 2);
        FWT_CHECK_EQ_STR(g->input_messages[1]->parts[0]->text,
                         "mail [EMAIL], card [CARD], key [SECRET], host [IP], call [PHONE]");
        FWT_CHECK_EQ_STR(g->output_messages[0]->parts[0]->tool_call->name, "lookup");
        FWT_CHECK(g->usage && g->usage->input_tokens == 42);
        FWT_CHECK(g->cost_micro_usd == 99);
        checked_full = 1;
    }
    return 0;
}

int main(void)
{
    char topic[128];
    fwt_unique_name("agent_delivery", topic, sizeof topic);
    fw_conf_t *c = fw_conf_new();
    at_set(c, "kafka.bootstrap.servers", fwt_kafka_bootstrap());
    at_set(c, "topic", topic);
    at_set(c, "project", "delivery-test");
    fw_agent_t *a = at_agent(c);
    at_idset_init(&ids, N + 2);

    fw_event_id_t id;
    for (int i = 0; i < N; i++) {
        FWT_CHECK_EQ_INT(at_record_chat(a, i, &id), FW_OK);
        *at_idset_slot(&ids, id.bytes) = 0;
    }
    fw_gen_t *g = fw_gen_new(a);
    fw_gen_set_str(g, FW_GEN_CONVERSATION_ID, "conv-full");
    fw_gen_set_str(g, FW_GEN_REQUEST_MODEL, "gpt-4o");
    fw_gen_add_message(g, FW_INPUT, FW_ROLE_SYSTEM, NULL);
    fw_gen_msg_add_text(g, "system");
    fw_gen_add_message(g, FW_INPUT, FW_ROLE_USER, NULL);
    char text[256];
    snprintf(text, sizeof text, "mail %s, card %s, key %s, host %s, call %s", secrets[0],
             secrets[1], secrets[2], secrets[3], secrets[4]);
    fw_gen_msg_add_text(g, text);
    fw_gen_add_message(g, FW_OUTPUT, FW_ROLE_ASSISTANT, NULL);
    fw_gen_msg_add_tool_call(g, "c1", "lookup", "{\"email\":\"jane.doe@example.com\"}");
    fw_gen_set_int(g, FW_GEN_USAGE_INPUT_TOKENS, 42);
    fw_gen_set_int(g, FW_GEN_COST_MICRO_USD, 99);
    FWT_CHECK_EQ_INT(fw_gen_record(g, &id), FW_OK);
    memcpy(full_id, id.bytes, 16);
    *at_idset_slot(&ids, id.bytes) = 0;
    fw_feedback_t *f = fw_feedback_new(a);
    fw_feedback_set_target_event(f, full_id);
    fw_feedback_set_str(f, FW_FEEDBACK_NAME, "thumbs");
    fw_feedback_set_bool(f, 1);
    FWT_CHECK_EQ_INT(fw_feedback_record(f, &id), FW_OK);
    *at_idset_slot(&ids, id.bytes) = 0;

    FWT_CHECK_EQ_INT(fw_agent_flush(a, 30000), FW_OK);
    uint64_t rec = fw_agent_stat(a, FW_STAT_RECORDED), del = fw_agent_stat(a, FW_STAT_DELIVERED);
    FWT_CHECK_EQ_INT(rec, N + 2);
    FWT_CHECK_EQ_INT(del, N + 2);
    FWT_CHECK_EQ_INT(rec,
                     del + fw_agent_stat(a, FW_STAT_DROPPED) +
                         fw_agent_stat(a, FW_STAT_SAMPLED_OUT) + fw_agent_stat(a, FW_STAT_SPOOLED) +
                         fw_agent_stat(a, FW_STAT_IN_QUEUE) + fw_agent_stat(a, FW_STAT_IN_FLIGHT));
    FWT_CHECK(fw_agent_stat(a, FW_STAT_REDACTIONS) >= 6);
    FWT_CHECK(fw_agent_stat(a, FW_STAT_DELIVERED_BYTES) > 0);
    fw_agent_destroy(a);

    int got = at_consume(fwt_kafka_bootstrap(), topic, N + 2, 60000, 1000, on_msg, NULL);
    FWT_CHECK_EQ_INT(got, N + 2);
    for (size_t i = 0; i < ids.cap; i++)
        FWT_CHECK(ids.count[i] <= 1);
    FWT_CHECK(checked_full);
    FWT_CHECK_EQ_INT(feedback_seen, 1);
    FWT_CHECK_EQ_INT(leaks, 0);
    return 0;
}
