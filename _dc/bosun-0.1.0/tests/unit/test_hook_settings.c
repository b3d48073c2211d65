/* hook_settings: bosun's hooks merged into Claude Code's settings without
 * touching anything else, installed twice the same as once, taken out
 * leaving the user's hooks, groups and keys as they were. */
#include "config.h"

#include "tap.h"

#include "../../core/cli/hook_settings.h"

#include <stdlib.h>
#include <string.h>

#define CMD "'/usr/local/bin/bosunctl' hook --socket /run/bosun/bosund.sock"

static json_t *parse(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    return v;
}

static char *dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

static const char user_settings[] =
    "{\"model\":\"opus\",\"hooks\":{\"PreToolUse\":[{\"matcher\":\"Bash\",\"hooks\":[{\"type\":"
    "\"command\",\"command\":\"/home/me/check.sh\"}]}],\"PreCompact\":[{\"hooks\":[{\"type\":"
    "\"command\",\"command\":\"echo compact\"}]}]},\"env\":{\"FOO\":\"1\"}}";

static void recognises_its_commands(void **state)
{
    (void)state;
    assert_true(hook_command_is_bosun(CMD));
    assert_true(hook_command_is_bosun("bosunctl hook"));
    assert_true(hook_command_is_bosun("/opt/b\\ c/bosunctl hook --approve"));
    assert_true(hook_command_is_bosun("'/it'\\''s/bosunctl' hook"));
    assert_false(hook_command_is_bosun("bosunctl ps"));
    assert_false(hook_command_is_bosun("/usr/bin/notbosunctl hook"));
    assert_false(hook_command_is_bosun("echo bosunctl hook"));
    assert_false(hook_command_is_bosun(""));
    assert_false(hook_command_is_bosun(NULL));
}

static void install_keeps_the_rest(void **state)
{
    (void)state;
    json_t *s = parse(user_settings);
    char err[256];
    assert_int_equal(hook_settings_install(s, CMD, false, err, sizeof err), 0);
    json_t *hooks = json_object_get(s, "hooks");
    for (size_t i = 0; hook_settings_events[i]; i++) {
        json_t *groups = json_object_get(hooks, hook_settings_events[i]);
        assert_true(json_array_size(groups) >= 1);
        json_t *last = json_array_get(groups, json_array_size(groups) - 1);
        json_t *h = json_array_get(json_object_get(last, "hooks"), 0);
        assert_string_equal(json_string_value(json_object_get(h, "command")), CMD);
        assert_string_equal(json_string_value(json_object_get(h, "type")), "command");
        assert_int_equal(json_integer_value(json_object_get(h, "timeout")), HOOK_TIMEOUT);
    }
    /* The user's PreToolUse group stays first and as it was. */
    json_t *pre = json_object_get(hooks, "PreToolUse");
    assert_int_equal(json_array_size(pre), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(pre, 0), "matcher")),
                        "Bash");
    assert_string_equal(json_string_value(json_object_get(json_array_get(pre, 1), "matcher")), "*");
    assert_null(json_object_get(json_array_get(json_object_get(hooks, "Stop"), 0), "matcher"));
    assert_non_null(json_object_get(hooks, "PreCompact"));
    assert_string_equal(json_string_value(json_object_get(s, "model")), "opus");
    assert_non_null(json_object_get(s, "env"));
    json_decref(s);
}

static void install_is_idempotent(void **state)
{
    (void)state;
    json_t *s = parse(user_settings);
    char err[256];
    assert_int_equal(hook_settings_install(s, CMD, true, err, sizeof err), 0);
    char *once = dump(s);
    assert_int_equal(hook_settings_install(s, CMD, true, err, sizeof err), 0);
    char *twice = dump(s);
    assert_string_equal(once, twice);
    /* --approve: only PreToolUse's command has it, with the longer timeout. */
    assert_non_null(strstr(once, CMD " --approve\",\"timeout\":60"));
    assert_null(strstr(strstr(once, "--approve") + 1, "--approve"));
    /* Without --approve again, the same place, the plain command. */
    assert_int_equal(hook_settings_install(s, CMD, false, err, sizeof err), 0);
    char *plain = dump(s);
    assert_null(strstr(plain, "--approve"));
    free(once);
    free(twice);
    free(plain);
    json_decref(s);
}

