/* bash: runs a command on the loop (ev_child for its exit, ev_io for its
 * output) and answers when both the command has exited and its output has
 * ended.
 *
 * The command's whole process group is ended with it: on timeout or
 * cancel SIGTERM, then SIGKILL 2 s later; when the command exits by
 * itself, whatever it left running in its group (background jobs,
 * double-forked grandchildren) gets the same, so nothing a call started
 * outlives the call.  Under bwrap the group is bwrap's, and
 * --die-with-parent with a private PID namespace ends everything inside. */
#define _GNU_SOURCE
#include "llm_tools_cap.h"
#include "llm_tools_int.h"
#include "llm_tools_scan.h"
#include "llm_tools_spawn.h"

#include <bosun/log.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LT_KILL_GRACE 2.0 /* seconds between SIGTERM and SIGKILL */
#define LT_EOF_GRACE  1.0 /* seconds after SIGKILL before giving up on the pipe */

struct lt_bash {
    llm_tool_job *j;
    struct ev_loop *loop;
    pid_t pid;
    int fd;
    ev_io io;
    ev_child child;
    ev_timer timer; /* the timeout, then the kill escalation */
    struct lt_cap cap;
    double started, timeout;
    int status;
    int kill_stage; /* 0 running, 1 SIGTERM sent, 2 SIGKILL sent */
    bool exited, eof, timed_out;
};

static void lt_bash_stop(struct lt_bash *b)
{
    ev_io_stop(b->loop, &b->io);
    ev_child_stop(b->loop, &b->child);
    ev_timer_stop(b->loop, &b->timer);
    if (b->fd >= 0)
        close(b->fd);
    b->fd = -1;
    lt_cap_free(&b->cap);
}

/* Signals the group, and the leader itself in case it has not made its
 * group yet (a cancel right after the fork). */
static void lt_bash_signal(struct lt_bash *b, int sig)
{
    if (kill(-b->pid, sig) < 0 && !b->exited)
        kill(b->pid, sig);
}

static void lt_bash_escalate(struct lt_bash *b)
{
    b->kill_stage++;
    lt_bash_signal(b, b->kill_stage == 1 ? SIGTERM : SIGKILL);
    ev_timer_stop(b->loop, &b->timer);
    ev_timer_set(&b->timer, b->kill_stage == 1 ? LT_KILL_GRACE : LT_EOF_GRACE, 0);
    ev_timer_start(b->loop, &b->timer);
}

static void lt_bash_cancel(void *impl)
{
    struct lt_bash *b = impl;
    lt_bash_signal(b, SIGKILL);
    lt_bash_stop(b);
    free(b);
}

static void lt_bash_report(void *arg, const char *path, const char *op, const void *content,
                           size_t len)
{
    llm_tool_job *j = arg;
    if (j->t->host.file_changed)
        j->t->host.file_changed(j->t->host.arg, j->call_id, path, op, content, len);
}

static json_t *lt_bash_detail(struct lt_bash *b, size_t kept)
{
    json_t *d = json_pack("{s:f,s:I,s:I,s:b}", "duration", ev_now(b->loop) - b->started, "bytes",
                          (json_int_t)b->cap.total, "cut_bytes",
                          (json_int_t)(b->cap.total - (kept < b->cap.total ? kept : b->cap.total)),
                          "timed_out", b->timed_out);
    if (!d)
        return NULL;
    if (b->exited && WIFEXITED(b->status))
        json_object_set_new(d, "exit_code", json_integer(WEXITSTATUS(b->status)));
    if (b->exited && WIFSIGNALED(b->status)) {
        json_object_set_new(d, "signal", json_integer(WTERMSIG(b->status)));
        json_object_set_new(d, "signal_name",
                            json_string(sigabbrev_np(WTERMSIG(b->status))
                                            ? sigabbrev_np(WTERMSIG(b->status))
                                            : "?"));
    }
    json_t *scan = lts_rescan(b->j->t->scan, lt_bash_report, b->j);
    if (scan)
        json_object_set_new(d, "scan", scan);
    return d;
}

