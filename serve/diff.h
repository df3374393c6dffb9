/*
 * Word diff for the correction preview: the reviewer's corrected text
 * against the model's original, as HTML with <del> and <ins> around the
 * words that changed (every piece escaped with sv_esc). Tokens are runs of
 * white space and runs of anything else, so spacing changes show too.
 *
 * The common prefix and suffix are cut first; the middle is compared with
 * a longest-common-subsequence table when it has at most SV_DIFF_MAX_CELLS
 * cells, else the whole middle is shown as deleted then inserted (a
 * correction that rewrites everything).
 */
#ifndef FW_SERVE_DIFF_H
#define FW_SERVE_DIFF_H

#include "buf.h"

#define SV_DIFF_MAX_CELLS (4u * 1024 * 1024)

/* Appends the diff of a → b. Returns the number of changed tokens (0 when
 * the texts are equal), or -1 when out of memory (out.oom is set). */
long sv_word_diff(sv_buf *out, const char *a, const char *b);

#endif
