/* The hub's registry of machines and registration tokens (see
 * fleet_registry.h).  The sets are small and live in memory; each change
 * marks its row dirty, and the rows go to the store together: at once for
 * what must hold across a restart before it is answered (a token issued or
 * used, a machine added or revoked), every few seconds for last_seen and
 * status (fleet_store.c). */
#include "config.h"

#include "fleet_registry.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/bosun.h>
#include <bosun/crypto.h>
#include <bosun/secret.h>
#include <bosun/sys.h>

#define TOKEN_LEN (8 + BOSUN_TOKEN_CHARS)
#define HASH_LEN  (2 * BOSUN_SHA256_SIZE)

typedef struct reg_entry {
    char id[24];
    char *name;
    char hash[HASH_LEN + 1];
    double created_at, expires_at, used_at; /* used_at 0: unused */
    char *used_by;
    bool dirty; /* not written to the store yet */
} reg_entry;

typedef struct machine {
    char *id, *name, *version, *address;
    char hash[HASH_LEN + 1];
    double first_seen, last_seen;
    bool online, revoked;
    bool dirty; /* not written to the store yet */
} machine;

struct fleet_registry {
    reg_entry *regs;
    size_t nregs, capregs;
    machine *ms;
    size_t nms, capms;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *time_or_null(double t)
{
    return t > 0 ? json_real(t) : json_null();
}

static json_t *reg_public(const reg_entry *e)
{
    return json_pack("{s:s,s:o,s:f,s:f,s:o,s:o}", "id", e->id, "name", str_or_null(e->name),
                     "created_at", e->created_at, "expires_at", e->expires_at, "used_at",
                     time_or_null(e->used_at), "used_by", str_or_null(e->used_by));
}

static json_t *machine_public(const machine *m)
{
    return json_pack("{s:s,s:o,s:s,s:f,s:o,s:o,s:o,s:b}", "id", m->id, "name", str_or_null(m->name),
                     "status", m->online ? "online" : "offline", "first_seen", m->first_seen,
                     "last_seen", time_or_null(m->last_seen), "version", str_or_null(m->version),
                     "address", str_or_null(m->address), "revoked", m->revoked);
}

/* A machine id: 1 to FLEET_ID_MAX of [A-Za-z0-9_-], a subject token. */
static bool id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > FLEET_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

/* ------------------------------------------------------------ rows */

static bool hash_ok(const char *h)
{
    return h && strlen(h) == HASH_LEN;
}

static void grow_regs(fleet_registry *r)
{
    if (r->nregs == r->capregs) {
        r->capregs = r->capregs ? 2 * r->capregs : 16;
        r->regs = realloc(r->regs, r->capregs * sizeof *r->regs);
    }
}

static void load_regs(fleet_registry *r, json_t *arr, bool dirty)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *hash = json_string_value(json_object_get(o, "hash"));
        if (!id || strlen(id) >= sizeof r->regs[0].id || !hash_ok(hash) ||
            r->nregs >= FLEET_ENTRIES_MAX) {
            log_warning("fleet: registration %zu ignored (malformed)", i);
            continue;
        }
        grow_regs(r);
        reg_entry *e = &r->regs[r->nregs++];
        memset(e, 0, sizeof *e);
        snprintf(e->id, sizeof e->id, "%s", id);
        memcpy(e->hash, hash, sizeof e->hash);
        e->name = dup_or_null(json_string_value(json_object_get(o, "name")));
        e->used_by = dup_or_null(json_string_value(json_object_get(o, "used_by")));
        e->created_at = json_number_value(json_object_get(o, "created_at"));
        e->expires_at = json_number_value(json_object_get(o, "expires_at"));
        e->used_at = json_number_value(json_object_get(o, "used_at"));
        e->dirty = dirty;
    }
}

static machine *machine_add(fleet_registry *r, const char *id)
{
    if (r->nms == r->capms) {
        r->capms = r->capms ? 2 * r->capms : 16;
        r->ms = realloc(r->ms, r->capms * sizeof *r->ms);
    }
    machine *m = &r->ms[r->nms++];
    memset(m, 0, sizeof *m);
    m->id = strdup(id);
    return m;
}

/* Every machine starts offline: no link is up yet.  One the store still
 * says is online is written again (dirty) to say otherwise. */
