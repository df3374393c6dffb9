/*
 * A focused JSON Schema validator for the scorers (draft 2020-12 subset).
 *
 * Supported keywords: type (a name or a list; "integer" is any number with
 * no fractional part), properties, required, additionalProperties (boolean
 * or schema), items (one schema for every element), minItems, maxItems,
 * enum, const (numbers compare by value: 1 equals 1.0), minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum (numbers), minLength, maxLength (in
 * Unicode code points), pattern (PCRE2, unanchored search, as the
 * specification says). Boolean schemas (true, false) are supported.
 * Annotations are accepted and ignored: $schema, $id, $comment, title,
 * description, default, examples, deprecated, readOnly, writeOnly.
 *
 * Any other keyword ($ref, allOf, anyOf, oneOf, not, if/then/else,
 * prefixItems, patternProperties, format, ...) is refused by
 * fw_jschema_check, so a schema is never silently half-applied: the scorer
 * configuration that names it fails to load.
 */
#ifndef FW_EVAL_JSCHEMA_H
#define FW_EVAL_JSCHEMA_H

#include <jansson.h>
#include <stddef.h>

/*
 * Checks that `schema` is a schema this validator understands completely:
 * every keyword supported, every value of the right type, every pattern a
 * valid regular expression. Returns 0, or -1 with the reason (and the
 * schema path) in err.
 */
int fw_jschema_check(const json_t *schema, char *err, size_t errsize);

/*
 * Validates `instance` against a schema that passed fw_jschema_check.
 * Returns 1 when valid; 0 when not, with the first violation and its
 * instance path (JSON pointer) in err; -1 when out of memory.
 */
int fw_jschema_validate(const json_t *schema, const json_t *instance, char *err, size_t errsize);

/* JSON equality with numbers compared by value (1 == 1.0). */
int fw_json_equal_num(const json_t *a, const json_t *b);

#endif
