/*
 * conf — the agent's configuration object: string keys and values, one
 * property table that drives defaults, validation, fw_conf_from_env() and
 * the documentation in flywheel.h.
 *
 * Values are validated when they are set, so that fw_conf_set() reports a
 * bad value at the line that set it; fwi_conf_parse() then turns the strings
 * into typed settings for fw_agent_new(). kafka.* keys are checked against a
 * scratch librdkafka configuration and kept as an ordered list, because the
 * agent builds a fresh librdkafka configuration from them whenever it
 * recreates its producer.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef enum { P_STR, P_SIZE, P_ENUM, P_BOOL, P_RATE, P_MS, P_OMIT, P_LEVEL } ptype;

typedef struct {
    const char *name;
    ptype type;
    const char *def;
    const char *choices; /* P_ENUM: "a|b|c" */
} prop;

static const prop props[] = {
    {"topic", P_STR, "flywheel.events", NULL},
    {"project", P_STR, "", NULL},
    {"environment", P_STR, "", NULL},
    {"release", P_STR, "", NULL},
    {"queue.max_bytes", P_SIZE, "67108864", NULL},
    {"queue.full_policy", P_ENUM, "drop_newest", "drop_newest|drop_oldest|spool"},
    {"spool.dir", P_STR, "", NULL},
    {"spool.max_bytes", P_SIZE, "1073741824", NULL},
    {"spool.segment_bytes", P_SIZE, "16777216", NULL},
    {"sample.rate", P_RATE, "1", NULL},
    {"max_event_bytes", P_SIZE, "1048576", NULL},
    {"redact.email", P_BOOL, "true", NULL},
    {"redact.phone", P_BOOL, "true", NULL},
    {"redact.card", P_BOOL, "true", NULL},
    {"redact.secret", P_BOOL, "true", NULL},
    {"redact.ipv4", P_BOOL, "true", NULL},
    {"redact.omit", P_OMIT, "", NULL},
    {"log.level", P_LEVEL, "warn", NULL},
    {"shutdown.timeout_ms", P_MS, "5000", NULL},
};
#define N_PROPS (sizeof props / sizeof props[0])

static const char *const omit_names[] = {
    "input_messages",   "output_messages", "tool_definitions", "system_instructions",
    "prompt_variables", "error_message",   "feedback_comment", "feedback_correction"};

static void put_err(char *errstr, size_t size, const char *fmt, const char *a, const char *b)
    __attribute__((format(printf, 3, 0)));
static void put_err(char *errstr, size_t size, const char *fmt, const char *a, const char *b)
{
    if (errstr && size) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(errstr, size, fmt, a, b);
#pragma GCC diagnostic pop
    }
}

static int find_prop(const char *key)
{
    for (size_t i = 0; i < N_PROPS; i++)
        if (strcmp(props[i].name, key) == 0)
            return (int)i;
    return -1;
}

static int parse_u64(const char *v, uint64_t *out)
{
    char *end;
    if (!*v || *v == '-' || isspace((unsigned char)*v))
        return -1;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end)
        return -1;
    *out = x;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on")) {
        *out = 1;
        return 0;
    }
    if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off")) {
        *out = 0;
        return 0;
    }
    return -1;
}

static int parse_omit(const char *v, unsigned *out)
{
    unsigned mask = 0;
    const char *p = v;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && *p == ' ')
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        if (n) {
            int found = 0;
            if (n == 3 && !memcmp(p, "all", 3)) {
                mask = 0xff;
                found = 1;
            }
            for (size_t i = 0; !found && i < sizeof omit_names / sizeof omit_names[0]; i++)
                if (strlen(omit_names[i]) == n && !memcmp(omit_names[i], p, n)) {
                    mask |= 1u << i;
                    found = 1;
                }
            if (!found)
                return -1;
        }
        if (!e)
            break;
        p = e + 1;
    }
    *out = mask;
    return 0;
}

