/*
 * `flywheel export`: labelled generations → JSONL fine-tuning, preference,
 * eval, classifier and reward datasets. This file is the command line only:
 * options, the output (a directory, or standard output), the progress bar
 * and the summary; the export itself is the store library's (fw_xrun,
 * flywheel/store.h). Ctrl-C cancels cleanly: nothing is recorded.
 */
#include "cli.h"
#include "flywheel/store.h"
#include "names.h"
#include "opts.h"
#include "redact.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void export_usage(FILE *f)
{
    fprintf(
        f,
        "usage: flywheel export --format FORMAT [selection] [options] -o DIR|-\n"
        "       flywheel export --dataset NAME --version K -o DIR|-   (re-create a recorded "
        "version)\n"
        "\n"
        "formats:\n"
        "  openai-chat          {\"messages\", \"tools\"} chat fine-tuning lines; corrections "
        "replace outputs\n"
        "  preference           {\"input\", \"preferred_output\", \"non_preferred_output\"} from "
        "corrections\n"
        "                       and pairwise choices; --style trl for {\"prompt\", \"chosen\", "
        "\"rejected\"}\n"
        "  eval                 {\"id\", \"input\", \"ideal\", \"expected\", \"labels\", "
        "\"metadata\"}\n"
        "  classifier           {\"text\", \"label\", ...} per annotated span and unannotated "
        "sentence\n"
        "  reward               {\"id\", \"messages\", \"tools\", \"score\", \"field\"} per "
        "generation\n"
        "\n"
        "selection:\n"
        "  --queue Q            labelled items of review queue Q (without it: generations, no "
        "labels)\n"
        "  --consensus RULE     all (default: agreeing or adjudicated), majority, adjudicated\n"
        "  --where PRED         label predicate, e.g. quality>=4, verdict=accept (repeatable)\n"
        "  --feedback PRED      feedback predicate, e.g. thumbs=true, rating>=4 (repeatable)\n"
        "  --since T, --until T event time range [since, until)\n"
        "  --project P, --environment E, --model M, --release R\n"
        "  --prompt-template T, --prompt-version V, --tag T (repeatable), --limit N\n"
        "\n"
        "shape:\n"
        "  --style openai|trl   preference style (default openai)\n"
        "  --feedback-corrections  preference: also pair each output with the latest correction\n"
        "                       users sent as feedback (without --queue: generations that have "
        "one)\n"
        "  --all-turns          openai-chat: train on every assistant turn (default: only the\n"
        "                       reviewed output; earlier assistant turns get weight 0)\n"
        "  --score-field F      rubric field for reward scores (default: first number, else "
        "boolean)\n"
        "  --negative-label L   classifier label of unannotated sentences (default none)\n"
        "  --max-tokens N       reject lines whose estimated tokens (text bytes / 4) exceed N\n"
        "\n"
        "splits, dedupe, redaction:\n"
        "  --split R            train/validation/test percentages adding up to 100 (default "
        "80/10/10),\n"
        "                       or fractions adding up to 1\n"
        "  --seed S             split seed (default 0)\n"
        "  --group-by G         conversation (default), user or trace: a group never straddles "
        "splits\n"
        "  --no-dedupe          keep exact duplicates (default: drop after normalising white "
        "space)\n"
        "  --redact             redact with all built-in detectors (email, phone, card, secret, "
        "ipv4)\n"
        "  --redact-detectors L comma-separated subset of the detectors\n"
        "  --redact-rule L=RE   extra rule: matches of regular expression RE become [L] "
        "(repeatable)\n"
        "\n"
        "output:\n"
        "  -o, --output DIR     write DIR/{train,validation,test}.jsonl and DIR/manifest.json;\n"
        "                       `-` writes lines to stdout\n"
        "  --zstd[=LEVEL]       compress files with zstd (default level 3): .jsonl.zst\n"
        "  --only-split S       with -o -: write only split S\n"
        "  --allow-empty        write (and record) an export whose selection matched nothing\n"
        "  --manifest FILE      with -o -: write the manifest to FILE\n"
        "  --dataset NAME       record this export as the next version of dataset NAME\n"
        "  --description TEXT   description of a new dataset\n"
        "  --version K          with --dataset: re-create recorded version K (byte-identical)\n"
        "  --progress, --no-progress   progress bar on stderr (default: when it is a terminal)\n");
}

