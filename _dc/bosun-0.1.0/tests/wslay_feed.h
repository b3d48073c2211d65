/* A plain wslay context fed from memory, for the tests that compare a
 * bosun_ws session with one held for the whole stream
 * (tests/unit/test_ws_release.c, tests/fuzz/fuzz_ws.c). */
#ifndef BOSUN_TESTS_WSLAY_FEED_H
#define BOSUN_TESTS_WSLAY_FEED_H

#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <wslay/wslay.h>

/* The bytes not yet taken; the context's user data starts with one. */
typedef struct wslay_feed {
    const uint8_t *in;
    size_t in_len;
} wslay_feed;

/* recv_callback: what is left, then "would block". */
static inline ssize_t wslay_feed_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
                                      int flags, void *user)
{
    (void)flags;
    wslay_feed *f = user;
    if (f->in_len == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < f->in_len ? len : f->in_len;
    memcpy(buf, f->in, n);
    f->in += n;
    f->in_len -= n;
    return (ssize_t)n;
}

#endif
