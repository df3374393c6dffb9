/*
 * The name rule of rubrics, review queues, datasets and eval runs, checked
 * before a name is sent: 1 to 63 characters, ASCII letters, digits, "_",
 * "." and "-", starting with a letter or a digit. The database holds the
 * same rule (flywheel.name_check in migrations/R__10_store.sql, and the
 * tables' CHECK constraints); checking it here too gives the message before
 * a connection is even made.
 */
#ifndef FW_CLI_NAMES_H
#define FW_CLI_NAMES_H

/* The rule as a sentence, for messages and --help. */
#define FW_CLI_NAME_RULE                                                                           \
    "1 to 63 characters: ASCII letters, digits, \"_\", \".\" and \"-\", starting with a letter "   \
    "or a digit"

/*
 * Returns 0 when `name` follows the rule. Otherwise prints
 *     flywheel <cmd>: invalid <kind> name "<name>": <what is wrong>
 *     DETAIL: A <kind> name is <the rule>.
 * on stderr and returns -1. `kind` is "rubric", "queue", "dataset", ...
 */
int fw_cli_check_name(const char *cmd, const char *kind, const char *name);

#endif
