#include "config.h"

#include "ctl_server.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ev.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <bosun/json.h>
#include <bosun/lines.h>
#include <bosun/log.h>

#include "ctl_server_internal.h"

/* What every connection may keep without counting against the budget: its
 * first input buffer and a small output buffer.  Idle clients then cost the
 * budget nothing (their number is bounded by descriptors); only backlogs
 * count. */
#define CTL_IN_BASE  (2 * 65536)
#define CTL_OUT_KEEP 65536

/* ------------------------------------------------------------ output */

bool outq_push(ctl_outq *q, const char *line, size_t len, size_t max)
{
    if (outq_pending(q) + len + 1 > max)
        return false;
    if (q->len + len + 1 > q->cap && q->off > 0) {
        /* What was written makes room before the buffer grows. */
        memmove(q->buf, q->buf + q->off, q->len - q->off);
        q->len -= q->off;
        q->off = 0;
    }
    if (q->len + len + 1 > q->cap) {
        q->cap = (q->len + len + 1) * 2;
        q->buf = xrealloc(q->buf, q->cap);
    }
    memcpy(q->buf + q->len, line, len);
    q->buf[q->len + len] = '\n';
    q->len += len + 1;
    return true;
}

int outq_write(ctl_outq *q, int fd)
{
    while (q->off < q->len) {
        ssize_t n = write(fd, q->buf + q->off, q->len - q->off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0)
            return -1;
        q->off += (size_t)n;
    }
    q->off = q->len = 0;
    if (q->cap > CTL_OUT_KEEP) {
        /* A backlog is gone: so is its memory, not kept for the next one. */
        free(q->buf);
        q->buf = NULL;
        q->cap = 0;
    }
    return 1;
}

/* ------------------------------------------------------------ budget */

static size_t client_footprint(const ctl_client *c)
{
    size_t in_cap = c->in ? bosun_lines_capacity(c->in) : 0;
    size_t in = in_cap > CTL_IN_BASE ? in_cap - CTL_IN_BASE : 0;
    size_t out = c->out.cap > CTL_OUT_KEEP ? c->out.cap - CTL_OUT_KEEP : 0;
    return in + out;
}

/* The client, other than self, holding the most of the budget. */
static ctl_client *largest_other(ctl_server *srv, const ctl_client *self)
{
    ctl_client *big = NULL;
    for (ctl_client *o = srv->clients; o; o = o->next)
        if (o != self && !o->dead && o->charged > 0 && (!big || o->charged > big->charged))
            big = o;
    return big;
}

static void cut_off_slow(ctl_client *c, size_t holds)
{
    log_warning("control client #%u (uid %d): slow consumer: holds %zu bytes of queued input and "
                "output while all clients' buffers reached daemon.control_buffer_max (%zu "
                "bytes); disconnecting it",
                c->serial, (int)c->uid, holds, bosun_budget_limit(c->srv->budget));
    client_close(c);
}

bool client_charge(ctl_client *c)
{
    if (c->dead)
        return false;
    bosun_budget *b = c->srv->budget;
    size_t now = client_footprint(c);
    if (now <= c->charged) {
        bosun_budget_release(b, c->charged - now);
        c->charged = now;
        return true;
    }
    while (!bosun_budget_reserve(b, now - c->charged)) {
        /* Whoever holds the most goes: a client that does not read, as a
         * rule, while those that keep up hold next to nothing. */
        ctl_client *big = largest_other(c->srv, c);
        if (!big || big->charged < now) {
            cut_off_slow(c, now);
            return false;
        }
        cut_off_slow(big, big->charged);
    }
    c->charged = now;
    return true;
}

/* ------------------------------------------------------------ sending */

static void client_flush(ctl_client *c)
{
    if (c->dead)
        return;
    int rc = outq_write(&c->out, c->fd);
    if (rc == 0) {
        ev_io_start(c->srv->loop, &c->wio);
        return;
    }
    if (rc < 0) {
        log_info("control client #%u (uid %d): write failed: %s", c->serial, (int)c->uid,
                 strerror(errno));
        client_close(c);
        return;
    }
    ev_io_stop(c->srv->loop, &c->wio);
    client_charge(c); /* gives back what the backlog held */
    if (c->read_closed && !c->requests)
        client_close(c);
}

