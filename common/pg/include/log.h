/*
 * logfmt logging for the daemons and the CLI: one line per event on stderr,
 * `ts=... level=... msg="..." key=value ...`. The level is checked before any
 * formatting (fw_log_enabled), so disabled debug lines cost one comparison.
 *
 * Never pass prompt or response content: ids, sizes and counts only.
 */
#ifndef FW_LOG_H
#define FW_LOG_H

#include <stdarg.h>
#include <stdio.h>

typedef enum {
    FW_LOG_ERROR = 0,
    FW_LOG_WARN = 1,
    FW_LOG_INFO = 2,
    FW_LOG_DEBUG = 3,
} fw_log_level;

/* Sets the threshold; lines above it are discarded. Not thread-safe against
 * concurrent logging: call before starting threads. */
void fw_log_set_level(fw_log_level level);
fw_log_level fw_log_get_level(void);

/* Parses "error", "warn", "info", "debug". Returns 0 on success, -1 if the
 * name is unknown (nothing is modified). */
int fw_log_parse_level(const char *name, fw_log_level *out);
const char *fw_log_level_name(fw_log_level level);

/* Sets the component name printed as `component=`. Not copied: pass a
 * string literal. */
void fw_log_set_component(const char *component);

/* Redirects logs to a file (appended) instead of stderr; NULL returns to
 * stderr. Reopens the file when called again with the same path (SIGHUP).
 * Returns 0 or -1 with errno set, in which case logging stays where it was. */
int fw_log_open(const char *path);

#define fw_log_enabled(level) ((level) <= fw_log_get_level())

/*
 * Writes one line. `msg` is the primary message (lower case, no trailing
 * period); `fmt` is a printf format for the key=value pairs that follow it,
 * or NULL. Use fw_log_quote() for values that may contain spaces. Thread-safe:
 * each line is written with one call.
 */
void fw_log_write(fw_log_level level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define fw_log(level, msg, ...)                                                                    \
    do {                                                                                           \
        if (fw_log_enabled(level))                                                                 \
            fw_log_write(level, msg, __VA_ARGS__);                                                 \
    } while (0)
#define fw_log_error(msg, ...) fw_log(FW_LOG_ERROR, msg, __VA_ARGS__)
#define fw_log_warn(msg, ...)  fw_log(FW_LOG_WARN, msg, __VA_ARGS__)
#define fw_log_info(msg, ...)  fw_log(FW_LOG_INFO, msg, __VA_ARGS__)
#define fw_log_debug(msg, ...) fw_log(FW_LOG_DEBUG, msg, __VA_ARGS__)

/*
 * Writes `s` as a logfmt value into buf: bare if it has no space, quote,
 * equals sign or control character, else double-quoted with escapes. Always
 * NUL-terminates; truncates to fit. Returns buf.
 */
char *fw_log_quote(char *buf, size_t size, const char *s);

#endif
