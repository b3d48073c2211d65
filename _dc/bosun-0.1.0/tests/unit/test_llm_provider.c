/* bosun-llm's provider parts without a transfer: Retry-After and back-off,
 * status categories, key redaction, turn assembly (arguments parsed once
 * whole, malformed ones kept raw, bounds), both dialects' event readers on
 * scripted streams, the request bodies they build, and the settings. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_asm.h"
#include "llm_dialect.h"
#include "llm_redact.h"
#include "llm_retry.h"
#include "llm_settings.h"
#include "tap.h"

static void test_retry_after(void **state)
{
    (void)state;
    time_t now = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */
    assert_true(llm_retry_after_parse("3", now) == 3);
    assert_true(llm_retry_after_parse(" 1.5 ", now) == 1.5);
    assert_true(llm_retry_after_parse("Tue, 14 Nov 2023 22:13:25 GMT", now) == 5);
    assert_true(llm_retry_after_parse("Tue, 14 Nov 2023 22:13:00 GMT", now) == 0);
    assert_true(llm_retry_after_parse("100000", now) == LLM_RETRY_AFTER_MAX);
    assert_true(llm_retry_after_parse("soon", now) == -1);
    assert_true(llm_retry_after_parse("3s", now) == -1);
    assert_true(llm_retry_after_parse("", now) == -1);
    assert_true(llm_retry_after_parse(NULL, now) == -1);
}

static void test_backoff(void **state)
{
    (void)state;
    assert_true(llm_retry_wait(2, -1) == 1);
    assert_true(llm_retry_wait(3, -1) == 2);
    assert_true(llm_retry_wait(4, -1) == 4);
    assert_true(llm_retry_wait(30, -1) == LLM_RETRY_MAX);
    assert_true(llm_retry_wait(5, 0.25) == 0.25);
    assert_string_equal(llm_retry_status_category(401), "auth");
    assert_string_equal(llm_retry_status_category(403), "auth");
    assert_string_equal(llm_retry_status_category(429), "rate_limit");
    assert_string_equal(llm_retry_status_category(529), "server");
    assert_string_equal(llm_retry_status_category(404), "invalid_response");
    assert_false(llm_retry_category_retryable("auth"));
    assert_false(llm_retry_category_retryable("invalid_response"));
    assert_true(llm_retry_category_retryable("rate_limit"));
    assert_true(llm_retry_category_retryable("timeout"));
}

static void test_redact(void **state)
{
    (void)state;
    char a[] = "bad key sk-1234567890ab and again sk-1234567890absk-1234567890ab.";
    llm_redact(a, "sk-1234567890ab");
    assert_string_equal(a, "bad key [redacted] and again [redacted][redacted].");
    char a2[] = "bad key sk-123 and again sk-123sk-123.";
    llm_redact(a2, "sk-123");
    assert_string_equal(a2, "bad key [redacted] and again [redacted"); /* cut to its size */
    char b[] = "xKEYx";
    llm_redact(b, "KEY");
    assert_string_equal(b, "x[red"); /* cut, never longer */
    char c[] = "nothing here";
    llm_redact(c, "");
    assert_string_equal(c, "nothing here");
    char d[] = "K";
    llm_redact(d, "K");
    assert_string_equal(d, "["); /* what fits of the mark */
}

static void test_asm_arguments(void **state)
{
    (void)state;
    llm_asm *a = llm_asm_new();
    assert_int_equal(llm_asm_text(a, "hi", 2), 0);
    assert_int_equal(llm_asm_call(a, 1, "b", "write_file"), 0);
    assert_int_equal(llm_asm_call(a, 0, NULL, "read_file"), 0);
    assert_int_equal(llm_asm_args(a, 0, "{\"pa", 4), 0);
    assert_int_equal(llm_asm_args(a, 1, "[1]", 3), 0);
    assert_int_equal(llm_asm_args(a, 0, "th\":1}", 6), 0);
    assert_int_equal(llm_asm_call(a, 0, "late-id", "other"), 0); /* name kept, id set once */
    assert_int_equal(llm_asm_call(a, 2, "c", "x"), 0);
    assert_int_equal(llm_asm_args(a, 2, "{bad", 4), 0);
    json_t *m = llm_asm_message(a);
    assert_non_null(m);
    char *s = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(
        s, "{\"content\":\"hi\",\"role\":\"assistant\",\"tool_calls\":["
           "{\"arguments\":{\"path\":1},\"id\":\"late-id\",\"name\":\"read_file\"},"
           "{\"arguments\":null,\"arguments_error\":\"the arguments are JSON but not an object\","
           "\"arguments_raw\":\"[1]\",\"id\":\"b\",\"name\":\"write_file\"},"
           "{\"arguments\":null,\"arguments_error\":\"the arguments are not valid JSON: string or "
           "'}' expected near 'bad' at position 4\",\"arguments_raw\":\"{bad\",\"id\":\"c\","
           "\"name\":\"x\"}]}");
    free(s);
    json_decref(m);
    llm_asm_free(a);
}

