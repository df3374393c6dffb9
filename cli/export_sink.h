/*
 * An output file of an export: buffered writes, optional zstd compression,
 * and the SHA-256, byte count and line count of exactly the bytes that reach
 * the file (the compressed bytes for .zst), as the manifest records them.
 *
 * Compression is single-threaded at a fixed level with no dictionary and no
 * checksum-free variations, so the same lines give the same compressed bytes
 * with the same libzstd. A sink may write to a file descriptor it does not
 * own (stdout); it then never closes it.
 */
#ifndef FW_EXPORT_SINK_H
#define FW_EXPORT_SINK_H

#include <stddef.h>
#include <stdint.h>

typedef struct fw_xsink fw_xsink;

/*
 * Opens `path` for writing (created or truncated, mode 0644), or uses fd
 * when path is NULL (not closed at the end). zstd_level 0 writes plain
 * text. Returns NULL and fills errbuf on failure.
 */
fw_xsink *fw_xsink_open(const char *path, int fd, int zstd_level, char *errbuf, size_t errsize);

/* Writes one line and a '\n'. Returns 0 or -1 (errno-style message in
 * errbuf); after a failure the sink only accepts fw_xsink_close. */
int fw_xsink_line(fw_xsink *s, const char *line, size_t len, char *errbuf, size_t errsize);

/*
 * Flushes, ends the zstd frame, closes the file (fsync first when
 * `durable`) and fills sha256_hex (65 bytes), bytes and lines. Frees the
 * sink. Returns 0 or -1 with errbuf filled. NULL is accepted (returns 0).
 */
int fw_xsink_close(fw_xsink *s, int durable, char sha256_hex[65], uint64_t *bytes, uint64_t *lines,
                   char *errbuf, size_t errsize);

/* Frees a sink after a failure, without finishing it. NULL is accepted. */
void fw_xsink_abort(fw_xsink *s);

#endif
