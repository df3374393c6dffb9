/*
 * The gateway's property table and its typed view, in the same shape as the
 * collector's (collector/src/config.c): adding a key means one row in
 * `props` and, if the code needs it typed, one line in fwg_config_finish;
 * --help, --print-config and the reference follow (the engine is
 * common/config's).
 */
#include "gw_config.h"

#include "redact.h"

#include <stdio.h>
#include <string.h>

#ifndef FW_VERSION_STR
#define FW_VERSION_STR "unknown"
#endif

static const fw_prop props[] = {
    {"kafka.bootstrap.servers", FW_PROP_STRING, "", 0, 0, NULL, 0, 1,
     "Kafka brokers to bootstrap from, `host:port[,host:port...]`."},
    {"topic", FW_PROP_STRING, "flywheel.events", 0, 0, NULL, 0, 0,
     "Topic the converted events are produced to (the one the collector reads)."},
    {"listen", FW_PROP_STRING, "127.0.0.1:4318", 0, 0, NULL, 0, 0,
     "Address of the HTTP server, `host:port` (port 0: any free port, logged at start). It "
     "serves `POST /v1/traces`, `POST /v1/feedback`, `/metrics`, `/healthz` and `/readyz`."},
    {"auth", FW_PROP_ENUM, "keys", 0, 0, "keys|none", 0, 0,
     "`keys`: every request needs `Authorization: Bearer <project key>` (or `x-fw-api-key`), "
     "checked against `flywheel.project_keys`; an unknown or revoked key is 401. `none`: no "
     "check, every event goes to `project` (development only)."},
    {"project", FW_PROP_STRING, "default", 0, 0, NULL, 0, 0,
     "Project of every event when `auth` is `none`."},
    {"pg.dsn", FW_PROP_STRING, "", 0, 0, NULL, 1, 0,
     "libpq connection string or URI for reading project keys, as a role that can read "
     "nothing else (`flywheel_gateway`). Empty: libpq's PG* environment variables decide. "
     "Passwords are masked in `--print-config`."},
    {"keys.cache_s", FW_PROP_INT, "30", 0, 3600, NULL, 0, 0,
     "How long a key's lookup (found or not) is remembered; a revoked key stops working "
     "within this time (0: look every key up on every request)."},
    {"limits.max_body_bytes", FW_PROP_INT, "16777216", 1024, INT64_C(1) << 32, NULL, 0, 0,
     "Largest request body as received (compressed or not); larger is 413."},
    {"limits.max_inflated_bytes", FW_PROP_INT, "67108864", 1024, INT64_C(1) << 32, NULL, 0, 0,
     "Largest request body after gzip inflation; larger is 413 (a gzip bomb stops here)."},
    {"limits.max_connections", FW_PROP_INT, "256", 1, 65536, NULL, 0, 0,
     "Concurrent connections; each has a thread while it is open."},
    {"limits.timeout_s", FW_PROP_INT, "30", 1, 3600, NULL, 0, 0,
     "A connection idle this long (a slow or stalled client) is closed."},
    {"kafka.ack_timeout_ms", FW_PROP_INT, "10000", 100, 300000, NULL, 0, 0,
     "How long the broker has to acknowledge a request's events (librdkafka "
     "`message.timeout.ms`); when it does not, the request is 503 with `Retry-After`."},
    {"retry_after_s", FW_PROP_INT, "5", 1, 3600, NULL, 0, 0,
     "`Retry-After` seconds of 429 and 503 answers."},
    {"map.max_attribute_bytes", FW_PROP_INT, "4096", 64, 1048576, NULL, 0, 0,
     "An unmapped span attribute kept in `attributes` is cut at this many bytes."},
    {"map.max_attributes_bytes", FW_PROP_INT, "32768", 256, 16777216, NULL, 0, 0,
     "All unmapped attributes of a span together are capped at this many bytes; the count "
     "of those left out is `otel.dropped_attributes`."},
    {"redact.email", FW_PROP_ENUM, "true", 0, 0, "true|false", 0, 0,
     "Replace e-mail addresses with `[EMAIL]` before events leave the gateway (the agent's "
     "detector and key)."},
    {"redact.phone", FW_PROP_ENUM, "true", 0, 0, "true|false", 0, 0,
     "Replace phone numbers with `[PHONE]`."},
    {"redact.card", FW_PROP_ENUM, "true", 0, 0, "true|false", 0, 0,
     "Replace Luhn-valid payment card numbers with `[CARD]`."},
    {"redact.secret", FW_PROP_ENUM, "true", 0, 0, "true|false", 0, 0,
     "Replace API keys, bearer tokens, JWTs, private keys and `password=`-style secrets with "
     "`[SECRET]`."},
    {"redact.ipv4", FW_PROP_ENUM, "true", 0, 0, "true|false", 0, 0,
     "Replace IPv4 addresses with `[IP]`."},
    {"redact.omit", FW_PROP_STRING, "", 0, 0, NULL, 0, 0,
     "Content not to store at all, comma-separated: `input_messages`, `output_messages`, "
     "`tool_definitions`, `system_instructions`, `prompt_variables`, `error_message`, "
     "`attributes` (the unmapped span attributes), or `all`."},
    FW_DAEMON_LOG_PROPS,
};
#define N_PROPS (sizeof props / sizeof props[0])

