/*
 * flywheel/store.h — the store library: everything a front end (the
 * `flywheel` command, `flywheel serve`, the Python package) does against the
 * Flywheel PostgreSQL store, with no terminal, no files it was not asked to
 * write, and no process-wide state.
 *
 *   - export and dataset versions: selection, splits, dedupe, formats,
 *     manifest, re-export, diff                         (fw_store_export_*,
 *                                                        fw_store_dataset_*)
 *   - the statistics document `flywheel stats --json` prints (fw_store_stats)
 *   - dead letters: list, show, replay                  (fw_store_dlq_*)
 *   - review helpers that are not SQL: sentence segmentation and the
 *     messages of the review functions' FR error codes  (fw_store_sentences,
 *                                                        fw_store_review_error)
 *
 * Rules every function here keeps (they are what makes a front end thin):
 *   - no stdio, no exit, no getopt, no isatty, no signals, no global state:
 *     two threads may run two operations on two connections at once;
 *   - output goes through a writer the caller gives (fw_store_writer);
 *     progress through a callback; a long operation stops when the caller
 *     sets the cancel flag it passed, rolls back and returns
 *     FW_STORE_CANCELLED;
 *   - every failure is one fw_store_error: a code, the SQLSTATE when the
 *     database said no, and a message, detail and hint in PostgreSQL's style
 *     (lower-case message without a trailing period; detail and hint as full
 *     sentences).
 *
 * Connections are the caller's (libpq); a function uses the connection for
 * its call only and leaves no transaction open on it. Ownership: returned
 * jansson values belong to the caller (json_decref); strings inside results
 * live as long as the result.
 */
#ifndef FLYWHEEL_STORE_H
#define FLYWHEEL_STORE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors -------------------------------------------------------------- */

#define FW_STORE_ERRORS(X)                                                                         \
    X(OK, "ok")                                                                                    \
    X(INVALID, "invalid argument") /* the request itself is wrong: a usage error */                \
    X(NOT_FOUND, "not found")      /* a named dataset, version, queue, dead letter... */           \
    X(DATABASE, "database error")  /* PostgreSQL refused or failed; sqlstate says why */           \
    X(OUTPUT, "output error")      /* the writer failed */                                         \
    X(NOMEM, "out of memory")                                                                      \
    X(CANCELLED, "cancelled")        /* the caller set the cancel flag */                          \
    X(MISMATCH, "re-export differs") /* a re-export's bytes differ from the recorded ones */       \
    X(CONFLICT, "conflict") /* the state changed under the caller: a lost lease, a closed item */  \
    X(EMPTY, "nothing selected") /* an export's selection matched no member */

typedef enum {
#define FW_STORE_X(name, text) FW_STORE_##name,
    FW_STORE_ERRORS(FW_STORE_X)
#undef FW_STORE_X
} fw_store_code;

typedef struct {
    fw_store_code code;
    char sqlstate[6]; /* "" unless the database reported the error */
    char message[1024];
    char detail[1024]; /* "" when there is none */
    char hint[512];    /* "" when there is none */
} fw_store_error;

/* "ok", "invalid argument", ... — never NULL. */
const char *fw_store_code_text(fw_store_code code);

/* Clears an error to FW_STORE_OK. */
void fw_store_error_clear(fw_store_error *err);

/*
 * The SQLSTATEs the review functions raise (migrations/R__20_review.sql):
 * the code, the class of error it is, and what it means. This is the one
 * list every front end reads — the CLI's messages and exit statuses, the
 * web server's 404/409/422, the store's own errors — so a new FR code is one
 * line here (and a row in docs/review.md's table; store_unit_fr_codes checks
 * both against the migrations).
 */
#define FW_STORE_FR_CODES(X)                                                                       \
    X("FR001", INVALID, "invalid rubric definition or rubric name")                                \
    X("FR002", INVALID, "label does not match the rubric; a skip without a reason")                \
    X("FR003", CONFLICT, "item not claimed by this reviewer, lease lost, already labelled")        \
    X("FR004", INVALID, "invalid queue definition, rule or queue name")                            \
    X("FR005", NOT_FOUND, "no such queue, rubric, item, generation or web account")                \
    X("FR006", CONFLICT, "queue paused, item closed, or item cannot be adjudicated")               \
    X("FR007", INVALID, "web account change refused: name, kind, taken, disabled, last admin")

