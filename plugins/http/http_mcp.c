/* /mcp: MCP Streamable HTTP (revision 2025-11-25) for agents.
 *
 * The session is the mcp plugin's, as for the stdio relay of the control
 * socket (core/daemon/ctl/ctl_mcp.c): initialize without a session asks
 * cmd.mcp.open with the request's agent token, and from then on every
 * POSTed message goes out as one line on mcp.session.<SID>.in while the
 * lines of mcp.session.<SID>.out are matched back to the POSTs:
 *
 *   POST a request       the answer, application/json; or, once a progress
 *                        notification for it comes first, a text/event-stream
 *                        carrying them and then the answer (no deadline: a
 *                        request_input wait lasts what it lasts)
 *   POST a notification  202, as a response of the client's
 *   GET                  text/event-stream of what the server says outside
 *                        a request (tools/list_changed); kept for the next
 *                        GET, a few, while none is open
 *   DELETE               ends the session: 204
 *
 * Mcp-Session-Id is the plugin's session id (~190 random bits), bound to
 * the SHA-256 of the token that opened it: another token gets 404, as an
 * unknown or ended session does.  Sessions unused for HTTP_MCP_IDLE go.
 *
 * MCP 2026-07-28 is stateless: no initialize, no Mcp-Session-Id, no GET;
 * each POSTed request names its revision in params._meta and in the
 * MCP-Protocol-Version, Mcp-Method and Mcp-Name headers, which must agree
 * with the body (400, -32020 when not).  Such requests share one plugin
 * session per agent token, opened at the first and never named to the
 * client.  Since its clients do not share ids, each request goes in under
 * an id of ours ("h<n>", its progress token too) and its answer comes
 * back under the client's. */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bosun/json.h>
#include <bosun/log.h>
#include <bosun/task.h>

#include "http.h"

/* Sessions one agent token may hold at once (Claude Code opens one). */
#define HTTP_MCP_PER_TOKEN 8
/* A session no request and no stream used for this long is closed. */
#define HTTP_MCP_IDLE  3600.0
#define HTTP_MCP_SWEEP 60.0
/* Server messages kept for a GET stream while none is open. */
#define HTTP_MCP_BACKLOG 32
/* The largest message before the session (and its limit) is known. */
#define HTTP_MCP_DEFAULT_MAX  (1024 * 1024)
#define HTTP_MCP_OPEN_TIMEOUT 10.0

typedef struct mcp_sess mcp_sess;
typedef struct mcp_post mcp_post;

/* A POSTed request waiting for its answer, or a session's GET stream. */
struct mcp_post {
    mcp_post *next, *prev;
    mcp_sess *s;       /* NULL once answered (or its session gone) */
    http_request *r;   /* until answered or streamed */
    http_conn *stream; /* once the answer is a text/event-stream, until it closes */
    json_t *id;        /* the request's JSON-RPC id (ours when stateless) */
    json_t *progress;  /* its params._meta.progressToken, or NULL (ours when stateless) */
    json_t *client_id, *client_progress; /* stateless: the client's, given back */
    http_mcp_hub *hub;
    bool is_get;
    bool closing; /* answered, its stream closing: on the hub's closing list */
};

struct mcp_sess {
    mcp_sess *next, *prev;
    http_mcp_hub *hub;
    char sid[64];
    unsigned char token_hash[SHA256_DIGEST_LENGTH];
    char in_subject[BUS_SUBJECT_MAX];
    bus_sub *out_sub;
    size_t max_bytes;
    double last_used;
    mcp_post *posts;
    mcp_post *get;    /* the GET stream, or NULL */
    json_t *backlog;  /* lines for the next GET stream */
    bool stateless;   /* the token's 2026-07-28 session: no client names it */
    uint64_t last_id; /* of the ids its requests go in under */
};

/* A POST waiting for its session to open. */
typedef struct mcp_waiter {
    http_request *r;
    json_t *msg;
    struct mcp_waiter *next;
} mcp_waiter;

/* An initialize, or the stateless requests of a token without a session,
 * waiting for cmd.mcp.open. */
typedef struct mcp_opening {
    http_mcp_hub *hub;
    mcp_waiter *waiters, **waiters_tail;
    unsigned char token_hash[SHA256_DIGEST_LENGTH];
    uint64_t req;
    bool stateless;
    struct mcp_opening *next, *prev;
} mcp_opening;

