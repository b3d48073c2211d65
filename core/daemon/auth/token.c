#include "config.h"

#include "token.h"
#include "util.h"

#include <bosun/codec.h>
#include <string.h>

int token_new(char out[TOKEN_LEN + 1])
{
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[33] = {0};
    if (bosun_random_bytes(raw, 32) != 0)
        return -1;
    memcpy(out, TOKEN_PREFIX, 4);
    char *o = out + 4;
    /* 32 bytes = 10 groups of 3 + 2 left: 43 characters without padding. */
    for (size_t i = 0; i < 33; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
        *o++ = b64url[v >> 18];
        *o++ = b64url[(v >> 12) & 63];
        *o++ = b64url[(v >> 6) & 63];
        if (i + 3 < 33)
            *o++ = b64url[v & 63];
    }
    out[TOKEN_LEN] = '\0';
    return 0;
}

void token_hash(const char *text, char hex[TOKEN_HASH_LEN + 1])
{
    bosun_sha256_hex(text, strlen(text), hex);
}