/* Queues one line (and its newline) for the client.  Returns false if the
 * client was closed because its output backlog is over the limit. */
bool client_queue_line(ctl_client *c, const char *line, size_t len)
{
    if (c->dead)
        return false;
    if (!outq_push(&c->out, line, len, CTL_OUTPUT_MAX)) {
        log_warning("control client #%u (uid %d): %zu bytes of output not read; disconnecting it",
                    c->serial, (int)c->uid, outq_pending(&c->out));
        client_close(c);
        return false;
    }
    if (!client_charge(c))
        return false;
    if (!ev_is_active(&c->wio)) /* else the loop writes when the socket can take it */
        client_flush(c);
    return true;
}

/* Queues one JSON line (stealing obj).  Returns false if the client was
 * closed because its output backlog is over the limit: a stuck reader must
 * not grow the daemon without bound, and it is told so in the log rather
 * than losing messages silently. */
bool client_send(ctl_client *c, json_t *obj)
{
    if (c->dead) {
        json_decref(obj);
        return false;
    }
    size_t len;
    char *line = bosun_json_dump(obj, BOSUN_JSON_ASCII, &len);
    json_decref(obj);
    if (!line)
        return true;
    bool ok = client_queue_line(c, line, len);
    free(line);
    return ok;
}

void send_result(ctl_client *c, json_t *id, json_t *result)
{
    client_send(c, json_pack("{s:O?,s:b,s:o}", "id", id, "ok", 1, "result",
                             result ? result : json_object()));
}

void send_error(ctl_client *c, json_t *id, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    client_send(c, json_pack("{s:O?,s:b,s:{s:s,s:s}}", "id", id, "ok", 0, "error", "code", code,
                             "message", msg));
}

static json_t *msg_to_json(const bus_msg *m)
{
    json_t *o = json_pack("{s:s,s:O,s:f}", "subject", m->subject, "data", m->data, "time", m->time);
    if (m->reply)
        json_object_set_new(o, "reply", json_string(m->reply));
    return o;
}

/* ------------------------------------------------------------ operations */

/* A resumable subscription whose client falls behind is not pushed more
 * until it resumes: the client reads what it missed from the store (every
 * event has its seq), so it gets everything however slowly it reads, and
 * its backlog stays bounded.  Earlier when many clients are behind. */
static bool sub_falls_behind(const client_sub *s)
{
    const ctl_client *c = s->client;
    size_t pending = outq_pending(&c->out);
    return s->resumable && (pending >= CTL_FOLLOW_PAUSE ||
                            (pending >= CTL_OUT_KEEP && bosun_budget_high(c->srv->budget)));
}

void client_refuse(ctl_client *c, json_t *id, const char *what, const char *subject)
{
    log_warning("%s client #%u (uid %d, pid %d, %s %s): refused %s %.128s: not permitted",
                c->srv->name, c->serial, (int)c->uid, (int)c->pid, bus_principal_kind(c->who),
                bus_principal_id(c->who), what, subject);
    send_error(c, id, "forbidden", "%s %s may not %s %.128s", bus_principal_kind(c->who),
               bus_principal_id(c->who), what, subject);
}

static void on_sub_message(bus_t *bus, const bus_msg *m, void *arg)
{
    client_sub *s = arg;
    if (s->paused) {
        s->dropped++;
        return;
    }
    if (sub_falls_behind(s)) {
        s->paused = true;
        s->dropped = 1;
        log_debug("control client #%u: subscription %" JSON_INTEGER_FORMAT
                  " paused, %zu bytes queued",
                  s->client->serial, s->sid, outq_pending(&s->client->out));
        client_send(s->client, json_pack("{s:I,s:b}", "sub", (json_int_t)s->sid, "paused", 1));
        return;
    }
    client_send(s->client,
                json_pack("{s:I,s:o}", "sub", (json_int_t)s->sid, "msg", msg_to_json(m)));
}

