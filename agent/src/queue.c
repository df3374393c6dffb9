/*
 * queue — bounded MPSC queue; the invariants are described in queue.h.
 *
 * The pop follows Dmitry Vyukov's intrusive MPSC algorithm: the stub node
 * lets the list never be empty for producers, so a push is one exchange on
 * `head` followed by a release store of the predecessor's `next`.
 */
#include "queue.h"

int fwq_init(fwq *q, size_t max_bytes)
{
    atomic_init(&q->stub.next, NULL);
    q->stub.size = 0;
    atomic_init(&q->head, &q->stub);
    q->tail = &q->stub;
    q->max_bytes = max_bytes;
    atomic_init(&q->bytes, 0);
    atomic_init(&q->count, 0);
    return pthread_mutex_init(&q->pop_lock, NULL) == 0 ? 0 : -1;
}

void fwq_destroy(fwq *q)
{
    pthread_mutex_destroy(&q->pop_lock);
}

int fwq_reserve(fwq *q, size_t size)
{
    size_t prev = atomic_fetch_add_explicit(&q->bytes, size, memory_order_relaxed);
    if (prev + size > q->max_bytes || prev + size < prev) {
        atomic_fetch_sub_explicit(&q->bytes, size, memory_order_relaxed);
        return 0;
    }
    atomic_fetch_add_explicit(&q->count, 1, memory_order_relaxed);
    return 1;
}

void fwq_release(fwq *q, size_t size)
{
    atomic_fetch_sub_explicit(&q->bytes, size, memory_order_relaxed);
    /* Release: the event's outcome, counted before this, is visible to a
     * stats snapshot that sees it gone from the queue. */
    atomic_fetch_sub_explicit(&q->count, 1, memory_order_release);
}

void fwq_push(fwq *q, fwq_node *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    fwq_node *prev = atomic_exchange_explicit(&q->head, n, memory_order_acq_rel);
    atomic_store_explicit(&prev->next, n, memory_order_release);
}

/* Caller holds pop_lock. */
static fwq_node *pop_locked(fwq *q)
{
    fwq_node *tail = q->tail;
    fwq_node *next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (tail == &q->stub) {
        if (next == NULL)
            return NULL;
        q->tail = next;
        tail = next;
        next = atomic_load_explicit(&next->next, memory_order_acquire);
    }
    if (next) {
        q->tail = next;
        return tail;
    }
    fwq_node *head = atomic_load_explicit(&q->head, memory_order_acquire);
    if (tail != head)
        return NULL; /* a producer is between its exchange and its store */
    /* tail is the last node: put the stub behind it so it can be taken. */
    fwq_push(q, &q->stub);
    next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (next) {
        q->tail = next;
        return tail;
    }
    return NULL;
}

fwq_node *fwq_pop(fwq *q)
{
    pthread_mutex_lock(&q->pop_lock);
    fwq_node *n = pop_locked(q);
    pthread_mutex_unlock(&q->pop_lock);
    return n;
}

fwq_node *fwq_try_pop(fwq *q)
{
    if (pthread_mutex_trylock(&q->pop_lock) != 0)
        return NULL;
    fwq_node *n = pop_locked(q);
    pthread_mutex_unlock(&q->pop_lock);
    return n;
}
