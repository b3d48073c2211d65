#include "config.h"

#include "token.h"

#include <bosun/crypto.h>
#include <string.h>

int token_new(char out[TOKEN_LEN + 1])
{
    return bosun_token_new(TOKEN_PREFIX, out, TOKEN_LEN + 1);
}

void token_hash(const char *text, char hex[TOKEN_HASH_LEN + 1])
{
    bosun_sha256_hex(text, strlen(text), hex);
}
