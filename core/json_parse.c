/* JSON text to jansson values, fast (see include/bosun/json.h).
 *
 * jansson's own parser reads through a stream abstraction one character at
 * a time, saving each into a buffer; on the small messages of every MCP
 * call that is most of the cost of taking one in.  This one works on the
 * buffer in place: one pass, strings without escapes copied once, numbers
 * converted from the text where it lies.  What it accepts and what it
 * builds are jansson's json_loadb(JSON_DECODE_ANY): RFC 8259 JSON in
 * UTF-8, no \u0000 in strings, integers that fit json_int_t (else an
 * error, like reals that overflow), 2048 levels at most, the last of
 * duplicate keys kept.  The one difference: jansson overlooks a NUL byte
 * right after a number or a literal ("4\0" is 4 to it), a NUL this
 * parser refuses like any other stray byte.  tests/fuzz/fuzz_json_parse
 * checks all that against jansson on arbitrary input. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/codec.h>
#include <bosun/json.h>

typedef struct parser {
    const char *start, *p, *end;
    int depth;
    bosun_json_error *err;
} parser;

/* Strings up to this long are decoded on the stack. */
#define PARSE_STACK_STRING 256

static void fail(parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(parser *ps, const char *at, const char *fmt, ...)
{
    if (!ps->err || ps->err->text[0])
        return; /* the first error is the one that counts */
    bosun_json_error *e = ps->err;
    e->position = (size_t)(at - ps->start);
    /* Line and column in characters, as an editor shows them. */
    e->line = 1;
    e->column = 1;
    for (const char *q = ps->start; q < at; q++) {
        if (*q == '\n') {
            e->line++;
            e->column = 1;
        } else if (((unsigned char)*q & 0xc0) != 0x80) {
            e->column++;
        }
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
}

static void skip_space(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static json_t *parse_value(parser *ps);

/* ------------------------------------------------------------ strings */

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* One escape after the backslash at *pp, written to out; its length, or
 * 0 on error (reported). */
static size_t unescape(parser *ps, const char **pp, char *out)
{
    const char *s = *pp, *esc = s - 1;
    if (s >= ps->end) {
        fail(ps, s, "premature end of input");
        return 0;
    }
    char c = *s++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = c ? strchr(from, c) : NULL;
    if (k) {
        *pp = s;
        out[0] = to[k - from];
        return 1;
    }
    int cp;
    if (c != 'u' || ps->end - s < 4 || (cp = hex4(s)) < 0) {
        fail(ps, esc, "invalid escape");
        return 0;
    }
    s += 4;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        int low;
        if (ps->end - s < 6 || s[0] != '\\' || s[1] != 'u' || (low = hex4(s + 2)) < 0 ||
            low < 0xdc00 || low > 0xdfff) {
            fail(ps, esc, "invalid Unicode escape (a lone high surrogate)");
            return 0;
        }
        s += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        fail(ps, esc, "invalid Unicode escape (a lone low surrogate)");
        return 0;
    } else if (cp == 0) {
        fail(ps, esc, "\\u0000 is not allowed in a string");
        return 0;
    }
    *pp = s;
    return utf8_encode((uint32_t)cp, out);
}

/* The string whose opening quote is at ps->p: its decoded bytes in *text
 * (in the input itself when it has no escapes, else in buf or, when long,
 * in *heap, which the caller frees).  Returns false on error. */
static bool scan_string(parser *ps, const char **text, size_t *len, char *buf, char **heap)
{
    const char *s = ps->p + 1, *run = s;
    char *out = NULL;
    size_t n = 0;
    *heap = NULL;
    for (;;) {
        while (s < ps->end && (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x80 && *s != '"' &&
               *s != '\\')
            s++;
        if (s >= ps->end) {
            fail(ps, s, "premature end of input in a string");
            goto fail;
        }
        unsigned char c = (unsigned char)*s;
        if (c == '"' && !out) {
            *text = run;
            *len = (size_t)(s - run);
            ps->p = s + 1;
            return true;
        }
        if (c >= 0x80) {
            uint32_t cp;
            size_t k = bosun_utf8_next(s, (size_t)(ps->end - s), &cp);
            if (k == 0) {
                fail(ps, s, "invalid UTF-8 byte 0x%x", c);
                goto fail;
            }
            s += k;
            continue;
        }
        if (c < 0x20) {
            fail(ps, s, c == '\n' ? "unexpected newline in a string" : "control character 0x%x", c);
            goto fail;
        }
        /* A quote that ends an escaped string, or a backslash: the text so
         * far goes to the output first.  Decoded text is never longer than
         * its source. */
        if (!out) {
            size_t most = (size_t)(ps->end - run);
            out = most <= PARSE_STACK_STRING ? buf : (*heap = malloc(most));
            if (!out) {
                fail(ps, s, "out of memory");
                goto fail;
            }
        }
        memcpy(out + n, run, (size_t)(s - run));
        n += (size_t)(s - run);
        if (c == '"') {
            *text = out;
            *len = n;
            ps->p = s + 1;
            return true;
        }
        s++;
        size_t k = unescape(ps, &s, out + n);
        if (k == 0)
            goto fail;
        n += k;
        run = s;
    }
fail:
    free(*heap);
    *heap = NULL;
    return false;
}

static json_t *parse_string(parser *ps)
{
    const char *text;
    size_t len;
    char buf[PARSE_STACK_STRING], *heap;
    if (!scan_string(ps, &text, &len, buf, &heap))
        return NULL;
    json_t *v = json_stringn_nocheck(text, len);
    free(heap);
    if (!v)
        fail(ps, ps->p, "out of memory");
    return v;
}

/* ------------------------------------------------------------ numbers */

static json_t *parse_number(parser *ps)
{
    const char *s = ps->p, *digits;
    bool negative = s < ps->end && *s == '-';
    if (negative)
        s++;
    digits = s;
    if (s < ps->end && *s == '0') {
        s++;
        if (s < ps->end && *s >= '0' && *s <= '9') {
            fail(ps, ps->p, "invalid token (a number with a leading zero)");
            return NULL;
        }
    } else if (s < ps->end && *s >= '1' && *s <= '9') {
        while (s < ps->end && *s >= '0' && *s <= '9')
            s++;
    } else {
        fail(ps, ps->p, "invalid token");
        return NULL;
    }
    bool real = false;
    if (s < ps->end && *s == '.') {
        s++;
        if (s >= ps->end || *s < '0' || *s > '9') {
            fail(ps, ps->p, "invalid token (no digit after the decimal point)");
            return NULL;
        }
        while (s < ps->end && *s >= '0' && *s <= '9')
            s++;
        real = true;
    }
    if (s < ps->end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < ps->end && (*s == '+' || *s == '-'))
            s++;
        if (s >= ps->end || *s < '0' || *s > '9') {
            fail(ps, ps->p, "invalid token (no digit in the exponent)");
            return NULL;
        }
        while (s < ps->end && *s >= '0' && *s <= '9')
            s++;
        real = true;
    }
    const char *token = ps->p;
    ps->p = s;
    if (!real) {
        /* Accumulated negatively, so that the most negative value fits. */
        json_int_t v = 0;
        for (const char *d = digits; d < s; d++) {
            int digit = *d - '0';
            if (v < (INT64_MIN + digit) / 10) {
                fail(ps, token, negative ? "too big negative integer" : "too big integer");
                return NULL;
            }
            v = v * 10 - digit;
        }
        if (!negative) {
            if (v == INT64_MIN) {
                fail(ps, token, "too big integer");
                return NULL;
            }
            v = -v;
        }
        return json_integer(v);
    }
    /* strtod wants a terminated string: the token is copied out. */
    size_t n = (size_t)(s - token);
    char small[64], *text = n < sizeof small ? small : malloc(n + 1);
    if (!text) {
        fail(ps, token, "out of memory");
        return NULL;
    }
    memcpy(text, token, n);
    text[n] = '\0';
    errno = 0;
    double d = strtod(text, NULL);
    bool overflow = errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL);
    if (text != small)
        free(text);
    if (overflow) {
        fail(ps, token, "real number overflow");
        return NULL;
    }
    return json_real(d);
}

/* ------------------------------------------------------------ containers */

static json_t *parse_object(parser *ps)
{
    json_t *object = json_object();
    if (!object) {
        fail(ps, ps->p, "out of memory");
        return NULL;
    }
    ps->p++; /* { */
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return object;
    }
    for (;;) {
        if (ps->p >= ps->end || *ps->p != '"') {
            fail(ps, ps->p, "string or '}' expected");
            goto fail;
        }
        const char *key_at = ps->p, *key;
        size_t key_len;
        char buf[PARSE_STACK_STRING], *heap;
        if (!scan_string(ps, &key, &key_len, buf, &heap))
            goto fail;
        if (memchr(key, '\0', key_len)) {
            free(heap);
            fail(ps, key_at, "NUL byte in object key not supported");
            goto fail;
        }
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            free(heap);
            fail(ps, ps->p, "':' expected");
            goto fail;
        }
        ps->p++;
        json_t *value = parse_value(ps);
        int rc = value ? json_object_setn_new_nocheck(object, key, key_len, value) : -1;
        free(heap);
        if (rc != 0) {
            if (value)
                fail(ps, key_at, "out of memory");
            goto fail;
        }
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_space(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            return object;
        }
        fail(ps, ps->p, "'}' expected");
        goto fail;
    }
