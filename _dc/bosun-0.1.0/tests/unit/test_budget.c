/* Unit tests for the shared memory budget (core/lib/budget.c). */
#include "config.h"

#include "tap.h"

#include <bosun/budget.h>

#include <stdint.h>

static void test_reserve_within_limit(void **state)
{
    bosun_budget *b = bosun_budget_new(100);
    assert_true(bosun_budget_reserve(b, 60));
    assert_true(bosun_budget_reserve(b, 40));
    assert_int_equal(bosun_budget_used(b), 100);
    assert_false(bosun_budget_reserve(b, 1)); /* full: refused, nothing taken */
    assert_int_equal(bosun_budget_used(b), 100);
    bosun_budget_release(b, 30);
    assert_true(bosun_budget_reserve(b, 30));
    assert_int_equal(bosun_budget_peak(b), 100);
    bosun_budget_free(b);
}

static void test_no_wrap_around(void **state)
{
    bosun_budget *b = bosun_budget_new(100);
    assert_true(bosun_budget_reserve(b, 10));
    assert_false(bosun_budget_reserve(b, SIZE_MAX));
    assert_false(bosun_budget_reserve(b, SIZE_MAX - 5));
    bosun_budget_release(b, 1000); /* more than used: clamps at zero */
    assert_int_equal(bosun_budget_used(b), 0);
    bosun_budget_free(b);

    bosun_budget *u = bosun_budget_new(0); /* unlimited, counting only */
    assert_true(bosun_budget_reserve(u, SIZE_MAX - 1));
    assert_false(bosun_budget_reserve(u, 2));
    assert_false(bosun_budget_high(u));
    bosun_budget_free(u);
}

static void test_high_water_and_new_limit(void **state)
{
    bosun_budget *b = bosun_budget_new(1000);
    assert_true(bosun_budget_reserve(b, 749));
    assert_false(bosun_budget_high(b));
    assert_true(bosun_budget_reserve(b, 1));
    assert_true(bosun_budget_high(b));
    /* A lower limit keeps what was reserved and refuses more. */
    bosun_budget_set_limit(b, 500);
    assert_int_equal(bosun_budget_limit(b), 500);
    assert_int_equal(bosun_budget_used(b), 750);
    assert_false(bosun_budget_reserve(b, 1));
    bosun_budget_release(b, 600);
    assert_true(bosun_budget_reserve(b, 350));
    assert_false(bosun_budget_reserve(b, 1));
    bosun_budget_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve_within_limit),
        cmocka_unit_test(test_no_wrap_around),
        cmocka_unit_test(test_high_water_and_new_limit),
    };
    return RUN_TESTS(tests);
}
