/*
 * The gateway's property table and everything derived from it, in the same
 * shape as the collector's (collector/src/config.c): adding a key means one
 * row in `props` and, if the code needs it typed, one line in
 * fwg_config_finish; --help, --print-config and the reference follow.
 */
#include "gw_config.h"

#include "redact.h"

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
    {"topic", T_STRING, "flywheel.events", 0, 0, NULL, 0, 0,
     "Topic the converted events are produced to (the one the collector reads)."},
    {"listen", T_STRING, "127.0.0.1:4318", 0, 0, NULL, 0, 0,
     "Address of the HTTP server, `host:port` (port 0: any free port, logged at start). It "
     "serves `POST /v1/traces`, `POST /v1/feedback`, `/metrics`, `/healthz` and `/readyz`."},
    {"auth", T_ENUM, "keys", 0, 0, "keys|none", 0, 0,
     "`keys`: every request needs `Authorization: Bearer <project key>` (or `x-fw-api-key`), "
     "checked against `flywheel.project_keys`; an unknown or revoked key is 401. `none`: no "
     "check, every event goes to `project` (development only)."},
    {"project", T_STRING, "default", 0, 0, NULL, 0, 0,
     "Project of every event when `auth` is `none`."},
    {"pg.dsn", T_STRING, "", 0, 0, NULL, 1, 0,
     "libpq connection string or URI for reading project keys, as a role that can read "
     "nothing else (`flywheel_gateway`). Empty: libpq's PG* environment variables decide. "
     "Passwords are masked in `--print-config`."},
    {"keys.cache_s", T_INT, "30", 0, 3600, NULL, 0, 0,
     "How long a key's lookup (found or not) is remembered; a revoked key stops working "
     "within this time (0: look every key up on every request)."},
    {"limits.max_body_bytes", T_INT, "16777216", 1024, INT64_C(1) << 32, NULL, 0, 0,
     "Largest request body as received (compressed or not); larger is 413."},
    {"limits.max_inflated_bytes", T_INT, "67108864", 1024, INT64_C(1) << 32, NULL, 0, 0,
     "Largest request body after gzip inflation; larger is 413 (a gzip bomb stops here)."},
    {"limits.max_connections", T_INT, "256", 1, 65536, NULL, 0, 0,
     "Concurrent connections; each has a thread while it is open."},
    {"limits.timeout_s", T_INT, "30", 1, 3600, NULL, 0, 0,
     "A connection idle this long (a slow or stalled client) is closed."},
    {"kafka.ack_timeout_ms", T_INT, "10000", 100, 300000, NULL, 0, 0,
     "How long the broker has to acknowledge a request's events (librdkafka "
     "`message.timeout.ms`); when it does not, the request is 503 with `Retry-After`."},
    {"retry_after_s", T_INT, "5", 1, 3600, NULL, 0, 0,
     "`Retry-After` seconds of 429 and 503 answers."},
    {"map.max_attribute_bytes", T_INT, "4096", 64, 1048576, NULL, 0, 0,
     "An unmapped span attribute kept in `attributes` is cut at this many bytes."},
    {"map.max_attributes_bytes", T_INT, "32768", 256, 16777216, NULL, 0, 0,
     "All unmapped attributes of a span together are capped at this many bytes; the count "
     "of those left out is `otel.dropped_attributes`."},
    {"redact.email", T_ENUM, "true", 0, 0, "true|false", 0, 0,
     "Replace e-mail addresses with `[EMAIL]` before events leave the gateway (the agent's "
     "detector and key)."},
    {"redact.phone", T_ENUM, "true", 0, 0, "true|false", 0, 0,
     "Replace phone numbers with `[PHONE]`."},
    {"redact.card", T_ENUM, "true", 0, 0, "true|false", 0, 0,
     "Replace Luhn-valid payment card numbers with `[CARD]`."},
    {"redact.secret", T_ENUM, "true", 0, 0, "true|false", 0, 0,
     "Replace API keys, bearer tokens, JWTs, private keys and `password=`-style secrets with "
     "`[SECRET]`."},
    {"redact.ipv4", T_ENUM, "true", 0, 0, "true|false", 0, 0,
     "Replace IPv4 addresses with `[IP]`."},
    {"redact.omit", T_STRING, "", 0, 0, NULL, 0, 0,
     "Content not to store at all, comma-separated: `input_messages`, `output_messages`, "
     "`tool_definitions`, `system_instructions`, `prompt_variables`, `error_message`, "
     "`attributes` (the unmapped span attributes), or `all`."},
    {"log.level", T_ENUM, "info", 0, 0, "error|warn|info|debug", 0, 0, "Log threshold."},
    {"log.file", T_STRING, "", 0, 0, NULL, 0, 0,
     "Append logs to this file instead of stderr; reopened on SIGHUP."},
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

int fwg_config_init(fwg_config *cfg)
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
    fwg_config_free(cfg);
    return -1;
}

void fwg_config_free(fwg_config *cfg)
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
    for (size_t i = 0; i < cfg->n_regex; i++) {
        free(cfg->regex[i].key);
        free(cfg->regex[i].value);
    }
    free(cfg->regex);
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

