/* bosun — a limiter of failed authentication (token buckets per peer and
 * global; see include/bosun/ratelimit.h). */
#include "config.h"

#include <bosun/ratelimit.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AUTHLIMIT_KEY_MAX 128

struct bucket {
    double tokens; /* attempts left */
    double at;     /* when tokens was last brought up to date */
};

struct peer {
    char key[AUTHLIMIT_KEY_MAX];
    struct bucket b;
    double last; /* its latest failure */
};

struct bosun_authlimit {
    double burst, rate;   /* per peer */
    double gburst, grate; /* global */
    struct bucket global;
    struct peer *peers; /* a linear table: max_keys is small, lookups rare */
    size_t n, max;
};

/* Brings b up to now: rate per second, never above burst.  A clock that
 * went back adds nothing. */
static void refill(struct bucket *b, double burst, double rate, double now)
{
    if (now > b->at) {
        b->tokens += (now - b->at) * rate;
        if (b->tokens > burst)
            b->tokens = burst;
    }
    b->at = now;
}

bosun_authlimit *bosun_authlimit_new(double per_peer_burst, double per_peer_rate,
                                     double global_burst, double global_rate, size_t max_keys)
{
    if (!(per_peer_burst >= 1) || !(per_peer_rate > 0) || !(global_burst >= 1) ||
        !(global_rate > 0) || max_keys == 0) {
        errno = EINVAL;
        return NULL;
    }
    bosun_authlimit *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->peers = calloc(max_keys, sizeof *l->peers);
    if (!l->peers) {
        free(l);
        return NULL;
    }
    l->burst = per_peer_burst;
    l->rate = per_peer_rate;
    l->gburst = global_burst;
    l->grate = global_rate;
    l->global.tokens = global_burst;
    l->global.at = -1e300; /* refilled to the full burst at first use */
    l->max = max_keys;
    return l;
}

void bosun_authlimit_free(bosun_authlimit *l)
{
    if (!l)
        return;
    free(l->peers);
    free(l);
}

/* Keys are compared as their first AUTHLIMIT_KEY_MAX - 1 bytes. */
static struct peer *find(bosun_authlimit *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strncmp(l->peers[i].key, key, AUTHLIMIT_KEY_MAX - 1) == 0)
            return &l->peers[i];
    return NULL;
}

static void drop(bosun_authlimit *l, struct peer *p)
{
    *p = l->peers[--l->n];
}

/* The peer to give up for a new one: the one nearest a full bucket now
 * (it has least to hold against it), the least recently seen on a tie. */
static struct peer *victim(bosun_authlimit *l, double now)
{
    struct peer *best = &l->peers[0];
    for (size_t i = 0; i < l->n; i++) {
        struct peer *p = &l->peers[i];
        refill(&p->b, l->burst, l->rate, now);
        if (p->b.tokens > best->b.tokens || (p->b.tokens == best->b.tokens && p->last < best->last))
            best = p;
    }
    return best;
}

bool bosun_authlimit_allow(bosun_authlimit *l, const char *key, double now)
{
    if (!l || !key)
        return false;
    refill(&l->global, l->gburst, l->grate, now);
    if (l->global.tokens < 1)
        return false;
    struct peer *p = find(l, key);
    if (!p)
        return true;
    refill(&p->b, l->burst, l->rate, now);
    return p->b.tokens >= 1;
}

void bosun_authlimit_failed(bosun_authlimit *l, const char *key, double now)
{
    if (!l || !key)
        return;
    refill(&l->global, l->gburst, l->grate, now);
    if (l->global.tokens >= 1)
        l->global.tokens -= 1;
    struct peer *p = find(l, key);
    if (!p) {
        if (l->n == l->max)
            drop(l, victim(l, now));
        p = &l->peers[l->n++];
        memset(p, 0, sizeof *p);
        strncpy(p->key, key, AUTHLIMIT_KEY_MAX - 1);
        p->b.tokens = l->burst;
        p->b.at = now;
    }
    p->last = now;
    refill(&p->b, l->burst, l->rate, now);
    if (p->b.tokens >= 1)
        p->b.tokens -= 1;
    else
        p->b.tokens = 0;
}

void bosun_authlimit_succeeded(bosun_authlimit *l, const char *key)
{
    struct peer *p = l && key ? find(l, key) : NULL;
    if (p)
        drop(l, p);
}

size_t bosun_authlimit_tracked(const bosun_authlimit *l)
{
    return l ? l->n : 0;
}
