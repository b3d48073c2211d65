/* Unit tests for the approval policy as data (core/lib/approval_map.c) and
 * the Gemini policy file made from it (plugins/gemini/gemini_policy.c,
 * compiled in): a table of policies and the Gemini rules they become. */
#include "config.h"

#include "tap.h"

#include <bosun/approval_map.h>

#include <stdlib.h>
#include <string.h>

#include "gemini.h"
#include "approval_helpers.h"

static void test_split(void **state)
{
    bosun_approval_rule_parts r;
    assert_true(bosun_approval_rule_split("Read", &r));
    assert_int_equal(r.kind, BOSUN_APPROVAL_SPEC_NONE);
    assert_int_equal(r.name_len, 4);
    assert_null(r.spec);
    assert_true(bosun_approval_rule_split("Bash(git status:*)", &r));
    assert_int_equal(r.kind, BOSUN_APPROVAL_SPEC_PREFIX);
    assert_int_equal(r.name_len, 4);
    assert_int_equal(r.spec_len, 10);
    assert_memory_equal(r.spec, "git status", 10);
    assert_true(bosun_approval_rule_split("WebFetch(domain:*.example.com)", &r));
    assert_int_equal(r.kind, BOSUN_APPROVAL_SPEC_DOMAIN);
    assert_memory_equal(r.spec, "*.example.com", r.spec_len);
    assert_true(bosun_approval_rule_split("Edit(src/**)", &r));
    assert_int_equal(r.kind, BOSUN_APPROVAL_SPEC_GLOB);
    assert_memory_equal(r.spec, "src/**", r.spec_len);
    assert_false(bosun_approval_rule_split("Bash(", &r));
}

/* The entries come in bosun_approval_evaluate's order: every deny, then
 * sticky allows, then ask, then allow; agent before global. */
static void test_entries_order(void **state)
{
    bosun_approval_policy *sticky = pol("{\"allow\":[\"Bash(make:*)\"]}");
    bosun_approval_policy *agent = pol("{\"allow\":[\"Read\"],\"ask\":[\"Edit\"]}");
    bosun_approval_policy *global = pol("{\"deny\":[\"Bash(rm:*)\"],\"allow\":[\"Grep\"],"
                                        "\"ask\":[\"Write\"],\"default\":\"deny\"}");
    bosun_approval_entry *e;
    size_t n;
    assert_true(bosun_approval_entries(sticky, agent, global, &e, &n));
    static const char *const want[] = {"Bash(rm:*)", "Bash(make:*)", "Edit",
                                       "Write",      "Read",         "Grep"};
    static const unsigned rank[] = {0, 1, 2, 2, 3, 3};
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(e[i].rule, want[i]);
        assert_int_equal(e[i].rank, rank[i]);
    }
    assert_int_equal(e[0].source, BOSUN_APPROVAL_FROM_GLOBAL);
    assert_int_equal(e[1].source, BOSUN_APPROVAL_FROM_STICKY);
    assert_int_equal(e[4].source, BOSUN_APPROVAL_FROM_AGENT);
    free(e);
    enum bosun_approval_decision d;
    assert_true(bosun_approval_default_of(agent, global, &d));
    assert_int_equal(d, BOSUN_APPROVAL_DENY);
    assert_false(bosun_approval_default_of(agent, NULL, &d));
    assert_true(bosun_approval_entries(NULL, NULL, NULL, &e, &n));
    assert_int_equal(n, 0);
    assert_null(e);
    bosun_approval_policy_free(sticky);
    bosun_approval_policy_free(agent);
    bosun_approval_policy_free(global);
}

/* Both policies from a bosun.yaml: the agent's section and the top level. */
static void test_policies_of(void **state)
{
    static const char yaml[] = "approvals:\n  deny: [Bash]\n"
                               "agents:\n  a:\n    type: gemini\n    approvals:\n"
                               "      allow: [Read]\n  b:\n    type: gemini\n";
    cfg_diag d;
    cfg_diag_init(&d);
    cfg_node *root = cfg_load_string(yaml, strlen(yaml), "t.yaml", &d);
    assert_non_null(root);
    bosun_approval_policy *agent, *global;
    char err[200];
    const cfg_node *a = cfg_get(cfg_get(root, "agents"), "a");
    assert_true(bosun_approval_policies_of(a, &agent, &global, err, sizeof err));
    assert_non_null(agent);
    assert_non_null(global);
    assert_string_equal(bosun_approval_policy_rule(agent, BOSUN_APPROVAL_ALLOW, 0), "Read");
    assert_string_equal(bosun_approval_policy_rule(global, BOSUN_APPROVAL_DENY, 0), "Bash");
    assert_null(bosun_approval_policy_rule(global, BOSUN_APPROVAL_DENY, 1));
    bosun_approval_policy_free(agent);
    bosun_approval_policy_free(global);
    const cfg_node *b = cfg_get(cfg_get(root, "agents"), "b");
    assert_true(bosun_approval_policies_of(b, &agent, &global, err, sizeof err));
    assert_null(agent);
    assert_non_null(global);
    bosun_approval_policy_free(global);
    cfg_free(root);
    cfg_diag_free(&d);
}

/* ------------------------------------------------------------ Gemini */

/* The policy file of an agent policy (JSON), with the notes it gave. */
static char *gem(const char *agent_json, notes *ns)
{
    bosun_approval_policy *p = agent_json ? pol(agent_json) : NULL;
    char *text = NULL;
    memset(ns, 0, sizeof *ns);
    assert_int_equal(gemini_policy_toml(p, NULL, &text, note, ns), 0);
    bosun_approval_policy_free(p);
    return text;
}

static void has(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("missing in the policy file:\n%s\n--- in:\n%s", part, text);
}

