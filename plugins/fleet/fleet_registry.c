/* The hub's registry of machines and registration tokens (see
 * fleet_registry.h).  The sets are small and live in memory; each change
 * that matters across a restart (a token issued or used, a machine added or
 * revoked) rewrites the file before it is answered.  last_seen and status
 * are written with the next such change: a hint, the events are the record. */
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

#define FILE_MAX  (8u << 20)
#define TOKEN_LEN (8 + BOSUN_TOKEN_CHARS)
#define HASH_LEN  (2 * BOSUN_SHA256_SIZE)

typedef struct reg_entry {
    char id[24];
    char *name;
    char hash[HASH_LEN + 1];
    double created_at, expires_at, used_at; /* used_at 0: unused */
    char *used_by;
} reg_entry;

typedef struct machine {
    char *id, *name, *version, *address;
    char hash[HASH_LEN + 1];
    double first_seen, last_seen;
    bool online, revoked;
} machine;

struct fleet_registry {
    char *state_dir;
    reg_entry *regs;
    size_t nregs, capregs;
    machine *ms;
    size_t nms, capms;
    bool dirty; /* trades not written yet */
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

/* ------------------------------------------------------------ file */

static int save(fleet_registry *r)
{
    r->dirty = false;
    json_t *regs = json_array(), *ms = json_array();
    for (size_t i = 0; i < r->nregs; i++) {
        json_t *o = reg_public(&r->regs[i]);
        json_object_set_new(o, "hash", json_string(r->regs[i].hash));
        json_array_append_new(regs, o);
    }
    for (size_t i = 0; i < r->nms; i++) {
        json_t *o = machine_public(&r->ms[i]);
        json_object_set_new(o, "token_hash", json_string(r->ms[i].hash));
        json_object_set_new(o, "status", json_string("offline"));
        json_array_append_new(ms, o);
    }
    json_t *doc = json_pack("{s:i,s:o,s:o}", "version", 1, "registrations", regs, "machines", ms);
    char *text = doc ? json_dumps(doc, JSON_INDENT(1)) : NULL;
    json_decref(doc);
    int rc = text ? bosun_file_replace(r->state_dir, FLEET_FILE, text, strlen(text), 0600) : -1;
    if (rc != 0) {
        log_error("fleet: cannot write %s/%s: %s", r->state_dir, FLEET_FILE, strerror(errno));
        r->dirty = true;
    }
    free(text);
    return rc;
}

static bool hash_ok(const char *h)
{
    return h && strlen(h) == HASH_LEN;
}

static void load_regs(fleet_registry *r, json_t *arr)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *hash = json_string_value(json_object_get(o, "hash"));
        if (!id || strlen(id) >= sizeof r->regs[0].id || !hash_ok(hash) ||
            r->nregs >= FLEET_ENTRIES_MAX) {
            log_warning("fleet: %s registration %zu ignored (malformed)", FLEET_FILE, i);
            continue;
        }
        if (r->nregs == r->capregs) {
            r->capregs = r->capregs ? 2 * r->capregs : 16;
            r->regs = realloc(r->regs, r->capregs * sizeof *r->regs);
        }
        reg_entry *e = &r->regs[r->nregs++];
        memset(e, 0, sizeof *e);
        snprintf(e->id, sizeof e->id, "%s", id);
        memcpy(e->hash, hash, sizeof e->hash);
        e->name = dup_or_null(json_string_value(json_object_get(o, "name")));
        e->used_by = dup_or_null(json_string_value(json_object_get(o, "used_by")));
        e->created_at = json_number_value(json_object_get(o, "created_at"));
        e->expires_at = json_number_value(json_object_get(o, "expires_at"));
        e->used_at = json_number_value(json_object_get(o, "used_at"));
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

static void load_machines(fleet_registry *r, json_t *arr)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *hash = json_string_value(json_object_get(o, "token_hash"));
        if (!id_ok(id) || !hash_ok(hash) || r->nms >= FLEET_ENTRIES_MAX) {
            log_warning("fleet: %s machine %zu ignored (malformed)", FLEET_FILE, i);
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
    }
}