struct http_mcp_hub {
    http_server *srv;
    mcp_sess *sessions;
    mcp_opening *openings;
    ev_timer sweep;
    /* Answered posts whose streams are still being written: freed by
     * their on_close, or at the stop, which calls none. */
    mcp_post *closing;
    bool stopping; /* streams closed now get no on_close */
};

static const char *const mcp_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", NULL};

static bus_t *hub_bus(const http_mcp_hub *hub)
{
    return http_server_bus(hub->srv);
}

/* ------------------------------------------------------------ answers */

/* A JSON-RPC error as the body of an HTTP error. */
static void respond_rpc_error(http_request *r, int status, int code, const char *message)
{
    http_respond_json(r, status,
                      json_pack("{s:s,s:n,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", "error", "code",
                                code, "message", message));
}

static void sse_event(http_conn *c, const char *line, size_t len)
{
    /* A JSON text compacted by the plugin holds no newline: one data line. */
    static const char head[] = "event: message\ndata: ";
    if (!http_stream_send(c, head, sizeof head - 1) || !http_stream_send(c, line, len) ||
        !http_stream_send(c, "\n\n", 2)) {
        log_warning("http: /mcp: a client does not read its event stream; closing it");
        http_stream_close(c);
    }
}

/* ------------------------------------------------------------ posts */

static void post_unlink(mcp_post *p)
{
    mcp_sess *s = p->s;
    if (p->closing) {
        if (p->prev)
            p->prev->next = p->next;
        else
            p->hub->closing = p->next;
        if (p->next)
            p->next->prev = p->prev;
        p->next = p->prev = NULL;
        p->closing = false;
        return;
    }
    if (!s)
        return;
    if (p->is_get)
        s->get = NULL;
    else if (p->prev)
        p->prev->next = p->next;
    else
        s->posts = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->next = p->prev = NULL;
    p->s = NULL;
}

static void post_free(mcp_post *p)
{
    post_unlink(p);
    json_decref(p->id);
    json_decref(p->progress);
    json_decref(p->client_id);
    json_decref(p->client_progress);
    free(p);
}

/* The client left (an answer then has nobody to go to), or the stream
 * ended after the answer. */
static void post_stream_closed(void *arg)
{
    mcp_post *p = arg;
    p->stream = NULL;
    post_free(p);
}

static void post_stream_data(void *arg, const char *data, size_t len)
{
    /* Nothing is read after a request whose answer is a stream. */
}

static const http_stream_ops post_ops = {post_stream_data, NULL, post_stream_closed};

/* Closes the stream; p goes with it (at once when the server is stopping:
 * then no on_close comes). */
static void post_close_stream(mcp_post *p, bool stopping)
{
    http_conn *c = p->stream;
    post_unlink(p);
    http_stream_close(c);
    if (stopping)
        return post_free(p);
    p->closing = true;
    p->next = p->hub->closing;
    if (p->next)
        p->next->prev = p;
    p->hub->closing = p;
}

/* The answer, as the body (with status) or as the stream's last event. */
static void post_answer(mcp_post *p, int status, const char *line, size_t len)
{
    if (p->stream) {
        sse_event(p->stream, line, len);
        return post_close_stream(p, false);
    }
    http_respond(p->r, status, "application/json", line, len);
    post_free(p);
}

/* A message before the answer turns the answer into a stream. */
static void post_event(mcp_post *p, const char *line, size_t len)
{
    if (!p->stream) {
        if (!http_stream_can_start(p->r)) {
            log_notice("http: /mcp session %s: a message for a request whose client left, or "
                       "that has requests pipelined behind it (no stream possible), is left out",
                       p->s->sid);
            return;
        }
        http_request *r = p->r;
        p->r = NULL; /* freed once the stream starts, or with the 500 */
        p->stream = http_respond_stream(r, "text/event-stream", &post_ops, p);
        if (!p->stream)
            return post_free(p);
    }
    sse_event(p->stream, line, len);
}

/* ------------------------------------------------------------ sessions */

/* Tells the mcp plugin the session is over (mcp.session.<SID>.closed). */
static void publish_closed(bus_t *bus, const char *sid)
{
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "%s.%s.closed", BOSUN_MCP_SESSION, sid);
    bus_publish_new(bus, subject, NULL, json_object());
}