/* Sets (or adds) key in a list of pass-through properties. */
static int add_extra(fwg_kafka_prop **list, size_t *n, const char *key, const char *value,
                     fwg_source src, char *err, size_t errsize)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*list)[i].key, key) == 0) {
            char *v = strdup(value);
            if (!v)
                goto oom;
            free((*list)[i].value);
            (*list)[i].value = v;
            (*list)[i].source = src;
            return 0;
        }
    }
    fwg_kafka_prop *k = realloc(*list, (*n + 1) * sizeof *k);
    if (!k)
        goto oom;
    *list = k;
    k[*n].key = strdup(key);
    k[*n].value = strdup(value);
    k[*n].source = src;
    if (!k[*n].key || !k[*n].value) {
        free(k[*n].key);
        free(k[*n].value);
        goto oom;
    }
    (*n)++;
    return 0;
oom:
    snprintf(err, errsize, "out of memory");
    return -1;
}

int fwg_config_set(fwg_config *cfg, const char *key, const char *value, fwg_source src, char *err,
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
    if (strncmp(key, "kafka.", 6) == 0 && key[6])
        return add_extra(&cfg->kafka, &cfg->n_kafka, key + 6, value, src, err, errsize);
    if (strncmp(key, "redact.regex.", 13) == 0 && key[13]) {
        if (fwr_check_regex(value, err, errsize) != 0) {
            char msg[512];
            snprintf(msg, sizeof msg, "invalid value for parameter \"%s\": %s", key, err);
            snprintf(err, errsize, "%s", msg);
            return -1;
        }
        return add_extra(&cfg->regex, &cfg->n_regex, key + 13, value, src, err, errsize);
    }
    snprintf(err, errsize, "unrecognized configuration parameter \"%s\"", key);
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

int fwg_config_load_file(fwg_config *cfg, const char *path, char *err, size_t errsize)
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
            fwg_config_set(cfg, key, val, FWG_SRC_FILE, msg, sizeof msg) != 0) {
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

int fwg_config_load_env(fwg_config *cfg, char *err, size_t errsize)
{
    for (size_t i = 0; i < N_PROPS; i++) {
        char name[128];
        env_name(props[i].key, name, sizeof name);
        const char *v = getenv(name);
        if (v && fwg_config_set(cfg, props[i].key, v, FWG_SRC_ENV, err, errsize) != 0)
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

int fwg_config_finish(fwg_config *cfg, char *err, size_t errsize)
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
    for (const char *p = S("redact.omit"); *p;) {
        static const char *const names[] = {
            "input_messages",   "output_messages", "tool_definitions", "system_instructions",
            "prompt_variables", "error_message",   "attributes",       "all"};
        size_t n = strcspn(p, ","), s0 = 0, e = n;
        while (s0 < n && p[s0] == ' ')
            s0++;
        while (e > s0 && p[e - 1] == ' ')
            e--;
        size_t k = 0;
        for (; k < sizeof names / sizeof names[0]; k++)
            if (strlen(names[k]) == e - s0 && strncmp(names[k], p + s0, e - s0) == 0)
                break;
        if (e > s0 && k == sizeof names / sizeof names[0]) {
            snprintf(err, errsize, "invalid value in parameter \"redact.omit\": \"%.*s\"",
                     (int)(e - s0), p + s0);
            return -1;
        }
        if (e > s0)
            cfg->redact_omit |= k == 7 ? 0x7F : 1u << k;
        p += n + (p[n] == ',');
    }
    cfg->log_level = S("log.level");
    cfg->log_file = S("log.file");
#undef S
#undef I
#undef idx_of
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

void fwg_config_mask_dsn(const char *dsn, char *out, size_t size)
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

void fwg_config_print(const fwg_config *cfg, FILE *out)
{
    for (size_t i = 0; i < N_PROPS; i++) {
        char masked[1024];
        const char *v = cfg->values[i];
        if (props[i].secret) {
            fwg_config_mask_dsn(v, masked, sizeof masked);
            v = masked;
        }
        fprintf(out, "%s = %s  # %s\n", props[i].key, v, src_names[cfg->sources[i]]);
    }
    for (size_t i = 0; i < cfg->n_kafka; i++)
        fprintf(out, "kafka.%s = %s  # %s\n", cfg->kafka[i].key,
                kafka_key_secret(cfg->kafka[i].key) ? "****" : cfg->kafka[i].value,
                src_names[cfg->kafka[i].source]);
    for (size_t i = 0; i < cfg->n_regex; i++)
        fprintf(out, "redact.regex.%s = %s  # %s\n", cfg->regex[i].key, cfg->regex[i].value,
                src_names[cfg->regex[i].source]);
}

void fwg_config_print_help(FILE *out)
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
                 "      any other librdkafka producer property, passed through\n");
}

void fwg_config_print_reference(FILE *out)
{
    fprintf(out, "Set in a file given with `--config FILE` (`key = value`, `#` comments, `${VAR}` "
                 "expanded from the environment), in the environment as `FLYWHEEL_<KEY>` (dots as "
                 "underscores, upper case), or as flags `--key=value`; later sources win in that "
                 "order. Unknown keys are errors; any other `kafka.<property>` is passed to "
                 "librdkafka. `flywheel-gateway --print-config` shows the effective values and "
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
    fprintf(
        out,
        "| `redact.regex.<label>` | | | An operator rule, as in the agent: matches of this PCRE2 "
        "pattern become `[<LABEL>]`. Repeatable with different labels. |\n"
        "| `kafka.<property>` | | | Any librdkafka producer property. "
        "`enable.idempotence` and `acks=all` are set and cannot be turned off: the gateway "
        "answers 200 only for data every in-sync replica has. |\n");
}
