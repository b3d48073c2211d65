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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_registered),
        cmocka_unit_test(test_bad_values_refused),
        cmocka_unit_test(test_redact_inside_text),
        cmocka_unit_test(test_redact_json_keys_and_values),
        cmocka_unit_test(test_many_secrets),
    };
    return RUN_TESTS(tests);
}