static void sess_free(mcp_sess *s, const char *why)
{
    http_mcp_hub *hub = s->hub;
    bus_unsubscribe(hub_bus(hub), s->out_sub);
    publish_closed(hub_bus(hub), s->sid);
    while (s->posts) {
        mcp_post *p = s->posts;
        if (p->stream)
            post_close_stream(p, hub->stopping);
        else {
            respond_rpc_error(p->r, 404, -32600, why);
            post_free(p);
        }
    }
    if (s->get)
        post_close_stream(s->get, hub->stopping);
    if (s->prev)
        s->prev->next = s->next;
    else
        hub->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    json_decref(s->backlog);
    log_info("http: /mcp session %s closed: %s", s->sid, why);
    free(s);
}

static mcp_post *post_for_id(mcp_sess *s, const json_t *id)
{
    for (mcp_post *p = s->posts; p; p = p->next)
        if (json_equal(p->id, id))
            return p;
    return NULL;
}

static mcp_post *post_for_progress(mcp_sess *s, const json_t *token)
{
    for (mcp_post *p = s->posts; p && token; p = p->next)
        if (p->progress && json_equal(p->progress, token))
            return p;
    return NULL;
}

/* What belongs to no request goes to the GET stream, or waits for one. */
static void sess_unrelated(mcp_sess *s, const char *line, size_t len)
{
    if (s->get)
        return sse_event(s->get->stream, line, len);
    if (json_array_size(s->backlog) >= HTTP_MCP_BACKLOG) {
        log_warning("http: /mcp session %s: no GET stream reads the server's messages; the "
                    "oldest of %d kept is dropped",
                    s->sid, HTTP_MCP_BACKLOG);
        json_array_remove(s->backlog, 0);
    }
    json_array_append_new(s->backlog, json_stringn(line, len));
}

/* A stateless request's answer or progress, under the client's id or
 * token again: malloc'ed text, or NULL to send it as it came. */
static char *stateless_outgoing(const mcp_post *p, json_t *msg, const char *method, size_t *len)
{
    int rc = method ? json_object_set(json_object_get(msg, "params"), "progressToken",
                                      p->client_progress ? p->client_progress : json_null())
                    : json_object_set(msg, "id", p->client_id);
    return rc == 0 ? bosun_json_dump(msg, 0, len) : NULL;
}

/* A revision the plugin does not speak is a 400, so that an HTTP client
 * can fall back on the status alone; any other answer is a 200. */
static int answer_status(const json_t *msg)
{
    json_int_t code = json_integer_value(json_object_get(json_object_get(msg, "error"), "code"));
    return code == BOSUN_MCP_UNSUPPORTED_PROTOCOL ? 400 : 200;
}

static void on_out(bus_t *bus, const bus_msg *m, void *arg)
{
    mcp_sess *s = arg;
    const char *end = json_string_value(json_object_get(m->data, "end"));
    if (end)
        return sess_free(s, end);
    json_t *line = json_object_get(m->data, "line");
    if (!json_is_string(line))
        return;
    const char *text = json_string_value(line);
    size_t len = json_string_length(line);
    json_t *msg = bosun_json_parse(text, len, 0, NULL);
    json_t *id = json_object_get(msg, "id");
    const char *method = json_string_value(json_object_get(msg, "method"));
    mcp_post *p = NULL;
    if (!method && id && !json_is_null(id))
        p = post_for_id(s, id);
    else if (method && strcmp(method, "notifications/progress") == 0)
        p = post_for_progress(s, json_object_get(json_object_get(msg, "params"), "progressToken"));
    char *mine = p && p->client_id ? stateless_outgoing(p, msg, method, &len) : NULL;
    if (mine)
        text = mine;
    if (p && !method)
        post_answer(p, answer_status(msg), text, len);
    else if (p)
        post_event(p, text, len);
    else if (!method && s->posts && (!id || json_is_null(id)))
        post_answer(s->posts, 200, text, len); /* an error about a message we could not tell */
    else if (!method)
        log_info("http: /mcp session %s: an answer whose client left is dropped", s->sid);
    else if (!s->stateless)
        sess_unrelated(s, text, len);
    free(mine);
    json_decref(msg);
}

