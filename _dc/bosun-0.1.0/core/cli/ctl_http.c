/* bosunctl's HTTP transport: the control socket's protocol over the REST
 * API.  See ctl_http.h; the subject-by-subject translation is in
 * ctl_http_map.c, /ws in ctl_ws.c. */
#include "config.h"

#include "ctl_http.h"
#include "ctl_http_int.h"
#include "ctl_ws.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bosun/json.h>
#include <bosun/store.h>

static json_t *http_call(ctl_conn *conn, json_t *req, double timeout, char *err, size_t err_size);
static json_t *http_read(ctl_conn *conn, json_int_t after, double timeout, int *timed_out,
                         char *err, size_t err_size);
static void http_close(ctl_conn *conn);

static const ctl_conn_ops http_ops = {
    .name = "HTTP", .call = http_call, .read = http_read, .close = http_close};

/* ------------------------------------------------------------ set-up */

static int is_loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "[::1]") == 0;
}

/* Fills t from url, or returns -1 with why. */
static int parse_url(const char *url, ctl_http_target *t, char *err, size_t err_size)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL, *query = NULL,
         *frag = NULL;
    int rc = -1;
    if (!u)
        util_oom(sizeof(void *));
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        snprintf(err, err_size, "--url: '%s' is not a URL (like https://host:8420)", url);
        goto out;
    }
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    curl_url_get(u, CURLUPART_USER, &user, 0);
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
    if (!scheme || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        snprintf(err, err_size, "--url: %s: only http:// and https:// are spoken", url);
        goto out;
    }
    if (user || query || frag || !host || !*host || !port) {
        /* A password in a URL would be in argv for all to see. */
        snprintf(err, err_size,
                 "--url: %s: give scheme, host, port and path only (the token "
                 "comes from --token-file)",
                 url);
        goto out;
    }
    size_t plen = path ? strlen(path) : 0;
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    t->tls = strcmp(scheme, "https") == 0;
    t->host = xstrdup(host);
    t->port = xstrdup(port);
    t->prefix = xstrndup(path ? path : "", plen);
    t->base = xasprintf("%s://%s:%s%s", scheme, host, port, t->prefix);
    rc = 0;
out:
    curl_free(scheme), curl_free(host), curl_free(port), curl_free(path);
    curl_free(user), curl_free(query), curl_free(frag);
    curl_url_cleanup(u);
    return rc;
}

/* A token is one line of visible ASCII: anything else could split the
 * Authorization header. */
static int token_ok(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)s[i]))
            return 0;
    return 1;
}

/* The token file's one line, as an Authorization header in t->auth.
 * Refused when others may read or write it, as ssh refuses such a key. */
static int read_token(const char *path, ctl_http_target *t, char *err, size_t err_size)
{
    /* O_NONBLOCK: a FIFO in its place must not hang us (it is refused below). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, err_size, "cannot read the token file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IROTH | S_IWOTH))) {
        close(fd);
        snprintf(
            err, err_size, "the token file %s is %s; keep it to its owner (chmod 600 %s)", path,
            S_ISREG(st.st_mode) ? "readable or writable by others" : "not a regular file", path);
        return -1;
    }
    if (st.st_mode & (S_IRGRP | S_IWGRP))
        fprintf(stderr, "bosunctl: warning: the token file %s is open to its group\n", path);
    char buf[CTL_HTTP_TOKEN_MAX + 2];
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    close(fd);
    size_t len = n > 0 ? (size_t)n : 0;
    int rc = -1;
    if (n < 0)
        snprintf(err, err_size, "cannot read the token file %s: %s", path, strerror(errno));
    else if (len > CTL_HTTP_TOKEN_MAX)
        snprintf(err, err_size, "the token file %s is over %d bytes", path, CTL_HTTP_TOKEN_MAX);
    else {
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
            len--;
        if (!token_ok(buf, len))
            snprintf(err, err_size, "the token file %s does not hold one token on one line", path);
        else {
            t->auth = xasprintf("Authorization: Bearer %.*s", (int)len, buf);
            rc = 0;
        }
    }
    explicit_bzero(buf, sizeof buf);
    return rc;
}

static void target_free(ctl_http_target *t)
{
    free(t->base);
    free(t->host);
    free(t->port);
    free(t->prefix);
    if (t->auth) {
        explicit_bzero(t->auth, strlen(t->auth));
        free(t->auth);
    }
    free(t->cacert);
}

ctl_conn *ctl_http_open(const char *url, const char *token_file, const char *cacert, int *code,
                        char *err, size_t err_size)
{
    static int curl_ready;
    if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        *code = 70;
        snprintf(err, err_size, "cannot initialise libcurl");
        return NULL;
    }
    curl_ready = 1;
    ctl_http *h = xcalloc(1, sizeof *h);
    h->base.ops = &http_ops;
    *code = 64; /* EX_USAGE */
    if (parse_url(url, &h->t, err, err_size) != 0)
        goto fail;
    *code = 78; /* EX_CONFIG */
    /* Without a token file, no credential (bosunctl login, which makes one). */
    if (token_file && read_token(token_file, &h->t, err, err_size) != 0)
        goto fail;
    if (cacert && access(cacert, R_OK) != 0) {
        *code = 64;
        snprintf(err, err_size, "--cacert: cannot read %s: %s", cacert, strerror(errno));
        goto fail;
    }
    h->t.cacert = cacert ? xstrdup(cacert) : NULL;
    if (!h->t.tls && !is_loopback(h->t.host))
        fprintf(stderr,
                "bosunctl: warning: %s is plain HTTP: the token crosses the network "
                "unencrypted\n",
                h->t.base);
    h->curl = ctl_http_easy(&h->t, 0);
    return &h->base;
fail:
    target_free(&h->t);
    free(h);
    return NULL;
}

