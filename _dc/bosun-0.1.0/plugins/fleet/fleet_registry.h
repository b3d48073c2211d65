/* The hub's registry of machines and registration tokens: an in-memory
 * view of the store's machines tables (cmd.store.machines, loaded once at
 * start by fleet_store.c), so that a register never waits on the disk for
 * a read.  Only SHA-256 hashes of tokens are kept.  Every change marks its
 * entry dirty; fleet_registry_changes() gives them as one
 * cmd.store.machines.put, and the callers answer what must be durable (a
 * token issued or traded, a revocation) only once that put is committed. */
#ifndef BOSUN_FLEET_REGISTRY_H
#define BOSUN_FLEET_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>

#define FLEET_FILE        "fleet.json" /* before the store held the registry */
#define FLEET_REG_PREFIX  "bsn_reg_"
#define FLEET_MCH_PREFIX  "bsn_mch_"
#define FLEET_REG_TTL     3600.0
#define FLEET_TTL_MAX     (30 * 86400.0)
#define FLEET_ENTRIES_MAX 4096
#define FLEET_ID_MAX      64

typedef struct fleet_registry fleet_registry;

/* What a trade changed, for fleet_registry_untrade(). */
typedef struct fleet_trade {
    bool is; /* a registration token was traded */
    bool new_machine;
    char reg[24];
    char machine[FLEET_ID_MAX + 1];
    char hash[2 * 32 + 1]; /* the machine's token hash before */
} fleet_trade;

fleet_registry *fleet_registry_new(void);
void fleet_registry_free(fleet_registry *r);
void fleet_registry_clear(fleet_registry *r);
/* Adds the rows of doc ({"machines":[…], "registrations":[…]} as the store
 * or fleet.json has them, token hashes included), each offline; dirty:
 * all of them are to be written (an import).  Returns how many it took. */
size_t fleet_registry_load(fleet_registry *r, const json_t *doc, bool dirty);
bool fleet_registry_empty(const fleet_registry *r);
size_t fleet_registry_count(const fleet_registry *r, bool machines);
/* The dirty rows as a cmd.store.machines.put request, no longer dirty;
 * NULL when nothing changed.  _unwritten: that put failed, its rows are
 * dirty again (to go with the next one). */
json_t *fleet_registry_changes(fleet_registry *r);
void fleet_registry_unwritten(fleet_registry *r, const json_t *put);

/* A new registration token (dirty, to be written before it is answered):
 * its public record, with the secret under "token" (shown once).  On
 * failure a bus error object.  _drop takes it back (its write failed). */
json_t *fleet_registry_token_create(fleet_registry *r, const char *name, double ttl);
void fleet_registry_token_drop(fleet_registry *r, const char *id);
/* {"items":[machine…]} or one machine (NULL: not found); never a hash. */
json_t *fleet_registry_list(fleet_registry *r);
json_t *fleet_registry_show(fleet_registry *r, const char *id);
/* Marks the machine revoked (its token refused from now on): -1 not found,
 * else whether it was revoked before.  _unrevoke: its write failed. */
int fleet_registry_revoke(fleet_registry *r, const char *id);
void fleet_registry_unrevoke(fleet_registry *r, const char *id);

/* machine.register: checks token (bsn_reg_ traded once for a new bsn_mch_,
 * or the machine's own bsn_mch_) and marks the machine online.  Returns the
 * reply data of the protocol ({"ok":true,…} or {"ok":false,"error":…}).
 * A trade sets undo->is: it must be written to the store before the answer
 * is sent (the machine's token is only good once the store holds its
 * hash), and undone with fleet_registry_untrade() if that write fails. */
json_t *fleet_registry_register(fleet_registry *r, json_t *data, const char *peer,
                                fleet_trade *undo);
void fleet_registry_untrade(fleet_registry *r, const fleet_trade *t);
/* A heartbeat or any frame: last_seen; the status to "offline" on a lost
 * link.  Both are written with the next put (coalesced, fleet_store.c). */
bool fleet_registry_seen(fleet_registry *r, const char *id, const char *version);
bool fleet_registry_offline(fleet_registry *r, const char *id);

#endif