static mcp_sess *sess_new(http_mcp_hub *hub, const char *sid, const unsigned char *hash,
                          size_t max_bytes)
{
    mcp_sess *s = calloc(1, sizeof *s);
    if (!s || strlen(sid) >= sizeof s->sid) {
        free(s);
        return NULL;
    }
    s->hub = hub;
    snprintf(s->sid, sizeof s->sid, "%s", sid);
    memcpy(s->token_hash, hash, sizeof s->token_hash);
    s->max_bytes = max_bytes ? max_bytes : HTTP_MCP_DEFAULT_MAX;
    s->last_used = ev_now(http_server_ctx(hub->srv)->loop);
    s->backlog = json_array();
    snprintf(s->in_subject, sizeof s->in_subject, "%s.%s.in", BOSUN_MCP_SESSION, sid);
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "%s.%s.out", BOSUN_MCP_SESSION, sid);
    s->out_sub = bus_subscribe(hub_bus(hub), subject, on_out, s);
    if (!s->out_sub || !s->backlog) {
        if (s->out_sub)
            bus_unsubscribe(hub_bus(hub), s->out_sub);
        json_decref(s->backlog);
        free(s);
        return NULL;
    }
    s->next = hub->sessions;
    if (hub->sessions)
        hub->sessions->prev = s;
    hub->sessions = s;
    return s;
}

/* The request's agent token (the router let only agent tokens in). */
static const char *bearer_token(const http_request *r)
{
    const char *token = http_auth_bearer(r);
    return token ? token : "";
}

static void token_hash_of(const http_request *r, unsigned char out[SHA256_DIGEST_LENGTH])
{
    const char *token = bearer_token(r);
    SHA256((const unsigned char *)token, strlen(token), out);
}

/* The session named by the request, checked against its token; NULL with
 * the error response given. */
static mcp_sess *sess_of(http_request *r)
{
    http_mcp_hub *hub = http_server_mcp(r->srv);
    const char *sid = http_header(r, "mcp-session-id");
    if (!sid) {
        respond_rpc_error(r, 400, -32600,
                          "Mcp-Session-Id header required (send initialize "
                          "first)");
        return NULL;
    }
    unsigned char hash[SHA256_DIGEST_LENGTH];
    token_hash_of(r, hash);
    for (mcp_sess *s = hub->sessions; s; s = s->next)
        if (!s->stateless && strcmp(s->sid, sid) == 0 &&
            CRYPTO_memcmp(s->token_hash, hash, sizeof hash) == 0) {
            s->last_used = ev_now(http_server_ctx(hub->srv)->loop);
            return s;
        }
    respond_rpc_error(r, 404, -32001, "session not found (ended, expired or never opened)");
    return NULL;
}

static bool accepts(const http_request *r, const char *type)
{
    const char *accept = http_header(r, "accept");
    return accept && (strstr(accept, type) || strstr(accept, "*/*"));
}

/* A 2025 message's MCP-Protocol-Version, when given, must be one we
 * speak: the stateless revision's requests carry it in their body too. */
static bool version_ok(http_request *r)
{
    const char *v = http_header(r, "mcp-protocol-version");
    for (size_t i = 0; v && mcp_versions[i]; i++)
        if (strcmp(v, mcp_versions[i]) == 0)
            return true;
    if (!v)
        return true;
    if (strcmp(v, BOSUN_MCP_STATELESS_VERSION) == 0)
        respond_rpc_error(
            r, 400, -32602,
            "params._meta: '" BOSUN_MCP_META_VERSION
            "' is required when MCP-Protocol-Version is " BOSUN_MCP_STATELESS_VERSION);
    else
        respond_rpc_error(r, 400, -32600,
                          "unsupported MCP-Protocol-Version (this server speaks "
                          "2025-03-26, 2025-06-18, 2025-11-25 and, with params._meta, "
                          "2026-07-28)");
    return false;
}

/* ------------------------------------------------------------ relaying */

static void relay(mcp_sess *s, const char *text, size_t len)
{
    json_t *msg = json_pack("{s:s%}", "line", text, len);
    if (!msg || bus_publish_new(hub_bus(s->hub), s->in_subject, NULL, msg) != 0)
        log_warning("http: /mcp session %s: a message could not be relayed", s->sid);
}

/* A request held until its answer comes back on .out (id: the one it
 * goes in under); NULL with the 500 given. */
