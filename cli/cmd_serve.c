/*
 * `flywheel serve`: runs the web review server (serve/) until SIGINT or
 * SIGTERM. Argument parsing and the configuration's layers only; the
 * server is the fw_serve library.
 */
#include "cli.h"
#include "opts.h"
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

enum { O_LISTEN = 1, O_CONFIG, O_SET, O_PRINT, O_PRINT_REF };

int fw_cmd_serve(int argc, char **argv)
{
    sv_config cfg;
    char err[1024];
    fw_cli cli = {.cmd = "serve", .accepts = FW_CLI_DSN, .usage = serve_usage};
    static const struct option opts[] = {{"listen", required_argument, NULL, O_LISTEN},
                                         {"config", required_argument, NULL, O_CONFIG},
                                         {"set", required_argument, NULL, O_SET},
                                         {"print-config", no_argument, NULL, O_PRINT},
                                         {"print-config-reference", no_argument, NULL, O_PRINT_REF},
                                         {NULL, 0, NULL, 0}};
    /* The flags are applied after the file and the environment (precedence
     * default < file < environment < flags), in command-line order. */
    const char **keys = calloc((size_t)argc + 1, sizeof *keys);
    const char **vals = calloc((size_t)argc + 1, sizeof *vals);
    char **owned = calloc((size_t)argc + 1, sizeof *owned);
    int nflags = 0, nowned = 0;
    int rc = 1, print = 0, c;
    const char *file = NULL;
    if (!keys || !vals || !owned || sv_config_init(&cfg) != 0) {
        fprintf(stderr, "flywheel serve: out of memory\n");
        free(keys);
        free(vals);
        free(owned);
        return 1;
    }
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        if (c == O_LISTEN) {
            keys[nflags] = "serve.listen";
            vals[nflags++] = optarg;
        } else if (c == O_CONFIG) {
            file = optarg;
        } else if (c == O_SET) {
            char *kv = strdup(optarg);
            char *eq = kv ? strchr(kv, '=') : NULL;
            if (!eq) {
                snprintf(err, sizeof err, "--set needs KEY=VALUE, got \"%s\"", optarg);
                free(kv);
                goto usage_err;
            }
            *eq = '\0';
            owned[nowned++] = kv;
            keys[nflags] = kv;
            vals[nflags++] = eq + 1;
        } else if (c == O_PRINT) {
            print = 1;
        } else if (c == O_PRINT_REF) {
            sv_config_print_reference(stdout);
            rc = 0;
            goto done;
        } else {
            serve_usage(stderr);
            rc = 2;
            goto done;
        }
    }
    if (c != -1) {
        rc = fw_cli_status(c);
        goto done;
    }
    if (optind < argc) {
        snprintf(err, sizeof err, "unexpected argument \"%s\"", argv[optind]);
        goto usage_err;
    }
    if (file && fw_props_load_file(&cfg.props, file, err, sizeof err) != 0)
        goto usage_err;
    if (fw_props_load_env(&cfg.props, err, sizeof err) != 0)
        goto usage_err;
    if (cli.dsn &&
        fw_props_set(&cfg.props, "pg.dsn", cli.dsn, FW_PROPS_SRC_FLAG, err, sizeof err) != 0)
        goto usage_err;
    for (int i = 0; i < nflags; i++)
        if (fw_props_set(&cfg.props, keys[i], vals[i], FW_PROPS_SRC_FLAG, err, sizeof err) != 0)
            goto usage_err;
    if (sv_config_finish(&cfg, err, sizeof err) != 0) {
        fw_cli_error("serve", err);
        rc = 2;
        goto done;
    }
    if (print) {
        fw_props_print(&cfg.props, stdout);
        rc = 0;
        goto done;
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
    goto done;
usage_err:
    fw_cli_error("serve", err);
    serve_usage(stderr);
    rc = 2;
done:
    sv_config_free(&cfg);
    for (int i = 0; i < nowned; i++)
        free(owned[i]);
    free(owned);
    free(keys);
    free(vals);
    return rc;
}
