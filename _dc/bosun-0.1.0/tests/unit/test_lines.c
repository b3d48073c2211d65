/* bosun_lines: framing across arbitrary splits, the cut and error policies
 * for over-long lines, and the edges (a line of exactly max bytes, an
 * unterminated line that is a multiple of max, CRLF). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include <bosun/lines.h>

static bosun_line next(bosun_lines *l, int want)
{
    bosun_line line = {0};
    assert_int_equal(bosun_lines_next(l, &line), want);
    return line;
}

static bosun_line finish(bosun_lines *l, int want)
{
    bosun_line line = {0};
    assert_int_equal(bosun_lines_finish(l, &line), want);
    return line;
}

static void check(bosun_line line, const char *text, bool cut, bool nl)
{
    assert_int_equal(line.len, strlen(text));
    assert_memory_equal(line.data, text, line.len);
    assert_int_equal(line.cut, cut);
    assert_int_equal(line.nl, nl);
}

static void test_split_anywhere(void **state)
{
    const char *in = "one\ntwo\n\nthree\nfour";
    for (size_t step = 1; step <= strlen(in); step++) {
        bosun_lines *l = bosun_lines_new(16, 0);
        const char *want[] = {"one", "two", "", "three"};
        size_t got = 0;
        for (size_t off = 0; off < strlen(in); off += step) {
            size_t n = strlen(in) - off < step ? strlen(in) - off : step;
            assert_int_equal(bosun_lines_append(l, in + off, n), 0);
            bosun_line line;
            while (bosun_lines_next(l, &line) == 1)
                check(line, want[got++], false, true);
        }
        assert_int_equal(got, 4);
        size_t len;
        const char *rest = bosun_lines_pending(l, &len);
        assert_int_equal(len, 4);
        assert_memory_equal(rest, "four", 4);
        check(finish(l, 1), "four", false, false);
        finish(l, 0);
        bosun_lines_free(l);
    }
}

/* A line of exactly max bytes and its newline is one line, not a cut piece
 * and an empty one. */
static void test_exactly_max(void **state)
{
    bosun_lines *l = bosun_lines_new(8, BOSUN_LINES_CUT | BOSUN_LINES_STRIP_CR);
    bosun_lines_append(l, "12345678", 8);
    next(l, 0);
    bosun_lines_append(l, "\r", 1); /* could still be a CRLF */
    next(l, 0);
    bosun_lines_append(l, "\nabcdefgh\n", 10);
    bosun_line line = next(l, 1);
    check(line, "12345678", false, true);
    assert_true(line.cr);
    check(next(l, 1), "abcdefgh", false, true);
    next(l, 0);
    finish(l, 0);
    bosun_lines_free(l);
}

/* Pieces: cut on all but the last, which closes the line; an unterminated
 * line of twice max ends with a closing piece too. */
static void test_cut_pieces(void **state)
{
    bosun_lines *l = bosun_lines_new(4, BOSUN_LINES_CUT);
    bosun_lines_append(l, "abcdefghij\n", 11);
    check(next(l, 1), "abcd", true, false);
    check(next(l, 1), "efgh", true, false);
    check(next(l, 1), "ij", false, true);
    next(l, 0);
    bosun_lines_append(l, "12345678", 8);
    check(next(l, 1), "1234", true, false);
    next(l, 0);
    check(finish(l, 1), "5678", false, false);
    finish(l, 0);
    bosun_lines_free(l);
}

/* A cut does not split a UTF-8 sequence. */
static void test_cut_utf8(void **state)
{
    bosun_lines *l = bosun_lines_new(4, BOSUN_LINES_CUT);
    bosun_lines_append(l,
                       "ab\xe2\x82\xac"
                       "cd\n",
                       8);
    check(next(l, 1), "ab", true, false);
    check(next(l, 1),
          "\xe2\x82\xac"
          "c",
          true, false);
    check(next(l, 1), "d", false, true);
    bosun_lines_free(l);
}

static void test_too_long_fails(void **state)
{
    bosun_lines *l = bosun_lines_new(4, 0);
    bosun_lines_append(l, "abcd\n", 5);
    check(next(l, 1), "abcd", false, true);
    bosun_lines_append(l, "abcd", 4);
    next(l, 0);
    bosun_lines_append(l, "e", 1);
    errno = 0;
    next(l, -1);
    assert_int_equal(errno, EMSGSIZE);
    bosun_lines_append(l, "\n", 1);
    next(l, -1); /* stays failed */
    bosun_lines_free(l);

    l = bosun_lines_new(4, 0);
    bosun_lines_append(l, "abcde\nx\n", 8);
    next(l, -1);
    bosun_lines_free(l);
}

/* Reading into bosun_lines_space, many short lines and one long one: the
 * buffer stays about as large as what is held. */
static void test_space_bounded(void **state)
{
    bosun_lines *l = bosun_lines_new(1 << 20, 0);
    size_t lines = 0;
    for (int i = 0; i < 100000; i++) {
        size_t room;
        char *p = bosun_lines_space(l, 512, &room);
        assert_non_null(p);
        assert_true(room >= 512);
        memset(p, 'x', 511);
        p[511] = i % 3 == 2 ? '\n' : 'y';
        bosun_lines_commit(l, 512);
        bosun_line line;
        while (bosun_lines_next(l, &line) == 1) {
            assert_int_equal(line.len, 3 * 512 - 1);
            lines++;
        }
        size_t held;
        bosun_lines_pending(l, &held);
        assert_true(held < 3 * 512);
    }
    assert_int_equal(lines, 33333);
    size_t held;
    bosun_lines_pending(l, &held);
    assert_int_equal(held, 512);
    bosun_lines_skip(l, 10);
    bosun_lines_pending(l, &held);
    assert_int_equal(held, 502);
    bosun_lines_skip(l, 1000);
    bosun_lines_pending(l, &held);
    assert_int_equal(held, 0);
    bosun_lines_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_anywhere), cmocka_unit_test(test_exactly_max),
        cmocka_unit_test(test_cut_pieces),     cmocka_unit_test(test_cut_utf8),
        cmocka_unit_test(test_too_long_fails), cmocka_unit_test(test_space_bounded),
    };
    return RUN_TESTS(tests);
}
