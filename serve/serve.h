/*
 * `flywheel serve`: the review queue in a browser. A libmicrohttpd server
 * with a thread per connection (a slow database call blocks only its own
 * request) over a bounded PostgreSQL pool; every page is rendered on the
 * server, every change is a POST with a CSRF token answered by a redirect,
 * every database call runs as the signed-in account's role. See
 * docs/review.md ("The review page") for what it serves.
 */
#ifndef FW_SERVE_H
#define FW_SERVE_H

#include "config.h"

#include <stddef.h>

typedef struct sv_server sv_server;

/* Starts listening (cfg must have passed sv_config_finish and must outlive
 * the server). Returns NULL with a message in err on failure. */
sv_server *sv_server_start(sv_config *cfg, char *err, size_t errsize);

/* The port actually bound (for serve.listen with port 0). */
int sv_server_port(const sv_server *s);

/* Stops accepting, waits for running requests, frees everything. NULL ok. */
void sv_server_stop(sv_server *s);

#endif
