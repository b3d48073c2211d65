/* bosun — a WebSocket session (RFC 6455) that does no I/O of its own.
 *
 * The same code serves both ends: the http plugin's /ws endpoint (server
 * role), bosunctl's --url client and the fleet uplink (client role).  The
 * owner moves the bytes: it feeds what it read from the socket to
 * bosun_ws_feed() and gets the bytes to write through ops.write, in order,
 * as they are produced (frames it sent, pongs answering pings, the close
 * handshake).  Complete messages come back through ops.on_text and
 * ops.on_binary.  Framing, masking (client role, random masks from
 * OpenSSL), UTF-8 checks of text, ping/pong and close are wslay's
 * (Debian libwslay); this wrapper adds bounds and a small interface.
 *
 * Bounds: a frame whose payload passes limits.frame_max, or a message
 * whose reassembled size passes limits.message_max, closes the session
 * with 1009 before its payload is buffered; binary messages are refused
 * with 1003 when ops.on_binary is NULL.  Invalid frames close with 1002,
 * invalid UTF-8 with 1007.  What the session holds is at most one message
 * being received; what it sends goes to ops.write at once, so the owner's
 * send queue is the only one, and the owner bounds it.
 *
 * Memory: wslay's context (about 8.6 KiB: two fixed 4 KiB buffers) is
 * held only while the session is busy: from bytes arriving or a message
 * being sent until the peer's stream is between frames and messages again
 * and nothing waits to be written.  An idle open session is 120 bytes.
 * A closing session keeps its context until it is freed.
 *
 * Not thread-safe.  Callbacks may send, ping and close, but must not free
 * the session (free it after bosun_ws_feed returns).
 *
 * Handshake helpers: bosun_ws_check_upgrade() validates a server's
 * upgrade request, bosun_ws_accept_key() computes Sec-WebSocket-Accept
 * (SHA-1 and base64 through OpenSSL), bosun_ws_client_key() makes a
 * client's Sec-WebSocket-Key and bosun_ws_check_accept() checks the
 * server's answer to it.
 */
#ifndef BOSUN_WS_H
#define BOSUN_WS_H

#include <bosun/api.h>

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Close codes used by bosun (RFC 6455 7.4.1; 1013 from the IANA registry). */
enum bosun_ws_code {
    BOSUN_WS_NORMAL = 1000,
    BOSUN_WS_GOING_AWAY = 1001,
    BOSUN_WS_PROTOCOL_ERROR = 1002,
    BOSUN_WS_UNSUPPORTED_DATA = 1003,
    BOSUN_WS_NO_STATUS = 1005, /* the peer's close frame had no code */
    BOSUN_WS_ABNORMAL = 1006,  /* never on the wire: the transport failed */
    BOSUN_WS_INVALID_DATA = 1007,
    BOSUN_WS_POLICY = 1008,
    BOSUN_WS_TOO_BIG = 1009,
    BOSUN_WS_INTERNAL = 1011,
    BOSUN_WS_TRY_AGAIN = 1013, /* bosun: "slow consumer" */
};

enum bosun_ws_role {
    BOSUN_WS_SERVER = 0, /* expects masked frames, sends unmasked ones */
    BOSUN_WS_CLIENT = 1, /* the reverse */
};

#define BOSUN_WS_KEY_LEN     24  /* base64 of 16 random bytes */
#define BOSUN_WS_ACCEPT_LEN  28  /* base64 of a SHA-1 */
#define BOSUN_WS_REASON_MAX  123 /* bytes of a close reason */
#define BOSUN_WS_MESSAGE_DEF (1024 * 1024)

typedef struct bosun_ws bosun_ws;

typedef struct bosun_ws_limits {
    size_t frame_max;   /* one frame's payload; 0 or above message_max: message_max */
    size_t message_max; /* one reassembled message; 0: BOSUN_WS_MESSAGE_DEF */
} bosun_ws_limits;

typedef struct bosun_ws_ops {
    /* Bytes for the peer, in order.  false when the owner cannot take them
     * (its queue is full, the socket failed): the session fails, and every
     * later call returns -1.  Required. */
    bool (*write)(void *arg, const void *data, size_t len);
    /* A complete text message, valid UTF-8 (not NUL-terminated). */
    void (*on_text)(void *arg, const char *text, size_t len);
    /* A complete binary message; NULL refuses them with 1003. */
    void (*on_binary)(void *arg, const void *data, size_t len);
    /* A pong (answering bosun_ws_ping or unsolicited); may be NULL. */
    void (*on_pong)(void *arg, const void *data, size_t len);
    /* Runs once when the session ends other than by the owner's own
     * bosun_ws_close: the peer's close (its code, BOSUN_WS_NO_STATUS when it
     * gave none, and reason), or an error of the peer's (the code sent to
     * it: 1002, 1003, 1007, 1009) or of the transport (1006).  The close
     * frame, if any, has been written; the owner closes the transport once
     * it is out.  May be NULL. */
    void (*on_close)(void *arg, unsigned code, const char *reason);
} bosun_ws_ops;