static int parse_level(const char *v, int *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(v, names[i])) {
            *out = i;
            return 0;
        }
    return -1;
}

/* Checks v against the property's type. */
static int valid(const prop *p, const char *v)
{
    uint64_t u;
    int b;
    unsigned m;
    switch (p->type) {
    case P_STR:
        return 1;
    case P_SIZE:
        return parse_u64(v, &u) == 0 && u > 0;
    case P_MS:
        return parse_u64(v, &u) == 0 && u <= 3600000;
    case P_BOOL:
        return parse_bool(v, &b) == 0;
    case P_OMIT:
        return parse_omit(v, &m) == 0;
    case P_LEVEL:
        return parse_level(v, &b) == 0;
    case P_RATE: {
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        return *v && !*end && !errno && d >= 0.0 && d <= 1.0 && !isnan(d);
    }
    case P_ENUM: {
        size_t n = strlen(v);
        const char *c = p->choices;
        while (c) {
            const char *e = strchr(c, '|');
            size_t cn = e ? (size_t)(e - c) : strlen(c);
            if (cn == n && !memcmp(c, v, n))
                return 1;
            c = e ? e + 1 : NULL;
        }
        return 0;
    }
    }
    return 0;
}

fw_conf_t *fw_conf_new(void)
{
    fw_conf_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->vals = calloc(N_PROPS, sizeof *c->vals);
    if (!c->vals) {
        free(c);
        return NULL;
    }
    return c;
}

static void free_kvs(fwi_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void fw_conf_destroy(fw_conf_t *conf)
{
    if (!conf)
        return;
    for (size_t i = 0; i < N_PROPS; i++)
        free(conf->vals[i]);
    free(conf->vals);
    free_kvs(conf->kafka, conf->n_kafka);
    free_kvs(conf->regex, conf->n_regex);
    free(conf);
}

/* Sets or replaces key in a list. On error nothing is modified. */
static fw_err_t kv_set(fwi_kv **list, size_t *n, const char *key, const char *value)
{
    char *v = strdup(value);
    if (!v)
        return FW_ERR_NOMEM;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*list)[i].key, key)) {
            free((*list)[i].value);
            (*list)[i].value = v;
            return FW_OK;
        }
    char *k = strdup(key);
    fwi_kv *nl = realloc(*list, (*n + 1) * sizeof **list);
    if (!k || !nl) {
        free(k);
        free(v);
        if (nl)
            *list = nl;
        return FW_ERR_NOMEM;
    }
    *list = nl;
    nl[*n].key = k;
    nl[*n].value = v;
    (*n)++;
    return FW_OK;
}

