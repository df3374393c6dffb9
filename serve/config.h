/*
 * Configuration of `flywheel serve`: its property table (config.c) drives
 * parsing, validation, --help, --print-config and the reference in
 * docs/configuration.md, through common/config's engine (fw_props.h):
 * sv_config_init, then fw_props_load_file / fw_props_load_env /
 * fw_props_set on cfg->props, then sv_config_finish; fw_props_print for
 * --print-config. Precedence, lowest to highest: default < configuration
 * file (--config FILE, `key = value`, `#` comments, no ${VAR} expansion) <
 * environment (FLYWHEEL_<KEY>, dots as underscores, upper case:
 * serve.listen is FLYWHEEL_SERVE_LISTEN, pg.dsn is FLYWHEEL_PG_DSN) <
 * command-line flags (--set key=value, --listen, --dsn). Unknown keys are
 * errors. Every value remembers its source, for --print-config.
 */
#ifndef FW_SERVE_CONFIG_H
#define FW_SERVE_CONFIG_H

#include "fw_props.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    /* typed values, filled by sv_config_finish */
    const char *listen;
    const char *public_url; /* "" until finish: then http://<listen> when not set */
    const char *pg_dsn;
    int64_t pg_pool_size;
    int64_t pg_statement_timeout_ms;
    int64_t pg_wait_ms;
    int64_t connection_limit;
    int64_t per_ip_connection_limit;
    int64_t connection_timeout_s;
    int64_t max_body_bytes;
    int64_t max_field_bytes;
    int64_t max_fields;
    int64_t session_idle_s;
    int64_t session_absolute_s;
    const char *cookie_secure; /* auto|on|off */
    int64_t signin_per_minute;
    int64_t posts_per_minute;
    const char *trusted_header;
    const char *trusted_peers;
    const char *log_level;
    const char *collector_metrics; /* dash.collector_metrics: comma-separated URLs */
    int64_t metrics_timeout_ms;

    /* derived by finish */
    int secure_cookie; /* the cookie gets Secure and the __Host- prefix */
    char origin[512];  /* scheme://host[:port] of public_url */
    int loopback;      /* listen address is a loopback address */

    fw_props props; /* the raw values and their sources */
} sv_config;

/* Initialises cfg with the defaults. Returns 0 or -1 (out of memory). */
int sv_config_init(sv_config *cfg);
void sv_config_free(sv_config *cfg);
/* Validates cfg->props and fills the typed and derived fields. Returns 0,
 * or -1 with a message. */
int sv_config_finish(sv_config *cfg, char *err, size_t errsize);
/* The keys part of `flywheel serve --help`. */
void sv_config_print_help(FILE *out);
/* The Markdown table of docs/configuration.md's `flywheel serve` section. */
void sv_config_print_reference(FILE *out);

#endif
