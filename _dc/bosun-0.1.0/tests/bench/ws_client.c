/* ws_client — the WebSocket benchmark's client: the same program is run
 * against bosund's /ws and against the Node `ws` peer (ws_peer.mjs), so the
 * client's own cost is the same on both sides.  C with libev and wslay, so
 * that 10,000 connections or 1,000 fan-out receivers do not make the client
 * the bottleneck (a Node client would be as slow as the Node server).
 *
 *   ws_client MODE -p PORT -T TOKEN_FILE [-b SRC_ADDR] [-n CONNS] [-s SUBJECT]
 *             [-k COUNT] [-w SECONDS] [-c PARALLEL]
 *
 * Every connection: TCP to 127.0.0.1:PORT (from SRC_ADDR when given, so
 * successive runs use fresh 4-tuples and leave no TIME_WAIT shortage),
 * GET /ws upgrade, first frame {"op":"auth","token":...} (DESIGN.md), wait
 * for {"op":"ready"}; in fanout and latency mode then
 * {"op":"sub","sid":"1","subject":SUBJECT} and wait for "subscribed".  At
 * most PARALLEL (200) connections are being set up at once.  Pings are
 * answered by wslay.  Once every connection is set up the client prints
 * "ready N SECS" (SECS: the set-up time) and then:
 *
 *   idle     holds them for -w seconds (default 10) and prints
 *            "pings P closed C": pings received, connections the server closed.
 *   fanout   counts {"op":"msg"} frames until CONNS*COUNT arrived or -w
 *            seconds (default 60) passed; each event's data carries
 *            "pubns": its publisher's CLOCK_REALTIME in ns.  Prints
 *            "deliveries D expected E secs S rate R first_to_last F":
 *            S from the earliest pubns seen to the last delivery.
 *   latency  one connection (or CONNS); every msg whose text holds
 *            "BENCHTS <ns>" (an agent's output line carrying its own
 *            CLOCK_REALTIME) is a sample; after COUNT samples or -w seconds
 *            prints "samples N p50_us X p99_us Y max_us Z".
 *
 * Exit status 0 when every connection was set up and the mode's count was
 * reached, 1 otherwise (the reason on stderr), 64 on bad usage.  Every
 * phase has a deadline. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

enum mode { MODE_IDLE, MODE_FANOUT, MODE_LATENCY };
enum state { ST_CONNECTING, ST_UPGRADE, ST_AUTH, ST_SUB, ST_OPEN, ST_CLOSED };

#define HANDSHAKE_MAX 4096
#define SETUP_SECS    120.0 /* all connections must be set up by then */

typedef struct conn {
    int fd;
    enum state st;
    ev_io io;
    wslay_event_context_ptr ws;
    char *hs;         /* the upgrade response while it is read; then its leftover */
    size_t hs_len;    /* bytes in hs */
    size_t hs_off;    /* leftover bytes already given to wslay */
    const char *doom; /* set from inside wslay's callbacks: fail once it returns */
} conn;

static struct {
    enum mode mode;
    int port;
    const char *src;
    int n;
    const char *subject;
    long count;
    double wait;
    int parallel;
    char token[512];
    struct sockaddr_in dst;
    conn *conns;
    int started, setup_done, failed, closed;
    long pings, msgs;
    double t_start, t_ready;
    int64_t first_pub_ns, last_recv_ns, first_recv_ns;
    double *lat;
    long n_lat;
    struct ev_loop *loop;
    ev_timer deadline;
    bool finished;
    uint64_t rng;
} g = {.n = 1, .count = 1, .wait = -1, .parallel = 200, .first_pub_ns = INT64_MAX};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Masks need no strength here (the server is ours); xorshift is enough. */
static uint64_t rnd(void)
{
    g.rng ^= g.rng << 13;
    g.rng ^= g.rng >> 7;
    g.rng ^= g.rng << 17;
    return g.rng;
}

static void start_next(void);

