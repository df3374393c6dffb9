/*
 * The migration engine behind `flywheel migrate`.
 *
 * Shape of a run: connect, take a session advisory lock (so concurrent runs
 * serialise; the later ones find nothing to do), make sure the history
 * tables exist, compare them with the files (failed entries, changed
 * checksums, versions this binary does not know, out-of-order files all
 * refuse the run), re-record history rows written by the legacy layout,
 * then apply each pending versioned file and then each repeatable file that
 * needs it, each in its own transaction with a lock timeout, recording it in
 * the same transaction. A failure rolls back the file and records it as
 * failed in a separate transaction, so the next run refuses until an
 * operator has fixed the file and run `migrate repair`.
 *
 * The legacy layout: until repeatable migrations existed, V0001, V0003,
 * V0020 and V0030-V0033 held functions and views too. Those files were split
 * (tables stay, code moved to R__ files, V0030-V0033 became empty), which
 * changed their checksums. A database migrated with the old files is
 * recognised by the old checksums below, which prove that exactly those
 * files ran; its objects are the same as the new layout's once the
 * repeatable files have run, so the rows are re-recorded rather than
 * refused. tests/migrations/legacy holds the old files.
 */
#include "migrate.h"
#include "migrations.h"
#include "pgutil.h"
#include "sqlsplit.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* "flywheel" as the two halves of the advisory lock key. */
#define FW_MIGRATE_LOCK_CLASS 0x666c7977
#define FW_MIGRATE_LOCK_OBJ   0x6865656c

#define NO_TXN_MARKER "-- flywheel:no-transaction"

/* SHA-256 of the versioned files as they were before the split (commit
 * ca957d2); versions missing here did not change. */
static const struct {
    int version;
    const char *checksum;
} legacy_layout[] = {
    {1, "6d486df40f22f445e594548fa9990b8baef01a3e32221926012ffed79b2a8253"},
    {3, "36b90f4dac94eb7ed5d2927b921240e7c4d72735107021ed9d1f4e743ef40130"},
    {20, "bb4f21ed30f93861025ec2966aec6a89d9d122526f24d1f65478541e6ae2d30f"},
    {30, "76feaf3ea2b0d81c1c71937fa5e3951ea5c77205a2e2459007314ceeb0e1603c"},
    {31, "54e7d10b155d5b45ab68c1ac53cb9fa35f6bcb51a0abaa43c033f925dc6a413a"},
    {32, "6545a05d2677e3d6fbb7dceac4f02bc8e11b7162b2fed6931d288e3a871015b6"},
    {33, "a39bcd5c21039872ed051fcf2f2e3574029a68b06c968a95b9b65939756720d9"},
    /* V0035 before its role statements tolerated concurrent migrations of
     * other databases (c95626c); same objects. */
    {35, "b2fd7c797af8e0d81c4d233c9a58a8191390fed9ee5369ccac12429baf47fe31"},
};

static int is_legacy_checksum(int version, const char *checksum)
{
    for (size_t i = 0; i < sizeof legacy_layout / sizeof legacy_layout[0]; i++)
        if (legacy_layout[i].version == version && strcmp(legacy_layout[i].checksum, checksum) == 0)
            return 1;
    return 0;
}

static void set_err(char *errstr, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *errstr, size_t errsize, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errsize, fmt, ap);
    va_end(ap);
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < mdlen && i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* Parses "V0001__create_store.sql" (returns the version) or
 * "R__20_review.sql" (returns 0). Returns -1 for anything else. */
static int parse_name(const char *name, const char **desc, size_t *desclen)
{
    const char *p = name;
    long v = 0;
    size_t n = strlen(name);
    if (n >= 8 && strncmp(name, "R__", 3) == 0 && strcmp(name + n - 4, ".sql") == 0) {
        *desc = name + 3;
        *desclen = n - 7;
        return 0;
    }
    if (*p != 'V' || n < 9 || strcmp(name + n - 4, ".sql") != 0)
        return -1;
    p++;
    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        if (v > 99999999)
            return -1;
        p++;
    }
    if (p[0] != '_' || p[1] != '_' || p + 2 >= name + n - 4)
        return -1;
    *desc = p + 2;
    *desclen = (size_t)(name + n - 4 - (p + 2));
    return v > 0 ? (int)v : -1;
}

