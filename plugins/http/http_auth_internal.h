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
/* Puts a session's jti on the deny-list until exp (persisted).  0, or -1
 * when the list is full or cannot be written. */
int auth_session_revoke(http_auth *a, const char *jti, double exp);
/* Seconds a peer refused by the failed-auth limit should wait. */
int auth_retry_after(const http_auth *a);
/* The JSON of an identity for /api/v1/auth/me and login: never a secret. */
json_t *auth_identity_json(const http_identity *id);

#endif
