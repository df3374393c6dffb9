/*
 * Sentence segmentation, defined once: the terminal reviewer numbers the
 * sentences a reviewer marks with it, and the classifier export cuts the
 * same sentences with it, so "sentence 3" is the same text with the same
 * offsets on both sides. The rules are in flywheel/store.h.
 *
 * The scan is one pass over the bytes with a running code point count, so
 * both offset units come out without a second walk. The two legacy rule
 * sets stay byte-for-byte what they were: recorded dataset versions name
 * the rules they were cut with and must re-export identically.
 */
#include "flywheel/store.h"

#include "fw_utf8.h"

#include <string.h>

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static unsigned decode_at(const char *text, size_t len, size_t i, size_t *n)
{
    unsigned cp;
    *n = fw_utf8_decode(text, len, i, &cp);
    return cp;
}

/* 2: ends a sentence without a following space; 1: ends one before white
 * space or the end; 0: not a sentence-ending mark. */
static int end_mark(unsigned cp)
{
    switch (cp) {
    case 0x3002: /* 。 */
    case 0xFF61: /* ｡ */
    case 0xFF01: /* ！ */
    case 0xFF1F: /* ？ */
    case 0xFF0E: /* ． */
        return 2;
    case '.':
    case '!':
    case '?':
    case 0x203C:
    case 0x2047:
    case 0x2048:
    case 0x2049:
    case 0x061F:
    case 0x06D4:
    case 0x0964:
    case 0x0965:
    case 0x0589:
    case 0x1362:
        return 1;
    default:
        return 0;
    }
}

static int closer(unsigned cp)
{
    switch (cp) {
    case '"':
    case '\'':
    case ')':
    case ']':
    case '}':
    case 0x00BB:
    case 0x201D:
    case 0x2019:
    case 0x300D:
    case 0x300F:
    case 0xFF09:
    case 0x300B:
    case 0x3009:
    case 0x3011:
        return 1;
    default:
        return 0;
    }
}

/* If a run of end marks (then closers) starts at text[i] and ends a
 * sentence, returns the byte just past it, else 0. */
static size_t unicode_cut(const char *text, size_t i, size_t len)
{
    size_t j = i, n;
    int strong = 0, any = 0;
    while (j < len) {
        int m = end_mark(decode_at(text, len, j, &n));
        if (!m)
            break;
        any = 1;
        strong |= m == 2;
        j += n;
    }
    if (!any)
        return 0;
    while (j < len && closer(decode_at(text, len, j, &n)))
        j += n;
    if (strong || j == len || is_space((unsigned char)text[j]))
        return j;
    return 0;
}

/* Words whose final '.' is part of the word, never a sentence end
 * (compared without case; "e.g" and "i.e" keep their inner dots). */
static const char *const abbreviations[] = {
    "mr",  "mrs", "ms",     "dr",  "prof", "sr",  "jr",   "st",  "mt",  "vs", "e.g",
    "i.e", "cf",  "approx", "inc", "ltd",  "co",  "corp", "no",  "fig", "eq", "al",
    "vol", "p",   "pp",     "ca",  "esp",  "u.s", "a.m",  "p.m", NULL};

/* 1 when the '.' at text[dot] closes an abbreviation: the word before it
 * (back to white space or an opening bracket or quote) is in the list. */
static int abbreviation_before(const char *text, size_t line_start, size_t dot)
{
    size_t s = dot;
    while (s > line_start && !is_space((unsigned char)text[s - 1]) && text[s - 1] != '(' &&
           text[s - 1] != '[' && text[s - 1] != '"' && text[s - 1] != '\'')
        s--;
    size_t n = dot - s;
    if (n == 0 || n > 6)
        return 0;
    for (int k = 0; abbreviations[k]; k++) {
        if (strlen(abbreviations[k]) != n)
            continue;
        size_t i = 0;
        while (i < n) {
            char c = text[s + i];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c != abbreviations[k][i])
                break;
            i++;
        }
        if (i == n)
            return 1;
    }
    return 0;
}

/* Length of a list marker at the start of a line (after its indentation):
 * "- ", "* ", "+ ", "• ", "12. ", "12) ", "a) ", or 0. The marker belongs to
 * the item's sentence; its '.' never ends one. */
static size_t list_marker(const char *text, size_t i, size_t len)
{
    if (i + 1 < len && (text[i] == '-' || text[i] == '*' || text[i] == '+') && text[i + 1] == ' ')
        return 2;
    if (i + 3 < len && memcmp(text + i, "\xE2\x80\xA2", 3) == 0 && text[i + 3] == ' ')
        return 4;
    size_t j = i;
    while (j < len && j - i < 9 && text[j] >= '0' && text[j] <= '9')
        j++;
    if (j == i && j < len && text[j] >= 'a' && text[j] <= 'z' && j + 1 < len && text[j + 1] == ')')
        j++;
    if (j > i && j + 1 < len && (text[j] == '.' || text[j] == ')') && text[j + 1] == ' ')
        return j + 2 - i;
    return 0;
}

/* 1 when the line starting at text[i] opens or closes a fenced code block
 * (``` or ~~~ after at most three spaces); *fence gets its character. */
static int fence_line(const char *text, size_t i, size_t len, char *fence)
{
    size_t k = 0;
    while (k < 3 && i + k < len && text[i + k] == ' ')
        k++;
    i += k;
    if (i + 2 < len && (text[i] == '`' || text[i] == '~') && text[i + 1] == text[i] &&
        text[i + 2] == text[i]) {
        *fence = text[i];
        return 1;
    }
    return 0;
}

