/* Credentials -> identities: admin tokens (the bootstrap one from its file,
 * the others checked once with cmd.auth.token.check and then cached by
 * hash), session JWTs (a signature check and the in-memory deny-list) and
 * agent tokens (cmd.auth.agent_token, every time: a token dies with its
 * run).  Then the gate each route passes: failed-auth limit, 401/403, the
 * Origin check of cookie-carrying writes.
 *
 * Nothing here logs, stores or answers a presented secret: the cache and
 * the bootstrap token are kept as SHA-256 hashes and compared in constant
 * time, log lines name the peer and the reason only. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bosun/approval.h>
#include <bosun/auth.h>
#include <bosun/crypto.h>
#include <bosun/json.h>
#include <bosun/log.h>
#include <bosun/secret.h>
#include <bosun/store.h>
#include <bosun/sys.h>
#include <bosun/task.h>

#include "http_auth_internal.h"

#define TOKEN_MAX     BOSUN_JWT_TOKEN_MAX
#define CACHE_MAX     256
#define CACHE_AGE_MAX 3600.0 /* re-checked after an hour even when nothing said it died */
/* Logged-out sessions remembered at once (until they would have expired):
 * a logout past it is refused with 503, never an older one forgotten.  A
 * logout appends a line of about 55 bytes to a journal (deny_save).
 * Revoked admin tokens have as many again of their own, so that logouts
 * never crowd them out (an admin revoking 16384 tokens within one
 * session_ttl is not a use to plan for; past it the revocation is logged
 * at error level and its sessions live on to their exp). */
#define DENY_MAX         16384
#define DENY_RESERVE     16384
#define DENY_KEY_MAX     79
#define DENY_FILE_MAX    (16u << 20) /* the journal at its longest: under 8 MiB */
#define DENY_PRUNE_EVERY 60.0
/* Lines the journal may hold beyond twice its live entries before it is
 * rewritten. */
#define DENY_SLACK    1024
#define BOOTSTRAP_MAX 256
#define BOOTSTRAP_MIN 32
#define ORIGIN_MAX    512
/* Failed authentications: a peer may fail 10 times in a row, then once
 * every 2 s; all peers together 100, then 10 a second. */
#define LIMIT_PEER_BURST   10.0
#define LIMIT_PEER_RATE    0.5
#define LIMIT_GLOBAL_BURST 100.0
#define LIMIT_GLOBAL_RATE  10.0
#define LIMIT_KEYS         4096

typedef char hash_hex[2 * BOSUN_SHA256_SIZE + 1];

typedef struct cache_entry {
    hash_hex hash;
    char id[BOSUN_ADMIN_TOKEN_ID_LEN + 1];
    double expires_at; /* 0: none */
    double checked_at; /* monotonic */
} cache_entry;

typedef struct pending pending;

struct http_auth {
    http_server *srv;
    bus_t *bus;
    const char *state_dir;
    char iss[160];
    bosun_jwt_key key;
    double session_ttl, request_timeout;
    char **origins;
    size_t n_origins;
    bool has_bootstrap;
    hash_hex bootstrap_hash;
    bosun_authlimit *limit;
    bosun_complaint refused_log;
    cache_entry cache[CACHE_MAX];
    size_t n_cache;
    json_t *deny; /* a session's jti, or "tok:" and an admin token id -> exp (wall clock) */
    double deny_pruned_at;
    size_t deny_lines; /* in the file: live, expired and repeated entries */
    bus_sub *revoked_sub;
    pending *pending; /* bus requests in flight, cancelled by free */
    auth_shares *shares;
    auth_github_limits *github_limits; /* http_auth_github.c */
};

struct pending {
    pending *next, **prevp;
    http_auth *a;
    uint64_t req;
    hash_hex hash; /* admin token: cached under it when accepted */
    char peer[128];
    bool via_cookie;
    auth_check_cb cb;
    void *arg;
    int (*build)(pending *p, json_t *data, http_identity *id);
};

/* ------------------------------------------------------------ small helpers */

static void hash_of(const char *s, hash_hex out)
{
    bosun_sha256_hex(s, strlen(s), out);
}

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

int auth_retry_after(const http_auth *a)
{
    (void)a;
    return (int)ceil(1.0 / LIMIT_PEER_RATE);
}

/* ------------------------------------------------------------ principals */

static bus_principal *principal_admin(const char *id)
{
    bus_principal *p = bus_principal_new("admin", id);
    for (int i = 0; p && i < 3; i++)
        if (bus_principal_allow(p, (enum bus_perm)i, ">") != 0) {
            bus_principal_free(p);
            return NULL;
        }
    return p;
}

/* Reads, and nothing that holds secrets (cmd.store.tokens) or changes
 * anything; answering inputs of its own tasks is for the handler to
 * narrow, with the daemon's rights. */
