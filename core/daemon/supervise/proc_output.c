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
#include <unistd.h>

#include <bosun/log.h>

#define READ_CHUNK (256 * 1024) /* more lines per read: fewer, larger commits */

typedef struct output_pipe {
    output_capture *oc;
    enum bosun_stream stream;
    int fd;
    ev_io io;
    char *buf; /* the start of a line not yet ended */
    size_t len, cap;
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

/* Hands over every complete line; cuts the pending partial line when it
 * reaches line_max, preferring not to split a UTF-8 sequence. */
static void split_lines(output_pipe *p, bool at_eof)
{
    if (p->len == 0)
        return;
    output_capture *oc = p->oc;
    size_t start = 0;
    for (;;) {
        char *nl = memchr(p->buf + start, '\n', p->len - start);
        size_t avail = (nl ? (size_t)(nl - (p->buf + start)) : p->len - start);
        if (avail >= oc->line_max) {
            size_t cut = oc->line_max;
            /* The byte after the cut decides; there is none when the
             * partial line is exactly line_max long. */
            for (size_t back = 0; back < 3 && cut > 1 && start + cut < p->len; back++) {
                unsigned char ch = (unsigned char)p->buf[start + cut];
                if ((ch & 0xc0) != 0x80)
                    break;
                cut--;
            }
            oc->cb(oc->arg, p->stream, p->buf + start, cut, true);
            start += cut;
            continue;
        }
        if (!nl)
            break;
        size_t len = avail;
        if (len > 0 && p->buf[start + len - 1] == '\r')
            len--;
        oc->cb(oc->arg, p->stream, p->buf + start, len, false);
        start += avail + 1;
    }
    if (at_eof && start < p->len) {
        oc->cb(oc->arg, p->stream, p->buf + start, p->len - start, false);
        start = p->len;
    }
    memmove(p->buf, p->buf + start, p->len - start);
    p->len -= start;
}

enum read_result { READ_DATA, READ_AGAIN, READ_EOF };

/* READ_EOF also stands for a read error: either way the pipe is done. */
static enum read_result read_once(output_pipe *p)
{
    if (p->cap - p->len < READ_CHUNK) {
        p->cap = p->len + READ_CHUNK * 2;
        p->buf = xrealloc(p->buf, p->cap);
    }
    ssize_t n = read(p->fd, p->buf + p->len, READ_CHUNK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return READ_AGAIN;
    if (n <= 0)
        return READ_EOF;
    p->len += (size_t)n;
    split_lines(p, false);
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
        free(p->buf);
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

static void write_all(output_log *log, const char *data, size_t len)
{
    while (log->fd >= 0 && len > 0) {
        ssize_t n = write(log->fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_error("cannot write log %s: %s", log->path, strerror(errno));
            return;
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
