/* A bounded capture of a command's output that keeps its head and its
 * tail: what comes first usually says what ran, what comes last how it
 * ended. */
#ifndef BOSUN_LLM_TOOLS_CAP_H
#define BOSUN_LLM_TOOLS_CAP_H

#include <stddef.h>

struct lt_cap {
    size_t head_max, tail_max;
    char *head, *tail; /* tail is a ring of tail_max bytes */
    size_t head_len, tail_len, tail_pos;
    size_t total; /* bytes fed */
};

/* max bytes kept in all; returns -1 without memory. */
int lt_cap_init(struct lt_cap *c, size_t max);
void lt_cap_feed(struct lt_cap *c, const char *data, size_t n);
/* The kept bytes, with "\n[... N bytes cut ...]\n" between head and tail
 * when more came than was kept: malloc'ed, *len bytes plus a NUL. */
char *lt_cap_render(const struct lt_cap *c, size_t *len);
void lt_cap_free(struct lt_cap *c);

#endif
