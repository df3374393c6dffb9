/*
 * A lexer just good enough to find statement boundaries; it does not parse.
 * Unterminated quotes or comments run to the end of the input, where
 * PostgreSQL will report the syntax error with its own position.
 */
#include "sqlsplit.h"

#include <ctype.h>
#include <string.h>

static int is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/* At sql[i] == '$': returns the length of a dollar-quote tag ("$$" or
 * "$name$"), or 0 if this is not one (e.g. a $1 parameter). */
static size_t dollar_tag(const char *sql, size_t len, size_t i)
{
    size_t j = i + 1;
    if (j < len && isdigit((unsigned char)sql[j]))
        return 0;
    while (j < len && is_ident_char(sql[j]) && sql[j] != '$')
        j++;
    if (j < len && sql[j] == '$')
        return j - i + 1;
    return 0;
}

static int only_blank(const char *sql, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        if (!isspace((unsigned char)sql[i]))
            return 0;
    return 1;
}

int fw_sql_next_statement(const char *sql, size_t len, size_t *pos, size_t *start, size_t *end)
{
    size_t i = *pos;
    size_t begin = (size_t)-1;

    while (i < len) {
        char c = sql[i];
        if (isspace((unsigned char)c)) {
            i++;
            continue;
        }
        if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
            while (i < len && sql[i] != '\n')
                i++;
            continue;
        }
        if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
            int depth = 1;
            i += 2;
            while (i < len && depth > 0) {
                if (sql[i] == '/' && i + 1 < len && sql[i + 1] == '*') {
                    depth++;
                    i += 2;
                } else if (sql[i] == '*' && i + 1 < len && sql[i + 1] == '/') {
                    depth--;
                    i += 2;
                } else {
                    i++;
                }
            }
            continue;
        }
        if (begin == (size_t)-1)
            begin = i;
        if (c == ';') {
            *start = begin;
            *end = i;
            *pos = i + 1;
            if (only_blank(sql, begin, i)) {
                begin = (size_t)-1;
                i++;
                continue;
            }
            return 1;
        }
        if (c == '\'' || c == '"') {
            char q = c;
            /* E'...' strings allow backslash escapes */
            int esc = (q == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                       (i < 2 || !is_ident_char(sql[i - 2])));
            i++;
            while (i < len) {
                if (esc && sql[i] == '\\' && i + 1 < len) {
                    i += 2;
                    continue;
                }
                if (sql[i] == q) {
                    if (i + 1 < len && sql[i + 1] == q) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i++;
            }
            i++;
            continue;
        }
        if (c == '$' && (i == 0 || !is_ident_char(sql[i - 1]))) {
            size_t tl = dollar_tag(sql, len, i);
            if (tl) {
                const char *tag = sql + i;
                i += tl;
                while (i < len &&
                       !(sql[i] == '$' && i + tl <= len && memcmp(sql + i, tag, tl) == 0))
                    i++;
                i += tl;
                continue;
            }
        }
        i++;
    }
    *pos = len;
    if (begin != (size_t)-1 && !only_blank(sql, begin, len)) {
        *start = begin;
        *end = len;
        return 1;
    }
    return 0;
}
