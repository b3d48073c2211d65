/* <bosun/jwt.h>: round trip, and every token that must be refused: alg
 * none, RS256 signed with the HMAC key as if it were a public key, a
 * tampered payload, another key, expired, issued in the future, wrong aud
 * or iss, no jti, extra header fields; the key file's creation and its
 * refusals. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include <bosun/crypto.h>
#include <bosun/jwt.h>

#define ISS "bosun:test"
#define AUD "bosun-http"
#define NOW 1.8e9

static bosun_jwt_key key_of(char fill)
{
    bosun_jwt_key k;
    memset(k.bytes, fill, sizeof k.bytes);
    k.len = 32;
    return k;
}

static void b64(const char *s, char *out, size_t size)
{
    bosun_base64url_encode(s, strlen(s), out, size);
}

/* header.payload signed with HMAC-SHA256 under key, whatever the header
 * says: how an attacker builds a token. */
static char *forge(const char *header, const char *payload, const bosun_jwt_key *k)
{
    char h[512], p[1024], sig[64];
    b64(header, h, sizeof h);
    b64(payload, p, sizeof p);
    char *signing = malloc(strlen(h) + strlen(p) + 2);
    sprintf(signing, "%s.%s", h, p);
    unsigned char md[BOSUN_SHA256_SIZE];
    assert_int_equal(bosun_hmac_sha256(k->bytes, k->len, signing, strlen(signing), md), 0);
    bosun_base64url_encode(md, sizeof md, sig, sizeof sig);
    char *out = malloc(strlen(signing) + strlen(sig) + 2);
    sprintf(out, "%s.%s", signing, sig);
    free(signing);
    return out;
}

static void refused(const bosun_jwt_key *k, const char *token, const char *want_why)
{
    bosun_jwt_claims c;
    char why[128] = "";
    assert_int_equal(bosun_jwt_verify(k, token, ISS, AUD, NOW, &c, why, sizeof why), -1);
    assert_null(c.extra);
    if (want_why && !strstr(why, want_why))
        fail_msg("why \"%s\" lacks \"%s\"", why, want_why);
}

#define GOOD_CLAIMS                                                                                \
    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"admin:tok_1\",\"jti\":\"j1\","             \
    "\"iat\":1800000000,\"exp\":1800000600}"

static void test_round_trip(void **state)
{
    bosun_jwt_key k = key_of(7);
    char jti[72] = "";
    json_t *extra = json_pack("{s:s,s:s}", "role", "admin", "exp", "ignored");
    char *t = bosun_jwt_sign(&k, ISS, AUD, "admin:tok_1", NOW, 600, extra, jti);
    json_decref(extra);
    assert_non_null(t);
    assert_true(strlen(jti) >= 16);
    bosun_jwt_claims c;
    char why[128] = "";
    assert_int_equal(bosun_jwt_verify(&k, t, ISS, AUD, NOW + 1, &c, why, sizeof why), 0);
    assert_string_equal(c.sub, "admin:tok_1");
    assert_string_equal(c.jti, jti);
    assert_true(c.exp == NOW + 600 && c.iat == NOW);
    assert_string_equal(json_string_value(json_object_get(c.extra, "role")), "admin");
    bosun_jwt_claims_clear(&c);
    /* A token forged the same way as the attacks, but honestly, passes:
     * the refusals below are about what differs. */
    char *f = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", GOOD_CLAIMS, &k);
    assert_int_equal(bosun_jwt_verify(&k, f, ISS, AUD, NOW, &c, why, sizeof why), 0);
    bosun_jwt_claims_clear(&c);
    free(f);
    free(t);
}

static void test_alg_none(void **state)
{
    bosun_jwt_key k = key_of(7);
    char h[64], p[512], tok[700];
    b64("{\"alg\":\"none\",\"typ\":\"JWT\"}", h, sizeof h);
    b64(GOOD_CLAIMS, p, sizeof p);
    snprintf(tok, sizeof tok, "%s.%s.", h, p);
    refused(&k, tok, NULL);
    snprintf(tok, sizeof tok, "%s.%s.AAAA", h, p);
    refused(&k, tok, "only HS256");
    b64("{\"typ\":\"JWT\"}", h, sizeof h);
    snprintf(tok, sizeof tok, "%s.%s.AAAA", h, p);
    refused(&k, tok, "only HS256");
}

/* The classic confusion: alg RS256 and an HMAC made with the secret a
 * verifier would hand to RSA as the "public key". */
static void test_alg_rs256_with_hmac_key(void **state)
{
    bosun_jwt_key k = key_of(7);
    char *t = forge("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", GOOD_CLAIMS, &k);
    refused(&k, t, "only HS256");
    free(t);
    t = forge("{\"alg\":\"HS512\"}", GOOD_CLAIMS, &k);
    refused(&k, t, "only HS256");
    free(t);
    t = forge("{\"alg\":\"HS256\",\"kid\":\"../../etc/passwd\"}", GOOD_CLAIMS, &k);
    refused(&k, t, "other than alg");
    free(t);
    t = forge("{\"alg\":\"HS256\",\"typ\":\"xyz\"}", GOOD_CLAIMS, &k);
    refused(&k, t, "other than alg");
    free(t);
}

