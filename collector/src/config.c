/*
 * The collector's property table and its typed view. Adding a key means
 * adding one row to `props` and, if the code needs it typed, one line in
 * fw_config_finish; --help, --print-config and the reference follow (the
 * engine is common/config's).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#ifndef FW_VERSION_STR
#define FW_VERSION_STR "unknown"
#endif

static const fw_prop props[] = {
    {"kafka.bootstrap.servers", FW_PROP_STRING, "", 0, 0, NULL, 0, 1,
     "Kafka brokers to bootstrap from, `host:port[,host:port...]`."},
    {"kafka.group.id", FW_PROP_STRING, "flywheel-collector", 0, 0, NULL, 0, 0,
     "Consumer group. Collectors sharing it share the partitions; offsets in "
     "`flywheel.ingest_offsets` are kept per group."},
    {"topics", FW_PROP_STRING, "flywheel.events", 0, 0, NULL, 0, 0,
     "Topics to consume, comma-separated."},
    {"otlp.topics", FW_PROP_STRING, "", 0, 0, NULL, 0, 0,
     "OTLP topics to consume as well, comma-separated `topic:encoding` with encoding "
     "`otlp_proto` (the default when left out) or `otlp_json`, as the OpenTelemetry "
     "Collector's kafka exporter writes them (e.g. `otlp_spans:otlp_proto`). Each LLM span "
     "becomes one generation row (the mapping of `flywheel-gateway`, schema/README.md); other "
     "spans are counted and skipped; a message that does not decode is a dead letter."},
    {"otlp.project", FW_PROP_STRING, "default", 0, 0, NULL, 0, 0,
     "Project of the events read from `otlp.topics`."},
    {"kafka.auto.offset.reset", FW_PROP_ENUM, "earliest", 0, 0, "earliest|latest", 0, 0,
     "Where to start a partition that has no row in `flywheel.ingest_offsets`."},
    {"pg.dsn", FW_PROP_STRING, "", 0, 0, NULL, 1, 0,
     "libpq connection string or URI (e.g. `host=db dbname=flywheel user=flywheel_ingest "
     "sslmode=verify-full`). Empty: libpq's PG* environment variables decide. Passwords are "
     "masked in `--print-config`."},
    {"batch.max_rows", FW_PROP_INT, "5000", 1, 1000000, NULL, 0, 0,
     "Write a batch once it holds this many messages."},
    {"batch.max_bytes", FW_PROP_INT, "16777216", 1024, INT64_C(1) << 32, NULL, 0, 0,
     "Write a batch once its encoded rows reach this many bytes."},
    {"batch.max_wait_ms", FW_PROP_INT, "200", 1, 60000, NULL, 0, 0,
     "Write a non-empty batch at the latest this long after its first message arrived."},
    {"validate.max_message_bytes", FW_PROP_INT, "4194304", 0, INT64_C(1) << 32, NULL, 0, 0,
     "Dead-letter messages larger than this as `oversize` (0: no limit)."},
    {"validate.max_field_bytes", FW_PROP_INT, "1048576", 0, INT64_C(1) << 32, NULL, 0, 0,
     "Dead-letter messages with a string or bytes field larger than this as `oversize` "
     "(0: no limit)."},
    {"pg.retry.initial_ms", FW_PROP_INT, "100", 1, 600000, NULL, 0, 0,
     "First delay before reconnecting to PostgreSQL after a retryable failure; doubles "
     "each attempt."},
    {"pg.retry.max_ms", FW_PROP_INT, "5000", 1, 600000, NULL, 0, 0, "Cap of the reconnect delay."},
    {"pg.maintain_interval_s", FW_PROP_INT, "3600", 0, 86400 * 7, NULL, 0, 0,
     "Call `flywheel.maintain_partitions()` at start and then this often (0: only at "
     "start)."},
    {"pg.write_mode", FW_PROP_ENUM, "direct", 0, 0, "direct|staging", 0, 0,
     "`direct`: COPY straight into the tables inside a savepoint; a batch that hits a "
     "duplicate event id (a re-read after a crash or rebalance, a replay) is rolled back to "
     "the savepoint and written through staging, so the result is the same and the common "
     "case costs about a quarter less PostgreSQL time. `staging`: always COPY into "
     "temporary tables, then `INSERT ... ON CONFLICT DO NOTHING`."},
    {"http.listen", FW_PROP_STRING, "127.0.0.1:9464", 0, 0, NULL, 0, 0,
     "Address of the HTTP server for `/metrics`, `/healthz`, `/readyz`, `host:port`. "
     "Empty: no HTTP server."},
    FW_DAEMON_LOG_PROPS,
    {"debug.copy_dump", FW_PROP_STRING, "", 0, 0, NULL, 0, 0,
     "Benchmark aid: also append the COPY text of every generation row to this file."},
};
#define N_PROPS (sizeof props / sizeof props[0])

static const fw_props_family families[] = {{"kafka.", 1, NULL}};

static const fw_props_table table = {props, N_PROPS, families, 1, 1};

static int finish(void *ctx, char *err, size_t errsize)
{
    return fw_config_finish(ctx, err, errsize);
}

const fw_daemon fw_collector_daemon = {
    .name = "flywheel-collector",
    .component = "collector",
    .version = FW_VERSION_STR,
    .summary = "Consumes flywheel.v1 events from Kafka and stores them in PostgreSQL, exactly\n"
               "once: rows, dead letters and each partition's next offset are written in one\n"
               "transaction.\n",
    .help_tail = "  --kafka.<property>=VALUE\n"
                 "      any other librdkafka consumer property, passed through\n",
    .signals = "TERM/INT finish the batch in flight and exit 0; HUP reopens log.file",
    .reference_passthrough = "any other `kafka.<property>` is passed to librdkafka",
    .reference_tail =
        "| `kafka.<property>` | | | Any librdkafka consumer property. "
        "`enable.auto.commit` and `enable.auto.offset.store` are forced to `false`: "
        "offsets live in PostgreSQL, Kafka commits are a courtesy for lag monitoring. "
        "Worth setting: `kafka.session.timeout.ms` (librdkafka's default 45000 leaves a "
        "crashed member's partitions unread that long; 6000–10000 recommended) and "
        "`kafka.group.instance.id` (static membership, one id per member): see \"Failover "
        "time\" in [collector.md](collector.md). |\n",
    .table = &table,
    .finish = finish,
};

int fw_config_finish(fw_config *cfg, char *err, size_t errsize)
{
    const fw_props *p = &cfg->props;
#define S(k) fw_props_str(p, k)
#define I(k) fw_props_int(p, k)
    cfg->bootstrap_servers = S("kafka.bootstrap.servers");
    cfg->group_id = S("kafka.group.id");
    cfg->topics = S("topics");
    cfg->otlp_topics = S("otlp.topics");
    cfg->otlp_project = S("otlp.project");
    cfg->auto_offset_reset = S("kafka.auto.offset.reset");
    cfg->pg_dsn = S("pg.dsn");
    cfg->batch_max_rows = I("batch.max_rows");
    cfg->batch_max_bytes = I("batch.max_bytes");
    cfg->batch_max_wait_ms = I("batch.max_wait_ms");
    cfg->max_message_bytes = I("validate.max_message_bytes");
    cfg->max_field_bytes = I("validate.max_field_bytes");
    cfg->retry_initial_ms = I("pg.retry.initial_ms");
    cfg->retry_max_ms = I("pg.retry.max_ms");
    cfg->maintain_interval_s = I("pg.maintain_interval_s");
    cfg->write_mode = S("pg.write_mode");
    cfg->http_listen = S("http.listen");
    cfg->log_level = S("log.level");
    cfg->log_file = S("log.file");
    cfg->copy_dump = S("debug.copy_dump");
#undef S
#undef I
    cfg->kafka = fw_props_family_items(p, "kafka.", &cfg->n_kafka);
    if (*cfg->group_id == '\0' || (*cfg->topics == '\0' && *cfg->otlp_topics == '\0')) {
        snprintf(err, errsize,
                 "parameter \"kafka.group.id\" must not be empty, nor both \"topics\" and "
                 "\"otlp.topics\"");
        return -1;
    }
    if (*cfg->otlp_project == '\0') {
        snprintf(err, errsize, "parameter \"otlp.project\" must not be empty");
        return -1;
    }
    /* Every otlp.topics entry must name a known encoding. */
    for (const char *t = cfg->otlp_topics; *t;) {
        size_t n = strcspn(t, ",");
        const char *colon = memchr(t, ':', n);
        if (colon) {
            size_t el = n - (size_t)(colon + 1 - t);
            const char *e = colon + 1;
            while (el && *e == ' ')
                e++, el--;
            while (el && e[el - 1] == ' ')
                el--;
            if (!((el == 10 && strncmp(e, "otlp_proto", 10) == 0) ||
                  (el == 9 && strncmp(e, "otlp_json", 9) == 0))) {
                snprintf(err, errsize,
                         "invalid encoding \"%.*s\" in parameter \"otlp.topics\"\nhint: Use "
                         "otlp_proto or otlp_json.",
                         (int)el, e);
                return -1;
            }
        }
        t += n + (t[n] == ',');
    }
    return 0;
}

void fw_config_free(fw_config *cfg)
{
    fw_props_free(&cfg->props);
    memset(cfg, 0, sizeof *cfg);
}
