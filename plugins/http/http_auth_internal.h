/* Between http_auth.c (credentials -> identities, the gate before each
 * route) and http_auth_routes.c (login, logout, me, tokens). */
#ifndef BOSUN_HTTP_AUTH_INTERNAL_H
#define BOSUN_HTTP_AUTH_INTERNAL_H

#include <bosun/jwt.h>
#include <bosun/ratelimit.h>

#include "http.h"

#define HTTP_SESSION_COOKIE "bosun_session"
#define HTTP_JWT_AUDIENCE   "bosun-http"
#define HTTP_JWT_KEY_FILE   "http_jwt.key"
#define HTTP_DENY_FILE      "http_revoked.json"
/* evt.auth.session.<jti>.revoked {"jti","expires_at"}: a logout; the /ws
 * connections of that session close. */
#define HTTP_SESSION_EVENTS "evt.auth.session"

/* Why a credential check ended as it did, for the gate and the routes. */
typedef void (*auth_check_cb)(void *arg, int status, http_identity *id, const char *why);

/* Checks one credential (admin token, session JWT, agent token) for peer:
 * cb runs once, at once or from the loop, with 0 and the identity (whose
 * who the callback may take, setting it to NULL; the rest is cleared
 * after it returns), or 401 / 429 and why (never the secret).  Counts
 * failures in the failed-auth limit. */
void auth_check(http_auth *a, const char *token, const char *peer, bool via_cookie,
                auth_check_cb cb, void *arg);

/* A session JWT for an admin identity (as login makes it), lasting the
 * configured session_ttl but never past the credential's own expiry.
 * malloc'ed, or NULL; *expires_at set. */
char *auth_session_new(http_auth *a, const http_identity *id, double *expires_at);
enum auth_deny {
    AUTH_DENY_OK = 0,       /* on the list, and in its file */
    AUTH_DENY_UNSAVED = -1, /* refused from now on, but the file could not be written */
    AUTH_DENY_FULL = -2,    /* not recorded: the list holds auth_deny_max() live entries */
};
/* Sets the session cookie to value for max_age seconds ("" and 0: clears
 * it). */
void auth_session_cookie(http_request *r, const char *value, double max_age);
/* The value of the request's cookie name, copied into out (size bytes),
 * or false when it is absent, empty or does not fit. */
bool auth_cookie(const http_request *r, const char *name, char *out, size_t size);
/* Puts a session's jti on the deny-list until exp (persisted atomically)
 * and, unless the list is full, publishes its evt.auth.session event. */
enum auth_deny auth_session_revoke(http_auth *a, const char *jti, double exp);
/* The most logged-out sessions the deny-list holds at once. */
size_t auth_deny_max(void);
/* The failed-auth limit for credentials checked elsewhere (GitHub's
 * login state and device handles, http_auth_github.c): whether peer may
 * try now, and counting (and logging, at notice level) a failure. */
bool auth_limit_allows(http_auth *a, const char *peer);
void auth_limit_failed(http_auth *a, const char *peer, const char *why);
/* Seconds a peer refused by the failed-auth limit should wait. */
int auth_retry_after(const http_auth *a);
/* What http_auth_share.c needs of the rest. */
const bosun_jwt_key *auth_key(const http_auth *a);
const char *auth_iss(const http_auth *a);
bool auth_denied(const http_auth *a, const char *key);

/* ---- the GitHub login's limits per address (http_auth_github.c) */
typedef struct auth_github_limits auth_github_limits;
auth_github_limits *auth_github_limits_new(void);
void auth_github_limits_free(auth_github_limits *l);
auth_github_limits *auth_github_limits_of(const http_auth *a);

/* ---- share links (http_auth_share.c) */
typedef struct auth_shares auth_shares;
auth_shares *auth_shares_new(const char *state_dir);
void auth_shares_free(auth_shares *s);
auth_shares *auth_shares_of(const http_auth *a);
/* A share link's JWT -> its identity: 1 (id filled, who owned by it), 0
 * when token is no share link (another kind of credential), -1 when it
 * is one but refused (expired, forged, revoked), why said. */
int auth_share_check(http_auth *a, const char *token, http_identity *id, char *why,
                     size_t why_size);

/* The JSON of an identity for /api/v1/auth/me and login: never a secret. */
json_t *auth_identity_json(const http_identity *id);

#endif
