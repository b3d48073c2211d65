/* Reading requests: http-parser, with every size limit applied to what is
 * buffered, before it is buffered.
 *
 * http-parser keeps no request text of its own; the callbacks copy it into
 * the request (target, headers, body), each bounded by http_limits.  Every
 * complete request pauses the parser, so the connection sees requests one
 * at a time and decides whether to read on (pipelining) or hand the rest
 * of the bytes to another protocol (an upgrade).  The fuzz target
 * (tests/fuzz/fuzz_http.c) drives exactly this code. */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bosun/sys.h>

#include "http_int.h"

/* Room for "METHOD SP ... SP HTTP/1.1" around the target. */
#define REQUEST_LINE_EXTRA 10
/* Each header line's ": " and CRLF, counted in header_bytes_max. */
#define HEADER_LINE_EXTRA 4

static http_rx *rx_of(http_parser *p)
{
    return p->data;
}

static int refuse(http_rx *rx, int status, const char *why)
{
    if (rx->cur) {
        rx->cur->rx_error = status;
        rx->cur->rx_why = why;
    }
    return -1;
}

/* Grows *buf to hold need bytes (need already checked against a limit). */
static bool reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    char *p = realloc(*buf, n);
    if (!p)
        return false;
    *buf = p;
    *cap = n;
    return true;
}

static bool append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (!reserve(buf, cap, *len + n + 1))
        return false;
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

static int on_message_begin(http_parser *p)
{
    http_rx *rx = rx_of(p);
    http_rx_reset(rx);
    rx->cur = http_req_new();
    if (!rx->cur)
        return -1;
    rx->t_begin = bosun_monotonic();
    rx->headers_done = false;
    rx->in_value = false;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    http_rx *rx = rx_of(p);
    http_req *q = rx->cur;
    size_t line = strlen(http_method_str(p->method)) + q->url_len + len + REQUEST_LINE_EXTRA;
    if (line > rx->lim->request_line_max)
        return refuse(rx, 414, "request line too long");
    if (!append(&q->url, &q->url_len, &q->url_cap, at, len))
        return refuse(rx, 500, "out of memory");
    return 0;
}

static int header_bytes(http_rx *rx, http_req *q, size_t more)
{
    size_t total = q->hbuf_len + more + q->n_fields * HEADER_LINE_EXTRA;
    if (total > rx->lim->header_bytes_max)
        return refuse(rx, 431, "headers too large");
    return 0;
}

/* Trailers (header lines after a chunked body) are counted against the
 * header limits but not kept: the fields already point into hbuf, which
 * must not move any more. */
static int trailer(http_rx *rx, http_req *q, size_t len)
{
    q->trailer_bytes += len + HEADER_LINE_EXTRA;
    if (q->hbuf_len + q->trailer_bytes > rx->lim->header_bytes_max)
        return refuse(rx, 431, "trailers too large");
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    http_rx *rx = rx_of(p);
    http_req *q = rx->cur;
    if (rx->headers_done)
        return trailer(rx, q, len);
    if (rx->in_value || q->n_fields == 0) {
        /* A new header: the previous value is complete. */
        if (q->n_fields > 0 && !append(&q->hbuf, &q->hbuf_len, &q->hbuf_cap, "", 1))
            return refuse(rx, 500, "out of memory");
        if (q->n_fields >= rx->lim->header_count_max)
            return refuse(rx, 431, "too many header lines");
        q->n_fields++;
        rx->in_value = false;
    }
    if (header_bytes(rx, q, len) != 0)
        return -1;
    size_t start = q->hbuf_len;
    if (!append(&q->hbuf, &q->hbuf_len, &q->hbuf_cap, at, len))
        return refuse(rx, 500, "out of memory");
    for (size_t i = start; i < q->hbuf_len; i++)
        q->hbuf[i] = (char)tolower((unsigned char)q->hbuf[i]);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    http_rx *rx = rx_of(p);
    http_req *q = rx->cur;
    if (rx->headers_done)
        return trailer(rx, q, len);
    if (!rx->in_value) {
        if (!append(&q->hbuf, &q->hbuf_len, &q->hbuf_cap, "", 1))
            return refuse(rx, 500, "out of memory");
        rx->in_value = true;
    }
    if (header_bytes(rx, q, len) != 0)
        return -1;
    /* A NUL inside a value would hide its end from every reader. */
    if (memchr(at, '\0', len))
        return refuse(rx, 400, "NUL in a header value");
    if (!append(&q->hbuf, &q->hbuf_len, &q->hbuf_cap, at, len))
        return refuse(rx, 500, "out of memory");
    return 0;
}

