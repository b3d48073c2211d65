/* mcp — the JSON Schema subset of the tools' inputSchema, and redaction.
 *
 * The tools publish their argument schemas to clients and this file checks
 * arguments against the very same text, so what a client is told and what
 * the server enforces cannot drift apart.  Supported keywords: type (a name
 * or a list), enum, properties, required, additionalProperties (false),
 * items, minItems, maxItems, minLength, maxLength (in characters, as JSON
 * Schema counts), pattern (POSIX extended syntax, which the patterns used
 * here share with ECMA-262), minimum, maximum.  Anything else is
 * documentation only. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp.h"

size_t mcp_utf8_length(const char *s, size_t bytes)
{
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

void mcp_utf8_trim(char *s)
{
    size_t end = strlen(s), start = end, cont = 0;
    while (start > 0 && cont < 3 && ((unsigned char)s[start - 1] & 0xc0) == 0x80) {
        start--;
        cont++;
    }
    if (start == 0)
        return;
    unsigned char lead = (unsigned char)s[start - 1];
    size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (lead >= 0xc0 && cont + 1 < need)
        s[start - 1] = '\0';
}

/* ------------------------------------------------------------ types */

static bool mcp_integral(double x)
{
    return x > -9e15 && x < 9e15 && x == (double)(long long)x;
}

static bool mcp_has_type(const json_t *v, const char *type)
{
    if (strcmp(type, "object") == 0)
        return json_is_object(v);
    if (strcmp(type, "array") == 0)
        return json_is_array(v);
    if (strcmp(type, "string") == 0)
        return json_is_string(v);
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(v);
    if (strcmp(type, "null") == 0)
        return json_is_null(v);
    if (strcmp(type, "number") == 0)
        return json_is_number(v);
    if (strcmp(type, "integer") == 0) /* 2.0 is an integer to JSON Schema */
        return json_is_integer(v) || (json_is_real(v) && mcp_integral(json_real_value(v)));
    return false;
}

static const char *mcp_article(const char *type)
{
    return strchr("aeiou", type[0]) ? "an" : "a";
}

static bool mcp_check_type(const json_t *schema, const json_t *v, const char *name, char *err,
                           size_t size)
{
    const json_t *type = json_object_get(schema, "type");
    if (json_is_string(type)) {
        const char *t = json_string_value(type);
        if (mcp_has_type(v, t))
            return true;
        snprintf(err, size, "'%s' must be %s %s", name, mcp_article(t), t);
        return false;
    }
    if (!json_is_array(type))
        return true;
    for (size_t i = 0; i < json_array_size(type); i++) {
        const char *t = json_string_value(json_array_get(type, i));
        if (t && mcp_has_type(v, t))
            return true;
    }
    snprintf(err, size, "'%s' has the wrong type", name);
    return false;
}

static bool mcp_check_enum(const json_t *schema, const json_t *v, const char *name, char *err,
                           size_t size)
{
    const json_t *values = json_object_get(schema, "enum");
    if (!json_is_array(values))
        return true;
    for (size_t i = 0; i < json_array_size(values); i++)
        if (json_equal(json_array_get(values, i), (json_t *)v))
            return true;
    snprintf(err, size, "'%s' is not one of the allowed values", name);
    return false;
}

/* ------------------------------------------------------------ strings, numbers */

/* The tools' patterns, compiled once: compiling one costs far more than
 * matching it, and every log_event or add_artifact call checks one. */
#define MCP_PATTERNS_MAX 16
static struct {
    char *source;
    regex_t re;
} mcp_patterns[MCP_PATTERNS_MAX];

/* 1 when s matches pattern, 0 when not, -1 when the pattern does not
 * compile. */
static int mcp_pattern_match(const char *pattern, const char *s)
{
    size_t i = 0;
    for (; i < MCP_PATTERNS_MAX && mcp_patterns[i].source; i++)
        if (strcmp(mcp_patterns[i].source, pattern) == 0)
            return regexec(&mcp_patterns[i].re, s, 0, NULL, 0) == 0;
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return -1;
    int match = regexec(&re, s, 0, NULL, 0) == 0;
    if (i < MCP_PATTERNS_MAX && (mcp_patterns[i].source = strdup(pattern)))
        mcp_patterns[i].re = re;
    else
        regfree(&re); /* not kept: the table is full */
    return match;
}

void mcp_schema_patterns_free(void)
{
    for (size_t i = 0; i < MCP_PATTERNS_MAX && mcp_patterns[i].source; i++) {
        regfree(&mcp_patterns[i].re);
        free(mcp_patterns[i].source);
        mcp_patterns[i].source = NULL;
    }
}

static bool mcp_check_pattern(const char *pattern, const char *s, const char *name, char *err,
                              size_t size)
{
    int match = mcp_pattern_match(pattern, s);
    if (match < 0) {
        snprintf(err, size, "'%s': the server's pattern does not compile", name);
        return false;
    }
    if (match)
        return true;
    snprintf(err, size, "'%s' must match %s", name, pattern);
    return false;
}

