/* bosun — admin tokens on the bus.
 *
 * Served by bosund's core (core/daemon/auth/admin_token.c), which keeps
 * only their SHA-256 hashes, in a 0600 file of the state directory.
 * Transports (the control socket for bosunctl, the http plugin) call them;
 * a control-socket client is an admin.  Replies carry
 * {"error": {"code", "message"}} on failure.
 *
 *   cmd.auth.token.create {"name", "ttl"?: seconds}
 *       -> {"token": {"id","name","created_at","expires_at"|null},
 *           "secret": "bsn_adm_…"}: the secret is in this reply only, once.
 *          Publishes evt.auth.token.<id>.created {"id","name","created_at",
 *          "expires_at"}.  Errors bad_request, too_large (too many tokens),
 *          internal (the file cannot be written: nothing was issued).
 *   cmd.auth.token.list {}
 *       -> {"tokens": [{"id","name","created_at","expires_at",
 *          "last_used_at"?}]} (expired ones are dropped).
 *   cmd.auth.token.revoke {"id"}
 *       -> {"id","revoked": true}; error not_found.  Publishes
 *          evt.auth.token.<id>.revoked {"id","name"}.
 *   cmd.auth.token.check {"token"}
 *       -> {"id","name","expires_at"|null}, or the error unauthorized.
 *
 * Events never carry a hash or a secret.  Token ids are "tok_" and 16 hex
 * digits of randomness; secrets are BOSUN_ADMIN_TOKEN_PREFIX and 256 random
 * bits in base64url (<bosun/crypto.h>'s bosun_token_new).
 */
#ifndef BOSUN_AUTH_H
#define BOSUN_AUTH_H

#define BOSUN_ADMIN_TOKEN_PREFIX "bsn_adm_"
#define BOSUN_ADMIN_TOKEN_LEN    (8 + 43) /* prefix + BOSUN_TOKEN_CHARS */
#define BOSUN_ADMIN_TOKEN_ID_LEN (4 + 16) /* "tok_" + 16 hex digits */

#define BOSUN_AUTH_TOKEN_CREATE "cmd.auth.token.create"
#define BOSUN_AUTH_TOKEN_LIST   "cmd.auth.token.list"
#define BOSUN_AUTH_TOKEN_REVOKE "cmd.auth.token.revoke"
#define BOSUN_AUTH_TOKEN_CHECK  "cmd.auth.token.check"
/* evt.auth.token.<id>.created and .revoked */
#define BOSUN_AUTH_TOKEN_EVENTS "evt.auth.token"

#define BOSUN_ADMIN_TOKEN_NAME_MAX 64
#define BOSUN_ADMIN_TOKENS_MAX     1000
#define BOSUN_ADMIN_TOKEN_TTL_MAX  (10.0 * 366 * 86400) /* ten years, in seconds */

#endif
