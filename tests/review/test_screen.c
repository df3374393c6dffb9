/*
 * review_screen (issue 11 item 9): what `flywheel review start` draws on an
 * 80x24 and a 120x40 terminal, read from a screen rather than from the byte
 * stream. The program runs in a pseudo-terminal; everything it writes (and
 * the terminal's echo of what the test types) goes through a small terminal
 * emulator below: a grid of cells with a cursor, carriage return, line feed,
 * backspace, tabs, automatic wrap at the right margin (deferred, as xterm
 * does) and scrolling, with the rows that scroll off kept in order. The
 * reviewer is a line-oriented program and emits no escape sequences; the
 * emulator fails the test on any escape or control byte it does not
 * implement, so the screen it reads is the one a terminal would show.
 *
 * Checked at both sizes: no line ever relies on the terminal's own wrap
 * (that is what cut the header's "]" and the label preview mid-word); the
 * queue's instructions are still on the screen at the first stop (a
 * "-- more --" or the first question); a sentence that wraps continues
 * under its first word; each header field is whole on one row;
 * "prompt support-answer v7" for versions "v7" and "7" (never "vv7"); the
 * label preview's words are whole; marking the same span twice is refused.
 * The screens are written to build/test-artifacts/review_screen/.
 */
#include "fwtest.h"

#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the terminal ---------------------------------------------------------- */

#define MAX_ROWS    64
#define MAX_COLS    160
#define MAX_HISTORY 4096

typedef struct {
    uint32_t cell[MAX_COLS];
    int wrapped; /* this row continues the one above through the automatic wrap */
} vt_row;

typedef struct {
    int rows, cols;
    vt_row screen[MAX_ROWS];
    int r, c, pending; /* cursor; pending: at the right margin, wrap before the next character */
    vt_row history[MAX_HISTORY];
    int nhistory;
    int autowraps; /* rows begun by the automatic wrap, ever */
    uint32_t cp;   /* UTF-8 decoding state */
    int need;
} vt;

static void vt_init(vt *t, int rows, int cols)
{
    memset(t, 0, sizeof *t);
    t->rows = rows;
    t->cols = cols;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            t->screen[r].cell[c] = ' ';
}

static void vt_linefeed(vt *t)
{
    if (t->r + 1 < t->rows) {
        t->r++;
        return;
    }
    FWT_CHECK_MSG(t->nhistory < MAX_HISTORY, "the test terminal's history is full");
    t->history[t->nhistory++] = t->screen[0];
    memmove(&t->screen[0], &t->screen[1], (size_t)(t->rows - 1) * sizeof t->screen[0]);
    for (int c = 0; c < t->cols; c++)
        t->screen[t->rows - 1].cell[c] = ' ';
    t->screen[t->rows - 1].wrapped = 0;
}

static void vt_put(vt *t, uint32_t cp)
{
    switch (cp) {
    case '\r':
        t->c = 0;
        t->pending = 0;
        return;
    case '\n':
        vt_linefeed(t);
        t->pending = 0;
        return;
    case '\b':
        if (t->c > 0)
            t->c--;
        t->pending = 0;
        return;
    case '\t':
        t->c = (t->c / 8 + 1) * 8;
        if (t->c >= t->cols)
            t->c = t->cols - 1;
        return;
    case '\a':
        return;
    default:
        break;
    }
    FWT_CHECK_MSG(cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0),
                  "the reviewer wrote control character 0x%02x, which this test terminal does not "
                  "implement (escape sequences included)",
                  (unsigned)cp);
    if (t->pending) {
        t->c = 0;
        vt_linefeed(t);
        t->screen[t->r].wrapped = 1;
        t->autowraps++;
        t->pending = 0;
    }
    t->screen[t->r].cell[t->c] = cp;
    if (t->c == t->cols - 1)
        t->pending = 1;
    else
        t->c++;
}

