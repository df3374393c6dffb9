/*
 * Project keys: `Authorization: Bearer <key>` -> project, looked up in
 * flywheel.project_keys by the SHA-256 of the key (the table never holds a
 * key itself). Lookups, found or not, are cached for keys.cache_s seconds,
 * so a busy gateway asks PostgreSQL about each key about once per period and
 * a revoked key stops working within it. One connection, guarded by a
 * mutex, reconnected when it breaks; thread-safe.
 */
#ifndef FWG_KEYS_H
#define FWG_KEYS_H

#include <stddef.h>

typedef struct fwg_keys fwg_keys;

/* Does not connect yet (the first lookup does). NULL when out of memory. */
fwg_keys *fwg_keys_new(const char *dsn, int cache_s);
void fwg_keys_free(fwg_keys *k);

/*
 * Looks `key` up. Returns 1 and copies the project into project[size] when
 * the key exists and is not revoked; 0 when it is unknown or revoked; -1
 * when PostgreSQL cannot answer (err says why; the caller answers 503).
 */
int fwg_keys_lookup(fwg_keys *k, const char *key, char *project, size_t size, char *err,
                    size_t errsize);

/* 1 when PostgreSQL answers (for /readyz). */
int fwg_keys_ping(fwg_keys *k);

/* The SHA-256 of a key as 64 lower-case hex digits (what the table holds). */
void fwg_key_hash_hex(const char *key, char out[65]);

#endif
