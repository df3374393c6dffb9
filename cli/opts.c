/* The shared options of every subcommand; see opts.h. */
#include "opts.h"

#include "cli.h"

#include <stdarg.h>
#include <string.h>

enum { K_DSN = 0x7f01, K_JSON, K_QUIET, K_HELP };

/* The one table of the shared options: name, argument, flag, help line. */
static const struct {
    unsigned flag;
    struct option opt;
    const char *help;
} common[] = {
    {FW_CLI_DSN,
     {"dsn", required_argument, NULL, K_DSN},
     "  --dsn DSN            libpq connection string (default $FLYWHEEL_PG_DSN,\n"
     "                       then the PG* environment variables)\n"},
    {FW_CLI_JSON,
     {"json", no_argument, NULL, K_JSON},
     "  --json               print JSON instead of text\n"},
    {FW_CLI_JSON_IN,
     {"json", optional_argument, NULL, K_JSON},
     "  --json [FILE|-]      JSON in (from FILE or stdin) and JSON out\n"},
    {FW_CLI_QUIET,
     {"quiet", no_argument, NULL, K_QUIET},
     "  -q, --quiet          print nothing on success\n"},
    {0, {"help", no_argument, NULL, K_HELP}, "  -h, --help           show this help\n"},
};

#define NCOMMON (sizeof common / sizeof common[0])

int fw_cli_status(int c)
{
    return c == FW_CLI_HELP ? 0 : 2;
}

void fw_cli_print_common(FILE *f, unsigned accepts)
{
    for (size_t i = 0; i < NCOMMON; i++)
        if (common[i].flag == 0 || (common[i].flag & accepts))
            fputs(common[i].help, f);
}

void fw_cli_errorf(const fw_cli *cli, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fw_cli_error(cli->cmd, msg);
}

static void help(const fw_cli *cli, FILE *f)
{
    if (cli->usage)
        cli->usage(f);
    else if (cli->usage_text)
        fputs(cli->usage_text, f);
    fputs("\nshared options:\n", f);
    fw_cli_print_common(f, cli->accepts);
}

static int setup(fw_cli *cli, const char *own_short, const struct option *own)
{
    size_t n = 0, max = sizeof cli->table / sizeof cli->table[0] - 1;
    for (; own && own[n].name; n++)
        if (n == max)
            return -1;
    if (n)
        memcpy(cli->table, own, n * sizeof *own);
    for (size_t i = 0; i < NCOMMON; i++) {
        if (common[i].flag != 0 && !(common[i].flag & cli->accepts))
            continue;
        if (n == max)
            return -1;
        cli->table[n++] = common[i].opt;
    }
    memset(&cli->table[n], 0, sizeof cli->table[n]);
    /* The leading ':' makes getopt tell a missing value (':') from an
     * unknown option ('?'). */
    snprintf(cli->shortopts, sizeof cli->shortopts, ":%s%s%s", own_short ? own_short : "",
             cli->accepts & FW_CLI_QUIET ? "q" : "", "h");
    cli->ready = 1;
    optind = 1;
    opterr = 0;
    return 0;
}

int fw_cli_next(fw_cli *cli, int argc, char **argv, const char *own_short, const struct option *own)
{
    if (!cli->ready && setup(cli, own_short, own) != 0) {
        fw_cli_errorf(cli, "too many options");
        return FW_CLI_USAGE;
    }
    for (;;) {
        int prev = optind;
        int c = getopt_long(argc, argv, cli->shortopts, cli->table, NULL);
        switch (c) {
        case -1:
            return -1;
        case K_DSN:
            cli->dsn = optarg;
            continue;
        case K_JSON:
            cli->json = 1;
            if (cli->accepts & FW_CLI_JSON_IN) {
                /* "--json FILE", "--json -" and "--json=FILE" all name the input. */
                if (optarg)
                    cli->json_file = optarg;
                else if (optind < argc &&
                         (argv[optind][0] != '-' || strcmp(argv[optind], "-") == 0))
                    cli->json_file = argv[optind++];
            }
            continue;
        case 'q':
        case K_QUIET:
            if (c == 'q' && !(cli->accepts & FW_CLI_QUIET))
                return c;
            cli->quiet = 1;
            continue;
        case 'h':
        case K_HELP:
            help(cli, stdout);
            return FW_CLI_HELP;
        case '?':
        case ':': {
            /* The offending element: the one getopt just stepped over (it
             * may have skipped operands before it, which it permutes later). */
            const char *arg = "";
            if (optind >= 1 && optind - 1 < argc && optind - 1 >= prev &&
                argv[optind - 1][0] == '-')
                arg = argv[optind - 1];
            else if (optind < argc)
                arg = argv[optind];
            if (optopt && c == ':')
                fw_cli_errorf(cli, "option \"%s\" needs a value", arg);
            else if (optopt && optopt < 256 && !strchr(arg, '-'))
                fw_cli_errorf(cli, "unknown option \"-%c\"", optopt);
            else
                fw_cli_errorf(cli, "unknown option \"%s\"", arg);
            help(cli, stderr);
            return FW_CLI_USAGE;
        }
        default:
            return c;
        }
    }
}