static mcp_post *post_new(mcp_sess *s, http_request *r, json_t *id, json_t *progress)
{
    mcp_post *p = calloc(1, sizeof *p);
    if (!p) {
        respond_rpc_error(r, 500, -32603, "out of memory");
        return NULL;
    }
    p->s = s;
    p->hub = s->hub;
    p->r = r;
    p->id = json_incref(id);
    if (json_is_string(progress) || json_is_integer(progress))
        p->progress = json_incref(progress);
    p->next = s->posts;
    if (s->posts)
        s->posts->prev = p;
    s->posts = p;
    return p;
}

static json_t *progress_token_of(json_t *msg)
{
    return json_object_get(json_object_get(json_object_get(msg, "params"), "_meta"),
                           "progressToken");
}

static void relay_request(mcp_sess *s, http_request *r, json_t *msg)
{
    if (!post_new(s, r, json_object_get(msg, "id"), progress_token_of(msg)))
        return;
    http_add_header(r, "Mcp-Session-Id", s->sid);
    relay(s, r->body, r->body_len);
}

static bool message_fits(mcp_sess *s, http_request *r)
{
    if (r->body_len <= s->max_bytes)
        return true;
    respond_rpc_error(r, 413, -32600, "message too large for the mcp plugin's max_message_bytes");
    return false;
}

static void relay_message(mcp_sess *s, http_request *r, json_t *msg)
{
    if (!message_fits(s, r))
        return;
    json_t *id = json_object_get(msg, "id");
    if (json_object_get(msg, "method") && id) {
        if (!json_is_string(id) && !json_is_integer(id))
            return respond_rpc_error(r, 400, -32600, "'id' must be a string or an integer");
        if (post_for_id(s, id))
            return respond_rpc_error(r, 409, -32600, "request id already in use in this session");
        return relay_request(s, r, msg);
    }
    /* A notification or a response of the client's: accepted. */
    relay(s, r->body, r->body_len);
    http_respond(r, 202, NULL, "", 0);
}

/* A stateless request goes in under an id of ours, and so does its
 * progress token: the token's clients may use the same ones at once. */
static void relay_stateless_request(mcp_sess *s, http_request *r, json_t *msg)
{
    char mine[32];
    snprintf(mine, sizeof mine, "h%llu", (unsigned long long)++s->last_id);
    json_t *copy = json_deep_copy(msg);
    json_t *ours = json_string(mine);
    json_t *token = progress_token_of(copy);
    bool has_token = json_is_string(token) || json_is_integer(token);
    mcp_post *p = NULL;
    size_t len = 0;
    char *text = NULL;
    if (copy && ours && json_object_set(copy, "id", ours) == 0 &&
        (!has_token || json_object_set(json_object_get(json_object_get(copy, "params"), "_meta"),
                                       "progressToken", ours) == 0))
        text = bosun_json_dump(copy, 0, &len);
    if (!text)
        respond_rpc_error(r, 500, -32603, "out of memory");
    else if ((p = post_new(s, r, ours, has_token ? ours : NULL))) {
        p->client_id = json_incref(json_object_get(msg, "id"));
        if (has_token)
            p->client_progress = json_incref(progress_token_of(msg));
        relay(s, text, len);
    }
    free(text);
    json_decref(ours);
    json_decref(copy);
}

/* notifications/cancelled names the client's id: the first request of
 * the token's still waiting under it is the one cancelled. */
static void relay_stateless_notification(mcp_sess *s, http_request *r, json_t *msg)
{
    const char *method = json_string_value(json_object_get(msg, "method"));
    json_t *params = json_object_get(msg, "params");
    json_t *asked = json_object_get(params, "requestId");
    mcp_post *p = s->posts;
    while (p && !(p->client_id && asked && json_equal(p->client_id, asked)))
        p = p->next;
    if (p && strcmp(method, "notifications/cancelled") == 0) {
        json_t *copy = json_deep_copy(msg);
        size_t len = 0;
        char *text =
            copy && json_object_set(json_object_get(copy, "params"), "requestId", p->id) == 0
                ? bosun_json_dump(copy, 0, &len)
                : NULL;
        if (text)
            relay(s, text, len);
        free(text);
        json_decref(copy);
    }
    /* Any other notification needs nothing of the plugin's. */
    http_respond(r, 202, NULL, "", 0);
}

static void relay_stateless(mcp_sess *s, http_request *r, json_t *msg)
{
    if (!message_fits(s, r))
        return;
    if (json_object_get(msg, "id"))
        return relay_stateless_request(s, r, msg);
    relay_stateless_notification(s, r, msg);
}

