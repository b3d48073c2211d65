/* The context window (llm_loop.h): the system prompt goes separately; the
 * task prompt (history[0] when pinned) always; then the last max messages.
 * A tool result is never given without the call it answers: a window that
 * would start inside a round starts at the round's assistant message
 * instead, a few messages over max, so that the latest results (which the
 * model needs most) are never the ones left out. */
#include <string.h>

#include "llm_loop.h"

static bool is_role(const json_t *m, const char *role)
{
    const char *r = json_string_value(json_object_get(m, "role"));
    return r && strcmp(r, role) == 0;
}

json_t *llm_context(const json_t *history, bool pinned, size_t max)
{
    size_t n = json_array_size(history);
    size_t first = pinned ? 1 : 0;
    size_t start = n > max + first ? n - max : first;
    while (start > first && is_role(json_array_get(history, start), "tool"))
        start--;
    /* Results whose call is gone from the history altogether (it outgrew
     * memory) are left out. */
    while (start < n && is_role(json_array_get(history, start), "tool"))
        start++;
    json_t *out = json_array();
    if (pinned && n > 0)
        json_array_append(out, json_array_get(history, 0));
    for (size_t i = start; i < n; i++)
        json_array_append(out, json_array_get(history, i));
    return out;
}