typedef struct {
    const char *text;
    fw_store_sentence_fn fn;
    void *ctx;
    size_t count;
    size_t cp_at, byte_at; /* a byte offset and its code point offset */
} emitter;

/* Code point offset of byte offset b (b never goes backwards). */
static size_t cp_of(emitter *e, size_t b)
{
    e->cp_at += fw_utf8_count(e->text + e->byte_at, b - e->byte_at);
    e->byte_at = b;
    return e->cp_at;
}

/* Emits [s, e) trimmed of white space, when anything is left. */
static void emit(emitter *em, size_t s, size_t e)
{
    while (s < e && is_space((unsigned char)em->text[s]))
        s++;
    while (e > s && is_space((unsigned char)em->text[e - 1]))
        e--;
    if (e <= s)
        return;
    fw_store_sentence sent;
    sent.byte_start = s;
    sent.byte_end = e;
    sent.start = cp_of(em, s);
    sent.end = cp_of(em, e);
    em->count++;
    if (em->fn)
        em->fn(em->ctx, &sent);
}

/* The current rules (FW_STORE_SENTENCES_V2); see store.h. */
static void segment_v2(emitter *em, size_t len)
{
    const char *text = em->text;
    size_t i = 0;
    while (i < len) {
        size_t eol = i;
        while (eol < len && text[eol] != '\n')
            eol++;
        char fence;
        if (fence_line(text, i, len, &fence)) {
            /* A fenced code block is one segment, fences included. */
            size_t start = i, j = eol < len ? eol + 1 : len;
            size_t end = len;
            while (j < len) {
                size_t e2 = j;
                while (e2 < len && text[e2] != '\n')
                    e2++;
                char f2;
                if (fence_line(text, j, len, &f2) && f2 == fence) {
                    end = e2;
                    break;
                }
                j = e2 < len ? e2 + 1 : len;
            }
            emit(em, start, end);
            i = end < len ? end + 1 : len;
            continue;
        }
        /* One line: sentences end at a run of end marks, never inside
         * `inline code`, after a list marker or after an abbreviation. */
        size_t s = i;
        while (s < eol && (text[s] == ' ' || text[s] == '\t'))
            s++;
        size_t k = s + list_marker(text, s, eol);
        size_t start = i;
        int in_code = 0;
        while (k < eol) {
            unsigned char c = (unsigned char)text[k];
            if (c == '`') {
                in_code = !in_code;
                k++;
                continue;
            }
            if (!in_code) {
                size_t cut = unicode_cut(text, k, eol);
                if (cut && !(text[k] == '.' && cut == k + 1 && abbreviation_before(text, i, k))) {
                    emit(em, start, cut);
                    start = k = cut;
                    continue;
                }
            }
            size_t n;
            decode_at(text, eol, k, &n);
            k += n;
        }
        emit(em, start, eol);
        i = eol < len ? eol + 1 : len;
    }
}

/* FW_STORE_SENTENCES_ASCII and _UNICODE, as recorded versions used them. */
static void segment_legacy(emitter *em, size_t len, int unicode)
{
    const char *text = em->text;
    size_t start = 0, i = 0;
    while (i <= len) {
        int end_here = 0;
        size_t cut = i, next = i + 1;
        if (i == len || text[i] == '\n') {
            end_here = 1;
        } else if (unicode) {
            size_t j = unicode_cut(text, i, len), cpn;
            if (j) {
                end_here = 1;
                cut = next = j;
            } else {
                decode_at(text, len, i, &cpn);
                next = i + cpn; /* whole code points: never land mid-sequence */
            }
        } else if ((text[i] == '.' || text[i] == '!' || text[i] == '?') &&
                   (i + 1 == len || is_space((unsigned char)text[i + 1]))) {
            end_here = 1;
            cut = i + 1;
        }
        if (end_here) {
            emit(em, start, cut);
            start = cut;
        }
        i = next;
    }
}

size_t fw_store_sentences(const char *text, size_t len, fw_store_sentence_rules rules,
                          fw_store_sentence_fn fn, void *ctx)
{
    emitter em = {text, fn, ctx, 0, 0, 0};
    if (rules == FW_STORE_SENTENCES_ASCII || rules == FW_STORE_SENTENCES_UNICODE)
        segment_legacy(&em, len, rules == FW_STORE_SENTENCES_UNICODE);
    else
        segment_v2(&em, len);
    return em.count;
}

const char *fw_store_sentence_rules_name(fw_store_sentence_rules rules)
{
    switch (rules) {
    case FW_STORE_SENTENCES_ASCII:
        return "ascii";
    case FW_STORE_SENTENCES_UNICODE:
        return "unicode";
    case FW_STORE_SENTENCES_V2:
        return "v2";
    }
    return "v2";
}

int fw_store_sentence_rules_parse(const char *name, fw_store_sentence_rules *out)
{
    if (!name || strcmp(name, "ascii") == 0)
        *out = FW_STORE_SENTENCES_ASCII; /* versions recorded before the key existed */
    else if (strcmp(name, "unicode") == 0)
        *out = FW_STORE_SENTENCES_UNICODE;
    else if (strcmp(name, "v2") == 0)
        *out = FW_STORE_SENTENCES_V2;
    else
        return -1;
    return 0;
}