/* ------------------------------------------------------------ opening */

static void opening_free(mcp_opening *o)
{
    if (o->prev)
        o->prev->next = o->next;
    else
        o->hub->openings = o->next;
    if (o->next)
        o->next->prev = o->prev;
    while (o->waiters) {
        mcp_waiter *w = o->waiters;
        o->waiters = w->next;
        json_decref(w->msg);
        free(w);
    }
    free(o);
}

/* Every POST waiting for the session gets the same error. */
static void opening_fail(mcp_opening *o, int status, int code, const char *why)
{
    for (mcp_waiter *w = o->waiters; w; w = w->next)
        respond_rpc_error(w->r, status, code, why);
    opening_free(o);
}

static void on_opened(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    mcp_opening *o = arg;
    const char *sid =
        st == BUS_REPLY_OK ? json_string_value(json_object_get(m->data, "session")) : NULL;
    json_t *err = st == BUS_REPLY_OK ? json_object_get(m->data, "error") : NULL;
    if (!sid || bus_subject_check(sid) != 0 || strchr(sid, '.')) {
        const char *why = json_string_value(json_object_get(err, "message"));
        return opening_fail(o, err ? 401 : 503, -32600,
                            why                             ? why
                            : st == BUS_REPLY_NO_RESPONDERS ? "no mcp plugin is loaded"
                                                            : "the mcp plugin did not answer");
    }
    json_int_t max = json_integer_value(json_object_get(m->data, "max_message_bytes"));
    mcp_sess *s = sess_new(o->hub, sid, o->token_hash, max > 0 ? (size_t)max : 0);
    if (!s) {
        publish_closed(bus, sid);
        return opening_fail(o, 500, -32603, "cannot open the session");
    }
    s->stateless = o->stateless;
    const http_request *first = o->waiters->r;
    log_info("http: /mcp session %s opened for run %s (%s)%s", s->sid, first->id.run, first->peer,
             s->stateless ? ", stateless (" BOSUN_MCP_STATELESS_VERSION ")" : "");
    for (mcp_waiter *w = o->waiters; w; w = w->next)
        if (s->stateless)
            relay_stateless(s, w->r, w->msg);
        else
            relay_message(s, w->r, w->msg);
    opening_free(o);
}

/* Makes room for one more session of the token: at the cap, its session
 * used longest ago that nothing waits on goes (a CLI that exits without
 * DELETE, restarted in the same run, leaves one behind each time); false
 * when all of them are busy. */
static bool token_room(http_mcp_hub *hub, const unsigned char *hash)
{
    size_t n = 0;
    mcp_sess *idle = NULL;
    for (mcp_sess *s = hub->sessions; s; s = s->next) {
        if (CRYPTO_memcmp(s->token_hash, hash, SHA256_DIGEST_LENGTH) != 0)
            continue;
        n++;
        if (!s->posts && !s->get && (!idle || s->last_used < idle->last_used))
            idle = s;
    }
    for (const mcp_opening *o = hub->openings; o; o = o->next)
        n += CRYPTO_memcmp(o->token_hash, hash, SHA256_DIGEST_LENGTH) == 0;
    if (n < HTTP_MCP_PER_TOKEN)
        return true;
    if (!idle)
        return false;
    sess_free(idle, "the token opened another session, and this one was its least recently used");
    return true;
}

static bool opening_wait(mcp_opening *o, http_request *r, json_t *msg)
{
    mcp_waiter *w = calloc(1, sizeof *w);
    if (!w)
        return false;
    w->r = r;
    w->msg = json_incref(msg);
    *o->waiters_tail = w;
    o->waiters_tail = &w->next;
    return true;
}

/* Asks cmd.mcp.open for the request's token; msg is relayed once the
 * session is open. */
