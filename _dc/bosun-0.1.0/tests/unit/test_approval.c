/* Unit tests for the approval policy (core/lib/approval_policy.c). */
#include "config.h"

#include "tap.h"

#include <bosun/approval.h>

#include <stdlib.h>
#include <string.h>

static bool m(const char *rule, const char *tool, const char *input)
{
    json_t *in = input ? json_loads(input, 0, NULL) : NULL;
    bool r = bosun_approval_rule_match(rule, tool, in);
    json_decref(in);
    return r;
}

static void test_rule_syntax(void **state)
{
    char err[200];
    assert_true(bosun_approval_rule_check("Read", err, sizeof err));
    assert_true(bosun_approval_rule_check("Bash(git status:*)", err, sizeof err));
    assert_true(bosun_approval_rule_check("mcp__github__*", err, sizeof err));
    assert_false(bosun_approval_rule_check("", err, sizeof err));
    assert_false(bosun_approval_rule_check("Bash(", err, sizeof err));
    assert_false(bosun_approval_rule_check("Bash()", err, sizeof err));
    assert_false(bosun_approval_rule_check("(x)", err, sizeof err));
    assert_false(bosun_approval_rule_check("Ba sh", err, sizeof err));
    assert_non_null(strstr(err, "byte 3"));
}

static void test_tool_names(void **state)
{
    assert_true(m("Read", "Read", "{\"file_path\":\"/a\"}"));
    assert_false(m("Read", "ReadX", NULL));
    assert_true(m("mcp__github__*", "mcp__github__create_issue", NULL));
    assert_false(m("mcp__github__*", "mcp__gitlab__x", NULL));
    assert_true(m("mcp__github", "mcp__github__create_issue", NULL)); /* a whole server */
    assert_false(m("mcp__github", "mcp__githubx__y", NULL));
}

static void test_bash(void **state)
{
    const char *st = "{\"command\":\"git status --short\"}";
    assert_true(m("Bash(git status:*)", "Bash", st));
    assert_true(m("Bash(git status:*)", "Bash", "{\"command\":\"git status\"}"));
    assert_false(m("Bash(git status:*)", "Bash", "{\"command\":\"git statusx\"}"));
    assert_false(m("Bash(git status:*)", "Bash", "{\"command\":\"echo git status\"}"));
    assert_true(m("Bash(rm -rf *)", "Bash", "{\"command\":\"rm -rf /tmp/a/b\"}"));
    assert_false(m("Bash(rm -rf *)", "Bash", "{\"command\":\"rm -r x\"}"));
    assert_false(m("Bash(rm -rf *)", "Bash", NULL)); /* no command: no match */
    assert_false(m("Bash(ls)", "Read", "{\"command\":\"ls\"}"));
}

static void test_paths(void **state)
{
    const char *deep = "{\"file_path\":\"/w/p/src/a/b.c\"}";
    assert_true(m("Edit(src/**)", "Edit", deep));
    assert_true(m("Edit(src/**/*.c)", "Edit", deep));
    assert_false(m("Edit(src/*)", "Edit", deep)); /* '*' stops at '/' */
    assert_true(m("Edit(/w/p/src/**)", "Edit", deep));
    assert_false(m("Edit(/p/src/**)", "Edit", deep)); /* absolute: the whole path */
    assert_false(m("Edit(lib/**)", "Edit", deep));
    assert_true(m("WebFetch(domain:*.example.com)", "WebFetch",
                  "{\"url\":\"https://u@docs.example.com:8080/x\"}"));
    assert_false(m("WebFetch(domain:example.com)", "WebFetch", "{\"url\":\"https://evil.com/\"}"));
}

static bosun_approval_policy *pol(const char *json)
{
    char err[200];
    json_t *v = json_loads(json, 0, NULL);
    bosun_approval_policy *p = bosun_approval_policy_from_json(v, err, sizeof err);
    json_decref(v);
    assert_non_null(p);
    return p;
}

