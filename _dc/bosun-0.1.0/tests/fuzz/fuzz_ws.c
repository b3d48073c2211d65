/* libFuzzer target for WebSocket frame handling (core/lib/ws.c over wslay).
 *
 * Arbitrary bytes are fed to a server session as a client's traffic, in
 * chunks of a size taken from the input, with limits taken from it too.
 * The server echoes every text message twice (bosun_ws_send_text and
 * bosun_ws_send_textv), and everything it writes is fed to a client
 * session, which must read it all without an error of its own.
 *
 * Checked: a text message is valid UTF-8 and within message_max; no
 * message after the session ended; on_close at most once, and only with
 * a code that may be on the wire; the client gets exactly the echoes and
 * the server's close code (wslay answers a 1012-1014 it does not know with
 * 1002, and a frame it cannot parse with a close without a code, 1005 to
 * the client, which the server reports as 1002; and wslay 1.1 checks a
 * close reason's UTF-8 per read chunk, skipping two bytes of each, so it
 * may echo a peer's close whose reason the client then refuses with 1007).  Memory errors, leaks
 * and undefined behaviour are the sanitizers'.
 *
 * The server session gives wslay's context back whenever it is idle
 * between chunks (ws.c, ws_release), so a differential check runs too: a
 * plain wslay context held throughout, given the same chunks and doing
 * what the session does (the same refusals of a frame over frame_max and
 * of binary messages, the same two echoes), must write exactly the bytes
 * the server session wrote and deliver the same text messages.
 *
 * Input: byte 0 picks the limits, byte 1 the chunk size, the rest is the
 * stream. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/ws.h>
#include <wslay/wslay.h>

#include "../wslay_feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bytes written, and a running hash of the texts delivered. */
typedef struct trace {
    uint8_t *w;
    size_t w_len, w_cap;
    uint64_t texts;
} trace;

typedef struct side {
    bosun_ws *ws;
    struct side *to; /* where its output goes; NULL: dropped */
    size_t message_max;
    int n_text, n_close;
    unsigned code;
    bool ended;
    trace *tr; /* the server's, for the differential check */
} side;

static void trace_write(trace *t, const void *data, size_t len)
{
    if (len == 0)
        return; /* wslay's empty writes */
    if (t->w_len + len > t->w_cap) {
        t->w_cap = (t->w_len + len) * 2 + 256;
        t->w = realloc(t->w, t->w_cap);
        if (!t->w)
            abort();
    }
    memcpy(t->w + t->w_len, data, len);
    t->w_len += len;
}

static void trace_text(trace *t, const char *text, size_t len)
{
    uint64_t h = t->texts ^ len;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 0x100000001b3ull;
    t->texts = h * 0x100000001b3ull + 1;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n)
            return false;
        uint32_t cp = len == 1 ? c : c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

static bool on_write(void *arg, const void *bytes, size_t len)
{
    side *s = arg;
    if (s->tr)
        trace_write(s->tr, bytes, len);
    if (s->to)
        bosun_ws_feed(s->to->ws, bytes, len);
    return true;
}

static void on_text(void *arg, const char *text, size_t len)
{
    side *s = arg;
    if (s->ended || len > s->message_max || !utf8_valid((const unsigned char *)text, len))
        abort();
    s->n_text++;
    if (s->tr)
        trace_text(s->tr, text, len);
    if (s->to) {
        bosun_ws_send_text(s->ws, text, len);
        bosun_ws_piece p[2] = {{text, len / 2}, {text + len / 2, len - len / 2}};
        bosun_ws_send_textv(s->ws, p, 2);
    }
}

static void on_close(void *arg, unsigned code, const char *reason)
{
    side *s = arg;
    if (s->n_close++ || !reason || code < 1000 || code > 4999)
        abort();
    s->code = code;
    s->ended = true;
}

/* ------------------------------------------------------------ the oracle */

typedef struct oracle {
    wslay_feed feed; /* first: wslay_feed_recv's */
    wslay_event_context_ptr ctx;
    size_t frame_max;
    bool refused;
    trace tr;
} oracle;

static ssize_t o_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                      void *user)
{
    (void)ctx;
    (void)flags;
    trace_write(&((oracle *)user)->tr, data, len);
    return (ssize_t)len;
}

