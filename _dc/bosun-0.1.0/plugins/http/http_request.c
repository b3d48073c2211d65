/* Requests and responses as handlers see them: header and query lookups,
 * and the response, written whole into one buffer that the connection
 * sends in request order. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/json.h>
#include <bosun/log.h>

#include "http_int.h"

http_req *http_req_new(void)
{
    http_req *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    /* What the access log shows of a request refused before its request
     * line was read. */
    q->pub.method = "-";
    q->pub.path = "-";
    q->pub.body = "";
    q->status = 0;
    return q;
}

void http_req_free(http_req *q)
{
    if (!q)
        return;
    http_identity_clear(&q->pub.id);
    free(q->url);
    free(q->hbuf);
    free(q->fields);
    free(q->body);
    free(q->path);
    for (size_t i = 0; i < q->n_decoded; i++)
        free(q->decoded[i]);
    free(q->decoded);
    free(q->rhdr);
    free(q->out);
    free(q);
}

const char *http_header(const http_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

bool http_request_gone(const http_request *r)
{
    return HTTP_REQ(r)->conn == NULL;
}

/* Form decoding of one query key or value: '+' is a space. */
static char *query_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++)
        out[i] = s[i] == '+' ? ' ' : s[i];
    out[len] = '\0';
    if (!http_percent_decode(out, &len)) {
        free(out);
        return NULL;
    }
    return out;
}

static const char *keep_decoded(http_req *q, char *value)
{
    char **d = realloc(q->decoded, (q->n_decoded + 1) * sizeof *d);
    if (!d) {
        free(value);
        return NULL;
    }
    q->decoded = d;
    d[q->n_decoded++] = value;
    return value;
}

const char *http_query(http_request *r, const char *name)
{
    http_req *q = HTTP_REQ(r);
    for (const char *s = r->query; s && *s;) {
        const char *amp = strchr(s, '&');
        size_t len = amp ? (size_t)(amp - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        size_t klen = eq ? (size_t)(eq - s) : len;
        char *key = query_decode(s, klen);
        bool match = key && strcmp(key, name) == 0;
        free(key);
        if (match) {
            const char *v = eq ? eq + 1 : s + len;
            char *value = query_decode(v, (size_t)(s + len - v));
            return value ? keep_decoded(q, value) : NULL;
        }
        s = amp ? amp + 1 : NULL;
    }
    return NULL;
}

static bool header_text_ok(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

void http_add_header(http_request *r, const char *name, const char *value)
{
    http_req *q = HTTP_REQ(r);
    if (!header_text_ok(name) || !header_text_ok(value) || !*name || strchr(name, ':')) {
        /* A line break would let a value write headers of its own. */
        log_warning("http: response header %s dropped: not a header line",
                    header_text_ok(name) ? name : "(bad name)");
        return;
    }
    size_t need = q->rhdr_len + strlen(name) + strlen(value) + 5;
    if (need > q->rhdr_cap) {
        size_t cap = q->rhdr_cap ? q->rhdr_cap * 2 : 128;
        while (cap < need)
            cap *= 2;
        char *p = realloc(q->rhdr, cap);
        if (!p)
            return;
        q->rhdr = p;
        q->rhdr_cap = cap;
    }
    q->rhdr_len += (size_t)snprintf(q->rhdr + q->rhdr_len, q->rhdr_cap - q->rhdr_len, "%s: %s\r\n",
                                    name, value);
}

static const char *reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

/* Whether the connection must close after this response. */
static bool closes(const http_req *q)
{
    const http_server *srv = q->pub.srv;
    return !q->keep_alive || q->close_after || q->rx_error || (srv && srv->stopping);
}

void http_respond(http_request *r, int status, const char *content_type, const void *body,
                  size_t len)
{
    http_req *q = HTTP_REQ(r);
    if (q->responded) {
        log_error("http: second response to %s %s dropped (a handler bug)", r->method, r->path);
        return;
    }
    q->responded = true;
    if (!q->conn) {
        http_req_free(q);
        return;
    }
    if (status < 100 || status > 599)
        status = 500;
    bool no_body = q->head || status == 204 || status == 304 || status < 200;
    bool close = closes(q);
    q->close_after = close;
    const char *date = q->pub.srv ? http_server_date(q->pub.srv) : "";
    size_t cap =
        256 + q->rhdr_len + (content_type ? strlen(content_type) : 0) + (no_body ? 0 : len);
    q->out = malloc(cap);
    if (!q->out) {
        q->close_after = true;
        q->out_len = 0;
    } else {
        int n = snprintf(
            q->out, cap, "HTTP/1.1 %d %s\r\nDate: %s\r\n%s%s%sContent-Length: %zu\r\n%.*s%s\r\n",
            status, reason(status), date, content_type ? "Content-Type: " : "",
            content_type ? content_type : "", content_type ? "\r\n" : "", len, (int)q->rhdr_len,
            q->rhdr ? q->rhdr : "", close ? "Connection: close\r\n" : "");
        q->out_len = n > 0 && (size_t)n < cap ? (size_t)n : 0;
        if (q->out_len == 0)
            q->close_after = true; /* nothing written: the next answer would be taken for it */
        if (!no_body && len > 0 && q->out_len > 0) {
            memcpy(q->out + q->out_len, body, len);
            q->out_len += len;
        }
    }
    q->status = status;
    q->body_bytes = no_body ? 0 : len;
    http_conn_response_ready(q);
}

void http_respond_json(http_request *r, int status, json_t *body)
{
    size_t len = 0;
    char *text = body ? bosun_json_dump(body, 0, &len) : NULL;
    json_decref(body);
    if (!text) {
        http_respond_error(r, 500, "internal", "cannot write the response");
        return;
    }
    http_respond(r, status, "application/json", text, len);
    free(text);
}

void http_respond_error(http_request *r, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bosun_json_buf b = {0};
    int rc = bosun_json_append_raw(&b, "{\"error\":{\"code\":", 17);
    rc |= bosun_json_append_string(&b, code, strlen(code), 0);
    rc |= bosun_json_append_raw(&b, ",\"message\":", 11);
    if (bosun_json_append_string(&b, msg, strlen(msg), 0) != 0)
        rc |= bosun_json_append_raw(&b, "\"(not UTF-8)\"", 13);
    rc |= bosun_json_append_raw(&b, "}}", 2);
    if (rc != 0 || !b.data)
        http_respond(r, status, "application/json", "{}", 2);
    else
        http_respond(r, status, "application/json", b.data, b.len);
    free(b.data);
}

/* http_status_for_code is the REST API's (http_api.c): one table of codes. */

void http_req_respond_rx_error(http_req *q)
{
    static const struct {
        int status;
        const char *code;
    } codes[] = {{400, "bad_request"},  {408, "timeout"},     {413, "too_large"},
                 {414, "uri_too_long"}, {417, "bad_request"}, {431, "headers_too_large"},
                 {505, "bad_request"},  {500, "internal"}};
    const char *code = "bad_request";
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].status == q->rx_error)
            code = codes[i].code;
    q->close_after = true;
    http_respond_error(&q->pub, q->rx_error, code, "%s", q->rx_why ? q->rx_why : "bad request");
}
