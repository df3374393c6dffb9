/*
 * `flywheel review`: the pieces shared by its files.
 *
 *   cmd_review.c     the subcommand table, connection and error helpers
 *   review_admin.c   rubric create|show, queue create|list|show|pause, fill, stats
 *   review_ops.c     claim, submit, skip, release, adjudicate (--json for scripts)
 *   review_tui.c     `review start`: the interactive terminal reviewer
 *   review_text.c    UTF-8 wrapping, sentence spans and message rendering
 *                    (no I/O beyond a FILE *, unit-tested)
 *
 * Every operation is a call of a flywheel.review_* SQL function with its
 * arguments as parameters: the CLI holds no review logic the database does
 * not also enforce.
 */
#ifndef FW_REVIEW_H
#define FW_REVIEW_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

/* Exit status of `claim` when the queue has nothing for this reviewer. */
#define FW_REVIEW_EXIT_EMPTY 3

/* Options every subcommand shares. */
typedef struct {
    const char *dsn; /* --dsn */
    const char *as;  /* --as: reviewer name (admins only, else the login role) */
} fw_review_common;

/*
 * Makes "--as" usable where $USER is unset (root in a container), called
 * before and after option parsing:
 *   fw_review_fix_trailing_as(argc, argv)  a last argument "--as" (from an
 *        unquoted `--as $USER`) becomes "--as=", an empty value;
 *   fw_review_resolve_as(cmd, &as)        an empty value means the login
 *        name (getpwuid(geteuid())), said on stderr; a value that starts
 *        with "-" (the next option, taken as the name) is refused with a
 *        message saying why. Returns 0, or -1 after printing the error.
 * Without --as the reviewer is the database login, as before.
 */
void fw_review_fix_trailing_as(int argc, char **argv);
int fw_review_resolve_as(const char *cmd, const char **as);

/*
 * Runs a parameterised statement. On success returns the result (caller
 * PQclear()s it). On failure prints the error in PostgreSQL's style
 * ("flywheel review <sub>: message", then DETAIL and HINT lines) and returns
 * NULL. `field` (may be NULL) receives the failing rubric field named by the
 * error's COLUMN, or "" when there is none.
 */
PGresult *fw_review_exec(PGconn *conn, const char *sub, const char *sql, int nparams,
                         const char *const *params, char *field, size_t fieldsize);

/* Reads a whole file ("-" = stdin) into a NUL-terminated malloc'ed buffer;
 * NULL with a message on stderr on failure. */
char *fw_review_read_file(const char *sub, const char *path);

/* Parses JSON text, printing "file:line:column: message" on failure. */
json_t *fw_review_parse_json(const char *sub, const char *what, const char *text);

int fw_review_admin_rubric(int argc, char **argv);
int fw_review_admin_queue(int argc, char **argv);
int fw_review_admin_fill(int argc, char **argv);
int fw_review_admin_stats(int argc, char **argv);
int fw_review_op_claim(int argc, char **argv);
int fw_review_op_submit(int argc, char **argv);
int fw_review_op_skip(int argc, char **argv);
int fw_review_op_release(int argc, char **argv);
int fw_review_op_adjudicate(int argc, char **argv);
int fw_review_start(int argc, char **argv);

#endif
