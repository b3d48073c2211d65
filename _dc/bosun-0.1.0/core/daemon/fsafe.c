#include "config.h"

#include "fsafe.h"
#include "util.h"

#include <bosun/log.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* At most this many changes are named in the log at one start; the rest
 * are counted. */
#define FSAFE_NOTICES_MAX 20

static unsigned fsafe_notices;

static void fsafe_notice(const char *what, const char *name, const struct stat *st, mode_t mode)
{
    if (fsafe_notices++ < FSAFE_NOTICES_MAX)
        log_notice("%s: %s was mode %04o owner %ld, now %04o owner %ld", name, what,
                   (unsigned)(st->st_mode & 07777), (long)st->st_uid, (unsigned)mode,
                   (long)geteuid());
}

/* Gives fd back to the daemon and drops bits beyond max. */
static int fsafe_fix_fd(int fd, const char *name, const struct stat *st, mode_t max)
{
    mode_t mode = st->st_mode & 07777 & max;
    /* A group an admin gave it stays; another user's is taken back. */
    bool other_owner = st->st_uid != geteuid();
    if (!other_owner && mode == (st->st_mode & 07777))
        return 0;
    if (other_owner && fchown(fd, geteuid(), getegid()) < 0)
        return -1;
    /* fchown drops set-id bits: fchmod after it. */
    if (fchmod(fd, mode) < 0)
        return -1;
    fsafe_notice(S_ISDIR(st->st_mode) ? "directory" : "file", name, st, mode);
    return 1;
}

int fsafe_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return -1;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || fsafe_fix_fd(fd, path, &st, mode) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static int fsafe_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int fsafe_create(int dir, const char *name, mode_t mode)
{
    int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    /* The umask must not widen or narrow what the caller asked for. */
    if (fd >= 0 && fchmod(fd, mode) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int fsafe_write(int dir, const char *name, const void *data, size_t len, mode_t mode, uid_t uid,
                gid_t gid)
{
    if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
        return -1;
    int fd = fsafe_create(dir, name, mode);
    if (fd < 0)
        return -1;
    int rc = fsafe_write_all(fd, data, len);
    if (rc == 0 && uid != (uid_t)-1)
        rc = fchown(fd, uid, gid);
    int saved = errno;
    if (close(fd) < 0 && rc == 0)
        return -1;
    errno = saved;
    return rc;
}

/* A file the daemon may write into: its own, regular, one link. */
static bool fsafe_is_ours(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return false;
    return S_ISREG(st.st_mode) && st.st_nlink == 1 && st.st_uid == geteuid();
}

int fsafe_append(int dir, const char *name, mode_t mode)
{
    int fd = openat(dir, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        fd = fsafe_create(dir, name, mode);
    if (fd < 0)
        return -1;
    if (!fsafe_is_ours(fd)) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    /* Back to blocking writes for a regular file, and no wider than mode. */
    int fl = fcntl(fd, F_GETFL);
    struct stat st;
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 || fstat(fd, &st) < 0 ||
        ((st.st_mode & 07777 & ~mode) && fchmod(fd, st.st_mode & 07777 & mode) < 0)) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

char *fsafe_read(int dir, const char *name, size_t max, size_t *len)
{
    /* O_NONBLOCK: a FIFO planted there must not stall the daemon. */
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EPERM;
        return NULL;
    }
    char *buf = xmalloc(max + 1);
    size_t n = 0;
    while (n < max) {
        ssize_t got = read(fd, buf + n, max - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    return xrealloc(buf, n + 1);
}

static void fsafe_tighten_at(int dir, const char *path, mode_t dir_mode, mode_t file_mode,
                             unsigned depth, const char *const *skip);

/* One entry of a directory being tightened: opened without following a
 * link, fixed through its descriptor. */
static void fsafe_tighten_entry(int dir, const char *path, const char *name, mode_t dir_mode,
                                mode_t file_mode, unsigned depth)
{
    struct stat st;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
        return;
    int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    int fd = openat(dir, name, S_ISDIR(st.st_mode) ? flags | O_DIRECTORY : flags);
    if (fd < 0)
        return;
    char *full = xasprintf("%s/%s", path, name);
    if (fstat(fd, &st) == 0) {
        if (fsafe_fix_fd(fd, full, &st, S_ISDIR(st.st_mode) ? dir_mode : file_mode) < 0)
            log_warning("cannot make %s private: %s", full, strerror(errno));
        if (S_ISDIR(st.st_mode) && depth > 0) {
            fsafe_tighten_at(fd, full, dir_mode, file_mode, depth - 1, NULL);
            fd = -1; /* closed with its DIR */
        }
    }
    if (fd >= 0)
        close(fd);
    free(full);
}

static bool fsafe_listed(const char *const *names, const char *name)
{
    for (size_t i = 0; names && names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* Takes dir (closing it). */
static void fsafe_tighten_at(int dir, const char *path, mode_t dir_mode, mode_t file_mode,
                             unsigned depth, const char *const *skip)
{
    DIR *d = fdopendir(dir);
    if (!d) {
        close(dir);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            fsafe_tighten_entry(dirfd(d), path, e->d_name, dir_mode, file_mode,
                                fsafe_listed(skip, e->d_name) ? 0 : depth);
    closedir(d);
}

unsigned fsafe_tighten(const char *path, mode_t dir_mode, mode_t file_mode, unsigned depth,
                       const char *const *skip)
{
    fsafe_notices = 0;
    int fd = fsafe_dir(path, dir_mode);
    if (fd < 0) {
        log_warning("cannot make %s private: %s", path, strerror(errno));
        return 0;
    }
    fsafe_tighten_at(fd, path, dir_mode, file_mode, depth, skip);
    if (fsafe_notices > FSAFE_NOTICES_MAX)
        log_notice("%s: %u more entries made private", path, fsafe_notices - FSAFE_NOTICES_MAX);
    return fsafe_notices;
}
