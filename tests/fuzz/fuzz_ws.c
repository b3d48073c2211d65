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
 * Input: byte 0 picks the limits, byte 1 the chunk size, the rest is the
 * stream. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/ws.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct side {
    bosun_ws *ws;
    struct side *to; /* where its output goes; NULL: dropped */
    size_t message_max;
    int n_text, n_close;
    unsigned code;
    bool ended;
} side;

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
    side server = {.to = &client, .message_max = message_max};
    bosun_ws_limits lim = {.frame_max = frame_max, .message_max = message_max};
    server.ws = bosun_ws_new(BOSUN_WS_SERVER, &lim, &ops, &server);
    client.ws = bosun_ws_new(BOSUN_WS_CLIENT, NULL, &ops, &client);
    if (!server.ws || !client.ws)
        abort();
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (bosun_ws_feed(server.ws, data + off, n) != 0)
            server.ended = true;
    }
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
    return 0;
}
