/*
 * Text layout for the terminal reviewer; see review_text.h.
 *
 * Offsets are code points because that is what the database checks span
 * annotations against (length() of a text part's content); a reviewer who
 * picks "sentence 3" gets the same [start, end) the SQL function validates,
 * and the same sentence the classifier export cuts: both come from the
 * store's one segmentation (fw_store_sentences, rules V2).
 */
#include "review_text.h"

#include "flywheel/store.h"
#include "fw_utf8.h"

#include <stdlib.h>
#include <string.h>

/* Advances over one code point of s (length len). */
static size_t u8next(const char *s, size_t len, size_t i)
{
    unsigned cp;
    return i + fw_utf8_decode(s, len, i, &cp);
}

size_t fw_rt_chars(const char *s)
{
    return fw_utf8_count(s, strlen(s));
}

size_t fw_rt_byte_at(const char *s, size_t idx)
{
    return fw_utf8_offset(s, strlen(s), idx);
}

/* Writes one wrapped paragraph (no newlines inside): the first line after
 * `first`, the others after `rest`, each line at most `width` columns
 * including its prefix (at least 10 columns for the text). */
static int wrap_para(FILE *out, const char *s, size_t len, int width, const char *first,
                     const char *rest)
{
    int lines = 0;
    size_t i = 0;
    const char *prefix = first;
    if (len == 0) {
        fprintf(out, "%s\n", first);
        return 1;
    }
    while (i < len) {
        int room = width - (int)fw_rt_chars(prefix);
        if (room < 10)
            room = 10;
        /* Find the longest prefix of at most `room` code points ending at a
         * space; cut a word that alone exceeds the room. */
        size_t j = i, last_space = 0, cols = 0;
        while (j < len && cols < (size_t)room) {
            if (s[j] == ' ')
                last_space = j;
            j = u8next(s, len, j);
            if (j > len)
                j = len;
            cols++;
        }
        size_t end = j;
        if (j < len && s[j] != ' ' && last_space > i)
            end = last_space;
        size_t shown = end;
        while (shown > i && s[shown - 1] == ' ')
            shown--;
        fprintf(out, "%s%.*s\n", prefix, (int)(shown - i), s + i);
        lines++;
        prefix = rest;
        i = end;
        while (i < len && s[i] == ' ')
            i++;
    }
    return lines;
}

int fw_rt_wrap_hanging(FILE *out, const char *text, int width, const char *first, const char *rest)
{
    int lines = 0;
    const char *p = text, *prefix = first;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lines += wrap_para(out, p, len, width, prefix, rest);
        prefix = rest;
        if (!nl)
            break;
        p = nl + 1;
    }
    return lines;
}

int fw_rt_wrap(FILE *out, const char *text, int width, const char *indent)
{
    return fw_rt_wrap_hanging(out, text, width + (int)fw_rt_chars(indent), indent, indent);
}

int fw_rt_join_wrap(FILE *out, const char *const *items, size_t n, int width, const char *sep)
{
    int lines = 0;
    size_t col = 0, seplen = fw_rt_chars(sep);
    for (size_t k = 0; k < n; k++) {
        size_t len = fw_rt_chars(items[k]);
        if (col > 0 && col + seplen + len <= (size_t)width) {
            fprintf(out, "%s%s", sep, items[k]);
            col += seplen + len;
            continue;
        }
        if (col > 0) {
            fputc('\n', out);
            lines++;
            col = 0;
        }
        if (len <= (size_t)width) {
            fputs(items[k], out);
            col = len;
        } else {
            /* An item wider than the line: wrapped on its own lines at word
             * boundaries, its continuation indented. */
            lines += fw_rt_wrap_hanging(out, items[k], width, "", "  ");
        }
    }
    if (col > 0) {
        fputc('\n', out);
        lines++;
    }
    return lines;
}

typedef struct {
    fw_rt_span *spans;
    size_t max, n;
} span_collector;

static void collect_span(void *ctx, const fw_store_sentence *sent)
{
    span_collector *c = ctx;
    if (c->n < c->max) {
        c->spans[c->n].start = sent->start;
        c->spans[c->n].end = sent->end;
    }
    c->n++;
}

size_t fw_rt_sentences(const char *text, fw_rt_span *spans, size_t max)
{
    span_collector c = {spans, max, 0};
    return fw_store_sentences(text, strlen(text), FW_STORE_SENTENCES_V2, collect_span, &c);
}

