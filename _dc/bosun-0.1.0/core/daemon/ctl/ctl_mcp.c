/* The control socket's MCP sessions.
 *
 * {"op": "mcp", "token": T, "run": R?} turns a connection into an MCP
 * session with the mcp plugin (see <bosun/task.h>).  Two ways to carry it:
 *
 *  - relayed: every later line on the connection, either way, is one
 *    JSON-RPC message (bosunctl mcp copies them from and to its stdio);
 *  - handed over: with "stdio": true the request came with two descriptors
 *    (SCM_RIGHTS), the agent's stdin and stdout, and the daemon reads and
 *    writes them itself, sparing every call a hop through bosunctl.  The
 *    connection then carries only control lines: the daemon asks bosunctl
 *    to read a file for add_artifact ({"mcp": "read_file", "path"}, answered
 *    {"op": "mcp_file", "content" | "content_base64" | "error"}), and says
 *    {"mcp": "closed"} when the session ends.
 *
 * A session ends when the agent closes its stdin (or the relaying
 * connection), when bosunctl goes away, or when the agent's stdout breaks. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bosun/codec.h>
#include <bosun/json.h>
#include <bosun/log.h>
#include <bosun/sys.h>
#include <bosun/task.h>

#include "ctl_server_internal.h"
#include "mcp_path.h"
#include "util.h"

struct ctl_mcp_stdio {
    ctl_client *client;
    int in_fd, out_fd;
    ev_io rio, wio;
    bosun_lines *in; /* the agent's messages, framed */
    ctl_outq out;
    json_t *held; /* an add_artifact call waiting for bosunctl to read its file */
};

static void stdio_end(ctl_client *c, const char *why);

/* ------------------------------------------------------------ to the plugin */

/* Lines are relayed as they are; the plugin answers bad JSON with -32700.
 * Bytes that are not UTF-8 cannot travel in a JSON string and become
 * U+FFFD. */
static json_t *line_json(const char *line, size_t len)
{
    json_t *s = json_stringn(line, len);
    if (s)
        return s;
    char *clean = xmalloc(len * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = bosun_utf8_next(line + i, len - i, &cp);
        if (k > 0 && cp != 0) {
            memcpy(clean + n, line + i, k);
            n += k;
            i += k;
        } else {
            memcpy(clean + n, "\xef\xbf\xbd", 3);
            n += 3;
            i++;
        }
    }
    s = json_stringn(clean, n);
    free(clean);
    return s ? s : json_string("");
}

static void mcp_relay_line(ctl_client *c, const char *line, size_t len)
{
    json_t *msg = json_object();
    json_object_set_new_nocheck(msg, "line", line_json(line, len));
    if (bus_publish_as(c->srv->bus, c->who, c->mcp_in, NULL, msg) != 0)
        log_warning("%s client #%u (uid %d): MCP session %s: a line could not be relayed: %s",
                    c->srv->name, c->serial, (int)c->uid, c->mcp_session, strerror(errno));
    json_decref(msg);
}

/* ------------------------------------------------------------ the agent's stdout */

static void stdio_flush(ctl_mcp_stdio *io)
{
    int rc = outq_write(&io->out, io->out_fd);
    if (rc == 0) {
        ev_io_start(io->client->srv->loop, &io->wio);
        return;
    }
    if (rc < 0) {
        log_info("control client #%u (uid %d): MCP session %s: the agent's stdout: %s",
                 io->client->serial, (int)io->client->uid, io->client->mcp_session,
                 strerror(errno));
        stdio_end(io->client, NULL);
        return;
    }
    ev_io_stop(io->client->srv->loop, &io->wio);
}

static void on_stdio_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    stdio_flush(w->data);
}

static void stdio_queue_line(ctl_mcp_stdio *io, const char *line, size_t len)
{
    if (!outq_push(&io->out, line, len, CTL_OUTPUT_MAX)) {
        log_warning("control client #%u (uid %d): MCP session %s: %zu bytes not read from the "
                    "agent's stdout; ending the session",
                    io->client->serial, (int)io->client->uid, io->client->mcp_session,
                    outq_pending(&io->out));
        stdio_end(io->client, NULL);
        return;
    }
    if (!ev_is_active(&io->wio))
        stdio_flush(io);
}

/* The plugin ended the session (its run ended): what was sent so far is
 * delivered, then the agent's side is closed, in both modes. */
static void mcp_session_ended(ctl_client *c, const char *why)
{
    log_info("control client #%u (uid %d): MCP session %s ended: %s", c->serial, (int)c->uid,
             c->mcp_session ? c->mcp_session : "?", why);
    if (c->mcp_stdio) {
        client_send(c, json_pack("{s:s,s:s}", "mcp", "ended", "reason", why));
        stdio_end(c, NULL);
        return;
    }
    mcp_close(c);
    ev_io_stop(c->srv->loop, &c->rio);
    c->read_closed = true;
    if (!c->requests && outq_pending(&c->out) == 0)
        client_close(c);
}