static void fail(conn *c, const char *why)
{
    if (c->st == ST_CLOSED)
        return;
    bool in_setup = c->st != ST_OPEN;
    if (in_setup) {
        if (g.failed < 5)
            fprintf(stderr, "ws_client: connection %ld: %s\n", (long)(c - g.conns), why);
        g.failed++;
    } else {
        g.closed++;
    }
    ev_io_stop(g.loop, &c->io);
    if (c->ws)
        wslay_event_context_free(c->ws);
    c->ws = NULL;
    free(c->hs);
    c->hs = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->st = ST_CLOSED;
    if (in_setup)
        start_next();
}

static void finish(void)
{
    if (!g.finished) {
        g.finished = true;
        ev_break(g.loop, EVBREAK_ALL);
    }
}

/* ------------------------------------------------------------ wslay glue */

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    conn *c = ud;
    if (c->hs && c->hs_off < c->hs_len) { /* bytes that came with the 101 */
        size_t k = c->hs_len - c->hs_off;
        k = k < len ? k : len;
        memcpy(buf, c->hs + c->hs_off, k);
        c->hs_off += k;
        return (ssize_t)k;
    }
    ssize_t r = recv(c->fd, buf, len, 0);
    if (r > 0)
        return r;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *ud)
{
    (void)flags;
    conn *c = ud;
    ssize_t r = send(c->fd, data, len, MSG_NOSIGNAL);
    if (r >= 0)
        return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static int ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
    (void)ctx;
    (void)ud;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rnd();
    return 0;
}

/* Inside wslay's callbacks the context must stay: the failure waits. */
static void doom(conn *c, const char *why)
{
    if (!c->doom)
        c->doom = why;
}

static void send_text(conn *c, const char *text)
{
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text, strlen(text)};
    if (wslay_event_queue_msg(c->ws, &m) != 0)
        doom(c, "cannot queue a frame");
}

static void setup_done(conn *c);

/* The number after "key" in a frame, or -1. */
static int64_t number_after(const char *msg, size_t len, const char *key)
{
    const char *p = memmem(msg, len, key, strlen(key));
    if (!p)
        return -1;
    p += strlen(key);
    int64_t v = 0;
    const char *end = msg + len;
    if (p >= end || *p < '0' || *p > '9')
        return -1;
    while (p < end && *p >= '0' && *p <= '9')
        v = v * 10 + (*p++ - '0');
    return v;
}

static void on_event_msg(const char *msg, size_t len)
{
    int64_t now = real_ns();
    if (g.mode == MODE_FANOUT) {
        int64_t pub = number_after(msg, len, "\"pubns\":");
        if (pub > 0 && pub < g.first_pub_ns)
            g.first_pub_ns = pub;
        if (g.msgs == 0)
            g.first_recv_ns = now;
        g.last_recv_ns = now;
        if (++g.msgs >= (long)g.n * g.count)
            finish();
        return;
    }
    if (g.mode == MODE_LATENCY) {
        int64_t ts = number_after(msg, len, "BENCHTS ");
        if (ts <= 0 || g.n_lat >= g.count)
            return;
        g.lat[g.n_lat++] = (double)(now - ts) / 1e3;
        if (g.n_lat >= g.count)
            finish();
    }
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
                   void *ud)
{
    (void)ctx;
    conn *c = ud;
    if (a->opcode == WSLAY_PING) {
        g.pings++;
        return;
    }
    if (a->opcode == WSLAY_CONNECTION_CLOSE) {
        if (c->st != ST_OPEN && g.failed < 5)
            fprintf(stderr, "ws_client: closed by the server with %u: %.*s\n", a->status_code,
                    (int)(a->msg_length > 2 ? a->msg_length - 2 : 0),
                    a->msg_length > 2 ? (const char *)a->msg + 2 : "");
        return;
    }
    if (a->opcode != WSLAY_TEXT_FRAME)
        return;
    const char *m = (const char *)a->msg;
    size_t len = a->msg_length;
    switch (c->st) {
    case ST_AUTH:
        if (memmem(m, len, "\"op\":\"ready\"", 12)) {
            if (g.mode == MODE_IDLE)
                return setup_done(c);
            char sub[600];
            snprintf(sub, sizeof sub, "{\"op\":\"sub\",\"sid\":\"1\",\"subject\":\"%s\"}",
                     g.subject);
            c->st = ST_SUB;
            send_text(c, sub);
        } else if (memmem(m, len, "\"op\":\"error\"", 12)) {
            fprintf(stderr, "ws_client: auth refused: %.*s\n", (int)(len > 300 ? 300 : len), m);
            doom(c, "auth refused");
        }
        return;
    case ST_SUB:
        if (memmem(m, len, "\"op\":\"subscribed\"", 17))
            return setup_done(c);
        if (memmem(m, len, "\"op\":\"error\"", 12)) {
            fprintf(stderr, "ws_client: sub refused: %.*s\n", (int)(len > 300 ? 300 : len), m);
            doom(c, "sub refused");
        }
        return;
    case ST_OPEN:
        if (memmem(m, len, "\"op\":\"msg\"", 10))
            on_event_msg(m, len);
        return;
    default:
        return;
    }
}

