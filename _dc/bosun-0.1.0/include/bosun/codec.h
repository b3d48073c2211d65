/* bosun — small codecs plugins share: base64 (RFC 4648, padded) and UTF-8
 * decoding.  Hashes, random bytes and base64url are in <bosun/crypto.h>. */
#ifndef BOSUN_CODEC_H
#define BOSUN_CODEC_H

#include <bosun/api.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Padded base64 of len bytes: malloc'ed, NUL-terminated. */
BOSUN_API char *bosun_base64_encode(const void *data, size_t len);
/* Decodes padded base64; malloc'ed (*out_len bytes), or NULL when text is
 * not base64. */
BOSUN_API unsigned char *bosun_base64_decode(const char *text, size_t *out_len);

/* The length (1 to 4) of the well-formed UTF-8 sequence that starts text
 * (n bytes at most) with its code point in *cp, or 0 when it is not one:
 * overlong forms, surrogates and code points past U+10FFFF are refused. */
BOSUN_API size_t bosun_utf8_next(const char *text, size_t n, uint32_t *cp);
/* Whether n bytes are well-formed UTF-8 without NUL. */
BOSUN_API bool bosun_utf8_text(const char *text, size_t n);

#ifdef __cplusplus
}
#endif
#endif