/* Turns "name\0value\0..." into the fields array. */
static int finish_headers(http_rx *rx, http_req *q)
{
    if (q->n_fields == 0)
        return 0;
    /* The last name may still lack its value (an empty one). */
    if (!rx->in_value && !append(&q->hbuf, &q->hbuf_len, &q->hbuf_cap, "", 1))
        return refuse(rx, 500, "out of memory");
    if (!append(&q->hbuf, &q->hbuf_len, &q->hbuf_cap, "", 1))
        return refuse(rx, 500, "out of memory");
    q->fields = calloc(q->n_fields, sizeof *q->fields);
    if (!q->fields)
        return refuse(rx, 500, "out of memory");
    const char *s = q->hbuf, *end = q->hbuf + q->hbuf_len;
    for (size_t i = 0; i < q->n_fields && s < end; i++) {
        q->fields[i].name = s;
        s += strlen(s) + 1;
        q->fields[i].value = s < end ? s : "";
        s += strlen(q->fields[i].value) + 1;
    }
    q->pub.headers = q->fields;
    q->pub.n_headers = q->n_fields;
    return 0;
}

bool http_percent_decode(char *s, size_t *len)
{
    size_t o = 0;
    for (size_t i = 0; i < *len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= *len || !isxdigit((unsigned char)s[i + 1]) ||
                !isxdigit((unsigned char)s[i + 2]))
                return false;
            char hex[3] = {s[i + 1], s[i + 2], '\0'};
            c = (char)strtol(hex, NULL, 16);
            if (c == '\0')
                return false;
            i += 2;
        } else if (c == '\0') {
            return false;
        }
        s[o++] = c;
    }
    s[o] = '\0';
    *len = o;
    return true;
}

/* Splits the raw path into decoded segments and the decoded path; copies
 * the raw query.  One allocation: path, then segments, then query. */
static int decode_target(http_rx *rx, http_req *q)
{
    struct http_parser_url u;
    http_parser_url_init(&u);
    const char *path = q->url;
    size_t path_len = q->url_len;
    const char *query = NULL;
    size_t query_len = 0;
    if (q->url_len == 0)
        return refuse(rx, 400, "empty target");
    if (q->url[0] != '/' || memchr(q->url, '?', q->url_len) || memchr(q->url, '#', q->url_len)) {
        if (http_parser_parse_url(q->url, q->url_len, 0, &u) != 0 ||
            !(u.field_set & (1 << UF_PATH)))
            return refuse(rx, 400, "bad request target");
        path = q->url + u.field_data[UF_PATH].off;
        path_len = u.field_data[UF_PATH].len;
        if (u.field_set & (1 << UF_QUERY)) {
            query = q->url + u.field_data[UF_QUERY].off;
            query_len = u.field_data[UF_QUERY].len;
        }
    }
    if (path_len == 0 || path[0] != '/')
        return refuse(rx, 400, "bad request target");
    q->path = malloc(2 * path_len + query_len + 3);
    if (!q->path)
        return refuse(rx, 500, "out of memory");
    memcpy(q->path, path, path_len);
    size_t dlen = path_len;
    q->path[dlen] = '\0';
    if (!http_percent_decode(q->path, &dlen))
        return refuse(rx, 400, "bad percent-encoding in the path");
    char *seg = q->path + path_len + 1;
    memcpy(seg, path + 1, path_len - 1);
    seg[path_len - 1] = '\0';
    char *qs = seg + path_len;
    q->n_segs = 0;
    for (char *s = seg;;) {
        char *slash = strchr(s, '/');
        if (slash)
            *slash = '\0';
        size_t slen = strlen(s);
        if (!http_percent_decode(s, &slen))
            return refuse(rx, 400, "bad percent-encoding in the path");
        if (q->n_segs < HTTP_SEGMENTS_MAX)
            q->segs[q->n_segs] = s;
        q->n_segs++;
        if (!slash)
            break;
        s = slash + 1;
    }
    if (query) {
        memcpy(qs, query, query_len);
        qs[query_len] = '\0';
        q->pub.query = qs;
    }
    q->pub.path = q->path;
    return 0;
}

