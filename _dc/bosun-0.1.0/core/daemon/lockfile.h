/* One daemon per state directory: an fcntl write lock on a file in it.
 * The kernel drops the lock when the process dies, so a crash never leaves a
 * stale lock behind, and F_GETLK names the holder's PID. */
#ifndef BOSUN_LOCKFILE_H
#define BOSUN_LOCKFILE_H

#include <sys/types.h>

/* Returns the open, locked fd (our PID written in it), or -1.  On -1,
 * *holder is the PID holding the lock (0 if the failure was something else,
 * with errno set). */
int lockfile_acquire(const char *path, pid_t *holder);
void lockfile_release(int fd, const char *path);

#endif
