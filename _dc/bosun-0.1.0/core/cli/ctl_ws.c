/* bosunctl's /ws follower (see ctl_ws.h). */
#include "config.h"

#include "ctl_http.h"
#include "ctl_ws.h"
#include "ctl_ws_answer.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/json.h>
#include <bosun/store.h>
#include <bosun/ws.h>

/* Bytes asked of the socket at a time. */
#define WS_READ_CHUNK 65536
/* Seconds a goodbye (our close frame) may take. */
#define WS_CLOSE_GRACE 1.0

struct ctl_ws {
    const ctl_http_target *t; /* the transport's, outlives us */
    char *pattern;
    char *machine; /* the daemon's machine id: events' machine when data has none */
    CURL *curl;    /* the connection (CONNECT_ONLY) */
    curl_socket_t fd;
    bosun_ws *ws;
    char *out; /* bytes the session produced, not yet sent */
    size_t out_len, out_cap;
    json_t *frames; /* text messages received, not yet handed out */
    size_t head;
    int closed; /* the session ended: close_code says how */
    unsigned close_code;
    char close_reason[BOSUN_WS_REASON_MAX + 1];
    int subscribed;
    int bad; /* the daemon sent something that is not a JSON object */
};

/* ------------------------------------------------------------ bytes */

/* 1 when fd is ready for ev, 0 at the deadline (< 0: none), -1 on a
 * signal or a poll error. */
static int wait_fd(const ctl_ws *w, short ev, double deadline)
{
    int ms = -1;
    if (deadline >= 0) {
        double left = deadline - bosun_monotonic();
        if (left <= 0)
            return 0;
        ms = (int)(left * 1000) + 1;
    }
    struct pollfd p = {.fd = w->fd, .events = ev};
    int r = poll(&p, 1, ms);
    return r < 0 ? -1 : r > 0;
}

static double deadline_of(double timeout)
{
    return timeout >= 0 ? bosun_monotonic() + timeout : -1;
}

static int send_all(ctl_ws *w, const char *p, size_t n, double deadline, char *err, size_t err_size)
{
    while (n > 0) {
        size_t sent = 0;
        CURLcode rc = curl_easy_send(w->curl, p, n, &sent);
        if (rc == CURLE_AGAIN) {
            int r = wait_fd(w, POLLOUT, deadline);
            if (r <= 0) {
                snprintf(err, err_size, "cannot send to bosund at %s: %s", w->t->base,
                         r == 0 ? "timed out" : "interrupted");
                return -1;
            }
            continue;
        }
        if (rc != CURLE_OK) {
            snprintf(err, err_size, "cannot send to bosund at %s: %s", w->t->base,
                     curl_easy_strerror(rc));
            return -1;
        }
        p += sent;
        n -= sent;
    }
    return 0;
}

static int flush_out(ctl_ws *w, double deadline, char *err, size_t err_size)
{
    int rc = send_all(w, w->out, w->out_len, deadline, err, err_size);
    w->out_len = 0;
    return rc;
}

/* Bytes read (> 0), 0 at the end of the stream, -1 on error (err), -2 at
 * the deadline, -3 on a signal. */
static ssize_t recv_some(ctl_ws *w, char *buf, size_t cap, double deadline, char *err,
                         size_t err_size)
{
    for (;;) {
        size_t got = 0;
        CURLcode rc = curl_easy_recv(w->curl, buf, cap, &got);
        if (rc == CURLE_OK)
            return (ssize_t)got;
        if (rc != CURLE_AGAIN) {
            snprintf(err, err_size, "the connection to bosund at %s broke: %s", w->t->base,
                     curl_easy_strerror(rc));
            return -1;
        }
        int r = wait_fd(w, POLLIN, deadline);
        if (r == 0)
            return -2;
        if (r < 0)
            return -3;
    }
}

/* ------------------------------------------------------------ the session */

static bool on_write(void *arg, const void *data, size_t len)
{
    ctl_ws *w = arg;
    if (w->out_len + len > w->out_cap) {
        w->out_cap = (w->out_len + len) * 2;
        w->out = xrealloc(w->out, w->out_cap);
    }
    memcpy(w->out + w->out_len, data, len);
    w->out_len += len;
    return true;
}

static void on_text(void *arg, const char *text, size_t len)
{
    ctl_ws *w = arg;
    json_t *v = bosun_json_parse(text, len, BOSUN_JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(v))
        json_array_append_new(w->frames, v);
    else {
        json_decref(v);
        w->bad = 1;
    }
}

