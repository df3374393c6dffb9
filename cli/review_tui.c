/*
 * `flywheel review start`: the interactive terminal reviewer.
 *
 * A line-oriented dialogue rather than a full-screen program: it works over
 * ssh, in tmux, in a plain pseudo-terminal under test, and with screen
 * readers. For each claimed item it shows the conversation (roles, tool
 * calls, long text wrapped to the terminal and paged a screen at a time),
 * then asks for every rubric field with local validation, and submits. The
 * database validates again and names the field at fault; that field is
 * asked again.
 *
 * At any prompt (a field, the span prompt, "submit?"): ":skip" (asks a
 * reason), ":quit" (keeps the lease; running the same command again resumes
 * the same item while the lease lasts), ":release" (gives the item back and
 * quits), ":show" (the conversation again), ":help" (the commands and the
 * queue's instructions). Corrections are edited in $EDITOR (default vi);
 * spans are chosen by sentence number ("s3 factual") or character range
 * ("r 10 24 style").
 *
 * Layout: everything is wrapped to the width by review_text.c (nothing
 * relies on the terminal's own wrap, which cuts words and strands closing
 * brackets), and every text that may be long goes through page(), which
 * counts the rows written since the reviewer last typed: nothing not yet
 * seen scrolls off a small terminal, the queue's instructions included.
 */
#include "cli.h"
#include "opts.h"
#include "review.h"
#include "review_text.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { OPT_DSN = 1000, OPT_AS, OPT_QUEUE, OPT_WIDTH, OPT_HELP };

typedef enum { ASK_OK, ASK_EMPTY, ASK_SKIP, ASK_QUIT, ASK_RELEASE, ASK_SHOW, ASK_HELP } ask_result;

typedef struct {
    size_t message, part, start, end;
} sentence_ref;

typedef struct {
    PGconn *conn;
    const char *queue;
    const char *as;
    int width, rows;
    json_t *item;       /* the current claim */
    sentence_ref *sent; /* sentences of the output, numbered from 1 */
    size_t nsent;
    char *screen; /* the rendered conversation */
    char *intro;  /* the queue, its description and instructions, the commands */
} tui;

/* Terminal rows written since the reviewer last typed a line: the pager
 * stops before anything not yet seen would scroll off the screen. */
static int g_rows_shown;

/* Reads one line from stdin without its newline. Returns 0, or -1 at end of
 * input (treated as :quit). */
static int read_line(char *buf, size_t size)
{
    fflush(stdout);
    g_rows_shown = 0;
    if (!fgets(buf, (int)size, stdin))
        return -1;
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return 0;
}

/* Classifies the colon commands available at every prompt. */
static ask_result command_of(const char *line)
{
    if (strcmp(line, ":skip") == 0)
        return ASK_SKIP;
    if (strcmp(line, ":quit") == 0 || strcmp(line, ":q") == 0)
        return ASK_QUIT;
    if (strcmp(line, ":release") == 0)
        return ASK_RELEASE;
    if (strcmp(line, ":show") == 0)
        return ASK_SHOW;
    if (strcmp(line, ":help") == 0)
        return ASK_HELP;
    return ASK_OK;
}

/* Rows a line of `cols` code points takes on a terminal `width` wide. */
static int rows_of(size_t cols, int width)
{
    return cols == 0 ? 1 : (int)((cols + (size_t)width - 1) / (size_t)width);
}

/* Prints text, pausing ("-- more --") before a line that would push rows
 * not yet seen off the top of the screen: at most rows-1 rows between two
 * inputs, the last row being the prompt's. Enter shows the next page, "q"
 * (or the end of input) skips the rest of this text. */
static void page(tui *t, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        char *line = strndup(p, nl ? len - 1 : len);
        int need = rows_of(line ? fw_rt_chars(line) : len, t->width);
        free(line);
        if (g_rows_shown > 0 && g_rows_shown + need > t->rows - 1) {
            char answer[64];
            printf("-- more -- (Enter: next page, q: go to the questions) ");
            if (read_line(answer, sizeof answer) < 0 || answer[0] == 'q')
                return;
        }
        fwrite(p, 1, len, stdout);
        g_rows_shown += need;
        p += len;
    }
}

/* page() for text written to a memory stream by `fill`. */
typedef void (*fill_fn)(tui *t, FILE *m, const void *arg);
static void page_with(tui *t, fill_fn fill, const void *arg)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    if (!m)
        return;
    fill(t, m, arg);
    if (fclose(m) == 0 && buf)
        page(t, buf);
    free(buf);
}

static const char help_text[] =
    "At any prompt: :skip (asks a reason), :quit (keeps the item; run the same command again "
    "to resume), :release (gives it back and quits), :show (the conversation again), :help "
    "(this and the queue's instructions). Empty input leaves an optional field empty.";

static void print_help(void)
{
    fw_rt_wrap(stdout, help_text, 78, "");
}