enum {
    O_FORMAT = 256,
    O_STYLE,
    O_QUEUE,
    O_CONSENSUS,
    O_WHERE,
    O_FEEDBACK,
    O_SINCE,
    O_UNTIL,
    O_PROJECT,
    O_ENV,
    O_MODEL,
    O_RELEASE,
    O_TEMPLATE,
    O_TVERSION,
    O_TAG,
    O_LIMIT,
    O_WEIGHTS,
    O_SCORE,
    O_NEGATIVE,
    O_MAXTOK,
    O_SPLIT,
    O_SEED,
    O_GROUP,
    O_NODEDUPE,
    O_REDACT,
    O_REDACT_DET,
    O_REDACT_RULE,
    O_ZSTD,
    O_ONLY,
    O_MANIFEST,
    O_DATASET,
    O_DESC,
    O_VERSION,
    O_PROGRESS,
    O_NOPROGRESS,
    O_FBCORR,
    O_ALLTURNS,
    O_ALLOWEMPTY
};

/* Set by SIGINT and SIGTERM; the export reads it before every row. */
static volatile int cancelled;

static void on_signal(int sig)
{
    (void)sig;
    cancelled = 1;
}

static void progress(void *ctx, long long done, long long total, double seconds, int final)
{
    (void)ctx;
    double rate = seconds > 0 ? (double)done / seconds : 0;
    int width = 30, filled = total > 0 ? (int)((double)width * (double)done / (double)total) : 0;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %3d%% %lld/%lld rows %.0f rows/s%s", bar,
            total > 0 ? (int)(100.0 * (double)done / (double)total) : 100, done, total, rate,
            final ? "\n" : "");
    fflush(stderr);
}

static int push(const char **list, int *n, const char *v, const char *what)
{
    if (*n == FW_XMAX_LIST) {
        fprintf(stderr, "flywheel export: too many %s options (at most %d)\n", what, FW_XMAX_LIST);
        return -1;
    }
    list[(*n)++] = v;
    return 0;
}

static int parse_detectors(const char *text, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned bit;
    } d[] = {{"email", FWR_EMAIL},   {"phone", FWR_PHONE}, {"card", FWR_CARD},
             {"secret", FWR_SECRET}, {"ipv4", FWR_IPV4},   {"all", FWR_ALL}};
    unsigned bits = 0;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t k;
        for (k = 0; k < sizeof d / sizeof d[0]; k++)
            if (strlen(d[k].name) == n && strncmp(p, d[k].name, n) == 0)
                break;
        if (k == sizeof d / sizeof d[0])
            return -1;
        bits |= d[k].bit;
        p += n;
        if (*p == ',')
            p++;
    }
    *out = bits;
    return bits ? 0 : -1;
}

static int parse_long(const char *s, long long min, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || v < min)
        return -1;
    *out = v;
    return 0;
}

