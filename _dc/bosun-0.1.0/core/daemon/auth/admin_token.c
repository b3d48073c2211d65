/* Admin tokens, served on the bus (see <bosun/auth.h>).
 *
 * The set is small (BOSUN_ADMIN_TOKENS_MAX) and lives in memory; every
 * change rewrites the whole file atomically before it is answered, so a
 * token is never issued that a restart would forget, nor one revoked that
 * a restart would bring back.  last_used_at is kept in memory and written
 * with the next change: it is a hint, not an audit trail (the http plugin
 * logs each use). */
#include "config.h"

#include "admin_token.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/auth.h>
#include <bosun/codec.h>
#include <bosun/crypto.h>
#include <bosun/log.h>
#include <bosun/secret.h>

#define FILE_MAX (4u << 20)

typedef struct entry {
    char id[BOSUN_ADMIN_TOKEN_ID_LEN + 1];
    char *name;
    char hash[2 * BOSUN_SHA256_SIZE + 1];
    double created_at, expires_at, last_used_at; /* 0: none */
} entry;

struct admin_tokens {
    bus_t *bus;
    char *state_dir;
    entry *v;
    size_t n, cap;
    bus_sub *subs[4];
};

static void answer(bus_t *bus, const bus_msg *m, json_t *data)
{
    if (m->reply)
        bus_publish_new(bus, m->reply, NULL, data);
    else
        json_decref(data);
}

static json_t *time_or_null(double t)
{
    return t > 0 ? json_real(t) : json_null();
}

/* What may be shown: never the hash. */
static json_t *entry_public(const entry *e, bool with_use)
{
    json_t *o = json_pack("{s:s,s:s,s:f,s:o}", "id", e->id, "name", e->name, "created_at",
                          e->created_at, "expires_at", time_or_null(e->expires_at));
    if (with_use && e->last_used_at > 0)
        json_object_set_new(o, "last_used_at", json_real(e->last_used_at));
    return o;
}

static void entry_remove(admin_tokens *t, size_t i)
{
    free(t->v[i].name);
    memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof *t->v);
    t->n--;
}

/* Expired tokens are forgotten (they cannot be used again anyway).
 * Whether any was. */
static bool prune(admin_tokens *t, double now)
{
    bool changed = false;
    for (size_t i = t->n; i-- > 0;)
        if (t->v[i].expires_at > 0 && t->v[i].expires_at <= now) {
            entry_remove(t, i);
            changed = true;
        }
    return changed;
}

/* ------------------------------------------------------------ file */

/* Writes every entry but the one at skip (SIZE_MAX: none). */
static int save_without(admin_tokens *t, size_t skip)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < t->n; i++) {
        if (i == skip)
            continue;
        json_t *o = entry_public(&t->v[i], true);
        json_object_set_new(o, "hash", json_string(t->v[i].hash));
        json_array_append_new(arr, o);
    }
    json_t *doc = json_pack("{s:i,s:o}", "version", 1, "tokens", arr);
    char *text = json_dumps(doc, JSON_INDENT(1));
    json_decref(doc);
    int rc =
        text ? bosun_file_replace(t->state_dir, ADMIN_TOKENS_FILE, text, strlen(text), 0600) : -1;
    if (rc != 0)
        log_error("cannot write %s/%s: %s", t->state_dir, ADMIN_TOKENS_FILE, strerror(errno));
    free(text);
    return rc;
}

static int save(admin_tokens *t)
{
    return save_without(t, SIZE_MAX);
}

static bool entry_from_json(json_t *o, entry *e)
{
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *name = json_string_value(json_object_get(o, "name"));
    const char *hash = json_string_value(json_object_get(o, "hash"));
    if (!id || strlen(id) != BOSUN_ADMIN_TOKEN_ID_LEN || !name || !hash ||
        strlen(hash) != 2 * BOSUN_SHA256_SIZE)
        return false;
    memcpy(e->id, id, sizeof e->id);
    memcpy(e->hash, hash, sizeof e->hash);
    e->name = xstrdup(name);
    e->created_at = json_number_value(json_object_get(o, "created_at"));
    e->expires_at = json_number_value(json_object_get(o, "expires_at"));
    e->last_used_at = json_number_value(json_object_get(o, "last_used_at"));
    return true;
}

