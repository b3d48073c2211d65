/* Unit tests for core/lib/principal.c: grants, pattern cover, and the
 * checked bus operations. */
#include "config.h"

#include "tap.h"

#include <bosun/principal.h>

#include <errno.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>

static void test_covers(void **state)
{
    assert_true(bus_pattern_covers(">", "a"));
    assert_true(bus_pattern_covers(">", "a.>"));
    assert_true(bus_pattern_covers("a.>", "a.b.*"));
    assert_true(bus_pattern_covers("a.>", "a.>"));
    assert_true(bus_pattern_covers("a.*", "a.b"));
    assert_true(bus_pattern_covers("a.*", "a.*"));
    assert_true(bus_pattern_covers("a.b", "a.b"));
    assert_false(bus_pattern_covers("a.>", "a"));
    assert_false(bus_pattern_covers("a.>", ">"));
    assert_false(bus_pattern_covers("a.>", "*.b"));
    assert_false(bus_pattern_covers("a.*", "a.>"));
    assert_false(bus_pattern_covers("a.b", "a.*"));
    assert_false(bus_pattern_covers("a.*", "a.b.c"));
    assert_false(bus_pattern_covers("a.b.c", "a.b"));
    assert_false(bus_pattern_covers("a..b", "a.b"));
}

static void test_deny_by_default(void **state)
{
    bus_principal *p = bus_principal_new("anonymous", NULL);
    assert_non_null(p);
    assert_string_equal(bus_principal_kind(p), "anonymous");
    assert_false(bus_principal_may(p, BUS_PERM_PUB, "a"));
    assert_false(bus_principal_may(p, BUS_PERM_SUB, ">"));
    assert_false(bus_principal_may(p, BUS_PERM_REQ, "cmd.proc.stop"));
    assert_false(bus_principal_may(NULL, BUS_PERM_PUB, "a"));
    bus_principal_free(p);
}

static void test_grants(void **state)
{
    bus_principal *p = bus_principal_new("agent", "RUN1");
    assert_int_equal(bus_principal_allow(p, BUS_PERM_PUB, "mcp.session.S1.in"), 0);
    assert_int_equal(bus_principal_allow(p, BUS_PERM_SUB, "mcp.session.S1.*"), 0);
    assert_int_equal(bus_principal_allow(p, BUS_PERM_REQ, "cmd.mcp.open"), 0);
    assert_int_equal(bus_principal_allow(p, BUS_PERM_PUB, "bad..pattern"), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(bus_principal_allow(p, (enum bus_perm)7, "a"), -1);

    assert_true(bus_principal_may(p, BUS_PERM_PUB, "mcp.session.S1.in"));
    assert_false(bus_principal_may(p, BUS_PERM_PUB, "mcp.session.S2.in"));
    assert_false(bus_principal_may(p, BUS_PERM_PUB, "evt.run.a.RUN1.state"));
    assert_false(bus_principal_may(p, BUS_PERM_PUB, "mcp.session.*.in")); /* not concrete */
    assert_true(bus_principal_may(p, BUS_PERM_SUB, "mcp.session.S1.out"));
    assert_true(bus_principal_may(p, BUS_PERM_SUB, "mcp.session.S1.*"));
    assert_false(bus_principal_may(p, BUS_PERM_SUB, "mcp.session.S1.>"));
    assert_false(bus_principal_may(p, BUS_PERM_SUB, "cmd.>"));
    assert_false(bus_principal_may(p, BUS_PERM_SUB, "_INBOX.>"));
    assert_true(bus_principal_may(p, BUS_PERM_REQ, "cmd.mcp.open"));
    assert_false(bus_principal_may(p, BUS_PERM_REQ, "cmd.proc.stop"));
    assert_false(bus_principal_may(p, BUS_PERM_PUB, "cmd.mcp.open")); /* rights are apart */

    bus_principal_revoke(p);
    assert_false(bus_principal_may(p, BUS_PERM_PUB, "mcp.session.S1.in"));
    assert_false(bus_principal_may(p, BUS_PERM_REQ, "cmd.mcp.open"));
    bus_principal_free(p);
}

static void test_admin_all(void **state)
{
    bus_principal *p = bus_principal_new("admin", "0");
    for (int i = 0; i < 3; i++)
        assert_int_equal(bus_principal_allow(p, (enum bus_perm)i, ">"), 0);
    assert_true(bus_principal_may(p, BUS_PERM_PUB, "evt.run.a.b.state"));
    assert_true(bus_principal_may(p, BUS_PERM_SUB, ">"));
    assert_true(bus_principal_may(p, BUS_PERM_REQ, "cmd.proc.stop"));
    bus_principal_free(p);
}

static int seen;
static void count(bus_t *bus, const bus_msg *m, void *arg)
{
    seen++;
}

static enum bus_reply_status reply_status = 99;
static void on_reply(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    reply_status = st;
}

/* The checked operations refuse with EACCES, keep EINVAL for bad
 * syntax, and do what the plain ones do when granted. */
static void test_bus_as(void **state)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    bus_t *bus = bus_new(loop);
    bus_principal *p = bus_principal_new("agent", "R");
    bus_principal_allow(p, BUS_PERM_PUB, "x.allowed");
    bus_principal_allow(p, BUS_PERM_SUB, "x.*");
    bus_principal_allow(p, BUS_PERM_REQ, "svc.ok");
    seen = 0;
    bus_sub *all = bus_subscribe(bus, "x.>", count, NULL);

    errno = 0;
    assert_int_equal(bus_publish_as(bus, p, "evt.run.a.b.state", NULL, NULL), -1);
    assert_int_equal(errno, EACCES);
    assert_int_equal(bus_publish_as(bus, p, "bad..subject", NULL, NULL), -1);
    assert_int_equal(errno, EINVAL);
    /* A reply subject outside what it may read is refused too. */
    assert_int_equal(bus_publish_as(bus, p, "x.allowed", "_INBOX.victim.1", NULL), -1);
    assert_int_equal(errno, EACCES);
    assert_int_equal(bus_publish_as(bus, p, "x.allowed", "x.mine", NULL), 0);
    assert_int_equal(bus_publish_as(bus, p, "x.allowed", NULL, NULL), 0);

    assert_null(bus_subscribe_as(bus, p, "cmd.>", count, NULL));
    assert_int_equal(errno, EACCES);
    assert_null(bus_subscribe_as(bus, p, "x.>", count, NULL));
    bus_sub *mine = bus_subscribe_as(bus, p, "x.*", count, NULL);
    assert_non_null(mine);

    assert_int_equal(bus_request_as(bus, p, "cmd.proc.stop", NULL, 1, on_reply, NULL), 0);
    assert_int_equal(errno, EACCES);
    assert_true(bus_request_as(bus, p, "svc.ok", NULL, 1, on_reply, NULL) > 0);
    ev_run(loop, 0); /* no responders: ends at once */
    assert_int_equal(reply_status, BUS_REPLY_NO_RESPONDERS);
    /* The 2 publishes allowed, each seen by "x.>" and by "x.*". */
    assert_int_equal(seen, 4);

    bus_unsubscribe(bus, mine);
    bus_unsubscribe(bus, all);
    bus_principal_free(p);
    bus_free(bus);
    ev_loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_covers), cmocka_unit_test(test_deny_by_default),
        cmocka_unit_test(test_grants), cmocka_unit_test(test_admin_all),
        cmocka_unit_test(test_bus_as),
    };
    return RUN_TESTS(tests);
}
