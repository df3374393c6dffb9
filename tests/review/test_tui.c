/*
 * review_tui: drives `flywheel review start` through a pseudo-terminal
 * (forkpty, 80x24) the way a person would: pages through a long output,
 * answers every rubric field type with a wrong answer first (the prompt
 * must refuse it), marks spans by sentence and by character range, edits a
 * correction in $EDITOR (a script that fixes the text), quits in the middle
 * of an item and resumes it, skips with a reason, and finishes the queue.
 * Then, where USER is unset and "--as" comes last (the login name reviews),
 * every command at a field, at the span prompt and at the submit prompt:
 * :help, :show, undo, done, and :release, which gives the item back (issue
 * 11 items 6 and 8). Then checks the labels in the database. The screen
 * layout is review_screen's.
 */
#include "fwtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_out[1 << 20];
static size_t g_len, g_mark;
static int g_fd = -1;
static pid_t g_pid;

/* Reads what the program printed, for up to `ms` milliseconds. */
static void pump(int ms)
{
    struct pollfd p = {g_fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0)
        return;
    ssize_t n = read(g_fd, g_out + g_len, sizeof g_out - 1 - g_len);
    if (n > 0) {
        g_len += (size_t)n;
        g_out[g_len] = '\0';
    }
}

/* Waits until one of the patterns appears after the mark; returns its index
 * and moves the mark past it. Fails the test after 15 s. */
static int expect_any(const char *const *pats, int npats)
{
    int64_t deadline = fwt_now_ms() + 15000;
    while (fwt_now_ms() < deadline) {
        const char *best = NULL;
        int which = -1;
        for (int i = 0; i < npats; i++) {
            const char *hit = strstr(g_out + g_mark, pats[i]);
            if (hit && (!best || hit < best)) {
                best = hit;
                which = i;
            }
        }
        if (best) {
            g_mark = (size_t)(best - g_out) + strlen(pats[which]);
            return which;
        }
        pump(100);
    }
    fprintf(stderr, "---- terminal output after the mark ----\n%s\n----\n", g_out + g_mark);
    fwt_fail(__FILE__, __LINE__, "timed out waiting for \"%s\"", pats[0]);
}

static void expect(const char *pat)
{
    const char *p[1] = {pat};
    expect_any(p, 1);
}

static void send(const char *line)
{
    size_t n = strlen(line);
    FWT_CHECK(write(g_fd, line, n) == (ssize_t)n);
    FWT_CHECK(write(g_fd, "\r", 1) == 1);
}

/* Starts `flywheel review start --queue tq` as `as`; NULL: as `--as $USER`
 * does where USER is unset (root in a container): "--as" comes last. */
static void start_as(const char *dsn, const char *as)
{
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    g_pid = forkpty(&g_fd, NULL, NULL, &ws);
    FWT_CHECK(g_pid >= 0);
    if (g_pid == 0) {
        if (as) {
            execl(fwt_program("cli/flywheel"), "flywheel", "review", "start", "--queue", "tq",
                  "--as", as, "--dsn", dsn, (char *)NULL);
        } else {
            unsetenv("USER");
            execl(fwt_program("cli/flywheel"), "flywheel", "review", "start", "--queue", "tq",
                  "--dsn", dsn, "--as", (char *)NULL);
        }
        _exit(127);
    }
}

static void start(const char *dsn)
{
    start_as(dsn, "alice");
}

/* Waits for the program to exit and returns its status. */
static int finish(void)
{
    int st = 0;
    int64_t deadline = fwt_now_ms() + 10000;
    for (;;) {
        pid_t r = waitpid(g_pid, &st, WNOHANG);
        if (r == g_pid)
            break;
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

/* Every line the program printed between two offsets fits in 80 columns. */
static void check_width(size_t from, size_t to)
{
    size_t col = 0;
    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)g_out[i];
        if (c == '\n' || c == '\r') {
            col = 0;
            continue;
        }
        if ((c & 0xC0) != 0x80)
            col++;
        FWT_CHECK_MSG(col <= 80, "a line is wider than the 80-column terminal near: %.60s",
                      g_out + (i > 60 ? i - 60 : 0));
    }
}

