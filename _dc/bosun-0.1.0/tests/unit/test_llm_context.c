/* llm_context (plugins/llm/prog/llm_context.c): the messages a model call
 * is given.  The task prompt is always first when pinned, then at most the
 * last max messages, and a tool result never comes without the assistant
 * message whose call it answers (checked over many random conversations). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "llm_loop.h"
#include "tap.h"

static json_t *msg(const char *role, const char *content)
{
    return json_pack("{s:s,s:s}", "role", role, "content", content);
}

static json_t *call_msg(int calls, int *next_id)
{
    json_t *m = msg("assistant", "");
    json_t *list = json_array();
    for (int i = 0; i < calls; i++) {
        char id[32];
        snprintf(id, sizeof id, "c%d", (*next_id)++);
        json_array_append_new(
            list, json_pack("{s:s,s:s,s:{}}", "id", id, "name", "read_file", "arguments"));
    }
    json_object_set_new(m, "tool_calls", list);
    return m;
}

static const char *role(const json_t *ctx, size_t i)
{
    return json_string_value(json_object_get(json_array_get(ctx, i), "role"));
}

static void test_short_history_whole(void **state)
{
    json_t *h = json_array();
    json_array_append_new(h, msg("user", "the task"));
    json_array_append_new(h, msg("assistant", "done"));
    json_t *ctx = llm_context(h, true, 50);
    assert_int_equal(json_array_size(ctx), 2);
    assert_true(json_equal(ctx, h));
    json_decref(ctx);
    json_decref(h);
}

static void test_pinned_prompt_and_tail(void **state)
{
    json_t *h = json_array();
    json_array_append_new(h, msg("user", "the task"));
    for (int i = 0; i < 30; i++)
        json_array_append_new(h, msg(i % 2 ? "user" : "assistant", "x"));
    json_t *ctx = llm_context(h, true, 10);
    assert_int_equal(json_array_size(ctx), 11);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ctx, 0), "content")),
                        "the task");
    assert_ptr_equal(json_array_get(ctx, 10), json_array_get(h, 30));
    assert_ptr_equal(json_array_get(ctx, 1), json_array_get(h, 21));
    json_decref(ctx);
    /* Not pinned: the tail alone. */
    ctx = llm_context(h, false, 10);
    assert_int_equal(json_array_size(ctx), 10);
    assert_ptr_equal(json_array_get(ctx, 0), json_array_get(h, 21));
    json_decref(ctx);
    json_decref(h);
}

static void test_never_starts_on_a_result(void **state)
{
    int id = 0;
    json_t *h = json_array();
    json_array_append_new(h, msg("user", "the task"));
    json_array_append_new(h, call_msg(3, &id));
    for (int i = 0; i < 3; i++)
        json_array_append_new(h, msg("tool", "r"));
    json_array_append_new(h, msg("assistant", "end"));
    /* The last 3 would start on the second result: the window reaches back
     * to the round's call, never dropping the latest results. */
    json_t *ctx = llm_context(h, true, 3);
    assert_int_equal(json_array_size(ctx), 6);
    assert_string_equal(role(ctx, 1), "assistant");
    assert_non_null(json_object_get(json_array_get(ctx, 1), "tool_calls"));
    assert_string_equal(role(ctx, 2), "tool");
    json_decref(ctx);
    /* A window that starts on the call itself stays at max. */
    ctx = llm_context(h, true, 5);
    assert_int_equal(json_array_size(ctx), 6);
    json_decref(ctx);
    json_decref(h);
}

static void test_orphan_results_left_out(void **state)
{
    json_t *h = json_array();
    json_array_append_new(h, msg("user", "the task"));
    json_array_append_new(h, msg("tool", "its call was dropped"));
    json_array_append_new(h, msg("assistant", "end"));
    json_t *ctx = llm_context(h, true, 50);
    assert_int_equal(json_array_size(ctx), 2);
    assert_string_equal(role(ctx, 1), "assistant");
    json_decref(ctx);
    json_decref(h);
}

/* Every result's call is in the context, before it. */
static void check_whole(const json_t *ctx, bool pinned, size_t max)
{
    size_t n = json_array_size(ctx);
    /* Over max only by what completes the round it starts in (up to 3 calls). */
    assert_true(n <= max + 3 + (pinned ? 1 : 0));
    json_t *seen = json_object();
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(ctx, i);
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(m, "tool_calls"), k, c)
            json_object_set(seen, json_string_value(json_object_get(c, "id")), json_true());
        const char *answers = json_string_value(json_object_get(m, "tool_call_id"));
        if (answers)
            assert_non_null(json_object_get(seen, answers));
    }
    json_decref(seen);
}

static void test_random_conversations(void **state)
{
    srand(15);
    for (int round = 0; round < 2000; round++) {
        int id = 0;
        json_t *h = json_array();
        json_array_append_new(h, msg("user", "the task"));
        int turns = rand() % 40;
        for (int t = 0; t < turns; t++) {
            int calls = rand() % 4;
            if (!calls) {
                json_array_append_new(h, msg(rand() % 2 ? "assistant" : "user", "x"));
                continue;
            }
            int first = id;
            json_array_append_new(h, call_msg(calls, &id));
            for (int c = 0; c < calls; c++) {
                char cid[32];
                snprintf(cid, sizeof cid, "c%d", first + c);
                json_t *r = msg("tool", "r");
                json_object_set_new(r, "tool_call_id", json_string(cid));
                json_array_append_new(h, r);
            }
        }
        size_t max = 2 + (size_t)(rand() % 20);
        bool pinned = rand() % 2;
        json_t *ctx = llm_context(h, pinned, max);
        check_whole(ctx, pinned, max);
        if (pinned)
            assert_ptr_equal(json_array_get(ctx, 0), json_array_get(h, 0));
        /* Nothing is dropped from the end. */
        assert_ptr_equal(json_array_get(ctx, json_array_size(ctx) - 1),
                         json_array_get(h, json_array_size(h) - 1));
        json_decref(ctx);
        json_decref(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_history_whole),
        cmocka_unit_test(test_pinned_prompt_and_tail),
        cmocka_unit_test(test_never_starts_on_a_result),
        cmocka_unit_test(test_orphan_results_left_out),
        cmocka_unit_test(test_random_conversations),
    };
    return RUN_TESTS(tests);
}