static void test_tampered_and_other_key(void **state)
{
    bosun_jwt_key k = key_of(7), other = key_of(8);
    char *t = bosun_jwt_sign(&k, ISS, AUD, "viewer:x", NOW, 600, NULL, NULL);
    assert_non_null(t);
    refused(&other, t, "signature");
    /* The payload of another token (an admin's), the signature of this one. */
    char *admin = bosun_jwt_sign(&k, ISS, AUD, "admin:tok_1", NOW, 600, NULL, NULL);
    char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
    char *a1 = strchr(admin, '.'), *a2 = strchr(a1 + 1, '.');
    char spliced[2048];
    snprintf(spliced, sizeof spliced, "%.*s%.*s%s", (int)(d1 - t), t, (int)(a2 - a1), a1, d2);
    refused(&k, spliced, "signature");
    /* One character of the signature changed. */
    size_t n = strlen(t);
    t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
    refused(&k, t, "signature");
    refused(&k, "", NULL);
    refused(&k, "a.b", "not a signed JWT");
    refused(&k, "a.b.c.d", "not a signed JWT");
    free(admin);
    free(t);
}

static void test_claims(void **state)
{
    bosun_jwt_key k = key_of(7);
    char *t = bosun_jwt_sign(&k, ISS, AUD, "admin:tok_1", NOW - 1000, 10, NULL, NULL);
    refused(&k, t, "expired");
    free(t);
    t = bosun_jwt_sign(&k, ISS, AUD, "admin:tok_1", NOW + 3600, 600, NULL, NULL);
    refused(&k, t, "future");
    free(t);
    t = bosun_jwt_sign(&k, ISS, "other-aud", "admin:tok_1", NOW, 600, NULL, NULL);
    refused(&k, t, "wrong aud");
    free(t);
    t = bosun_jwt_sign(&k, "bosun:elsewhere", AUD, "admin:tok_1", NOW, 600, NULL, NULL);
    refused(&k, t, "wrong iss");
    free(t);
    t = forge("{\"alg\":\"HS256\"}",
              "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"admin:tok_1\","
              "\"iat\":1800000000,\"exp\":1800000600}",
              &k);
    refused(&k, t, "no jti");
    free(t);
    t = forge("{\"alg\":\"HS256\"}",
              "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"admin:tok_1\",\"jti\":\"j\","
              "\"iat\":1800000000}",
              &k);
    refused(&k, t, "no iat or exp");
    free(t);
    t = forge("{\"alg\":\"HS256\"}",
              "{\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\"],\"sub\":\"admin:tok_1\",\"jti\":\"j\","
              "\"iat\":1800000000,\"exp\":1800000600}",
              &k);
    refused(&k, t, "aud");
    free(t);
}

static char dir[64];

static int setup_dir(void **state)
{
    strcpy(dir, "/tmp/test_jwt.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_key_file(void **state)
{
    bosun_jwt_key a, b;
    char err[512] = "", path[128];
    snprintf(path, sizeof path, "%s/jwt.key", dir);
    assert_int_equal(bosun_jwt_key_load(dir, "jwt.key", &a, err, sizeof err), 0);
    assert_int_equal(a.len, 32);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(bosun_jwt_key_load(dir, "jwt.key", &b, err, sizeof err), 0);
    assert_memory_equal(a.bytes, b.bytes, 32);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(bosun_jwt_key_load(dir, "jwt.key", &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "0640"));
    assert_int_equal(chmod(path, 0600), 0);
    /* Short, a symbolic link, a directory. */
    char p2[128];
    snprintf(p2, sizeof p2, "%s/short.key", dir);
    int fd = open(p2, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0 && write(fd, "0123456789", 10) == 10);
    close(fd);
    assert_int_equal(bosun_jwt_key_load(dir, "short.key", &b, err, sizeof err), -1);
    snprintf(p2, sizeof p2, "%s/link.key", dir);
    assert_int_equal(symlink(path, p2), 0);
    assert_int_equal(bosun_jwt_key_load(dir, "link.key", &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "symbolic link"));
    snprintf(p2, sizeof p2, "%s/sub.key", dir);
    assert_int_equal(mkdir(p2, 0700), 0);
    assert_int_equal(bosun_jwt_key_load(dir, "sub.key", &b, err, sizeof err), -1);
    assert_int_equal(bosun_jwt_key_load(dir, "../x", &b, err, sizeof err), -1);
    /* No temporary file is left behind. */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -c tmp", dir);
    FILE *ls = popen(cmd, "r");
    char line[16] = "";
    assert_non_null(fgets(line, sizeof line, ls));
    pclose(ls);
    assert_string_equal(line, "0\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_alg_rs256_with_hmac_key),
        cmocka_unit_test(test_tampered_and_other_key),
        cmocka_unit_test(test_claims),
        cmocka_unit_test_setup_teardown(test_key_file, setup_dir, teardown_dir),
    };
    return RUN_TESTS(tests);
}
