/*
 * AnyValue as jansson JSON; see value.c.
 */
#ifndef FW_OTLP_VALUE_H
#define FW_OTLP_VALUE_H

#include "fw_otlp.h"

#include <jansson.h>

/* A new reference, or NULL when out of memory. */
json_t *fw_otlp_value_to_json(const fw_otlp_value *v);

/* Structured content: an array or kvlist value as JSON, or a string value
 * that parses as a JSON array or object. NULL otherwise. */
json_t *fw_otlp_value_structured(const fw_otlp_value *v);

#endif