static int load(fleet_registry *r)
{
    size_t len = 0;
    char *text = bosun_file_read(r->state_dir, FLEET_FILE, FILE_MAX, &len);
    if (!text && errno == ENOENT)
        return 0;
    if (!text) {
        log_error("fleet: cannot read %s/%s: %s", r->state_dir, FLEET_FILE, strerror(errno));
        return -1;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!json_is_object(doc)) {
        log_error("fleet: %s/%s: not a fleet file (%s)", r->state_dir, FLEET_FILE,
                  doc ? "not an object" : jerr.text);
        json_decref(doc);
        return -1;
    }
    load_regs(r, json_object_get(doc, "registrations"));
    load_machines(r, json_object_get(doc, "machines"));
    json_decref(doc);
    return 0;
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
    if (r->nregs == r->capregs) {
        r->capregs = r->capregs ? 2 * r->capregs : 16;
        r->regs = realloc(r->regs, r->capregs * sizeof *r->regs);
    }
    reg_entry *e = &r->regs[r->nregs++];
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "reg_%02x%02x%02x%02x%02x%02x%02x%02x", raw[0], raw[1], raw[2],
             raw[3], raw[4], raw[5], raw[6], raw[7]);
    e->name = dup_or_null(name);
    bosun_sha256_hex(secret, strlen(secret), e->hash);
    e->created_at = now;
    e->expires_at = now + (ttl > 0 ? ttl : FLEET_REG_TTL);
    if (save(r) != 0) {
        r->nregs--;
        free(e->name);
        memset(secret, 0, sizeof secret);
        return bus_error_json("internal", "cannot store the token: nothing issued");
    }
    bosun_secret_add(secret, strlen(FLEET_REG_PREFIX));
    log_notice("fleet: registration token %s%s%s created", e->id, e->name ? " " : "",
               e->name ? e->name : "");
    json_t *out = json_pack("{s:o,s:s}", "registration", reg_public(e), "token", secret);
    memset(secret, 0, sizeof secret);
    return out;
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
    bool was = m->revoked;
    m->revoked = true;
    if (save(r) != 0) {
        m->revoked = was;
        return -2;
    }
    m->online = false;
    log_notice("fleet: machine %s revoked", id);
    return 0;
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

static json_t *trade(fleet_registry *r, const char *token, const char *id, json_t *data)
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
    if (!m) {
        m = machine_add(r, id);
        m->first_seen = now;
    }
    bosun_sha256_hex(secret, strlen(secret), m->hash);
    e->used_at = now;
    set_str(&e->used_by, id);
    set_str(&m->name, json_string_value(json_object_get(data, "name")));
    /* Written by fleet_registry_flush() before the answer goes out, once
     * for all the registrations of a burst. */
    r->dirty = true;
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

json_t *fleet_registry_register(fleet_registry *r, json_t *data, const char *peer)
{
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
        out = trade(r, token, id, data);
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
    }
    return out;
}

bool fleet_registry_seen(fleet_registry *r, const char *id, const char *version)
{
    machine *m = find_machine(r, id);
    if (!m || m->revoked)
        return false;
    m->last_seen = bosun_now();
    set_str(&m->version, version);
    return true;
}

bool fleet_registry_offline(fleet_registry *r, const char *id)
{
    machine *m = find_machine(r, id);
    if (!m || !m->online)
        return false;
    m->online = false;
    return true;
}

/* ------------------------------------------------------------ flush */

bool fleet_registry_dirty(const fleet_registry *r)
{
    return r->dirty;
}

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

/* The file could not be written: memory goes back to what it holds, the
 * last state anyone was told about, keeping which machines are online. */
static void reset_to_file(fleet_registry *r)
{
    json_t *live = json_object();
    for (size_t i = 0; i < r->nms; i++)
        if (r->ms[i].online)
            json_object_set_new(live, r->ms[i].id, json_real(r->ms[i].last_seen));
    clear(r);
    if (load(r) != 0)
        log_error("fleet: %s/%s cannot be read back either: the registry is empty until a restart",
                  r->state_dir, FLEET_FILE);
    r->dirty = false;
    const char *id;
    json_t *seen;
    json_object_foreach(live, id, seen)
    {
        machine *m = find_machine(r, id);
        if (m) {
            m->online = true;
            m->last_seen = json_real_value(seen);
        }
    }
    json_decref(live);
}

int fleet_registry_flush(fleet_registry *r)
{
    if (!r->dirty)
        return 0;
    if (save(r) == 0)
        return 0;
    reset_to_file(r);
    return -1;
}

/* ------------------------------------------------------------ object */

fleet_registry *fleet_registry_new(const char *state_dir)
{
    fleet_registry *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->state_dir = strdup(state_dir);
    if (!r->state_dir || load(r) != 0) {
        fleet_registry_free(r);
        return NULL;
    }
    return r;
}

void fleet_registry_free(fleet_registry *r)
{
    if (!r)
        return;
    clear(r);
    free(r->regs);
    free(r->ms);
    free(r->state_dir);
    free(r);
}