static bus_principal *principal_viewer(const char *id)
{
    static const char *const reqs[] = {BOSUN_STORE_EVENTS,
                                       BOSUN_STORE_RUNS,
                                       BOSUN_STORE_TASKS,
                                       BOSUN_STORE_STATUS,
                                       BOSUN_STORE_INPUTS,
                                       BOSUN_STORE_PRS,
                                       BOSUN_STORE_ARTIFACTS,
                                       "cmd.proc.ps",
                                       "cmd.daemon.status",
                                       "cmd.machine.list",
                                       "cmd.machine.show",
                                       BOSUN_APPROVAL_LIST,
                                       BOSUN_STORE_COST,   /* sums over every task */
                                       "cmd.proc.budgets", /* and what they may spend */
                                       "cmd.github.prs",
                                       "cmd.github.prs.diff",
                                       "cmd.github.prs.files",
                                       "cmd.github.status",
                                       NULL};
    bus_principal *p = bus_principal_new("user", id);
    int rc = p ? 0 : -1;
    for (size_t i = 0; rc == 0 && reqs[i]; i++)
        rc = bus_principal_allow(p, BUS_PERM_REQ, reqs[i]);
    if (rc == 0)
        rc = bus_principal_allow(p, BUS_PERM_SUB, "evt.>");
    if (rc == 0)
        rc = bus_principal_allow(p, BUS_PERM_SUB, BOSUN_STORED_PREFIX "evt.>");
    if (rc != 0 && p) {
        bus_principal_free(p);
        p = NULL;
    }
    return p;
}

/* Its own task's and run's events, live and stored, the store's reads
 * the agent routes make (runs, tasks, inputs, artifacts, events), and
 * approval requests for its own run (POST /api/v1/approvals): the bus
 * cannot tell one task's rows from another's, so every handler that takes
 * an agent narrows the request to id.task first (and /ws refuses a
 * task-bound identity's requests it cannot narrow). */
static bus_principal *principal_agent(const char *run, const char *task)
{
    static const char *const reqs[] = {
        BOSUN_STORE_RUNS,      BOSUN_STORE_TASKS,  BOSUN_STORE_INPUTS,
        BOSUN_STORE_ARTIFACTS, BOSUN_STORE_EVENTS, BOSUN_APPROVAL_REQUEST,
        "cmd.llm.files.>",     "cmd.llm.chat.>",   NULL};
    bus_principal *p = bus_principal_new("agent", run);
    char pat[4][200];
    size_t n = 0;
    snprintf(pat[n++], sizeof pat[0], "evt.run.*.%s.>", run);
    snprintf(pat[n++], sizeof pat[0], BOSUN_STORED_PREFIX "evt.run.*.%s.>", run);
    if (*task) {
        snprintf(pat[n++], sizeof pat[0], "evt.task.%s.>", task);
        snprintf(pat[n++], sizeof pat[0], BOSUN_STORED_PREFIX "evt.task.%s.>", task);
    }
    int rc = p ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = bus_principal_allow(p, BUS_PERM_SUB, pat[i]);
    for (size_t i = 0; rc == 0 && reqs[i]; i++)
        rc = bus_principal_allow(p, BUS_PERM_REQ, reqs[i]);
    if (rc != 0 && p) {
        bus_principal_free(p);
        p = NULL;
    }
    return p;
}

static int identity_admin(http_identity *id, enum http_cred cred, const char *tok_id,
                          double expires_at)
{
    memset(id, 0, sizeof *id);
    id->cred = cred;
    id->role = HTTP_ROLE_ADMIN;
    copy_str(id->kind, sizeof id->kind, "admin");
    copy_str(id->id, sizeof id->id, tok_id);
    id->expires_at = expires_at;
    id->who = principal_admin(tok_id);
    return id->who ? 0 : -1;
}

void http_identity_clear(http_identity *id)
{
    if (id->who)
        bus_principal_free(id->who);
    memset(id, 0, sizeof *id);
}

json_t *auth_identity_json(const http_identity *id)
{
    static const char *const creds[] = {"none", "admin_token", "session", "agent_token", "share"};
    static const char *const roles[] = {"none", "viewer", "admin"};
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b}", "kind", id->kind[0] ? id->kind : "anonymous",
                          "id", id->id, "credential", creds[id->cred], "role", roles[id->role],
                          "via_cookie", id->via_cookie);
    json_object_set_new(o, "expires_at",
                        id->expires_at > 0 ? json_real(id->expires_at) : json_null());
    if (id->task[0])
        json_object_set_new(o, "task", json_string(id->task));
    if (id->run[0])
        json_object_set_new(o, "run", json_string(id->run));
    if (id->cred == HTTP_CRED_SHARE)
        json_object_set_new(o, "can_answer", json_boolean(id->can_answer));
    return o;
}

const bosun_jwt_key *auth_key(const http_auth *a)
{
    return &a->key;
}

const char *auth_iss(const http_auth *a)
{
    return a->iss;
}

auth_shares *auth_shares_of(const http_auth *a)
{
    return a->shares;
}

/* ------------------------------------------------------------ deny-list */

/* A jansson object {key: exp}: its hash table (seeded at random by
 * jansson) makes the check on every session request O(1), and it is the
 * file's own shape.  Expired entries go when the list is full or a minute
 * has passed since the last sweep. */
static bool denied(const http_auth *a, const char *key)
{
    return json_object_get(a->deny, key) != NULL;
}

bool auth_denied(const http_auth *a, const char *key)
{
    return denied(a, key);
}

static void deny_prune(http_auth *a, double now)
{
    const char *key;
    json_t *exp;
    void *tmp;
    json_object_foreach_safe(a->deny, tmp, key, exp)
    {
        if (json_number_value(exp) <= now)
            json_object_del(a->deny, key);
    }
    a->deny_pruned_at = now;
}