/*
 * The store's code of a SQLSTATE: the class of an FR code
 * (FW_STORE_FR_CODES: FW_STORE_INVALID, FW_STORE_NOT_FOUND or
 * FW_STORE_CONFLICT), FW_STORE_DATABASE for any other SQLSTATE and for
 * NULL. Thread-safe, no allocation.
 */
fw_store_code fw_store_sqlstate_code(const char *sqlstate);

/* What an FR code means (FW_STORE_FR_CODES), or NULL when sqlstate is not
 * one of them (or NULL). The string is static. */
const char *fw_store_sqlstate_meaning(const char *sqlstate);

/*
 * Fills err from a failed PostgreSQL result (or, when the result carries no
 * error, from the connection): "could not <what>: <primary message>" (just
 * the message when what is NULL), the SQLSTATE, DETAIL and HINT as the
 * server sent them. The code follows the SQLSTATE, the one mapping every
 * front end shares (fw_store_sqlstate_code): an FR code's class, else
 * FW_STORE_DATABASE.
 * A missing flywheel object (42P01 undefined table, 3F000 undefined schema,
 * 42883 undefined function, naming "flywheel") means the database was
 * never migrated, or is older than this build: the message says which
 * object, and the hint says to run `flywheel migrate`. Returns -1 (for
 * `return fw_store_error_pg(...)`); err may be NULL.
 */
int fw_store_error_pg(fw_store_error *err, const char *what, const PGresult *res,
                      const PGconn *conn);

/* ---- output: the writer ---------------------------------------------------- */

/*
 * Where an operation's output goes: files of a directory, standard output,
 * an HTTP response, a Python file object. An operation opens one stream per
 * output it produces ("train.jsonl.zst", "manifest.json", or "-" when all
 * lines go to one stream), writes to it, and closes it exactly once:
 *   close(..., ok = 1) after the last byte of a complete output: make it
 *   visible (a file writer may fsync and rename a temporary file into place);
 *   close(..., ok = 0) when the operation failed or was cancelled after
 *   opening it: the stream ended with an error and must not pass for a
 *   complete output (a file writer removes its temporary file; an HTTP
 *   writer aborts the chunked response).
 * Each callback returns 0, or -1 with err filled (code FW_STORE_OUTPUT);
 * after a failed write only close(ok = 0) follows. Callbacks run on the
 * calling thread.
 *
 * finish (optional, NULL: none) makes an operation of several streams all
 * or nothing: it is called exactly once, after every stream was closed,
 * with ok = 1 when the whole operation succeeded (for an export: after its
 * dataset version committed) — publish every stream closed with ok = 1,
 * "manifest.json" last — or ok = 0 when it failed: discard them. A writer
 * with finish keeps streams closed with ok = 1 unpublished until then.
 */
typedef struct {
    int (*open)(void *ctx, const char *name, void **stream, fw_store_error *err);
    int (*write)(void *ctx, void *stream, const void *data, size_t len, fw_store_error *err);
    int (*close)(void *ctx, void *stream, int ok, fw_store_error *err);
    void *ctx;
    int (*finish)(void *ctx, int ok, fw_store_error *err);
} fw_store_writer;

/*
 * A writer of files in directory `dir` (created with its parents when
 * missing), all or nothing: stream "x" is written to a hidden temporary
 * file dir/.x.XXXXXX (mode 0644), fsync'ed on close(ok = 1) and removed on
 * close(ok = 0); finish(ok = 1) removes the old dir/manifest.json, renames
 * the files into place, manifest.json last, and fsyncs the directory;
 * finish(ok = 0) and fw_store_dir_writer_free remove what is still staged.
 * A failed operation leaves the directory's previous files untouched.
 * Returns NULL and fills err on failure. fw_store_dir_writer_free accepts
 * NULL.
 */
fw_store_writer *fw_store_dir_writer_new(const char *dir, fw_store_error *err);
void fw_store_dir_writer_free(fw_store_writer *w);

/* ---- progress and cancellation ---------------------------------------------- */

/*
 * fn, when set, is called from the operation's thread every few hundred
 * rows (and at most five times a second), and once more with final = 1 at
 * the end of a successful stream. `cancel`, when set, is read before every
 * row: once it is nonzero (set by fn, a signal handler or another thread)
 * the operation stops, rolls back what it was recording, closes its
 * streams with ok = 0 and returns FW_STORE_CANCELLED.
 */
typedef struct {
    void (*fn)(void *ctx, long long done, long long total, double seconds, int final);
    void *ctx;
    volatile int *cancel;
} fw_store_progress;

/* ---- statistics --------------------------------------------------------------- */

