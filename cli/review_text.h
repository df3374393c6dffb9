/*
 * Text layout for the terminal reviewer: UTF-8 aware word wrapping,
 * sentence segmentation with character offsets (the unit of span
 * annotations: code points, [start, end), as PostgreSQL's length() counts
 * them), and rendering of gen_ai messages (roles, text, tool calls).
 *
 * Nothing here touches the terminal: output goes to a FILE * (a memory
 * stream in the pager), so the functions are unit-tested directly.
 */
#ifndef FW_REVIEW_TEXT_H
#define FW_REVIEW_TEXT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Number of code points in a UTF-8 string (invalid bytes count as one). */
size_t fw_rt_chars(const char *s);

/* Byte offset of code point `idx` in s (strlen(s) when past the end). */
size_t fw_rt_byte_at(const char *s, size_t idx);

/*
 * Writes `text` wrapped to `width` columns (code points; wide characters are
 * not measured specially), every line prefixed by `indent`. Words longer
 * than the width are cut. Existing newlines are kept. Returns lines written.
 */
int fw_rt_wrap(FILE *out, const char *text, int width, const char *indent);

/*
 * Like fw_rt_wrap with a hanging indent: the first line starts with `first`,
 * every later one (and every later paragraph) with `rest`, and `width`
 * counts the whole line, prefix included. Trailing spaces of a line are
 * dropped. Returns lines written.
 */
int fw_rt_wrap_hanging(FILE *out, const char *text, int width, const char *first, const char *rest);

/*
 * Writes `items` joined by `sep` (" · "), as many to a line as fit in
 * `width` columns; a line breaks only between items, never inside one,
 * unless an item alone is wider than the line (then it is wrapped at word
 * boundaries). Returns lines written.
 */
int fw_rt_join_wrap(FILE *out, const char *const *items, size_t n, int width, const char *sep);

typedef struct {
    size_t start; /* code point offsets, [start, end) */
    size_t end;
} fw_rt_span;

/*
 * The sentences of text by the store's segmentation (fw_store_sentences,
 * rules FW_STORE_SENTENCES_V2 — the classifier export's), in code points.
 * Fills up to `max` spans and returns how many sentences there are (may
 * exceed max).
 */
size_t fw_rt_sentences(const char *text, fw_rt_span *spans, size_t max);

/*
 * Renders an array of gen_ai messages: a "── role ──" header per message,
 * text and reasoning parts wrapped, tool calls as name(arguments), tool
 * responses by id. When `number_sentences` is set, each text part of the
 * output is followed by its sentences numbered "s<k> [start,end)" with a
 * global counter passed through *sentence_no, for span selection.
 */
void fw_rt_render_messages(FILE *out, const json_t *messages, int width, int number_sentences,
                           int *sentence_no);

#endif
