/* Unit tests for the model price table (core/lib/price.c). */
#include "config.h"

#include "tap.h"

#include <bosun/price.h>

#include <stdio.h>
#include <string.h>

static cfg_node *root;

static bosun_prices *prices_of(const char *yaml, cfg_diag *d)
{
    cfg_diag_init(d);
    root = cfg_load_string(yaml, strlen(yaml), "t.yaml", d);
    assert_non_null(root);
    return bosun_prices_new(cfg_get(root, "prices"), d);
}

static void test_defaults_exact_and_family(void **state)
{
    bosun_price p;
    assert_true(bosun_prices_lookup(NULL, "gpt-5-codex", &p));
    assert_true(p.input_per_mtok == 1.25 && p.output_per_mtok == 10.0);
    assert_true(p.cached_input_per_mtok == 0.125);
    /* A dated sibling takes its family's price; the longest family wins. */
    assert_true(bosun_prices_lookup(NULL, "gemini-2.5-flash-lite-preview-09-2025", &p));
    assert_true(p.input_per_mtok == 0.10 && p.output_per_mtok == 0.40);
    assert_true(bosun_prices_lookup(NULL, "gemini-2.5-flash-001", &p));
    assert_true(p.input_per_mtok == 0.30);
    /* A prefix that does not end at a '-' is another model. */
    assert_false(bosun_prices_lookup(NULL, "gpt-50", &p));
    assert_false(bosun_prices_lookup(NULL, "", &p));
    assert_false(bosun_prices_lookup(NULL, NULL, &p));
    assert_false(bosun_prices_lookup(NULL, "claude-opus-4", &p));
}

static void test_cost(void **state)
{
    bosun_price p = {2.0, 10.0, 0.5};
    /* 1000 in, 500 out, 2000 cached: (2000 + 5000 + 1000) / 1e6 */
    assert_true(bosun_price_cost(&p, 1000, 500, 2000) == 8000 / 1e6);
    assert_true(bosun_price_cost(&p, -5, 0, -1) == 0);
}

static void test_user_overrides_and_extends(void **state)
{
    cfg_diag d;
    bosun_prices *t = prices_of("prices:\n"
                                "  gpt-5-codex: {input_per_mtok: 3, output_per_mtok: 4,"
                                " cached_input_per_mtok: 0.5}\n"
                                "  my-model: {input_per_mtok: 1, output_per_mtok: 2}\n",
                                &d);
    assert_non_null(t);
    assert_int_equal(d.n, 0);
    bosun_price p;
    assert_true(bosun_prices_lookup(t, "gpt-5-codex", &p));
    assert_true(p.input_per_mtok == 3 && p.output_per_mtok == 4 && p.cached_input_per_mtok == 0.5);
    assert_true(bosun_prices_lookup(t, "gpt-5-codex-2025-09-15", &p));
    assert_true(p.input_per_mtok == 3);
    /* No cached price: cached input is billed as input. */
    assert_true(bosun_prices_lookup(t, "my-model", &p));
    assert_true(p.cached_input_per_mtok == 1);
    /* Defaults the user did not name stay. */
    assert_true(bosun_prices_lookup(t, "gemini-2.5-pro", &p));
    assert_true(p.output_per_mtok == 10.0);
    bosun_prices_free(t);
    cfg_free(root);
    cfg_diag_free(&d);
}

static void assert_refused(const char *yaml, const char *want)
{
    cfg_diag d;
    bosun_prices *t = prices_of(yaml, &d);
    assert_null(t);
    assert_true(d.n >= 1);
    if (!strstr(d.msgs[0], want))
        fprintf(stderr, "# got: %s\n", d.msgs[0]);
    assert_non_null(strstr(d.msgs[0], want));
    cfg_free(root);
    cfg_diag_free(&d);
}

static void test_errors(void **state)
{
    assert_refused("prices: [a]\n", "t.yaml:1:9: 'prices': must be a map");
    assert_refused("prices:\n  m: 3\n", "t.yaml:2:6: 'prices.m': must be a map");
    assert_refused("prices:\n  m: {input_per_mtok: -1, output_per_mtok: 1}\n",
                   "t.yaml:2:23: 'prices.m.input_per_mtok': a price");
    assert_refused("prices:\n  m: {input_per_mtok: x1, output_per_mtok: 1}\n",
                   "'prices.m.input_per_mtok': a price");
    assert_refused("prices:\n  m: {input_per_mtok: 1}\n",
                   "t.yaml:2:6: 'prices.m': needs 'output_per_mtok'");
    assert_refused("prices:\n  m: {input_per_mtok: 1, output_per_mtok: 1, cost: 2}\n", "cost");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_exact_and_family),
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_user_overrides_and_extends),
        cmocka_unit_test(test_errors),
    };
    return RUN_TESTS(tests);
}
