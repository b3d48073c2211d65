/* Unit tests for core/lib/bus.c: delivery, ordering, re-entrancy and
 * request/reply, on a private libev loop. */
#include "config.h"

#include "tap.h"

#include <bosun/bus.h>

#include <errno.h>
#include <ev.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct fx {
    struct ev_loop *loop;
    bus_t *bus;
};

/* What the handlers saw, as "tag:subject" words. */
static char trace[8192];

static void trace_add(const char *tag, const char *subject)
{
    size_t len = strlen(trace);
    snprintf(trace + len, sizeof trace - len, "%s%s:%s", len ? " " : "", tag, subject);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    f->loop = ev_loop_new(EVFLAG_AUTO);
    f->bus = bus_new(f->loop);
    if (!f->loop || !f->bus)
        return -1;
    trace[0] = '\0';
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    bus_free(f->bus);
    ev_loop_destroy(f->loop);
    free(f);
    return 0;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Handler whose arg is its tag. */
static void tagged(bus_t *bus, const bus_msg *msg, void *arg)
{
    trace_add(arg, msg->subject);
}

static void guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    *(bool *)w->data = true;
    ev_break(loop, EVBREAK_ONE);
}

/* Runs the loop until a callback breaks it; false if max seconds passed
 * first, so that a broken bus fails the test instead of hanging it. */
static bool run_loop(struct ev_loop *loop, double max)
{
    bool expired = false;
    ev_timer guard;
    ev_timer_init(&guard, guard_cb, max, 0.);
    guard.data = &expired;
    ev_timer_start(loop, &guard);
    ev_run(loop, 0);
    ev_timer_stop(loop, &guard);
    return !expired;
}

/* ------------------------------------------------------------------ basics */

