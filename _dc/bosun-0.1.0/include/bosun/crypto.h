/* bosun — the crypto every part needs, on OpenSSL.
 *
 * One small wrapper so that callers never touch libcrypto's API: SHA-256
 * and HMAC-SHA256 (EVP), bytes from the kernel's random source, secrets
 * compared in constant time, unpadded base64url (RFC 4648 §5, what tokens
 * and JWTs are written in), and the opaque tokens the daemon issues
 * ("bat_…", "bsn_adm_…": a short prefix and 256 random bits). */
#ifndef BOSUN_CRYPTO_H
#define BOSUN_CRYPTO_H

#include <bosun/api.h>

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BOSUN_SHA256_SIZE 32
/* Characters of a token after its prefix: 32 random bytes in base64url. */
#define BOSUN_TOKEN_CHARS 43

BOSUN_API void bosun_sha256(const void *data, size_t len, unsigned char out[BOSUN_SHA256_SIZE]);
/* Lowercase hex, 64 characters and a NUL. */
BOSUN_API void bosun_sha256_hex(const void *data, size_t len, char out[2 * BOSUN_SHA256_SIZE + 1]);
/* HMAC-SHA256 of data under key.  0, or -1 when libcrypto fails. */
BOSUN_API int bosun_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                                unsigned char out[BOSUN_SHA256_SIZE]);

/* Whether the n bytes at a and b are equal, in time that depends on n
 * only (CRYPTO_memcmp): for secrets and their hashes. */
BOSUN_API bool bosun_crypto_equal(const void *a, const void *b, size_t n);
/* The same for two NUL-terminated strings: a length mismatch is told at
 * once (lengths are not secret), equal lengths are compared in constant
 * time.  false when either is NULL. */
BOSUN_API bool bosun_crypto_streq(const char *a, const char *b);

/* Unpadded base64url of len bytes into out, which holds out_size bytes
 * (at least 4 * ceil(len / 3) + 1).  The length written (without the NUL),
 * or 0 when out is too small. */
BOSUN_API size_t bosun_base64url_encode(const void *data, size_t len, char *out, size_t out_size);
/* Decodes unpadded base64url (no padding, no whitespace) into out (room for
 * out_size bytes).  The byte count, or -1 for text that is not canonical
 * base64url or does not fit. */
BOSUN_API long bosun_base64url_decode(const char *text, size_t len, unsigned char *out,
                                      size_t out_size);

/* A new token: prefix (1 to 15 bytes) then BOSUN_TOKEN_CHARS characters of
 * 256 random bits in base64url, and a NUL, into out (out_size bytes, at
 * least strlen(prefix) + BOSUN_TOKEN_CHARS + 1).  0, or -1 with errno
 * (EINVAL for a bad prefix or size, or the random source's error). */
BOSUN_API int bosun_token_new(const char *prefix, char *out, size_t out_size);

#ifdef __cplusplus
}
#endif
#endif
