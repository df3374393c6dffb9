/*
 * flywheel-gateway: OTLP/HTTP in, flywheel.v1 events to Kafka out (see
 * server.h). Stateless: several can run behind a load balancer, and one can
 * be killed at any moment — a client whose request was not answered 200
 * retries it, and the retry's events carry the same ids.
 *
 * This file is the process shell: the start every daemon shares (command
 * line, configuration sources, logging, signals: common/config's
 * fw_daemon_start), the server's parts, and the exit status (0 after
 * SIGTERM/SIGINT, 1 on a fatal error, 2 on a usage or configuration error).
 */
#include "gw_config.h"
#include "keys.h"
#include "log.h"
#include "producer.h"
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    fwg_config cfg;
    char err[1024];
    int rc = fw_daemon_start(&fwg_daemon, &cfg.props, &cfg, argc, argv);
    if (rc != FW_DAEMON_RUN)
        return rc;
    volatile sig_atomic_t *stop = fw_daemon_stop_flag(), *reopen = fw_daemon_reopen_flag();
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
    while (!*stop) {
        usleep(100000);
        if (*reopen) {
            *reopen = 0;
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
    fw_daemon_fail(&fwg_daemon, rc, err);
out:
    fwg_config_free(&cfg);
    return rc;
}
