/*
 * The start of a daemon (fw_daemon.h). The command line is read twice: a
 * first pass acts on the options that stop at once (--help, --version,
 * --print-config-reference) and finds the configuration file; the file
 * and the environment are applied; the second pass applies the keys given
 * as flags, so that flags win whatever their position.
 */
#include "fw_daemon.h"

#include "log.h"

#include <string.h>

static volatile sig_atomic_t g_stop = 0;
static volatile sig_atomic_t g_reopen = 0;

volatile sig_atomic_t *fw_daemon_stop_flag(void)
{
    return &g_stop;
}

volatile sig_atomic_t *fw_daemon_reopen_flag(void)
{
    return &g_reopen;
}

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_reopen = 1;
    else
        g_stop = 1;
}

void fw_daemon_usage(const fw_daemon *d, FILE *out)
{
    fprintf(out,
            "usage: %s [options]\n"
            "\n"
            "%s"
            "\n"
            "options:\n"
            "  -c, --config FILE        read `key = value` lines from FILE\n"
            "  --set KEY=VALUE          set any key (same as --KEY=VALUE)\n"
            "  --print-config           print the effective configuration with sources and exit\n"
            "  --print-config-reference print the configuration reference (Markdown) and exit\n"
            "  --version                print the version and exit\n"
            "  -h, --help               show this help\n"
            "\n"
            "configuration keys (file < FLYWHEEL_<KEY> environment < flags):\n",
            d->name, d->summary);
    fw_props_print_help(d->table, out);
    if (d->help_tail)
        fputs(d->help_tail, out);
    fprintf(out, "\nsignals: %s\n", d->signals);
}

void fw_daemon_print_reference(const fw_daemon *d, FILE *out)
{
    fprintf(out,
            "Set in a file given with `--config FILE` (`key = value`, `#` comments, `${VAR}` "
            "expanded from the environment), in the environment as `FLYWHEEL_<KEY>` (dots as "
            "underscores, upper case), or as flags `--key=value`; later sources win in that "
            "order. Unknown keys are errors%s%s. `%s --print-config` shows the effective values "
            "and where each came from, secrets masked.\n\n",
            d->reference_passthrough ? "; " : "",
            d->reference_passthrough ? d->reference_passthrough : "", d->name);
    fw_props_print_reference(d->table, out);
    if (d->reference_tail)
        fputs(d->reference_tail, out);
}

int fw_daemon_fail(const fw_daemon *d, int status, const char *err)
{
    fprintf(stderr, "%s: %s\n", d->name, err);
    if (status == 2)
        fprintf(stderr, "Try \"%s --help\".\n", d->name);
    return status;
}

/* Applies the keys given as flags (the second pass). Returns 1 when
 * --print-config was given, 0 otherwise, -1 with err set on a bad argument
 * or key. */
static int apply_flags(fw_props *props, int argc, char **argv, char *err, size_t errsize)
{
    int print = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char kv[4096];
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--config=", 9) == 0)
            continue;
        if (strcmp(a, "--print-config") == 0) {
            print = 1;
            continue;
        }
        if (strcmp(a, "--set") == 0 && i + 1 < argc)
            snprintf(kv, sizeof kv, "%s", argv[++i]);
        else if (strncmp(a, "--", 2) == 0 && strchr(a, '='))
            snprintf(kv, sizeof kv, "%s", a + 2);
        else if (strncmp(a, "--", 2) == 0 && i + 1 < argc && argv[i + 1][0] != '-')
            snprintf(kv, sizeof kv, "%s=%s", a + 2, argv[++i]);
        else {
            snprintf(err, errsize, "unrecognized argument \"%.200s\"", a);
            return -1;
        }
        char *eq = strchr(kv, '=');
        if (!eq) {
            snprintf(err, errsize, "expected KEY=VALUE, got \"%.200s\"", kv);
            return -1;
        }
        *eq = '\0';
        if (fw_props_set(props, kv, eq + 1, FW_PROPS_SRC_FLAG, err, errsize) != 0)
            return -1;
    }
    return print;
}

int fw_daemon_start(const fw_daemon *d, fw_props *props, void *ctx, int argc, char **argv)
{
    char err[1024];
    const char *config_file = NULL;
    int rc = 2;
    fw_log_set_component(d->component);
    if (fw_props_init(props, d->table) != 0) {
        fprintf(stderr, "%s: out of memory\n", d->name);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fw_daemon_usage(d, stdout);
            rc = 0;
            goto done;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("%s %s\n", d->name, d->version);
            rc = 0;
            goto done;
        }
        if (strcmp(argv[i], "--print-config-reference") == 0) {
            fw_daemon_print_reference(d, stdout);
            rc = 0;
            goto done;
        }
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            config_file = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            config_file = argv[i] + 9;
    }
    if (config_file && fw_props_load_file(props, config_file, err, sizeof err) != 0)
        goto bad;
    if (fw_props_load_env(props, err, sizeof err) != 0)
        goto bad;
    int print = apply_flags(props, argc, argv, err, sizeof err);
    if (print < 0)
        goto bad;
    if (print) {
        fw_props_print(props, stdout);
        rc = 0;
        goto done;
    }
    if (fw_props_check(props, err, sizeof err) != 0 || d->finish(ctx, err, sizeof err) != 0)
        goto bad;
    fw_log_level lvl;
    if (fw_log_parse_level(fw_props_str(props, "log.level"), &lvl) == 0)
        fw_log_set_level(lvl);
    const char *log_file = fw_props_str(props, "log.file");
    if (*log_file && fw_log_open(log_file) != 0) {
        snprintf(err, sizeof err, "could not open log file \"%s\"", log_file);
        goto bad;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return FW_DAEMON_RUN;
bad:
    fw_daemon_fail(d, rc, err);
done:
    fw_props_free(props);
    return rc;
}
