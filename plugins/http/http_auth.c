/* Credentials -> identities (scaffold: everything but anonymous access is
 * refused until the auth work lands). */
#include <stdlib.h>
#include <string.h>

#include "http.h"

struct http_auth {
    http_server *srv;
};

const http_route http_auth_routes[1] = {{0}};
const size_t http_auth_n_routes = 0;

http_auth *http_auth_new(http_server *srv, const http_config *cfg, cfg_diag *diag)
{
    (void)cfg;
    (void)diag;
    http_auth *a = calloc(1, sizeof *a);
    if (a)
        a->srv = srv;
    return a;
}

int http_auth_reload(http_auth *a, const http_config *cfg, cfg_diag *diag)
{
    (void)a;
    (void)cfg;
    (void)diag;
    return 0;
}

void http_auth_free(http_auth *a)
{
    free(a);
}

void http_auth_request(http_request *r, unsigned allow, void (*done)(http_request *r, int status))
{
    memset(&r->id, 0, sizeof r->id);
    if (allow & HTTP_ALLOW_ANON) {
        done(r, 0);
        return;
    }
    http_respond_error(r, 401, "unauthorized", "no credential accepted yet");
    done(r, 401);
}

void http_auth_token(http_auth *a, const char *token, const char *peer, http_auth_token_cb done,
                     void *arg)
{
    (void)a;
    (void)token;
    (void)peer;
    done(arg, 401, NULL);
}

void http_identity_clear(http_identity *id)
{
    if (id->who)
        bus_principal_free(id->who);
    memset(id, 0, sizeof *id);
}