/* The file is a journal, a {"key","exp"} object a line: a revocation
 * appends one line (a logout costs a line and an fdatasync, not a rewrite
 * of every entry while other clients wait), and the whole file is
 * rewritten from memory only when its lines outnumber the live entries
 * twice over (expired or dropped ones), at most once per that many
 * logouts, and at the start. */
/* Appends the entry's line to out. */
static int deny_line(bosun_json_buf *out, const char *key, json_t *exp)
{
    json_t *o = json_pack("{s:s,s:O}", "key", key, "exp", exp);
    int rc = o && bosun_json_append(out, o, 0) == 0 ? bosun_json_append_raw(out, "\n", 1) : -1;
    json_decref(o);
    return rc;
}

static int deny_compact(http_auth *a)
{
    bosun_json_buf out = {0};
    const char *key;
    json_t *exp;
    int rc = 0;
    json_object_foreach(a->deny, key, exp)
    {
        if (rc == 0)
            rc = deny_line(&out, key, exp);
    }
    if (rc == 0)
        rc = bosun_file_replace(a->state_dir, HTTP_DENY_FILE, out.data ? out.data : "", out.len,
                                0600);
    if (rc != 0)
        log_error("http: cannot write %s/%s: %s", a->state_dir, HTTP_DENY_FILE, strerror(errno));
    else
        a->deny_lines = json_object_size(a->deny);
    free(out.data);
    return rc;
}

static int deny_save(http_auth *a, const char *key)
{
    if (a->deny_lines + 1 > 2 * json_object_size(a->deny) + DENY_SLACK)
        return deny_compact(a);
    bosun_json_buf line = {0};
    int rc = deny_line(&line, key, json_object_get(a->deny, key));
    if (rc == 0)
        rc = bosun_file_append(a->state_dir, HTTP_DENY_FILE, line.data, line.len, 0600);
    if (rc != 0)
        log_error("http: cannot append to %s/%s: %s", a->state_dir, HTTP_DENY_FILE,
                  strerror(errno));
    else
        a->deny_lines++;
    free(line.data);
    return rc;
}

/* limit: DENY_MAX for logouts; revoked admin tokens may use the reserve
 * above it, so that logouts can never crowd them out. */
static enum auth_deny deny_add(http_auth *a, const char *key, double exp, size_t limit)
{
    double now = bosun_now();
    if (exp <= now || denied(a, key))
        return AUTH_DENY_OK;
    if (strlen(key) > DENY_KEY_MAX)
        return AUTH_DENY_UNSAVED;
    if (json_object_size(a->deny) >= limit || now - a->deny_pruned_at > DENY_PRUNE_EVERY)
        deny_prune(a, now);
    if (json_object_size(a->deny) >= limit)
        return AUTH_DENY_FULL;
    if (json_object_set_new(a->deny, key, json_real(exp)) != 0)
        return AUTH_DENY_UNSAVED;
    /* Kept in memory even when the file cannot be written: the session
     * stays refused until a restart, and the caller is told. */
    return deny_save(a, key) == 0 ? AUTH_DENY_OK : AUTH_DENY_UNSAVED;
}

/* One entry of the file; false when it is not {"key": short string,
 * "exp": number}. */
static bool deny_take(http_auth *a, const json_t *e, double now)
{
    const char *key = json_string_value(json_object_get(e, "key"));
    json_t *exp = json_object_get(e, "exp");
    if (!key || strlen(key) > DENY_KEY_MAX || !json_is_number(exp))
        return false;
    if (json_number_value(exp) > now)
        json_object_set_new(a->deny, key, json_real(json_number_value(exp)));
    return true;
}

/* The journal's lines; *lines counts them. */
static size_t deny_load_lines(http_auth *a, char *text, double now, size_t *lines)
{
    size_t skipped = 0;
    for (char *line = text, *end; *line; line = end) {
        end = strchr(line, '\n');
        end = end ? end + 1 : line + strlen(line);
        if (end - line <= 1 && *line == '\n')
            continue;
        json_t *e = json_loadb(line, (size_t)(end - line), 0, NULL);
        if (!deny_take(a, e, now))
            skipped++;
        json_decref(e);
        (*lines)++;
    }
    return skipped;
}

/* Every unexpired entry is taken, the reserve included: a revocation the
 * daemon once recorded is never forgotten at a restart.  A file that
 * cannot be read is said so loudly (its sessions would work again).  The
 * file of the first release, one {"version":1,"revoked":[...]} document,
 * is read too; either way the file is rewritten as a journal of the live
 * entries when anything in it is expired, malformed or of the old shape. */
