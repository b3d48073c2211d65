/* The agent-socket client of bosun-llm (llm_ctl.h).  Requests are matched
 * to replies by id; subscriptions by the sid the daemon gives.  Output is
 * queued and written when the loop has nothing else to do (llm_defer.h:
 * the requests of a round in one write, one wake-up of bosund, after the
 * model's next request went out) or later when the socket takes it; input is framed by
 * <bosun/lines.h> with the daemon's line limit. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bosun/json.h>
#include <bosun/lines.h>
#include <bosun/log.h>

#include "llm_ctl.h"
#include "llm_defer.h"

#define CTL_LINE_LIMIT (8u << 20)

typedef struct ctl_wait {
    struct ctl_wait *next;
    uint64_t id;            /* the request's id on the wire */
    uint64_t handle;        /* a subscription's handle, else 0 */
    json_int_t sid;         /* a subscription's sid once known, else 0 */
    llm_ctl_reply_fn reply; /* NULL once forgotten */
    llm_ctl_msg_fn msg;
    void *arg;
} ctl_wait;

struct llm_ctl {
    struct ev_loop *loop;
    int fd;
    ev_io rio, wio;
    llm_defer defer; /* writes what was queued */
    bosun_lines *in;
    char *out;
    size_t out_len, out_off;
    uint64_t next_id;
    ctl_wait *waits;
    llm_ctl_lost_fn lost;
    void *lost_arg;
    bool closed;
};

static void ctl_lost(llm_ctl *c, const char *why)
{
    if (c->closed)
        return;
    c->closed = true;
    ev_io_stop(c->loop, &c->rio);
    ev_io_stop(c->loop, &c->wio);
    llm_defer_stop(&c->defer);
    /* Every request still waiting hears of it, once. */
    for (ctl_wait *w = c->waits; w; w = w->next) {
        llm_ctl_reply_fn fn = w->sid ? NULL : w->reply;
        w->reply = NULL;
        w->msg = NULL;
        if (fn)
            fn(w->arg, NULL, "closed", why);
    }
    if (c->lost)
        c->lost(c->lost_arg, why);
}

static void flush_out(llm_ctl *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ev_io_start(c->loop, &c->wio);
            return;
        }
        if (n < 0)
            return ctl_lost(c, strerror(errno));
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    ev_io_stop(c->loop, &c->wio);
}

static void on_defer(void *arg)
{
    llm_ctl *c = arg;
    if (!c->closed && !ev_is_active(&c->wio))
        flush_out(c);
}

static void send_line(llm_ctl *c, json_t *req)
{
    size_t len;
    char *line = bosun_json_dump(req, BOSUN_JSON_ASCII, &len);
    json_decref(req);
    if (!line || c->closed) {
        free(line);
        return;
    }
    char *grown = realloc(c->out, c->out_len + len + 1);
    if (!grown) {
        free(line);
        return ctl_lost(c, "out of memory");
    }
    c->out = grown;
    memcpy(c->out + c->out_len, line, len);
    c->out[c->out_len + len] = '\n';
    c->out_len += len + 1;
    free(line);
    if (!ev_is_active(&c->wio))
        llm_defer_arm(&c->defer);
}

static ctl_wait *wait_new(llm_ctl *c, llm_ctl_reply_fn fn, void *arg)
{
    ctl_wait *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->id = ++c->next_id;
    w->reply = fn;
    w->arg = arg;
    w->next = c->waits;
    c->waits = w;
    return w;
}

static void wait_drop(llm_ctl *c, ctl_wait *dead)
{
    for (ctl_wait **pp = &c->waits; *pp; pp = &(*pp)->next)
        if (*pp == dead) {
            *pp = dead->next;
            free(dead);
            return;
        }
}

/* {"id", "ok": true, "result"} or {"id", "ok": false, "error"}. */
static void on_response(llm_ctl *c, const json_t *msg)
{
    json_t *idv = json_object_get(msg, "id");
    ctl_wait *w = c->waits;
    while (w && !(json_is_integer(idv) && (uint64_t)json_integer_value(idv) == w->id))
        w = w->next;
    if (!w)
        return;
    bool ok = json_is_true(json_object_get(msg, "ok"));
    json_t *result = json_object_get(msg, "result");
    json_t *err = json_object_get(msg, "error");
    const char *code = ok ? NULL : json_string_value(json_object_get(err, "code"));
    const char *text = ok ? NULL : json_string_value(json_object_get(err, "message"));
    llm_ctl_reply_fn fn = w->reply;
    void *arg = w->arg;
    if (w->handle && ok) {
        /* A subscription: from now on messages come under its sid. */
        w->sid = json_integer_value(json_object_get(result, "sid"));
        w->reply = NULL;
        if (!w->msg) /* unsubscribed before the daemon took it */
            send_line(c, json_pack("{s:I,s:s,s:I}", "id", (json_int_t)++c->next_id, "op", "unsub",
                                   "sid", (json_int_t)w->sid));
    } else {
        wait_drop(c, w);
    }
    /* A request's result is {"subject", "data", "time"}: the data counts. */
    const json_t *data = json_object_get(result, "data");
    if (fn)
        fn(arg, ok ? (data ? data : result) : NULL,
           ok     ? NULL
           : code ? code
                  : "error",
           ok     ? NULL
           : text ? text
                  : "the daemon refused it");
}

static void on_sub_msg(llm_ctl *c, const json_t *msg)
{
    json_int_t sid = json_integer_value(json_object_get(msg, "sub"));
    const json_t *m = json_object_get(msg, "msg");
    for (ctl_wait *w = c->waits; w; w = w->next)
        if (w->sid == sid && w->msg) {
            w->msg(w->arg, json_string_value(json_object_get(m, "subject")),
                   json_object_get(m, "data"));
            return;
        }
}