static void test_invalid_arguments(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = {"", "a..b", ".a", "a.", "a.*", ">", "a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        assert_int_equal(bus_publish(f->bus, bad[i], NULL, NULL), -1);
        assert_int_equal(errno, EINVAL);
    }
    errno = 0;
    assert_int_equal(bus_publish(f->bus, "a", "bad..reply", NULL), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(bus_publish(f->bus, "a", "a.*", NULL), -1);
    assert_int_equal(errno, EINVAL);
    /* Stolen also on error: LeakSanitizer would report the object. */
    assert_int_equal(bus_publish_new(f->bus, "a..b", NULL, json_object()), -1);
    assert_int_equal(bus_queue_length(f->bus), 0);

    errno = 0;
    assert_null(bus_subscribe(f->bus, "a*", tagged, "x"));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(bus_subscribe(f->bus, "a.>.b", tagged, "x"));
    assert_int_equal(errno, EINVAL);
    assert_null(bus_subscribe(f->bus, "a", NULL, "x"));
    assert_int_equal(bus_sub_count(f->bus), 0);

    bus_msg no_reply = {.subject = "a", .reply = NULL, .data = json_null()};
    errno = 0;
    assert_int_equal(bus_reply(f->bus, &no_reply, NULL), -1);
    assert_int_equal(errno, EINVAL);
    assert_null(bus_new(NULL));
}

static void test_publish_is_asynchronous(void **state)
{
    struct fx *f = *state;
    bus_sub *s = bus_subscribe(f->bus, "a.b", tagged, "A");
    assert_non_null(s);
    assert_string_equal(bus_sub_pattern(s), "a.b");
    assert_int_equal(bus_sub_count(f->bus), 1);
    assert_int_equal(bus_publish(f->bus, "a.b", NULL, NULL), 0);
    assert_int_equal(bus_queue_length(f->bus), 1);
    assert_string_equal(trace, "");
    bus_flush(f->bus, 0);
    assert_string_equal(trace, "A:a.b");
    assert_int_equal(bus_queue_length(f->bus), 0);
}

struct seen_msg {
    int calls;
    char subject[64];
    char reply[64];
    bool had_reply;
    json_t *data;
    double time;
};

static void keep_msg(bus_t *bus, const bus_msg *msg, void *arg)
{
    struct seen_msg *m = arg;
    m->calls++;
    snprintf(m->subject, sizeof m->subject, "%s", msg->subject);
    m->had_reply = msg->reply != NULL;
    snprintf(m->reply, sizeof m->reply, "%s", msg->reply ? msg->reply : "");
    json_decref(m->data);
    m->data = json_incref(msg->data);
    m->time = msg->time;
}

static void test_message_fields(void **state)
{
    struct fx *f = *state;
    struct seen_msg m = {0};
    assert_non_null(bus_subscribe(f->bus, "evt.>", keep_msg, &m));
    json_t *data = json_pack("{s:i}", "n", 42);
    double before = wall_now();
    assert_int_equal(bus_publish(f->bus, "evt.run.start", "_INBOX.x.1", data), 0);
    double after = wall_now();
    assert_int_equal(data->refcount, 2); /* the bus holds its own reference */
    bus_flush(f->bus, 0);
    assert_int_equal(data->refcount, 2); /* ours and keep_msg's */
    assert_int_equal(m.calls, 1);
    assert_string_equal(m.subject, "evt.run.start");
    assert_true(m.had_reply);
    assert_string_equal(m.reply, "_INBOX.x.1");
    assert_ptr_equal(m.data, data);
    assert_true(m.time >= before - 0.001 && m.time <= after + 0.001);
    json_decref(m.data);
    json_decref(data);

    m.data = NULL;
    assert_int_equal(bus_publish(f->bus, "evt.x", NULL, NULL), 0);
    assert_int_equal(bus_publish_new(f->bus, "evt.y", NULL, json_string("s")), 0);
    bus_flush(f->bus, 1);
    assert_int_equal(m.calls, 3);
    assert_false(m.had_reply);
    assert_string_equal(json_string_value(m.data), "s");
    json_decref(m.data);
}

/* ------------------------------------------------------------------ matching */

static void test_overlapping_wildcards(void **state)
{
    struct fx *f = *state;
    assert_non_null(bus_subscribe(f->bus, "a.*", tagged, "A"));
    assert_non_null(bus_subscribe(f->bus, "b.*", tagged, "no1"));
    assert_non_null(bus_subscribe(f->bus, "a.>", tagged, "B"));
    assert_non_null(bus_subscribe(f->bus, "*.b", tagged, "C"));
    assert_non_null(bus_subscribe(f->bus, "a.b.c", tagged, "no2"));
    assert_non_null(bus_subscribe(f->bus, ">", tagged, "D"));
    assert_non_null(bus_subscribe(f->bus, "a.b", tagged, "E"));
    assert_non_null(bus_subscribe(f->bus, "a", tagged, "no3"));
    assert_int_equal(bus_publish(f->bus, "a.b", NULL, NULL), 0);
    bus_flush(f->bus, 0);
    /* Each once, in subscription order. */
    assert_string_equal(trace, "A:a.b B:a.b C:a.b D:a.b E:a.b");
}

/* The order is the subscriptions' order, not the trie's walk. */
static void test_delivery_follows_subscription_order(void **state)
{
    struct fx *f = *state;
    assert_non_null(bus_subscribe(f->bus, "a.b", tagged, "E"));
    assert_non_null(bus_subscribe(f->bus, ">", tagged, "D"));
    assert_non_null(bus_subscribe(f->bus, "*.b", tagged, "C"));
    assert_non_null(bus_subscribe(f->bus, "a.>", tagged, "B"));
    assert_non_null(bus_subscribe(f->bus, "a.*", tagged, "A"));
    assert_int_equal(bus_publish(f->bus, "a.b", NULL, NULL), 0);
    bus_flush(f->bus, 0);
    assert_string_equal(trace, "E:a.b D:a.b C:a.b B:a.b A:a.b");
}

static void test_unsubscribe_then_publish(void **state)
{
    struct fx *f = *state;
    bus_sub *a = bus_subscribe(f->bus, "x.*", tagged, "A");
    bus_sub *b = bus_subscribe(f->bus, "x.y", tagged, "B");
    assert_int_equal(bus_sub_count(f->bus), 2);
    bus_unsubscribe(f->bus, a);
    assert_int_equal(bus_sub_count(f->bus), 1);
    assert_int_equal(bus_publish(f->bus, "x.y", NULL, NULL), 0);
    /* Matching happens at delivery: unsubscribing a queued message's
     * target still stops it. */
    bus_unsubscribe(f->bus, b);
    assert_int_equal(bus_sub_count(f->bus), 0);
    bus_flush(f->bus, 0);
    assert_string_equal(trace, "");
    bus_unsubscribe(f->bus, NULL); /* harmless */
}

/* ------------------------------------------------------------------ removal during dispatch */

struct self_unsub {
    bus_sub *sub;
    int calls;
};

static void unsub_self(bus_t *bus, const bus_msg *msg, void *arg)
{
    struct self_unsub *s = arg;
    s->calls++;
    bus_unsubscribe(bus, s->sub);
    bus_unsubscribe(bus, s->sub); /* twice: still harmless while dead */
}

static void test_unsubscribe_self_in_handler(void **state)
{
    struct fx *f = *state;
    struct self_unsub s = {0};
    s.sub = bus_subscribe(f->bus, "t", unsub_self, &s);
    assert_non_null(bus_subscribe(f->bus, "t", tagged, "after"));
    for (int i = 0; i < 3; i++)
        assert_int_equal(bus_publish(f->bus, "t", NULL, NULL), 0);
    bus_flush(f->bus, 0);
    assert_int_equal(s.calls, 1);
    assert_int_equal(bus_sub_count(f->bus), 1);
    assert_string_equal(trace, "after:t after:t after:t");
}

struct killer {
    bus_sub *victim;
    int calls;
};

static void kill_other(bus_t *bus, const bus_msg *msg, void *arg)
{
    struct killer *k = arg;
    k->calls++;
    trace_add("K", msg->subject);
    bus_unsubscribe(bus, k->victim);
    k->victim = NULL;
}

/* An earlier handler removes a subscription that the same message matched
 * later on: it must not run, and (ASan) must not be freed under the
 * dispatch. */
static void test_unsubscribe_later_match_in_handler(void **state)
{
    struct fx *f = *state;
    struct killer k = {0};
    assert_non_null(bus_subscribe(f->bus, "a.*", kill_other, &k));
    k.victim = bus_subscribe(f->bus, "a.>", tagged, "victim");
    assert_non_null(bus_subscribe(f->bus, ">", tagged, "other"));
    assert_int_equal(bus_publish(f->bus, "a.b", NULL, NULL), 0);
    assert_int_equal(bus_publish(f->bus, "a.c", NULL, NULL), 0);
    bus_flush(f->bus, 0);
    assert_int_equal(k.calls, 2);
    assert_string_equal(trace, "K:a.b other:a.b K:a.c other:a.c");
    assert_int_equal(bus_sub_count(f->bus), 2);
}

/* A later handler removes one that already ran: the next message skips it. */
static void test_unsubscribe_earlier_match_in_handler(void **state)
{
    struct fx *f = *state;
    struct killer k = {0};
    k.victim = bus_subscribe(f->bus, "q", tagged, "victim");
    assert_non_null(bus_subscribe(f->bus, "q", kill_other, &k));
    assert_int_equal(bus_publish(f->bus, "q", NULL, NULL), 0);
    assert_int_equal(bus_publish(f->bus, "q", NULL, NULL), 0);
    bus_flush(f->bus, 0);
    assert_string_equal(trace, "victim:q K:q K:q");
}

static void subscribe_more(bus_t *bus, const bus_msg *msg, void *arg)
{
    trace_add("S", msg->subject);
    if (!*(bool *)arg) {
        *(bool *)arg = true;
        assert_non_null(bus_subscribe(bus, msg->subject, tagged, "new"));
    }
}

/* A subscription made during a dispatch gets the next messages only. */
static void test_subscribe_in_handler(void **state)
{
    struct fx *f = *state;
    bool done = false;
    assert_non_null(bus_subscribe(f->bus, "s", subscribe_more, &done));
    assert_int_equal(bus_publish(f->bus, "s", NULL, NULL), 0);
    assert_int_equal(bus_publish(f->bus, "s", NULL, NULL), 0);
    bus_flush(f->bus, 0);
    assert_string_equal(trace, "S:s S:s new:s");
}

/* ------------------------------------------------------------------ ordering */

struct seq_check {
    json_int_t last;
    int count;
    int errors;
};

/* Counts messages and the ones whose number does not exceed the previous. */
static void check_seq(bus_t *bus, const bus_msg *msg, void *arg)
{
    struct seq_check *c = arg;
    json_int_t v = json_integer_value(msg->data);
    if (c->count > 0 && v <= c->last)
        c->errors++;
    c->last = v;
    c->count++;
}

static void test_order_across_many_publishes(void **state)
{
    struct fx *f = *state;
    struct seq_check all = {0}, evens = {0};
    assert_non_null(bus_subscribe(f->bus, "n.*", check_seq, &all));
    assert_non_null(bus_subscribe(f->bus, "n.even", check_seq, &evens));
    for (int i = 0; i < 10000; i++) {
        const char *subject = i % 2 ? "n.odd" : "n.even";
        assert_int_equal(bus_publish_new(f->bus, subject, NULL, json_integer(i)), 0);
    }
    assert_int_equal(bus_queue_length(f->bus), 10000);
    /* Drain through the real loop, in its batches. */
    for (int i = 0; i < 1000 && bus_queue_length(f->bus) > 0; i++)
        ev_run(f->loop, EVRUN_NOWAIT);
    assert_int_equal(bus_queue_length(f->bus), 0);
    assert_int_equal(all.count, 10000);
    assert_int_equal(all.errors, 0);
    assert_int_equal(all.last, 9999);
    assert_int_equal(evens.count, 5000);
    assert_int_equal(evens.errors, 0);
    assert_int_equal(evens.last, 9998);
}

static void republish(bus_t *bus, const bus_msg *msg, void *arg)
{
    trace_add("in", json_string_value(msg->data));
    assert_int_equal(bus_publish(bus, "out", NULL, msg->data), 0);
    bus_flush(bus, 0); /* ignored inside a drain: would reorder */
}

static void out_handler(bus_t *bus, const bus_msg *msg, void *arg)
{
    trace_add("out", json_string_value(msg->data));
}

static void test_publish_from_handler_keeps_order(void **state)
{
    struct fx *f = *state;
    assert_non_null(bus_subscribe(f->bus, "in", republish, NULL));
    assert_non_null(bus_subscribe(f->bus, "out", out_handler, NULL));
    assert_int_equal(bus_publish_new(f->bus, "in", NULL, json_string("1")), 0);
    assert_int_equal(bus_publish_new(f->bus, "in", NULL, json_string("2")), 0);
    assert_int_equal(bus_publish_new(f->bus, "in", NULL, json_string("3")), 0);
    bus_flush(f->bus, 1);
    assert_string_equal(trace, "in:1 in:2 in:3");
    assert_int_equal(bus_queue_length(f->bus), 3);
    bus_flush(f->bus, 1);
    assert_string_equal(trace, "in:1 in:2 in:3 out:1 out:2 out:3");
    assert_int_equal(bus_queue_length(f->bus), 0);
}

static void test_loop_delivers_and_goes_idle(void **state)
{
    struct fx *f = *state;
    assert_non_null(bus_subscribe(f->bus, "in", republish, NULL));
    assert_non_null(bus_subscribe(f->bus, "out", out_handler, NULL));
    assert_int_equal(bus_publish_new(f->bus, "in", NULL, json_string("1")), 0);
    assert_int_equal(bus_publish_new(f->bus, "in", NULL, json_string("2")), 0);
    /* With nothing else active, ev_run returns once the bus is idle: the
     * bus must stop its idle watcher when the queue is empty.  The alarm
     * turns a bus that never goes idle into a failure rather than a hang. */
    alarm(10);
    ev_run(f->loop, 0);
    alarm(0);
    assert_string_equal(trace, "in:1 in:2 out:1 out:2");
    assert_int_equal(bus_queue_length(f->bus), 0);
}

/* ------------------------------------------------------------------ subscription churn */

static void test_many_subscriptions_pruned(void **state)
{
    struct fx *f = *state;
    enum { N = 3000 };
    bus_sub **subs = calloc(N, sizeof *subs);
    char pattern[64];
    for (int i = 0; i < N; i++) {
        switch (i % 3) {
        case 0:
            snprintf(pattern, sizeof pattern, "other.%d.x", i);
            break;
        case 1:
            snprintf(pattern, sizeof pattern, "other.*.y%d", i);
            break;
        default:
            snprintf(pattern, sizeof pattern, "x%d.>", i);
        }
        subs[i] = bus_subscribe(f->bus, pattern, tagged, "never");
        assert_non_null(subs[i]);
    }
    bus_sub *target = bus_subscribe(f->bus, "bench.target.subject", tagged, "T");
    assert_non_null(target);
    assert_int_equal(bus_sub_count(f->bus), N + 1);
    assert_int_equal(bus_publish(f->bus, "bench.target.subject", NULL, NULL), 0);
    assert_int_equal(bus_publish(f->bus, "other.5.y4", NULL, NULL), 0); /* 4 % 3 == 1 */
    bus_flush(f->bus, 0);
    assert_string_equal(trace, "T:bench.target.subject never:other.5.y4");
    for (int i = 0; i < N; i++)
        bus_unsubscribe(f->bus, subs[i]);
    assert_int_equal(bus_sub_count(f->bus), 1);
    bus_unsubscribe(f->bus, target);
    assert_int_equal(bus_sub_count(f->bus), 0);
    /* Nothing left to match (test_subject checks that the trie pruned). */
    assert_int_equal(bus_publish(f->bus, "bench.target.subject", NULL, NULL), 0);
    assert_int_equal(bus_publish(f->bus, "other.1.y1", NULL, NULL), 0);
    bus_flush(f->bus, 0);
    assert_string_equal(trace, "T:bench.target.subject never:other.5.y4");
    free(subs);
}

/* ------------------------------------------------------------------ request/reply */

struct reply_rec {
    int calls;
    enum bus_reply_status status;
    bool had_msg;
    json_t *data;
    char subject[80];
    struct ev_loop *loop; /* broken when set */
};

static void on_reply(bus_t *bus, enum bus_reply_status status, const bus_msg *msg, void *arg)
{
    struct reply_rec *r = arg;
    r->calls++;
    r->status = status;
    r->had_msg = msg != NULL;
    if (msg) {
        json_decref(r->data);
        r->data = json_incref(msg->data);
        snprintf(r->subject, sizeof r->subject, "%s", msg->subject);
    }
    if (r->loop)
        ev_break(r->loop, EVBREAK_ONE);
}

/* Replies twice: only the first may reach the requester. */
static void echo(bus_t *bus, const bus_msg *msg, void *arg)
{
    json_t *reply = json_pack("{s:O}", "echo", msg->data);
    assert_int_equal(bus_reply(bus, msg, reply), 0);
    assert_int_equal(bus_reply(bus, msg, reply), 0);
    json_decref(reply);
}

static void silent(bus_t *bus, const bus_msg *msg, void *arg)
{
    trace_add("silent", msg->subject);
}

static void test_request_reply(void **state)
{
    struct fx *f = *state;
    struct reply_rec r = {0};
    assert_non_null(bus_subscribe(f->bus, "svc.echo", echo, NULL));
    json_t *q = json_string("hi");
    uint64_t id = bus_request(f->bus, "svc.echo", q, 5.0, on_reply, &r);
    json_decref(q);
    assert_true(id > 0);
    assert_int_equal(r.calls, 0);               /* never from inside bus_request */
    assert_int_equal(bus_sub_count(f->bus), 1); /* the inbox is not counted */
    bus_flush(f->bus, 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, BUS_REPLY_OK);
    assert_true(r.had_msg);
    assert_memory_equal(r.subject, "_INBOX.", 7);
    assert_string_equal(json_string_value(json_object_get(r.data, "echo")), "hi");
    json_decref(r.data);

    /* A second request gets a different id and inbox. */
    char first[80];
    snprintf(first, sizeof first, "%s", r.subject);
    r = (struct reply_rec){0};
    uint64_t id2 = bus_request(f->bus, "svc.echo", NULL, 5.0, on_reply, &r);
    assert_true(id2 > 0 && id2 != id);
    bus_flush(f->bus, 0);
    assert_int_equal(r.calls, 1);
    assert_string_not_equal(r.subject, first);
    assert_true(json_is_null(json_object_get(r.data, "echo")));
    json_decref(r.data);
}

static void test_request_reply_through_loop(void **state)
{
    struct fx *f = *state;
    struct reply_rec r = {.loop = f->loop};
    assert_non_null(bus_subscribe(f->bus, "svc.echo", echo, NULL));
    assert_true(bus_request(f->bus, "svc.echo", NULL, 5.0, on_reply, &r) > 0);
    assert_true(run_loop(f->loop, 5.0));
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, BUS_REPLY_OK);
    json_decref(r.data);
}

