/* The web flow's state parameter.
 *
 * A state is a JWT (<bosun/jwt.h>: HS256 pinned, iat/exp/jti checked)
 * signed with the plugin's own key, lasting GH_STATE_TTL, whose claims
 * carry the redirect_uri the login started with.  The PKCE verifier is
 * HMAC-SHA256(key, "pkce:" jti) in base64url: derived again at the
 * callback, it needs no memory per started login, and only the daemon,
 * never the browser, can compute it.  What is kept is the list of states
 * already used, until they would have expired: a replayed state is
 * refused, and the list is bounded (GH_STATE_USED; when it is full of
 * live entries, callbacks are refused with a 503 until some expire rather
 * than an entry forgotten).  The id is also set in a cookie by the http
 * route at the start and must come back with the state: a callback link
 * made by someone else (a login CSRF) fails in the victim's browser. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/crypto.h>
#include <bosun/sys.h>

#include "github_oauth.h"

#define STATE_KEY_FILE "github_oauth.key"
#define STATE_ISS      "bosun-github"
#define STATE_AUD      "bosun-github-state"

struct gh_state {
    bosun_jwt_key key;
    json_t *used; /* jti -> exp (wall clock) */
};

gh_state *gh_state_new(const char *state_dir, char *err, size_t err_size)
{
    gh_state *s = calloc(1, sizeof *s);
    if (!s || !(s->used = json_object())) {
        free(s);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (bosun_jwt_key_load(state_dir, STATE_KEY_FILE, &s->key, err, err_size) != 0) {
        json_decref(s->used);
        free(s);
        return NULL;
    }
    return s;
}

void gh_state_free(gh_state *s)
{
    if (!s)
        return;
    explicit_bzero(&s->key, sizeof s->key);
    json_decref(s->used);
    free(s);
}

static int verifier_of(const gh_state *s, const char *jti, char out[GH_VERIFIER_LEN + 1])
{
    char msg[96];
    unsigned char mac[BOSUN_SHA256_SIZE];
    int n = snprintf(msg, sizeof msg, "pkce:%s", jti);
    if (n < 0 || (size_t)n >= sizeof msg ||
        bosun_hmac_sha256(s->key.bytes, s->key.len, msg, (size_t)n, mac) != 0)
        return -1;
    char b64[48];
    size_t len = bosun_base64url_encode(mac, sizeof mac, b64, sizeof b64);
    explicit_bzero(mac, sizeof mac);
    if (len == GH_VERIFIER_LEN)
        memcpy(out, b64, GH_VERIFIER_LEN + 1);
    explicit_bzero(b64, sizeof b64);
    return len == GH_VERIFIER_LEN ? 0 : -1;
}

char *gh_state_issue(gh_state *s, const char *redirect_uri, char *id, char *challenge)
{
    json_t *extra = json_pack("{s:s}", "ru", redirect_uri);
    if (!extra)
        return NULL;
    char *t = bosun_jwt_sign(&s->key, STATE_ISS, STATE_AUD, "login", bosun_now(), GH_STATE_TTL,
                             extra, id);
    json_decref(extra);
    char verifier[GH_VERIFIER_LEN + 1];
    unsigned char digest[BOSUN_SHA256_SIZE];
    if (t && verifier_of(s, id, verifier) == 0) {
        bosun_sha256(verifier, GH_VERIFIER_LEN, digest);
        if (bosun_base64url_encode(digest, sizeof digest, challenge, GH_CHALLENGE_SIZE) == 43) {
            explicit_bzero(verifier, sizeof verifier);
            return t;
        }
    }
    explicit_bzero(verifier, sizeof verifier);
    free(t);
    return NULL;
}

static void used_prune(gh_state *s, double now)
{
    const char *key;
    json_t *exp;
    void *tmp;
    json_object_foreach_safe(s->used, tmp, key, exp)
    {
        if (json_number_value(exp) <= now)
            json_object_del(s->used, key);
    }
}

/* Marks jti used; -1 when the list is full of live entries. */
static int used_add(gh_state *s, const char *jti, double exp, double now)
{
    if (json_object_size(s->used) >= GH_STATE_USED)
        used_prune(s, now);
    if (json_object_size(s->used) >= GH_STATE_USED)
        return -1;
    return json_object_set_new(s->used, jti, json_real(exp));
}

int gh_state_take(gh_state *s, const char *state, const char *binding, char **redirect_uri,
                  char verifier[GH_VERIFIER_LEN + 1], bool *busy, char *why, size_t why_size)
{
    *busy = false;
    *redirect_uri = NULL;
    bosun_jwt_claims c;
    char reason[160];
    double now = bosun_now();
    if (bosun_jwt_verify(&s->key, state, STATE_ISS, STATE_AUD, now, &c, reason, sizeof reason) !=
        0) {
        /* An expired state and a forged one read differently: the first is
         * a login that took too long. */
        snprintf(why, why_size, "%s",
                 strstr(reason, "expired") ? "the login's state has expired (logins must finish "
                                             "within 10 minutes): start again"
                                           : "the login's state is not one this daemon issued");
        return -1;
    }
    int rc = -1;
    const char *ru = json_string_value(json_object_get(c.extra, "ru"));
    if (!ru || strcmp(c.sub, "login") != 0)
        snprintf(why, why_size, "the login's state is not one this daemon issued");
    else if (!binding || !bosun_crypto_streq(binding, c.jti))
        snprintf(why, why_size,
                 "the login's state belongs to another browser (its cookie is missing or "
                 "different): start the login again from this one");
    else if (json_object_get(s->used, c.jti) &&
             json_number_value(json_object_get(s->used, c.jti)) > now)
        snprintf(why, why_size, "the login's state was used already: start again");
    else if (used_add(s, c.jti, c.exp, now) != 0) {
        *busy = true;
        snprintf(why, why_size, "too many logins at once: try again in a few minutes");
    } else if (verifier_of(s, c.jti, verifier) != 0 || !(*redirect_uri = strdup(ru)))
        snprintf(why, why_size, "out of memory");
    else
        rc = 0;
    bosun_jwt_claims_clear(&c);
    return rc;
}
