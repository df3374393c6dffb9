/*
 * flywheel-devbroker: a Kafka-protocol cluster for development and tests.
 *
 * It is librdkafka's mock cluster (rdkafka_mock.h) in a process of its own:
 * N brokers listening on loopback, a topic created up front, consumer groups
 * and offset commits working, reachable by any Kafka client over TCP. It keeps
 * every message in memory and ignores TLS and SASL: it is for development and
 * tests only, never for data you want to keep.
 *
 * It prints one line `bootstrap.servers=HOST:PORT,...` on stdout (and, with
 * --bootstrap-file, writes it to that file atomically), then runs until
 * SIGTERM or SIGINT. SIGUSR1 takes every broker down and SIGUSR2 brings them
 * back up, so that scripts can rehearse an outage of the whole cluster.
 *
 * For fault tests, --inject-file PATH makes it look for PATH every 50 ms;
 * each line of it, `REQUEST COUNT ERROR` (say `Produce 1
 * OUT_OF_ORDER_SEQUENCE_NUMBER`), makes the cluster answer the next COUNT
 * requests of that type with that error (rd_kafka_mock_push_request_errors).
 * The file is then renamed PATH.done, or PATH.failed when a line is wrong, so
 * a script knows when the errors are armed. Write PATH atomically (rename).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop = 0;
static volatile sig_atomic_t g_down = 0;
static volatile sig_atomic_t g_up = 0;

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void on_usr(int sig)
{
    if (sig == SIGUSR1)
        g_down = 1;
    else
        g_up = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: flywheel-devbroker [options]\n"
               "\n"
               "Runs an in-memory Kafka-protocol cluster (librdkafka's mock cluster) on\n"
               "loopback for development and tests. Data is lost when it exits.\n"
               "\n"
               "options:\n"
               "  --brokers N            number of brokers (default 3)\n"
               "  --topic NAME           topic to create (default flywheel.events); repeatable\n"
               "  --partitions N         partitions per topic (default 8)\n"
               "  --replication N        replication factor (default: min(3, brokers))\n"
               "  --bootstrap-file PATH  also write the bootstrap.servers line to PATH\n"
               "  --inject-file PATH     arm request errors listed in PATH (lines: REQUEST\n"
               "                         COUNT ERROR, e.g. Produce 1 NOT_LEADER_FOR_PARTITION),\n"
               "                         then rename it PATH.done (PATH.failed if invalid)\n"
               "  -h, --help             show this help\n"
               "\n"
               "signals: TERM/INT stop; USR1 takes all brokers down; USR2 brings them up\n");
}

static int parse_int(const char *s, const char *what, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "flywheel-devbroker: invalid %s \"%s\": expected %d..%d\n", what, s, lo,
                hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int write_file_atomic(const char *path, const char *line)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    if (fprintf(f, "%s\n", line) < 0 || fclose(f) != 0) {
        unlink(tmp);
        return -1;
    }
    return rename(tmp, path);
}

/* The request types --inject-file knows, by Kafka API key. */
static const struct {
    const char *name;
    int16_t key;
} API_KEYS[] = {
    {"Produce", 0},      {"Fetch", 1},       {"ListOffsets", 2},      {"Metadata", 3},
    {"OffsetCommit", 8}, {"OffsetFetch", 9}, {"FindCoordinator", 10}, {"JoinGroup", 11},
    {"Heartbeat", 12},   {"LeaveGroup", 13}, {"SyncGroup", 14},       {"InitProducerId", 22},
};

/* One line of an inject file; 0, or -1 with a message on stderr. */
static int inject_line(rd_kafka_mock_cluster_t *mc, const char *line, int lineno)
{
    char api[64], errname[128];
    int count;
    if (sscanf(line, "%63s %d %127s", api, &count, errname) != 3 || count < 1 || count > 1000) {
        fprintf(stderr, "flywheel-devbroker: inject line %d: expected REQUEST COUNT ERROR\n",
                lineno);
        return -1;
    }
    int16_t key = -1;
    for (size_t i = 0; i < sizeof API_KEYS / sizeof API_KEYS[0]; i++)
        if (strcmp(API_KEYS[i].name, api) == 0)
            key = API_KEYS[i].key;
    if (key < 0) {
        fprintf(stderr, "flywheel-devbroker: inject line %d: unknown request \"%s\"\n", lineno,
                api);
        return -1;
    }
    const struct rd_kafka_err_desc *descs;
    size_t n;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++) {
        if (!descs[i].name || strcmp(descs[i].name, errname) != 0)
            continue;
        rd_kafka_resp_err_t errs[1000];
        for (int k = 0; k < count; k++)
            errs[k] = descs[i].code;
        rd_kafka_mock_push_request_errors_array(mc, key, (size_t)count, errs);
        fprintf(stderr, "flywheel-devbroker: the next %d %s request(s) fail with %s\n", count, api,
                errname);
        return 0;
    }
    fprintf(stderr, "flywheel-devbroker: inject line %d: unknown error \"%s\"\n", lineno, errname);
    return -1;
}

