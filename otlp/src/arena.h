/*
 * A bump allocator: a decoded request and a mapped event are trees of many
 * small objects that die together, so they are carved from blocks and freed
 * all at once. Allocation returns NULL when malloc does; nothing is ever
 * freed singly. fw_otlp_arena_reset keeps the first block for reuse, which
 * lets the mapping reuse one arena for every span of a request.
 */
#ifndef FW_OTLP_ARENA_H
#define FW_OTLP_ARENA_H

#include <stddef.h>

typedef struct fw_otlp_arena fw_otlp_arena;

fw_otlp_arena *fw_otlp_arena_new(void);
void *fw_otlp_arena_alloc(fw_otlp_arena *a, size_t size); /* aligned to 16, uninitialised */
void *fw_otlp_arena_calloc(fw_otlp_arena *a, size_t n, size_t size); /* zeroed; NULL on overflow */
/* A NUL-terminated copy of s[0..n). */
char *fw_otlp_arena_strndup(fw_otlp_arena *a, const char *s, size_t n);
void fw_otlp_arena_reset(fw_otlp_arena *a);
void fw_otlp_arena_free(fw_otlp_arena *a);

#endif
