/* bosun-llm's stdout: one JSON object a line, {"kind": K, ...} (the kinds
 * in bosun-llm(7)).  Each is rebuilt through <bosun/agent_stream.h>, so
 * that sizes are capped and secrets masked as for the agent CLIs and the
 * core's cost accounting and budgets read the same usage and result
 * events.  A line of another shape stays an "output" event. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <sys/wait.h>

#include "llm.h"

#define LLM_LINE_MAX (16u << 20)
#define DELTA_MAX    (16 * 1024)
#define SMALL_MAX    1024

/* ev[key] = src[key] when it is a string of at most max bytes. */
static void copy_str(json_t *ev, const json_t *src, const char *key, size_t max)
{
    json_t *v = json_object_get(src, key);
    if (ev && json_is_string(v) && json_string_length(v) <= max)
        json_object_set(ev, key, v);
}

static void copy_num(json_t *ev, const json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);
    if (ev && json_is_number(v))
        json_object_set(ev, key, v);
}

/* detail: a small object of the tool's extras (exit code, bytes...). */
static void copy_detail(json_t *ev, const json_t *src)
{
    json_t *v = json_object_get(src, "detail");
    if (ev && json_is_object(v) && json_dumpb(v, NULL, 0, JSON_COMPACT) <= 4096)
        json_object_set(ev, "detail", v);
}

static bool text_event(const json_t *o, json_t *events, const char *kind)
{
    json_t *t = json_object_get(o, "text");
    if (!json_is_string(t))
        return false;
    const char *s = json_string_value(t);
    size_t n = json_string_length(t);
    if (strcmp(kind, "message") == 0)
        bosun_agent_ev_message(events, s, n);
    else if (strcmp(kind, "thinking") == 0)
        bosun_agent_ev_thinking(events, s, n, BOSUN_AGENT_THINKING_MAX);
    else {
        json_t *ev = bosun_agent_event(events, "message_delta");
        if (ev)
            json_object_set_new(ev, "text", json_stringn(s, n < DELTA_MAX ? n : DELTA_MAX));
    }
    return true;
}

static bool status_event(const json_t *o, json_t *events)
{
    static const char *const states[] = {"thinking", "executing", "idle", "error", NULL};
    const char *st = bosun_agent_str(o, "status");
    bool known = false;
    for (size_t i = 0; st && states[i]; i++)
        known = known || strcmp(st, states[i]) == 0;
    if (!known)
        return false;
    json_t *ev = bosun_agent_event(events, "status");
    json_object_set_new(ev, "status", json_string(st));
    copy_str(ev, o, "tool", SMALL_MAX);
    copy_str(ev, o, "reason", SMALL_MAX);
    copy_num(ev, o, "round");
    return true;
}

static bool tool_event(const json_t *o, json_t *events, bool result)
{
    const char *id = bosun_agent_str(o, "id");
    if (!id)
        return false;
    json_t *ev = result ? bosun_agent_ev_tool_result(events, id,
                                                     json_is_true(json_object_get(o, "is_error")),
                                                     json_object_get(o, "content"))
                        : bosun_agent_ev_tool_use(events, id, bosun_agent_str(o, "name"),
                                                  json_object_get(o, "input"));
    copy_str(ev, o, "category", 32);
    copy_num(ev, o, "round");
    if (result) {
        copy_str(ev, o, "name", SMALL_MAX);
        copy_detail(ev, o);
    }
    return true;
}

static bool usage_event(const json_t *o, json_t *events)
{
    json_t *ev = bosun_agent_ev_usage(
        events, bosun_agent_tokens(o, "input_tokens"), bosun_agent_tokens(o, "output_tokens"),
        bosun_agent_tokens(o, "cache_read_tokens"), bosun_agent_tokens(o, "cache_write_tokens"));
    copy_str(ev, o, "model", SMALL_MAX);
    copy_num(ev, o, "round");
    return true;
}

static bool session_event(const json_t *o, json_t *events)
{
    const char *sid = bosun_agent_str(o, "session_id");
    if (!sid)
        return false;
    json_t *ev = bosun_agent_ev_session(events, sid);
    copy_str(ev, o, "model", SMALL_MAX);
    copy_str(ev, o, "provider", 32);
    copy_str(ev, o, "cwd", 4096);
    bosun_agent_copy(ev, "tools", o, "tools");
    return true;
}