fw_err_t fw_conf_set(fw_conf_t *conf, const char *key, const char *value, char *errstr, size_t size)
{
    if (!conf || !key || !value) {
        put_err(errstr, size, "%s%s", "invalid argument: conf, key and value are required", "");
        return FW_ERR_INVALID_ARG;
    }
    if (!strncmp(key, "kafka.", 6)) {
        const char *rk_key = key + 6;
        char rkerr[256];
        rd_kafka_conf_t *scratch = rd_kafka_conf_new();
        if (!scratch)
            return FW_ERR_NOMEM;
        rd_kafka_conf_res_t r = rd_kafka_conf_set(scratch, rk_key, value, rkerr, sizeof rkerr);
        rd_kafka_conf_destroy(scratch);
        if (r == RD_KAFKA_CONF_UNKNOWN) {
            put_err(errstr, size, "unknown configuration key \"%s\"%s", key,
                    ": not a librdkafka property");
            return FW_ERR_UNKNOWN_KEY;
        }
        if (r != RD_KAFKA_CONF_OK) {
            put_err(errstr, size, "invalid value for \"%s\": %s", key, rkerr);
            return FW_ERR_INVALID_VALUE;
        }
        return kv_set(&conf->kafka, &conf->n_kafka, rk_key, value);
    }
    if (!strncmp(key, "redact.regex.", 13)) {
        const char *label = key + 13;
        if (!*label) {
            put_err(errstr, size, "invalid key \"%s\"%s", key, ": a label is required");
            return FW_ERR_UNKNOWN_KEY;
        }
        char rerr[256];
        if (fwr_check_regex(value, rerr, sizeof rerr) != 0) {
            put_err(errstr, size, "invalid value for \"%s\": %s", key, rerr);
            return FW_ERR_INVALID_VALUE;
        }
        return kv_set(&conf->regex, &conf->n_regex, label, value);
    }
    int i = find_prop(key);
    if (i < 0) {
        put_err(errstr, size, "unknown configuration key \"%s\"%s", key, "");
        return FW_ERR_UNKNOWN_KEY;
    }
    if (!valid(&props[i], value)) {
        const char *hint = props[i].type == P_SIZE    ? ": expected a positive integer"
                           : props[i].type == P_BOOL  ? ": expected true or false"
                           : props[i].type == P_RATE  ? ": expected a number from 0 to 1"
                           : props[i].type == P_MS    ? ": expected milliseconds, 0 to 3600000"
                           : props[i].type == P_LEVEL ? ": expected error, warn, info or debug"
                           : props[i].type == P_OMIT  ? ": expected a comma list of content fields"
                                                      : ": not one of the allowed values";
        if (errstr && size)
            snprintf(errstr, size, "invalid value \"%s\" for \"%s\"%s", value, key, hint);
        return FW_ERR_INVALID_VALUE;
    }
    char *v = strdup(value);
    if (!v)
        return FW_ERR_NOMEM;
    free(conf->vals[i]);
    conf->vals[i] = v;
    return FW_OK;
}

const char *fw_conf_get(const fw_conf_t *conf, const char *key)
{
    if (!conf || !key)
        return NULL;
    if (!strncmp(key, "kafka.", 6)) {
        for (size_t i = 0; i < conf->n_kafka; i++)
            if (!strcmp(conf->kafka[i].key, key + 6))
                return conf->kafka[i].value;
        return NULL;
    }
    if (!strncmp(key, "redact.regex.", 13)) {
        for (size_t i = 0; i < conf->n_regex; i++)
            if (!strcmp(conf->regex[i].key, key + 13))
                return conf->regex[i].value;
        return NULL;
    }
    int i = find_prop(key);
    if (i < 0)
        return NULL;
    return conf->vals[i] ? conf->vals[i] : props[i].def;
}

/* FLYWHEEL_ + key upper-cased, '.' -> '_'. */
static void env_name(const char *key, char *out, size_t size)
{
    size_t n = 0;
    const char *pre = "FLYWHEEL_";
    while (*pre && n + 1 < size)
        out[n++] = *pre++;
    for (; *key && n + 1 < size; key++)
        out[n++] = *key == '.' ? '_' : (char)toupper((unsigned char)*key);
    out[n] = '\0';
}

extern char **environ;

fw_err_t fw_conf_from_env(fw_conf_t *conf, char *errstr, size_t size)
{
    if (!conf)
        return FW_ERR_INVALID_ARG;
    fw_err_t err;
    const char *v;
    if ((v = getenv("FLYWHEEL_KAFKA_BOOTSTRAP")) &&
        (err = fw_conf_set(conf, "kafka.bootstrap.servers", v, errstr, size)) != FW_OK)
        return err;
    for (size_t i = 0; i < N_PROPS; i++) {
        char name[128];
        env_name(props[i].name, name, sizeof name);
        if ((v = getenv(name)) &&
            (err = fw_conf_set(conf, props[i].name, v, errstr, size)) != FW_OK)
            return err;
    }
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "FLYWHEEL_KAFKA_", 15) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq || !strncmp(*e, "FLYWHEEL_KAFKA_BOOTSTRAP=", 25))
            continue;
        char key[160] = "kafka.";
        size_t n = 6;
        for (const char *p = *e + 15; p < eq && n + 1 < sizeof key; p++)
            key[n++] = *p == '_' ? '.' : (char)tolower((unsigned char)*p);
        key[n] = '\0';
        if ((err = fw_conf_set(conf, key, eq + 1, errstr, size)) != FW_OK)
            return err;
    }
    return FW_OK;
}

