/* A validator for the JSON Schema subset the tools describe themselves
 * with, so the schema the model sees is the one its arguments are checked
 * against (and the tools' own config is checked the same way).
 *
 * Supported keywords: type (object, string, integer, number, boolean,
 * array), properties, required, additionalProperties (false or a schema),
 * minLength/maxLength (bytes), minimum/maximum, enum (strings), items,
 * maxItems ("description" is for the model).  Other keywords would not be
 * checked, so the tools' schemas use none. */
#ifndef BOSUN_LLM_TOOLS_ARGS_H
#define BOSUN_LLM_TOOLS_ARGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether value matches schema.  On a mismatch err says where (a dotted
 * path from prefix, e.g. "arguments.timeout") and what was expected. */
bool lta_validate(const json_t *schema, const json_t *value, const char *prefix, char *err,
                  size_t err_size);

#endif
