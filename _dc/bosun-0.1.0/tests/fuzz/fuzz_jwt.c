/* libFuzzer target for session tokens: bosun_jwt_verify() on arbitrary
 * text, under a fixed key, at a fixed time.  Whatever the bytes, it must
 * return 0 or -1 without a crash or a leak, leave the claims cleared on
 * -1, and accept only what a token signed with the key would say: so an
 * accepted input must carry the sub, jti and times it claims (bounded),
 * and its header must be HS256.  The input is also tried as the payload
 * of an honestly signed token (header {"alg":"HS256"} + the bytes as
 * claims), which reaches the claim checks behind the signature. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/crypto.h>
#include <bosun/jwt.h>

#define NOW 1.8e9

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void verify(const bosun_jwt_key *k, const char *text)
{
    bosun_jwt_claims c;
    char why[160];
    int rc = bosun_jwt_verify(k, text, "bosun:fuzz", "bosun-http", NOW, &c, why, sizeof why);
    if (rc != 0) {
        if (c.extra || c.sub[0] || c.jti[0])
            abort(); /* a refusal leaves nothing behind */
        return;
    }
    if (!c.sub[0] || !c.jti[0] || !(c.exp > NOW) || c.iat > NOW + BOSUN_JWT_LEEWAY)
        abort();
    bosun_jwt_claims_clear(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bosun_jwt_key k;
    memset(k.bytes, 0x5a, sizeof k.bytes);
    k.len = 32;
    if (size > 8192)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    verify(&k, text);
    /* The bytes as the claims of a token signed with the key. */
    char *signing = malloc(2 * size + 64), *tok = malloc(2 * size + 128);
    if (signing && tok) {
        size_t h = bosun_base64url_encode("{\"alg\":\"HS256\"}", 15, signing, 32);
        signing[h] = '.';
        size_t p = bosun_base64url_encode(data, size, signing + h + 1, 2 * size + 63 - h);
        unsigned char md[BOSUN_SHA256_SIZE];
        char sig[64];
        if (bosun_hmac_sha256(k.bytes, k.len, signing, h + 1 + p, md) == 0) {
            bosun_base64url_encode(md, sizeof md, sig, sizeof sig);
            snprintf(tok, 2 * size + 128, "%s.%s", signing, sig);
            verify(&k, tok);
        }
    }
    free(signing);
    free(tok);
    free(text);
    return 0;
}
