/* llm_openai.c — the OpenAI-compatible Chat Completions dialect:
 * POST {base_url}/chat/completions with stream: true and
 * stream_options.include_usage, read as chat.completion.chunk events.
 * Tool calls arrive in pieces keyed by tool_calls[].index (the id and name
 * in the first, the arguments spread over the rest, several calls
 * interleaved); the usage comes in a last chunk with no choices; the
 * stream ends with "data: [DONE]". */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "llm_dialect.h"

static json_t *oa_tool_call(const json_t *c)
{
    const json_t *args = json_object_get(c, "arguments");
    char *text = NULL;
    if (json_is_object(args))
        text = json_dumps(args, JSON_COMPACT);
    const char *raw = json_string_value(json_object_get(c, "arguments_raw"));
    json_t *o =
        json_pack("{s:s,s:s,s:{s:s,s:s}}", "id", llm_str(c, "id"), "type", "function", "function",
                  "name", llm_str(c, "name"), "arguments", text ? text : (raw ? raw : "{}"));
    free(text);
    return o;
}

static json_t *oa_message(const json_t *m)
{
    const char *role = json_string_value(json_object_get(m, "role"));
    const char *text = llm_str(m, "content");
    if (role && strcmp(role, "tool") == 0)
        return json_pack("{s:s,s:s,s:s}", "role", "tool", "tool_call_id",
                         llm_str(m, "tool_call_id"), "content", text);
    if (role && strcmp(role, "assistant") == 0) {
        const json_t *calls = json_object_get(m, "tool_calls");
        json_t *o = json_pack("{s:s}", "role", "assistant");
        if (!o)
            return NULL;
        /* With tool calls and no text the API wants content null. */
        json_object_set_new(o, "content",
                            *text || !json_array_size(calls) ? json_string(text) : json_null());
        if (json_array_size(calls)) {
            json_t *arr = json_array();
            size_t i;
            const json_t *c;
            json_array_foreach(calls, i, c) json_array_append_new(arr, oa_tool_call(c));
            json_object_set_new(o, "tool_calls", arr);
        }
        return o;
    }
    return json_pack("{s:s,s:s}", "role", role && strcmp(role, "system") == 0 ? "system" : "user",
                     "content", text);
}

static json_t *oa_tools(const json_t *tools)
{
    json_t *arr = json_array();
    size_t i;
    const json_t *t;
    json_array_foreach(tools, i, t)
    {
        json_t *schema = json_object_get(t, "input_schema");
        json_t *fn = json_pack("{s:s,s:s,s:o}", "name", llm_str(t, "name"), "description",
                               llm_str(t, "description"), "parameters",
                               json_is_object(schema) ? json_incref(schema) : json_object());
        json_array_append_new(arr, json_pack("{s:s,s:o}", "type", "function", "function", fn));
    }
    return arr;
}

static json_t *oa_body(const llm_settings *s, const char *system, const json_t *messages,
                       const json_t *tools, char *err, size_t err_size)
{
    json_t *msgs = json_array();
    if (system && *system)
        json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", "system", "content", system));
    size_t i;
    const json_t *m;
    json_array_foreach(messages, i, m)
    {
        json_t *o = json_is_object(m) ? oa_message(m) : NULL;
        if (!o) {
            snprintf(err, err_size, "message %zu cannot be sent (not a neutral message)", i);
            json_decref(msgs);
            return NULL;
        }
        json_array_append_new(msgs, o);
    }
    json_t *b =
        json_pack("{s:s,s:o,s:b,s:{s:b},s:I}", "model", s->model, "messages", msgs, "stream", 1,
                  "stream_options", "include_usage", 1, "max_tokens", (json_int_t)s->max_tokens);
    if (!b) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (s->has_temperature)
        json_object_set_new(b, "temperature", json_real(s->temperature));
    if (json_array_size(tools))
        json_object_set_new(b, "tools", oa_tools(tools));
    return b;
}

static struct curl_slist *oa_headers(const llm_settings *s, struct curl_slist *list)
{
    if (!*s->api_key)
        return list;
    char *v = NULL;
    size_t n = strlen(s->api_key) + 8;
    v = malloc(n);
    if (!v) {
        curl_slist_free_all(list);
        return NULL;
    }
    snprintf(v, n, "Bearer %s", s->api_key);
    list = llm_header_add(list, "Authorization", v);
    explicit_bzero(v, n);
    free(v);
    return list;
}

