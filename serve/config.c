/*
 * The property table of `flywheel serve` and everything derived from it.
 * Adding a key means one row in `props` and, when the code needs it typed,
 * one line in sv_config_finish; --help, --print-config and the reference
 * follow.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_STRING, T_INT, T_ENUM } prop_type;

typedef struct {
    const char *key;
    prop_type type;
    const char *def;
    int64_t min, max;
    const char *choices;
    int secret;
    const char *help;
} prop;

static const prop props[] = {
    {"serve.listen", T_STRING, "127.0.0.1:8080", 0, 0, NULL, 0,
     "Address to listen on, `host:port` (IPv4). Loopback by default: put a TLS reverse proxy "
     "in front to serve other machines."},
    {"serve.public_url", T_STRING, "", 0, 0, NULL, 0,
     "The URL browsers use to reach the server, e.g. `https://review.example.com`. Its origin "
     "is the only one accepted on form posts, and it starts the sign-in links that "
     "`flywheel reviewer` prints. Empty: `http://` and `serve.listen`."},
    {"pg.dsn", T_STRING, "", 0, 0, NULL, 1,
     "libpq connection string of the server's login, a member of `flywheel_web` (it can only "
     "switch to the reviewer roles granted to `flywheel_web`). Empty: libpq's PG* variables."},
    {"serve.pg_pool_size", T_INT, "8", 1, 256, NULL, 0,
     "PostgreSQL connections shared by the request threads."},
    {"serve.pg_statement_timeout_ms", T_INT, "10000", 100, 3600000, NULL, 0,
     "`statement_timeout` of the server's connections."},
    {"serve.pg_wait_ms", T_INT, "5000", 1, 600000, NULL, 0,
     "How long a request waits for a free connection before it is answered 503."},
    {"serve.connection_limit", T_INT, "128", 4, 10000, NULL, 0,
     "Concurrent HTTP connections (each has its own thread)."},
    {"serve.per_ip_connection_limit", T_INT, "32", 0, 10000, NULL, 0,
     "Concurrent HTTP connections from one address (0: no limit)."},
    {"serve.connection_timeout_s", T_INT, "30", 1, 3600, NULL, 0,
     "Idle HTTP connections are closed after this many seconds."},
    {"serve.max_body_bytes", T_INT, "262144", 1024, 16777216, NULL, 0,
     "Largest request body; larger ones are answered 413."},
    {"serve.max_field_bytes", T_INT, "131072", 64, 16777216, NULL, 0,
     "Largest form field (a correction, a note); larger ones are answered 413."},
    {"serve.max_fields", T_INT, "512", 8, 100000, NULL, 0,
     "Most form fields in one request (span labels are one field per sentence)."},
    {"session.idle_timeout_s", T_INT, "7200", 60, 2592000, NULL, 0,
     "A session unused this long is signed out."},
    {"session.absolute_timeout_s", T_INT, "43200", 300, 31536000, NULL, 0,
     "A session is signed out this long after sign-in, however busy."},
    {"session.cookie_secure", T_ENUM, "auto", 0, 0, "auto|on|off", 0,
     "`on`: the session cookie is `Secure` with the `__Host-` prefix (HTTPS only). `auto`: on "
     "unless the server listens on loopback and `serve.public_url` is not `https://`."},
    {"rate.signin_per_minute", T_INT, "10", 1, 100000, NULL, 0,
     "Sign-in attempts per client address per minute; more are answered 429."},
    {"rate.posts_per_minute", T_INT, "240", 1, 100000, NULL, 0,
     "Form posts per session per minute; more are answered 429."},
    {"auth.trusted_header", T_STRING, "", 0, 0, NULL, 0,
     "Single sign-on through a proxy: the header naming the signed-in account (e.g. "
     "`X-Forwarded-User`), believed only from `auth.trusted_peers`. Empty: off."},
    {"auth.trusted_peers", T_STRING, "", 0, 0, NULL, 0,
     "Comma-separated IPv4 addresses of the proxies allowed to send `auth.trusted_header`."},
    {"log.level", T_ENUM, "info", 0, 0, "error|warn|info|debug", 0, "Log threshold."},
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

int sv_config_init(sv_config *cfg)
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
    sv_config_free(cfg);
    return -1;
}

void sv_config_free(sv_config *cfg)
{
    if (cfg->values)
        for (size_t i = 0; i < N_PROPS; i++)
            free(cfg->values[i]);
    free(cfg->values);
    free(cfg->sources);
    memset(cfg, 0, sizeof *cfg);
}

int sv_config_set(sv_config *cfg, const char *key, const char *value, sv_source src, char *err,
                  size_t errsize)
{
    size_t idx;
    if (!find(key, &idx)) {
        snprintf(err, errsize, "unrecognized configuration parameter \"%s\"", key);
        return -1;
    }
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

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int sv_config_load_file(sv_config *cfg, const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsize, "could not open configuration file \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }
    char line[8192], msg[512];
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
        if (sv_config_set(cfg, key, v, SV_SRC_FILE, msg, sizeof msg) != 0) {
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
    for (const char *pre = "FLYWHEEL_"; *pre && o + 1 < size; pre++)
        out[o++] = *pre;
    for (; *key && o + 1 < size; key++)
        out[o++] = (*key == '.') ? '_' : (char)toupper((unsigned char)*key);
    out[o] = '\0';
}

int sv_config_load_env(sv_config *cfg, char *err, size_t errsize)
{
    for (size_t i = 0; i < N_PROPS; i++) {
        char name[128];
        env_name(props[i].key, name, sizeof name);
        const char *v = getenv(name);
        if (v && sv_config_set(cfg, props[i].key, v, SV_SRC_ENV, err, errsize) != 0)
            return -1;
    }
    return 0;
}

static int enum_ok(const prop *p, const char *v)
{
    size_t n = strlen(v);
    for (const char *c = p->choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && strncmp(c, v, n) == 0)
            return 1;
        c += len + (bar ? 1 : 0);
    }
    return 0;
}

static int parse_int(const prop *p, const char *v, int64_t *out, char *err, size_t errsize)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (errno || end == v || *end != '\0') {
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

/* The origin (scheme://host[:port]) of an http or https URL, lower-cased;
 * -1 when the URL is neither or has a user part. */
