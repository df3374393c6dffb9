/*
 * flywheel-collector: consumes flywheel.v1 events from Kafka and stores
 * them in PostgreSQL exactly once (see consumer.h and pg_sink.h).
 *
 * This file is the process shell: the start every daemon shares (command
 * line, configuration sources, logging, signals: common/config's
 * fw_daemon_start), the HTTP endpoint, the consumer, and the exit status (0
 * after SIGTERM/SIGINT, 1 on a fatal error, 2 on a usage or configuration
 * error).
 */
#include "config.h"
#include "consumer.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    fw_config cfg;
    char err[1024];
    int rc = fw_daemon_start(&fw_collector_daemon, &cfg.props, &cfg, argc, argv);
    if (rc != FW_DAEMON_RUN)
        return rc;
    fw_metrics_init();
    fw_http *http = NULL;
    if (*cfg.http_listen) {
        http = fw_http_start(cfg.http_listen, err, sizeof err);
        if (!http) {
            rc = fw_daemon_fail(&fw_collector_daemon, 1, err);
            goto out;
        }
        fw_log_info("http listening", "address=%s port=%d", cfg.http_listen, fw_http_port(http));
    }
    rc = fw_consumer_run(&cfg, fw_daemon_stop_flag(), fw_daemon_reopen_flag());
    fw_http_stop(http);
    fw_log_info("collector stopped", "status=%d", rc);
out:
    fw_config_free(&cfg);
    return rc;
}
