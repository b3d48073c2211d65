/* curl_ev against a small HTTP server on 127.0.0.1 run by this test in a
 * thread: buffered responses (status, headers, body), the body bound,
 * timeouts, refused connections, redirects left alone, cancel, many
 * transfers at once, and freeing with transfers still running. */
#include "config.h"

#include "tap.h"

#include "curl_ev.h"

#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int server_port;
static int server_fd = -1;

static void send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void respond(int fd, const char *status, const char *headers, const char *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
                     headers, len);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

/* Reads one request: its first line and body (by Content-Length). */
static void serve(int fd)
{
    char buf[65536];
    size_t got = 0;
    char *end = NULL;
    while (got < sizeof buf - 1 && !(end = strstr(buf, "\r\n\r\n"))) {
        ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (r <= 0)
            return;
        got += (size_t)r;
        buf[got] = '\0';
    }
    if (!end)
        return;
    size_t clen = 0;
    const char *cl = strcasestr(buf, "content-length:");
    if (cl && cl < end)
        clen = strtoul(cl + 15, NULL, 10);
    size_t body_at = (size_t)(end + 4 - buf);
    while (got < body_at + clen && got < sizeof buf - 1) {
        ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    char method[16] = "", path[256] = "";
    sscanf(buf, "%15s %255s", method, path);
    if (strcmp(path, "/ok") == 0) {
        respond(fd, "200 OK", "ETag: \"abc\"\r\nX-Test:  one  \r\n", "hello", 5);
    } else if (strcmp(path, "/big") == 0) {
        static char big[100000];
        memset(big, 'x', sizeof big);
        respond(fd, "200 OK", "", big, sizeof big);
    } else if (strcmp(path, "/slow") == 0) {
        sleep(3);
        respond(fd, "200 OK", "", "late", 4);
    } else if (strcmp(path, "/redirect") == 0) {
        respond(fd, "302 Found", "Location: /ok\r\n", "", 0);
    } else if (strcmp(path, "/echo") == 0) {
        char out[70000];
        int n = snprintf(out, sizeof out, "%s %.*s", method, (int)(got - body_at), buf + body_at);
        respond(fd, "201 Created", "", out, (size_t)n);
    } else {
        respond(fd, "404 Not Found", "", "no", 2);
    }
}

static void *conn_thread(void *arg)
{
    int fd = (int)(intptr_t)arg;
    serve(fd);
    close(fd);
    return NULL;
}

static void *server_thread(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(server_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_t t;
        if (pthread_create(&t, NULL, conn_thread, (void *)(intptr_t)fd) == 0)
            pthread_detach(t);
        else
            close(fd);
    }
}

static void start_server(void)
{
    server_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(server_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(server_fd, 64), 0);
    getsockname(server_fd, (struct sockaddr *)&a, &len);
    server_port = ntohs(a.sin_port);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, server_thread, NULL), 0);
    pthread_detach(t);
}

static char *url(const char *path)
{
    static char u[8][128];
    static int i;
    char *s = u[i++ % 8];
    snprintf(s, 128, "http://127.0.0.1:%d%s", server_port, path);
    return s;
}

/* What one buffered request's done saw. */
typedef struct seen {
    int calls;
    CURLcode result;
    long status;
    char body[256];
    size_t body_len;
    bool truncated;
    char etag[64], xtest[64];
    char error[256];
    int *pending;
    struct ev_loop *loop;
} seen;

static void on_done(const curl_ev_response *r, void *arg)
{
    seen *s = arg;
    s->calls++;
    s->result = r->result;
    s->status = r->status;
    s->body_len = r->body_len;
    s->truncated = r->truncated;
    snprintf(s->body, sizeof s->body, "%s", r->body);
    snprintf(s->error, sizeof s->error, "%s", r->error);
    const char *e = json_string_value(json_object_get(r->headers, "etag"));
    const char *x = json_string_value(json_object_get(r->headers, "x-test"));
    snprintf(s->etag, sizeof s->etag, "%s", e ? e : "");
    snprintf(s->xtest, sizeof s->xtest, "%s", x ? x : "");
    if (s->pending && --*s->pending == 0)
        ev_break(s->loop, EVBREAK_ALL);
}