static const struct wslay_event_callbacks ws_callbacks = {
    .recv_callback = ws_recv,
    .send_callback = ws_send,
    .genmask_callback = ws_genmask,
    .on_msg_recv_callback = on_msg,
};

/* Read and write what wslay wants; watch the socket for what is left. */
static void ws_pump(conn *c, int revents)
{
    if ((revents & EV_READ) && wslay_event_recv(c->ws) != 0)
        return fail(c, "read failed or the server closed");
    if (c->doom)
        return fail(c, c->doom);
    if (wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0)
        return fail(c, "write failed");
    if (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws))
        return fail(c, "closed");
    int want = EV_READ | (wslay_event_want_write(c->ws) ? EV_WRITE : 0);
    if ((c->io.events & (EV_READ | EV_WRITE)) != want) {
        ev_io_stop(g.loop, &c->io);
        ev_io_set(&c->io, c->fd, want);
        ev_io_start(g.loop, &c->io);
    }
}

/* ------------------------------------------------------------ set-up */

static void setup_done(conn *c)
{
    c->st = ST_OPEN;
    if (c->hs && c->hs_off >= c->hs_len) { /* what came with the 101 is consumed */
        free(c->hs);
        c->hs = NULL;
    }
    g.setup_done++;
    start_next();
}

static void send_upgrade(conn *c)
{
    uint8_t key[16];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)rnd();
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char k64[25];
    for (int i = 0, o = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)key[i] << 16 | (i + 1 < 16 ? (uint32_t)key[i + 1] << 8 : 0) |
                     (i + 2 < 16 ? key[i + 2] : 0);
        k64[o++] = b64[v >> 18 & 63];
        k64[o++] = b64[v >> 12 & 63];
        k64[o++] = i + 1 < 16 ? b64[v >> 6 & 63] : '=';
        k64[o++] = i + 2 < 16 ? b64[v & 63] : '=';
    }
    k64[24] = 0;
    char req[512];
    int len = snprintf(req, sizeof req,
                       "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n",
                       g.port, k64);
    /* A fresh socket's buffer takes a request this small whole. */
    if (send(c->fd, req, (size_t)len, MSG_NOSIGNAL) != len)
        return fail(c, "cannot send the upgrade request");
    c->st = ST_UPGRADE;
    ev_io_stop(g.loop, &c->io);
    ev_io_set(&c->io, c->fd, EV_READ);
    ev_io_start(g.loop, &c->io);
}