int main(void)
{
    char dsn[512], sql[4096], editor[256], tmpl[] = "/tmp/fwt-review-tui-XXXXXX";
    fwt_pg_create_db("fwt_review_tui", dsn, sizeof dsn);
    fwt_pg_migrate(dsn);
    PGconn *c = fwt_pg_connect(dsn);

    /* A: long output (pages), a tool call in the input; B and C short. */
    fwt_pg_exec(c, "INSERT INTO flywheel.generations (event_id, event_time, schema_version, "
                   "request_model, input_messages, output_messages, id_time) VALUES "
                   "('00000000-0000-0000-0000-00000000000a', now(), 1, 'model-a', "
                   " '[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"What colour "
                   "is the sky?\"}]},{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\","
                   "\"id\":\"c1\",\"name\":\"lookup\",\"arguments\":{\"q\":\"sky\"}}]},"
                   "{\"role\":\"tool\",\"parts\":[{\"type\":\"tool_call_response\",\"id\":\"c1\","
                   "\"response\":\"blue\"}]}]', "
                   " jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts', "
                   "  jsonb_build_array(jsonb_build_object('type', 'text', 'content', "
                   "  'The sky is green. Water is wet. ' || repeat('Lorem ipsum dolor sit amet, "
                   "consectetur adipiscing elit ', 60))))), "
                   " flywheel.event_id_time('00000000-0000-0000-0000-00000000000a'))");
    for (int i = 0; i < 2; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO flywheel.generations (event_id, event_time, schema_version, "
                 "request_model, output_messages, id_time) VALUES "
                 "('00000000-0000-0000-0000-00000000000%c', now(), 1, 'model-b', "
                 "'[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\","
                 "\"content\":\"Short answer %c. Second sentence.\"}]}]', "
                 "flywheel.event_id_time('00000000-0000-0000-0000-00000000000%c'))",
                 'b' + i, 'B' + i, 'b' + i);
        fwt_pg_exec(c, sql);
    }
    fwt_pg_exec(
        c,
        "SELECT flywheel.review_rubric_create('full', '{\"instructions\":\"Judge the "
        "answer.\",\"fields\":["
        "{\"name\":\"correct\",\"type\":\"boolean\",\"required\":true},"
        "{\"name\":\"score\",\"type\":\"number\",\"min\":1,\"max\":5,\"step\":1,\"required\":true},"
        "{\"name\":\"topic\",\"type\":\"category\",\"values\":[\"billing\",\"tech\"]},"
        "{\"name\":\"errors\",\"type\":\"span\",\"categories\":[\"factual error\",\"style\"]},"
        "{\"name\":\"fixed\",\"type\":\"correction\"},"
        "{\"name\":\"notes\",\"type\":\"text\",\"max_length\":10}]}')");
    fwt_pg_exec(c, "SELECT flywheel.review_queue_create('{\"name\":\"tq\",\"rubric\":\"full\","
                   "\"description\":\"terminal test\"}')");
    fwt_pg_exec(c, "SELECT flywheel.review_add_item('tq', '00000000-0000-0000-0000-00000000000a', "
                   "NULL, 30), flywheel.review_add_item('tq', "
                   "'00000000-0000-0000-0000-00000000000b', NULL, 20), flywheel.review_add_item("
                   "'tq', '00000000-0000-0000-0000-00000000000c', NULL, 10)");

    /* $EDITOR: a script that corrects the text in place. */
    char *dir = mkdtemp(tmpl);
    FWT_CHECK(dir);
    snprintf(editor, sizeof editor, "%s/fix.sh", dir);
    FILE *f = fopen(editor, "w");
    FWT_CHECK(f);
    fprintf(f, "#!/bin/sh\nsed -i 's/green/blue/' \"$1\"\n");
    fclose(f);
    FWT_CHECK(chmod(editor, 0755) == 0);
    setenv("EDITOR", editor, 1);
    unsetenv("VISUAL");

    /* Session 1: item A in full, then quit in the middle of B. */
    start(dsn);
    expect("queue tq: terminal test");
    size_t from = g_mark;
    const char *page_or_q[2] = {"-- more --", "[1/6]"};
    int pages = 0;
    while (expect_any(page_or_q, 2) == 0) {
        pages++;
        send("");
    }
    FWT_CHECK_MSG(pages >= 1, "the long output was not paged");
    check_width(from, g_mark);
    FWT_CHECK(strstr(g_out + from, "tool call lookup({\"q\":\"sky\"})") != NULL);
    FWT_CHECK(strstr(g_out + from, "── tool ──") != NULL);
    FWT_CHECK(strstr(g_out + from, "s1 [0,17) The sky is green.") != NULL);
    FWT_CHECK(strstr(g_out + from, "s2 [18,31) Water is wet.") != NULL);
    expect("yes or no?");
    send("maybe");
    expect("answer yes or no");
    send("n");
    expect("[2/6] score");
    send("9");
    expect("9 is above the maximum 5");
    send("2.5");
    expect("is not a multiple of the step 1");
    send("2");
    expect("[3/6] topic");
    send("sports");
    expect("is not one of the choices");
    send("2");
    expect("[4/6] errors");
    expect("span> ");
    send("s1 1");
    expect("marked [0,17) of message 0 part 0 as \"factual error\"");
    send("s99 1");
    expect("no sentence");
    send("r 18 31 style");
    expect("marked [18,31) of message 0 part 0 as \"style\" (2 span(s))");
    send("");
    expect("[5/6] fixed");
    send("y");
    expect("correction recorded");
    expect("[6/6] notes");
    send("far too long text");
    expect("more than the maximum 10");
    send("");
    expect("submit?");
    send("y");
    expect("submitted");
    expect("item 2 ");
    expect("[1/6] correct");
    send(":quit");
    expect("run the same command to resume");
    FWT_CHECK_EQ_INT(finish(), 0);

    /* Session 2: B is resumed, skipped; C answered; the queue is done. */
    g_len = g_mark = 0;
    g_out[0] = '\0';
    start(dsn);
    expect("item 2 ");
    expect("Short answer B.");
    expect("[1/6] correct");
    send(":skip");
    expect("reason for skipping?");
    send("garbled");
    expect("skipped");
    expect("item 3 ");
    expect("[1/6] correct");
    send("yes");
    expect("[2/6]");
    send("3");
    expect("[3/6]");
    send("");
    expect("span> ");
    send("");
    expect("[5/6]");
    send("n");
    expect("[6/6]");
    send("fine");
    expect("submit?");
    send("y");
    expect("submitted");
    expect("no more items in queue tq");
    FWT_CHECK_EQ_INT(finish(), 0);

    /* Session 3 (issue 11 items 6 and 8), where USER is unset: the login
     * name reviews. Item B (skipped once by alice) comes up; :help, :show
     * and :release, each at a field, at the span prompt and at the submit
     * prompt; :release gives the item back (it failed with SQLSTATE 42P18
     * and the item stayed leased). */
    const struct passwd *pw = getpwuid(geteuid());
    FWT_CHECK(pw && pw->pw_name);
    char login[256], acting[300];
    snprintf(login, sizeof login, "%s", pw->pw_name);
    snprintf(acting, sizeof acting, "acting as \"%s\", the login name", login);
    g_len = g_mark = 0;
    g_out[0] = '\0';
    start_as(dsn, NULL);
    expect(acting);
    expect("item 2 ");
    expect("[1/6] correct");
    send(":help");
    expect(":release (gives it back and quits)");
    expect("yes or no?");
    send(":show");
    expect("Short answer B.");
    expect("[1/6] correct");
    send("y");
    expect("[2/6]");
    send("4");
    expect("[3/6]");
    send("");
    expect("span> ");
    send(":help");
    expect(":show (the");
    expect("span> ");
    send("s1 factual error");
    expect("(1 span(s))");
    send("undo");
    expect("  0 span(s)");
    send("done");
    expect("[5/6]");
    send("n");
    expect("[6/6]");
    send("");
    expect("submit?");
    send(":help");
    expect(":skip (asks a reason)");
    expect("submit?");
    send("maybe");
    expect("answer y or n");
    send(":show");
    expect("Short answer B.");
    expect("submit?");
    send(":release");
    expect("released item 2");
    FWT_CHECK_EQ_INT(finish(), 0);
    FWT_CHECK_MSG(strstr(g_out, "42P18") == NULL, "release failed: %s", g_out);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM flywheel.review_assignments WHERE item_id = 2 AND "
             "reviewer = '%s' AND state = 'released'",
             login);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, sql), 1);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.review_items WHERE id = 2 AND "
                                   "cardinality(lease_holders) > 0"),
                     0);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.review_labels WHERE item_id = 2"),
                     0);

    /* What the database holds. */
    FWT_CHECK_EQ_INT(
        fwt_pg_int(c,
                   "SELECT count(*) FROM flywheel.review_labels WHERE item_id = 1 AND "
                   "reviewer = 'alice' AND value - 'fixed' = '{\"correct\": false, \"score\": 2, "
                   "\"topic\": \"tech\", \"errors\": [{\"message\": 0, \"part\": 0, \"start\": 0, "
                   "\"end\": 17, \"category\": \"factual error\"}, {\"message\": 0, \"part\": 0, "
                   "\"start\": 18, \"end\": 31, \"category\": \"style\"}]}'::jsonb"),
        1);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.review_labels WHERE item_id = 1 "
                                   "AND value->'fixed'->0->'parts'->0->>'content' LIKE "
                                   "'The sky is blue. Water is wet.%'"),
                     1);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.review_assignments WHERE "
                                   "item_id = 2 AND state = 'skipped' AND skip_reason = 'garbled'"),
                     1);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.review_labels WHERE item_id = 3 "
                                   "AND value = '{\"correct\": true, \"score\": 3, \"notes\": "
                                   "\"fine\"}'"),
                     1);
    PQfinish(c);
    unlink(editor);
    rmdir(dir);
    printf("ok\n");
    return 0;
}