static void op_sub(ctl_client *c, json_t *id, json_t *req)
{
    const char *pattern = json_string_value(json_object_get(req, "pattern"));
    if (!pattern)
        return send_error(c, id, "bad_request", "'pattern' (a string) is required");
    json_t *resumable = json_object_get(req, "resumable");
    if (resumable && !json_is_boolean(resumable))
        return send_error(c, id, "bad_request", "'resumable' must be a boolean");
    client_sub *s = xcalloc(1, sizeof *s);
    s->client = c;
    s->resumable = json_is_true(resumable);
    s->sid = ++c->next_sid;
    s->sub = bus_subscribe_as(c->srv->bus, c->who, pattern, on_sub_message, s);
    if (!s->sub) {
        free(s);
        if (errno == EACCES)
            return client_refuse(c, id, "subscribe to", pattern);
        return send_error(c, id, "invalid_subject", "invalid subscription pattern '%s'", pattern);
    }
    s->next = c->subs;
    c->subs = s;
    send_result(c, id, json_pack("{s:I,s:s}", "sid", (json_int_t)s->sid, "pattern", pattern));
}

static client_sub *find_sub(ctl_client *c, json_int_t sid)
{
    for (client_sub *s = c->subs; s; s = s->next)
        if (s->sid == sid)
            return s;
    return NULL;
}

/* The client caught up from the store: push live messages again.  Those
 * that came meanwhile it reads from the store as well. */
static void op_resume(ctl_client *c, json_t *id, json_t *req)
{
    json_t *sid = json_object_get(req, "sid");
    if (!json_is_integer(sid))
        return send_error(c, id, "bad_request", "'sid' (an integer) is required");
    client_sub *s = find_sub(c, json_integer_value(sid));
    if (!s)
        return send_error(c, id, "not_found", "no subscription %" JSON_INTEGER_FORMAT,
                          json_integer_value(sid));
    size_t dropped = s->dropped;
    s->paused = false;
    s->dropped = 0;
    send_result(c, id,
                json_pack("{s:I,s:I}", "sid", (json_int_t)s->sid, "dropped", (json_int_t)dropped));
}

static void op_unsub(ctl_client *c, json_t *id, json_t *req)
{
    json_t *sid = json_object_get(req, "sid");
    if (!json_is_integer(sid))
        return send_error(c, id, "bad_request", "'sid' (an integer) is required");
    for (client_sub **pp = &c->subs; *pp; pp = &(*pp)->next) {
        client_sub *s = *pp;
        if (s->sid != json_integer_value(sid))
            continue;
        *pp = s->next;
        bus_unsubscribe(c->srv->bus, s->sub);
        free(s);
        return send_result(c, id, NULL);
    }
    send_error(c, id, "not_found", "no subscription %" JSON_INTEGER_FORMAT,
               json_integer_value(sid));
}

static bool get_subject_and_data(ctl_client *c, json_t *id, json_t *req, const char **subject,
                                 json_t **data)
{
    *subject = json_string_value(json_object_get(req, "subject"));
    *data = json_object_get(req, "data");
    if (!*subject) {
        send_error(c, id, "bad_request", "'subject' (a string) is required");
        return false;
    }
    if (bus_subject_check(*subject) != 0) {
        send_error(c, id, "invalid_subject", "invalid subject '%s'", *subject);
        return false;
    }
    return true;
}

static void op_pub(ctl_client *c, json_t *id, json_t *req)
{
    const char *subject, *reply = json_string_value(json_object_get(req, "reply"));
    json_t *data;
    if (!get_subject_and_data(c, id, req, &subject, &data))
        return;
    int rc = bus_publish_as(c->srv->bus, c->who, subject, reply, data);
    if (rc != 0 && errno == EACCES)
        return client_refuse(c, id, reply ? "publish (with that reply subject) to" : "publish to",
                             subject);
    if (rc != 0)
        return send_error(c, id, "invalid_subject", "invalid reply subject '%s'",
                          reply ? reply : "");
    send_result(c, id, NULL);
}

