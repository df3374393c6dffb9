/*
 * The gateway's HTTP server (libmicrohttpd, a thread per connection, so a
 * request can wait for its broker acknowledgement without holding anyone
 * else up; keep-alive as HTTP/1.1 has it; connections idle longer than
 * limits.timeout_s are closed).
 *
 *   POST /v1/traces    OTLP/HTTP trace export, protobuf or JSON, gzip or
 *                      identity, chunked or Content-Length
 *   POST /v1/feedback  feedback about a generation, JSON (feedback.h)
 *   GET  /metrics      Prometheus text
 *   GET  /healthz      the process answers
 *   GET  /readyz       Kafka (and, with keys, PostgreSQL) answer
 *
 * Answers, as the OTLP specification wants them: 200 with an
 * ExportTraceServiceResponse in the request's encoding (partial_success
 * when spans were rejected); 400 with a google.rpc.Status for a body that
 * cannot be decoded (never retried by clients); 401 for a missing, unknown
 * or revoked key; 405, 404; 413 over a body limit; 415 for another content
 * type or encoding; 429 when the producer queue is full and 503 when Kafka
 * (or the key store) cannot answer, both with Retry-After. 200 is sent only
 * after the broker acknowledged every event of the request.
 */
#ifndef FWG_SERVER_H
#define FWG_SERVER_H

#include "gw_config.h"
#include "keys.h"
#include "producer.h"
#include "scrub.h"

#include <stddef.h>

typedef struct fwg_server fwg_server;

/* Starts listening. keys may be NULL when auth is none. */
fwg_server *fwg_server_start(const fwg_config *cfg, fwg_producer *p, fwg_keys *keys,
                             fwg_scrubber *scrub, char *err, size_t errsize);
int fwg_server_port(const fwg_server *s);
/* Stops accepting, finishes the requests in flight, frees. */
void fwg_server_stop(fwg_server *s);

#endif