static void test_request_timeout(void **state)
{
    struct fx *f = *state;
    struct reply_rec r = {.loop = f->loop};
    assert_non_null(bus_subscribe(f->bus, "svc.slow", silent, NULL));
    double t0 = ev_time();
    assert_true(bus_request(f->bus, "svc.slow", NULL, 0.05, on_reply, &r) > 0);
    assert_true(run_loop(f->loop, 5.0));
    double elapsed = ev_time() - t0;
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, BUS_REPLY_TIMEOUT);
    assert_false(r.had_msg);
    assert_true(elapsed >= 0.045);
    assert_true(elapsed < 2.0);
    assert_string_equal(trace, "silent:svc.slow");
}

static void test_request_no_responders(void **state)
{
    struct fx *f = *state;
    struct reply_rec r = {0};
    assert_true(bus_request(f->bus, "nobody.home", NULL, 5.0, on_reply, &r) > 0);
    assert_int_equal(r.calls, 0);
    bus_flush(f->bus, 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, BUS_REPLY_NO_RESPONDERS);
    assert_false(r.had_msg);

    /* Through the loop as well, well before the timeout. */
    r = (struct reply_rec){.loop = f->loop};
    double t0 = ev_time();
    assert_true(bus_request(f->bus, "nobody.home", NULL, 3.0, on_reply, &r) > 0);
    assert_true(run_loop(f->loop, 5.0));
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, BUS_REPLY_NO_RESPONDERS);
    assert_true(ev_time() - t0 < 1.0);
}