static void open_session(http_request *r, json_t *msg, bool stateless)
{
    http_mcp_hub *hub = http_server_mcp(r->srv);
    if (r->body_len > HTTP_MCP_DEFAULT_MAX)
        return respond_rpc_error(r, 413, -32600, "message too large");
    mcp_opening *o = calloc(1, sizeof *o);
    if (!o)
        return respond_rpc_error(r, 500, -32603, "out of memory");
    token_hash_of(r, o->token_hash);
    if (!token_room(hub, o->token_hash)) {
        free(o);
        return respond_rpc_error(r, 429, -32600,
                                 "this agent token already has 8 MCP sessions, each with a "
                                 "request or stream open");
    }
    o->hub = hub;
    o->stateless = stateless;
    o->waiters_tail = &o->waiters;
    o->next = hub->openings;
    if (hub->openings)
        hub->openings->prev = o;
    hub->openings = o;
    json_t *q = json_pack("{s:s,s:s}", "token", bearer_token(r), "run", r->id.run);
    if (!opening_wait(o, r, msg) || !(o->req = q ? bus_request(hub_bus(hub), BOSUN_MCP_OPEN, q,
                                                               HTTP_MCP_OPEN_TIMEOUT, on_opened, o)
                                                 : 0)) {
        respond_rpc_error(r, 500, -32603, "cannot open the session");
        opening_free(o);
    }
    json_decref(q);
}

/* The token's stateless session, or its opening, takes the request; the
 * first request of a token opens it. */
static void serve_stateless(http_request *r, json_t *msg)
{
    http_mcp_hub *hub = http_server_mcp(r->srv);
    unsigned char hash[SHA256_DIGEST_LENGTH];
    token_hash_of(r, hash);
    for (mcp_sess *s = hub->sessions; s; s = s->next)
        if (s->stateless && CRYPTO_memcmp(s->token_hash, hash, sizeof hash) == 0) {
            s->last_used = ev_now(http_server_ctx(hub->srv)->loop);
            return relay_stateless(s, r, msg);
        }
    for (mcp_opening *o = hub->openings; o; o = o->next)
        if (o->stateless && CRYPTO_memcmp(o->token_hash, hash, sizeof hash) == 0) {
            if (r->body_len > HTTP_MCP_DEFAULT_MAX)
                return respond_rpc_error(r, 413, -32600, "message too large");
            if (!opening_wait(o, r, msg))
                respond_rpc_error(r, 500, -32603, "out of memory");
            return;
        }
    open_session(r, msg, true);
}

/* The revision's edge checks (http_mcp_edge.c): each failure is a 400. */
static bool stateless_headers_ok(http_request *r, const json_t *msg)
{
    const http_mcp_headers h = {http_header(r, "mcp-protocol-version"),
                                http_header(r, "mcp-method"), http_header(r, "mcp-name")};
    const char *why = NULL;
    int code = http_mcp_stateless_check(msg, &h, &why);
    if (code != 0)
        respond_rpc_error(r, 400, code, why);
    return code == 0;
}

/* ------------------------------------------------------------ handlers */

