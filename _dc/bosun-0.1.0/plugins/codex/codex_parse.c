/* Codex's `exec --json` lines into a run's events.  The line types (see
 * bosun-codex(7)): thread.started, turn.started, turn.completed,
 * turn.failed, error, and item.started|updated|completed with items of
 * type agent_message, reasoning, command_execution, mcp_tool_call,
 * file_change, web_search, todo_list, error.  turn.started, todo_list and
 * any other type, and any line that is not a JSON object, are left to the
 * core as "output" events. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "codex.h"

/* A line is one JSON object; the core's line_max already bounds it, this
 * bounds the parse. */
#define CODEX_LINE_MAX (16u << 20)
#define REASON_MAX     300

static bool is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/* A count, clamped (bosun_agent_tokens); 0 when there is none. */
static long long tokens(const json_t *u, const char *key)
{
    long long v = bosun_agent_tokens(u, key);
    return v < 0 ? 0 : v;
}

static bool keep_thinking(const bosun_run_info *run)
{
    const cfg_node *n = cfg_get(run->config, "thinking");
    return n && n->type == CFG_SCALAR && strcmp(n->value, "true") == 0;
}

/* ------------------------------------------------------------ usage */

/* The slot of a thread, made (with zero totals) when it is new. */
static codex_thread *thread_slot(codex_state *st, const char *id, bool *known)
{
    for (unsigned i = 0; i < CODEX_THREADS_SEEN; i++)
        if (strcmp(st->seen[i].id, id) == 0) {
            *known = true;
            return &st->seen[i];
        }
    codex_thread *t = &st->seen[st->next];
    st->next = (st->next + 1) % CODEX_THREADS_SEEN;
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "%s", id);
    *known = false;
    return t;
}

/* One turn's tokens: the totals less those of the thread's last turn.  A
 * fresh thread starts from zero; a resumed one whose earlier totals this
 * daemon never saw (it restarted since) can only report totals, and says
 * so with "cumulative": true. */
static json_t *parse_usage(codex_state *st, const bosun_run_info *run, const json_t *u,
                           json_t *events)
{
    codex_totals now = {tokens(u, "input_tokens"), tokens(u, "cached_input_tokens"),
                        tokens(u, "output_tokens"), tokens(u, "reasoning_output_tokens")};
    codex_totals before = {0};
    bool known = run->resume_why == BOSUN_RESUME_NONE, seen = false;
    if (run->session_id) {
        codex_thread *t = thread_slot(st, run->session_id, &seen);
        if (seen)
            before = t->totals;
        t->totals = now;
    }
    known = known || seen;
    if (!known)
        before = (codex_totals){0};
    /* Codex's input_tokens include the cached ones. */
    long long cached = now.cached - before.cached;
    json_t *ev = bosun_agent_ev_usage(events, now.input - before.input - cached,
                                      now.output - before.output, cached, -1);
    if (!ev)
        return NULL;
    json_object_set_new(ev, "reasoning_tokens", json_integer(now.reasoning - before.reasoning));
    json_object_set(ev, "thread_totals", (json_t *)u);
    if (!known)
        json_object_set_new(ev, "cumulative", json_true());
    return known ? ev : NULL; /* totals are not the turn's: not added to the run's */
}

/* ------------------------------------------------------------ items */

static void tool_use(json_t *events, const json_t *item, const char *name, json_t *input)
{
    bosun_agent_ev_tool_use(events, bosun_agent_str(item, "id"), name, input);
    json_decref(input);
}

static void tool_result(json_t *events, const json_t *item, bool is_error, const json_t *content)
{
    json_t *ev = bosun_agent_ev_tool_result(events, bosun_agent_str(item, "id"), is_error, content);
    json_t *code = json_object_get(item, "exit_code");
    if (ev && json_is_integer(code))
        json_object_set(ev, "exit_code", code);
}

/* MCP tools are named as Claude Code names them, mcp__SERVER__TOOL, so
 * that one pattern style fits every agent type. */
static void mcp_name(const json_t *item, char *buf, size_t size)
{
    snprintf(buf, size, "mcp__%s__%s",
             bosun_agent_str(item, "server") ? bosun_agent_str(item, "server") : "",
             bosun_agent_str(item, "tool") ? bosun_agent_str(item, "tool") : "");
}

static bool item_started(const json_t *item, json_t *events)
{
    const char *type = bosun_agent_str(item, "type");
    char name[256];
    if (is(type, "command_execution")) {
        tool_use(events, item, "command_execution",
                 json_pack("{s:s?}", "command", bosun_agent_str(item, "command")));
    } else if (is(type, "mcp_tool_call")) {
        mcp_name(item, name, sizeof name);
        tool_use(events, item, name, json_incref(json_object_get(item, "arguments")));
    } else if (is(type, "web_search")) {
        tool_use(events, item, "web_search",
                 json_pack("{s:s?}", "query", bosun_agent_str(item, "query")));
    } else {
        return false;
    }
    return true;
}