static void uninstall_takes_out_only_bosun(void **state)
{
    (void)state;
    json_t *orig = parse(user_settings);
    json_t *s = json_deep_copy(orig);
    char err[256];
    size_t removed = 0;
    assert_int_equal(hook_settings_install(s, CMD, true, err, sizeof err), 0);
    assert_int_equal(hook_settings_uninstall(s, &removed, err, sizeof err), 0);
    assert_int_equal(removed, 7);
    assert_true(json_equal(s, orig));
    assert_int_equal(hook_settings_uninstall(s, &removed, err, sizeof err), 0);
    assert_int_equal(removed, 0);
    assert_true(json_equal(s, orig));
    json_decref(s);
    json_decref(orig);
}

static void uninstall_of_a_fresh_file_leaves_it_empty(void **state)
{
    (void)state;
    json_t *s = json_object();
    char err[256];
    size_t removed;
    assert_int_equal(hook_settings_install(s, CMD, false, err, sizeof err), 0);
    assert_int_equal(hook_settings_uninstall(s, &removed, err, sizeof err), 0);
    assert_int_equal(removed, 7);
    assert_int_equal(json_object_size(s), 0);
    json_decref(s);
}

/* A bosun hook sharing a group with the user's: the group stays, with the
 * user's hook only. */
static void shared_group_keeps_the_user_hook(void **state)
{
    (void)state;
    json_t *s = parse("{\"hooks\":{\"Stop\":[{\"hooks\":[{\"type\":\"command\",\"command\":"
                      "\"/usr/bin/bosunctl hook\"},{\"type\":\"command\",\"command\":\"say "
                      "done\"}]}]}}");
    char err[256];
    size_t removed;
    assert_int_equal(hook_settings_uninstall(s, &removed, err, sizeof err), 0);
    assert_int_equal(removed, 1);
    char *text = dump(s);
    assert_string_equal(text,
                        "{\"hooks\":{\"Stop\":[{\"hooks\":[{\"type\":\"command\",\"command\":\"say "
                        "done\"}]}]}}");
    free(text);
    json_decref(s);
}

static void refuses_shapes_it_does_not_know(void **state)
{
    (void)state;
    static const char *const bad[] = {"[]", "{\"hooks\":[]}", "{\"hooks\":{\"Stop\":{}}}",
                                      "{\"hooks\":{\"PreToolUse\":\"x\"}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *s = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert_non_null(s);
        char *before = dump(s);
        char err[256] = "";
        size_t removed;
        assert_int_equal(hook_settings_install(s, CMD, false, err, sizeof err), -1);
        assert_true(err[0] != '\0');
        assert_int_equal(hook_settings_uninstall(s, &removed, err, sizeof err), -1);
        char *after = dump(s);
        assert_string_equal(before, after);
        free(before);
        free(after);
        json_decref(s);
    }
    /* Other events' values and odd entries are not bosun's business. */
    json_t *s = parse("{\"hooks\":{\"Custom\":7,\"Stop\":[3,{\"hooks\":\"x\"}]}}");
    char err[256];
    assert_int_equal(hook_settings_install(s, CMD, false, err, sizeof err), 0);
    size_t removed;
    assert_int_equal(hook_settings_uninstall(s, &removed, err, sizeof err), 0);
    char *text = dump(s);
    assert_string_equal(text, "{\"hooks\":{\"Custom\":7,\"Stop\":[3,{\"hooks\":\"x\"}]}}");
    free(text);
    json_decref(s);
    /* Only a bosunctl hook command is installed. */
    s = json_object();
    assert_int_equal(hook_settings_install(s, "rm -rf /", false, err, sizeof err), -1);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recognises_its_commands),
        cmocka_unit_test(install_keeps_the_rest),
        cmocka_unit_test(install_is_idempotent),
        cmocka_unit_test(uninstall_takes_out_only_bosun),
        cmocka_unit_test(uninstall_of_a_fresh_file_leaves_it_empty),
        cmocka_unit_test(shared_group_keeps_the_user_hook),
        cmocka_unit_test(refuses_shapes_it_does_not_know),
    };
    return RUN_TESTS(tests);
}
