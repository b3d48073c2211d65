#include "config.h"

#include "ctl_client.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bosun/sys.h>
#include <bosun/json.h>
#include <bosun/lines.h>

/* No reply line is near this; past it the connection is broken. */
#define CTL_CLIENT_LINE_MAX ((size_t)1 << 30)

/* A control socket connection. */
typedef struct ctl_sock {
    ctl_conn base; /* first: a ctl_sock is a ctl_conn */
    int fd;
    json_t *pending;     /* stream messages read while waiting for a response */
    size_t pending_head; /* the next one to hand out: taking from the front stays O(1) */
    bosun_lines *in;     /* what the daemon sent, framed */
    json_int_t next_id;
} ctl_sock;

static json_t *sock_call(ctl_conn *conn, json_t *req, double timeout, char *err, size_t err_size);
static json_t *sock_read(ctl_conn *conn, json_int_t after, double timeout, int *timed_out,
                         char *err, size_t err_size);
static void sock_close(ctl_conn *conn);

static const ctl_conn_ops sock_ops = {
    .name = "control socket", .call = sock_call, .read = sock_read, .close = sock_close};

/* ------------------------------------------------------------ any transport */

json_t *ctl_call(ctl_conn *c, json_t *req, double timeout, char *err, size_t err_size)
{
    c->failure = CTL_FAIL_UNAVAILABLE;
    return c->ops->call(c, req, timeout, err, err_size);
}

json_t *ctl_read_after(ctl_conn *c, json_int_t after, double timeout, int *timed_out, char *err,
                       size_t err_size)
{
    c->failure = CTL_FAIL_UNAVAILABLE;
    return c->ops->read(c, after, timeout, timed_out, err, err_size);
}

json_t *ctl_read(ctl_conn *c, double timeout, int *timed_out, char *err, size_t err_size)
{
    return ctl_read_after(c, -1, timeout, timed_out, err, err_size);
}

void ctl_close(ctl_conn *c)
{
    if (c)
        c->ops->close(c);
}

/* ------------------------------------------------------------ control socket */

int ctl_is_socket(const ctl_conn *c)
{
    return c && c->ops == &sock_ops;
}

/* The socket behind c; a caller that passes another transport is wrong. */
static ctl_sock *sock_of(const ctl_conn *c)
{
    if (!ctl_is_socket(c))
        abort();
    return (ctl_sock *)c;
}

ctl_conn *ctl_connect(const char *path, enum ctl_connect_error *why, char *err, size_t err_size)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        *why = CTL_CONNECT_OTHER;
        snprintf(err, err_size, "socket path too long: %s", path);
        return NULL;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        *why = (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR) ? CTL_CONNECT_NOT_RUNNING
               : (e == EACCES || e == EPERM)                      ? CTL_CONNECT_DENIED
                                                                  : CTL_CONNECT_OTHER;
        snprintf(err, err_size, "cannot connect to %s: %s", path, strerror(e));
        return NULL;
    }
    ctl_sock *c = xcalloc(1, sizeof *c);
    c->base.ops = &sock_ops;
    c->fd = fd;
    c->pending = json_array();
    c->in = bosun_lines_new(CTL_CLIENT_LINE_MAX, 0);
    if (!c->in)
        util_oom(sizeof(void *));
    *why = CTL_CONNECT_OK;
    return &c->base;
}

int ctl_fd(const ctl_conn *c)
{
    return sock_of(c)->fd;
}

const char *ctl_buffered(const ctl_conn *c, size_t *len)
{
    return bosun_lines_pending(sock_of(c)->in, len);
}

void ctl_consume(ctl_conn *c, size_t n)
{
    bosun_lines_skip(sock_of(c)->in, n);
}

static void sock_close(ctl_conn *conn)
{
    ctl_sock *c = sock_of(conn);
    close(c->fd);
    json_decref(c->pending);
    bosun_lines_free(c->in);
    free(c);
}

static json_t *take_line(ctl_sock *c, char *err, size_t err_size, int *bad)
{
    bosun_line line;
    int rc = bosun_lines_next(c->in, &line);
    if (rc < 0) {
        *bad = 1;
        snprintf(err, err_size, "the daemon sent a line over %zu bytes", CTL_CLIENT_LINE_MAX);
    }
    if (rc != 1)
        return NULL;
    bosun_json_error je;
    json_t *obj = bosun_json_parse(line.data, line.len, BOSUN_JSON_REJECT_DUPLICATES, &je);
    if (!obj) {
        *bad = 1;
        snprintf(err, err_size, "the daemon sent invalid JSON: %s", je.text);
    } else if (!json_is_object(obj)) {
        *bad = 1;
        snprintf(err, err_size, "the daemon sent JSON that is not an object");
        json_decref(obj);
        obj = NULL;
    }
    return obj;
}

