/* llm_anthropic.c — the Anthropic Messages dialect: POST
 * {base_url}/messages with stream: true, x-api-key and anthropic-version,
 * read as message_start, content_block_start/delta/stop, message_delta and
 * message_stop events (ping skipped, error reported).  Content blocks are
 * numbered by index: text blocks add to the text, tool_use blocks are tool
 * calls whose input arrives as input_json_delta pieces, thinking blocks go
 * to thinking_delta only.  Neutral tool results become tool_result blocks of
 * a user message; consecutive user-side messages are merged into one, as
 * the API wants roles to alternate. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "llm_dialect.h"

#define ANTHROPIC_VERSION "2023-06-01"

static json_t *an_text_block(const char *text)
{
    return json_pack("{s:s,s:s}", "type", "text", "text", text);
}

static json_t *an_assistant(const json_t *m)
{
    json_t *blocks = json_array();
    const char *text = llm_str(m, "content");
    if (*text)
        json_array_append_new(blocks, an_text_block(text));
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(m, "tool_calls"), i, c)
    {
        json_t *args = json_object_get(c, "arguments");
        json_array_append_new(blocks,
                              json_pack("{s:s,s:s,s:s,s:o}", "type", "tool_use", "id",
                                        llm_str(c, "id"), "name", llm_str(c, "name"), "input",
                                        json_is_object(args) ? json_incref(args) : json_object()));
    }
    return blocks;
}

static json_t *an_user_blocks(const json_t *m)
{
    const char *role = llm_str(m, "role");
    json_t *blocks = json_array();
    if (strcmp(role, "tool") == 0)
        json_array_append_new(blocks, json_pack("{s:s,s:s,s:s,s:b}", "type", "tool_result",
                                                "tool_use_id", llm_str(m, "tool_call_id"),
                                                "content", llm_str(m, "content"), "is_error",
                                                json_is_true(json_object_get(m, "is_error"))));
    else if (*llm_str(m, "content"))
        json_array_append_new(blocks, an_text_block(llm_str(m, "content")));
    return blocks;
}

/* Appends blocks to the last message when it has the same role. */
static void an_push(json_t *msgs, const char *role, json_t *blocks)
{
    if (!json_array_size(blocks)) {
        json_decref(blocks);
        return;
    }
    json_t *last = json_array_get(msgs, json_array_size(msgs) - 1);
    if (last && strcmp(llm_str(last, "role"), role) == 0) {
        json_array_extend(json_object_get(last, "content"), blocks);
        json_decref(blocks);
        return;
    }
    json_array_append_new(msgs, json_pack("{s:s,s:o}", "role", role, "content", blocks));
}

static json_t *an_tools(const json_t *tools)
{
    json_t *arr = json_array();
    size_t i;
    const json_t *t;
    json_array_foreach(tools, i, t)
    {
        json_t *schema = json_object_get(t, "input_schema");
        json_array_append_new(
            arr, json_pack("{s:s,s:s,s:o}", "name", llm_str(t, "name"), "description",
                           llm_str(t, "description"), "input_schema",
                           json_is_object(schema) ? json_incref(schema)
                                                  : json_pack("{s:s}", "type", "object")));
    }
    return arr;
}

static json_t *an_body(const llm_settings *s, const char *system, const json_t *messages,
                       const json_t *tools, char *err, size_t err_size)
{
    json_t *msgs = json_array();
    size_t i;
    const json_t *m;
    json_array_foreach(messages, i, m)
    {
        if (!json_is_object(m)) {
            snprintf(err, err_size, "message %zu cannot be sent (not a neutral message)", i);
            json_decref(msgs);
            return NULL;
        }
        if (strcmp(llm_str(m, "role"), "assistant") == 0)
            an_push(msgs, "assistant", an_assistant(m));
        else
            an_push(msgs, "user", an_user_blocks(m));
    }
    json_t *b = json_pack("{s:s,s:o,s:b,s:I}", "model", s->model, "messages", msgs, "stream", 1,
                          "max_tokens", (json_int_t)s->max_tokens);
    if (!b) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (system && *system)
        json_object_set_new(b, "system", json_string(system));
    if (s->has_temperature)
        json_object_set_new(b, "temperature", json_real(s->temperature));
    if (json_array_size(tools))
        json_object_set_new(b, "tools", an_tools(tools));
    return b;
}

static struct curl_slist *an_headers(const llm_settings *s, struct curl_slist *list)
{
    list = llm_header_add(list, "anthropic-version", ANTHROPIC_VERSION);
    if (list && *s->api_key)
        list = llm_header_add(list, "x-api-key", s->api_key);
    return list;
}

