/*
 * The property-table engine (fw_props.h). Values are kept as text, as they
 * came, with their source: --print-config shows them before validation,
 * so that a wrong value can be seen next to where it came from. Only
 * fw_props_check turns them into numbers and refuses what is invalid.
 */
#include "fw_props.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const src_names[] = {"default", "file", "environment", "flag"};

const char *fw_props_source_name(fw_props_source src)
{
    if ((int)src < 0 || (size_t)src >= sizeof src_names / sizeof src_names[0])
        return "unknown";
    return src_names[src];
}

static const fw_prop *find(const fw_props_table *t, const char *key, size_t *idx)
{
    for (size_t i = 0; i < t->n_props; i++) {
        if (strcmp(t->props[i].key, key) == 0) {
            if (idx)
                *idx = i;
            return &t->props[i];
        }
    }
    return NULL;
}

int fw_props_init(fw_props *p, const fw_props_table *table)
{
    memset(p, 0, sizeof *p);
    p->table = table;
    p->values = calloc(table->n_props ? table->n_props : 1, sizeof *p->values);
    p->sources = calloc(table->n_props ? table->n_props : 1, sizeof *p->sources);
    p->ints = calloc(table->n_props ? table->n_props : 1, sizeof *p->ints);
    p->extra = calloc(table->n_families ? table->n_families : 1, sizeof *p->extra);
    if (!p->values || !p->sources || !p->ints || !p->extra)
        goto oom;
    for (size_t i = 0; i < table->n_props; i++) {
        p->values[i] = strdup(table->props[i].def);
        if (!p->values[i])
            goto oom;
    }
    return 0;
oom:
    fw_props_free(p);
    return -1;
}

void fw_props_free(fw_props *p)
{
    if (p->values && p->table)
        for (size_t i = 0; i < p->table->n_props; i++)
            free(p->values[i]);
    if (p->extra && p->table) {
        for (size_t f = 0; f < p->table->n_families; f++) {
            for (size_t i = 0; i < p->extra[f].n; i++) {
                free(p->extra[f].items[i].key);
                free(p->extra[f].items[i].value);
            }
            free(p->extra[f].items);
        }
    }
    free(p->values);
    free(p->sources);
    free(p->ints);
    free(p->extra);
    memset(p, 0, sizeof *p);
}

/* Sets (or adds) name in a family's list. */
static int set_extra(fw_props_list *list, const char *name, const char *value, fw_props_source src,
                     char *err, size_t errsize)
{
    for (size_t i = 0; i < list->n; i++) {
        if (strcmp(list->items[i].key, name) == 0) {
            char *v = strdup(value);
            if (!v)
                goto oom;
            free(list->items[i].value);
            list->items[i].value = v;
            list->items[i].source = src;
            return 0;
        }
    }
    fw_props_extra *k = realloc(list->items, (list->n + 1) * sizeof *k);
    if (!k)
        goto oom;
    list->items = k;
    k[list->n].key = strdup(name);
    k[list->n].value = strdup(value);
    k[list->n].source = src;
    if (!k[list->n].key || !k[list->n].value) {
        free(k[list->n].key);
        free(k[list->n].value);
        goto oom;
    }
    list->n++;
    return 0;
oom:
    snprintf(err, errsize, "out of memory");
    return -1;
}

