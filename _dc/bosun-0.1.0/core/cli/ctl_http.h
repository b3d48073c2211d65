/* bosunctl over HTTP: `--url https://host:port --token-file F`.
 *
 * A ctl_conn (ctl_client.h) whose requests go to a remote bosund's REST API
 * (/api/v1, libcurl's easy interface) and whose subscriptions follow its
 * /ws event stream (ctl_ws.c).  Bus requests are translated subject by
 * subject into REST calls, and the REST replies back into the bus replies
 * the commands already print, so output is the same as over the control
 * socket.  TLS peers are verified (--cacert for a private CA); every call
 * has a time limit and every response a size limit. */
#ifndef BOSUN_CTL_HTTP_H
#define BOSUN_CTL_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

#include "ctl_client.h"

/* Bytes of one REST response or of one /ws message, at most. */
#define CTL_HTTP_RESPONSE_MAX ((size_t)64 << 20)
/* Seconds to connect (TCP and TLS). */
#define CTL_HTTP_CONNECT_TIMEOUT 10.0
/* Bytes of a token file, at most. */
#define CTL_HTTP_TOKEN_MAX 4096

/* Where the daemon is and how to prove who we are; shared by the REST
 * calls and /ws. */
typedef struct ctl_http_target {
    char *base;   /* "https://host:port" and the URL's path, without a trailing '/' */
    char *host;   /* as in the URL: "host", "[::1]" */
    char *port;   /* explicit or the scheme's */
    char *prefix; /* the URL's path, "" or "/x" */
    int tls;
    char *auth;   /* "Authorization: Bearer <token>": a secret, never printed */
    char *cacert; /* --cacert, or NULL for the system's CAs */
} ctl_http_target;

/* Opens the HTTP transport: checks the URL (http or https, no user,
 * query or fragment) and reads the token from token_file (refused when
 * others may read it).  Connects nothing yet.  On failure returns NULL,
 * with a reason in err and the exit code in *code. */
ctl_conn *ctl_http_open(const char *url, const char *token_file, const char *cacert, int *code,
                        char *err, size_t err_size);

/* An easy handle set up for the target (TLS verification, CA, no
 * proxies, http/https only, connect timeout), with a total timeout
 * (seconds; <= 0: none). */
CURL *ctl_http_easy(const ctl_http_target *t, double timeout);

/* The readable form of a failed transfer: curl's detailed message if it
 * gave one, else its code's. */
void ctl_http_describe(const ctl_http_target *t, CURLcode rc, const char *detail, char *err,
                       size_t err_size);

#endif
