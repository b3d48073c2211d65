/* Unit tests of the WebSocket session's idle release (core/lib/ws.c): a
 * session gives wslay's context back between messages and takes a fresh
 * one for the next bytes.  Proven two ways:
 *   - bosun_ws_busy() says when the context is held (inside a frame, a
 *     fragmented message, a closing session) and when not;
 *   - differentially: for the same byte streams, split at every byte
 *     boundary, byte by byte and in pseudo-random pieces, a session sees
 *     exactly what a plain wslay context held for the whole stream and fed
 *     it at once sees: the same messages in order, the same frames written
 *     back (pongs, close answers, our refusals; compared unmasked), the
 *     same close code.  Both roles. */
#include "config.h"

#include "tap.h"

#include <bosun/ws.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#include "../wslay_feed.h"

/* ------------------------------------------------------------ records */

/* What one side saw, as a byte log: an entry is a tag byte, a 4-byte
 * length and the bytes. */
typedef struct rec {
    unsigned char *b;
    size_t len, cap;
} rec;

static void rec_put(rec *r, const void *data, size_t len)
{
    if (r->len + len > r->cap) {
        r->cap = (r->len + len) * 2 + 64;
        r->b = realloc(r->b, r->cap);
        assert_non_null(r->b);
    }
    if (len)
        memcpy(r->b + r->len, data, len);
    r->len += len;
}

static bool rec_equal(const rec *a, const rec *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->b, b->b, a->len) == 0);
}

static void rec_add(rec *r, char tag, const void *data, size_t len)
{
    unsigned char h[5] = {(unsigned char)tag, (unsigned char)(len >> 24),
                          (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                          (unsigned char)len};
    rec_put(r, h, sizeof h);
    rec_put(r, data, len);
}

/* The frames of a written byte stream, unmasked, as entries of tag 'F'
 * (first byte, then payload): client masks are random. */
static void rec_frames(rec *r, const unsigned char *p, size_t n)
{
    size_t o = 0;
    while (o + 2 <= n) {
        unsigned char b0 = p[o], b1 = p[o + 1];
        size_t len = b1 & 0x7f, h = 2;
        if (len == 126) {
            assert_true(o + 4 <= n);
            len = (size_t)p[o + 2] << 8 | p[o + 3];
            h = 4;
        } else if (len == 127) {
            assert_true(o + 10 <= n);
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | p[o + 2 + i];
            h = 10;
        }
        const unsigned char *key = NULL;
        if (b1 & 0x80) {
            key = p + o + h;
            h += 4;
        }
        assert_true(o + h + len <= n);
        unsigned char *pl = malloc(len + 1);
        assert_non_null(pl);
        pl[0] = b0;
        for (size_t i = 0; i < len; i++)
            pl[1 + i] = p[o + h + i] ^ (key ? key[i % 4] : 0);
        rec_add(r, 'F', pl, len + 1);
        free(pl);
        o += h + len;
    }
    assert_int_equal(o, n); /* frames are written whole */
}

/* ------------------------------------------------------------ the session */

typedef struct side {
    bosun_ws *ws;
    rec seen; /* messages and the close */
    rec w;    /* bytes written */
} side;

static bool s_write(void *arg, const void *data, size_t len)
{
    rec_put(&((side *)arg)->w, data, len);
    return true;
}

static void s_text(void *arg, const char *text, size_t len)
{
    rec_add(&((side *)arg)->seen, 'T', text, len);
}

static void s_binary(void *arg, const void *data, size_t len)
{
    rec_add(&((side *)arg)->seen, 'B', data, len);
}

static void s_pong(void *arg, const void *data, size_t len)
{
    rec_add(&((side *)arg)->seen, 'P', data, len);
}

static void s_close(void *arg, unsigned code, const char *reason)
{
    (void)reason;
    unsigned char c[2] = {(unsigned char)(code >> 8), (unsigned char)code};
    rec_add(&((side *)arg)->seen, 'C', c, 2);
}

static const bosun_ws_ops side_ops = {s_write, s_text, s_binary, s_pong, s_close};

static void side_open(side *s, enum bosun_ws_role role)
{
    memset(s, 0, sizeof *s);
    s->ws = bosun_ws_new(role, NULL, &side_ops, s);
    assert_non_null(s->ws);
    assert_false(bosun_ws_busy(s->ws)); /* a new session holds no context */
}

static void side_close(side *s)
{
    bosun_ws_free(s->ws);
    free(s->seen.b);
    free(s->w.b);
}

/* ------------------------------------------------------------ the oracle */

/* A plain wslay context for the whole stream, with the callbacks the
 * session gives its owner. */
typedef struct oracle {
    wslay_feed feed; /* first: wslay_feed_recv's */
    rec seen;
    rec w;
} oracle;

static ssize_t o_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                      void *user)
{
    (void)ctx;
    (void)flags;
    rec_put(&((oracle *)user)->w, data, len);
    return (ssize_t)len;
}

