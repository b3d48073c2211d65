/* bosun — typed reading of configuration values.
 *
 * Every conversion is strict (no trailing garbage, no silent clamping) and
 * every failure names the position, the key path and the offending text, so
 * that an admin can fix the file from the message alone.  Quoting does not
 * matter here: "8080" and 8080 are the same port.
 */
#include "config.h"

#include <bosun/cfg.h>

#include "cfg_int.h"
#include "util.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PATH_MAX_SHOWN 256

enum parse_result { PARSE_OK, PARSE_BAD, PARSE_RANGE, PARSE_NEGATIVE };

/* The offending text for a message: cut to a readable length, with control
 * characters replaced, since a block scalar may hold anything. */
static const char *shown(const char *v, char *buf, size_t size)
{
    size_t max = size - 4, i = 0;
    if (!v)
        v = "";
    for (; v[i] && i < max; i++)
        buf[i] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
    if (v[i]) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

/* The scalar text of node, or NULL after reporting why there is none. */
static const char *scalar_text(const cfg_node *node, cfg_diag *d)
{
    char path[PATH_MAX_SHOWN];
    if (!node) {
        cfg_error(d, NULL, "missing value");
        return NULL;
    }
    if (node->type != CFG_SCALAR) {
        cfg_error(d, node, "'%s': expected a scalar, got %s", cfg_path(node, path, sizeof path),
                  cfg_type_name(node->type));
        return NULL;
    }
    return node->value ? node->value : "";
}

static bool bad_value(const cfg_node *node, const char *what, cfg_diag *d)
{
    char path[PATH_MAX_SHOWN], text[72];
    return cfg_error(d, node, "'%s': expected %s, got '%s'", cfg_path(node, path, sizeof path),
                     what, shown(node->value, text, sizeof text));
}

/* ---------------------------------------------------------------- bool */

bool cfg_as_bool(const cfg_node *node, bool *out, cfg_diag *d)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    const char *v = scalar_text(node, d);
    if (!v)
        return false;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return bad_value(node, "a boolean (true/false/yes/no/on/off)", d);
}

/* ---------------------------------------------------------------- int */

static enum parse_result parse_int(const char *s, long long *out)
{
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return PARSE_BAD;
    /* The magnitude of LLONG_MIN is one more than LLONG_MAX. */
    unsigned long long limit = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX, v = 0;
    bool overflow = false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return PARSE_BAD;
        unsigned digit = (unsigned)(*s - '0');
        if (v > (limit - digit) / 10)
            overflow = true; /* keep scanning: "99999999999999999999x" is BAD */
        else
            v = v * 10 + digit;
    }
    if (overflow)
        return PARSE_RANGE;
    if (neg)
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    else
        *out = (long long)v;
    return PARSE_OK;
}

static bool int_out_of_range(const cfg_node *node, long long min, long long max, cfg_diag *d)
{
    char path[PATH_MAX_SHOWN], text[72];
    cfg_path(node, path, sizeof path);
    shown(node->value, text, sizeof text);
    if (min == LLONG_MIN)
        return cfg_error(d, node, "'%s': must be at most %lld, got '%s'", path, max, text);
    if (max == LLONG_MAX)
        return cfg_error(d, node, "'%s': must be at least %lld, got '%s'", path, min, text);
    return cfg_error(d, node, "'%s': must be between %lld and %lld, got '%s'", path, min, max,
                     text);
}

bool cfg_as_int(const cfg_node *node, long long min, long long max, long long *out, cfg_diag *d)
{
    const char *v = scalar_text(node, d);
    if (!v)
        return false;
    long long n;
    switch (parse_int(v, &n)) {
    case PARSE_OK:
        break;
    case PARSE_RANGE:
        return int_out_of_range(node, min, max, d);
    default:
        return bad_value(node, "an integer", d);
    }
    if (n < min || n > max)
        return int_out_of_range(node, min, max, d);
    *out = n;
    return true;
}

/* ---------------------------------------------------------------- duration */

/* "12", "1.5", ".5": digits with at most one point.  strtod() alone would
 * also take "inf", "nan", hex and exponents. */
