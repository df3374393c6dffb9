/*
 * `flywheel reviewer add|link|list|disable|enable|role`: web review
 * accounts. An account is a PostgreSQL role of the same name, so everything
 * the review SQL and row-level security decide for a psql reviewer holds in
 * the browser:
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
 *   enable NAME   grants a disabled account to flywheel_web again
 *   role NAME --role KIND   changes the account's kind and memberships
 *
 * Each is one call of a SQL function of migrations/R__50_web.sql
 * (flywheel.web_account_*), the same functions the admin page calls: the
 * rules (the name, which existing roles may become accounts, the last
 * admin) are decided there, once, as the caller's identity; the caller
 * needs flywheel_admin (or superuser). The one-time token is made here and
 * only its SHA-256 goes to the database.
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
           "       flywheel reviewer disable NAME\n"
           "       flywheel reviewer enable NAME\n"
           "       flywheel reviewer role NAME --role reviewer|adjudicator|admin\n\n"
           "Options: --dsn DSN (default $FLYWHEEL_PG_DSN; a member of flywheel_admin), --url URL\n"
           "(the server's public URL for the link; default $FLYWHEEL_SERVE_PUBLIC_URL, else\n"
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

/* Runs one account function; prints the database's error. */
static PGresult *call(PGconn *c, const char *cmd, const char *sql, int n, const char *const *p)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        return r;
    fw_cli_pg_error(cmd, r, c);
    PQclear(r);
    return NULL;
}

/* Makes a token, calls sql (an account function taking the name, $2 the
 * token's SHA-256 in hex and $3 the minutes; it returns the expiry) and
 * prints the link. */
static int with_link(PGconn *c, const char *cmd, const char *sql, const char *name,
                     const char *kind, int ttl_min, const char *url)
{
    char tok[SV_TOKEN_LEN + 1], hash[65], ttl[32];
    if (sv_token_new(tok) != 0) {
        fprintf(stderr, "flywheel %s: could not get random bytes for the sign-in token\n", cmd);
        return 1;
    }
    sv_token_hash_hex(tok, hash);
    snprintf(ttl, sizeof ttl, "%d", ttl_min);
    const char *p[4] = {name, hash, ttl, kind};
    PGresult *r = call(c, cmd, sql, kind ? 4 : 3, p);
    if (!r)
        return 1;
    PQclear(r);
    size_t ul = strlen(url);
    while (ul > 0 && url[ul - 1] == '/')
        ul--;
    printf("%.*s/signin?t=%s\n", (int)ul, url, tok);
    if (kind)
        fprintf(stderr, "account \"%s\" (%s) created\n", name, kind);
    fprintf(stderr, "sign-in link for \"%s\": works once, expires in %d minutes\n", name, ttl_min);
    return 0;
}

static int cmd_list(PGconn *c)
{
    PGresult *r = call(c, "reviewer list",
                       "SELECT name, kind, to_char(created_at, 'YYYY-MM-DD HH24:MI'), "
                       "       coalesce(to_char(disabled_at, 'YYYY-MM-DD HH24:MI'), '-'), "
                       "       coalesce(to_char(last_seen, 'YYYY-MM-DD HH24:MI'), '-'), sessions "
                       "FROM flywheel.web_account_list()",
                       0, NULL);
    if (!r)
        return 1;
    printf("%-24s %-12s %-17s %-17s %-17s %s\n", "name", "role", "created", "disabled", "last seen",
           "sessions");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%-24s %-12s %-17s %-17s %-17s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
    PQclear(r);
    return 0;
}

/* disable, enable, role: one call, one line of what changed. */
static int cmd_change(PGconn *c, const char *sub, const char *name, const char *kind)
{
    char cmd[48];
    snprintf(cmd, sizeof cmd, "reviewer %s", sub);
    const char *p[2] = {name, kind};
    PGresult *r;
    if (strcmp(sub, "disable") == 0)
        r = call(c, cmd, "SELECT flywheel.web_account_disable($1)", 1, p);
    else if (strcmp(sub, "enable") == 0)
        r = call(c, cmd, "SELECT flywheel.web_account_enable($1)", 1, p);
    else
        r = call(c, cmd, "SELECT flywheel.web_account_set_kind($1, $2)", 2, p);
    if (!r)
        return 1;
    const char *v = PQgetvalue(r, 0, 0);
    if (strcmp(sub, "disable") == 0)
        fprintf(stderr,
                v[0] == 't' ? "account \"%s\" disabled: its sessions and unused links are gone\n"
                            : "account \"%s\" was already disabled\n",
                name);
    else if (strcmp(sub, "enable") == 0)
        fprintf(stderr,
                v[0] == 't' ? "account \"%s\" enabled: give it a new sign-in link with "
                              "`flywheel reviewer link`\n"
                            : "account \"%s\" was already enabled\n",
                name);
    else
        fprintf(stderr, "account \"%s\": %s, was %s\n", name, kind, v);
    PQclear(r);
    return 0;
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
    const char *url = NULL, *role = NULL, *sub = NULL, *name = NULL;
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
         strcmp(sub, "disable") && strcmp(sub, "enable") && strcmp(sub, "role")) ||
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
    if (strcmp(sub, "role") == 0 && !role) {
        fw_cli_errorf(&cli, "reviewer role needs --role\n"
                            "hint: Use --role reviewer, adjudicator or admin.");
        return 2;
    }
    if (role && strcmp(sub, "add") && strcmp(sub, "role")) {
        fw_cli_errorf(&cli, "--role applies to add and role only");
        return 2;
    }
    if (!role)
        role = "reviewer";
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
        rc = with_link(c, "reviewer add",
                       "SELECT flywheel.web_account_add($1, $4, decode($2, 'hex'), $3::integer)",
                       name, role, ttl, public_url(url, buf, sizeof buf));
    else if (strcmp(sub, "link") == 0)
        rc = with_link(c, "reviewer link",
                       "SELECT flywheel.web_account_link($1, decode($2, 'hex'), $3::integer)", name,
                       NULL, ttl, public_url(url, buf, sizeof buf));
    else if (strcmp(sub, "list") == 0)
        rc = cmd_list(c);
    else
        rc = cmd_change(c, sub, name, role);
    PQfinish(c);
    return rc;
}