static void on_mcp_out(bus_t *bus, const bus_msg *m, void *arg)
{
    ctl_client *c = arg;
    json_t *line = json_object_get(m->data, "line");
    const char *end = json_string_value(json_object_get(m->data, "end"));
    if (end)
        return mcp_session_ended(c, end);
    /* Already a JSON text: queued as it is. */
    if (!json_is_string(line))
        return;
    if (c->mcp_stdio)
        stdio_queue_line(c->mcp_stdio, json_string_value(line), json_string_length(line));
    else
        client_queue_line(c, json_string_value(line), json_string_length(line));
}

/* ------------------------------------------------------------ the agent's stdin */

/* add_artifact with a path waits for bosunctl to read the file; the lines
 * after it wait too, so that the plugin sees them in order. */
static bool stdio_hold(ctl_client *c, const char *line, size_t len)
{
    const char *path;
    json_t *msg = mcp_path_wanted(line, len, &path);
    if (!msg)
        return false;
    c->mcp_stdio->held = msg;
    ev_io_stop(c->srv->loop, &c->mcp_stdio->rio);
    client_send(c, json_pack("{s:s,s:s}", "mcp", "read_file", "path", path));
    return true;
}

static void stdio_process(ctl_client *c)
{
    ctl_mcp_stdio *io = c->mcp_stdio;
    bosun_line line;
    int rc = 0;
    while (!io->held && (rc = bosun_lines_next(io->in, &line)) == 1) {
        if (!stdio_hold(c, line.data, line.len))
            mcp_relay_line(c, line.data, line.len);
        if (c->dead || c->mcp_stdio != io)
            return;
    }
    if (rc < 0) {
        log_warning("control client #%u (uid %d): MCP session %s: a message over %d bytes; "
                    "ending the session",
                    c->serial, (int)c->uid, c->mcp_session, CTL_LINE_MAX);
        stdio_end(c, NULL);
    }
}

static void on_stdio_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    ctl_mcp_stdio *io = w->data;
    size_t room;
    char *space = bosun_lines_space(io->in, 65536, &room);
    if (!space)
        util_oom(65536);
    ssize_t n = read(io->in_fd, space, room);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        /* The agent closed its stdin: the session is over. */
        stdio_end(io->client, "closed");
        return;
    }
    bosun_lines_commit(io->in, (size_t)n);
    stdio_process(io->client);
}

/* bosunctl's answer to read_file: the held call goes on, rewritten. */
static void stdio_file_read(ctl_client *c, json_t *file)
{
    ctl_mcp_stdio *io = c->mcp_stdio;
    mcp_path_apply(io->held, file);
    size_t len;
    char *text = bosun_json_dump(io->held, 0, &len);
    json_decref(io->held);
    io->held = NULL;
    if (text)
        mcp_relay_line(c, text, len); /* only queued: c and io live on */
    free(text);
    ev_io_start(c->srv->loop, &io->rio);
    stdio_process(c);
}

/* ------------------------------------------------------------ handing over */

static bool fd_open_for(int fd, int mode, char *why, size_t size, const char *name)
{
    struct stat st;
    int fl = fcntl(fd, F_GETFL);
    if (fstat(fd, &st) < 0 || fl < 0) {
        snprintf(why, size, "%s: %s", name, strerror(errno));
        return false;
    }
    if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode)) {
        snprintf(why, size, "%s is not a pipe or a socket", name);
        return false;
    }
    int acc = fl & O_ACCMODE;
    if (acc != O_RDWR && acc != mode) {
        snprintf(why, size, "%s is not open for %s", name,
                 mode == O_RDONLY ? "reading" : "writing");
        return false;
    }
    return true;
}

static bool stdio_check(ctl_client *c, char *why, size_t size)
{
    if (c->n_passed != 2) {
        snprintf(why, size,
                 "\"stdio\" needs the agent's stdin and stdout passed with the request "
                 "(SCM_RIGHTS)");
        return false;
    }
    return fd_open_for(c->passed[0], O_RDONLY, why, size, "the passed stdin") &&
           fd_open_for(c->passed[1], O_WRONLY, why, size, "the passed stdout");
}

/* The passed descriptors share their open file descriptions with bosunctl,
 * which no longer uses them: non-blocking is safe for pipes and sockets. */