static int add_migration(fw_migration_set *set, const char *name, const char *sql, size_t len,
                         char *errstr, size_t errsize)
{
    const char *desc;
    size_t desclen;
    int v = parse_name(name, &desc, &desclen);
    if (v < 0) {
        set_err(errstr, errsize,
                "invalid migration file name \"%s\": expected V<version>__<description>.sql or "
                "R__<description>.sql",
                name);
        return -1;
    }
    for (int i = 0; i < set->count; i++) {
        if (v == 0 && strcmp(set->items[i].name, name) == 0) {
            set_err(errstr, errsize, "duplicate repeatable migration \"%s\"", name);
            return -1;
        }
        if (v > 0 && set->items[i].version == v) {
            set_err(errstr, errsize, "duplicate migration version %d: \"%s\" and \"%s\"", v,
                    set->items[i].name, name);
            return -1;
        }
    }
    if (memchr(sql, '\0', len)) {
        set_err(errstr, errsize, "migration \"%s\" contains a NUL byte", name);
        return -1;
    }
    fw_migration *items = realloc(set->items, sizeof *items * (size_t)(set->count + 1));
    if (!items) {
        set_err(errstr, errsize, "out of memory");
        return -1;
    }
    set->items = items;
    fw_migration *m = &items[set->count];
    memset(m, 0, sizeof *m);
    m->version = v;
    m->name = strdup(name);
    m->description = strndup(desc, desclen);
    m->sql = malloc(len + 1);
    if (!m->name || !m->description || !m->sql) {
        free(m->name);
        free(m->description);
        free(m->sql);
        set_err(errstr, errsize, "out of memory");
        return -1;
    }
    memcpy(m->sql, sql, len);
    m->sql[len] = '\0';
    m->len = len;
    sha256_hex(sql, len, m->checksum);
    m->no_transaction = strncmp(sql, NO_TXN_MARKER, strlen(NO_TXN_MARKER)) == 0;
    set->count++;
    return 0;
}

/* Versioned files by version, then repeatable ones by name. */
static int cmp_version(const void *a, const void *b)
{
    const fw_migration *x = a, *y = b;
    if ((x->version == 0) != (y->version == 0))
        return x->version == 0 ? 1 : -1;
    if (x->version == 0)
        return strcmp(x->name, y->name);
    return (x->version > y->version) - (x->version < y->version);
}

void fw_migrations_free(fw_migration_set *set)
{
    if (!set)
        return;
    for (int i = 0; i < set->count; i++) {
        free(set->items[i].name);
        free(set->items[i].description);
        free(set->items[i].sql);
    }
    free(set->items);
    set->items = NULL;
    set->count = 0;
}

int fw_migrations_load_embedded(fw_migration_set *set, char *errstr, size_t errsize)
{
    memset(set, 0, sizeof *set);
    for (int i = 0; i < fw_embedded_migration_count; i++) {
        const fw_embedded_migration *e = &fw_embedded_migrations[i];
        if (add_migration(set, e->name, e->sql, e->len, errstr, errsize) != 0) {
            fw_migrations_free(set);
            return -1;
        }
    }
    qsort(set->items, (size_t)set->count, sizeof *set->items, cmp_version);
    return 0;
}