static void load_machines(fleet_registry *r, json_t *arr, bool dirty)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *hash = json_string_value(json_object_get(o, "token_hash"));
        const char *status = json_string_value(json_object_get(o, "status"));
        if (!id_ok(id) || !hash_ok(hash) || r->nms >= FLEET_ENTRIES_MAX) {
            log_warning("fleet: machine %zu ignored (malformed)", i);
            continue;
        }
        machine *m = machine_add(r, id);
        memcpy(m->hash, hash, sizeof m->hash);
        m->name = dup_or_null(json_string_value(json_object_get(o, "name")));
        m->version = dup_or_null(json_string_value(json_object_get(o, "version")));
        m->address = dup_or_null(json_string_value(json_object_get(o, "address")));
        m->first_seen = json_number_value(json_object_get(o, "first_seen"));
        m->last_seen = json_number_value(json_object_get(o, "last_seen"));
        m->revoked = json_is_true(json_object_get(o, "revoked"));
        m->dirty = dirty || (status && strcmp(status, "online") == 0);
    }
}

size_t fleet_registry_load(fleet_registry *r, const json_t *doc, bool dirty)
{
    size_t before = r->nregs + r->nms;
    load_regs(r, json_object_get(doc, "registrations"), dirty);
    load_machines(r, json_object_get(doc, "machines"), dirty);
    return r->nregs + r->nms - before;
}

bool fleet_registry_empty(const fleet_registry *r)
{
    return r->nregs == 0 && r->nms == 0;
}

size_t fleet_registry_count(const fleet_registry *r, bool machines)
{
    return machines ? r->nms : r->nregs;
}

static json_t *machine_row(const machine *m)
{
    json_t *o = machine_public(m);
    json_object_set_new(o, "token_hash", json_string(m->hash));
    return o;
}

static json_t *reg_row(const reg_entry *e)
{
    json_t *o = reg_public(e);
    json_object_set_new(o, "hash", json_string(e->hash));
    return o;
}

json_t *fleet_registry_changes(fleet_registry *r)
{
    json_t *ms = json_array(), *regs = json_array();
    for (size_t i = 0; i < r->nms; i++)
        if (r->ms[i].dirty) {
            r->ms[i].dirty = false;
            json_array_append_new(ms, machine_row(&r->ms[i]));
        }
    for (size_t i = 0; i < r->nregs; i++)
        if (r->regs[i].dirty) {
            r->regs[i].dirty = false;
            json_array_append_new(regs, reg_row(&r->regs[i]));
        }
    if (json_array_size(ms) + json_array_size(regs) == 0) {
        json_decref(ms);
        json_decref(regs);
        return NULL;
    }
    return json_pack("{s:o,s:o}", "machines", ms, "registrations", regs);
}

static reg_entry *find_reg_id(fleet_registry *r, const char *id)
{
    for (size_t i = 0; id && i < r->nregs; i++)
        if (strcmp(r->regs[i].id, id) == 0)
            return &r->regs[i];
    return NULL;
}

static machine *find_machine(fleet_registry *r, const char *id);

void fleet_registry_unwritten(fleet_registry *r, const json_t *put)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(put, "machines"), i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        machine *m = id ? find_machine(r, id) : NULL;
        if (m)
            m->dirty = true;
    }
    json_array_foreach(json_object_get(put, "registrations"), i, o)
    {
        reg_entry *e = find_reg_id(r, json_string_value(json_object_get(o, "id")));
        if (e)
            e->dirty = true;
    }
}

/* ------------------------------------------------------------ tokens */

static machine *find_machine(fleet_registry *r, const char *id)
{
    for (size_t i = 0; i < r->nms; i++)
        if (strcmp(r->ms[i].id, id) == 0)
            return &r->ms[i];
    return NULL;
}

/* Used or expired registrations are kept a day for `list`, then dropped. */
static void prune(fleet_registry *r, double now)
{
    size_t j = 0;
    for (size_t i = 0; i < r->nregs; i++) {
        reg_entry *e = &r->regs[i];
        double end = e->used_at > 0 ? e->used_at : e->expires_at;
        if (end + 86400 < now) {
            free(e->name);
            free(e->used_by);
            continue;
        }
        r->regs[j++] = *e;
    }
    r->nregs = j;
}