static void an_usage(llm_stream *st, const json_t *u)
{
    if (!json_is_object(u))
        return;
    llm_asm_usage(st->a, "input_tokens", llm_json_int(u, "input_tokens"));
    llm_asm_usage(st->a, "output_tokens", llm_json_int(u, "output_tokens"));
    llm_asm_usage(st->a, "cache_read_tokens", llm_json_int(u, "cache_read_input_tokens"));
    llm_asm_usage(st->a, "cache_write_tokens", llm_json_int(u, "cache_creation_input_tokens"));
}

static int an_block_start(llm_stream *st, const json_t *ev)
{
    const json_t *b = json_object_get(ev, "content_block");
    const char *type = llm_str(b, "type");
    json_int_t index = llm_json_int(ev, "index");
    if (strcmp(type, "tool_use") == 0) {
        if (llm_asm_call(st->a, (long)index, json_string_value(json_object_get(b, "id")),
                         json_string_value(json_object_get(b, "name"))))
            return -1;
        const json_t *input = json_object_get(b, "input");
        if (json_is_object(input) && json_object_size(input))
            return llm_asm_args_value(st->a, (long)index, input);
        return 0;
    }
    if (strcmp(type, "text") == 0 && *llm_str(b, "text"))
        return llm_stream_text(st, llm_str(b, "text"), strlen(llm_str(b, "text")));
    return 0;
}

static int an_block_delta(llm_stream *st, const json_t *ev)
{
    const json_t *d = json_object_get(ev, "delta");
    const char *type = llm_str(d, "type");
    json_int_t index = llm_json_int(ev, "index");
    const json_t *v;
    if (strcmp(type, "text_delta") == 0 && json_is_string(v = json_object_get(d, "text")))
        return llm_stream_text(st, json_string_value(v), json_string_length(v));
    if (strcmp(type, "input_json_delta") == 0 &&
        json_is_string(v = json_object_get(d, "partial_json"))) {
        if (!llm_asm_has_call(st->a, (long)index)) {
            llm_asm_fail(st->a, NULL, "input_json_delta for block %lld, which is not a tool_use",
                         (long long)index);
            return -1;
        }
        return llm_asm_args(st->a, (long)index, json_string_value(v), json_string_length(v));
    }
    if (strcmp(type, "thinking_delta") == 0 && json_is_string(v = json_object_get(d, "thinking")))
        llm_stream_thinking(st, json_string_value(v), json_string_length(v));
    return 0;
}

/* The API's error types, as the neutral categories. */
static const char *an_error_category(const char *type)
{
    if (strcmp(type, "rate_limit_error") == 0)
        return "rate_limit";
    if (strcmp(type, "overloaded_error") == 0 || strcmp(type, "api_error") == 0)
        return "server";
    if (strcmp(type, "authentication_error") == 0 || strcmp(type, "permission_error") == 0)
        return "auth";
    if (strcmp(type, "timeout_error") == 0)
        return "timeout";
    return "invalid_response";
}

static int an_dispatch(llm_stream *st, const char *type, const json_t *ev)
{
    if (strcmp(type, "message_start") == 0) {
        an_usage(st, json_object_get(json_object_get(ev, "message"), "usage"));
    } else if (strcmp(type, "content_block_start") == 0) {
        return an_block_start(st, ev);
    } else if (strcmp(type, "content_block_delta") == 0) {
        return an_block_delta(st, ev);
    } else if (strcmp(type, "message_delta") == 0) {
        const char *stop =
            json_string_value(json_object_get(json_object_get(ev, "delta"), "stop_reason"));
        if (stop)
            llm_asm_stop(st->a, stop);
        an_usage(st, json_object_get(ev, "usage"));
    } else if (strcmp(type, "message_stop") == 0) {
        st->finished = true;
    } else if (strcmp(type, "error") == 0) {
        const json_t *e = json_object_get(ev, "error");
        llm_asm_fail(st->a, an_error_category(llm_str(e, "type")),
                     "the stream reported an error: %.64s: %.300s", llm_str(e, "type"),
                     llm_str(e, "message"));
        return -1;
    }
    /* ping, content_block_stop and types added later: nothing to do. */
    return 0;
}

static int an_event(llm_stream *st, const char *event, const char *data, size_t len)
{
    if (st->finished)
        return 0;
    json_error_t jerr;
    json_t *ev = json_loadb(data, len, 0, &jerr);
    if (!ev || !json_is_object(ev)) {
        json_decref(ev);
        llm_asm_fail(st->a, NULL, "a %.64s event is not a JSON object", event);
        return -1;
    }
    const char *type = json_string_value(json_object_get(ev, "type"));
    int rc = an_dispatch(st, type ? type : event, ev);
    json_decref(ev);
    return rc;
}

const llm_dialect llm_dialect_anthropic = {
    .name = "anthropic",
    .default_base_url = "https://api.anthropic.com/v1",
    .path = "/messages",
    .body = an_body,
    .headers = an_headers,
    .event = an_event,
};