static int url_origin(const char *url, char *out, size_t size, int *https)
{
    const char *rest;
    if (strncasecmp(url, "http://", 7) == 0) {
        *https = 0;
        rest = url + 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        *https = 1;
        rest = url + 8;
    } else {
        return -1;
    }
    size_t hl = strcspn(rest, "/?#");
    if (hl == 0 || memchr(rest, '@', hl))
        return -1;
    int n = snprintf(out, size, "%s%.*s", *https ? "https://" : "http://", (int)hl, rest);
    if (n < 0 || (size_t)n >= size)
        return -1;
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return 0;
}

int sv_config_finish(sv_config *cfg, char *err, size_t errsize)
{
    int64_t ints[N_PROPS] = {0};
    for (size_t i = 0; i < N_PROPS; i++) {
        const prop *p = &props[i];
        if (p->type == T_INT && parse_int(p, cfg->values[i], &ints[i], err, errsize) != 0)
            return -1;
        if (p->type == T_ENUM && !enum_ok(p, cfg->values[i])) {
            snprintf(err, errsize,
                     "invalid value for parameter \"%s\": \"%s\"\nhint: Use one of %s.", p->key,
                     cfg->values[i], p->choices);
            return -1;
        }
    }
    size_t ix = 0;
#define S(k) (find(k, &ix) ? cfg->values[ix] : "")
#define I(k) (find(k, &ix) ? ints[ix] : 0)
    cfg->listen = S("serve.listen");
    cfg->public_url = S("serve.public_url");
    cfg->pg_dsn = S("pg.dsn");
    cfg->pg_pool_size = I("serve.pg_pool_size");
    cfg->pg_statement_timeout_ms = I("serve.pg_statement_timeout_ms");
    cfg->pg_wait_ms = I("serve.pg_wait_ms");
    cfg->connection_limit = I("serve.connection_limit");
    cfg->per_ip_connection_limit = I("serve.per_ip_connection_limit");
    cfg->connection_timeout_s = I("serve.connection_timeout_s");
    cfg->max_body_bytes = I("serve.max_body_bytes");
    cfg->max_field_bytes = I("serve.max_field_bytes");
    cfg->max_fields = I("serve.max_fields");
    cfg->session_idle_s = I("session.idle_timeout_s");
    cfg->session_absolute_s = I("session.absolute_timeout_s");
    cfg->cookie_secure = S("session.cookie_secure");
    cfg->signin_per_minute = I("rate.signin_per_minute");
    cfg->posts_per_minute = I("rate.posts_per_minute");
    cfg->trusted_header = S("auth.trusted_header");
    cfg->trusted_peers = S("auth.trusted_peers");
    cfg->log_level = S("log.level");
#undef S
#undef I
    const char *colon = strrchr(cfg->listen, ':');
    if (!colon || colon == cfg->listen) {
        snprintf(err, errsize,
                 "invalid value for parameter \"serve.listen\": \"%s\"\n"
                 "hint: Use host:port, e.g. 127.0.0.1:8080.",
                 cfg->listen);
        return -1;
    }
    char host[256];
    size_t hl = (size_t)(colon - cfg->listen);
    if (hl >= sizeof host)
        hl = sizeof host - 1;
    memcpy(host, cfg->listen, hl);
    host[hl] = '\0';
    struct in_addr a;
    cfg->loopback = strcmp(host, "localhost") == 0 ||
                    (inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127);
    int https = 0;
    char url[600];
    if (*cfg->public_url) {
        snprintf(url, sizeof url, "%s", cfg->public_url);
    } else {
        snprintf(url, sizeof url, "http://%s", cfg->listen);
    }
    if (url_origin(url, cfg->origin, sizeof cfg->origin, &https) != 0) {
        snprintf(err, errsize,
                 "invalid value for parameter \"serve.public_url\": \"%s\"\n"
                 "hint: Use an http:// or https:// URL without a user name.",
                 cfg->public_url);
        return -1;
    }
    if (strcmp(cfg->cookie_secure, "on") == 0)
        cfg->secure_cookie = 1;
    else if (strcmp(cfg->cookie_secure, "off") == 0)
        cfg->secure_cookie = 0;
    else
        cfg->secure_cookie = https || !cfg->loopback;
    if (*cfg->trusted_header && !*cfg->trusted_peers) {
        snprintf(err, errsize,
                 "parameter \"auth.trusted_header\" needs \"auth.trusted_peers\"\n"
                 "hint: List the addresses of the proxies that set the header.");
        return -1;
    }
    return 0;
}