json_t *fleet_registry_token_create(fleet_registry *r, const char *name, double ttl)
{
    double now = bosun_now();
    prune(r, now);
    if (r->nregs >= FLEET_ENTRIES_MAX)
        return bus_error_json("too_large", "%d registration tokens exist", FLEET_ENTRIES_MAX);
    char secret[TOKEN_LEN + 1];
    unsigned char raw[8];
    if (bosun_token_new(FLEET_REG_PREFIX, secret, sizeof secret) != 0 ||
        bosun_random_bytes(raw, sizeof raw) != 0)
        return bus_error_json("internal", "no random bytes: %s", strerror(errno));
    grow_regs(r);
    reg_entry *e = &r->regs[r->nregs++];
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "reg_%02x%02x%02x%02x%02x%02x%02x%02x", raw[0], raw[1], raw[2],
             raw[3], raw[4], raw[5], raw[6], raw[7]);
    e->name = dup_or_null(name);
    bosun_sha256_hex(secret, strlen(secret), e->hash);
    e->created_at = now;
    e->expires_at = now + (ttl > 0 ? ttl : FLEET_REG_TTL);
    e->dirty = true;
    bosun_secret_add(secret, strlen(FLEET_REG_PREFIX));
    log_notice("fleet: registration token %s%s%s created", e->id, e->name ? " " : "",
               e->name ? e->name : "");
    json_t *out = json_pack("{s:o,s:s}", "registration", reg_public(e), "token", secret);
    memset(secret, 0, sizeof secret);
    return out;
}

void fleet_registry_token_drop(fleet_registry *r, const char *id)
{
    reg_entry *e = find_reg_id(r, id);
    if (!e)
        return;
    free(e->name);
    free(e->used_by);
    *e = r->regs[--r->nregs];
}

json_t *fleet_registry_list(fleet_registry *r)
{
    json_t *items = json_array();
    for (size_t i = 0; i < r->nms; i++)
        json_array_append_new(items, machine_public(&r->ms[i]));
    json_t *regs = json_array();
    for (size_t i = 0; i < r->nregs; i++)
        json_array_append_new(regs, reg_public(&r->regs[i]));
    return json_pack("{s:o,s:n,s:o}", "items", items, "next", "registrations", regs);
}

json_t *fleet_registry_show(fleet_registry *r, const char *id)
{
    machine *m = find_machine(r, id);
    return m ? machine_public(m) : NULL;
}

int fleet_registry_revoke(fleet_registry *r, const char *id)
{
    machine *m = find_machine(r, id);
    if (!m)
        return -1;
    int was = m->revoked;
    m->revoked = true;
    m->dirty = true;
    return was;
}

void fleet_registry_unrevoke(fleet_registry *r, const char *id)
{
    machine *m = find_machine(r, id);
    if (m) {
        m->revoked = false;
        m->dirty = true;
    }
}

/* ------------------------------------------------------------ register */

static json_t *refuse(const char *code, const char *msg)
{
    return json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", code, "message", msg);
}

static bool token_shape(const char *t, const char *prefix)
{
    return t && strlen(t) == TOKEN_LEN && strncmp(t, prefix, strlen(prefix)) == 0;
}

/* Every entry is compared in constant time, whichever matches. */
static reg_entry *find_reg(fleet_registry *r, const char *hash)
{
    reg_entry *found = NULL;
    for (size_t i = 0; i < r->nregs; i++)
        if (bosun_crypto_equal(r->regs[i].hash, hash, HASH_LEN))
            found = &r->regs[i];
    return found;
}

static void set_str(char **dst, const char *s)
{
    if (!s)
        return;
    free(*dst);
    *dst = strdup(s);
}

static json_t *register_ok(machine *m, const char *secret)
{
    json_t *o = json_pack("{s:b,s:s,s:i}", "ok", 1, "machine_id", m->id, "acked_seq", 0);
    if (secret)
        json_object_set_new(o, "machine_token", json_string(secret));
    return o;
}

static json_t *trade(fleet_registry *r, const char *token, const char *id, json_t *data,
                     fleet_trade *undo)
{
    char hash[HASH_LEN + 1];
    bosun_sha256_hex(token, strlen(token), hash);
    reg_entry *e = find_reg(r, hash);
    if (!e)
        return refuse("token_invalid", "unknown registration token");
    if (e->used_at > 0)
        return refuse("token_used", "the registration token was used already");
    double now = bosun_now();
    if (e->expires_at <= now)
        return refuse("token_expired", "the registration token has expired");
    machine *m = find_machine(r, id);
    if (m && m->revoked)
        return refuse("token_revoked", "this machine id was revoked");
    char secret[TOKEN_LEN + 1];
    if (bosun_token_new(FLEET_MCH_PREFIX, secret, sizeof secret) != 0)
        return refuse("bad_request", "the hub has no random bytes");
    *undo = (fleet_trade){.is = true, .new_machine = !m};
    snprintf(undo->reg, sizeof undo->reg, "%s", e->id);
    snprintf(undo->machine, sizeof undo->machine, "%s", id);
    if (m)
        memcpy(undo->hash, m->hash, sizeof undo->hash);
    if (!m) {
        m = machine_add(r, id);
        m->first_seen = now;
    }
    bosun_sha256_hex(secret, strlen(secret), m->hash);
    e->used_at = now;
    set_str(&e->used_by, id);
    set_str(&m->name, json_string_value(json_object_get(data, "name")));
    /* Written to the store before the answer goes out, once for all the
     * registrations of a burst (fleet.c); undone if that write fails. */
    e->dirty = m->dirty = true;
    bosun_secret_add(secret, strlen(FLEET_MCH_PREFIX));
    log_notice("fleet: machine %s registered with %s", id, e->id);
    json_t *out = register_ok(m, secret);
    memset(secret, 0, sizeof secret);
    return out;
}

