/* TLS with OpenSSL, non-blocking on the loop.
 *
 * TLS 1.2 at least, no renegotiation, no compression.  The context is
 * built from the cert and key files at start and again at every reload
 * (so a renewed certificate is picked up by `bosunctl reload`); each SSL
 * holds its own reference to the context it was made from, so open
 * connections keep theirs until they close. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "http_int.h"

struct http_tls {
    SSL_CTX *ctx;
};

static const char *ssl_error_text(char *buf, size_t size)
{
    unsigned long e = ERR_get_error();
    if (!e)
        snprintf(buf, size, "unknown error");
    else
        ERR_error_string_n(e, buf, size);
    ERR_clear_error();
    return buf;
}

/* Names the file and says why: a missing file reads better from errno
 * than from OpenSSL's queue. */
static bool file_readable(const char *what, const char *path, cfg_diag *d, const cfg_node *where)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cfg_error(d, where, "http.tls.%s: %s: %s", what, path, strerror(errno));
    fclose(f);
    return true;
}

static SSL_CTX *tls_context(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    return ctx;
}

http_tls *http_tls_new(const char *cert, const char *key, cfg_diag *d, const cfg_node *where)
{
    char err[256];
    if (!file_readable("cert", cert, d, where) || !file_readable("key", key, d, where))
        return NULL;
    SSL_CTX *ctx = tls_context();
    if (!ctx) {
        cfg_error(d, where, "http.tls: cannot make a TLS context: %s",
                  ssl_error_text(err, sizeof err));
        return NULL;
    }
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        cfg_error(d, where, "http.tls.cert: %s: not a PEM certificate chain: %s", cert,
                  ssl_error_text(err, sizeof err));
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        cfg_error(d, where, "http.tls.key: %s: not a PEM private key: %s", key,
                  ssl_error_text(err, sizeof err));
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        cfg_error(d, where, "http.tls.key: %s does not match the certificate %s", key, cert);
        ERR_clear_error();
        goto fail;
    }
    http_tls *t = calloc(1, sizeof *t);
    if (!t) {
        cfg_error(d, where, "http.tls: out of memory");
        goto fail;
    }
    t->ctx = ctx;
    return t;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void http_tls_free(http_tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

void *http_tls_conn_new(http_tls *t, int fd)
{
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl)
        return NULL;
    if (SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_accept_state(ssl);
    return ssl;
}

void http_tls_conn_free(void *ssl)
{
    SSL_free(ssl);
}

int http_tls_handshake(void *ssl, int *want, char *why, size_t why_size)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(ssl);
    if (rc == 1)
        return 1;
    int e = SSL_get_error(ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        *want = e == SSL_ERROR_WANT_READ ? HTTP_WANT_READ : HTTP_WANT_WRITE;
        return 0;
    }
    if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
        snprintf(why, why_size, "%s", errno ? strerror(errno) : "the client closed");
    else
        ssl_error_text(why, why_size);
    ERR_clear_error();
    return -1;
}

/* Maps SSL_get_error to the socket conventions of the caller. */
static ssize_t io_result(SSL *ssl, int rc, int *want)
{
    int e = SSL_get_error(ssl, rc);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        *want = HTTP_WANT_READ;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        *want = HTTP_WANT_WRITE;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == 0)
            return 0;
        break;
    default:
        errno = EPROTO;
        break;
    }
    ERR_clear_error();
    if (errno == EAGAIN)
        errno = EIO;
    return -1;
}

ssize_t http_tls_recv(void *ssl, void *buf, size_t n, int *want)
{
    ERR_clear_error();
    errno = 0;
    int len = n > INT32_MAX ? INT32_MAX : (int)n;
    int rc = SSL_read(ssl, buf, len);
    if (rc > 0)
        return rc;
    return io_result(ssl, rc, want);
}

ssize_t http_tls_send(void *ssl, const void *buf, size_t n, int *want)
{
    if (n == 0)
        return 0;
    ERR_clear_error();
    errno = 0;
    int len = n > INT32_MAX ? INT32_MAX : (int)n;
    int rc = SSL_write(ssl, buf, len);
    if (rc > 0)
        return rc;
    return io_result(ssl, rc, want);
}

void http_tls_shutdown(void *ssl)
{
    ERR_clear_error();
    SSL_shutdown(ssl);
    ERR_clear_error();
}