static char *read_file(const char *path, size_t *len, char *errstr, size_t errsize)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    struct stat st;
    if (!f) {
        set_err(errstr, errsize, "could not open \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || st.st_size > 64 * 1024 * 1024) {
        set_err(errstr, errsize, "could not read \"%s\": %s", path,
                errno ? strerror(errno) : "larger than 64 MB");
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        set_err(errstr, errsize, "could not read \"%s\": %s", path,
                buf ? strerror(errno) : "out of memory");
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[st.st_size] = '\0';
    *len = (size_t)st.st_size;
    return buf;
}

int fw_migrations_load_dir(fw_migration_set *set, const char *dir, char *errstr, size_t errsize)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    memset(set, 0, sizeof *set);
    if (!d) {
        set_err(errstr, errsize, "could not open migrations directory \"%s\": %s", dir,
                strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if ((de->d_name[0] != 'V' && de->d_name[0] != 'R') || n < 4 ||
            strcmp(de->d_name + n - 4, ".sql") != 0)
            continue;
        char path[4096];
        size_t len;
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path) {
            set_err(errstr, errsize, "path too long: \"%s/%s\"", dir, de->d_name);
            goto fail;
        }
        char *sql = read_file(path, &len, errstr, errsize);
        if (!sql)
            goto fail;
        int rc = add_migration(set, de->d_name, sql, len, errstr, errsize);
        free(sql);
        if (rc != 0)
            goto fail;
    }
    closedir(d);
    qsort(set->items, (size_t)set->count, sizeof *set->items, cmp_version);
    return 0;
fail:
    closedir(d);
    fw_migrations_free(set);
    return -1;
}

int fw_migrations_latest(const fw_migration_set *set)
{
    int latest = 0;
    for (int i = 0; i < set->count; i++)
        if (set->items[i].version > latest)
            latest = set->items[i].version;
    return latest;
}

/* ---- database side ---------------------------------------------------- */

/* Runs a command that returns no rows. Returns 0 or -1 with errstr set. */
static int exec_cmd(PGconn *conn, const char *sql, char *errstr, size_t errsize)
{
    PGresult *res = PQexec(conn, sql);
    int ok =
        res && (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK);
    if (!ok) {
        char msg[1024];
        set_err(errstr, errsize, "%s", fw_pg_errstr(msg, sizeof msg, res, conn));
    }
    PQclear(res);
    return ok ? 0 : -1;
}

static const char HISTORY_DDL[] =
    "CREATE SCHEMA IF NOT EXISTS flywheel;"
    "CREATE TABLE IF NOT EXISTS flywheel.schema_history ("
    "  version      integer     PRIMARY KEY,"
    "  description  text        NOT NULL,"
    "  script       text        NOT NULL,"
    "  checksum     text        NOT NULL,"
    "  applied_by   text        NOT NULL DEFAULT current_user,"
    "  applied_at   timestamptz NOT NULL DEFAULT now(),"
    "  duration_ms  integer     NOT NULL DEFAULT 0,"
    "  success      boolean     NOT NULL,"
    "  error        text"
    ");"
    "COMMENT ON TABLE flywheel.schema_history IS "
    "  'Applied migrations (flywheel migrate); do not edit by hand';"
    "ALTER TABLE flywheel.schema_history ADD COLUMN IF NOT EXISTS previous_checksum text;"
    "CREATE TABLE IF NOT EXISTS flywheel.schema_repeatable ("
    "  script       text        PRIMARY KEY,"
    "  description  text        NOT NULL,"
    "  checksum     text        NOT NULL,"
    "  applied_by   text        NOT NULL DEFAULT current_user,"
    "  applied_at   timestamptz NOT NULL DEFAULT now(),"
    "  duration_ms  integer     NOT NULL DEFAULT 0,"
    "  success      boolean     NOT NULL,"
    "  error        text"
    ");"
    "COMMENT ON TABLE flywheel.schema_repeatable IS "
    "  'Repeatable migrations (R__*.sql) as last applied; do not edit by hand';";

typedef struct {
    int version; /* 0 for a repeatable file */
    char checksum[65];
    char script[256];
    int success;
    char applied_at[64];
    char error[512];
} history_row;

typedef struct {
    history_row *rows; /* versioned */
    int n;
    history_row *rep; /* repeatable */
    int nrep;
} history;

static void history_free(history *h)
{
    free(h->rows);
    free(h->rep);
    memset(h, 0, sizeof *h);
}

