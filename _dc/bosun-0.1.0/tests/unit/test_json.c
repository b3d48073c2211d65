/* bosun_json_dump against jansson's own json_dumps: the same text for
 * every kind of value, escapes, reals and random trees; refusals for what
 * jansson refuses or what is too deep. */
#include "config.h"

#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include <bosun/codec.h>
#include <bosun/json.h>

/* The text both writers give for v must be the same. */
static void same_text(const json_t *v, unsigned flags)
{
    size_t jflags =
        JSON_COMPACT | JSON_ENCODE_ANY | (flags & BOSUN_JSON_ASCII ? JSON_ENSURE_ASCII : 0);
    char *want = json_dumps(v, jflags);
    assert_non_null(want);
    size_t len = 0;
    char *got = bosun_json_dump(v, flags, &len);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(want);
    free(got);
}

static void same_both(json_t *v)
{
    same_text(v, 0);
    same_text(v, BOSUN_JSON_ASCII);
    json_decref(v);
}

static void test_scalars(void **state)
{
    same_both(json_null());
    same_both(json_true());
    same_both(json_false());
    same_both(json_integer(0));
    same_both(json_integer(-42));
    same_both(json_integer(INT64_MAX));
    same_both(json_integer(INT64_MIN));
    same_both(json_string(""));
    same_both(json_object());
    same_both(json_array());
}

static void test_reals(void **state)
{
    const double reals[] = {0.0,   -0.0,     0.1,     1.0,    -1.5,    1e20,    1e21,
                            1e-5,  1e-7,     1.5e300, 5e-324, -2.5e-8, 3.0e10,  123456789.125,
                            1e100, 0.333333, 2.0e-1,  1.0e16, 1.0e17,  -1.0e22, 9007199254740993.0};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        same_both(json_real(reals[i]));
}

/* A locale with a decimal comma must not leak into the text: tried with
 * every such locale the machine has, and with "C" in any case. */