static bool mcp_check_string(const json_t *schema, const json_t *v, const char *name, char *err,
                             size_t size)
{
    size_t bytes = json_string_length(v);
    const char *s = json_string_value(v);
    if (memchr(s, '\0', bytes)) {
        snprintf(err, size, "'%s' must not contain NUL characters", name);
        return false;
    }
    size_t chars = mcp_utf8_length(s, bytes);
    const json_t *min = json_object_get(schema, "minLength");
    const json_t *max = json_object_get(schema, "maxLength");
    if (json_is_integer(min) && chars < (size_t)json_integer_value(min)) {
        snprintf(err, size, "'%s' is too short (at least %" JSON_INTEGER_FORMAT " characters)",
                 name, json_integer_value(min));
        return false;
    }
    if (json_is_integer(max) && chars > (size_t)json_integer_value(max)) {
        snprintf(err, size, "'%s' is too long (at most %" JSON_INTEGER_FORMAT " characters)", name,
                 json_integer_value(max));
        return false;
    }
    const char *pattern = json_string_value(json_object_get(schema, "pattern"));
    return !pattern || mcp_check_pattern(pattern, s, name, err, size);
}

static bool mcp_check_number(const json_t *schema, const json_t *v, const char *name, char *err,
                             size_t size)
{
    double x = json_number_value(v);
    const json_t *min = json_object_get(schema, "minimum");
    const json_t *max = json_object_get(schema, "maximum");
    if (json_is_number(min) && x < json_number_value(min)) {
        snprintf(err, size, "'%s' must be at least %g", name, json_number_value(min));
        return false;
    }
    if (json_is_number(max) && x > json_number_value(max)) {
        snprintf(err, size, "'%s' must be at most %g", name, json_number_value(max));
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ containers */

static bool mcp_check_array(const json_t *schema, const json_t *v, const char *name, char *err,
                            size_t size)
{
    size_t n = json_array_size(v);
    const json_t *min = json_object_get(schema, "minItems");
    const json_t *max = json_object_get(schema, "maxItems");
    if (json_is_integer(min) && n < (size_t)json_integer_value(min)) {
        snprintf(err, size, "'%s' needs at least %" JSON_INTEGER_FORMAT " items", name,
                 json_integer_value(min));
        return false;
    }
    if (json_is_integer(max) && n > (size_t)json_integer_value(max)) {
        snprintf(err, size, "'%s' has more than %" JSON_INTEGER_FORMAT " items", name,
                 json_integer_value(max));
        return false;
    }
    const json_t *items = json_object_get(schema, "items");
    if (!json_is_object(items))
        return true;
    for (size_t i = 0; i < n; i++) {
        char item[160];
        snprintf(item, sizeof item, "%s[%zu]", name, i);
        mcp_utf8_trim(item);
        if (!mcp_schema_check(items, json_array_get(v, i), item, err, size))
            return false;
    }
    return true;
}

/* A property's name in messages: "name" at the top, "outer.name" below. */
static void mcp_member_name(const char *outer, const char *key, char *out, size_t size)
{
    if (outer)
        snprintf(out, size, "%s.%s", outer, key);
    else
        snprintf(out, size, "%s", key);
    mcp_utf8_trim(out);
}

static bool mcp_check_object(const json_t *schema, const json_t *v, const char *name, char *err,
                             size_t size)
{
    const json_t *props = json_object_get(schema, "properties");
    const json_t *required = json_object_get(schema, "required");
    char member[160];
    for (size_t i = 0; i < json_array_size(required); i++) {
        const char *r = json_string_value(json_array_get(required, i));
        if (r && !json_object_get(v, r)) {
            mcp_member_name(name, r, member, sizeof member);
            snprintf(err, size, "'%s' is required", member);
            return false;
        }
    }
    bool closed = json_is_false(json_object_get(schema, "additionalProperties"));
    for (void *it = json_object_iter((json_t *)v); it;
         it = json_object_iter_next((json_t *)v, it)) {
        const char *key = json_object_iter_key(it);
        json_t *value = json_object_iter_value(it);
        const json_t *sub = json_object_get(props, key);
        mcp_member_name(name, key, member, sizeof member);
        if (!sub && closed) {
            snprintf(err, size, "unknown argument '%s'", member);
            return false;
        }
        if (sub && !mcp_schema_check(sub, value, member, err, size))
            return false;
    }
    return true;
}

/* name is NULL for the arguments object itself. */
bool mcp_schema_check(const json_t *schema, const json_t *value, const char *name, char *err,
                      size_t size)
{
    const char *shown = name ? name : "arguments";
    if (!mcp_check_type(schema, value, shown, err, size) ||
        !mcp_check_enum(schema, value, shown, err, size))
        return false;
    if (json_is_string(value))
        return mcp_check_string(schema, value, shown, err, size);
    if (json_is_number(value))
        return mcp_check_number(schema, value, shown, err, size);
    if (json_is_array(value))
        return mcp_check_array(schema, value, shown, err, size);
    if (json_is_object(value))
        return mcp_check_object(schema, value, name, err, size);
    return true;
}
