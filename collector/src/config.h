/*
 * Collector configuration: the collector's property table (config.c) and
 * its typed view. The engine — sources, precedence (default < file <
 * FLYWHEEL_<KEY> environment < flags), --help, --print-config and the
 * reference in docs/configuration.md — is common/config's (fw_props.h,
 * fw_daemon.h). Unknown keys are errors, except that any kafka.<property>
 * not in the table is passed to librdkafka as <property> (librdkafka then
 * validates it).
 */
#ifndef FW_CONFIG_H
#define FW_CONFIG_H

#include "fw_daemon.h"
#include "fw_props.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    /* typed values, filled by fw_config_finish */
    const char *bootstrap_servers;
    const char *group_id;
    const char *topics;      /* comma-separated */
    const char *otlp_topics; /* comma-separated topic[:otlp_proto|otlp_json] */
    const char *otlp_project;
    const char *auto_offset_reset;
    const char *pg_dsn;
    int64_t batch_max_rows;
    int64_t batch_max_bytes;
    int64_t batch_max_wait_ms;
    int64_t max_message_bytes;
    int64_t max_field_bytes;
    int64_t retry_initial_ms;
    int64_t retry_max_ms;
    int64_t maintain_interval_s;
    const char *write_mode; /* "staging" or "direct" */
    const char *http_listen;
    const char *log_level;
    const char *log_file;
    const char *copy_dump; /* benchmark aid: also write COPY text here */
    /* kafka.<property> keys not in the table: key is <property> */
    const fw_props_extra *kafka;
    size_t n_kafka;

    fw_props props; /* the raw values and their sources */
} fw_config;

/* The collector's process: its name, --help text, property table and
 * fw_config_finish (ctx is the fw_config), for fw_daemon_start. */
extern const fw_daemon fw_collector_daemon;

/* Fills the typed fields of cfg from cfg->props, which has passed
 * fw_props_check, and checks what spans keys. Returns 0, or -1 with a
 * message. */
int fw_config_finish(fw_config *cfg, char *err, size_t errsize);

/* Frees cfg->props; the typed fields are cleared. */
void fw_config_free(fw_config *cfg);

#endif