static void deny_load(http_auth *a)
{
    size_t len = 0;
    char *text = bosun_file_read(a->state_dir, HTTP_DENY_FILE, DENY_FILE_MAX, &len);
    if (!text) {
        if (errno != ENOENT)
            log_error("http: cannot read %s/%s: %s: its revoked sessions are not known",
                      a->state_dir, HTTP_DENY_FILE, strerror(errno));
        return;
    }
    double now = bosun_now();
    size_t lines = 0, skipped = 0, i;
    json_t *doc = json_loadb(text, len, 0, NULL), *e;
    json_t *legacy = json_object_get(doc, "revoked");
    if (json_is_array(legacy)) {
        json_array_foreach(legacy, i, e) skipped += !deny_take(a, e, now);
        lines = SIZE_MAX / 2; /* rewritten below, and at each save until that works */
    } else {
        skipped = deny_load_lines(a, text, now, &lines);
    }
    json_decref(doc);
    free(text);
    if (skipped)
        log_error("http: %s/%s: %zu malformed entries skipped", a->state_dir, HTTP_DENY_FILE,
                  skipped);
    a->deny_pruned_at = now;
    a->deny_lines = lines;
    if (lines != json_object_size(a->deny))
        deny_compact(a);
}

enum auth_deny auth_session_revoke(http_auth *a, const char *jti, double exp)
{
    enum auth_deny rc = deny_add(a, jti, exp, DENY_MAX);
    if (rc != AUTH_DENY_FULL && bus_subject_check(jti) == 0) {
        /* Open /ws connections of the session close (http_ws.c). */
        char subject[BUS_SUBJECT_MAX + 1];
        snprintf(subject, sizeof subject, "%s.%s.revoked", HTTP_SESSION_EVENTS, jti);
        bus_publish_new(a->bus, subject, NULL,
                        json_pack("{s:s,s:f}", "jti", jti, "expires_at", exp));
    }
    return rc;
}

size_t auth_deny_max(void)
{
    return DENY_MAX;
}

/* ------------------------------------------------------------ admin token cache */

static cache_entry *cache_find(http_auth *a, const hash_hex hash)
{
    cache_entry *hit = NULL;
    for (size_t i = 0; i < a->n_cache; i++)
        if (bosun_crypto_equal(a->cache[i].hash, hash, sizeof(hash_hex) - 1))
            hit = &a->cache[i];
    return hit;
}

static void cache_drop(http_auth *a, size_t i)
{
    a->cache[i] = a->cache[--a->n_cache];
}

static void cache_put(http_auth *a, const hash_hex hash, const char *id, double expires_at)
{
    if (cache_find(a, hash))
        return;
    size_t i = a->n_cache;
    if (i == CACHE_MAX) { /* the oldest check goes */
        i = 0;
        for (size_t j = 1; j < a->n_cache; j++)
            if (a->cache[j].checked_at < a->cache[i].checked_at)
                i = j;
    } else {
        a->n_cache++;
    }
    memcpy(a->cache[i].hash, hash, sizeof(hash_hex));
    copy_str(a->cache[i].id, sizeof a->cache[i].id, id);
    a->cache[i].expires_at = expires_at;
    a->cache[i].checked_at = bosun_monotonic();
}

/* evt.auth.token.<id>.revoked: the token and every session made from it
 * stop working at once (sessions by a deny-list entry that outlives them). */
static void on_token_revoked(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)bus;
    http_auth *a = arg;
    const char *id = json_string_value(json_object_get(m->data, "id"));
    if (!id)
        return;
    for (size_t i = a->n_cache; i-- > 0;)
        if (strcmp(a->cache[i].id, id) == 0)
            cache_drop(a, i);
    char key[80];
    snprintf(key, sizeof key, "tok:%.60s", id);
    if (deny_add(a, key, bosun_now() + a->session_ttl, DENY_MAX + DENY_RESERVE) != AUTH_DENY_OK)
        log_error("http: cannot deny sessions of the revoked admin token %.60s (the deny-list "
                  "is full or cannot be written): they stay valid until they expire",
                  id);
}

auth_github_limits *auth_github_limits_of(const http_auth *a)
{
    return a->github_limits;
}

/* ------------------------------------------------------------ the checks */

bool auth_limit_allows(http_auth *a, const char *peer)
{
    return bosun_authlimit_allow(a->limit, peer && *peer ? peer : "?", bosun_monotonic());
}

void auth_limit_failed(http_auth *a, const char *peer, const char *why)
{
    peer = peer && *peer ? peer : "?";
    bosun_authlimit_failed(a->limit, peer, bosun_monotonic());
    log_notice("http: authentication failed from %s: %s", peer, why);
}

static void finish(http_auth *a, const char *peer, auth_check_cb cb, void *arg, int status,
                   http_identity *id, const char *why)
{
    if (status == 0) {
        bosun_authlimit_succeeded(a->limit, peer);
    } else if (status == 401) {
        auth_limit_failed(a, peer, why);
    }
    http_identity none = {0};
    cb(arg, status, id ? id : &none, why);
    if (id)
        http_identity_clear(id);
}

static void pending_unlink(pending *p)
{
    *p->prevp = p->next;
    if (p->next)
        p->next->prevp = p->prevp;
}

static pending *pending_new(http_auth *a, const char *peer, bool via_cookie, auth_check_cb cb,
                            void *arg)
{
    pending *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->a = a;
    copy_str(p->peer, sizeof p->peer, peer);
    p->via_cookie = via_cookie;
    p->cb = cb;
    p->arg = arg;
    p->next = a->pending;
    p->prevp = &a->pending;
    if (a->pending)
        a->pending->prevp = &p->next;
    a->pending = p;
    return p;
}

static const char *reply_error(enum bus_reply_status st, const bus_msg *m)
{
    if (st != BUS_REPLY_OK)
        return "the check did not answer";
    const char *msg =
        json_string_value(json_object_get(json_object_get(m->data, "error"), "message"));
    return msg ? msg : NULL;
}

