/* The waits between attempts: 1 s, doubling up to the cap, each varied by
 * +-20 % so that machines cut off together do not come back in step.
 *
 * +-20 % alone spreads a herd over 0.4 s only: a thousand machines losing
 * a restarted hub together would all be back within one second.  So the
 * first attempt after the loss of an established link waits a splay drawn
 * uniformly from [0, reconnect_splay] ("full jitter", as systemd's
 * RandomizedDelaySec), and the back-off takes over from there, each of its
 * waits with a fresh splay added until the machine is registered again:
 * those that tried while the hub was down would otherwise come back in
 * step, 1 s and 2 s later, just as it is up (uplink.c, failed). */
#include "config.h"

#include "uplink.h"

#define BACKOFF_FIRST  1.0
#define BACKOFF_FACTOR 2.0
#define BACKOFF_JITTER 0.2

void uplink_backoff_init(uplink_backoff *b, double cap)
{
    b->cap = cap < BACKOFF_FIRST ? BACKOFF_FIRST : cap;
    uplink_backoff_reset(b);
}

void uplink_backoff_reset(uplink_backoff *b)
{
    b->base = BACKOFF_FIRST;
}

double uplink_backoff_next(uplink_backoff *b, double r)
{
    if (r < 0 || r >= 1)
        r = 0.5;
    double base = b->base < b->cap ? b->base : b->cap;
    double wait = base * (1.0 - BACKOFF_JITTER + 2 * BACKOFF_JITTER * r);
    b->base = base * BACKOFF_FACTOR < b->cap ? base * BACKOFF_FACTOR : b->cap;
    return wait < b->cap ? wait : b->cap;
}

double uplink_splay(double splay, double r)
{
    if (splay <= 0)
        return 0;
    if (r < 0 || r >= 1)
        r = 0.5;
    return splay * r;
}