static void on_close(void *arg, unsigned code, const char *reason)
{
    ctl_ws *w = arg;
    w->closed = 1;
    w->close_code = code;
    snprintf(w->close_reason, sizeof w->close_reason, "%s", reason ? reason : "");
}

static const bosun_ws_ops session_ops = {
    .write = on_write, .on_text = on_text, .on_close = on_close};

/* Feeds what was read; whatever the session answers (pongs, a close) is
 * sent at once. */
static int feed(ctl_ws *w, const char *data, size_t len, double deadline, char *err,
                size_t err_size)
{
    if (bosun_ws_feed(w->ws, data, len) != 0 && !w->closed) {
        w->closed = 1;
        w->close_code = bosun_ws_close_code(w->ws);
    }
    return w->out_len ? flush_out(w, deadline, err, err_size) : 0;
}

static int send_json(ctl_ws *w, json_t *msg, double deadline, char *err, size_t err_size)
{
    size_t len;
    char *s = bosun_json_dump(msg, 0, &len);
    json_decref(msg);
    int rc = s && bosun_ws_send_text(w->ws, s, len) == 0 ? 0 : -1;
    free(s);
    if (rc != 0) {
        snprintf(err, err_size, "cannot send to bosund at %s: the connection is closed",
                 w->t->base);
        return -1;
    }
    return flush_out(w, deadline, err, err_size);
}

/* The next frame received, waiting for one until the deadline.  NULL with
 * *why: 0 the session closed, -1 error (err), -2 deadline, -3 signal. */
static json_t *next_frame(ctl_ws *w, double deadline, int *why, char *err, size_t err_size)
{
    char buf[WS_READ_CHUNK];
    for (;;) {
        if (w->head < json_array_size(w->frames)) {
            json_t *f = json_incref(json_array_get(w->frames, w->head++));
            if (w->head == json_array_size(w->frames)) {
                json_array_clear(w->frames);
                w->head = 0;
            }
            return f;
        }
        if (w->bad) {
            snprintf(err, err_size, "bosund at %s sent a /ws frame that is not a JSON object",
                     w->t->base);
            *why = -1;
            return NULL;
        }
        if (w->closed) {
            *why = 0;
            return NULL;
        }
        ssize_t n = recv_some(w, buf, sizeof buf, deadline, err, err_size);
        if (n == 0) {
            on_close(w, BOSUN_WS_ABNORMAL, "the connection ended");
            continue;
        }
        if (n < 0) {
            *why = (int)n;
            return NULL;
        }
        if (feed(w, buf, (size_t)n, deadline, err, err_size) != 0) {
            *why = -1;
            return NULL;
        }
    }
}

/* ------------------------------------------------------------ the upgrade */

/* Reads the answer to the upgrade up to its blank line.  Returns the
 * bytes read, or -1 (err): the header block, *head_len bytes, then what
 * came after it (the first frames, which may hold any byte). */
static ssize_t read_answer(ctl_ws *w, char *head, size_t cap, size_t *head_len, double deadline,
                           char *err, size_t err_size)
{
    size_t len = 0;
    for (;;) {
        *head_len = ctl_ws_answer_end(head, len);
        if (*head_len)
            return (ssize_t)len;
        if (len == cap) {
            snprintf(err, err_size,
                     "bosund at %s: the answer to the /ws upgrade has over %zu bytes of headers",
                     w->t->base, cap);
            return -1;
        }
        ssize_t n = recv_some(w, head + len, cap - len, deadline, err, err_size);
        if (n <= 0) {
            if (n == 0 || n == -2 || n == -3)
                snprintf(err, err_size, "bosund at %s did not answer the /ws upgrade: %s",
                         w->t->base,
                         n == 0    ? "connection closed"
                         : n == -2 ? "timed out"
                                   : "interrupted");
            return -1;
        }
        len += (size_t)n;
    }
}

