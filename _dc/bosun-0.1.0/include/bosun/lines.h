/* bosun — line framing for byte streams (sockets, pipes).
 *
 * Bytes are appended as they are read; complete lines are taken out one at
 * a time.  Each byte is scanned once (the scan offset is remembered across
 * reads) and taken lines are dropped without moving the rest on every
 * line, so framing costs linear time in the bytes read, however they are
 * split.  A line is at most max bytes; what happens to a longer one is the
 * policy given at creation:
 *  - BOSUN_LINES_CUT (agent output): the line is handed over in pieces of
 *    at most max bytes (a few fewer rather than split a UTF-8 character),
 *    each marked cut except the last, which closes the line;
 *  - otherwise (requests): bosun_lines_next fails with EMSGSIZE, and keeps
 *    failing (the caller drops the stream).
 * With BOSUN_LINES_STRIP_CR, a carriage return before the newline is not
 * part of the line (the line says so in cr). */
#ifndef BOSUN_LINES_H
#define BOSUN_LINES_H

#include <bosun/api.h>

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bosun_lines bosun_lines;

enum {
    BOSUN_LINES_CUT = 1 << 0,
    BOSUN_LINES_STRIP_CR = 1 << 1,
};

/* One line or piece; data stays valid until the next call that adds bytes
 * (bosun_lines_space, bosun_lines_append) or frees. */
typedef struct bosun_line {
    const char *data;
    size_t len;
    bool cut; /* a piece: the line goes on in the next one */
    bool nl;  /* ended by a newline (false for a piece, and for the last
                 bytes of a stream that ended without one) */
    bool cr;  /* a carriage return before the newline was taken off */
} bosun_line;

/* max: the longest line, at least 4 bytes.  NULL (errno) when out of memory
 * or max is too small. */
BOSUN_API bosun_lines *bosun_lines_new(size_t max, unsigned flags);
BOSUN_API void bosun_lines_free(bosun_lines *l);
/* Room for at least want bytes after those held, to read into; commit what
 * was read with bosun_lines_commit.  *room (when not NULL) receives the room
 * there is.  NULL when out of memory. */
BOSUN_API char *bosun_lines_space(bosun_lines *l, size_t want, size_t *room);
BOSUN_API void bosun_lines_commit(bosun_lines *l, size_t n);
/* Copies n bytes in: 0, or -1 when out of memory. */
BOSUN_API int bosun_lines_append(bosun_lines *l, const void *data, size_t n);
/* The next line: 1 (*line set), 0 when no complete line is held, -1 with
 * errno EMSGSIZE when a line is over max (without BOSUN_LINES_CUT). */
BOSUN_API int bosun_lines_next(bosun_lines *l, bosun_line *line);
/* At the end of the stream: like bosun_lines_next, and also hands over the
 * bytes after the last newline (nl false), so that nothing is left. */
BOSUN_API int bosun_lines_finish(bosun_lines *l, bosun_line *line);
/* The bytes held that no line has taken yet. */
BOSUN_API const char *bosun_lines_pending(const bosun_lines *l, size_t *len);
/* Drops the first n (at most all) of those bytes. */
BOSUN_API void bosun_lines_skip(bosun_lines *l, size_t n);
/* Bytes of buffer allocated: for memory budgets. */
BOSUN_API size_t bosun_lines_capacity(const bosun_lines *l);
/* When nothing is held and the buffer is larger than keep bytes, frees it
 * (a large request is done: its memory goes back). */
BOSUN_API void bosun_lines_trim(bosun_lines *l, size_t keep);

#ifdef __cplusplus
}
#endif
#endif
