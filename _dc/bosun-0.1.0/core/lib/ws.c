/* bosun — a WebSocket session over wslay's event API, with no I/O of its
 * own (see include/bosun/ws.h).
 *
 * Memory: wslay's event context carries two fixed 4 KiB buffers (the
 * frame reader's input, the fragmented sender's output), about 8.6 KiB
 * with its queues, and a server holds one session per /ws client.  So a
 * session holds a context only while it is busy, the way nginx lends an
 * idle keep-alive connection's buffers back: one is taken when bytes come
 * or a message must be sent, and given back when nothing of the session's
 * state is in it (ws_release).  Knowing that the peer's stream is between
 * frames needs the frame headers' lengths, which ws_scan follows; wslay
 * still parses and validates every byte. */
#include "config.h"

#include <bosun/ws.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <wslay/wslay.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Where the peer's stream is, from the frame headers alone (RFC 6455
 * 5.2): inside a frame (its header, or payload bytes still to come), and
 * inside a fragmented data message.  Invalid headers need no care: wslay
 * refuses them and a session that is not open keeps its context. */
typedef struct ws_scan {
    uint64_t left;   /* payload bytes of the current frame still to come */
    uint64_t len;    /* the next frame's payload length, as its header is read */
    uint8_t have;    /* header bytes of the next frame read */
    uint8_t need;    /* that header's size, known from its second byte (else 2) */
    uint8_t ext;     /* bytes of its extended payload length: 0, 2 or 8 */
    uint8_t first;   /* its first byte: FIN and opcode */
    bool fragmented; /* a data frame without FIN came, its final one not yet */
} ws_scan;

/* What a session holds only while busy. */
typedef struct ws_held {
    wslay_event_context_ptr ctx;
    char reason[BOSUN_WS_REASON_MAX + 1];
    /* The peer's close frame as received: wslay 1.1 takes codes above 1011
     * (1013 "try again later") for protocol errors and hides them. */
    bool in_close, peer_close_done;
    uint8_t peer_close_len;
    unsigned char peer_close[125];
} ws_held;

struct bosun_ws {
    ws_held *held; /* NULL while idle */
    bosun_ws_ops ops;
    void *arg;
    const uint8_t *in; /* what bosun_ws_feed was given, not yet taken by wslay */
    size_t in_len;
    size_t frame_max, message_max;
    ws_scan scan;
    unsigned code;
    uint8_t depth;         /* calls of ours inside wslay: no release there */
    uint8_t role;          /* enum bosun_ws_role */
    bool failed : 1;       /* ops.write refused bytes, wslay gave up, or no memory */
    bool refused : 1;      /* we queued a close for the peer's fault: ignore the rest */
    bool owner_closed : 1; /* bosun_ws_close was called */
    bool notified : 1;     /* on_close ran */
    bool ended_ours : 1;   /* ...with our refusal's code (ended_ours) */
};

/* ------------------------------------------------------------ frame scan */

static void scan_header_byte(ws_scan *s, uint8_t b)
{
    if (s->have == 0) {
        s->first = b;
        s->need = 2;
        s->ext = 0;
        s->len = 0;
    } else if (s->have == 1) {
        unsigned l7 = b & 0x7fu;
        s->ext = l7 == 126 ? 2 : l7 == 127 ? 8 : 0;
        s->need = (uint8_t)(2 + s->ext + (b & 0x80 ? 4 : 0));
        s->len = s->ext ? 0 : l7;
    } else if (s->have < 2 + s->ext) {
        s->len = s->len << 8 | b;
    }
    if (++s->have < s->need)
        return;
    /* The header is whole: its payload follows. */
    s->have = 0;
    s->left = s->len;
    if ((s->first & 0x08) == 0) /* a data or continuation frame, not a control one */
        s->fragmented = !(s->first & 0x80);
}

