/* Line framing (see <bosun/lines.h>).  buf[start, len) is held and not yet
 * taken; no newline lies in buf[start, scan), so each byte is searched
 * once.  Taken bytes are reclaimed only when the bytes to move are no more
 * than those taken, which keeps the moving linear overall. */
#include "config.h"

#include <bosun/lines.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct bosun_lines {
    char *buf;
    size_t start, scan, len, cap;
    size_t max;
    unsigned flags;
    bool failed;
};

bosun_lines *bosun_lines_new(size_t max, unsigned flags)
{
    if (max < 4 || max > SIZE_MAX / 4) {
        errno = EINVAL;
        return NULL;
    }
    bosun_lines *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->max = max;
    l->flags = flags;
    return l;
}

void bosun_lines_free(bosun_lines *l)
{
    if (!l)
        return;
    free(l->buf);
    free(l);
}

char *bosun_lines_space(bosun_lines *l, size_t want, size_t *room)
{
    size_t held = l->len - l->start;
    if (l->cap - l->len < want && l->start > 0 && l->start >= held) {
        memmove(l->buf, l->buf + l->start, held);
        l->scan -= l->start;
        l->start = 0;
        l->len = held;
    }
    if (l->cap - l->len < want) {
        if (want > SIZE_MAX / 2 - l->len) {
            errno = ENOMEM;
            return NULL;
        }
        size_t cap = l->cap ? l->cap * 2 : 4096;
        if (cap < l->len + want)
            cap = l->len + want;
        char *buf = realloc(l->buf, cap);
        if (!buf)
            return NULL;
        l->buf = buf;
        l->cap = cap;
    }
    if (room)
        *room = l->cap - l->len;
    return l->buf + l->len;
}

void bosun_lines_commit(bosun_lines *l, size_t n)
{
    if (n > l->cap - l->len)
        n = l->cap - l->len;
    l->len += n;
}

int bosun_lines_append(bosun_lines *l, const void *data, size_t n)
{
    char *p = bosun_lines_space(l, n, NULL);
    if (!p)
        return -1;
    memcpy(p, data, n);
    l->len += n;
    return 0;
}

static void take(bosun_lines *l, size_t n)
{
    l->start += n;
    if (l->scan < l->start)
        l->scan = l->start;
    if (l->start == l->len) /* nothing held: start over at the front */
        l->start = l->scan = l->len = 0;
}

/* A piece of the line at start, which is known to be longer than max: the
 * byte after the piece exists and decides whether it would split a UTF-8
 * sequence. */
static int piece(bosun_lines *l, bosun_line *line)
{
    size_t cut = l->max;
    for (int back = 0; back < 3 && cut > 1; back++) {
        unsigned char ch = (unsigned char)l->buf[l->start + cut];
        if ((ch & 0xc0) != 0x80)
            break;
        cut--;
    }
    *line = (bosun_line){.data = l->buf + l->start, .len = cut, .cut = true};
    take(l, cut);
    return 1;
}

static int over(bosun_lines *l, bosun_line *line)
{
    if (l->flags & BOSUN_LINES_CUT)
        return piece(l, line);
    l->failed = true;
    errno = EMSGSIZE;
    return -1;
}

int bosun_lines_next(bosun_lines *l, bosun_line *line)
{
    if (l->failed) {
        errno = EMSGSIZE;
        return -1;
    }
    bool strip = l->flags & BOSUN_LINES_STRIP_CR;
    const char *nl = l->scan < l->len ? memchr(l->buf + l->scan, '\n', l->len - l->scan) : NULL;
    if (!nl) {
        l->scan = l->len;
        /* Over max for certain, whatever comes next (a CR that a newline
         * follows would not count). */
        if (l->len - l->start >= l->max + (strip ? 2 : 1))
            return over(l, line);
        return 0;
    }
    l->scan = (size_t)(nl - l->buf); /* found: the next pieces need not search again */
    size_t n = l->scan - l->start;
    bool cr = strip && n > 0 && l->buf[l->start + n - 1] == '\r';
    size_t content = n - (cr ? 1 : 0);
    if (content > l->max)
        return over(l, line);
    *line = (bosun_line){.data = l->buf + l->start, .len = content, .nl = true, .cr = cr};
    take(l, n + 1);
    return 1;
}

int bosun_lines_finish(bosun_lines *l, bosun_line *line)
{
    int rc = bosun_lines_next(l, line);
    if (rc != 0)
        return rc;
    size_t n = l->len - l->start;
    if (n == 0)
        return 0;
    if (n > l->max)
        return over(l, line);
    *line = (bosun_line){.data = l->buf + l->start, .len = n};
    take(l, n);
    return 1;
}

const char *bosun_lines_pending(const bosun_lines *l, size_t *len)
{
    *len = l->len - l->start;
    return l->buf ? l->buf + l->start : "";
}

void bosun_lines_skip(bosun_lines *l, size_t n)
{
    if (n > l->len - l->start)
        n = l->len - l->start;
    take(l, n);
}

size_t bosun_lines_capacity(const bosun_lines *l)
{
    return l->cap;
}

void bosun_lines_trim(bosun_lines *l, size_t keep)
{
    if (l->len != l->start || l->cap <= keep)
        return;
    free(l->buf);
    l->buf = NULL;
    l->start = l->scan = l->len = l->cap = 0;
}
