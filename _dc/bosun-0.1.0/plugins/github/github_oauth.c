/* The login's bus side: cmd.github.auth.start and .callback (the web
 * flow, see github_oauth_state.c for its state and PKCE), .device and
 * .poll (github_oauth_device.c).  The http plugin's routes are the only
 * callers meant; what they get back is a login and its role, never a
 * credential: the bosun session is theirs to issue. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "curl_ev.h"
#include "github_oauth.h"

typedef struct exchange exchange;

struct github_oauth {
    github *g;
    gh_state *state;
    gh_devices *devices;
    bus_sub *subs[4];
    exchange *exchanges; /* callbacks in flight, cancelled by free */
};

/* One callback: the code exchange, then the user check. */
struct exchange {
    exchange *next, **prevp;
    github_oauth *o;
    char *reply;
    curl_ev_fetch *fetch;
    gh_user *user;
};

/* ------------------------------------------------------------ shared */

void gh_reply_error(bus_t *bus, const bus_msg *m, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = bus_error_json(code, "%s", msg);
    if (m->reply && e)
        bus_reply(bus, m, e);
    json_decref(e);
}

char *gh_form(const char *const *pairs)
{
    size_t cap = 1, len = 0;
    for (size_t i = 0; pairs[i]; i += 2)
        cap += strlen(pairs[i]) + 3 * strlen(pairs[i + 1]) + 2;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; pairs[i]; i += 2) {
        char *v = curl_easy_escape(NULL, pairs[i + 1], 0);
        if (!v) {
            explicit_bzero(out, cap);
            free(out);
            return NULL;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s%s=%s", i ? "&" : "", pairs[i], v);
        explicit_bzero(v, strlen(v));
        curl_free(v);
    }
    return out;
}

curl_ev_fetch *gh_post_form(github *g, const char *path, const char *form, curl_ev_fetch_fn done,
                            void *arg, char *err, size_t err_size)
{
    char url[GITHUB_URL_MAX + 64];
    snprintf(url, sizeof url, "%s%s", g->cfg.web_url, path);
    static const char *const headers[] = {"Accept: application/json",
                                          "Content-Type: application/x-www-form-urlencoded", NULL};
    curl_ev_request req = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .body = form,
        .body_len = strlen(form),
        .timeout_ms = (long)(g->cfg.request_timeout * 1000),
        .max_body = GH_ANSWER_MAX + 1,
        .ca_file = g->cfg.ca_file,
    };
    return curl_ev_fetch_start(g->curl, &req, done, arg, err, err_size);
}

/* A string member of 1 to max visible ASCII bytes, or NULL. */
static const char *word(const json_t *data, const char *key, size_t max)
{
    const char *s = json_string_value(json_object_get(data, key));
    size_t n = s ? strnlen(s, max + 1) : 0;
    if (n == 0 || n > max)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return NULL;
    return s;
}

static bool configured(github_oauth *o, bus_t *bus, const bus_msg *m)
{
    if (o->g->cfg.client_id && o->g->cfg.client_secret)
        return true;
    gh_reply_error(bus, m, "not_configured",
                   "GitHub login is not configured: github.client_id and "
                   "github.client_secret_file are needed");
    return false;
}

/* ------------------------------------------------------------ start */

static void on_start(bus_t *bus, const bus_msg *m, void *arg)
{
    github_oauth *o = arg;
    if (!m->reply || !configured(o, bus, m))
        return;
    const char *ru = word(m->data, "redirect_uri", GITHUB_URL_MAX);
    if (!ru || (strncmp(ru, "http://", 7) != 0 && strncmp(ru, "https://", 8) != 0))
        return gh_reply_error(bus, m, "bad_request", "\"redirect_uri\" must be an http(s) URL");
    char id[72], challenge[GH_CHALLENGE_SIZE];
    char *state = gh_state_issue(o->state, ru, id, challenge);
    if (!state)
        return gh_reply_error(bus, m, "internal", "cannot make a login state");
    const char *scope = o->g->cfg.allowed_orgs ? "read:user read:org" : "read:user";
    const char *pairs[] = {"client_id",
                           o->g->cfg.client_id,
                           "redirect_uri",
                           ru,
                           "scope",
                           scope,
                           "state",
                           state,
                           "code_challenge",
                           challenge,
                           "code_challenge_method",
                           "S256",
                           "allow_signup",
                           "false",
                           NULL};
    char *q = gh_form(pairs);
    free(state);
    if (!q)
        return gh_reply_error(bus, m, "internal", "out of memory");
    size_t n = strlen(o->g->cfg.web_url) + strlen(q) + 32;
    char *url = malloc(n);
    if (url)
        snprintf(url, n, "%s/login/oauth/authorize?%s", o->g->cfg.web_url, q);
    free(q);
    json_t *reply = url ? json_pack("{s:s,s:s}", "url", url, "binding", id) : NULL;
    free(url);
    if (!reply)
        return gh_reply_error(bus, m, "internal", "out of memory");
    bus_reply(bus, m, reply);
    json_decref(reply);
}

/* ------------------------------------------------------------ callback */

static exchange *exchange_new(github_oauth *o, const bus_msg *m)
{
    exchange *x = calloc(1, sizeof *x);
    if (!x || !(x->reply = strdup(m->reply))) {
        free(x);
        return NULL;
    }
    x->o = o;
    x->next = o->exchanges;
    if (x->next)
        x->next->prevp = &x->next;
    x->prevp = &o->exchanges;
    o->exchanges = x;
    return x;
}

