/* bosunctl's connection to a daemon: blocking, one connection.
 *
 * A ctl_conn speaks the control socket's protocol whatever carries it:
 * requests {"op": ...} answered by {"id", "ok", "result" | "error"}, and
 * stream messages {"sub": SID, "msg": {...}} or {"sub": SID, "paused":
 * true} for subscriptions.  The control socket (this file's ctl_connect)
 * carries it as it is; the HTTP transport (ctl_http.h) translates it to the
 * REST API and /ws.  So the commands, and how they print, are the same over
 * both: only the transport differs. */
#ifndef BOSUN_CTL_CLIENT_H
#define BOSUN_CTL_CLIENT_H

#include <jansson.h>

#include "ctl_wire.h"

typedef struct ctl_conn ctl_conn;

/* Why the last call or read that returned NULL failed; decides the exit
 * code (sysexits: unavailable 69, no permission 77). */
enum ctl_failure {
    CTL_FAIL_UNAVAILABLE = 0, /* unreachable, broken, timed out */
    CTL_FAIL_DENIED,          /* the daemon refused our credentials */
};

/* A transport.  call and read behave as ctl_call and ctl_read_after. */
typedef struct ctl_conn_ops {
    const char *name; /* "control socket", "HTTP" */
    json_t *(*call)(ctl_conn *c, json_t *req, double timeout, char *err, size_t err_size);
    json_t *(*read)(ctl_conn *c, json_int_t after, double timeout, int *timed_out, char *err,
                    size_t err_size);
    void (*close)(ctl_conn *c);
} ctl_conn_ops;

/* The head of every transport's connection. */
struct ctl_conn {
    const ctl_conn_ops *ops;
    enum ctl_failure failure;
};

enum ctl_connect_error {
    CTL_CONNECT_OK = 0,
    CTL_CONNECT_NOT_RUNNING, /* no socket, or nobody listening */
    CTL_CONNECT_DENIED,      /* permissions */
    CTL_CONNECT_OTHER,
};

/* ---- any transport */

/* Sends req (borrowed) with a fresh "id" and returns the response object
 * with that id; stream messages that arrive meanwhile are kept for
 * ctl_read, in order.  NULL on a broken connection (err filled,
 * c->failure set).  timeout < 0 waits forever. */
json_t *ctl_call(ctl_conn *c, json_t *req, double timeout, char *err, size_t err_size);

/* Reads the next stream message.  Returns NULL at end of stream, on error
 * or after timeout seconds (timeout < 0: wait forever); *timed_out tells
 * which. */
json_t *ctl_read(ctl_conn *c, double timeout, int *timed_out, char *err, size_t err_size);
/* ctl_read for a reader that already has every stored event up to seq
 * `after` of its subscriptions (-1: unknown): a transport that subscribes
 * late, with a "since" (HTTP's /ws), starts there. */
json_t *ctl_read_after(ctl_conn *c, json_int_t after, double timeout, int *timed_out, char *err,
                       size_t err_size);
void ctl_close(ctl_conn *c);

/* ---- the control socket */

/* Connects to the control socket at path.  On failure returns NULL, sets
 * *why and writes a readable reason into err. */
ctl_conn *ctl_connect(const char *path, enum ctl_connect_error *why, char *err, size_t err_size);
/* Whether c is a control socket connection: the functions below need one
 * (bosunctl mcp). */
int ctl_is_socket(const ctl_conn *c);

/* The socket, for a caller that relays raw lines (bosunctl mcp). */
int ctl_fd(const ctl_conn *c);
/* Bytes already read from the socket but not yet taken as lines (those
 * that followed a response, say): a caller that goes on to read the socket
 * itself handles these first, then drops them with ctl_consume. */
const char *ctl_buffered(const ctl_conn *c, size_t *len);
/* Drops the first n (at most the buffered length) of those bytes. */
void ctl_consume(ctl_conn *c, size_t n);
/* ctl_call that also passes nfds (at most CTL_MAX_FDS) open file
 * descriptors with the request (SCM_RIGHTS); the daemon gets copies. */
json_t *ctl_call_fds(ctl_conn *c, json_t *req, const int *fds, int nfds, double timeout, char *err,
                     size_t err_size);
/* Sends one JSON line (msg borrowed) without waiting; 0 or -1 (errno). */
int ctl_send(ctl_conn *c, json_t *msg);

#endif