/* The window of fw_store_stats: the last since_s seconds (since_s > 0), or
 * [from, to) with any PostgreSQL timestamptz text (to NULL: now). project
 * NULL: all projects. */
typedef struct {
    long long since_s;
    const char *from, *to;
    const char *project;
} fw_store_stats_window;

/* Parses "90s", "15m", "24h", "7d", "2w" (a bare number is hours) into
 * seconds. Returns 0, or -1 when malformed, zero or above ten years. */
int fw_store_stats_parse_since(const char *text, long long *seconds);

/*
 * The statistics document of a window (the one `flywheel stats --json`
 * prints; its keys are documented in docs/dashboards.md): window, traffic,
 * latency, usage, feedback, dead_letters, ingest, by_model,
 * errors_by_type, top_users, queues (null before the review migration) and
 * review. Every number is read from the dashboard views in one read-only
 * snapshot, so it works for a member of flywheel_reader. Returns a new
 * object (the caller json_decref's it), or NULL with err filled:
 * FW_STORE_INVALID for a window that is not one (a time PostgreSQL cannot
 * parse, from not before to), FW_STORE_DATABASE, FW_STORE_NOMEM.
 * Blocking; leaves no transaction open.
 */
json_t *fw_store_stats(PGconn *conn, const fw_store_stats_window *w, fw_store_error *err);

/* ---- dead letters ------------------------------------------------------------- */

/* Which dead letters: those whose reason is `reason` or a refinement of it
 * ("data_error" matches "data_error:22P02"; NULL: any), not yet replayed
 * unless `all`, newest first, at most `limit` (0: no limit). */
typedef struct {
    const char *reason;
    long long limit;
    int all;
} fw_store_dlq_filter;

/* The dead letters as an array of objects {id, received_at, topic,
 * partition, offset, reason, replay_count, event_id, detail} (event_id
 * null when it could not be read). NULL with err filled on failure. */
json_t *fw_store_dlq_list(PGconn *conn, const fw_store_dlq_filter *f, fw_store_error *err);

/* One dead letter: {id, received_at, consumer_group, topic, partition,
 * offset, key, message_time, reason, detail, event_id, replayed_at,
 * replay_count, payload_bytes, payload_hex (the first 512 bytes)}. NULL
 * with err filled: FW_STORE_NOT_FOUND when there is no dead letter `id`. */
json_t *fw_store_dlq_show(PGconn *conn, long long id, fw_store_error *err);

typedef enum {
    FW_STORE_DLQ_INSERTED, /* replayed: the row was inserted */
    FW_STORE_DLQ_PRESENT,  /* replayed: the row was already stored (same event id) */
    FW_STORE_DLQ_VALID,    /* dry run: it would be inserted */
    FW_STORE_DLQ_SKIPPED,  /* already replayed and `again` not set */
    FW_STORE_DLQ_INVALID,  /* still fails validation: reason, detail */
    FW_STORE_DLQ_REFUSED,  /* PostgreSQL refused the row's data: reason "data_error:SQLSTATE" */
} fw_store_dlq_outcome;

/* "replayed", "valid", "skipped", "invalid", "refused". */
const char *fw_store_dlq_outcome_name(fw_store_dlq_outcome outcome);

/* What happened to one dead letter; strings live during the callback. */
typedef struct {
    long long id;
    fw_store_dlq_outcome outcome;
    const char *table;  /* "generations" or "feedback" (INSERTED, PRESENT, VALID) */
    const char *reason; /* INVALID, REFUSED */
    const char *detail; /* INVALID */
} fw_store_dlq_replayed;

typedef struct {
    const long long *ids; /* these dead letters, in this order; or, with nids 0: */
    size_t nids;
    const char *reason; /* those with this reason (as fw_store_dlq_filter), */
    int all;            /* or every one */
    int again;          /* replay what was replayed before too */
    int dry_run;        /* validate only: nothing is written */
    size_t max_message_bytes, max_field_bytes; /* the decoder's limits (0: none) */
    /* Called on the calling thread after each dead letter. */
    void (*fn)(void *ctx, const fw_store_dlq_replayed *r);
    void *ctx;
    volatile int *cancel; /* read before each dead letter */
} fw_store_dlq_replay_opts;

/* Zeroes o and sets the collector's default limits (4 MiB per message,
 * 1 MiB per field). */
void fw_store_dlq_replay_opts_init(fw_store_dlq_replay_opts *o);