/* A message with a reply subject that is not one of our inboxes, matching
 * nothing, is simply dropped. */
static void test_foreign_reply_subject_dropped(void **state)
{
    struct fx *f = *state;
    assert_int_equal(bus_publish(f->bus, "nobody", "_INBOX.someone.1", NULL), 0);
    assert_int_equal(bus_publish(f->bus, "nobody", "reply.here", NULL), 0);
    bus_flush(f->bus, 0);
    assert_int_equal(bus_queue_length(f->bus), 0);
}

static void test_request_cancel(void **state)
{
    struct fx *f = *state;
    struct reply_rec r = {0}, slow = {0};
    assert_non_null(bus_subscribe(f->bus, "svc.echo", echo, NULL));
    assert_non_null(bus_subscribe(f->bus, "svc.slow", silent, NULL));
    uint64_t id = bus_request(f->bus, "svc.echo", NULL, 5.0, on_reply, &r);
    uint64_t id2 = bus_request(f->bus, "svc.slow", NULL, 0.02, on_reply, &slow);
    assert_true(id > 0 && id2 > 0);
    bus_request_cancel(f->bus, id);
    bus_request_cancel(f->bus, id2);
    bus_request_cancel(f->bus, id2);      /* twice */
    bus_request_cancel(f->bus, 9999999u); /* unknown */
    bus_flush(f->bus, 0);
    /* Let the cancelled timeout's moment pass with the loop running. */
    struct reply_rec tick = {.loop = f->loop};
    assert_true(bus_request(f->bus, "svc.slow", NULL, 0.1, on_reply, &tick) > 0);
    assert_true(run_loop(f->loop, 5.0));
    assert_int_equal(tick.status, BUS_REPLY_TIMEOUT);
    assert_int_equal(r.calls, 0);
    assert_int_equal(slow.calls, 0);
}