/* :help at a prompt: the queue's instructions and the commands. */
static void prompt_help(tui *t)
{
    page(t, t->intro ? t->intro : help_text);
}

/* Collects the sentences of the text parts of the output, in the order
 * fw_rt_render_messages numbers them. */
static void collect_sentences(tui *t, const json_t *output)
{
    size_t i, j;
    const json_t *msg, *part;
    free(t->sent);
    t->sent = NULL;
    t->nsent = 0;
    json_array_foreach(output, i, msg)
    {
        json_array_foreach(json_object_get(msg, "parts"), j, part)
        {
            const char *type = json_string_value(json_object_get(part, "type"));
            const char *content = json_string_value(json_object_get(part, "content"));
            if (!type || strcmp(type, "text") || !content)
                continue;
            fw_rt_span sp[256];
            size_t n = fw_rt_sentences(content, sp, 256);
            if (n > 256)
                n = 256;
            sentence_ref *ns = realloc(t->sent, (t->nsent + n + 1) * sizeof *ns);
            if (!ns)
                return;
            t->sent = ns;
            for (size_t k = 0; k < n; k++)
                t->sent[t->nsent++] = (sentence_ref){i, j, sp[k].start, sp[k].end};
        }
    }
}

static int rubric_has_type(const json_t *fields, const char *type)
{
    size_t i;
    const json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *ft = json_string_value(json_object_get(f, "type"));
        if (ft && strcmp(ft, type) == 0)
            return 1;
    }
    return 0;
}

/* A string member of the generation, or "-". */
static const char *gstr(const json_t *g, const char *key)
{
    const char *v = json_string_value(json_object_get(g, key));
    return v && *v ? v : "-";
}

/* The item's header: a rule with the item and queue, then the metadata as
 * "key value" items joined by " · ", broken between items only (a line
 * never ends inside a field, whatever the width). */
static void render_header(tui *t, FILE *m, const json_t *g)
{
    char title[512], model[256], env[256], rel[256], prompt[512], status[256];
    char *tags = NULL;
    size_t tsize = 0;
    snprintf(title, sizeof title, "════ item %lld · queue %s",
             (long long)json_integer_value(json_object_get(t->item, "item_id")), t->queue);
    size_t cols = fw_rt_chars(title);
    if (cols + 2 > (size_t)t->width) {
        fw_rt_wrap_hanging(m, title, t->width, "", "  ");
    } else {
        /* The rule runs to the last column. */
        fputs(title, m);
        fputc(' ', m);
        for (cols++; cols < (size_t)t->width; cols++)
            fputs("═", m);
        fputc('\n', m);
    }
    snprintf(model, sizeof model, "model %s", gstr(g, "request_model"));
    snprintf(env, sizeof env, "environment %s", gstr(g, "environment"));
    snprintf(rel, sizeof rel, "release %s", gstr(g, "release"));
    /* Versions are free text: "7" shows as v7, "v7" stays v7 (not vv7). */
    const char *pv = json_string_value(json_object_get(g, "prompt_version"));
    if (json_is_string(json_object_get(g, "prompt_template")))
        snprintf(prompt, sizeof prompt, "prompt %s%s%s", gstr(g, "prompt_template"),
                 pv && *pv ? (pv[0] >= '0' && pv[0] <= '9' ? " v" : " ") : "", pv ? pv : "");
    else
        snprintf(prompt, sizeof prompt, "prompt -");
    snprintf(status, sizeof status, "status %s%s%s", gstr(g, "status"),
             json_is_string(json_object_get(g, "error_type")) ? " " : "",
             json_is_string(json_object_get(g, "error_type")) ? gstr(g, "error_type") : "");
    FILE *tm = open_memstream(&tags, &tsize);
    if (tm) {
        size_t i;
        const json_t *tag;
        fputs("tags ", tm);
        if (json_array_size(json_object_get(g, "tags")) == 0)
            fputs("-", tm);
        json_array_foreach(json_object_get(g, "tags"), i, tag)
            fprintf(tm, "%s%s", i ? ", " : "", json_is_string(tag) ? json_string_value(tag) : "?");
        if (fclose(tm) != 0) {
            free(tags);
            tags = NULL;
        }
    }
    const char *items[] = {model,  gstr(g, "event_time"), env, rel, prompt,
                           status, tags ? tags : "tags ?"};
    fw_rt_join_wrap(m, items, sizeof items / sizeof items[0], t->width, " · ");
    free(tags);
}

