/* notify_channel — delivering to one channel without ever waiting on it.
 *
 * Each channel has a queue, at most CHANNEL_INFLIGHT transfers running on
 * curl_ev (the loop never blocks: a receiver that accepts and never answers
 * costs one timer per transfer), and deliveries waiting for a retry on
 * their own timer, with a back-off that doubles from backoff to
 * backoff_max, a little jitter, and Retry-After when the receiver gives
 * one.  Queue and waiting count together against queue: past it the
 * oldest delivery is dropped, counted and told as failed.  A permanent
 * refusal (4xx other than 408/425/429, a refused login) is not retried.
 *
 * Every attempt ends in an event, evt.notify.<channel>.sent or .failed; a
 * channel whose last CHANNEL_FAILING attempts failed is "failing" in
 * cmd.notify.status and logged, at a rate that backs off while it lasts. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bosun/version.h>

#include "notify.h"

#define CHANNEL_INFLIGHT 4   /* transfers running at once per channel */
#define CHANNEL_FAILING  3   /* consecutive failed attempts that make it failing */
#define RESPONSE_KEEP    200 /* bytes of a refusal's body kept for the reason */
#define CONNECT_MAX      10.0

typedef struct delivery {
    struct delivery *next, *prev;
    notify_channel *ch;
    notify_msg *msg;
    int attempts; /* made so far */
    CURL *easy;
    struct curl_slist *headers, *rcpt;
    notify_request req;
    size_t read_off;
    char resp[RESPONSE_KEEP + 1];
    size_t resp_len;
    double retry_after; /* seconds from a Retry-After header, 0 when none */
    double started;     /* monotonic, this attempt */
    ev_timer retry;
} delivery;

typedef struct dlist {
    delivery *head, *tail;
    size_t n;
} dlist;

struct notify_channel {
    const bosun_ctx *ctx;
    curl_ev *curl;
    const notify_channel_cfg *cfg;
    dlist queued, running, waiting;
    unsigned long long sent, failed, attempts_failed, dropped;
    int consecutive;
    char last_error[256];
    double last_sent_at, last_failed_at;
    bosun_complaint complaint;
    char sent_subject[BUS_SUBJECT_MAX], failed_subject[BUS_SUBJECT_MAX];
};

static void list_push(dlist *l, delivery *d)
{
    d->next = NULL;
    d->prev = l->tail;
    if (l->tail)
        l->tail->next = d;
    else
        l->head = d;
    l->tail = d;
    l->n++;
}

static void list_remove(dlist *l, delivery *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        l->head = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else
        l->tail = d->prev;
    d->next = d->prev = NULL;
    l->n--;
}

/* The transfer's own parts, after it ended or was removed. */
static void transfer_end(delivery *d)
{
    if (d->easy)
        curl_easy_cleanup(d->easy);
    d->easy = NULL;
    curl_slist_free_all(d->headers);
    curl_slist_free_all(d->rcpt);
    d->headers = d->rcpt = NULL;
    notify_request_free(&d->req);
    d->read_off = d->resp_len = 0;
    d->retry_after = 0;
}

static void delivery_free(delivery *d)
{
    transfer_end(d);
    ev_timer_stop(d->ch->ctx->loop, &d->retry);
    notify_msg_unref(d->msg);
    free(d);
}

static void publish(notify_channel *ch, const char *subject, json_t *data)
{
    if (bus_publish_new(ch->ctx->bus, subject, NULL, data) != 0)
        log_error("notify: cannot publish %s", subject);
}

static json_t *event_base(const notify_channel *ch, const delivery *d)
{
    static const char *const types[] = {"webhook", "ntfy", "email"};
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:i}", "channel", ch->cfg->name, "type",
                     types[ch->cfg->type], "kind", notify_kind_name(d->msg->kind), "key",
                     d->msg->key, "id", d->msg->id, "attempts", d->attempts, "count",
                     d->msg->count);
}

