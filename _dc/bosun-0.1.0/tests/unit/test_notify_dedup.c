/* The notify plugin's de-duplication and coalescing (plugins/notify/
 * notify_dedup.c) on a real libev loop with a short window. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "tap.h"

typedef struct sink {
    int n;
    int last_count;
    char last_title[256];
    char last_agent[64];
} sink;

static void on_emit(notify_msg *m, void *arg)
{
    sink *s = arg;
    s->n++;
    s->last_count = m->count;
    snprintf(s->last_title, sizeof s->last_title, "%s", m->title);
    snprintf(s->last_agent, sizeof s->last_agent, "%s", m->agent ? m->agent : "");
    notify_msg_unref(m);
}

static notify_msg *failure(const char *agent, const char *run, double t)
{
    char subject[128];
    snprintf(subject, sizeof subject, "evt.run.%s.%s.spawn_failed", agent, run);
    json_t *d = json_pack("{s:s,s:s,s:s,s:s}", "agent", agent, "run", run, "reason",
                          "exited with code 1", "class", "failed");
    notify_msg *m = notify_msg_from_event(subject, d, t, NULL, "m1");
    json_decref(d);
    return m;
}

static notify_msg *question(const char *id)
{
    char subject[128];
    snprintf(subject, sizeof subject, "evt.input.%s.requested", id);
    json_t *d = json_pack("{s:s,s:s}", "input", id, "question", "why?");
    notify_msg *m = notify_msg_from_event(subject, d, 1.0, NULL, "m1");
    json_decref(d);
    return m;
}

static void break_loop(struct ev_loop *loop, ev_timer *w, int revents)
{
    ev_break(loop, EVBREAK_ONE);
}

static void wait_loop(struct ev_loop *loop, double seconds)
{
    ev_timer t;
    ev_timer_init(&t, break_loop, seconds, 0);
    ev_timer_start(loop, &t);
    ev_run(loop, 0);
    ev_timer_stop(loop, &t);
}

static void test_duplicate_dropped(void **state)
{
    struct ev_loop *loop = ev_loop_new(0);
    sink s = {0};
    notify_dedup *dd = notify_dedup_new(loop, 0.05, on_emit, &s);
    notify_dedup_push(dd, question("Q1"));
    notify_dedup_push(dd, question("Q1"));
    notify_dedup_push(dd, question("Q2"));
    assert_int_equal(s.n, 2);
    assert_int_equal(notify_dedup_suppressed(dd), 1);
    notify_dedup_free(dd);
    ev_loop_destroy(loop);
}

static void test_flapping_coalesced(void **state)
{
    struct ev_loop *loop = ev_loop_new(0);
    sink s = {0};
    notify_dedup *dd = notify_dedup_new(loop, 0.05, on_emit, &s);
    notify_dedup_push(dd, failure("a", "R1", 1.0));
    assert_int_equal(s.n, 1); /* the first at once */
    notify_dedup_push(dd, failure("a", "R1", 2.0));
    notify_dedup_push(dd, failure("a", "R1", 3.0));
    notify_dedup_push(dd, failure("a", "R2", 4.0));
    notify_dedup_push(dd, failure("b", "R9", 5.0)); /* another agent: its own window */
    assert_int_equal(s.n, 2);
    assert_string_equal(s.last_agent, "b");
    wait_loop(loop, 0.08);
    assert_int_equal(s.n, 3); /* a's window ended: one message for 4 */
    assert_int_equal(s.last_count, 4);
    assert_string_equal(s.last_title, "bosun: agent a failed 4 times within 0.05 s");
    /* A new window opened; without failures it closes, and the next one
     * goes out at once again. */
    wait_loop(loop, 0.15);
    assert_int_equal(s.n, 3);
    notify_dedup_push(dd, failure("a", "R3", 6.0));
    assert_int_equal(s.n, 4);
    assert_int_equal(s.last_count, 1);
    notify_dedup_free(dd); /* with a's window open: freed, nothing emitted */
    assert_int_equal(s.n, 4);
    ev_loop_destroy(loop);
}

static void test_seen_bounded(void **state)
{
    struct ev_loop *loop = ev_loop_new(0);
    sink s = {0};
    notify_dedup *dd = notify_dedup_new(loop, 0.05, on_emit, &s);
    char id[32];
    for (int i = 0; i < 9000; i++) {
        snprintf(id, sizeof id, "Q%d", i);
        notify_dedup_push(dd, question(id));
    }
    assert_int_equal(s.n, 9000);
    notify_dedup_push(dd, question("Q8999")); /* recent: remembered */
    assert_int_equal(s.n, 9000);
    notify_dedup_push(dd, question("Q0")); /* the oldest went past the bound */
    assert_int_equal(s.n, 9001);
    notify_dedup_free(dd);
    ev_loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicate_dropped),
        cmocka_unit_test(test_flapping_coalesced),
        cmocka_unit_test(test_seen_bounded),
    };
    return RUN_TESTS(tests);
}