/* Masks password=... in a connection string or the password of a URI. */
static void masked(const char *v, char *out, size_t size)
{
    snprintf(out, size, "%s", v);
    char *p = strstr(out, "password=");
    if (p) {
        p += 9;
        size_t n = strcspn(p, " ");
        memmove(p + 4, p + n, strlen(p + n) + 1);
        memcpy(p, "****", 4);
    }
    char *at = strchr(out, '@'), *sl = strstr(out, "://");
    if (at && sl && at > sl) {
        char *colon = memchr(sl + 3, ':', (size_t)(at - sl - 3));
        if (colon) {
            memmove(colon + 5, at, strlen(at) + 1);
            memcpy(colon, ":****", 5);
        }
    }
}

void sv_config_print(const sv_config *cfg, FILE *out)
{
    for (size_t i = 0; i < N_PROPS; i++) {
        char v[1024];
        if (props[i].secret)
            masked(cfg->values[i], v, sizeof v);
        else
            snprintf(v, sizeof v, "%s", cfg->values[i]);
        fprintf(out, "%s = %s  # %s\n", props[i].key, v, src_names[cfg->sources[i]]);
    }
}

void sv_config_print_help(FILE *out)
{
    for (size_t i = 0; i < N_PROPS; i++) {
        char env[128];
        env_name(props[i].key, env, sizeof env);
        fprintf(out, "  %-32s default \"%s\"%s%s%s (%s)\n", props[i].key, props[i].def,
                props[i].choices ? ", one of " : "", props[i].choices ? props[i].choices : "", "",
                env);
    }
}

void sv_config_print_reference(FILE *out)
{
    fprintf(out, "| key | default | environment | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < N_PROPS; i++) {
        char env[128];
        env_name(props[i].key, env, sizeof env);
        fprintf(out, "| `%s` | `%s` | `%s` | %s%s%s |\n", props[i].key, props[i].def, env,
                props[i].help, props[i].choices ? " One of " : "",
                props[i].choices ? props[i].choices : "");
    }
}
