/* Gemini's stream-json lines into a run's events.  The line types (see
 * bosun-gemini(7)): init, message (role user or assistant), tool_use,
 * tool_result, error, result.  A user message (the prompt, echoed), any
 * other type, and any line that is not a JSON object, are left to the
 * core as "output" events. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "gemini.h"

/* A line is one JSON object; the core's line_max already bounds it, this
 * bounds the parse. */
#define GEMINI_LINE_MAX (16u << 20)
#define REASON_MAX      300

static bool is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

static bool parse_message(const json_t *o, json_t *events)
{
    json_t *text = json_object_get(o, "content");
    if (!is(bosun_agent_str(o, "role"), "assistant") || !json_is_string(text))
        return false;
    json_t *ev = bosun_agent_ev_message(events, json_string_value(text), json_string_length(text));
    bosun_agent_copy(ev, "delta", o, "delta");
    return true;
}

static bool parse_tool_result(const json_t *o, json_t *events)
{
    const json_t *err = json_object_get(o, "error");
    json_t *out = json_object_get(o, "output");
    bool failed = !is(bosun_agent_str(o, "status"), "success");
    json_t *ev = bosun_agent_ev_tool_result(events, bosun_agent_str(o, "tool_id"), failed,
                                            out ? out : json_object_get(err, "message"));
    bosun_agent_copy(ev, "error_type", err, "type");
    return true;
}

/* Gemini's stats count the cached tokens in input_tokens; "input" is the
 * rest, as the usage event counts them. */
static json_t *parse_stats(const json_t *stats, json_t *events)
{
    if (!json_is_object(stats))
        return NULL;
    long long input = bosun_agent_tokens(stats, "input");
    long long cached = bosun_agent_tokens(stats, "cached");
    if (input < 0 && bosun_agent_tokens(stats, "input_tokens") >= 0)
        input = bosun_agent_tokens(stats, "input_tokens") - (cached > 0 ? cached : 0);
    return bosun_agent_ev_usage(events, input, bosun_agent_tokens(stats, "output_tokens"), cached,
                                -1);
}

static bool parse_result(const json_t *o, json_t *events)
{
    const json_t *stats = json_object_get(o, "stats");
    const json_t *err = json_object_get(o, "error");
    json_t *usage = parse_stats(stats, events);
    const char *status = bosun_agent_str(o, "status");
    json_t *ev =
        bosun_agent_ev_result(events, status ? status : "unknown", bosun_agent_str(err, "type"));
    if (!ev)
        return true;
    bosun_agent_result_usage(ev, usage);
    bosun_agent_copy(ev, "duration_ms", stats, "duration_ms");
    bosun_agent_copy(ev, "tool_calls", stats, "tool_calls");
    if (json_is_object(err)) {
        char reason[REASON_MAX];
        const char *msg = bosun_agent_str(err, "message");
        snprintf(reason, sizeof reason, "%s%s%s",
                 bosun_agent_str(err, "type") ? bosun_agent_str(err, "type") : "error",
                 msg ? ": " : "", msg ? msg : "");
        json_object_set_new(ev, "error", json_string(msg ? msg : ""));
        json_object_set_new(ev, "reason", json_string(reason));
    }
    return true;
}

static bool parse_object(const json_t *o, json_t *events)
{
    const char *type = bosun_agent_str(o, "type");
    if (is(type, "init") && bosun_agent_str(o, "session_id")) {
        json_t *ev = bosun_agent_ev_session(events, bosun_agent_str(o, "session_id"));
        bosun_agent_copy(ev, "model", o, "model");
        return true;
    }
    if (is(type, "message"))
        return parse_message(o, events);
    if (is(type, "tool_use")) {
        bosun_agent_ev_tool_use(events, bosun_agent_str(o, "tool_id"),
                                bosun_agent_str(o, "tool_name"), json_object_get(o, "parameters"));
        return true;
    }
    if (is(type, "tool_result"))
        return parse_tool_result(o, events);
    if (is(type, "error")) {
        json_t *ev = bosun_agent_event(events, "error");
        bosun_agent_copy(ev, "severity", o, "severity");
        bosun_agent_copy(ev, "message", o, "message");
        return true;
    }
    if (is(type, "result"))
        return parse_result(o, events);
    return false;
}

int gemini_parse_line(void *state, const bosun_run_info *run, enum bosun_stream stream,
                      const char *line, size_t len, json_t *events)
{
    if (stream != BOSUN_STREAM_STDOUT)
        return 0;
    json_t *o = bosun_agent_line_json(line, len, GEMINI_LINE_MAX);
    bool understood = o && parse_object(o, events);
    json_decref(o);
    return understood ? 1 : 0;
}