static void test_evaluate(void **state)
{
    bosun_approval_policy *g = pol("{\"allow\":[\"Bash\"],\"deny\":[\"Bash(rm -rf *)\"],"
                                   "\"default\":\"deny\"}");
    bosun_approval_policy *a = pol("{\"ask\":[\"Bash(git push:*)\"],\"allow\":[\"Read\"]}");
    json_t *rm = json_pack("{s:s}", "command", "rm -rf /"),
           *push = json_pack("{s:s}", "command", "git push origin"),
           *ls = json_pack("{s:s}", "command", "ls");
    bosun_approval_result r = bosun_approval_evaluate(NULL, a, g, "Bash", rm);
    assert_int_equal(r.decision, BOSUN_APPROVAL_DENY); /* deny wins over allow */
    assert_int_equal(r.source, BOSUN_APPROVAL_FROM_GLOBAL);
    assert_string_equal(r.rule, "Bash(rm -rf *)");
    r = bosun_approval_evaluate(NULL, a, g, "Bash", push);
    assert_int_equal(r.decision, BOSUN_APPROVAL_ASK); /* ask beats allow */
    assert_int_equal(r.source, BOSUN_APPROVAL_FROM_AGENT);
    r = bosun_approval_evaluate(NULL, a, g, "Bash", ls);
    assert_int_equal(r.decision, BOSUN_APPROVAL_ALLOW);
    r = bosun_approval_evaluate(NULL, a, g, "Write", NULL);
    assert_int_equal(r.decision, BOSUN_APPROVAL_DENY); /* global default */
    assert_int_equal(r.source, BOSUN_APPROVAL_FROM_DEFAULT);
    assert_null(r.rule);
    r = bosun_approval_evaluate(NULL, NULL, NULL, "Write", NULL);
    assert_int_equal(r.decision, BOSUN_APPROVAL_ASK); /* nothing set: ask */

    /* A sticky allow outlasts an ask rule, not a deny rule. */
    bosun_approval_policy *s = pol("{\"allow\":[\"Bash(git push:*)\",\"Bash(rm -rf *)\"]}");
    r = bosun_approval_evaluate(s, a, g, "Bash", push);
    assert_int_equal(r.decision, BOSUN_APPROVAL_ALLOW);
    assert_int_equal(r.source, BOSUN_APPROVAL_FROM_STICKY);
    r = bosun_approval_evaluate(s, a, g, "Bash", rm);
    assert_int_equal(r.decision, BOSUN_APPROVAL_DENY);
    json_decref(rm);
    json_decref(push);
    json_decref(ls);
    bosun_approval_policy_free(s);
    bosun_approval_policy_free(a);
    bosun_approval_policy_free(g);
}

static void test_config(void **state)
{
    const char *text = "approvals:\n"
                       "  allow: [Read]\n"
                       "  deny: [\"Bash(\"]\n"
                       "  default: maybe\n"
                       "  on_timeout: ask\n"
                       "  timeout: 2m\n"
                       "  other: 1\n";
    cfg_diag d;
    cfg_diag_init(&d);
    cfg_node *root = cfg_load_string(text, strlen(text), "t.yaml", &d);
    assert_non_null(root);
    bosun_approval_policy *p = (bosun_approval_policy *)1;
    assert_false(bosun_approval_policy_parse(cfg_get(root, "approvals"), &p, &d));
    assert_null(p);
    assert_int_equal(d.n, 4);
    bool rule = false, def = false, ot = false, key = false;
    for (size_t i = 0; i < d.n; i++) {
        rule |= strncmp(d.msgs[i], "t.yaml:3:10:", 12) == 0;
        def |= strncmp(d.msgs[i], "t.yaml:4:12:", 12) == 0;
        ot |= strncmp(d.msgs[i], "t.yaml:5:15:", 12) == 0;
        key |= strstr(d.msgs[i], "other") != NULL;
    }
    assert_true(rule && def && ot && key);
    cfg_diag_free(&d);
    cfg_free(root);

    text = "approvals: {allow: [Read], default: allow, timeout: 90s, on_timeout: allow}\n";
    cfg_diag_init(&d);
    root = cfg_load_string(text, strlen(text), "t.yaml", &d);
    assert_true(bosun_approval_policy_parse(cfg_get(root, "approvals"), &p, &d));
    assert_non_null(p);
    enum bosun_approval_decision dec;
    assert_true(bosun_approval_policy_default(p, &dec));
    assert_int_equal(dec, BOSUN_APPROVAL_ALLOW);
    assert_true(bosun_approval_policy_timeout(p) == 90.0);
    assert_int_equal(bosun_approval_policy_on_timeout(p), BOSUN_APPROVAL_ALLOW);
    bosun_approval_policy_free(p);
    cfg_diag_free(&d);
    cfg_free(root);
}