static void exchange_free(exchange *x)
{
    if (x->fetch)
        curl_ev_fetch_cancel(x->fetch);
    gh_user_cancel(x->user);
    *x->prevp = x->next;
    if (x->next)
        x->next->prevp = x->prevp;
    free(x->reply);
    free(x);
}

/* Answers and ends x; data stolen. */
static void exchange_reply(exchange *x, json_t *data)
{
    bus_publish_new(x->o->g->ctx->bus, x->reply, NULL, data);
    exchange_free(x);
}

static void exchange_user(void *arg, const char *login, const char *role, const char *code,
                          const char *why)
{
    exchange *x = arg;
    x->user = NULL;
    exchange_reply(x, gh_user_reply("web", login, role, code, why));
}

static void exchange_token(const curl_ev_response *r, void *arg)
{
    exchange *x = arg;
    x->fetch = NULL;
    gh_token_answer t;
    char why[256];
    if (gh_answer_failed("the login's code", r, why, sizeof why))
        return exchange_reply(x, bus_error_json("unavailable", "%s", why));
    if (gh_parse_token(r->body, r->body_len, &t, why, sizeof why) != 0) {
        log_warning("github: web login: %s", why);
        return exchange_reply(x, bus_error_json("unavailable", "%s", why));
    }
    if (t.error[0]) {
        log_notice("github: web login: GitHub refused the code: %s", t.error);
        return exchange_reply(
            x, bus_error_json("bad_request", "GitHub refused the login's code (%s)", t.error));
    }
    x->user = gh_user_check(x->o->g, t.token, exchange_user, x);
    explicit_bzero(&t, sizeof t);
    if (!x->user)
        exchange_reply(x, bus_error_json("unavailable", "cannot ask GitHub for the user"));
}

static void on_callback(bus_t *bus, const bus_msg *m, void *arg)
{
    github_oauth *o = arg;
    if (!m->reply || !configured(o, bus, m))
        return;
    const char *code = word(m->data, "code", GH_CODE_MAX);
    const char *state = word(m->data, "state", BOSUN_JWT_TOKEN_MAX);
    const char *binding = word(m->data, "binding", 71);
    if (!code || !state)
        return gh_reply_error(bus, m, "bad_request",
                              "the callback needs \"code\" and \"state\" (1 to %d and %d visible "
                              "ASCII bytes)",
                              GH_CODE_MAX, BOSUN_JWT_TOKEN_MAX);
    char *ru = NULL, verifier[GH_VERIFIER_LEN + 1], why[256];
    bool busy;
    if (gh_state_take(o->state, state, binding, &ru, verifier, &busy, why, sizeof why) != 0)
        return gh_reply_error(bus, m, busy ? "busy" : "bad_state", "%s", why);
    const char *pairs[] = {"client_id",
                           o->g->cfg.client_id,
                           "client_secret",
                           o->g->cfg.client_secret,
                           "code",
                           code,
                           "redirect_uri",
                           ru,
                           "code_verifier",
                           verifier,
                           NULL};
    char *form = gh_form(pairs);
    explicit_bzero(verifier, sizeof verifier);
    free(ru);
    exchange *x = form ? exchange_new(o, m) : NULL;
    char err[256] = "out of memory";
    if (x && !(x->fetch = gh_post_form(o->g, "/login/oauth/access_token", form, exchange_token, x,
                                       err, sizeof err))) {
        exchange_free(x);
        x = NULL;
    }
    if (form) {
        explicit_bzero(form, strlen(form));
        free(form);
    }
    if (!x)
        gh_reply_error(bus, m, "unavailable", "cannot ask GitHub for the token: %s", err);
}

/* ------------------------------------------------------------ device */

static void on_device(bus_t *bus, const bus_msg *m, void *arg)
{
    github_oauth *o = arg;
    if (m->reply && configured(o, bus, m))
        gh_devices_start(o->devices, m);
}

static void on_poll(bus_t *bus, const bus_msg *m, void *arg)
{
    github_oauth *o = arg;
    if (m->reply && configured(o, bus, m))
        gh_devices_poll(o->devices, m);
}

/* ------------------------------------------------------------ lifecycle */

github_oauth *github_oauth_new(github *g, cfg_diag *d)
{
    github_oauth *o = calloc(1, sizeof *o);
    char err[256];
    if (!o)
        return cfg_error(d, NULL, "github: out of memory"), NULL;
    o->g = g;
    if (!(o->state = gh_state_new(g->ctx->state_dir, err, sizeof err))) {
        cfg_error(d, NULL, "github: the login's key: %s", err);
        free(o);
        return NULL;
    }
    o->devices = gh_devices_new(g);
    static const char *const subjects[] = {GH_AUTH_START, GH_AUTH_CALLBACK, GH_AUTH_DEVICE,
                                           GH_AUTH_POLL};
    bus_handler handlers[] = {on_start, on_callback, on_device, on_poll};
    for (size_t i = 0; o->devices && i < 4; i++)
        if (!(o->subs[i] = bus_subscribe(g->ctx->bus, subjects[i], handlers[i], o))) {
            cfg_error(d, NULL, "github: cannot subscribe to %s", subjects[i]);
            github_oauth_free(o);
            return NULL;
        }
    if (!o->devices) {
        cfg_error(d, NULL, "github: out of memory");
        github_oauth_free(o);
        return NULL;
    }
    return o;
}

void github_oauth_free(github_oauth *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < 4; i++)
        if (o->subs[i])
            bus_unsubscribe(o->g->ctx->bus, o->subs[i]);
    while (o->exchanges)
        exchange_free(o->exchanges);
    gh_devices_free(o->devices);
    gh_state_free(o->state);
    free(o);
}
