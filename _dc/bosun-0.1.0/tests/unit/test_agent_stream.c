/* Unit tests for the coding-CLI agent layer (core/lib/agent_stream.c,
 * agent_cli.c): which lines are events, caps, redaction, keys, argv. */
#include "config.h"

#include "tap.h"

#include <stdlib.h>
#include <string.h>

#include <bosun/agent_stream.h>

static void test_line_json(void **state)
{
    const char *obj = "  {\"type\":\"result\",\"n\":1}";
    json_t *v = bosun_agent_line_json(obj, strlen(obj), 1024);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "type")), "result");
    json_decref(v);
    /* Not objects, not JSON, too long: all left to be output lines. */
    const char *const not_events[] = {
        "[1,2]", "\"text\"", "Traceback (most recent call last):", "{\"open\":", "", "{} trailing"};
    for (size_t i = 0; i < sizeof not_events / sizeof not_events[0]; i++)
        assert_null(bosun_agent_line_json(not_events[i], strlen(not_events[i]), 1024));
    assert_null(bosun_agent_line_json(obj, strlen(obj), 10));
}

static void test_tool_use_redacted(void **state)
{
    json_t *events = json_array();
    json_t *input = json_pack("{s:s,s:{s:s,s:s}}", "command", "deploy", "env", "API_KEY",
                              "sk-123456", "password", "hunter2");
    json_t *ev = bosun_agent_ev_tool_use(events, "toolu_1", "Bash", input);
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "kind")), "tool_use");
    json_t *in = json_object_get(ev, "input");
    assert_string_equal(json_string_value(json_object_get(in, "command")), "deploy");
    json_t *env = json_object_get(in, "env");
    assert_string_equal(json_string_value(json_object_get(env, "API_KEY")), "(redacted)");
    assert_string_equal(json_string_value(json_object_get(env, "password")), "(redacted)");
    /* The caller's input is left as it was. */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(input, "env"), "password")), "hunter2");
    json_decref(input);
    json_decref(events);
}

static void test_caps(void **state)
{
    size_t big = BOSUN_AGENT_RESULT_MAX * 3;
    char *text = malloc(big + 1);
    memset(text, 'x', big);
    text[big] = '\0';
    json_t *events = json_array();
    json_t *content = json_pack("[{s:s,s:s},{s:s}]", "type", "text", "text", text, "type", "image");
    json_t *ev = bosun_agent_ev_tool_result(events, "t1", true, content);
    assert_int_equal(json_string_length(json_object_get(ev, "content")), BOSUN_AGENT_RESULT_MAX);
    assert_true(json_is_true(json_object_get(ev, "truncated")));
    assert_int_equal(json_integer_value(json_object_get(ev, "size")), big);
    assert_int_equal(json_integer_value(json_object_get(ev, "other_blocks")), 1);
    assert_true(json_is_true(json_object_get(ev, "is_error")));
    ev = bosun_agent_ev_message(events, "short", 5);
    assert_null(json_object_get(ev, "truncated"));
    /* A cut never splits a UTF-8 character. */
    char *utf = malloc(BOSUN_AGENT_THINKING_MAX + 8);
    memset(utf, 'a', BOSUN_AGENT_THINKING_MAX - 1);
    memcpy(utf + BOSUN_AGENT_THINKING_MAX - 1, "\xc3\xa9zz", 4);
    ev = bosun_agent_ev_thinking(events, utf, BOSUN_AGENT_THINKING_MAX + 3, 1 << 30);
    assert_int_equal(json_string_length(json_object_get(ev, "text")), BOSUN_AGENT_THINKING_MAX - 1);
    assert_int_equal(json_array_size(events), 3);
    free(utf);
    json_decref(content);
    json_decref(events);
    free(text);
}

static void test_usage_and_result(void **state)
{
    json_t *events = json_array();
    json_t *u = bosun_agent_ev_usage(events, 10, 5, -1, 0);
    assert_int_equal(json_integer_value(json_object_get(u, "input_tokens")), 10);
    assert_null(json_object_get(u, "cache_read_tokens")); /* not reported */
    assert_int_equal(json_integer_value(json_object_get(u, "cache_write_tokens")), 0);
    json_t *r = bosun_agent_ev_result(events, "error", NULL);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "error");
    assert_null(json_object_get(r, "subtype"));
    json_decref(events);
}

static void test_cli_keys(void **state)
{
    static const char yaml[] = "a:\n"
                               "  model: sonnet\n"
                               "  max_turns: 3\n"
                               "  allowed_tools: [Read, \"Bash(git status:*)\"]\n"
                               "  extra_args: [--verbose]\n"
                               "b:\n"
                               "  permission_mode: yolo\n"
                               "c:\n"
                               "  model: --evil\n";
    cfg_diag d;
    cfg_diag_init(&d);
    cfg_node *root = cfg_load_string(yaml, sizeof yaml - 1, "t.yaml", &d);
    assert_non_null(root);
    static const char *const modes[] = {"default", "plan", NULL};
    bosun_agent_cli cli;
    assert_true(bosun_agent_cli_parse(cfg_get(root, "a"), "claude", modes, &cli, &d));
    assert_string_equal(cli.bin, "claude");
    assert_string_equal(cli.model, "sonnet");
    assert_int_equal(cli.max_turns, 3);
    assert_string_equal(cli.allowed_tools[1], "Bash(git status:*)");
    assert_null(cli.allowed_tools[2]);
    assert_string_equal(cli.extra_args[0], "--verbose");
    bosun_agent_cli_free(&cli);
    assert_false(bosun_agent_cli_parse(cfg_get(root, "b"), "claude", modes, &cli, &d));
    assert_false(bosun_agent_cli_parse(cfg_get(root, "c"), "claude", modes, &cli, &d));
    cfg_diag_free(&d);
    cfg_free(root);
}

static void test_argv_and_ids(void **state)
{
    bosun_argv a = {0};
    bosun_argv_add(&a, "claude");
    bosun_argv_add2(&a, "--model", NULL); /* nothing */
    bosun_argv_add2(&a, "--resume", "abc");
    bosun_argv_add_all(&a, (const char *const[]){"--", "hi", NULL});
    char **v;
    assert_int_equal(bosun_argv_take(&a, &v), 0);
    assert_string_equal(v[0], "claude");
    assert_string_equal(v[1], "--resume");
    assert_string_equal(v[4], "hi");
    assert_null(v[5]);
    for (size_t i = 0; v[i]; i++)
        free(v[i]);
    free(v);
    bosun_argv failed = {0};
    bosun_argv_add(&failed, "x");
    failed.failed = true;
    assert_int_equal(bosun_argv_take(&failed, &v), -1);
    assert_null(v);

    char id[40], other[40];
    bosun_uuid_new(id, sizeof id);
    bosun_uuid_new(other, sizeof other);
    assert_int_equal(strlen(id), 36);
    assert_int_equal(id[14], '4');
    assert_string_not_equal(id, other);
    assert_true(bosun_session_id_valid(id));
    assert_false(bosun_session_id_valid(""));
    assert_false(bosun_session_id_valid("-rf"));
    assert_false(bosun_session_id_valid("a b"));
    assert_false(bosun_session_id_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_json), cmocka_unit_test(test_tool_use_redacted),
        cmocka_unit_test(test_caps),      cmocka_unit_test(test_usage_and_result),
        cmocka_unit_test(test_cli_keys),  cmocka_unit_test(test_argv_and_ids),
    };
    return RUN_TESTS(tests);
}
