/* The device flow for `bosunctl login --github`.
 *
 * cmd.github.auth.device asks GitHub's /login/device/code and keeps the
 * device code here, behind a random handle (the only thing the client
 * gets besides the user code and the URL to enter it at).  Each
 * cmd.github.auth.poll with that handle polls GitHub's token endpoint at
 * most once per interval, whatever the client does: a poll that comes
 * early, or while one is in flight, is answered "pending" at once.
 * authorization_pending stays pending; slow_down raises the interval by
 * 5 s (or to what GitHub says) and says so; expired_token, access_denied
 * and a refused user end the login; a token is checked as in the web flow
 * (github_oauth_user.c) and then forgotten.  At most GH_DEVICE_MAX logins
 * are in progress at once, each for at most GH_DEVICE_TTL. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/crypto.h>
#include <bosun/sys.h>

#include "curl_ev.h"
#include "github_oauth.h"

#define HANDLE_PREFIX "ghd_"
#define HANDLE_SIZE   (sizeof HANDLE_PREFIX + BOSUN_TOKEN_CHARS)

enum slot_state { SLOT_FREE = 0, SLOT_STARTING, SLOT_WAITING, SLOT_POLLING };

typedef struct slot {
    gh_devices *d;
    enum slot_state st;
    char handle[HANDLE_SIZE];
    char device_code[GH_CODE_MAX + 1];
    double expires;   /* monotonic */
    double next_poll; /* monotonic: GitHub is not asked before */
    long interval;
    char *reply; /* the request waiting on fetch or user */
    curl_ev_fetch *fetch;
    gh_user *user;
} slot;

struct gh_devices {
    github *g;
    slot slots[GH_DEVICE_MAX];
};

gh_devices *gh_devices_new(github *g)
{
    gh_devices *d = calloc(1, sizeof *d);
    if (d)
        d->g = g;
    for (size_t i = 0; d && i < GH_DEVICE_MAX; i++)
        d->slots[i].d = d;
    return d;
}

static void slot_clear(slot *s)
{
    if (s->fetch)
        curl_ev_fetch_cancel(s->fetch);
    gh_user_cancel(s->user);
    free(s->reply);
    gh_devices *d = s->d;
    explicit_bzero(s, sizeof *s);
    s->d = d;
}

void gh_devices_free(gh_devices *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < GH_DEVICE_MAX; i++)
        slot_clear(&d->slots[i]);
    free(d);
}

/* Answers the waiting request; data stolen. */
static void slot_reply(slot *s, json_t *data)
{
    char *reply = s->reply;
    s->reply = NULL;
    bus_publish_new(s->d->g->ctx->bus, reply, NULL, data);
    free(reply);
}

/* Ends the login with a final answer; data stolen. */
static void slot_end(slot *s, json_t *data)
{
    s->fetch = NULL;
    s->user = NULL;
    slot_reply(s, data);
    slot_clear(s);
}

static slot *slot_free_one(gh_devices *d, double now)
{
    slot *found = NULL;
    for (size_t i = 0; i < GH_DEVICE_MAX; i++) {
        slot *s = &d->slots[i];
        if (s->st == SLOT_WAITING && s->expires <= now)
            slot_clear(s);
        if (!found && s->st == SLOT_FREE)
            found = s;
    }
    return found;
}

/* Constant time in the handle: every slot is compared. */
static slot *slot_find(gh_devices *d, const char *handle)
{
    slot *found = NULL;
    for (size_t i = 0; i < GH_DEVICE_MAX; i++)
        if (d->slots[i].st != SLOT_FREE && bosun_crypto_streq(d->slots[i].handle, handle))
            found = &d->slots[i];
    return found;
}

static json_t *pending(const slot *s, const char *status)
{
    return json_pack("{s:s,s:i}", "status", status, "interval", (json_int_t)s->interval);
}

/* ------------------------------------------------------------ start */

static void on_code(const curl_ev_response *r, void *arg)
{
    slot *s = arg;
    s->fetch = NULL;
    gh_device_answer a;
    char why[256];
    if (gh_answer_failed("a device code", r, why, sizeof why))
        return slot_end(s, bus_error_json("unavailable", "%s", why));
    if (gh_parse_device(r->body, r->body_len, &a, why, sizeof why) != 0) {
        gh_token_answer t;
        char why2[64];
        if (gh_parse_token(r->body, r->body_len, &t, why2, sizeof why2) == 0 && t.error[0])
            snprintf(why, sizeof why, "GitHub refused the device login (%s)", t.error);
        log_warning("github: device login: %s", why);
        return slot_end(s, bus_error_json("unavailable", "%s", why));
    }
    double now = bosun_monotonic();
    double ttl = a.expires_in < GH_DEVICE_TTL ? (double)a.expires_in : GH_DEVICE_TTL;
    memcpy(s->device_code, a.device_code, sizeof s->device_code);
    s->interval = a.interval;
    s->expires = now + ttl;
    s->next_poll = now + (double)a.interval;
    s->st = SLOT_WAITING;
    slot_reply(s, json_pack("{s:s,s:s,s:s,s:i,s:i}", "handle", s->handle, "user_code", a.user_code,
                            "verification_uri", a.verification_uri, "interval",
                            (json_int_t)a.interval, "expires_in", (json_int_t)ttl));
    explicit_bzero(&a, sizeof a);
}