static void test_request_invalid(void **state)
{
    struct fx *f = *state;
    struct reply_rec r = {0};
    errno = 0;
    assert_int_equal(bus_request(f->bus, "a..b", NULL, 1.0, on_reply, &r), 0);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(bus_request(f->bus, "a.*", NULL, 1.0, on_reply, &r), 0);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(bus_request(f->bus, "a", NULL, 0.0, on_reply, &r), 0);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(bus_request(f->bus, "a", NULL, -1.0, on_reply, &r), 0);
    assert_int_equal(bus_request(f->bus, "a", NULL, NAN, on_reply, &r), 0);
    assert_int_equal(bus_request(f->bus, "a", NULL, INFINITY, on_reply, &r), 0);
    assert_int_equal(bus_request(f->bus, "a", NULL, 1.0, NULL, &r), 0);
    assert_int_equal(bus_queue_length(f->bus), 0);
    bus_flush(f->bus, 0);
    assert_int_equal(r.calls, 0);
}

static void test_free_with_pending_request(void **state)
{
    struct fx *f = *state;
    struct reply_rec r = {0};
    assert_non_null(bus_subscribe(f->bus, "svc.slow", silent, NULL));
    assert_true(bus_request(f->bus, "svc.slow", NULL, 5.0, on_reply, &r) > 0);
    bus_flush(f->bus, 0);
    /* One more queued, with data, to be dropped without a leak. */
    json_t *data = json_object();
    assert_true(bus_request(f->bus, "svc.slow", data, 5.0, on_reply, &r) > 0);
    json_decref(data); /* borrowed: the queued message keeps its own */
    assert_int_equal(r.calls, 0);
    bus_free(f->bus);
    f->bus = NULL;
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.status, BUS_REPLY_CANCELLED);
    assert_false(r.had_msg);
    /* No watcher of the freed bus may remain on the loop. */
    ev_run(f->loop, EVRUN_NOWAIT);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_invalid_arguments),
        T(test_publish_is_asynchronous),
        T(test_message_fields),
        T(test_overlapping_wildcards),
        T(test_delivery_follows_subscription_order),
        T(test_unsubscribe_then_publish),
        T(test_unsubscribe_self_in_handler),
        T(test_unsubscribe_later_match_in_handler),
        T(test_unsubscribe_earlier_match_in_handler),
        T(test_subscribe_in_handler),
        T(test_order_across_many_publishes),
        T(test_publish_from_handler_keeps_order),
        T(test_loop_delivers_and_goes_idle),
        T(test_many_subscriptions_pruned),
        T(test_request_reply),
        T(test_request_reply_through_loop),
        T(test_request_timeout),
        T(test_request_no_responders),
        T(test_foreign_reply_subject_dropped),
        T(test_request_cancel),
        T(test_request_invalid),
        T(test_free_with_pending_request),
    };
#undef T
    return RUN_TESTS(tests);
}