void detach_request(ctl_client *c, client_request *r)
{
    for (client_request **pp = &c->requests; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    json_decref(r->id);
    free(r);
}

static void on_request_reply(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    client_request *r = arg;
    ctl_client *c = r->client;
    json_t *id = json_incref(r->id);
    bool grant_input = r->grant_input;
    detach_request(c, r);
    switch (st) {
    case BUS_REPLY_OK:
        if (grant_input)
            agent_follow_input(c, m->data);
        send_result(c, id, msg_to_json(m));
        break;
    case BUS_REPLY_TIMEOUT:
        send_error(c, id, "timeout", "no reply before the timeout");
        break;
    case BUS_REPLY_NO_RESPONDERS:
        send_error(c, id, "no_responders", "nothing answers on that subject");
        break;
    case BUS_REPLY_CANCELLED:
        send_error(c, id, "cancelled", "the daemon is shutting down");
        break;
    }
    json_decref(id);
    if (c->read_closed && !c->requests && outq_pending(&c->out) == 0)
        client_close(c);
}

static void op_request(ctl_client *c, json_t *id, json_t *req)
{
    const char *subject;
    json_t *data;
    if (!get_subject_and_data(c, id, req, &subject, &data))
        return;
    json_t *t = json_object_get(req, "timeout");
    double timeout = t ? json_number_value(t) : 5.0;
    if ((t && !json_is_number(t)) || !(timeout > 0 && timeout <= 3600))
        return send_error(c, id, "bad_request",
                          "'timeout' must be a number of seconds in (0, 3600]");
    client_request *r = xcalloc(1, sizeof *r);
    r->client = c;
    r->id = json_incref(id);
    /* An agent's request speaks for its own run, whatever it says. */
    json_t *scoped = agent_scope(c, subject, data, &r->grant_input);
    r->bus_id = bus_request_as(c->srv->bus, c->who, subject, scoped, timeout, on_request_reply, r);
    json_decref(scoped);
    if (!r->bus_id) {
        json_decref(r->id);
        free(r);
        if (errno == EACCES)
            return client_refuse(c, id, "send a request to", subject);
        return send_error(c, id, "internal", "cannot send the request: %s", strerror(errno));
    }
    r->next = c->requests;
    c->requests = r;
}

static void op_reload(ctl_client *c, json_t *id)
{
    json_t *r = c->srv->hooks.reload(c->srv->hooks.arg);
    if (!r)
        return send_result(c, id, json_pack("{s:b}", "reloaded", 1));
    bool applied = json_is_true(json_object_get(r, "applied"));
    client_send(c, json_pack("{s:O?,s:b,s:{s:s,s:s,s:O}}", "id", id, "ok", 0, "error", "code",
                             applied ? "reload_partial" : "invalid_config", "message",
                             applied ? "the new configuration was applied, with problems"
                                     : "the new configuration was refused; the old one keeps "
                                       "running",
                             "details", json_object_get(r, "errors")));
    json_decref(r);
}

static void dispatch(ctl_client *c, json_t *req)
{
    json_t *id = json_object_get(req, "id");
    const char *op = json_string_value(json_object_get(req, "op"));
    if (!op)
        return send_error(c, id, "bad_request", "'op' (a string) is required");
    log_debug("control client #%u: op %s", c->serial, op);
    if (strcmp(op, "ping") == 0)
        return send_result(c, id, json_pack("{s:b}", "pong", 1));
    /* The daemon's own operations are requests to cmd.daemon.<op> as far
     * as permissions go: only a principal granted them may use them. */
    bool daemon_op =
        strcmp(op, "status") == 0 || strcmp(op, "plugins") == 0 || strcmp(op, "reload") == 0;
    if (daemon_op) {
        char subject[64];
        snprintf(subject, sizeof subject, "cmd.daemon.%s", op);
        if (!bus_principal_may(c->who, BUS_PERM_REQ, subject) || !c->srv->hooks.status)
            return client_refuse(c, id, "send a request to", subject);
    }
    if (strcmp(op, "status") == 0)
        return send_result(c, id, c->srv->hooks.status(c->srv->hooks.arg));
    if (strcmp(op, "plugins") == 0)
        return send_result(c, id, c->srv->hooks.plugins(c->srv->hooks.arg));
    if (strcmp(op, "reload") == 0)
        return op_reload(c, id);
    if (strcmp(op, "pub") == 0)
        return op_pub(c, id, req);
    if (strcmp(op, "request") == 0)
        return op_request(c, id, req);
    if (strcmp(op, "sub") == 0)
        return op_sub(c, id, req);
    if (strcmp(op, "unsub") == 0)
        return op_unsub(c, id, req);
    if (strcmp(op, "resume") == 0)
        return op_resume(c, id, req);
    if (strcmp(op, "mcp") == 0)
        return op_mcp(c, id, req);
    if (strcmp(op, "agent") == 0)
        return op_agent(c, id, req);
    send_error(c, id, "unknown_op", "unknown op '%.64s'", op);
}

static void handle_line(ctl_client *c, const char *line, size_t len)
{
    if (c->mcp_session)
        return mcp_client_line(c, line, len);
    if (len == 0)
        return;
    /* The rule of every door: duplicate keys refused (bosun-bus(7)). */
    bosun_json_error err;
    json_t *req = bosun_json_parse(line, len, BOSUN_JSON_REJECT_DUPLICATES, &err);
    if (!req)
        return send_error(c, NULL, "bad_json", "invalid JSON at column %d: %s", err.column,
                          err.text);
    if (!json_is_object(req))
        send_error(c, NULL, "bad_request", "a request must be a JSON object");
    else
        dispatch(c, req);
    json_decref(req);
}

/* ------------------------------------------------------------ input */

/* Every complete line read so far; each byte is scanned once, however the
 * client splits its writes (see <bosun/lines.h>). */
static void process_input(ctl_client *c)
{
    bosun_line line;
    int rc;
    while ((rc = bosun_lines_next(c->in, &line)) == 1) {
        handle_line(c, line.data, line.len);
        if (c->dead)
            return;
    }
    /* A large request is done: its buffer goes back too. */
    size_t before = bosun_lines_capacity(c->in);
    bosun_lines_trim(c->in, CTL_IN_BASE);
    if (bosun_lines_capacity(c->in) != before)
        client_charge(c);
    if (rc < 0) {
        send_error(c, NULL, "too_large", "request line over %d bytes", CTL_LINE_MAX);
        log_warning("control client #%u (uid %d): request line over %d bytes; disconnecting it",
                    c->serial, (int)c->uid, CTL_LINE_MAX);
        client_close(c);
    }
}

void client_drop_passed(ctl_client *c)
{
    for (size_t i = 0; i < c->n_passed; i++)
        close(c->passed[i]);
    c->n_passed = 0;
}

/* Keeps descriptors that came with the bytes just read, for an op that
 * asks for them (mcp with "stdio"); any beyond what a client may have held
 * are closed at once. */
static void take_passed(ctl_client *c, struct msghdr *mh)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int fds[CTL_MAX_PASSED * 2];
        memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
        for (size_t i = 0; i < n; i++) {
            if (c->n_passed < CTL_MAX_PASSED) {
                c->passed[c->n_passed++] = fds[i];
                continue;
            }
            log_warning("control client #%u (uid %d): passed more than %d descriptors; closing "
                        "the extra ones",
                        c->serial, (int)c->uid, CTL_MAX_PASSED);
            close(fds[i]);
        }
    }
    if (mh->msg_flags & MSG_CTRUNC)
        log_warning("control client #%u (uid %d): passed more descriptors than one message may "
                    "carry; the kernel closed the extra ones",
                    c->serial, (int)c->uid);
}