static void test_asm_bounds(void **state)
{
    (void)state;
    llm_asm *a = llm_asm_new();
    assert_int_equal(llm_asm_call(a, LLM_ASM_MAX_CALLS, "x", "y"), -1);
    assert_string_equal(llm_asm_error(a), "tool call index 128 out of range (0 to 127)");
    llm_asm_free(a);
    a = llm_asm_new();
    assert_int_equal(llm_asm_call(a, -1, "x", "y"), -1);
    llm_asm_free(a);
    a = llm_asm_new();
    assert_int_equal(llm_asm_args(a, 3, "{}", 2), 0);
    assert_null(llm_asm_message(a)); /* a call with arguments but no name */
    assert_string_equal(llm_asm_error(a), "tool call 3 has no name");
    llm_asm_free(a);
    a = llm_asm_new();
    char *big = malloc(LLM_ASM_MAX_ARGS + 1);
    memset(big, ' ', LLM_ASM_MAX_ARGS + 1);
    assert_int_equal(llm_asm_call(a, 0, "i", "n"), 0);
    assert_int_equal(llm_asm_args(a, 0, big, LLM_ASM_MAX_ARGS), 0);
    assert_int_equal(llm_asm_args(a, 0, big, 1), -1);
    free(big);
    llm_asm_free(a);
}

/* ---- the dialects' readers */

typedef struct seen {
    char text[512], thinking[512];
} seen;

static void on_text(void *arg, const char *t, size_t n)
{
    seen *s = arg;
    strncat(s->text, t, n);
}

static void on_thinking(void *arg, const char *t, size_t n)
{
    seen *s = arg;
    strncat(s->thinking, t, n);
}

static const struct llm_turn_ops ops = {.text_delta = on_text, .thinking_delta = on_thinking};

static char *run(const llm_dialect *d, const char *const *events, seen *sn, int *rc)
{
    llm_stream st = {.a = llm_asm_new(), .ops = &ops, .arg = sn};
    *rc = 0;
    for (size_t i = 0; events[i] && !*rc; i += 2)
        *rc = d->event(&st, events[i], events[i + 1], strlen(events[i + 1]));
    char *out;
    if (*rc) {
        out = strdup(llm_asm_error(st.a));
    } else {
        json_t *m = llm_asm_message(st.a);
        json_t *o = json_pack("{s:o,s:O,s:s,s:b}", "m", m, "u", llm_asm_usage_json(st.a), "stop",
                              llm_asm_stop_reason(st.a) ? llm_asm_stop_reason(st.a) : "-",
                              "finished", st.finished);
        out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
    }
    llm_asm_free(st.a);
    return out;
}

static void test_openai_stream(void **state)
{
    (void)state;
    const char *const ev[] = {
        "message",
        "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}",
        "message",
        "{\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"think\"}}]}",
        "message",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}",
        "message",
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"B\",\"function\":{"
        "\"name\":\"nb\",\"arguments\":\"\"}}]}}]}",
        "message",
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"A\",\"function\":{"
        "\"name\":\"na\",\"arguments\":\"{\\\"x\\\":\"}}]}}]}",
        "message",
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"{}\"}"
        "}]}}]}",
        "message",
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"2}\"}"
        "}]}}]}",
        "message",
        "{\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}",
        "message",
        "{\"choices\":[],\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":9,\"prompt_tokens_"
        "details\":{\"cached_tokens\":20}}}",
        "message",
        "[DONE]",
        "message",
        "not read after [DONE]",
        NULL};
    seen sn = {0};
    int rc;
    char *out = run(&llm_dialect_openai, ev, &sn, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(
        out, "{\"finished\":true,\"m\":{\"content\":\"Hi\",\"role\":\"assistant\",\"tool_calls\":["
             "{\"arguments\":{\"x\":2},\"id\":\"A\",\"name\":\"na\"},"
             "{\"arguments\":{},\"id\":\"B\",\"name\":\"nb\"}]},\"stop\":\"tool_use\","
             "\"u\":{\"cache_read_tokens\":20,\"cache_write_tokens\":0,\"input_tokens\":30,"
             "\"output_tokens\":9}}");
    assert_string_equal(sn.text, "Hi");
    assert_string_equal(sn.thinking, "think");
    free(out);
}

