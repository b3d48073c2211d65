/* curl_ev — libcurl's multi interface on a libev loop (see curl_ev.h).
 *
 * The glue is libcurl's "multi_socket" API: curl tells which sockets to
 * watch (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION);
 * libev watchers call curl_multi_socket_action() back.  Finished transfers
 * are collected after every action and reported from there, so a done
 * callback never runs inside curl. */
#include "config.h"

#include "curl_ev.h"

#include <ctype.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Response headers kept by curl_ev_fetch: more is an error, not a silent
 * drop (curl already bounds each header's size). */
#define FETCH_HEADERS_MAX 256

typedef struct xfer xfer;

struct curl_ev {
    struct ev_loop *loop;
    CURLM *multi;
    ev_timer timer;
    xfer *head; /* every transfer running, for curl_ev_free */
    size_t count;
};

/* One running transfer; the easy handle's CURLOPT_PRIVATE points here. */
struct xfer {
    curl_ev *m;
    CURL *easy;
    curl_ev_done_fn done;
    void *arg;
    /* Called instead of nothing when curl_ev_free ends the transfer: lets a
     * buffered fetch, which owns its easy handle, free itself. */
    void (*abandon)(void *arg);
    char errbuf[CURL_ERROR_SIZE];
    xfer *prev, *next;
};

/* A socket curl asked us to watch. */
typedef struct sock_watch {
    ev_io io;
    curl_ev *m;
} sock_watch;

static void check_done(curl_ev *m);

static void unlink_xfer(curl_ev *m, xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        m->head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    m->count--;
}

static void on_socket_ready(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    /* The action may make curl drop this socket, freeing the watcher. */
    curl_ev *m = ((sock_watch *)w)->m;
    int mask =
        (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(m->multi, w->fd, mask, &running);
    check_done(m);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    curl_ev *m = w->data;
    int running;
    curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(m);
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching a socket. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    curl_ev *m = userp;
    sock_watch *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            ev_io_stop(m->loop, &s->io);
            curl_multi_assign(m->multi, fd, NULL);
            free(s);
        }
        return 0;
    }
    int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return -1;
        s->m = m;
        curl_multi_assign(m->multi, fd, s);
    } else {
        ev_io_stop(m->loop, &s->io);
    }
    ev_io_init(&s->io, on_socket_ready, fd, events);
    ev_io_start(m->loop, &s->io);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl may not be called back from here, so even
 * a zero timeout goes through the loop. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    curl_ev *m = userp;
    ev_timer_stop(m->loop, &m->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&m->timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(m->loop, &m->timer);
    }
    return 0;
}

static void check_done(curl_ev *m)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        xfer *x = (xfer *)(void *)priv;
        curl_multi_remove_handle(m->multi, easy);
        if (!x)
            continue;
        unlink_xfer(m, x);
        curl_ev_done_fn done = x->done;
        void *arg = x->arg;
        char errbuf[CURL_ERROR_SIZE];
        if (result != CURLE_OK && !x->errbuf[0])
            snprintf(x->errbuf, sizeof x->errbuf, "%s", curl_easy_strerror(result));
        memcpy(errbuf, x->errbuf, sizeof errbuf);
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(x);
        done(easy, result, result == CURLE_OK ? "" : errbuf, arg);
    }
}

curl_ev *curl_ev_new(struct ev_loop *loop)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    curl_ev *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->loop = loop;
    m->multi = curl_multi_init();
    if (!m->multi) {
        free(m);
        return NULL;
    }
    ev_timer_init(&m->timer, on_timer, 0., 0.);
    m->timer.data = m;
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    return m;
}

void curl_ev_free(curl_ev *m)
{
    if (!m)
        return;
    while (m->head) {
        xfer *x = m->head;
        unlink_xfer(m, x);
        curl_multi_remove_handle(m->multi, x->easy);
        curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, NULL);
        curl_easy_setopt(x->easy, CURLOPT_PRIVATE, NULL);
        void (*abandon)(void *) = x->abandon;
        void *arg = x->arg;
        free(x);
        if (abandon)
            abandon(arg);
    }
    ev_timer_stop(m->loop, &m->timer);
    /* Removing the handles made curl drop its sockets (socket_cb freed
     * their watchers); cleanup closes what the connection cache kept. */
    curl_multi_cleanup(m->multi);
    free(m);
}

static int add_xfer(curl_ev *m, CURL *easy, curl_ev_done_fn done, void (*abandon)(void *),
                    void *arg)
{
    xfer *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    x->m = m;
    x->easy = easy;
    x->done = done;
    x->arg = arg;
    x->abandon = abandon;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)x);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, x->errbuf);
    /* Signals would interrupt the loop's own syscalls; the threaded
     * resolver needs none. */
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    if (curl_multi_add_handle(m->multi, easy) != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
        free(x);
        return -1;
    }
    x->next = m->head;
    if (m->head)
        m->head->prev = x;
    m->head = x;
    m->count++;
    return 0;
}

int curl_ev_add(curl_ev *m, CURL *easy, curl_ev_done_fn done, void *arg)
{
    return add_xfer(m, easy, done, NULL, arg);
}

void curl_ev_remove(curl_ev *m, CURL *easy)
{
    char *priv = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    xfer *x = (xfer *)(void *)priv;
    if (!x || x->m != m)
        return;
    unlink_xfer(m, x);
    curl_multi_remove_handle(m->multi, easy);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    free(x);
}

size_t curl_ev_running(const curl_ev *m)
{
    return m->count;
}

/* ---- buffered requests */