/* Applies PATH if it exists, then renames it PATH.done or PATH.failed. */
static void inject(rd_kafka_mock_cluster_t *mc, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512], to[4096];
    int lineno = 0, bad = 0;
    while (!bad && fgets(line, sizeof line, f)) {
        lineno++;
        if (line[strspn(line, " \t\r\n")] != '\0')
            bad = inject_line(mc, line, lineno) != 0;
    }
    fclose(f);
    snprintf(to, sizeof to, "%s.%s", path, bad ? "failed" : "done");
    if (rename(path, to) != 0) {
        fprintf(stderr, "flywheel-devbroker: could not rename \"%s\": %s\n", path, strerror(errno));
        unlink(path);
    }
}

static void set_all_brokers(rd_kafka_mock_cluster_t *mc, int brokers, int up)
{
    for (int b = 1; b <= brokers; b++) {
        rd_kafka_resp_err_t err =
            up ? rd_kafka_mock_broker_set_up(mc, b) : rd_kafka_mock_broker_set_down(mc, b);
        if (err)
            fprintf(stderr, "flywheel-devbroker: could not set broker %d %s: %s\n", b,
                    up ? "up" : "down", rd_kafka_err2str(err));
    }
    fprintf(stderr, "flywheel-devbroker: all %d brokers %s\n", brokers, up ? "up" : "down");
}

int main(int argc, char **argv)
{
    int brokers = 3, partitions = 8, replication = -1;
    const char *topics[32];
    int ntopics = 0;
    const char *bootstrap_file = NULL, *inject_file = NULL;
    char errstr[512];
    int rc = 1;

    static const struct option opts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"partitions", required_argument, NULL, 'p'},
        {"replication", required_argument, NULL, 'r'},
        {"bootstrap-file", required_argument, NULL, 'f'},
        {"inject-file", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (parse_int(optarg, "broker count", 1, 16, &brokers))
                return 2;
            break;
        case 'p':
            if (parse_int(optarg, "partition count", 1, 1024, &partitions))
                return 2;
            break;
        case 'r':
            if (parse_int(optarg, "replication factor", 1, 16, &replication))
                return 2;
            break;
        case 't':
            if (ntopics == (int)(sizeof topics / sizeof topics[0])) {
                fprintf(stderr, "flywheel-devbroker: too many topics\n");
                return 2;
            }
            topics[ntopics++] = optarg;
            break;
        case 'f':
            bootstrap_file = optarg;
            break;
        case 'i':
            inject_file = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "flywheel-devbroker: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (ntopics == 0)
        topics[ntopics++] = "flywheel.events";
    if (replication < 0)
        replication = brokers < 3 ? brokers : 3;
    if (replication > brokers) {
        fprintf(stderr, "flywheel-devbroker: replication factor %d exceeds broker count %d\n",
                replication, brokers);
        return 2;
    }

    /* The mock cluster needs a client handle to live in; a producer that
     * never produces does. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "flywheel-devbroker: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "flywheel-devbroker: could not create client: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "flywheel-devbroker: could not create mock cluster\n");
        goto out;
    }
    for (int i = 0; i < ntopics; i++) {
        rd_kafka_resp_err_t err =
            rd_kafka_mock_topic_create(mc, topics[i], partitions, replication);
        if (err) {
            fprintf(stderr, "flywheel-devbroker: could not create topic \"%s\": %s\n", topics[i],
                    rd_kafka_err2str(err));
            goto out;
        }
    }

    const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
    char line[1024];
    snprintf(line, sizeof line, "bootstrap.servers=%s", bs);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_usr;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    printf("%s\n", line);
    fflush(stdout);
    if (bootstrap_file && write_file_atomic(bootstrap_file, line) != 0) {
        fprintf(stderr, "flywheel-devbroker: could not write \"%s\": %s\n", bootstrap_file,
                strerror(errno));
        goto out;
    }
    fprintf(stderr,
            "flywheel-devbroker: %d brokers, %d topic(s) with %d partitions; in memory, for "
            "development and tests only\n",
            brokers, ntopics, partitions);

    while (!g_stop) {
        if (g_down) {
            g_down = 0;
            set_all_brokers(mc, brokers, 0);
        }
        if (g_up) {
            g_up = 0;
            set_all_brokers(mc, brokers, 1);
        }
        if (inject_file)
            inject(mc, inject_file);
        usleep(50 * 1000);
    }
    fprintf(stderr, "flywheel-devbroker: stopping\n");
    rc = 0;

out:
    if (bootstrap_file && rc == 0)
        unlink(bootstrap_file);
    if (mc)
        rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return rc;
}
