/*
 * `flywheel serve`: runs the web review server (serve/) until SIGINT or
 * SIGTERM. Argument parsing and the configuration's layers only; the
 * server is the fw_serve library.
 */
#include "cli.h"
#include "log.h"
#include "serve.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void serve_usage(FILE *f)
{
    fprintf(f, "usage: flywheel serve [--listen HOST:PORT] [--dsn DSN] [--config FILE]\n"
               "                      [--set KEY=VALUE]... [--print-config]\n\n"
               "Serves the review queues in a browser. Reviewers sign in with the one-time links\n"
               "that `flywheel reviewer add|link` prints. Binds 127.0.0.1:8080 unless told\n"
               "otherwise. Configuration keys (also FLYWHEEL_<KEY> variables):\n\n");
    sv_config_print_help(f);
}

int fw_cmd_serve(int argc, char **argv)
{
    sv_config cfg;
    char err[1024];
    if (sv_config_init(&cfg) != 0) {
        fprintf(stderr, "flywheel serve: out of memory\n");
        return 1;
    }
    int rc = 1, print = 0;
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            file = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            file = argv[i] + 9;
        }
    }
    if (file && sv_config_load_file(&cfg, file, err, sizeof err) != 0)
        goto usage_err;
    if (sv_config_load_env(&cfg, err, sizeof err) != 0)
        goto usage_err;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *key = NULL, *val = NULL;
        char kv[900];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            serve_usage(stdout);
            sv_config_free(&cfg);
            return 0;
        } else if (strcmp(a, "--print-config") == 0) {
            print = 1;
            continue;
        } else if (strcmp(a, "--print-config-reference") == 0) {
            sv_config_print_reference(stdout);
            sv_config_free(&cfg);
            return 0;
        } else if (strcmp(a, "--config") == 0) {
            i++;
            continue;
        } else if (strncmp(a, "--config=", 9) == 0) {
            continue;
        } else if ((strcmp(a, "--listen") == 0 || strcmp(a, "--dsn") == 0) && i + 1 < argc) {
            key = strcmp(a, "--listen") == 0 ? "serve.listen" : "pg.dsn";
            val = argv[++i];
        } else if (strcmp(a, "--set") == 0 && i + 1 < argc) {
            snprintf(kv, sizeof kv, "%s", argv[++i]);
            char *eq = strchr(kv, '=');
            if (!eq) {
                snprintf(err, sizeof err, "--set needs KEY=VALUE, got \"%s\"", kv);
                goto usage_err;
            }
            *eq = '\0';
            key = kv;
            val = eq + 1;
        } else {
            snprintf(err, sizeof err, "unknown option \"%s\"", a);
            goto usage_err;
        }
        if (sv_config_set(&cfg, key, val, SV_SRC_FLAG, err, sizeof err) != 0)
            goto usage_err;
    }
    if (sv_config_finish(&cfg, err, sizeof err) != 0) {
        fw_cli_error("serve", err);
        sv_config_free(&cfg);
        return 2;
    }
    if (print) {
        sv_config_print(&cfg, stdout);
        sv_config_free(&cfg);
        return 0;
    }
    fw_log_set_component("serve");
    fw_log_level lvl;
    if (fw_log_parse_level(cfg.log_level, &lvl) == 0)
        fw_log_set_level(lvl);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts */
    signal(SIGPIPE, SIG_IGN);

    sv_server *s = sv_server_start(&cfg, err, sizeof err);
    if (!s) {
        fw_cli_error("serve", err);
        goto done;
    }
    char q[600];
    fw_log_info("serving", "url=%s port=%d secure_cookie=%d", fw_log_quote(q, sizeof q, cfg.origin),
                sv_server_port(s), cfg.secure_cookie);
    int sig = 0;
    sigwait(&set, &sig);
    fw_log_info("stopping", "signal=%d", sig);
    sv_server_stop(s);
    rc = 0;
done:
    sv_config_free(&cfg);
    return rc;
usage_err:
    fw_cli_error("serve", err);
    serve_usage(stderr);
    sv_config_free(&cfg);
    return 2;
}
