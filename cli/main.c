/*
 * flywheel: the command-line tool for the Flywheel store. One subcommand per
 * job; each lives in its own file and is listed in the table below, which
 * also drives `flywheel help`.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#ifndef FW_VERSION_STR
#define FW_VERSION_STR "unknown"
#endif

typedef struct {
    const char *name;
    fw_cli_fn fn;
    const char *summary;
} command;

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const command commands[] = {
    {"migrate", fw_cmd_migrate, "apply schema migrations; `migrate status`, `migrate repair`"},
    {"maintain", fw_cmd_maintain, "create upcoming partitions (run daily from cron)"},
    {"dlq", fw_cmd_dlq, "inspect and replay dead letters: list, show, replay"},
    {"review", fw_cmd_review, "review queues, rubrics and the terminal reviewer"},
    {"export", fw_cmd_export, "export labelled data as JSONL datasets"},
    {"dataset", fw_cmd_dataset, "list, show and diff dataset versions"},
    {"eval", fw_cmd_eval, "eval runs: run, list, show, compare (release gate), agreement"},
    {"stats", fw_cmd_stats, "summary of traffic, latency, cost, feedback and queues"},
    {"keys", fw_cmd_keys, "project keys of flywheel-gateway: create, list, revoke"},
    {"serve", fw_cmd_serve, "the review queues in a browser (web server)"},
    {"reviewer", fw_cmd_reviewer, "web review accounts: add, link, list, disable"},
    {"version", cmd_version, "print the version"},
    {"help", cmd_help, "show this help"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: flywheel <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun `flywheel <command> --help` for a command's options.\n"
               "The database is --dsn, else $FLYWHEEL_PG_DSN, else libpq's PG* variables.\n");
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("flywheel %s\n", FW_VERSION_STR);
    return 0;
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    usage(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(argc - 1, argv + 1);
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "flywheel: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
