/* GitHub's webhooks (bosun-github(7), WEBHOOKS).
 *
 * cmd.github.webhook {event, delivery, signature, body} comes from the
 * http plugin's POST /api/v1/github/webhook with the raw body and the
 * X-GitHub-Event, X-GitHub-Delivery and X-Hub-Signature-256 headers.
 * Checked in this order, so that nothing about a delivery is believed
 * (or remembered) before its signature is:
 *   1. X-Hub-Signature-256 is "sha256=" and the HMAC-SHA256 of the body
 *      under webhook_secret, compared in constant time;
 *   2. the delivery id was not seen before (the ids are kept in the store
 *      for webhook_max_age after they came, so a restart forgets none);
 *   3. the event's own time (the pull request's updated_at, the review's
 *      submitted_at, the check's completed_at, the comment's updated_at)
 *      lies within webhook_max_age: an older delivery is stale.
 * Since an id is kept at least as long as its event is not stale, a
 * replay is refused one way or the other. */
#define _GNU_SOURCE
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/crypto.h>

#include "github.h"

#define DELIVERY_MAX 64
#define EVENT_MAX    64
#define FUTURE_MAX   300.0 /* seconds GitHub's clock may be ahead of ours */

static void refuse(github *g, const bus_msg *msg, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void refuse(github *g, const bus_msg *msg, const char *code, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    g->hooks_refused++;
    log_notice("github: webhook refused: %s", text);
    if (!msg->reply)
        return;
    json_t *e = bus_error_json(code, "%s", text);
    bus_reply(g->ctx->bus, msg, e);
    json_decref(e);
}

static bool delivery_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= DELIVERY_MAX && strspn(s, "0123456789abcdefABCDEF-") == n;
}

static bool event_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= EVENT_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz_") == n;
}

/* ------------------------------------------------------------ ids */

static void remember(github *g, const char *id, double at)
{
    double *t = malloc(sizeof *t);
    if (!t)
        return;
    *t = at;
    free(hmap_get(&g->deliveries, id));
    hmap_put(&g->deliveries, id, t);
}

/* Ids are needed as long as their events can be fresh. */
static double keep_for(const github *g)
{
    return g->cfg.webhook_max_age + FUTURE_MAX;
}

void github_hook_load(github *g, const json_t *rows)
{
    double cut = bosun_now() - keep_for(g);
    size_t i;
    const json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        double at = json_number_value(json_object_get(r, "received_at"));
        if (delivery_ok(id) && at >= cut)
            remember(g, id, at);
    }
}

void github_hook_prune(github *g, double now)
{
    double cut = now - keep_for(g);
    for (;;) {
        size_t pos = 0;
        const char *key;
        double *t;
        char drop[DELIVERY_MAX + 1] = "";
        while ((t = hmap_next(&g->deliveries, &pos, &key)) != NULL)
            if (*t < cut) {
                snprintf(drop, sizeof drop, "%s", key);
                break;
            }
        if (!drop[0])
            return;
        free(hmap_del(&g->deliveries, drop));
    }
}

void github_hook_free(github *g)
{
    size_t pos = 0;
    double *t;
    while ((t = hmap_next(&g->deliveries, &pos, NULL)) != NULL)
        free(t);
    hmap_destroy(&g->deliveries);
}

/* ------------------------------------------------------------ events */

typedef struct act {
    const github_hook *h;
    const char *event;
    const char *delivery;
} act;

static void on_pr(github *g, github_pr *pr, void *arg)
{
    const act *a = arg;
    const char *kind = a->h->kind == GITHUB_HOOK_REVIEW    ? "review"
                       : a->h->kind == GITHUB_HOOK_CHECKS  ? "checks"
                       : a->h->kind == GITHUB_HOOK_COMMENT ? "comment"
                                                           : NULL;
    if (kind) {
        char subject[BUS_SUBJECT_MAX];
        snprintf(subject, sizeof subject, "evt.pr.%s.%s", github_pr_task(pr), kind);
        json_t *data = github_pr_json(pr);
        json_object_del(data, "pr");
        json_object_set_new(data, "event", json_string(a->event));
        json_object_set_new(data, "action", json_string(a->h->action));
        json_object_set_new(data, "delivery", json_string(a->delivery));
        json_object_set_new(data, "sender",
                            a->h->sender[0] ? json_string(a->h->sender) : json_null());
        if (a->h->state[0])
            json_object_set_new(data, "state", json_string(a->h->state));
        bus_publish_new(g->ctx->bus, subject, NULL, data);
    }
    github_pr_refresh(g, pr, "webhook");
}

