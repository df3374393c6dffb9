/*
 * Gateway configuration: the gateway's property table (gw_config.c) and its
 * typed view. The engine — sources, precedence (default < file <
 * FLYWHEEL_<KEY> environment < flags), --help, --print-config and the
 * reference in docs/configuration.md — is common/config's (fw_props.h,
 * fw_daemon.h). Unknown keys are errors, except that any kafka.<property>
 * not in the table is passed to librdkafka as <property> (librdkafka then
 * validates it), and redact.regex.<label> adds a redaction rule.
 */
#ifndef FWG_CONFIG_H
#define FWG_CONFIG_H

#include "fw_daemon.h"
#include "fw_props.h"

#include <stddef.h>
#include <stdint.h>

/* redact.omit bits, in the order of the names accepted. */
enum {
    FWG_OMIT_INPUT = 1,
    FWG_OMIT_OUTPUT = 2,
    FWG_OMIT_TOOLS = 4,
    FWG_OMIT_SYSTEM = 8,
    FWG_OMIT_PVARS = 16,
    FWG_OMIT_ERROR = 32,
    FWG_OMIT_ATTRS = 64
};

typedef struct {
    /* typed values, filled by fwg_config_finish */
    const char *bootstrap_servers;
    const char *topic;
    const char *listen;
    int auth_keys; /* auth = keys */
    const char *project;
    const char *pg_dsn;
    int64_t keys_cache_s;
    int64_t max_body_bytes;
    int64_t max_inflated_bytes;
    int64_t max_connections;
    int64_t timeout_s;
    int64_t ack_timeout_ms;
    int64_t retry_after_s;
    int64_t max_attribute_bytes;
    int64_t max_attributes_bytes;
    unsigned redact_detectors; /* FWR_* bits */
    unsigned redact_omit;      /* FWG_OMIT_* bits */
    const char *log_level;
    const char *log_file;
    /* kafka.<property> keys not in the table: key is <property> */
    const fw_props_extra *kafka;
    size_t n_kafka;
    /* redact.regex.<label> keys: key is the label, value the pattern */
    const fw_props_extra *regex;
    size_t n_regex;

    fw_props props; /* the raw values and their sources */
} fwg_config;

/* The gateway's process: its name, --help text, property table and
 * fwg_config_finish (ctx is the fwg_config), for fw_daemon_start. */
extern const fw_daemon fwg_daemon;

/* Fills the typed fields of cfg from cfg->props, which has passed
 * fw_props_check, and checks what spans keys. Returns 0, or -1 with a
 * message. */
int fwg_config_finish(fwg_config *cfg, char *err, size_t errsize);

/* Frees cfg->props; the typed fields are cleared. */
void fwg_config_free(fwg_config *cfg);

#endif
