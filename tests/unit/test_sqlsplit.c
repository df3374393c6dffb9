/* The statement splitter used for no-transaction migrations. */
#include "fwtest.h"
#include "sqlsplit.h"

static int split(const char *sql, char out[][256], int max)
{
    size_t pos = 0, s, e, len = strlen(sql);
    int n = 0;
    while (n < max && fw_sql_next_statement(sql, len, &pos, &s, &e)) {
        snprintf(out[n], 256, "%.*s", (int)(e - s), sql + s);
        n++;
    }
    return n;
}

int main(void)
{
    char st[8][256];

    FWT_CHECK_EQ_INT(split("", st, 8), 0);
    FWT_CHECK_EQ_INT(split("  -- only a comment\n /* and this */ ;; ", st, 8), 0);

    FWT_CHECK_EQ_INT(split("SELECT 1; SELECT 2", st, 8), 2);
    FWT_CHECK_EQ_STR(st[0], "SELECT 1");
    FWT_CHECK_EQ_STR(st[1], "SELECT 2");

    FWT_CHECK_EQ_INT(split("SELECT 'a;b', \"x;y\"; SELECT E'it\\'s;'", st, 8), 2);
    FWT_CHECK_EQ_STR(st[0], "SELECT 'a;b', \"x;y\"");
    FWT_CHECK_EQ_STR(st[1], "SELECT E'it\\'s;'");

    FWT_CHECK_EQ_INT(split("SELECT 'it''s;'; SELECT 3", st, 8), 2);
    FWT_CHECK_EQ_STR(st[0], "SELECT 'it''s;'");

    FWT_CHECK_EQ_INT(split("CREATE FUNCTION f() RETURNS int AS $fn$ BEGIN RETURN 1; END $fn$ "
                           "LANGUAGE plpgsql; SELECT $$a;b$$",
                           st, 8),
                     2);
    FWT_CHECK(strstr(st[0], "RETURN 1; END $fn$ LANGUAGE plpgsql") != NULL);
    FWT_CHECK_EQ_STR(st[1], "SELECT $$a;b$$");

    FWT_CHECK_EQ_INT(split("SELECT $1; -- c;\nSELECT /* a; /* nested; */ b; */ 2;", st, 8), 2);
    FWT_CHECK_EQ_STR(st[0], "SELECT $1");
    FWT_CHECK_EQ_STR(st[1], "SELECT /* a; /* nested; */ b; */ 2");

    FWT_CHECK_EQ_INT(split("CREATE INDEX CONCURRENTLY i ON t (a);\n", st, 8), 1);
    FWT_CHECK_EQ_STR(st[0], "CREATE INDEX CONCURRENTLY i ON t (a)");
    return 0;
}
