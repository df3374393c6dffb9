/*
 * The property table of `flywheel serve` and everything derived from it.
 * Adding a key means one row in `props` and, when the code needs it typed,
 * one line in sv_config_finish; --help, --print-config and the reference
 * follow. The engine (sources, parsing, validation, --print-config) is
 * common/config's; the --help and reference formats here are serve's own.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

static const fw_prop props[] = {
    {"serve.listen", FW_PROP_STRING, "127.0.0.1:8080", 0, 0, NULL, 0, 0,
     "Address to listen on, `host:port` (IPv4). Loopback by default: put a TLS reverse proxy "
     "in front to serve other machines."},
    {"serve.public_url", FW_PROP_STRING, "", 0, 0, NULL, 0, 0,
     "The URL browsers use to reach the server, e.g. `https://review.example.com`. Its origin "
     "is the only one accepted on form posts, and it starts the sign-in links that "
     "`flywheel reviewer` prints. Empty: `http://` and `serve.listen`."},
    {"pg.dsn", FW_PROP_STRING, "", 0, 0, NULL, 1, 0,
     "libpq connection string of the server's login, a member of `flywheel_web` (it can only "
     "switch to the reviewer roles granted to `flywheel_web`). Empty: libpq's PG* variables."},
    {"serve.pg_pool_size", FW_PROP_INT, "8", 1, 256, NULL, 0, 0,
     "PostgreSQL connections shared by the request threads."},
    {"serve.pg_statement_timeout_ms", FW_PROP_INT, "10000", 100, 3600000, NULL, 0, 0,
     "`statement_timeout` of the server's connections."},
    {"serve.pg_wait_ms", FW_PROP_INT, "5000", 1, 600000, NULL, 0, 0,
     "How long a request waits for a free connection before it is answered 503."},
    {"serve.connection_limit", FW_PROP_INT, "128", 4, 10000, NULL, 0, 0,
     "Concurrent HTTP connections (each has its own thread)."},
    {"serve.per_ip_connection_limit", FW_PROP_INT, "32", 0, 10000, NULL, 0, 0,
     "Concurrent HTTP connections from one address (0: no limit)."},
    {"serve.connection_timeout_s", FW_PROP_INT, "30", 1, 3600, NULL, 0, 0,
     "Idle HTTP connections are closed after this many seconds."},
    {"serve.max_body_bytes", FW_PROP_INT, "262144", 1024, 16777216, NULL, 0, 0,
     "Largest request body; larger ones are answered 413."},
    {"serve.max_field_bytes", FW_PROP_INT, "131072", 64, 16777216, NULL, 0, 0,
     "Largest form field (a correction, a note); larger ones are answered 413."},
    {"serve.max_fields", FW_PROP_INT, "512", 8, 100000, NULL, 0, 0,
     "Most form fields in one request (span labels are one field per sentence)."},
    {"session.idle_timeout_s", FW_PROP_INT, "7200", 60, 2592000, NULL, 0, 0,
     "A session unused this long is signed out."},
    {"session.absolute_timeout_s", FW_PROP_INT, "43200", 300, 31536000, NULL, 0, 0,
     "A session is signed out this long after sign-in, however busy."},
    {"session.cookie_secure", FW_PROP_ENUM, "auto", 0, 0, "auto|on|off", 0, 0,
     "`on`: the session cookie is `Secure` with the `__Host-` prefix (HTTPS only). `auto`: on "
     "unless the server listens on loopback and `serve.public_url` is not `https://`."},
    {"rate.signin_per_minute", FW_PROP_INT, "10", 1, 100000, NULL, 0, 0,
     "Sign-in attempts per client address per minute; more are answered 429."},
    {"rate.posts_per_minute", FW_PROP_INT, "240", 1, 100000, NULL, 0, 0,
     "Form posts per session per minute; more are answered 429."},
    {"auth.trusted_header", FW_PROP_STRING, "", 0, 0, NULL, 0, 0,
     "Single sign-on through a proxy: the header naming the signed-in account (e.g. "
     "`X-Forwarded-User`), believed only from `auth.trusted_peers`. Empty: off."},
    {"auth.trusted_peers", FW_PROP_STRING, "", 0, 0, NULL, 0, 0,
     "Comma-separated IPv4 addresses of the proxies allowed to send `auth.trusted_header`."},
    {"log.level", FW_PROP_ENUM, "info", 0, 0, "error|warn|info|debug", 0, 0, "Log threshold."},
    {"dash.collector_metrics", FW_PROP_STRING, "", 0, 0, NULL, 0, 0,
     "Comma-separated `http://` URLs of the collectors' `/metrics`, read when the Collector and "
     "ingest dashboard is shown (consumer lag per partition, PostgreSQL up, paused). Empty: the "
     "page shows the store's numbers only."},
    {"dash.metrics_timeout_ms", FW_PROP_INT, "1000", 50, 10000, NULL, 0, 0,
     "How long the Collector and ingest dashboard waits for all of `dash.collector_metrics` "
     "together; a collector that has not answered by then is shown as unreachable."},
};
#define N_PROPS (sizeof props / sizeof props[0])

/* No pass-through keys; a file's values are taken as written. */
static const fw_props_table table = {props, N_PROPS, NULL, 0, 0};

int sv_config_init(sv_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    return fw_props_init(&cfg->props, &table);
}

void sv_config_free(sv_config *cfg)
{
    fw_props_free(&cfg->props);
    memset(cfg, 0, sizeof *cfg);
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
    if (fw_props_check(&cfg->props, err, errsize) != 0)
        return -1;
    const fw_props *p = &cfg->props;
#define S(k) fw_props_str(p, k)
#define I(k) fw_props_int(p, k)
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
    cfg->collector_metrics = S("dash.collector_metrics");
    cfg->metrics_timeout_ms = I("dash.metrics_timeout_ms");
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
    /* each collector metrics URL: http:// or https:// and a host */
    for (const char *u = cfg->collector_metrics; *u;) {
        size_t n = strcspn(u, ",");
        char one[600], origin[512];
        int tls;
        snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one ? n : sizeof one - 1), u);
        if (n >= sizeof one || url_origin(one, origin, sizeof origin, &tls) != 0) {
            snprintf(err, errsize,
                     "invalid value for parameter \"dash.collector_metrics\": \"%s\"\n"
                     "hint: Use comma-separated http:// URLs, e.g. "
                     "http://127.0.0.1:9464/metrics.",
                     cfg->collector_metrics);
            return -1;
        }
        u += n;
        if (*u == ',')
            u++;
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

void sv_config_print_help(FILE *out)
{
    for (size_t i = 0; i < N_PROPS; i++) {
        char env[128];
        fw_props_env_name(props[i].key, env, sizeof env);
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
        fw_props_env_name(props[i].key, env, sizeof env);
        fprintf(out, "| `%s` | `%s` | `%s` | %s%s%s |\n", props[i].key, props[i].def, env,
                props[i].help, props[i].choices ? " One of " : "",
                props[i].choices ? props[i].choices : "");
    }
}