static int load_rows(PGconn *conn, const char *sql, history_row **rows, int *nrows, char *errstr,
                     size_t errsize)
{
    PGresult *res = PQexec(conn, sql);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[1024];
        set_err(errstr, errsize, "could not read migration history: %s",
                fw_pg_errstr(msg, sizeof msg, res, conn));
        PQclear(res);
        return -1;
    }
    int n = PQntuples(res);
    history_row *r = calloc((size_t)(n ? n : 1), sizeof *r);
    if (!r) {
        PQclear(res);
        set_err(errstr, errsize, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        r[i].version = (int)strtol(PQgetvalue(res, i, 0), NULL, 10);
        snprintf(r[i].checksum, sizeof r[i].checksum, "%s", PQgetvalue(res, i, 1));
        snprintf(r[i].script, sizeof r[i].script, "%s", PQgetvalue(res, i, 2));
        r[i].success = PQgetvalue(res, i, 3)[0] == 't';
        snprintf(r[i].applied_at, sizeof r[i].applied_at, "%s", PQgetvalue(res, i, 4));
        snprintf(r[i].error, sizeof r[i].error, "%s", PQgetvalue(res, i, 5));
    }
    PQclear(res);
    *rows = r;
    *nrows = n;
    return 0;
}

/* Reads both history tables; a table that does not exist (status on a
 * database never migrated, or migrated before repeatable files) reads as
 * empty. */
static int load_history(PGconn *conn, history *h, char *errstr, size_t errsize)
{
    memset(h, 0, sizeof *h);
    PGresult *res = PQexec(conn, "SELECT to_regclass('flywheel.schema_history') IS NOT NULL, "
                                 "to_regclass('flywheel.schema_repeatable') IS NOT NULL");
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[1024];
        set_err(errstr, errsize, "could not read migration history: %s",
                fw_pg_errstr(msg, sizeof msg, res, conn));
        PQclear(res);
        return -1;
    }
    int has_versions = PQgetvalue(res, 0, 0)[0] == 't';
    int has_repeatable = PQgetvalue(res, 0, 1)[0] == 't';
    PQclear(res);
    if (has_versions &&
        load_rows(conn,
                  "SELECT version, checksum, script, success, "
                  "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS UTC'), "
                  "coalesce(error, '') FROM flywheel.schema_history ORDER BY version",
                  &h->rows, &h->n, errstr, errsize) != 0)
        return -1;
    if (has_repeatable &&
        load_rows(conn,
                  "SELECT 0, checksum, script, success, "
                  "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS UTC'), "
                  "coalesce(error, '') FROM flywheel.schema_repeatable ORDER BY script",
                  &h->rep, &h->nrep, errstr, errsize) != 0) {
        history_free(h);
        return -1;
    }
    return 0;
}

static const fw_migration *find_version(const fw_migration_set *set, int v)
{
    for (int i = 0; i < set->count; i++)
        if (set->items[i].version == v)
            return &set->items[i];
    return NULL;
}

static const fw_migration *find_script(const fw_migration_set *set, const char *script)
{
    for (int i = 0; i < set->count; i++)
        if (set->items[i].version == 0 && strcmp(set->items[i].name, script) == 0)
            return &set->items[i];
    return NULL;
}

static const history_row *find_row(const history *h, const fw_migration *m)
{
    if (m->version == 0) {
        for (int i = 0; i < h->nrep; i++)
            if (strcmp(h->rep[i].script, m->name) == 0)
                return &h->rep[i];
        return NULL;
    }
    for (int i = 0; i < h->n; i++)
        if (h->rows[i].version == m->version)
            return &h->rows[i];
    return NULL;
}

static int failed_entry(const history_row *h, char *errstr, size_t errsize)
{
    set_err(errstr, errsize,
            "migration %s failed at %s: %s\n"
            "hint: Fix the migration (or the database), then run \"flywheel migrate "
            "repair\" to clear the failed entry and migrate again.",
            h->script, h->applied_at, h->error[0] ? h->error : "unknown error");
    return -1;
}

/*
 * Checks the history against the files. Returns 0 when the run may go on, or
 * -1 with the reason (and a hint on a second line) in errstr.
 */