static void stdio_start(ctl_client *c)
{
    ctl_mcp_stdio *io = xcalloc(1, sizeof *io);
    io->client = c;
    io->in_fd = c->passed[0];
    io->out_fd = c->passed[1];
    io->in = bosun_lines_new(CTL_LINE_MAX, 0);
    if (!io->in)
        util_oom(sizeof(void *));
    c->n_passed = 0;
    fcntl(io->in_fd, F_SETFL, fcntl(io->in_fd, F_GETFL) | O_NONBLOCK);
    fcntl(io->out_fd, F_SETFL, fcntl(io->out_fd, F_GETFL) | O_NONBLOCK);
    ev_io_init(&io->rio, on_stdio_readable, io->in_fd, EV_READ);
    ev_io_init(&io->wio, on_stdio_writable, io->out_fd, EV_WRITE);
    io->rio.data = io->wio.data = io;
    ev_io_start(c->srv->loop, &io->rio);
    c->mcp_stdio = io;
}

static void stdio_free(ctl_client *c)
{
    ctl_mcp_stdio *io = c->mcp_stdio;
    if (!io)
        return;
    c->mcp_stdio = NULL;
    ev_io_stop(c->srv->loop, &io->rio);
    ev_io_stop(c->srv->loop, &io->wio);
    if (outq_pending(&io->out) > 0) /* what fits now; the agent is leaving */
        (void)!write(io->out_fd, io->out.buf + io->out.off, outq_pending(&io->out));
    close(io->in_fd);
    close(io->out_fd);
    json_decref(io->held);
    bosun_lines_free(io->in);
    free(io->out.buf);
    free(io);
}

/* Ends a handed-over session and the connection with it; bosunctl hears
 * "closed" when the agent closed its stdin (its cue to exit 0). */
static void stdio_end(ctl_client *c, const char *why)
{
    mcp_close(c);
    if (why)
        client_send(c, json_pack("{s:s}", "mcp", why));
    if (c->dead)
        return;
    ev_io_stop(c->srv->loop, &c->rio);
    c->read_closed = true;
    if (outq_pending(&c->out) == 0)
        client_close(c);
}

/* ------------------------------------------------------------ session */

void mcp_client_line(ctl_client *c, const char *line, size_t len)
{
    if (!c->mcp_stdio)
        return mcp_relay_line(c, line, len);
    json_t *msg = bosun_json_parse(line, len, BOSUN_JSON_REJECT_DUPLICATES,
                                   NULL); /* not an object: no "op" */
    const char *op = json_string_value(json_object_get(msg, "op"));
    if (op && strcmp(op, "mcp_file") == 0 && c->mcp_stdio->held)
        stdio_file_read(c, msg);
    else
        send_error(c, json_object_get(msg, "id"), "bad_request",
                   "this connection's MCP session reads the agent's stdin; only mcp_file "
                   "answers are expected here");
    json_decref(msg);
}

void mcp_close(ctl_client *c)
{
    if (!c->mcp_session)
        return;
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "%s.%s.closed", BOSUN_MCP_SESSION, c->mcp_session);
    bus_publish_new(c->srv->bus, subject, NULL, json_object());
    if (c->mcp_out)
        bus_unsubscribe(c->srv->bus, c->mcp_out);
    c->mcp_out = NULL;
    stdio_free(c);
    free(c->mcp_session);
    free(c->mcp_in);
    c->mcp_session = c->mcp_in = NULL;
}

/* The limiter's key for the client: its uid (pids are cheap to change). */
static void auth_key(const ctl_client *c, char *key, size_t size)
{
    snprintf(key, size, "uid %d", (int)c->uid);
}

/* Failed and refused token checks, logged at most once a second with how
 * many there were; never the token. */
static void auth_report(ctl_client *c)
{
    ctl_server *srv = c->srv;
    double now = bosun_monotonic();
    if (now < srv->auth_report)
        return;
    log_warning("%s socket: %lu authentication attempts refused as rate-limited and %lu bad "
                "tokens since the last report (latest from client #%u, uid %d, pid %d)",
                srv->name, srv->auth_limited, srv->auth_failed, c->serial, (int)c->uid,
                (int)c->pid);
    srv->auth_limited = srv->auth_failed = 0;
    srv->auth_report = now + 1;
}

/* Whether the client may have a token checked now; counts it if not. */
bool ctl_auth_allowed(ctl_client *c)
{
    char key[64];
    auth_key(c, key, sizeof key);
    if (bosun_authlimit_allow(c->srv->authlimit, key, bosun_monotonic()))
        return true;
    c->srv->auth_limited++;
    auth_report(c);
    return false;
}

