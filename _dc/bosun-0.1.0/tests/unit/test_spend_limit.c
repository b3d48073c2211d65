/* spend_limit: the budgets' totals (per task, per agent and UTC day, the
 * machine's day), which budget a run is over first, and the config
 * parser's refusals. */
#include "config.h"

#include "tap.h"

#include "../../core/daemon/supervise/spend_limit.h"

#include <bosun/cfg.h>
#include <bosun/sys.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400.0
/* Today's noon (UTC): days before yesterday are forgotten as they pass. */
static double today;
#define NOON (today * DAY + 12 * 3600.0)

static void totals_by_task_and_day(void **state)
{
    spend_totals *t = spend_totals_new();
    spend_totals_add(t, "a", "T1", 1.5, NOON);
    spend_totals_add(t, "a", "T1", 1.0, NOON + 60);
    spend_totals_add(t, "b", NULL, 2.0, NOON);
    spend_totals_add(t, "a", "T1", -5, NOON); /* never subtracts */
    assert_true(spend_totals_task(t, "T1") == 2.5);
    assert_true(spend_totals_task(t, "T2") == 0);
    assert_true(spend_totals_day(t, "a", NOON) == 2.5);
    assert_true(spend_totals_day(t, NULL, NOON) == 4.5);
    /* The next UTC day starts from zero; a task's total does not. */
    assert_true(spend_totals_day(t, "a", NOON + DAY) == 0);
    assert_true(spend_totals_day(t, "a", (today + 1) * DAY - 1) == 2.5);
    assert_true(spend_totals_day(t, "a", (today + 1) * DAY) == 0);
    /* A stored run of last week counts for its task, not for any day. */
    spend_totals_add(t, "a", "T9", 7, NOON - 7 * DAY);
    assert_true(spend_totals_task(t, "T9") == 7);
    assert_true(spend_totals_day(t, "a", NOON - 7 * DAY) == 0);
    spend_totals_free(t);
}

static void check_order_and_refusal(void **state)
{
    spend_totals *t = spend_totals_new();
    spend_limits a = {
        .usd_per_run = 1, .usd_per_task = 3, .usd_per_day = 10, .tokens_per_run = 500};
    spend_limits g = {.usd_per_day = 4};
    spend_over o;
    spend_run r = {.agent = "a", .task = "T1", .usd = 0.5, .tokens = 499};
    assert_false(spend_check(&a, &g, t, &r, true, NOON, &o));
    r.tokens = 500;
    assert_true(spend_check(&a, &g, t, &r, true, NOON, &o));
    assert_string_equal(o.which, "tokens_per_run");
    r.usd = 1;
    assert_true(spend_check(&a, &g, t, &r, true, NOON, &o));
    assert_string_equal(o.which, "usd_per_run");
    /* A new run (not running) is never refused by a per-run limit. */
    assert_false(spend_check(&a, &g, t, &r, false, NOON, &o));
    spend_totals_add(t, "a", "T1", 3, NOON);
    assert_true(spend_check(&a, &g, t, &r, false, NOON, &o));
    assert_string_equal(o.which, "usd_per_task");
    char buf[512];
    spend_refusal_text(&o, "a", "T1", buf, sizeof buf);
    assert_non_null(
        strstr(buf, "budget usd_per_task exceeded: $3.0000 spent of $3.0000 by task T1"));
    assert_non_null(strstr(buf, "until a reload raises the limit"));
    r.task = "T2";
    spend_totals_add(t, "b", NULL, 1.5, NOON);
    assert_true(spend_check(&a, &g, t, &r, false, NOON, &o));
    assert_string_equal(o.which, "global usd_per_day");
    spend_refusal_text(&o, "a", NULL, buf, sizeof buf);
    assert_non_null(strstr(buf, "next UTC day"));
    /* Tomorrow the days allow again. */
    assert_false(spend_check(&a, &g, t, &r, false, NOON + DAY, &o));
    spend_totals_free(t);
}

static cfg_node *load(const char *text, cfg_diag *d)
{
    return cfg_load_string(text, strlen(text), "b.yaml", d);
}

static void parse_errors(void **state)
{
    static const char *const bad[] = {
        "budget: {usd_per_run: 0}\n",
        "budget: {usd_per_run: x}\n",
        "budget: {tokens_per_run: 2.5}\n",
        "budget: {usd_per_week: 1}\n",
        "budget: [1]\n",
        "budget: {usd_per_day: 2000000}\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg_diag d = {0};
        cfg_node *root = load(bad[i], &d);
        assert_non_null(root);
        spend_limits l;
        assert_false(spend_limits_parse(root, true, &l, &d));
        cfg_diag_free(&d);
        cfg_free(root);
    }
    cfg_diag d = {0};
    cfg_node *root = load("budget: {usd_per_day: 2.5, tokens_per_run: 1000}\n", &d);
    spend_limits l;
    assert_true(spend_limits_parse(root, true, &l, &d));
    assert_true(l.usd_per_day == 2.5 && l.tokens_per_run == 1000 && l.usd_per_run == 0);
    /* The global section has only usd_per_day. */
    assert_false(spend_limits_parse(root, false, &l, &d));
    cfg_diag_free(&d);
    cfg_free(root);
}

int main(void)
{
    today = floor(bosun_now() / DAY);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(totals_by_task_and_day),
        cmocka_unit_test(check_order_and_refusal),
        cmocka_unit_test(parse_errors),
    };
    return RUN_TESTS(tests);
}
