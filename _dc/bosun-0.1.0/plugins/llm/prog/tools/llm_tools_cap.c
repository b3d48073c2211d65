/* Head-and-tail output capture (see llm_tools_cap.h). */
#include "llm_tools_cap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lt_cap_init(struct lt_cap *c, size_t max)
{
    memset(c, 0, sizeof *c);
    c->head_max = max / 2;
    c->tail_max = max - c->head_max;
    c->head = malloc(c->head_max + 1);
    c->tail = malloc(c->tail_max + 1);
    if (!c->head || !c->tail) {
        lt_cap_free(c);
        return -1;
    }
    return 0;
}

void lt_cap_feed(struct lt_cap *c, const char *data, size_t n)
{
    c->total += n;
    size_t h = c->head_max - c->head_len;
    if (h > n)
        h = n;
    memcpy(c->head + c->head_len, data, h);
    c->head_len += h;
    data += h;
    n -= h;
    if (n > c->tail_max) { /* only the last tail_max bytes can stay */
        data += n - c->tail_max;
        n = c->tail_max;
    }
    while (n > 0) {
        size_t room = c->tail_max - c->tail_pos, k = n < room ? n : room;
        memcpy(c->tail + c->tail_pos, data, k);
        c->tail_pos = (c->tail_pos + k) % c->tail_max;
        c->tail_len = c->tail_len + k > c->tail_max ? c->tail_max : c->tail_len + k;
        data += k;
        n -= k;
    }
}

char *lt_cap_render(const struct lt_cap *c, size_t *len)
{
    size_t cut = c->total - c->head_len - c->tail_len;
    char marker[64] = "";
    if (cut)
        snprintf(marker, sizeof marker, "\n[... %zu bytes cut ...]\n", cut);
    size_t mlen = strlen(marker);
    char *out = malloc(c->head_len + mlen + c->tail_len + 1);
    if (!out)
        return NULL;
    memcpy(out, c->head, c->head_len);
    memcpy(out + c->head_len, marker, mlen);
    /* The ring's oldest byte is at tail_pos once it has wrapped. */
    size_t start = c->tail_len == c->tail_max ? c->tail_pos : 0, first = c->tail_len - start;
    if (c->tail_len < c->tail_max)
        first = c->tail_len;
    char *o = out + c->head_len + mlen;
    memcpy(o, c->tail + start, first);
    memcpy(o + first, c->tail, c->tail_len - first);
    *len = c->head_len + mlen + c->tail_len;
    out[*len] = '\0';
    return out;
}

void lt_cap_free(struct lt_cap *c)
{
    free(c->head);
    free(c->tail);
    c->head = c->tail = NULL;
}
