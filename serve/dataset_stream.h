/*
 * The download of one file of a recorded dataset version, streamed into the
 * HTTP response through the store's export writer (flywheel/store.h): the
 * version is re-exported exactly as `flywheel export --dataset NAME
 * --version K -o DIR` does it, checked against its recorded sha256s, and
 * the bytes of the one file asked for go to the client as they are made.
 *
 * The export writes (push), libmicrohttpd reads (pull): the export runs on
 * a thread of its own and writes the file's bytes into a pipe; the
 * response's body reads the other end. The pipe's buffer bounds what is in
 * flight, so memory stays the same whatever the size of the file, and a
 * slow client slows the export down instead of filling memory.
 *
 * The export runs as the signed-in account's role on the request's
 * connection, so PostgreSQL decides who may download: a role that may not
 * read the members' generations is refused (42501) before the first byte
 * and the answer is 403. A failure after the first byte (the re-export
 * differs from the recorded sha256s, PostgreSQL went away) cuts the
 * response off: the client sees an incomplete transfer, never a short file
 * passing for a whole one. A client that goes away cancels the export.
 */
#ifndef FW_SERVE_DATASET_STREAM_H
#define FW_SERVE_DATASET_STREAM_H

#include "app.h"

/*
 * Answers r with file `file` ("train.jsonl", "test.jsonl.zst", ...) of
 * version `version` of `dataset`, which the caller has checked names a
 * data file of the version's manifest: a streamed 200, or an error page
 * (403 refused by PostgreSQL, 404 no such version, 503 no connection, 500
 * otherwise, logged). Returns 0.
 */
int sv_dataset_stream(sv_req *r, const char *dataset, int version, const char *file);

#endif