fail:
    json_decref(object);
    return NULL;
}

static json_t *parse_array(parser *ps)
{
    json_t *array = json_array();
    if (!array) {
        fail(ps, ps->p, "out of memory");
        return NULL;
    }
    ps->p++; /* [ */
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return array;
    }
    for (;;) {
        json_t *value = parse_value(ps);
        if (!value || json_array_append_new(array, value) != 0) {
            if (value)
                fail(ps, ps->p, "out of memory");
            json_decref(array);
            return NULL;
        }
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            return array;
        }
        fail(ps, ps->p, "']' expected");
        json_decref(array);
        return NULL;
    }
}

/* ------------------------------------------------------------ values */

static json_t *parse_literal(parser *ps)
{
    const char *s = ps->p;
    while (s < ps->end && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        s++;
    size_t n = (size_t)(s - ps->p);
    json_t *v = NULL;
    if (n == 4 && memcmp(ps->p, "true", 4) == 0)
        v = json_true();
    else if (n == 5 && memcmp(ps->p, "false", 5) == 0)
        v = json_false();
    else if (n == 4 && memcmp(ps->p, "null", 4) == 0)
        v = json_null();
    if (!v) {
        fail(ps, ps->p, "invalid token");
        return NULL;
    }
    ps->p = s;
    return v;
}

static json_t *parse_value(parser *ps)
{
    skip_space(ps);
    if (ps->p >= ps->end) {
        fail(ps, ps->p, "premature end of input");
        return NULL;
    }
    if (++ps->depth > BOSUN_JSON_DEPTH_MAX) {
        fail(ps, ps->p, "maximum parsing depth reached");
        return NULL;
    }
    json_t *v;
    char c = *ps->p;
    if (c == '{')
        v = parse_object(ps);
    else if (c == '[')
        v = parse_array(ps);
    else if (c == '"')
        v = parse_string(ps);
    else if (c == '-' || (c >= '0' && c <= '9'))
        v = parse_number(ps);
    else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        v = parse_literal(ps);
    else if (c == '}' || c == ']' || c == ':' || c == ',')
        fail(ps, ps->p, "unexpected token '%c'", c), v = NULL;
    else
        fail(ps, ps->p, "invalid token"), v = NULL;
    ps->depth--;
    return v;
}

json_t *bosun_json_parse(const char *text, size_t len, bosun_json_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    parser ps = {.start = text, .p = text, .end = text + len, .err = err};
    json_t *v = parse_value(&ps);
    if (!v)
        return NULL;
    skip_space(&ps);
    if (ps.p != ps.end) {
        fail(&ps, ps.p, "end of input expected");
        json_decref(v);
        return NULL;
    }
    return v;
}