static void lt_bash_finish(struct lt_bash *b)
{
    size_t len = 0;
    char *raw = lt_cap_render(&b->cap, &len);
    char *out = raw ? lt_text(raw, len) : NULL;
    free(raw);
    json_t *detail = lt_bash_detail(b, b->cap.head_len + b->cap.tail_len);
    llm_tool_job *j = b->j;
    bool ok = b->exited && WIFEXITED(b->status) && WEXITSTATUS(b->status) == 0 && !b->timed_out;
    int code = b->exited && WIFEXITED(b->status) ? WEXITSTATUS(b->status) : -1;
    int sig = b->exited && WIFSIGNALED(b->status) ? WTERMSIG(b->status) : 0;
    double timeout = b->timeout;
    bool timed_out = b->timed_out;
    lt_bash_stop(b);
    free(b);
    if (out && !ok)
        j->content = strdup(out); /* the model sees the output of a failure too */
    if (!out)
        lt_job_fail(j, "runtime", detail, "out of memory");
    else if (ok)
        lt_job_ok(j, out, detail);
    else if (timed_out)
        lt_job_fail(j, "timeout", detail,
                    "the command timed out after %g s and was killed with its process group; "
                    "output so far:\n%s",
                    timeout, out);
    else if (sig)
        lt_job_fail(j, "runtime", detail,
                    "the command was killed by signal %d (SIG%s); output:\n%s", sig,
                    sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", out);
    else
        lt_job_fail(j, "runtime", detail, "the command exited with code %d; output:\n%s", code,
                    out);
    if (out && !ok)
        free(out);
}

/* Called when the command exits or its output ends: done when both have,
 * else whatever still holds the pipe is in the group and is ended. */
static void lt_bash_progress(struct lt_bash *b)
{
    if (b->exited && b->eof) {
        lt_bash_finish(b);
        return;
    }
    if (b->exited && b->kill_stage == 0)
        lt_bash_escalate(b);
}

static void lt_bash_on_output(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    struct lt_bash *b = w->data;
    char buf[16384];
    for (int i = 0; i < 16; i++) { /* bounded: let the loop breathe */
        ssize_t n = read(b->fd, buf, sizeof buf);
        if (n > 0) {
            lt_cap_feed(&b->cap, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        b->eof = true;
        ev_io_stop(b->loop, &b->io);
        lt_bash_progress(b);
        return;
    }
}

static void lt_bash_on_exit(struct ev_loop *loop, ev_child *w, int revents)
{
    (void)revents;
    struct lt_bash *b = w->data;
    ev_child_stop(loop, w);
    b->exited = true;
    b->status = w->rstatus;
    lt_bash_progress(b);
}

static void lt_bash_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct lt_bash *b = w->data;
    if (b->kill_stage == 0 && !b->exited)
        b->timed_out = true;
    if (b->kill_stage < 2) {
        lt_bash_escalate(b);
        return;
    }
    /* SIGKILL sent LT_EOF_GRACE ago and the pipe is still open: a process
     * that left the group (setsid) holds it.  Answer without it. */
    log_warning("llm tools: bash call %s: output still open after SIGKILL; answering without it",
                b->j->call_id);
    b->eof = true;
    if (!b->exited) {
        b->exited = true;
        b->status = W_EXITCODE(0, SIGKILL);
    }
    lt_bash_finish(b);
}

static int lt_bash_timeout(llm_tool_job *j, json_t *args, double *timeout)
{
    json_t *v = json_object_get(args, "timeout");
    *timeout = v ? json_number_value(v) : j->t->bash.timeout;
    if (*timeout > j->t->bash.max_timeout) {
        lt_job_fail(j, "invalid", NULL, "timeout %g s is above the maximum of %g s", *timeout,
                    j->t->bash.max_timeout);
        return -1;
    }
    return 0;
}

void lt_bash(llm_tool_job *j, json_t *args)
{
    double timeout;
    if (lt_bash_timeout(j, args, &timeout) < 0)
        return;
    struct lt_bash *b = calloc(1, sizeof *b);
    if (!b || lt_cap_init(&b->cap, j->t->bash.output_max) < 0) {
        free(b);
        lt_job_fail(j, "runtime", NULL, "out of memory");
        return;
    }
    char err[256];
    b->j = j;
    b->loop = j->t->loop;
    b->timeout = timeout;
    b->pid = lt_spawn(j->t, json_string_value(json_object_get(args, "command")), &b->fd, err,
                      sizeof err);
    if (b->pid < 0) {
        lt_cap_free(&b->cap);
        free(b);
        lt_job_fail(j, "runtime", NULL, "cannot run the command: %s", err);
        return;
    }
    b->started = ev_now(b->loop);
    ev_io_init(&b->io, lt_bash_on_output, b->fd, EV_READ);
    ev_child_init(&b->child, lt_bash_on_exit, b->pid, 0);
    ev_timer_init(&b->timer, lt_bash_on_timer, timeout, 0);
    b->io.data = b->child.data = b->timer.data = b;
    ev_io_start(b->loop, &b->io);
    ev_child_start(b->loop, &b->child);
    ev_timer_start(b->loop, &b->timer);
    j->impl = b;
    j->impl_cancel = lt_bash_cancel;
}