/* Checks the 101 answer; the reason for another into err. */
static int check_answer(ctl_ws *w, const char *head, size_t head_len, const char *key,
                        enum ctl_failure *failure, char *err, size_t err_size)
{
    int status;
    switch (ctl_ws_answer_judge(head, head_len, key, &status)) {
    case CTL_WS_UPGRADED:
        return 0;
    case CTL_WS_NOT_HTTP:
        snprintf(err, err_size, "bosund at %s answered the /ws upgrade with no HTTP status",
                 w->t->base);
        break;
    case CTL_WS_DENIED:
        *failure = CTL_FAIL_DENIED;
        snprintf(err, err_size, "bosund at %s refused the token for /ws (HTTP %d)", w->t->base,
                 status);
        break;
    case CTL_WS_REFUSED:
        snprintf(err, err_size, "bosund at %s refused the /ws upgrade: HTTP %d", w->t->base,
                 status);
        break;
    case CTL_WS_BAD_HANDSHAKE:
        snprintf(err, err_size,
                 "bosund at %s answered the /ws upgrade without Upgrade: websocket, "
                 "Connection: Upgrade and a valid Sec-WebSocket-Accept",
                 w->t->base);
        break;
    }
    return -1;
}

static int send_upgrade(ctl_ws *w, const char *key, double deadline, char *err, size_t err_size)
{
    char *req = xasprintf("GET %s/ws HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                          "Sec-WebSocket-Version: 13\r\nUser-Agent: bosunctl/" PACKAGE_VERSION
                          "\r\n%s\r\n\r\n",
                          w->t->prefix, w->t->host, w->t->port, key, w->t->auth);
    int rc = send_all(w, req, strlen(req), deadline, err, err_size);
    explicit_bzero(req, strlen(req)); /* it holds the token */
    free(req);
    return rc;
}

static void drop_connection(ctl_ws *w)
{
    bosun_ws_free(w->ws);
    w->ws = NULL;
    if (w->curl)
        curl_easy_cleanup(w->curl);
    w->curl = NULL;
    json_array_clear(w->frames);
    w->head = 0;
    w->out_len = 0;
    w->closed = w->close_code = 0;
    w->close_reason[0] = '\0';
    w->subscribed = w->bad = 0;
}

/* TCP (and TLS) through curl, then the upgrade; leaves the session open
 * with the frames that came with the answer fed. */
static int upgrade(ctl_ws *w, double deadline, enum ctl_failure *failure, char *err,
                   size_t err_size)
{
    w->curl = ctl_http_easy(w->t, deadline >= 0 ? deadline - bosun_monotonic() : 0);
    char *url = xasprintf("%s/", w->t->base);
    curl_easy_setopt(w->curl, CURLOPT_URL, url);
    curl_easy_setopt(w->curl, CURLOPT_CONNECT_ONLY, 1L);
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, detail);
    CURLcode rc = curl_easy_perform(w->curl);
    curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, NULL);
    free(url);
    if (rc != CURLE_OK) {
        ctl_http_describe(w->t, rc, detail, err, err_size);
        return -1;
    }
    curl_easy_getinfo(w->curl, CURLINFO_ACTIVESOCKET, &w->fd);
    char key[BOSUN_WS_KEY_LEN + 1];
    if (bosun_ws_client_key(key) != 0) {
        snprintf(err, err_size, "no random bytes for a WebSocket key");
        return -1;
    }
    if (send_upgrade(w, key, deadline, err, err_size) != 0)
        return -1;
    /* The headers, then what came after them (the first frames). */
    char *head = xmalloc(CTL_WS_HEADERS_MAX);
    size_t head_len = 0;
    ssize_t got = read_answer(w, head, CTL_WS_HEADERS_MAX, &head_len, deadline, err, err_size);
    int ok = got >= 0 && check_answer(w, head, head_len, key, failure, err, err_size) == 0;
    const char *rest = head + head_len;
    size_t rest_len = ok ? (size_t)got - head_len : 0;
    if (ok) {
        bosun_ws_limits lim = {.message_max = CTL_WS_MESSAGE_MAX};
        w->ws = bosun_ws_new(BOSUN_WS_CLIENT, &lim, &session_ops, w);
        if (!w->ws)
            util_oom(sizeof(void *));
        ok = feed(w, rest, rest_len, deadline, err, err_size) == 0;
    }
    free(head);
    return ok ? 0 : -1;
}

static const char *op_of(json_t *f)
{
    return json_string_value(json_object_get(f, "op")) ?: "";
}

