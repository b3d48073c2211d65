/* libFuzzer target for what the daemon reads from bosun-llm's stdout: the
 * llm agent type's parse_line (plugins/llm/llm_parse.c) over the shared
 * event builders (core/lib/agent_stream.c).
 *
 * The input is one line, on stdout and on stderr.  On stderr nothing is
 * understood.  On stdout it is 0 (kept as output) or 1 with events: each
 * an object whose "kind" is one of the kinds bosun-llm writes, whose text
 * is within its cap, and which dumps to bounded JSON; a line that is not
 * a JSON object with a known kind gives no event.  classify_exit on the
 * last result never fails. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fuzz_check.h"
#include "llm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kinds[] = {
    "session",     "status", "message_delta", "message", "thinking", "tool_use",
    "tool_result", "usage",  "fetch",         "result",  NULL};

static bool known(const char *kind)
{
    for (size_t i = 0; kind && kinds[i]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    return false;
}

static void check_event(const json_t *ev)
{
    FUZZ_CHECK(json_is_object(ev));
    FUZZ_CHECK(known(json_string_value(json_object_get(ev, "kind"))));
    json_t *text = json_object_get(ev, "text");
    FUZZ_CHECK(!text || json_string_length(text) <= BOSUN_AGENT_TEXT_MAX);
    /* Whatever the line held, one event stays a bounded message. */
    FUZZ_CHECK(json_dumpb(ev, NULL, 0, JSON_COMPACT) <= 4u * 1024 * 1024);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bosun_run_info run = {.run_id = "01FUZZ0000000000000000000", .agent = "coder"};
    json_t *events = json_array();
    FUZZ_CHECK(llm_parse_line(NULL, &run, BOSUN_STREAM_STDERR, (const char *)data, size, events) ==
               0);
    FUZZ_CHECK(json_array_size(events) == 0);
    int rc = llm_parse_line(NULL, &run, BOSUN_STREAM_STDOUT, (const char *)data, size, events);
    FUZZ_CHECK(rc == 0 || rc == 1);
    FUZZ_CHECK(rc == 1 || json_array_size(events) == 0);
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        check_event(ev);
        if (strcmp(json_string_value(json_object_get(ev, "kind")), "result") == 0)
            run.result = ev;
    }
    enum bosun_exit_class c = llm_classify_exit(NULL, &run, 0);
    FUZZ_CHECK(c >= BOSUN_EXIT_DONE && c <= BOSUN_EXIT_BUDGET);
    c = llm_classify_exit(NULL, &run, 9); /* killed by SIGKILL */
    FUZZ_CHECK(c >= BOSUN_EXIT_DONE && c <= BOSUN_EXIT_BUDGET);
    json_decref(events);
    return 0;
}
