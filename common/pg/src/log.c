/*
 * logfmt logger. Lines are assembled in a stack buffer and written with a
 * single fwrite under the stdio lock so that lines from several threads never
 * interleave. A line longer than the buffer is cut and marked `truncated=1`.
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

static fw_log_level g_level = FW_LOG_INFO;
static const char *g_component = NULL;
static FILE *g_out = NULL; /* NULL means stderr */
static pthread_mutex_t g_out_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void fw_log_set_level(fw_log_level level)
{
    g_level = level;
}

fw_log_level fw_log_get_level(void)
{
    return g_level;
}

const char *fw_log_level_name(fw_log_level level)
{
    if ((int)level < 0 || level > FW_LOG_DEBUG)
        return "unknown";
    return level_names[level];
}

int fw_log_parse_level(const char *name, fw_log_level *out)
{
    for (int i = 0; i <= FW_LOG_DEBUG; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (fw_log_level)i;
            return 0;
        }
    }
    if (strcmp(name, "warning") == 0) {
        *out = FW_LOG_WARN;
        return 0;
    }
    return -1;
}

void fw_log_set_component(const char *component)
{
    g_component = component;
}

int fw_log_open(const char *path)
{
    FILE *f = NULL;
    if (path) {
        f = fopen(path, "a");
        if (!f)
            return -1;
        setvbuf(f, NULL, _IOLBF, 0);
    }
    pthread_mutex_lock(&g_out_lock);
    FILE *old = g_out;
    g_out = f;
    pthread_mutex_unlock(&g_out_lock);
    if (old)
        fclose(old);
    return 0;
}

char *fw_log_quote(char *buf, size_t size, const char *s)
{
    size_t n = 0;
    int needs = (*s == '\0');
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) {
            needs = 1;
            break;
        }
    }
    if (size == 0)
        return buf;
    if (!needs) {
        n = strlen(s);
        if (n >= size)
            n = size - 1;
        memcpy(buf, s, n);
        buf[n] = '\0';
        return buf;
    }
    if (size < 3) {
        buf[0] = '\0';
        return buf;
    }
    buf[n++] = '"';
    for (const char *p = s; *p && n + 3 < size; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c == '\n') {
            buf[n++] = '\\';
            buf[n++] = 'n';
        } else if (c < ' ' || c == 0x7f) {
            buf[n++] = '?';
        } else {
            buf[n++] = (char)c;
        }
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return buf;
}

void fw_log_write(fw_log_level level, const char *msg, const char *fmt, ...)
{
    char line[2048];
    char qmsg[512];
    struct timespec ts;
    struct tm tm;
    size_t n;
    int r;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof line, "ts=%Y-%m-%dT%H:%M:%S", &tm);
    r = snprintf(line + n, sizeof line - n, ".%03ldZ level=%s%s%s msg=%s", ts.tv_nsec / 1000000L,
                 fw_log_level_name(level), g_component ? " component=" : "",
                 g_component ? g_component : "", fw_log_quote(qmsg, sizeof qmsg, msg));
    if (r > 0)
        n += (size_t)r < sizeof line - n ? (size_t)r : sizeof line - n - 1;
    if (fmt && *fmt && n + 2 < sizeof line) {
        va_list ap;
        line[n++] = ' ';
        va_start(ap, fmt);
        r = vsnprintf(line + n, sizeof line - n, fmt, ap);
        va_end(ap);
        if (r > 0)
            n += (size_t)r < sizeof line - n ? (size_t)r : sizeof line - n - 1;
    }
    if (n >= sizeof line - 2) {
        static const char mark[] = " truncated=1";
        n = sizeof line - sizeof mark - 1;
        memcpy(line + n, mark, sizeof mark - 1);
        n += sizeof mark - 1;
    }
    line[n++] = '\n';

    int saved = errno;
    pthread_mutex_lock(&g_out_lock);
    FILE *out = g_out ? g_out : stderr;
    fwrite(line, 1, n, out);
    fflush(out);
    pthread_mutex_unlock(&g_out_lock);
    errno = saved;
}