static void render_part(FILE *out, const json_t *part, int width, int number_sentences,
                        int *sentence_no, size_t msg_index, size_t part_index)
{
    const char *type = json_string_value(json_object_get(part, "type"));
    if (!type)
        type = "?";
    if (strcmp(type, "text") == 0 || strcmp(type, "reasoning") == 0) {
        const char *content = json_string_value(json_object_get(part, "content"));
        if (!content)
            content = "";
        if (strcmp(type, "reasoning") == 0)
            fprintf(out, "  (reasoning)\n");
        fw_rt_wrap(out, content, width - 2, "  ");
        if (number_sentences && strcmp(type, "text") == 0) {
            fw_rt_span sp[256];
            size_t n = fw_rt_sentences(content, sp, 256);
            if (n > 256)
                n = 256;
            fprintf(out, "  sentences of message %zu part %zu:\n", msg_index, part_index);
            for (size_t k = 0; k < n; k++) {
                size_t b0 = fw_rt_byte_at(content, sp[k].start);
                size_t b1 = fw_rt_byte_at(content, sp[k].end);
                char head[64], hang[64];
                int hl = snprintf(head, sizeof head, "    s%d [%zu,%zu) ", ++*sentence_no,
                                  sp[k].start, sp[k].end);
                if (hl < 0 || hl >= (int)sizeof hang)
                    hl = (int)sizeof hang - 1;
                memset(hang, ' ', (size_t)hl);
                hang[hl] = '\0';
                char *one = strndup(content + b0, b1 - b0);
                if (one) {
                    for (char *c = one; *c; c++)
                        if (*c == '\n')
                            *c = ' ';
                    /* The first line after the head, the rest under the
                     * sentence's first word. */
                    fw_rt_wrap_hanging(out, one, width, head, hang);
                    free(one);
                }
            }
        }
    } else if (strcmp(type, "tool_call") == 0) {
        const char *name = json_string_value(json_object_get(part, "name"));
        const char *id = json_string_value(json_object_get(part, "id"));
        char *args = json_dumps(json_object_get(part, "arguments"), JSON_COMPACT | JSON_ENCODE_ANY);
        char *line = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&line, &size);
        if (m) {
            fprintf(m, "tool call %s(%s)%s%s%s", name ? name : "?", args ? args : "",
                    id ? " [id " : "", id ? id : "", id ? "]" : "");
            fclose(m);
            fw_rt_wrap(out, line, width - 2, "  ");
            free(line);
        }
        free(args);
    } else if (strcmp(type, "tool_call_response") == 0) {
        const char *id = json_string_value(json_object_get(part, "id"));
        const json_t *resp = json_object_get(part, "response");
        char *text = json_is_string(resp) ? NULL : json_dumps(resp, JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(out, "  tool result [id %s]:\n", id ? id : "?");
        fw_rt_wrap(out, json_is_string(resp) ? json_string_value(resp) : (text ? text : ""),
                   width - 4, "    ");
        free(text);
    } else {
        char *text = json_dumps(part, JSON_COMPACT);
        fprintf(out, "  (%s part)\n", type);
        fw_rt_wrap(out, text ? text : "", width - 4, "    ");
        free(text);
    }
}

void fw_rt_render_messages(FILE *out, const json_t *messages, int width, int number_sentences,
                           int *sentence_no)
{
    size_t i;
    const json_t *msg;
    int dummy = 0;
    if (!sentence_no)
        sentence_no = &dummy;
    if (!json_is_array(messages) || json_array_size(messages) == 0) {
        fprintf(out, "  (no messages)\n");
        return;
    }
    json_array_foreach(messages, i, msg)
    {
        const char *role = json_string_value(json_object_get(msg, "role"));
        const char *name = json_string_value(json_object_get(msg, "name"));
        fprintf(out, "── %s%s%s%s ── (message %zu)\n", role ? role : "?", name ? " (" : "",
                name ? name : "", name ? ")" : "", i);
        size_t j;
        const json_t *part;
        json_array_foreach(json_object_get(msg, "parts"), j, part)
            render_part(out, part, width, number_sentences, sentence_no, i, j);
        const char *finish = json_string_value(json_object_get(msg, "finish_reason"));
        if (finish)
            fprintf(out, "  (finish: %s)\n", finish);
    }
}
