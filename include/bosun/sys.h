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

#ifdef __cplusplus
}
#endif
#endif