/* Renders the claimed item into t->screen. */
static void render(tui *t)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    if (!m)
        return;
    const json_t *g = json_object_get(t->item, "generation");
    const json_t *gb = json_object_get(t->item, "generation_b");
    const json_t *def = json_object_get(json_object_get(t->item, "rubric"), "definition");
    const json_t *fields = json_object_get(def, "fields");
    int spans = rubric_has_type(fields, "span");
    render_header(t, m, g);
    const char *sys = json_string_value(json_object_get(g, "system_instructions"));
    if (sys) {
        fprintf(m, "── system instructions ──\n");
        fw_rt_wrap(m, sys, t->width - 2, "  ");
    }
    fprintf(m, "\n▶ INPUT\n");
    fw_rt_render_messages(m, json_object_get(g, "input_messages"), t->width, 0, NULL);
    int sentence_no = 0;
    fprintf(m, "\n▶ OUTPUT%s\n", json_is_object(gb) ? " A" : "");
    fw_rt_render_messages(m, json_object_get(g, "output_messages"), t->width, spans, &sentence_no);
    if (json_is_object(gb)) {
        fprintf(m, "\n▶ OUTPUT B (%s)\n", json_string_value(json_object_get(gb, "request_model")));
        fw_rt_render_messages(m, json_object_get(gb, "output_messages"), t->width, 0, NULL);
    }
    fclose(m);
    free(t->screen);
    t->screen = buf;
    collect_sentences(t, json_object_get(g, "output_messages"));
}

/* Text of the output's text parts, joined by blank lines: what the
 * reviewer starts from when correcting. */
static char *output_text(const json_t *output)
{
    char *buf = NULL;
    size_t size = 0, i, j;
    const json_t *msg, *part;
    FILE *m = open_memstream(&buf, &size);
    if (!m)
        return NULL;
    int first = 1;
    json_array_foreach(output, i, msg)
    {
        json_array_foreach(json_object_get(msg, "parts"), j, part)
        {
            const char *content = json_string_value(json_object_get(part, "content"));
            const char *type = json_string_value(json_object_get(part, "type"));
            if (content && type && strcmp(type, "text") == 0) {
                fprintf(m, "%s%s", first ? "" : "\n\n", content);
                first = 0;
            }
        }
    }
    fprintf(m, "\n");
    fclose(m);
    return buf;
}

/* Opens `text` in $EDITOR (default vi) and returns the edited text with the
 * trailing newline removed, or NULL when the editor failed or nothing
 * changed. */