/* The identity a positive check reply makes: 0, or -1 when the reply lacks
 * what it must say. */
typedef int (*identity_from_reply)(pending *p, json_t *data, http_identity *id);

static int admin_from_reply(pending *p, json_t *data, http_identity *id)
{
    const char *tid = json_string_value(json_object_get(data, "id"));
    if (!tid)
        return -1;
    double exp = json_number_value(json_object_get(data, "expires_at"));
    cache_put(p->a, p->hash, tid, exp);
    return identity_admin(id, HTTP_CRED_ADMIN_TOKEN, tid, exp);
}

static int agent_from_reply(pending *p, json_t *data, http_identity *id)
{
    (void)p;
    const char *run = json_string_value(json_object_get(data, "run"));
    if (!run)
        return -1;
    *id = (http_identity){.cred = HTTP_CRED_AGENT, .role = HTTP_ROLE_NONE};
    copy_str(id->kind, sizeof id->kind, "agent");
    copy_str(id->id, sizeof id->id, run);
    copy_str(id->run, sizeof id->run, run);
    copy_str(id->task, sizeof id->task, json_string_value(json_object_get(data, "task")));
    id->expires_at = json_number_value(json_object_get(data, "expires_at"));
    id->who = principal_agent(id->run, id->task);
    return id->who ? 0 : -1;
}

static void on_checked(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    pending *p = arg;
    pending_unlink(p);
    if (st == BUS_REPLY_CANCELLED) {
        free(p);
        return;
    }
    const char *err = reply_error(st, m);
    http_identity id = {0};
    if (err) /* a check that could not be made is not a guess: 503, uncounted */
        finish(p->a, p->peer, p->cb, p->arg, st == BUS_REPLY_OK ? 401 : 503, NULL, err);
    else if (p->build(p, m->data, &id) != 0)
        finish(p->a, p->peer, p->cb, p->arg, 503, &id, "malformed check reply");
    else
        finish(p->a, p->peer, p->cb, p->arg, 0, &id, NULL);
    free(p);
}

/* Asks subject about token; the reply makes the identity with build. */
static void check_on_bus(http_auth *a, const char *subject, const char *token, const char *peer,
                         const hash_hex hash, identity_from_reply build, auth_check_cb cb,
                         void *arg)
{
    pending *p = pending_new(a, peer, false, cb, arg);
    if (!p)
        return finish(a, peer, cb, arg, 503, NULL, "out of memory");
    if (hash)
        memcpy(p->hash, hash, sizeof(hash_hex));
    p->build = build;
    json_t *q = json_pack("{s:s}", "token", token);
    p->req = bus_request(a->bus, subject, q, a->request_timeout, on_checked, p);
    json_decref(q);
    if (!p->req) {
        pending_unlink(p);
        free(p);
        finish(a, peer, cb, arg, 503, NULL, "cannot ask for the token check");
    }
}

static void check_admin_token(http_auth *a, const char *token, const char *peer, auth_check_cb cb,
                              void *arg)
{
    hash_hex hash;
    hash_of(token, hash);
    http_identity id;
    cache_entry *e = cache_find(a, hash);
    double now = bosun_now();
    if (e && ((e->expires_at > 0 && e->expires_at <= now) ||
              bosun_monotonic() - e->checked_at > CACHE_AGE_MAX)) {
        cache_drop(a, (size_t)(e - a->cache));
        e = NULL;
    }
    if (e) {
        if (identity_admin(&id, HTTP_CRED_ADMIN_TOKEN, e->id, e->expires_at) != 0)
            return finish(a, peer, cb, arg, 503, NULL, "out of memory");
        return finish(a, peer, cb, arg, 0, &id, NULL);
    }
    check_on_bus(a, BOSUN_AUTH_TOKEN_CHECK, token, peer, hash, admin_from_reply, cb, arg);
}

static void check_agent_token(http_auth *a, const char *token, const char *peer, auth_check_cb cb,
                              void *arg)
{
    check_on_bus(a, BOSUN_AUTH_TOKEN, token, peer, NULL, agent_from_reply, cb, arg);
}

