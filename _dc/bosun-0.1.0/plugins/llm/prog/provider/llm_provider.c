/* llm_provider.c — one model call: the request built by the provider's
 * dialect, sent through curl_ev with our own write callback so the SSE
 * stream is read as it arrives, two timeouts (the whole attempt, by curl;
 * a stall of no byte for stall_timeout seconds, by a libev timer reset on
 * every byte), and retries of 429, 408, 5xx, network failures, cut streams
 * and timeouts after a back-off that honours Retry-After.  Every error text
 * passes llm_redact() with the key before anyone sees it. */
#include "config.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "llm_dialect.h"
#include "llm_provider.h"
#include "llm_redact.h"
#include "llm_retry.h"
#include "llm_settings.h"
#include "llm_sse.h"

#define SSE_MAX_LINE       (1u << 20)  /* one line of the stream */
#define SSE_MAX_EVENT      (2u << 20)  /* one event's data */
#define ERROR_BODY_MAX     (16u << 10) /* bytes of a refusal kept for its message */
#define CONNECT_TIMEOUT_MS 10000L

struct llm_provider {
    curl_ev *curl;
    struct ev_loop *loop;
    const llm_dialect *d;
    llm_settings s;
    char *url;
    char last_error[300];
};

struct llm_call {
    llm_provider *p;
    const struct llm_turn_ops *ops;
    void *arg;
    char *body;
    struct curl_slist *headers;
    int attempt;
    CURL *easy;
    bool running;
    llm_sse *sse;
    llm_stream st;
    long status;
    char retry_after[72];
    char *ebody;
    size_t ebody_len;
    bool stalled;
    /* Inside one of our callbacks to the caller, which may cancel: the
     * call is then freed when the callback has returned (curl forbids
     * removing a transfer from inside its write callback). */
    int busy;
    ev_timer stall;
    ev_timer wait;
    char errbuf[CURL_ERROR_SIZE];
};

/* The outcome of one attempt. */
typedef struct attempt_end {
    const char *category; /* NULL: success */
    char error[600];
    long status;
    double retry_after; /* -1: none given */
} attempt_end;

void llm_provider_set_loop(llm_provider *p, struct ev_loop *loop)
{
    p->loop = loop;
}

llm_provider *llm_provider_new(curl_ev *curl, const json_t *cfg, char *err, size_t err_size)
{
    llm_provider *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (llm_settings_load(&p->s, &p->d, cfg, err, err_size)) {
        free(p);
        return NULL;
    }
    size_t n = strlen(p->s.base_url) + strlen(p->d->path) + 1;
    p->url = malloc(n);
    if (!p->url) {
        snprintf(err, err_size, "out of memory");
        llm_provider_free(p);
        return NULL;
    }
    snprintf(p->url, n, "%s%s", p->s.base_url, p->d->path);
    p->curl = curl;
    p->loop = EV_DEFAULT;
    return p;
}

void llm_provider_free(llm_provider *p)
{
    if (!p)
        return;
    llm_settings_clear(&p->s);
    free(p->url);
    free(p);
}

/* ---- one attempt */

static void attempt_clear(llm_call *c)
{
    if (c->running)
        curl_ev_remove(c->p->curl, c->easy);
    c->running = false;
    if (c->easy)
        curl_easy_cleanup(c->easy);
    c->easy = NULL;
    ev_timer_stop(c->p->loop, &c->stall);
    llm_sse_free(c->sse);
    c->sse = NULL;
    llm_asm_free(c->st.a);
    c->st.a = NULL;
    free(c->ebody);
    c->ebody = NULL;
    c->ebody_len = 0;
}

