/* The schema subset validator (see llm_tools_args.h).  Recursion depth is
 * bounded by the schema, not by the value: a value deeper than its schema
 * is refused at the first level the schema does not describe. */
#include "llm_tools_args.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LTA_PATH_MAX 256

static bool lta_fail(char *err, size_t err_size, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool lta_fail(char *err, size_t err_size, const char *path, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(err, err_size, "%s: %s", path, why);
    return false;
}

static const char *lta_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

static bool lta_type_ok(const char *type, const json_t *v)
{
    if (strcmp(type, "number") == 0)
        return json_is_number(v);
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(v);
    return strcmp(type, lta_type_name(v)) == 0;
}

static bool lta_check(const json_t *schema, const json_t *v, const char *path, char *err,
                      size_t err_size);

static bool lta_string(const json_t *schema, const json_t *v, const char *path, char *err,
                       size_t err_size)
{
    size_t len = json_string_length(v);
    json_t *min = json_object_get(schema, "minLength"), *max = json_object_get(schema, "maxLength");
    if (min && len < (size_t)json_integer_value(min))
        return lta_fail(err, err_size, path, "must be at least %lld bytes long",
                        (long long)json_integer_value(min));
    if (max && len > (size_t)json_integer_value(max))
        return lta_fail(err, err_size, path, "must be at most %lld bytes long (is %zu)",
                        (long long)json_integer_value(max), len);
    json_t *choices = json_object_get(schema, "enum");
    if (!choices)
        return true;
    size_t i;
    json_t *c;
    json_array_foreach(choices, i, c)
    {
        if (json_equal(c, v))
            return true;
    }
    char *list = json_dumps(choices, JSON_COMPACT);
    lta_fail(err, err_size, path, "must be one of %s", list ? list : "the listed values");
    free(list);
    return false;
}

static bool lta_number(const json_t *schema, const json_t *v, const char *path, char *err,
                       size_t err_size)
{
    double x = json_number_value(v);
    json_t *min = json_object_get(schema, "minimum"), *max = json_object_get(schema, "maximum");
    if (min && x < json_number_value(min))
        return lta_fail(err, err_size, path, "must be at least %g", json_number_value(min));
    if (max && x > json_number_value(max))
        return lta_fail(err, err_size, path, "must be at most %g", json_number_value(max));
    return true;
}

static bool lta_array(const json_t *schema, const json_t *v, const char *path, char *err,
                      size_t err_size)
{
    json_t *max = json_object_get(schema, "maxItems"), *items = json_object_get(schema, "items");
    if (max && json_array_size(v) > (size_t)json_integer_value(max))
        return lta_fail(err, err_size, path, "must have at most %lld items",
                        (long long)json_integer_value(max));
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        char sub[LTA_PATH_MAX];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (items && !lta_check(items, item, sub, err, err_size))
            return false;
    }
    return true;
}

static bool lta_required(const json_t *schema, const json_t *v, const char *path, char *err,
                         size_t err_size)
{
    size_t i;
    json_t *name;
    json_array_foreach(json_object_get(schema, "required"), i, name)
    {
        if (!json_object_get(v, json_string_value(name)))
            return lta_fail(err, err_size, path, "\"%s\" is required", json_string_value(name));
    }
    return true;
}

static bool lta_object(const json_t *schema, const json_t *v, const char *path, char *err,
                       size_t err_size)
{
    if (!lta_required(schema, v, path, err, err_size))
        return false;
    json_t *props = json_object_get(schema, "properties");
    json_t *extra = json_object_get(schema, "additionalProperties");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        char sub[LTA_PATH_MAX];
        snprintf(sub, sizeof sub, "%s.%.64s", path, key);
        json_t *ps = json_object_get(props, key);
        if (!ps && json_is_object(extra))
            ps = extra;
        if (!ps) {
            if (json_is_false(extra))
                return lta_fail(err, err_size, path, "unknown property \"%.64s\"", key);
            continue;
        }
        if (!lta_check(ps, val, sub, err, err_size))
            return false;
    }
    return true;
}

static bool lta_check(const json_t *schema, const json_t *v, const char *path, char *err,
                      size_t err_size)
{
    const char *type = json_string_value(json_object_get(schema, "type"));
    if (!type)
        return lta_fail(err, err_size, path, "schema without a type (a bug in bosun-llm)");
    if (!lta_type_ok(type, v))
        return lta_fail(err, err_size, path, "expected %s, got %s", type, lta_type_name(v));
    if (json_is_string(v))
        return lta_string(schema, v, path, err, err_size);
    if (json_is_number(v))
        return lta_number(schema, v, path, err, err_size);
    if (json_is_array(v))
        return lta_array(schema, v, path, err, err_size);
    if (json_is_object(v))
        return lta_object(schema, v, path, err, err_size);
    return true;
}

bool lta_validate(const json_t *schema, const json_t *value, const char *prefix, char *err,
                  size_t err_size)
{
    if (!value)
        return lta_fail(err, err_size, prefix, "missing");
    return lta_check(schema, value, prefix, err, err_size);
}
