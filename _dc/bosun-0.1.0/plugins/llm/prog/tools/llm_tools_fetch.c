/* fetch: one HTTP request through curl_ev, with the policy of
 * bosun-llm(7): URL allowlist, allowed methods, redirects followed here
 * (not by curl) and only to allowed URLs, no connection to a private
 * address unless fetch.allow_private (checked on the address curl
 * connects to, in its open-socket callback), no proxy from the
 * environment (the check must see the real peer), the body cut at
 * max_body.  Every request, refused or made, is logged to the host. */
#define _GNU_SOURCE
#include "curl_ev.h"
#include "llm_tools_addr.h"
#include "llm_tools_int.h"
#include "llm_tools_url.h"

#include <bosun/sys.h>

#include <arpa/inet.h>
#include <stdarg.h>
#include <strings.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LTF_MAX_HEADERS 64

struct lt_fetch {
    llm_tool_job *j;
    CURL *easy;
    struct curl_slist *headers;
    char *method, *url, *body;
    size_t body_len;
    char *buf;
    size_t len, max;
    bool truncated;
    int redirects;
    double started;    /* wall clock at this hop's start, for the log's time */
    double t0;         /* monotonic clock then, for durations */
    char blocked[160]; /* why the open-socket callback refused the peer */
    char errbuf[CURL_ERROR_SIZE];
};

static void ltf_free(struct lt_fetch *f)
{
    if (f->easy)
        curl_easy_cleanup(f->easy);
    curl_slist_free_all(f->headers);
    free(f->method);
    free(f->url);
    free(f->body);
    free(f->buf);
    free(f);
}

static void ltf_cancel(void *impl)
{
    struct lt_fetch *f = impl;
    curl_ev_remove(f->j->t->curl, f->easy);
    ltf_free(f);
}

/* One line of the fetch log: {time, duration, method, url, status, bytes,
 * truncated, error?}. */
static void ltf_log(const struct lt_fetch *f, long status, bool truncated, const char *error)
{
    llm_tool_job *j = f->j;
    double started = f->started;
    if (!j->t->host.fetch_logged)
        return;
    char when[40];
    time_t secs = (time_t)started;
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03dZ", (int)((started - (double)secs) * 1000));
    json_t *entry =
        json_pack("{s:s,s:f,s:s,s:s,s:I,s:I,s:b}", "time", when, "duration",
                  bosun_monotonic() - f->t0, "method", f->method, "url", f->url, "status",
                  (json_int_t)status, "bytes", (json_int_t)f->len, "truncated", truncated);
    if (entry && error)
        json_object_set_new(entry, "error", json_string(error));
    if (entry)
        j->t->host.fetch_logged(j->t->host.arg, j->call_id, entry);
    json_decref(entry);
}

static size_t ltf_write(char *data, size_t size, size_t n, void *arg)
{
    struct lt_fetch *f = arg;
    size_t len = size * n, room = f->max - f->len;
    if (len > room) {
        memcpy(f->buf + f->len, data, room);
        f->len += room;
        f->truncated = true;
        return 0; /* stops the transfer: the rest would be dropped anyway */
    }
    memcpy(f->buf + f->len, data, len);
    f->len += len;
    return len;
}

static curl_socket_t ltf_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct lt_fetch *f = arg;
    (void)purpose;
    const char *what = lta_addr_private(&a->addr, a->addrlen);
    if (what && !f->j->t->fetch.allow_private) {
        char ip[INET6_ADDRSTRLEN] = "?";
        const void *raw = a->family == AF_INET6
                              ? (const void *)&((struct sockaddr_in6 *)&a->addr)->sin6_addr
                              : (const void *)&((struct sockaddr_in *)&a->addr)->sin_addr;
        inet_ntop(a->family, raw, ip, sizeof ip);
        snprintf(f->blocked, sizeof f->blocked, "%s is a %s address", ip, what);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static void ltf_fail(struct lt_fetch *f, const char *category, const char *code, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

static void ltf_fail(struct lt_fetch *f, const char *category, const char *code, const char *fmt,
                     ...)
{
    llm_tool_job *j = f->j;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    f->len = 0;
    ltf_log(f, 0, false, code);
    ltf_free(f);
    lt_job_fail(j, category, json_pack("{s:s}", "code", code), "%s: %s", code, msg);
}

static void ltf_done(CURL *easy, CURLcode result, const char *errbuf, void *arg);

static int ltf_setup(struct lt_fetch *f)
{
    CURL *e = f->easy;
    bool head = strcmp(f->method, "HEAD") == 0;
    bool ok = curl_easy_setopt(e, CURLOPT_URL, f->url) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, f->j->t->fetch.timeout_ms) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ltf_write) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_WRITEDATA, f) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, ltf_open_socket) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, f) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_USERAGENT, "bosun-llm") == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->headers) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_NOBODY, head ? 1L : 0L) == CURLE_OK;
    if (ok && f->body) {
        ok =
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)f->body_len) == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, f->body) == CURLE_OK;
    }
    if (ok && strcmp(f->method, "GET") != 0 && !head)
        ok = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, f->method) == CURLE_OK;
    return ok ? 0 : -1;
}

