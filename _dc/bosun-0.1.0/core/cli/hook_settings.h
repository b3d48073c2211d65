/* bosun's entries in Claude Code's settings (settings.json "hooks"), for
 * `bosunctl hook install|uninstall`.  The format is Claude Code's:
 *   "hooks": {"PreToolUse": [{"matcher": "*", "hooks": [{"type": "command",
 *             "command": "...", "timeout": N}]}], ...}
 * Only bosun's own entries (a command whose program is bosunctl and whose
 * first argument is "hook") are touched: other hooks, other groups and
 * every other key stay as they were.  Pure: works on the parsed file, so
 * tests/unit/test_hook_settings.c checks it without files. */
#ifndef BOSUN_HOOK_SETTINGS_H
#define BOSUN_HOOK_SETTINGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* A settings file bosunctl reads, at most. */
#define HOOK_SETTINGS_MAX (4 * 1024 * 1024)
/* The hook's timeout written for each event, seconds: bosunctl hook gives
 * up after 2 s on its own; with --approve, PreToolUse may wait for a person
 * (HOOK_APPROVE_WAIT), within Claude's timeout. */
#define HOOK_TIMEOUT         5
#define HOOK_APPROVE_TIMEOUT 60
#define HOOK_APPROVE_WAIT    50.0

/* The events bosun installs hooks for, NULL-terminated. */
extern const char *const hook_settings_events[];

/* Whether a hook command is one bosun wrote. */
bool hook_command_is_bosun(const char *command);
/* Adds bosun's hook for every event (command, plus " --approve" for
 * PreToolUse when approve), after taking out any bosun entries already
 * there: installing twice gives the same settings.  -1 with a reason when
 * the settings' shape is not Claude Code's (nothing changed then). */
int hook_settings_install(json_t *settings, const char *command, bool approve, char *err,
                          size_t err_size);
/* Takes out bosun's entries (and groups, lists or "hooks" they leave
 * empty); *removed counts the entries.  -1 with a reason as above. */
int hook_settings_uninstall(json_t *settings, size_t *removed, char *err, size_t err_size);

#endif
