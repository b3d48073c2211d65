#include "config.h"

#include "proc_output.h"
#include "fsafe.h"
#include "util.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bosun/lines.h>
#include <bosun/log.h>

#define READ_CHUNK (256 * 1024) /* more lines per read: fewer, larger commits */

typedef struct output_pipe {
    output_capture *oc;
    enum bosun_stream stream;
    int fd;
    ev_io io;
    bosun_lines *lines; /* what was read and not yet handed over; NULL
                         * until the first read */
} output_pipe;

struct output_capture {
    struct ev_loop *loop;
    size_t line_max;
    output_line_cb cb;
    void (*flush)(void *arg);
    void *arg;
    output_pipe pipes[2];
    bool paused;
    bool started;
};

/* Hands over every complete line and piece (see <bosun/lines.h>), and at
 * the end the bytes after the last newline. */
static void split_lines(output_pipe *p, bool at_eof)
{
    output_capture *oc = p->oc;
    bosun_line line;
    while (p->lines &&
           (at_eof ? bosun_lines_finish(p->lines, &line) : bosun_lines_next(p->lines, &line)) == 1)
        oc->cb(oc->arg, p->stream, &line);
}

enum read_result { READ_DATA, READ_AGAIN, READ_EOF };

/* READ_EOF also stands for a read error: either way the pipe is done. */
static enum read_result read_once(output_pipe *p)
{
    if (!p->lines) {
        p->lines = bosun_lines_new(p->oc->line_max, BOSUN_LINES_CUT | BOSUN_LINES_STRIP_CR);
        if (!p->lines)
            util_oom(p->oc->line_max);
    }
    char *space = bosun_lines_space(p->lines, READ_CHUNK, NULL);
    if (!space)
        util_oom(READ_CHUNK);
    ssize_t n = read(p->fd, space, READ_CHUNK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return READ_AGAIN;
    if (n <= 0)
        return READ_EOF;
    bosun_lines_commit(p->lines, (size_t)n);
    split_lines(p, false);
    /* The read buffer is held only while a partial line is: a run that
     * has gone quiet does not keep READ_CHUNK per stream, of which the
     * pages its last read touched stay resident.  The allocator reuses
     * the freed buffer for the next read of any run. */
    bosun_lines_trim(p->lines, 0);
    if (p->oc->flush)
        p->oc->flush(p->oc->arg);
    return READ_DATA;
}

static void close_pipe(output_pipe *p)
{
    if (p->fd < 0)
        return;
    ev_io_stop(p->oc->loop, &p->io);
    split_lines(p, true);
    close(p->fd);
    p->fd = -1;
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    output_pipe *p = w->data;
    if (read_once(p) == READ_EOF)
        close_pipe(p);
}

output_capture *output_new(struct ev_loop *loop, size_t line_max, output_line_cb cb,
                           void (*flush)(void *arg), void *arg, int *child_out, int *child_err)
{
    int fds[2][2];
    if (pipe2(fds[0], O_CLOEXEC) < 0)
        return NULL;
    if (pipe2(fds[1], O_CLOEXEC) < 0) {
        int saved = errno;
        close(fds[0][0]);
        close(fds[0][1]);
        errno = saved;
        return NULL;
    }
    output_capture *oc = xcalloc(1, sizeof *oc);
    oc->loop = loop;
    oc->line_max = line_max;
    oc->cb = cb;
    oc->flush = flush;
    oc->arg = arg;
    for (int i = 0; i < 2; i++) {
        output_pipe *p = &oc->pipes[i];
        p->oc = oc;
        p->stream = i == 0 ? BOSUN_STREAM_STDOUT : BOSUN_STREAM_STDERR;
        p->fd = fds[i][0];
        /* A new pipe has no other status flags, and pipe2 made it close-on-exec. */
        fcntl(p->fd, F_SETFL, O_NONBLOCK);
        ev_io_init(&p->io, on_readable, p->fd, EV_READ);
        p->io.data = p;
    }
    *child_out = fds[0][1];
    *child_err = fds[1][1];
    return oc;
}

void output_start(output_capture *oc)
{
    oc->started = true;
    for (int i = 0; i < 2; i++)
        if (oc->pipes[i].fd >= 0 && !oc->paused)
            ev_io_start(oc->loop, &oc->pipes[i].io);
}

void output_finish(output_capture *oc)
{
    for (int i = 0; i < 2; i++) {
        output_pipe *p = &oc->pipes[i];
        /* Bounded: a grandchild still writing must not keep us here. */
        for (int rounds = 0; p->fd >= 0 && rounds < 64; rounds++)
            if (read_once(p) != READ_DATA)
                break;
        close_pipe(p);
    }
}

void output_free(output_capture *oc)
{
    if (!oc)
        return;
    for (int i = 0; i < 2; i++) {
        output_pipe *p = &oc->pipes[i];
        if (p->fd >= 0) {
            ev_io_stop(oc->loop, &p->io);
            close(p->fd);
        }
        bosun_lines_free(p->lines);
    }
    free(oc);
}

void output_pause(output_capture *oc)
{
    oc->paused = true;
    for (int i = 0; i < 2; i++)
        ev_io_stop(oc->loop, &oc->pipes[i].io);
}

void output_resume(output_capture *oc)
{
    oc->paused = false;
    if (oc->started)
        output_start(oc);
}

/* ------------------------------------------------------------ log files */

int output_log_open(output_log *log, const char *dir, const char *name,
                    unsigned long long max_bytes, unsigned keep)
{
    memset(log, 0, sizeof *log);
    int dfd = fsafe_dir(dir, 0750);
    if (dfd < 0)
        return -1;
    log->fd = fsafe_append(dfd, name, 0640);
    int saved = errno;
    close(dfd);
    if (log->fd < 0) {
        errno = saved;
        return -1;
    }
    off_t end = lseek(log->fd, 0, SEEK_END);
    log->size = end > 0 ? (unsigned long long)end : 0;
    log->dir = xstrdup(dir);
    log->name = xstrdup(name);
    log->path = xasprintf("%s/%s", dir, name);
    log->max_bytes = max_bytes;
    log->keep = keep;
    return 0;
}

/* Renames and creates relative to the directory's descriptor: a name in
 * it can never lead the daemon elsewhere. */
static int rotate_in(output_log *log, int dfd)
{
    for (unsigned i = log->keep; i > 0; i--) {
        char *from = i == 1 ? xstrdup(log->name) : xasprintf("%s.%u", log->name, i - 1);
        char *to = xasprintf("%s.%u", log->name, i);
        renameat(dfd, from, dfd, to);
        free(from);
        free(to);
    }
    if (unlinkat(dfd, log->name, 0) < 0 && errno != ENOENT)
        return -1;
    return fsafe_create(dfd, log->name, 0640);
}

static void rotate(output_log *log)
{
    close(log->fd);
    log->size = 0;
    int dfd = fsafe_dir(log->dir, 0750);
    log->fd = dfd < 0 ? -1 : rotate_in(log, dfd);
    if (log->fd < 0)
        log_error("cannot reopen log %s after rotation: %s", log->path, strerror(errno));
    if (dfd >= 0)
        close(dfd);
}

/* A full disk fails every write: one line at the first failure, then at
 * most one a minute with the count, and one when writing works again. */
#define OUTPUT_LOG_ERROR_INTERVAL 60.0

static void write_failed(output_log *log, int err)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    log->failed++;
    if (log->failed == 1 || now - log->failed_logged >= OUTPUT_LOG_ERROR_INTERVAL) {
        log_error("cannot write log %s: %s (%lu writes failed so far; output is still sent to "
                  "the store, this is logged at most once a minute)",
                  log->path, strerror(err), log->failed);
        log->failed_logged = now;
    }
}

