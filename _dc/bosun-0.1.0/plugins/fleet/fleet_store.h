/* The fleet registry's persistence in the store (bosun-fleet(7)): loaded
 * once at start with cmd.store.machines (importing an older hub's
 * state_dir/fleet.json into an empty store), written through with
 * cmd.store.machines.put — at once when a caller waits for the commit,
 * every FLEET_STORE_EVERY seconds for what may wait (last_seen, status). */
#ifndef BOSUN_FLEET_STORE_H
#define BOSUN_FLEET_STORE_H

#include <bosun/bosun.h>

#include "fleet_registry.h"

#define FLEET_STORE_EVERY 5.0

typedef struct fleet_store fleet_store;

/* err is NULL once the put is committed, else why it is not. */
typedef void (*fleet_store_done)(void *arg, const char *err);

/* Why a store request failed (its reply status, an "error" in its
 * answer), or NULL; the text lasts until the next call. */
const char *fleet_store_failure(enum bus_reply_status st, const bus_msg *m, const char *subject);

fleet_store *fleet_store_new(const bosun_ctx *ctx, fleet_registry *reg);
/* Calls done(arg, "the hub is stopping") for every write still waiting:
 * each caller frees its own. */
void fleet_store_free(fleet_store *fs);
/* Fills the registry from the store, retrying every second while the store
 * does not answer; ready(arg) once it is filled. */
void fleet_store_load(fleet_store *fs, void (*ready)(void *), void *arg);
/* Writes the registry's dirty rows; done(arg, err) once committed or not
 * (always later, never from inside). */
void fleet_store_write(fleet_store *fs, fleet_store_done done, void *arg);

#endif