typedef struct {
    long long replayed;     /* INSERTED, PRESENT, VALID */
    long long not_replayed; /* SKIPPED, INVALID, REFUSED */
} fw_store_dlq_counts;

/*
 * Re-validates the selected dead letters with the collector's decoder and
 * inserts each one that now passes, each in its own transaction with its
 * replayed_at and replay_count (the dead letter locked FOR UPDATE meanwhile),
 * with ON CONFLICT DO NOTHING. It writes to PostgreSQL, never to Kafka.
 * Returns 0 with *counts filled, or -1 with err filled and *counts saying
 * how far it got (every dead letter before the failing one is done):
 * FW_STORE_INVALID (nothing selected to replay), FW_STORE_NOT_FOUND (an id
 * that does not exist), FW_STORE_DATABASE (anything but the row's own data:
 * a refused row is an outcome, not an error), FW_STORE_NOMEM,
 * FW_STORE_CANCELLED. Blocking.
 */
int fw_store_dlq_replay(PGconn *conn, const fw_store_dlq_replay_opts *o,
                        fw_store_dlq_counts *counts, fw_store_error *err);

/* ---- recorded dataset versions ------------------------------------------------- */

/* Every recorded version, by dataset and version: an array of {dataset,
 * version, format, members, train, validation, test (lines per split, null
 * when not recorded), rejected, created_at ("YYYY-MM-DD HH:MM:SS", UTC),
 * created_by}. NULL with err filled on failure. */
json_t *fw_store_dataset_list(PGconn *conn, fw_store_error *err);

/* The manifest recorded with version `version` of `dataset` (0: the
 * latest). NULL with err filled: FW_STORE_NOT_FOUND when there is none. */
json_t *fw_store_dataset_manifest(PGconn *conn, const char *dataset, int version,
                                  fw_store_error *err);

/*
 * What changed from version `from` to version `to` of `dataset`, in one
 * snapshot: {dataset, from, to, parameters: [{path, from, to}] (every
 * recorded parameter that differs; null where absent), lines: {train |
 * validation | test: {from, to}}, members: {added, removed, relabelled}},
 * and with `members` set also changes: [{change, event_id, item_id,
 * old_label_ids, new_label_ids}] (flywheel.dataset_diff). NULL with err
 * filled: FW_STORE_INVALID (a version below 1), FW_STORE_NOT_FOUND.
 */
json_t *fw_store_dataset_diff(PGconn *conn, const char *dataset, int from, int to, int members,
                              fw_store_error *err);

/* ---- sentence segmentation (review spans and the classifier export) -------- */

/*
 * Offsets are code points of the UTF-8 text, [start, end) — the unit
 * PostgreSQL's length() counts, in which span annotations are stored,
 * validated, shown to reviewers and exported. byte_start and byte_end are
 * the same positions in bytes, for C callers slicing the text.
 */
typedef struct {
    size_t start, end;
    size_t byte_start, byte_end;
} fw_store_sentence;

typedef enum {
    /*
     * The rules of the reviewer and of new exports. A fenced code block
     * (a line starting with ``` or ~~~, up to the line that closes it) is one
     * segment. Elsewhere every line break ends a sentence, and inside a line
     * a sentence ends after a run of end marks and closing quotes or brackets
     * (" ' ) ] } » ” ’ 」 』 ） 》 〉 】) when a mark of the run is ideographic
     * or full-width (。 ｡ ！ ？ ．: no space needed) or when white space or
     * the end of the line follows (. ! ? ‼ ⁇ ⁈ ⁉ ؟ ۔ । ॥ ։ ።). Not ends:
     * a '.' inside a number (3.14) or closing an abbreviation (Dr. Mr. Mrs.
     * Ms. Prof. Sr. Jr. St. Mt. vs. e.g. i.e. cf. approx. Inc. Ltd. Co.
     * Corp. No. Fig. Eq. al. vol. p. pp. ca. esp. U.S. a.m. p.m., any case),
     * the marker of a list item at the start of a line (- * + • "12." "12)"
     * "a)"), and anything inside `inline code`. Segments are trimmed of
     * white space; empty ones are skipped.
     */
    FW_STORE_SENTENCES_V2 = 3,
    /* Legacy, for re-exporting versions recorded with them: */
    FW_STORE_SENTENCES_ASCII = 1,   /* . ! ? before white space or the end; line breaks */
    FW_STORE_SENTENCES_UNICODE = 2, /* V2's end marks and line breaks, no exceptions */
} fw_store_sentence_rules;

