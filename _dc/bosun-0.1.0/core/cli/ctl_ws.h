/* bosunctl's follower of a remote daemon's stored events over /ws
 * (bosun-http(7)): one connection, one subscription, blocking.
 *
 * The connection is made with libcurl's CONNECT_ONLY, so that TCP, TLS,
 * certificate checks and --cacert are exactly those of the REST calls;
 * the upgrade request (with the Bearer token) and the frames
 * (<bosun/ws.h>) go over it with curl_easy_send/recv.
 *
 * It hands out the control socket's stream messages: {"sub": CTL_WS_SID,
 * "msg": {"subject": "stored.<subject>", "data": <stored event>}}, and
 * {"sub": CTL_WS_SID, "paused": true} when the daemon closed us as a slow
 * consumer (1013): the reader catches up from the store and resumes
 * (ctl_ws_reconnect), and the next read subscribes again after what the
 * reader has. */
#ifndef BOSUN_CTL_WS_H
#define BOSUN_CTL_WS_H

#include <jansson.h>
#include <stddef.h>

#include "ctl_client.h"

#define CTL_WS_SID 1
/* Bytes of the upgrade's answer headers, at most. */
#define CTL_WS_HEADERS_MAX (16 * 1024)
/* Bytes of one message from the daemon (one event), at most. */
#define CTL_WS_MESSAGE_MAX (16 * 1024 * 1024)

struct ctl_http_target;
typedef struct ctl_ws ctl_ws;

/* Connects, upgrades and waits for "ready", all within timeout seconds.
 * pattern: the events to follow (bus wildcards); machine: the daemon's
 * machine id, the machine of events whose data names none (or NULL).
 * NULL with err and *failure (CTL_FAIL_DENIED when the token is
 * refused). */
ctl_ws *ctl_ws_open(const struct ctl_http_target *t, const char *pattern, const char *machine,
                    double timeout, enum ctl_failure *failure, char *err, size_t err_size);
/* The same again after a pause: a new connection, subscribed at the next
 * ctl_ws_next.  0 or -1. */
int ctl_ws_reconnect(ctl_ws *w, double timeout, enum ctl_failure *failure, char *err,
                     size_t err_size);
/* The next stream message (see above); subscribes first, with "since" =
 * after, when not subscribed.  NULL at the end, on error (err), on a
 * signal, or after timeout (< 0: none) with *timed_out. */
json_t *ctl_ws_next(ctl_ws *w, json_int_t after, double timeout, int *timed_out,
                    enum ctl_failure *failure, char *err, size_t err_size);
void ctl_ws_free(ctl_ws *w);

/* One bus request over /ws ("req"), for what the REST API has no route
 * for: the reply's data, an {"error"} the daemon answered with, or NULL
 * with err when it could not be asked. */
json_t *ctl_ws_request(const struct ctl_http_target *t, const char *subject, json_t *data,
                       double timeout, enum ctl_failure *failure, char *err, size_t err_size);

#endif
