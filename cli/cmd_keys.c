/*
 * `flywheel keys create|list|revoke`: the project keys flywheel-gateway
 * accepts (flywheel.project_keys). A key is 32 random bytes from the
 * operating system, shown once as `fwk_` and 64 hex digits; the table keeps
 * only its SHA-256, its first characters (to recognise it in a list) and
 * the project it maps to. Revoking keeps the row (revoked_at): the gateway
 * stops accepting the key within its keys.cache_s.
 */
#include "cli.h"
#include "opts.h"
#include "pgutil.h"

#include <getopt.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char CMD[] = "keys";

static void usage(FILE *f)
{
    fprintf(f, "usage: flywheel keys create --project NAME [--name TEXT] [--dsn DSN]\n"
               "       flywheel keys list [--project NAME] [--all] [--dsn DSN]\n"
               "       flywheel keys revoke KEY_ID [--dsn DSN]\n"
               "\n"
               "create  makes a key for PROJECT and prints it once (only its hash is stored)\n"
               "list    shows keys (id, project, name, prefix, created, revoked); --all\n"
               "        includes revoked ones\n"
               "revoke  stops a key from working (flywheel-gateway notices within keys.cache_s)\n");
}

static int create(PGconn *conn, const char *project, const char *name)
{
    uint8_t raw[32], h[SHA256_DIGEST_LENGTH];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        fw_cli_error(CMD, "could not read random bytes for the key");
        return 1;
    }
    char key[4 + 64 + 1], hash[2 + 64 + 1];
    memcpy(key, "fwk_", 4);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(key + 4 + 2 * i, 3, "%02x", raw[i]);
    SHA256((const unsigned char *)key, strlen(key), h);
    memcpy(hash, "\\x", 2);
    for (size_t i = 0; i < sizeof h; i++)
        snprintf(hash + 2 + 2 * i, 3, "%02x", h[i]);
    char prefix[13];
    snprintf(prefix, sizeof prefix, "%.12s", key);
    const char *params[4] = {project, name ? name : "", prefix, hash};
    PGresult *res =
        PQexecParams(conn,
                     "INSERT INTO flywheel.project_keys (project, name, key_prefix, key_hash) "
                     "VALUES ($1, $2, $3, $4::bytea) RETURNING key_id",
                     4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fw_cli_pg_error(CMD, res, conn);
        PQclear(res);
        return 1;
    }
    fprintf(stderr, "created key %s for project \"%s\"; it is shown only now:\n",
            PQgetvalue(res, 0, 0), project);
    printf("%s\n", key);
    PQclear(res);
    return 0;
}

static int list(PGconn *conn, const char *project, int all)
{
    const char *params[2] = {project, all ? "t" : "f"};
    PGresult *res = PQexecParams(
        conn,
        "SELECT key_id, project, name, key_prefix || '...', "
        "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), "
        "coalesce(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '') "
        "FROM flywheel.project_keys "
        "WHERE ($1::text IS NULL OR project = $1) AND ($2::boolean OR revoked_at IS NULL) "
        "ORDER BY key_id",
        2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fw_cli_pg_error(CMD, res, conn);
        PQclear(res);
        return 1;
    }
    printf("%-6s %-20s %-20s %-16s %-19s %s\n", "id", "project", "name", "prefix", "created (UTC)",
           "revoked (UTC)");
    for (int i = 0; i < PQntuples(res); i++)
        printf("%-6s %-20s %-20s %-16s %-19s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
               PQgetvalue(res, i, 5));
    PQclear(res);
    return 0;
}

static int revoke(PGconn *conn, const char *id)
{
    char *end;
    long long v = strtoll(id, &end, 10);
    if (*id == '\0' || *end != '\0' || v <= 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "invalid key id \"%.100s\"", id);
        fw_cli_error(CMD, msg);
        return 2;
    }
    const char *params[1] = {id};
    PGresult *res =
        PQexecParams(conn,
                     "UPDATE flywheel.project_keys SET revoked_at = now() "
                     "WHERE key_id = $1::bigint AND revoked_at IS NULL RETURNING project",
                     1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fw_cli_pg_error(CMD, res, conn);
        PQclear(res);
        return 1;
    }
    int n = PQntuples(res);
    if (n == 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "no active key with id %s\nhint: See `flywheel keys list --all`.",
                 id);
        fw_cli_error(CMD, msg);
    } else {
        fprintf(stderr, "revoked key %s of project \"%s\"\n", id, PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return n ? 0 : 1;
}

int fw_cmd_keys(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    char full[48];
    snprintf(full, sizeof full, "keys %.30s", sub);
    int known =
        strcmp(sub, "create") == 0 || strcmp(sub, "list") == 0 || strcmp(sub, "revoke") == 0;
    fw_cli cli = {.cmd = known ? full : CMD, .accepts = FW_CLI_DSN, .usage = usage};
    const char *project = NULL, *name = NULL;
    int all = 0;
    static const struct option opts[] = {{"project", required_argument, NULL, 'p'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"all", no_argument, NULL, 'a'},
                                         {NULL, 0, NULL, 0}};
    int c;
    /* The subcommand is argv[1]; its options and operands follow. Options
     * before any subcommand (--help) are parsed from argv itself. */
    int shift = sub[0] == '-' ? 0 : 1;
    while ((c = fw_cli_next(&cli, argc - shift, argv + shift, NULL, opts)) > 0) {
        switch (c) {
        case 'p':
            project = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'a':
            all = 1;
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    if (!shift) {
        fw_cli_errorf(&cli, "missing subcommand\nhint: Use create, list or revoke.");
        return 2;
    }
    const char *dsn = cli.dsn;
    int rest = argc - 1 - optind;
    char **args = argv + 1 + optind;
    int rc;
    if (strcmp(sub, "create") == 0) {
        if (!project || !*project || rest != 0) {
            fw_cli_errorf(&cli, "needs --project NAME");
            return 2;
        }
    } else if (strcmp(sub, "list") == 0) {
        if (rest != 0) {
            usage(stderr);
            return 2;
        }
    } else if (strcmp(sub, "revoke") == 0) {
        if (rest != 1) {
            fw_cli_errorf(&cli, "needs one KEY_ID");
            return 2;
        }
    } else {
        fw_cli_errorf(&cli, "unknown subcommand \"%.60s\"\nhint: Use create, list or revoke.", sub);
        return 2;
    }
    PGconn *conn = fw_cli_connect(cli.cmd, dsn);
    if (!conn)
        return 1;
    if (sub[0] == 'c')
        rc = create(conn, project, name);
    else if (sub[0] == 'l')
        rc = list(conn, project, all);
    else
        rc = revoke(conn, args[0]);
    PQfinish(conn);
    return rc;
}