static void test_real_locale(void **state)
{
    const char *locales[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", "fr_FR", "C"};
    json_t *r = json_real(1234.25);
    for (size_t i = 0; i < sizeof locales / sizeof locales[0]; i++) {
        if (!setlocale(LC_NUMERIC, locales[i]))
            continue;
        char *got = bosun_json_dump(r, 0, NULL);
        setlocale(LC_NUMERIC, "C");
        assert_string_equal(got, "1234.25");
        free(got);
    }
    json_decref(r);
}

static void test_escapes(void **state)
{
    same_both(json_string("quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f"));
    same_both(json_string("\x01\x02\x1f\x7f end"));
    same_both(json_stringn("nul\0inside", 10));
    same_both(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xe2\x80\xa8"));
    json_t *o = json_object();
    json_object_set_new(o, "k\xc3\xa9y \"quoted\"\n", json_string("v"));
    json_object_setn_new(o, "a\0b", 3, json_integer(1));
    same_both(o);
}

/* Invalid UTF-8 that slipped in through a _nocheck string: jansson refuses
 * to write it and so does this writer, in both modes. */
static void test_invalid_utf8(void **state)
{
    const char *bad[] = {"\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "a\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *s = json_stringn_nocheck(bad[i], strlen(bad[i]));
        assert_null(json_dumps(s, JSON_ENCODE_ANY));
        assert_null(bosun_json_dump(s, 0, NULL));
        assert_null(bosun_json_dump(s, BOSUN_JSON_ASCII, NULL));
        json_decref(s);
    }
}

static void test_nested_order(void **state)
{
    const char *text = "{\"jsonrpc\":\"2.0\",\"id\":4200,\"result\":{\"content\":[{\"type\":"
                       "\"text\",\"text\":\"Status reported\"}],\"isError\":false,"
                       "\"structuredContent\":{\"zeta\":\"z\",\"alpha\":\"a\"}},"
                       "\"tail\":[[],{},[1,[2,[3]]],-1.25e-9]}";
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    char *got = bosun_json_dump(v, 0, NULL);
    /* Insertion order, not sorted: the text comes back as it was. */
    assert_string_equal(got, "{\"jsonrpc\":\"2.0\",\"id\":4200,\"result\":{\"content\":[{\"type\":"
                             "\"text\",\"text\":\"Status reported\"}],\"isError\":false,"
                             "\"structuredContent\":{\"zeta\":\"z\",\"alpha\":\"a\"}},"
                             "\"tail\":[[],{},[1,[2,[3]]],-1.25e-9]}");
    free(got);
    same_both(v);
}

/* A small deterministic generator of trees, so that any mismatch is
 * reproducible. */
static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static json_t *random_string(void)
{
    static const char *pieces[] = {
        "a",    "Z",    " ",    "\"",       "\\",           "/",
        "\n",   "\x01", "\x1f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "\x7f", "0"};
    char text[64];
    size_t n = 0, count = next() % 8;
    for (size_t i = 0; i < count; i++) {
        const char *p = pieces[next() % (sizeof pieces / sizeof pieces[0])];
        size_t len = strlen(p);
        memcpy(text + n, p, len);
        n += len;
    }
    return json_stringn(text, n);
}

static json_t *random_value(int depth)
{
    switch (next() % (depth > 4 ? 6 : 8)) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(next() & 1);
    case 2:
        return json_integer((json_int_t)(int32_t)next() * (json_int_t)next());
    case 3:
        return json_real((double)(int32_t)next() / (double)(next() | 1));
    case 4:
    case 5:
        return random_string();
    case 6: {
        json_t *a = json_array();
        for (uint32_t i = next() % 5; i > 0; i--)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (uint32_t i = next() % 5; i > 0; i--) {
            json_t *key = random_string();
            json_object_setn_new(o, json_string_value(key), json_string_length(key),
                                 random_value(depth + 1));
            json_decref(key);
        }
        return o;
    }
    }
}

static void test_random_trees(void **state)
{
    for (int i = 0; i < 2000; i++)
        same_both(random_value(0));
}

static json_t *nest(int depth)
{
    json_t *v = json_integer(1);
    for (int i = 0; i < depth; i++) {
        json_t *a = json_array();
        json_array_append_new(a, v);
        v = a;
    }
    return v;
}

static void test_depth(void **state)
{
    json_t *ok = nest(BOSUN_JSON_DEPTH_MAX);
    char *text = bosun_json_dump(ok, 0, NULL);
    assert_non_null(text);
    assert_int_equal(strlen(text), 2 * BOSUN_JSON_DEPTH_MAX + 1);
    free(text);
    json_decref(ok);
    json_t *deep = nest(BOSUN_JSON_DEPTH_MAX + 1);
    assert_null(bosun_json_dump(deep, 0, NULL));
    json_decref(deep);
    assert_null(bosun_json_dump(NULL, 0, NULL));
}

/* Appending after a failure leaves what was there. */
static void test_append(void **state)
{
    bosun_json_buf b = {0};
    json_t *one = json_pack("{s:i}", "a", 1);
    assert_int_equal(bosun_json_append(&b, one, 0), 0);
    json_t *bad = json_stringn_nocheck("\xff", 1);
    json_t *wrap = json_pack("[s,O]", "x", bad);
    assert_int_equal(bosun_json_append(&b, wrap, 0), -1);
    assert_string_equal(b.data, "{\"a\":1}");
    assert_int_equal(bosun_json_append(&b, one, 0), 0);
    assert_string_equal(b.data, "{\"a\":1}{\"a\":1}");
    assert_int_equal(b.len, 14);
    assert_int_equal(bosun_json_append_string(&b, "\xff", 1, 0), -1);
    assert_int_equal(b.len, 14);
    assert_int_equal(bosun_json_append_raw(&b, "\n", 1), 0);
    assert_string_equal(b.data, "{\"a\":1}{\"a\":1}\n");
    assert_int_equal(b.len, 15);
    b.len = 0;
    assert_int_equal(bosun_json_append_string(&b, "a\"\xc3\xa9\n", 5, 0), 0);
    assert_string_equal(b.data, "\"a\\\"\xc3\xa9\\n\"");
    b.len = 0;
    assert_int_equal(bosun_json_append_string(&b, "\xc3\xa9", 2, BOSUN_JSON_ASCII), 0);
    assert_string_equal(b.data, "\"\\u00E9\"");
    free(b.data);
    json_decref(one);
    json_decref(bad);
    json_decref(wrap);
}

/* ------------------------------------------------------------ parsing */

/* Both parsers must agree on text: refuse it together, or build equal
 * values; in either mode, since only duplicate keys tell them apart. */
static void parse_agrees_in(const char *text, size_t len, bool valid, unsigned flags)
{
    size_t jflags = JSON_DECODE_ANY;
    if (flags & BOSUN_JSON_REJECT_DUPLICATES)
        jflags |= JSON_REJECT_DUPLICATES;
    json_t *want = json_loadb(text, len, jflags, NULL);
    bosun_json_error err;
    json_t *got = bosun_json_parse(text, len, flags, &err);
    if (valid) {
        assert_non_null(want);
        assert_non_null(got);
        assert_true(json_equal(want, got));
    } else {
        assert_null(want);
        assert_null(got);
        assert_true(err.text[0] != '\0');
        assert_true(err.position <= len);
    }
    json_decref(want);
    json_decref(got);
}

static void parse_agrees(const char *text, size_t len, bool valid)
{
    parse_agrees_in(text, len, valid, 0);
    parse_agrees_in(text, len, valid, BOSUN_JSON_REJECT_DUPLICATES);
}

#define ACCEPT(s) parse_agrees(s, sizeof s - 1, true)
#define REFUSE(s) parse_agrees(s, sizeof s - 1, false)

static void test_parse_valid(void **state)
{
    ACCEPT("{}");
    ACCEPT("[]");
    ACCEPT(" \t\r\n{ \"a\" : [ 1 , 2 ] } \n");
    ACCEPT("0");
    ACCEPT("-0");
    ACCEPT("-0.0");
    ACCEPT("123");
    ACCEPT("9223372036854775807");
    ACCEPT("-9223372036854775808");
    ACCEPT("1.5");
    ACCEPT("1e5");
    ACCEPT("1E+5");
    ACCEPT("-2.5e-3");
    ACCEPT("1e-400"); /* underflow is a real, as with strtod */
    ACCEPT("0.1234567890123456789012345678901234567890123456789012345678901234567890");
    ACCEPT("true");
    ACCEPT("false");
    ACCEPT("null");
    ACCEPT("\"\"");
    ACCEPT("\"plain ascii\"");
    ACCEPT("\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t\"");
    ACCEPT("\"\\u00e9\\u20AC\\ud83d\\ude00\"");
    ACCEPT("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f\"");
    ACCEPT("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"report_status\",\"arguments\":{\"state\":\"working\",\"message\":\"x\"}}}");
}

static void test_parse_invalid(void **state)
{
    REFUSE("");
    REFUSE("   ");
    REFUSE("{");
    REFUSE("[1,]");
    REFUSE("{\"a\":1,}");
    REFUSE("{\"a\" 1}");
    REFUSE("{a:1}");
    REFUSE("[1 2]");
    REFUSE("01");
    REFUSE("-");
    REFUSE("-a");
    REFUSE("1.");
    REFUSE(".5");
    REFUSE("1e");
    REFUSE("1e+");
    REFUSE("+1");
    REFUSE("9223372036854775808");
    REFUSE("-9223372036854775809");
    REFUSE("1e400");
    REFUSE("tru");
    REFUSE("truex");
    REFUSE("nul");
    REFUSE("True");
    REFUSE("\"unterminated");
    REFUSE("\"tab\tinside\"");
    REFUSE("\"nl\ninside\"");
    REFUSE("\"\\x\"");
    REFUSE("\"\\u12\"");
    REFUSE("\"\\u0000\"");
    REFUSE("{\"\\u0000\":1}");
    REFUSE("\"\\ud83d\"");
    REFUSE("\"\\ude00\"");
    REFUSE("\"\\ud83d\\u0041\"");
    REFUSE("\"\xc3\"");
    REFUSE("\"\xc0\xaf\"");
    REFUSE("\"\xed\xa0\x80\"");
    REFUSE("\"\xff\"");
    REFUSE("1 2");
    REFUSE("{} x");
    REFUSE("[\x00]");
    REFUSE("\xef\xbb\xbf{}"); /* a byte-order mark */
    REFUSE("'single'");
}

static void test_parse_nul_byte(void **state)
{
    /* A raw NUL inside a string is a control character. */
    parse_agrees("\"a\0b\"", 5, false);
    parse_agrees("[1]\0", 4, false);
    /* jansson overlooks a NUL right after a number or a literal; it is not
     * JSON, and refused here. */
    bosun_json_error err;
    assert_null(bosun_json_parse("4\0", 2, 0, &err));
    assert_int_equal(err.position, 1);
    assert_null(bosun_json_parse("true\0", 5, 0, NULL));
}

static char *nested_text(int depth, bool with_value)
{
    char *text = malloc((size_t)depth * 2 + 2);
    size_t n = 0;
    for (int i = 0; i < depth; i++)
        text[n++] = '[';
    if (with_value)
        text[n++] = '1';
    for (int i = 0; i < depth; i++)
        text[n++] = ']';
    text[n] = '\0';
    return text;
}

/* The depth limit falls where jansson's does. */
static void test_parse_depth(void **state)
{
    const struct {
        int depth;
        bool with_value;
    } cases[] = {{2047, true}, {2048, true}, {2048, false}, {2049, false}, {5000, false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = nested_text(cases[i].depth, cases[i].with_value);
        json_t *want = json_loads(text, JSON_DECODE_ANY, NULL);
        parse_agrees(text, strlen(text), want != NULL);
        json_decref(want);
        free(text);
    }
}

static void test_parse_error_position(void **state)
{
    bosun_json_error err;
    assert_null(bosun_json_parse("{\"a\": tru}", 11, 0, &err));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 7);
    assert_int_equal(err.position, 6);
    assert_non_null(strstr(err.text, "invalid token"));
    assert_null(bosun_json_parse("[1,\n \"\xc3\xa9\", x]", 13, 0, &err));
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 7);
    /* No error structure is fine too. */
    assert_null(bosun_json_parse("[", 1, 0, NULL));
}

/* ------------------------------------------------------------ duplicate keys */

/* Without the flag the last of duplicate keys is kept, as by jansson;
 * with it the text is refused, as by jansson with JSON_REJECT_DUPLICATES. */
static void dup_agrees(const char *text, size_t len)
{
    json_t *want = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    bosun_json_error err;
    json_t *got = bosun_json_parse(text, len, 0, &err);
    assert_non_null(want);
    assert_non_null(got);
    assert_true(json_equal(want, got));
    json_decref(want);
    json_decref(got);
    json_error_t je;
    assert_null(json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je));
    assert_int_equal(json_error_code(&je), json_error_duplicate_key);
    assert_null(bosun_json_parse(text, len, BOSUN_JSON_REJECT_DUPLICATES, &err));
    assert_non_null(strstr(err.text, "duplicate object key \""));
}

