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
 * duplicate keys kept, or with BOSUN_JSON_REJECT_DUPLICATES what
 * json_loadb(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES) takes.  The one
 * difference in what is taken: jansson overlooks a NUL byte right after a
 * number or a literal ("4\0" is 4 to it), a NUL this parser refuses like
 * any other stray byte.  (Which error a text with several is refused for
 * may differ: see parse_object.)  tests/fuzz/fuzz_json_parse
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

/* Decoded strings (those with escapes) go on a scratch stack the parser
 * owns: a key stays there while its value is parsed, and is popped once
 * set.  Nothing per string on the C stack, which a deep text could
 * otherwise exhaust in a thread with a small one. */
typedef struct parser {
    const char *start, *p, *end;
    int depth;
    bool reject_duplicates;
    bosun_json_error *err;
    char *scratch;
    size_t scratch_len, scratch_cap;
} parser;

/* A scanned string: in the input itself, or at an offset on the scratch
 * stack (an offset, since the stack may move as it grows). */
typedef struct scanned {
    const char *input;
    size_t offset, len;
} scanned;

static const char *scanned_text(const parser *ps, const scanned *str)
{
    return str->input ? str->input : ps->scratch + str->offset;
}

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

static bool scratch_reserve(parser *ps, size_t more)
{
    if (ps->scratch_cap - ps->scratch_len >= more)
        return true;
    size_t cap = ps->scratch_cap ? ps->scratch_cap : 256;
    while (cap - ps->scratch_len < more)
        cap *= 2;
    char *grown = realloc(ps->scratch, cap);
    if (!grown)
        return false;
    ps->scratch = grown;
    ps->scratch_cap = cap;
    return true;
}

/* The string whose opening quote is at ps->p.  One with escapes is decoded
 * onto the scratch stack, which the caller pops (scratch_len = offset)
 * when done with it.  Returns false on error. */
static bool scan_string(parser *ps, scanned *str)
{
    const char *s = ps->p + 1, *run = s;
    bool decoding = false;
    size_t base = ps->scratch_len;
    for (;;) {
        while (s < ps->end && (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x80 && *s != '"' &&
               *s != '\\')
            s++;
        if (s >= ps->end) {
            fail(ps, s, "premature end of input in a string");
            goto fail;
        }
        unsigned char c = (unsigned char)*s;
        if (c == '"' && !decoding) {
            *str = (scanned){.input = run, .len = (size_t)(s - run)};
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
         * far goes onto the stack first, with room for one escape (at
         * most 4 bytes decoded). */
        decoding = true;
        size_t n = (size_t)(s - run);
        if (!scratch_reserve(ps, n + 4))
            goto fail;
        memcpy(ps->scratch + ps->scratch_len, run, n);
        ps->scratch_len += n;
        if (c == '"') {
            *str = (scanned){.offset = base, .len = ps->scratch_len - base};
            ps->p = s + 1;
            return true;
        }
        s++;
        size_t k = unescape(ps, &s, ps->scratch + ps->scratch_len);
        if (k == 0)
            goto fail;
        ps->scratch_len += k;
        run = s;
    }
fail:
    ps->scratch_len = base;
    return false;
}

static json_t *parse_string(parser *ps)
{
    scanned str;
    if (!scan_string(ps, &str))
        return NULL;
    json_t *v = json_stringn_nocheck(scanned_text(ps, &str), str.len);
    if (!str.input)
        ps->scratch_len = str.offset;
    return v;
}

/* ------------------------------------------------------------ numbers */

/* Not inlined: its buffer would otherwise sit in every level of a deep
 * text's recursion. */
__attribute__((noinline)) static json_t *parse_number(parser *ps)
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
    if (!text)
        return NULL;
    memcpy(text, token, n);
    text[n] = '\0';
    errno = 0;
    char *stop;
    double d = strtod(text, &stop);
    bool overflow = errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL);
    /* Under a locale whose decimal point is not '.', strtod stops short:
     * refused rather than read wrong. */
    bool whole = stop == text + n;
    if (text != small)
        free(text);
    if (overflow || !whole) {
        fail(ps, token, overflow ? "real number overflow" : "cannot read a real number here");
        return NULL;
    }
    return json_real(d);
}

