/* The typed events of the coding-CLI agent types (<bosun/agent_stream.h>):
 * one place decides how big an event may get and how a tool's input is
 * made safe to store. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/agent_stream.h>
#include <bosun/codec.h>
#include <bosun/json.h>

json_t *bosun_agent_line_json(const char *line, size_t len, size_t max)
{
    /* Only an object can be an event; a crash trace, a banner or "[1, 2]"
     * stays an output line. */
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (len > max || i == len || line[i] != '{')
        return NULL;
    json_t *v = bosun_json_parse(line, len, 0, NULL);
    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

const char *bosun_agent_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

long long bosun_agent_int(const json_t *o, const char *key, long long def)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

long long bosun_agent_tokens(const json_t *o, const char *key)
{
    long long v = bosun_agent_int(o, key, -1);
    if (!json_is_integer(json_object_get(o, key)))
        return -1;
    return v < 0 ? 0 : v > BOSUN_AGENT_TOKENS_MAX ? BOSUN_AGENT_TOKENS_MAX : v;
}

void bosun_agent_copy(json_t *ev, const char *to, const json_t *from, const char *key)
{
    json_t *v = json_object_get(from, key);
    if (ev && v)
        json_object_set(ev, to, v);
}

json_t *bosun_agent_event(json_t *events, const char *kind)
{
    json_t *ev = json_pack("{s:s}", "kind", kind);
    if (!ev || json_array_append_new(events, ev) != 0)
        return NULL;
    return ev;
}

/* Sets key to at most cap bytes of text, cut at a character boundary, and
 * says when it was cut.  Text that is not UTF-8 is kept as base64. */
static void set_text(json_t *ev, const char *key, const char *text, size_t len, size_t cap)
{
    if (!ev)
        return;
    size_t keep = len;
    if (keep > cap) {
        keep = cap;
        while (keep > 0 && ((unsigned char)text[keep] & 0xc0) == 0x80)
            keep--;
        json_object_set_new(ev, "truncated", json_true());
        json_object_set_new(ev, "size", json_integer((json_int_t)len));
    }
    if (bosun_utf8_text(text, keep)) {
        json_object_set_new(ev, key, json_stringn_nocheck(text, keep));
        return;
    }
    json_object_set_new(ev, key, json_string(""));
    json_object_set_new(ev, "not_utf8", json_true());
}

json_t *bosun_agent_ev_session(json_t *events, const char *session_id)
{
    json_t *ev = bosun_agent_event(events, "session");
    if (ev)
        json_object_set_new(ev, "session_id", json_string(session_id));
    return ev;
}

json_t *bosun_agent_ev_message(json_t *events, const char *text, size_t len)
{
    json_t *ev = bosun_agent_event(events, "message");
    set_text(ev, "text", text, len, BOSUN_AGENT_TEXT_MAX);
    return ev;
}

json_t *bosun_agent_ev_thinking(json_t *events, const char *text, size_t len, size_t cap)
{
    json_t *ev = bosun_agent_event(events, "thinking");
    set_text(ev, "text", text, len,
             cap < BOSUN_AGENT_THINKING_MAX ? cap : BOSUN_AGENT_THINKING_MAX);
    return ev;
}

json_t *bosun_agent_ev_tool_use(json_t *events, const char *id, const char *name,
                                const json_t *input)
{
    json_t *ev = bosun_agent_event(events, "tool_use");
    if (!ev)
        return NULL;
    json_object_set_new(ev, "id", id ? json_string(id) : json_null());
    json_object_set_new(ev, "name", name ? json_string(name) : json_null());
    json_t *clean = input ? bosun_json_redact(input, BOSUN_AGENT_INPUT_MAX) : NULL;
    json_object_set_new(ev, "input", clean ? clean : json_object());
    return ev;
}

/* The text of a tool result: a string, or the text blocks of an array
 * joined by newlines; other blocks (images) are counted, not kept. */
static void result_text(const json_t *content, bosun_json_buf *buf, size_t *other)
{
    if (json_is_string(content)) {
        bosun_json_append_raw(buf, json_string_value(content), json_string_length(content));
        return;
    }
    size_t i;
    json_t *b;
    json_array_foreach(content, i, b)
    {
        const char *type = json_string_value(json_object_get(b, "type"));
        json_t *t = json_object_get(b, "text");
        if (type && strcmp(type, "text") == 0 && json_is_string(t)) {
            if (buf->len)
                bosun_json_append_raw(buf, "\n", 1);
            bosun_json_append_raw(buf, json_string_value(t), json_string_length(t));
            /* Bounded while it is built, not only when it is stored. */
            if (buf->len > BOSUN_AGENT_RESULT_MAX * 4)
                return;
        } else if (json_is_string(b)) {
            bosun_json_append_raw(buf, json_string_value(b), json_string_length(b));
        } else {
            (*other)++;
        }
    }
}

json_t *bosun_agent_ev_tool_result(json_t *events, const char *id, bool is_error,
                                   const json_t *content)
{
    json_t *ev = bosun_agent_event(events, "tool_result");
    if (!ev)
        return NULL;
    json_object_set_new(ev, "id", id ? json_string(id) : json_null());
    json_object_set_new(ev, "is_error", json_boolean(is_error));
    bosun_json_buf buf = {0};
    size_t other = 0;
    result_text(content, &buf, &other);
    set_text(ev, "content", buf.data ? buf.data : "", buf.len, BOSUN_AGENT_RESULT_MAX);
    if (other)
        json_object_set_new(ev, "other_blocks", json_integer((json_int_t)other));
    free(buf.data);
    return ev;
}

static void set_count(json_t *ev, const char *key, long long v)
{
    if (ev && v >= 0)
        json_object_set_new(ev, key, json_integer(v));
}

json_t *bosun_agent_ev_usage(json_t *events, long long input, long long output,
                             long long cache_read, long long cache_write)
{
    json_t *ev = bosun_agent_event(events, "usage");
    set_count(ev, "input_tokens", input);
    set_count(ev, "output_tokens", output);
    set_count(ev, "cache_read_tokens", cache_read);
    set_count(ev, "cache_write_tokens", cache_write);
    return ev;
}

json_t *bosun_agent_ev_result(json_t *events, const char *status, const char *subtype)
{
    json_t *ev = bosun_agent_event(events, "result");
    if (ev && status)
        json_object_set_new(ev, "status", json_string(status));
    if (ev && subtype)
        json_object_set_new(ev, "subtype", json_string(subtype));
    return ev;
}

void bosun_agent_result_usage(json_t *result, const json_t *usage)
{
    static const char *const keys[] = {"input_tokens", "output_tokens", "cache_read_tokens",
                                       "cache_write_tokens"};
    json_t *u = result && usage ? json_object() : NULL;
    for (size_t i = 0; u && i < sizeof keys / sizeof keys[0]; i++)
        bosun_agent_copy(u, keys[i], usage, keys[i]);
    if (u)
        json_object_set_new(result, "usage", u);
}