typedef void (*fw_store_sentence_fn)(void *ctx, const fw_store_sentence *s);

/* Calls fn (when not NULL) for each sentence of text[0..len), in order, and
 * returns how many there are. text need not be NUL-terminated; invalid
 * UTF-8 is scanned byte by byte (an invalid byte counts as one code point). */
size_t fw_store_sentences(const char *text, size_t len, fw_store_sentence_rules rules,
                          fw_store_sentence_fn fn, void *ctx);

/* "v2", "unicode", "ascii": the names recorded in a dataset version's
 * parameters ("sentences"). Parsing NULL gives ascii (versions recorded
 * before the key existed); an unknown name returns -1. */
const char *fw_store_sentence_rules_name(fw_store_sentence_rules rules);
int fw_store_sentence_rules_parse(const char *name, fw_store_sentence_rules *out);

/* ---- export and dataset versions ------------------------------------------ */

/* The line formats (docs/export.md). */
typedef enum {
    FW_XFMT_OPENAI_CHAT = 0,
    FW_XFMT_PREFERENCE,
    FW_XFMT_PREFERENCE_TRL,
    FW_XFMT_EVAL,
    FW_XFMT_CLASSIFIER,
    FW_XFMT_REWARD,
} fw_xfmt;

/* Parses "openai-chat", "preference" (style "openai" or "trl"), "eval",
 * "classifier", "reward". Returns 0 or -1 (out untouched). */
int fw_xfmt_parse(const char *format, const char *style, fw_xfmt *out);
const char *fw_xfmt_name(fw_xfmt f);

typedef enum { FW_XSPLIT_TRAIN = 0, FW_XSPLIT_VALIDATION = 1, FW_XSPLIT_TEST = 2 } fw_xsplit;
#define FW_XSPLIT_COUNT 3

/* "train", "validation", "test". */
const char *fw_xsplit_name(fw_xsplit s);

/* Parses three percentages that add up to 100 ("80/10/10") or three
 * fractions that add up to 1 ("0.8,0.1,0.1"; separators / , or :) into
 * ratios. Returns 0, or -1 when the text is not three non-negative numbers
 * adding up to 100 or 1 (ratios untouched): "80/10/20" is refused, never
 * rescaled. */
int fw_xsplit_parse_ratios(const char *text, double ratios[FW_XSPLIT_COUNT]);

#define FW_XMAX_LIST 32

/* What an export selects and how; recorded with a dataset version. */
typedef struct {
    /* selection (recorded for information; step 1 only) */
    const char *queue;
    const char *consensus; /* all | majority | adjudicated */
    const char *where[FW_XMAX_LIST];
    int nwhere;
    const char *feedback[FW_XMAX_LIST];
    int nfeedback;
    const char *tags[FW_XMAX_LIST];
    int ntags;
    const char *since, *until, *project, *environment, *model, *release;
    const char *prompt_template, *prompt_version;
    long long limit; /* 0: none */

    /* shape of the lines (recorded; both steps) */
    fw_xfmt fmt;
    int weights; /* openai-chat: weight 0 on earlier assistant turns, 1 on the output */
    const char *score_field;
    const char *negative_label;
    long max_tokens;
    fw_store_sentence_rules sentence_rules; /* classifier; new exports: V2 */
    int feedback_corrections; /* preference: also pair outputs with feedback corrections */
    const char *rubric_name;  /* resolved from the queue */
    int rubric_version;

    /* splits, dedupe, redaction, output encoding (recorded) */
    const char *seed;
    double ratios[FW_XSPLIT_COUNT];
    const char *group_by; /* conversation | user | trace */
    int dedupe;
    unsigned redact_detectors;              /* FWR_* bits (redact.h); 0: no redaction */
    const char *redact_rules[FW_XMAX_LIST]; /* "LABEL=REGEX" */
    int nredact_rules;
    int zstd_level; /* 0: plain */

    /* classifier (recorded): a reviewed output without span annotations
     * gives its sentences as negatives (1) or no line (0). A new export
     * takes it from the rubric's span field ("unmarked": "negative", the
     * default, or "unknown"); a version recorded before it existed: 0. */
    int unmarked_negative;
} fw_xopts;

/* Defaults: consensus all, seed "0", 80/10/10, group by conversation, dedupe
 * on, negative label "none", no redaction, plain files, sentences V2;
 * weights on (openai-chat: earlier assistant turns weight 0, only the
 * reviewed output is a training target), unmarked outputs negative. */
void fw_xopts_init(fw_xopts *o);