/* Follows the bytes wslay takes, as it takes them. */
static void scan_feed(ws_scan *s, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (s->left > 0) {
            size_t k = s->left < n ? (size_t)s->left : n;
            p += k;
            n -= k;
            s->left -= k;
        } else {
            scan_header_byte(s, *p++);
            n--;
        }
    }
}

/* Between two frames and not inside a message. */
static bool scan_idle(const ws_scan *s)
{
    return s->have == 0 && s->left == 0 && !s->fragmented;
}

/* ------------------------------------------------------------ wslay callbacks */

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    (void)flags;
    bosun_ws *ws = user;
    if (ws->in_len == 0) {
        /* All fed bytes taken: wslay keeps a partial frame until the next feed. */
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < ws->in_len ? len : ws->in_len;
    memcpy(buf, ws->in, n);
    scan_feed(&ws->scan, ws->in, n);
    ws->in += n;
    ws->in_len -= n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    (void)flags;
    bosun_ws *ws = user;
    if (len == 0)
        return 0; /* wslay's empty payloads: nothing for the owner */
    if (!ws->ops.write(ws->arg, data, len)) {
        ws->failed = true;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static int genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)user;
    /* RFC 6455 10.3: masks must be unpredictable to the page's script. */
    if (RAND_bytes(buf, (int)len) != 1) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return 0;
}

static void set_reason(bosun_ws *ws, const void *text, size_t len)
{
    if (!ws->held)
        return;
    if (len > BOSUN_WS_REASON_MAX)
        len = BOSUN_WS_REASON_MAX;
    memcpy(ws->held->reason, text, len);
    ws->held->reason[len] = '\0';
}

/* The peer broke a rule: close with code and read nothing more.  The close
 * frame is written by the flush after wslay_event_recv returns. */
static void refuse(bosun_ws *ws, unsigned code, const char *reason)
{
    if (ws->refused)
        return;
    ws->refused = true;
    set_reason(ws, reason, strlen(reason));
    wslay_event_queue_close(ws->held->ctx, (uint16_t)code, (const uint8_t *)reason, strlen(reason));
    wslay_event_shutdown_read(ws->held->ctx);
}

/* Called before wslay buffers the frame's payload, so an oversized frame
 * costs nothing (wslay itself bounds whole messages). */
static void frame_start_cb(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *arg, void *user)
{
    (void)ctx;
    bosun_ws *ws = user;
    if (arg->payload_length > ws->frame_max)
        refuse(ws, BOSUN_WS_TOO_BIG, "frame too big");
    ws->held->in_close = arg->opcode == WSLAY_CONNECTION_CLOSE;
    if (ws->held->in_close)
        ws->held->peer_close_len = 0;
}

static void frame_chunk_cb(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_chunk_arg *arg, void *user)
{
    (void)ctx;
    ws_held *h = ((bosun_ws *)user)->held;
    size_t room = sizeof h->peer_close - h->peer_close_len;
    if (!h->in_close || arg->data_length > room)
        return; /* control frames are at most 125 bytes (wslay checks) */
    memcpy(h->peer_close + h->peer_close_len, arg->data, arg->data_length);
    h->peer_close_len = (uint8_t)(h->peer_close_len + arg->data_length);
}

static void frame_end_cb(wslay_event_context_ptr ctx, void *user)
{
    (void)ctx;
    ws_held *h = ((bosun_ws *)user)->held;
    h->peer_close_done = h->in_close;
}

/* A close code of the IANA registry's 1012-1014 that wslay refused (and
 * answered with 1002). */
static unsigned hidden_peer_code(const bosun_ws *ws)
{
    const ws_held *h = ws->held;
    if (!h || !h->peer_close_done || h->peer_close_len < 2 || !wslay_event_get_close_sent(h->ctx))
        return 0;
    unsigned code = (unsigned)h->peer_close[0] << 8 | h->peer_close[1];
    return code >= 1012 && code <= 1014 ? code : 0;
}

