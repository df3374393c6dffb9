/*
 * The options every `flywheel` subcommand shares, defined once: --dsn,
 * --json, --quiet and --help. A subcommand names the ones it takes
 * (FW_CLI_*) and its own options in a getopt_long table; fw_cli_next
 * parses both, handles the shared ones itself, prints --help (the
 * subcommand's usage followed by the shared options' lines from the one
 * table) and reports usage errors as "flywheel <full command>: ...".
 */
#ifndef FW_CLI_OPTS_H
#define FW_CLI_OPTS_H

#include <getopt.h>
#include <stdio.h>

#define FW_CLI_DSN     1u /* --dsn DSN */
#define FW_CLI_JSON    2u /* --json: machine-readable output */
#define FW_CLI_JSON_IN 4u /* --json[=FILE|-] (also "--json FILE"): JSON in and out */
#define FW_CLI_QUIET   8u /* -q, --quiet */

/* fw_cli_next's answers besides an own option's value and -1 (the end). */
#define FW_CLI_HELP  (-2) /* --help was printed: exit 0 */
#define FW_CLI_USAGE (-3) /* a usage error was printed: exit 2 */

typedef struct {
    const char *cmd;        /* the full command, "review claim", for every message */
    unsigned accepts;       /* FW_CLI_* */
    void (*usage)(FILE *f); /* the subcommand's own usage text, or: */
    const char *usage_text;
    /* Filled by fw_cli_next: */
    const char *dsn;       /* --dsn, or NULL */
    int json;              /* --json given */
    const char *json_file; /* with FW_CLI_JSON_IN: --json FILE, or NULL */
    int quiet;             /* -q, --quiet */
    /* Private. */
    struct option table[64];
    char shortopts[64];
    int ready;
} fw_cli;

/*
 * getopt_long over `own` (NULL-terminated; may be NULL) with the short
 * options `own_short` (may be NULL) plus the shared options the command
 * accepts. Returns the next own option's value (optarg set), -1 when the
 * options end (optind is the first operand), FW_CLI_HELP or FW_CLI_USAGE.
 * Reset with a fresh fw_cli for every argv.
 */
int fw_cli_next(fw_cli *cli, int argc, char **argv, const char *own_short,
                const struct option *own);

/* The exit status after fw_cli_next's FW_CLI_HELP (0) or FW_CLI_USAGE (2):
 *     while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) { ... }
 *     if (c != -1)
 *         return fw_cli_status(c); */
int fw_cli_status(int c);

/* Prints the help lines of the shared options in `accepts`. */
void fw_cli_print_common(FILE *f, unsigned accepts);

/* Prints "flywheel <cmd>: <fmt...>" on stderr (a trailing "\nhint: ..."
 * in the text goes on its own line, as the rest of the CLI prints it). */
void fw_cli_errorf(const fw_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