/* ops is copied; NULL with errno EINVAL without ops->write, ENOMEM on
 * memory failure. */
BOSUN_API bosun_ws *bosun_ws_new(enum bosun_ws_role role, const bosun_ws_limits *limits,
                                 const bosun_ws_ops *ops, void *arg);
BOSUN_API void bosun_ws_free(bosun_ws *ws);

/* Feeds bytes read from the peer; runs the callbacks for what they
 * complete.  0 while the session stays open, -1 once it is closing, closed
 * or failed (bytes after the close are ignored). */
BOSUN_API int bosun_ws_feed(bosun_ws *ws, const void *data, size_t len);

/* Send one message (text must be valid UTF-8: not checked here).  0, or -1
 * when the session is not open or ops.write refused the bytes. */
BOSUN_API int bosun_ws_send_text(bosun_ws *ws, const char *text, size_t len);
BOSUN_API int bosun_ws_send_binary(bosun_ws *ws, const void *data, size_t len);
/* A text message made of n pieces, for fan-out: the server role writes the
 * frame header and the pieces without copying them together. */
typedef struct bosun_ws_piece {
    const void *data;
    size_t len;
} bosun_ws_piece;
BOSUN_API int bosun_ws_send_textv(bosun_ws *ws, const bosun_ws_piece *pieces, size_t n);
/* A ping with up to 125 bytes of payload (the pong echoes it). */
BOSUN_API int bosun_ws_ping(bosun_ws *ws, const void *data, size_t len);
/* Whether the session ended by our refusal of something the peer sent (a
 * bad frame, a close code that may not be sent, a message too big): then
 * on_close's code and reason are the ones we sent, not the peer's. */
BOSUN_API bool bosun_ws_ended_by_us(const bosun_ws *ws);
/* Whether code may be sent in a close frame (RFC 6455 7.4): 1000-1003,
 * 1007-1014 (1012-1014 from the IANA registry) and 3000-4999.  1004 and
 * 1016-2999 are reserved; 1005, 1006 and 1015 only ever describe a close
 * locally and must never be on the wire. */
BOSUN_API bool bosun_ws_code_sendable(unsigned code);
/* Starts the close handshake with code (bosun_ws_code_sendable) and a
 * reason (cut to BOSUN_WS_REASON_MAX bytes on a character boundary; may be
 * NULL).  Nothing may be sent after it.  -1 when already closing or when
 * code may not be sent (the session then stays open). */
BOSUN_API int bosun_ws_close(bosun_ws *ws, unsigned code, const char *reason);

/* Whether messages may still be sent (no close sent or received, no
 * failure). */
BOSUN_API bool bosun_ws_is_open(const bosun_ws *ws);
/* Whether the session holds wslay's context now: inside a frame or a
 * fragmented message of the peer's, or closing (for tests and memory
 * accounting). */
BOSUN_API bool bosun_ws_busy(const bosun_ws *ws);
/* The close code sent or received, 0 while open. */
BOSUN_API unsigned bosun_ws_close_code(const bosun_ws *ws);

/* Validates a server's upgrade request: method GET, "Upgrade: websocket",
 * a Connection header listing "upgrade", Sec-WebSocket-Version 13 and a
 * Sec-WebSocket-Key of 16 bytes in base64 (header values as received, NULL
 * when absent).  0, or the HTTP status to answer: 400 (with *why, a static
 * text), or 426 for another version (answer "Sec-WebSocket-Version: 13"). */
BOSUN_API int bosun_ws_check_upgrade(const char *method, const char *upgrade,
                                     const char *connection, const char *version, const char *key,
                                     const char **why);
/* Sec-WebSocket-Accept for a valid key into out (NUL-terminated): 0, or -1
 * for a key that is not 16 bytes in base64. */
BOSUN_API int bosun_ws_accept_key(const char *key, char out[BOSUN_WS_ACCEPT_LEN + 1]);
/* A fresh random Sec-WebSocket-Key: 0, or -1 when no randomness. */
BOSUN_API int bosun_ws_client_key(char out[BOSUN_WS_KEY_LEN + 1]);
/* Whether the server's Sec-WebSocket-Accept answers our key (constant
 * time; false for NULL). */
BOSUN_API bool bosun_ws_check_accept(const char *key, const char *accept);

#ifdef __cplusplus
}
#endif
#endif