static char *edit_in_editor(const char *text)
{
    char path[] = "/tmp/flywheel-review-XXXXXX";
    char *result = NULL, *edited = NULL;
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "flywheel review start: could not create a temporary file: %s\n",
                strerror(errno));
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        goto out;
    }
    fputs(text, f);
    fclose(f);
    const char *editor = getenv("VISUAL");
    if (!editor || !*editor)
        editor = getenv("EDITOR");
    if (!editor || !*editor)
        editor = "vi";
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* Through the shell so that EDITOR may carry arguments ("code -w"). */
        execl("/bin/sh", "sh", "-c", "exec $FW_REVIEW_EDITOR \"$1\"", "sh", path, (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        goto out;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("the editor failed (status %d); no correction recorded\n",
               WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        goto out;
    }
    edited = fw_review_read_file("start", path);
    if (!edited)
        goto out;
    if (strcmp(edited, text) == 0) {
        printf("unchanged; no correction recorded\n");
        goto out;
    }
    size_t n = strlen(edited);
    while (n > 0 && (edited[n - 1] == '\n' || edited[n - 1] == '\r'))
        edited[--n] = '\0';
    result = edited;
    edited = NULL;
out:
    free(edited);
    unlink(path);
    return result;
}

static const char *field_type(const json_t *f)
{
    const char *t = json_string_value(json_object_get(f, "type"));
    return t ? t : "?";
}

/* Asks for spans until an empty line or "done". */
static ask_result ask_spans(tui *t, const json_t *f, json_t **out)
{
    const json_t *cats = json_object_get(f, "categories");
    json_t *arr = json_array();
    char line[512];
    size_t i;
    const json_t *c;
    for (;;) {
        printf("  span> ");
        if (read_line(line, sizeof line) < 0) {
            json_decref(arr);
            return ASK_QUIT;
        }
        ask_result cmd = command_of(line);
        if (cmd == ASK_HELP) {
            prompt_help(t);
            continue;
        }
        if (cmd != ASK_OK) {
            json_decref(arr);
            return cmd;
        }
        if (line[0] == '\0' || strcmp(line, "done") == 0)
            break;
        if (strcmp(line, "undo") == 0) {
            if (json_array_size(arr) > 0)
                json_array_remove(arr, json_array_size(arr) - 1);
            printf("  %zu span(s)\n", json_array_size(arr));
            continue;
        }
        size_t msg = 0, part = 0, start = 0, end = 0;
        char cat[256] = "";
        int ok = 0;
        char *rest = NULL;
        if (line[0] == 's') {
            char *e;
            unsigned long k = strtoul(line + 1, &e, 10);
            if (e != line + 1 && k >= 1 && k <= t->nsent && *e == ' ') {
                sentence_ref *s = &t->sent[k - 1];
                msg = s->message;
                part = s->part;
                start = s->start;
                end = s->end;
                rest = e;
                ok = 1;
            } else {
                printf("  no sentence \"%s\": sentences are s1..s%zu\n", line, t->nsent);
                continue;
            }
        } else if (line[0] == 'r' && line[1] == ' ') {
            char *e1, *e2;
            start = strtoul(line + 2, &e1, 10);
            end = strtoul(e1, &e2, 10);
            if (e1 != line + 2 && e2 != e1 && end > start) {
                rest = e2;
                ok = 1;
                /* Default: the first text part of the output. */
                if (t->nsent > 0) {
                    msg = t->sent[0].message;
                    part = t->sent[0].part;
                }
            } else {
                printf("  a range is 'r <start> <end> <category>' with end > start\n");
                continue;
            }
        }
        if (!ok) {
            printf("  expected s<N> <category> or r <start> <end> <category>\n");
            continue;
        }
        /* The category (a number or a name, may contain spaces) and
         * optional m<msg> p<part> tokens at the end. */
        while (*rest == ' ')
            rest++;
        snprintf(cat, sizeof cat, "%s", rest);
        for (;;) {
            char *sp = strrchr(cat, ' ');
            if (!sp)
                break;
            char *e;
            if ((sp[1] == 'm' || sp[1] == 'p') && sp[2] && (strtoul(sp + 2, &e, 10), *e == '\0')) {
                unsigned long v = strtoul(sp + 2, NULL, 10);
                if (sp[1] == 'm')
                    msg = v;
                else
                    part = v;
                *sp = '\0';
            } else {
                break;
            }
        }
        const char *catname = NULL;
        char *e;
        unsigned long ci = strtoul(cat, &e, 10);
        if (e != cat && *e == '\0' && ci >= 1 && ci <= json_array_size(cats))
            catname = json_string_value(json_array_get(cats, ci - 1));
        json_array_foreach(cats, i, c) if (strcmp(json_string_value(c), cat) == 0) catname =
            json_string_value(c);
        if (!catname) {
            printf("  unknown category \"%s\"\n", cat);
            continue;
        }
        /* The same range with the same category twice is one mark. */
        const json_t *prev;
        size_t dup = 0;
        json_array_foreach(arr, i, prev)
        {
            if ((size_t)json_integer_value(json_object_get(prev, "message")) == msg &&
                (size_t)json_integer_value(json_object_get(prev, "part")) == part &&
                (size_t)json_integer_value(json_object_get(prev, "start")) == start &&
                (size_t)json_integer_value(json_object_get(prev, "end")) == end &&
                strcmp(json_string_value(json_object_get(prev, "category")), catname) == 0)
                dup = i + 1;
        }
        if (dup) {
            printf("  [%zu,%zu) of message %zu part %zu is already marked as \"%s\" (span %zu)\n",
                   start, end, msg, part, catname, dup);
            continue;
        }
        json_array_append_new(arr, json_pack("{s:I,s:I,s:I,s:I,s:s}", "message", (json_int_t)msg,
                                             "part", (json_int_t)part, "start", (json_int_t)start,
                                             "end", (json_int_t)end, "category", catname));
        printf("  marked [%zu,%zu) of message %zu part %zu as \"%s\" (%zu span(s))\n", start, end,
               msg, part, catname, json_array_size(arr));
    }
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        return ASK_EMPTY;
    }
    *out = arr;
    return ASK_OK;
}

typedef struct {
    const json_t *f;
    size_t idx, n;
    const char *label, *type;
    int required;
    const char *instr;
} question;

/* The text of a question: "[k/n] label (type, required): instructions",
 * wrapped under its first word, then the choices of a category field or
 * the categories and syntax of a span field. */
static void question_text(tui *t, FILE *m, const void *arg)
{
    const question *q = arg;
    char head[64], hang[64], *text = NULL;
    int hl = snprintf(head, sizeof head, "[%zu/%zu] ", q->idx, q->n);
    if (hl < 0 || hl >= (int)sizeof hang)
        hl = (int)sizeof hang - 1;
    memset(hang, ' ', (size_t)hl);
    hang[hl] = '\0';
    if (asprintf(&text, "%s (%s%s)%s%s", q->label, q->type,
                 q->required ? ", required" : ", optional", q->instr ? ": " : "",
                 q->instr ? q->instr : "") < 0)
        text = NULL;
    fputc('\n', m);
    fw_rt_wrap_hanging(m, text ? text : q->label, t->width, head, hang);
    free(text);
    size_t i;
    const json_t *v;
    if (strcmp(q->type, "category") == 0) {
        json_array_foreach(json_object_get(q->f, "values"), i, v)
        {
            char num[32];
            snprintf(num, sizeof num, "  %zu) ", i + 1);
            fw_rt_wrap_hanging(m, json_is_string(v) ? json_string_value(v) : "?", t->width, num,
                               "     ");
        }
    } else if (strcmp(q->type, "span") == 0) {
        char *cats = NULL;
        size_t csize = 0;
        FILE *cm = open_memstream(&cats, &csize);
        if (cm) {
            fputs("categories:", cm);
            json_array_foreach(json_object_get(q->f, "categories"), i, v)
                fprintf(cm, "%s %zu) %s", i ? "," : "", i + 1,
                        json_is_string(v) ? json_string_value(v) : "?");
            if (fclose(cm) == 0 && cats)
                fw_rt_wrap_hanging(m, cats, t->width, "  ", "    ");
            free(cats);
        }
        fw_rt_wrap_hanging(m,
                           "mark a sentence: s<N> <category>; a character range: r <start> <end> "
                           "<category> [m<message>] [p<part>]; 'undo' drops the last span; an "
                           "empty line or 'done' finishes.",
                           t->width, "  ", "    ");
    }
}

