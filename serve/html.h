/*
 * The one HTML escaper of the web server. Every value that is not a literal
 * of the page goes through sv_esc(): element text and double-quoted
 * attribute values only (never inside <script>, <style>, on* attributes,
 * unquoted attributes or URLs; URLs are built from validated ids and
 * sv_urlenc()). Model output is text, never markup: it is escaped like
 * everything else, so a link in it is not live and a tag in it is shown.
 *
 * Before escaping, the text is repaired: an invalid UTF-8 sequence becomes
 * U+FFFD, NUL and other C0 controls except tab, newline and carriage return
 * become U+FFFD, and the bidirectional controls U+202A..U+202E and
 * U+2066..U+2069 (which can make text read differently from what it is)
 * are shown as "[U+202E]" instead of acting.
 */
#ifndef FW_SERVE_HTML_H
#define FW_SERVE_HTML_H

#include "buf.h"

#include <stddef.h>

/* Appends `s` (n bytes, any content) escaped: & < > " ' become &amp; &lt;
 * &gt; &quot; &#39;. */
void sv_esc_n(sv_buf *b, const char *s, size_t n);

/* sv_esc_n of a NUL-terminated string; NULL appends nothing. */
void sv_esc(sv_buf *b, const char *s);

/* Percent-encodes `s` for a URL query value or path segment: everything but
 * A-Z a-z 0-9 - . _ ~ becomes %XX. */
void sv_urlenc(sv_buf *b, const char *s);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes at s
 * (n of them available) are not one (fw_utf8_seq: overlong forms,
 * surrogates and values above U+10FFFF are invalid); the code point in *cp. */
size_t sv_utf8_seq(const unsigned char *s, size_t n, unsigned *cp);

/* 1 when all n bytes are valid UTF-8 without NUL, else 0. */
int sv_utf8_valid(const char *s, size_t n);

#endif
