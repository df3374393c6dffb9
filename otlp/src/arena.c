/*
 * Bump allocator; see arena.h.
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN      16
#define BLOCK_SIZE 32768

typedef struct block {
    struct block *next;
    size_t cap, used;
    _Alignas(ALIGN) unsigned char data[];
} block;

struct fw_otlp_arena {
    block *head; /* current block; older ones follow */
};

fw_otlp_arena *fw_otlp_arena_new(void)
{
    return calloc(1, sizeof(fw_otlp_arena));
}

void *fw_otlp_arena_alloc(fw_otlp_arena *a, size_t size)
{
    if (size > SIZE_MAX - ALIGN)
        return NULL;
    size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (size == 0)
        size = ALIGN;
    block *b = a->head;
    if (!b || size > b->cap - b->used) {
        size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;
        if (cap > SIZE_MAX - sizeof *b)
            return NULL;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

void *fw_otlp_arena_calloc(fw_otlp_arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = fw_otlp_arena_alloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

char *fw_otlp_arena_strndup(fw_otlp_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = fw_otlp_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void fw_otlp_arena_reset(fw_otlp_arena *a)
{
    if (!a->head)
        return;
    /* Keep the oldest block (the last in the list), free the rest. */
    block *b = a->head;
    while (b->next) {
        block *next = b->next;
        free(b);
        b = next;
    }
    b->used = 0;
    a->head = b;
}

void fw_otlp_arena_free(fw_otlp_arena *a)
{
    if (!a)
        return;
    block *b = a->head;
    while (b) {
        block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}