static void read_upgrade(conn *c)
{
    ssize_t r = recv(c->fd, c->hs + c->hs_len, HANDSHAKE_MAX - 1 - c->hs_len, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0)
        return fail(c, r == 0 ? "closed during the upgrade" : "read failed during the upgrade");
    c->hs_len += (size_t)r;
    c->hs[c->hs_len] = 0;
    char *end = strstr(c->hs, "\r\n\r\n");
    if (!end) {
        if (c->hs_len >= HANDSHAKE_MAX - 1)
            fail(c, "upgrade response too long");
        return;
    }
    if (strncmp(c->hs, "HTTP/1.1 101", 12) != 0) {
        if (g.failed < 5)
            fprintf(stderr, "ws_client: upgrade refused: %.*s\n", (int)strcspn(c->hs, "\r\n"),
                    c->hs);
        return fail(c, "upgrade refused");
    }
    c->hs_off = (size_t)(end + 4 - c->hs); /* frames that came with the 101 */
    if (wslay_event_context_client_init(&c->ws, &ws_callbacks, c) != 0)
        return fail(c, "wslay init failed");
    wslay_event_config_set_max_recv_msg_length(c->ws, 1 << 20);
    char auth[600];
    snprintf(auth, sizeof auth, "{\"op\":\"auth\",\"token\":\"%s\"}", g.token);
    c->st = ST_AUTH;
    send_text(c, auth);
    ws_pump(c, c->hs_off < c->hs_len ? EV_READ : 0);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    conn *c = w->data;
    switch (c->st) {
    case ST_CONNECTING: {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            errno = err;
            return fail(c, strerror(err));
        }
        return send_upgrade(c);
    }
    case ST_UPGRADE:
        return read_upgrade(c);
    case ST_CLOSED:
        return;
    default:
        return ws_pump(c, revents);
    }
}

static void start_one(conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    c->st = ST_CONNECTING;
    if (c->fd < 0)
        return fail(c, strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (g.src) {
        struct sockaddr_in s = {.sin_family = AF_INET};
        inet_pton(AF_INET, g.src, &s.sin_addr);
        if (bind(c->fd, (struct sockaddr *)&s, sizeof s) != 0)
            return fail(c, "bind to the source address failed");
    }
    c->hs = malloc(HANDSHAKE_MAX);
    if (!c->hs)
        return fail(c, "out of memory");
    ev_io_init(&c->io, on_io, c->fd, EV_WRITE);
    c->io.data = c;
    ev_io_start(g.loop, &c->io);
    if (connect(c->fd, (struct sockaddr *)&g.dst, sizeof g.dst) != 0 && errno != EINPROGRESS)
        fail(c, strerror(errno));
}

/* All set up: "ready", and the mode's own time starts. */
static void all_set_up(void)
{
    g.t_ready = mono();
    printf("ready %d %.3f\n", g.setup_done, g.t_ready - g.t_start);
    ev_timer_stop(g.loop, &g.deadline);
    ev_timer_set(&g.deadline, g.wait, 0);
    ev_timer_start(g.loop, &g.deadline);
}

/* Keeps PARALLEL connections in set-up until all are started; a failure
 * ends the run once the others are accounted for.  Not re-entered (a
 * connect failing at once calls it back through fail). */
static void start_next(void)
{
    static bool busy;
    if (busy)
        return;
    busy = true;
    while (g.started < g.n && g.started - g.setup_done - g.failed < g.parallel)
        start_one(&g.conns[g.started++]);
    busy = false;
    if (g.setup_done + g.failed < g.n || g.t_ready > 0)
        return;
    if (g.failed)
        finish();
    else
        all_set_up();
}

static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    if (g.t_ready == 0)
        fprintf(stderr, "ws_client: only %d of %d connections set up within %.0f s\n", g.setup_done,
                g.n, SETUP_SECS);
    finish();
}

/* ------------------------------------------------------------ report */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int report(void)
{
    if (g.setup_done < g.n) {
        fprintf(stderr, "ws_client: %d of %d connections failed to set up\n", g.n - g.setup_done,
                g.n);
        return 1;
    }
    switch (g.mode) {
    case MODE_IDLE:
        printf("pings %ld closed %d\n", g.pings, g.closed);
        return g.closed ? 1 : 0;
    case MODE_FANOUT: {
        long expected = (long)g.n * g.count;
        double secs = g.msgs ? (double)(g.last_recv_ns - g.first_pub_ns) / 1e9 : 0;
        double f2l = g.msgs ? (double)(g.last_recv_ns - g.first_recv_ns) / 1e9 : 0;
        printf("deliveries %ld expected %ld secs %.6f rate %.0f first_to_last %.6f\n", g.msgs,
               expected, secs, secs > 0 ? (double)g.msgs / secs : 0, f2l);
        return g.msgs == expected ? 0 : 1;
    }
    case MODE_LATENCY:
        if (g.n_lat == 0) {
            printf("samples 0\n");
            return 1;
        }
        qsort(g.lat, (size_t)g.n_lat, sizeof *g.lat, cmp_double);
        printf("samples %ld p50_us %.0f p99_us %.0f max_us %.0f\n", g.n_lat,
               g.lat[(g.n_lat - 1) / 2], g.lat[(long)((double)(g.n_lat - 1) * 0.99)],
               g.lat[g.n_lat - 1]);
        return g.n_lat == g.count ? 0 : 1;
    }
    return 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: ws_client idle|fanout|latency -p PORT -T TOKEN_FILE [-b SRC_ADDR] "
                    "[-n CONNS] [-s SUBJECT] [-k COUNT] [-w SECONDS] [-c PARALLEL]\n");
    return 64;
}

