/*
 * flywheel-collector: consumes flywheel.v1 events from Kafka and stores
 * them in PostgreSQL exactly once (see consumer.h and pg_sink.h).
 *
 * This file is the process shell: command line, configuration sources,
 * logging, signals, the HTTP endpoint, and the exit status (0 after
 * SIGTERM/SIGINT, 1 on a fatal error, 2 on a usage or configuration error).
 */
#include "config.h"
#include "consumer.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#ifndef FW_VERSION_STR
#define FW_VERSION_STR "unknown"
#endif

static volatile sig_atomic_t g_stop = 0;
static volatile sig_atomic_t g_reopen = 0;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_reopen = 1;
    else
        g_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: flywheel-collector [options]\n"
            "\n"
            "Consumes flywheel.v1 events from Kafka and stores them in PostgreSQL, exactly\n"
            "once: rows, dead letters and each partition's next offset are written in one\n"
            "transaction.\n"
            "\n"
            "options:\n"
            "  -c, --config FILE        read `key = value` lines from FILE\n"
            "  --set KEY=VALUE          set any key (same as --KEY=VALUE)\n"
            "  --print-config           print the effective configuration with sources and exit\n"
            "  --print-config-reference print the configuration reference (Markdown) and exit\n"
            "  --version                print the version and exit\n"
            "  -h, --help               show this help\n"
            "\n"
            "configuration keys (file < FLYWHEEL_<KEY> environment < flags):\n");
    fw_config_print_help(f);
    fprintf(f, "\nsignals: TERM/INT finish the batch in flight and exit 0; HUP reopens log.file\n");
}

int main(int argc, char **argv)
{
    fw_config cfg;
    char err[1024];
    int print = 0, rc = 2;
    const char *config_file = NULL;
    fw_log_set_component("collector");
    if (fw_config_init(&cfg) != 0) {
        fprintf(stderr, "flywheel-collector: out of memory\n");
        return 1;
    }
    /* First pass: the flags that stop early and the config file. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            rc = 0;
            goto out;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("flywheel-collector %s\n", FW_VERSION_STR);
            rc = 0;
            goto out;
        }
        if (strcmp(argv[i], "--print-config-reference") == 0) {
            fw_config_print_reference(stdout);
            rc = 0;
            goto out;
        }
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            config_file = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            config_file = argv[i] + 9;
    }
    if (config_file && fw_config_load_file(&cfg, config_file, err, sizeof err) != 0)
        goto bad;
    if (fw_config_load_env(&cfg, err, sizeof err) != 0)
        goto bad;
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
            snprintf(err, sizeof err, "unrecognized argument \"%.200s\"", a);
            goto bad;
        }
        char *eq = strchr(kv, '=');
        if (!eq) {
            snprintf(err, sizeof err, "expected KEY=VALUE, got \"%.200s\"", kv);
            goto bad;
        }
        *eq = '\0';
        if (fw_config_set(&cfg, kv, eq + 1, FW_SRC_FLAG, err, sizeof err) != 0)
            goto bad;
    }
    if (print) {
        fw_config_print(&cfg, stdout);
        rc = 0;
        goto out;
    }
    if (fw_config_finish(&cfg, err, sizeof err) != 0)
        goto bad;
    fw_log_level lvl;
    if (fw_log_parse_level(cfg.log_level, &lvl) == 0)
        fw_log_set_level(lvl);
    if (*cfg.log_file && fw_log_open(cfg.log_file) != 0) {
        snprintf(err, sizeof err, "could not open log file \"%s\"", cfg.log_file);
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

    fw_metrics_init();
    fw_http *http = NULL;
    if (*cfg.http_listen) {
        http = fw_http_start(cfg.http_listen, err, sizeof err);
        if (!http) {
            rc = 1;
            goto bad;
        }
        fw_log_info("http listening", "address=%s port=%d", cfg.http_listen, fw_http_port(http));
    }
    rc = fw_consumer_run(&cfg, &g_stop, &g_reopen);
    fw_http_stop(http);
    fw_log_info("collector stopped", "status=%d", rc);
    goto out;
bad:
    fprintf(stderr, "flywheel-collector: %s\n", err);
    if (rc == 2)
        fprintf(stderr, "Try \"flywheel-collector --help\".\n");
out:
    fw_config_free(&cfg);
    return rc;
}