static int verify_history(const fw_migration_set *set, const history *hist, char *errstr,
                          size_t errsize)
{
    int max_applied = 0;
    for (int i = 0; i < hist->n; i++) {
        const history_row *h = &hist->rows[i];
        if (!h->success)
            return failed_entry(h, errstr, errsize);
        const fw_migration *m = find_version(set, h->version);
        if (!m) {
            set_err(errstr, errsize,
                    "database has migration %s applied, which this flywheel does not know\n"
                    "hint: The database schema is newer than this program (version %s); "
                    "upgrade flywheel.",
                    h->script, h->script);
            return -1;
        }
        if (strcmp(m->checksum, h->checksum) != 0 && !is_legacy_checksum(h->version, h->checksum)) {
            set_err(errstr, errsize,
                    "migration %s has changed since it was applied on %s\n"
                    "detail: applied checksum %.12s, file checksum %.12s.\n"
                    "hint: Applied migrations must never be edited; restore the original file "
                    "and put the change in a new migration (functions and views belong in "
                    "R__*.sql files, which may be edited).",
                    m->name, h->applied_at, h->checksum, m->checksum);
            return -1;
        }
        if (h->version > max_applied)
            max_applied = h->version;
    }
    for (int i = 0; i < hist->nrep; i++)
        if (!hist->rep[i].success)
            return failed_entry(&hist->rep[i], errstr, errsize);
    for (int i = 0; i < set->count; i++) {
        const fw_migration *m = &set->items[i];
        if (m->version == 0 || find_row(hist, m) || m->version >= max_applied)
            continue;
        if (max_applied <= FW_MIGRATE_LAST_BANDED_VERSION)
            continue; /* the bands: see FW_MIGRATE_LAST_BANDED_VERSION */
        set_err(errstr, errsize,
                "migration %s is pending but a later version is already applied\n"
                "hint: Give the new migration a version above %d.",
                m->name, max_applied);
        return -1;
    }
    return 0;
}