static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
    (void)ctx;
    bosun_ws *ws = user;
    if (ws->refused || ws->failed)
        return;
    /* wslay gives NULL for an empty message; owners get a valid pointer. */
    const uint8_t *msg = arg->msg ? arg->msg : (const uint8_t *)"";
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
        if (ws->ops.on_text && !ws->owner_closed)
            ws->ops.on_text(ws->arg, (const char *)msg, arg->msg_length);
        break;
    case WSLAY_BINARY_FRAME:
        if (!ws->ops.on_binary)
            refuse(ws, BOSUN_WS_UNSUPPORTED_DATA, "binary messages are not accepted");
        else if (!ws->owner_closed)
            ws->ops.on_binary(ws->arg, msg, arg->msg_length);
        break;
    case WSLAY_PONG:
        if (ws->ops.on_pong)
            ws->ops.on_pong(ws->arg, msg, arg->msg_length);
        break;
    case WSLAY_CONNECTION_CLOSE:
        if (arg->msg_length > 2)
            set_reason(ws, msg + 2, arg->msg_length - 2);
        break;
    default: /* pings are answered by wslay */
        break;
    }
}

/* ------------------------------------------------------------ the context */

static const struct wslay_event_callbacks ws_callbacks = {
    .recv_callback = recv_cb,
    .send_callback = send_cb,
    .genmask_callback = genmask_cb,
    .on_frame_recv_start_callback = frame_start_cb,
    .on_frame_recv_chunk_callback = frame_chunk_cb,
    .on_frame_recv_end_callback = frame_end_cb,
    .on_msg_recv_callback = msg_cb,
};

/* A context for bytes to come or a message to go: false (the session
 * failed) when memory runs out. */
static bool ws_acquire(bosun_ws *ws)
{
    if (ws->held)
        return true;
    ws_held *h = calloc(1, sizeof *h);
    int r = -1;
    if (h)
        r = ws->role == BOSUN_WS_SERVER
                ? wslay_event_context_server_init(&h->ctx, &ws_callbacks, ws)
                : wslay_event_context_client_init(&h->ctx, &ws_callbacks, ws);
    if (r != 0) {
        free(h);
        ws->failed = true;
        return false;
    }
    wslay_event_config_set_max_recv_msg_length(h->ctx, ws->message_max);
    ws->held = h;
    return true;
}

static void held_free(ws_held *h)
{
    if (!h)
        return;
    wslay_event_context_free(h->ctx);
    free(h);
}

/* Gives the context back when a fresh one would be the same: the session
 * is open (wslay reads and writes, no close queued, sent or received),
 * the peer's stream is between frames and messages (so wslay holds no
 * partial frame, message or UTF-8 state), nothing waits in wslay's send
 * queues, and no call of ours is inside wslay.  A session that is closing
 * keeps its context to the end: wslay's close state lives there. */
static void ws_release(bosun_ws *ws)
{
    ws_held *h = ws->held;
    if (!h || ws->depth || ws->in_len || ws->failed || ws->refused || ws->owner_closed ||
        !scan_idle(&ws->scan) || !wslay_event_get_read_enabled(h->ctx) ||
        !wslay_event_get_write_enabled(h->ctx) || wslay_event_get_close_received(h->ctx) ||
        wslay_event_get_close_sent(h->ctx) || wslay_event_want_write(h->ctx))
        return;
    ws->held = NULL;
    held_free(h);
}

/* Around every use of the context: it stays while a caller is inside. */
static bool ws_enter(bosun_ws *ws)
{
    if (!ws_acquire(ws))
        return false;
    ws->depth++;
    return true;
}

static void ws_leave(bosun_ws *ws)
{
    ws->depth--;
    ws_release(ws);
}

/* ------------------------------------------------------------ the session */

