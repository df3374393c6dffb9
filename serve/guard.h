/*
 * Request guards of the web server, as pure functions so that their
 * decision tables are unit-tested:
 *
 *  - sv_origin_check: the cross-origin check every POST passes before
 *    anything else (Go's CrossOriginProtection rule). Sec-Fetch-Site, sent
 *    by every current browser, decides when present: same-origin or none
 *    (typed URL, bookmark) pass, same-site and cross-site are refused.
 *    Without it, an Origin header must be the server's public origin ("null"
 *    is refused). With neither (curl, old browsers) the request passes this
 *    check and still needs the session's CSRF token.
 *  - sv_ct_equal: constant-time comparison for CSRF tokens.
 *  - sv_session_verdict: idle and absolute expiry of a session.
 *  - tokens: 256-bit random values from getrandom(2) as 43 base64url
 *    characters, and their SHA-256 in hex (what the database keeps).
 */
#ifndef FW_SERVE_GUARD_H
#define FW_SERVE_GUARD_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    SV_ORIGIN_OK = 0,
    SV_ORIGIN_CROSS_SITE, /* Sec-Fetch-Site is same-site or cross-site (or unknown) */
    SV_ORIGIN_MISMATCH,   /* Origin is not the public origin */
} sv_origin_verdict;

/* sec_fetch_site and origin are the request's headers (NULL when absent);
 * expected is the public origin, "scheme://host[:port]" without a slash. */
sv_origin_verdict sv_origin_check(const char *sec_fetch_site, const char *origin,
                                  const char *expected);
const char *sv_origin_verdict_name(sv_origin_verdict v);

/* 1 when a and b are equal, comparing in time that depends only on the
 * lengths; NULL never equals anything. */
int sv_ct_equal(const char *a, const char *b);

typedef enum {
    SV_SESSION_VALID = 0,
    SV_SESSION_IDLE,     /* unused for longer than the idle timeout */
    SV_SESSION_ABSOLUTE, /* older than the absolute timeout */
} sv_session_verdict;

/* Times in seconds since the epoch. A session is valid while
 * now - last_seen < idle and now - created < absolute. */
sv_session_verdict sv_session_check(double now, double created, double last_seen, double idle,
                                    double absolute);

#define SV_TOKEN_LEN 43 /* base64url of 32 bytes, no padding */

/* Writes a new random token (SV_TOKEN_LEN characters and a NUL) into out.
 * Returns 0, or -1 when the kernel gives no randomness (errno set). */
int sv_token_new(char out[SV_TOKEN_LEN + 1]);

/* 1 when s has the shape of a token (exactly SV_TOKEN_LEN base64url
 * characters), else 0. Cookies and form values are checked with it before
 * they reach the database. */
int sv_token_shape(const char *s);

/* SHA-256 of the token's characters as 64 lower-case hex digits. */
void sv_token_hash_hex(const char *token, char out[65]);

#endif