static void on_client_read(struct ev_loop *loop, ev_io *w, int revents)
{
    ctl_client *c = w->data;
    size_t room, cap_before = bosun_lines_capacity(c->in);
    char *space = bosun_lines_space(c->in, 65536, &room);
    if (!space)
        util_oom(65536);
    if (bosun_lines_capacity(c->in) != cap_before && !client_charge(c))
        return;
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int) * CTL_MAX_PASSED * 2)];
    } ctrl;
    struct iovec iov = {.iov_base = space, .iov_len = room};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.space, .msg_controllen = sizeof ctrl};
    ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n > 0 && mh.msg_controllen > 0)
        take_passed(c, &mh);
    if (n <= 0) {
        /* The client is done sending; answer what it asked, then close. */
        ev_io_stop(loop, &c->rio);
        c->read_closed = true;
        if (!c->requests && outq_pending(&c->out) == 0)
            client_close(c);
        return;
    }
    bosun_lines_commit(c->in, (size_t)n);
    process_input(c);
}

static void on_client_write(struct ev_loop *loop, ev_io *w, int revents)
{
    client_flush(w->data);
}

void client_close(ctl_client *c)
{
    if (c->dead)
        return;
    c->dead = true;
    ctl_server *srv = c->srv;
    mcp_close(c);
    for (ctl_client **pp = &srv->clients; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    srv->n_clients--;
    ev_io_stop(srv->loop, &c->rio);
    ev_io_stop(srv->loop, &c->wio);
    bosun_budget_release(srv->budget, c->charged);
    c->charged = 0;
    /* The backlog goes now, not with the client: the reaper is an idle
     * watcher, which a busy loop (a flood, when slow consumers are cut
     * off) may not run for a long time. */
    free(c->out.buf);
    c->out = (ctl_outq){0};
    while (c->subs) {
        client_sub *s = c->subs;
        c->subs = s->next;
        bus_unsubscribe(srv->bus, s->sub);
        free(s);
    }
    while (c->requests) {
        client_request *r = c->requests;
        c->requests = r->next;
        bus_request_cancel(srv->bus, r->bus_id);
        json_decref(r->id);
        free(r);
    }
    client_drop_passed(c);
    close(c->fd);
    log_debug("control client #%u disconnected", c->serial);
    c->next = srv->graveyard;
    srv->graveyard = c;
    ev_idle_start(srv->loop, &srv->reaper);
}

static void free_graveyard(ctl_server *srv)
{
    while (srv->graveyard) {
        ctl_client *c = srv->graveyard;
        srv->graveyard = c->next;
        bosun_lines_free(c->in);
        free(c->out.buf);
        agent_free(c);
        bus_principal_free(c->who);
        free(c);
    }
}

static void on_reap(struct ev_loop *loop, ev_idle *w, int revents)
{
    ev_idle_stop(loop, w);
    free_graveyard(w->data);
}

/* Whether the peer on fd holds gid among its supplementary groups, from
 * the kernel (SO_PEERGROUPS, Linux >= 4.13): the groups the connecting
 * process really has, with no name-service lookup on the loop. */
static bool peer_in_group(int fd, gid_t gid)
{
    gid_t small[64], *groups = small;
    socklen_t len = sizeof small;
    bool member = false;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
        if (errno != ERANGE || len == 0 || len > 65536 * sizeof *groups)
            return false;      /* older kernel, or nonsense: not a member */
        groups = xmalloc(len); /* len now says how much room it needs */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
            len = 0;
    }
    for (size_t i = 0; i < len / sizeof *groups && !member; i++)
        member = groups[i] == gid;
    if (groups != small)
        free(groups);
    return member;
}