static const char *find_header(const http_req *q, const char *name)
{
    for (size_t i = 0; i < q->n_fields; i++)
        if (strcmp(q->fields[i].name, name) == 0)
            return q->fields[i].value;
    return NULL;
}

static int on_headers_complete(http_parser *p)
{
    http_rx *rx = rx_of(p);
    http_req *q = rx->cur;
    rx->headers_done = true;
    rx->t_headers = bosun_monotonic();
    if (finish_headers(rx, q) != 0)
        return -1;
    q->pub.method = http_method_str(p->method);
    q->head = p->method == HTTP_HEAD;
    q->keep_alive = http_should_keep_alive(p);
    q->upgrade = p->upgrade;
    q->http10 = p->http_major == 1 && p->http_minor == 0;
    if (p->http_major != 1)
        return refuse(rx, 505, "HTTP version not supported");
    if (!q->http10 && !find_header(q, "host"))
        return refuse(rx, 400, "no Host header");
    if (decode_target(rx, q) != 0)
        return -1;
    const char *expect = find_header(q, "expect");
    if (expect) {
        if (strcasecmp(expect, "100-continue") != 0)
            return refuse(rx, 417, "unknown expectation");
        q->expect_continue = true;
    }
    q->body_limit = rx->body_limit ? rx->body_limit(rx->arg, q) : rx->lim->body_max;
    if (p->content_length != ULLONG_MAX && p->content_length > q->body_limit)
        return refuse(rx, 413, "body too large");
    if (p->content_length != ULLONG_MAX && p->content_length > 0 &&
        !reserve(&q->body, &q->body_cap, (size_t)p->content_length + 1))
        return refuse(rx, 500, "out of memory");
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    http_rx *rx = rx_of(p);
    http_req *q = rx->cur;
    if (len > q->body_limit || q->body_len > q->body_limit - len)
        return refuse(rx, 413, "body too large");
    if (!append(&q->body, &q->body_len, &q->body_cap, at, len))
        return refuse(rx, 500, "out of memory");
    return 0;
}

static int on_message_complete(http_parser *p)
{
    http_rx *rx = rx_of(p);
    http_req *q = rx->cur;
    if (q->body) {
        q->pub.body = q->body;
        q->pub.body_len = q->body_len;
    }
    rx->done = q;
    rx->cur = NULL;
    rx->headers_done = false;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings rx_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http_rx_init(http_rx *rx, const http_limits *lim, size_t (*body_limit)(void *, http_req *),
                  void *arg)
{
    memset(rx, 0, sizeof *rx);
    http_parser_init(&rx->p, HTTP_REQUEST);
    rx->p.data = rx;
    rx->lim = lim;
    rx->body_limit = body_limit;
    rx->arg = arg;
}

void http_rx_reset(http_rx *rx)
{
    http_req_free(rx->cur);
    rx->cur = NULL;
    rx->headers_done = false;
}

bool http_rx_busy(const http_rx *rx)
{
    return rx->cur != NULL;
}

/* A refused request: the one being read, with the reason set by a
 * callback, or a fresh one for http-parser's own errors. */
static void fail(http_rx *rx, int status, const char *why)
{
    http_req *q = rx->cur ? rx->cur : http_req_new();
    rx->cur = NULL;
    rx->failed = true;
    if (!q)
        return;
    if (!q->rx_error) {
        q->rx_error = status;
        q->rx_why = why;
    }
    rx->done = q;
}

size_t http_rx_feed(http_rx *rx, const char *data, size_t len)
{
    if (rx->failed || rx->done)
        return 0;
    size_t n = http_parser_execute(&rx->p, &rx_settings, data, len);
    enum http_errno err = HTTP_PARSER_ERRNO(&rx->p);
    if (err == HPE_PAUSED) {
        http_parser_pause(&rx->p, 0);
        return n;
    }
    if (err == HPE_OK)
        return n;
    if (err == HPE_HEADER_OVERFLOW)
        fail(rx, 431, "headers too large");
    else if (err == HPE_INVALID_METHOD)
        fail(rx, 400, "unknown method");
    else
        fail(rx, 400, http_errno_description(err));
    return n;
}

void http_rx_eof(http_rx *rx)
{
    if (rx->cur && !rx->failed)
        fail(rx, 400, "connection closed inside a request");
}
