/* Claude Code hook calls mapped to an attached run's events (hook_map.h).
 * What each hook carries is Claude Code's documented hook input: every
 * call has session_id, hook_event_name, cwd and transcript_path; the tool
 * hooks add tool_name, tool_input, tool_use_id (and tool_response after
 * the call); UserPromptSubmit adds prompt; Notification message and
 * notification_type; SessionStart source; SessionEnd reason.  Anything
 * else in the object is kept only in the raw "hook" event. */
#include "config.h"

#include "hook_map.h"
#include "errbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/agent_stream.h>
#include <bosun/json.h>

/* A string member: absent is fine unless required; otherwise a non-empty
 * string of at most max bytes.  *out is NULL when absent. */
static bool member_str(const json_t *o, const char *key, size_t max, bool required,
                       const char **out, char *err, size_t size)
{
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            errbuf_fail(err, size, "'%s' is missing", key);
        return !required;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max) {
        errbuf_fail(err, size, "'%s' must be a string of 1 to %zu bytes", key, max);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static bool event_name_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static int map_session_start(const json_t *in, hook_call *c, char *err, size_t size)
{
    const char *source, *model;
    if (!member_str(in, "source", HOOK_NAME_MAX, false, &source, err, size) ||
        !member_str(in, "model", HOOK_NAME_MAX, false, &model, err, size))
        return -1;
    json_t *ev = bosun_agent_ev_session(c->events, c->session_id);
    bosun_agent_copy(ev, "cwd", c->info, "cwd");
    if (source)
        json_object_set_new(ev, "source", json_string(source));
    if (model)
        json_object_set_new(ev, "model", json_string(model));
    return 0;
}

static int map_prompt(const json_t *in, hook_call *c, char *err, size_t size)
{
    const json_t *p = json_object_get(in, "prompt");
    if (!json_is_string(p))
        return errbuf_fail(err, size, "'prompt' must be a string");
    json_t *ev = bosun_agent_ev_message(c->events, json_string_value(p), json_string_length(p));
    json_object_set_new(ev, "role", json_string("user"));
    return 0;
}

static int tool_fields(const json_t *in, const char **name, const char **id, const json_t **input,
                       char *err, size_t size)
{
    if (!member_str(in, "tool_name", HOOK_NAME_MAX, true, name, err, size) ||
        !member_str(in, "tool_use_id", HOOK_NAME_MAX, false, id, err, size))
        return -1;
    *input = json_object_get(in, "tool_input");
    if (*input && !json_is_object(*input))
        return errbuf_fail(err, size, "'tool_input' must be an object");
    return 0;
}

static int map_pre_tool(const json_t *in, hook_call *c, char *err, size_t size)
{
    const char *name, *id;
    const json_t *input;
    if (tool_fields(in, &name, &id, &input, err, size) != 0)
        return -1;
    json_t *empty = json_object();
    bosun_agent_ev_tool_use(c->events, id, name, input ? input : empty);
    json_decref(empty);
    return 0;
}

static int map_post_tool(const json_t *in, hook_call *c, char *err, size_t size)
{
    const char *name, *id;
    const json_t *input;
    if (tool_fields(in, &name, &id, &input, err, size) != 0)
        return -1;
    /* tool_response is the tool's own value (Bash: {stdout, stderr, ...}):
     * kept as text, capped like any tool_result.  Secrets inside it are
     * redacted first. */
    const json_t *resp = json_object_get(in, "tool_response");
    json_t *content = NULL;
    if (json_is_string(resp)) {
        content = json_incref((json_t *)resp);
    } else if (resp) {
        json_t *shown = bosun_json_redact(resp, BOSUN_AGENT_RESULT_MAX);
        char *text = shown ? json_dumps(shown, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        content = json_string(text ? text : "");
        free(text);
        json_decref(shown);
    }
    const json_t *is_error = json_object_get(resp, "is_error");
    json_t *ev =
        bosun_agent_ev_tool_result(c->events, id, json_is_true(is_error), content ? content : NULL);
    if (ev)
        json_object_set_new(ev, "name", json_string(name));
    json_decref(content);
    return 0;
}

/* Notifications that mean the session waits for the person: by type
 * where Claude Code gives one, else by its wording. */
static bool wants_person(const char *type, const char *message)
{
    static const char *const types[] = {"permission_prompt", "idle_prompt", "elicitation_dialog",
                                        NULL};
    if (type) {
        for (size_t i = 0; types[i]; i++)
            if (strcmp(type, types[i]) == 0)
                return true;
        return false;
    }
    return message &&
           (strstr(message, "waiting for your input") || strstr(message, "needs your permission") ||
            strstr(message, "needs your attention"));
}

static int map_notification(const json_t *in, hook_call *c, char *err, size_t size)
{
    const char *message, *type;
    if (!member_str(in, "message", BOSUN_AGENT_TEXT_MAX, false, &message, err, size) ||
        !member_str(in, "notification_type", HOOK_NAME_MAX, false, &type, err, size))
        return -1;
    json_t *ev = bosun_agent_event(c->events, "notification");
    if (message)
        json_object_set_new(ev, "message", json_string(message));
    if (type)
        json_object_set_new(ev, "notification_type", json_string(type));
    if (wants_person(type, message)) {
        c->attention = true;
        snprintf(c->attention_reason, sizeof c->attention_reason, "needs attention: %.400s",
                 message ? message : type);
    }
    return 0;
}

static int map_stop(const json_t *in, hook_call *c, char *err, size_t size)
{
    (void)in;
    (void)err;
    (void)size;
    c->ends = true;
    snprintf(c->end_reason, sizeof c->end_reason, "the session's turn ended (Stop hook)");
    return 0;
}

static int map_session_end(const json_t *in, hook_call *c, char *err, size_t size)
{
    const char *reason;
    if (!member_str(in, "reason", HOOK_NAME_MAX, false, &reason, err, size))
        return -1;
    c->ends = c->ends_session = true;
    snprintf(c->end_reason, sizeof c->end_reason, "the session ended (reason: %s)",
             reason ? reason : "none given");
    json_t *ev = bosun_agent_event(c->events, "session_end");
    json_object_set_new(ev, "reason", reason ? json_string(reason) : json_null());
    return 0;
}

static const struct {
    const char *name;
    int (*map)(const json_t *in, hook_call *c, char *err, size_t size);
} mappers[] = {
    {"SessionStart", map_session_start}, {"UserPromptSubmit", map_prompt},
    {"PreToolUse", map_pre_tool},        {"PostToolUse", map_post_tool},
    {"Notification", map_notification},  {"Stop", map_stop},
    {"SessionEnd", map_session_end},
};

static int common_fields(const json_t *in, hook_call *c, char *err, size_t size)
{
    const char *event, *sid, *cwd, *transcript, *mode;
    if (!member_str(in, "hook_event_name", HOOK_NAME_MAX, true, &event, err, size) ||
        !member_str(in, "session_id", sizeof c->session_id - 1, true, &sid, err, size) ||
        !member_str(in, "cwd", HOOK_PATH_MAX, false, &cwd, err, size) ||
        !member_str(in, "transcript_path", HOOK_PATH_MAX, false, &transcript, err, size) ||
        !member_str(in, "permission_mode", HOOK_NAME_MAX, false, &mode, err, size))
        return -1;
    if (!event_name_ok(event))
        return errbuf_fail(err, size, "'hook_event_name' must be letters, digits and '_'");
    if (!bosun_session_id_valid(sid))
        return errbuf_fail(err, size, "'session_id' is not a session id (A-Z a-z 0-9 - _ . :)");
    if ((cwd && cwd[0] != '/') || (transcript && transcript[0] != '/'))
        return errbuf_fail(err, size, "'cwd' and 'transcript_path' must be absolute paths");
    snprintf(c->event, sizeof c->event, "%s", event);
    snprintf(c->session_id, sizeof c->session_id, "%s", sid);
    c->info = json_object();
    if (cwd)
        json_object_set_new(c->info, "cwd", json_string(cwd));
    if (transcript)
        json_object_set_new(c->info, "transcript_path", json_string(transcript));
    if (mode)
        json_object_set_new(c->info, "permission_mode", json_string(mode));
    return 0;
}

int hook_map(const char *text, size_t len, hook_call *c, char *err, size_t size)
{
    memset(c, 0, sizeof *c);
    if (len > HOOK_INPUT_MAX)
        return errbuf_fail(err, size, "the hook's input is %zu bytes, over the limit of %d", len,
                           HOOK_INPUT_MAX);
    bosun_json_error je;
    json_t *in = bosun_json_parse(text, len, BOSUN_JSON_REJECT_DUPLICATES, &je);
    if (!in)
        return errbuf_fail(err, size, "the hook's input is not JSON: %s at line %d column %d",
                           je.text, je.line, je.column);
    if (!json_is_object(in)) {
        json_decref(in);
        return errbuf_fail(err, size, "the hook's input is not a JSON object");
    }
    c->events = json_array();
    int rc = common_fields(in, c, err, size);
    for (size_t i = 0; rc == 0 && i < sizeof mappers / sizeof mappers[0]; i++)
        if (strcmp(c->event, mappers[i].name) == 0) {
            c->known = true;
            rc = mappers[i].map(in, c, err, size);
        }
    if (rc == 0) {
        /* The call as Claude Code sent it, with secrets redacted and long
         * strings cut: tool inputs are in it. */
        json_t *raw = bosun_json_redact(in, HOOK_RAW_STRING_MAX);
        json_t *ev = bosun_agent_event(c->events, "hook");
        json_object_set_new(ev, "hook_event_name", json_string(c->event));
        json_object_set_new(ev, "input", raw ? raw : json_null());
    }
    json_decref(in);
    if (rc != 0) {
        char keep[512];
        snprintf(keep, sizeof keep, "%s", err);
        hook_call_clear(c);
        snprintf(err, size, "%s", keep);
    }
    return rc;
}

void hook_call_clear(hook_call *c)
{
    json_decref(c->events);
    json_decref(c->info);
    memset(c, 0, sizeof *c);
}
