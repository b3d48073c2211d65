/* `bosunctl mcp`: an MCP server on stdin/stdout for agents, relaying each
 * JSON-RPC message to bosund's mcp plugin over the control socket.  Only
 * JSON-RPC goes to stdout; diagnostics go to stderr.  It ends when stdin
 * closes. */
#include "config.h"

#include "bosunctl.h"
#include "ctl_client.h"
#include "proc_output.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MCP_UNAUTHORIZED  (-32001)
#define ARTIFACT_FILE_MAX (10 * 1024 * 1024)
#define LINE_MAX_BYTES    (8 * 1024 * 1024)

static void emit(json_t *msg)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!s)
        return;
    fputs(s, stdout);
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
    return xstrdup(buf);
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
        json_t *msg = json_loadb(line, (size_t)n, 0, NULL);
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

/* add_artifact with "path": the file is read here, with the agent's own
 * permissions and working directory, never by the daemon. */
static json_t *inline_artifact_path(json_t *msg, json_t **error_result)
{
    *error_result = NULL;
    json_t *params = json_object_get(msg, "params");
    json_t *args = json_object_get(params, "arguments");
    const char *name = json_string_value(json_object_get(params, "name"));
    const char *path = json_string_value(json_object_get(args, "path"));
    const char *method = json_string_value(json_object_get(msg, "method"));
    if (!method || strcmp(method, "tools/call") || !name || strcmp(name, "add_artifact") || !path)
        return NULL;
    char reason[512] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        snprintf(reason, sizeof reason, "cannot read %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        snprintf(reason, sizeof reason, "%s is not a regular file", path);
    else if (st.st_size > ARTIFACT_FILE_MAX)
        snprintf(reason, sizeof reason, "%s is over %d bytes", path, ARTIFACT_FILE_MAX);
    char *data = NULL;
    size_t len = 0;
    if (!reason[0]) {
        data = xmalloc((size_t)st.st_size + 1);
        ssize_t got;
        while (len < (size_t)st.st_size &&
               (got = read(fd, data + len, (size_t)st.st_size - len)) > 0)
            len += (size_t)got;
    }
    if (fd >= 0)
        close(fd);
    if (reason[0]) {
        *error_result = json_pack("{s:s,s:O,s:{s:[{s:s,s:s}],s:b}}", "jsonrpc", "2.0", "id",
                                  json_object_get(msg, "id"), "result", "content", "type", "text",
                                  "text", reason, "isError", 1);
        return NULL;
    }
    json_t *copy = json_deep_copy(msg);
    json_t *a = json_object_get(json_object_get(copy, "params"), "arguments");
    json_object_del(a, "path");
    if (utf8_text(data, len)) {
        json_object_set_new(a, "content", json_stringn(data, len));
    } else {
        char *b64 = util_base64_encode(data, len);
        json_object_set_new(a, "content_base64", json_string(b64));
        free(b64);
    }
    free(data);
    return copy;
}

/* One message and its newline in one write, so the other side reads it
 * whole. */
static int write_line(int fd, const char *line, size_t len)
{
    char small[4096];
    if (len < sizeof small) {
        memcpy(small, line, len);
        small[len] = '\n';
        return ctl_write_all(fd, small, len + 1);
    }
    return ctl_write_all(fd, line, len) < 0 ? -1 : ctl_write_all(fd, "\n", 1);
}

/* One line from the agent to the daemon. */
static int forward(int fd, const char *line, size_t len)
{
    /* Only add_artifact calls are ever rewritten: spare every other message
     * a parse on the way through. */
    if (!memmem(line, len, "add_artifact", 12))
        return write_line(fd, line, len);
    json_t *msg = json_loadb(line, len, 0, NULL);
    json_t *err_result = NULL;
    json_t *rewritten = json_is_object(msg) ? inline_artifact_path(msg, &err_result) : NULL;
    json_decref(msg);
    if (err_result) {
        emit(err_result);
        return 0;
    }
    char *text = rewritten ? json_dumps(rewritten, JSON_COMPACT) : NULL;
    json_decref(rewritten);
    int rc = text ? write_line(fd, text, strlen(text)) : write_line(fd, line, len);
    free(text);
    return rc;
}

/* Copies the complete lines of buf to stdout in one write, keeps the rest. */
static void drain_lines(char *buf, size_t *len)
{
    char *last = memrchr(buf, '\n', *len);
    if (!last)
        return;
    size_t n = (size_t)(last - buf) + 1;
    if (ctl_write_all(1, buf, n) < 0)
        fprintf(stderr, "bosunctl mcp: cannot write to stdout: %s\n", strerror(errno));
    memmove(buf, buf + n, *len - n);
    *len -= n;
}

static int relay(int sock)
{
    char *in = xmalloc(65536), *from = xmalloc(65536);
    size_t in_len = 0, in_cap = 65536, from_len = 0, from_cap = 65536;
    bool stdin_open = true;
    int rc = 0;
    for (;;) {
        struct pollfd fds[2] = {{.fd = sock, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
        if (poll(fds, stdin_open ? 2 : 1, -1) < 0) {
            if (errno == EINTR && !interrupted)
                continue;
            break;
        }
        if (fds[0].revents) {
            if (from_cap - from_len < 65536)
                from = xrealloc(from, from_cap *= 2);
            ssize_t n = read(sock, from + from_len, from_cap - from_len);
            if (n <= 0) {
                if (stdin_open)
                    fprintf(stderr, "bosunctl mcp: the daemon closed the session\n");
                rc = stdin_open ? 1 : 0;
                break;
            }
            from_len += (size_t)n;
            drain_lines(from, &from_len);
        }
        if (stdin_open && fds[1].revents) {
            if (in_cap - in_len < 65536)
                in = xrealloc(in, in_cap *= 2);
            ssize_t n = read(0, in + in_len, in_cap - in_len);
            if (n <= 0) {
                /* The client is done: let the daemon finish and close. */
                stdin_open = false;
                shutdown(sock, SHUT_WR);
                continue;
            }
            in_len += (size_t)n;
            size_t start = 0;
            for (char *nl; (nl = memchr(in + start, '\n', in_len - start));) {
                if (forward(sock, in + start, (size_t)(nl - (in + start))) < 0) {
                    fprintf(stderr, "bosunctl mcp: cannot write to the daemon: %s\n",
                            strerror(errno));
                    rc = 1;
                    goto out;
                }
                start = (size_t)(nl - in) + 1;
            }
            memmove(in, in + start, in_len - start);
            in_len -= start;
            if (in_len > LINE_MAX_BYTES) {
                fprintf(stderr, "bosunctl mcp: a message over %d bytes; giving up\n",
                        LINE_MAX_BYTES);
                rc = 1;
                break;
            }
        }
    }
out:
    free(in);
    free(from);
    return rc;
}

int cmd_mcp(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 0)
        return die(EX_USAGE_, "usage: bosunctl mcp [--token-file FILE]");
    char err[512];
    char *token = read_token(o->token_file, err, sizeof err);
    if (!token)
        return mcp_refuse_all(err);
    json_t *req = json_pack("{s:s,s:s}", "op", "mcp", "token", token);
    explicit_bzero(token, strlen(token));
    free(token);
    const char *run = getenv("BOSUN_RUN_ID");
    if (run && *run)
        json_object_set_new(req, "run", json_string(run));
    json_t *resp = ctl_call(conn, req, 15, err, sizeof err);
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
    json_decref(resp);
    return relay(ctl_fd(conn));
}
