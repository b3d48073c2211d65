/* Unit tests for the registry of issued secrets (core/lib/secret.c). */
#include "config.h"

#include "tap.h"

#include <bosun/secret.h>

#include <stdlib.h>
#include <string.h>

#define TOK1 "bat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define TOK2 "bat_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

static void test_nothing_registered(void **state)
{
    (void)state;
    assert_int_equal(bosun_secret_count(), 0);
    assert_false(bosun_secret_find(TOK1, strlen(TOK1)));
    assert_null(bosun_secret_redact(TOK1, strlen(TOK1), NULL));
    json_t *v = json_pack("{s:s}", "note", TOK1);
    json_t *r = bosun_secret_redact_json(v);
    assert_ptr_equal(r, v); /* the same value, no copy */
    json_decref(r);
    json_decref(v);
}

static void test_bad_values_refused(void **state)
{
    (void)state;
    assert_int_equal(bosun_secret_add("bat_short", 4), -1);
    assert_int_equal(bosun_secret_add(TOK1, 0), -1);
    assert_int_equal(bosun_secret_add(NULL, 4), -1);
    assert_int_equal(bosun_secret_count(), 0);
}

static void test_redact_inside_text(void **state)
{
    (void)state;
    assert_int_equal(bosun_secret_add(TOK1, 4), 0);
    assert_int_equal(bosun_secret_add(TOK1, 4), 0); /* idempotent */
    assert_int_equal(bosun_secret_count(), 1);
    const char *text = "my token is " TOK1 ", again:" TOK1 " and bat_ not " TOK2;
    size_t n = 0;
    char *r = bosun_secret_redact(text, strlen(text), &n);
    assert_non_null(r);
    assert_string_equal(r, "my token is [redacted], again:[redacted] and bat_ not " TOK2);
    assert_int_equal(n, strlen(r));
    free(r);
    /* A prefix of the secret, or the secret cut short, is not it. */
    assert_false(bosun_secret_find(TOK1, strlen(TOK1) - 1));
    bosun_secret_remove(TOK1);
    assert_int_equal(bosun_secret_count(), 0);
    assert_null(bosun_secret_redact(text, strlen(text), NULL));
}

static void test_redact_json_keys_and_values(void **state)
{
    (void)state;
    assert_int_equal(bosun_secret_add(TOK1, 4), 0);
    assert_int_equal(bosun_secret_add(TOK2, 4), 0);
    json_t *v = json_pack("{s:s,s:[s,i,{s:s}],s:s,s:s}", "note", "x" TOK1 "y", "list", TOK2, 7,
                          TOK1, "deep", "url", "https://h/?t=" TOK2, "clean", "nothing here");
    json_t *r = bosun_secret_redact_json(v);
    assert_ptr_not_equal(r, v);
    char *s = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(s, "{\"clean\":\"nothing here\",\"list\":[\"[redacted]\",7,"
                           "{\"[redacted]\":\"deep\"}],\"note\":\"x[redacted]y\","
                           "\"url\":\"https://h/?t=[redacted]\"}");
    free(s);
    /* The original is untouched. */
    assert_string_equal(json_string_value(json_object_get(v, "note")), "x" TOK1 "y");
    json_decref(r);
    json_decref(v);
    bosun_secret_remove(TOK1);
    bosun_secret_remove(TOK2);
}

static void test_many_secrets(void **state)
{
    (void)state;
    char toks[300][48];
    for (int i = 0; i < 300; i++) {
        snprintf(toks[i], sizeof toks[i], "bat_%043d", i);
        assert_int_equal(bosun_secret_add(toks[i], 4), 0);
    }
    assert_int_equal(bosun_secret_count(), 300);
    for (int i = 0; i < 300; i += 2)
        bosun_secret_remove(toks[i]);
    assert_int_equal(bosun_secret_count(), 150);
    for (int i = 0; i < 300; i++)
        assert_int_equal(bosun_secret_find(toks[i], strlen(toks[i])), i % 2 == 1);
    for (int i = 1; i < 300; i += 2)
        bosun_secret_remove(toks[i]);
    assert_int_equal(bosun_secret_count(), 0);
}

/* Differential: on random and adversarial text (prefixes, near misses,
 * values cut short, back to back, of three classes with a short and a
 * shared first byte) the registry's scan of a JSON value agrees with a
 * naive one, memcmp of every live value at every offset. */