void ctl_auth_outcome(ctl_client *c, bool ok)
{
    char key[64];
    auth_key(c, key, sizeof key);
    if (ok) {
        bosun_authlimit_succeeded(c->srv->authlimit, key);
        return;
    }
    bosun_authlimit_failed(c->srv->authlimit, key, bosun_monotonic());
    c->srv->auth_failed++;
    auth_report(c);
}

/* On the agent socket a valid token makes the connection its run's
 * principal, whose only grants are its session's own subjects. */
static void become_agent(ctl_client *c, const char *run, const char *in, const char *out)
{
    bus_principal *p = bus_principal_new("agent", run);
    if (!p || bus_principal_allow(p, BUS_PERM_PUB, in) != 0 ||
        bus_principal_allow(p, BUS_PERM_SUB, out) != 0) {
        log_error("out of memory");
        abort();
    }
    bus_principal_free(c->who);
    c->who = p;
}

static void on_mcp_opened(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    client_request *r = arg;
    ctl_client *c = r->client;
    json_t *id = json_incref(r->id);
    detach_request(c, r);
    c->mcp_opening = false;
    const char *session =
        st == BUS_REPLY_OK ? json_string_value(json_object_get(m->data, "session")) : NULL;
    if (!session || bus_subject_check(session) != 0 || strchr(session, '.')) {
        client_drop_passed(c);
        json_t *e = st == BUS_REPLY_OK ? json_object_get(m->data, "error") : NULL;
        if (e)
            ctl_auth_outcome(c, false);
        const char *msg = json_string_value(json_object_get(e, "message"));
        send_error(c, id, e ? "unauthorized" : "unavailable", "%s",
                   msg                             ? msg
                   : st == BUS_REPLY_NO_RESPONDERS ? "no mcp plugin is loaded"
                                                   : "the mcp plugin did not answer");
        json_decref(id);
        return;
    }
    ctl_auth_outcome(c, true);
    c->mcp_session = xstrdup(session);
    c->mcp_in = xasprintf("%s.%s.in", BOSUN_MCP_SESSION, session);
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "%s.%s.out", BOSUN_MCP_SESSION, session);
    const char *run = json_string_value(json_object_get(m->data, "run"));
    if (c->srv->agent)
        become_agent(c, run ? run : "?", c->mcp_in, subject);
    c->mcp_out = bus_subscribe_as(c->srv->bus, c->who, subject, on_mcp_out, c);
    bool stdio = c->mcp_hand_over && c->n_passed == 2;
    if (stdio)
        stdio_start(c);
    client_drop_passed(c); /* any that came later */
    log_info("control client #%u (uid %d): MCP session %s for run %s%s", c->serial, (int)c->uid,
             session, json_string_value(json_object_get(m->data, "run")) ?: "?",
             stdio ? " (stdio handed over)" : "");
    json_t *result = json_deep_copy(m->data);
    json_object_set_new(result, "stdio", json_boolean(stdio));
    send_result(c, id, result);
    json_decref(id);
}

void op_mcp(ctl_client *c, json_t *id, json_t *req)
{
    const char *token = json_string_value(json_object_get(req, "token"));
    json_t *run = json_object_get(req, "run");
    json_t *stdio = json_object_get(req, "stdio");
    char why[256] = "";
    bool hand_over = json_is_true(stdio);
    const char *code = "bad_request";
    if (!token) {
        code = "unauthorized";
        snprintf(why, sizeof why, "an agent token is required");
    } else if (!ctl_auth_allowed(c)) {
        /* refused before the token is even looked at, valid or not */
        code = "rate_limited";
        snprintf(why, sizeof why, "too many failed attempts to authenticate; try again later");
    } else if (c->mcp_session || c->mcp_opening)
        snprintf(why, sizeof why, "this connection is already an MCP session");
    else if (stdio && !json_is_boolean(stdio))
        snprintf(why, sizeof why, "'stdio' must be true or false");
    else if (hand_over)
        stdio_check(c, why, sizeof why);
    if (why[0] || !hand_over)
        client_drop_passed(c);
    if (why[0])
        return send_error(c, id, code, "%s", why);
    client_request *r = xcalloc(1, sizeof *r);
    r->client = c;
    r->id = json_incref(id);
    json_t *q = json_pack("{s:s,s:O?}", "token", token, "run", json_is_string(run) ? run : NULL);
    r->bus_id = bus_request(c->srv->bus, BOSUN_MCP_OPEN, q, 10, on_mcp_opened, r);
    json_decref(q);
    if (!r->bus_id) {
        client_drop_passed(c);
        json_decref(r->id);
        free(r);
        return send_error(c, id, "internal", "cannot open the session");
    }
    c->mcp_opening = true;
    c->mcp_hand_over = hand_over;
    r->next = c->requests;
    c->requests = r;
}