static const char *scan_decimal(const char *s, double *out)
{
    const char *p = s;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (digits == 0)
        return NULL;
    char buf[64];
    size_t n = (size_t)(p - s);
    if (n >= sizeof buf) {
        *out = HUGE_VAL; /* more digits than any sane duration: out of range */
        return p;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return p;
}

static double duration_unit(const char **s)
{
    static const struct {
        const char *name;
        double seconds;
    } units[] = {{"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        size_t n = strlen(units[i].name);
        if (strncmp(*s, units[i].name, n) == 0) {
            *s += n;
            return units[i].seconds;
        }
    }
    return 0;
}

/* A plain number of seconds, or number-unit pairs ("1m30s"). */
static enum parse_result parse_duration(const char *s, double *out)
{
    if (*s == '-')
        return PARSE_NEGATIVE;
    double total = 0;
    bool first = true;
    while (*s) {
        double v;
        s = scan_decimal(s, &v);
        if (!s)
            return PARSE_BAD;
        const char *number_end = s;
        while (*s == ' ')
            s++;
        double unit = duration_unit(&s);
        if (unit == 0) {
            if (!first || *s || s != number_end) /* a unitless number must stand alone */
                return PARSE_BAD;
            unit = 1;
        }
        total += v * unit;
        first = false;
    }
    if (first)
        return PARSE_BAD;
    if (!isfinite(total))
        return PARSE_RANGE;
    *out = total;
    return PARSE_OK;
}

static bool duration_out_of_range(const cfg_node *node, double min, double max, cfg_diag *d)
{
    char path[PATH_MAX_SHOWN], text[72];
    cfg_path(node, path, sizeof path);
    shown(node->value, text, sizeof text);
    if (max >= DBL_MAX)
        return cfg_error(d, node, "'%s': must be at least %.15g seconds, got '%s'", path, min,
                         text);
    if (min <= 0)
        return cfg_error(d, node, "'%s': must be at most %.15g seconds, got '%s'", path, max, text);
    return cfg_error(d, node, "'%s': must be between %.15g and %.15g seconds, got '%s'", path, min,
                     max, text);
}

bool cfg_as_duration(const cfg_node *node, double min, double max, double *out, cfg_diag *d)
{
    const char *v = scalar_text(node, d);
    if (!v)
        return false;
    char path[PATH_MAX_SHOWN], text[72];
    double secs = 0;
    switch (parse_duration(v, &secs)) {
    case PARSE_OK:
        break;
    case PARSE_NEGATIVE:
        return cfg_error(d, node, "'%s': a duration cannot be negative, got '%s'",
                         cfg_path(node, path, sizeof path), shown(v, text, sizeof text));
    case PARSE_RANGE:
        return duration_out_of_range(node, min, max, d);
    default:
        return bad_value(node, "a duration (e.g. 30, 1.5s, 250ms, 5m, 2h, 1d, 1m30s)", d);
    }
    if (!(secs >= min && secs <= max))
        return duration_out_of_range(node, min, max, d);
    *out = secs;
    return true;
}

/* ---------------------------------------------------------------- size */

static enum parse_result parse_size(const char *s, unsigned long long *out)
{
    static const struct {
        const char *name;
        unsigned long long bytes;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1ULL << 10},
        {"kb", 1ULL << 10},
        {"kib", 1ULL << 10},
        {"m", 1ULL << 20},
        {"mb", 1ULL << 20},
        {"mib", 1ULL << 20},
        {"g", 1ULL << 30},
        {"gb", 1ULL << 30},
        {"gib", 1ULL << 30},
    };
    if (*s == '-')
        return PARSE_NEGATIVE;
    if (*s < '0' || *s > '9')
        return PARSE_BAD;
    unsigned long long v = 0;
    bool overflow = false;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned digit = (unsigned)(*s - '0');
        if (v > (ULLONG_MAX - digit) / 10)
            overflow = true;
        else
            v = v * 10 + digit;
    }
    bool space = *s == ' ';
    while (*s == ' ')
        s++;
    if (space && !*s)
        return PARSE_BAD; /* "10 " */
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (strcasecmp(s, units[i].name) != 0)
            continue;
        if (overflow || v > ULLONG_MAX / units[i].bytes)
            return PARSE_RANGE;
        *out = v * units[i].bytes;
        return PARSE_OK;
    }
    return PARSE_BAD;
}

