/* The client of GitHub's REST API, on curl_ev.
 *
 * Every GET goes through here, so that the rules GitHub sets for
 * integrations hold in one place
 * (docs.github.com, "Best practices for using the REST API"):
 *  - conditional requests: each response's ETag is kept with its body,
 *    and the next request for the same URL and media type sends
 *    If-None-Match; a 304 (which does not count against the rate limit)
 *    hands the kept body back;
 *  - serial requests: at most GITHUB_INFLIGHT_MAX at once, the rest queue;
 *  - the primary limit: X-RateLimit-Remaining 0 (or a 403/429 saying so)
 *    holds every request until X-RateLimit-Reset;
 *  - secondary limits: a 403/429 with Retry-After holds everything for
 *    that long; without it (the documented "secondary rate limit"
 *    message) for a minute, doubling while it repeats, up to an hour;
 *  - a request held back by a limit is sent again once, after the wait.
 * The token goes only to api_url: a Link to any other place is not
 * followed. */
#define _GNU_SOURCE
#include "config.h"

#include <ev.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curl_ev.h"
#include "github.h"
#include "hmap.h"

#define GITHUB_INFLIGHT_MAX  2
#define GITHUB_QUEUE_MAX     4096
#define GITHUB_CACHE_MAX     4096        /* kept responses */
#define GITHUB_CACHE_BYTES   (64u << 20) /* their bodies together */
#define GITHUB_SECONDARY_MIN 60.0
#define GITHUB_SECONDARY_MAX 3600.0
#define GITHUB_RESET_MAX     3700.0 /* a reset further away is not believed */
#define GITHUB_API_VERSION   "2022-11-28"

typedef struct cached {
    char *etag;
    char *link; /* the Link header that came with the body, or NULL */
    char *body; /* NULL for an ETag known without its body (from the store) */
    size_t len;
    double used;
} cached;

struct github_call {
    github_api *api;
    struct github_call *next;                /* in the queue */
    struct github_call *all_prev, *all_next; /* every call not finished */
    char *url;
    char *accept;
    size_t max_body;
    github_api_fn done;
    void *arg;
    curl_ev_fetch *fetch;
    int retries; /* sends again after a limit */
    bool queued;
};

struct github_api {
    struct ev_loop *loop;
    curl_ev *curl;
    const github_cfg *cfg;
    hmap cache; /* accept "\n" url -> cached */
    size_t cache_bytes;
    github_call *head, *tail; /* waiting to be sent */
    github_call *all;         /* queued or in flight */
    size_t queued, inflight;
    ev_timer hold; /* until a limit passes */
    double hold_until;
    double secondary_wait; /* the next wait without Retry-After */
    github_api_stats stats;
};

/* ------------------------------------------------------------ cache */

static char *cache_key(const char *accept, const char *url)
{
    char *k = NULL;
    return asprintf(&k, "%s\n%s", accept, url) < 0 ? NULL : k;
}

static void cached_free(cached *c)
{
    free(c->etag);
    free(c->link);
    free(c->body);
    free(c);
}

static void cache_drop(github_api *a, const char *key)
{
    cached *c = hmap_del(&a->cache, key);
    if (c) {
        a->cache_bytes -= c->len;
        cached_free(c);
    }
}

/* The least recently used entry goes while the cache is over a bound. */
static void cache_trim(github_api *a)
{
    while (hmap_count(&a->cache) > GITHUB_CACHE_MAX || a->cache_bytes > GITHUB_CACHE_BYTES) {
        size_t pos = 0;
        const char *key, *oldest = NULL;
        double t = INFINITY;
        cached *c;
        while ((c = hmap_next(&a->cache, &pos, &key)) != NULL)
            if (c->used < t) {
                t = c->used;
                oldest = key;
            }
        if (!oldest)
            return;
        char *k = strdup(oldest);
        if (!k)
            return;
        cache_drop(a, k);
        free(k);
    }
}

