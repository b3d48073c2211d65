#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bosun/sys.h>

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bosun_now(void)
{
    return clock_seconds(CLOCK_REALTIME);
}

double bosun_monotonic(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}

int bosun_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int bosun_file_replace(const char *dir, const char *name, const void *data, size_t len,
                       unsigned mode)
{
    if (!dir || !name || !*name || strchr(name, '/') || strlen(name) > 200) {
        errno = EINVAL;
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    char tmp[256];
    snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", name, (long)getpid());
    unlinkat(dfd, tmp, 0);
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    int rc = -1, saved = 0;
    if (fd >= 0) {
        /* The umask must not change what the caller asked for. */
        rc =
            fchmod(fd, mode) == 0 && bosun_write_all(fd, data, len) == 0 && fsync(fd) == 0 ? 0 : -1;
        saved = errno;
        close(fd);
        if (rc == 0 && renameat(dfd, tmp, dfd, name) != 0) {
            saved = errno;
            rc = -1;
        }
        if (rc != 0)
            unlinkat(dfd, tmp, 0);
        else
            fsync(dfd);
    } else {
        saved = errno;
    }
    close(dfd);
    errno = saved;
    return rc;
}

int bosun_file_append(const char *dir, const char *name, const void *data, size_t len,
                      unsigned mode)
{
    if (!dir || !name || !*name || strchr(name, '/')) {
        errno = EINVAL;
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int fd = openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
    int saved = errno;
    close(dfd);
    if (fd < 0) {
        errno = saved;
        return -1;
    }
    int rc = bosun_write_all(fd, data, len) == 0 && fdatasync(fd) == 0 ? 0 : -1;
    saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

char *bosun_file_read(const char *dir, const char *name, size_t max, size_t *len)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return NULL;
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int saved = errno;
    close(dfd);
    if (fd < 0) {
        errno = saved;
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) != 0)
        goto fail;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        goto fail;
    }
    if ((unsigned long long)st.st_size > max) {
        errno = EFBIG;
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        goto fail;
    size_t n = 0;
    while (n < (size_t)st.st_size) {
        ssize_t got = read(fd, buf + n, (size_t)st.st_size - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    close(fd);
    if (len)
        *len = n;
    return buf;
fail:
    saved = errno;
    free(buf);
    close(fd);
    errno = saved;
    return NULL;
}
