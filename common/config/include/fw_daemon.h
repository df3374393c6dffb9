/*
 * The start of a daemon (flywheel-collector, flywheel-gateway): its command
 * line, its configuration's sources, logging and signals, written once.
 *
 * The command line is
 *   -c, --config FILE         a configuration file (fw_props_load_file)
 *   --set KEY=VALUE, --KEY=VALUE, --KEY VALUE   any key of the table
 *   --print-config            the effective values with their sources
 *   --print-config-reference  the Markdown reference
 *   --version, -h, --help
 * and the sources apply in the order default < file < FLYWHEEL_<KEY>
 * environment < flags, whatever their order on the command line.
 *
 * Exit statuses, the same for every daemon: 0 after --help, --version and
 * the --print-* options (and, from the program, after SIGTERM or SIGINT),
 * 1 on a fatal error, 2 on a usage or configuration error.
 *
 * Signals: TERM and INT set the stop flag, HUP sets the reopen flag (the
 * program reopens log.file when it sees it); SIGPIPE is ignored. The flags
 * belong to the process: there is one daemon per process.
 */
#ifndef FW_DAEMON_H
#define FW_DAEMON_H

#include "fw_props.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
    const char *name;      /* "flywheel-collector": messages start with it */
    const char *component; /* the log's component= (a string literal) */
    const char *version;
    const char *summary; /* --help's paragraph, each line ending in "\n" */
    /* --help lines after the table's keys (the pass-through families), "" or NULL */
    const char *help_tail;
    const char *signals; /* --help's last line, after "signals: " */
    /* The reference's first paragraph ends "Unknown keys are errors; <this>."
     * (NULL: "Unknown keys are errors."). */
    const char *reference_passthrough;
    /* Rows after the table's in the reference (the pass-through families) */
    const char *reference_tail;
    const fw_props_table *table;
    /* The program's own validation after fw_props_check: the typed view of
     * the values and the checks across keys. Returns 0, or -1 with a
     * message. ctx is fw_daemon_start's. */
    int (*finish)(void *ctx, char *err, size_t errsize);
} fw_daemon;

/* The rows of the keys fw_daemon_start reads, log.level and log.file: put
 * them in the daemon's table (in the place its reference lists them). */
/* clang-format off */
#define FW_DAEMON_LOG_PROPS                                                                        \
    {"log.level", FW_PROP_ENUM, "info", 0, 0, "error|warn|info|debug", 0, 0, "Log threshold."},    \
    {"log.file", FW_PROP_STRING, "", 0, 0, NULL, 0, 0,                                             \
     "Append logs to this file instead of stderr; reopened on SIGHUP."}
/* clang-format on */

/* fw_daemon_start's answer when the program is to run. */
#define FW_DAEMON_RUN (-1)

/*
 * Initialises props with d->table, applies the command line and the
 * configuration's sources to it, validates it (fw_props_check, then
 * d->finish(ctx)), sets the log's component, level (log.level) and file
 * (log.file), and installs the signal handlers.
 *
 * Returns FW_DAEMON_RUN when the program is to run (props then holds the
 * configuration; the program frees it with fw_props_free), or the exit
 * status to return from main: 0 after --help, --version, --print-config or
 * --print-config-reference (printed on stdout), 1 when out of memory, 2 on
 * a usage or configuration error (printed on stderr with a pointer to
 * --help). In those cases props is already freed.
 */
int fw_daemon_start(const fw_daemon *d, fw_props *props, void *ctx, int argc, char **argv);

/* Prints "<name>: <err>" on stderr and, for status 2, the pointer to
 * --help. Returns status. */
int fw_daemon_fail(const fw_daemon *d, int status, const char *err);

/* --help's text (usage, options, the keys, signals). */
void fw_daemon_usage(const fw_daemon *d, FILE *out);

/* The configuration reference of docs/configuration.md (a paragraph on the
 * sources, the table, the pass-through rows). */
void fw_daemon_print_reference(const fw_daemon *d, FILE *out);

/* The flags the signal handlers set: stop (TERM, INT) and reopen (HUP).
 * The program clears reopen after acting on it. */
volatile sig_atomic_t *fw_daemon_stop_flag(void);
volatile sig_atomic_t *fw_daemon_reopen_flag(void);

#endif
