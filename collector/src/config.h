/*
 * Collector configuration: one property table (config.c) drives parsing,
 * validation, --help, --print-config and the reference in
 * docs/configuration.md (--print-config-reference).
 *
 * Precedence, lowest to highest: built-in default < configuration file
 * (`key = value`, `#` comments, ${VAR} expanded from the environment) <
 * environment (FLYWHEEL_<KEY> with dots as underscores, upper case: pg.dsn
 * is FLYWHEEL_PG_DSN) < command-line flags (--key=value or --set key=value).
 * Unknown keys are errors, except that any kafka.<property> not in the table
 * is passed to librdkafka as <property> (librdkafka then validates it).
 * Every value remembers where it came from, for --print-config.
 */
#ifndef FW_CONFIG_H
#define FW_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { FW_SRC_DEFAULT = 0, FW_SRC_FILE, FW_SRC_ENV, FW_SRC_FLAG } fw_source;

typedef struct {
    char *key; /* the librdkafka property, without "kafka." */
    char *value;
    fw_source source;
} fw_kafka_prop;

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

    /* raw values and their sources, indexed like the property table */
    char **values;
    fw_source *sources;
    fw_kafka_prop *kafka;
    size_t n_kafka;
} fw_config;

/* Initialises cfg with the defaults. Returns 0 or -1 (out of memory). */
int fw_config_init(fw_config *cfg);
void fw_config_free(fw_config *cfg);

/* Sets one key from a source. Returns 0, or -1 with a message in err
 * ("unrecognized configuration parameter \"x\""); on error nothing changes. */
int fw_config_set(fw_config *cfg, const char *key, const char *value, fw_source src, char *err,
                  size_t errsize);

/* Reads a configuration file. Returns 0, or -1 with "path:line: message". */
int fw_config_load_file(fw_config *cfg, const char *path, char *err, size_t errsize);

/* Applies FLYWHEEL_* variables of the table's keys. Returns 0 or -1. */
int fw_config_load_env(fw_config *cfg, char *err, size_t errsize);

/* Validates and fills the typed fields. Returns 0, or -1 with a message
 * (an invalid number, a value out of range, a required key missing). */
int fw_config_finish(fw_config *cfg, char *err, size_t errsize);

/* `key = value  # source` for every key, secrets masked. */
void fw_config_print(const fw_config *cfg, FILE *out);

/* The options part of --help. */
void fw_config_print_help(FILE *out);

/* The Markdown reference (the collector section of docs/configuration.md). */
void fw_config_print_reference(FILE *out);

/* Copies `dsn` into out with any password masked. */
void fw_config_mask_dsn(const char *dsn, char *out, size_t size);

#endif