#define DIFF_VALUES 6
static const char *const diff_values[DIFF_VALUES] = {TOK1,
                                                     TOK2,
                                                     "bad_0123456789abcdef",
                                                     "bad_fedcba9876543210",
                                                     "b0123456789abcdef",
                                                     "bat_"
                                                     "C23456789012"};
static bool diff_live[DIFF_VALUES];

static size_t naive_at(const char *s, size_t len, size_t i)
{
    for (int k = 0; k < DIFF_VALUES; k++) {
        size_t n = strlen(diff_values[k]);
        if (diff_live[k] && len - i >= n && memcmp(s + i, diff_values[k], n) == 0)
            return n;
    }
    return 0;
}

/* The naive redaction of s (a new string), leftmost value first. */
static char *naive_redact(const char *s, size_t len, bool *hit)
{
    char *out = malloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = naive_at(s, len, i);
        if (n) {
            memcpy(out + o, "[redacted]", 10);
            o += 10;
            i += n;
            *hit = true;
        } else
            out[o++] = s[i++];
    }
    out[o] = '\0';
    return out;
}

static size_t diff_text(char *buf, size_t cap)
{
    static const char *const bits[] = {"b", "ba", "bat_", "bad_", "x", " ", "A", "0", "\n"};
    size_t n = 0, want = (size_t)(rand() % (int)cap);
    while (n < want) {
        const char *piece;
        char cut[64];
        int r = rand() % 10;
        if (r < 6) {
            piece = bits[rand() % 9];
        } else {
            const char *v = diff_values[rand() % DIFF_VALUES];
            size_t vl = strlen(v), keep = r == 6 ? (size_t)(rand() % (int)vl) : vl;
            memcpy(cut, v, keep);
            cut[keep] = '\0';
            if (r == 7 && keep > 0)
                cut[rand() % (int)keep] ^= 1; /* a near miss */
            piece = cut;
        }
        size_t pl = strlen(piece);
        if (n + pl >= cap)
            break;
        memcpy(buf + n, piece, pl);
        n += pl;
    }
    buf[n] = '\0';
    return n;
}

static void test_random_differential(void **state)
{
    (void)state;
    srand(18);
    char key[200], text[400];
    for (int round = 0; round < 3000; round++) {
        if (round % 100 == 0)
            for (int k = 0; k < DIFF_VALUES; k++) {
                bool live = rand() % 2;
                if (live && !diff_live[k])
                    assert_int_equal(bosun_secret_add(diff_values[k], k == 4 ? 1 : 4), 0);
                else if (!live && diff_live[k])
                    bosun_secret_remove(diff_values[k]);
                diff_live[k] = live;
            }
        size_t kl = diff_text(key, rand() % 2 ? 8 : sizeof key);
        size_t tl = diff_text(text, sizeof text);
        json_t *v = json_pack("{s:s,s:I,s:s%,s:[s%]}", "stream", "stdout", "n", (json_int_t)round,
                              "text", text, tl, key, text, tl);
        bool hit = false;
        char *want_key = naive_redact(key, kl, &hit);
        char *want_text = naive_redact(text, tl, &hit);
        assert_int_equal(bosun_secret_find(text, tl), strcmp(want_text, text) != 0);
        json_t *r = bosun_secret_redact_json(v);
        assert_int_equal(r != v, hit);
        assert_string_equal(json_string_value(json_object_get(r, "text")), want_text);
        json_t *list = json_object_get(r, want_key);
        assert_non_null(list);
        assert_string_equal(json_string_value(json_array_get(list, 0)), want_text);
        free(want_key);
        free(want_text);
        json_decref(r);
        json_decref(v);
    }
    for (int k = 0; k < DIFF_VALUES; k++)
        if (diff_live[k])
            bosun_secret_remove(diff_values[k]);
    assert_int_equal(bosun_secret_count(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_registered),
        cmocka_unit_test(test_bad_values_refused),
        cmocka_unit_test(test_redact_inside_text),
        cmocka_unit_test(test_redact_json_keys_and_values),
        cmocka_unit_test(test_many_secrets),
        cmocka_unit_test(test_random_differential),
    };
    return RUN_TESTS(tests);
}
