/* Claude Code's stream-json lines into a run's events.  The line types
 * (see bosun-claude-code(7)): system/init, assistant, user, result; any
 * other type or subtype, and any line that is not a JSON object, is left
 * to the core as an "output" event. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "claude_code.h"

/* A stream-json line is one JSON object; the core's line_max (default
 * 64 KiB, at most 16 MiB) already bounds it, this bounds the parse. */
#define CLAUDE_LINE_MAX (16u << 20)
#define REASON_MAX      300

static bool parse_init(const json_t *o, json_t *events)
{
    const char *sid = bosun_agent_str(o, "session_id");
    if (!sid)
        return false;
    json_t *ev = bosun_agent_ev_session(events, sid);
    bosun_agent_copy(ev, "model", o, "model");
    bosun_agent_copy(ev, "cwd", o, "cwd");
    bosun_agent_copy(ev, "tools", o, "tools");
    bosun_agent_copy(ev, "mcp_servers", o, "mcp_servers");
    bosun_agent_copy(ev, "permission_mode", o, "permissionMode");
    bosun_agent_copy(ev, "version", o, "claude_code_version");
    return true;
}

/* Whether message_id is new for this run (and remembers it). */
static bool first_line_of(claude_state *st, const char *run_id, const char *message_id)
{
    claude_seen *slot = NULL;
    for (unsigned i = 0; i < CLAUDE_RUNS_SEEN && !slot; i++)
        if (strcmp(st->seen[i].run, run_id) == 0)
            slot = &st->seen[i];
    if (!slot) {
        slot = &st->seen[st->next];
        st->next = (st->next + 1) % CLAUDE_RUNS_SEEN;
        snprintf(slot->run, sizeof slot->run, "%s", run_id);
        slot->message[0] = '\0';
    }
    if (strncmp(slot->message, message_id, sizeof slot->message - 1) == 0)
        return false;
    snprintf(slot->message, sizeof slot->message, "%s", message_id);
    return true;
}

static bool keep_thinking(const bosun_run_info *run)
{
    bool keep = false;
    const cfg_node *n = cfg_get(run->config, "thinking");
    return n && cfg_as_bool(n, &keep, NULL) && keep; /* checked when loaded */
}

static void parse_block(const bosun_run_info *run, const json_t *b, json_t *events)
{
    const char *type = bosun_agent_str(b, "type");
    if (!type)
        return;
    json_t *t = json_object_get(b, "text");
    if (strcmp(type, "text") == 0 && json_is_string(t)) {
        bosun_agent_ev_message(events, json_string_value(t), json_string_length(t));
    } else if (strcmp(type, "thinking") == 0 && keep_thinking(run)) {
        json_t *th = json_object_get(b, "thinking");
        if (json_is_string(th))
            bosun_agent_ev_thinking(events, json_string_value(th), json_string_length(th),
                                    BOSUN_AGENT_THINKING_MAX);
    } else if (strcmp(type, "tool_use") == 0) {
        bosun_agent_ev_tool_use(events, bosun_agent_str(b, "id"), bosun_agent_str(b, "name"),
                                json_object_get(b, "input"));
    } else if (strcmp(type, "tool_result") == 0) {
        bosun_agent_ev_tool_result(events, bosun_agent_str(b, "tool_use_id"),
                                   json_is_true(json_object_get(b, "is_error")),
                                   json_object_get(b, "content"));
    }
}

static void parse_usage(json_t *events, const json_t *u, const char *message_id)
{
    json_t *ev = bosun_agent_ev_usage(events, bosun_agent_tokens(u, "input_tokens"),
                                      bosun_agent_tokens(u, "output_tokens"),
                                      bosun_agent_tokens(u, "cache_read_input_tokens"),
                                      bosun_agent_tokens(u, "cache_creation_input_tokens"));
    if (ev && message_id)
        json_object_set_new(ev, "message_id", json_string(message_id));
}

