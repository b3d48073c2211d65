/* Compact JSON text of jansson values (see include/bosun/json.h).
 *
 * One pass into a growable buffer, no allocation besides the buffer's own
 * growth.  The text is the one json_dumps(JSON_COMPACT | JSON_ENCODE_ANY)
 * writes, so that stored events and wire messages keep their form. */
#include "config.h"

#include <inttypes.h>
#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/codec.h>
#include <bosun/json.h>

static bool buf_reserve(bosun_json_buf *b, size_t more)
{
    if (b->cap - b->len > more)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len <= more) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (!data)
        return false;
    b->data = data;
    b->cap = cap;
    return true;
}

static bool buf_put(bosun_json_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return false;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return true;
}

static bool buf_putc(bosun_json_buf *b, char c)
{
    if (!buf_reserve(b, 1))
        return false;
    b->data[b->len++] = c;
    return true;
}

static bool put_u_escape(bosun_json_buf *b, uint32_t unit)
{
    char seq[7];
    snprintf(seq, sizeof seq, "\\u%04" PRIX32, unit);
    return buf_put(b, seq, 6);
}

/* The escape of an ASCII byte that needs one, or NULL. */
static const char *short_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        return NULL;
    }
}

static bool put_code_point(bosun_json_buf *b, const unsigned char *s, size_t len, uint32_t cp,
                           unsigned flags)
{
    if (!(flags & BOSUN_JSON_ASCII))
        return buf_put(b, (const char *)s, len);
    if (cp < 0x10000)
        return put_u_escape(b, cp);
    cp -= 0x10000;
    return put_u_escape(b, 0xd800 | (cp >> 10)) && put_u_escape(b, 0xdc00 | (cp & 0x3ff));
}

static bool put_string(bosun_json_buf *b, const char *text, size_t n, unsigned flags)
{
    const unsigned char *s = (const unsigned char *)text;
    if (!buf_reserve(b, n + 2))
        return false;
    b->data[b->len++] = '"';
    size_t i = 0;
    while (i < n) {
        /* Plain ASCII goes in runs. */
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i && !buf_put(b, text + i, run - i))
            return false;
        i = run;
        if (i == n)
            break;
        if (s[i] < 0x80) {
            const char *esc = short_escape(s[i]);
            if (!(esc ? buf_put(b, esc, 2) : put_u_escape(b, s[i])))
                return false;
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = bosun_utf8_next(text + i, n - i, &cp);
        if (len == 0 || !put_code_point(b, s + i, len, cp, flags))
            return false;
        i += len;
    }
    return buf_putc(b, '"');
}

/* jansson's form of a real: "%.17g", the locale's decimal point made a
 * dot, ".0" added when the text would read back as an integer, and the
 * exponent without "+" or leading zeros. */
static bool put_real(bosun_json_buf *b, double value)
{
    char text[64];
    int n = snprintf(text, sizeof text - 3, "%.17g", value);
    if (n < 0 || (size_t)n >= sizeof text - 3)
        return false;
    size_t len = (size_t)n;
    const char *point = localeconv()->decimal_point;
    if (point && strcmp(point, ".") != 0 && *point) {
        char *at = strstr(text, point);
        size_t plen = strlen(point);
        if (at) {
            *at = '.';
            memmove(at + 1, at + plen, len - (size_t)(at - text) - plen + 1);
            len -= plen - 1;
        }
    }
    if (!strchr(text, '.') && !strchr(text, 'e')) {
        memcpy(text + len, ".0", 3);
        len += 2;
    }
    char *exp = strchr(text, 'e');
    if (exp) {
        char *start = exp + 1, *end = exp + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, len - (size_t)(end - text) + 1);
            len -= (size_t)(end - start);
        }
    }
    return buf_put(b, text, len);
}

/* Decimal digits by hand: snprintf's format parsing costs more than the
 * number itself on the small messages this writes. */
static bool put_integer(bosun_json_buf *b, json_int_t value)
{
    char text[24];
    char *end = text + sizeof text, *p = end;
    /* Negated as unsigned, so that the most negative value works too. */
    unsigned long long u = value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (value < 0)
        *--p = '-';
    return buf_put(b, p, (size_t)(end - p));
}

static bool put_value(bosun_json_buf *b, const json_t *v, unsigned flags, int depth);

static bool put_object(bosun_json_buf *b, const json_t *v, unsigned flags, int depth)
{
    if (!buf_putc(b, '{'))
        return false;
    bool first = true;
    const char *key;
    size_t key_len;
    json_t *member;
    json_object_keylen_foreach((json_t *)v, key, key_len, member)
    {
        if ((!first && !buf_putc(b, ',')) || !put_string(b, key, key_len, flags) ||
            !buf_putc(b, ':') || !put_value(b, member, flags, depth + 1))
            return false;
        first = false;
    }
    return buf_putc(b, '}');
}

static bool put_array(bosun_json_buf *b, const json_t *v, unsigned flags, int depth)
{
    if (!buf_putc(b, '['))
        return false;
    size_t n = json_array_size(v);
    for (size_t i = 0; i < n; i++) {
        if ((i > 0 && !buf_putc(b, ',')) || !put_value(b, json_array_get(v, i), flags, depth + 1))
            return false;
    }
    return buf_putc(b, ']');
}

static bool put_value(bosun_json_buf *b, const json_t *v, unsigned flags, int depth)
{
    if (!v || depth > BOSUN_JSON_DEPTH_MAX)
        return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return put_object(b, v, flags, depth);
    case JSON_ARRAY:
        return put_array(b, v, flags, depth);
    case JSON_STRING:
        return put_string(b, json_string_value(v), json_string_length(v), flags);
    case JSON_INTEGER:
        return put_integer(b, json_integer_value(v));
    case JSON_REAL:
        return put_real(b, json_real_value(v));
    case JSON_TRUE:
        return buf_put(b, "true", 4);
    case JSON_FALSE:
        return buf_put(b, "false", 5);
    case JSON_NULL:
        return buf_put(b, "null", 4);
    }
    return false;
}

/* Ends an append: NUL-terminated on success, as it was on failure. */
static int append_end(bosun_json_buf *buf, size_t start, bool ok)
{
    if (!ok || !buf_reserve(buf, 1)) {
        buf->len = start;
        if (buf->data)
            buf->data[start] = '\0';
        return -1;
    }
    buf->data[buf->len] = '\0';
    return 0;
}

int bosun_json_append(bosun_json_buf *buf, const json_t *v, unsigned flags)
{
    size_t start = buf->len;
    return append_end(buf, start, put_value(buf, v, flags, 0));
}

int bosun_json_append_string(bosun_json_buf *buf, const char *text, size_t len, unsigned flags)
{
    size_t start = buf->len;
    return append_end(buf, start, put_string(buf, text, len, flags));
}

int bosun_json_append_raw(bosun_json_buf *buf, const char *text, size_t len)
{
    if (!buf_reserve(buf, len))
        return -1;
    memcpy(buf->data + buf->len, text, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

char *bosun_json_dump(const json_t *v, unsigned flags, size_t *len)
{
    bosun_json_buf b = {0};
    if (bosun_json_append(&b, v, flags) != 0) {
        free(b.data);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.data;
}
