/* Shared file operations of the file tools (see llm_tools_fileio.h). */
#define _GNU_SOURCE
#include "llm_tools_fileio.h"

#include <bosun/sys.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int ltf_fail(struct ltf_error *e, const char *category, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ltf_fail(struct ltf_error *e, const char *category, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    e->category = category;
    return -1;
}

static int ltf_errno(struct ltf_error *e, int err, const char *rel)
{
    const char *category;
    const char *why = ltp_strerror(err, &category);
    return ltf_fail(e, category, "%s: %s", rel, why);
}

int ltf_path(const char *in, bool allow_root, char out[LTP_PATH_MAX], struct ltf_error *e)
{
    char why[256];
    int rc = ltp_normalize(in, out, why, sizeof why);
    if (rc < 0)
        return ltf_fail(e, rc == -2 ? "denied" : "invalid", "path \"%.200s\": %s", in, why);
    if (!allow_root && strcmp(out, ".") == 0)
        return ltf_fail(e, "invalid", "path \"%.200s\" is the workspace itself, not a file", in);
    return 0;
}

int ltf_open_read(int ws, const char *rel, struct ltf_error *e)
{
    /* O_NONBLOCK: a FIFO must not hang the loop. */
    int fd = ltp_open(ws, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
    if (fd < 0)
        return ltf_errno(e, errno, rel);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        return ltf_errno(e, err, rel);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ltf_fail(e, "invalid", "%s is %s, not a regular file", rel,
                        S_ISDIR(st.st_mode) ? "a directory (use list_files)" : "a special file");
    }
    if (st.st_nlink > 1) {
        close(fd);
        return ltf_fail(e, "denied",
                        "%s has %ju hard links; files with other names (possibly outside the "
                        "workspace) are not read",
                        rel, (uintmax_t)st.st_nlink);
    }
    return fd;
}

char *ltf_read_all(int ws, const char *rel, size_t max, size_t *len, struct ltf_error *e)
{
    int fd = ltf_open_read(ws, rel, e);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) < 0 || (size_t)st.st_size > max) {
        close(fd);
        ltf_fail(e, "invalid", "%s is %jd bytes, more than the %zu this tool handles", rel,
                 (intmax_t)st.st_size, max);
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t got = 0;
    while (buf && got <= max) {
        ssize_t n = read(fd, buf + got, max + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf || got > max) {
        free(buf);
        ltf_fail(e, buf ? "invalid" : "runtime", "%s: %s", rel,
                 buf ? "grew past the size limit while read" : "out of memory");
        return NULL;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* A new temporary file beside base in dir, named in tmp. */
static int ltf_temp(int dir, const char *base, mode_t mode, char *tmp, size_t tmp_size)
{
    for (int tries = 0; tries < 16; tries++) {
        unsigned char rnd[6];
        if (bosun_random_bytes(rnd, sizeof rnd) < 0)
            return -1;
        snprintf(tmp, tmp_size, ".%.40s.bosun-%02x%02x%02x%02x%02x%02x", base, rnd[0], rnd[1],
                 rnd[2], rnd[3], rnd[4], rnd[5]);
        int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

int ltf_inode_ref(int dir, const char *base)
{
    return openat(dir, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

int ltf_write_atomic(int ws, const char *rel, const void *data, size_t len, bool *created,
                     bool *link_broken, int *replaced, struct ltf_error *e)
{
    *replaced = -1;
    const char *base;
    int dir = ltp_open_parent(ws, rel, true, &base);
    if (dir < 0)
        return ltf_errno(e, errno, rel);
    struct stat st;
    mode_t mode = 0644;
    *created = fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) < 0;
    *link_broken = false;
    if (!*created && S_ISDIR(st.st_mode)) {
        close(dir);
        return ltf_fail(e, "invalid", "%s is a directory", rel);
    }
    if (!*created && S_ISREG(st.st_mode)) {
        mode = st.st_mode & 07777;
        *link_broken = st.st_nlink > 1;
    }
    char tmp[NAME_MAX + 1];
    int fd = ltf_temp(dir, base, mode, tmp, sizeof tmp);
    if (fd < 0) {
        int err = errno;
        close(dir);
        return ltf_errno(e, err, rel);
    }
    int rc = bosun_write_all(fd, data, len);
    int err = errno;
    if (rc == 0 && fchmod(fd, mode) < 0)
        rc = -1, err = errno;
    if (close(fd) < 0 && rc == 0)
        rc = -1, err = errno;
    int old = rc == 0 && !*created && S_ISREG(st.st_mode) ? ltf_inode_ref(dir, base) : -1;
    if (rc == 0 && renameat(dir, tmp, dir, base) < 0)
        rc = -1, err = errno;
    if (rc < 0) {
        unlinkat(dir, tmp, 0);
        if (old >= 0)
            close(old);
    } else {
        *replaced = old;
    }
    close(dir);
    return rc < 0 ? ltf_errno(e, err, rel) : 0;
}
