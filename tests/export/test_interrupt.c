/*
 * Issue 11 item 1: an export interrupted by PostgreSQL going away in the
 * middle of its stream leaves the previous complete export in its directory
 * exactly as it was (no cut file, no stale manifest beside new files, no
 * temporary file), records nothing, and says what failed and how far it
 * got — never an empty message.
 *
 * Deterministic: the export's own writer (the real directory writer,
 * wrapped) terminates the export's backend from a second connection at its
 * first write, while tens of megabytes are still to come, and waits until
 * the backend is gone before the export goes on reading.
 */
#include "flywheel/store.h"
#include "fwtest.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROWS 8000

typedef struct {
    fw_store_writer *inner;
    PGconn *killer;
    int victim_pid;
    int writes;
} killing_writer;

static int k_open(void *ctx, const char *name, void **stream, fw_store_error *err)
{
    killing_writer *k = ctx;
    return k->inner->open(k->inner->ctx, name, stream, err);
}

static int k_write(void *ctx, void *stream, const void *data, size_t len, fw_store_error *err)
{
    killing_writer *k = ctx;
    if (k->writes++ == 0) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)::int", k->victim_pid);
        FWT_CHECK_EQ_INT(fwt_pg_int(k->killer, sql), 1);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE pid = %d",
                 k->victim_pid);
        int64_t deadline = fwt_now_ms() + 30000;
        while (fwt_pg_int(k->killer, sql) != 0) {
            FWT_CHECK_MSG(fwt_now_ms() < deadline, "backend %d still alive", k->victim_pid);
            usleep(10000);
        }
    }
    return k->inner->write(k->inner->ctx, stream, data, len, err);
}

static int k_close(void *ctx, void *stream, int ok, fw_store_error *err)
{
    killing_writer *k = ctx;
    return k->inner->close(k->inner->ctx, stream, ok, err);
}

static int k_finish(void *ctx, int ok, fw_store_error *err)
{
    killing_writer *k = ctx;
    return k->inner->finish(k->inner->ctx, ok, err);
}

/* The names in dir and the contents of each, as one string. */
static char *snapshot(const char *dir)
{
    size_t cap = 64 << 20, used = 0;
    char *out = malloc(cap);
    FWT_CHECK(out != NULL);
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    FWT_CHECK(n >= 0);
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, name);
            used += (size_t)snprintf(out + used, cap - used, "== %s\n", name);
            FILE *f = fopen(path, "rb");
            FWT_CHECK(f != NULL);
            used += fread(out + used, 1, cap - used - 1, f);
            fclose(f);
        }
        free(list[i]);
    }
    free(list);
    out[used] = '\0';
    return out;
}

int main(void)
{
    char dsn[1024], dir[] = "/tmp/fw_export_interrupt_XXXXXX";
    fwt_pg_create_db("fwx_intr", dsn, sizeof dsn);
    fwt_pg_migrate(dsn);
    PGconn *conn = fwt_pg_connect(dsn), *killer = fwt_pg_connect(dsn);
    /* ~4 KB per line: 30+ MB, far more than the socket buffers hold. */
    char sql[2048];
    snprintf(
        sql, sizeof sql,
        "INSERT INTO flywheel.generations (event_id, event_time, schema_version, "
        "conversation_id, input_messages, output_messages, id_time) "
        "SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, "
        "'2026-01-05'::timestamptz + n * interval '1 second', 1, 'c' || n, "
        "jsonb_build_array(jsonb_build_object('role', 'user', 'parts', "
        "jsonb_build_array(jsonb_build_object('type', 'text', 'content', 'question ' || n)))), "
        "jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts', "
        "jsonb_build_array(jsonb_build_object('type', 'text', 'content', "
        "'answer ' || n || ' ' || repeat('lorem ipsum ', 340))))), "
        "flywheel.event_id_time(('01900000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid) "
        "FROM generate_series(1, %d) n",
        ROWS);
    fwt_pg_exec(conn, sql);
    FWT_CHECK(mkdtemp(dir) != NULL);

    /* A complete export first: the state a failed one must not disturb. */
    fw_store_error err;
    fw_xopts o;
    fw_xrun_result res;
    fw_xopts_init(&o);
    o.fmt = FW_XFMT_OPENAI_CHAT;
    o.limit = 100;
    fw_store_writer *w = fw_store_dir_writer_new(dir, &err);
    FWT_CHECK(w != NULL);
    fw_xrun_target t = {.writer = w, .manifest = 1};
    FWT_CHECK_MSG(fw_xrun(conn, &o, &t, &res, &err) == 0, "%s", err.message);
    fw_store_dir_writer_free(w);
    char *before = snapshot(dir);
    FWT_CHECK(strstr(before, "== manifest.json\n") != NULL);
    FWT_CHECK(strstr(before, "== train.jsonl\n") != NULL);

    /* The same directory, every row, PostgreSQL gone mid-stream. */
    fw_xopts_init(&o);
    o.fmt = FW_XFMT_OPENAI_CHAT;
    killing_writer k = {.inner = fw_store_dir_writer_new(dir, &err),
                        .killer = killer,
                        .victim_pid = PQbackendPID(conn)};
    FWT_CHECK(k.inner != NULL);
    fw_store_writer kw = {k_open, k_write, k_close, &k, k_finish};
    fw_xrun_target t2 = {.writer = &kw, .manifest = 1, .dataset = "interrupted"};
    FWT_CHECK(fw_xrun(conn, &o, &t2, &res, &err) != 0);
    FWT_CHECK(k.writes > 0);
    FWT_CHECK_EQ_INT(err.code, FW_STORE_DATABASE);
    FWT_CHECK_MSG(strncmp(err.message, "could not read the export rows: ", 32) == 0 &&
                      strlen(err.message) > 40,
                  "message: \"%s\"", err.message);
    FWT_CHECK_MSG(strstr(err.detail, "The stream of export rows ended after ") != NULL &&
                      strstr(err.detail, "of 8000 rows (the last was generation 01900000-") != NULL,
                  "detail: \"%s\"", err.detail);
    fw_store_dir_writer_free(k.inner);

    /* The directory is exactly as the complete export left it. */
    char *after = snapshot(dir);
    FWT_CHECK_MSG(strcmp(before, after) == 0, "the directory changed:\n%.400s", after);
    /* Nothing was recorded. */
    FWT_CHECK_EQ_INT(fwt_pg_int(killer, "SELECT count(*) FROM flywheel.dataset_versions"), 0);

    free(before);
    free(after);
    char path[512];
    const char *files[] = {"train.jsonl", "validation.jsonl", "test.jsonl", "manifest.json"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    FWT_CHECK(rmdir(dir) == 0);
    PQfinish(conn);
    PQfinish(killer);
    return 0;
}