static void record_failure(notify_channel *ch, delivery *d, const char *why, bool final,
                           double retry_in)
{
    ch->attempts_failed++;
    ch->consecutive++;
    ch->last_failed_at = bosun_now();
    snprintf(ch->last_error, sizeof ch->last_error, "%s", why);
    if (final)
        ch->failed++;
    json_t *e = event_base(ch, d);
    json_object_set_new(e, "error", json_string(ch->last_error));
    json_object_set_new(e, "final", json_boolean(final));
    json_object_set_new(e, "retry_in", final ? json_null() : json_real(retry_in));
    publish(ch, ch->failed_subject, e);
    if (ch->consecutive >= CHANNEL_FAILING)
        bosun_complain(&ch->complaint, LOG_LEVEL_WARNING,
                       "notify: channel %s is failing: %d attempts in a row, the last: %s",
                       ch->cfg->name, ch->consecutive, ch->last_error);
    else
        log_info("notify: channel %s: %s %s", ch->cfg->name, d->msg->key, ch->last_error);
}

static void record_sent(notify_channel *ch, delivery *d, long status)
{
    ch->sent++;
    if (ch->consecutive >= CHANNEL_FAILING)
        bosun_complain_release(&ch->complaint, LOG_LEVEL_NOTICE,
                               "notify: channel %s delivers again", ch->cfg->name);
    ch->consecutive = 0;
    ch->last_sent_at = bosun_now();
    json_t *e = event_base(ch, d);
    json_object_set_new(e, "status", json_integer(status));
    json_object_set_new(e, "latency", json_real(ch->last_sent_at - d->msg->time));
    publish(ch, ch->sent_subject, e);
}

static void pump(notify_channel *ch);

static double backoff(const notify_channel_cfg *c, int attempts, double retry_after)
{
    double t = c->backoff_min;
    for (int i = 1; i < attempts && t < c->backoff_max; i++)
        t *= 2;
    if (t > c->backoff_max)
        t = c->backoff_max;
    unsigned char r = 128;
    bosun_random_bytes(&r, 1);
    /* +-20 %: deliveries that failed together do not retry together. */
    t *= 0.8 + 0.4 * (r / 255.0);
    return retry_after > t ? (retry_after < c->backoff_max ? retry_after : c->backoff_max) : t;
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    delivery *d = w->data;
    notify_channel *ch = d->ch;
    list_remove(&ch->waiting, d);
    list_push(&ch->queued, d);
    pump(ch);
}

/* An attempt failed: wait and retry, or give up. */
static void attempt_failed(notify_channel *ch, delivery *d, const char *why, bool permanent)
{
    bool final = permanent || d->attempts > ch->cfg->retries;
    double in = final ? 0 : backoff(ch->cfg, d->attempts, d->retry_after);
    record_failure(ch, d, why, final, in);
    transfer_end(d);
    if (final) {
        delivery_free(d);
        return;
    }
    ev_timer_init(&d->retry, on_retry, in, 0);
    d->retry.data = d;
    ev_timer_start(ch->ctx->loop, &d->retry);
    list_push(&ch->waiting, d);
}

static bool permanent_status(long status)
{
    return status >= 400 && status < 500 && status != 408 && status != 425 && status != 429;
}

static void on_done(CURL *easy, CURLcode result, const char *errbuf, void *arg)
{
    delivery *d = arg;
    notify_channel *ch = d->ch;
    list_remove(&ch->running, d);
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    char why[256];
    if (result != CURLE_OK) {
        snprintf(why, sizeof why, "%s", errbuf && *errbuf ? errbuf : curl_easy_strerror(result));
        attempt_failed(ch, d, why, result == CURLE_LOGIN_DENIED);
    } else if (ch->cfg->type != NT_EMAIL && (status < 200 || status > 299)) {
        d->resp[d->resp_len] = '\0';
        char *body = notify_header_text(d->resp, RESPONSE_KEEP);
        snprintf(why, sizeof why, "HTTP %ld%s%s", status, body && *body ? ": " : "",
                 body ? body : "");
        free(body);
        attempt_failed(ch, d, why, permanent_status(status));
    } else {
        record_sent(ch, d, status);
        delivery_free(d);
    }
    pump(ch);
}

