/* The server's answer to bosunctl's /ws upgrade request (RFC 6455 4.1),
 * judged without any I/O so that it can be fuzzed on its own
 * (tests/fuzz/fuzz_ctl_upgrade.c): where the header block ends, the
 * status, and the headers a client must check. */
#ifndef BOSUN_CTL_WS_ANSWER_H
#define BOSUN_CTL_WS_ANSWER_H

#include <stddef.h>

enum ctl_ws_verdict {
    CTL_WS_UPGRADED,      /* 101 with Upgrade, Connection and the right Sec-WebSocket-Accept */
    CTL_WS_NOT_HTTP,      /* no "HTTP/1.x NNN" status line, or a NUL byte in the headers */
    CTL_WS_DENIED,        /* 401 or 403: the token was refused */
    CTL_WS_REFUSED,       /* another status */
    CTL_WS_BAD_HANDSHAKE, /* 101 without the headers that make it ours */
};

/* The length of the header block at the start of buf[0..len), blank line
 * included; 0 while it is not all there. */
size_t ctl_ws_answer_end(const char *buf, size_t len);

/* Judges a header block (head_len bytes, as ctl_ws_answer_end measured,
 * any bytes) answering a request made with key; the status line's code in
 * *status (0 when there is none). */
enum ctl_ws_verdict ctl_ws_answer_judge(const char *head, size_t head_len, const char *key,
                                        int *status);

/* The value of header name (case-insensitive, without the colon) in a
 * NUL-terminated header block, without surrounding blanks, into out: 0,
 * or -1 when it is absent or does not fit in size bytes with its NUL.
 * The first such header counts. */
int ctl_ws_header_value(const char *head, const char *name, char *out, size_t size);

#endif
