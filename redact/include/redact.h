/*
 * redact — finds personal data and secrets in text and replaces each span
 * with a label that keeps its type visible: [EMAIL], [PHONE], [CARD],
 * [SECRET], [IP], or the label of an operator rule.
 *
 * This module is built both into libflywheel and as the static library
 * fw_redact (PIC, hidden symbols, no dependency on the agent), so that the
 * export CLI applies exactly the same rules. It depends only on PCRE2.
 *
 * How spans are chosen: the built-in detectors have a fixed priority order
 * (secret, card, email, IPv4, phone), then come operator regular
 * expressions in the order they were added, then the callback. A span that
 * overlaps one of higher priority is dropped, so an earlier rule wins (within
 * one rule, an earlier match wins). The built-in detectors are hand-written
 * scanners rather than regular expressions because they need checks a
 * pattern cannot express cheaply (the Luhn sum of a card number, octet
 * ranges of an address) and because they must stay fast on megabytes of
 * prompt text.
 *
 * Speed: the built-in detectors share ONE pass over the text. Every trigger
 * of every detector is at a word start (a letter or digit after a non
 * alphanumeric byte) or at one of '@' '+' '(' '-', so the pass classifies
 * 64 bytes at a time with vector instructions (AVX2 or SSE2, chosen at run
 * time; portable code elsewhere) into a bit mask of those positions and
 * visits only them; a first/second-byte filter in the same step and a
 * three-byte table test reject all but the few words a secret can start
 * with. Candidate spans are collected first and
 * the priority rule is applied afterwards by rank, each rank merged in one
 * linear walk. Scratch memory (candidates, chosen spans, PCRE2 match data)
 * belongs to the redactor and is reused, so a warm redactor allocates
 * nothing per call with fwr_find()/fwr_render(). Operator rules are
 * JIT-compiled when PCRE2 has a JIT for this machine.
 *
 * Known limits (documented trade-offs, tested): phone numbers need a leading
 * '+' or at least two separators ("555-123-4567", "(555) 123 4567"), so bare
 * digit runs such as Unix timestamps and order numbers are not phones; dotted
 * phone numbers are not detected; a four-part version number such as
 * "1.2.3.4" is reported as an IP address.
 *
 * Thread-safety: a redactor keeps scratch space and PCRE2 match data, so one
 * redactor must be used by one thread at a time. fwr_check_regex() is
 * thread-safe.
 */
#ifndef FW_REDACT_H
#define FW_REDACT_H

#include <stddef.h>

enum { FWR_EMAIL = 1, FWR_PHONE = 2, FWR_CARD = 4, FWR_SECRET = 8, FWR_IPV4 = 16, FWR_ALL = 31 };

typedef struct fwr_redactor fwr_redactor;
/* The public name of the match list handed to callbacks (flywheel.h). */
typedef struct fw_redact_match_s fwr_matches;
typedef void(fwr_cb)(void *opaque, const char *text, size_t len, fwr_matches *m);

/* Creates a redactor with the given FWR_* detectors. NULL when out of memory. */
fwr_redactor *fwr_new(unsigned detectors);
void fwr_free(fwr_redactor *r);

/* Returns 0 if pattern compiles as a PCRE2 UTF pattern, else -1 with a
 * message in err. */
int fwr_check_regex(const char *pattern, char *err, size_t size);

/* Adds an operator rule: matches become "[" + upper-cased label + "]".
 * Returns 0, or -1 with a message in err (nothing added). */
int fwr_add_regex(fwr_redactor *r, const char *label, const char *pattern, char *err, size_t size);

/* Sets the custom callback (NULL: none). */
void fwr_set_callback(fwr_redactor *r, fwr_cb *cb, void *opaque);

/* Called from a callback: adds a span. Returns 0, -1 for a span outside the
 * text, -2 when out of memory. A span that overlaps one chosen by a rule, or
 * an earlier span of the callback, is dropped (and 0 returned). */
int fwr_matches_add(fwr_matches *m, size_t offset, size_t length, const char *label);

/*
 * Finds what to replace in text[0, len) and remembers it in the redactor.
 * Returns the number of spans to replace (0: the text stays as it is) and
 * sets *out_len to the length of the redacted text; returns -1 when out of
 * memory. The text need not be NUL-terminated but should be valid UTF-8 for
 * the operator rules.
 */
int fwr_find(fwr_redactor *r, const char *text, size_t len, size_t *out_len);

/*
 * Writes the redacted form of the text given to the last fwr_find() on this
 * redactor (pass the same text and len) into out, which must hold
 * *out_len + 1 bytes; the result is NUL-terminated. Use it when fwr_find()
 * returned a positive count; the spans are kept until the next fwr_find().
 */
void fwr_render(const fwr_redactor *r, const char *text, size_t len, char *out);

/*
 * Redacts text[0, len): fwr_find() then fwr_render() into a new buffer.
 * Returns the number of spans replaced; when it is positive, *out is a new
 * NUL-terminated string (malloc, the caller frees) and *out_len its length;
 * when 0, *out is NULL and the text is unchanged. Returns -1 when out of
 * memory (*out NULL).
 */
int fwr_apply(fwr_redactor *r, const char *text, size_t len, char **out, size_t *out_len);

/*
 * The vector instructions the built-in detectors' pass uses: 2 AVX2, 1 SSE2,
 * 0 none (portable code). A limit >= 0 caps the level for the whole process
 * (for tests, which run every level; not thread-safe, call it before any
 * redactor is in use); -1 changes nothing. Returns the level now in use.
 */
int fwr_scan_level(int limit);

/* Luhn check of a string of ASCII digits (exposed for tests). */
int fwr_luhn_ok(const char *digits, size_t n);

#endif
