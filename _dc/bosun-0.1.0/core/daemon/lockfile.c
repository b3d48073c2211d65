#include "config.h"

#include "lockfile.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How often a lock on a file that was unlinked or replaced meanwhile is
 * given up and tried again: each retry means another daemon stopped or
 * started in between, so a few are plenty. */
#define LOCK_TRIES 100

static pid_t lock_holder(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
        return 0;
    return fl.l_pid;
}

/* The lock counts only while the file locked is the one at path: a daemon
 * that stops unlinks the file it holds, and one that opened it just before
 * would otherwise lock an unlinked inode while a third locks the new file. */
static bool lock_is_current(int fd, const char *path)
{
    struct stat held, now;
    if (fstat(fd, &held) < 0 || lstat(path, &now) < 0)
        return false;
    return held.st_dev == now.st_dev && held.st_ino == now.st_ino;
}

/* One attempt: 1 locked (fd in *out), 0 lost a race (try again), -1 error
 * or held by another (errno and *holder set). */
static int lock_once(const char *path, pid_t *holder, int *out)
{
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        int saved = errno;
        if (saved == EACCES || saved == EAGAIN)
            *holder = lock_holder(fd);
        close(fd);
        /* The holder may have released it between our two calls. */
        if ((saved == EACCES || saved == EAGAIN) && *holder == 0)
            return 0;
        errno = saved;
        return -1;
    }
    if (!lock_is_current(fd, path)) {
        close(fd);
        return 0;
    }
    *out = fd;
    return 1;
}

int lockfile_acquire(const char *path, pid_t *holder)
{
    int fd = -1;
    for (int i = 0; i < LOCK_TRIES; i++) {
        *holder = 0;
        int rc = lock_once(path, holder, &fd);
        if (rc < 0)
            return -1;
        if (rc > 0)
            break;
    }
    if (fd < 0) {
        errno = EAGAIN;
        return -1;
    }
    /* Only the owner may write it, whatever it was made with before. */
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (fchmod(fd, 0640) < 0 || ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

void lockfile_release(int fd, const char *path)
{
    if (fd < 0)
        return;
    /* Unlink while still holding the lock so a starting daemon never sees
     * our PID in an unlocked file; one that opened it before the unlink
     * finds, once it has the lock, that the file is no longer at the path,
     * and starts over (lock_is_current). */
    if (path)
        unlink(path);
    close(fd);
}