/* Asks for one field until the answer is valid locally. On ASK_OK *out is
 * the value (NULL for an empty optional answer). */
static ask_result ask_field(tui *t, const json_t *f, size_t idx, size_t n, json_t **out)
{
    const char *name = json_string_value(json_object_get(f, "name"));
    const char *type = field_type(f);
    const char *label = json_string_value(json_object_get(f, "label"));
    const char *instr = json_string_value(json_object_get(f, "instructions"));
    int required = json_is_true(json_object_get(f, "required"));
    char line[4096];
    *out = NULL;
    question q = {f, idx, n, label ? label : name, type, required, instr};
    page_with(t, question_text, &q);
    if (strcmp(type, "span") == 0)
        return ask_spans(t, f, out);
    for (;;) {
        if (strcmp(type, "boolean") == 0) {
            printf("  yes or no? ");
        } else if (strcmp(type, "category") == 0) {
            printf("  choice? ");
        } else if (strcmp(type, "number") == 0) {
            printf("  number");
            if (json_object_get(f, "min"))
                printf(" from %g", json_number_value(json_object_get(f, "min")));
            if (json_object_get(f, "max"))
                printf(" to %g", json_number_value(json_object_get(f, "max")));
            if (json_object_get(f, "step"))
                printf(" in steps of %g", json_number_value(json_object_get(f, "step")));
            printf("? ");
        } else if (strcmp(type, "pairwise") == 0) {
            printf("  which output is better: A, B or tie? ");
        } else if (strcmp(type, "correction") == 0) {
            printf("  edit a corrected output in $EDITOR? (y/n) ");
        } else {
            printf("  text? ");
        }
        if (read_line(line, sizeof line) < 0)
            return ASK_QUIT;
        ask_result cmd = command_of(line);
        if (cmd == ASK_HELP) {
            prompt_help(t);
            continue;
        }
        if (cmd != ASK_OK)
            return cmd;
        if (line[0] == '\0') {
            if (!required)
                return ASK_EMPTY;
            printf("  \"%s\" is required\n", name);
            continue;
        }
        if (strcmp(type, "boolean") == 0) {
            if (!strcasecmp(line, "y") || !strcasecmp(line, "yes") || !strcasecmp(line, "true")) {
                *out = json_true();
                return ASK_OK;
            }
            if (!strcasecmp(line, "n") || !strcasecmp(line, "no") || !strcasecmp(line, "false")) {
                *out = json_false();
                return ASK_OK;
            }
            printf("  answer yes or no\n");
        } else if (strcmp(type, "category") == 0) {
            const json_t *vals = json_object_get(f, "values");
            char *e;
            unsigned long k = strtoul(line, &e, 10);
            if (e != line && *e == '\0' && k >= 1 && k <= json_array_size(vals)) {
                *out = json_string(json_string_value(json_array_get(vals, k - 1)));
                return ASK_OK;
            }
            for (size_t i = 0; i < json_array_size(vals); i++)
                if (strcmp(json_string_value(json_array_get(vals, i)), line) == 0) {
                    *out = json_string(line);
                    return ASK_OK;
                }
            printf("  \"%s\" is not one of the choices\n", line);
        } else if (strcmp(type, "number") == 0) {
            char *e;
            double x = strtod(line, &e);
            const json_t *mn = json_object_get(f, "min"), *mx = json_object_get(f, "max"),
                         *st = json_object_get(f, "step");
            if (e == line || *e != '\0' || !isfinite(x)) {
                printf("  \"%s\" is not a number\n", line);
            } else if (mn && x < json_number_value(mn)) {
                printf("  %s is below the minimum %g\n", line, json_number_value(mn));
            } else if (mx && x > json_number_value(mx)) {
                printf("  %s is above the maximum %g\n", line, json_number_value(mx));
            } else if (st && fabs(remainder(x - (mn ? json_number_value(mn) : 0),
                                            json_number_value(st))) > 1e-9) {
                printf("  %s is not a multiple of the step %g\n", line, json_number_value(st));
            } else {
                *out =
                    (x == floor(x) && fabs(x) < 1e15) ? json_integer((json_int_t)x) : json_real(x);
                return ASK_OK;
            }
        } else if (strcmp(type, "pairwise") == 0) {
            if (!strcasecmp(line, "a") || !strcasecmp(line, "b")) {
                *out = json_string(line[0] == 'a' || line[0] == 'A' ? "A" : "B");
                return ASK_OK;
            }
            if (!strcasecmp(line, "tie")) {
                *out = json_string("tie");
                return ASK_OK;
            }
            printf("  answer A, B or tie\n");
        } else if (strcmp(type, "correction") == 0) {
            if (!strcasecmp(line, "n") || !strcasecmp(line, "no")) {
                if (!required)
                    return ASK_EMPTY;
                printf("  \"%s\" is required\n", name);
                continue;
            }
            if (strcasecmp(line, "y") && strcasecmp(line, "yes")) {
                printf("  answer y or n\n");
                continue;
            }
            const json_t *g = json_object_get(t->item, "generation");
            char *orig = output_text(json_object_get(g, "output_messages"));
            char *edited = orig ? edit_in_editor(orig) : NULL;
            free(orig);
            if (!edited)
                continue;
            *out = json_pack("[{s:s,s:[{s:s,s:s}]}]", "role", "assistant", "parts", "type", "text",
                             "content", edited);
            printf("  correction recorded (%zu characters)\n", fw_rt_chars(edited));
            free(edited);
            if (*out)
                return ASK_OK;
        } else {
            size_t maxlen = (size_t)json_integer_value(json_object_get(f, "max_length"));
            if (maxlen && fw_rt_chars(line) > maxlen) {
                printf("  %zu characters, more than the maximum %zu\n", fw_rt_chars(line), maxlen);
                continue;
            }
            *out = json_string(line);
            if (*out)
                return ASK_OK;
            printf("  the text is not valid UTF-8\n");
        }
    }
}