static void ltf_start(struct lt_fetch *f)
{
    f->len = 0;
    f->truncated = false;
    f->blocked[0] = f->errbuf[0] = '\0';
    f->started = bosun_now();
    f->t0 = bosun_monotonic();
    curl_easy_reset(f->easy);
    if (ltf_setup(f) < 0 || curl_ev_add(f->j->t->curl, f->easy, ltf_done, f) < 0)
        ltf_fail(f, "runtime", "FETCH_FAILED", "%s", "curl refused the request");
}

/* The redirect target of a 3xx response, checked like the first URL;
 * 303 (and 301/302 after a POST, as browsers do) turn into a GET. */
static void ltf_redirect(struct lt_fetch *f, long status, const char *target)
{
    char why[256];
    char *next = ltu_normalize(target, why, sizeof why);
    ltf_log(f, status, f->truncated, NULL);
    if (!next) {
        ltf_fail(f, "runtime", "FETCH_FAILED", "redirected to an unusable URL: %s", why);
        return;
    }
    free(f->url);
    f->url = next;
    if (++f->redirects > f->j->t->fetch.max_redirects) {
        ltf_fail(f, "runtime", "FETCH_FAILED", "more than %d redirects",
                 f->j->t->fetch.max_redirects);
        return;
    }
    if (!ltu_allowed(f->j->t->fetch.allow, f->url)) {
        ltf_fail(f, "denied", "URL_NOT_ALLOWED", "redirected to %s, which is not on the allowlist",
                 f->url);
        return;
    }
    if (status == 303 || ((status == 301 || status == 302) && strcmp(f->method, "POST") == 0)) {
        free(f->method);
        free(f->body);
        f->method = strdup("GET");
        f->body = NULL;
        f->body_len = 0;
    }
    if (!f->method) {
        ltf_fail(f, "runtime", "FETCH_FAILED", "%s", "out of memory");
        return;
    }
    ltf_start(f);
}

static void ltf_answer(struct lt_fetch *f, long status)
{
    llm_tool_job *j = f->j;
    char *ctype = NULL;
    curl_easy_getinfo(f->easy, CURLINFO_CONTENT_TYPE, &ctype);
    ltf_log(f, status, f->truncated, NULL);
    char *body = lt_text(f->buf, f->len), *content = NULL;
    if (body)
        (void)!asprintf(&content, "HTTP %ld\ncontent-type: %s\n\n%s%s", status,
                        ctype ? ctype : "(none)", body,
                        f->truncated ? "\n[... body cut at the fetch size limit]" : "");
    free(body);
    json_t *detail =
        json_pack("{s:s,s:s,s:I,s:I,s:b,s:I,s:f}", "method", f->method, "url", f->url, "status",
                  (json_int_t)status, "bytes", (json_int_t)f->len, "truncated", f->truncated,
                  "redirects", (json_int_t)f->redirects, "duration", bosun_monotonic() - f->t0);
    ltf_free(f);
    if (content)
        lt_job_ok(j, content, detail);
    else
        lt_job_fail(j, "runtime", detail, "FETCH_FAILED: out of memory");
}

static void ltf_done(CURL *easy, CURLcode result, const char *errbuf, void *arg)
{
    struct lt_fetch *f = arg;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (f->blocked[0]) {
        ltf_fail(f, "denied", "URL_NOT_ALLOWED",
                 "%s; private, loopback and link-local addresses are refused unless "
                 "fetch.allow_private is set",
                 f->blocked);
        return;
    }
    if (result != CURLE_OK && !(result == CURLE_WRITE_ERROR && f->truncated)) {
        ltf_fail(f, result == CURLE_OPERATION_TIMEDOUT ? "timeout" : "runtime", "FETCH_FAILED",
                 "%s", errbuf && *errbuf ? errbuf : curl_easy_strerror(result));
        return;
    }
    char *target = NULL;
    if (status >= 300 && status < 400 &&
        curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &target) == CURLE_OK && target) {
        char *copy = strdup(target);
        if (copy)
            ltf_redirect(f, status, copy);
        else
            ltf_fail(f, "runtime", "FETCH_FAILED", "%s", "out of memory");
        free(copy);
        return;
    }
    ltf_answer(f, status);
}