static void on_guard(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

/* Runs the loop until every request is done, at most 10 s. */
static void run_until(struct ev_loop *loop, int *pending)
{
    ev_timer guard;
    ev_timer_init(&guard, on_guard, 10., 0.);
    ev_timer_start(loop, &guard);
    if (*pending > 0)
        ev_run(loop, 0);
    ev_timer_stop(loop, &guard);
}

static curl_ev_fetch *start(curl_ev *m, const curl_ev_request *req, seen *s)
{
    char err[256];
    curl_ev_fetch *f = curl_ev_fetch_start(m, req, on_done, s, err, sizeof err);
    assert_non_null(f);
    return f;
}

static void test_ok_headers_body(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(0);
    curl_ev *m = curl_ev_new(loop);
    int pending = 1;
    seen s = {.pending = &pending, .loop = loop};
    start(m, &(curl_ev_request){.url = url("/ok")}, &s);
    assert_int_equal(s.calls, 0); /* never from inside start */
    run_until(loop, &pending);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.result, CURLE_OK);
    assert_int_equal(s.status, 200);
    assert_string_equal(s.body, "hello");
    assert_int_equal(s.body_len, 5);
    assert_false(s.truncated);
    assert_string_equal(s.etag, "\"abc\"");
    assert_string_equal(s.xtest, "one");
    assert_int_equal(curl_ev_running(m), 0);
    curl_ev_free(m);
    ev_loop_destroy(loop);
}

static void test_body_bound(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(0);
    curl_ev *m = curl_ev_new(loop);
    int pending = 1;
    seen s = {.pending = &pending, .loop = loop};
    start(m, &(curl_ev_request){.url = url("/big"), .max_body = 100}, &s);
    run_until(loop, &pending);
    assert_int_equal(s.result, CURLE_OK);
    assert_int_equal(s.status, 200);
    assert_true(s.truncated);
    assert_int_equal(s.body_len, 100);
    assert_string_equal(s.error, "");
    curl_ev_free(m);
    ev_loop_destroy(loop);
}

static void test_timeout_refused_redirect(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(0);
    curl_ev *m = curl_ev_new(loop);
    int pending = 3;
    seen slow = {.pending = &pending, .loop = loop}, refused = slow, redirect = slow;
    start(m, &(curl_ev_request){.url = url("/slow"), .timeout_ms = 300}, &slow);
    /* A port nobody listens on: the server's own, closed below, is not
     * safe to reuse; port 1 on loopback is refused without root services. */
    start(m, &(curl_ev_request){.url = "http://127.0.0.1:1/"}, &refused);
    start(m, &(curl_ev_request){.url = url("/redirect")}, &redirect);
    run_until(loop, &pending);
    assert_int_equal(slow.result, CURLE_OPERATION_TIMEDOUT);
    assert_true(strlen(slow.error) > 0);
    assert_int_equal(refused.result, CURLE_COULDNT_CONNECT);
    assert_true(strlen(refused.error) > 0);
    assert_int_equal(redirect.result, CURLE_OK);
    assert_int_equal(redirect.status, 302); /* not followed */
    curl_ev_free(m);
    ev_loop_destroy(loop);
}

static void test_method_and_body(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(0);
    curl_ev *m = curl_ev_new(loop);
    int pending = 2;
    seen post = {.pending = &pending, .loop = loop}, put = post;
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    start(m,
          &(curl_ev_request){
              .url = url("/echo"), .body = "{\"a\":1}", .body_len = 7, .headers = hdrs},
          &post);
    start(m, &(curl_ev_request){.url = url("/echo"), .method = "PUT", .body = "xy", .body_len = 2},
          &put);
    run_until(loop, &pending);
    assert_int_equal(post.status, 201);
    assert_string_equal(post.body, "POST {\"a\":1}");
    assert_string_equal(put.body, "PUT xy");
    curl_ev_free(m);
    ev_loop_destroy(loop);
}