/* ------------------------------------------------------------ containers */

/* The key as the error shows it: quoted, escaped like JSON where it is not
 * printable ASCII (UTF-8 passes whole), cut at a character with "..."
 * past 64 bytes, so the message stays readable, valid UTF-8 and short. */
static void quote_key(const char *key, size_t len, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    out[o++] = '"';
    while (i < len) {
        unsigned char c = (unsigned char)key[i];
        char piece[8];
        size_t n;
        if (c >= 0x80) {
            uint32_t cp;
            n = bosun_utf8_next(key + i, len - i, &cp); /* valid: scan_string checked */
            memcpy(piece, key + i, n);
        } else if (c == '"' || c == '\\') {
            piece[0] = '\\';
            piece[1] = (char)c;
            n = 2;
        } else if (c < 0x20 || c == 0x7f) {
            n = (size_t)snprintf(piece, sizeof piece, "\\u%04x", c);
        } else {
            piece[0] = (char)c;
            n = 1;
        }
        if (o + n > 64 || o + n + 5 > cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, piece, n);
        o += n;
        i += c >= 0x80 ? n : 1;
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* Refuses the key scanned from at, found twice; returns -1. */
static int duplicate_key(parser *ps, const char *at, const scanned *key)
{
    char quoted[80];
    quote_key(scanned_text(ps, key), key->len, quoted, sizeof quoted);
    fail(ps, at, "duplicate object key %s", quoted);
    return -1;
}

/* The value after a key and its ':', or NULL on error (reported). */
static json_t *member_value(parser *ps)
{
    if (ps->p >= ps->end || *ps->p != ':') {
        fail(ps, ps->p, "':' expected");
        return NULL;
    }
    ps->p++;
    return parse_value(ps);
}

/* Duplicate keys cost nothing to find: setting a key the object has
 * replaces its value instead of adding one, so the object not growing is
 * the sign.  Unlike jansson, which looks each key up before reading its
 * value, that is after the value, so of a text with several faults the
 * one reported may differ ({"a":1,"a":{"b":1,"b":2}} names "b", not "a";
 * {"a":1,"a":tru} is an invalid token); what is refused is the same. */
static json_t *parse_object(parser *ps)
{
    json_t *object = json_object();
    if (!object)
        return NULL;
    ps->p++; /* { */
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return object;
    }
    size_t keys = 0;
    for (;;) {
        if (ps->p >= ps->end || *ps->p != '"') {
            fail(ps, ps->p, "string or '}' expected");
            goto fail;
        }
        /* No NUL can be in a key: raw ones and \u0000 are refused. */
        const char *key_at = ps->p;
        scanned key;
        if (!scan_string(ps, &key))
            goto fail;
        skip_space(ps);
        json_t *value = member_value(ps);
        int rc = value
                     ? json_object_setn_new_nocheck(object, scanned_text(ps, &key), key.len, value)
                     : -1;
        if (rc == 0 && ps->reject_duplicates && json_object_size(object) == keys)
            rc = duplicate_key(ps, key_at, &key);
        if (!key.input)
            ps->scratch_len = key.offset;
        if (rc != 0)
            goto fail;
        keys++;
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
    if (!array)
        return NULL;
    ps->p++; /* [ */
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return array;
    }
    for (;;) {
        json_t *value = parse_value(ps);
        if (!value || json_array_append_new(array, value) != 0) {
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
    /* A NULL without an error of its own is jansson or the scratch stack
     * out of memory (fail keeps the first error, so this adds nothing
     * after a real one). */
    if (!v)
        fail(ps, ps->p, "out of memory");
    ps->depth--;
    return v;
}

json_t *bosun_json_parse(const char *text, size_t len, unsigned flags, bosun_json_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    parser ps = {.start = text,
                 .p = text,
                 .end = text + len,
                 .reject_duplicates = (flags & BOSUN_JSON_REJECT_DUPLICATES) != 0,
                 .err = err};
    json_t *v = parse_value(&ps);
    free(ps.scratch);
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
