/*
 * `flywheel reviewer add|link|list|disable`: web review accounts. An account
 * is a PostgreSQL role of the same name, so everything the review SQL and
 * row-level security decide for a psql reviewer holds in the browser:
 *
 *   add NAME [--role reviewer|adjudicator|admin]
 *       creates the role (NOLOGIN) unless it exists, puts it in
 *       flywheel_reviewer (and flywheel_adjudicator or flywheel_admin),
 *       grants it to flywheel_web (the server's login may switch to it),
 *       records the account and prints a one-time sign-in link
 *   link NAME     a new sign-in link for an existing, enabled account
 *   list          accounts, roles, last use
 *   disable NAME  ends the account's sessions and links, revokes it from
 *                 flywheel_web; the role and its labels stay
 *
 * An existing role is accepted only when it is already a member of
 * flywheel_reviewer and has none of SUPERUSER, CREATEROLE, CREATEDB,
 * REPLICATION, BYPASSRLS: the server's login must never be able to become
 * anything more than a reviewer account. Run as a role that may create
 * roles (CREATEROLE or superuser). DDL names go through quote_ident in SQL
 * (format %I), never through string pasting here.
 */
#include "cli.h"
#include "opts.h"
#include "guard.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(
        f, "usage: flywheel reviewer add NAME [--role reviewer|adjudicator|admin] [--ttl MINUTES]\n"
           "       flywheel reviewer link NAME [--ttl MINUTES]\n"
           "       flywheel reviewer list\n"
           "       flywheel reviewer disable NAME\n\n"
           "Options: --dsn DSN (default $FLYWHEEL_PG_DSN; needs CREATEROLE), --url URL (the\n"
           "server's public URL for the link; default $FLYWHEEL_SERVE_PUBLIC_URL, else\n"
           "http://$FLYWHEEL_SERVE_LISTEN, else http://127.0.0.1:8080). Links work once and\n"
           "expire after --ttl minutes (default 60).\n");
}

static int valid_name(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 63 || !islower((unsigned char)n[0]))
        return 0;
    for (const char *p = n; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_' && *p != '.' &&
            *p != '-')
            return 0;
    return strncmp(n, "pg_", 3) != 0 && strncmp(n, "flywheel_", 9) != 0;
}

static int exec_ok(PGconn *c, PGresult *r, const char *cmd)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return 1;
    fw_cli_pg_error(cmd, r, c);
    return 0;
}

static PGresult *q(PGconn *c, const char *sql, int n, const char *const *p)
{
    return PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
}

static void rollback(PGconn *c)
{
    PQclear(PQexec(c, "ROLLBACK"));
}

/* Inserts a new sign-in token for name and prints the link. Runs inside
 * the caller's transaction. */
static int issue_link(PGconn *c, const char *name, int ttl_min, const char *url, const char *cmd)
{
    char tok[SV_TOKEN_LEN + 1], hash[65], ttl[32];
    if (sv_token_new(tok) != 0) {
        fprintf(stderr, "flywheel %s: could not get random bytes for the sign-in token\n", cmd);
        return -1;
    }
    sv_token_hash_hex(tok, hash);
    snprintf(ttl, sizeof ttl, "%d", ttl_min);
    const char *p[3] = {hash, name, ttl};
    PGresult *r = q(c,
                    "INSERT INTO flywheel.web_signin_tokens (token_hash, account, expires_at) "
                    "VALUES (decode($1, 'hex'), $2, now() + make_interval(mins => $3::int))",
                    3, p);
    int ok = exec_ok(c, r, cmd);
    PQclear(r);
    if (!ok)
        return -1;
    size_t ul = strlen(url);
    while (ul > 0 && url[ul - 1] == '/')
        ul--;
    printf("%.*s/signin?t=%s\n", (int)ul, url, tok);
    fprintf(stderr, "sign-in link for \"%s\": works once, expires in %d minutes\n", name, ttl_min);
    return 0;
}

static int commit(PGconn *c, const char *cmd)
{
    PGresult *r = PQexec(c, "COMMIT");
    int ok = exec_ok(c, r, cmd);
    PQclear(r);
    return ok ? 0 : -1;
}