bosun_ws *bosun_ws_new(enum bosun_ws_role role, const bosun_ws_limits *limits,
                       const bosun_ws_ops *ops, void *arg)
{
    if (!ops || !ops->write || (role != BOSUN_WS_SERVER && role != BOSUN_WS_CLIENT)) {
        errno = EINVAL;
        return NULL;
    }
    bosun_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->ops = *ops;
    ws->arg = arg;
    ws->role = (uint8_t)role;
    ws->message_max = limits && limits->message_max ? limits->message_max : BOSUN_WS_MESSAGE_DEF;
    ws->frame_max = limits && limits->frame_max && limits->frame_max < ws->message_max
                        ? limits->frame_max
                        : ws->message_max;
    /* A first context now, so that a session that cannot have one fails
     * here rather than at its first byte. */
    if (!ws_acquire(ws)) {
        free(ws);
        errno = ENOMEM;
        return NULL;
    }
    ws_release(ws);
    return ws;
}

void bosun_ws_free(bosun_ws *ws)
{
    if (!ws)
        return;
    held_free(ws->held);
    free(ws);
}

bool bosun_ws_is_open(const bosun_ws *ws)
{
    if (!ws || ws->failed || ws->refused || ws->owner_closed)
        return false;
    const ws_held *h = ws->held;
    return !h || (!wslay_event_get_close_received(h->ctx) && !wslay_event_get_close_sent(h->ctx));
}

bool bosun_ws_busy(const bosun_ws *ws)
{
    return ws && ws->held;
}

bool bosun_ws_ended_by_us(const bosun_ws *ws)
{
    return ws && ws->notified && ws->ended_ours;
}

unsigned bosun_ws_close_code(const bosun_ws *ws)
{
    return ws && (ws->notified || ws->owner_closed) ? ws->code : 0;
}

/* Writes what wslay has queued; every frame goes out whole, because
 * ops.write takes everything or fails the session. */
static int flush(bosun_ws *ws)
{
    if (ws->failed)
        return -1;
    wslay_event_context_ptr ctx = ws->held->ctx;
    if (wslay_event_want_write(ctx) && wslay_event_send(ctx) != 0) {
        ws->failed = true;
        return -1;
    }
    return 0;
}

/* The code and reason of a session that ended by our refusal. */
static void ended_ours(bosun_ws *ws)
{
    ws->ended_ours = true;
    ws->code = wslay_event_get_status_code_sent(ws->held->ctx);
    if (ws->code == BOSUN_WS_NO_STATUS || ws->code == BOSUN_WS_ABNORMAL) {
        ws->code = BOSUN_WS_PROTOCOL_ERROR; /* wslay's bare close for a bad frame */
        set_reason(ws, "protocol error", 14);
    } else if (!ws->refused && ws->code == BOSUN_WS_TOO_BIG) {
        set_reason(ws, "message too big", 15);
    } else if (!ws->refused && ws->code == BOSUN_WS_INVALID_DATA) {
        set_reason(ws, "invalid UTF-8", 13);
    }
}

/* Tells the owner, once, that the peer (or the transport) ended it. */
static void check_ended(bosun_ws *ws)
{
    if (ws->notified || ws->owner_closed)
        return;
    wslay_event_context_ptr ctx = ws->held ? ws->held->ctx : NULL;
    bool received = ctx && wslay_event_get_close_received(ctx);
    bool sent = ctx && wslay_event_get_close_sent(ctx);
    /* Our refusal first: a peer's close in the same read came after it. */
    if (ws->refused || (!received && !hidden_peer_code(ws) && sent)) {
        ended_ours(ws);
    } else if (received) {
        ws->code = wslay_event_get_status_code_received(ctx);
    } else if (hidden_peer_code(ws)) {
        ws->code = hidden_peer_code(ws);
        set_reason(ws, ws->held->peer_close + 2, ws->held->peer_close_len - 2u);
    } else if (ws->failed) {
        ws->code = BOSUN_WS_ABNORMAL;
        set_reason(ws, "transport failed", 16);
    } else {
        return;
    }
    ws->notified = true;
    if (ws->ops.on_close)
        ws->ops.on_close(ws->arg, ws->code, ws->held ? ws->held->reason : "out of memory");
}