static int o_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)ctx;
    (void)user;
    memset(buf, 0x5a, len);
    return 0;
}

static void o_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                  void *user)
{
    (void)ctx;
    oracle *o = user;
    const char tag = arg->opcode == WSLAY_TEXT_FRAME     ? 'T'
                     : arg->opcode == WSLAY_BINARY_FRAME ? 'B'
                     : arg->opcode == WSLAY_PONG         ? 'P'
                                                         : 0;
    if (tag)
        rec_add(&o->seen, tag, arg->msg, arg->msg_length);
}

/* The stream fed at once to a context held throughout. */
static void oracle_run(oracle *o, enum bosun_ws_role role, const unsigned char *in, size_t n)
{
    memset(o, 0, sizeof *o);
    const struct wslay_event_callbacks cbs = {
        .recv_callback = wslay_feed_recv,
        .send_callback = o_send,
        .genmask_callback = o_genmask,
        .on_msg_recv_callback = o_msg,
    };
    wslay_event_context_ptr ctx;
    assert_int_equal(role == BOSUN_WS_SERVER ? wslay_event_context_server_init(&ctx, &cbs, o)
                                             : wslay_event_context_client_init(&ctx, &cbs, o),
                     0);
    wslay_event_config_set_max_recv_msg_length(ctx, BOSUN_WS_MESSAGE_DEF);
    o->feed = (wslay_feed){in, n};
    wslay_event_recv(ctx);
    if (wslay_event_want_write(ctx))
        wslay_event_send(ctx);
    /* The close code the session reports: the peer's, else ours (wslay's
     * bare close for a bad frame is a 1002). */
    unsigned code = 0;
    if (wslay_event_get_close_received(ctx))
        code = wslay_event_get_status_code_received(ctx);
    else if (wslay_event_get_close_sent(ctx))
        code = wslay_event_get_status_code_sent(ctx);
    if (code == BOSUN_WS_NO_STATUS && !wslay_event_get_close_received(ctx))
        code = BOSUN_WS_PROTOCOL_ERROR;
    if (code) {
        unsigned char c[2] = {(unsigned char)(code >> 8), (unsigned char)code};
        rec_add(&o->seen, 'C', c, 2);
    }
    wslay_event_context_free(ctx);
}

static void oracle_free(oracle *o)
{
    free(o->seen.b);
    free(o->w.b);
}

/* ------------------------------------------------------------ streams */

typedef struct stream {
    unsigned char b[70000 * 2];
    size_t len;
    bool masked; /* a client's frames, for a server session */
} stream;

