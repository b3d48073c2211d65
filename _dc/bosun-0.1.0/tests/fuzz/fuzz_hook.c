/* libFuzzer target for the hook call mapper (core/daemon/hook/hook_map.c),
 * which reads the JSON that `bosunctl hook` passes on from Claude Code.
 *
 * The input is the hook's stdin.  The mapper accepts it (0) or refuses it
 * (-1 with a reason, nothing kept); what it accepts has a valid event name
 * and session id, events that each have a kind fit for a subject token,
 * the raw "hook" event last, no secret-looking key with its value shown,
 * and maps the same way twice.  An end of session always ends the run;
 * attention always says why. */
#include "config.h"

#include "fuzz_check.h"

#include "../../core/daemon/hook/hook_map.h"

#include <bosun/agent_stream.h>
#include <bosun/json.h>

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK FUZZ_CHECK

static bool kind_ok(const char *k)
{
    if (!k || !*k)
        return false;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || *k == '_'))
            return false;
    return true;
}

/* No value of a secret-looking key is shown, at any depth. */
static void check_redacted(const json_t *v, int depth)
{
    CHECK(depth < BOSUN_JSON_DEPTH_MAX + 8);
    const char *k;
    json_t *x;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x)
        {
            if (bosun_json_key_is_secret(k) && json_is_string(x))
                CHECK(strcmp(json_string_value(x), "(redacted)") == 0);
            check_redacted(x, depth + 1);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) check_redacted(x, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hook_call c, again;
    char err[512] = "";
    int rc = hook_map((const char *)data, size, &c, err, sizeof err);
    CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        CHECK(err[0] != '\0');
        CHECK(c.events == NULL && c.info == NULL);
        return 0;
    }
    CHECK(c.event[0] != '\0');
    CHECK(bosun_session_id_valid(c.session_id));
    CHECK(json_is_array(c.events) && json_array_size(c.events) >= 1);
    CHECK(json_is_object(c.info));
    size_t n = json_array_size(c.events), i;
    json_t *ev;
    json_array_foreach(c.events, i, ev)
    {
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        CHECK(kind_ok(kind));
        CHECK(strcmp(kind, "state") != 0); /* the service's own kind */
        if (strcmp(kind, "tool_use") == 0 || strcmp(kind, "hook") == 0)
            check_redacted(ev, 0);
        if (strcmp(kind, "message") == 0)
            CHECK(json_string_length(json_object_get(ev, "text")) <= BOSUN_AGENT_TEXT_MAX);
    }
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(c.events, n - 1), "kind")),
                 "hook") == 0);
    CHECK(!c.ends_session || c.ends);
    CHECK(!c.ends || c.end_reason[0] != '\0');
    CHECK(!c.attention || strncmp(c.attention_reason, "needs attention: ", 17) == 0);
    CHECK(hook_map((const char *)data, size, &again, err, sizeof err) == 0);
    CHECK(json_equal(c.events, again.events) && strcmp(c.event, again.event) == 0);
    hook_call_clear(&again);
    hook_call_clear(&c);
    CHECK(c.events == NULL);
    return 0;
}