int bosun_ws_feed(bosun_ws *ws, const void *data, size_t len)
{
    if (!ws)
        return -1;
    /* After our own close, wslay still reads the peer's answer to it. */
    bool reads = !ws->held || wslay_event_get_read_enabled(ws->held->ctx);
    if (!ws->failed && !ws->refused && reads && len && ws_enter(ws)) {
        wslay_event_context_ptr ctx = ws->held->ctx;
        ws->in = data;
        ws->in_len = len;
        int r = wslay_event_recv(ctx);
        ws->in = NULL;
        ws->in_len = 0;
        /* A frame wslay could not parse gets a bare close queued and
         * CALLBACK_FAILURE; NOMEM ends it without one. */
        if (r == WSLAY_ERR_NOMEM)
            ws->failed = true;
        else if (r != 0)
            ws->refused = true;
        flush(ws);
        ws->depth--;
    }
    check_ended(ws);
    ws_release(ws);
    return bosun_ws_is_open(ws) ? 0 : -1;
}

static int send_msg(bosun_ws *ws, uint8_t opcode, const void *data, size_t len)
{
    if (!bosun_ws_is_open(ws) || !ws_enter(ws))
        return -1;
    struct wslay_event_msg m = {.opcode = opcode, .msg = data, .msg_length = len};
    int r = wslay_event_queue_msg(ws->held->ctx, &m) != 0 ? -1 : flush(ws);
    ws_leave(ws);
    return r;
}

int bosun_ws_send_text(bosun_ws *ws, const char *text, size_t len)
{
    return send_msg(ws, WSLAY_TEXT_FRAME, text, len);
}

int bosun_ws_send_binary(bosun_ws *ws, const void *data, size_t len)
{
    return send_msg(ws, WSLAY_BINARY_FRAME, data, len);
}

int bosun_ws_ping(bosun_ws *ws, const void *data, size_t len)
{
    if (len > 125)
        return -1;
    return send_msg(ws, WSLAY_PING, data, len);
}