static void put(stream *s, bool fin, int opcode, const void *payload, size_t len)
{
    static const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    unsigned char *b = s->b + s->len;
    size_t o = 0;
    b[o++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    unsigned char m = s->masked ? 0x80 : 0;
    if (len < 126) {
        b[o++] = m | (unsigned char)len;
    } else if (len <= 0xffff) {
        b[o++] = m | 126;
        b[o++] = (unsigned char)(len >> 8);
        b[o++] = (unsigned char)len;
    } else {
        b[o++] = m | 127;
        for (int i = 0; i < 8; i++)
            b[o++] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    }
    if (s->masked)
        memcpy(b + o, key, 4), o += 4;
    for (size_t i = 0; i < len; i++)
        b[o + i] = ((const unsigned char *)payload)[i] ^ (s->masked ? key[i % 4] : 0);
    s->len += o + len;
    assert_true(s->len <= sizeof s->b);
}

static void puts_text(stream *s, bool fin, int opcode, const char *text)
{
    put(s, fin, opcode, text, strlen(text));
}

/* The cases: each builds the stream a peer sends. */
static void case_messages(stream *s)
{
    puts_text(s, true, WSLAY_TEXT_FRAME, "hello");
    puts_text(s, true, WSLAY_TEXT_FRAME, "");
    puts_text(s, true, WSLAY_BINARY_FRAME, "\x01\x02\x03");
    static char big[300];
    memset(big, 'm', sizeof big - 1);
    puts_text(s, true, WSLAY_TEXT_FRAME, big);
    puts_text(s, true, WSLAY_TEXT_FRAME, "\xc3\xa9t\xc3\xa9 \xe2\x82\xac");
}

static void case_long(stream *s)
{
    static char big[66000];
    memset(big, 'L', sizeof big);
    put(s, true, WSLAY_TEXT_FRAME, big, sizeof big); /* 64-bit length */
    puts_text(s, true, WSLAY_TEXT_FRAME, "after");
}

static void case_fragments(stream *s)
{
    puts_text(s, false, WSLAY_TEXT_FRAME, "frag");
    puts_text(s, false, WSLAY_CONTINUATION_FRAME, "men");
    puts_text(s, false, WSLAY_CONTINUATION_FRAME, "");
    puts_text(s, true, WSLAY_CONTINUATION_FRAME, "ted");
    puts_text(s, true, WSLAY_TEXT_FRAME, "whole");
}

static void case_control_between(stream *s)
{
    puts_text(s, false, WSLAY_TEXT_FRAME, "one \xe2");
    puts_text(s, true, WSLAY_PING, "p1");
    puts_text(s, false, WSLAY_CONTINUATION_FRAME, "\x82");
    puts_text(s, true, WSLAY_PONG, "unsolicited");
    puts_text(s, true, WSLAY_PING, "");
    puts_text(s, true, WSLAY_CONTINUATION_FRAME, "\xac two");
    puts_text(s, true, WSLAY_PING, "idle ping");
    puts_text(s, false, WSLAY_BINARY_FRAME, "b1");
    puts_text(s, true, WSLAY_CONTINUATION_FRAME, "b2");
}

static void case_close_mid_message(stream *s)
{
    puts_text(s, true, WSLAY_TEXT_FRAME, "before");
    puts_text(s, false, WSLAY_TEXT_FRAME, "never ");
    puts_text(s, true, WSLAY_CONNECTION_CLOSE,
              "\x03\xe8"
              "bye");
    puts_text(s, true, WSLAY_CONTINUATION_FRAME, "finished");
    puts_text(s, true, WSLAY_TEXT_FRAME, "after the close");
}

static void case_close_idle(stream *s)
{
    puts_text(s, true, WSLAY_TEXT_FRAME, "last");
    puts_text(s, true, WSLAY_CONNECTION_CLOSE,
              "\x0f\xa0"
              "4000");
}

static void case_bad_continuation(stream *s)
{
    puts_text(s, true, WSLAY_TEXT_FRAME, "ok");
    puts_text(s, true, WSLAY_CONTINUATION_FRAME, "no message to continue");
    puts_text(s, true, WSLAY_TEXT_FRAME, "never");
}

static void case_new_message_inside(stream *s)
{
    puts_text(s, false, WSLAY_TEXT_FRAME, "a");
    puts_text(s, true, WSLAY_TEXT_FRAME, "b: a message inside a message");
}

static void case_bad_utf8_across(stream *s)
{
    puts_text(s, true, WSLAY_TEXT_FRAME, "fine");
    puts_text(s, false, WSLAY_TEXT_FRAME, "\xe2\x82");
    puts_text(s, true, WSLAY_CONTINUATION_FRAME, "x");
}

static void case_rsv_bit(stream *s)
{
    puts_text(s, true, WSLAY_TEXT_FRAME, "fine");
    size_t at = s->len;
    puts_text(s, true, WSLAY_TEXT_FRAME, "rsv1");
    s->b[at] |= 0x40;
}

static void case_wrong_mask(stream *s)
{
    puts_text(s, true, WSLAY_TEXT_FRAME, "fine");
    s->masked = !s->masked;
    puts_text(s, true, WSLAY_TEXT_FRAME, "masked the wrong way");
    s->masked = !s->masked;
}

static void (*const cases[])(stream *) = {
    case_messages,          case_long,       case_fragments,        case_control_between,
    case_close_mid_message, case_close_idle, case_bad_continuation, case_new_message_inside,
    case_bad_utf8_across,   case_rsv_bit,    case_wrong_mask,
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* ------------------------------------------------------------ differential */

/* The stream fed to a session in pieces ending at cuts[0..n-1] (the last
 * one at the stream's end); checks it saw what the oracle saw. */
static void check_split(enum bosun_ws_role role, const stream *s, const oracle *o,
                        const size_t *cuts, size_t n, const char *what)
{
    side sd;
    side_open(&sd, role);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        bosun_ws_feed(sd.ws, s->b + at, cuts[i] - at);
        at = cuts[i];
    }
    rec a = {0}, b = {0};
    rec_frames(&a, sd.w.b, sd.w.len);
    rec_frames(&b, o->w.b, o->w.len);
    if (!rec_equal(&sd.seen, &o->seen) || !rec_equal(&a, &b))
        fail_msg("%s role, %s: the session differs from a context held throughout",
                 role == BOSUN_WS_SERVER ? "server" : "client", what);
    /* Every stream ends between messages: an open session holds nothing. */
    if (bosun_ws_is_open(sd.ws) && bosun_ws_busy(sd.ws))
        fail_msg("%s role, %s: still busy after the stream",
                 role == BOSUN_WS_SERVER ? "server" : "client", what);
    free(a.b);
    free(b.b);
    side_close(&sd);
}

static uint32_t rnd(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void differential(enum bosun_ws_role role)
{
    static stream s;
    static size_t cuts[70000 * 2];
    for (size_t c = 0; c < N_CASES; c++) {
        memset(&s, 0, sizeof s);
        s.masked = role == BOSUN_WS_SERVER;
        cases[c](&s);
        oracle o;
        oracle_run(&o, role, s.b, s.len);
        char what[64];
        /* Two pieces, cut at every byte boundary (every 97th in the long case). */
        size_t step = s.len > 4096 ? 97 : 1;
        for (size_t k = 0; k <= s.len; k += step) {
            size_t two[2] = {k, s.len};
            snprintf(what, sizeof what, "case %zu cut at %zu", c, k);
            check_split(role, &s, &o, two, 2, what);
        }
        /* Byte by byte. */
        for (size_t k = 0; k < s.len; k++)
            cuts[k] = k + 1;
        snprintf(what, sizeof what, "case %zu byte by byte", c);
        check_split(role, &s, &o, cuts, s.len, what);
        /* Pseudo-random pieces of 1 to 40 bytes. */
        uint32_t x = 2463534242u + (uint32_t)c;
        for (int round = 0; round < 20; round++) {
            size_t n = 0, at = 0;
            while (at < s.len) {
                at += 1 + rnd(&x) % 40;
                cuts[n++] = at < s.len ? at : s.len;
            }
            snprintf(what, sizeof what, "case %zu random pieces %d", c, round);
            check_split(role, &s, &o, cuts, n, what);
        }
        oracle_free(&o);
    }
}

static void test_differential_server(void **state)
{
    (void)state;
    differential(BOSUN_WS_SERVER);
}

static void test_differential_client(void **state)
{
    (void)state;
    differential(BOSUN_WS_CLIENT);
}

/* ------------------------------------------------------------ busy or not */

static void feed_part(side *sd, const stream *s, size_t from, size_t to)
{
    assert_int_equal(bosun_ws_feed(sd->ws, s->b + from, to - from), 0);
}

static void busy_states(enum bosun_ws_role role)
{
    static stream s;
    memset(&s, 0, sizeof s);
    s.masked = role == BOSUN_WS_SERVER;
    side sd;
    side_open(&sd, role);

    /* A whole message: idle after it. */
    puts_text(&s, true, WSLAY_TEXT_FRAME, "one");
    feed_part(&sd, &s, 0, s.len);
    assert_false(bosun_ws_busy(sd.ws));

    /* Half a header, then half a payload: held; the rest: idle. */
    size_t at = s.len;
    puts_text(&s, true, WSLAY_TEXT_FRAME, "two halves");
    feed_part(&sd, &s, at, at + 1);
    assert_true(bosun_ws_busy(sd.ws));
    feed_part(&sd, &s, at + 1, s.len - 3);
    assert_true(bosun_ws_busy(sd.ws));
    feed_part(&sd, &s, s.len - 3, s.len);
    assert_false(bosun_ws_busy(sd.ws));

    /* A fragmented message: held from its first frame to its last, pings
     * between them answered. */
    at = s.len;
    puts_text(&s, false, WSLAY_TEXT_FRAME, "fr");
    feed_part(&sd, &s, at, s.len);
    assert_true(bosun_ws_busy(sd.ws));
    at = s.len;
    puts_text(&s, true, WSLAY_PING, "between");
    size_t w0 = sd.w.len;
    feed_part(&sd, &s, at, s.len);
    assert_true(sd.w.len > w0); /* the pong */
    assert_true(bosun_ws_busy(sd.ws));
    at = s.len;
    puts_text(&s, true, WSLAY_CONTINUATION_FRAME, "ag");
    feed_part(&sd, &s, at, s.len);
    assert_false(bosun_ws_busy(sd.ws));
    const unsigned char *e = sd.seen.b + sd.seen.len - 4;
    assert_memory_equal(e, "frag", 4);

    /* A ping while idle: answered, idle after. */
    at = s.len;
    puts_text(&s, true, WSLAY_PING, "idle");
    w0 = sd.w.len;
    feed_part(&sd, &s, at, s.len);
    assert_true(sd.w.len > w0);
    assert_false(bosun_ws_busy(sd.ws));

    /* Sending from idle: a context for the message, given back after. */
    w0 = sd.w.len;
    assert_int_equal(bosun_ws_send_text(sd.ws, "out", 3), 0);
    assert_int_equal(bosun_ws_ping(sd.ws, "p", 1), 0);
    bosun_ws_piece pieces[2] = {{"te", 2}, {"xtv", 3}};
    assert_int_equal(bosun_ws_send_textv(sd.ws, pieces, 2), 0);
    assert_true(sd.w.len > w0);
    assert_false(bosun_ws_busy(sd.ws));

    /* Sending while a peer's frame is half read: the frame completes. */
    at = s.len;
    puts_text(&s, true, WSLAY_TEXT_FRAME, "interrupted");
    feed_part(&sd, &s, at, at + 4);
    assert_int_equal(bosun_ws_send_text(sd.ws, "meanwhile", 9), 0);
    assert_true(bosun_ws_busy(sd.ws));
    feed_part(&sd, &s, at + 4, s.len);
    assert_false(bosun_ws_busy(sd.ws));
    e = sd.seen.b + sd.seen.len - 11;
    assert_memory_equal(e, "interrupted", 11);

    /* Closing: the context stays to the end. */
    assert_int_equal(bosun_ws_close(sd.ws, BOSUN_WS_NORMAL, "done"), 0);
    assert_true(bosun_ws_busy(sd.ws));
    assert_false(bosun_ws_is_open(sd.ws));
    side_close(&sd);
}

static void test_busy_server(void **state)
{
    (void)state;
    busy_states(BOSUN_WS_SERVER);
}

static void test_busy_client(void **state)
{
    (void)state;
    busy_states(BOSUN_WS_CLIENT);
}

/* A close from the peer in the middle of a fragmented message, the
 * message's start fed before a release could have happened. */
static void test_close_mid_fragment(void **state)
{
    (void)state;
    static stream s;
    memset(&s, 0, sizeof s);
    s.masked = true;
    side sd;
    side_open(&sd, BOSUN_WS_SERVER);
    puts_text(&s, false, WSLAY_TEXT_FRAME, "part");
    feed_part(&sd, &s, 0, s.len);
    assert_true(bosun_ws_busy(sd.ws));
    size_t at = s.len;
    puts_text(&s, true, WSLAY_CONNECTION_CLOSE, "\x03\xe9");
    assert_int_equal(bosun_ws_feed(sd.ws, s.b + at, s.len - at), -1);
    assert_int_equal(bosun_ws_close_code(sd.ws), BOSUN_WS_GOING_AWAY);
    assert_true(bosun_ws_busy(sd.ws));
    /* No text came: only the close. */
    assert_int_equal(sd.seen.len, 5 + 2);
    assert_int_equal(sd.seen.b[0], 'C');
    side_close(&sd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differential_server), cmocka_unit_test(test_differential_client),
        cmocka_unit_test(test_busy_server),         cmocka_unit_test(test_busy_client),
        cmocka_unit_test(test_close_mid_fragment),
    };
    return RUN_TESTS(tests);
}
