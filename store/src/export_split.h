/*
 * Deterministic train/validation/test assignment and cross-split dedupe.
 *
 * Split: u = the first 8 bytes of SHA-256(seed || 0x1F || group key) read as
 * a big-endian integer divided by 2^64, a number in [0, 1); the row goes to
 * train when u < r_train, to validation when u < r_train + r_validation, else
 * to test (ratios normalised to sum 1). The split depends on nothing but the
 * seed, the ratios and the group key, so all rows of a group land together,
 * the same inputs always land in the same split, and adding rows never moves
 * a row that was already there. Anyone can recompute it (docs/export.md shows
 * it in three lines of Python).
 *
 * Dedupe: a 64-bit hash of the line's content (its JSON values, with
 * every run of white space inside strings collapsed to one space and leading
 * and trailing white space dropped; keys and structure included). The set
 * remembers the hashes of the lines already written, in the stable export
 * order; a later line with a known hash is a duplicate and is rejected, so a
 * duplicate can never sit in a different split from its first occurrence.
 *
 * Memory: the set is an open-addressing table of 8-byte slots at load ≤ 0.5
 * (about 16 bytes per distinct line). Up to `max_mem` slots (default
 * FW_XDEDUPE_MEM_SLOTS: 8 MiB, about 512k lines) it lives in memory; past
 * that it moves to an unlinked temporary file in $TMPDIR (or /tmp) and
 * probes it with pread/pwrite, one 512-byte block per lookup, so the
 * process's memory stays constant however many lines an export has. The
 * file's pages sit in the kernel's page cache (not the process's RSS) while
 * there is room, and spill to disk when there is not. The rule (first
 * occurrence in export order wins) and the hash are the same in both modes,
 * so the bytes of an export do not depend on which mode it ran in.
 */
#ifndef FW_EXPORT_SPLIT_H
#define FW_EXPORT_SPLIT_H

#include "flywheel/store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The point in [0, 1) of a group key under a seed (see the file comment). */
double fw_xsplit_point(const char *seed, const char *group);

/* The split of a group key. */
fw_xsplit fw_xsplit_assign(const char *seed, const char *group,
                           const double ratios[FW_XSPLIT_COUNT]);

/* The whitespace-normalised content hash of a JSON value (never 0). */
uint64_t fw_xdedupe_hash(const json_t *content);

/*
 * fw_xdedupe_hash of the value whose compact JSON text, as the exporter
 * writes it (export_json's rules: integers in %lld form, the escapes of
 * fw_jsonesc.h), is line[0..len): the same hash without building the value.
 * Returns 0, or -1 when the text is not such JSON.
 */
int fw_xdedupe_hash_text(const char *line, size_t len, uint64_t *out);

#define FW_XDEDUPE_MEM_SLOTS ((size_t)1 << 20)

/* A zero-initialised fw_xdedupe is an empty set with the default limit. */
typedef struct {
    uint64_t *slots; /* the table while in memory */
    size_t cap;      /* slots, a power of two, or 0 */
    size_t count;
    size_t max_mem; /* slots kept in memory; 0: FW_XDEDUPE_MEM_SLOTS */
    int on_file;    /* 1: the table is in file `fd` */
    int fd;
} fw_xdedupe;

/*
 * Adds h to the set. Returns 1 when h was new, 0 when it was already there
 * (a duplicate), -1 when memory or the temporary file failed (the set is
 * then unusable: the caller stops the export).
 */
int fw_xdedupe_add(fw_xdedupe *set, uint64_t h);
void fw_xdedupe_free(fw_xdedupe *set);

#endif