static void http_close(ctl_conn *conn)
{
    ctl_http *h = (ctl_http *)conn;
    ctl_ws_free(h->ws);
    json_decref(h->store);
    if (h->curl)
        curl_easy_cleanup(h->curl);
    target_free(&h->t);
    free(h);
}

static void easy_setup(CURL *c, const ctl_http_target *t, double timeout)
{
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect could take the token away */
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");       /* /ws needs the raw connection */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* A follower waits on an idle connection: a peer that vanished shows. */
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 60L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 15L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (t->cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, t->cacert);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(CTL_HTTP_CONNECT_TIMEOUT * 1000));
    if (timeout > 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    curl_easy_setopt(c, CURLOPT_USERAGENT, "bosunctl/" PACKAGE_VERSION);
}

CURL *ctl_http_easy(const ctl_http_target *t, double timeout)
{
    CURL *c = curl_easy_init();
    if (!c)
        util_oom(sizeof(void *));
    easy_setup(c, t, timeout);
    return c;
}

void ctl_http_describe(const ctl_http_target *t, CURLcode rc, const char *detail, char *err,
                       size_t err_size)
{
    snprintf(err, err_size, "cannot reach bosund at %s: %s", t->base,
             detail && *detail ? detail : curl_easy_strerror(rc));
}

/* ------------------------------------------------------------ one request */

typedef struct sink {
    char *data;
    size_t len, cap;
    int over; /* the response passed CTL_HTTP_RESPONSE_MAX */
} sink;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    sink *s = arg;
    size_t add = size * n;
    if (s->len + add > CTL_HTTP_RESPONSE_MAX) {
        s->over = 1;
        return 0; /* curl stops: CURLE_WRITE_ERROR */
    }
    if (s->len + add + 1 > s->cap) {
        s->cap = (s->len + add + 1) * 2;
        s->data = xrealloc(s->data, s->cap);
    }
    memcpy(s->data + s->len, p, add);
    s->len += add;
    s->data[s->len] = '\0';
    return add;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    http_reply *r = arg;
    size_t len = size * n;
    static const char ra[] = "retry-after:";
    if (len > sizeof ra && strncasecmp(p, ra, sizeof ra - 1) == 0) {
        size_t v = sizeof ra - 1;
        while (v < len && p[v] == ' ')
            v++;
        size_t k = 0;
        while (v < len && isdigit((unsigned char)p[v]) && k + 1 < sizeof r->retry_after)
            r->retry_after[k++] = p[v++];
        r->retry_after[k] = '\0';
    }
    return len;
}

int http_do(ctl_http *h, const char *method, const char *path, const char *query, json_t *body,
            double timeout, http_reply *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    /* One handle for all calls: its connection is kept alive between them. */
    CURL *c = h->curl;
    curl_easy_reset(c);
    easy_setup(c, &h->t, timeout);
    char *url =
        xasprintf("%s%s%s%s", h->t.base, path, query && *query ? "?" : "", query ? query : "");
    struct curl_slist *hdr = h->t.auth ? curl_slist_append(NULL, h->t.auth) : NULL;
    hdr = curl_slist_append(hdr, "Accept: application/json");
    char *payload = NULL;
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload ? payload : "{}");
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, ""); /* Content-Length: 0 */
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    sink s = {0};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    for (struct curl_slist *l = hdr; l; l = l->next) /* the token's copy goes too */
        explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(hdr);
    free(payload);
    free(url);
    if (rc != CURLE_OK) {
        if (s.over)
            snprintf(err, err_size, "the daemon's answer to %s %s is over %zu bytes", method, path,
                     CTL_HTTP_RESPONSE_MAX);
        else
            ctl_http_describe(&h->t, rc, detail, err, err_size);
        free(s.data);
        h->base.failure = CTL_FAIL_UNAVAILABLE;
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    out->ctype = xstrdup(ct ? ct : "");
    out->body = s.data ? s.data : xstrdup("");
    out->len = s.len;
    return 0;
}

/* ------------------------------------------------------------ the protocol */

static json_t *ok(json_t *result)
{
    return json_pack("{s:b,s:o}", "ok", 1, "result", result ? result : json_object());
}

static json_t *refused(const char *code, const char *msg)
{
    return json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", code, "message", msg);
}