void gh_devices_start(gh_devices *d, const bus_msg *m)
{
    bus_t *bus = d->g->ctx->bus;
    slot *s = slot_free_one(d, bosun_monotonic());
    if (!s)
        return gh_reply_error(bus, m, "busy",
                              "%d device logins are in progress: try again in a few minutes",
                              GH_DEVICE_MAX);
    if (bosun_token_new(HANDLE_PREFIX, s->handle, sizeof s->handle) != 0 ||
        !(s->reply = strdup(m->reply))) {
        slot_clear(s);
        return gh_reply_error(bus, m, "internal", "cannot make a login handle");
    }
    s->st = SLOT_STARTING;
    const char *scope = d->g->cfg.allowed_orgs ? "read:user read:org" : "read:user";
    const char *pairs[] = {"client_id", d->g->cfg.client_id, "scope", scope, NULL};
    char *form = gh_form(pairs), err[256] = "out of memory";
    if (form)
        s->fetch = gh_post_form(d->g, "/login/device/code", form, on_code, s, err, sizeof err);
    free(form);
    if (!s->fetch) {
        slot_clear(s);
        gh_reply_error(bus, m, "unavailable", "cannot ask GitHub for a device code: %s", err);
    }
}

/* ------------------------------------------------------------ poll */

static void on_user(void *arg, const char *login, const char *role, const char *code,
                    const char *why)
{
    slot *s = arg;
    s->user = NULL;
    json_t *reply = gh_user_reply("device", login, role, code, why);
    if (role)
        json_object_set_new(reply, "status", json_string("ok"));
    slot_end(s, reply);
}

/* GitHub's error answers of the device grant: what they do here. */
static void on_grant_error(slot *s, const gh_token_answer *t)
{
    if (strcmp(t->error, "authorization_pending") == 0) {
        s->st = SLOT_WAITING;
        return slot_reply(s, pending(s, "pending"));
    }
    if (strcmp(t->error, "slow_down") == 0) {
        s->interval = t->interval > s->interval ? t->interval : s->interval + 5;
        s->next_poll = bosun_monotonic() + (double)s->interval;
        s->st = SLOT_WAITING;
        return slot_reply(s, pending(s, "slow_down"));
    }
    if (strcmp(t->error, "expired_token") == 0)
        return slot_end(s, bus_error_json("expired", "the code expired before it was entered on "
                                                     "GitHub: log in again"));
    if (strcmp(t->error, "access_denied") == 0)
        return slot_end(s, bus_error_json("access_denied", "the login was refused on GitHub"));
    log_warning("github: device login: GitHub answered %s", t->error);
    slot_end(s, bus_error_json("unavailable", "GitHub refused the device login (%s)", t->error));
}

static void on_grant(const curl_ev_response *r, void *arg)
{
    slot *s = arg;
    s->fetch = NULL;
    gh_token_answer t;
    char why[256];
    bool failed = gh_answer_failed("a device login's poll", r, why, sizeof why);
    if (!failed && gh_parse_token(r->body, r->body_len, &t, why, sizeof why) != 0) {
        log_warning("github: device login: %s", why);
        failed = true;
    }
    if (failed) {
        /* A failed poll does not end the login: the next one may pass. */
        s->st = SLOT_WAITING;
        return slot_reply(s, pending(s, "pending"));
    }
    if (t.error[0])
        return on_grant_error(s, &t);
    s->user = gh_user_check(s->d->g, t.token, on_user, s);
    explicit_bzero(&t, sizeof t);
    if (!s->user)
        slot_end(s, bus_error_json("unavailable", "cannot ask GitHub for the user"));
}

void gh_devices_poll(gh_devices *d, const bus_msg *m)
{
    bus_t *bus = d->g->ctx->bus;
    const char *handle = json_string_value(json_object_get(m->data, "handle"));
    slot *s = handle && strlen(handle) < HANDLE_SIZE ? slot_find(d, handle) : NULL;
    double now = bosun_monotonic();
    if (s && s->st == SLOT_WAITING && s->expires <= now) {
        slot_clear(s);
        return gh_reply_error(bus, m, "expired", "the device login expired: log in again");
    }
    if (!s || s->st == SLOT_STARTING)
        return gh_reply_error(bus, m, "not_found", "no device login in progress has this handle");
    if (s->st == SLOT_POLLING || now < s->next_poll) {
        json_t *p = pending(s, "pending");
        bus_reply(bus, m, p);
        json_decref(p);
        return;
    }
    const char *pairs[] = {"client_id",   d->g->cfg.client_id,
                           "device_code", s->device_code,
                           "grant_type",  "urn:ietf:params:oauth:grant-type:device_code",
                           NULL};
    char *form = gh_form(pairs), err[256] = "out of memory";
    if (form && (s->reply = strdup(m->reply)))
        s->fetch =
            gh_post_form(d->g, "/login/oauth/access_token", form, on_grant, s, err, sizeof err);
    if (form) {
        explicit_bzero(form, strlen(form));
        free(form);
    }
    if (!s->fetch) {
        free(s->reply);
        s->reply = NULL;
        return gh_reply_error(bus, m, "unavailable", "cannot poll GitHub: %s", err);
    }
    s->st = SLOT_POLLING;
    s->next_poll = now + (double)s->interval;
}
