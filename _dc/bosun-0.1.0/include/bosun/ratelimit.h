/* bosun — a limiter of failed authentication.
 *
 * Guessing a credential must cost time.  Every transport that checks a
 * secret (the agent socket, later HTTP and the fleet link) keeps one
 * bosun_authlimit and, for each attempt, asks bosun_authlimit_allow()
 * first (refusing the attempt unchecked when it says no), then reports
 * the outcome.  Failures are counted in token buckets: one per peer key (a
 * "uid N" for a Unix socket, an address for the network) and one for the
 * whole limiter, so that many peers together cannot guess faster than the
 * global rate either.  A bucket holds at most burst failures and regains
 * rate per second; a peer may try while both its bucket and the global one
 * hold at least one.  Refused attempts cost nothing, so a peer that stops
 * failing regains its attempts whatever it keeps trying meanwhile.
 *
 * Memory is bounded: at most max_keys peers are tracked; a new one evicts
 * the tracked peer closest to a full bucket (the oldest on a tie).  Keys
 * are bounded to 127 bytes.  Time is the caller's (monotonic seconds), so
 * the limiter is testable without sleeping.  Single-threaded; no locking.
 */
#ifndef BOSUN_RATELIMIT_H
#define BOSUN_RATELIMIT_H

#include <bosun/api.h>

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bosun_authlimit bosun_authlimit;

/* Bursts at least 1, rates above 0 and max_keys at least 1, else NULL with
 * errno EINVAL; NULL with ENOMEM on memory failure. */
BOSUN_API bosun_authlimit *bosun_authlimit_new(double per_peer_burst, double per_peer_rate,
                                               double global_burst, double global_rate,
                                               size_t max_keys);
BOSUN_API void bosun_authlimit_free(bosun_authlimit *l);
/* Whether the peer key may attempt to authenticate at time now.  false for
 * a NULL limiter or key. */
BOSUN_API bool bosun_authlimit_allow(bosun_authlimit *l, const char *key, double now);
/* An attempt by key failed at time now: one from its bucket and the
 * global one. */
BOSUN_API void bosun_authlimit_failed(bosun_authlimit *l, const char *key, double now);
/* An attempt by key succeeded: the peer is forgotten (its bucket full
 * again); the global bucket is left as it is. */
BOSUN_API void bosun_authlimit_succeeded(bosun_authlimit *l, const char *key);
/* How many peers are tracked now. */
BOSUN_API size_t bosun_authlimit_tracked(const bosun_authlimit *l);

#ifdef __cplusplus
}
#endif
#endif
