#include "config.h"

#include "git_cmd.h"
#include "proc_spawn.h"
#include "util.h"

#include <bosun/log.h>

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Of stderr, enough for git's message. */
#define GIT_ERR_MAX 4096

typedef struct git_buf {
    char *data;
    size_t len, cap, max;
    bool cut;
} git_buf;

struct git_cmd {
    struct ev_loop *loop;
    pid_t pid;
    ev_io out_io, err_io;
    ev_child child;
    ev_timer timer;
    git_buf out, err;
    int status;
    bool exited, timed_out;
    git_cmd_fn done;
    void *arg;
    char what[64]; /* the git subcommand, for the messages */
};

static void buf_add(git_buf *b, const char *p, size_t n)
{
    if (b->len + n > b->max) {
        b->cut = true;
        n = b->max - b->len;
    }
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2 > b->max + 1 ? b->max + 1 : (b->len + n + 1) * 2;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void stop_watchers(git_cmd *c)
{
    ev_io_stop(c->loop, &c->out_io);
    ev_io_stop(c->loop, &c->err_io);
    ev_child_stop(c->loop, &c->child);
    ev_timer_stop(c->loop, &c->timer);
    if (c->out_io.fd >= 0)
        close(c->out_io.fd);
    if (c->err_io.fd >= 0)
        close(c->err_io.fd);
    c->out_io.fd = c->err_io.fd = -1;
}

static void cmd_free(git_cmd *c)
{
    stop_watchers(c);
    free(c->out.data);
    free(c->err.data);
    free(c);
}

/* git's reason: its first "fatal:"/"error:" line, else its first line. */
static void describe_failure(git_cmd *c, char *why, size_t size)
{
    if (c->timed_out) {
        snprintf(why, size, "%s did not finish in time", c->what);
        return;
    }
    if (WIFSIGNALED(c->status)) {
        snprintf(why, size, "%s was killed by signal %d", c->what, WTERMSIG(c->status));
        return;
    }
    const char *e = c->err.data ? c->err.data : "", *line = e;
    for (const char *p = e; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, "fatal:", 6) == 0 || strncmp(p, "error:", 6) == 0) {
            line = p;
            break;
        }
    size_t n = strcspn(line, "\n");
    if (n == 0)
        snprintf(why, size, "%s exited with code %d", c->what, WEXITSTATUS(c->status));
    else
        snprintf(why, size, "%.*s", (int)(n > 400 ? 400 : n), line);
}

static void maybe_done(git_cmd *c)
{
    if (!c->exited || c->out_io.fd >= 0 || c->err_io.fd >= 0)
        return;
    char why[512] = "";
    bool ok = !c->timed_out && WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0;
    if (!ok)
        describe_failure(c, why, sizeof why);
    git_result res = {
        .ok = ok,
        .exit_code = !c->timed_out && WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1,
        .error = why,
        .out = c->out.data ? c->out.data : "",
        .out_len = c->out.len,
        .out_cut = c->out.cut,
    };
    git_cmd_fn done = c->done;
    void *arg = c->arg;
    stop_watchers(c);
    done(&res, arg);
    cmd_free(c);
}

