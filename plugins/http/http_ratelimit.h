/* A limit of requests per client address: a token bucket per address in
 * a fixed table, for the routes where each request costs more than its
 * own answer (the GitHub login starts, each of which makes bosun ask
 * GitHub, spending its client's limits there).  Pure logic: time is the
 * caller's (monotonic seconds), nothing is logged here. */
#ifndef BOSUN_HTTP_RATELIMIT_H
#define BOSUN_HTTP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct http_ratelimit http_ratelimit;

#define HTTP_RATELIMIT_KEY 64 /* bytes of a key, its NUL too */

/* burst requests at once, then per_minute a minute, for at most slots
 * addresses at once (a new one evicts the one seen longest ago); each
 * refused address is reported once per window seconds.  NULL when the
 * numbers make no sense or memory is short. */
http_ratelimit *http_ratelimit_new(double burst, double per_minute, size_t slots, double window);
void http_ratelimit_free(http_ratelimit *l);

typedef struct http_ratelimit_verdict {
    bool allowed;
    int retry_after;              /* refused: whole seconds until one more is allowed */
    bool report;                  /* refused: the first refusal of the address in its window */
    long refused;                 /* refused: how many since the last report, this one too */
    char key[HTTP_RATELIMIT_KEY]; /* what the address is counted as */
} http_ratelimit_verdict;

/* One request from addr (numeric IPv4 or IPv6) at now.  An IPv6 address
 * counts as its /64 (one site's hosts share it), an IPv4-mapped one as
 * its IPv4 address; anything else as itself, cut to the key's size. */
http_ratelimit_verdict http_ratelimit_take(http_ratelimit *l, const char *addr, double now);
/* How many addresses the table holds now. */
size_t http_ratelimit_count(const http_ratelimit *l);
/* The key addr counts as, into out. */
void http_ratelimit_key(const char *addr, char out[HTTP_RATELIMIT_KEY]);

#endif