static void test_gemini_none(void **state)
{
    notes ns;
    assert_null(gem(NULL, &ns));
    assert_int_equal(ns.n, 0);
}

/* Each rule shape and what Gemini is given for it. */
static void test_gemini_table(void **state)
{
    static const struct {
        const char *policy, *want;
        unsigned notes;
    } cases[] = {
        {"{\"deny\":[\"Bash(rm -rf:*)\"]}",
         "[[rule]]\ntoolName = \"run_shell_command\"\ncommandPrefix = \"rm -rf\"\n"
         "decision = \"deny\"\npriority = 999\ndenyMessage = \"bosun's approval policy (agent rule "
         "Bash(rm -rf:*)) denies this call\"\n",
         0},
        {"{\"allow\":[\"Bash\"]}",
         "toolName = \"run_shell_command\"\ndecision = \"allow\"\npriority = 600\n"
         "allowRedirection = true\n",
         0},
        {"{\"ask\":[\"Write\"]}",
         "toolName = \"write_file\"\ndecision = \"ask_user\"\npriority = 700\n", 1},
        {"{\"allow\":[\"Read\"]}",
         "toolName = \"read_file\"\ndecision = \"allow\"\npriority = 600\n\n# allow Read "
         "(agent)\n[[rule]]\ntoolName = \"read_many_files\"\n",
         0},
        /* A glob over the JSON text: '*' stays within the string, '**'
         * crosses '/', a relative glob matches a path's tail. */
        {"{\"deny\":[\"Edit(src/*.c)\"]}",
         "toolName = \"replace\"\nargsPattern = "
         "\"\\\"file_path\\\":\\\"(?:(?:[^\\\"\\\\\\\\]|\\\\\\\\.)*/)?src/"
         "(?:[^\\\"\\\\\\\\/]|\\\\\\\\.)*\\\\.c\\\"\"\n",
         0},
        {"{\"allow\":[\"Bash(git log *)\"]}",
         "argsPattern = \"\\\"command\\\":\\\"git log (?:[^\\\"\\\\\\\\]|\\\\\\\\.)*\\\"\"\n", 0},
        {"{\"deny\":[\"mcp__github__create_issue\"]}",
         "toolName = \"create_issue\"\nmcpName = \"github\"\ndecision = \"deny\"\n", 0},
        {"{\"allow\":[\"mcp__github\"]}", "toolName = \"*\"\nmcpName = \"github\"\n", 0},
        {"{\"allow\":[\"mcp__github__*\"]}", "toolName = \"*\"\nmcpName = \"github\"\n", 0},
        /* Not expressible: a deny is widened to the whole tool or server. */
        {"{\"deny\":[\"WebFetch(domain:evil.example)\"]}",
         "toolName = \"web_fetch\"\ndecision = \"deny\"\n", 1},
        {"{\"deny\":[\"mcp__github__get_*\"]}", "toolName = \"*\"\nmcpName = \"github\"\n", 1},
        {"{\"deny\":[\"read_file\"]}", "toolName = \"read_file\"\ndecision = \"deny\"\n", 0},
        {"{\"default\":\"allow\"}", "toolName = \"*\"\ndecision = \"allow\"\npriority = 1\n", 0},
        {"{\"default\":\"deny\"}", "toolName = \"*\"\ndecision = \"deny\"\npriority = 1\n", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        notes ns;
        char *text = gem(cases[i].policy, &ns);
        assert_non_null(text);
        has(text, cases[i].want);
        if (ns.n != cases[i].notes)
            fail_msg("%s: %u notes, not %u:\n%s", cases[i].policy, ns.n, cases[i].notes, ns.text);
        free(text);
    }
}

/* What is left out: allow and ask rules Gemini cannot match, and tools it
 * does not have. */
static void test_gemini_left_out(void **state)
{
    notes ns;
    char *text = gem("{\"allow\":[\"WebFetch(domain:example.com)\",\"mcp__x__get_*\","
                     "\"NotebookEdit\"],\"default\":\"ask\"}",
                     &ns);
    assert_null(strstr(text, "[[rule]]"));
    assert_int_equal(ns.n, 4);
    assert_non_null(strstr(ns.text, "WebFetch(domain:example.com): Gemini cannot match"));
    assert_non_null(strstr(ns.text, "NotebookEdit: the Gemini CLI has no such tool"));
    assert_non_null(strstr(ns.text, "default: ask: headless Gemini cannot ask"));
    free(text);
}

/* Deny first by priority: the order of bosun's evaluation survives
 * Gemini's "highest priority wins", the agent's and the global rules
 * together. */
static void test_gemini_both(void **state)
{
    bosun_approval_policy *agent = pol("{\"allow\":[\"Bash\"]}");
    bosun_approval_policy *global = pol("{\"deny\":[\"Bash(rm:*)\"],\"default\":\"deny\"}");
    char *text = NULL;
    notes ns = {{0}, 0};
    assert_int_equal(gemini_policy_toml(agent, global, &text, note, &ns), 0);
    const char *deny = strstr(text, "# deny Bash(rm:*) (global)");
    const char *allow = strstr(text, "# allow Bash (agent)");
    const char *def = strstr(text, "# deny default (default)");
    assert_non_null(deny);
    assert_non_null(allow);
    assert_non_null(def);
    assert_true(deny < allow && allow < def);
    free(text);
    bosun_approval_policy_free(agent);
    bosun_approval_policy_free(global);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),        cmocka_unit_test(test_entries_order),
        cmocka_unit_test(test_policies_of),  cmocka_unit_test(test_gemini_none),
        cmocka_unit_test(test_gemini_table), cmocka_unit_test(test_gemini_left_out),
        cmocka_unit_test(test_gemini_both),
    };
    return RUN_TESTS(tests);
}