/* The rule --always makes for one call: "=TOOL(ARG)". */
static char *exact(const char *tool, const char *input)
{
    json_t *in = input ? json_loads(input, 0, NULL) : NULL;
    char *r = bosun_approval_exact_rule(tool, in);
    json_decref(in);
    return r;
}

static void test_exact_rules(void **state)
{
    /* Arguments that would be wildcards or prefixes in a glob rule stick
     * only to the call they came from. */
    static const struct {
        const char *tool, *call, *rule, *other;
    } cases[] = {
        {"Bash", "{\"command\":\"rm -rf *\"}", "=Bash(rm -rf *)", "{\"command\":\"rm -rf /\"}"},
        {"Bash", "{\"command\":\"ls ?\"}", "=Bash(ls ?)", "{\"command\":\"ls a\"}"},
        {"Bash", "{\"command\":\"*\"}", "=Bash(*)", "{\"command\":\"make\"}"},
        {"Bash", "{\"command\":\"git:*\"}", "=Bash(git:*)", "{\"command\":\"git push\"}"},
        {"Edit", "{\"file_path\":\"src/**\"}", "=Edit(src/**)", "{\"file_path\":\"src/a/b.c\"}"},
        {"Read", "{\"file_path\":\"**\"}", "=Read(**)", "{\"file_path\":\"/etc/shadow\"}"},
        {"WebFetch", "{\"url\":\"domain:*\"}", "=WebFetch(domain:*)",
         "{\"url\":\"https://evil.example/\"}"},
        {"Bash", "{\"command\":\"make\\nmake install\"}", "=Bash(make\nmake install)",
         "{\"command\":\"make\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *rule = exact(cases[i].tool, cases[i].call);
        assert_non_null(rule);
        assert_string_equal(rule, cases[i].rule);
        char err[200];
        assert_true(bosun_approval_rule_check(rule, err, sizeof err));
        assert_true(m(rule, cases[i].tool, cases[i].call));
        assert_false(m(rule, cases[i].tool, cases[i].other));
        assert_false(m(rule, cases[i].tool, "{}"));
        assert_false(m(rule, "Write", cases[i].call));
        free(rule);
    }
    /* The name is exact too: no glob, no whole MCP server, no prefix. */
    char *rule = exact("mcp__github", NULL);
    assert_string_equal(rule, "=mcp__github");
    assert_true(m(rule, "mcp__github", "{\"x\":1}"));
    assert_false(m(rule, "mcp__github__create_issue", NULL));
    free(rule);
    assert_false(m("=Bash", "BashX", NULL));
    assert_false(m("=Bash(ls)", "Bash", "{\"command\":\"ls -l\"}"));
    assert_null(exact("*", "{\"command\":\"ls\"}")); /* a glob for a name */
    assert_null(exact("Bash(", "{\"command\":\"ls\"}"));
    assert_null(exact("", NULL));
    assert_null(exact("Bash", "{\"command\":\"a\\u0001b\"}"));
    char big[BOSUN_APPROVAL_RULE_MAX + 64];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    json_t *in = json_pack("{s:s}", "command", big);
    assert_null(bosun_approval_exact_rule("Bash", in));
    json_decref(in);
    /* Written by hand, the form is checked like any rule. */
    char err[200];
    assert_false(bosun_approval_rule_check("=", err, sizeof err));
    assert_false(bosun_approval_rule_check("=mcp__x__*", err, sizeof err));
    assert_false(bosun_approval_rule_check("Bash(a\nb)", err, sizeof err));
    assert_true(bosun_approval_rule_check("=Bash(a\nb)", err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_syntax), cmocka_unit_test(test_tool_names),
        cmocka_unit_test(test_bash),        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_evaluate),    cmocka_unit_test(test_config),
        cmocka_unit_test(test_exact_rules),
    };
    return RUN_TESTS(tests);
}
