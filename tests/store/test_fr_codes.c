/*
 * store_unit_fr_codes: the FR codes are one list (issue 10: the error
 * mapping of the review functions' SQLSTATEs lives in the store). Every FR
 * code a migration raises is in flywheel/store.h's FW_STORE_FR_CODES with a
 * class a front end can answer by (invalid, not found, conflict) and a
 * meaning, and is a row of docs/review.md's SQLSTATE table; every code of
 * the list is raised somewhere (no stale entry); fw_store_sqlstate_code and
 * fw_store_sqlstate_meaning follow the list and give nothing for other
 * SQLSTATEs; fw_store_error_pg takes the class from it.
 */
#include "flywheel/store.h"
#include "fwtest.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *state;
    fw_store_code code;
    const char *meaning;
} list[] = {
#define X(state, code, meaning) {state, FW_STORE_##code, meaning},
    FW_STORE_FR_CODES(X)
#undef X
};
#define N_LIST (sizeof list / sizeof list[0])

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    FWT_CHECK_MSG(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    FWT_CHECK(n >= 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    FWT_CHECK(buf);
    FWT_CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Marks in raised[] the codes of the list that text raises ('FRnnn'), and
 * fails on one the list does not have. Returns how many it found. */
static int scan(const char *name, const char *text, int *raised)
{
    int found = 0;
    for (const char *p = text; (p = strstr(p, "'FR")) != NULL; p++) {
        char code[6];
        if (strlen(p) < 7 || p[6] != '\'')
            continue;
        memcpy(code, p + 1, 5);
        code[5] = '\0';
        const char *meaning = fw_store_sqlstate_meaning(code);
        FWT_CHECK_MSG(meaning, "%s raises %s, which FW_STORE_FR_CODES in flywheel/store.h lacks",
                      name, code);
        for (size_t i = 0; i < N_LIST; i++)
            if (strcmp(list[i].state, code) == 0)
                raised[i] = 1;
        found++;
    }
    return found;
}

int main(void)
{
    const char *src = getenv("FW_SOURCE_DIR");
    FWT_CHECK_MSG(src, "FW_SOURCE_DIR is not set");

    /* The list itself: FR codes, each once, a class a front end answers by. */
    for (size_t i = 0; i < N_LIST; i++) {
        FWT_CHECK_MSG(strlen(list[i].state) == 5 && strncmp(list[i].state, "FR", 2) == 0,
                      "\"%s\" is not an FR code", list[i].state);
        FWT_CHECK(list[i].code == FW_STORE_INVALID || list[i].code == FW_STORE_NOT_FOUND ||
                  list[i].code == FW_STORE_CONFLICT);
        FWT_CHECK(list[i].meaning && *list[i].meaning);
        for (size_t j = 0; j < i; j++)
            FWT_CHECK_MSG(strcmp(list[i].state, list[j].state) != 0, "%s is listed twice",
                          list[i].state);
        FWT_CHECK_EQ_INT(fw_store_sqlstate_code(list[i].state), list[i].code);
        FWT_CHECK_EQ_STR(fw_store_sqlstate_meaning(list[i].state), list[i].meaning);
    }
    /* The classes the web server and the CLI rely on. */
    FWT_CHECK_EQ_INT(fw_store_sqlstate_code("FR002"), FW_STORE_INVALID);
    FWT_CHECK_EQ_INT(fw_store_sqlstate_code("FR003"), FW_STORE_CONFLICT);
    FWT_CHECK_EQ_INT(fw_store_sqlstate_code("FR005"), FW_STORE_NOT_FOUND);
    FWT_CHECK_EQ_INT(fw_store_sqlstate_code("FR006"), FW_STORE_CONFLICT);
    /* Anything else is a database error with no meaning of ours. */
    const char *others[] = {"42501", "23505", "FR00", "FR0055", "fr002", "", "FR999"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        FWT_CHECK_EQ_INT(fw_store_sqlstate_code(others[i]), FW_STORE_DATABASE);
        FWT_CHECK(fw_store_sqlstate_meaning(others[i]) == NULL);
    }
    FWT_CHECK_EQ_INT(fw_store_sqlstate_code(NULL), FW_STORE_DATABASE);
    FWT_CHECK(fw_store_sqlstate_meaning(NULL) == NULL);

    /* fw_store_error_pg without a result (a connection-level failure) is a
     * database error. */
    fw_store_error e;
    fw_store_error_pg(&e, "claim", NULL, NULL);
    FWT_CHECK_EQ_INT(e.code, FW_STORE_DATABASE);
    FWT_CHECK_EQ_STR(e.sqlstate, "");

    /* Every code the migrations raise is in the list; every listed code is
     * raised. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/migrations", src);
    DIR *d = opendir(dir);
    FWT_CHECK_MSG(d, "cannot open %s", dir);
    int raised[N_LIST] = {0}, files = 0, total = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".sql") != 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        char *text = slurp(path);
        total += scan(de->d_name, text, raised);
        free(text);
        files++;
    }
    closedir(d);
    FWT_CHECK_MSG(files > 0 && total > 0, "no FR code found in %s", dir);
    for (size_t i = 0; i < N_LIST; i++)
        FWT_CHECK_MSG(raised[i], "%s is in FW_STORE_FR_CODES but no migration raises it",
                      list[i].state);

    /* docs/review.md's table has a row for each. */
    char doc[4096];
    snprintf(doc, sizeof doc, "%s/docs/review.md", src);
    char *text = slurp(doc);
    for (size_t i = 0; i < N_LIST; i++) {
        char row[32];
        snprintf(row, sizeof row, "\n| %s |", list[i].state);
        FWT_CHECK_MSG(strstr(text, row), "docs/review.md has no row for %s", list[i].state);
    }
    free(text);
    printf("ok: %zu FR codes, %d raised in %d migrations, all in the list and in docs/review.md\n",
           N_LIST, total, files);
    return 0;
}