void fw_conf_set_log_cb(fw_conf_t *conf, fw_log_cb *cb, void *opaque)
{
    if (!conf)
        return;
    conf->log_cb = cb;
    conf->log_opaque = opaque;
}

void fw_conf_set_redact_cb(fw_conf_t *conf, fw_redact_cb *cb, void *opaque)
{
    if (!conf)
        return;
    conf->redact_cb = cb;
    conf->redact_opaque = opaque;
}

fw_err_t fwi_conf_parse(const fw_conf_t *conf, fwi_settings *s, char *errstr, size_t size)
{
    int b;
    const char *bs = fw_conf_get(conf, "kafka.bootstrap.servers");
    if (!bs || !*bs) {
        put_err(errstr, size, "%s%s", "missing configuration key \"kafka.bootstrap.servers\"",
                ": set it with fw_conf_set() or FLYWHEEL_KAFKA_BOOTSTRAP");
        return FW_ERR_INVALID_VALUE;
    }
    memset(s, 0, sizeof *s);
    s->topic = fw_conf_get(conf, "topic");
    s->project = fw_conf_get(conf, "project");
    s->environment = fw_conf_get(conf, "environment");
    s->release = fw_conf_get(conf, "release");
    s->spool_dir = fw_conf_get(conf, "spool.dir");
    if (!*s->topic) {
        put_err(errstr, size, "%s%s", "invalid value \"\" for \"topic\"", "");
        return FW_ERR_INVALID_VALUE;
    }
    parse_u64(fw_conf_get(conf, "queue.max_bytes"), &s->queue_max_bytes);
    parse_u64(fw_conf_get(conf, "spool.max_bytes"), &s->spool_max_bytes);
    parse_u64(fw_conf_get(conf, "spool.segment_bytes"), &s->spool_segment_bytes);
    parse_u64(fw_conf_get(conf, "max_event_bytes"), &s->max_event_bytes);
    uint64_t ms = 0; /* validated by fw_conf_set(): set below */
    parse_u64(fw_conf_get(conf, "shutdown.timeout_ms"), &ms);
    s->shutdown_timeout_ms = (int)ms;
    const char *pol = fw_conf_get(conf, "queue.full_policy");
    s->full_policy = !strcmp(pol, "drop_oldest") ? FWI_POLICY_DROP_OLDEST
                     : !strcmp(pol, "spool")     ? FWI_POLICY_SPOOL
                                                 : FWI_POLICY_DROP_NEWEST;
    s->sample_rate = strtod(fw_conf_get(conf, "sample.rate"), NULL);
    static const struct {
        const char *key;
        unsigned bit;
    } det[] = {{"redact.email", FWR_EMAIL},
               {"redact.phone", FWR_PHONE},
               {"redact.card", FWR_CARD},
               {"redact.secret", FWR_SECRET},
               {"redact.ipv4", FWR_IPV4}};
    for (size_t i = 0; i < sizeof det / sizeof det[0]; i++)
        if (parse_bool(fw_conf_get(conf, det[i].key), &b) == 0 && b)
            s->redact_detectors |= det[i].bit;
    parse_omit(fw_conf_get(conf, "redact.omit"), &s->omit);
    parse_level(fw_conf_get(conf, "log.level"), &s->log_level);
    if (s->full_policy == FWI_POLICY_SPOOL && !*s->spool_dir) {
        put_err(errstr, size, "%s%s", "queue.full_policy \"spool\" needs \"spool.dir\"", "");
        return FW_ERR_INVALID_VALUE;
    }
    if (s->spool_segment_bytes > s->spool_max_bytes)
        s->spool_segment_bytes = s->spool_max_bytes;
    return FW_OK;
}