static size_t on_write(char *ptr, size_t size, size_t n, void *arg)
{
    delivery *d = arg;
    size_t len = size * n, room = RESPONSE_KEEP - d->resp_len;
    memcpy(d->resp + d->resp_len, ptr, len < room ? len : room);
    d->resp_len += len < room ? len : room;
    return len;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *arg)
{
    delivery *d = arg;
    size_t len = size * n;
    if (len > 12 && len < 64 && strncasecmp(ptr, "retry-after:", 12) == 0) {
        char buf[64];
        memcpy(buf, ptr + 12, len - 12);
        buf[len - 12] = '\0';
        double s = strtod(buf, NULL);
        if (s > 0 && s < 86400)
            d->retry_after = s;
    }
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
    delivery *d = arg;
    size_t left = d->req.body_len - d->read_off, len = size * n < left ? size * n : left;
    memcpy(buf, d->req.body + d->read_off, len);
    d->read_off += len;
    return len;
}

static int setup_email(notify_channel *ch, delivery *d)
{
    const notify_channel_cfg *c = ch->cfg;
    char addr[300];
    snprintf(addr, sizeof addr, "<%s>", c->from);
    CURL *e = d->easy;
    for (size_t i = 0; c->to[i]; i++) {
        char to[300];
        snprintf(to, sizeof to, "<%s>", c->to[i]);
        struct curl_slist *l = curl_slist_append(d->rcpt, to);
        if (!l)
            return -1;
        d->rcpt = l;
    }
    bool ok =
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps") == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_MAIL_FROM, addr) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, d->rcpt) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_READDATA, d) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)d->req.body_len) == CURLE_OK;
    /* smtp:// must not fall back to plain text when STARTTLS is wanted;
     * smtps:// is TLS from the first byte anyway. */
    if (ok && c->starttls && strncasecmp(c->url, "smtp://", 7) == 0)
        ok = curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL) == CURLE_OK;
    if (ok && c->username)
        ok = curl_easy_setopt(e, CURLOPT_USERNAME, c->username) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_PASSWORD, c->secret ? c->secret : "") == CURLE_OK;
    return ok ? 0 : -1;
}

static int setup_http(notify_channel *ch, delivery *d)
{
    /* No "Expect: 100-continue": it would wait a round trip per message. */
    struct curl_slist *l = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; l && d->req.headers[i]; i++) {
        struct curl_slist *n = curl_slist_append(l, d->req.headers[i]);
        if (!n) {
            curl_slist_free_all(l);
            l = NULL;
        }
        l = n;
    }
    if (!l)
        return -1;
    d->headers = l;
    CURL *e = d->easy;
    bool ok =
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_POST, 1L) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->req.body) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->req.body_len) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->headers) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_WRITEDATA, d) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_HEADERDATA, d) == CURLE_OK;
    return ok ? 0 : -1;
}

static int setup(notify_channel *ch, delivery *d)
{
    const notify_channel_cfg *c = ch->cfg;
    if (notify_request_build(c, d->msg, bosun_now(), &d->req) != 0 || !(d->easy = curl_easy_init()))
        return -1;
    double connect = c->timeout < CONNECT_MAX ? c->timeout : CONNECT_MAX;
    CURL *e = d->easy;
    bool ok = curl_easy_setopt(e, CURLOPT_URL, c->url) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(c->timeout * 1000)) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect * 1000)) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_USERAGENT, "bosun/" BOSUN_VERSION) == CURLE_OK;
    if (ok && c->ca_file)
        ok = curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) == CURLE_OK;
    if (!ok)
        return -1;
    return c->type == NT_EMAIL ? setup_email(ch, d) : setup_http(ch, d);
}