static int cmd_add(PGconn *c, const char *name, const char *role, int ttl, const char *url)
{
    const char *cmd = "reviewer add";
    PGresult *r = PQexec(c, "BEGIN");
    PQclear(r);
    const char *p1[1] = {name};
    r = q(c,
          "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls, "
          "       pg_has_role(oid, 'flywheel_reviewer', 'MEMBER'), "
          "       EXISTS (SELECT 1 FROM flywheel.web_accounts WHERE name = $1) "
          "FROM pg_roles WHERE rolname = $1",
          1, p1);
    if (!exec_ok(c, r, cmd))
        goto fail;
    if (PQntuples(r) == 1) {
        if (PQgetvalue(r, 0, 2)[0] == 't') {
            fprintf(stderr,
                    "flywheel %s: account \"%s\" already exists\n"
                    "hint: Use `flywheel reviewer link %s` for a new sign-in link.\n",
                    cmd, name, name);
            goto fail;
        }
        if (PQgetvalue(r, 0, 0)[0] == 't' || PQgetvalue(r, 0, 1)[0] != 't') {
            fprintf(stderr,
                    "flywheel %s: role \"%s\" exists and cannot be a web account\n"
                    "detail: An existing role must be a member of flywheel_reviewer and have "
                    "none of SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS.\n"
                    "hint: Choose another name, or GRANT flywheel_reviewer TO \"%s\" first.\n",
                    cmd, name, name);
            goto fail;
        }
    }
    PQclear(r);
    /* DO takes no parameters: the values travel as transaction-local
     * settings, and format(%I) quotes the name for the DDL. */
    const char *p2[2] = {name, role};
    r = q(c, "SELECT set_config('fw.name', $1, true), set_config('fw.kind', $2, true)", 2, p2);
    if (!exec_ok(c, r, cmd))
        goto fail;
    PQclear(r);
    r = PQexec(c, "DO $do$ DECLARE n text := current_setting('fw.name'); "
                  "k text := current_setting('fw.kind'); BEGIN "
                  "  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = n) THEN "
                  "    EXECUTE format('CREATE ROLE %I NOLOGIN', n); "
                  "  END IF; "
                  "  EXECUTE format('GRANT flywheel_reviewer TO %I', n); "
                  "  IF k = 'adjudicator' THEN "
                  "    EXECUTE format('GRANT flywheel_adjudicator TO %I', n); "
                  "  ELSIF k = 'admin' THEN "
                  "    EXECUTE format('GRANT flywheel_admin TO %I', n); "
                  "  END IF; "
                  "  EXECUTE format('GRANT %I TO flywheel_web', n); "
                  "END $do$");
    if (!exec_ok(c, r, cmd))
        goto fail;
    PQclear(r);
    r = q(c, "INSERT INTO flywheel.web_accounts (name, kind) VALUES ($1, $2)", 2, p2);
    if (!exec_ok(c, r, cmd))
        goto fail;
    PQclear(r);
    r = NULL;
    if (issue_link(c, name, ttl, url, cmd) != 0 || commit(c, cmd) != 0)
        goto fail;
    fprintf(stderr, "account \"%s\" (%s) created\n", name, role);
    return 0;
fail:
    PQclear(r);
    rollback(c);
    return 1;
}

static int cmd_link(PGconn *c, const char *name, int ttl, const char *url)
{
    const char *cmd = "reviewer link";
    PQclear(PQexec(c, "BEGIN"));
    const char *p[1] = {name};
    PGresult *r =
        q(c, "SELECT disabled_at IS NOT NULL FROM flywheel.web_accounts WHERE name = $1", 1, p);
    if (!exec_ok(c, r, cmd))
        goto fail;
    if (PQntuples(r) != 1) {
        fprintf(stderr,
                "flywheel %s: account \"%s\" does not exist\n"
                "hint: Create it with `flywheel reviewer add %s`.\n",
                cmd, name, name);
        goto fail;
    }
    if (PQgetvalue(r, 0, 0)[0] == 't') {
        fprintf(stderr, "flywheel %s: account \"%s\" is disabled\n", cmd, name);
        goto fail;
    }
    PQclear(r);
    r = NULL;
    if (issue_link(c, name, ttl, url, cmd) != 0 || commit(c, cmd) != 0)
        goto fail;
    return 0;
fail:
    PQclear(r);
    rollback(c);
    return 1;
}

static int cmd_list(PGconn *c)
{
    PGresult *r = PQexec(
        c, "SELECT a.name, a.kind, to_char(a.created_at, 'YYYY-MM-DD HH24:MI'), "
           "       coalesce(to_char(a.disabled_at, 'YYYY-MM-DD HH24:MI'), '-'), "
           "       coalesce(to_char(max(s.last_seen), 'YYYY-MM-DD HH24:MI'), '-'), count(s.*) "
           "FROM flywheel.web_accounts a LEFT JOIN flywheel.web_sessions s ON s.account = a.name "
           "GROUP BY 1, 2, 3, 4 ORDER BY 1");
    if (!exec_ok(c, r, "reviewer list")) {
        PQclear(r);
        return 1;
    }
    printf("%-24s %-12s %-17s %-17s %-17s %s\n", "name", "role", "created", "disabled", "last seen",
           "sessions");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%-24s %-12s %-17s %-17s %-17s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
    PQclear(r);
    return 0;
}

