/* bosun — the daemon's own JSON Web Tokens (sessions, later share links).
 *
 * HS256 only, on libjwt.  A token's header must be exactly
 * {"alg":"HS256"} (with "typ":"JWT" allowed): anything else ("none",
 * "RS256" with the HMAC key offered as a public key, a "kid", "crit"...)
 * is refused before libjwt looks at the signature, so that the algorithm
 * is ours, never the token's.  Every token carries iss, aud, sub, jti, iat
 * and exp, and a verification checks each: the issuer and audience given,
 * a jti, issued not in the future (a minute's leeway), not expired.
 *
 * The key lives in a file of the state directory, made on first start
 * with 256 random bits and mode 0600; one that others may read or that
 * another user owns is refused rather than used. */
#ifndef BOSUN_JWT_H
#define BOSUN_JWT_H

#include <bosun/api.h>

#include <stddef.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BOSUN_JWT_KEY_MIN   32   /* bytes of a key file, at least */
#define BOSUN_JWT_KEY_MAX   64   /* and at most */
#define BOSUN_JWT_TOKEN_MAX 4096 /* longer tokens are refused unparsed */
#define BOSUN_JWT_LEEWAY    60   /* seconds an iat may lie in the future */

typedef struct bosun_jwt_key {
    unsigned char bytes[BOSUN_JWT_KEY_MAX];
    size_t len;
} bosun_jwt_key;

/* What a verified token says; strings bounded (longer ones are refused). */
typedef struct bosun_jwt_claims {
    char sub[128];
    char jti[72];
    double iat, exp; /* seconds since the epoch */
    json_t *extra;   /* the other claims (an object, owned), or NULL */
} bosun_jwt_claims;

/* Reads the key in state_dir/name, creating the file (0600, 256 random
 * bits, written under a temporary name and linked into place, so that a
 * crash or a second daemon never leaves or reads a partial key) when it
 * does not exist.  -1 with a reason in err when the file cannot be made
 * or read, is not a regular file, is owned by another user, grants any
 * permission to group or others, or holds fewer than BOSUN_JWT_KEY_MIN or
 * more than BOSUN_JWT_KEY_MAX bytes. */
BOSUN_API int bosun_jwt_key_load(const char *state_dir, const char *name, bosun_jwt_key *key,
                                 char *err, size_t err_size);

/* A new token for sub from iss to aud, issued now and expiring after ttl
 * seconds, with a fresh random jti (copied into jti_out when not NULL,
 * which holds 72 bytes) and the members of extra (an object or NULL;
 * registered claim names in it are ignored).  malloc'ed, or NULL. */
BOSUN_API char *bosun_jwt_sign(const bosun_jwt_key *key, const char *iss, const char *aud,
                               const char *sub, double now, double ttl, json_t *extra,
                               char *jti_out);

/* Verifies token as described above at time now, filling *claims (clear
 * it with bosun_jwt_claims_clear).  0, or -1 with a reason in why (never
 * the token). */
BOSUN_API int bosun_jwt_verify(const bosun_jwt_key *key, const char *token, const char *iss,
                               const char *aud, double now, bosun_jwt_claims *claims, char *why,
                               size_t why_size);
BOSUN_API void bosun_jwt_claims_clear(bosun_jwt_claims *claims);

#ifdef __cplusplus
}
#endif
#endif
