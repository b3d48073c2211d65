/* curl_ev — libcurl's multi interface driven by a libev loop.
 *
 * Plugins and programs that speak HTTP (or SMTP) to the outside — the
 * github and notify plugins, bosun-llm's model API and fetch tool — must
 * never block the loop: curl_ev runs any number of transfers at once on
 * one curl multi handle whose sockets and timer are libev watchers.  Name
 * resolution is libcurl's (Debian's libcurl uses its threaded resolver),
 * so a slow DNS server does not stall the loop either.
 *
 * Two levels:
 *  - curl_ev_add(): the caller prepares a CURL easy handle itself (its own
 *    write callback for a stream such as server-sent events, SMTP, socket
 *    checks) and is told once when the transfer ends;
 *  - curl_ev_fetch(): one HTTP request with the response buffered up to a
 *    bound, its status and headers parsed, for the common JSON API call.
 *
 * Callbacks run from the loop, never from inside curl_ev_add() or
 * curl_ev_fetch(), and may start or cancel other transfers.  Not
 * thread-safe: one curl_ev per loop.  Linked as a convenience library
 * (libcurlev.la) into what needs it, so bosund itself maps libcurl only
 * when a plugin that uses it is loaded. */
#ifndef BOSUN_CURL_EV_H
#define BOSUN_CURL_EV_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct ev_loop;

typedef struct curl_ev curl_ev;

/* result is CURLE_OK when the transfer completed (whatever the HTTP
 * status); errbuf holds curl's reason otherwise (CURLOPT_ERRORBUFFER is
 * set by curl_ev_add unless the caller set its own). */
typedef void (*curl_ev_done_fn)(CURL *easy, CURLcode result, const char *errbuf, void *arg);

/* NULL when curl cannot be initialised (out of memory). */
curl_ev *curl_ev_new(struct ev_loop *loop);
/* Ends every transfer still running without calling its done callback
 * (the callers own their easy handles and clean them up), then frees. */
void curl_ev_free(curl_ev *m);

/* Starts a prepared transfer.  The caller keeps ownership of easy and must
 * not clean it up before done ran or curl_ev_remove() returned.  Returns 0,
 * or -1 when curl refused the handle (done is then not called). */
int curl_ev_add(curl_ev *m, CURL *easy, curl_ev_done_fn done, void *arg);
/* Stops a transfer before it ends; done is not called.  No effect on a
 * handle curl_ev does not run. */
void curl_ev_remove(curl_ev *m, CURL *easy);
/* Transfers running now. */
size_t curl_ev_running(const curl_ev *m);

/* ---- buffered requests */

typedef struct curl_ev_request {
    const char *method;         /* NULL: GET (POST when body is set) */
    const char *url;            /* http:// or https:// only */
    const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
    const void *body;           /* request body, copied; NULL: none */
    size_t body_len;
    long timeout_ms;         /* whole transfer; 0: 30 s */
    long connect_timeout_ms; /* 0: 10 s */
    size_t max_body;         /* response bytes kept; 0: 1 MiB; more is dropped and flagged */
    const char *ca_file;     /* PEM bundle to verify the server; NULL: the system's */
    const char *user_agent;  /* NULL: "bosun/VERSION" */
} curl_ev_request;

typedef struct curl_ev_response {
    CURLcode result;   /* CURLE_OK when a response arrived */
    const char *error; /* readable reason when result != CURLE_OK, else "" */
    long status;       /* HTTP status, 0 without a response */
    const char *body;  /* NUL-terminated (the NUL not counted); never NULL */
    size_t body_len;
    bool truncated;       /* the body passed max_body: body holds its first max_body bytes */
    json_t *headers;      /* the final response's headers: lower-case name -> value (last wins) */
    double total_seconds; /* the transfer's duration */
} curl_ev_response;

typedef struct curl_ev_fetch curl_ev_fetch;
/* resp and everything it points to live only during the call. */
typedef void (*curl_ev_fetch_fn)(const curl_ev_response *resp, void *arg);

/* Starts one request; done is called exactly once (also for a failure
 * curl reports at once) unless curl_ev_fetch_cancel() comes first.
 * Returns NULL, with err filled, for a request that cannot be made (a bad
 * URL scheme, out of memory); done is then not called. */
curl_ev_fetch *curl_ev_fetch_start(curl_ev *m, const curl_ev_request *req, curl_ev_fetch_fn done,
                                   void *arg, char *err, size_t err_size);
/* Cancels a request whose done has not run yet; done is not called. */
void curl_ev_fetch_cancel(curl_ev_fetch *f);

#endif