/* Converts a 1-based character position in sql to a line number. */
static int line_of(const char *sql, size_t len, long pos)
{
    int line = 1;
    for (size_t i = 0; i < len && (long)i < pos - 1; i++)
        if (sql[i] == '\n')
            line++;
    return line;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int record(PGconn *conn, const fw_migration *m, int success, int duration_ms,
                  const char *error, char *errstr, size_t errsize)
{
    char v[16], d[16];
    PGresult *res;
    snprintf(v, sizeof v, "%d", m->version);
    snprintf(d, sizeof d, "%d", duration_ms);
    if (m->version == 0) {
        const char *params[6] = {
            m->name, m->description, m->checksum, d, success ? "true" : "false", error};
        res = PQexecParams(conn,
                           "INSERT INTO flywheel.schema_repeatable (script, description, "
                           "checksum, duration_ms, success, error) "
                           "VALUES ($1, $2, $3, $4, $5, $6) "
                           "ON CONFLICT (script) DO UPDATE SET description = EXCLUDED.description, "
                           "checksum = EXCLUDED.checksum, applied_by = EXCLUDED.applied_by, "
                           "applied_at = EXCLUDED.applied_at, duration_ms = EXCLUDED.duration_ms, "
                           "success = EXCLUDED.success, error = EXCLUDED.error",
                           6, NULL, params, NULL, NULL, 0);
    } else {
        const char *params[7] = {
            v, m->description, m->name, m->checksum, d, success ? "true" : "false", error};
        res = PQexecParams(conn,
                           "INSERT INTO flywheel.schema_history (version, description, "
                           "script, checksum, duration_ms, success, error) "
                           "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                           7, NULL, params, NULL, NULL, 0);
    }
    int ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) {
        char msg[1024];
        set_err(errstr, errsize, "could not record migration %s: %s", m->name,
                fw_pg_errstr(msg, sizeof msg, res, conn));
    }
    PQclear(res);
    return ok ? 0 : -1;
}

/* Runs the statements of a file one at a time (no-transaction files). */
static PGresult *exec_statements(PGconn *conn, const fw_migration *m, size_t *failed_at)
{
    size_t pos = 0, s, e;
    while (fw_sql_next_statement(m->sql, m->len, &pos, &s, &e)) {
        char *stmt = strndup(m->sql + s, e - s);
        if (!stmt)
            return NULL;
        PGresult *res = PQexec(conn, stmt);
        free(stmt);
        if (!res ||
            (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK &&
             PQresultStatus(res) != PGRES_EMPTY_QUERY)) {
            *failed_at = s;
            return res;
        }
        PQclear(res);
    }
    return PQmakeEmptyPGresult(conn, PGRES_COMMAND_OK);
}

static int apply_one(PGconn *conn, const fw_migration *m, const fw_migrate_opts *opts, char *errstr,
                     size_t errsize)
{
    char sql[128], msg[1024], detail[1200];
    double t0 = now_ms();
    PGresult *res;
    size_t base = 0;

    if (!m->no_transaction) {
        if (exec_cmd(conn, "BEGIN", errstr, errsize) != 0)
            return -1;
        snprintf(sql, sizeof sql, "SET LOCAL lock_timeout = '%s'",
                 opts && opts->lock_timeout ? opts->lock_timeout : "10s");
        if (exec_cmd(conn, sql, errstr, errsize) != 0) {
            PQclear(PQexec(conn, "ROLLBACK"));
            return -1;
        }
        res = PQexec(conn, m->sql);
    } else {
        snprintf(sql, sizeof sql, "SET lock_timeout = '%s'",
                 opts && opts->lock_timeout ? opts->lock_timeout : "10s");
        if (exec_cmd(conn, sql, errstr, errsize) != 0)
            return -1;
        res = exec_statements(conn, m, &base);
    }

    /* A file of comments only (a version whose content moved to a
     * repeatable file) is an empty query. */
    int ok =
        res && (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK ||
                PQresultStatus(res) == PGRES_EMPTY_QUERY);
    if (ok) {
        PQclear(res);
        int dur = (int)(now_ms() - t0);
        if (record(conn, m, 1, dur, NULL, errstr, errsize) != 0) {
            if (!m->no_transaction)
                PQclear(PQexec(conn, "ROLLBACK"));
            return -1;
        }
        if (!m->no_transaction && exec_cmd(conn, "COMMIT", errstr, errsize) != 0)
            return -1;
        if (opts && opts->verbose)
            fprintf(stderr, "flywheel migrate: applied %s in %d ms\n", m->name, dur);
        return 0;
    }

    /* Failure: roll back, then record the failure on its own. */
    fw_pg_errstr(msg, sizeof msg, res, conn);
    const char *posf = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
    int line = posf ? line_of(m->sql, m->len, (long)base + strtol(posf, NULL, 10)) : 0;
    PQclear(res);
    if (!m->no_transaction)
        PQclear(PQexec(conn, "ROLLBACK"));
    if (line > 0)
        snprintf(detail, sizeof detail, "line %d: %s", line, msg);
    else
        snprintf(detail, sizeof detail, "%s", msg);
    char ignored[256];
    if (PQstatus(conn) == CONNECTION_OK)
        record(conn, m, 0, (int)(now_ms() - t0), detail, ignored, sizeof ignored);
    set_err(errstr, errsize,
            "migration %s failed: %s\n"
            "hint: The migration was rolled back%s. Fix it, then run \"flywheel migrate repair\" "
            "and migrate again.",
            m->name, detail, m->no_transaction ? " statement by statement up to the failure" : "");
    return -1;
}

/*
 * Re-records the history rows written by the legacy layout with the current
 * files' checksums, in one transaction. Returns the number re-recorded, or
 * -1 with errstr set (nothing changed).
 */
static int relayout(PGconn *conn, const fw_migration_set *set, const history *hist,
                    const fw_migrate_opts *opts, char *errstr, size_t errsize)
{
    int n = 0;
    for (int i = 0; i < hist->n; i++) {
        const history_row *h = &hist->rows[i];
        const fw_migration *m = find_version(set, h->version);
        if (!m || strcmp(m->checksum, h->checksum) == 0)
            continue;
        if (n == 0 && !(opts && opts->dry_run) && exec_cmd(conn, "BEGIN", errstr, errsize) != 0)
            return -1;
        n++;
        if (opts && opts->dry_run) {
            fprintf(stderr, "flywheel migrate: would re-record %s under the repeatable layout\n",
                    m->name);
            continue;
        }
        char v[16];
        snprintf(v, sizeof v, "%d", m->version);
        const char *params[4] = {m->checksum, h->checksum, m->name, v};
        PGresult *res = PQexecParams(conn,
                                     "UPDATE flywheel.schema_history SET checksum = $1, "
                                     "previous_checksum = $2, script = $3 "
                                     "WHERE version = $4 AND checksum = $2",
                                     4, NULL, params, NULL, NULL, 0);
        int ok =
            res && PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(res), "1") == 0;
        if (!ok) {
            char msg[1024];
            set_err(errstr, errsize, "could not re-record migration %s: %s", m->name,
                    res && PQresultStatus(res) == PGRES_COMMAND_OK
                        ? "its history row changed during the run"
                        : fw_pg_errstr(msg, sizeof msg, res, conn));
            PQclear(res);
            PQclear(PQexec(conn, "ROLLBACK"));
            return -1;
        }
        PQclear(res);
        if (opts && opts->verbose)
            fprintf(stderr,
                    "flywheel migrate: %s re-recorded under the repeatable layout "
                    "(checksum %.12s, was %.12s)\n",
                    m->name, m->checksum, h->checksum);
    }
    if (n > 0 && !(opts && opts->dry_run) && exec_cmd(conn, "COMMIT", errstr, errsize) != 0)
        return -1;
    return n;
}

