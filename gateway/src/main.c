/*
 * flywheel-gateway: OTLP/HTTP in, flywheel.v1 events to Kafka out (see
 * server.h). Stateless: several can run behind a load balancer, and one can
 * be killed at any moment — a client whose request was not answered 200
 * retries it, and the retry's events carry the same ids.
 *
 * This file is the process shell: command line, configuration sources,
 * logging, signals, and the exit status (0 after SIGTERM/SIGINT, 1 on a
 * fatal error, 2 on a usage or configuration error).
 */
#include "gw_config.h"
#include "keys.h"
#include "log.h"
#include "producer.h"
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
            "usage: flywheel-gateway [options]\n"
            "\n"
            "Receives OpenTelemetry traces over OTLP/HTTP (POST /v1/traces), turns each LLM\n"
            "span into a flywheel.v1 generation event and produces it to Kafka, answering\n"
            "only once the broker has acknowledged it.\n"
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
    fwg_config_print_help(f);
    fprintf(f,
            "\nsignals: TERM/INT finish the requests in flight and exit 0; HUP reopens log.file\n");
}

int main(int argc, char **argv)
{
    fwg_config cfg;
    char err[1024];
    int print = 0, rc = 2;
    const char *config_file = NULL;
    fw_log_set_component("gateway");
    if (fwg_config_init(&cfg) != 0) {
        fprintf(stderr, "flywheel-gateway: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            rc = 0;
            goto out;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("flywheel-gateway %s\n", FW_VERSION_STR);
            rc = 0;
            goto out;
        }
        if (strcmp(argv[i], "--print-config-reference") == 0) {
            fwg_config_print_reference(stdout);
            rc = 0;
            goto out;
        }
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            config_file = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            config_file = argv[i] + 9;
    }
    if (config_file && fwg_config_load_file(&cfg, config_file, err, sizeof err) != 0)
        goto bad;
    if (fwg_config_load_env(&cfg, err, sizeof err) != 0)
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
        if (fwg_config_set(&cfg, kv, eq + 1, FWG_SRC_FLAG, err, sizeof err) != 0)
            goto bad;
    }
    if (print) {
        fwg_config_print(&cfg, stdout);
        rc = 0;
        goto out;
    }
    if (fwg_config_finish(&cfg, err, sizeof err) != 0)
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

    rc = 1;
    fwg_keys *keys = NULL;
    if (cfg.auth_keys && !(keys = fwg_keys_new(cfg.pg_dsn, (int)cfg.keys_cache_s))) {
        snprintf(err, sizeof err, "out of memory");
        goto bad;
    }
    fwg_scrubber *scrub = fwg_scrubber_new(&cfg, err, sizeof err);
    if (!scrub) {
        fwg_keys_free(keys);
        goto bad;
    }
    fwg_producer *prod = fwg_producer_new(&cfg, err, sizeof err);
    if (!prod) {
        fwg_scrubber_free(scrub);
        fwg_keys_free(keys);
        goto bad;
    }
    fwg_server *srv = fwg_server_start(&cfg, prod, keys, scrub, err, sizeof err);
    if (!srv) {
        fwg_producer_free(prod);
        fwg_scrubber_free(scrub);
        fwg_keys_free(keys);
        goto bad;
    }
    fw_log_info("gateway listening", "address=%s port=%d topic=%s auth=%s", cfg.listen,
                fwg_server_port(srv), cfg.topic, cfg.auth_keys ? "keys" : "none");
    rc = 0;
    while (!g_stop) {
        usleep(100000);
        if (g_reopen) {
            g_reopen = 0;
            if (*cfg.log_file)
                fw_log_open(cfg.log_file);
        }
    }
    fwg_server_stop(srv);
    fwg_producer_free(prod);
    fwg_scrubber_free(scrub);
    fwg_keys_free(keys);
    fw_log_info("gateway stopped", "status=%d", rc);
    goto out;
bad:
    fprintf(stderr, "flywheel-gateway: %s\n", err);
    if (rc == 2)
        fprintf(stderr, "Try \"flywheel-gateway --help\".\n");
out:
    fwg_config_free(&cfg);
    return rc;
}