static json_t *read_line(ctl_sock *c, double timeout, int *timed_out, char *err, size_t err_size);

/* Every event reaches the socket's subscriptions: `after` changes nothing. */
static json_t *sock_read(ctl_conn *conn, json_int_t after, double timeout, int *timed_out,
                         char *err, size_t err_size)
{
    ctl_sock *c = sock_of(conn);
    *timed_out = 0;
    if (c->pending_head < json_array_size(c->pending)) {
        json_t *m = json_incref(json_array_get(c->pending, c->pending_head++));
        if (c->pending_head == json_array_size(c->pending)) {
            json_array_clear(c->pending);
            c->pending_head = 0;
        }
        return m;
    }
    return read_line(c, timeout, timed_out, err, err_size);
}

static json_t *read_line(ctl_sock *c, double timeout, int *timed_out, char *err, size_t err_size)
{
    *timed_out = 0;
    double deadline = timeout >= 0 ? bosun_monotonic() + timeout : 0;
    for (;;) {
        int bad = 0;
        json_t *obj = take_line(c, err, err_size, &bad);
        if (obj || bad)
            return obj;
        int wait_ms = -1;
        if (timeout >= 0) {
            double left = deadline - bosun_monotonic();
            if (left <= 0) {
                *timed_out = 1;
                snprintf(err, err_size, "no answer from the daemon in %.1f s", timeout);
                return NULL;
            }
            wait_ms = (int)(left * 1000) + 1;
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int r = poll(&p, 1, wait_ms);
        if (r < 0 && errno == EINTR)
            return NULL; /* interrupted: the caller checks its signal flag */
        if (r <= 0)
            continue;
        size_t room;
        char *space = bosun_lines_space(c->in, 65536, &room);
        if (!space)
            util_oom(65536);
        ssize_t n = read(c->fd, space, room);
        if (n < 0 && errno == EINTR)
            return NULL;
        if (n <= 0) {
            snprintf(err, err_size, "the daemon closed the connection");
            return NULL;
        }
        bosun_lines_commit(c->in, (size_t)n);
    }
}

/* The line and its newline; fds (if any) ride on its first byte. */
static int send_line(ctl_sock *c, const char *line, size_t len, const int *fds, int nfds)
{
    if (nfds <= 0)
        return bosun_write_all(c->fd, line, len);
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
    } ctrl;
    memset(&ctrl, 0, sizeof ctrl);
    struct iovec iov = {.iov_base = (void *)line, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctrl.space,
                        .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
    ssize_t n;
    do
        n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    return bosun_write_all(c->fd, line + n, len - (size_t)n);
}

/* msg as one compact line with its newline, or NULL. */
static char *encode_line(json_t *msg, size_t *len)
{
    bosun_json_buf b = {0};
    if (bosun_json_append(&b, msg, 0) != 0 || bosun_json_append_raw(&b, "\n", 1) != 0) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

int ctl_send(ctl_conn *conn, json_t *msg)
{
    ctl_sock *c = sock_of(conn);
    size_t len;
    char *line = encode_line(msg, &len);
    if (!line) {
        errno = EINVAL;
        return -1;
    }
    int rc = bosun_write_all(c->fd, line, len);
    free(line);
    return rc;
}

static json_t *sock_call(ctl_conn *conn, json_t *req, double timeout, char *err, size_t err_size)
{
    return ctl_call_fds(conn, req, NULL, 0, timeout, err, err_size);
}

json_t *ctl_call_fds(ctl_conn *conn, json_t *req, const int *fds, int nfds, double timeout,
                     char *err, size_t err_size)
{
    ctl_sock *c = sock_of(conn);
    json_int_t id = ++c->next_id;
    json_object_set_new(req, "id", json_integer(id));
    size_t len;
    char *line = nfds <= CTL_MAX_FDS ? encode_line(req, &len) : NULL;
    if (!line) {
        snprintf(err, err_size, "cannot encode the request");
        return NULL;
    }
    int rc = send_line(c, line, len, fds, nfds);
    free(line);
    if (rc < 0) {
        snprintf(err, err_size, "cannot send to the daemon: %s", strerror(errno));
        return NULL;
    }
    for (;;) {
        int timed_out;
        json_t *obj = read_line(c, timeout, &timed_out, err, err_size);
        if (!obj)
            return NULL;
        json_t *rid = json_object_get(obj, "id");
        if (json_is_integer(rid) && json_integer_value(rid) == id)
            return obj;
        if (json_object_get(obj, "sub"))
            json_array_append_new(c->pending, obj); /* for ctl_read, in order */
        else
            json_decref(obj);
    }
}