static bool parse_message(claude_state *st, const bosun_run_info *run, const json_t *o,
                          json_t *events)
{
    const json_t *m = json_object_get(o, "message");
    const json_t *content = json_object_get(m, "content");
    if (!json_is_array(content))
        return false;
    size_t i, before = json_array_size(events);
    json_t *b;
    json_array_foreach(content, i, b) parse_block(run, b, events);
    const char *mid = bosun_agent_str(m, "id");
    json_t *u = json_object_get(m, "usage");
    if (json_is_object(u) && mid && first_line_of(st, run->run_id, mid))
        parse_usage(events, u, mid);
    /* An assistant line is all understood (thinking is left out on
     * purpose); a user line without a tool result (a replayed prompt) is
     * kept as output. */
    return strcmp(bosun_agent_str(o, "type"), "assistant") == 0 || json_array_size(events) > before;
}

/* The run's reason when it did not end well: what the CLI said. */
static void result_reason(json_t *ev, const json_t *o, const char *subtype, bool is_error)
{
    char reason[REASON_MAX];
    const json_t *errors = json_object_get(o, "errors");
    const char *first = json_string_value(json_array_get(errors, 0));
    const char *text = bosun_agent_str(o, "result");
    if (subtype && strcmp(subtype, "success") != 0)
        snprintf(reason, sizeof reason, "%s%s%s", subtype, first ? ": " : "", first ? first : "");
    else if (is_error)
        snprintf(reason, sizeof reason, "%s",
                 text    ? text
                 : first ? first
                         : "the CLI reported an error");
    else
        return;
    json_object_set_new(ev, "reason", json_string(reason));
    if (is_error && (first || text))
        json_object_set_new(ev, "error", json_string(first ? first : text));
}

static bool parse_result(const json_t *o, json_t *events)
{
    const char *subtype = bosun_agent_str(o, "subtype");
    bool is_error = json_is_true(json_object_get(o, "is_error"));
    json_t *ev = bosun_agent_ev_result(events, is_error ? "error" : "success", subtype);
    if (!ev)
        return true;
    bosun_agent_copy(ev, "session_id", o, "session_id");
    bosun_agent_copy(ev, "turns", o, "num_turns");
    bosun_agent_copy(ev, "duration_ms", o, "duration_ms");
    bosun_agent_copy(ev, "cost_usd", o, "total_cost_usd");
    bosun_agent_copy(ev, "stop_reason", o, "stop_reason");
    json_t *denials = json_object_get(o, "permission_denials");
    if (json_is_array(denials))
        json_object_set_new(ev, "permission_denials",
                            json_integer((json_int_t)json_array_size(denials)));
    const json_t *u = json_object_get(o, "usage");
    if (json_is_object(u)) {
        json_t *tot = json_pack(
            "{s:I,s:I,s:I,s:I}", "input_tokens", (json_int_t)bosun_agent_tokens(u, "input_tokens"),
            "output_tokens", (json_int_t)bosun_agent_tokens(u, "output_tokens"),
            "cache_read_tokens", (json_int_t)bosun_agent_tokens(u, "cache_read_input_tokens"),
            "cache_write_tokens", (json_int_t)bosun_agent_tokens(u, "cache_creation_input_tokens"));
        json_object_set_new(ev, "usage", tot);
    }
    result_reason(ev, o, subtype, is_error);
    return true;
}

int claude_parse_line(void *state, const bosun_run_info *run, enum bosun_stream stream,
                      const char *line, size_t len, json_t *events)
{
    if (stream != BOSUN_STREAM_STDOUT)
        return 0;
    json_t *o = bosun_agent_line_json(line, len, CLAUDE_LINE_MAX);
    const char *type = bosun_agent_str(o, "type");
    bool understood = false;
    if (!type)
        understood = false;
    else if (strcmp(type, "system") == 0 && bosun_agent_str(o, "subtype") &&
             strcmp(bosun_agent_str(o, "subtype"), "init") == 0)
        understood = parse_init(o, events);
    else if (strcmp(type, "assistant") == 0 || strcmp(type, "user") == 0)
        understood = parse_message(state, run, o, events);
    else if (strcmp(type, "result") == 0)
        understood = parse_result(o, events);
    json_decref(o);
    return understood ? 1 : 0;
}
