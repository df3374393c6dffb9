/*
 * spool — the agent's on-disk overflow: events Kafka could not take are
 * appended here and replayed, in order, when it can.
 *
 * Layout: a directory (spool.dir) holding segment files named
 * <20-digit sequence>.fwspool, a `cursor` file and a `lock` file. Segments
 * are append-only; a record is a 16-byte header {magic "FWS1", compressed
 * length, CRC-32C of the compressed bytes, raw length} (little-endian)
 * followed by one zstd frame whose content is {u32 key length, key, value}.
 *
 * Invariants:
 *  - A process never appends to a segment it did not create: at open, new
 *    records go to a fresh segment, so a torn tail left by a crash stays a
 *    tail and is never followed by good records in the same file.
 *  - The cursor file names the first record not yet acknowledged by Kafka
 *    (segment sequence, byte offset). It is replaced atomically (write to a
 *    temporary file, rename) after each acknowledged replay batch, so a crash
 *    replays at most one batch twice; duplicates are absorbed downstream by
 *    event id.
 *  - Segments wholly before the cursor are deleted.
 *  - bytes() is the sum of the sizes of the segment files and never exceeds
 *    max_bytes after a successful append.
 *  - A record whose header, length, CRC or frame does not check out is
 *    counted as corrupt and the rest of its segment is skipped (records
 *    cannot be resynchronised reliably inside a damaged file).
 *  - An exclusive flock on `lock` keeps two agents off one directory.
 *
 * Not thread-safe: owned by the agent thread.
 */
#ifndef FW_SPOOL_H
#define FW_SPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct fws fws;

enum { FWS_OK = 0, FWS_FULL = 1, FWS_ERROR = -1 };

/* Opens or creates the spool in dir (one directory level is created).
 * Counts the records pending from earlier processes. NULL on error, with a
 * message in err. */
fws *fws_open(const char *dir, uint64_t max_bytes, uint64_t segment_bytes, char *err, size_t size);

/* Appends one record. FWS_OK, FWS_FULL (would pass max_bytes; nothing
 * written), FWS_ERROR (I/O or memory; nothing written, error counted). */
int fws_append(fws *s, const void *key, size_t klen, const void *val, size_t vlen);

/*
 * Reads the record after the read position. Returns 1 and sets *buf (malloc;
 * the caller frees it) and the key/value pointers into it, 0 when there is
 * nothing more to read, -1 when out of memory.
 */
int fws_next(fws *s, unsigned char **buf, const void **key, size_t *klen, const void **val,
             size_t *vlen);

/* Everything read since the last commit was acknowledged: moves the cursor
 * to the read position, persists it and deletes consumed segments. */
void fws_commit(fws *s);
/* Something read since the last commit failed: read again from the cursor. */
void fws_rewind(fws *s);

uint64_t fws_pending(const fws *s); /* records not yet committed */
uint64_t fws_bytes(const fws *s);   /* bytes of segment files */
uint64_t fws_corrupt(const fws *s); /* corrupt records seen */
uint64_t fws_errors(const fws *s);  /* I/O errors */

/* fdatasyncs and closes. NULL is accepted. */
void fws_close(fws *s);

#endif
