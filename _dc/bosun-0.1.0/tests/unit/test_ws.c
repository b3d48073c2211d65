/* Unit tests for the WebSocket session (core/lib/ws.c): a client and a
 * server session wired to each other in memory, and hand-made frames. */
#include "config.h"

#include "tap.h"

#include <bosun/ws.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct peer {
    bosun_ws *ws;
    unsigned char *out; /* bytes it wrote, not yet fed to the other end */
    size_t n_out, cap;
    bool refuse_writes;
    int n_text, n_binary, n_pong, n_close;
    char last[200000]; /* the last message, NUL-terminated */
    size_t last_len;
    unsigned close_code;
    char close_reason[BOSUN_WS_REASON_MAX + 1];
} peer;

static bool on_write(void *arg, const void *data, size_t len)
{
    peer *p = arg;
    if (p->refuse_writes)
        return false;
    if (p->n_out + len > p->cap) {
        p->cap = (p->n_out + len) * 2;
        p->out = realloc(p->out, p->cap);
        assert_non_null(p->out);
    }
    memcpy(p->out + p->n_out, data, len);
    p->n_out += len;
    return true;
}

static void keep(peer *p, const void *data, size_t len)
{
    assert_true(len < sizeof p->last);
    memcpy(p->last, data, len);
    p->last[len] = '\0';
    p->last_len = len;
}

static void on_text(void *arg, const char *text, size_t len)
{
    peer *p = arg;
    p->n_text++;
    keep(p, text, len);
}

static void on_binary(void *arg, const void *data, size_t len)
{
    peer *p = arg;
    p->n_binary++;
    keep(p, data, len);
}

static void on_pong(void *arg, const void *data, size_t len)
{
    peer *p = arg;
    p->n_pong++;
    keep(p, data, len);
}

static void on_close(void *arg, unsigned code, const char *reason)
{
    peer *p = arg;
    p->n_close++;
    p->close_code = code;
    snprintf(p->close_reason, sizeof p->close_reason, "%s", reason);
}

static const bosun_ws_ops ops = {on_write, on_text, NULL, on_pong, on_close};
static const bosun_ws_ops ops_binary = {on_write, on_text, on_binary, on_pong, on_close};

static void open_peer(peer *p, enum bosun_ws_role role, size_t frame_max, size_t message_max,
                      const bosun_ws_ops *o)
{
    memset(p, 0, sizeof *p);
    bosun_ws_limits lim = {.frame_max = frame_max, .message_max = message_max};
    p->ws = bosun_ws_new(role, &lim, o, p);
    assert_non_null(p->ws);
}

static void close_peer(peer *p)
{
    bosun_ws_free(p->ws);
    free(p->out);
}

/* Moves a's output to b, optionally one byte at a time. */
static int deliver(peer *a, peer *b, bool bytewise)
{
    int r = 0;
    size_t n = a->n_out;
    a->n_out = 0;
    unsigned char *copy = malloc(n ? n : 1);
    if (n)
        memcpy(copy, a->out, n);
    if (bytewise) {
        for (size_t i = 0; i < n; i++)
            r = bosun_ws_feed(b->ws, copy + i, 1);
    } else if (n) {
        r = bosun_ws_feed(b->ws, copy, n);
    }
    free(copy);
    return r;
}

static void pump(peer *a, peer *b)
{
    for (int i = 0; i < 10 && (a->n_out || b->n_out); i++) {
        deliver(a, b, false);
        deliver(b, a, false);
    }
}

/* A frame as a client would send it (masked with a fixed key) or a server
 * (unmasked). */
