/*
 * eval_server: the benchmark's OpenAI-compatible endpoint. One thread,
 * epoll, HTTP/1.1 keep-alive; every POST gets the same small chat
 * completion. It exists so that `scripts/bench eval` measures the runner,
 * not a slow fake: the Python fake (examples/fake_openai.py) tops out far
 * below what the runner and a bare libcurl loop can send.
 *
 * usage: eval_server PORT_FILE   (binds 127.0.0.1 on a free port, writes it
 * to PORT_FILE, serves until killed)
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536

typedef struct {
    int fd;
    size_t len;
    char buf[BUF];
} conn;

static const char body[] =
    "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"model\":\"bench\","
    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1,"
    "\"total_tokens\":11}}";

/* Answers every complete request in c->buf; returns -1 to close. */
static int serve(conn *c, const char *resp, size_t rlen)
{
    for (;;) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!end)
            return c->len == BUF ? -1 : 0;
        size_t head = (size_t)(end - c->buf) + 4, clen = 0;
        for (char *p = c->buf; p < end; p++) {
            if ((p == c->buf || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) {
                clen = strtoul(p + 15, NULL, 10);
                break;
            }
        }
        if (head + clen > BUF)
            return -1;
        if (c->len < head + clen)
            return 0;
        size_t off = 0;
        while (off < rlen) {
            ssize_t w = write(c->fd, resp + off, rlen - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return -1;
            off += (size_t)w;
        }
        memmove(c->buf, c->buf + head + clen, c->len - head - clen);
        c->len -= head + clen;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: eval_server PORT_FILE\n");
        return 2;
    }
    char resp[1024];
    int rlen = snprintf(resp, sizeof resp,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\n\r\n%s",
                        sizeof body - 1, body);
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 512) ||
        getsockname(ls, (struct sockaddr *)&a, &alen)) {
        perror("eval_server: listen");
        return 1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) || rename(tmp, argv[1])) {
        perror("eval_server: port file");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    struct epoll_event evs[128];
    for (;;) {
        int n = epoll_wait(ep, evs, 128, -1);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) {
                int fd = accept(ls, NULL, NULL);
                if (fd < 0)
                    continue;
                setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);
                c = calloc(1, sizeof *c);
                if (!c) {
                    close(fd);
                    continue;
                }
                c->fd = fd;
                struct epoll_event ce = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce);
                continue;
            }
            ssize_t r = read(c->fd, c->buf + c->len, BUF - c->len);
            if (r <= 0 || (c->len += (size_t)r, serve(c, resp, (size_t)rlen) < 0)) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                free(c);
            }
        }
    }
}