/* An error frame's words into err. */
static void frame_error(ctl_ws *w, json_t *f, enum ctl_failure *failure, char *err, size_t err_size)
{
    json_t *e = json_object_get(f, "error");
    const char *code = json_string_value(json_object_get(e, "code")) ?: "error";
    const char *msg = json_string_value(json_object_get(e, "message")) ?: "refused";
    if (strcmp(code, "forbidden") == 0 || strcmp(code, "unauthorized") == 0)
        *failure = CTL_FAIL_DENIED;
    snprintf(err, err_size, "bosund at %s: %s (%s)", w->t->base, msg, code);
}

static void closed_error(ctl_ws *w, enum ctl_failure *failure, char *err, size_t err_size)
{
    if (w->close_code == BOSUN_WS_POLICY)
        *failure = CTL_FAIL_DENIED;
    snprintf(err, err_size, "bosund at %s closed the /ws connection (%u%s%s)", w->t->base,
             w->close_code, w->close_reason[0] ? " " : "", w->close_reason);
}

/* The next frame, or NULL with why it did not come in err: the session
 * closed, the deadline passed (waiting for `what`), a signal, an error. */
static json_t *frame_or_why(ctl_ws *w, double deadline, const char *what, enum ctl_failure *failure,
                            char *err, size_t err_size)
{
    int why = 0;
    json_t *f = next_frame(w, deadline, &why, err, err_size);
    if (!f && why == 0)
        closed_error(w, failure, err, err_size);
    else if (!f && (why == -2 || why == -3))
        snprintf(err, err_size, "bosund at %s: no %s: %s", w->t->base, what,
                 why == -2 ? "timed out" : "interrupted");
    return f;
}

/* Until "ready": the daemon took our credentials. */
static int await_ready(ctl_ws *w, double deadline, enum ctl_failure *failure, char *err,
                       size_t err_size)
{
    for (;;) {
        json_t *f = frame_or_why(w, deadline, "/ws \"ready\"", failure, err, err_size);
        if (!f)
            return -1;
        const char *op = op_of(f);
        int done = strcmp(op, "ready") == 0 ? 1 : strcmp(op, "error") == 0 ? -1 : 0;
        if (done < 0)
            frame_error(w, f, failure, err, err_size);
        json_decref(f);
        if (done)
            return done > 0 ? 0 : -1;
    }
}

static int connect_ready(ctl_ws *w, double timeout, enum ctl_failure *failure, char *err,
                         size_t err_size)
{
    double deadline = deadline_of(timeout);
    if (upgrade(w, deadline, failure, err, err_size) == 0 &&
        await_ready(w, deadline, failure, err, err_size) == 0)
        return 0;
    drop_connection(w);
    return -1;
}

ctl_ws *ctl_ws_open(const ctl_http_target *t, const char *pattern, const char *machine,
                    double timeout, enum ctl_failure *failure, char *err, size_t err_size)
{
    ctl_ws *w = xcalloc(1, sizeof *w);
    w->t = t;
    w->pattern = xstrdup(pattern);
    w->machine = machine ? xstrdup(machine) : NULL;
    w->frames = json_array();
    w->fd = CURL_SOCKET_BAD;
    if (connect_ready(w, timeout, failure, err, err_size) == 0)
        return w;
    ctl_ws_free(w);
    return NULL;
}

int ctl_ws_reconnect(ctl_ws *w, double timeout, enum ctl_failure *failure, char *err,
                     size_t err_size)
{
    drop_connection(w);
    return connect_ready(w, timeout, failure, err, err_size);
}

void ctl_ws_free(ctl_ws *w)
{
    if (!w)
        return;
    if (w->ws && bosun_ws_is_open(w->ws) && bosun_ws_close(w->ws, BOSUN_WS_NORMAL, NULL) == 0) {
        char err[256];
        flush_out(w, deadline_of(WS_CLOSE_GRACE), err, sizeof err); /* a goodbye, at best */
    }
    drop_connection(w);
    json_decref(w->frames);
    free(w->out);
    free(w->pattern);
    free(w->machine);
    free(w);
}

/* ------------------------------------------------------------ following */

/* The column the store reads from data[key] (see <bosun/store.h>), or
 * dflt. */
static json_t *column(json_t *data, const char *key, const char *dflt)
{
    json_t *v = json_object_get(data, key);
    if (json_is_string(v))
        return json_incref(v);
    return dflt ? json_string(dflt) : json_null();
}

/* A "msg" frame as the control socket's stream message: the stored form
 * of the event under "stored.<subject>".  A frame carries seq, subject,
 * time and data; machine, run and task are what the store made of data. */
