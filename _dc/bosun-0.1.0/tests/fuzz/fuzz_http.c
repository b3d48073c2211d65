/* libFuzzer target for the http plugin's request reader: the bytes go
 * through http_rx (plugins/http/http_parse.c), the code every connection
 * parses with, under small limits so that each of them is reached, in
 * chunks whose sizes the input's first byte chooses (a request split
 * anywhere must read the same).  Every request read is checked (its path,
 * its header count and body against the limits, header names in lower
 * case), looked up (http_header, http_query), answered (http_respond, or
 * the refusal's canned error), and freed; what is left at the end is
 * freed too, so LeakSanitizer sees any leak. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_http: check failed: %s (line %d)\n", #cond, __LINE__);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* What http_request.c needs from the rest of the plugin. */
void http_identity_clear(http_identity *id)
{
    memset(id, 0, sizeof *id);
}

const char *http_server_date(http_server *srv)
{
    (void)srv;
    return "Thu, 01 Jan 1970 00:00:00 GMT";
}

/* Instead of a connection: the response must be one well-formed head. */
void http_conn_response_ready(http_req *q)
{
    CHECK(q->out_len == 0 || strncmp(q->out, "HTTP/1.1 ", 9) == 0);
    if (q->out_len) {
        const char *end = memmem(q->out, q->out_len, "\r\n\r\n", 4);
        CHECK(end != NULL);
        for (const char *p = q->out; p < end; p++)
            CHECK(*p != '\0');
    }
    http_req_free(q);
}

static const http_limits limits = {
    .request_line_max = 256,
    .header_bytes_max = 1024,
    .header_count_max = 8,
    .body_max = 512,
    .upload_max = 2048,
    .send_queue_max = 65536,
};

/* Like the router: a route's class decides; here the path does. */
static size_t body_limit(void *arg, http_req *q)
{
    (void)arg;
    if (strncmp(q->pub.path, "/none", 5) == 0)
        return 0;
    if (strncmp(q->pub.path, "/upload", 7) == 0)
        return limits.upload_max;
    return limits.body_max;
}

static int dummy_conn;

static void take(http_req *q)
{
    if (!q->rx_error) {
        CHECK(q->pub.path && q->pub.path[0] == '/');
        CHECK(q->pub.method && q->pub.method[0] != '-');
        CHECK(q->pub.n_headers <= limits.header_count_max);
        CHECK(q->pub.body && q->pub.body_len <= q->body_limit);
        CHECK(q->pub.body[q->pub.body_len] == '\0');
        CHECK(q->n_segs >= 1);
        for (size_t i = 0; i < q->pub.n_headers; i++)
            for (const char *c = q->pub.headers[i].name; *c; c++)
                CHECK(!isupper((unsigned char)*c));
        const char *host = http_header(&q->pub, "host");
        CHECK(host || q->http10);
        /* Every parameter named in the query, decoded. */
        for (const char *s = q->pub.query; s && *s;) {
            const char *amp = strchr(s, '&');
            size_t len = amp ? (size_t)(amp - s) : strlen(s);
            char name[64];
            size_t n = len < sizeof name - 1 ? len : sizeof name - 1;
            memcpy(name, s, n);
            name[n] = '\0';
            char *eq = strchr(name, '=');
            if (eq)
                *eq = '\0';
            (void)http_query(&q->pub, name);
            s = amp ? amp + 1 : NULL;
        }
    }
    q->conn = (http_conn *)&dummy_conn;
    if (q->rx_error) {
        http_req_respond_rx_error(q);
        return;
    }
    const char *ua = http_header(&q->pub, "user-agent");
    if (ua)
        http_add_header(&q->pub, "X-Echo", ua); /* CR/LF in it must be refused */
    http_respond(&q->pub, 200, "text/plain", q->pub.body, q->pub.body_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)(data[0] % 64) + 1;
    data++;
    size--;
    http_rx rx;
    http_rx_init(&rx, &limits, body_limit, NULL);
    size_t off = 0;
    bool upgraded = false;
    while (off < size && !rx.failed && !upgraded) {
        size_t n = size - off < chunk ? size - off : chunk;
        size_t used = http_rx_feed(&rx, (const char *)data + off, n);
        CHECK(used <= n);
        off += used;
        http_req *q = rx.done;
        rx.done = NULL;
        if (q) {
            upgraded = q->upgrade && !q->rx_error;
            take(q);
        } else if (used == 0) {
            break;
        }
    }
    if (!rx.failed && !upgraded) {
        http_rx_eof(&rx);
        if (rx.done) {
            take(rx.done);
            rx.done = NULL;
        }
    }
    http_rx_reset(&rx);
    return 0;
}
