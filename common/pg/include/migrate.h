/*
 * Schema migrations: versioned SQL files applied in order, each in its own
 * transaction, under one advisory lock, with a history table of checksums;
 * then repeatable files (functions, views) re-applied when they change.
 *
 * Two kinds of file:
 *   V<version>__<description>.sql  versioned: tables, indexes, grants, RLS.
 *       Applied once, in version order, never edited afterwards. Versions
 *       after FW_MIGRATE_LAST_BANDED_VERSION are numbered one after another.
 *   R__<description>.sql           repeatable: functions, views, triggers and
 *       their grants, written idempotently (CREATE OR REPLACE). Applied after
 *       every versioned file, in name order, when never applied, when their
 *       checksum changed, or when a versioned migration ran in the same run
 *       (which may have dropped or altered what they define).
 *
 * Invariants kept in flywheel.schema_history:
 *   - one row per version ever attempted; success = false marks a failed run
 *     and blocks every later run until `flywheel migrate repair` removes it;
 *   - the checksum is the SHA-256 of the file as applied; a different file
 *     with the same version is refused;
 *   - versions are applied in increasing order; a pending version lower than
 *     the highest applied one is refused (no out-of-order application),
 *     except among the banded versions up to FW_MIGRATE_LAST_BANDED_VERSION,
 *     which were numbered in bands and do not depend on each other's order;
 *   - a history row whose checksum is the one its file had before functions
 *     and views moved to repeatable files (the "legacy layout") is re-recorded
 *     with the new file's checksum, its old one kept in previous_checksum.
 * flywheel.schema_repeatable holds one row per repeatable file: the checksum
 * last applied, or success = false after a failure, which blocks later runs
 * like a failed version does.
 *
 * A file whose first line is `-- flywheel:no-transaction` runs statement by
 * statement outside a transaction (for CREATE INDEX CONCURRENTLY and the like);
 * if it fails half-way, it is marked failed like any other.
 */
#ifndef FW_MIGRATE_H
#define FW_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

/* The last version numbered in bands (V0001, V0003, V0020, V0021,
 * V0030-V0033); every later version is the previous one plus one. */
#define FW_MIGRATE_LAST_BANDED_VERSION 33

typedef struct {
    int version;       /* 0 for a repeatable migration */
    char *name;        /* file name */
    char *description; /* from the name: "create_store" */
    char *sql;
    size_t len;
    char checksum[65]; /* hex SHA-256 */
    int no_transaction;
} fw_migration;

/* Versioned migrations first, by version, then repeatable ones by name. */
typedef struct {
    fw_migration *items;
    int count;
} fw_migration_set;

/* Loads the migrations compiled into the binary. Returns 0, or -1 with a
 * message in errstr. */
int fw_migrations_load_embedded(fw_migration_set *set, char *errstr, size_t errsize);

/* Loads V*.sql and R__*.sql from a directory. Malformed names (a file
 * starting with V or R and ending in .sql that is neither V<digits>__<name>.sql
 * nor R__<name>.sql), duplicate versions and duplicate repeatable names are
 * errors. Returns 0, or -1 with errstr set and nothing allocated. */
int fw_migrations_load_dir(fw_migration_set *set, const char *dir, char *errstr, size_t errsize);

void fw_migrations_free(fw_migration_set *set);

/* The highest version in the set, 0 when it has no versioned file. */
int fw_migrations_latest(const fw_migration_set *set);

typedef struct {
    const char *lock_timeout; /* per-migration lock_timeout, e.g. "10s" */
    int verbose;              /* print each applied file on stderr */
    int dry_run;              /* report what would be applied, change nothing */
} fw_migrate_opts;

/*
 * Applies the pending migrations of `set` to the database behind `conn`:
 * legacy-layout history rows are re-recorded, pending versions applied, then
 * the repeatable files that need it (see above).
 * Takes a session advisory lock for the whole run (concurrent callers wait,
 * then find nothing to do). On success returns the number applied (0 when up
 * to date). On failure returns -1 with a PostgreSQL-style message in errstr
 * (and a hint on a second line where one helps); the failing migration is
 * rolled back and recorded as failed.
 */
int fw_migrate_apply(PGconn *conn, const fw_migration_set *set, const fw_migrate_opts *opts,
                     char *errstr, size_t errsize);

/* Prints the versioned migrations (applied, pending, failed, changed, legacy)
 * and then the repeatable ones (applied, pending, outdated, failed, missing)
 * to `out`. Returns 0, 1 when something needs attention (anything a run
 * would apply, a failure, a changed versioned file), -1 on error. */
int fw_migrate_status(PGconn *conn, const fw_migration_set *set, FILE *out, char *errstr,
                      size_t errsize);

/* Removes failed entries (versioned and repeatable) from the history so the
 * fixed files can run again.
 * Returns the number removed, or -1 on error. */
int fw_migrate_repair(PGconn *conn, char *errstr, size_t errsize);

/*
 * Reads the highest successfully applied version (repeatable files have
 * none: a program that needs a function states the version that created or
 * last changed what it relies on, see the collector's minimum version). Returns 0 and sets *version
 * (0 when no history table exists), or -1 on error.
 */
int fw_migrate_current_version(PGconn *conn, int *version, char *errstr, size_t errsize);

#endif