static void check_session(http_auth *a, const char *token, const char *peer, bool via_cookie,
                          auth_check_cb cb, void *arg)
{
    bosun_jwt_claims c;
    char why[160];
    http_identity share;
    int is_share = auth_share_check(a, token, &share, why, sizeof why);
    if (is_share > 0)
        share.via_cookie = via_cookie;
    if (is_share != 0)
        return finish(a, peer, cb, arg, is_share > 0 ? 0 : 401, is_share > 0 ? &share : NULL, why);
    if (bosun_jwt_verify(&a->key, token, a->iss, HTTP_JWT_AUDIENCE, bosun_now(), &c, why,
                         sizeof why) != 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "session token refused: %s", why);
        return finish(a, peer, cb, arg, 401, NULL, msg);
    }
    const char *role = json_string_value(json_object_get(c.extra, "role"));
    const char *sub_id = strchr(c.sub, ':') ? strchr(c.sub, ':') + 1 : "";
    char tok_key[80];
    snprintf(tok_key, sizeof tok_key, "tok:%.60s", sub_id);
    http_identity id = {0};
    int status = 0;
    const char *reason = NULL;
    if (denied(a, c.jti) || denied(a, tok_key)) {
        status = 401, reason = "session revoked";
    } else if (role && strcmp(role, "admin") == 0 && has_prefix(c.sub, "admin:")) {
        if (identity_admin(&id, HTTP_CRED_SESSION, sub_id, c.exp) != 0)
            status = 503, reason = "out of memory";
    } else if (role && strcmp(role, "admin") == 0 && has_prefix(c.sub, "user:")) {
        /* A person with the admin role: an admin's rights, named as a user. */
        if (identity_admin(&id, HTTP_CRED_SESSION, sub_id, c.exp) != 0)
            status = 503, reason = "out of memory";
        else
            copy_str(id.kind, sizeof id.kind, "user");
    } else if (role && strcmp(role, "viewer") == 0 && has_prefix(c.sub, "user:")) {
        id = (http_identity){.cred = HTTP_CRED_SESSION, .role = HTTP_ROLE_VIEWER};
        copy_str(id.kind, sizeof id.kind, "user");
        copy_str(id.id, sizeof id.id, sub_id);
        id.expires_at = c.exp;
        id.who = principal_viewer(sub_id);
        if (!id.who)
            status = 503, reason = "out of memory";
    } else {
        status = 401, reason = "session token without a known role";
    }
    if (status == 0) {
        copy_str(id.jti, sizeof id.jti, c.jti);
        id.via_cookie = via_cookie;
    }
    bosun_jwt_claims_clear(&c);
    finish(a, peer, cb, arg, status, status == 0 ? &id : NULL, reason);
}

void auth_check(http_auth *a, const char *token, const char *peer, bool via_cookie,
                auth_check_cb cb, void *arg)
{
    peer = peer && *peer ? peer : "?";
    if (!bosun_authlimit_allow(a->limit, peer, bosun_monotonic())) {
        bosun_complain(&a->refused_log, LOG_LEVEL_NOTICE,
                       "http: too many failed authentications (last from %s): refusing unchecked",
                       peer);
        http_identity none = {0};
        cb(arg, 429, &none, "too many failed authentications");
        return;
    }
    size_t n = token ? strnlen(token, TOKEN_MAX + 1) : 0;
    if (n == 0 || n > TOKEN_MAX)
        return finish(a, peer, cb, arg, 401, NULL, "missing or oversized credential");
    if (a->has_bootstrap) { /* whatever its form: it is the admin's choice */
        hash_hex hash;
        hash_of(token, hash);
        if (bosun_crypto_equal(hash, a->bootstrap_hash, sizeof hash - 1)) {
            http_identity id;
            if (identity_admin(&id, HTTP_CRED_ADMIN_TOKEN, "bootstrap", 0) != 0)
                return finish(a, peer, cb, arg, 503, NULL, "out of memory");
            return finish(a, peer, cb, arg, 0, &id, NULL);
        }
    }
    if (has_prefix(token, BOSUN_ADMIN_TOKEN_PREFIX))
        return check_admin_token(a, token, peer, cb, arg);
    if (has_prefix(token, "bat_"))
        return check_agent_token(a, token, peer, cb, arg);
    if (strchr(token, '.'))
        return check_session(a, token, peer, via_cookie, cb, arg);
    finish(a, peer, cb, arg, 401, NULL, "unknown kind of credential");
}

/* ------------------------------------------------------------ sessions */

char *auth_session_new(http_auth *a, const http_identity *id, double *expires_at)
{
    double now = bosun_now(), ttl = a->session_ttl;
    if (id->expires_at > 0 && id->expires_at - now < ttl)
        ttl = id->expires_at - now;
    if (ttl < 1)
        return NULL;
    char sub[160];
    /* A person (a GitHub login) stays a "user:" whatever its role; an
     * admin token's session is an "admin:". */
    bool person = strcmp(id->kind, "user") == 0;
    snprintf(sub, sizeof sub, "%s:%s", id->role == HTTP_ROLE_ADMIN && !person ? "admin" : "user",
             id->id);
    json_t *extra = json_pack("{s:s}", "role", id->role == HTTP_ROLE_ADMIN ? "admin" : "viewer");
    char *t = bosun_jwt_sign(&a->key, a->iss, HTTP_JWT_AUDIENCE, sub, now, ttl, extra, NULL);
    json_decref(extra);
    *expires_at = floor(now) + floor(ttl);
    return t;
}

/* ------------------------------------------------------------ the gate */

typedef struct gate {
    http_request *r;
    unsigned allow;
    void (*done)(http_request *r, int status);
} gate;

static bool role_allowed(const http_identity *id, unsigned allow)
{
    switch (id->cred) {
    case HTTP_CRED_NONE:
        return allow & HTTP_ALLOW_ANON;
    case HTTP_CRED_AGENT:
        return allow & HTTP_ALLOW_AGENT;
    case HTTP_CRED_SHARE:
        return allow & HTTP_ALLOW_SHARE;
    default:
        if (id->role == HTTP_ROLE_ADMIN)
            return allow & (HTTP_ALLOW_ADMIN | HTTP_ALLOW_VIEWER | HTTP_ALLOW_ANON);
        return id->role == HTTP_ROLE_VIEWER && (allow & (HTTP_ALLOW_VIEWER | HTTP_ALLOW_ANON));
    }
}

