/* The http plugin's limit of requests per client address (plugins/http/
 * http_ratelimit.c): the burst, the refill, Retry-After, one report per
 * window, IPv6 counted by /64, addresses apart, the table bounded. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "http_ratelimit.h"
#include "tap.h"

static void burst_then_refused(void **state)
{
    (void)state;
    http_ratelimit *l = http_ratelimit_new(10, 10, 16, 60);
    assert_non_null(l);
    for (int i = 0; i < 10; i++)
        assert_true(http_ratelimit_take(l, "192.0.2.1", 100.0).allowed);
    http_ratelimit_verdict v = http_ratelimit_take(l, "192.0.2.1", 100.0);
    assert_false(v.allowed);
    assert_int_equal(v.retry_after, 6); /* 10 a minute: one every 6 s */
    assert_true(v.report);
    assert_int_equal(v.refused, 1);
    assert_string_equal(v.key, "192.0.2.1");
    /* another address is not limited by the first */
    assert_true(http_ratelimit_take(l, "192.0.2.2", 100.0).allowed);
    http_ratelimit_free(l);
}

static void refill_and_retry_after(void **state)
{
    (void)state;
    http_ratelimit *l = http_ratelimit_new(2, 6, 16, 60); /* one every 10 s */
    assert_true(http_ratelimit_take(l, "192.0.2.1", 0).allowed);
    assert_true(http_ratelimit_take(l, "192.0.2.1", 0).allowed);
    assert_int_equal(http_ratelimit_take(l, "192.0.2.1", 0).retry_after, 10);
    assert_int_equal(http_ratelimit_take(l, "192.0.2.1", 4).retry_after, 6);
    assert_true(http_ratelimit_take(l, "192.0.2.1", 10).allowed);
    assert_false(http_ratelimit_take(l, "192.0.2.1", 10).allowed);
    /* never more than the burst, however long it waited */
    assert_true(http_ratelimit_take(l, "192.0.2.1", 1000).allowed);
    assert_true(http_ratelimit_take(l, "192.0.2.1", 1000).allowed);
    assert_false(http_ratelimit_take(l, "192.0.2.1", 1000).allowed);
    /* a clock that goes back adds nothing */
    assert_false(http_ratelimit_take(l, "192.0.2.1", 500).allowed);
    http_ratelimit_free(l);
}

static void reported_once_per_window(void **state)
{
    (void)state;
    http_ratelimit *l = http_ratelimit_new(1, 1, 16, 60);
    assert_true(http_ratelimit_take(l, "192.0.2.1", 0).allowed);
    assert_true(http_ratelimit_take(l, "192.0.2.1", 0).report);
    int reports = 0;
    for (int i = 1; i <= 20; i++)
        reports += http_ratelimit_take(l, "192.0.2.1", i * 0.1).report;
    assert_int_equal(reports, 0);
    http_ratelimit_verdict v = http_ratelimit_take(l, "192.0.2.1", 61);
    assert_true(v.allowed); /* a token came back meanwhile */
    v = http_ratelimit_take(l, "192.0.2.1", 61);
    assert_true(v.report);
    assert_int_equal(v.refused, 21); /* the 20 not reported, and this one */
    http_ratelimit_free(l);
}

static void keys(void **state)
{
    (void)state;
    char k[HTTP_RATELIMIT_KEY];
    http_ratelimit_key("2001:db8:1:2:aaaa::1", k);
    assert_string_equal(k, "2001:db8:1:2::/64");
    http_ratelimit_key("::ffff:192.0.2.9", k);
    assert_string_equal(k, "192.0.2.9");
    http_ratelimit_key("127.0.0.2", k);
    assert_string_equal(k, "127.0.0.2");
    http_ratelimit_key("", k);
    assert_string_equal(k, "?");
    http_ratelimit *l = http_ratelimit_new(1, 1, 16, 60);
    assert_true(http_ratelimit_take(l, "2001:db8:1:2::1", 0).allowed);
    /* the same /64 shares the bucket, the next /64 does not */
    assert_false(http_ratelimit_take(l, "2001:db8:1:2:ffff::7", 0).allowed);
    assert_true(http_ratelimit_take(l, "2001:db8:1:3::1", 0).allowed);
    http_ratelimit_free(l);
}

static void bounded_table(void **state)
{
    (void)state;
    http_ratelimit *l = http_ratelimit_new(1, 1, 4, 60);
    char a[32];
    for (int i = 0; i < 100; i++) {
        snprintf(a, sizeof a, "198.51.100.%d", i);
        assert_true(http_ratelimit_take(l, a, i).allowed);
        assert_true(http_ratelimit_count(l) <= 4);
    }
    /* the latest addresses are still held, the oldest went */
    assert_false(http_ratelimit_take(l, "198.51.100.99", 99).allowed);
    assert_true(http_ratelimit_take(l, "198.51.100.0", 99).allowed);
    http_ratelimit_free(l);
}

static void bad_numbers(void **state)
{
    (void)state;
    assert_null(http_ratelimit_new(0, 10, 16, 60));
    assert_null(http_ratelimit_new(10, 0, 16, 60));
    assert_null(http_ratelimit_new(10, 10, 0, 60));
    assert_null(http_ratelimit_new(NAN, 10, 16, 60));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_refused),
        cmocka_unit_test(refill_and_retry_after),
        cmocka_unit_test(reported_once_per_window),
        cmocka_unit_test(keys),
        cmocka_unit_test(bounded_table),
        cmocka_unit_test(bad_numbers),
    };
    return RUN_TESTS(tests);
}
