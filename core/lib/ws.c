/* bosun — a WebSocket session over wslay's event API, with no I/O of its
 * own (see include/bosun/ws.h). */
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

struct bosun_ws {
    wslay_event_context_ptr ctx;
    bosun_ws_ops ops;
    void *arg;
    enum bosun_ws_role role;
    size_t frame_max;
    const uint8_t *in; /* what bosun_ws_feed was given, not yet taken by wslay */
    size_t in_len;
    bool failed;       /* ops.write refused bytes, or wslay gave up */
    bool refused;      /* we queued a close for the peer's fault: ignore the rest */
    bool owner_closed; /* bosun_ws_close was called */
    bool notified;     /* on_close ran */
    unsigned code;
    char reason[BOSUN_WS_REASON_MAX + 1];
    /* The peer's close frame as received: wslay 1.1 takes codes above 1011
     * (1013 "try again later") for protocol errors and hides them. */
    bool in_close, peer_close_done;
    unsigned char peer_close[125];
    size_t peer_close_len;
};

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
    if (len > BOSUN_WS_REASON_MAX)
        len = BOSUN_WS_REASON_MAX;
    memcpy(ws->reason, text, len);
    ws->reason[len] = '\0';
}

/* The peer broke a rule: close with code and read nothing more.  The close
 * frame is written by the flush after wslay_event_recv returns. */
static void refuse(bosun_ws *ws, unsigned code, const char *reason)
{
    if (ws->refused)
        return;
    ws->refused = true;
    set_reason(ws, reason, strlen(reason));
    wslay_event_queue_close(ws->ctx, (uint16_t)code, (const uint8_t *)reason, strlen(reason));
    wslay_event_shutdown_read(ws->ctx);
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
    ws->in_close = arg->opcode == WSLAY_CONNECTION_CLOSE;
    if (ws->in_close)
        ws->peer_close_len = 0;
}

static void frame_chunk_cb(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_chunk_arg *arg, void *user)
{
    (void)ctx;
    bosun_ws *ws = user;
    size_t room = sizeof ws->peer_close - ws->peer_close_len;
    if (!ws->in_close || arg->data_length > room)
        return; /* control frames are at most 125 bytes (wslay checks) */
    memcpy(ws->peer_close + ws->peer_close_len, arg->data, arg->data_length);
    ws->peer_close_len += arg->data_length;
}

static void frame_end_cb(wslay_event_context_ptr ctx, void *user)
{
    (void)ctx;
    bosun_ws *ws = user;
    ws->peer_close_done = ws->in_close;
}

/* A close code of the IANA registry's 1012-1014 that wslay refused (and
 * answered with 1002). */
static unsigned hidden_peer_code(const bosun_ws *ws)
{
    if (!ws->peer_close_done || ws->peer_close_len < 2 || !wslay_event_get_close_sent(ws->ctx))
        return 0;
    unsigned code = (unsigned)ws->peer_close[0] << 8 | ws->peer_close[1];
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
    ws->role = role;
    size_t message_max = limits && limits->message_max ? limits->message_max : BOSUN_WS_MESSAGE_DEF;
    ws->frame_max = limits && limits->frame_max && limits->frame_max < message_max
                        ? limits->frame_max
                        : message_max;
    const struct wslay_event_callbacks cbs = {
        .recv_callback = recv_cb,
        .send_callback = send_cb,
        .genmask_callback = genmask_cb,
        .on_frame_recv_start_callback = frame_start_cb,
        .on_frame_recv_chunk_callback = frame_chunk_cb,
        .on_frame_recv_end_callback = frame_end_cb,
        .on_msg_recv_callback = msg_cb,
    };
    int r = role == BOSUN_WS_SERVER ? wslay_event_context_server_init(&ws->ctx, &cbs, ws)
                                    : wslay_event_context_client_init(&ws->ctx, &cbs, ws);
    if (r != 0) {
        free(ws);
        errno = ENOMEM;
        return NULL;
    }
    wslay_event_config_set_max_recv_msg_length(ws->ctx, message_max);
    return ws;
}

void bosun_ws_free(bosun_ws *ws)
{
    if (!ws)
        return;
    wslay_event_context_free(ws->ctx);
    free(ws);
}