static void write_all(output_log *log, const char *data, size_t len)
{
    while (log->fd >= 0 && len > 0) {
        ssize_t n = write(log->fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            write_failed(log, errno);
            return;
        }
        if (log->failed) {
            log_notice("writing log %s works again after %lu failed writes", log->path,
                       log->failed);
            log->failed = 0;
        }
        data += n;
        len -= (size_t)n;
        log->size += (unsigned long long)n;
    }
}

/* Rotates at line boundaries so that no file passes max_bytes, except a
 * file holding one line longer than that. */
void output_log_write(output_log *log, const char *data, size_t len)
{
    while (log->fd >= 0 && len > 0) {
        unsigned long long room = log->size < log->max_bytes ? log->max_bytes - log->size : 0;
        if (len <= room) {
            write_all(log, data, len);
            return;
        }
        size_t take = 0;
        for (size_t i = (size_t)room; i > 0; i--)
            if (data[i - 1] == '\n') {
                take = i;
                break;
            }
        if (take == 0 && log->size == 0) {
            const char *nl = memchr(data, '\n', len);
            take = nl ? (size_t)(nl - data) + 1 : len;
        }
        write_all(log, data, take);
        data += take;
        len -= take;
        if (len > 0)
            rotate(log);
    }
}

void output_log_close(output_log *log)
{
    if (log->fd >= 0)
        close(log->fd);
    log->fd = -1;
    free(log->path);
    free(log->dir);
    free(log->name);
    log->path = log->dir = log->name = NULL;
}