static int oa_tool_deltas(llm_stream *st, const json_t *calls)
{
    size_t i;
    const json_t *c;
    json_array_foreach(calls, i, c)
    {
        json_int_t index = llm_json_int(c, "index");
        if (index < 0)
            index = (json_int_t)i; /* servers that leave index out send calls whole, in order */
        const json_t *fn = json_object_get(c, "function");
        if (llm_asm_call(st->a, (long)index, json_string_value(json_object_get(c, "id")),
                         json_string_value(json_object_get(fn, "name"))))
            return -1;
        const json_t *args = json_object_get(fn, "arguments");
        if (json_is_string(args) &&
            llm_asm_args(st->a, (long)index, json_string_value(args), json_string_length(args)))
            return -1;
    }
    return 0;
}

static const char *oa_stop(const char *finish)
{
    if (strcmp(finish, "stop") == 0)
        return "end_turn";
    if (strcmp(finish, "tool_calls") == 0 || strcmp(finish, "function_call") == 0)
        return "tool_use";
    if (strcmp(finish, "length") == 0)
        return "max_tokens";
    return finish;
}

static void oa_usage(llm_stream *st, const json_t *u)
{
    json_int_t in = llm_json_int(u, "prompt_tokens");
    json_int_t cached = llm_json_int(json_object_get(u, "prompt_tokens_details"), "cached_tokens");
    /* prompt_tokens include the cached ones; the neutral input does not. */
    if (in >= 0)
        llm_asm_usage(st->a, "input_tokens", cached > 0 && cached <= in ? in - cached : in);
    llm_asm_usage(st->a, "cache_read_tokens", cached);
    llm_asm_usage(st->a, "output_tokens", llm_json_int(u, "completion_tokens"));
}

static int oa_chunk(llm_stream *st, const json_t *chunk)
{
    const json_t *error = json_object_get(chunk, "error");
    if (error) {
        const char *msg = json_string_value(json_object_get(error, "message"));
        llm_asm_fail(st->a, "server", "the stream reported an error: %.300s",
                     msg ? msg : "(no message)");
        return -1;
    }
    const json_t *u = json_object_get(chunk, "usage");
    if (json_is_object(u))
        oa_usage(st, u);
    const json_t *choice = json_array_get(json_object_get(chunk, "choices"), 0);
    const json_t *delta = json_object_get(choice, "delta");
    const json_t *text = json_object_get(delta, "content");
    if (json_is_string(text) && json_string_length(text) &&
        llm_stream_text(st, json_string_value(text), json_string_length(text)))
        return -1;
    const json_t *think = json_object_get(delta, "reasoning_content");
    if (!json_is_string(think))
        think = json_object_get(delta, "reasoning");
    if (json_is_string(think) && json_string_length(think))
        llm_stream_thinking(st, json_string_value(think), json_string_length(think));
    const json_t *calls = json_object_get(delta, "tool_calls");
    if (json_is_array(calls) && oa_tool_deltas(st, calls))
        return -1;
    const char *finish = json_string_value(json_object_get(choice, "finish_reason"));
    if (finish)
        llm_asm_stop(st->a, oa_stop(finish));
    return 0;
}

static int oa_event(llm_stream *st, const char *event, const char *data, size_t len)
{
    (void)event;
    if (st->finished)
        return 0; /* nothing is read after [DONE] */
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        st->finished = true;
        return 0;
    }
    json_error_t jerr;
    json_t *chunk = json_loadb(data, len, 0, &jerr);
    if (!chunk) {
        llm_asm_fail(st->a, NULL, "a stream chunk is not a JSON object: %s", jerr.text);
        return -1;
    }
    int rc = oa_chunk(st, chunk);
    json_decref(chunk);
    return rc;
}

const llm_dialect llm_dialect_openai = {
    .name = "openai",
    .default_base_url = "https://api.openai.com/v1",
    .path = "/chat/completions",
    .body = oa_body,
    .headers = oa_headers,
    .event = oa_event,
};
