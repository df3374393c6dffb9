/*
 * queue — the bounded, multi-producer single-consumer queue between the
 * application threads and the agent thread.
 *
 * Shape: an intrusive Vyukov MPSC list. A producer links its node with one
 * atomic exchange and one store, so recording never takes a lock and never
 * makes a system call. The single consumer (the agent thread) pops in FIFO
 * order; a pop may briefly see "empty" while a producer is between its
 * exchange and its store, and simply retries later.
 *
 * Budget invariant: `bytes` is the sum of the `size` of every node that has
 * been admitted and not yet released with fwq_release(). A producer admits a
 * node only if bytes + size <= max_bytes after its atomic add (it subtracts
 * again on failure), so the bytes held by queued and being-processed events
 * never exceed max_bytes. Nodes are released by whoever frees them, after
 * the consumer is done with them, not at pop time: the memory is still in
 * use until then.
 *
 * drop_oldest: a producer that does not fit pops the oldest nodes itself.
 * Pops are serialised by `pop_lock`, which the consumer also takes; the
 * producer only tries it (fwq_try_pop) and, when it is busy, drops its own
 * event instead, so recording never waits for the agent thread.
 */
#ifndef FW_AGENT_QUEUE_H
#define FW_AGENT_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fwq_node {
    _Atomic(struct fwq_node *) next;
    size_t size; /* bytes accounted against the budget */
} fwq_node;

/* Producer, consumer and budget fields sit on separate cache lines, so that
 * the consumer's lock and tail writes do not bounce the line producers
 * exchange on. A struct containing an fwq must be allocated 64-byte
 * aligned. */
typedef struct {
    _Alignas(64) _Atomic(fwq_node *) head; /* producers exchange here */
    _Alignas(64) fwq_node *tail;           /* consumer side, under pop_lock */
    pthread_mutex_t pop_lock;
    /* A recorder that finds the queue empty links its node to the stub:
     * away from the consumer's lock and tail, which change at every pop. */
    _Alignas(64) fwq_node stub;
    _Alignas(64) size_t max_bytes;
    _Atomic size_t bytes;
    _Atomic uint64_t count; /* admitted and not released */
} fwq;

/* Initialises an empty queue. Returns 0 or -1 (mutex init failed). */
int fwq_init(fwq *q, size_t max_bytes);
/* Destroys the queue; the caller has popped and freed every node. */
void fwq_destroy(fwq *q);

/*
 * Reserves node->size bytes of the budget. Returns 1 when admitted, 0 when
 * the budget would be exceeded (nothing changed). Thread-safe, lock-free.
 */
int fwq_reserve(fwq *q, size_t size);
/* Links an admitted node at the tail. Thread-safe, wait-free. */
void fwq_push(fwq *q, fwq_node *n);
/* Pops the oldest node or returns NULL (empty, or a push in progress). Only
 * the consumer, or a drop_oldest producer: serialised by pop_lock. */
fwq_node *fwq_pop(fwq *q);
/* Like fwq_pop() but returns NULL at once, without waiting, when another
 * thread holds pop_lock (for drop_oldest producers). */
fwq_node *fwq_try_pop(fwq *q);
/* Gives back the budget of a node that was admitted (popped or not). */
void fwq_release(fwq *q, size_t size);

static inline size_t fwq_bytes(fwq *q)
{
    return atomic_load_explicit(&q->bytes, memory_order_relaxed);
}
static inline uint64_t fwq_count(fwq *q)
{
    return atomic_load_explicit(&q->count, memory_order_relaxed);
}

#endif
