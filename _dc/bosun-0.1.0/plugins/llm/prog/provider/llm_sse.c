/* llm_sse.c — see llm_sse.h.  One growing line buffer and one growing data
 * buffer, each capped; fields are read as the line ends, so an event costs
 * one pass over its bytes. */
#include "config.h"

#include "llm_sse.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sse_buf {
    char *p;
    size_t len, cap;
} sse_buf;

struct llm_sse {
    size_t max_line, max_event;
    llm_sse_event_fn fn;
    void *arg;
    sse_buf line, data, event;
    bool data_seen; /* a data field came (an empty one counts) */
    bool skip_lf;   /* the last line ended with CR: a LF next belongs to it */
    bool started;   /* past a leading byte-order mark */
    size_t bom_len; /* bytes of one matched so far */
    int stopped;    /* non-zero once a feed failed */
    size_t events;
    char error[96];
};

static int buf_put(sse_buf *b, const char *p, size_t n, size_t max)
{
    if (n > max - b->len)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return -2;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int fail(llm_sse *s, int rc, const char *what, size_t limit)
{
    if (rc == -2)
        snprintf(s->error, sizeof s->error, "out of memory reading the event stream");
    else
        snprintf(s->error, sizeof s->error, "event stream %s longer than %zu bytes", what, limit);
    s->stopped = -1;
    return -1;
}

llm_sse *llm_sse_new(size_t max_line, size_t max_event, llm_sse_event_fn fn, void *arg)
{
    llm_sse *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->max_line = max_line ? max_line : 1;
    s->max_event = max_event ? max_event : 1;
    s->fn = fn;
    s->arg = arg;
    return s;
}

static int dispatch(llm_sse *s)
{
    bool had = s->data_seen;
    s->data_seen = false;
    if (!had) {
        s->event.len = 0;
        return 0;
    }
    /* The data lines were each followed by LF; the last LF is not data. */
    if (s->data.len)
        s->data.len--;
    if (buf_put(&s->data, "", 0, SIZE_MAX) == -2)
        return fail(s, -2, "", 0);
    /* An empty type, or one a NUL byte empties, is the default type. */
    const char *type = s->event.len && s->event.p[0] ? s->event.p : "message";
    s->events++;
    int rc = s->fn(s->arg, type, s->data.p, s->data.len);
    s->data.len = 0;
    s->event.len = 0;
    if (rc)
        s->stopped = rc;
    return rc;
}

/* One whole line (without its end) in s->line. */
static int take_line(llm_sse *s)
{
    const char *l = s->line.len ? s->line.p : "";
    size_t n = s->line.len;
    s->line.len = 0;
    if (n == 0)
        return dispatch(s);
    if (l[0] == ':')
        return 0;
    const char *colon = memchr(l, ':', n);
    size_t flen = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    size_t vlen = n - (size_t)(v - l);
    if (vlen && v[0] == ' ')
        v++, vlen--;
    if (flen == 4 && memcmp(l, "data", 4) == 0) {
        int rc = buf_put(&s->data, v, vlen, s->max_event);
        if (rc == 0)
            rc = buf_put(&s->data, "\n", 1, s->max_event);
        if (rc)
            return fail(s, rc, "event data", s->max_event);
        s->data_seen = true;
    } else if (flen == 5 && memcmp(l, "event", 5) == 0) {
        s->event.len = 0;
        int rc = buf_put(&s->event, v, vlen, s->max_line);
        if (rc)
            return fail(s, rc, "line", s->max_line);
    }
    return 0;
}

/* The lines of buf, after any byte-order mark. */
static int feed_lines(llm_sse *s, const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (s->skip_lf) {
            s->skip_lf = false;
            if (buf[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t rest = len - i;
        const char *nl = memchr(buf + i, '\n', rest);
        const char *cr = memchr(buf + i, '\r', nl ? (size_t)(nl - (buf + i)) : rest);
        const char *end = cr ? cr : nl;
        size_t n = end ? (size_t)(end - (buf + i)) : rest;
        int rc = buf_put(&s->line, buf + i, n, s->max_line);
        if (rc)
            return fail(s, rc, "line", s->max_line);
        i += n;
        if (!end)
            break;
        i++;
        if (end == cr)
            s->skip_lf = true;
        rc = take_line(s);
        if (rc)
            return rc;
    }
    return 0;
}

static const char bom[3] = "\xEF\xBB\xBF";

/* A byte-order mark may open the stream, and may arrive split: its bytes
 * are held until they are a whole mark (dropped) or turn out not to be
 * one (then read as the stream's first bytes). */
int llm_sse_feed(llm_sse *s, const char *buf, size_t len)
{
    if (s->stopped)
        return s->stopped;
    size_t i = 0;
    if (!s->started) {
        while (i < len && s->bom_len < 3 && buf[i] == bom[s->bom_len])
            s->bom_len++, i++;
        if (s->bom_len < 3 && i == len)
            return 0;
        s->started = true;
        if (s->bom_len < 3) {
            int rc = feed_lines(s, bom, s->bom_len);
            if (rc)
                return rc;
        }
    }
    return feed_lines(s, buf + i, len - i);
}

int llm_sse_finish(llm_sse *s)
{
    if (s->stopped)
        return s->stopped;
    if (!s->started) {
        s->started = true;
        int rc = feed_lines(s, bom, s->bom_len);
        if (rc)
            return rc;
    }
    int rc = s->line.len ? take_line(s) : 0;
    s->data.len = 0;
    s->event.len = 0;
    s->data_seen = false;
    return rc;
}

const char *llm_sse_error(const llm_sse *s)
{
    return s->error;
}

size_t llm_sse_events(const llm_sse *s)
{
    return s->events;
}

void llm_sse_free(llm_sse *s)
{
    if (!s)
        return;
    free(s->line.p);
    free(s->data.p);
    free(s->event.p);
    free(s);
}