static int on_sse_event(void *arg, const char *event, const char *data, size_t len)
{
    llm_call *c = arg;
    if (c->st.cancelled)
        return 1;
    return c->p->d->event(&c->st, event, data, len) ? 1 : 0;
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
    llm_call *c = arg;
    size_t len = size * n;
    /* A new status line (after a 100 Continue, say) starts a new header set. */
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0)
        c->retry_after[0] = '\0';
    else if (len > 12 && strncasecmp(buf, "retry-after:", 12) == 0) {
        size_t v = len - 12;
        if (v >= sizeof c->retry_after)
            v = sizeof c->retry_after - 1;
        memcpy(c->retry_after, buf + 12, v);
        c->retry_after[v] = '\0';
        c->retry_after[strcspn(c->retry_after, "\r\n")] = '\0';
    }
    return len;
}

static size_t on_write(char *buf, size_t size, size_t n, void *arg)
{
    llm_call *c = arg;
    size_t len = size * n;
    ev_timer_again(c->p->loop, &c->stall);
    if (!c->status)
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
    if (c->status < 200 || c->status > 299) {
        size_t keep = ERROR_BODY_MAX - c->ebody_len;
        if (keep > len)
            keep = len;
        char *q = keep ? realloc(c->ebody, c->ebody_len + keep + 1) : NULL;
        if (q) {
            memcpy(q + c->ebody_len, buf, keep);
            c->ebody = q;
            c->ebody_len += keep;
            c->ebody[c->ebody_len] = '\0';
        }
        return len;
    }
    /* A refusal by the reader, or a cancel from a delta, aborts the
     * transfer (CURLE_WRITE_ERROR); curl_ev then says it is done. */
    c->busy++;
    int rc = llm_sse_feed(c->sse, buf, len);
    c->busy--;
    return rc || c->st.cancelled ? 0 : len;
}

static void attempt_finish(llm_call *c, CURLcode result, const char *errbuf);

static void on_done(CURL *easy, CURLcode result, const char *errbuf, void *arg)
{
    (void)easy;
    llm_call *c = arg;
    c->running = false;
    attempt_finish(c, result, errbuf);
}

static void on_stall(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    llm_call *c = w->data;
    c->stalled = true;
    curl_ev_remove(c->p->curl, c->easy);
    c->running = false;
    attempt_finish(c, CURLE_OPERATION_TIMEDOUT, "");
}

static CURL *attempt_easy(llm_call *c)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    const llm_settings *s = &c->p->s;
    curl_easy_setopt(e, CURLOPT_URL, c->p->url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(s->request_timeout * 1000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "bosun-llm/" PACKAGE_VERSION);
    return e;
}

/* 0, or -1 when the transfer could not be started (c->errbuf says why). */
static int attempt_start(llm_call *c)
{
    c->attempt++;
    c->status = 0;
    c->stalled = false;
    c->retry_after[0] = '\0';
    c->errbuf[0] = '\0';
    c->st.a = llm_asm_new();
    c->st.finished = false;
    c->st.delivered = false;
    c->sse = llm_sse_new(SSE_MAX_LINE, SSE_MAX_EVENT, on_sse_event, c);
    c->easy = c->st.a && c->sse ? attempt_easy(c) : NULL;
    if (!c->easy || curl_ev_add(c->p->curl, c->easy, on_done, c)) {
        snprintf(c->errbuf, sizeof c->errbuf, "%s",
                 c->easy ? "curl refused the request" : "out of memory");
        return -1;
    }
    c->running = true;
    ev_timer_set(&c->stall, 0., c->p->s.stall_timeout);
    ev_timer_again(c->p->loop, &c->stall);
    return 0;
}

/* ---- an attempt's outcome */

/* The message of a refusal: error.message of either API, else the body's
 * start when it is text. */
static void refusal_message(const llm_call *c, char *out, size_t size)
{
    json_t *j = c->ebody ? json_loadb(c->ebody, c->ebody_len, 0, NULL) : NULL;
    const json_t *e = json_object_get(j, "error");
    const char *msg = json_is_string(e) ? json_string_value(e) : llm_str(e, "message");
    if (!*msg)
        msg = llm_str(j, "message");
    if (*msg)
        snprintf(out, size, ": %.300s", msg);
    else if (c->ebody_len && !j)
        snprintf(out, size, ": %.200s", c->ebody);
    else
        out[0] = '\0';
    json_decref(j);
}