struct curl_ev_fetch {
    curl_ev *m;
    CURL *easy;
    struct curl_slist *header_list;
    char *body;
    size_t body_len, body_cap, max_body;
    bool truncated;
    bool too_many_headers;
    json_t *headers;
    curl_ev_fetch_fn done;
    void *arg;
};

static void fetch_free(curl_ev_fetch *f)
{
    curl_easy_cleanup(f->easy);
    curl_slist_free_all(f->header_list);
    free(f->body);
    json_decref(f->headers);
    free(f);
}

static void fetch_abandon(void *arg)
{
    fetch_free(arg);
}

static size_t fetch_write(char *data, size_t size, size_t nmemb, void *userp)
{
    curl_ev_fetch *f = userp;
    size_t n = size * nmemb;
    size_t room = f->max_body - f->body_len;
    size_t take = n < room ? n : room;
    if (f->body_len + take + 1 > f->body_cap) {
        size_t cap = f->body_cap ? f->body_cap : 4096;
        while (cap < f->body_len + take + 1)
            cap *= 2;
        if (cap > f->max_body + 1)
            cap = f->max_body + 1;
        char *b = realloc(f->body, cap);
        if (!b)
            return 0;
        f->body = b;
        f->body_cap = cap;
    }
    memcpy(f->body + f->body_len, data, take);
    f->body_len += take;
    f->body[f->body_len] = '\0';
    if (take < n) {
        /* Past the bound: stop the transfer rather than read what would be
         * dropped anyway; the caller is told the body was cut. */
        f->truncated = true;
        return 0;
    }
    return n;
}

/* Keeps the final response's headers: a status line (a redirect's or a
 * 100 Continue's was earlier) starts them afresh. */
static size_t fetch_header(char *data, size_t size, size_t nmemb, void *userp)
{
    curl_ev_fetch *f = userp;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        json_object_clear(f->headers);
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon || colon == data)
        return n; /* the blank line ending the block, or a folded line */
    if (json_object_size(f->headers) >= FETCH_HEADERS_MAX) {
        f->too_many_headers = true;
        return 0;
    }
    char name[128];
    size_t nl = (size_t)(colon - data);
    if (nl >= sizeof name)
        return n; /* no header bosun reads is that long */
    for (size_t i = 0; i < nl; i++)
        name[i] = (char)tolower((unsigned char)data[i]);
    name[nl] = '\0';
    const char *v = colon + 1, *end = data + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    json_t *value = json_stringn_nocheck(v, (size_t)(end - v));
    if (!value || json_object_set_new(f->headers, name, value) != 0)
        return 0;
    return n;
}

static void fetch_done(CURL *easy, CURLcode result, const char *errbuf, void *arg)
{
    curl_ev_fetch *f = arg;
    curl_ev_response r = {.result = result, .error = errbuf, .headers = f->headers};
    if (result == CURLE_WRITE_ERROR && f->truncated) {
        r.result = CURLE_OK;
        r.error = "";
    } else if (f->too_many_headers) {
        r.error = "too many response headers";
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &r.total_seconds);
    r.body = f->body ? f->body : "";
    r.body_len = f->body_len;
    r.truncated = f->truncated;
    curl_ev_fetch_fn done = f->done;
    void *darg = f->arg;
    done(&r, darg);
    fetch_free(f);
}

static bool fetch_setup(curl_ev_fetch *f, const curl_ev_request *req, char *err, size_t err_size)
{
    CURL *e = f->easy;
    static const char ua[] = "bosun/" PACKAGE_VERSION;
    for (const char *const *h = req->headers; h && *h; h++) {
        struct curl_slist *l = curl_slist_append(f->header_list, *h);
        if (!l) {
            snprintf(err, err_size, "out of memory");
            return false;
        }
        f->header_list = l;
    }
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->header_list);
    curl_easy_setopt(e, CURLOPT_USERAGENT, req->user_agent ? req->user_agent : ua);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 30000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 10000L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
    if (req->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
    if (req->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, (const char *)req->body);
    }
    const char *method = req->method;
    if (method && strcmp(method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (method && strcmp(method, req->body ? "POST" : "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    return true;
}

static bool url_scheme_ok(const char *url)
{
    return url && (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0);
}

curl_ev_fetch *curl_ev_fetch_start(curl_ev *m, const curl_ev_request *req, curl_ev_fetch_fn done,
                                   void *arg, char *err, size_t err_size)
{
    if (!url_scheme_ok(req->url)) {
        snprintf(err, err_size, "the URL must start with http:// or https://");
        return NULL;
    }
    curl_ev_fetch *f = calloc(1, sizeof *f);
    if (!f || !(f->easy = curl_easy_init()) || !(f->headers = json_object())) {
        snprintf(err, err_size, "out of memory");
        if (f) {
            if (f->easy)
                curl_easy_cleanup(f->easy);
            free(f);
        }
        return NULL;
    }
    f->m = m;
    f->done = done;
    f->arg = arg;
    f->max_body = req->max_body ? req->max_body : 1024 * 1024;
    if (!fetch_setup(f, req, err, err_size)) {
        fetch_free(f);
        return NULL;
    }
    if (add_xfer(m, f->easy, fetch_done, fetch_abandon, f) != 0) {
        snprintf(err, err_size, "curl refused the request");
        fetch_free(f);
        return NULL;
    }
    return f;
}

void curl_ev_fetch_cancel(curl_ev_fetch *f)
{
    if (!f)
        return;
    curl_ev_remove(f->m, f->easy);
    fetch_free(f);
}
