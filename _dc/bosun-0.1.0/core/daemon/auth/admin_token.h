/* Admin tokens: cmd.auth.token.create|list|revoke|check (<bosun/auth.h>),
 * served by the core.  Only SHA-256 hashes are kept, in memory and in
 * state_dir/admin_tokens.json (0600, replaced atomically on each change). */
#ifndef BOSUN_ADMIN_TOKEN_H
#define BOSUN_ADMIN_TOKEN_H

#include <bosun/bus.h>

#define ADMIN_TOKENS_FILE "admin_tokens.json"

typedef struct admin_tokens admin_tokens;

/* Loads the file (a missing one is an empty set) and subscribes.  NULL,
 * with the reason logged, when the file exists but cannot be read. */
admin_tokens *admin_tokens_new(bus_t *bus, const char *state_dir);
void admin_tokens_free(admin_tokens *t);

#endif