/* Our own origin, from the Host the client asked for. */
static bool origin_ours(const http_request *r, const char *origin)
{
    const char *host = http_header(r, "host");
    if (!host || strlen(host) > ORIGIN_MAX)
        return false;
    char own[ORIGIN_MAX + 16];
    snprintf(own, sizeof own, "%s://%s", r->tls ? "https" : "http", host);
    return strcasecmp(own, origin) == 0;
}

static bool origin_allowed(const http_auth *a, const http_request *r)
{
    const char *origin = http_header(r, "origin");
    if (!origin || strlen(origin) > ORIGIN_MAX || strcmp(origin, "null") == 0)
        return false;
    if (origin_ours(r, origin))
        return true;
    for (size_t i = 0; i < a->n_origins; i++)
        if (strcasecmp(a->origins[i], origin) == 0)
            return true;
    return false;
}

static bool state_changing(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

static void deny(http_request *r, int status, const char *code, const char *why)
{
    if (status == 401)
        http_add_header(r, "WWW-Authenticate", "Bearer realm=\"bosun\"");
    if (status == 429) {
        char s[16];
        snprintf(s, sizeof s, "%d", auth_retry_after(http_server_auth(r->srv)));
        http_add_header(r, "Retry-After", s);
    }
    http_respond_error(r, status, code, "%s", why);
}

static void gate_checked(void *arg, int status, http_identity *id, const char *why)
{
    gate *g = arg;
    http_request *r = g->r;
    void (*done)(http_request *, int) = g->done;
    unsigned allow = g->allow;
    free(g);
    http_auth *a = http_server_auth(r->srv);
    if (status == 429)
        return deny(r, 429, "rate_limited", why), done(r, 429);
    if (status == 503)
        return http_respond_error(r, 503, "unavailable", "%s", why), done(r, 503);
    if (status != 0)
        return deny(r, 401, "unauthorized", "credential refused"), done(r, 401);
    r->id = *id;
    id->who = NULL; /* moved into the request */
    if (r->id.via_cookie && state_changing(r->method) && !origin_allowed(a, r))
        return http_respond_error(r, 403, "forbidden",
                                  "a request with the session cookie must come from an allowed "
                                  "Origin"),
               done(r, 403);
    if (!role_allowed(&r->id, allow))
        return http_respond_error(r, 403, "forbidden", "%s may not use this route", r->id.kind),
               done(r, 403);
    done(r, 0);
}

bool auth_cookie(const http_request *r, const char *name, char *out, size_t size)
{
    const char *h = http_header(r, "cookie");
    size_t name_len = strlen(name);
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        const char *end = strchr(h, ';');
        size_t len = end ? (size_t)(end - h) : strlen(h);
        if (len > name_len && strncmp(h, name, name_len) == 0 && h[name_len] == '=') {
            size_t vlen = len - name_len - 1;
            if (vlen == 0 || vlen >= size)
                return false;
            memcpy(out, h + name_len + 1, vlen);
            out[vlen] = '\0';
            return true;
        }
        h = end;
    }
    return false;
}

const char *http_auth_bearer(const http_request *r)
{
    const char *h = http_header(r, "authorization");
    if (!h)
        return NULL;
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return "";
    h += 7;
    while (*h == ' ')
        h++;
    return h;
}

void http_auth_request(http_request *r, unsigned allow, void (*done)(http_request *r, int status))
{
    memset(&r->id, 0, sizeof r->id);
    http_auth *a = http_server_auth(r->srv);
    const char *tok = http_auth_bearer(r);
    char cookie[TOKEN_MAX + 1]; /* the checks copy what they keep */
    bool via_cookie = false;
    if (!tok && auth_cookie(r, HTTP_SESSION_COOKIE, cookie, sizeof cookie)) {
        tok = cookie;
        via_cookie = true;
    }
    if (!tok) {
        if (allow & HTTP_ALLOW_ANON)
            return done(r, 0);
        return deny(r, 401, "unauthorized", "no credential: send Authorization: Bearer TOKEN"),
               done(r, 401);
    }
    gate *g = malloc(sizeof *g);
    if (!g)
        return http_respond_error(r, 503, "unavailable", "out of memory"), done(r, 503);
    *g = (gate){.r = r, .allow = allow, .done = done};
    auth_check(a, tok, r->peer, via_cookie, gate_checked, g);
}

typedef struct token_wait {
    http_auth_token_cb done;
    void *arg;
} token_wait;

static void token_checked(void *arg, int status, http_identity *id, const char *why)
{
    (void)why;
    token_wait w = *(token_wait *)arg;
    free(arg);
    w.done(w.arg, status == 503 ? 401 : status, id);
}

void http_auth_token(http_auth *a, const char *token, const char *peer, http_auth_token_cb done,
                     void *arg)
{
    token_wait *w = malloc(sizeof *w);
    if (!w) {
        http_identity none = {0};
        return done(arg, 401, &none);
    }
    *w = (token_wait){done, arg};
    auth_check(a, token, peer, false, token_checked, w);
}

/* ------------------------------------------------------------ config */

