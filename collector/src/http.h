/*
 * The collector's HTTP endpoint, served by libmicrohttpd on its own thread:
 *   GET /metrics  Prometheus text format (metrics.c)
 *   GET /healthz  200 while the consumer loop is turning, else 503
 *   GET /readyz   200 when partitions are assigned and PostgreSQL is
 *                 writable, else 503
 * Anything else is 404; methods other than GET/HEAD are 405.
 */
#ifndef FW_HTTP_H
#define FW_HTTP_H

#include <stddef.h>

typedef struct fw_http fw_http;

/* Starts listening on "host:port" (IPv4 or a name that resolves). Returns
 * NULL with a message in err on failure. */
fw_http *fw_http_start(const char *listen, char *err, size_t errsize);

/* The port actually bound (useful with port 0). */
int fw_http_port(const fw_http *h);

/* Stops the server and frees it; NULL is accepted. */
void fw_http_stop(fw_http *h);

#endif