static int cmd_disable(PGconn *c, const char *name)
{
    const char *cmd = "reviewer disable";
    PQclear(PQexec(c, "BEGIN"));
    const char *p[1] = {name};
    PGresult *r = q(c,
                    "UPDATE flywheel.web_accounts SET disabled_at = coalesce(disabled_at, now()) "
                    "WHERE name = $1 RETURNING name",
                    1, p);
    if (!exec_ok(c, r, cmd))
        goto fail;
    if (PQntuples(r) != 1) {
        fprintf(stderr, "flywheel %s: account \"%s\" does not exist\n", cmd, name);
        goto fail;
    }
    PQclear(r);
    r = q(c, "DELETE FROM flywheel.web_sessions WHERE account = $1", 1, p);
    if (!exec_ok(c, r, cmd))
        goto fail;
    PQclear(r);
    r = q(c, "DELETE FROM flywheel.web_signin_tokens WHERE account = $1 AND used_at IS NULL", 1, p);
    if (!exec_ok(c, r, cmd))
        goto fail;
    PQclear(r);
    r = q(c, "SELECT set_config('fw.name', $1, true)", 1, p);
    if (!exec_ok(c, r, cmd))
        goto fail;
    PQclear(r);
    r = PQexec(c, "DO $do$ BEGIN EXECUTE format('REVOKE %I FROM flywheel_web', "
                  "current_setting('fw.name')); END $do$");
    if (!exec_ok(c, r, cmd))
        goto fail;
    PQclear(r);
    r = NULL;
    if (commit(c, cmd) != 0)
        goto fail;
    fprintf(stderr, "account \"%s\" disabled: its sessions and unused links are gone\n", name);
    return 0;
fail:
    PQclear(r);
    rollback(c);
    return 1;
}

/* The public URL for links: --url, else the server's configuration. */
static const char *public_url(const char *flag, char *buf, size_t size)
{
    if (flag)
        return flag;
    const char *u = getenv("FLYWHEEL_SERVE_PUBLIC_URL");
    if (u && *u)
        return u;
    const char *l = getenv("FLYWHEEL_SERVE_LISTEN");
    snprintf(buf, size, "http://%s", l && *l ? l : "127.0.0.1:8080");
    return buf;
}

int fw_cmd_reviewer(int argc, char **argv)
{
    const char *url = NULL, *role = "reviewer", *sub = NULL, *name = NULL;
    int ttl = 60;
    char full[48];
    fw_cli cli = {.cmd = "reviewer", .accepts = FW_CLI_DSN, .usage = usage};
    if (argc > 1 && argv[1][0] != '-') {
        snprintf(full, sizeof full, "reviewer %.30s", argv[1]);
        cli.cmd = full;
    }
    static const struct option opts[] = {{"url", required_argument, NULL, 'u'},
                                         {"role", required_argument, NULL, 'r'},
                                         {"ttl", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    int o;
    while ((o = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        if (o == 'u') {
            url = optarg;
        } else if (o == 'r') {
            role = optarg;
        } else if (o == 't') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 1 || v > 60 * 24 * 7) {
                fw_cli_errorf(&cli,
                              "invalid --ttl \"%s\"\n"
                              "hint: Minutes, from 1 to 10080 (a week).",
                              optarg);
                return 2;
            }
            ttl = (int)v;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (o != -1)
        return fw_cli_status(o);
    const char *dsn = cli.dsn;
    if (optind < argc)
        sub = argv[optind++];
    if (optind < argc)
        name = argv[optind++];
    if (optind < argc) {
        fw_cli_errorf(&cli, "unexpected argument \"%s\"", argv[optind]);
        return 2;
    }
    int needs_name = sub && strcmp(sub, "list") != 0;
    if (!sub ||
        (strcmp(sub, "add") && strcmp(sub, "link") && strcmp(sub, "list") &&
         strcmp(sub, "disable")) ||
        (needs_name && !name) || (!needs_name && name)) {
        usage(stderr);
        return 2;
    }
    if (name && !valid_name(name)) {
        fw_cli_errorf(&cli,
                      "invalid account name \"%s\"\n"
                      "hint: Use up to 63 lower-case letters, digits, \"_\", \".\" or \"-\", "
                      "starting with a letter, not starting with pg_ or flywheel_.",
                      name);
        return 2;
    }
    if (strcmp(role, "reviewer") && strcmp(role, "adjudicator") && strcmp(role, "admin")) {
        fw_cli_errorf(&cli,
                      "invalid --role \"%s\"\n"
                      "hint: Use reviewer, adjudicator or admin.",
                      role);
        return 2;
    }
    PGconn *c = fw_cli_connect(cli.cmd, dsn);
    if (!c)
        return 1;
    char buf[600];
    int rc;
    if (strcmp(sub, "add") == 0)
        rc = cmd_add(c, name, role, ttl, public_url(url, buf, sizeof buf));
    else if (strcmp(sub, "link") == 0)
        rc = cmd_link(c, name, ttl, public_url(url, buf, sizeof buf));
    else if (strcmp(sub, "list") == 0)
        rc = cmd_list(c);
    else
        rc = cmd_disable(c, name);
    PQfinish(c);
    return rc;
}