static void classify_transfer(llm_call *c, CURLcode result, const char *errbuf, attempt_end *e)
{
    if (c->stalled) {
        e->category = "timeout";
        snprintf(e->error, sizeof e->error, "no data from %s for %g s (stall_timeout)",
                 c->p->d->name, c->p->s.stall_timeout);
    } else if (result == CURLE_OPERATION_TIMEDOUT) {
        e->category = "timeout";
        snprintf(e->error, sizeof e->error, "%s did not answer within %g s (request_timeout): %s",
                 c->p->d->name, c->p->s.request_timeout, errbuf);
    } else if (result == CURLE_WRITE_ERROR && c->st.a && llm_asm_error(c->st.a)) {
        e->category = llm_asm_category(c->st.a);
        snprintf(e->error, sizeof e->error, "%s", llm_asm_error(c->st.a));
    } else if (result == CURLE_WRITE_ERROR && c->sse && *llm_sse_error(c->sse)) {
        e->category = "invalid_response";
        snprintf(e->error, sizeof e->error, "%s", llm_sse_error(c->sse));
    } else {
        e->category = "network";
        snprintf(e->error, sizeof e->error, "request to %s failed: %s", c->p->d->name,
                 *errbuf ? errbuf : curl_easy_strerror(result));
    }
}

static void classify_response(llm_call *c, attempt_end *e)
{
    if (c->status < 200 || c->status > 299) {
        char msg[320];
        refusal_message(c, msg, sizeof msg);
        e->category = llm_retry_status_category(c->status);
        e->retry_after = llm_retry_after_parse(c->retry_after, time(NULL));
        snprintf(e->error, sizeof e->error, "%s answered HTTP %ld%s", c->p->d->name, c->status,
                 msg);
        return;
    }
    if (llm_sse_finish(c->sse) && llm_asm_error(c->st.a)) {
        e->category = llm_asm_category(c->st.a);
        snprintf(e->error, sizeof e->error, "%s", llm_asm_error(c->st.a));
    } else if (llm_asm_error(c->st.a)) {
        e->category = llm_asm_category(c->st.a);
        snprintf(e->error, sizeof e->error, "%s", llm_asm_error(c->st.a));
    } else if (llm_sse_events(c->sse) == 0) {
        /* A server that ignores "stream": true, or no API at all: trying
         * again would get the same. */
        char *type = NULL;
        curl_easy_getinfo(c->easy, CURLINFO_CONTENT_TYPE, &type);
        e->category = "invalid_response";
        snprintf(e->error, sizeof e->error,
                 "%s answered HTTP %ld without an event stream (Content-Type %.100s)",
                 c->p->d->name, c->status, type ? type : "none");
    } else if (!c->st.finished && !llm_asm_stop_reason(c->st.a)) {
        e->category = "network";
        snprintf(e->error, sizeof e->error,
                 "the stream from %s ended before the turn did (%zu "
                 "events read)",
                 c->p->d->name, llm_sse_events(c->sse));
    }
}

static void call_free(llm_call *c)
{
    attempt_clear(c);
    ev_timer_stop(c->p->loop, &c->wait);
    curl_slist_free_all(c->headers);
    free(c->body);
    free(c);
}

static void deliver_error(llm_call *c, attempt_end *e)
{
    llm_redact(e->error, c->p->s.api_key);
    struct llm_turn_result r = {
        .ok = false, .category = e->category, .error = e->error, .http_status = e->status};
    const struct llm_turn_ops *ops = c->ops;
    void *arg = c->arg;
    call_free(c);
    ops->done(arg, &r);
}