static void cache_put(github_api *a, const char *key, const char *etag, const char *link,
                      const char *body, size_t len)
{
    cache_drop(a, key);
    cached *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->etag = strdup(etag);
    c->link = link ? strdup(link) : NULL;
    c->body = body ? malloc(len + 1) : NULL;
    if (!c->etag || (link && !c->link) || (body && !c->body)) {
        cached_free(c);
        return;
    }
    if (body) {
        memcpy(c->body, body, len);
        c->body[len] = '\0';
        c->len = len;
    }
    c->used = ev_now(a->loop);
    hmap_put(&a->cache, key, c);
    a->cache_bytes += c->len;
    cache_trim(a);
}

void github_api_seed(github_api *a, const char *url, const char *accept, const char *etag)
{
    char *key = cache_key(accept, url);
    if (key && etag && etag[0] && !hmap_get(&a->cache, key))
        cache_put(a, key, etag, NULL, NULL, 0);
    free(key);
}

const char *github_api_etag(github_api *a, const char *url, const char *accept)
{
    char *key = cache_key(accept, url);
    cached *c = key ? hmap_get(&a->cache, key) : NULL;
    free(key);
    return c ? c->etag : NULL;
}

/* ------------------------------------------------------------ limits */

static const char *header(const curl_ev_response *r, const char *name)
{
    return json_string_value(json_object_get(r->headers, name));
}

/* A header of whole non-negative seconds or counts; -1 when absent/bad. */
static double header_number(const curl_ev_response *r, const char *name)
{
    const char *v = header(r, name);
    char *end;
    if (!v || !*v)
        return -1;
    double d = strtod(v, &end);
    return *end == '\0' && isfinite(d) && d >= 0 ? d : -1;
}

static void read_rate(github_api *a, const curl_ev_response *r)
{
    double limit = header_number(r, "x-ratelimit-limit");
    double remaining = header_number(r, "x-ratelimit-remaining");
    double reset = header_number(r, "x-ratelimit-reset");
    if (limit >= 0 && remaining >= 0) {
        a->stats.limit = (long long)limit;
        a->stats.remaining = (long long)remaining;
        a->stats.reset = reset >= 0 ? reset : 0;
        a->stats.known = true;
    }
}

static void on_hold_over(struct ev_loop *loop, ev_timer *w, int revents);
static void pump(github_api *a);

static void hold(github_api *a, double seconds, const char *why)
{
    double now = ev_now(a->loop);
    if (seconds > GITHUB_RESET_MAX)
        seconds = GITHUB_RESET_MAX;
    if (now + seconds <= a->hold_until)
        return;
    a->hold_until = now + seconds;
    a->stats.held_until = bosun_now() + seconds;
    log_warning("github: %s: no request to GitHub for %.0f s", why, seconds);
    ev_timer_stop(a->loop, &a->hold);
    ev_timer_set(&a->hold, seconds, 0);
    ev_timer_start(a->loop, &a->hold);
}

static void on_hold_over(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    github_api *a = w->data;
    a->hold_until = 0;
    a->stats.held_until = 0;
    pump(a);
}

static bool says_secondary(const curl_ev_response *r)
{
    return r->body &&
           (strcasestr(r->body, "secondary rate limit") || strcasestr(r->body, "abuse detection"));
}

/* Whether the response is a limit's refusal, holding requests if so. */
static bool limited(github_api *a, const curl_ev_response *r)
{
    if (r->status != 403 && r->status != 429)
        return false;
    double retry = header_number(r, "retry-after");
    double remaining = header_number(r, "x-ratelimit-remaining");
    if (retry >= 0) {
        a->stats.secondary++;
        hold(a, retry > 0 ? retry : 1, "a secondary rate limit (Retry-After)");
        return true;
    }
    if (remaining == 0) {
        a->stats.primary++;
        double reset = header_number(r, "x-ratelimit-reset") - bosun_now();
        hold(a, reset > 1 ? reset + 1 : 1, "the rate limit is spent until its reset");
        return true;
    }
    if (says_secondary(r)) {
        a->stats.secondary++;
        if (a->secondary_wait < GITHUB_SECONDARY_MIN)
            a->secondary_wait = GITHUB_SECONDARY_MIN;
        hold(a, a->secondary_wait, "a secondary rate limit");
        a->secondary_wait = fmin(a->secondary_wait * 2, GITHUB_SECONDARY_MAX);
        return true;
    }
    return false;
}

