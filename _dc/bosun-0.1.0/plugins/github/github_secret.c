/* The github: section's secret files.  Opened without following a
 * symbolic link and checked on the open descriptor (no window between the
 * check and the read); a file others could read is refused rather than
 * warned about, since the token it holds acts on the user's repositories.
 * No message ever quotes the file's content. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "github.h"

static int fail(char *why, size_t size, const char *path, const char *reason)
{
    snprintf(why, size, "%s: %s", path, reason);
    return -1;
}

static int check_fd(int fd, const char *path, char *why, size_t size)
{
    struct stat st;
    char mode[64];
    if (fstat(fd, &st) != 0)
        return fail(why, size, path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(why, size, path, "not a regular file");
    if (st.st_uid != geteuid())
        return fail(why, size, path, "not owned by the daemon's user");
    if (st.st_mode & 077) {
        snprintf(mode, sizeof mode, "mode %04o lets others read it; chmod 600 it",
                 (unsigned)(st.st_mode & 07777));
        return fail(why, size, path, mode);
    }
    return 0;
}

/* Up to max + 1 bytes of fd into buf (so that a longer file shows). */
static ssize_t read_all(int fd, char *buf, size_t max)
{
    size_t n = 0;
    while (n <= max) {
        ssize_t got = read(fd, buf + n, max + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        n += (size_t)got;
    }
    return (ssize_t)n;
}

static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

char *github_secret_read(const char *path, char *why, size_t why_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0) {
        fail(why, why_size, path,
             errno == ELOOP ? "a symbolic link (give the file itself)" : strerror(errno));
        return NULL;
    }
    char buf[GITHUB_SECRET_MAX + 2];
    ssize_t n = check_fd(fd, path, why, why_size) == 0 ? read_all(fd, buf, GITHUB_SECRET_MAX) : -2;
    int e = errno;
    close(fd);
    if (n == -2)
        return NULL;
    if (n < 0) {
        fail(why, why_size, path, strerror(e));
        return NULL;
    }
    size_t len = (size_t)n;
    while (len > 0 && strchr(" \t\r\n", buf[len - 1]))
        len--;
    char *out = NULL;
    if (len < GITHUB_SECRET_MIN || len > GITHUB_SECRET_MAX || !printable(buf, len))
        snprintf(why, why_size, "%s: must hold one secret of %d to %d printable bytes", path,
                 GITHUB_SECRET_MIN, GITHUB_SECRET_MAX);
    else if ((out = strndup(buf, len)) == NULL)
        snprintf(why, why_size, "%s: out of memory", path);
    explicit_bzero(buf, sizeof buf);
    return out;
}

void github_secret_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}