static bool content_is_json(const http_request *r)
{
    const char *ct = http_header(r, "content-type");
    return ct && strncasecmp(ct, "application/json", 16) == 0 &&
           (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');
}

static void mcp_post_handler(http_request *r, const char *const *args, size_t n_args)
{
    if (!accepts(r, "application/json") || !accepts(r, "text/event-stream"))
        return respond_rpc_error(r, 406, -32600,
                                 "Accept must list application/json and text/event-stream");
    if (!content_is_json(r))
        return respond_rpc_error(r, 415, -32600, "Content-Type must be application/json");
    bosun_json_error je;
    json_t *msg = bosun_json_parse(r->body, r->body_len, BOSUN_JSON_REJECT_DUPLICATES, &je);
    if (!msg) {
        char why[256];
        snprintf(why, sizeof why, "parse error at column %d: %s", je.column, je.text);
        return respond_rpc_error(r, 400, -32700, why);
    }
    const char *method = json_string_value(json_object_get(msg, "method"));
    const char *version = json_string_value(json_object_get(msg, "jsonrpc"));
    json_t *id = json_object_get(msg, "id");
    const json_t *meta = json_object_get(json_object_get(msg, "params"), "_meta");
    if (json_is_array(msg))
        respond_rpc_error(r, 400, -32600, "batches are not supported (removed in MCP 2025-06-18)");
    else if (!json_is_object(msg) || !version || strcmp(version, "2.0") != 0)
        respond_rpc_error(r, 400, -32600, "a message must be a JSON-RPC 2.0 object");
    else if (method && json_object_get(meta, BOSUN_MCP_META_VERSION)) {
        /* The body says 2026-07-28 (or asks for a revision to come):
         * stateless, whatever Mcp-Session-Id says. */
        if (id && !json_is_string(id) && !json_is_integer(id))
            respond_rpc_error(r, 400, -32600, "'id' must be a string or an integer");
        else if (stateless_headers_ok(r, msg))
            serve_stateless(r, msg);
    } else if (!http_header(r, "mcp-session-id") && method && strcmp(method, "initialize") == 0 &&
               id)
        open_session(r, msg, false);
    else if (version_ok(r)) {
        mcp_sess *s = sess_of(r);
        if (s)
            relay_message(s, r, msg);
    }
    json_decref(msg);
}

static void mcp_get_handler(http_request *r, const char *const *args, size_t n_args)
{
    if (!accepts(r, "text/event-stream"))
        return respond_rpc_error(r, 406, -32600, "Accept must list text/event-stream");
    const char *v = http_header(r, "mcp-protocol-version");
    if (v && strcmp(v, BOSUN_MCP_STATELESS_VERSION) == 0) {
        /* The stateless revision has no GET stream. */
        http_add_header(r, "Allow", "POST");
        return respond_rpc_error(r, 405, -32000,
                                 "MCP " BOSUN_MCP_STATELESS_VERSION " has no GET stream");
    }
    if (!version_ok(r))
        return;
    mcp_sess *s = sess_of(r);
    if (!s)
        return;
    if (s->get)
        return respond_rpc_error(r, 409, -32600, "this session already has a GET stream");
    mcp_post *g = calloc(1, sizeof *g);
    if (!g)
        return respond_rpc_error(r, 500, -32603, "out of memory");
    g->hub = s->hub;
    http_add_header(r, "Mcp-Session-Id", s->sid);
    g->stream = http_respond_stream(r, "text/event-stream", &post_ops, g);
    if (!g->stream) {
        free(g);
        return;
    }
    g->is_get = true;
    g->s = s;
    s->get = g;
    /* A comment first: the client sees the stream open at once. */
    http_stream_send(g->stream, ": bosun\n\n", 9);
    for (size_t i = 0; i < json_array_size(s->backlog); i++) {
        json_t *line = json_array_get(s->backlog, i);
        sse_event(g->stream, json_string_value(line), json_string_length(line));
    }
    json_array_clear(s->backlog);
}

static void mcp_delete_handler(http_request *r, const char *const *args, size_t n_args)
{
    mcp_sess *s = sess_of(r);
    if (!s)
        return;
    sess_free(s, "ended by the client (DELETE)");
    http_respond(r, 204, NULL, "", 0);
}

const http_route http_mcp_routes[] = {
    {"POST", "/mcp", mcp_post_handler, HTTP_ALLOW_AGENT, HTTP_BODY_UPLOAD},
    {"GET", "/mcp", mcp_get_handler, HTTP_ALLOW_AGENT, HTTP_BODY_NONE},
    {"DELETE", "/mcp", mcp_delete_handler, HTTP_ALLOW_AGENT, HTTP_BODY_NONE},
};
const size_t http_mcp_n_routes = sizeof http_mcp_routes / sizeof *http_mcp_routes;

/* ------------------------------------------------------------ hub */

static void on_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
    http_mcp_hub *hub = w->data;
    double now = ev_now(loop);
    for (mcp_sess *s = hub->sessions, *next; s; s = next) {
        next = s->next;
        if (!s->posts && !s->get && now - s->last_used >= HTTP_MCP_IDLE)
            sess_free(s, "idle for an hour");
    }
}

http_mcp_hub *http_mcp_hub_new(http_server *srv)
{
    http_mcp_hub *hub = calloc(1, sizeof *hub);
    if (!hub)
        return NULL;
    hub->srv = srv;
    ev_timer_init(&hub->sweep, on_sweep, HTTP_MCP_SWEEP, HTTP_MCP_SWEEP);
    hub->sweep.data = hub;
    ev_timer_start(http_server_ctx(srv)->loop, &hub->sweep);
    return hub;
}

void http_mcp_hub_free(http_mcp_hub *hub)
{
    if (!hub)
        return;
    ev_timer_stop(http_server_ctx(hub->srv)->loop, &hub->sweep);
    hub->stopping = true;
    while (hub->openings) {
        bus_request_cancel(hub_bus(hub), hub->openings->req);
        opening_fail(hub->openings, 503, -32600, "the daemon is stopping");
    }
    while (hub->sessions)
        sess_free(hub->sessions, "the daemon is stopping");
    while (hub->closing)
        post_free(hub->closing);
    free(hub);
}
