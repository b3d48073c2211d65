/* `bosunctl mcp`: an MCP server on stdin/stdout for agents.  Only JSON-RPC
 * goes to stdout; diagnostics go to stderr.  It ends when stdin closes.
 *
 * It authenticates over the control socket with the run's token, then
 * either hands its stdin and stdout to bosund (SCM_RIGHTS) so that the
 * daemon's mcp session reads and writes them directly -- one process hop
 * less on every call -- or, when they are not pipes or sockets (a
 * terminal, a file) or with --relay, relays each line itself.  Either way
 * files named by add_artifact's "path" are read here, with the agent's
 * rights, never by the daemon. */
#include "config.h"

#include "bosunctl.h"
#include "ctl_client.h"
#include "mcp_path.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bosun/sys.h>
#include <bosun/json.h>
#include <bosun/lines.h>

#define MCP_UNAUTHORIZED (-32001)
#define LINE_MAX_BYTES   (8 * 1024 * 1024)

static void emit(json_t *msg)
{
    size_t len;
    char *s = bosun_json_dump(msg, 0, &len);
    json_decref(msg);
    if (!s)
        return;
    fwrite(s, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    free(s);
}

static char *read_token(const char *file, char *err, size_t err_size)
{
    if (!file) {
        const char *env = getenv("BOSUN_AGENT_TOKEN");
        if (env && *env)
            return xstrdup(env);
        snprintf(err, err_size, "no agent token: set BOSUN_AGENT_TOKEN or pass --token-file");
        return NULL;
    }
    FILE *f = fopen(file, "re");
    if (!f) {
        snprintf(err, err_size, "cannot read the token file %s: %s", file, strerror(errno));
        return NULL;
    }
    char buf[256] = "";
    if (!fgets(buf, sizeof buf, f))
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) {
        snprintf(err, err_size, "the token file %s is empty", file);
        return NULL;
    }
    char *token = xstrdup(buf);
    explicit_bzero(buf, sizeof buf);
    return token;
}

/* Without a session every request gets the reason as a JSON-RPC error, so
 * the agent's MCP client reports it instead of hanging. */
int mcp_refuse_all(const char *reason)
{
    fprintf(stderr, "bosunctl mcp: %s\n", reason);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        /* Refused as the MCP server would refuse it: a parse error. */
        json_t *msg = bosun_json_parse(line, (size_t)n, BOSUN_JSON_REJECT_DUPLICATES, NULL);
        json_t *id = json_object_get(msg, "id");
        if (json_is_object(msg) && id && !json_is_null(id) && json_object_get(msg, "method"))
            emit(json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id, "error", "code",
                           MCP_UNAUTHORIZED, "message", reason));
        else if (!json_is_object(msg) && n > 1)
            emit(json_pack("{s:s,s:n,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", "error", "code", -32700,
                           "message", "Parse error"));
        json_decref(msg);
    }
    free(line);
    return 0;
}

/* One message and its newline in one write, so the other side reads it
 * whole. */
static int write_line(int fd, const char *line, size_t len)
{
    char small[4096];
    if (len < sizeof small) {
        memcpy(small, line, len);
        small[len] = '\n';
        return bosun_write_all(fd, small, len + 1);
    }
    return bosun_write_all(fd, line, len) < 0 ? -1 : bosun_write_all(fd, "\n", 1);
}

/* One line from the agent to the daemon. */
static int forward(int fd, const char *line, size_t len)
{
    const char *path;
    json_t *msg = mcp_path_wanted(line, len, &path);
    if (!msg)
        return write_line(fd, line, len);
    json_t *file = mcp_path_read(path);
    mcp_path_apply(msg, file);
    json_decref(file);
    size_t text_len;
    char *text = bosun_json_dump(msg, 0, &text_len);
    json_decref(msg);
    int rc = text ? write_line(fd, text, text_len) : write_line(fd, line, len);
    free(text);
    return rc;
}

/* Copies the complete lines held to stdout in one write (taken lines lie
 * one after the other in the buffer), keeps the rest. */
static void drain_lines(bosun_lines *from)
{
    bosun_line line;
    const char *first = NULL, *end = NULL;
    while (bosun_lines_next(from, &line) == 1) {
        if (!first)
            first = line.data;
        end = line.data + line.len + 1;
    }
    if (first && bosun_write_all(1, first, (size_t)(end - first)) < 0)
        fprintf(stderr, "bosunctl mcp: cannot write to stdout: %s\n", strerror(errno));
}

/* Reads what fd has into l: the count read, 0 at its end, -1 on an error. */
static ssize_t read_into(bosun_lines *l, int fd)
{
    size_t room;
    char *space = bosun_lines_space(l, 65536, &room);
    if (!space)
        util_oom(65536);
    ssize_t n = read(fd, space, room);
    if (n > 0)
        bosun_lines_commit(l, (size_t)n);
    return n;
}

/* Forwards each complete line from the agent: 0, or -1 when the daemon
 * cannot be written to or a line is too long (said on stderr). */