static int lock_and_prepare(PGconn *conn, char *errstr, size_t errsize)
{
    char sql[160];
    PGresult *res;

    snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%d, %d)", FW_MIGRATE_LOCK_CLASS,
             FW_MIGRATE_LOCK_OBJ);
    res = PQexec(conn, sql);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[1024];
        set_err(errstr, errsize, "could not take the migration lock: %s",
                fw_pg_errstr(msg, sizeof msg, res, conn));
        PQclear(res);
        return -1;
    }
    int got = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!got) {
        fprintf(stderr, "flywheel migrate: waiting for another migration run to finish\n");
        snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%d, %d)", FW_MIGRATE_LOCK_CLASS,
                 FW_MIGRATE_LOCK_OBJ);
        if (exec_cmd(conn, sql, errstr, errsize) != 0)
            return -1;
    }
    if (exec_cmd(conn, "SET client_min_messages = warning", errstr, errsize) != 0 ||
        exec_cmd(conn, HISTORY_DDL, errstr, errsize) != 0)
        return -1;
    return 0;
}

static void unlock(PGconn *conn)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%d, %d)", FW_MIGRATE_LOCK_CLASS,
             FW_MIGRATE_LOCK_OBJ);
    PQclear(PQexec(conn, sql));
}

int fw_migrate_apply(PGconn *conn, const fw_migration_set *set, const fw_migrate_opts *opts,
                     char *errstr, size_t errsize)
{
    history hist = {0};
    int applied = 0, rc = -1, dry = opts && opts->dry_run;

    if (lock_and_prepare(conn, errstr, errsize) != 0)
        goto out;
    if (load_history(conn, &hist, errstr, errsize) != 0)
        goto out;
    if (verify_history(set, &hist, errstr, errsize) != 0)
        goto out;
    int changed = relayout(conn, set, &hist, opts, errstr, errsize);
    if (changed < 0)
        goto out;
    for (int i = 0; i < set->count; i++) {
        const fw_migration *m = &set->items[i];
        const history_row *h = find_row(&hist, m);
        if (m->version > 0 && h)
            continue;
        /* A repeatable file runs when new or changed, and after any
         * versioned change in this run. */
        if (m->version == 0 && h && changed == 0 && strcmp(h->checksum, m->checksum) == 0)
            continue;
        if (dry) {
            fprintf(stderr, "flywheel migrate: would apply %s\n", m->name);
        } else if (apply_one(conn, m, opts, errstr, errsize) != 0) {
            goto out;
        }
        applied++;
        if (m->version > 0)
            changed++;
    }
    rc = applied;
out:
    history_free(&hist);
    if (PQstatus(conn) == CONNECTION_OK)
        unlock(conn);
    return rc;
}

static void status_line(FILE *out, const char *version, const char *state, const char *at,
                        const char *script)
{
    fprintf(out, "%-10s %-10s %-20.19s %s\n", version, state, at, script);
}