#define DUPLICATE(s) dup_agrees(s, sizeof s - 1)

static void test_parse_duplicates(void **state)
{
    DUPLICATE("{\"k\":1,\"k\":2}");
    DUPLICATE("{\"k\":1,\"j\":3,\"k\":1}");
    DUPLICATE("[{\"a\":{\"x\":1,\"x\":[1]}}]");
    /* The same key spelt with and without escapes is the same key. */
    DUPLICATE("{\"caf\xc3\xa9\":1,\"caf\\u00e9\":2}");
    DUPLICATE("{\"a/b\":1,\"a\\/b\":2}");
    /* Ten keys, then the third again: beyond the first few. */
    DUPLICATE("{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,"
              "\"k8\":8,\"k9\":9,\"k2\":2}");
    /* Not duplicates: the same key in different objects, keys that are
     * prefixes of each other, and case. */
    ACCEPT("{\"a\":{\"a\":1},\"b\":{\"a\":2}}");
    ACCEPT("[{\"a\":1},{\"a\":1}]");
    ACCEPT("{\"a\":1,\"ab\":2,\"A\":3,\"\":4}");
}

/* The error names the key and points at its second occurrence, found
 * once its value is read. */
static void test_parse_duplicate_error(void **state)
{
    bosun_json_error err;
    const char *text = "{\"op\":\"ping\",\n \"op\":\"reload\"}";
    assert_null(bosun_json_parse(text, strlen(text), BOSUN_JSON_REJECT_DUPLICATES, &err));
    assert_string_equal(err.text, "duplicate object key \"op\"");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 2);
    assert_int_equal(err.position, 15);
    text = "{\"a\":1,\"a\":{\"b\":1,\"b\":2}}";
    assert_null(bosun_json_parse(text, strlen(text), BOSUN_JSON_REJECT_DUPLICATES, &err));
    assert_string_equal(err.text, "duplicate object key \"b\""); /* jansson: "a" */
    /* A broken value after a duplicate key is reported as broken (jansson
     * reports the duplicate). */
    text = "{\"a\":1,\"a\":tru}";
    assert_null(bosun_json_parse(text, strlen(text), BOSUN_JSON_REJECT_DUPLICATES, &err));
    assert_non_null(strstr(err.text, "invalid token"));
    /* A key that is not printable is shown escaped, and a long one cut at
     * a character, so the message stays short valid UTF-8 (it goes into
     * JSON error replies). */
    text = "{\"\\n\\\"\\u0001\":1,\"\\n\\\"\\u0001\":2}";
    assert_null(bosun_json_parse(text, strlen(text), BOSUN_JSON_REJECT_DUPLICATES, &err));
    assert_string_equal(err.text, "duplicate object key \"\\u000a\\\"\\u0001\"");
    char big[400];
    int n = snprintf(
        big, sizeof big, "{\"%s\":1,\"%s\":2}",
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9xyz",
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9xyz");
    assert_null(bosun_json_parse(big, (size_t)n, BOSUN_JSON_REJECT_DUPLICATES, &err));
    const char *quoted = strchr(err.text, '"');
    assert_non_null(quoted);
    assert_true(strlen(quoted) <= 64 + 4); /* "...", the quotes */
    assert_non_null(strstr(err.text, "...\""));
    size_t tl = strlen(err.text);
    assert_true(bosun_utf8_text(err.text, tl));
    assert_null(strstr(err.text, "xyz"));
    /* Nothing else changes with the flag. */
    text = "{\"a\":1,\"b\":tru}";
    assert_null(bosun_json_parse(text, strlen(text), BOSUN_JSON_REJECT_DUPLICATES, &err));
    assert_non_null(strstr(err.text, "invalid token"));
}

/* Random trees written by jansson read back equal. */
static void test_parse_random_trees(void **state)
{
    for (int i = 0; i < 2000; i++) {
        json_t *v = random_value(0);
        char *text = json_dumps(v, JSON_ENCODE_ANY | (i % 2 ? JSON_ENSURE_ASCII : 0));
        assert_non_null(text);
        json_t *back = bosun_json_parse(text, strlen(text), BOSUN_JSON_REJECT_DUPLICATES, NULL);
        assert_non_null(back);
        assert_true(json_equal(v, back));
        parse_agrees(text, strlen(text), true);
        json_decref(back);
        json_decref(v);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_reals),
        cmocka_unit_test(test_real_locale),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_nested_order),
        cmocka_unit_test(test_random_trees),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_parse_nul_byte),
        cmocka_unit_test(test_parse_depth),
        cmocka_unit_test(test_parse_error_position),
        cmocka_unit_test(test_parse_duplicates),
        cmocka_unit_test(test_parse_duplicate_error),
        cmocka_unit_test(test_parse_random_trees),
    };
    return RUN_TESTS(tests);
}