/* Where an export goes and what it records. */
typedef struct {
    const char *dataset;     /* record a version of this dataset; NULL: ad hoc */
    int version;             /* > 0: re-export this recorded version */
    const char *description; /* of a new dataset */
    /*
     * The outputs. With one_stream = 0 the writer gets one stream per split,
     * "train.jsonl", "validation.jsonl", "test.jsonl" (".jsonl.zst" with
     * zstd), and, when manifest is set, "manifest.json". With one_stream = 1
     * all lines (or only those of only_split) go to one stream named "-",
     * and the manifest to "manifest.json" only when manifest is set.
     */
    const fw_store_writer *writer;
    int one_stream;
    const char *only_split; /* with one_stream: "train", "validation" or "test" */
    int manifest;
    fw_store_progress progress;
    /* A new export whose selection matches no member fails with
     * FW_STORE_EMPTY (nothing written, no version recorded) unless this is
     * set. */
    int allow_empty;
} fw_xrun_target;

/* What an export did (filled on success, and for FW_STORE_MISMATCH). */
typedef struct {
    int version; /* the dataset version recorded or re-exported; 0 ad hoc */
    long long members;
    uint64_t lines[FW_XSPLIT_COUNT];
    long long rejected;
} fw_xrun_result;

/*
 * Runs an export in one REPEATABLE READ transaction: resolve the members
 * (or load a recorded version's), stream them with COPY, build, redact,
 * validate, dedupe and split each line, write through t->writer, and, for a
 * dataset, record the version and its manifest in the same transaction. `o`
 * holds the options of a new export; for a re-export its recorded fields are
 * replaced by the version's parameters.
 *
 * All or nothing: the outputs are closed, the manifest recorded and the
 * transaction committed before the writer's finish(ok = 1) publishes the
 * files, manifest last; on any failure the streams are closed with ok = 0
 * and finish(ok = 0) follows, so a manifest never names a version the
 * database did not commit. A writer without finish (standard output) sees
 * its bytes as they come: there the caller must treat the stream as
 * truncated unless fw_xrun returned 0.
 *
 * Returns 0 with *res filled, or -1 with err filled: FW_STORE_INVALID (a
 * malformed --where, an unknown rubric field, a redaction rule...),
 * FW_STORE_NOT_FOUND, FW_STORE_EMPTY (see allow_empty), FW_STORE_DATABASE
 * (the server's message and SQLSTATE, prefixed by what was being done),
 * FW_STORE_OUTPUT, FW_STORE_NOMEM, FW_STORE_CANCELLED (nothing recorded), or
 * FW_STORE_MISMATCH when a re-export's files differ from the recorded
 * sha256s (files written, *res filled, err names the file). Blocking; the
 * connection must be idle.
 */
int fw_xrun(PGconn *conn, fw_xopts *o, const fw_xrun_target *t, fw_xrun_result *res,
            fw_store_error *err);

/* Receives one case (an eval-format line, docs/export.md, without its
 * newline) of split "train", "validation" or "test". Returns 0, or nonzero
 * to stop (filling err, or leaving it for a generic "refused" error). */
typedef int (*fw_store_case_fn)(void *ctx, const char *split, const char *line, size_t len,
                                fw_store_error *err);

/*
 * The cases of recorded eval dataset version `version` of `dataset`, for an
 * eval run: the version is re-exported in memory (no file is written) and
 * checked against its recorded sha256s, then fn is called for every line,
 * split by split (train, validation, test), in file order — so the cases are
 * byte for byte the lines `flywheel export --dataset NAME --version N`
 * writes. Nothing is delivered unless the whole re-export succeeded.
 * Returns 0, or -1 with err filled: FW_STORE_INVALID (not an eval-format
 * version, a version below 1, or fn refused a line), FW_STORE_NOT_FOUND,
 * FW_STORE_MISMATCH (the re-export differs from what was recorded),
 * FW_STORE_DATABASE, FW_STORE_NOMEM. Holds the version's lines in memory
 * during the call. Blocking.
 */
int fw_store_eval_cases(PGconn *conn, const char *dataset, int version, fw_store_case_fn fn,
                        void *ctx, fw_store_error *err);

/* The query an export of recorded version `version` of `dataset` streams
 * with COPY (...) TO STDOUT, as a malloc'ed string (NULL when out of
 * memory); for benchmarks that time it against the export itself. */
char *fw_xrun_stream_sql(PGconn *conn, const char *dataset, int version);

#ifdef __cplusplus
}
#endif

#endif