static int forward_lines(int sock, bosun_lines *in)
{
    bosun_line line;
    int rc;
    while ((rc = bosun_lines_next(in, &line)) == 1)
        if (forward(sock, line.data, line.len) < 0) {
            fprintf(stderr, "bosunctl mcp: cannot write to the daemon: %s\n", strerror(errno));
            return -1;
        }
    if (rc < 0)
        fprintf(stderr, "bosunctl mcp: a message over %d bytes; giving up\n", LINE_MAX_BYTES);
    return rc < 0 ? -1 : 0;
}

static int relay(ctl_conn *conn)
{
    int sock = ctl_fd(conn);
    bosun_lines *in = bosun_lines_new(LINE_MAX_BYTES, 0);
    bosun_lines *from = bosun_lines_new((size_t)1 << 30, 0);
    if (!in || !from)
        util_oom(sizeof(void *));
    bool stdin_open = true;
    int rc = 0;
    /* What the call read past its response came from the daemon first. */
    size_t early;
    const char *buffered = ctl_buffered(conn, &early);
    if (early > 0) {
        if (bosun_lines_append(from, buffered, early) < 0)
            util_oom(early);
        ctl_consume(conn, early);
        drain_lines(from);
    }
    for (;;) {
        struct pollfd fds[2] = {{.fd = sock, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
        if (poll(fds, stdin_open ? 2 : 1, -1) < 0) {
            if (errno == EINTR && !interrupted)
                continue;
            break;
        }
        if (fds[0].revents) {
            if (read_into(from, sock) <= 0) {
                if (stdin_open)
                    fprintf(stderr, "bosunctl mcp: the daemon closed the session\n");
                rc = stdin_open ? 1 : 0;
                break;
            }
            drain_lines(from);
        }
        if (stdin_open && fds[1].revents) {
            if (read_into(in, 0) <= 0) {
                /* The client is done: let the daemon finish and close. */
                stdin_open = false;
                shutdown(sock, SHUT_WR);
                continue;
            }
            if (forward_lines(sock, in) < 0) {
                rc = 1;
                break;
            }
        }
    }
    bosun_lines_free(in);
    bosun_lines_free(from);
    return rc;
}

/* Pipes and sockets can be served by the daemon without blocking it; a
 * terminal or a file is relayed here. */
static bool can_hand_over(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* After the handover the daemon speaks MCP on our stdin and stdout; this
 * end of the control socket only carries its requests to read files for
 * add_artifact, and the word that the session ended. */
static int serve_handover(ctl_conn *conn)
{
    char err[512];
    while (!interrupted) {
        int timed_out;
        json_t *m = ctl_read(conn, -1, &timed_out, err, sizeof err);
        if (!m)
            break;
        const char *what = json_string_value(json_object_get(m, "mcp"));
        if (what && strcmp(what, "closed") == 0) {
            json_decref(m);
            return 0;
        }
        if (what && strcmp(what, "ended") == 0) {
            /* The run ended: its token is dead, the session with it. */
            const char *reason = json_string_value(json_object_get(m, "reason"));
            fprintf(stderr, "bosunctl mcp: the daemon closed the session: %s\n",
                    reason ? reason : "it ended");
            json_decref(m);
            return 1;
        }
        const char *path = json_string_value(json_object_get(m, "path"));
        if (what && strcmp(what, "read_file") == 0 && path) {
            json_t *reply = mcp_path_read(path);
            json_object_set_new(reply, "op", json_string("mcp_file"));
            int rc = ctl_send(conn, reply);
            json_decref(reply);
            if (rc < 0) {
                json_decref(m);
                break;
            }
        }
        json_decref(m);
    }
    if (interrupted)
        return 0;
    fprintf(stderr, "bosunctl mcp: the daemon closed the session\n");
    return 1;
}

int cmd_mcp(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 0)
        return die(EX_USAGE_, "usage: bosunctl mcp [--token-file FILE] [--relay]");
    char err[512];
    char *token = read_token(o->token_file, err, sizeof err);
    if (!token)
        return mcp_refuse_all(err);
    bool hand_over = !o->relay && can_hand_over(0) && can_hand_over(1);
    json_t *req = json_pack("{s:s,s:s}", "op", "mcp", "token", token);
    explicit_bzero(token, strlen(token));
    free(token);
    const char *run = getenv("BOSUN_RUN_ID");
    if (run && *run)
        json_object_set_new(req, "run", json_string(run));
    if (hand_over)
        json_object_set_new(req, "stdio", json_true());
    static const int stdio[2] = {0, 1};
    json_t *resp = ctl_call_fds(conn, req, stdio, hand_over ? 2 : 0, 15, err, sizeof err);
    json_decref(req);
    if (!resp)
        return mcp_refuse_all(err);
    if (!json_is_true(json_object_get(resp, "ok"))) {
        const char *msg =
            json_string_value(json_object_get(json_object_get(resp, "error"), "message"));
        snprintf(err, sizeof err, "unauthorized: %s", msg ? msg : "refused");
        json_decref(resp);
        return mcp_refuse_all(err);
    }
    bool handed_over = json_is_true(json_object_get(json_object_get(resp, "result"), "stdio"));
    json_decref(resp);
    return handed_over ? serve_handover(conn) : relay(conn);
}