static void vt_feed(vt *t, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)buf[i];
        if (t->need > 0) {
            FWT_CHECK_MSG((b & 0xC0) == 0x80, "invalid UTF-8 from the reviewer");
            t->cp = (t->cp << 6) | (b & 0x3F);
            if (--t->need == 0)
                vt_put(t, t->cp);
        } else if (b < 0x80) {
            vt_put(t, b);
        } else if ((b & 0xE0) == 0xC0) {
            t->cp = b & 0x1F;
            t->need = 1;
        } else if ((b & 0xF0) == 0xE0) {
            t->cp = b & 0x0F;
            t->need = 2;
        } else {
            FWT_CHECK_MSG((b & 0xF8) == 0xF0, "invalid UTF-8 from the reviewer");
            t->cp = b & 0x07;
            t->need = 3;
        }
    }
}

/* A row as UTF-8 without trailing blanks. */
static void row_text(const vt *t, const vt_row *row, char *out, size_t size)
{
    size_t o = 0;
    int last = t->cols - 1;
    while (last >= 0 && row->cell[last] == ' ')
        last--;
    for (int c = 0; c <= last && o + 5 < size; c++) {
        uint32_t cp = row->cell[c];
        if (cp < 0x80) {
            out[o++] = (char)cp;
        } else if (cp < 0x800) {
            out[o++] = (char)(0xC0 | (cp >> 6));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[o++] = (char)(0xE0 | (cp >> 12));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (cp >> 18));
            out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    out[o] = '\0';
}

/* The visible screen, one row a line (all `rows` lines, blank ones too). */
static char *screen_text(const vt *t)
{
    size_t size = (size_t)t->rows * (MAX_COLS * 4 + 2) + 1, o = 0;
    char *s = malloc(size);
    FWT_CHECK(s);
    for (int r = 0; r < t->rows; r++) {
        row_text(t, &t->screen[r], s + o, size - o);
        o += strlen(s + o);
        s[o++] = '\n';
    }
    s[o] = '\0';
    return s;
}

/* Row i of everything drawn (history, then the screen). */
static const vt_row *row_at(const vt *t, int i)
{
    return i < t->nhistory ? &t->history[i] : &t->screen[i - t->nhistory];
}

/* ---- the program in a pseudo-terminal --------------------------------------- */

static vt g_vt;
static char g_raw[1 << 20];
static size_t g_len, g_mark;
static int g_fd = -1;
static pid_t g_pid;

static void pump(int ms)
{
    struct pollfd p = {g_fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0)
        return;
    char buf[4096];
    ssize_t n = read(g_fd, buf, sizeof buf);
    if (n <= 0)
        return;
    FWT_CHECK_MSG(g_len + (size_t)n < sizeof g_raw, "too much output");
    memcpy(g_raw + g_len, buf, (size_t)n);
    g_len += (size_t)n;
    g_raw[g_len] = '\0';
    vt_feed(&g_vt, buf, (size_t)n);
}

/* Waits for one of the patterns in the output after the mark; returns its
 * index and moves the mark past it. The terminal has drawn everything up to
 * there (and possibly a little more). */
static int expect_any(const char *const *pats, int npats)
{
    int64_t deadline = fwt_now_ms() + 30000;
    while (fwt_now_ms() < deadline) {
        const char *best = NULL;
        int which = -1;
        for (int i = 0; i < npats; i++) {
            const char *hit = strstr(g_raw + g_mark, pats[i]);
            if (hit && (!best || hit < best)) {
                best = hit;
                which = i;
            }
        }
        if (best) {
            g_mark = (size_t)(best - g_raw) + strlen(pats[which]);
            return which;
        }
        pump(100);
    }
    char *s = screen_text(&g_vt);
    fprintf(stderr, "---- the screen ----\n%s----\n", s);
    free(s);
    fwt_fail(__FILE__, __LINE__, "timed out waiting for \"%s\"", pats[0]);
}

static void expect(const char *pat)
{
    const char *p[1] = {pat};
    expect_any(p, 1);
}

/* The last long line typed: the terminal's echo of it may wrap (the
 * reviewer's typing, not the program's output). */
static const char *g_typed = "";

static void settle(void);

/* Types a line once the program waits at its prompt (quiet for 300 ms):
 * typed too early, the terminal echoes the line before the prompt is drawn,
 * and the screen differs from the one a person sees (it did under load). */
static void send(const char *line)
{
    settle();
    if (strlen(line) > 20)
        g_typed = line;
    size_t n = strlen(line);
    FWT_CHECK(write(g_fd, line, n) == (ssize_t)n);
    FWT_CHECK(write(g_fd, "\r", 1) == 1);
}

/* Reads until the program has been quiet for 300 ms: it waits at a prompt
 * and the screen is complete. */
static void settle(void)
{
    size_t before;
    do {
        before = g_len;
        pump(300);
    } while (g_len != before);
}

static void start(const char *dsn, const char *as, int rows, int cols)
{
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    vt_init(&g_vt, rows, cols);
    g_len = g_mark = 0;
    g_raw[0] = '\0';
    g_pid = forkpty(&g_fd, NULL, NULL, &ws);
    FWT_CHECK(g_pid >= 0);
    if (g_pid == 0) {
        execl(fwt_program("cli/flywheel"), "flywheel", "review", "start", "--queue",
              "support-thumbs-down", "--as", as, "--dsn", dsn, (char *)NULL);
        _exit(127);
    }
}

static int finish(void)
{
    int st = 0;
    int64_t deadline = fwt_now_ms() + 15000;
    while (waitpid(g_pid, &st, WNOHANG) != g_pid) {
        if (fwt_now_ms() > deadline) {
            kill(g_pid, SIGKILL);
            fwt_fail(__FILE__, __LINE__, "flywheel review start did not exit");
        }
        pump(50);
    }
    pump(50);
    close(g_fd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- checks ------------------------------------------------------------------- */

static char g_artifacts[1024];

static void save_screen(const char *name)
{
    char path[1200];
    char *s = screen_text(&g_vt);
    snprintf(path, sizeof path, "%s/%s.txt", g_artifacts, name);
    FILE *f = fopen(path, "w");
    FWT_CHECK_MSG(f, "could not write %s: %s", path, strerror(errno));
    fputs(s, f);
    fclose(f);
    free(s);
}

/* The screen NAME shown in docs/review.md (a fence after the marker
 * "<!-- screen: review_screen NAME -->") is the one drawn, so the docs show
 * what the program draws. */
static void check_docs_screen(const char *name)
{
    char path[1200], marker[128];
    snprintf(path, sizeof path, "%s/docs/review.md", FWT_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    FWT_CHECK_MSG(f, "could not open %s: %s", path, strerror(errno));
    static char doc[1 << 18];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    snprintf(marker, sizeof marker, "<!-- screen: review_screen %s -->\n```\n", name);
    const char *start = strstr(doc, marker);
    FWT_CHECK_MSG(start, "docs/review.md does not show the screen %s", name);
    start += strlen(marker);
    const char *end = strstr(start, "\n```");
    FWT_CHECK(end);
    char *shown = screen_text(&g_vt);
    size_t len = strlen(shown);
    while (len > 0 && (shown[len - 1] == '\n'))
        len--;
    shown[len] = '\0';
    if ((size_t)(end - start) != len || memcmp(start, shown, len) != 0)
        fwt_fail(__FILE__, __LINE__,
                 "docs/review.md shows another screen %s than the one drawn; drawn "
                 "(build/test-artifacts/review_screen/%s.txt):\n%s",
                 name, name, shown);
    free(shown);
}

static void check_on_screen(const char *what)
{
    char *s = screen_text(&g_vt);
    FWT_CHECK_MSG(strstr(s, what) != NULL, "\"%s\" is not on the %dx%d screen:\n%s", what,
                  g_vt.cols, g_vt.rows, s);
    free(s);
}

/* Nothing drawn so far relied on the terminal's automatic wrap: every line
 * the program wrote fits the width. */
static void check_no_autowrap(void)
{
    if (g_vt.autowraps == 0)
        return;
    int total = g_vt.nhistory + g_vt.rows;
    for (int i = 0; i < total; i++) {
        if (row_at(&g_vt, i)->wrapped) {
            char above[MAX_COLS * 4 + 1], here[MAX_COLS * 4 + 1];
            /* The echo of a long answer the test typed wraps like any
             * typing does; its first row ends with the answer's start. */
            int s0 = i;
            while (s0 > 0 && row_at(&g_vt, s0)->wrapped)
                s0--;
            row_text(&g_vt, row_at(&g_vt, s0), above, sizeof above);
            const char *q = strstr(above, "? ");
            if (g_typed[0] && q && strncmp(q + 2, g_typed, strlen(q + 2)) == 0)
                continue;
            row_text(&g_vt, row_at(&g_vt, i - 1), above, sizeof above);
            row_text(&g_vt, row_at(&g_vt, i), here, sizeof here);
            fwt_fail(__FILE__, __LINE__,
                     "a line is wider than the %d-column terminal, which wrapped it:\n%s\n%s",
                     g_vt.cols, above, here);
        }
    }
}

/* Finds the drawn row that contains `what`; -1 when none. */
static int find_row(const char *what, int from)
{
    int total = g_vt.nhistory + g_vt.rows;
    char text[MAX_COLS * 4 + 1];
    for (int i = from; i < total; i++) {
        row_text(&g_vt, row_at(&g_vt, i), text, sizeof text);
        if (strstr(text, what))
            return i;
    }
    return -1;
}

/* The sentence that starts with `first_words` wraps (its text is longer
 * than the line) and its second row starts under its first word. */
static void check_sentence_hangs(const char *head, const char *first_words)
{
    char text[MAX_COLS * 4 + 1], next[MAX_COLS * 4 + 1];
    int i = find_row(head, 0);
    FWT_CHECK_MSG(i >= 0, "no row with \"%s\"", head);
    row_text(&g_vt, row_at(&g_vt, i), text, sizeof text);
    const char *at = strstr(text, first_words);
    FWT_CHECK_MSG(at, "the sentence row does not start the sentence: %s", text);
    size_t indent = (size_t)(at - text); /* ASCII before the sentence */
    row_text(&g_vt, row_at(&g_vt, i + 1), next, sizeof next);
    FWT_CHECK_MSG(strspn(next, " ") == indent && next[indent] != '\0',
                  "the sentence's second row does not start under its first word (column %zu):\n"
                  "%s\n%s",
                  indent, text, next);
}

/* Every word of `text` is whole on some row drawn from row `from` on. */
static void check_words_whole(const char *text, int from)
{
    char *copy = strdup(text);
    FWT_CHECK(copy);
    for (char *w = copy, *sp; w && *w; w = sp ? sp + 1 : NULL) {
        sp = strchr(w, ' ');
        if (sp)
            *sp = '\0';
        int total = g_vt.nhistory + g_vt.rows, found = 0;
        char row[MAX_COLS * 4 + 1];
        for (int i = from; i < total && !found; i++) {
            row_text(&g_vt, row_at(&g_vt, i), row, sizeof row);
            for (char *p = strstr(row, w); p && !found; p = strstr(p + 1, w))
                found = (p == row || p[-1] == ' ' || p[-1] == '"') &&
                        (p[strlen(w)] == '\0' || p[strlen(w)] == ' ' || p[strlen(w)] == '"');
        }
        FWT_CHECK_MSG(found, "the word \"%s\" is cut across rows in the label preview", w);
    }
    free(copy);
}

static const char long_sentence[] =
    "Because your account has two active subscriptions, one created in the mobile app and one on "
    "the website during the November promotion, both renewed on the first of the month.";
static const char notes[] =
    "The answer invents a second account although the invoice lists two charges on one "
    "subscription; the customer was double billed by the payment provider and needs a refund "
    "rather than instructions to close anything.";

/* One terminal session: the first item from the first stop to submit (or
 * release), checking the screen on the way. */
static void session(const char *dsn, const char *as, int rows, int cols, int submit)
{
    char name[64];
    start(dsn, as, rows, cols);
    const char *stop[2] = {"-- more --", "yes or no? "};
    int first = 1, pages = 0;
    while (expect_any(stop, 2) == 0) {
        settle();
        if (first) {
            /* The first stop: the queue and its instructions are still there. */
            check_on_screen("queue support-thumbs-down: Production support answers users "
                            "disliked");
            check_on_screen("instructions: Read the conversation.");
            snprintf(name, sizeof name, "%dx%d-first-page", cols, rows);
            save_screen(name);
            if (rows == 24)
                check_docs_screen(name);
            first = 0;
        }
        pages++;
        send("");
    }
    settle();
    if (first) {
        check_on_screen("queue support-thumbs-down: Production support answers users disliked");
        check_on_screen("instructions: Read the conversation.");
    }
    if (rows == 24)
        FWT_CHECK_MSG(pages >= 1, "the item fits on 24 rows: the test needs a longer one");
    snprintf(name, sizeof name, "%dx%d-first-question", cols, rows);
    save_screen(name);
    if (rows == 24)
        check_docs_screen(name);
    check_on_screen("[1/6] Is the answer correct? (boolean, required)");
    check_no_autowrap();
    FWT_CHECK(find_row("prompt support-answer v7", 0) >= 0);
    FWT_CHECK(find_row("vv7", 0) < 0);
    FWT_CHECK(find_row("tags vip, billing, escalated, enterprise-plan, eu-west", 0) >= 0);
    FWT_CHECK(find_row("release 2026.11.3", 0) >= 0);
    FWT_CHECK(find_row("environment production", 0) >= 0);
    int title = find_row("════ item 1 · queue support-thumbs-down ═", 0);
    FWT_CHECK_MSG(title >= 0, "no title rule");
    char text[MAX_COLS * 4 + 1];
    for (int i = 0; i < g_vt.nhistory + g_vt.rows; i++) {
        row_text(&g_vt, row_at(&g_vt, i), text, sizeof text);
        FWT_CHECK_MSG(text[0] != ']' && text[0] != ')', "a row starts with a closing bracket: %s",
                      text);
    }
    check_sentence_hangs("s2 [", "Because your account");

    if (!submit) {
        send(":release");
        expect("released item 1");
        FWT_CHECK_EQ_INT(finish(), 0);
        check_no_autowrap();
        return;
    }
    send("n");
    expect("[2/6]");
    send("2");
    expect("[3/6]");
    send("1");
    expect("span> ");
    send("s1 1");
    expect("marked [0,");
    send("s1 1");
    expect("is already marked as \"factual error\" (span 1)");
    send("s1 3");
    expect("(2 span(s))");
    send("");
    expect("[5/6]");
    send("n");
    expect("[6/6]");
    int preview_from = g_vt.nhistory + g_vt.r;
    send(notes);
    expect("submit? (y/n) ");
    settle();
    snprintf(name, sizeof name, "%dx%d-submit", cols, rows);
    save_screen(name);
    if (rows == 24)
        check_docs_screen(name);
    check_no_autowrap();
    int label_row = find_row("label:", preview_from + 1);
    FWT_CHECK_MSG(label_row >= 0, "no label preview");
    check_words_whole(notes, label_row);
    check_on_screen("problems  [0,");
    send("y");
    expect("submitted");
    /* The next item's prompt version is "7": shown as v7 too. */
    const char *stop2[2] = {"-- more --", "yes or no? "};
    while (expect_any(stop2, 2) == 0)
        send("q");
    settle();
    check_on_screen("prompt support-answer v7");
    FWT_CHECK(find_row("vv7", 0) < 0);
    check_no_autowrap();
    send(":q"); /* the short form of :quit */
    expect("run the same command to resume");
    FWT_CHECK_EQ_INT(finish(), 0);
}

int main(void)
{
    char dsn[512], sql[8192];
    /* build/test-artifacts/review_screen, next to build/cli/flywheel. */
    const char *prog = fwt_program("cli/flywheel");
    snprintf(g_artifacts, sizeof g_artifacts, "%.*s/test-artifacts",
             (int)(strlen(prog) - strlen("/cli/flywheel")), prog);
    FWT_CHECK(mkdir(g_artifacts, 0755) == 0 || errno == EEXIST);
    strncat(g_artifacts, "/review_screen", sizeof g_artifacts - strlen(g_artifacts) - 1);
    FWT_CHECK(mkdir(g_artifacts, 0755) == 0 || errno == EEXIST);
    fwt_pg_create_db("fwt_review_screen", dsn, sizeof dsn);
    fwt_pg_migrate(dsn);
    PGconn *c = fwt_pg_connect(dsn);
    snprintf(
        sql, sizeof sql,
        "INSERT INTO flywheel.generations (event_id, event_time, schema_version, environment, "
        "release, request_model, prompt_template, prompt_version, tags, status, input_messages, "
        "output_messages, id_time) VALUES ('00000000-0000-0000-0000-0000000000a1', "
        "'2026-11-30 09:12:44+00', 1, 'production', '2026.11.3', 'gpt-4o-mini', "
        "'support-answer', 'v7', ARRAY['vip','billing','escalated','enterprise-plan','eu-west'], "
        "'ok', '[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"My invoice shows "
        "two charges for November. Why?\"}]},{\"role\":\"assistant\",\"parts\":[{\"type\":"
        "\"tool_call\",\"id\":\"call_1\",\"name\":\"get_invoices\",\"arguments\":{\"month\":"
        "\"2026-11\"}}]},{\"role\":\"tool\",\"parts\":[{\"type\":\"tool_call_response\",\"id\":"
        "\"call_1\",\"response\":[{\"id\":\"in_1\",\"amount\":20},{\"id\":\"in_2\",\"amount\":"
        "20}]}]}]', jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts', "
        "jsonb_build_array(jsonb_build_object('type', 'text', 'content', 'You were charged twice "
        "because you have two accounts. %s Please close one of them in the settings. You can do "
        "this under Account, then Subscriptions, then Cancel. The refund, if any, arrives "
        "within five to ten business days. Let me know if there is anything else.')))), "
        "flywheel.event_id_time('00000000-0000-0000-0000-0000000000a1'))",
        long_sentence);
    fwt_pg_exec(c, sql);
    fwt_pg_exec(c, "INSERT INTO flywheel.generations (event_id, event_time, schema_version, "
                   "environment, release, request_model, prompt_template, prompt_version, "
                   "output_messages, id_time) VALUES ('00000000-0000-0000-0000-0000000000a2', "
                   "'2026-11-30 09:13:00+00', 1, 'production', '2026.11.3', 'gpt-4o-mini', "
                   "'support-answer', '7', '[{\"role\":\"assistant\",\"parts\":[{\"type\":"
                   "\"text\",\"content\":\"Short answer.\"}]}]', "
                   "flywheel.event_id_time('00000000-0000-0000-0000-0000000000a2'))");
    fwt_pg_exec(c, "SELECT flywheel.review_rubric_create('support-quality', '{\"instructions\": "
                   "\"Read the conversation. Judge only the last assistant message.\", "
                   "\"fields\": ["
                   "{\"name\": \"correct\", \"type\": \"boolean\", \"required\": true, "
                   "\"label\": \"Is the answer correct?\"},"
                   "{\"name\": \"helpful\", \"type\": \"number\", \"min\": 1, \"max\": 5, "
                   "\"step\": 1, \"required\": true},"
                   "{\"name\": \"topic\", \"type\": \"category\", \"values\": [\"billing\", "
                   "\"account\", \"technical\", \"other\"]},"
                   "{\"name\": \"problems\", \"type\": \"span\", \"categories\": [\"factual "
                   "error\", \"irrelevant\", \"style\"], \"instructions\": \"Mark each sentence "
                   "that is wrong, off-topic or badly written.\"},"
                   "{\"name\": \"fixed\", \"type\": \"correction\", \"instructions\": \"Rewrite "
                   "the answer if it is wrong.\"},"
                   "{\"name\": \"notes\", \"type\": \"text\", \"max_length\": 500}]}')");
    fwt_pg_exec(c, "SELECT flywheel.review_queue_create('{\"name\": \"support-thumbs-down\", "
                   "\"description\": \"Production support answers users disliked\", \"rubric\": "
                   "\"support-quality\", \"overlap\": 2}')");
    fwt_pg_exec(c, "SELECT flywheel.review_add_item('support-thumbs-down', "
                   "'00000000-0000-0000-0000-0000000000a1', NULL, 20), "
                   "flywheel.review_add_item('support-thumbs-down', "
                   "'00000000-0000-0000-0000-0000000000a2', NULL, 10)");
    /* Times as the docs show them, whatever the machine's zone. */
    setenv("PGTZ", "UTC", 1);
    unsetenv("EDITOR");
    unsetenv("VISUAL");

    session(dsn, "alice", 24, 80, 1);
    session(dsn, "bob", 40, 120, 0);

    /* The span marked twice is stored once; the other category on it stays. */
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT jsonb_array_length(value->'problems') FROM "
                                   "flywheel.review_labels WHERE item_id = 1 AND reviewer = "
                                   "'alice'"),
                     2);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.review_assignments WHERE "
                                   "item_id = 1 AND reviewer = 'bob' AND state = 'released'"),
                     1);
    PQfinish(c);
    printf("ok (screens in %s)\n", g_artifacts);
    return 0;
}