static size_t frame(unsigned char *buf, bool fin, int opcode, const void *payload, size_t len,
                    bool masked)
{
    static const unsigned char key[4] = {0x11, 0x22, 0x33, 0x44};
    size_t o = 0;
    buf[o++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    unsigned char m = masked ? 0x80 : 0;
    if (len < 126) {
        buf[o++] = m | (unsigned char)len;
    } else {
        buf[o++] = m | 126;
        buf[o++] = (unsigned char)(len >> 8);
        buf[o++] = (unsigned char)len;
    }
    if (masked)
        memcpy(buf + o, key, 4), o += 4;
    for (size_t i = 0; i < len; i++)
        buf[o + i] = ((const unsigned char *)payload)[i] ^ (masked ? key[i % 4] : 0);
    return o + len;
}

static void test_handshake(void **state)
{
    (void)state;
    char acc[BOSUN_WS_ACCEPT_LEN + 1];
    /* RFC 6455 section 1.3's example. */
    assert_int_equal(bosun_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", acc), 0);
    assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_true(bosun_ws_check_accept("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert_false(bosun_ws_check_accept("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOO="));
    assert_false(bosun_ws_check_accept("dGhlIHNhbXBsZSBub25jZQ==", NULL));
    assert_int_equal(bosun_ws_accept_key("short==", acc), -1);
    assert_int_equal(bosun_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ!!", acc), -1);

    char k1[BOSUN_WS_KEY_LEN + 1], k2[BOSUN_WS_KEY_LEN + 1];
    assert_int_equal(bosun_ws_client_key(k1), 0);
    assert_int_equal(bosun_ws_client_key(k2), 0);
    assert_int_equal(strlen(k1), BOSUN_WS_KEY_LEN);
    assert_string_not_equal(k1, k2);
    assert_int_equal(bosun_ws_accept_key(k1, acc), 0);
    assert_true(bosun_ws_check_accept(k1, acc));

    const char *why = NULL, *key = "dGhlIHNhbXBsZSBub25jZQ==";
    assert_int_equal(bosun_ws_check_upgrade("GET", "websocket", "Upgrade", "13", key, &why), 0);
    assert_int_equal(
        bosun_ws_check_upgrade("GET", "WebSocket", "keep-alive, upgrade", "13", key, &why), 0);
    assert_int_equal(bosun_ws_check_upgrade("POST", "websocket", "Upgrade", "13", key, &why), 400);
    assert_non_null(why);
    assert_int_equal(bosun_ws_check_upgrade("GET", NULL, "Upgrade", "13", key, &why), 400);
    assert_int_equal(bosun_ws_check_upgrade("GET", "h2c", "Upgrade", "13", key, &why), 400);
    assert_int_equal(bosun_ws_check_upgrade("GET", "websocket", "keep-alive", "13", key, &why),
                     400);
    assert_int_equal(bosun_ws_check_upgrade("GET", "websocket", "upgraded", "13", key, &why), 400);
    assert_int_equal(bosun_ws_check_upgrade("GET", "websocket", "Upgrade", "8", key, &why), 426);
    assert_int_equal(bosun_ws_check_upgrade("GET", "websocket", "Upgrade", NULL, key, &why), 426);
    assert_int_equal(bosun_ws_check_upgrade("GET", "websocket", "Upgrade", "13", NULL, &why), 400);
    assert_int_equal(bosun_ws_check_upgrade("GET", "websocket", "Upgrade", "13", "abc", NULL), 400);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    errno = 0;
    assert_null(bosun_ws_new(BOSUN_WS_SERVER, NULL, NULL, NULL));
    assert_int_equal(errno, EINVAL);
    bosun_ws_ops none = {0};
    assert_null(bosun_ws_new(BOSUN_WS_CLIENT, NULL, &none, NULL));
    assert_int_equal(bosun_ws_feed(NULL, "x", 1), -1);
    assert_int_equal(bosun_ws_send_text(NULL, "x", 1), -1);
    assert_false(bosun_ws_is_open(NULL));
    bosun_ws_free(NULL);
}

/* Messages of every length class both ways, whole and byte by byte. */
static void test_messages_both_ways(void **state)
{
    (void)state;
    peer s, c;
    open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
    open_peer(&c, BOSUN_WS_CLIENT, 0, 0, &ops);
    static char big[70000];
    memset(big, 'x', sizeof big);
    size_t sizes[] = {0, 5, 125, 126, 65535, 65536, sizeof big};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        big[0] = (char)('a' + i);
        assert_int_equal(bosun_ws_send_text(c.ws, big, sizes[i]), 0);
        /* the client masks: its bytes differ from the payload */
        if (sizes[i] > 4)
            assert_null(memmem(c.out, c.n_out, big, 4));
        assert_int_equal(deliver(&c, &s, sizes[i] < 200), 0);
        assert_int_equal(s.n_text, (int)i + 1);
        assert_int_equal(s.last_len, sizes[i]);
        assert_memory_equal(s.last, big, sizes[i]);
        assert_int_equal(bosun_ws_send_text(s.ws, big, sizes[i]), 0);
        assert_int_equal(deliver(&s, &c, false), 0);
        assert_int_equal(c.last_len, sizes[i]);
        assert_memory_equal(c.last, big, sizes[i]);
    }
    assert_true(bosun_ws_is_open(s.ws));
    assert_int_equal(bosun_ws_close_code(s.ws), 0);
    close_peer(&s);
    close_peer(&c);
}

/* Pieces are joined: unmasked directly by the server, through wslay by the
 * client. */
static void test_textv(void **state)
{
    (void)state;
    peer s, c;
    open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
    open_peer(&c, BOSUN_WS_CLIENT, 0, 0, &ops);
    static char tail[300];
    memset(tail, 't', sizeof tail);
    bosun_ws_piece pv[] = {{"{\"sid\":\"", 8}, {"7", 1}, {"", 0}, {tail, sizeof tail}};
    assert_int_equal(bosun_ws_send_textv(s.ws, pv, 4), 0);
    assert_int_equal(bosun_ws_send_textv(s.ws, pv, 2), 0);
    assert_int_equal(deliver(&s, &c, false), 0);
    assert_int_equal(c.n_text, 2);
    assert_string_equal(c.last, "{\"sid\":\"7");
    assert_int_equal(bosun_ws_send_textv(c.ws, pv, 4), 0);
    assert_int_equal(deliver(&c, &s, false), 0);
    assert_int_equal(s.last_len, 9 + sizeof tail);
    assert_memory_equal(s.last + 9, tail, sizeof tail);
    close_peer(&s);
    close_peer(&c);
}

static void test_ping_pong(void **state)
{
    (void)state;
    peer s, c;
    open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
    open_peer(&c, BOSUN_WS_CLIENT, 0, 0, &ops);
    assert_int_equal(bosun_ws_ping(s.ws, "p1", 2), 0);
    pump(&s, &c); /* the client answers by itself */
    assert_int_equal(s.n_pong, 1);
    assert_string_equal(s.last, "p1");
    assert_int_equal(bosun_ws_ping(c.ws, "p2", 2), 0);
    pump(&s, &c);
    assert_int_equal(c.n_pong, 1);
    assert_string_equal(c.last, "p2");
    char long_ping[126] = {0};
    assert_int_equal(bosun_ws_ping(s.ws, long_ping, sizeof long_ping), -1);
    assert_int_equal(s.n_text + c.n_text, 0);
    close_peer(&s);
    close_peer(&c);
}

/* The owner's close reaches the peer with its code and reason; the echo
 * tells the owner nothing more; nothing can be sent afterwards. */
static void test_close_handshake(void **state)
{
    (void)state;
    peer s, c;
    open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
    open_peer(&c, BOSUN_WS_CLIENT, 0, 0, &ops);
    assert_int_equal(bosun_ws_close(c.ws, 1000, "bye"), 0);
    assert_false(bosun_ws_is_open(c.ws));
    assert_int_equal(bosun_ws_close_code(c.ws), 1000);
    assert_int_equal(bosun_ws_send_text(c.ws, "x", 1), -1);
    assert_int_equal(bosun_ws_close(c.ws, 1000, "again"), -1);
    assert_int_equal(deliver(&c, &s, false), -1);
    assert_int_equal(s.n_close, 1);
    assert_int_equal(s.close_code, 1000);
    assert_string_equal(s.close_reason, "bye");
    assert_false(bosun_ws_ended_by_us(s.ws));
    assert_true(s.n_out > 0); /* the echo */
    deliver(&s, &c, false);
    assert_int_equal(c.n_close, 0);
    assert_int_equal(bosun_ws_send_text(s.ws, "x", 1), -1);
    /* bytes after the close are ignored */
    assert_int_equal(bosun_ws_feed(s.ws, "\x81\x80\0\0\0\0", 6), -1);
    assert_int_equal(s.n_text, 0);
    assert_int_equal(s.n_close, 1);
    close_peer(&s);
    close_peer(&c);

    /* A long reason is cut on a character boundary. */
    open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
    open_peer(&c, BOSUN_WS_CLIENT, 0, 0, &ops);
    char reason[300] = "";
    for (int i = 0; i < 100; i++)
        strcat(reason, "\xc3\xa9"); /* é */
    assert_int_equal(bosun_ws_close(s.ws, BOSUN_WS_TRY_AGAIN, reason), 0);
    deliver(&s, &c, false);
    assert_int_equal(c.n_close, 1);
    assert_int_equal(c.close_code, 1013);
    assert_int_equal(strlen(c.close_reason), 122);
    close_peer(&s);
    close_peer(&c);
}

/* An oversized frame is refused from its header, before its payload. */
static void test_frame_too_big(void **state)
{
    (void)state;
    peer s, c;
    open_peer(&s, BOSUN_WS_SERVER, 100, 1000, &ops);
    open_peer(&c, BOSUN_WS_CLIENT, 0, 0, &ops);
    char msg[101];
    memset(msg, 'm', sizeof msg);
    assert_int_equal(bosun_ws_send_text(c.ws, msg, 100), 0);
    assert_int_equal(deliver(&c, &s, false), 0);
    assert_int_equal(s.n_text, 1);
    assert_int_equal(bosun_ws_send_text(c.ws, msg, 101), 0);
    /* only the header: the refusal does not wait for the payload */
    assert_int_equal(bosun_ws_feed(s.ws, c.out, 8), -1);
    c.n_out = 0;
    assert_int_equal(s.n_text, 1);
    assert_int_equal(s.n_close, 1);
    assert_int_equal(s.close_code, BOSUN_WS_TOO_BIG);
    assert_int_equal(bosun_ws_close_code(s.ws), BOSUN_WS_TOO_BIG);
    deliver(&s, &c, false);
    assert_int_equal(c.n_close, 1);
    assert_int_equal(c.close_code, BOSUN_WS_TOO_BIG);
    assert_string_equal(c.close_reason, "frame too big");
    close_peer(&s);
    close_peer(&c);
}

/* A message made of small frames is bounded as a whole. */
static void test_message_too_big(void **state)
{
    (void)state;
    peer s;
    open_peer(&s, BOSUN_WS_SERVER, 100, 150, &ops);
    unsigned char buf[512];
    char part[80];
    memset(part, 'p', sizeof part);
    size_t n = frame(buf, false, 0x1, part, sizeof part, true);
    assert_int_equal(bosun_ws_feed(s.ws, buf, n), 0);
    n = frame(buf, true, 0x0, part, sizeof part, true);
    assert_int_equal(bosun_ws_feed(s.ws, buf, n), -1);
    assert_int_equal(s.n_text, 0);
    assert_int_equal(s.close_code, BOSUN_WS_TOO_BIG);
    close_peer(&s);

    /* a single frame over the message bound (frame_max defaults to it) */
    open_peer(&s, BOSUN_WS_SERVER, 0, 50, &ops);
    n = frame(buf, true, 0x1, part, 51, true);
    assert_int_equal(bosun_ws_feed(s.ws, buf, n), -1);
    assert_int_equal(s.close_code, BOSUN_WS_TOO_BIG);
    close_peer(&s);

    /* fragments within the bound are joined */
    open_peer(&s, BOSUN_WS_SERVER, 100, 200, &ops);
    n = frame(buf, false, 0x1, "ab", 2, true);
    n += frame(buf + n, true, 0x9, "ping", 4, true); /* a control frame between fragments */
    n += frame(buf + n, true, 0x0, "cd", 2, true);
    assert_int_equal(bosun_ws_feed(s.ws, buf, n), 0);
    assert_int_equal(s.n_text, 1);
    assert_string_equal(s.last, "abcd");
    assert_true(s.n_out > 0); /* the pong */
    close_peer(&s);
}

static void test_binary(void **state)
{
    (void)state;
    peer s, c;
    open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
    open_peer(&c, BOSUN_WS_CLIENT, 0, 0, &ops_binary);
    assert_int_equal(bosun_ws_send_binary(s.ws, "\0\1\2", 3), 0);
    deliver(&s, &c, false);
    assert_int_equal(c.n_binary, 1);
    assert_int_equal(c.last_len, 3);
    assert_int_equal(bosun_ws_send_binary(c.ws, "\0\1\2", 3), 0);
    assert_int_equal(deliver(&c, &s, false), -1);
    assert_int_equal(s.close_code, BOSUN_WS_UNSUPPORTED_DATA);
    deliver(&s, &c, false);
    assert_int_equal(c.close_code, BOSUN_WS_UNSUPPORTED_DATA);
    close_peer(&s);
    close_peer(&c);
}

static void test_protocol_errors(void **state)
{
    (void)state;
    unsigned char buf[64];
    peer s;
    /* unmasked from a client */
    open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
    size_t n = frame(buf, true, 0x1, "hi", 2, false);
    assert_int_equal(bosun_ws_feed(s.ws, buf, n), -1);
    assert_int_equal(s.n_text, 0);
    assert_int_equal(s.close_code, BOSUN_WS_PROTOCOL_ERROR);
    close_peer(&s);
    /* invalid UTF-8 in a text message */
    open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
    n = frame(buf, true, 0x1, "\xc3\x28", 2, true);
    assert_int_equal(bosun_ws_feed(s.ws, buf, n), -1);
    assert_int_equal(s.close_code, BOSUN_WS_INVALID_DATA);
    close_peer(&s);
    /* a reserved opcode */
    open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
    n = frame(buf, true, 0x3, "x", 1, true);
    assert_int_equal(bosun_ws_feed(s.ws, buf, n), -1);
    assert_int_equal(s.close_code, BOSUN_WS_PROTOCOL_ERROR);
    close_peer(&s);
    /* a continuation with nothing to continue */
    open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
    n = frame(buf, true, 0x0, "x", 1, true);
    assert_int_equal(bosun_ws_feed(s.ws, buf, n), -1);
    assert_int_equal(s.n_close, 1);
    close_peer(&s);
    /* a peer's close without a code */
    open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
    n = frame(buf, true, 0x8, "", 0, true);
    assert_int_equal(bosun_ws_feed(s.ws, buf, n), -1);
    assert_int_equal(s.close_code, BOSUN_WS_NO_STATUS);
    close_peer(&s);
}

/* Codes that may not be on the wire (RFC 6455 7.4): the owner cannot send
 * them, and a peer that sends one broke the protocol. */
static void test_close_codes(void **state)
{
    (void)state;
    static const unsigned yes[] = {1000, 1001, 1002, 1003, 1007, 1008,
                                   1011, 1012, 1014, 3000, 4999};
    static const unsigned no[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(bosun_ws_code_sendable(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(bosun_ws_code_sendable(no[i]));
    unsigned char buf[64];
    static const unsigned forbidden[] = {BOSUN_WS_NO_STATUS, BOSUN_WS_ABNORMAL, 1015};
    for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++) {
        peer s, c;
        open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
        open_peer(&c, BOSUN_WS_CLIENT, 0, 0, &ops);
        /* refused, nothing written, the session still open */
        assert_int_equal(bosun_ws_close(c.ws, forbidden[i], "no"), -1);
        assert_int_equal(c.n_out, 0);
        assert_true(bosun_ws_is_open(c.ws));
        assert_int_equal(bosun_ws_close_code(c.ws), 0);
        close_peer(&s);
        close_peer(&c);
        /* from the peer: a protocol error, answered with 1002 */
        open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
        unsigned char code[2] = {(unsigned char)(forbidden[i] >> 8), (unsigned char)forbidden[i]};
        size_t n = frame(buf, true, 0x8, code, 2, true);
        assert_int_equal(bosun_ws_feed(s.ws, buf, n), -1);
        assert_int_equal(s.n_close, 1);
        assert_int_equal(s.close_code, BOSUN_WS_PROTOCOL_ERROR);
        assert_true(bosun_ws_ended_by_us(s.ws));
        assert_true(s.n_out > 0);
        close_peer(&s);
    }
}

/* A write the owner cannot take fails the session. */
static void test_write_refused(void **state)
{
    (void)state;
    peer s;
    open_peer(&s, BOSUN_WS_SERVER, 0, 0, &ops);
    s.refuse_writes = true;
    assert_int_equal(bosun_ws_send_text(s.ws, "x", 1), -1);
    assert_false(bosun_ws_is_open(s.ws));
    bosun_ws_piece p = {"y", 1};
    assert_int_equal(bosun_ws_send_textv(s.ws, &p, 1), -1);
    unsigned char buf[32];
    size_t n = frame(buf, true, 0x1, "hi", 2, true);
    assert_int_equal(bosun_ws_feed(s.ws, buf, n), -1);
    assert_int_equal(s.n_text, 0);
    assert_int_equal(s.n_close, 1);
    assert_int_equal(s.close_code, BOSUN_WS_ABNORMAL);
    close_peer(&s);
}

/* Replies sent from inside a callback go out in order. */
static void echo_text(void *arg, const char *text, size_t len)
{
    peer *p = arg;
    p->n_text++;
    assert_int_equal(bosun_ws_send_text(p->ws, text, len), 0);
}

static void test_send_from_callback(void **state)
{
    (void)state;
    peer s, c;
    bosun_ws_ops echo = {on_write, echo_text, NULL, on_pong, on_close};
    open_peer(&s, BOSUN_WS_SERVER, 0, 0, &echo);
    open_peer(&c, BOSUN_WS_CLIENT, 0, 0, &ops);
    assert_int_equal(bosun_ws_send_text(c.ws, "one", 3), 0);
    assert_int_equal(bosun_ws_ping(c.ws, "p", 1), 0);
    assert_int_equal(bosun_ws_send_text(c.ws, "two", 3), 0);
    deliver(&c, &s, false);
    assert_int_equal(s.n_text, 2);
    deliver(&s, &c, false);
    assert_int_equal(c.n_text, 2);
    assert_int_equal(c.n_pong, 1);
    assert_string_equal(c.last, "two");
    close_peer(&s);
    close_peer(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_messages_both_ways),
        cmocka_unit_test(test_textv),
        cmocka_unit_test(test_ping_pong),
        cmocka_unit_test(test_close_handshake),
        cmocka_unit_test(test_frame_too_big),
        cmocka_unit_test(test_message_too_big),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_close_codes),
        cmocka_unit_test(test_write_refused),
        cmocka_unit_test(test_send_from_callback),
    };
    return RUN_TESTS(tests);
}