/* An answer that is an {"error"} object is the response's error. */
static json_t *as_response(json_t *v)
{
    json_t *e = json_object_get(v, "error");
    if (json_is_object(e)) {
        json_t *r = json_pack("{s:b,s:O}", "ok", 0, "error", e);
        json_decref(v);
        return r;
    }
    return ok(v);
}

static json_t *op_status(ctl_http *h, double timeout, char *err, size_t err_size)
{
    json_t *v = http_json(h, "GET", "/api/v1/status", NULL, NULL, timeout, err, err_size);
    if (!v)
        return NULL;
    /* The store's part is asked for on its own, as over the socket: it is
     * kept for that (cmd.store.status, ctl_http_map.c), no second call. */
    json_decref(h->store);
    json_t *store = json_object_get(v, "store");
    h->store = store ? json_incref(store) : json_null(); /* null: none to ask again */
    json_object_del(v, "store");
    /* The socket's status has no hostname (it is the machine's, in
     * /api/v1/machines): --json prints the same members both ways. */
    json_object_del(v, "hostname");
    return as_response(v);
}

static json_t *op_request(ctl_http *h, json_t *req, double timeout, char *err, size_t err_size)
{
    const char *subject = json_string_value(json_object_get(req, "subject"));
    json_t *data = json_object_get(req, "data");
    json_t *t = json_object_get(req, "timeout");
    double wait = json_is_number(t) ? json_number_value(t) : timeout;
    json_t *reply = http_map_request(h, subject ? subject : "", data, wait + CTL_HTTP_REQUEST_SLACK,
                                     err, err_size);
    if (!reply)
        return NULL;
    /* Over /ws a request's failure (nobody answers, no reply in time) and
     * a reply that is an error come as the same error frame: taken as the
     * failure the socket reports for the first, exit 1 with its words. */
    if (!http_map_has(subject ? subject : "") && json_is_object(json_object_get(reply, "error")))
        return as_response(reply);
    return ok(json_pack("{s:s,s:o}", "subject", subject, "data", reply));
}

/* "sub" of a stored feed: /ws, authenticated now so that a refusal shows
 * before any replay; the subscription itself is made at the first read,
 * with "since" (http_read). */
static json_t *op_sub(ctl_http *h, json_t *req, double timeout, char *err, size_t err_size)
{
    const char *pattern = json_string_value(json_object_get(req, "pattern"));
    size_t pre = strlen(BOSUN_STORED_PREFIX);
    if (!pattern || strncmp(pattern, BOSUN_STORED_PREFIX, pre) != 0 || h->ws)
        return refused("unsupported", "over --url only stored events can be followed");
    /* The daemon's machine id, for the stored form of its events. */
    json_t *st = http_json(h, "GET", "/api/v1/status", NULL, NULL, timeout, err, err_size);
    if (!st)
        return NULL;
    if (json_object_get(st, "error")) {
        json_t *r = as_response(st);
        return r;
    }
    h->ws = ctl_ws_open(&h->t, pattern + pre, json_string_value(json_object_get(st, "machine_id")),
                        timeout, &h->base.failure, err, err_size);
    json_decref(st);
    if (!h->ws)
        return NULL;
    return ok(json_pack("{s:I}", "sid", (json_int_t)CTL_WS_SID));
}

/* After a pause the subscription is made again (with "since") at the next
 * read. */
static json_t *op_resume(ctl_http *h, double timeout, char *err, size_t err_size)
{
    if (!h->ws)
        return refused("not_found", "no such subscription");
    if (ctl_ws_reconnect(h->ws, timeout, &h->base.failure, err, err_size) != 0)
        return NULL;
    return ok(json_pack("{s:b}", "resumed", 1));
}

static json_t *http_call(ctl_conn *conn, json_t *req, double timeout, char *err, size_t err_size)
{
    ctl_http *h = (ctl_http *)conn;
    const char *op = json_string_value(json_object_get(req, "op"));
    if (timeout < 0)
        timeout = 3600;
    if (!op)
        return refused("bad_request", "'op' is required");
    if (strcmp(op, "status") == 0)
        return op_status(h, timeout, err, err_size);
    if (strcmp(op, "request") == 0)
        return op_request(h, req, timeout, err, err_size);
    if (strcmp(op, "sub") == 0)
        return op_sub(h, req, timeout, err, err_size);
    if (strcmp(op, "resume") == 0)
        return op_resume(h, timeout, err, err_size);
    char msg[128];
    snprintf(msg, sizeof msg, "'%.32s' is not available over --url", op);
    return refused("unsupported", msg);
}

static json_t *http_read(ctl_conn *conn, json_int_t after, double timeout, int *timed_out,
                         char *err, size_t err_size)
{
    ctl_http *h = (ctl_http *)conn;
    *timed_out = 0;
    if (!h->ws) {
        snprintf(err, err_size, "nothing to read: no subscription");
        return NULL;
    }
    return ctl_ws_next(h->ws, after, timeout, timed_out, &h->base.failure, err, err_size);
}