static json_t *stream_message(const ctl_ws *w, json_t *f)
{
    json_t *data = json_object_get(f, "data");
    json_t *ev = json_object();
    json_object_set(ev, "seq", json_object_get(f, "seq"));
    json_object_set(ev, "time", json_object_get(f, "time"));
    json_object_set(ev, "subject", json_object_get(f, "subject"));
    json_object_set_new(ev, "machine", column(data, "machine", w->machine));
    json_object_set_new(ev, "run", column(data, "run", NULL));
    json_object_set_new(ev, "task", column(data, "task", NULL));
    json_object_set(ev, "data", data);
    char subject[512];
    snprintf(subject, sizeof subject, "%s%s", BOSUN_STORED_PREFIX,
             json_string_value(json_object_get(f, "subject")) ?: "");
    return json_pack("{s:i,s:{s:s,s:o}}", "sub", CTL_WS_SID, "msg", "subject", subject, "data", ev);
}

static int ours(json_t *f)
{
    json_t *sid = json_object_get(f, "sid");
    return (json_is_string(sid) && strcmp(json_string_value(sid), "1") == 0) ||
           (json_is_integer(sid) && json_integer_value(sid) == CTL_WS_SID);
}

static int subscribe(ctl_ws *w, json_int_t after, double deadline, char *err, size_t err_size)
{
    w->subscribed = 1;
    return send_json(w,
                     json_pack("{s:s,s:s,s:s,s:I}", "op", "sub", "sid", "1", "subject", w->pattern,
                               "since", after > 0 ? after : (json_int_t)0),
                     deadline, err, err_size);
}

json_t *ctl_ws_next(ctl_ws *w, json_int_t after, double timeout, int *timed_out,
                    enum ctl_failure *failure, char *err, size_t err_size)
{
    double deadline = deadline_of(timeout);
    *timed_out = 0;
    if (!w->ws) {
        snprintf(err, err_size, "not connected to bosund at %s", w->t->base);
        return NULL;
    }
    if (!w->subscribed && !w->closed && subscribe(w, after, deadline, err, err_size) != 0)
        return NULL;
    for (;;) {
        int why = 0;
        json_t *f = next_frame(w, deadline, &why, err, err_size);
        if (!f) {
            if (why == 0 && w->close_code == BOSUN_WS_TRY_AGAIN)
                /* Too slow for the daemon: catch up from the store, then resume. */
                return json_pack("{s:i,s:b}", "sub", CTL_WS_SID, "paused", 1);
            if (why == 0)
                closed_error(w, failure, err, err_size);
            else if (why == -2) {
                *timed_out = 1;
                snprintf(err, err_size, "no event from bosund in %.1f s", timeout);
            }
            return NULL;
        }
        const char *op = op_of(f);
        json_t *m = NULL;
        if (strcmp(op, "msg") == 0 && ours(f))
            m = stream_message(w, f);
        else if (strcmp(op, "error") == 0)
            frame_error(w, f, failure, err, err_size);
        int failed = strcmp(op, "error") == 0;
        json_decref(f);
        if (m || failed)
            return m;
    }
}

/* ------------------------------------------------------------ one request */

static int is_id(json_t *f, const char *id)
{
    const char *s = json_string_value(json_object_get(f, "id"));
    return s && strcmp(s, id) == 0;
}

json_t *ctl_ws_request(const ctl_http_target *t, const char *subject, json_t *data, double timeout,
                       enum ctl_failure *failure, char *err, size_t err_size)
{
    ctl_ws *w = ctl_ws_open(t, "", NULL, timeout, failure, err, err_size);
    if (!w)
        return NULL;
    double deadline = deadline_of(timeout);
    json_t *req = json_pack("{s:s,s:s,s:s,s:O}", "op", "req", "id", "1", "subject", subject, "data",
                            data ? data : json_object());
    json_t *out = NULL;
    if (send_json(w, req, deadline, err, err_size) == 0) {
        json_t *f;
        while (!out && (f = frame_or_why(w, deadline, "reply", failure, err, err_size))) {
            const char *op = op_of(f);
            if (strcmp(op, "reply") == 0 && is_id(f, "1"))
                out = json_incref(json_object_get(f, "data"));
            else if (strcmp(op, "error") == 0 && (is_id(f, "1") || !json_object_get(f, "id")))
                out = json_pack("{s:O}", "error", json_object_get(f, "error"));
            json_decref(f);
        }
    }
    ctl_ws_free(w);
    return out;
}
