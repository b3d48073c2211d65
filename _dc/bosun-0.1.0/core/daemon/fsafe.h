/* Files the daemon writes where an agent might reach: every directory it
 * writes in is its own, and every file in one is created or opened
 * relative to the directory's descriptor without following a symbolic
 * link, so nothing an agent plants (a link, a hard link, a renamed file)
 * makes root write, truncate or read anything else.  Ownership is given
 * with fchown on the descriptor, never on a path. */
#ifndef BOSUN_FSAFE_H
#define BOSUN_FSAFE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Opens path as a directory of the daemon's (made with mode when missing,
 * never through a symbolic link).  One that another user owns (older
 * versions gave run directories to the agent) is taken back, and mode
 * bits beyond mode are dropped, each with a notice.  Returns an fd or -1
 * with errno. */
int fsafe_dir(const char *path, mode_t mode);

/* Replaces name in dir with a new file holding data: whatever was there
 * (a link included) is unlinked, the new one is made with O_EXCL and mode,
 * then given to uid/gid when uid is not (uid_t)-1.  0, or -1 with errno. */
int fsafe_write(int dir, const char *name, const void *data, size_t len, mode_t mode, uid_t uid,
                gid_t gid);

/* Opens name in dir for appending, creating it (mode) when missing.  An
 * existing one must be a regular file of the daemon's with a single link;
 * anything else is refused with EPERM (ELOOP for a symbolic link).
 * Returns an fd or -1 with errno. */
int fsafe_append(int dir, const char *name, mode_t mode);

/* Creates name in dir, which must not exist (after rotation), mode.
 * Returns an fd or -1 with errno. */
int fsafe_create(int dir, const char *name, mode_t mode);

/* Up to max bytes of the regular file name in dir, NUL-terminated and
 * malloc'ed (*len bytes), or NULL with errno. */
char *fsafe_read(int dir, const char *name, size_t max, size_t *len);

/* Drops mode bits beyond dir_mode (directories) and file_mode (other
 * files) from path and, depth levels down, from what it holds, and gives
 * what another user owns back to the daemon; symbolic links are left
 * alone and never followed.  Each change is logged as a notice.  The
 * entries of path named in skip (NULL-terminated, or NULL) are tightened
 * but not what they hold.  Returns the number of entries changed. */
unsigned fsafe_tighten(const char *path, mode_t dir_mode, mode_t file_mode, unsigned depth,
                       const char *const *skip);

#endif