static bool size_out_of_range(const cfg_node *node, unsigned long long min, unsigned long long max,
                              cfg_diag *d)
{
    char path[PATH_MAX_SHOWN], text[72];
    cfg_path(node, path, sizeof path);
    shown(node->value, text, sizeof text);
    if (max == ULLONG_MAX)
        return cfg_error(d, node, "'%s': must be at least %llu bytes, got '%s'", path, min, text);
    if (min == 0)
        return cfg_error(d, node, "'%s': must be at most %llu bytes, got '%s'", path, max, text);
    return cfg_error(d, node, "'%s': must be between %llu and %llu bytes, got '%s'", path, min, max,
                     text);
}

bool cfg_as_size(const cfg_node *node, unsigned long long min, unsigned long long max,
                 unsigned long long *out, cfg_diag *d)
{
    const char *v = scalar_text(node, d);
    if (!v)
        return false;
    unsigned long long n = 0;
    switch (parse_size(v, &n)) {
    case PARSE_OK:
        break;
    case PARSE_RANGE:
        return size_out_of_range(node, min, max, d);
    default:
        return bad_value(node, "a size (e.g. 4096, 64K, 10MiB, 1 GB)", d);
    }
    if (n < min || n > max)
        return size_out_of_range(node, min, max, d);
    *out = n;
    return true;
}

/* ---------------------------------------------------------------- getters */

/* The value under key, or NULL when absent or null: the caller's default
 * applies. */
static const cfg_node *lookup(const cfg_node *map, const char *key)
{
    const cfg_node *n = cfg_get(map, key);
    return n && n->type != CFG_NULL ? n : NULL;
}

bool cfg_get_string(const cfg_node *map, const char *key, const char *def, const char **out,
                    cfg_diag *d)
{
    *out = def;
    const cfg_node *n = lookup(map, key);
    if (!n)
        return true;
    const char *v = scalar_text(n, d);
    if (!v)
        return false;
    *out = v;
    return true;
}

bool cfg_get_bool(const cfg_node *map, const char *key, bool def, bool *out, cfg_diag *d)
{
    *out = def;
    const cfg_node *n = lookup(map, key);
    return !n || cfg_as_bool(n, out, d);
}

bool cfg_get_int(const cfg_node *map, const char *key, long long def, long long min, long long max,
                 long long *out, cfg_diag *d)
{
    *out = def;
    const cfg_node *n = lookup(map, key);
    return !n || cfg_as_int(n, min, max, out, d);
}

bool cfg_get_duration(const cfg_node *map, const char *key, double def, double min, double max,
                      double *out, cfg_diag *d)
{
    *out = def;
    const cfg_node *n = lookup(map, key);
    return !n || cfg_as_duration(n, min, max, out, d);
}

bool cfg_get_size(const cfg_node *map, const char *key, unsigned long long def,
                  unsigned long long min, unsigned long long max, unsigned long long *out,
                  cfg_diag *d)
{
    *out = def;
    const cfg_node *n = lookup(map, key);
    return !n || cfg_as_size(n, min, max, out, d);
}

static const char **strlist_of_scalar(const cfg_node *n)
{
    const char **list = xmalloc(2 * sizeof *list);
    list[0] = n->value ? n->value : "";
    list[1] = NULL;
    return list;
}

bool cfg_get_strlist(const cfg_node *map, const char *key, const char ***out, cfg_diag *d)
{
    *out = NULL;
    const cfg_node *n = lookup(map, key);
    if (!n)
        return true;
    if (n->type == CFG_SCALAR) {
        *out = strlist_of_scalar(n);
        return true;
    }
    if (n->type != CFG_SEQ) {
        char path[PATH_MAX_SHOWN];
        return cfg_error(d, n, "'%s': expected a list or a scalar, got %s",
                         cfg_path(n, path, sizeof path), cfg_type_name(n->type));
    }
    bool ok = true;
    for (size_t i = 0; i < n->n_items; i++) /* report every bad item, not only the first */
        if (!scalar_text(n->items[i], d))
            ok = false;
    if (!ok)
        return false;
    const char **list = xmalloc((n->n_items + 1) * sizeof *list);
    for (size_t i = 0; i < n->n_items; i++)
        list[i] = n->items[i]->value;
    list[n->n_items] = NULL;
    *out = list;
    return true;
}
