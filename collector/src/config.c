/*
 * The property table and everything derived from it. Adding a key means
 * adding one row to `props` and, if the code needs it typed, one line in
 * fw_config_finish; --help, --print-config and the reference follow.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_STRING, T_INT, T_ENUM } prop_type;

typedef struct {
    const char *key;
    prop_type type;
    const char *def;
    int64_t min, max;    /* T_INT */
    const char *choices; /* T_ENUM: "a|b|c" */
    int secret;
    int required;
    const char *help;
} prop;

static const prop props[] = {
    {"kafka.bootstrap.servers", T_STRING, "", 0, 0, NULL, 0, 1,
     "Kafka brokers to bootstrap from, `host:port[,host:port...]`."},
    {"kafka.group.id", T_STRING, "flywheel-collector", 0, 0, NULL, 0, 0,
     "Consumer group. Collectors sharing it share the partitions; offsets in "
     "`flywheel.ingest_offsets` are kept per group."},
    {"topics", T_STRING, "flywheel.events", 0, 0, NULL, 0, 0,
     "Topics to consume, comma-separated."},
    {"otlp.topics", T_STRING, "", 0, 0, NULL, 0, 0,
     "OTLP topics to consume as well, comma-separated `topic:encoding` with encoding "
     "`otlp_proto` (the default when left out) or `otlp_json`, as the OpenTelemetry "
     "Collector's kafka exporter writes them (e.g. `otlp_spans:otlp_proto`). Each LLM span "
     "becomes one generation row (the mapping of `flywheel-gateway`, schema/README.md); other "
     "spans are counted and skipped; a message that does not decode is a dead letter."},
    {"otlp.project", T_STRING, "default", 0, 0, NULL, 0, 0,
     "Project of the events read from `otlp.topics`."},
    {"kafka.auto.offset.reset", T_ENUM, "earliest", 0, 0, "earliest|latest", 0, 0,
     "Where to start a partition that has no row in `flywheel.ingest_offsets`."},
    {"pg.dsn", T_STRING, "", 0, 0, NULL, 1, 0,
     "libpq connection string or URI (e.g. `host=db dbname=flywheel user=flywheel_ingest "
     "sslmode=verify-full`). Empty: libpq's PG* environment variables decide. Passwords are "
     "masked in `--print-config`."},
    {"batch.max_rows", T_INT, "5000", 1, 1000000, NULL, 0, 0,
     "Write a batch once it holds this many messages."},
    {"batch.max_bytes", T_INT, "16777216", 1024, INT64_C(1) << 32, NULL, 0, 0,
     "Write a batch once its encoded rows reach this many bytes."},
    {"batch.max_wait_ms", T_INT, "200", 1, 60000, NULL, 0, 0,
     "Write a non-empty batch at the latest this long after its first message arrived."},
    {"validate.max_message_bytes", T_INT, "4194304", 0, INT64_C(1) << 32, NULL, 0, 0,
     "Dead-letter messages larger than this as `oversize` (0: no limit)."},
    {"validate.max_field_bytes", T_INT, "1048576", 0, INT64_C(1) << 32, NULL, 0, 0,
     "Dead-letter messages with a string or bytes field larger than this as `oversize` "
     "(0: no limit)."},
    {"pg.retry.initial_ms", T_INT, "100", 1, 600000, NULL, 0, 0,
     "First delay before reconnecting to PostgreSQL after a retryable failure; doubles "
     "each attempt."},
    {"pg.retry.max_ms", T_INT, "5000", 1, 600000, NULL, 0, 0, "Cap of the reconnect delay."},
    {"pg.maintain_interval_s", T_INT, "3600", 0, 86400 * 7, NULL, 0, 0,
     "Call `flywheel.maintain_partitions()` at start and then this often (0: only at "
     "start)."},
    {"pg.write_mode", T_ENUM, "direct", 0, 0, "direct|staging", 0, 0,
     "`direct`: COPY straight into the tables inside a savepoint; a batch that hits a "
     "duplicate event id (a re-read after a crash or rebalance, a replay) is rolled back to "
     "the savepoint and written through staging, so the result is the same and the common "
     "case costs about a quarter less PostgreSQL time. `staging`: always COPY into "
     "temporary tables, then `INSERT ... ON CONFLICT DO NOTHING`."},
    {"http.listen", T_STRING, "127.0.0.1:9464", 0, 0, NULL, 0, 0,
     "Address of the HTTP server for `/metrics`, `/healthz`, `/readyz`, `host:port`. "
     "Empty: no HTTP server."},
    {"log.level", T_ENUM, "info", 0, 0, "error|warn|info|debug", 0, 0, "Log threshold."},
    {"log.file", T_STRING, "", 0, 0, NULL, 0, 0,
     "Append logs to this file instead of stderr; reopened on SIGHUP."},
    {"debug.copy_dump", T_STRING, "", 0, 0, NULL, 0, 0,
     "Benchmark aid: also append the COPY text of every generation row to this file."},
};
#define N_PROPS (sizeof props / sizeof props[0])