/* The socket's mode already keeps others out; this checks again with the
 * kernel's word for who is calling (a socket file's permissions can be
 * changed behind our back). */
static bool peer_allowed(const ctl_server *srv, int fd, const struct ucred *cred)
{
    if (cred->uid == 0 || cred->uid == geteuid() || cred->gid == srv->sock_gid)
        return true;
    return peer_in_group(fd, srv->sock_gid);
}

/* Out of descriptors (or memory), the listening socket stays readable and
 * its watcher would fire again at once, for ever.  The spare descriptor
 * lets one waiting connection be accepted and closed, so that its client
 * hears of it instead of waiting; then accepting pauses until a timer
 * tries again, and the complaint is logged at a bounded rate. */
static void accept_pause(ctl_server *srv, int err)
{
    bosun_complain(&srv->accept_complaint, LOG_LEVEL_WARNING,
                   "control socket: accept failed: %s; not accepting for %.1f s", strerror(err),
                   CTL_ACCEPT_RETRY);
    if ((err == EMFILE || err == ENFILE) && srv->spare_fd >= 0) {
        close(srv->spare_fd);
        int fd = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
            close(fd);
        srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    ev_io_stop(srv->loop, &srv->accept_io);
    ev_timer_stop(srv->loop, &srv->accept_retry);
    ev_timer_set(&srv->accept_retry, CTL_ACCEPT_RETRY, 0.);
    ev_timer_start(srv->loop, &srv->accept_retry);
}

static void on_accept_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    ctl_server *srv = w->data;
    if (srv->spare_fd < 0)
        srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ev_io_start(loop, &srv->accept_io);
}

