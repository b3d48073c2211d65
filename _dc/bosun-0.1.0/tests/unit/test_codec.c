/* base64 both ways, UTF-8, run states, clocks (SHA-256 is in test_crypto.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include <bosun/codec.h>
#include <bosun/store.h>
#include <bosun/sys.h>

static void test_base64_round_trip(void **state)
{
    const unsigned char bin[] = {0xff, 0xfe, 0x00, 'b', 'i', 'n'};
    char *enc = bosun_base64_encode(bin, sizeof bin);
    assert_string_equal(enc, "//4AYmlu");
    size_t n = 0;
    unsigned char *dec = bosun_base64_decode(enc, &n);
    assert_non_null(dec);
    assert_int_equal(n, sizeof bin);
    assert_memory_equal(dec, bin, sizeof bin);
    free(enc);
    free(dec);
    enc = bosun_base64_encode("ab", 2);
    assert_string_equal(enc, "YWI=");
    free(enc);
    assert_null(bosun_base64_decode("not base64!", &n));
    assert_null(bosun_base64_decode("YWI", &n));
    assert_null(bosun_base64_decode("AB=C", &n));
}

static void test_utf8(void **state)
{
    uint32_t cp = 0;
    assert_int_equal(bosun_utf8_next("A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(bosun_utf8_next("\xc3\xa9", 2, &cp), 2);
    assert_int_equal(cp, 0xe9);
    assert_int_equal(bosun_utf8_next("\xe2\x82\xac", 3, &cp), 3);
    assert_int_equal(cp, 0x20ac);
    assert_int_equal(bosun_utf8_next("\xf0\x9f\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1f600);
    assert_int_equal(bosun_utf8_next("\xf4\x8f\xbf\xbf", 4, &cp), 4);
    assert_int_equal(cp, 0x10ffff);
    /* Cut short, overlong, surrogate, past U+10FFFF, stray continuation,
     * invalid lead byte. */
    assert_int_equal(bosun_utf8_next("\xe2\x82\xac", 2, &cp), 0);
    assert_int_equal(bosun_utf8_next("\xc0\xaf", 2, &cp), 0);
    assert_int_equal(bosun_utf8_next("\xe0\x80\xaf", 3, &cp), 0);
    assert_int_equal(bosun_utf8_next("\xed\xa0\x80", 3, &cp), 0);
    assert_int_equal(bosun_utf8_next("\xf4\x90\x80\x80", 4, &cp), 0);
    assert_int_equal(bosun_utf8_next("\x80", 1, &cp), 0);
    assert_int_equal(bosun_utf8_next("\xff", 1, &cp), 0);
    assert_int_equal(bosun_utf8_next("\xc3(", 2, &cp), 0);
    assert_int_equal(bosun_utf8_next("", 0, &cp), 0);

    assert_true(bosun_utf8_text("", 0));
    assert_true(bosun_utf8_text("caf\xc3\xa9 \xe2\x82\xac", 9));
    assert_false(bosun_utf8_text("a\0b", 3));
    assert_false(bosun_utf8_text("caf\xc3", 4));
    assert_false(bosun_utf8_text("\xed\xbf\xbf", 3));
}

/* Every state the supervisor names has exactly one class. */
static void test_run_state_class(void **state)
{
    static const char *const active[] = {BOSUN_RUN_ACTIVE_STATES};
    static const char *const terminal[] = {BOSUN_RUN_TERMINAL_STATES};
    for (size_t i = 0; i < sizeof active / sizeof active[0]; i++)
        assert_int_equal(bosun_run_state_class(active[i]), BOSUN_RUN_CLASS_ACTIVE);
    for (size_t i = 0; i < sizeof terminal / sizeof terminal[0]; i++)
        assert_int_equal(bosun_run_state_class(terminal[i]), BOSUN_RUN_CLASS_TERMINAL);
    assert_int_equal(bosun_run_state_class("RUNNING"), BOSUN_RUN_CLASS_ACTIVE);
    assert_int_equal(bosun_run_state_class("STOPPING"), BOSUN_RUN_CLASS_ACTIVE);
    assert_int_equal(bosun_run_state_class("WAITING_INPUT"), BOSUN_RUN_CLASS_WAITING);
    assert_int_equal(bosun_run_state_class("LOST"), BOSUN_RUN_CLASS_TERMINAL);
    assert_int_equal(bosun_run_state_class("running"), BOSUN_RUN_CLASS_UNKNOWN);
    assert_int_equal(bosun_run_state_class(""), BOSUN_RUN_CLASS_UNKNOWN);
    assert_int_equal(bosun_run_state_class(NULL), BOSUN_RUN_CLASS_UNKNOWN);
}

static void test_clock_and_random(void **state)
{
    double wall = bosun_now(), mono = bosun_monotonic();
    assert_true(wall > 1.7e9); /* after 2023 */
    assert_true(mono > 0 && bosun_monotonic() >= mono);
    unsigned char a[32] = {0}, b[32] = {0};
    assert_int_equal(bosun_random_bytes(a, sizeof a), 0);
    assert_int_equal(bosun_random_bytes(b, sizeof b), 0);
    assert_true(memcmp(a, b, sizeof a) != 0);
    assert_int_equal(bosun_random_bytes(a, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_round_trip),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_run_state_class),
        cmocka_unit_test(test_clock_and_random),
    };
    return RUN_TESTS(tests);
}