int fw_cmd_export(int argc, char **argv)
{
    fw_xopts o;
    fw_xrun_target t = {0};
    const char *format = NULL, *style = NULL, *out_dir = NULL, *manifest_path = NULL;
    int show_progress = -1;
    long long v;
    fw_cli cli = {.cmd = "export", .accepts = FW_CLI_DSN | FW_CLI_QUIET, .usage = export_usage};

    fw_xopts_init(&o);
    static const struct option opts[] = {
        {"format", required_argument, NULL, O_FORMAT},
        {"style", required_argument, NULL, O_STYLE},
        {"queue", required_argument, NULL, O_QUEUE},
        {"consensus", required_argument, NULL, O_CONSENSUS},
        {"where", required_argument, NULL, O_WHERE},
        {"feedback", required_argument, NULL, O_FEEDBACK},
        {"since", required_argument, NULL, O_SINCE},
        {"until", required_argument, NULL, O_UNTIL},
        {"project", required_argument, NULL, O_PROJECT},
        {"environment", required_argument, NULL, O_ENV},
        {"model", required_argument, NULL, O_MODEL},
        {"release", required_argument, NULL, O_RELEASE},
        {"prompt-template", required_argument, NULL, O_TEMPLATE},
        {"prompt-version", required_argument, NULL, O_TVERSION},
        {"tag", required_argument, NULL, O_TAG},
        {"limit", required_argument, NULL, O_LIMIT},
        {"weights", no_argument, NULL, O_WEIGHTS},
        {"all-turns", no_argument, NULL, O_ALLTURNS},
        {"allow-empty", no_argument, NULL, O_ALLOWEMPTY},
        {"score-field", required_argument, NULL, O_SCORE},
        {"negative-label", required_argument, NULL, O_NEGATIVE},
        {"max-tokens", required_argument, NULL, O_MAXTOK},
        {"split", required_argument, NULL, O_SPLIT},
        {"seed", required_argument, NULL, O_SEED},
        {"group-by", required_argument, NULL, O_GROUP},
        {"no-dedupe", no_argument, NULL, O_NODEDUPE},
        {"feedback-corrections", no_argument, NULL, O_FBCORR},
        {"redact", no_argument, NULL, O_REDACT},
        {"redact-detectors", required_argument, NULL, O_REDACT_DET},
        {"redact-rule", required_argument, NULL, O_REDACT_RULE},
        {"output", required_argument, NULL, 'o'},
        {"zstd", optional_argument, NULL, O_ZSTD},
        {"only-split", required_argument, NULL, O_ONLY},
        {"manifest", required_argument, NULL, O_MANIFEST},
        {"dataset", required_argument, NULL, O_DATASET},
        {"description", required_argument, NULL, O_DESC},
        {"version", required_argument, NULL, O_VERSION},
        {"progress", no_argument, NULL, O_PROGRESS},
        {"no-progress", no_argument, NULL, O_NOPROGRESS},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = fw_cli_next(&cli, argc, argv, "o:", opts)) > 0) {
        switch (c) {
        case O_FORMAT:
            format = optarg;
            break;
        case O_STYLE:
            style = optarg;
            break;
        case O_QUEUE:
            o.queue = optarg;
            break;
        case O_CONSENSUS:
            if (strcmp(optarg, "all") && strcmp(optarg, "majority") &&
                strcmp(optarg, "adjudicated")) {
                fprintf(stderr,
                        "flywheel export: invalid consensus rule \"%s\"\nhint: Use all, majority "
                        "or adjudicated.\n",
                        optarg);
                return 2;
            }
            o.consensus = optarg;
            break;
        case O_WHERE:
            if (push(o.where, &o.nwhere, optarg, "--where"))
                return 2;
            break;
        case O_FEEDBACK:
            if (push(o.feedback, &o.nfeedback, optarg, "--feedback"))
                return 2;
            break;
        case O_TAG:
            if (push(o.tags, &o.ntags, optarg, "--tag"))
                return 2;
            break;
        case O_SINCE:
            o.since = optarg;
            break;
        case O_UNTIL:
            o.until = optarg;
            break;
        case O_PROJECT:
            o.project = optarg;
            break;
        case O_ENV:
            o.environment = optarg;
            break;
        case O_MODEL:
            o.model = optarg;
            break;
        case O_RELEASE:
            o.release = optarg;
            break;
        case O_TEMPLATE:
            o.prompt_template = optarg;
            break;
        case O_TVERSION:
            o.prompt_version = optarg;
            break;
        case O_LIMIT:
            if (parse_long(optarg, 1, &v)) {
                fprintf(stderr, "flywheel export: invalid limit \"%s\"\n", optarg);
                return 2;
            }
            o.limit = v;
            break;
        case O_WEIGHTS: /* the default since weights protect from unreviewed turns */
            o.weights = 1;
            break;
        case O_ALLTURNS:
            o.weights = 0;
            break;
        case O_ALLOWEMPTY:
            t.allow_empty = 1;
            break;
        case O_SCORE:
            o.score_field = optarg;
            break;
        case O_NEGATIVE:
            o.negative_label = optarg;
            break;
        case O_MAXTOK:
            if (parse_long(optarg, 1, &v)) {
                fprintf(stderr, "flywheel export: invalid token limit \"%s\"\n", optarg);
                return 2;
            }
            o.max_tokens = (long)v;
            break;
        case O_SPLIT:
            if (fw_xsplit_parse_ratios(optarg, o.ratios)) {
                fprintf(stderr,
                        "flywheel export: invalid split \"%s\"\ndetail: A split is three "
                        "percentages that add up to 100 or three fractions that add up to 1; it "
                        "is never rescaled.\nhint: Write, e.g., 80/10/10 or 0.9,0.1,0.\n",
                        optarg);
                return 2;
            }
            break;
        case O_SEED:
            o.seed = optarg;
            break;
        case O_GROUP:
            if (strcmp(optarg, "conversation") && strcmp(optarg, "user") &&
                strcmp(optarg, "trace")) {
                fprintf(stderr,
                        "flywheel export: invalid group key \"%s\"\nhint: Use conversation, user "
                        "or trace.\n",
                        optarg);
                return 2;
            }
            o.group_by = optarg;
            break;
        case O_NODEDUPE:
            o.dedupe = 0;
            break;
        case O_FBCORR:
            o.feedback_corrections = 1;
            break;
        case O_REDACT:
            o.redact_detectors = FWR_ALL;
            break;
        case O_REDACT_DET:
            if (parse_detectors(optarg, &o.redact_detectors)) {
                fprintf(stderr,
                        "flywheel export: invalid detector list \"%s\"\nhint: Use email, phone, "
                        "card, secret, ipv4 or all, comma-separated.\n",
                        optarg);
                return 2;
            }
            break;
        case O_REDACT_RULE:
            if (push(o.redact_rules, &o.nredact_rules, optarg, "--redact-rule"))
                return 2;
            break;
        case 'o':
            out_dir = optarg;
            break;
        case O_ZSTD:
            o.zstd_level = 3;
            if (optarg) {
                if (parse_long(optarg, 1, &v) || v > 19) {
                    fprintf(stderr, "flywheel export: invalid zstd level \"%s\" (1 to 19)\n",
                            optarg);
                    return 2;
                }
                o.zstd_level = (int)v;
            }
            break;
        case O_ONLY:
            if (strcmp(optarg, "train") && strcmp(optarg, "validation") && strcmp(optarg, "test")) {
                fprintf(stderr, "flywheel export: invalid split name \"%s\"\n", optarg);
                return 2;
            }
            t.only_split = optarg;
            break;
        case O_MANIFEST:
            manifest_path = optarg;
            break;
        case O_DATASET:
            if (fw_cli_check_name("export", "dataset", optarg) != 0)
                return 2;
            t.dataset = optarg;
            break;
        case O_DESC:
            t.description = optarg;
            break;
        case O_VERSION:
            if (parse_long(optarg, 1, &v) || v > 1000000000) {
                fprintf(stderr, "flywheel export: invalid version \"%s\"\n", optarg);
                return 2;
            }
            t.version = (int)v;
            break;
        case O_PROGRESS:
            show_progress = 1;
            break;
        case O_NOPROGRESS:
            show_progress = 0;
            break;
        default:
            export_usage(stderr);
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    if (optind < argc) {
        fprintf(stderr, "flywheel export: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (!out_dir) {
        fprintf(stderr,
                "flywheel export: no output given\nhint: Pass -o DIR, or -o - for stdout.\n");
        return 2;
    }
    if (strcmp(out_dir, "-") != 0 && (t.only_split || manifest_path)) {
        fprintf(stderr,
                "flywheel export: %s applies to -o - only\ndetail: With -o DIR all three "
                "splits and manifest.json are written into DIR.\nhint: Use -o - %s, or drop "
                "the option.\n",
                t.only_split ? "--only-split" : "--manifest",
                t.only_split ? "--only-split S to write one split to standard output"
                             : "--manifest FILE to write the manifest beside standard output");
        return 2;
    }
    if (t.version > 0) {
        if (!t.dataset) {
            fprintf(stderr, "flywheel export: --version needs --dataset\n");
            return 2;
        }
    } else {
        if (!format) {
            fprintf(stderr, "flywheel export: no format given\nhint: Pass --format openai-chat, "
                            "preference, eval, classifier or reward.\n");
            return 2;
        }
        if (fw_xfmt_parse(format, style, &o.fmt)) {
            fprintf(stderr,
                    "flywheel export: invalid format \"%s\"%s%s%s\nhint: Formats are openai-chat, "
                    "preference (--style openai or trl), eval, classifier and reward.\n",
                    format, style ? " with style \"" : "", style ? style : "", style ? "\"" : "");
            return 2;
        }
    }
    PGconn *conn = fw_cli_connect("export", cli.dsn);
    if (!conn)
        return 1;
    fw_cli_out out;
    fw_store_writer *dir = NULL;
    fw_store_error err;
    fw_xrun_result res;
    if (strcmp(out_dir, "-") == 0) {
        fw_cli_out_init(&out, manifest_path);
        t.writer = &out.w;
        t.one_stream = 1;
        t.manifest = manifest_path != NULL;
    } else {
        dir = fw_store_dir_writer_new(out_dir, &err);
        if (!dir) {
            fw_cli_store_error("export", &err);
            PQfinish(conn);
            return 1;
        }
        t.writer = dir;
        t.manifest = 1;
    }
    if ((show_progress > 0 || (show_progress < 0 && isatty(STDERR_FILENO))) && !cli.quiet)
        t.progress.fn = progress;
    t.progress.cancel = &cancelled;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int rc = fw_xrun(conn, &o, &t, &res, &err) == 0 ? 0 : fw_cli_store_status(&err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if ((rc == 0 || err.code == FW_STORE_MISMATCH) && !cli.quiet) {
        char ver[32] = "";
        if (t.dataset)
            snprintf(ver, sizeof ver, "%d", res.version);
        fprintf(stderr,
                "flywheel export: %s%s%s%s%s%lld members, lines train=%llu validation=%llu "
                "test=%llu, rejected %lld\n",
                t.dataset ? "dataset \"" : "", t.dataset ? t.dataset : "",
                t.dataset ? "\" version " : "", ver, t.dataset ? ", " : "", res.members,
                (unsigned long long)res.lines[0], (unsigned long long)res.lines[1],
                (unsigned long long)res.lines[2], res.rejected);
    }
    if (rc)
        fw_cli_store_error("export", &err);
    if ((rc == 1 || rc == 130) && t.one_stream && !cli.quiet)
        fprintf(stderr, "flywheel export: the lines written to standard output are incomplete: "
                        "discard them\n");
    fw_store_dir_writer_free(dir);
    PQfinish(conn);
    return rc;
}
