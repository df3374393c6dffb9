/*
 * A small test support library for Flywheel's C tests.
 *
 * Each test is a program; ctest runs it and reads its exit status. A failed
 * check prints `file:line: check failed: ...` and exits 1 at once. Tests that
 * need PostgreSQL or the dev broker call fwt_pg_*() / fwt_kafka_bootstrap(),
 * which fail the test loudly (never skip it) when the service is missing:
 * scripts/test starts both and exports FLYWHEEL_PG_DSN, FLYWHEEL_PG_ADMIN_DSN
 * and FLYWHEEL_KAFKA_BOOTSTRAP.
 *
 * Isolation: every integration test creates its own database (fwt_pg_create_db)
 * and its own topic names (fwt_unique_name), so tests may run in parallel.
 * The dev broker auto-creates unknown topics with 4 partitions.
 */
#ifndef FW_TEST_H
#define FW_TEST_H

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fwt_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#define FWT_CHECK(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fwt_fail(__FILE__, __LINE__, "check failed: %s", #cond);                               \
    } while (0)
#define FWT_CHECK_MSG(cond, ...)                                                                   \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fwt_fail(__FILE__, __LINE__, __VA_ARGS__);                                             \
    } while (0)
#define FWT_CHECK_EQ_INT(a, b)                                                                     \
    do {                                                                                           \
        long long fwt_a_ = (long long)(a), fwt_b_ = (long long)(b);                                \
        if (fwt_a_ != fwt_b_)                                                                      \
            fwt_fail(__FILE__, __LINE__, "%s == %s failed: %lld != %lld", #a, #b, fwt_a_, fwt_b_); \
    } while (0)
#define FWT_CHECK_EQ_STR(a, b)                                                                     \
    do {                                                                                           \
        const char *fwt_a_ = (a), *fwt_b_ = (b);                                                   \
        if (!fwt_a_ || !fwt_b_ || strcmp(fwt_a_, fwt_b_) != 0)                                     \
            fwt_fail(__FILE__, __LINE__, "%s == %s failed: \"%s\" != \"%s\"", #a, #b,              \
                     fwt_a_ ? fwt_a_ : "(null)", fwt_b_ ? fwt_b_ : "(null)");                      \
    } while (0)

/* Returns getenv(name) or fails the test saying what is missing. */
const char *fwt_require_env(const char *name);

/* Monotonic milliseconds. */
int64_t fwt_now_ms(void);

/* A name unique to this process and call: "<prefix>_<pid>_<counter>_<rand>". */
void fwt_unique_name(const char *prefix, char *out, size_t size);

/*
 * Creates an empty database with a unique name from FLYWHEEL_PG_ADMIN_DSN and
 * writes a connection string for it (FLYWHEEL_PG_ADMIN_DSN with dbname
 * replaced) into dsn. The database is dropped at exit unless the test failed
 * and FWT_KEEP_DB is set. Fails the test on any error.
 */
void fwt_pg_create_db(const char *prefix, char *dsn, size_t size);

/* Applies the built-in migrations to dsn; fails the test on error. */
void fwt_pg_migrate(const char *dsn);

/* Connects or fails the test. */
PGconn *fwt_pg_connect(const char *dsn);

/* Runs a query returning one value and returns it as an integer; fails the
 * test on error or when the result is not exactly one row and column. */
long long fwt_pg_int(PGconn *conn, const char *sql);

/* Runs a command (or a query whose rows are ignored); fails the test on error. */
void fwt_pg_exec(PGconn *conn, const char *sql);

/* Bootstrap servers of the dev broker, or fail. */
const char *fwt_kafka_bootstrap(void);

/* Path of a built program (from the FWT_BUILD_DIR compile definition), e.g.
 * fwt_program("cli/flywheel"). */
const char *fwt_program(const char *relpath);

/* Runs a shell command line and returns its exit status (or -1). */
int fwt_run(const char *cmdline);

#endif