/* The bootstrap token: read once per (re)load, kept as a hash. */
static int bootstrap_load(const char *path, bool *has, hash_hex out, cfg_diag *diag)
{
    *has = false;
    if (!path)
        return 0;
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (slash == path)
        snprintf(dir, sizeof dir, "/");
    const char *name = slash ? slash + 1 : path;
    struct stat st;
    if (lstat(path, &st) != 0)
        return cfg_error(diag, NULL, "http.bootstrap_token_file %s: %s", path, strerror(errno)), -1;
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077) || st.st_uid != geteuid())
        return cfg_error(diag, NULL,
                         "http.bootstrap_token_file %s: must be a regular file of the daemon's "
                         "user with mode 0600 (it is %04o)",
                         path, (unsigned)(st.st_mode & 07777)),
               -1;
    size_t len = 0;
    char *text = bosun_file_read(dir, name, BOOTSTRAP_MAX + 2, &len);
    if (!text)
        return cfg_error(diag, NULL, "http.bootstrap_token_file %s: %s", path, strerror(errno)), -1;
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        text[--len] = '\0';
    bool ok = len >= BOOTSTRAP_MIN && len <= BOOTSTRAP_MAX && strlen(text) == len;
    for (size_t i = 0; ok && i < len; i++)
        ok = text[i] > ' ' && text[i] < 0x7f;
    if (ok) {
        hash_of(text, out);
        *has = true;
        bosun_secret_add(text, 8); /* masked should it be pasted anywhere */
    }
    memset(text, 0, len);
    free(text);
    if (!ok)
        return cfg_error(diag, NULL,
                         "http.bootstrap_token_file %s: must hold one token of %d to %d "
                         "printable characters",
                         path, BOOTSTRAP_MIN, BOOTSTRAP_MAX),
               -1;
    return 0;
}

static void origins_free(http_auth *a)
{
    for (size_t i = 0; i < a->n_origins; i++)
        free(a->origins[i]);
    free(a->origins);
    a->origins = NULL;
    a->n_origins = 0;
}

static int apply_config(http_auth *a, const http_config *cfg, cfg_diag *diag)
{
    bool has = false;
    hash_hex hash;
    if (bootstrap_load(cfg->bootstrap_token_file, &has, hash, diag) != 0)
        return -1; /* the old settings stay */
    a->has_bootstrap = has;
    if (has)
        memcpy(a->bootstrap_hash, hash, sizeof hash);
    origins_free(a);
    a->origins = calloc(cfg->n_allowed_origins + 1, sizeof *a->origins);
    for (size_t i = 0; a->origins && i < cfg->n_allowed_origins; i++)
        if ((a->origins[a->n_origins] = strdup(cfg->allowed_origins[i])))
            a->n_origins++;
    a->session_ttl = cfg->session_ttl > 0 ? cfg->session_ttl : 7 * 86400.0;
    a->request_timeout = cfg->limits.request_timeout > 0 ? cfg->limits.request_timeout : 10;
    return 0;
}

http_auth *http_auth_new(http_server *srv, const http_config *cfg, cfg_diag *diag)
{
    const bosun_ctx *ctx = http_server_ctx(srv);
    http_auth *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->srv = srv;
    a->bus = http_server_bus(srv);
    a->state_dir = ctx->state_dir;
    snprintf(a->iss, sizeof a->iss, "bosun:%s", ctx->machine_id);
    char err[512];
    if (bosun_jwt_key_load(ctx->state_dir, HTTP_JWT_KEY_FILE, &a->key, err, sizeof err) != 0) {
        cfg_error(diag, NULL, "http: the session key: %s", err);
        free(a);
        return NULL;
    }
    a->deny = json_object();
    a->shares = auth_shares_new(a->state_dir);
    a->github_limits = auth_github_limits_new();
    a->limit = bosun_authlimit_new(LIMIT_PEER_BURST, LIMIT_PEER_RATE, LIMIT_GLOBAL_BURST,
                                   LIMIT_GLOBAL_RATE, LIMIT_KEYS);
    a->revoked_sub =
        bus_subscribe(a->bus, BOSUN_AUTH_TOKEN_EVENTS ".*.revoked", on_token_revoked, a);
    if (!a->deny || !a->shares || !a->github_limits || !a->limit || !a->revoked_sub ||
        apply_config(a, cfg, diag) != 0) {
        http_auth_free(a);
        return NULL;
    }
    deny_load(a);
    return a;
}

int http_auth_reload(http_auth *a, const http_config *cfg, cfg_diag *diag)
{
    return apply_config(a, cfg, diag);
}

void http_auth_free(http_auth *a)
{
    if (!a)
        return;
    /* Each waiter still gets its one answer (503): the gate's request, a
     * /ws connection's reference, a login are freed by theirs. */
    while (a->pending) {
        pending *p = a->pending;
        pending_unlink(p);
        bus_request_cancel(a->bus, p->req);
        finish(a, p->peer, p->cb, p->arg, 503, NULL, "bosund is stopping");
        free(p);
    }
    if (a->revoked_sub)
        bus_unsubscribe(a->bus, a->revoked_sub);
    bosun_authlimit_free(a->limit);
    origins_free(a);
    json_decref(a->deny);
    auth_shares_free(a->shares);
    auth_github_limits_free(a->github_limits);
    memset(&a->key, 0, sizeof a->key);
    free(a);
}