static void start_one(notify_channel *ch, delivery *d)
{
    d->attempts++;
    d->started = bosun_monotonic();
    if (setup(ch, d) != 0 || curl_ev_add(ch->curl, d->easy, on_done, d) != 0) {
        attempt_failed(ch, d, "cannot start the transfer (out of memory?)", false);
        return;
    }
    list_push(&ch->running, d);
}

static void pump(notify_channel *ch)
{
    while (ch->running.n < CHANNEL_INFLIGHT && ch->queued.head) {
        delivery *d = ch->queued.head;
        list_remove(&ch->queued, d);
        start_one(ch, d);
    }
}

/* Past the bound: the oldest delivery not running goes. */
static void drop_oldest(notify_channel *ch)
{
    dlist *l = ch->queued.head ? &ch->queued : &ch->waiting;
    delivery *d = l->head;
    if (!d)
        return;
    list_remove(l, d);
    ch->dropped++;
    record_failure(ch, d, "dropped: the channel's queue is full", true, 0);
    delivery_free(d);
}

void notify_channel_send(notify_channel *ch, notify_msg *m)
{
    delivery *d = calloc(1, sizeof *d);
    if (!d) {
        log_error("notify: channel %s: out of memory, %s not sent", ch->cfg->name, m->key);
        return;
    }
    d->ch = ch;
    d->msg = notify_msg_ref(m);
    ev_timer_init(&d->retry, on_retry, 0, 0);
    while (ch->queued.n + ch->waiting.n >= ch->cfg->queue_max &&
           (ch->queued.head || ch->waiting.head))
        drop_oldest(ch);
    list_push(&ch->queued, d);
    pump(ch);
}

notify_channel *notify_channel_new(const bosun_ctx *ctx, curl_ev *curl,
                                   const notify_channel_cfg *cfg)
{
    notify_channel *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    ch->ctx = ctx;
    ch->curl = curl;
    ch->cfg = cfg;
    snprintf(ch->sent_subject, sizeof ch->sent_subject, "evt.notify.%s.sent", cfg->name);
    snprintf(ch->failed_subject, sizeof ch->failed_subject, "evt.notify.%s.failed", cfg->name);
    return ch;
}

static void free_list(notify_channel *ch, dlist *l, bool running)
{
    while (l->head) {
        delivery *d = l->head;
        list_remove(l, d);
        if (running)
            curl_ev_remove(ch->curl, d->easy);
        delivery_free(d);
    }
}

void notify_channel_free(notify_channel *ch)
{
    if (!ch)
        return;
    size_t lost = ch->queued.n + ch->running.n + ch->waiting.n;
    if (lost)
        log_notice("notify: channel %s: %zu deliveries not made (stopping)", ch->cfg->name, lost);
    free_list(ch, &ch->running, true);
    free_list(ch, &ch->queued, false);
    free_list(ch, &ch->waiting, false);
    free(ch);
}

bool notify_channel_failing(const notify_channel *ch)
{
    return ch->consecutive >= CHANNEL_FAILING;
}

json_t *notify_channel_status(const notify_channel *ch)
{
    static const char *const types[] = {"webhook", "ntfy", "email"};
    const char *state = notify_channel_failing(ch) ? "failing" : ch->sent ? "ok" : "idle";
    return json_pack(
        "{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:s?,s:o,s:o}", "name", ch->cfg->name, "type",
        types[ch->cfg->type], "state", state, "sent", (json_int_t)ch->sent, "failed",
        (json_int_t)ch->failed, "attempts_failed", (json_int_t)ch->attempts_failed, "dropped",
        (json_int_t)ch->dropped, "queued", (json_int_t)ch->queued.n, "in_flight",
        (json_int_t)ch->running.n, "waiting_retry", (json_int_t)ch->waiting.n,
        "consecutive_failures", ch->consecutive, "last_error",
        ch->last_error[0] ? ch->last_error : NULL, "last_sent_at",
        ch->last_sent_at > 0 ? json_real(ch->last_sent_at) : json_null(), "last_failed_at",
        ch->last_failed_at > 0 ? json_real(ch->last_failed_at) : json_null());
}
