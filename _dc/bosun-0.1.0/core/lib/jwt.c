/* <bosun/jwt.h>: HS256 tokens on libjwt, with the algorithm pinned by us
 * before libjwt is asked to verify anything. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jwt.h>

#include <bosun/crypto.h>
#include <bosun/jwt.h>
#include <bosun/sys.h>

#include "errbuf.h"

#define HEADER_MAX 256 /* decoded {"alg":"HS256","typ":"JWT"} is 27 bytes */

/* ------------------------------------------------------------ key file */

static int key_check_and_read(int fd, const char *path, bosun_jwt_key *key, char *err, size_t size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return errbuf_fail(err, size, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return errbuf_fail(err, size, "%s: not a regular file", path);
    if (st.st_uid != geteuid())
        return errbuf_fail(err, size, "%s: owned by uid %ld, not by the daemon (uid %ld)", path,
                           (long)st.st_uid, (long)geteuid());
    if (st.st_mode & 077)
        return errbuf_fail(err, size, "%s: mode %04o lets others read the key; it must be 0600",
                           path, (unsigned)(st.st_mode & 07777));
    unsigned char buf[BOSUN_JWT_KEY_MAX + 1];
    size_t n = 0;
    while (n < sizeof buf) {
        ssize_t got = read(fd, buf + n, sizeof buf - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return errbuf_fail(err, size, "%s: %s", path, strerror(errno));
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n < BOSUN_JWT_KEY_MIN || n > BOSUN_JWT_KEY_MAX)
        return errbuf_fail(err, size, "%s: holds %zu bytes, a key is %d to %d", path, n,
                           BOSUN_JWT_KEY_MIN, BOSUN_JWT_KEY_MAX);
    memcpy(key->bytes, buf, n);
    key->len = n;
    memset(buf, 0, sizeof buf);
    return 0;
}

/* A new key under a temporary name, then linked to name: link(2) never
 * replaces, so when two daemons race the second reads the first's key. */
static int key_create(const char *state_dir, int dfd, const char *name, const char *path, char *err,
                      size_t size)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, ".%s.%ld.new", name, (long)getpid());
    unsigned char raw[32];
    int rc = bosun_random_bytes(raw, sizeof raw) == 0 &&
                     bosun_file_replace(state_dir, tmp, raw, sizeof raw, 0600) == 0
                 ? 0
                 : -1;
    int saved = errno;
    memset(raw, 0, sizeof raw);
    if (rc == 0 && linkat(dfd, tmp, dfd, name, 0) != 0 && errno != EEXIST) {
        saved = errno;
        rc = -1;
    }
    unlinkat(dfd, tmp, 0);
    if (rc != 0)
        return errbuf_fail(err, size, "%s: cannot write: %s", path, strerror(saved));
    fsync(dfd);
    return 0;
}

int bosun_jwt_key_load(const char *state_dir, const char *name, bosun_jwt_key *key, char *err,
                       size_t err_size)
{
    memset(key, 0, sizeof *key);
    if (!state_dir || !name || !*name || strchr(name, '/') || strlen(name) > 200)
        return errbuf_fail(err, err_size, "bad key file name");
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", state_dir, name);
    int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return errbuf_fail(err, err_size, "%s: %s", state_dir, strerror(errno));
    int rc = -1;
    for (int attempt = 0; attempt < 2 && rc != 0; attempt++) {
        int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0) {
            rc = key_check_and_read(fd, path, key, err, err_size);
            close(fd);
            break;
        }
        if (errno != ENOENT || attempt > 0) {
            errbuf_fail(err, err_size, "%s: %s", path,
                        errno == ELOOP ? "a symbolic link, refused" : strerror(errno));
            break;
        }
        if (key_create(state_dir, dfd, name, path, err, err_size) != 0)
            break;
    }
    close(dfd);
    return rc;
}

/* ------------------------------------------------------------ sign */

static const char *const registered[] = {"iss", "aud", "sub", "jti", "iat", "exp", "nbf", NULL};

static int add_extra(jwt_t *jwt, json_t *extra)
{
    if (!extra)
        return 0;
    if (!json_is_object(extra))
        return -1;
    json_t *copy = json_deep_copy(extra);
    if (!copy)
        return -1;
    for (size_t i = 0; registered[i]; i++)
        json_object_del(copy, registered[i]);
    char *text = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    int rc = text ? jwt_add_grants_json(jwt, text) : -1;
    free(text);
    return rc;
}

char *bosun_jwt_sign(const bosun_jwt_key *key, const char *iss, const char *aud, const char *sub,
                     double now, double ttl, json_t *extra, char *jti_out)
{
    unsigned char raw[16];
    char jti[32];
    if (!key || key->len < BOSUN_JWT_KEY_MIN || !iss || !aud || !sub || ttl <= 0 ||
        bosun_random_bytes(raw, sizeof raw) != 0)
        return NULL;
    bosun_base64url_encode(raw, sizeof raw, jti, sizeof jti);
    jwt_t *jwt = NULL;
    char *out = NULL;
    if (jwt_new(&jwt) != 0)
        return NULL;
    if (jwt_set_alg(jwt, JWT_ALG_HS256, key->bytes, (int)key->len) == 0 &&
        jwt_add_grant(jwt, "iss", iss) == 0 && jwt_add_grant(jwt, "aud", aud) == 0 &&
        jwt_add_grant(jwt, "sub", sub) == 0 && jwt_add_grant(jwt, "jti", jti) == 0 &&
        jwt_add_grant_int(jwt, "iat", (long)now) == 0 &&
        jwt_add_grant_int(jwt, "exp", (long)(now + ttl)) == 0 && add_extra(jwt, extra) == 0)
        out = jwt_encode_str(jwt);
    jwt_free(jwt);
    if (out && jti_out)
        memcpy(jti_out, jti, strlen(jti) + 1);
    return out;
}

