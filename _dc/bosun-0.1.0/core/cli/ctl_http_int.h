/* Inside bosunctl's HTTP transport: shared by ctl_http.c (the transport)
 * and ctl_http_map.c (bus requests -> REST calls). */
#ifndef BOSUN_CTL_HTTP_INT_H
#define BOSUN_CTL_HTTP_INT_H

/* Seconds a bus request over --url is given beyond its own timeout (the
 * round trip's), so the server's answer, not the transfer's cut, ends it. */
#define CTL_HTTP_REQUEST_SLACK 10

#include <jansson.h>
#include <stdbool.h>

#include <bosun/bus.h>

#include "ctl_http.h"
#include "ctl_ws.h"

typedef struct ctl_http {
    ctl_conn base; /* first: a ctl_http is a ctl_conn */
    ctl_http_target t;
    CURL *curl;    /* REST calls, one after another on a kept-alive connection */
    ctl_ws *ws;    /* the /ws follower of a "sub", or NULL */
    json_t *store; /* the store's part of the last GET /api/v1/status (null: it had
                    * none), not yet asked for */
} ctl_http;

typedef struct http_reply {
    long status;
    char *body; /* NUL-terminated */
    size_t len;
    char *ctype; /* Content-Type, "" when none */
    char retry_after[16];
} http_reply;

/* One REST call: path under the URL's base (starting "/api/v1"), query
 * already encoded (or NULL), body JSON (borrowed, or NULL).  0, or -1 with
 * why in err when no HTTP answer came (h->base.failure set). */
int http_do(ctl_http *h, const char *method, const char *path, const char *query, json_t *body,
            double timeout, http_reply *out, char *err, size_t err_size);
void http_reply_free(http_reply *r);

/* A REST call answered in JSON: the body on 2xx; on another status an
 * {"error": {"code", "message"}} (the server's, when it sent one) for the
 * command to print; NULL with err when there is no usable answer, also on
 * 401 (failure CTL_FAIL_DENIED): bad credentials are not an answer. */
json_t *http_json(ctl_http *h, const char *method, const char *path, const char *query,
                  json_t *body, double timeout, char *err, size_t err_size);
/* http_json's judgement of an answer already received (r borrowed). */
json_t *http_judge(ctl_http *h, const char *method, const char *path, http_reply *r, char *err,
                   size_t err_size);

/* The bus reply to a request on subject with data (borrowed): from REST
 * calls, or over /ws for a subject with no route of its own.  NULL with
 * err when the daemon could not be asked. */
json_t *http_map_request(ctl_http *h, const char *subject, json_t *data, double timeout, char *err,
                         size_t err_size);
/* Whether subject has REST calls of its own (else it goes over /ws). */
bool http_map_has(const char *subject);

#endif
