/* Unit tests for what Codex takes from bosun's approvals
 * (plugins/codex/codex_policy.c, compiled in): a table of policies and
 * permission modes and the sandbox, the switched-off bosun tools and the
 * rules reported as not honoured. */
#include "config.h"

#include "tap.h"

#include <stdlib.h>
#include <string.h>

#include "codex.h"
#include "approval_helpers.h"

static void test_none(void **state)
{
    codex_policy out;
    notes ns = {{0}, 0};
    assert_int_equal(codex_policy_of(NULL, NULL, "workspace-write", &out, note, &ns), 0);
    assert_null(out.sandbox);
    assert_null(out.disabled);
    assert_int_equal(ns.n, 0);
}

static void test_table(void **state)
{
    static const struct {
        const char *policy, *mode, *sandbox, *note;
        unsigned notes;
    } cases[] = {
        /* Whole-tool rules on the tools that write decide the sandbox. */
        {"{\"deny\":[\"Bash\"]}", "workspace-write", "read-only", "Bash: Codex cannot refuse", 2},
        {"{\"deny\":[\"Edit\"]}", NULL, "read-only", NULL, 0},
        {"{\"deny\":[\"*\"]}", NULL, "read-only", NULL, 1},
        {"{\"allow\":[\"Bash\"]}", NULL, "workspace-write", NULL, 0},
        {"{\"allow\":[\"Bash(*)\"]}", NULL, "workspace-write", NULL, 0},
        {"{\"allow\":[\"Bash\"]}", "danger-full-access", NULL, NULL, 0},
        {"{\"allow\":[\"Bash\"]}", "read-only", NULL, NULL, 0},
        /* The default: deny or ask lowers to read-only unless a whole
         * allow says otherwise; allow opens workspace-write. */
        {"{\"default\":\"deny\"}", "workspace-write", "read-only", "permission_mode: lowered", 1},
        {"{\"default\":\"ask\"}", NULL, "read-only", NULL, 0},
        {"{\"default\":\"ask\",\"allow\":[\"Write\"]}", NULL, "workspace-write", NULL, 0},
        {"{\"default\":\"allow\"}", NULL, "workspace-write", NULL, 0},
        /* Deny wins over allow. */
        {"{\"deny\":[\"Write\"],\"allow\":[\"Bash\"]}", NULL, "read-only", NULL, 0},
        /* What Codex cannot take: reported, the sandbox unchanged. */
        {"{\"deny\":[\"Bash(rm -rf:*)\"]}", "workspace-write", NULL,
         "Bash(rm -rf:*): Codex takes no per-command", 1},
        {"{\"ask\":[\"Bash\"]}", NULL, NULL, "Bash: codex exec cannot ask", 1},
        {"{\"deny\":[\"WebFetch\"]}", NULL, NULL, "WebFetch: Codex has no switch", 1},
        {"{\"deny\":[\"mcp__github__create_issue\"]}", NULL, NULL, "not bosun's to change", 1},
        /* Reading is honoured as it is. */
        {"{\"allow\":[\"Read\",\"Grep\"]}", NULL, NULL, NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bosun_approval_policy *p = pol(cases[i].policy);
        codex_policy out;
        notes ns = {{0}, 0};
        assert_int_equal(codex_policy_of(p, NULL, cases[i].mode, &out, note, &ns), 0);
        if ((out.sandbox == NULL) != (cases[i].sandbox == NULL) ||
            (out.sandbox && strcmp(out.sandbox, cases[i].sandbox) != 0))
            fail_msg("%s with %s: sandbox %s, not %s", cases[i].policy,
                     cases[i].mode ? cases[i].mode : "no mode", out.sandbox ? out.sandbox : "none",
                     cases[i].sandbox ? cases[i].sandbox : "none");
        if (ns.n != cases[i].notes || (cases[i].note && !strstr(ns.text, cases[i].note)))
            fail_msg("%s: %u notes, not %u with '%s':\n%s", cases[i].policy, ns.n, cases[i].notes,
                     cases[i].note ? cases[i].note : "", ns.text);
        codex_policy_clear(&out);
        bosun_approval_policy_free(p);
    }
}

/* bosun's own server: a denied tool is switched off, a denied server is
 * not given to Codex, an ask is reported. */
static void test_bosun_tools(void **state)
{
    bosun_approval_policy *agent = pol("{\"deny\":[\"mcp__bosun__request_input\"]}");
    bosun_approval_policy *global = pol("{\"deny\":[\"mcp__bosun__send_*\",\"mcp__bosun__notify\"],"
                                        "\"ask\":[\"mcp__bosun__approve\"]}");
    codex_policy out;
    notes ns = {{0}, 0};
    assert_int_equal(codex_policy_of(agent, global, NULL, &out, note, &ns), 0);
    assert_non_null(out.disabled);
    assert_string_equal(out.disabled[0], "request_input");
    assert_string_equal(out.disabled[1], "notify");
    assert_null(out.disabled[2]);
    assert_false(out.bosun_off);
    assert_int_equal(ns.n, 2);
    assert_non_null(strstr(ns.text, "mcp__bosun__send_*: Codex switches MCP tools off by exact"));
    assert_non_null(strstr(ns.text, "mcp__bosun__approve: codex exec cannot ask"));
    codex_policy_clear(&out);
    bosun_approval_policy_free(agent);
    bosun_approval_policy_free(global);
    agent = pol("{\"deny\":[\"mcp__bosun\"]}");
    assert_int_equal(codex_policy_of(agent, NULL, NULL, &out, note, &ns), 0);
    assert_true(out.bosun_off);
    codex_policy_clear(&out);
    bosun_approval_policy_free(agent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_bosun_tools),
    };
    return RUN_TESTS(tests);
}
