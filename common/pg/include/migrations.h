/*
 * The migrations compiled into the binaries (generated from migrations/ at
 * build time), sorted by version. The table ends with a zeroed entry.
 */
#ifndef FW_MIGRATIONS_H
#define FW_MIGRATIONS_H

#include <stddef.h>

typedef struct {
    const char *name; /* file name, e.g. "V0001__create_store.sql" */
    const char *sql;  /* NUL-terminated contents */
    size_t len;       /* length without the terminating NUL */
} fw_embedded_migration;

extern const fw_embedded_migration fw_embedded_migrations[];
extern const int fw_embedded_migration_count;

#endif
