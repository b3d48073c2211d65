/* llm_dialect.c — what the dialects share: the deltas of a stream, kept in
 * the turn and passed on to the caller as they come, JSON and header
 * helpers.  Apart from llm_provider.c, so the dialects can be tested and
 * fuzzed without a transfer. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_dialect.h"

const char *llm_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

json_int_t llm_json_int(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

struct curl_slist *llm_header_add(struct curl_slist *list, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    struct curl_slist *l = NULL;
    if (line) {
        snprintf(line, n, "%s: %s", name, value);
        l = curl_slist_append(list, line);
        explicit_bzero(line, n);
        free(line);
    }
    if (!l)
        curl_slist_free_all(list);
    return l;
}

int llm_stream_text(llm_stream *st, const char *text, size_t len)
{
    if (st->cancelled)
        return -1;
    if (llm_asm_text(st->a, text, len))
        return -1;
    st->delivered = true;
    if (st->ops->text_delta)
        st->ops->text_delta(st->arg, text, len);
    return 0;
}

void llm_stream_thinking(llm_stream *st, const char *text, size_t len)
{
    if (st->cancelled)
        return;
    st->delivered = true;
    if (st->ops->thinking_delta)
        st->ops->thinking_delta(st->arg, text, len);
}