int fw_props_set(fw_props *p, const char *key, const char *value, fw_props_source src, char *err,
                 size_t errsize)
{
    const fw_props_table *t = p->table;
    size_t idx;
    if (find(t, key, &idx)) {
        char *v = strdup(value);
        if (!v) {
            snprintf(err, errsize, "out of memory");
            return -1;
        }
        free(p->values[idx]);
        p->values[idx] = v;
        p->sources[idx] = src;
        return 0;
    }
    for (size_t f = 0; f < t->n_families; f++) {
        const fw_props_family *fam = &t->families[f];
        size_t pl = strlen(fam->prefix);
        if (strncmp(key, fam->prefix, pl) != 0 || key[pl] == '\0')
            continue;
        if (fam->check) {
            char why[512];
            if (fam->check(value, why, sizeof why) != 0) {
                snprintf(err, errsize, "invalid value for parameter \"%s\": %s", key, why);
                return -1;
            }
        }
        return set_extra(&p->extra[f], key + pl, value, src, err, errsize);
    }
    snprintf(err, errsize, "unrecognized configuration parameter \"%s\"", key);
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Expands ${VAR} in `in` into out. Returns 0, or -1 with err set. */
static int expand(const char *in, char *out, size_t size, char *err, size_t errsize)
{
    size_t o = 0;
    for (const char *s = in; *s;) {
        if (s[0] == '$' && s[1] == '{') {
            const char *close = strchr(s + 2, '}');
            if (!close) {
                snprintf(err, errsize, "unterminated \"${\"");
                return -1;
            }
            char name[128];
            size_t n = (size_t)(close - s - 2);
            if (n == 0 || n >= sizeof name) {
                snprintf(err, errsize, "invalid variable reference");
                return -1;
            }
            memcpy(name, s + 2, n);
            name[n] = '\0';
            const char *v = getenv(name);
            if (!v) {
                snprintf(err, errsize, "environment variable \"%s\" is not set", name);
                return -1;
            }
            size_t vl = strlen(v);
            if (o + vl >= size)
                goto toolong;
            memcpy(out + o, v, vl);
            o += vl;
            s = close + 1;
            continue;
        }
        if (o + 1 >= size)
            goto toolong;
        out[o++] = *s++;
    }
    out[o] = '\0';
    return 0;
toolong:
    snprintf(err, errsize, "value too long");
    return -1;
}

int fw_props_load_file(fw_props *p, const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsize, "could not open configuration file \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }
    char line[8192], val[8192], msg[512];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errsize, "%s:%d: expected \"key = value\"", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *v = trim(eq + 1);
        size_t vl = strlen(v);
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
            v[vl - 1] = '\0';
            v++;
        }
        if (p->table->expand_env) {
            if (expand(v, val, sizeof val, msg, sizeof msg) != 0) {
                snprintf(err, errsize, "%s:%d: %s", path, lineno, msg);
                rc = -1;
                break;
            }
            v = val;
        }
        if (fw_props_set(p, key, v, FW_PROPS_SRC_FILE, msg, sizeof msg) != 0) {
            snprintf(err, errsize, "%s:%d: %s", path, lineno, msg);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

void fw_props_env_name(const char *key, char *out, size_t size)
{
    size_t o = 0;
    for (const char *pre = "FLYWHEEL_"; *pre && o + 1 < size; pre++)
        out[o++] = *pre;
    for (; *key && o + 1 < size; key++)
        out[o++] = (*key == '.') ? '_' : (char)toupper((unsigned char)*key);
    out[o] = '\0';
}

int fw_props_load_env(fw_props *p, char *err, size_t errsize)
{
    const fw_props_table *t = p->table;
    for (size_t i = 0; i < t->n_props; i++) {
        char name[128];
        fw_props_env_name(t->props[i].key, name, sizeof name);
        const char *v = getenv(name);
        if (v && fw_props_set(p, t->props[i].key, v, FW_PROPS_SRC_ENV, err, errsize) != 0)
            return -1;
    }
    return 0;
}

static int enum_ok(const fw_prop *pr, const char *v)
{
    size_t n = strlen(v);
    for (const char *c = pr->choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && strncmp(c, v, n) == 0)
            return 1;
        c += len + (bar ? 1 : 0);
    }
    return 0;
}

static int parse_int(const fw_prop *pr, const char *v, int64_t *out, char *err, size_t errsize)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    const char *rest = end;
    while (isspace((unsigned char)*rest))
        rest++;
    if (errno || end == v || *rest != '\0') {
        snprintf(err, errsize, "invalid value for parameter \"%s\": \"%s\"", pr->key, v);
        return -1;
    }
    if (x < pr->min || x > pr->max) {
        snprintf(err, errsize,
                 "%lld is outside the valid range for parameter \"%s\" (%lld .. %lld)", x, pr->key,
                 (long long)pr->min, (long long)pr->max);
        return -1;
    }
    *out = x;
    return 0;
}

int fw_props_check(fw_props *p, char *err, size_t errsize)
{
    const fw_props_table *t = p->table;
    for (size_t i = 0; i < t->n_props; i++) {
        const fw_prop *pr = &t->props[i];
        const char *v = p->values[i];
        if (pr->required && *v == '\0') {
            char env[128];
            fw_props_env_name(pr->key, env, sizeof env);
            snprintf(err, errsize,
                     "parameter \"%s\" is required\nhint: Set it in the configuration file, "
                     "with --%s=VALUE, or in %s.",
                     pr->key, pr->key, env);
            return -1;
        }
        if (pr->type == FW_PROP_INT && parse_int(pr, v, &p->ints[i], err, errsize) != 0)
            return -1;
        if (pr->type == FW_PROP_ENUM && !enum_ok(pr, v)) {
            snprintf(err, errsize,
                     "invalid value for parameter \"%s\": \"%s\"\nhint: Use one of %s.", pr->key, v,
                     pr->choices);
            return -1;
        }
    }
    return 0;
}

const char *fw_props_str(const fw_props *p, const char *key)
{
    size_t idx;
    return find(p->table, key, &idx) ? p->values[idx] : "";
}

int64_t fw_props_int(const fw_props *p, const char *key)
{
    size_t idx;
    return find(p->table, key, &idx) ? p->ints[idx] : 0;
}