static bool ltf_method_allowed(const llm_tools *t, const char *method)
{
    size_t i;
    json_t *m;
    json_array_foreach(t->fetch.methods, i,
                       m) if (strcmp(json_string_value(m), method) == 0) return true;
    return false;
}

/* Headers the model may set: a token name (not one curl must own) and a
 * value without CR, LF or NUL, so no request can be smuggled in. */
static const char *ltf_header_refused(const char *name, const char *value, size_t value_len)
{
    static const char *const owned[] = {"host", "content-length", "transfer-encoding", "connection",
                                        NULL};
    if (!*name || strspn(name, "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(name))
        return "is not a valid header name";
    for (const char *const *o = owned; *o; o++)
        if (strcasecmp(name, *o) == 0)
            return "is set by the fetch tool itself";
    if (strcspn(value, "\r\n") != value_len)
        return "has a value with CR, LF or NUL";
    return NULL;
}

static int ltf_headers(struct lt_fetch *f, json_t *headers)
{
    const char *name;
    json_t *value;
    if (json_object_size(headers) > LTF_MAX_HEADERS) {
        ltf_fail(f, "invalid", "FETCH_FAILED", "more than %d headers", LTF_MAX_HEADERS);
        return -1;
    }
    json_object_foreach(headers, name, value)
    {
        const char *why =
            ltf_header_refused(name, json_string_value(value), json_string_length(value));
        char *line = NULL;
        if (why) {
            ltf_fail(f, "invalid", "FETCH_FAILED", "header \"%.64s\" %s", name, why);
            return -1;
        }
        struct curl_slist *more = NULL;
        if (asprintf(&line, "%s: %s", name, json_string_value(value)) >= 0)
            more = curl_slist_append(f->headers, line);
        free(line);
        if (!more) {
            ltf_fail(f, "runtime", "FETCH_FAILED", "%s", "out of memory");
            return -1;
        }
        f->headers = more;
    }
    return 0;
}

static struct lt_fetch *ltf_new(llm_tool_job *j, json_t *args)
{
    struct lt_fetch *f = calloc(1, sizeof *f);
    const char *method = json_string_value(json_object_get(args, "method"));
    json_t *body = json_object_get(args, "body");
    if (!f)
        return NULL;
    f->j = j;
    f->max = j->t->fetch.max_body;
    f->started = bosun_now();
    f->t0 = bosun_monotonic();
    f->method = strdup(method ? method : "GET");
    f->url = strdup(json_string_value(json_object_get(args, "url")));
    f->buf = malloc(f->max + 1);
    f->easy = curl_easy_init();
    if (body) {
        f->body_len = json_string_length(body);
        f->body = malloc(f->body_len + 1);
        if (f->body)
            memcpy(f->body, json_string_value(body), f->body_len + 1);
    }
    if (!f->method || !f->url || !f->buf || !f->easy || (body && !f->body)) {
        ltf_free(f);
        return NULL;
    }
    return f;
}

void lt_fetch(llm_tool_job *j, json_t *args)
{
    struct lt_fetch *f = ltf_new(j, args);
    if (!f) {
        lt_job_fail(j, "runtime", NULL, "FETCH_FAILED: out of memory");
        return;
    }
    char why[256];
    char *norm = ltu_normalize(f->url, why, sizeof why);
    if (!norm) {
        ltf_fail(f, "invalid", "URL_NOT_ALLOWED", "%s", why);
        return;
    }
    free(f->url);
    f->url = norm;
    if (!ltu_allowed(j->t->fetch.allow, f->url)) {
        ltf_fail(f, "denied", "URL_NOT_ALLOWED", "%s is not on the allowlist (fetch.allow)",
                 f->url);
        return;
    }
    if (!ltf_method_allowed(j->t, f->method)) {
        ltf_fail(f, "denied", "METHOD_NOT_ALLOWED", "%s is not an allowed method (fetch.methods)",
                 f->method);
        return;
    }
    if (ltf_headers(f, json_object_get(args, "headers")) < 0)
        return;
    j->impl = f;
    j->impl_cancel = ltf_cancel;
    ltf_start(f);
}