static const char *const src_names[] = {"default", "file", "environment", "flag"};

static const prop *find(const char *key, size_t *idx)
{
    for (size_t i = 0; i < N_PROPS; i++) {
        if (strcmp(props[i].key, key) == 0) {
            if (idx)
                *idx = i;
            return &props[i];
        }
    }
    return NULL;
}

int fw_config_init(fw_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->values = calloc(N_PROPS, sizeof *cfg->values);
    cfg->sources = calloc(N_PROPS, sizeof *cfg->sources);
    if (!cfg->values || !cfg->sources)
        goto oom;
    for (size_t i = 0; i < N_PROPS; i++) {
        cfg->values[i] = strdup(props[i].def);
        if (!cfg->values[i])
            goto oom;
    }
    return 0;
oom:
    fw_config_free(cfg);
    return -1;
}

void fw_config_free(fw_config *cfg)
{
    if (cfg->values)
        for (size_t i = 0; i < N_PROPS; i++)
            free(cfg->values[i]);
    free(cfg->values);
    free(cfg->sources);
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        free(cfg->kafka[i].key);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
    memset(cfg, 0, sizeof *cfg);
}

static int enum_ok(const prop *p, const char *v)
{
    const char *c = p->choices;
    size_t n = strlen(v);
    while (*c) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && strncmp(c, v, n) == 0)
            return 1;
        c += len + (bar ? 1 : 0);
    }
    return 0;
}

int fw_config_set(fw_config *cfg, const char *key, const char *value, fw_source src, char *err,
                  size_t errsize)
{
    size_t idx;
    const prop *p = find(key, &idx);
    if (p) {
        char *v = strdup(value);
        if (!v) {
            snprintf(err, errsize, "out of memory");
            return -1;
        }
        free(cfg->values[idx]);
        cfg->values[idx] = v;
        cfg->sources[idx] = src;
        return 0;
    }
    if (strncmp(key, "kafka.", 6) == 0 && key[6]) {
        for (size_t i = 0; i < cfg->n_kafka; i++) {
            if (strcmp(cfg->kafka[i].key, key + 6) == 0) {
                char *v = strdup(value);
                if (!v)
                    goto oom;
                free(cfg->kafka[i].value);
                cfg->kafka[i].value = v;
                cfg->kafka[i].source = src;
                return 0;
            }
        }
        fw_kafka_prop *k = realloc(cfg->kafka, (cfg->n_kafka + 1) * sizeof *k);
        if (!k)
            goto oom;
        cfg->kafka = k;
        k[cfg->n_kafka].key = strdup(key + 6);
        k[cfg->n_kafka].value = strdup(value);
        k[cfg->n_kafka].source = src;
        if (!k[cfg->n_kafka].key || !k[cfg->n_kafka].value) {
            free(k[cfg->n_kafka].key);
            free(k[cfg->n_kafka].value);
            goto oom;
        }
        cfg->n_kafka++;
        return 0;
    }
    snprintf(err, errsize, "unrecognized configuration parameter \"%s\"", key);
    return -1;
oom:
    snprintf(err, errsize, "out of memory");
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Expands ${VAR} in `in` into out. Returns 0, or -1 with err set. */
static int expand(const char *in, char *out, size_t size, char *err, size_t errsize)
{
    size_t o = 0;
    for (const char *p = in; *p;) {
        if (p[0] == '$' && p[1] == '{') {
            const char *close = strchr(p + 2, '}');
            if (!close) {
                snprintf(err, errsize, "unterminated \"${\"");
                return -1;
            }
            char name[128];
            size_t n = (size_t)(close - p - 2);
            if (n == 0 || n >= sizeof name) {
                snprintf(err, errsize, "invalid variable reference");
                return -1;
            }
            memcpy(name, p + 2, n);
            name[n] = '\0';
            const char *v = getenv(name);
            if (!v) {
                snprintf(err, errsize, "environment variable \"%s\" is not set", name);
                return -1;
            }
            size_t vl = strlen(v);
            if (o + vl >= size)
                goto toolong;
            memcpy(out + o, v, vl);
            o += vl;
            p = close + 1;
            continue;
        }
        if (o + 1 >= size)
            goto toolong;
        out[o++] = *p++;
    }
    out[o] = '\0';
    return 0;
toolong:
    snprintf(err, errsize, "value too long");
    return -1;
}

int fw_config_load_file(fw_config *cfg, const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsize, "could not open configuration file \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }
    char line[8192], val[8192], msg[512];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errsize, "%s:%d: expected \"key = value\"", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *v = trim(eq + 1);
        size_t vl = strlen(v);
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
            v[vl - 1] = '\0';
            v++;
        }
        if (expand(v, val, sizeof val, msg, sizeof msg) != 0 ||
            fw_config_set(cfg, key, val, FW_SRC_FILE, msg, sizeof msg) != 0) {
            snprintf(err, errsize, "%s:%d: %s", path, lineno, msg);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

static void env_name(const char *key, char *out, size_t size)
{
    size_t o = 0;
    const char *pre = "FLYWHEEL_";
    for (; *pre && o + 1 < size; pre++)
        out[o++] = *pre;
    for (; *key && o + 1 < size; key++)
        out[o++] = (*key == '.') ? '_' : (char)toupper((unsigned char)*key);
    out[o] = '\0';
}

int fw_config_load_env(fw_config *cfg, char *err, size_t errsize)
{
    for (size_t i = 0; i < N_PROPS; i++) {
        char name[128];
        env_name(props[i].key, name, sizeof name);
        const char *v = getenv(name);
        if (v && fw_config_set(cfg, props[i].key, v, FW_SRC_ENV, err, errsize) != 0)
            return -1;
    }
    return 0;
}

static int parse_int(const prop *p, const char *v, int64_t *out, char *err, size_t errsize)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *trim(end) != '\0') {
        snprintf(err, errsize, "invalid value for parameter \"%s\": \"%s\"", p->key, v);
        return -1;
    }
    if (x < p->min || x > p->max) {
        snprintf(err, errsize,
                 "%lld is outside the valid range for parameter \"%s\" (%lld .. %lld)", x, p->key,
                 (long long)p->min, (long long)p->max);
        return -1;
    }
    *out = x;
    return 0;
}

