/*
 * tsan_thrd — makes librdkafka's threads visible to ThreadSanitizer.
 *
 * librdkafka starts its threads with C11 thrd_create(). glibc implements
 * that by calling its internal pthread_create directly, so the TSan runtime
 * of GCC 12 (Debian 12) never sees those threads start and crashes inside
 * them (no thread state: SEGV in the TSan allocator on the first malloc).
 * The same holds for C11 mutexes and condition variables (mtx_*, cnd_*):
 * without them TSan cannot see the locks that order librdkafka's threads
 * with ours (e.g. a fetched message handed to the consumer) and reports
 * races on every such hand-over. Linked into the collector and the tests of a
 * -DFW_SANITIZE=thread build only (with -rdynamic), these definitions take
 * precedence over glibc's for every shared library and go through the
 * intercepted pthread functions. glibc's mtx_t and cnd_t have the size and
 * alignment of pthread_mutex_t and pthread_cond_t.
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

_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t is a pthread mutex");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t is a pthread cond");

static int thrd_rc(int rc)
{
    return rc == 0           ? thrd_success
           : rc == EBUSY     ? thrd_busy
           : rc == ETIMEDOUT ? thrd_timedout
           : rc == ENOMEM    ? thrd_nomem
                             : thrd_error;
}

int mtx_init(mtx_t *m, int type)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    if (type & mtx_recursive)
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    int rc = pthread_mutex_init((pthread_mutex_t *)m, &a);
    pthread_mutexattr_destroy(&a);
    return thrd_rc(rc);
}

int mtx_lock(mtx_t *m)
{
    return thrd_rc(pthread_mutex_lock((pthread_mutex_t *)m));
}

int mtx_trylock(mtx_t *m)
{
    return thrd_rc(pthread_mutex_trylock((pthread_mutex_t *)m));
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
    return thrd_rc(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}

int mtx_unlock(mtx_t *m)
{
    return thrd_rc(pthread_mutex_unlock((pthread_mutex_t *)m));
}

void mtx_destroy(mtx_t *m)
{
    pthread_mutex_destroy((pthread_mutex_t *)m);
}

int cnd_init(cnd_t *c)
{
    return thrd_rc(pthread_cond_init((pthread_cond_t *)c, NULL));
}

int cnd_signal(cnd_t *c)
{
    return thrd_rc(pthread_cond_signal((pthread_cond_t *)c));
}

int cnd_broadcast(cnd_t *c)
{
    return thrd_rc(pthread_cond_broadcast((pthread_cond_t *)c));
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
    return thrd_rc(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts)
{
    return thrd_rc(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, ts));
}

void cnd_destroy(cnd_t *c)
{
    pthread_cond_destroy((pthread_cond_t *)c);
}