static const fw_props_family families[] = {
    {"kafka.", 1, NULL},
    {"redact.regex.", 0, fwr_check_regex},
};

static const fw_props_table table = {props, N_PROPS, families, sizeof families / sizeof families[0],
                                     1};

static int finish(void *ctx, char *err, size_t errsize)
{
    return fwg_config_finish(ctx, err, errsize);
}

const fw_daemon fwg_daemon = {
    .name = "flywheel-gateway",
    .component = "gateway",
    .version = FW_VERSION_STR,
    .summary = "Receives OpenTelemetry traces over OTLP/HTTP (POST /v1/traces), turns each LLM\n"
               "span into a flywheel.v1 generation event and produces it to Kafka, answering\n"
               "only once the broker has acknowledged it.\n",
    .help_tail = "  --kafka.<property>=VALUE\n"
                 "      any other librdkafka producer property, passed through\n",
    .signals = "TERM/INT finish the requests in flight and exit 0; HUP reopens log.file",
    .reference_passthrough = "any other `kafka.<property>` is passed to librdkafka",
    .reference_tail =
        "| `redact.regex.<label>` | | | An operator rule, as in the agent: matches of this PCRE2 "
        "pattern become `[<LABEL>]`. Repeatable with different labels. |\n"
        "| `kafka.<property>` | | | Any librdkafka producer property. "
        "`enable.idempotence` and `acks=all` are set and cannot be turned off: the gateway "
        "answers 200 only for data every in-sync replica has. |\n",
    .table = &table,
    .finish = finish,
};

int fwg_config_finish(fwg_config *cfg, char *err, size_t errsize)
{
    const fw_props *p = &cfg->props;
#define S(k) fw_props_str(p, k)
#define I(k) fw_props_int(p, k)
    cfg->bootstrap_servers = S("kafka.bootstrap.servers");
    cfg->topic = S("topic");
    cfg->listen = S("listen");
    cfg->auth_keys = strcmp(S("auth"), "keys") == 0;
    cfg->project = S("project");
    cfg->pg_dsn = S("pg.dsn");
    cfg->keys_cache_s = I("keys.cache_s");
    cfg->max_body_bytes = I("limits.max_body_bytes");
    cfg->max_inflated_bytes = I("limits.max_inflated_bytes");
    cfg->max_connections = I("limits.max_connections");
    cfg->timeout_s = I("limits.timeout_s");
    cfg->ack_timeout_ms = I("kafka.ack_timeout_ms");
    cfg->retry_after_s = I("retry_after_s");
    cfg->max_attribute_bytes = I("map.max_attribute_bytes");
    cfg->max_attributes_bytes = I("map.max_attributes_bytes");
    cfg->redact_detectors = (strcmp(S("redact.email"), "true") == 0 ? FWR_EMAIL : 0) |
                            (strcmp(S("redact.phone"), "true") == 0 ? FWR_PHONE : 0) |
                            (strcmp(S("redact.card"), "true") == 0 ? FWR_CARD : 0) |
                            (strcmp(S("redact.secret"), "true") == 0 ? FWR_SECRET : 0) |
                            (strcmp(S("redact.ipv4"), "true") == 0 ? FWR_IPV4 : 0);
    cfg->redact_omit = 0;
    for (const char *o = S("redact.omit"); *o;) {
        static const char *const names[] = {
            "input_messages",   "output_messages", "tool_definitions", "system_instructions",
            "prompt_variables", "error_message",   "attributes",       "all"};
        size_t n = strcspn(o, ","), s0 = 0, e = n;
        while (s0 < n && o[s0] == ' ')
            s0++;
        while (e > s0 && o[e - 1] == ' ')
            e--;
        size_t k = 0;
        for (; k < sizeof names / sizeof names[0]; k++)
            if (strlen(names[k]) == e - s0 && strncmp(names[k], o + s0, e - s0) == 0)
                break;
        if (e > s0 && k == sizeof names / sizeof names[0]) {
            snprintf(err, errsize, "invalid value in parameter \"redact.omit\": \"%.*s\"",
                     (int)(e - s0), o + s0);
            return -1;
        }
        if (e > s0)
            cfg->redact_omit |= k == 7 ? 0x7F : 1u << k;
        o += n + (o[n] == ',');
    }
    cfg->log_level = S("log.level");
    cfg->log_file = S("log.file");
#undef S
#undef I
    cfg->kafka = fw_props_family_items(p, "kafka.", &cfg->n_kafka);
    cfg->regex = fw_props_family_items(p, "redact.regex.", &cfg->n_regex);
    if (*cfg->topic == '\0') {
        snprintf(err, errsize, "parameter \"topic\" must not be empty");
        return -1;
    }
    if (!cfg->auth_keys && *cfg->project == '\0') {
        snprintf(err, errsize, "parameter \"project\" must not be empty when \"auth\" is none");
        return -1;
    }
    return 0;
}

void fwg_config_free(fwg_config *cfg)
{
    fw_props_free(&cfg->props);
    memset(cfg, 0, sizeof *cfg);
}