/* A failed MCP call's error, or its result's content blocks. */
static void mcp_result(const json_t *item, json_t *events)
{
    const json_t *err = json_object_get(item, "error");
    const json_t *res = json_object_get(item, "result");
    bool failed = !is(bosun_agent_str(item, "status"), "completed") || json_is_object(err);
    json_t *msg = json_is_object(err) ? json_object_get(err, "message") : NULL;
    tool_result(events, item, failed, msg ? msg : json_object_get(res, "content"));
}

static bool item_completed(const bosun_run_info *run, const json_t *item, json_t *events)
{
    const char *type = bosun_agent_str(item, "type");
    json_t *text = json_object_get(item, "text");
    if (is(type, "agent_message") && json_is_string(text)) {
        bosun_agent_ev_message(events, json_string_value(text), json_string_length(text));
    } else if (is(type, "reasoning")) {
        /* Understood either way: thinking is kept only when asked for. */
        if (keep_thinking(run) && json_is_string(text))
            bosun_agent_ev_thinking(events, json_string_value(text), json_string_length(text),
                                    BOSUN_AGENT_THINKING_MAX);
    } else if (is(type, "command_execution")) {
        json_t *code = json_object_get(item, "exit_code");
        bool failed = !is(bosun_agent_str(item, "status"), "completed") ||
                      (json_is_integer(code) && json_integer_value(code) != 0);
        tool_result(events, item, failed, json_object_get(item, "aggregated_output"));
    } else if (is(type, "mcp_tool_call")) {
        mcp_result(item, events);
    } else if (is(type, "file_change")) {
        /* One line for the whole change: the call and its outcome. */
        tool_use(events, item, "file_change",
                 json_pack("{s:O?}", "changes", json_object_get(item, "changes")));
        json_t *status = json_object_get(item, "status");
        tool_result(events, item, !is(bosun_agent_str(item, "status"), "completed"), status);
    } else if (is(type, "web_search")) {
        tool_result(events, item, false, json_object_get(item, "query"));
    } else if (is(type, "error")) {
        json_t *ev = bosun_agent_event(events, "error");
        if (ev)
            json_object_set_new(ev, "message",
                                json_string(bosun_agent_str(item, "message")
                                                ? bosun_agent_str(item, "message")
                                                : ""));
    } else {
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ turns */

static bool turn_failed(const json_t *o, json_t *events)
{
    const char *msg = bosun_agent_str(json_object_get(o, "error"), "message");
    json_t *ev = bosun_agent_ev_result(events, "error", "turn_failed");
    if (!ev)
        return true;
    char reason[REASON_MAX];
    snprintf(reason, sizeof reason, "turn failed: %s", msg ? msg : "no reason given");
    json_object_set_new(ev, "error", json_string(msg ? msg : ""));
    json_object_set_new(ev, "reason", json_string(reason));
    return true;
}

static bool parse_object(codex_state *st, const bosun_run_info *run, const json_t *o,
                         json_t *events)
{
    const char *type = bosun_agent_str(o, "type");
    const json_t *item = json_object_get(o, "item");
    if (is(type, "thread.started") && bosun_agent_str(o, "thread_id")) {
        bosun_agent_ev_session(events, bosun_agent_str(o, "thread_id"));
        return true;
    }
    if (is(type, "turn.completed")) {
        const json_t *u = json_object_get(o, "usage");
        json_t *turn = json_is_object(u) ? parse_usage(st, run, u, events) : NULL;
        bosun_agent_result_usage(bosun_agent_ev_result(events, "success", "turn_completed"), turn);
        return true;
    }
    if (is(type, "turn.failed"))
        return turn_failed(o, events);
    if (is(type, "error") && bosun_agent_str(o, "message")) {
        json_t *ev = bosun_agent_event(events, "error");
        if (ev)
            json_object_set_new(ev, "message", json_string(bosun_agent_str(o, "message")));
        return true;
    }
    if (!json_is_object(item))
        return false;
    if (is(type, "item.started"))
        return item_started(item, events);
    if (is(type, "item.completed"))
        return item_completed(run, item, events);
    return false;
}

int codex_parse_line(void *state, const bosun_run_info *run, enum bosun_stream stream,
                     const char *line, size_t len, json_t *events)
{
    if (stream != BOSUN_STREAM_STDOUT)
        return 0;
    json_t *o = bosun_agent_line_json(line, len, CODEX_LINE_MAX);
    bool understood = o && parse_object(state, run, o, events);
    json_decref(o);
    return understood ? 1 : 0;
}