static void test_bad_scheme(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(0);
    curl_ev *m = curl_ev_new(loop);
    seen s = {0};
    char err[256] = "";
    assert_null(curl_ev_fetch_start(m, &(curl_ev_request){.url = "file:///etc/passwd"}, on_done, &s,
                                    err, sizeof err));
    assert_true(strstr(err, "http://") != NULL);
    assert_null(curl_ev_fetch_start(m, &(curl_ev_request){.url = "gopher://x/"}, on_done, &s, err,
                                    sizeof err));
    assert_int_equal(s.calls, 0);
    curl_ev_free(m);
    ev_loop_destroy(loop);
}

static void test_cancel_and_many(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(0);
    curl_ev *m = curl_ev_new(loop);
    enum { N = 20 };
    int pending = N;
    seen many[N], cancelled = {0};
    curl_ev_fetch *f = start(m, &(curl_ev_request){.url = url("/slow")}, &cancelled);
    for (int i = 0; i < N; i++) {
        many[i] = (seen){.pending = &pending, .loop = loop};
        start(m, &(curl_ev_request){.url = url("/ok")}, &many[i]);
    }
    assert_int_equal(curl_ev_running(m), N + 1);
    curl_ev_fetch_cancel(f);
    assert_int_equal(curl_ev_running(m), N);
    run_until(loop, &pending);
    for (int i = 0; i < N; i++) {
        assert_int_equal(many[i].calls, 1);
        assert_int_equal(many[i].status, 200);
    }
    assert_int_equal(cancelled.calls, 0);
    curl_ev_free(m);
    ev_loop_destroy(loop);
}

/* Freed with a transfer running: its done is not called, nothing leaks
 * (the sanitizer build checks the second half). */
static void test_free_running(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(0);
    curl_ev *m = curl_ev_new(loop);
    seen s = {0};
    start(m, &(curl_ev_request){.url = url("/slow")}, &s);
    ev_run(loop, EVRUN_NOWAIT);
    curl_ev_free(m);
    assert_int_equal(s.calls, 0);
    ev_loop_destroy(loop);
}

/* The low level: a caller's own easy handle and write callback. */
static size_t count_bytes(char *d, size_t size, size_t n, void *arg)
{
    (void)d;
    *(size_t *)arg += size * n;
    return size * n;
}

typedef struct raw_seen {
    int calls;
    CURLcode result;
    struct ev_loop *loop;
} raw_seen;

static void raw_done(CURL *easy, CURLcode result, const char *errbuf, void *arg)
{
    (void)easy;
    (void)errbuf;
    raw_seen *r = arg;
    r->calls++;
    r->result = result;
    ev_break(r->loop, EVBREAK_ALL);
}

static void test_raw_easy(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(0);
    curl_ev *m = curl_ev_new(loop);
    CURL *e = curl_easy_init();
    size_t bytes = 0;
    curl_easy_setopt(e, CURLOPT_URL, url("/big"));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, count_bytes);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &bytes);
    raw_seen r = {.loop = loop};
    assert_int_equal(curl_ev_add(m, e, raw_done, &r), 0);
    int pending = 1;
    run_until(loop, &pending);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.result, CURLE_OK);
    assert_int_equal(bytes, 100000);
    curl_easy_cleanup(e);
    curl_ev_free(m);
    ev_loop_destroy(loop);
}

int main(void)
{
    start_server();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_headers_body),
        cmocka_unit_test(test_body_bound),
        cmocka_unit_test(test_timeout_refused_redirect),
        cmocka_unit_test(test_method_and_body),
        cmocka_unit_test(test_bad_scheme),
        cmocka_unit_test(test_cancel_and_many),
        cmocka_unit_test(test_free_running),
        cmocka_unit_test(test_raw_easy),
    };
    int rc = RUN_TESTS(tests);
    curl_global_cleanup();
    return rc;
}