static bool time_ok(github *g, const bus_msg *msg, const github_hook *h, const char *delivery)
{
    double now = bosun_now();
    if (h->kind == GITHUB_HOOK_OTHER || h->kind == GITHUB_HOOK_PING)
        return true;
    if (h->time <= 0)
        return refuse(g, msg, "stale", "delivery %s: the event has no time of its own", delivery),
               false;
    if (now - h->time > g->cfg.webhook_max_age)
        return refuse(g, msg, "stale", "delivery %s: the event is older than webhook_max_age",
                      delivery),
               false;
    if (h->time - now > FUTURE_MAX)
        return refuse(g, msg, "stale", "delivery %s: the event's time is in the future", delivery),
               false;
    return true;
}

static void on_webhook(bus_t *bus, const bus_msg *msg, void *arg)
{
    (void)bus;
    github *g = arg;
    const json_t *d = msg->data;
    const char *event = json_string_value(json_object_get(d, "event"));
    const char *delivery = json_string_value(json_object_get(d, "delivery"));
    const char *signature = json_string_value(json_object_get(d, "signature"));
    const json_t *jbody = json_object_get(d, "body");
    if (!json_is_string(jbody))
        return refuse(g, msg, "bad_request", "no body");
    if (!g->cfg.webhook_secret)
        return refuse(g, msg, "forbidden",
                      "webhooks are not configured here (github.webhook_secret_file)");
    int v = github_hook_verify(g->cfg.webhook_secret, signature, json_string_value(jbody),
                               json_string_length(jbody));
    if (!signature)
        return refuse(g, msg, "unauthorized", "no X-Hub-Signature-256");
    if (v < 0)
        return refuse(g, msg, "unauthorized", "X-Hub-Signature-256 is not sha256=<64 hex digits>");
    if (v == 0)
        return refuse(g, msg, "unauthorized",
                      "X-Hub-Signature-256 does not match the body under the secret");
    if (!delivery_ok(delivery))
        return refuse(g, msg, "bad_request", "X-GitHub-Delivery must be 1 to 64 hex digits and -");
    if (!event_ok(event))
        return refuse(g, msg, "bad_request", "X-GitHub-Event must be a GitHub event name");
    if (!g->loaded)
        return refuse(g, msg, "unavailable",
                      "delivery %s: the ids seen before are not loaded from the store yet",
                      delivery);
    if (hmap_get(&g->deliveries, delivery))
        return refuse(g, msg, "replayed", "delivery %s was received before", delivery);
    json_t *body = bosun_json_parse(json_string_value(jbody), json_string_length(jbody), 0, NULL);
    github_hook h;
    char why[160];
    int rc = github_parse_hook(event, body, &h, why, sizeof why);
    json_decref(body);
    if (rc != 0)
        return refuse(g, msg, "bad_request", "%s", why);
    if (!time_ok(g, msg, &h, delivery))
        return;
    if ((long long)hmap_count(&g->deliveries) >= g->cfg.max_deliveries)
        return refuse(g, msg, "unavailable",
                      "delivery %s: max_deliveries ids are remembered already", delivery);
    double now = bosun_now();
    remember(g, delivery, now);
    github_store_delivery(g, delivery, now);
    g->hooks_accepted++;
    act a = {&h, event, delivery};
    size_t n = 0;
    for (size_t i = 0; i < h.n_numbers; i++)
        n += github_prs_matching(g, h.owner, h.repo, h.numbers[i], on_pr, &a);
    log_info("github: webhook %s (%s%s%s) delivery %s: %zu linked pull request%s", event,
             h.action[0] ? h.action : "-", h.owner[0] ? " on " : "", h.owner, delivery, n,
             n == 1 ? "" : "s");
    if (!msg->reply)
        return;
    json_t *reply = json_pack("{s:s,s:s,s:I}", "result",
                              h.kind == GITHUB_HOOK_PING ? "pong"
                              : n                        ? "accepted"
                                                         : "ignored",
                              "event", event, "prs", (json_int_t)n);
    bus_reply(g->ctx->bus, msg, reply);
    json_decref(reply);
}

int github_hook_commands(github *g)
{
    if (g->n_subs >= sizeof g->subs / sizeof *g->subs)
        return -1;
    bus_sub *s = bus_subscribe(g->ctx->bus, "cmd.github.webhook", on_webhook, g);
    if (!s)
        return -1;
    g->subs[g->n_subs++] = s;
    return 0;
}