const fw_props_extra *fw_props_family_items(const fw_props *p, const char *prefix, size_t *n)
{
    for (size_t f = 0; f < p->table->n_families; f++) {
        if (strcmp(p->table->families[f].prefix, prefix) == 0) {
            *n = p->extra[f].n;
            return p->extra[f].n ? p->extra[f].items : NULL;
        }
    }
    *n = 0;
    return NULL;
}

void fw_props_mask_dsn(const char *dsn, char *out, size_t size)
{
    /* URI form: postgresql://user:secret@host/db */
    const char *scheme = strstr(dsn, "://");
    if (scheme) {
        const char *at = strchr(scheme + 3, '@');
        const char *colon = strchr(scheme + 3, ':');
        if (at && colon && colon < at) {
            snprintf(out, size, "%.*s:****%s", (int)(colon - dsn), dsn, at);
            return;
        }
        snprintf(out, size, "%s", dsn);
        return;
    }
    /* key=value form: mask password=... (quoted or not). */
    size_t o = 0;
    const char *s = dsn;
    while (*s && o + 1 < size) {
        if (strncmp(s, "password", 8) == 0 && (s == dsn || isspace((unsigned char)s[-1]))) {
            const char *q = s + 8;
            while (isspace((unsigned char)*q))
                q++;
            if (*q == '=') {
                q++;
                while (isspace((unsigned char)*q))
                    q++;
                if (*q == '\'') {
                    for (q++; *q && *q != '\''; q++)
                        if (*q == '\\' && q[1])
                            q++;
                    if (*q)
                        q++;
                } else {
                    while (*q && !isspace((unsigned char)*q))
                        q++;
                }
                int n = snprintf(out + o, size - o, "password=****");
                o += (size_t)n < size - o ? (size_t)n : size - o - 1;
                s = q;
                continue;
            }
        }
        out[o++] = *s++;
    }
    out[o] = '\0';
}

/* A pass-through name whose value is a credential (librdkafka's
 * sasl.password, ssl.key.password, sasl.oauthbearer.config, ssl.key.pem). */
static int secret_name(const char *k)
{
    return strstr(k, "password") || strstr(k, "secret") || strstr(k, "sasl.oauthbearer.config") ||
           strstr(k, "ssl.key.pem");
}

void fw_props_print(const fw_props *p, FILE *out)
{
    const fw_props_table *t = p->table;
    for (size_t i = 0; i < t->n_props; i++) {
        char masked[1024];
        const char *v = p->values[i];
        if (t->props[i].secret) {
            fw_props_mask_dsn(v, masked, sizeof masked);
            v = masked;
        }
        fprintf(out, "%s = %s  # %s\n", t->props[i].key, v, src_names[p->sources[i]]);
    }
    for (size_t f = 0; f < t->n_families; f++) {
        const fw_props_family *fam = &t->families[f];
        for (size_t i = 0; i < p->extra[f].n; i++) {
            const fw_props_extra *x = &p->extra[f].items[i];
            fprintf(out, "%s%s = %s  # %s\n", fam->prefix, x->key,
                    fam->mask_secrets && secret_name(x->key) ? "****" : x->value,
                    src_names[x->source]);
        }
    }
}

void fw_props_print_help(const fw_props_table *table, FILE *out)
{
    for (size_t i = 0; i < table->n_props; i++) {
        const fw_prop *pr = &table->props[i];
        fprintf(out, "  --%s=VALUE", pr->key);
        if (pr->def[0])
            fprintf(out, " (default %s)", pr->def);
        fprintf(out, "\n      ");
        /* help text without Markdown backquotes, wrapped at ~90 columns;
         * a space is written before a word, never after, so no line ends
         * in one */
        int col = 6;
        for (const char *h = pr->help; *h;) {
            const char *sp = strchr(h, ' ');
            size_t wl = sp ? (size_t)(sp - h) : strlen(h);
            if (col > 6 && col + 1 + (int)wl > 92) {
                fprintf(out, "\n      ");
                col = 6;
            } else if (col > 6) {
                fputc(' ', out);
                col++;
            }
            for (size_t k = 0; k < wl; k++)
                if (h[k] != '`')
                    fputc(h[k], out);
            col += (int)wl;
            h += wl + (sp ? 1 : 0);
        }
        fputc('\n', out);
    }
}

void fw_props_print_reference(const fw_props_table *table, FILE *out)
{
    fprintf(out, "| key | environment | default | description |\n|---|---|---|---|\n");
    for (size_t i = 0; i < table->n_props; i++) {
        const fw_prop *pr = &table->props[i];
        char env[128];
        fw_props_env_name(pr->key, env, sizeof env);
        const char *def = pr->def[0] ? pr->def : (pr->required ? "(required)" : "(empty)");
        int plain = def[0] == '(';
        fprintf(out, "| `%s` | `%s` | %s%s%s | %s%s |\n", pr->key, env, plain ? "" : "`", def,
                plain ? "" : "`", pr->help, pr->secret ? " Secret." : "");
    }
}