static json_t *known(fleet_registry *r, const char *token, const char *id)
{
    char hash[HASH_LEN + 1];
    bosun_sha256_hex(token, strlen(token), hash);
    machine *m = find_machine(r, id);
    /* A compare even for an unknown id, so the answer takes as long. */
    bool match = bosun_crypto_equal(m ? m->hash : hash, hash, HASH_LEN) && m;
    if (!match)
        return refuse("token_invalid", "unknown machine token for this machine id");
    if (m->revoked)
        return refuse("token_revoked", "this machine was revoked");
    return register_ok(m, NULL);
}

json_t *fleet_registry_register(fleet_registry *r, json_t *data, const char *peer,
                                fleet_trade *undo)
{
    undo->is = false;
    const char *token = json_string_value(json_object_get(data, "token"));
    const char *id = json_string_value(json_object_get(data, "machine_id"));
    const char *name = json_string_value(json_object_get(data, "name"));
    const char *version = json_string_value(json_object_get(data, "version"));
    if (!id_ok(id))
        return refuse("bad_request", "'machine_id' must be a subject token of 1 to 64 bytes");
    if ((name && strlen(name) > 256) || (version && strlen(version) > 64))
        return refuse("bad_request", "'name' or 'version' too long");
    json_t *out;
    if (token_shape(token, FLEET_REG_PREFIX))
        out = trade(r, token, id, data, undo);
    else if (token_shape(token, FLEET_MCH_PREFIX))
        out = known(r, token, id);
    else
        return refuse("token_invalid", "'token' must be a bsn_reg_ or bsn_mch_ token");
    if (json_is_true(json_object_get(out, "ok"))) {
        machine *m = find_machine(r, id);
        m->online = true;
        m->last_seen = bosun_now();
        set_str(&m->name, name);
        set_str(&m->version, version);
        set_str(&m->address, peer);
        m->dirty = true;
    }
    return out;
}

void fleet_registry_untrade(fleet_registry *r, const fleet_trade *t)
{
    reg_entry *e = find_reg_id(r, t->reg);
    if (e) {
        e->used_at = 0;
        free(e->used_by);
        e->used_by = NULL;
    }
    machine *m = find_machine(r, t->machine);
    if (!m)
        return;
    if (!t->new_machine) {
        memcpy(m->hash, t->hash, sizeof m->hash);
        m->online = false;
        return;
    }
    free(m->id);
    free(m->name);
    free(m->version);
    free(m->address);
    *m = r->ms[--r->nms];
}

bool fleet_registry_seen(fleet_registry *r, const char *id, const char *version)
{
    machine *m = find_machine(r, id);
    if (!m || m->revoked)
        return false;
    m->last_seen = bosun_now();
    set_str(&m->version, version);
    m->dirty = true;
    return true;
}

bool fleet_registry_offline(fleet_registry *r, const char *id)
{
    machine *m = find_machine(r, id);
    if (!m || !m->online)
        return false;
    m->online = false;
    m->dirty = true;
    return true;
}

/* ------------------------------------------------------------ object */

static void clear(fleet_registry *r)
{
    for (size_t i = 0; i < r->nregs; i++) {
        free(r->regs[i].name);
        free(r->regs[i].used_by);
    }
    for (size_t i = 0; i < r->nms; i++) {
        machine *m = &r->ms[i];
        free(m->id);
        free(m->name);
        free(m->version);
        free(m->address);
    }
    r->nregs = r->nms = 0;
}

void fleet_registry_clear(fleet_registry *r)
{
    clear(r);
}

fleet_registry *fleet_registry_new(void)
{
    return calloc(1, sizeof(fleet_registry));
}

void fleet_registry_free(fleet_registry *r)
{
    if (!r)
        return;
    clear(r);
    free(r->regs);
    free(r->ms);
    free(r);
}