/* ------------------------------------------------------------ calls */

static void call_free(github_call *c)
{
    github_api *a = c->api;
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else if (a->all == c)
        a->all = c->all_next;
    if (c->all_next)
        c->all_next->all_prev = c->all_prev;
    free(c->url);
    free(c->accept);
    free(c);
}

static void enqueue(github_api *a, github_call *c, bool front)
{
    c->queued = true;
    if (front) {
        c->next = a->head;
        a->head = c;
        if (!a->tail)
            a->tail = c;
    } else {
        c->next = NULL;
        if (a->tail)
            a->tail->next = c;
        else
            a->head = c;
        a->tail = c;
    }
    a->queued++;
}

static github_call *dequeue(github_api *a)
{
    github_call *c = a->head;
    if (!c)
        return NULL;
    a->head = c->next;
    if (!a->head)
        a->tail = NULL;
    c->next = NULL;
    c->queued = false;
    a->queued--;
    return c;
}

static void finish(github_call *c, const github_response *resp)
{
    github_api_fn done = c->done;
    void *arg = c->arg;
    call_free(c);
    done(resp, arg);
}

static void finish_error(github_call *c, long status, const char *why)
{
    github_response r = {.status = status, .body = "", .error = why};
    finish(c, &r);
}

static void on_fetched(const curl_ev_response *resp, void *arg)
{
    github_call *c = arg;
    github_api *a = c->api;
    c->fetch = NULL;
    a->inflight--;
    if (resp->result != CURLE_OK) {
        a->stats.failures++;
        finish_error(c, 0, resp->error);
        return pump(a);
    }
    read_rate(a, resp);
    if (limited(a, resp) && c->retries++ < 1) {
        enqueue(a, c, true); /* first when the hold is over */
        return pump(a);
    }
    if (resp->status < 400)
        a->secondary_wait = 0;
    char *key = cache_key(c->accept, c->url);
    cached *hit = key ? hmap_get(&a->cache, key) : NULL;
    github_response r = {.status = resp->status,
                         .body = resp->body,
                         .len = resp->body_len,
                         .truncated = resp->truncated,
                         .etag = header(resp, "etag"),
                         .link = header(resp, "link")};
    if (resp->status == 304) {
        a->stats.not_modified++;
        r.not_modified = true;
        if (hit && hit->body) {
            hit->used = ev_now(a->loop);
            r.status = 200;
            r.body = hit->body;
            r.len = hit->len;
            /* GitHub's 304 need not repeat the Link of the page. */
            if (!r.link)
                r.link = hit->link;
        } else
            r.body = "";
        r.etag = hit ? hit->etag : r.etag;
    } else if (resp->status == 200 && r.etag && key && !resp->truncated)
        cache_put(a, key, r.etag, r.link, resp->body, resp->body_len);
    else if (key && resp->status != 200)
        cache_drop(a, key); /* a 404 or 410: the resource is gone */
    if (resp->status >= 400)
        a->stats.failures++;
    /* finish may free what hit points to (a callback starting calls that
     * trim the cache): r.body is used inside finish only, the hit stays
     * until then since nothing else runs. */
    finish(c, &r);
    free(key);
    pump(a);
}

