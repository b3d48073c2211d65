/* llm_redact.c — see llm_redact.h.  The text is rebuilt in a buffer of its
 * own size: "[redacted]" may be longer than a short key, so the tail is cut
 * rather than letting the text grow. */
#include "config.h"

#include "llm_redact.h"

#include <stdlib.h>
#include <string.h>

#define MARK "[redacted]"

void llm_redact(char *text, const char *key)
{
    size_t klen = key ? strlen(key) : 0;
    if (!klen || !strstr(text, key))
        return;
    size_t size = strlen(text) + 1;
    char *out = malloc(size);
    if (!out) {
        /* Without memory, say nothing rather than the key. */
        text[0] = '\0';
        return;
    }
    size_t o = 0;
    const char *p = text;
    while (*p && o + 1 < size) {
        if (strncmp(p, key, klen) == 0) {
            size_t m = strlen(MARK);
            if (m > size - 1 - o)
                m = size - 1 - o;
            memcpy(out + o, MARK, m);
            o += m;
            p += klen;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    memcpy(text, out, o + 1);
    /* The copy held no key; the original's tail past o may: clear it. */
    memset(text + o + 1, 0, size - o - 1);
    free(out);
}