static void read_pipe(git_cmd *c, ev_io *w, git_buf *b)
{
    char chunk[16384];
    for (;;) {
        ssize_t n = read(w->fd, chunk, sizeof chunk);
        if (n > 0) {
            buf_add(b, chunk, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        break; /* end of file, or an error: the pipe is done */
    }
    ev_io_stop(c->loop, w);
    close(w->fd);
    w->fd = -1;
    maybe_done(c);
}

static void on_out(struct ev_loop *loop, ev_io *w, int revents)
{
    git_cmd *c = w->data;
    read_pipe(c, w, &c->out);
}

static void on_err(struct ev_loop *loop, ev_io *w, int revents)
{
    git_cmd *c = w->data;
    read_pipe(c, w, &c->err);
}

static void on_child(struct ev_loop *loop, ev_child *w, int revents)
{
    git_cmd *c = w->data;
    ev_child_stop(loop, w);
    c->status = w->rstatus;
    c->exited = true;
    maybe_done(c);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    git_cmd *c = w->data;
    c->timed_out = true;
    kill(-c->pid, SIGKILL);
}

static char **git_env(void)
{
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    char **env = xcalloc(n + 8, sizeof *env);
    size_t k = 0;
    static const char *const ours[] = {
        "GIT_TERMINAL_PROMPT=", "GIT_OPTIONAL_LOCKS=", "LC_ALL=", "GIT_DIR=",
        "GIT_WORK_TREE=",       "GIT_INDEX_FILE=",     NULL};
    for (char **e = environ; e && *e; e++) {
        bool skip = false;
        for (size_t i = 0; ours[i]; i++)
            skip = skip || strncmp(*e, ours[i], strlen(ours[i])) == 0;
        if (!skip)
            env[k++] = xstrdup(*e);
    }
    env[k++] = xstrdup("GIT_TERMINAL_PROMPT=0");
    env[k++] = xstrdup("GIT_OPTIONAL_LOCKS=0"); /* a snapshot never blocks the agent's git */
    env[k++] = xstrdup("LC_ALL=C");
    env[k] = NULL;
    return env;
}

static char **git_argv(const char *dir, const char *const *args)
{
    size_t n = 0;
    while (args[n])
        n++;
    /* No hook nor monitor of the tree's own configuration runs for us. */
    static const char *const head[] = {
        "git", "-c", "core.fsmonitor=false", "-c", "core.quotepath=off", "-C"};
    size_t h = sizeof head / sizeof head[0];
    char **argv = xcalloc(h + 1 + n + 1, sizeof *argv);
    for (size_t i = 0; i < h; i++)
        argv[i] = xstrdup(head[i]);
    argv[h] = xstrdup(dir);
    for (size_t i = 0; i < n; i++)
        argv[h + 1 + i] = xstrdup(args[i]);
    return argv;
}

static int open_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    return 0;
}

git_cmd *git_cmd_start(struct ev_loop *loop, const char *dir, const char *const *args,
                       const git_as *as, size_t out_max, double timeout, git_cmd_fn done, void *arg,
                       char *err, size_t err_size)
{
    char **argv = git_argv(dir, args);
    char what[64];
    snprintf(what, sizeof what, "git %s", args[0] ? args[0] : "");
    git_cmd *c = git_cmd_start_argv(loop, (const char *const *)argv, what, as, out_max, timeout,
                                    done, arg, err, err_size);
    util_strv_free(argv);
    return c;
}

git_cmd *git_cmd_start_argv(struct ev_loop *loop, const char *const *argv, const char *what,
                            const git_as *as, size_t out_max, double timeout, git_cmd_fn done,
                            void *arg, char *err, size_t err_size)
{
    int o[2], e[2];
    if (open_pipe(o) != 0) {
        snprintf(err, err_size, "cannot run git: %s", strerror(errno));
        return NULL;
    }
    if (open_pipe(e) != 0) {
        snprintf(err, err_size, "cannot run git: %s", strerror(errno));
        close(o[0]);
        close(o[1]);
        return NULL;
    }
    char **env = git_env();
    spawn_request req = {
        .argv = (char *const *)argv, .envp = env, .stdout_fd = o[1], .stderr_fd = e[1]};
    if (as && as->switch_user) {
        req.switch_user = true;
        req.uid = as->uid;
        req.gid = as->gid;
        req.groups = as->groups;
        req.n_groups = as->n_groups;
    }
    pid_t pid = 0;
    int rc = spawn_process(&req, &pid, err, err_size);
    util_strv_free(env);
    close(o[1]);
    close(e[1]);
    if (rc != 0) {
        close(o[0]);
        close(e[0]);
        return NULL;
    }
    git_cmd *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->pid = pid;
    c->done = done;
    c->arg = arg;
    c->out.max = out_max;
    c->err.max = GIT_ERR_MAX;
    snprintf(c->what, sizeof c->what, "%s", what);
    ev_io_init(&c->out_io, on_out, o[0], EV_READ);
    ev_io_init(&c->err_io, on_err, e[0], EV_READ);
    ev_child_init(&c->child, on_child, pid, 0);
    ev_timer_init(&c->timer, on_timeout, timeout, 0);
    c->out_io.data = c->err_io.data = c->child.data = c->timer.data = c;
    ev_io_start(loop, &c->out_io);
    ev_io_start(loop, &c->err_io);
    ev_child_start(loop, &c->child);
    ev_timer_start(loop, &c->timer);
    return c;
}

void git_cmd_cancel(git_cmd *c)
{
    if (!c)
        return;
    if (!c->exited)
        kill(-c->pid, SIGKILL); /* libev reaps it; nobody waits */
    cmd_free(c);
}