static void send_call(github_api *a, github_call *c)
{
    char auth[GITHUB_SECRET_MAX + 32], accept[160], version[64], inm[600];
    const char *headers[6];
    size_t n = 0;
    snprintf(accept, sizeof accept, "Accept: %s", c->accept);
    headers[n++] = accept;
    snprintf(version, sizeof version, "X-GitHub-Api-Version: %s", GITHUB_API_VERSION);
    headers[n++] = version;
    if (a->cfg->token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", a->cfg->token);
        headers[n++] = auth;
    }
    char *key = cache_key(c->accept, c->url);
    cached *hit = key ? hmap_get(&a->cache, key) : NULL;
    free(key);
    if (hit && strlen(hit->etag) < sizeof inm - 20) {
        snprintf(inm, sizeof inm, "If-None-Match: %s", hit->etag);
        headers[n++] = inm;
        a->stats.conditional++;
    }
    headers[n] = NULL;
    curl_ev_request req = {.url = c->url,
                           .headers = headers,
                           .timeout_ms = (long)(a->cfg->request_timeout * 1000),
                           .max_body = c->max_body,
                           .ca_file = a->cfg->ca_file};
    char err[256];
    a->stats.requests++;
    c->fetch = curl_ev_fetch_start(a->curl, &req, on_fetched, c, err, sizeof err);
    explicit_bzero(auth, sizeof auth);
    if (c->fetch) {
        a->inflight++;
        return;
    }
    a->stats.failures++;
    finish_error(c, 0, err);
}

static void pump(github_api *a)
{
    while (a->head && a->inflight < GITHUB_INFLIGHT_MAX && a->hold_until == 0)
        send_call(a, dequeue(a));
}

github_call *github_api_get(github_api *a, const char *url, const char *accept, size_t max_body,
                            github_api_fn done, void *arg)
{
    if (a->queued >= GITHUB_QUEUE_MAX || strncmp(url, a->cfg->api_url, strlen(a->cfg->api_url)))
        return NULL;
    github_call *c = calloc(1, sizeof *c);
    if (!c || !(c->url = strdup(url)) || !(c->accept = strdup(accept))) {
        if (c) {
            free(c->url);
            free(c);
        }
        return NULL;
    }
    c->api = a;
    c->all_next = a->all;
    if (a->all)
        a->all->all_prev = c;
    a->all = c;
    c->max_body = max_body;
    c->done = done;
    c->arg = arg;
    enqueue(a, c, false);
    pump(a);
    return c;
}

void github_api_cancel(github_call *c)
{
    github_api *a = c->api;
    if (c->fetch) {
        curl_ev_fetch_cancel(c->fetch);
        a->inflight--;
    } else if (c->queued) {
        github_call **p = &a->head, *prev = NULL;
        while (*p && *p != c) {
            prev = *p;
            p = &(*p)->next;
        }
        if (*p) {
            *p = c->next;
            if (a->tail == c)
                a->tail = prev;
            a->queued--;
        }
    }
    call_free(c);
    pump(a);
}

/* ------------------------------------------------------------ lifecycle */

github_api *github_api_new(struct ev_loop *loop, struct curl_ev *curl, const github_cfg *cfg)
{
    github_api *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->loop = loop;
    a->curl = curl;
    a->cfg = cfg;
    hmap_init(&a->cache);
    ev_timer_init(&a->hold, on_hold_over, 0, 0);
    a->hold.data = a;
    return a;
}

void github_api_set_cfg(github_api *a, const github_cfg *cfg)
{
    a->cfg = cfg;
}

void github_api_free(github_api *a)
{
    if (!a)
        return;
    ev_timer_stop(a->loop, &a->hold);
    while (a->all) {
        github_call *c = a->all;
        if (c->fetch)
            curl_ev_fetch_cancel(c->fetch);
        call_free(c);
    }
    size_t pos = 0;
    cached *c;
    while ((c = hmap_next(&a->cache, &pos, NULL)) != NULL)
        cached_free(c);
    hmap_destroy(&a->cache);
    free(a);
}

const github_api_stats *github_api_stats_get(github_api *a)
{
    a->stats.queued = a->queued;
    a->stats.inflight = a->inflight;
    a->stats.cached = hmap_count(&a->cache);
    return &a->stats;
}
