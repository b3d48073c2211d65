/* What fuzz_llm_openai.c and fuzz_llm_anthropic.c share: the input is a
 * model API's SSE body, read by llm_sse in chunks of 1 to 64 bytes (the
 * first byte chooses) into one dialect's event reader, as a transfer
 * would.  Whatever the bytes, a turn ends either with an error that says
 * why, or with a neutral assistant message that keeps every promise of
 * llm_provider.h: role assistant; content a string equal to the text
 * deltas passed on, in order; tool calls each with a non-empty id and
 * name, and arguments an object, or null with arguments_error and
 * arguments_raw; usage four non-negative integers; and the message dumps
 * and loads back equal. */
#ifndef BOSUN_FUZZ_LLM_STREAM_H
#define BOSUN_FUZZ_LLM_STREAM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "llm_dialect.h"
#include "llm_sse.h"

typedef struct fuzz_turn {
    const llm_dialect *d;
    llm_stream st;
    char *text;
    size_t text_len;
} fuzz_turn;

static void fuzz_on_text(void *arg, const char *t, size_t n)
{
    fuzz_turn *f = arg;
    f->text = realloc(f->text, f->text_len + n + 1);
    FUZZ_CHECK(f->text);
    memcpy(f->text + f->text_len, t, n);
    f->text_len += n;
}

static int fuzz_on_event(void *arg, const char *event, const char *data, size_t len)
{
    fuzz_turn *f = arg;
    return f->d->event(&f->st, event, data, len) ? 1 : 0;
}

static void fuzz_check_call(const json_t *c)
{
    FUZZ_CHECK(json_is_object(c));
    const char *id = json_string_value(json_object_get(c, "id"));
    const char *name = json_string_value(json_object_get(c, "name"));
    FUZZ_CHECK(id && *id && name && *name);
    const json_t *args = json_object_get(c, "arguments");
    if (json_is_object(args))
        return;
    FUZZ_CHECK(json_is_null(args));
    FUZZ_CHECK(json_is_string(json_object_get(c, "arguments_error")));
    FUZZ_CHECK(json_is_string(json_object_get(c, "arguments_raw")));
}

static void fuzz_check_message(fuzz_turn *f, json_t *m)
{
    FUZZ_CHECK(json_is_object(m));
    FUZZ_CHECK(strcmp(llm_str(m, "role"), "assistant") == 0);
    const json_t *content = json_object_get(m, "content");
    FUZZ_CHECK(json_is_string(content));
    FUZZ_CHECK(json_string_length(content) == f->text_len);
    FUZZ_CHECK(f->text_len == 0 || memcmp(json_string_value(content), f->text, f->text_len) == 0);
    const json_t *calls = json_object_get(m, "tool_calls");
    FUZZ_CHECK(!calls || (json_is_array(calls) && json_array_size(calls) > 0));
    size_t i;
    const json_t *c;
    json_array_foreach(calls, i, c) fuzz_check_call(c);
    const char *key;
    const json_t *v;
    json_t *usage = llm_asm_usage_json(f->st.a);
    FUZZ_CHECK(json_object_size(usage) == 4);
    json_object_foreach(usage, key, v) FUZZ_CHECK(json_is_integer(v) && json_integer_value(v) >= 0);
    char *s = json_dumps(m, JSON_COMPACT);
    FUZZ_CHECK(s);
    json_t *back = json_loads(s, 0, NULL);
    FUZZ_CHECK(back && json_equal(back, m));
    json_decref(back);
    free(s);
}

static int fuzz_llm_stream(const llm_dialect *d, const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const struct llm_turn_ops ops = {.text_delta = fuzz_on_text};
    fuzz_turn f = {.d = d};
    f.st.a = llm_asm_new();
    f.st.ops = &ops;
    f.st.arg = &f;
    FUZZ_CHECK(f.st.a);
    llm_sse *s = llm_sse_new(1u << 16, 1u << 16, fuzz_on_event, &f);
    FUZZ_CHECK(s);
    size_t step = 1 + data[0] % 64;
    int rc = 0;
    for (size_t i = 1; i < size && rc == 0; i += step)
        rc = llm_sse_feed(s, (const char *)data + i, size - i < step ? size - i : step);
    if (rc == 0)
        rc = llm_sse_finish(s);
    if (rc) {
        /* A refusal: the reader's limit or the dialect's reason. */
        FUZZ_CHECK(*llm_sse_error(s) || llm_asm_error(f.st.a));
    } else {
        json_t *m = llm_asm_message(f.st.a);
        if (m)
            fuzz_check_message(&f, m);
        else
            FUZZ_CHECK(llm_asm_error(f.st.a));
        json_decref(m);
    }
    llm_sse_free(s);
    llm_asm_free(f.st.a);
    free(f.text);
    return 0;
}

#endif