/* Calls a review function on the current item: $1 is the item id, then
 * `arg` when given, then the reviewer (--as, or NULL for the login). Every
 * parameter is one the statement uses (an unused, untyped parameter is an
 * error in PostgreSQL: SQLSTATE 42P18). Returns 0 or -1 (error printed).
 * `field` receives the rubric field the database blamed. */
static int call_item(tui *t, const char *sql, const char *arg, int with_arg, char *field,
                     size_t fsize)
{
    char item[32];
    snprintf(item, sizeof item, "%lld",
             (long long)json_integer_value(json_object_get(t->item, "item_id")));
    const char *p[3] = {item, with_arg ? arg : t->as, t->as};
    PGresult *res = fw_review_exec(t->conn, "start", sql, with_arg ? 3 : 2, p, field, fsize);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

/* Handles :skip; returns ASK_OK when skipped, ASK_QUIT on end of input. */
static ask_result do_skip(tui *t)
{
    char reason[512];
    for (;;) {
        printf("  reason for skipping? ");
        if (read_line(reason, sizeof reason) < 0)
            return ASK_QUIT;
        if (reason[0])
            break;
    }
    if (call_item(t, "SELECT flywheel.review_skip($1::bigint, $2, $3)", reason, 1, NULL, 0) == 0)
        printf("skipped\n");
    return ASK_OK;
}

/* The label before it is submitted: one field a line, in the rubric's
 * order, each value wrapped under itself (never cut inside a word unless a
 * word is wider than the line); spans and corrections summarised. */
static void label_preview(tui *t, FILE *m, const void *arg)
{
    const json_t *label = arg;
    const json_t *fields = json_object_get(
        json_object_get(json_object_get(t->item, "rubric"), "definition"), "fields");
    size_t i, w = 0;
    const json_t *f;
    json_array_foreach(fields, i, f)
    {
        size_t l = fw_rt_chars(json_string_value(json_object_get(f, "name")));
        if (l > w)
            w = l;
    }
    if (w > 24)
        w = 24;
    fprintf(m, "\nlabel:\n");
    json_array_foreach(fields, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const json_t *v = json_object_get(label, name);
        char head[128], hang[128], *text = NULL;
        size_t pad = fw_rt_chars(name) < w ? w - fw_rt_chars(name) : 0;
        int hl = snprintf(head, sizeof head, "  %s%*s  ", name, (int)pad, "");
        size_t hcols = fw_rt_chars(head);
        if (hl < 0 || hcols >= sizeof hang)
            hcols = sizeof hang - 1;
        memset(hang, ' ', hcols);
        hang[hcols] = '\0';
        const char *type = field_type(f);
        if (!v) {
            text = strdup("(empty)");
        } else if (strcmp(type, "span") == 0) {
            size_t k;
            const json_t *sp;
            FILE *sm = open_memstream(&text, &(size_t){0});
            if (sm) {
                json_array_foreach(v, k, sp)
                    fprintf(sm, "%s[%lld,%lld) of message %lld part %lld: %s", k ? "; " : "",
                            (long long)json_integer_value(json_object_get(sp, "start")),
                            (long long)json_integer_value(json_object_get(sp, "end")),
                            (long long)json_integer_value(json_object_get(sp, "message")),
                            (long long)json_integer_value(json_object_get(sp, "part")),
                            json_string_value(json_object_get(sp, "category")));
                if (fclose(sm) != 0) {
                    free(text);
                    text = NULL;
                }
            }
        } else if (strcmp(type, "correction") == 0) {
            const char *c = json_string_value(json_object_get(
                json_array_get(json_object_get(json_array_get(v, 0), "parts"), 0), "content"));
            if (asprintf(&text, "a corrected output (%zu characters)", c ? fw_rt_chars(c) : 0) < 0)
                text = NULL;
        } else {
            text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        }
        fw_rt_wrap_hanging(m, text ? text : "?", t->width, head, hang);
        free(text);
    }
}

/* Shows the label and asks whether to submit it: ASK_OK for yes, ASK_EMPTY
 * for no (answer again), or the command typed (:skip, :release, :show,
 * :quit; :help is answered here). */
static ask_result ask_submit(tui *t, const json_t *label)
{
    char line[64];
    page_with(t, label_preview, label);
    for (;;) {
        printf("submit? (y/n) ");
        if (read_line(line, sizeof line) < 0)
            return ASK_QUIT;
        if (!strcasecmp(line, "y") || !strcasecmp(line, "yes"))
            return ASK_OK;
        if (!strcasecmp(line, "n") || !strcasecmp(line, "no"))
            return ASK_EMPTY;
        ask_result cmd = command_of(line);
        if (cmd == ASK_HELP) {
            prompt_help(t);
            continue;
        }
        if (cmd != ASK_OK)
            return cmd;
        printf("  answer y or n\n");
    }
}

/* Reviews one claimed item. Returns 0 to go on, 1 to quit, -1 on error. */
static int review_item(tui *t)
{
    const json_t *fields = json_object_get(
        json_object_get(json_object_get(t->item, "rubric"), "definition"), "fields");
    size_t n = json_array_size(fields);
    json_t *label = json_object();
    int rc = 0;
    render(t);
    page(t, t->screen);
    size_t k = 0;
    for (;;) {
        ask_result r;
        if (k == n) {
            r = ask_submit(t, label);
            if (r == ASK_OK) {
                char *s = json_dumps(label, JSON_COMPACT | JSON_SORT_KEYS);
                char field[128];
                int ok =
                    s ? call_item(t, "SELECT flywheel.review_submit($1::bigint, $2::jsonb, $3)", s,
                                  1, field, sizeof field)
                      : -1;
                free(s);
                if (ok == 0) {
                    printf("submitted\n");
                    break;
                }
                /* The database named a field: ask it again. Other errors (a
                 * lost lease) move on to the next item. */
                size_t i;
                const json_t *f;
                int found = 0;
                json_array_foreach(fields, i, f)
                {
                    if (field[0] &&
                        strcmp(json_string_value(json_object_get(f, "name")), field) == 0) {
                        k = i;
                        found = 1;
                    }
                }
                if (!found)
                    break;
                continue;
            }
            if (r == ASK_EMPTY) { /* "n": answer again from the first field */
                json_object_clear(label);
                k = 0;
                continue;
            }
        } else {
            const json_t *f = json_array_get(fields, k);
            const char *name = json_string_value(json_object_get(f, "name"));
            json_t *v = NULL;
            r = ask_field(t, f, k + 1, n, &v);
            if (r == ASK_OK) {
                json_object_set_new(label, name, v);
                k++;
                continue;
            }
            if (r == ASK_EMPTY) {
                json_object_del(label, name);
                k++;
                continue;
            }
        }
        /* A command, at a field or at the submit prompt. */
        if (r == ASK_SHOW) {
            page(t, t->screen);
        } else if (r == ASK_SKIP) {
            if (do_skip(t) == ASK_QUIT)
                rc = 1;
            break;
        } else if (r == ASK_RELEASE) {
            if (call_item(t, "SELECT flywheel.review_release($1::bigint, $2)", NULL, 0, NULL, 0) ==
                0)
                printf("released item %lld\n",
                       (long long)json_integer_value(json_object_get(t->item, "item_id")));
            rc = 1;
            break;
        } else {
            printf("\nleaving item %lld claimed until %s; run the same command to resume\n",
                   (long long)json_integer_value(json_object_get(t->item, "item_id")),
                   json_string_value(json_object_get(t->item, "lease_until")));
            rc = 1;
            break;
        }
    }
    json_decref(label);
    return rc;
}

static void start_usage(FILE *f)
{
    fprintf(f, "usage: flywheel review start --queue Q [--as NAME] [--width N] [--dsn DSN]\n\n"
               "Reviews items of a queue one after the other in the terminal. ");
    if (f == stdout)
        print_help();
    else
        fputc('\n', f);
}

int fw_review_start(int argc, char **argv)
{
    static const struct option opts[] = {
        {"as", required_argument, NULL, OPT_AS},
        {"queue", required_argument, NULL, OPT_QUEUE},
        {"width", required_argument, NULL, OPT_WIDTH},
        {NULL, 0, NULL, 0},
    };
    tui t = {0};
    int c, rc = 1, width = 0;
    fw_cli cli = {.cmd = "review start", .accepts = FW_CLI_DSN, .usage = start_usage};
    fw_review_fix_trailing_as(argc, argv);
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        switch (c) {
        case OPT_AS:
            t.as = optarg;
            break;
        case OPT_QUEUE:
            t.queue = optarg;
            break;
        case OPT_WIDTH: {
            char *e;
            long w = strtol(optarg, &e, 10);
            if (*e || w < 20 || w > 1000) {
                fprintf(stderr,
                        "flywheel review start: invalid --width \"%s\": expected 20..1000\n",
                        optarg);
                return 2;
            }
            width = (int)w;
            break;
        }
        default:
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    if (fw_review_resolve_as(cli.cmd, &t.as) != 0)
        return 2;
    if (optind < argc) {
        fprintf(stderr, "flywheel review start: unexpected argument \"%s\"\n", argv[optind]);
        start_usage(stderr);
        return 2;
    }
    if (!t.queue) {
        fprintf(stderr, "flywheel review start: --queue is required\n");
        start_usage(stderr);
        return 2;
    }
    struct winsize ws;
    t.width = 80;
    t.rows = 24;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        t.width = ws.ws_col;
        t.rows = ws.ws_row > 4 ? ws.ws_row : 24;
    }
    if (width)
        t.width = width;
    const char *editor = getenv("VISUAL");
    if (!editor || !*editor)
        editor = getenv("EDITOR");
    setenv("FW_REVIEW_EDITOR", editor && *editor ? editor : "vi", 1);

    t.conn = fw_cli_connect(cli.cmd, cli.dsn);
    if (!t.conn)
        return 1;
    const char *qp[1] = {t.queue};
    PGresult *res = fw_review_exec(t.conn, "start",
                                   "SELECT description, instructions FROM "
                                   "flywheel.review_queues_for_me() WHERE queue = $1",
                                   1, qp, NULL, 0);
    if (!res)
        goto out;
    if (PQntuples(res) == 0) {
        fprintf(stderr, "flywheel review start: queue \"%s\" does not exist\n", t.queue);
        PQclear(res);
        goto out;
    }
    {
        /* The queue, its instructions and the commands: paged with the
         * first item, so that they stay on the screen until the reviewer
         * has read them (and shown again by :help). */
        char *buf = NULL, *head = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&buf, &size);
        if (!m) {
            PQclear(res);
            goto out;
        }
        if (asprintf(&head, "queue %s%s%s", t.queue, *PQgetvalue(res, 0, 0) ? ": " : "",
                     PQgetvalue(res, 0, 0)) < 0)
            head = NULL;
        fw_rt_wrap_hanging(m, head ? head : t.queue, t.width, "", "  ");
        free(head);
        if (!PQgetisnull(res, 0, 1) && *PQgetvalue(res, 0, 1))
            fw_rt_wrap_hanging(m, PQgetvalue(res, 0, 1), t.width, "instructions: ", "  ");
        fw_rt_wrap_hanging(m, help_text, t.width, "", "");
        PQclear(res);
        if (fclose(m) != 0 || !buf) {
            free(buf);
            goto out;
        }
        t.intro = buf;
        page(&t, t.intro);
    }
    int done = 0;
    for (;;) {
        const char *p[2] = {t.queue, t.as};
        res =
            fw_review_exec(t.conn, "start", "SELECT flywheel.review_claim($1, $2)", 2, p, NULL, 0);
        if (!res)
            goto out;
        if (PQgetisnull(res, 0, 0)) {
            PQclear(res);
            printf("\nno more items in queue %s for you (%d reviewed this session)\n", t.queue,
                   done);
            rc = 0;
            break;
        }
        json_decref(t.item);
        t.item = fw_review_parse_json("start", "the claim", PQgetvalue(res, 0, 0));
        PQclear(res);
        if (!t.item)
            goto out;
        int r = review_item(&t);
        if (r != 0) {
            rc = r < 0 ? 1 : 0;
            break;
        }
        done++;
    }
out:
    json_decref(t.item);
    free(t.sent);
    free(t.screen);
    free(t.intro);
    PQfinish(t.conn);
    return rc;
}
