/* Merging bosun's hooks into Claude Code's settings (hook_settings.h). */
#include "config.h"

#include "hook_settings.h"
#include "errbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const hook_settings_events[] = {
    "SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Notification",
    "Stop",         "SessionEnd",       NULL};

/* The next shell word of *p (plain, or in single quotes, as bosunctl
 * writes them; '\'' joins), into buf; false when there is none. */
static bool next_word(const char **p, char *buf, size_t size)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return false;
    size_t n = 0;
    while (*s && *s != ' ' && *s != '\t') {
        if (*s == '\'') {
            for (s++; *s && *s != '\''; s++)
                if (n + 1 < size)
                    buf[n++] = *s;
            if (*s)
                s++;
        } else if (*s == '\\' && s[1]) {
            if (n + 1 < size)
                buf[n++] = s[1];
            s += 2;
        } else {
            if (n + 1 < size)
                buf[n++] = *s;
            s++;
        }
    }
    buf[n] = '\0';
    *p = s;
    return true;
}

bool hook_command_is_bosun(const char *command)
{
    char prog[4096], arg[64];
    const char *p = command;
    if (!command || !next_word(&p, prog, sizeof prog) || !next_word(&p, arg, sizeof arg))
        return false;
    const char *base = strrchr(prog, '/');
    base = base ? base + 1 : prog;
    return strcmp(base, "bosunctl") == 0 && strcmp(arg, "hook") == 0;
}

static bool entry_is_bosun(const json_t *h)
{
    return json_is_object(h) && json_is_string(json_object_get(h, "command")) &&
           hook_command_is_bosun(json_string_value(json_object_get(h, "command")));
}

/* settings["hooks"], checked: NULL (no error) when absent. */
static int hooks_of(json_t *settings, json_t **hooks, char *err, size_t size)
{
    if (!json_is_object(settings))
        return errbuf_fail(err, size, "the settings are not a JSON object");
    *hooks = json_object_get(settings, "hooks");
    if (*hooks && !json_is_object(*hooks))
        return errbuf_fail(err, size, "'hooks' is not an object");
    const char *k;
    json_t *v;
    json_object_foreach(*hooks, k, v)
    {
        for (size_t i = 0; hook_settings_events[i]; i++)
            if (strcmp(k, hook_settings_events[i]) == 0 && !json_is_array(v))
                return errbuf_fail(err, size, "'hooks.%s' is not a list", k);
    }
    return 0;
}

/* Takes bosun's entries out of one event's list of groups. */
static size_t remove_from(json_t *hooks, const char *event)
{
    json_t *groups = json_object_get(hooks, event);
    size_t removed = 0;
    for (size_t g = 0; g < json_array_size(groups);) {
        json_t *list = json_object_get(json_array_get(groups, g), "hooks");
        size_t before = removed;
        for (size_t i = 0; i < json_array_size(list);) {
            if (entry_is_bosun(json_array_get(list, i))) {
                json_array_remove(list, i);
                removed++;
            } else {
                i++;
            }
        }
        if (removed > before && json_is_array(list) && json_array_size(list) == 0)
            json_array_remove(groups, g);
        else
            g++;
    }
    if (removed && json_array_size(groups) == 0)
        json_object_del(hooks, event);
    return removed;
}

int hook_settings_uninstall(json_t *settings, size_t *removed, char *err, size_t err_size)
{
    json_t *hooks;
    *removed = 0;
    if (hooks_of(settings, &hooks, err, err_size) != 0)
        return -1;
    for (size_t i = 0; hooks && hook_settings_events[i]; i++)
        *removed += remove_from(hooks, hook_settings_events[i]);
    if (*removed && json_object_size(hooks) == 0)
        json_object_del(settings, "hooks");
    return 0;
}

static json_t *group_for(const char *event, const char *command, bool approve)
{
    bool pre = strcmp(event, "PreToolUse") == 0;
    bool tool = pre || strcmp(event, "PostToolUse") == 0;
    char *cmd = NULL;
    if (pre && approve) {
        size_t n = strlen(command) + sizeof " --approve";
        cmd = malloc(n);
        if (cmd)
            snprintf(cmd, n, "%s --approve", command);
    }
    json_t *entry = json_pack("{s:s,s:s,s:i}", "type", "command", "command", cmd ? cmd : command,
                              "timeout", pre && approve ? HOOK_APPROVE_TIMEOUT : HOOK_TIMEOUT);
    free(cmd);
    json_t *g = json_object();
    /* Tool hooks take a matcher over tool names; the others need none. */
    if (tool)
        json_object_set_new(g, "matcher", json_string("*"));
    json_object_set_new(g, "hooks", json_pack("[o]", entry));
    return g;
}

int hook_settings_install(json_t *settings, const char *command, bool approve, char *err,
                          size_t err_size)
{
    json_t *hooks;
    if (!hook_command_is_bosun(command))
        return errbuf_fail(err, err_size, "'%s' is not a bosunctl hook command", command);
    if (hooks_of(settings, &hooks, err, err_size) != 0)
        return -1;
    if (!hooks) {
        hooks = json_object();
        json_object_set_new(settings, "hooks", hooks);
    }
    for (size_t i = 0; hook_settings_events[i]; i++) {
        const char *ev = hook_settings_events[i];
        remove_from(hooks, ev);
        json_t *groups = json_object_get(hooks, ev);
        if (!groups) {
            groups = json_array();
            json_object_set_new(hooks, ev, groups);
        }
        json_array_append_new(groups, group_for(ev, command, approve));
    }
    return 0;
}