static int load(admin_tokens *t)
{
    size_t len = 0;
    char *text = bosun_file_read(t->state_dir, ADMIN_TOKENS_FILE, FILE_MAX, &len);
    if (!text && errno == ENOENT)
        return 0;
    if (!text) {
        log_error("cannot read %s/%s: %s", t->state_dir, ADMIN_TOKENS_FILE, strerror(errno));
        return -1;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, 0, &jerr);
    free(text);
    json_t *arr = json_object_get(doc, "tokens");
    if (!json_is_array(arr)) {
        log_error("%s/%s: not an admin token file (%s)", t->state_dir, ADMIN_TOKENS_FILE,
                  doc ? "no \"tokens\" array" : jerr.text);
        json_decref(doc);
        return -1;
    }
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        if (t->n == BOSUN_ADMIN_TOKENS_MAX)
            break;
        if (t->n == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 16;
            t->v = xrealloc(t->v, t->cap * sizeof *t->v);
        }
        if (entry_from_json(o, &t->v[t->n]))
            t->n++;
        else
            log_warning("%s/%s: entry %zu ignored (malformed)", t->state_dir, ADMIN_TOKENS_FILE, i);
    }
    json_decref(doc);
    return 0;
}

/* ------------------------------------------------------------ requests */

static bool name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > BOSUN_ADMIN_TOKEN_NAME_MAX || !bosun_utf8_text(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static void new_id(admin_tokens *t, char out[BOSUN_ADMIN_TOKEN_ID_LEN + 1])
{
    unsigned char raw[8];
    for (;;) {
        if (bosun_random_bytes(raw, sizeof raw) != 0)
            util_oom(0); /* no randomness: nothing safe can be issued */
        snprintf(out, BOSUN_ADMIN_TOKEN_ID_LEN + 1, "tok_%02x%02x%02x%02x%02x%02x%02x%02x", raw[0],
                 raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7]);
        bool taken = false;
        for (size_t i = 0; i < t->n && !taken; i++)
            taken = strcmp(t->v[i].id, out) == 0;
        if (!taken)
            return;
    }
}

static void publish_event(admin_tokens *t, const entry *e, const char *what)
{
    char subject[96];
    snprintf(subject, sizeof subject, "%s.%s.%s", BOSUN_AUTH_TOKEN_EVENTS, e->id, what);
    json_t *data = strcmp(what, "created") == 0
                       ? entry_public(e, false)
                       : json_pack("{s:s,s:s}", "id", e->id, "name", e->name);
    bus_publish_new(t->bus, subject, NULL, data);
}

static bool ttl_arg(json_t *v, double *ttl)
{
    *ttl = 0;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_number(v))
        return false;
    *ttl = json_number_value(v);
    return *ttl >= 1 && *ttl <= BOSUN_ADMIN_TOKEN_TTL_MAX;
}

static void on_create(bus_t *bus, const bus_msg *m, void *arg)
{
    admin_tokens *t = arg;
    const char *name = json_string_value(json_object_get(m->data, "name"));
    double ttl, now = bosun_now();
    if (!name_ok(name))
        return answer(bus, m,
                      bus_error_json("bad_request", "'name' must be 1 to %d characters of text",
                                     BOSUN_ADMIN_TOKEN_NAME_MAX));
    if (!ttl_arg(json_object_get(m->data, "ttl"), &ttl))
        return answer(bus, m,
                      bus_error_json("bad_request", "'ttl' must be seconds, 1 to ten years"));
    prune(t, now);
    if (t->n >= BOSUN_ADMIN_TOKENS_MAX)
        return answer(bus, m,
                      bus_error_json("too_large", "%d admin tokens exist: revoke some first",
                                     BOSUN_ADMIN_TOKENS_MAX));
    char secret[BOSUN_ADMIN_TOKEN_LEN + 1];
    if (bosun_token_new(BOSUN_ADMIN_TOKEN_PREFIX, secret, sizeof secret) != 0)
        return answer(bus, m, bus_error_json("internal", "no random bytes: %s", strerror(errno)));
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->v = xrealloc(t->v, t->cap * sizeof *t->v);
    }
    entry *e = &t->v[t->n];
    memset(e, 0, sizeof *e);
    new_id(t, e->id);
    e->name = xstrdup(name);
    bosun_sha256_hex(secret, strlen(secret), e->hash);
    e->created_at = now;
    e->expires_at = ttl > 0 ? now + ttl : 0;
    t->n++;
    if (save(t) != 0) {
        entry_remove(t, t->n - 1);
        memset(secret, 0, sizeof secret);
        return answer(bus, m, bus_error_json("internal", "cannot store the token: nothing issued"));
    }
    /* Masked should it ever be pasted into an event or a log line. */
    bosun_secret_add(secret, strlen(BOSUN_ADMIN_TOKEN_PREFIX));
    log_notice("admin token %s (%s) created", e->id, e->name);
    publish_event(t, e, "created");
    answer(bus, m, json_pack("{s:o,s:s}", "token", entry_public(e, false), "secret", secret));
    memset(secret, 0, sizeof secret);
}

