/* bosun — clocks and randomness.
 *
 * What every plugin otherwise writes again: the wall clock and the
 * monotonic clock in seconds, and bytes from the kernel's random source
 * for ids and secrets. */
#ifndef BOSUN_SYS_H
#define BOSUN_SYS_H

#include <bosun/api.h>

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds since the epoch (CLOCK_REALTIME): for timestamps people read. */
BOSUN_API double bosun_now(void);
/* Seconds on CLOCK_MONOTONIC: for durations and deadlines, never for
 * timestamps (it does not jump with the wall clock). */
BOSUN_API double bosun_monotonic(void);
/* Fills buf with n bytes from getrandom(2), retrying short reads and
 * EINTR, or from OpenSSL's RAND_bytes where the kernel lacks getrandom
 * (core/lib/crypto.c, with the rest of <bosun/crypto.h>).  Returns 0, or
 * -1 with errno set. */
BOSUN_API int bosun_random_bytes(void *buf, size_t n);

/* Writes all n bytes to fd (retrying short writes and EINTR).  0, or -1
 * with errno. */
BOSUN_API int bosun_write_all(int fd, const void *buf, size_t n);

/* Small state files (token hashes, deny-lists) that a crash must never
 * leave half-written: data goes to a temporary file in dir (mode, made
 * without following links), is fsync'ed, then renamed over name, and the
 * directory is fsync'ed.  0, or -1 with errno (name is then untouched). */
BOSUN_API int bosun_file_replace(const char *dir, const char *name, const void *data, size_t len,
                                 unsigned mode);
/* Up to max bytes of the regular file dir/name (not through a symbolic
 * link), NUL-terminated and malloc'ed, its length in *len; NULL with errno
 * (ENOENT when missing, EFBIG when longer than max). */
BOSUN_API char *bosun_file_read(const char *dir, const char *name, size_t max, size_t *len);
/* Journals (one record a line) that grow by a record at a time: data is
 * appended to dir/name (created with mode, never through a symbolic link)
 * and fdatasync'ed, so that a record is on disk when this returns 0; -1
 * with errno.  A crash can leave only the last record cut short. */
BOSUN_API int bosun_file_append(const char *dir, const char *name, const void *data, size_t len,
                                unsigned mode);

#ifdef __cplusplus
}
#endif
#endif
