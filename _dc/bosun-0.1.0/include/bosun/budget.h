/* bosun — a memory budget shared by many buffers.
 *
 * Each connection of a transport has its own limit, but a thousand
 * connections at their limit are still too much: a budget counts the bytes
 * all of them hold (queued input and output) against one daemon-wide
 * limit.  A buffer reserves bytes before it grows and releases them when it
 * shrinks or goes away; when a reservation is refused, the caller decides
 * whom to cut off (usually the connection holding the most, as a slow
 * consumer) and tries again.
 *
 * Single-threaded, like the loop that uses it; no locking. */
#ifndef BOSUN_BUDGET_H
#define BOSUN_BUDGET_H

#include <stdbool.h>
#include <stddef.h>

#include <bosun/api.h>

typedef struct bosun_budget bosun_budget;

/* A budget of limit bytes (0: unlimited, only counting).  The high-water
 * mark is three quarters of the limit. */
BOSUN_API bosun_budget *bosun_budget_new(size_t limit);
/* Frees the budget; what is still reserved is forgotten. */
BOSUN_API void bosun_budget_free(bosun_budget *b);
/* Changes the limit (a reload); reservations already made stay, so used may
 * be above the new limit until they are released. */
BOSUN_API void bosun_budget_set_limit(bosun_budget *b, size_t limit);
BOSUN_API size_t bosun_budget_limit(const bosun_budget *b);
/* Reserves n bytes: true when used + n stays within the limit (then used
 * grows by n), false (nothing reserved) otherwise. */
BOSUN_API bool bosun_budget_reserve(bosun_budget *b, size_t n);
/* Gives back n bytes reserved before (never more than used). */
BOSUN_API void bosun_budget_release(bosun_budget *b, size_t n);
/* Bytes reserved now, and the most ever reserved at once. */
BOSUN_API size_t bosun_budget_used(const bosun_budget *b);
BOSUN_API size_t bosun_budget_peak(const bosun_budget *b);
/* True when used is at or above the high-water mark: time to stop taking
 * more from those that can wait (pause reading, stop pushing live data)
 * before reservations fail. */
BOSUN_API bool bosun_budget_high(const bosun_budget *b);

#endif