int fw_migrate_status(PGconn *conn, const fw_migration_set *set, FILE *out, char *errstr,
                      size_t errsize)
{
    history hist;
    int attention = 0;
    char v[16];
    if (load_history(conn, &hist, errstr, errsize) != 0)
        return -1;

    status_line(out, "version", "state", "applied at", "script");
    for (int i = 0; i < hist.n; i++) {
        const history_row *h = &hist.rows[i];
        const fw_migration *m = find_version(set, h->version);
        const char *state = "applied";
        if (!h->success)
            state = "FAILED";
        else if (!m)
            state = "unknown";
        else if (strcmp(m->checksum, h->checksum) != 0)
            state = is_legacy_checksum(h->version, h->checksum) ? "legacy" : "CHANGED";
        if (strcmp(state, "applied") != 0)
            attention = 1;
        snprintf(v, sizeof v, "%d", h->version);
        status_line(out, v, state, h->applied_at, h->script);
        if (!h->success && h->error[0])
            fprintf(out, "           error: %s\n", h->error);
    }
    for (int i = 0; i < set->count; i++) {
        const fw_migration *m = &set->items[i];
        if (m->version > 0 && !find_row(&hist, m)) {
            snprintf(v, sizeof v, "%d", m->version);
            status_line(out, v, "pending", "", m->name);
            attention = 1;
        }
    }
    /* Repeatable files: what is recorded, then what never ran. */
    for (int i = 0; i < hist.nrep; i++) {
        const history_row *h = &hist.rep[i];
        const fw_migration *m = find_script(set, h->script);
        const char *state = "applied";
        if (!h->success)
            state = "FAILED";
        else if (!m)
            state = "missing"; /* file removed: what it defined stays */
        else if (strcmp(m->checksum, h->checksum) != 0)
            state = "outdated";
        if (strcmp(state, "applied") != 0 && strcmp(state, "missing") != 0)
            attention = 1;
        status_line(out, "repeatable", state, h->applied_at, h->script);
        if (!h->success && h->error[0])
            fprintf(out, "           error: %s\n", h->error);
    }
    for (int i = 0; i < set->count; i++) {
        const fw_migration *m = &set->items[i];
        if (m->version == 0 && !find_row(&hist, m)) {
            status_line(out, "repeatable", "pending", "", m->name);
            attention = 1;
        }
    }
    history_free(&hist);
    return attention;
}

int fw_migrate_repair(PGconn *conn, char *errstr, size_t errsize)
{
    int rc = -1;
    if (lock_and_prepare(conn, errstr, errsize) != 0)
        goto out;
    PGresult *res = PQexec(conn, "WITH v AS (DELETE FROM flywheel.schema_history WHERE NOT success "
                                 "RETURNING 1), r AS (DELETE FROM flywheel.schema_repeatable "
                                 "WHERE NOT success RETURNING 1) "
                                 "SELECT (SELECT count(*) FROM v) + (SELECT count(*) FROM r)");
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[1024];
        set_err(errstr, errsize, "could not repair the history: %s",
                fw_pg_errstr(msg, sizeof msg, res, conn));
        PQclear(res);
        goto out;
    }
    rc = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
out:
    if (PQstatus(conn) == CONNECTION_OK)
        unlock(conn);
    return rc;
}

int fw_migrate_current_version(PGconn *conn, int *version, char *errstr, size_t errsize)
{
    PGresult *res = PQexec(conn, "SELECT CASE WHEN to_regclass('flywheel.schema_history') "
                                 "IS NULL THEN -1 END");
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[1024];
        set_err(errstr, errsize, "%s", fw_pg_errstr(msg, sizeof msg, res, conn));
        PQclear(res);
        return -1;
    }
    int missing = !PQgetisnull(res, 0, 0);
    PQclear(res);
    if (missing) {
        *version = 0;
        return 0;
    }
    res =
        PQexec(conn, "SELECT coalesce(max(version), 0) FROM flywheel.schema_history WHERE success");
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[1024];
        set_err(errstr, errsize, "could not read the schema version: %s",
                fw_pg_errstr(msg, sizeof msg, res, conn));
        PQclear(res);
        return -1;
    }
    *version = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}