static void deliver_turn(llm_call *c)
{
    json_t *m = llm_asm_message(c->st.a);
    if (!m) {
        attempt_end e = {.category = "invalid_response", .status = c->status};
        snprintf(e.error, sizeof e.error, "%s", llm_asm_error(c->st.a));
        deliver_error(c, &e);
        return;
    }
    json_t *usage = json_incref(llm_asm_usage_json(c->st.a));
    const char *stop = llm_asm_stop_reason(c->st.a);
    char stop_copy[64];
    snprintf(stop_copy, sizeof stop_copy, "%s",
             stop ? stop : (json_object_get(m, "tool_calls") ? "tool_use" : "end_turn"));
    struct llm_turn_result r = {.ok = true,
                                .stop_reason = stop_copy,
                                .message = m,
                                .usage = usage,
                                .http_status = c->status};
    const struct llm_turn_ops *ops = c->ops;
    void *arg = c->arg;
    call_free(c);
    ops->done(arg, &r);
    json_decref(m);
    json_decref(usage);
}

static void on_wait(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    llm_call *c = w->data;
    if (attempt_start(c))
        attempt_finish(c, CURLE_FAILED_INIT, c->errbuf);
}

static void attempt_finish(llm_call *c, CURLcode result, const char *errbuf)
{
    ev_timer_stop(c->p->loop, &c->stall);
    if (c->st.cancelled) {
        call_free(c);
        return;
    }
    attempt_end e = {.status = c->status, .retry_after = -1};
    if (result != CURLE_OK)
        classify_transfer(c, result, errbuf ? errbuf : "", &e);
    else
        classify_response(c, &e);
    if (!e.category) {
        deliver_turn(c);
        return;
    }
    if (!llm_retry_category_retryable(e.category) || c->attempt > c->p->s.retries) {
        deliver_error(c, &e);
        return;
    }
    double wait = llm_retry_wait(c->attempt + 1, e.retry_after);
    llm_redact(e.error, c->p->s.api_key);
    attempt_clear(c);
    if (c->ops->retrying) {
        c->busy++;
        c->ops->retrying(c->arg, c->attempt + 1, wait, e.error);
        if (--c->busy == 0 && c->st.cancelled) {
            call_free(c);
            return;
        }
    }
    ev_timer_set(&c->wait, wait, 0.);
    ev_timer_start(c->p->loop, &c->wait);
}

llm_call *llm_provider_call(llm_provider *p, const char *system, json_t *messages, json_t *tools,
                            const struct llm_turn_ops *ops, void *arg)
{
    llm_call *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(p->last_error, sizeof p->last_error, "out of memory");
        return NULL;
    }
    c->p = p;
    c->ops = ops;
    c->arg = arg;
    c->st.ops = ops;
    c->st.arg = arg;
    ev_init(&c->stall, on_stall);
    c->stall.data = c;
    ev_init(&c->wait, on_wait);
    c->wait.data = c;
    char err[256] = "";
    json_t *body = p->d->body(&p->s, system, messages, tools, err, sizeof err);
    c->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    c->headers = llm_header_add(NULL, "Content-Type", "application/json");
    if (c->headers)
        c->headers = llm_header_add(c->headers, "Accept", "text/event-stream");
    if (c->headers)
        c->headers = p->d->headers(&p->s, c->headers);
    if (!c->body || !c->headers) {
        snprintf(p->last_error, sizeof p->last_error, "cannot build the request: %s",
                 *err ? err : "out of memory");
        call_free(c);
        return NULL;
    }
    if (attempt_start(c)) {
        snprintf(p->last_error, sizeof p->last_error, "cannot start the request: %s", c->errbuf);
        call_free(c);
        return NULL;
    }
    return c;
}

const char *llm_provider_error(const llm_provider *p)
{
    return p->last_error;
}

void llm_call_cancel(llm_call *c)
{
    if (!c)
        return;
    if (c->busy) {
        c->st.cancelled = true;
        return;
    }
    call_free(c);
}