/* ------------------------------------------------------------ verify */

/* The header, decoded and read by us: exactly alg HS256 (and typ JWT). */
static int header_pinned(const char *token, size_t len, char *why, size_t size)
{
    unsigned char buf[HEADER_MAX + 1];
    long n = bosun_base64url_decode(token, len, buf, HEADER_MAX);
    if (n < 0)
        return errbuf_fail(why, size, "malformed header");
    buf[n] = '\0';
    json_t *h = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
    int rc = 0;
    const char *alg = json_string_value(json_object_get(h, "alg"));
    const char *typ = json_string_value(json_object_get(h, "typ"));
    if (!json_is_object(h))
        rc = errbuf_fail(why, size, "malformed header");
    else if (!alg || strcmp(alg, "HS256") != 0)
        rc = errbuf_fail(why, size, "algorithm %.16s refused: only HS256",
                         alg ? alg : "(none given)");
    else if (json_object_size(h) != 1u + (json_object_get(h, "typ") ? 1u : 0u) ||
             (json_object_get(h, "typ") && (!typ || strcmp(typ, "JWT") != 0)))
        rc = errbuf_fail(why, size, "header fields other than alg and typ refused");
    json_decref(h);
    return rc;
}

static int claim_string(json_t *c, const char *name, const char *want, char *out, size_t out_size,
                        char *why, size_t size)
{
    const char *v = json_string_value(json_object_get(c, name));
    if (!v || !*v)
        return errbuf_fail(why, size, "no %s claim", name);
    if (want && strcmp(v, want) != 0)
        return errbuf_fail(why, size, "wrong %s", name);
    if (out) {
        if (strlen(v) >= out_size)
            return errbuf_fail(why, size, "%s claim too long", name);
        memcpy(out, v, strlen(v) + 1);
    }
    return 0;
}

static int claims_check(json_t *c, const char *iss, const char *aud, double now,
                        bosun_jwt_claims *out, char *why, size_t size)
{
    json_t *iat = json_object_get(c, "iat"), *exp = json_object_get(c, "exp");
    if (claim_string(c, "iss", iss, NULL, 0, why, size) != 0 ||
        claim_string(c, "aud", aud, NULL, 0, why, size) != 0 ||
        claim_string(c, "sub", NULL, out->sub, sizeof out->sub, why, size) != 0 ||
        claim_string(c, "jti", NULL, out->jti, sizeof out->jti, why, size) != 0)
        return -1;
    if (!json_is_number(iat) || !json_is_number(exp))
        return errbuf_fail(why, size, "no iat or exp claim");
    out->iat = json_number_value(iat);
    out->exp = json_number_value(exp);
    if (out->iat > now + BOSUN_JWT_LEEWAY)
        return errbuf_fail(why, size, "issued in the future");
    if (out->exp <= now)
        return errbuf_fail(why, size, "expired");
    if (out->exp <= out->iat)
        return errbuf_fail(why, size, "expires before it was issued");
    if (json_object_get(c, "nbf"))
        return errbuf_fail(why, size, "nbf claim refused");
    out->extra = json_deep_copy(c);
    for (size_t i = 0; out->extra && registered[i]; i++)
        json_object_del(out->extra, registered[i]);
    return 0;
}

int bosun_jwt_verify(const bosun_jwt_key *key, const char *token, const char *iss, const char *aud,
                     double now, bosun_jwt_claims *claims, char *why, size_t why_size)
{
    memset(claims, 0, sizeof *claims);
    size_t len = token ? strnlen(token, BOSUN_JWT_TOKEN_MAX + 1) : 0;
    if (!key || key->len < BOSUN_JWT_KEY_MIN)
        return errbuf_fail(why, why_size, "no key");
    if (len == 0 || len > BOSUN_JWT_TOKEN_MAX)
        return errbuf_fail(why, why_size, "missing or too long");
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) || d2[1] == '\0')
        return errbuf_fail(why, why_size, "not a signed JWT");
    if (header_pinned(token, (size_t)(d1 - token), why, why_size) != 0)
        return -1;
    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, token, key->bytes, (int)key->len) != 0 || !jwt)
        return errbuf_fail(why, why_size, "bad signature or encoding");
    int rc = -1;
    char *text = NULL;
    json_t *c = NULL;
    if (jwt_get_alg(jwt) != JWT_ALG_HS256)
        errbuf_fail(why, why_size, "algorithm refused");
    else if (!(text = jwt_get_grants_json(jwt, NULL)) ||
             !(c = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) || !json_is_object(c))
        errbuf_fail(why, why_size, "malformed claims");
    else
        rc = claims_check(c, iss, aud, now, claims, why, why_size);
    json_decref(c);
    free(text);
    jwt_free(jwt);
    if (rc != 0)
        bosun_jwt_claims_clear(claims);
    return rc;
}

void bosun_jwt_claims_clear(bosun_jwt_claims *claims)
{
    json_decref(claims->extra);
    memset(claims, 0, sizeof *claims);
}