int fw_config_finish(fw_config *cfg, char *err, size_t errsize)
{
    int64_t ints[N_PROPS] = {0};
    for (size_t i = 0; i < N_PROPS; i++) {
        const prop *p = &props[i];
        const char *v = cfg->values[i];
        if (p->required && *v == '\0') {
            char env[128];
            env_name(p->key, env, sizeof env);
            snprintf(err, errsize,
                     "parameter \"%s\" is required\nhint: Set it in the configuration file, "
                     "with --%s=VALUE, or in %s.",
                     p->key, p->key, env);
            return -1;
        }
        if (p->type == T_INT && parse_int(p, v, &ints[i], err, errsize) != 0)
            return -1;
        if (p->type == T_ENUM && !enum_ok(p, v)) {
            snprintf(err, errsize, "invalid value for parameter \"%s\": \"%s\"", p->key, v);
            return -1;
        }
    }
#define S(k) cfg->values[idx_of(k)]
#define I(k) ints[idx_of(k)]
    size_t ix;
#define idx_of(k) (find(k, &ix) ? ix : 0)
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
#undef idx_of
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
    for (const char *p = cfg->otlp_topics; *p;) {
        size_t n = strcspn(p, ",");
        const char *colon = memchr(p, ':', n);
        if (colon) {
            size_t el = n - (size_t)(colon + 1 - p);
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
        p += n + (p[n] == ',');
    }
    return 0;
}

void fw_config_mask_dsn(const char *dsn, char *out, size_t size)
{
    /* URI form: postgresql://user:secret@host/db */
    const char *scheme = strstr(dsn, "://");
    if (scheme) {
        const char *at = strchr(scheme + 3, '@');
        const char *colon = strchr(scheme + 3, ':');
        if (at && colon && colon < at) {
            snprintf(out, size, "%.*s:****%s", (int)(colon - dsn), dsn, at);
            return;
        }
        snprintf(out, size, "%s", dsn);
        return;
    }
    /* key=value form: mask password=... (quoted or not). */
    size_t o = 0;
    const char *p = dsn;
    while (*p && o + 1 < size) {
        if (strncmp(p, "password", 8) == 0 && (p == dsn || isspace((unsigned char)p[-1]))) {
            const char *q = p + 8;
            while (isspace((unsigned char)*q))
                q++;
            if (*q == '=') {
                q++;
                while (isspace((unsigned char)*q))
                    q++;
                if (*q == '\'') {
                    for (q++; *q && *q != '\''; q++)
                        if (*q == '\\' && q[1])
                            q++;
                    if (*q)
                        q++;
                } else {
                    while (*q && !isspace((unsigned char)*q))
                        q++;
                }
                int n = snprintf(out + o, size - o, "password=****");
                o += (size_t)n < size - o ? (size_t)n : size - o - 1;
                p = q;
                continue;
            }
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

static int kafka_key_secret(const char *k)
{
    return strstr(k, "password") || strstr(k, "secret") || strstr(k, "sasl.oauthbearer.config") ||
           strstr(k, "ssl.key.pem");
}

void fw_config_print(const fw_config *cfg, FILE *out)
{
    for (size_t i = 0; i < N_PROPS; i++) {
        char masked[1024];
        const char *v = cfg->values[i];
        if (props[i].secret) {
            fw_config_mask_dsn(v, masked, sizeof masked);
            v = masked;
        }
        fprintf(out, "%s = %s  # %s\n", props[i].key, v, src_names[cfg->sources[i]]);
    }
    for (size_t i = 0; i < cfg->n_kafka; i++)
        fprintf(out, "kafka.%s = %s  # %s\n", cfg->kafka[i].key,
                kafka_key_secret(cfg->kafka[i].key) ? "****" : cfg->kafka[i].value,
                src_names[cfg->kafka[i].source]);
}

void fw_config_print_help(FILE *out)
{
    for (size_t i = 0; i < N_PROPS; i++) {
        fprintf(out, "  --%s=VALUE", props[i].key);
        if (props[i].def[0])
            fprintf(out, " (default %s)", props[i].def);
        fprintf(out, "\n      ");
        /* help text without Markdown backquotes, wrapped at ~90 columns;
         * a space is written before a word, never after, so no line ends
         * in one */
        int col = 6;
        for (const char *h = props[i].help; *h;) {
            const char *sp = strchr(h, ' ');
            size_t wl = sp ? (size_t)(sp - h) : strlen(h);
            if (col > 6 && col + 1 + (int)wl > 92) {
                fprintf(out, "\n      ");
                col = 6;
            } else if (col > 6) {
                fputc(' ', out);
                col++;
            }
            for (size_t k = 0; k < wl; k++)
                if (h[k] != '`')
                    fputc(h[k], out);
            col += (int)wl;
            h += wl + (sp ? 1 : 0);
        }
        fputc('\n', out);
    }
    fprintf(out, "  --kafka.<property>=VALUE\n"
                 "      any other librdkafka consumer property, passed through\n");
}

void fw_config_print_reference(FILE *out)
{
    fprintf(out, "Set in a file given with `--config FILE` (`key = value`, `#` comments, `${VAR}` "
                 "expanded from the environment), in the environment as `FLYWHEEL_<KEY>` (dots as "
                 "underscores, upper case), or as flags `--key=value`; later sources win in that "
                 "order. Unknown keys are errors; any other `kafka.<property>` is passed to "
                 "librdkafka. `flywheel-collector --print-config` shows the effective values and "
                 "where each came from, secrets masked.\n\n");
    fprintf(out, "| key | environment | default | description |\n|---|---|---|---|\n");
    for (size_t i = 0; i < N_PROPS; i++) {
        char env[128];
        env_name(props[i].key, env, sizeof env);
        const char *def =
            props[i].def[0] ? props[i].def : (props[i].required ? "(required)" : "(empty)");
        fprintf(out, "| `%s` | `%s` | %s%s%s | %s%s |\n", props[i].key, env,
                def[0] == '(' ? "" : "`", def, def[0] == '(' ? "" : "`", props[i].help,
                props[i].secret ? " Secret." : "");
    }
    fprintf(out, "| `kafka.<property>` | | | Any librdkafka consumer property. "
                 "`enable.auto.commit` and `enable.auto.offset.store` are forced to `false`: "
                 "offsets live in PostgreSQL, Kafka commits are a courtesy for lag monitoring. "
                 "Worth setting: `kafka.session.timeout.ms` (librdkafka's default 45000 leaves a "
                 "crashed member's partitions unread that long; 6000–10000 recommended) and "
                 "`kafka.group.instance.id` (static membership, one id per member): see \"Failover "
                 "time\" in [collector.md](collector.md). |\n");
}
