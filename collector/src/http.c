/*
 * HTTP endpoint on libmicrohttpd's internal polling thread; see http.h.
 * Responses are rendered per request into a fresh buffer handed to MHD
 * (MHD_RESPMEM_MUST_FREE), so nothing is shared with the consumer thread
 * except through metrics.c's lock.
 */
#include "http.h"

#include "metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fw_http {
    struct MHD_Daemon *d;
    int port;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, fw_buf *b,
                             const char *ctype)
{
    if (b->oom) {
        fw_buf_free(b);
        return MHD_NO;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(b->len, b->data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        fw_buf_free(b);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    fw_buf b = {0};
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        fw_buf_adds(&b, "method not allowed\n");
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, &b, "text/plain");
    }
    if (strcmp(url, "/metrics") == 0) {
        fw_metrics_render(&b);
        return reply(c, MHD_HTTP_OK, &b, "text/plain; version=0.0.4; charset=utf-8");
    }
    if (strcmp(url, "/healthz") == 0) {
        int ok = fw_metrics_alive(30.0);
        fw_buf_adds(&b, ok ? "ok\n" : "consumer loop stalled\n");
        return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, &b, "text/plain");
    }
    if (strcmp(url, "/readyz") == 0) {
        int ok = fw_metrics_ready();
        fw_buf_adds(&b, ok ? "ready\n"
                           : "not ready: no partitions assigned or PostgreSQL "
                             "unavailable\n");
        return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, &b, "text/plain");
    }
    fw_buf_adds(&b, "not found\n");
    return reply(c, MHD_HTTP_NOT_FOUND, &b, "text/plain");
}

fw_http *fw_http_start(const char *listen, char *err, size_t errsize)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host) {
        snprintf(err, errsize, "invalid http.listen \"%s\": expected host:port", listen);
        return NULL;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(err, errsize, "invalid port in http.listen \"%s\"", listen);
        return NULL;
    }
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int gai = getaddrinfo(host, NULL, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errsize, "could not resolve http.listen host \"%s\": %s", host,
                 gai_strerror(gai));
        return NULL;
    }
    struct sockaddr_in sin;
    memcpy(&sin, ai->ai_addr, sizeof sin);
    freeaddrinfo(ai);
    sin.sin_port = htons((uint16_t)port);
    fw_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
                            NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errsize, "could not listen on \"%s\"", listen);
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : (int)port;
    return h;
}

int fw_http_port(const fw_http *h)
{
    return h ? h->port : 0;
}

void fw_http_stop(fw_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}
