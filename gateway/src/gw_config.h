/*
 * Gateway configuration: one property table (gw_config.c) drives parsing,
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
#ifndef FWG_CONFIG_H
#define FWG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

typedef enum { FWG_SRC_DEFAULT = 0, FWG_SRC_FILE, FWG_SRC_ENV, FWG_SRC_FLAG } fwg_source;

typedef struct {
    char *key; /* the librdkafka property, without "kafka." */
    char *value;
    fwg_source source;
} fwg_kafka_prop;

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

    /* raw values and their sources, indexed like the property table */
    char **values;
    fwg_source *sources;
    fwg_kafka_prop *kafka;
    size_t n_kafka;
    fwg_kafka_prop *regex; /* redact.regex.<label>: key is the label */
    size_t n_regex;
} fwg_config;

/* Initialises cfg with the defaults. Returns 0 or -1 (out of memory). */
int fwg_config_init(fwg_config *cfg);
void fwg_config_free(fwg_config *cfg);

/* Sets one key from a source. Returns 0, or -1 with a message in err
 * ("unrecognized configuration parameter \"x\""); on error nothing changes. */
int fwg_config_set(fwg_config *cfg, const char *key, const char *value, fwg_source src, char *err,
                   size_t errsize);

/* Reads a configuration file. Returns 0, or -1 with "path:line: message". */
int fwg_config_load_file(fwg_config *cfg, const char *path, char *err, size_t errsize);

/* Applies FLYWHEEL_* variables of the table's keys. Returns 0 or -1. */
int fwg_config_load_env(fwg_config *cfg, char *err, size_t errsize);

/* Validates and fills the typed fields. Returns 0, or -1 with a message
 * (an invalid number, a value out of range, a required key missing). */
int fwg_config_finish(fwg_config *cfg, char *err, size_t errsize);

/* `key = value  # source` for every key, secrets masked. */
void fwg_config_print(const fwg_config *cfg, FILE *out);

/* The options part of --help. */
void fwg_config_print_help(FILE *out);

/* The Markdown reference (the gateway section of docs/configuration.md). */
void fwg_config_print_reference(FILE *out);

/* Copies `dsn` into out with any password masked. */
void fwg_config_mask_dsn(const char *dsn, char *out, size_t size);

#endif
