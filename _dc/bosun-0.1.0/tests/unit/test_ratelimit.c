/* Unit tests for the failed-authentication limiter (core/lib/ratelimit.c). */
#include "config.h"

#include "tap.h"

#include <bosun/ratelimit.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void test_bad_arguments(void **state)
{
    errno = 0;
    assert_null(bosun_authlimit_new(0, 1, 10, 1, 4));
    assert_int_equal(errno, EINVAL);
    assert_null(bosun_authlimit_new(10, 0, 10, 1, 4));
    assert_null(bosun_authlimit_new(10, 1, 10, -1, 4));
    assert_null(bosun_authlimit_new(10, 1, 10, 1, 0));
    assert_false(bosun_authlimit_allow(NULL, "k", 0));
    bosun_authlimit_failed(NULL, "k", 0);
    bosun_authlimit_succeeded(NULL, "k");
    bosun_authlimit_free(NULL);
}

/* A burst of failures, then one attempt per 1/rate seconds. */
static void test_per_peer_burst_then_rate(void **state)
{
    bosun_authlimit *l = bosun_authlimit_new(3, 0.5, 100, 100, 8);
    for (int i = 0; i < 3; i++) {
        assert_true(bosun_authlimit_allow(l, "uid 7", 10));
        bosun_authlimit_failed(l, "uid 7", 10);
    }
    assert_false(bosun_authlimit_allow(l, "uid 7", 10));
    assert_false(bosun_authlimit_allow(l, "uid 7", 11.9)); /* not yet a whole one back */
    assert_true(bosun_authlimit_allow(l, "other", 10));    /* peers are apart */
    /* refusals cost nothing: asking again and again does not push it back */
    for (int i = 0; i < 100; i++)
        assert_false(bosun_authlimit_allow(l, "uid 7", 11.5));
    assert_true(bosun_authlimit_allow(l, "uid 7", 12.01));
    bosun_authlimit_failed(l, "uid 7", 12.01);
    assert_false(bosun_authlimit_allow(l, "uid 7", 12.02));
    /* long quiet: back to the full burst, never above it */
    for (int i = 0; i < 3; i++) {
        assert_true(bosun_authlimit_allow(l, "uid 7", 1000));
        bosun_authlimit_failed(l, "uid 7", 1000);
    }
    assert_false(bosun_authlimit_allow(l, "uid 7", 1000));
    bosun_authlimit_free(l);
}

static void test_success_forgets_peer(void **state)
{
    bosun_authlimit *l = bosun_authlimit_new(2, 1, 100, 100, 8);
    bosun_authlimit_failed(l, "a", 0);
    assert_int_equal(bosun_authlimit_tracked(l), 1);
    bosun_authlimit_succeeded(l, "a");
    assert_int_equal(bosun_authlimit_tracked(l), 0);
    bosun_authlimit_failed(l, "a", 0);
    bosun_authlimit_failed(l, "a", 0);
    assert_false(bosun_authlimit_allow(l, "a", 0));
    bosun_authlimit_succeeded(l, "b"); /* unknown: nothing */
    assert_int_equal(bosun_authlimit_tracked(l), 1);
    bosun_authlimit_free(l);
}

/* Many peers together are held to the global bucket. */
static void test_global_bucket(void **state)
{
    bosun_authlimit *l = bosun_authlimit_new(10, 1, 5, 1, 64);
    char key[16];
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "p%d", i);
        assert_true(bosun_authlimit_allow(l, key, 0));
        bosun_authlimit_failed(l, key, 0);
    }
    assert_false(bosun_authlimit_allow(l, "fresh", 0));
    assert_false(bosun_authlimit_allow(l, "p0", 0.5));
    assert_true(bosun_authlimit_allow(l, "fresh", 1.0));
    bosun_authlimit_free(l);
}

/* At most max_keys peers; a new one evicts the one nearest a full bucket,
 * so a peer under limit stays limited while others come and go. */
static void test_bounded_keys(void **state)
{
    bosun_authlimit *l = bosun_authlimit_new(2, 0.0001, 1e9, 1e9, 4);
    bosun_authlimit_failed(l, "guesser", 0);
    bosun_authlimit_failed(l, "guesser", 0);
    char key[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        bosun_authlimit_failed(l, key, 1 + i);
        assert_true(bosun_authlimit_tracked(l) <= 4);
    }
    assert_int_equal(bosun_authlimit_tracked(l), 4);
    assert_false(bosun_authlimit_allow(l, "guesser", 1001));
    bosun_authlimit_free(l);
}

/* Long keys are cut at 127 bytes, not overrun. */
static void test_long_key(void **state)
{
    char big[4096];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    bosun_authlimit *l = bosun_authlimit_new(1, 1, 10, 1, 2);
    bosun_authlimit_failed(l, big, 0);
    assert_false(bosun_authlimit_allow(l, big, 0));
    bosun_authlimit_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_per_peer_burst_then_rate),
        cmocka_unit_test(test_success_forgets_peer),
        cmocka_unit_test(test_global_bucket),
        cmocka_unit_test(test_bounded_keys),
        cmocka_unit_test(test_long_key),
    };
    return RUN_TESTS(tests);
}