/* Who a new connection is: on the control socket an admin, whom every
 * grant is given; on the agent socket nobody yet, until a run token makes
 * it that run's principal (ctl_mcp.c). */
static bus_principal *client_principal(const ctl_server *srv, const struct ucred *cred)
{
    char uid[32];
    snprintf(uid, sizeof uid, "uid %d", (int)cred->uid);
    bus_principal *p = bus_principal_new(srv->agent ? "anonymous" : "admin", uid);
    for (int i = 0; p && !srv->agent && i < 3; i++)
        if (bus_principal_allow(p, (enum bus_perm)i, ">") != 0) {
            bus_principal_free(p);
            p = NULL;
        }
    if (!p) {
        log_error("out of memory");
        abort();
    }
    return p;
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    ctl_server *srv = w->data;
    int fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            accept_pause(srv, errno);
        return;
    }
    bosun_complain_release(&srv->accept_complaint, LOG_LEVEL_NOTICE,
                           "control socket: accepting connections again");
    struct ucred cred = {0};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        log_warning("control socket: cannot read peer credentials: %s", strerror(errno));
        close(fd);
        return;
    }
    if (!srv->agent && !peer_allowed(srv, fd, &cred)) {
        log_warning("control socket: refused uid %d (pid %d): not root, not the daemon's user, "
                    "not in the socket's group",
                    (int)cred.uid, (int)cred.pid);
        close(fd);
        return;
    }
    ctl_client *c = xcalloc(1, sizeof *c);
    c->srv = srv;
    c->fd = fd;
    c->uid = cred.uid;
    c->pid = cred.pid;
    c->serial = ++srv->serial;
    c->in = bosun_lines_new(CTL_LINE_MAX, 0);
    if (!c->in)
        util_oom(sizeof(void *));
    c->who = client_principal(srv, &cred);
    ev_io_init(&c->rio, on_client_read, fd, EV_READ);
    ev_io_init(&c->wio, on_client_write, fd, EV_WRITE);
    c->rio.data = c->wio.data = c;
    ev_io_start(loop, &c->rio);
    c->next = srv->clients;
    srv->clients = c;
    srv->n_clients++;
    log_info("%s client #%u connected (uid %d, pid %d)", srv->name, c->serial, (int)cred.uid,
             (int)cred.pid);
}

/* ------------------------------------------------------------ server */

static int apply_group(const char *path, const char *group)
{
    if (!group)
        return 0;
    struct group *g = getgrnam(group);
    if (!g) {
        log_error("control socket: unknown group '%s' (daemon.control_socket_group)", group);
        return -1;
    }
    if (chown(path, (uid_t)-1, g->gr_gid) < 0) {
        log_error("control socket: cannot give %s to group '%s': %s", path, group, strerror(errno));
        return -1;
    }
    return 0;
}