static void on_list(bus_t *bus, const bus_msg *m, void *arg)
{
    admin_tokens *t = arg;
    if (prune(t, bosun_now()))
        save(t);
    json_t *arr = json_array();
    for (size_t i = 0; i < t->n; i++)
        json_array_append_new(arr, entry_public(&t->v[i], true));
    answer(bus, m, json_pack("{s:o}", "tokens", arr));
}

static void on_revoke(bus_t *bus, const bus_msg *m, void *arg)
{
    admin_tokens *t = arg;
    const char *id = json_string_value(json_object_get(m->data, "id"));
    if (!id || strlen(id) > 64)
        return answer(bus, m, bus_error_json("bad_request", "'id' must be a token id"));
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->v[i].id, id) != 0)
            continue;
        /* On disk first: a revocation a restart would undo is not one. */
        if (save_without(t, i) != 0)
            return answer(bus, m, bus_error_json("internal", "cannot write the token file"));
        log_notice("admin token %s (%s) revoked", t->v[i].id, t->v[i].name);
        publish_event(t, &t->v[i], "revoked");
        answer(bus, m, json_pack("{s:s,s:b}", "id", t->v[i].id, "revoked", 1));
        entry_remove(t, i);
        return;
    }
    answer(bus, m, bus_error_json("not_found", "no admin token %s", id));
}

static void on_check(bus_t *bus, const bus_msg *m, void *arg)
{
    admin_tokens *t = arg;
    const char *token = json_string_value(json_object_get(m->data, "token"));
    size_t plen = strlen(BOSUN_ADMIN_TOKEN_PREFIX);
    if (!token || strlen(token) != BOSUN_ADMIN_TOKEN_LEN ||
        strncmp(token, BOSUN_ADMIN_TOKEN_PREFIX, plen) != 0)
        return answer(bus, m, bus_error_json("unauthorized", "missing or malformed admin token"));
    char hash[2 * BOSUN_SHA256_SIZE + 1];
    bosun_sha256_hex(token, strlen(token), hash);
    double now = bosun_now();
    /* Every entry is compared, in constant time, whichever matches. */
    entry *found = NULL;
    for (size_t i = 0; i < t->n; i++)
        if (bosun_crypto_equal(t->v[i].hash, hash, sizeof hash - 1))
            found = &t->v[i];
    if (!found)
        return answer(bus, m, bus_error_json("unauthorized", "unknown admin token"));
    if (found->expires_at > 0 && found->expires_at <= now)
        return answer(bus, m, bus_error_json("unauthorized", "the admin token has expired"));
    found->last_used_at = now;
    answer(bus, m,
           json_pack("{s:s,s:s,s:o}", "id", found->id, "name", found->name, "expires_at",
                     time_or_null(found->expires_at)));
}

/* ------------------------------------------------------------ object */

admin_tokens *admin_tokens_new(bus_t *bus, const char *state_dir)
{
    admin_tokens *t = xcalloc(1, sizeof *t);
    t->bus = bus;
    t->state_dir = xstrdup(state_dir);
    if (load(t) != 0) {
        admin_tokens_free(t);
        return NULL;
    }
    if (prune(t, bosun_now()))
        save(t);
    t->subs[0] = bus_subscribe(bus, BOSUN_AUTH_TOKEN_CREATE, on_create, t);
    t->subs[1] = bus_subscribe(bus, BOSUN_AUTH_TOKEN_LIST, on_list, t);
    t->subs[2] = bus_subscribe(bus, BOSUN_AUTH_TOKEN_REVOKE, on_revoke, t);
    t->subs[3] = bus_subscribe(bus, BOSUN_AUTH_TOKEN_CHECK, on_check, t);
    return t;
}

void admin_tokens_free(admin_tokens *t)
{
    if (!t)
        return;
    if (t->n > 0)
        save(t); /* last_used_at */
    for (size_t i = 0; i < sizeof t->subs / sizeof t->subs[0]; i++)
        if (t->subs[i])
            bus_unsubscribe(t->bus, t->subs[i]);
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].name);
    free(t->v);
    free(t->state_dir);
    free(t);
}
