/*
 * The configuration engine of the daemons and `flywheel serve`: one
 * property table per program drives parsing, validation, --help,
 * --print-config and the reference in docs/configuration.md. Each program
 * keeps its own table (the keys, their defaults, ranges and help) and its
 * typed view of the values in its own module; this engine holds what is the
 * same for all of them.
 *
 * Precedence, lowest to highest: the table's default < a configuration file
 * (`key = value`, `#` comments, optionally ${VAR} expanded from the
 * environment) < the environment (FLYWHEEL_<KEY>, dots as underscores, upper
 * case: pg.dsn is FLYWHEEL_PG_DSN) < command-line flags. The caller applies
 * the sources in that order; a later fw_props_set simply wins. Every value
 * remembers where it came from, for --print-config.
 *
 * Unknown keys are errors, except keys under a pass-through family of the
 * table (say "kafka.": any kafka.<property> not in the table is kept as
 * <property> for librdkafka, which validates it). A family can check its
 * values when they are set.
 *
 * An fw_props is used by one thread at a time; the table must outlive it.
 */
#ifndef FW_PROPS_H
#define FW_PROPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { FW_PROP_STRING, FW_PROP_INT, FW_PROP_ENUM } fw_prop_type;

/* One key of a program's table. */
typedef struct {
    const char *key;
    fw_prop_type type;
    const char *def;     /* the default, as text ("" for none) */
    int64_t min, max;    /* FW_PROP_INT: the valid range, inclusive */
    const char *choices; /* FW_PROP_ENUM: "a|b|c" */
    int secret;          /* a connection string: its password is masked when printed */
    int required;        /* fw_props_check refuses an empty value */
    const char *help;    /* Markdown; --help prints it without backquotes */
} fw_prop;

/* Keys passed through to another component under a prefix. */
typedef struct {
    const char *prefix; /* "kafka.": the kept name is what follows it */
    int mask_secrets;   /* print "****" for names that look secret (password, key pem) */
    /* Checks a value when it is set (NULL: any value): 0, or -1 with a
     * message in err ("invalid value for parameter" is put before it). */
    int (*check)(const char *value, char *err, size_t errsize);
} fw_props_family;

typedef struct {
    const fw_prop *props;
    size_t n_props;
    const fw_props_family *families; /* may be NULL when n_families is 0 */
    size_t n_families;
    int expand_env; /* fw_props_load_file expands ${VAR} in values */
} fw_props_table;

typedef enum {
    FW_PROPS_SRC_DEFAULT = 0,
    FW_PROPS_SRC_FILE,
    FW_PROPS_SRC_ENV,
    FW_PROPS_SRC_FLAG
} fw_props_source;

/* A pass-through key: name without the family's prefix, its value and source. */
typedef struct {
    char *key;
    char *value;
    fw_props_source source;
} fw_props_extra;

typedef struct {
    fw_props_extra *items;
    size_t n;
} fw_props_list;

typedef struct {
    const fw_props_table *table;
    char **values;            /* indexed like table->props */
    fw_props_source *sources; /* likewise */
    int64_t *ints;            /* FW_PROP_INT values, filled by fw_props_check */
    fw_props_list *extra;     /* one list per family, in the table's order */
} fw_props;

/* Initialises p with the table's defaults. Returns 0, or -1 when out of
 * memory (p is then empty: fw_props_free may still be called). */
int fw_props_init(fw_props *p, const fw_props_table *table);

/* Frees everything p holds; accepts an empty (zeroed) p. */
void fw_props_free(fw_props *p);

/* Sets one key from a source. Returns 0, or -1 with a message in err
 * ("unrecognized configuration parameter \"x\"", a family's refusal, out of
 * memory); on error nothing changes. */
int fw_props_set(fw_props *p, const char *key, const char *value, fw_props_source src, char *err,
                 size_t errsize);

/* Reads a configuration file: `key = value` lines, blank lines and `#`
 * comments; a value may be in double quotes. Returns 0, or -1 with
 * "path:line: message" (or "could not open configuration file ..."). The
 * keys set before the failing line stay set. */
int fw_props_load_file(fw_props *p, const char *path, char *err, size_t errsize);

/* Applies the FLYWHEEL_<KEY> variables of the table's keys. Returns 0 or -1
 * with a message. */
int fw_props_load_env(fw_props *p, char *err, size_t errsize);

/* Validates every value: required keys set, numbers within their range,
 * enums among their choices; fills p->ints. Returns 0, or -1 with a
 * PostgreSQL-style message (a hint on a second line where one helps). */
int fw_props_check(fw_props *p, char *err, size_t errsize);

/* The value of a table key ("" for a key not in the table). */
const char *fw_props_str(const fw_props *p, const char *key);

/* The number of an FW_PROP_INT key, valid after fw_props_check (0 for a key
 * not in the table). */
int64_t fw_props_int(const fw_props *p, const char *key);

/* The pass-through keys of the family with this prefix ("kafka."); *n is
 * set to their number. NULL and 0 when there are none. */
const fw_props_extra *fw_props_family_items(const fw_props *p, const char *prefix, size_t *n);

/* `key = value  # source` for every key, then every pass-through key,
 * secrets masked. */
void fw_props_print(const fw_props *p, FILE *out);

/* For --help: `  --key=VALUE (default D)` and the help text wrapped at about
 * 90 columns, without Markdown backquotes, for every key of the table. */
void fw_props_print_help(const fw_props_table *table, FILE *out);

/* The Markdown table `| key | environment | default | description |` of the
 * table's keys (header row included), for docs/configuration.md. */
void fw_props_print_reference(const fw_props_table *table, FILE *out);

/* The environment variable of a key: FLYWHEEL_ and the key upper-cased,
 * dots as underscores. */
void fw_props_env_name(const char *key, char *out, size_t size);

/* Copies a libpq connection string or URI into out with any password
 * masked as ****. */
void fw_props_mask_dsn(const char *dsn, char *out, size_t size);

/* "default", "file", "environment", "flag". */
const char *fw_props_source_name(fw_props_source src);

#endif
