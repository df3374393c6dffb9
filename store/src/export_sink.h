/*
 * An output of an export: buffered writes through the caller's writer
 * (flywheel/store.h), optional zstd compression, and the SHA-256, byte
 * count and line count of exactly the bytes handed to the writer (the
 * compressed bytes for .zst), as the manifest records them.
 *
 * Compression is single-threaded at a fixed level with no dictionary, so
 * the same lines give the same compressed bytes with the same libzstd.
 * Every sink ends in exactly one writer close: ok = 1 from fw_xsink_close
 * after the last byte, ok = 0 from fw_xsink_abort (or from a failing
 * fw_xsink_close), so a writer always knows whether its stream is complete.
 */
#ifndef FW_EXPORT_SINK_H
#define FW_EXPORT_SINK_H

#include "flywheel/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct fw_xsink fw_xsink;

/* Opens stream `name` of writer w. zstd_level 0 writes plain text. Returns
 * NULL and fills err on failure. */
fw_xsink *fw_xsink_open(const fw_store_writer *w, const char *name, int zstd_level,
                        fw_store_error *err);

/* Writes one line and a '\n'. Returns 0 or -1 (err filled); after a failure
 * the sink only accepts fw_xsink_close or fw_xsink_abort. */
int fw_xsink_line(fw_xsink *s, const char *line, size_t len, fw_store_error *err);

/*
 * Flushes, ends the zstd frame, closes the stream as complete and fills
 * sha256_hex (65 bytes), bytes and lines. Frees the sink. Returns 0, or -1
 * with err filled (the stream is then closed with ok = 0). NULL is accepted.
 */
int fw_xsink_close(fw_xsink *s, char sha256_hex[65], uint64_t *bytes, uint64_t *lines,
                   fw_store_error *err);

/* Closes the stream as failed (ok = 0) and frees the sink. NULL is accepted. */
void fw_xsink_abort(fw_xsink *s);

#endif
