/* A token bucket per client address in a fixed table (see
 * http_ratelimit.h).  The table is small and its lookups rare (a login
 * start), so it is scanned; a full table gives the slot of the address
 * seen longest ago to the new one, whose bucket starts full: an evicted
 * address can start again, but spreading requests over more addresses
 * than there are slots takes a /64 or an IPv4 address for each. */
#include "config.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_ratelimit.h"

typedef struct slot {
    char key[HTTP_RATELIMIT_KEY];
    double tokens;
    double at;          /* tokens brought up to date */
    double seen;        /* the latest request */
    double reported_at; /* the latest refusal reported, or -inf */
    long refused;       /* since then */
} slot;

struct http_ratelimit {
    double burst, rate; /* rate: per second */
    double window;
    slot *slots;
    size_t n, max;
};

http_ratelimit *http_ratelimit_new(double burst, double per_minute, size_t slots, double window)
{
    if (!(burst >= 1) || !(per_minute > 0) || slots == 0 || !(window >= 0) || !isfinite(burst))
        return NULL;
    http_ratelimit *l = calloc(1, sizeof *l);
    if (!l || !(l->slots = calloc(slots, sizeof *l->slots))) {
        free(l);
        return NULL;
    }
    l->burst = burst;
    l->rate = per_minute / 60.0;
    l->window = window;
    l->max = slots;
    return l;
}

void http_ratelimit_free(http_ratelimit *l)
{
    if (!l)
        return;
    free(l->slots);
    free(l);
}

size_t http_ratelimit_count(const http_ratelimit *l)
{
    return l->n;
}

void http_ratelimit_key(const char *addr, char out[HTTP_RATELIMIT_KEY])
{
    unsigned char b[16];
    if (addr && inet_pton(AF_INET6, addr, b) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(b, mapped, sizeof mapped) == 0) {
            inet_ntop(AF_INET, b + 12, out, HTTP_RATELIMIT_KEY);
            return;
        }
        memset(b + 8, 0, 8);
        char text[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, b, text, sizeof text);
        snprintf(out, HTTP_RATELIMIT_KEY, "%s/64", text);
        return;
    }
    snprintf(out, HTTP_RATELIMIT_KEY, "%s", addr && *addr ? addr : "?");
}

static slot *find_or_take(http_ratelimit *l, const char *key, double now)
{
    size_t oldest = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->slots[i].key, key) == 0)
            return &l->slots[i];
        if (l->slots[i].seen < l->slots[oldest].seen)
            oldest = i;
    }
    slot *s = l->n < l->max ? &l->slots[l->n++] : &l->slots[oldest];
    *s = (slot){.tokens = l->burst, .at = now, .seen = now, .reported_at = -INFINITY};
    snprintf(s->key, sizeof s->key, "%s", key);
    return s;
}

http_ratelimit_verdict http_ratelimit_take(http_ratelimit *l, const char *addr, double now)
{
    http_ratelimit_verdict v = {0};
    http_ratelimit_key(addr, v.key);
    slot *s = find_or_take(l, v.key, now);
    if (now > s->at) /* a clock that went back adds nothing */
        s->tokens = fmin(l->burst, s->tokens + (now - s->at) * l->rate);
    s->at = fmax(s->at, now);
    s->seen = fmax(s->seen, now);
    if (s->tokens >= 1) {
        s->tokens -= 1;
        v.allowed = true;
        return v;
    }
    v.retry_after = (int)ceil((1 - s->tokens) / l->rate);
    if (v.retry_after < 1)
        v.retry_after = 1;
    s->refused++;
    if (now - s->reported_at >= l->window) {
        v.report = true;
        v.refused = s->refused;
        s->refused = 0;
        s->reported_at = now;
    }
    return v;
}