static bool read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(g.token, 1, sizeof g.token - 1, f);
    fclose(f);
    g.token[n] = 0;
    g.token[strcspn(g.token, "\r\n")] = 0;
    /* The token goes into a JSON string unescaped: allow only its alphabet. */
    for (char *p = g.token; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              strchr("_-.~+/=", *p)))
            return false;
    return g.token[0] != 0;
}

static bool parse_args(int argc, char **argv)
{
    if (argc < 2)
        return false;
    if (strcmp(argv[1], "idle") == 0)
        g.mode = MODE_IDLE;
    else if (strcmp(argv[1], "fanout") == 0)
        g.mode = MODE_FANOUT;
    else if (strcmp(argv[1], "latency") == 0)
        g.mode = MODE_LATENCY;
    else
        return false;
    const char *token_file = NULL;
    int o;
    optind = 2;
    while ((o = getopt(argc, argv, "p:T:b:n:s:k:w:c:")) != -1) {
        switch (o) {
        case 'p':
            g.port = atoi(optarg);
            break;
        case 'T':
            token_file = optarg;
            break;
        case 'b':
            g.src = optarg;
            break;
        case 'n':
            g.n = atoi(optarg);
            break;
        case 's':
            g.subject = optarg;
            break;
        case 'k':
            g.count = atol(optarg);
            break;
        case 'w':
            g.wait = atof(optarg);
            break;
        case 'c':
            g.parallel = atoi(optarg);
            break;
        default:
            return false;
        }
    }
    if (g.wait < 0)
        g.wait = g.mode == MODE_IDLE ? 10 : 60;
    if (g.port <= 0 || g.port > 65535 || g.n < 1 || g.n > 100000 || g.count < 1 ||
        g.count > 10000000 || g.parallel < 1 || g.wait > 3600)
        return false;
    if (g.mode != MODE_IDLE && (!g.subject || strlen(g.subject) > 256 || strchr(g.subject, '"')))
        return false;
    if (!token_file || !read_token(token_file)) {
        fprintf(stderr, "ws_client: no usable token in %s\n", token_file ? token_file : "(none)");
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    if (!parse_args(argc, argv))
        return usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    g.rng = (uint64_t)real_ns() | 1;
    g.dst.sin_family = AF_INET;
    g.dst.sin_port = htons((uint16_t)g.port);
    g.dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g.conns = calloc((size_t)g.n, sizeof *g.conns);
    g.lat = g.mode == MODE_LATENCY ? calloc((size_t)g.count, sizeof *g.lat) : NULL;
    if (!g.conns || (g.mode == MODE_LATENCY && !g.lat))
        return 1;
    g.loop = ev_default_loop(EVFLAG_AUTO);
    g.t_start = mono();
    ev_timer_init(&g.deadline, on_deadline, SETUP_SECS, 0);
    ev_timer_start(g.loop, &g.deadline);
    start_next();
    if (!g.finished)
        ev_run(g.loop, 0);
    int rc = report();
    g.started = g.n; /* nothing more to start while closing */
    for (int i = 0; i < g.n; i++)
        if (g.conns[i].st != ST_CLOSED && g.conns[i].fd > 0)
            fail(&g.conns[i], "end");
    free(g.conns);
    free(g.lat);
    return rc;
}
