/* Redaction of secret-looking keys in JSON, for events: MCP tool calls
 * and the tool_use events of agent types record arguments the same way. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/json.h>

bool bosun_json_key_is_secret(const char *key)
{
    static const char *const words[] = {"token",      "secret",  "password", "passwd",
                                        "apikey",     "api_key", "api-key",  "authorization",
                                        "credential", NULL};
    char lower[256];
    size_t n = 0;
    for (; key[n] && n < sizeof lower - 1; n++)
        lower[n] = (char)tolower((unsigned char)key[n]);
    lower[n] = '\0';
    for (size_t i = 0; words[i]; i++)
        if (strstr(lower, words[i]))
            return true;
    return false;
}

/* The first max bytes of a long string, cut at a character boundary. */
static json_t *shorten(const json_t *v, size_t max)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (!max || len <= max)
        return json_deep_copy(v);
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
        cut--;
    char tail[64];
    int t = snprintf(tail, sizeof tail, "... (%zu bytes)", len);
    char *buf = malloc(cut + (size_t)t + 1);
    if (!buf)
        return NULL;
    memcpy(buf, s, cut);
    memcpy(buf + cut, tail, (size_t)t + 1);
    json_t *out = json_stringn(buf, cut + (size_t)t);
    free(buf);
    return out;
}

json_t *bosun_json_redact(const json_t *v, size_t max_string)
{
    if (json_is_object(v)) {
        json_t *out = json_object();
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            const char *key = json_object_iter_key(it);
            json_t *copy = bosun_json_key_is_secret(key)
                               ? json_string("(redacted)")
                               : bosun_json_redact(json_object_iter_value(it), max_string);
            if (!copy || json_object_set_new(out, key, copy) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *copy = bosun_json_redact(json_array_get(v, i), max_string);
            if (!copy || json_array_append_new(out, copy) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_string(v))
        return shorten(v, max_string);
    return json_deep_copy(v);
}