/* The run's end: status, subtype (success | error_max_rounds | error_auth
 * | error_provider | error_budget ...), turns, the reason when it failed,
 * and the run's usage totals, which the core adds to the run's spend. */
static bool result_event(const json_t *o, json_t *events)
{
    json_t *ev =
        bosun_agent_ev_result(events, bosun_agent_str(o, "status"), bosun_agent_str(o, "subtype"));
    copy_num(ev, o, "turns");
    copy_num(ev, o, "rounds");
    copy_num(ev, o, "duration_ms");
    copy_str(ev, o, "reason", SMALL_MAX);
    copy_str(ev, o, "error", SMALL_MAX);
    copy_str(ev, o, "session_id", BOSUN_SESSION_ID_MAX);
    copy_str(ev, o, "model", SMALL_MAX);
    const json_t *u = json_object_get(o, "usage");
    if (ev && json_is_object(u)) {
        json_t *usage = json_object();
        static const char *const keys[] = {"input_tokens", "output_tokens", "cache_read_tokens",
                                           "cache_write_tokens"};
        for (size_t i = 0; i < 4; i++) {
            long long v = bosun_agent_tokens(u, keys[i]);
            json_object_set_new(usage, keys[i], json_integer(v > 0 ? v : 0));
        }
        json_object_set_new(ev, "usage", usage);
    }
    return true;
}

/* A fetch the tool made (time, duration, method, url, status, bytes). */
static bool fetch_event(const json_t *o, json_t *events)
{
    json_t *ev = bosun_agent_event(events, "fetch");
    static const char *const strs[] = {"id", "method", "url", "error", NULL};
    static const char *const nums[] = {"time", "duration", "status", "bytes", NULL};
    for (size_t i = 0; strs[i]; i++)
        copy_str(ev, o, strs[i], 4096);
    for (size_t i = 0; nums[i]; i++)
        copy_num(ev, o, nums[i]);
    bosun_agent_copy(ev, "truncated", o, "truncated");
    return true;
}

int llm_parse_line(void *state, const bosun_run_info *run, enum bosun_stream stream,
                   const char *line, size_t len, json_t *events)
{
    if (stream != BOSUN_STREAM_STDOUT)
        return 0;
    json_t *o = bosun_agent_line_json(line, len, LLM_LINE_MAX);
    const char *kind = bosun_agent_str(o, "kind");
    bool ok = false;
    if (!kind)
        ok = false;
    else if (strcmp(kind, "message") == 0 || strcmp(kind, "thinking") == 0 ||
             strcmp(kind, "message_delta") == 0)
        ok = text_event(o, events, kind);
    else if (strcmp(kind, "status") == 0)
        ok = status_event(o, events);
    else if (strcmp(kind, "tool_use") == 0 || strcmp(kind, "tool_result") == 0)
        ok = tool_event(o, events, strcmp(kind, "tool_result") == 0);
    else if (strcmp(kind, "usage") == 0)
        ok = usage_event(o, events);
    else if (strcmp(kind, "session") == 0)
        ok = session_event(o, events);
    else if (strcmp(kind, "result") == 0)
        ok = result_event(o, events);
    else if (strcmp(kind, "fetch") == 0)
        ok = fetch_event(o, events);
    json_decref(o);
    return ok ? 1 : 0;
}

/* The result line decides; without one bosun-llm died before its end. */
enum bosun_exit_class llm_classify_exit(void *state, const bosun_run_info *run, int status)
{
    const char *subtype = json_string_value(json_object_get(run->result, "subtype"));
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!subtype)
        return clean ? BOSUN_EXIT_DONE : BOSUN_EXIT_FAILED;
    if (strcmp(subtype, "success") == 0)
        return clean ? BOSUN_EXIT_DONE : BOSUN_EXIT_FAILED;
    /* Out of rounds is no failure to retry from scratch: a person decides
     * whether the session goes on (as for Claude Code's max turns). */
    if (strcmp(subtype, "error_max_rounds") == 0)
        return BOSUN_EXIT_NEEDS_INPUT;
    return BOSUN_EXIT_FAILED;
}