static int bind_socket(const char *path, unsigned mode, const char *group)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        log_error("control socket: path '%s' is too long for a Unix socket", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_error("control socket: socket(): %s", strerror(errno));
        return -1;
    }
    /* The state-dir lock is held, so a socket file left here belongs to a
     * dead daemon. */
    unlink(path);
    mode_t old = umask(0777 & ~mode);
    int rc = bind(fd, (struct sockaddr *)&addr, sizeof addr);
    umask(old);
    if (rc < 0 || chmod(path, mode) < 0 || apply_group(path, group) < 0 || listen(fd, 64) < 0) {
        if (rc < 0)
            log_error("control socket: cannot bind %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    return fd;
}

static ctl_server *server_new(struct ev_loop *loop, bus_t *bus, const char *path, unsigned mode,
                              const char *group, const ctl_hooks *hooks, bool agent)
{
    int fd = bind_socket(path, mode, group);
    if (fd < 0)
        return NULL;
    ctl_server *srv = xcalloc(1, sizeof *srv);
    srv->agent = agent;
    srv->name = agent ? "agent" : "control";
    srv->loop = loop;
    srv->bus = bus;
    srv->path = xstrdup(path);
    srv->fd = fd;
    srv->hooks = *hooks;
    srv->budget = bosun_budget_new(CTL_BUDGET_DEFAULT);
    srv->authlimit = bosun_authlimit_new(CTL_AUTH_BURST, CTL_AUTH_RATE, CTL_AUTH_GLOBAL_BURST,
                                         CTL_AUTH_GLOBAL_RATE, CTL_AUTH_PEERS);
    if (!srv->authlimit) {
        log_error("out of memory");
        abort();
    }
    struct stat st;
    srv->sock_gid = stat(path, &st) == 0 ? st.st_gid : getegid();
    ev_io_init(&srv->accept_io, on_accept, fd, EV_READ);
    srv->accept_io.data = srv;
    ev_io_start(loop, &srv->accept_io);
    ev_timer_init(&srv->accept_retry, on_accept_retry, CTL_ACCEPT_RETRY, 0.);
    srv->accept_retry.data = srv;
    srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ev_idle_init(&srv->reaper, on_reap);
    srv->reaper.data = srv;
    log_info("%s socket listening on %s (mode %04o)", srv->name, path, mode);
    return srv;
}

ctl_server *ctl_server_new(struct ev_loop *loop, bus_t *bus, const char *path, unsigned mode,
                           const char *group, const ctl_hooks *hooks)
{
    return server_new(loop, bus, path, mode, group, hooks, false);
}

ctl_server *ctl_server_new_agent(struct ev_loop *loop, bus_t *bus, const char *path)
{
    static const ctl_hooks none = {0};
    return server_new(loop, bus, path, 0666, NULL, &none, true);
}

void ctl_server_free(ctl_server *srv)
{
    if (!srv)
        return;
    while (srv->clients)
        client_close(srv->clients);
    ev_idle_stop(srv->loop, &srv->reaper);
    free_graveyard(srv);
    ev_io_stop(srv->loop, &srv->accept_io);
    ev_timer_stop(srv->loop, &srv->accept_retry);
    if (srv->spare_fd >= 0)
        close(srv->spare_fd);
    close(srv->fd);
    unlink(srv->path);
    free(srv->path);
    if (!srv->budget_shared)
        bosun_budget_free(srv->budget);
    bosun_authlimit_free(srv->authlimit);
    free(srv);
}

void ctl_server_share_budget(ctl_server *srv, ctl_server *owner)
{
    if (!srv->budget_shared)
        bosun_budget_free(srv->budget);
    srv->budget = owner->budget;
    srv->budget_shared = true;
}

void ctl_server_set_budget(ctl_server *srv, size_t bytes)
{
    bosun_budget_set_limit(srv->budget, bytes);
}

json_t *ctl_server_buffers_json(const ctl_server *srv)
{
    return json_pack("{s:I,s:I,s:I}", "used", (json_int_t)bosun_budget_used(srv->budget), "peak",
                     (json_int_t)bosun_budget_peak(srv->budget), "limit",
                     (json_int_t)bosun_budget_limit(srv->budget));
}

size_t ctl_server_client_count(const ctl_server *srv)
{
    return srv ? srv->n_clients : 0;
}
