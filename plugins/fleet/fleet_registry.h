/* The hub's registry of machines and registration tokens.  Only SHA-256
 * hashes of tokens are kept, in memory and in state_dir/fleet.json (0600,
 * replaced atomically before a change is answered). */
#ifndef BOSUN_FLEET_REGISTRY_H
#define BOSUN_FLEET_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>

#define FLEET_FILE        "fleet.json"
#define FLEET_REG_PREFIX  "bsn_reg_"
#define FLEET_MCH_PREFIX  "bsn_mch_"
#define FLEET_REG_TTL     3600.0
#define FLEET_TTL_MAX     (30 * 86400.0)
#define FLEET_ENTRIES_MAX 4096
#define FLEET_ID_MAX      64

typedef struct fleet_registry fleet_registry;

/* Loads the file (missing: empty).  NULL, logged, when it cannot be read. */
fleet_registry *fleet_registry_new(const char *state_dir);
void fleet_registry_free(fleet_registry *r);

/* A new registration token: its public record, with the secret under
 * "token" (shown once).  On failure a bus error object. */
json_t *fleet_registry_token_create(fleet_registry *r, const char *name, double ttl);
/* {"items":[machine…]} or one machine (NULL: not found); never a hash. */
json_t *fleet_registry_list(fleet_registry *r);
json_t *fleet_registry_show(fleet_registry *r, const char *id);
/* Marks the machine revoked (its token refused from now on); -1: not found,
 * -2: the file could not be written. */
int fleet_registry_revoke(fleet_registry *r, const char *id);

/* machine.register: checks token (bsn_reg_ traded once for a new bsn_mch_,
 * or the machine's own bsn_mch_) and marks the machine online.  Returns the
 * reply data of the protocol ({"ok":true,…} or {"ok":false,"error":…}).
 * A trade leaves the registry dirty: it must be flushed before the answer
 * is sent (the machine's token is only good once the file holds its hash). */
json_t *fleet_registry_register(fleet_registry *r, json_t *data, const char *peer);
/* A heartbeat or any frame: last_seen; the status to "offline" on a lost link. */
bool fleet_registry_seen(fleet_registry *r, const char *id, const char *version);
bool fleet_registry_offline(fleet_registry *r, const char *id);

/* Whether trades wait to be written; writes them (one file replace for all).
 * -1 when the file cannot be written: the registry is then back to what the
 * file holds (those trades undone, their tokens usable again). */
bool fleet_registry_dirty(const fleet_registry *r);
int fleet_registry_flush(fleet_registry *r);

#endif