/* What bosun_ws does when the peer breaks one of its own rules. */
static void o_refuse(oracle *o, uint16_t code, const char *reason)
{
    if (o->refused)
        return;
    o->refused = true;
    wslay_event_queue_close(o->ctx, code, (const uint8_t *)reason, strlen(reason));
    wslay_event_shutdown_read(o->ctx);
}

static void o_frame_start(wslay_event_context_ptr ctx,
                          const struct wslay_event_on_frame_recv_start_arg *arg, void *user)
{
    (void)ctx;
    oracle *o = user;
    if (arg->payload_length > o->frame_max)
        o_refuse(o, 1009, "frame too big");
}

static void o_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                  void *user)
{
    oracle *o = user;
    if (o->refused)
        return;
    if (arg->opcode == WSLAY_BINARY_FRAME) {
        o_refuse(o, 1003, "binary messages are not accepted");
    } else if (arg->opcode == WSLAY_TEXT_FRAME) {
        trace_text(&o->tr, (const char *)arg->msg, arg->msg_length);
        struct wslay_event_msg m = {WSLAY_TEXT_FRAME, arg->msg ? arg->msg : (const uint8_t *)"",
                                    arg->msg_length};
        for (int i = 0; i < 2; i++) /* the two echoes, each written at once */
            if (wslay_event_queue_msg(ctx, &m) == 0)
                wslay_event_send(ctx);
    }
}

static void oracle_feed(oracle *o, const uint8_t *data, size_t n)
{
    if (o->refused || !wslay_event_get_read_enabled(o->ctx))
        return;
    o->feed = (wslay_feed){data, n};
    wslay_event_recv(o->ctx);
    o->feed.in_len = 0;
    if (wslay_event_want_write(o->ctx))
        wslay_event_send(o->ctx);
}

static void oracle_init(oracle *o, size_t frame_max, size_t message_max)
{
    static const struct wslay_event_callbacks cbs = {
        .recv_callback = wslay_feed_recv,
        .send_callback = o_send,
        .on_frame_recv_start_callback = o_frame_start,
        .on_msg_recv_callback = o_msg,
    };
    memset(o, 0, sizeof *o);
    o->frame_max = frame_max < message_max ? frame_max : message_max;
    if (wslay_event_context_server_init(&o->ctx, &cbs, o) != 0)
        abort();
    wslay_event_config_set_max_recv_msg_length(o->ctx, message_max);
}

/* ------------------------------------------------------------ the target */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t frame_max = (size_t)16 << (data[0] & 7);
    size_t message_max = frame_max * (1 + ((data[0] >> 3) & 3));
    size_t chunk = 1 + data[1];
    data += 2, size -= 2;

    bosun_ws_ops ops = {on_write, on_text, NULL, NULL, on_close};
    side client = {.message_max = BOSUN_WS_MESSAGE_DEF};
    trace str = {0};
    side server = {.to = &client, .message_max = message_max, .tr = &str};
    oracle orc;
    oracle_init(&orc, frame_max, message_max);
    bosun_ws_limits lim = {.frame_max = frame_max, .message_max = message_max};
    server.ws = bosun_ws_new(BOSUN_WS_SERVER, &lim, &ops, &server);
    client.ws = bosun_ws_new(BOSUN_WS_CLIENT, NULL, &ops, &client);
    if (!server.ws || !client.ws)
        abort();
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (bosun_ws_feed(server.ws, data + off, n) != 0)
            server.ended = true;
        oracle_feed(&orc, data + off, n);
    }
    if (str.w_len != orc.tr.w_len || (str.w_len && memcmp(str.w, orc.tr.w, str.w_len) != 0) ||
        str.texts != orc.tr.texts)
        abort(); /* the releases changed what the session saw or said */
    if (client.n_text != 2 * server.n_text)
        abort();
    bool hidden = server.code >= 1012 && server.code <= 1014 && client.code == 1002;
    bool bare = server.code == 1002 && client.code == 1005;
    bool bad_echo = client.code == 1007;
    if (server.n_close && client.code != server.code && !hidden && !bare && !bad_echo)
        abort();
    if (!server.n_close && client.n_close)
        abort();
    bosun_ws_free(server.ws);
    bosun_ws_free(client.ws);
    wslay_event_context_free(orc.ctx);
    free(orc.tr.w);
    free(str.w);
    return 0;
}
