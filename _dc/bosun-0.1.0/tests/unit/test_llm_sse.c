/* llm_sse: the event-stream reader of bosun-llm's providers — the same
 * events whatever the input's split, the three line ends, comments and
 * ignored fields, multi-line data, the limits on lines and events, the end
 * of the stream, a byte-order mark, and a callback that stops the reader. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_sse.h"
#include "tap.h"

typedef struct got {
    char text[4096];
    int stop_at; /* the callback returns 7 at this event (1-based); 0: never */
    int n;
} got;

static int collect(void *arg, const char *event, const char *data, size_t len)
{
    got *g = arg;
    g->n++;
    assert_int_equal(strlen(data), len);
    size_t used = strlen(g->text);
    snprintf(g->text + used, sizeof g->text - used, "[%s|%s]", event, data);
    return g->stop_at && g->n == g->stop_at ? 7 : 0;
}

static void feed_split(const char *in, size_t step, got *g)
{
    llm_sse *s = llm_sse_new(256, 1024, collect, g);
    assert_non_null(s);
    size_t len = strlen(in);
    for (size_t i = 0; i < len; i += step)
        assert_int_equal(llm_sse_feed(s, in + i, len - i < step ? len - i : step), 0);
    assert_int_equal(llm_sse_finish(s), 0);
    llm_sse_free(s);
}

static void test_split_anywhere(void **state)
{
    (void)state;
    const char *in = "event: a\ndata: one\n\n: comment\ndata:two\ndata:  three\n\r\n"
                     "id: 5\nretry: 10\ndata\n\nevent: b\r\ndata: x\r\rdata: tail";
    const char *want = "[a|one][message|two\n three][message|][b|x]";
    for (size_t step = 1; step <= strlen(in); step++) {
        got g = {0};
        feed_split(in, step, &g);
        assert_string_equal(g.text, want);
    }
}

static void test_no_data_no_event(void **state)
{
    (void)state;
    got g = {0};
    feed_split("event: lonely\n\n\n\n:only a comment\n\n", 3, &g);
    assert_int_equal(g.n, 0);
    /* The type does not carry over to the next event. */
    feed_split("event: x\n\ndata: y\n\n", 1, &g);
    assert_string_equal(g.text, "[message|y]");
}

static void test_line_limit(void **state)
{
    (void)state;
    got g = {0};
    llm_sse *s = llm_sse_new(16, 1024, collect, &g);
    assert_int_equal(llm_sse_feed(s, "data: 0123456789", 16), 0);
    assert_int_equal(llm_sse_feed(s, "a", 1), -1);
    assert_string_equal(llm_sse_error(s), "event stream line longer than 16 bytes");
    /* Refused from then on. */
    assert_int_equal(llm_sse_feed(s, "\n\n", 2), -1);
    assert_int_equal(g.n, 0);
    llm_sse_free(s);
}

static void test_event_limit(void **state)
{
    (void)state;
    got g = {0};
    llm_sse *s = llm_sse_new(64, 10, collect, &g);
    /* 4 + LF, 4 + LF: exactly 10 */
    assert_int_equal(llm_sse_feed(s, "data: abcd\ndata: efgh\n\n", 23), 0);
    assert_string_equal(g.text, "[message|abcd\nefgh]");
    assert_int_equal(llm_sse_feed(s, "data: abcd\ndata: efghi\n", 23), -1);
    assert_string_equal(llm_sse_error(s), "event stream event data longer than 10 bytes");
    llm_sse_free(s);
}

static void test_unfinished_event_dropped(void **state)
{
    (void)state;
    got g = {0};
    feed_split("data: whole\n\ndata: half\n", 4, &g);
    assert_string_equal(g.text, "[message|whole]");
    assert_int_equal(g.n, 1);
}

static void test_bom(void **state)
{
    (void)state;
    for (size_t step = 1; step <= 4; step++) {
        got g2 = {0};
        feed_split("\xEF\xBB\xBF"
                   "data: x\n\n",
                   step, &g2);
        assert_string_equal(g2.text, "[message|x]");
        /* Not a mark: its bytes are the line's. */
        got g3 = {0};
        feed_split("\xEF\xBB"
                   "data: x\n\n\xEF",
                   step, &g3);
        assert_int_equal(g3.n, 0);
        got g4 = {0};
        feed_split("\xEF\xBB", step, &g4);
        assert_int_equal(g4.n, 0);
    }
}

static void test_callback_stops(void **state)
{
    (void)state;
    got g = {.stop_at = 2};
    llm_sse *s = llm_sse_new(64, 64, collect, &g);
    const char *in = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    assert_int_equal(llm_sse_feed(s, in, strlen(in)), 7);
    assert_int_equal(g.n, 2);
    assert_int_equal(llm_sse_events(s), 2);
    assert_int_equal(llm_sse_feed(s, "data: 4\n\n", 9), 7);
    assert_int_equal(llm_sse_finish(s), 7);
    llm_sse_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_anywhere),
        cmocka_unit_test(test_no_data_no_event),
        cmocka_unit_test(test_line_limit),
        cmocka_unit_test(test_event_limit),
        cmocka_unit_test(test_unfinished_event_dropped),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_callback_stops),
    };
    return RUN_TESTS(tests);
}