/* An unmasked final text frame's header (RFC 6455 5.2); returns its size. */
static size_t text_header(uint8_t h[10], size_t len)
{
    h[0] = 0x80 | WSLAY_TEXT_FRAME;
    if (len < 126) {
        h[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xffff) {
        h[1] = 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

/* The client role masks, so the pieces are joined and go through wslay. */
static int send_joined(bosun_ws *ws, const bosun_ws_piece *pieces, size_t n, size_t total)
{
    char *buf = malloc(total ? total : 1);
    if (!buf)
        return -1;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if (pieces[i].len)
            memcpy(buf + off, pieces[i].data, pieces[i].len);
        off += pieces[i].len;
    }
    int r = send_msg(ws, WSLAY_TEXT_FRAME, buf, total);
    free(buf);
    return r;
}

int bosun_ws_send_textv(bosun_ws *ws, const bosun_ws_piece *pieces, size_t n)
{
    if (!bosun_ws_is_open(ws) || (n && !pieces))
        return -1;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (pieces[i].len > SIZE_MAX - total)
            return -1;
        total += pieces[i].len;
    }
    /* wslay writes each frame whole (see flush), so with nothing queued
     * there no frame of its can be cut by ours. */
    if (ws->role == BOSUN_WS_CLIENT || (ws->held && wslay_event_want_write(ws->held->ctx)))
        return send_joined(ws, pieces, n, total);
    uint8_t h[10];
    size_t hl = text_header(h, total);
    if (!ws->ops.write(ws->arg, h, hl)) {
        ws->failed = true;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (pieces[i].len && !ws->ops.write(ws->arg, pieces[i].data, pieces[i].len)) {
            ws->failed = true;
            return -1;
        }
    }
    return 0;
}

bool bosun_ws_code_sendable(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

int bosun_ws_close(bosun_ws *ws, unsigned code, const char *reason)
{
    if (!bosun_ws_is_open(ws) || !bosun_ws_code_sendable(code))
        return -1;
    size_t len = reason ? strlen(reason) : 0;
    if (len > BOSUN_WS_REASON_MAX) {
        len = BOSUN_WS_REASON_MAX;
        while (len && ((unsigned char)reason[len] & 0xc0) == 0x80)
            len--; /* do not cut a UTF-8 sequence */
    }
    ws->owner_closed = true;
    ws->code = code;
    if (!ws_enter(ws))
        return -1;
    set_reason(ws, reason ? reason : "", len);
    int r =
        wslay_event_queue_close(ws->held->ctx, (uint16_t)code, (const uint8_t *)reason, len) != 0
            ? -1
            : flush(ws);
    ws_leave(ws);
    return r;
}

/* ------------------------------------------------------------ handshake */

/* Whether a comma-separated header value lists token (case-insensitive). */
static bool lists_token(const char *value, const char *token)
{
    size_t tl = strlen(token);
    const char *p = value;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        if ((size_t)(last - p) == tl && strncasecmp(p, token, tl) == 0)
            return true;
        p = end;
    }
    return false;
}

/* A Sec-WebSocket-Key must be 16 bytes in base64: 22 characters and "==". */
static bool key_valid(const char *key)
{
    if (!key || strlen(key) != BOSUN_WS_KEY_LEN || strcmp(key + 22, "==") != 0)
        return false;
    unsigned char raw[18];
    return EVP_DecodeBlock(raw, (const unsigned char *)key, BOSUN_WS_KEY_LEN) == 18;
}

int bosun_ws_check_upgrade(const char *method, const char *upgrade, const char *connection,
                           const char *version, const char *key, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!method || strcmp(method, "GET") != 0)
        return *why = "a WebSocket upgrade must be a GET", 400;
    if (!upgrade || !lists_token(upgrade, "websocket"))
        return *why = "not a WebSocket upgrade (Upgrade: websocket)", 400;
    if (!connection || !lists_token(connection, "upgrade"))
        return *why = "not a WebSocket upgrade (Connection: upgrade)", 400;
    if (!version || strcmp(version, "13") != 0)
        return *why = "unsupported WebSocket version (13 only)", 426;
    if (!key_valid(key))
        return *why = "bad Sec-WebSocket-Key", 400;
    *why = NULL;
    return 0;
}

int bosun_ws_accept_key(const char *key, char out[BOSUN_WS_ACCEPT_LEN + 1])
{
    if (!key_valid(key))
        return -1;
    char joined[BOSUN_WS_KEY_LEN + sizeof WS_GUID];
    memcpy(joined, key, BOSUN_WS_KEY_LEN);
    memcpy(joined + BOSUN_WS_KEY_LEN, WS_GUID, sizeof WS_GUID);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(joined, BOSUN_WS_KEY_LEN + sizeof WS_GUID - 1, md, &mdlen, EVP_sha1(), NULL) !=
            1 ||
        mdlen != 20)
        return -1;
    EVP_EncodeBlock((unsigned char *)out, md, 20);
    return 0;
}

int bosun_ws_client_key(char out[BOSUN_WS_KEY_LEN + 1])
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    EVP_EncodeBlock((unsigned char *)out, raw, sizeof raw);
    return 0;
}

bool bosun_ws_check_accept(const char *key, const char *accept)
{
    char want[BOSUN_WS_ACCEPT_LEN + 1];
    if (!accept || strlen(accept) != BOSUN_WS_ACCEPT_LEN || bosun_ws_accept_key(key, want) != 0)
        return false;
    return CRYPTO_memcmp(want, accept, BOSUN_WS_ACCEPT_LEN) == 0;
}
