/*
 * tsan_thrd — makes librdkafka's threads visible to ThreadSanitizer.
 *
 * librdkafka starts its threads with C11 thrd_create(). glibc implements
 * that by calling its internal pthread_create directly, so the TSan runtime
 * of GCC 12 (Debian 12) never sees those threads start and crashes inside
 * them (no thread state: SEGV in the TSan allocator on the first malloc).
 * Linked into the agent tests of a -DFW_SANITIZE=thread build only (with
 * -rdynamic), these definitions take precedence over glibc's for every
 * shared library and go through the intercepted pthread functions, so TSan
 * also sees the joins that order librdkafka's threads with ours.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

typedef struct {
    thrd_start_t fn;
    void *arg;
} start_box;

static void *trampoline(void *p)
{
    start_box b = *(start_box *)p;
    free(p);
    return (void *)(intptr_t)b.fn(b.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t fn, void *arg)
{
    start_box *b = malloc(sizeof *b);
    if (!b)
        return thrd_nomem;
    b->fn = fn;
    b->arg = arg;
    int rc = pthread_create(thr, NULL, trampoline, b);
    if (rc != 0) {
        free(b);
        return rc == ENOMEM ? thrd_nomem : thrd_error;
    }
    return thrd_success;
}

int thrd_join(thrd_t thr, int *res)
{
    void *r;
    if (pthread_join(thr, &r) != 0)
        return thrd_error;
    if (res)
        *res = (int)(intptr_t)r;
    return thrd_success;
}

int thrd_detach(thrd_t thr)
{
    return pthread_detach(thr) == 0 ? thrd_success : thrd_error;
}
