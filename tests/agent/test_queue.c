/*
 * The agent's MPSC queue: FIFO order, the byte budget (full, and back to
 * zero), many wrap-arounds of the stub node, and concurrent producers with
 * one consumer: every node exactly once, each producer's nodes in order.
 * Also built with -fsanitize=thread as agent_unit_queue_tsan.
 */
#include "fwtest.h"
#include "queue.h"

#include <pthread.h>

typedef struct {
    fwq_node node;
    int producer;
    int seq;
} item;

#define PRODUCERS    4
#define PER_PRODUCER 20000

static fwq q;

static void *producer(void *arg)
{
    int p = (int)(intptr_t)arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        item *it = malloc(sizeof *it);
        FWT_CHECK(it);
        it->node.size = 100;
        it->producer = p;
        it->seq = i;
        while (!fwq_reserve(&q, it->node.size))
            sched_yield(); /* the consumer frees room */
        fwq_push(&q, &it->node);
    }
    return NULL;
}

int main(void)
{
    /* FIFO and budget. */
    FWT_CHECK(fwq_init(&q, 1000) == 0);
    item items[20];
    int admitted = 0;
    for (int i = 0; i < 20; i++) {
        items[i].node.size = 100;
        items[i].seq = i;
        if (fwq_reserve(&q, 100)) {
            fwq_push(&q, &items[i].node);
            admitted++;
        }
    }
    FWT_CHECK_EQ_INT(admitted, 10);
    FWT_CHECK_EQ_INT(fwq_bytes(&q), 1000);
    FWT_CHECK_EQ_INT(fwq_count(&q), 10);
    FWT_CHECK(!fwq_reserve(&q, 1));
    for (int i = 0; i < 10; i++) {
        item *it = (item *)fwq_pop(&q);
        FWT_CHECK(it != NULL);
        FWT_CHECK_EQ_INT(it->seq, i);
        fwq_release(&q, it->node.size);
    }
    FWT_CHECK(fwq_pop(&q) == NULL);
    FWT_CHECK_EQ_INT(fwq_bytes(&q), 0);
    FWT_CHECK_EQ_INT(fwq_count(&q), 0);

    /* Wrap: alternate push/pop many times through the stub node. */
    for (int round = 0; round < 10000; round++) {
        int n = round % 3 + 1;
        for (int k = 0; k < n; k++) {
            FWT_CHECK(fwq_reserve(&q, 100));
            items[k].seq = round * 10 + k;
            fwq_push(&q, &items[k].node);
        }
        for (int k = 0; k < n; k++) {
            item *it = (item *)fwq_pop(&q);
            FWT_CHECK(it != NULL && it->seq == round * 10 + k);
            fwq_release(&q, 100);
        }
        FWT_CHECK(fwq_pop(&q) == NULL);
    }
    /* An oversized reservation never wraps the counter. */
    FWT_CHECK(!fwq_reserve(&q, SIZE_MAX));
    FWT_CHECK_EQ_INT(fwq_bytes(&q), 0);
    fwq_destroy(&q);

    /* Concurrent producers, one consumer, a budget small enough to fill. */
    FWT_CHECK(fwq_init(&q, 100 * 256) == 0);
    pthread_t th[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++)
        FWT_CHECK(pthread_create(&th[p], NULL, producer, (void *)(intptr_t)p) == 0);
    int next[PRODUCERS] = {0};
    int total = 0;
    while (total < PRODUCERS * PER_PRODUCER) {
        item *it = (item *)fwq_pop(&q);
        if (!it) {
            sched_yield();
            continue;
        }
        FWT_CHECK_MSG(it->seq == next[it->producer], "producer %d: got %d, expected %d",
                      it->producer, it->seq, next[it->producer]);
        next[it->producer]++;
        fwq_release(&q, it->node.size);
        free(it);
        total++;
    }
    for (int p = 0; p < PRODUCERS; p++)
        pthread_join(th[p], NULL);
    FWT_CHECK(fwq_pop(&q) == NULL);
    FWT_CHECK_EQ_INT(fwq_bytes(&q), 0);
    FWT_CHECK_EQ_INT(fwq_count(&q), 0);
    fwq_destroy(&q);
    fprintf(stderr, "queue: %d items from %d producers in order\n", total, PRODUCERS);
    return 0;
}