bool bosun_ws_is_open(const bosun_ws *ws)
{
    return ws && !ws->failed && !ws->refused && !ws->owner_closed &&
           !wslay_event_get_close_received(ws->ctx) && !wslay_event_get_close_sent(ws->ctx);
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
    if (wslay_event_want_write(ws->ctx) && wslay_event_send(ws->ctx) != 0) {
        ws->failed = true;
        return -1;
    }
    return 0;
}

/* Tells the owner, once, that the peer (or the transport) ended it. */
static void check_ended(bosun_ws *ws)
{
    if (ws->notified || ws->owner_closed)
        return;
    /* Our refusal first: a peer's close in the same read came after it. */
    bool ours = ws->refused || (!wslay_event_get_close_received(ws->ctx) && !hidden_peer_code(ws) &&
                                wslay_event_get_close_sent(ws->ctx));
    if (ours) {
        ws->code = wslay_event_get_status_code_sent(ws->ctx);
        if (ws->code == BOSUN_WS_NO_STATUS || ws->code == BOSUN_WS_ABNORMAL) {
            ws->code = BOSUN_WS_PROTOCOL_ERROR; /* wslay's bare close for a bad frame */
            set_reason(ws, "protocol error", 14);
        } else if (!ws->refused && ws->code == BOSUN_WS_TOO_BIG) {
            set_reason(ws, "message too big", 15);
        } else if (!ws->refused && ws->code == BOSUN_WS_INVALID_DATA) {
            set_reason(ws, "invalid UTF-8", 13);
        }
    } else if (wslay_event_get_close_received(ws->ctx)) {
        ws->code = wslay_event_get_status_code_received(ws->ctx);
    } else if (hidden_peer_code(ws)) {
        ws->code = hidden_peer_code(ws);
        set_reason(ws, ws->peer_close + 2, ws->peer_close_len - 2);
    } else if (ws->failed) {
        ws->code = BOSUN_WS_ABNORMAL;
        set_reason(ws, "transport failed", 16);
    } else {
        return;
    }
    ws->notified = true;
    if (ws->ops.on_close)
        ws->ops.on_close(ws->arg, ws->code, ws->reason);
}

int bosun_ws_feed(bosun_ws *ws, const void *data, size_t len)
{
    if (!ws)
        return -1;
    if (!ws->failed && !ws->refused && wslay_event_get_read_enabled(ws->ctx) && len) {
        ws->in = data;
        ws->in_len = len;
        int r = wslay_event_recv(ws->ctx);
        ws->in = NULL;
        ws->in_len = 0;
        /* A frame wslay could not parse gets a bare close queued and
         * CALLBACK_FAILURE; NOMEM ends it without one. */
        if (r == WSLAY_ERR_NOMEM)
            ws->failed = true;
        else if (r != 0)
            ws->refused = true;
        flush(ws);
    }
    check_ended(ws);
    return bosun_ws_is_open(ws) ? 0 : -1;
}

static int send_msg(bosun_ws *ws, uint8_t opcode, const void *data, size_t len)
{
    if (!bosun_ws_is_open(ws))
        return -1;
    struct wslay_event_msg m = {.opcode = opcode, .msg = data, .msg_length = len};
    if (wslay_event_queue_msg(ws->ctx, &m) != 0)
        return -1;
    return flush(ws);
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
    if (ws->role == BOSUN_WS_CLIENT || wslay_event_want_write(ws->ctx))
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

int bosun_ws_close(bosun_ws *ws, unsigned code, const char *reason)
{
    if (!bosun_ws_is_open(ws) || code < 1000 || code > 4999)
        return -1;
    size_t len = reason ? strlen(reason) : 0;
    if (len > BOSUN_WS_REASON_MAX) {
        len = BOSUN_WS_REASON_MAX;
        while (len && ((unsigned char)reason[len] & 0xc0) == 0x80)
            len--; /* do not cut a UTF-8 sequence */
    }
    ws->owner_closed = true;
    ws->code = code;
    set_reason(ws, reason ? reason : "", len);
    if (wslay_event_queue_close(ws->ctx, (uint16_t)code, (const uint8_t *)reason, len) != 0)
        return -1;
    return flush(ws);
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