static void test_openai_errors(void **state)
{
    (void)state;
    const char *const e1[] = {"message", "{\"error\":{\"message\":\"boom\"}}", NULL};
    const char *const e2[] = {"message", "{\"choices\":", NULL};
    seen sn = {0};
    int rc;
    char *out = run(&llm_dialect_openai, e1, &sn, &rc);
    assert_int_equal(rc, -1);
    assert_string_equal(out, "the stream reported an error: boom");
    free(out);
    out = run(&llm_dialect_openai, e2, &sn, &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(out, "a stream chunk is not a JSON object"));
    free(out);
}

static void test_anthropic_stream(void **state)
{
    (void)state;
    const char *const ev[] = {
        "message_start",
        "{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":12,\"output_tokens\":"
        "1,\"cache_read_input_tokens\":3,\"cache_creation_input_tokens\":4}}}",
        "ping",
        "{\"type\":\"ping\"}",
        "content_block_start",
        "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\","
        "\"thinking\":\"\"}}",
        "content_block_delta",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\","
        "\"thinking\":\"mm\"}}",
        "content_block_delta",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\","
        "\"signature\":\"s\"}}",
        "content_block_start",
        "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\","
        "\"text\":\"\"}}",
        "content_block_delta",
        "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":"
        "\"Yo\"}}",
        "content_block_stop",
        "{\"type\":\"content_block_stop\",\"index\":1}",
        "content_block_start",
        "{\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\","
        "\"id\":\"tu1\",\"name\":\"bash\",\"input\":{}}}",
        "content_block_delta",
        "{\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
        "\"partial_json\":\"{\\\"command\\\": \"}}",
        "content_block_delta",
        "{\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
        "\"partial_json\":\"\\\"true\\\"}\"}}",
        "content_block_start",
        "{\"type\":\"content_block_start\",\"index\":3,\"content_block\":{\"type\":\"tool_use\","
        "\"id\":\"tu2\",\"name\":\"list_files\",\"input\":{\"path\":\".\"}}}",
        "message_delta",
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_"
        "tokens\":33}}",
        "message_stop",
        "{\"type\":\"message_stop\"}",
        NULL};
    seen sn = {0};
    int rc;
    char *out = run(&llm_dialect_anthropic, ev, &sn, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(
        out, "{\"finished\":true,\"m\":{\"content\":\"Yo\",\"role\":\"assistant\",\"tool_calls\":["
             "{\"arguments\":{\"command\":\"true\"},\"id\":\"tu1\",\"name\":\"bash\"},"
             "{\"arguments\":{\"path\":\".\"},\"id\":\"tu2\",\"name\":\"list_files\"}]},"
             "\"stop\":\"tool_use\",\"u\":{\"cache_read_tokens\":3,\"cache_write_tokens\":4,"
             "\"input_tokens\":12,\"output_tokens\":33}}");
    assert_string_equal(sn.thinking, "mm");
    free(out);
}

static void test_anthropic_errors(void **state)
{
    (void)state;
    const char *const e1[] = {
        "error",
        "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}",
        NULL};
    const char *const e2[] = {"content_block_delta",
                              "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
                              "\"input_json_delta\",\"partial_json\":\"{\"}}",
                              NULL};
    seen sn = {0};
    int rc;
    char *out = run(&llm_dialect_anthropic, e1, &sn, &rc);
    assert_int_equal(rc, -1);
    assert_string_equal(out, "the stream reported an error: overloaded_error: Overloaded");
    free(out);
    out = run(&llm_dialect_anthropic, e2, &sn, &rc);
    assert_int_equal(rc, -1);
    assert_string_equal(out, "input_json_delta for block 0, which is not a tool_use");
    free(out);
}

/* ---- bodies and settings */

static json_t *settings_json(const char *provider)
{
    return json_pack("{s:s,s:s,s:s,s:f}", "provider", provider, "model", "m", "api_key", "K",
                     "temperature", 0.0);
}

static void test_anthropic_body(void **state)
{
    (void)state;
    llm_settings s;
    const llm_dialect *d;
    char err[256];
    json_t *cfg = settings_json("anthropic");
    assert_int_equal(llm_settings_load(&s, &d, cfg, err, sizeof err), 0);
    assert_ptr_equal(d, &llm_dialect_anthropic);
    assert_string_equal(s.base_url, "https://api.anthropic.com/v1");
    json_t *msgs = json_loads(
        "[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"b\"},"
        "{\"role\":\"assistant\",\"content\":\"\"},{\"role\":\"user\",\"content\":\"c\"},"
        "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"1\",\"name\":\"n\","
        "\"arguments\":null,\"arguments_error\":\"e\",\"arguments_raw\":\"{\"}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"1\",\"name\":\"n\",\"content\":\"bad\",\"is_error\":"
        "true}]",
        0, NULL);
    json_t *b = d->body(&s, "", msgs, NULL, err, sizeof err);
    char *out = json_dumps(json_object_get(b, "messages"), JSON_COMPACT);
    assert_string_equal(
        out,
        "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\","
        "\"text\":\"b\"},{\"type\":\"text\",\"text\":\"c\"}]},{\"role\":\"assistant\",\"content\":"
        "[{\"type\":\"tool_use\",\"id\":\"1\",\"name\":\"n\",\"input\":{}}]},{\"role\":\"user\","
        "\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"1\",\"content\":\"bad\","
        "\"is_error\":true}]}]");
    assert_null(json_object_get(b, "system"));
    assert_true(json_real_value(json_object_get(b, "temperature")) == 0.0);
    free(out);
    json_decref(b);
    json_decref(msgs);
    json_decref(cfg);
    llm_settings_clear(&s);
}

static void test_settings_errors(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"{\"provider\":\"openai\"}", "llm.model is required"},
        {"{\"provider\":\"openai\",\"model\":\"\"}", "llm.model must not be empty"},
        {"{\"provider\":\"x\",\"model\":\"m\"}", "llm.provider must be openai or anthropic"},
        {"{\"provider\":\"openai\",\"model\":\"m\",\"api_key\":\"a\\u0000b\"}",
         "llm.api_key must be a string of at most 8192 printable characters"},
        {"{\"provider\":\"openai\",\"model\":\"m\",\"request_timeout\":0}",
         "llm.request_timeout must be a number from 1 to 86400"},
        {"{\"provider\":\"openai\",\"model\":\"m\",\"temperature\":3}",
         "llm.temperature must be a number from 0 to 2"},
        {"{\"provider\":\"openai\",\"model\":\"m\",\"base_url\":\"ftp://x\"}",
         "llm.base_url must start with http:// or https://"},
        {"[]", "llm: must be a map"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *cfg = json_loads(bad[i][0], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        assert_non_null(cfg);
        llm_settings s;
        const llm_dialect *d;
        char err[256] = "";
        assert_int_equal(llm_settings_load(&s, &d, cfg, err, sizeof err), -1);
        assert_string_equal(err, bad[i][1]);
        json_decref(cfg);
    }
    json_t *cfg = json_pack("{s:s,s:s,s:s}", "provider", "openai", "model", "m", "base_url",
                            "http://h:1/v1//");
    llm_settings s;
    const llm_dialect *d;
    char err[256];
    assert_int_equal(llm_settings_load(&s, &d, cfg, err, sizeof err), 0);
    assert_string_equal(s.base_url, "http://h:1/v1");
    assert_string_equal(s.api_key, "");
    assert_int_equal(s.retries, 3);
    assert_int_equal(s.max_tokens, 4096);
    assert_false(s.has_temperature);
    llm_settings_clear(&s);
    json_decref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_after),      cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_redact),           cmocka_unit_test(test_asm_arguments),
        cmocka_unit_test(test_asm_bounds),       cmocka_unit_test(test_openai_stream),
        cmocka_unit_test(test_openai_errors),    cmocka_unit_test(test_anthropic_stream),
        cmocka_unit_test(test_anthropic_errors), cmocka_unit_test(test_anthropic_body),
        cmocka_unit_test(test_settings_errors),
    };
    return RUN_TESTS(tests);
}
