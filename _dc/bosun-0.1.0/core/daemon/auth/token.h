/* Agent tokens: 256 random bits, shown once to the run they belong to,
 * kept everywhere else only as a SHA-256 hash. */
#ifndef BOSUN_TOKEN_H
#define BOSUN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include <bosun/crypto.h>

#define TOKEN_PREFIX   "bat_"
#define TOKEN_LEN      (4 + BOSUN_TOKEN_CHARS) /* prefix + 32 bytes in unpadded base64url */
#define TOKEN_HASH_LEN 64                      /* hex SHA-256 */

/* Writes a new token (and its NUL). Returns 0, or -1 without randomness. */
int token_new(char out[TOKEN_LEN + 1]);
/* Hex SHA-256 of text (and its NUL) into hex. */
void token_hash(const char *text, char hex[TOKEN_HASH_LEN + 1]);

#endif