static void on_line(llm_ctl *c, const char *line, size_t len)
{
    json_t *msg = bosun_json_parse(line, len, 0, NULL);
    if (!json_is_object(msg))
        log_warning("agent socket: a line that is not a JSON object; ignored");
    else if (json_object_get(msg, "sub"))
        on_sub_msg(c, msg);
    else
        on_response(c, msg);
    json_decref(msg);
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    llm_ctl *c = w->data;
    size_t room;
    char *space = bosun_lines_space(c->in, 65536, &room);
    if (!space)
        return ctl_lost(c, "out of memory");
    ssize_t n = read(c->fd, space, room);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0)
        return ctl_lost(c, n == 0 ? "the daemon closed the connection" : strerror(errno));
    bosun_lines_commit(c->in, (size_t)n);
    bosun_line line;
    int rc;
    while (!c->closed && (rc = bosun_lines_next(c->in, &line)) == 1)
        on_line(c, line.data, line.len);
    if (!c->closed && rc < 0)
        ctl_lost(c, "a line from the daemon is over the limit");
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    flush_out(w->data);
}

llm_ctl *llm_ctl_new(struct ev_loop *loop, const char *path, llm_ctl_lost_fn lost, void *arg,
                     char *err, size_t err_size)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (!path || strlen(path) >= sizeof addr.sun_path) {
        snprintf(err, err_size, "no usable agent socket path (BOSUN_SOCKET)");
        return NULL;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        snprintf(err, err_size, "cannot connect to %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    llm_ctl *c = calloc(1, sizeof *c);
    if (!c || !(c->in = bosun_lines_new(CTL_LINE_LIMIT, 0))) {
        free(c);
        close(fd);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    c->loop = loop;
    c->fd = fd;
    c->lost = lost;
    c->lost_arg = arg;
    ev_io_init(&c->rio, on_readable, fd, EV_READ);
    ev_io_init(&c->wio, on_writable, fd, EV_WRITE);
    llm_defer_init(&c->defer, loop, on_defer, c);
    c->rio.data = c->wio.data = c;
    ev_io_start(loop, &c->rio);
    return c;
}

void llm_ctl_free(llm_ctl *c)
{
    if (!c)
        return;
    ev_io_stop(c->loop, &c->rio);
    ev_io_stop(c->loop, &c->wio);
    llm_defer_stop(&c->defer);
    /* What the last iteration queued, as far as the socket takes it now
     * (nobody is left to hear of a failure). */
    while (!c->closed && c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n <= 0)
            break;
        c->out_off += (size_t)n;
    }
    close(c->fd);
    while (c->waits) {
        ctl_wait *w = c->waits;
        c->waits = w->next;
        free(w);
    }
    bosun_lines_free(c->in);
    free(c->out);
    free(c);
}

static uint64_t start(llm_ctl *c, json_t *req, llm_ctl_reply_fn done, void *arg)
{
    ctl_wait *w = c->closed ? NULL : wait_new(c, done, arg);
    if (!w) {
        json_decref(req);
        if (done)
            done(arg, NULL, "closed",
                 c->closed ? "the connection to bosund is gone" : "out of memory");
        return 0;
    }
    json_object_set_new(req, "id", json_integer((json_int_t)w->id));
    send_line(c, req);
    return w->id;
}

void llm_ctl_agent(llm_ctl *c, const char *token, llm_ctl_reply_fn done, void *arg)
{
    start(c, json_pack("{s:s,s:s}", "op", "agent", "token", token), done, arg);
}

uint64_t llm_ctl_request(llm_ctl *c, const char *subject, json_t *data, double timeout,
                         llm_ctl_reply_fn done, void *arg)
{
    json_t *req = json_pack("{s:s,s:s,s:o,s:f}", "op", "request", "subject", subject, "data",
                            data ? data : json_object(), "timeout", timeout);
    return start(c, req, done, arg);
}

size_t llm_ctl_unfinished(const llm_ctl *c)
{
    if (!c || c->closed)
        return 0;
    size_t n = c->out_len > c->out_off ? 1 : 0;
    for (const ctl_wait *w = c->waits; w; w = w->next)
        if (!w->handle && w->reply)
            n++;
    return n;
}

bool llm_ctl_read_all(const llm_ctl *c)
{
    size_t held = 0;
    int unread = 0;
    if (!c || c->closed)
        return false;
    bosun_lines_pending(c->in, &held);
    return held == 0 && ioctl(c->fd, FIONREAD, &unread) == 0 && unread == 0;
}

void llm_ctl_forget(llm_ctl *c, uint64_t id)
{
    for (ctl_wait *w = c->waits; w; w = w->next)
        if (w->id == id && !w->handle)
            w->reply = NULL;
}

uint64_t llm_ctl_subscribe(llm_ctl *c, const char *pattern, llm_ctl_msg_fn fn, void *arg,
                           llm_ctl_reply_fn ready)
{
    uint64_t id = start(c, json_pack("{s:s,s:s}", "op", "sub", "pattern", pattern), ready, arg);
    for (ctl_wait *w = c->waits; id && w; w = w->next)
        if (w->id == id) {
            w->handle = id;
            w->msg = fn;
        }
    return id;
}

void llm_ctl_unsubscribe(llm_ctl *c, uint64_t handle)
{
    for (ctl_wait *w = c->waits; handle && w; w = w->next) {
        if (w->handle != handle)
            continue;
        w->msg = NULL;
        w->reply = NULL;
        if (w->sid) {
            send_line(c, json_pack("{s:I,s:s,s:I}", "id", (json_int_t)++c->next_id, "op", "unsub",
                                   "sid", (json_int_t)w->sid));
            wait_drop(c, w);
        }
        return;
    }
}
