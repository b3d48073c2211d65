/* notify — the plugin: subscriptions, rules, and cmd.notify.status.
 *
 * Only the events some rule asks for are subscribed to (run state changes
 * are frequent), each becomes at most one message (notify_dedup), and the
 * message goes to the union of the channels of the rules it matches, each
 * once.  Delivery is never waited for: the handler queues and returns. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"

typedef struct notify {
    const bosun_ctx *ctx;
    notify_cfg cfg;
    curl_ev *curl;
    notify_dedup *dedup;
    notify_channel **channels;
    bus_sub *subs[NK_COUNT];
    bus_sub *status_sub;
    unsigned long long events, messages;
} notify;

/* The events of each kind (see notify_event.c). */
static const char *const kind_patterns[NK_COUNT] = {
    [NK_INPUT] = "evt.input.*.requested",         [NK_APPROVAL] = "evt.approval.*.requested",
    [NK_RUN_FAILED] = "evt.run.*.*.spawn_failed", [NK_RUN_FATAL] = "evt.run.*.*.state",
    [NK_ATTENTION] = "evt.run.*.*.attention",     [NK_TASK_DONE] = "evt.task.*.updated",
    [NK_BUDGET] = "evt.run.*.*.budget",           [NK_MACHINE_OFFLINE] = "evt.machine.*.offline",
};

static bool notify_check(const cfg_node *config, cfg_diag *d)
{
    notify_cfg c;
    if (!notify_cfg_read(config, &c, d))
        return false;
    notify_cfg_free(&c);
    return true;
}

static bool wanted(const notify *n, enum notify_kind k)
{
    for (size_t i = 0; i < n->cfg.n_rules; i++)
        if (n->cfg.rules[i].on[k])
            return true;
    return false;
}

/* Sends m to every channel a matching rule names, each once. */
static void on_emit(notify_msg *m, void *arg)
{
    notify *n = arg;
    bool sent[64] = {false};
    for (size_t i = 0; i < n->cfg.n_rules; i++) {
        const notify_rule *r = &n->cfg.rules[i];
        if (!notify_rule_matches(r, m))
            continue;
        for (size_t j = 0; j < r->n_to; j++)
            if (!sent[r->to[j]]) {
                sent[r->to[j]] = true;
                notify_channel_send(n->channels[r->to[j]], m);
            }
    }
    n->messages++;
    notify_msg_unref(m);
}

static bool any_rule(const notify *n, const notify_msg *m)
{
    for (size_t i = 0; i < n->cfg.n_rules; i++)
        if (notify_rule_matches(&n->cfg.rules[i], m))
            return true;
    return false;
}

static void on_event(bus_t *bus, const bus_msg *msg, void *arg)
{
    notify *n = arg;
    notify_msg *m = notify_msg_from_event(msg->subject, msg->data, msg->time, n->cfg.public_url,
                                          n->ctx->machine_id);
    if (!m)
        return;
    n->events++;
    /* Filtered before de-duplication: a key no rule wants is not kept. */
    if (!any_rule(n, m)) {
        notify_msg_unref(m);
        return;
    }
    notify_dedup_push(n->dedup, m);
}

static json_t *status_json(const notify *n)
{
    json_t *chs = json_array();
    bool failing = false;
    for (size_t i = 0; i < n->cfg.n_channels; i++) {
        json_array_append_new(chs, notify_channel_status(n->channels[i]));
        failing = failing || notify_channel_failing(n->channels[i]);
    }
    return json_pack("{s:o,s:b,s:I,s:I,s:I,s:I}", "channels", chs, "failing", failing, "rules",
                     (json_int_t)n->cfg.n_rules, "events", (json_int_t)n->events, "messages",
                     (json_int_t)n->messages, "suppressed",
                     (json_int_t)notify_dedup_suppressed(n->dedup));
}

static void on_status(bus_t *bus, const bus_msg *msg, void *arg)
{
    if (!msg->reply)
        return;
    json_t *st = status_json(arg);
    bus_reply(bus, msg, st);
    json_decref(st);
}

static void channels_free(notify *n)
{
    if (!n->channels)
        return;
    for (size_t i = 0; i < n->cfg.n_channels; i++)
        notify_channel_free(n->channels[i]);
    free(n->channels);
    n->channels = NULL;
}

static int channels_make(notify *n, cfg_diag *d)
{
    n->channels = calloc(n->cfg.n_channels ? n->cfg.n_channels : 1, sizeof *n->channels);
    for (size_t i = 0; n->channels && i < n->cfg.n_channels; i++)
        if (!(n->channels[i] = notify_channel_new(n->ctx, n->curl, &n->cfg.channels[i]))) {
            channels_free(n);
            break;
        }
    if (!n->channels) {
        cfg_error(d, NULL, "notify: out of memory");
        return -1;
    }
    return 0;
}

static void unsubscribe_kinds(notify *n)
{
    for (int k = 0; k < NK_COUNT; k++)
        if (n->subs[k]) {
            bus_unsubscribe(n->ctx->bus, n->subs[k]);
            n->subs[k] = NULL;
        }
}

static int subscribe_kinds(notify *n, cfg_diag *d)
{
    for (int k = 0; k < NK_COUNT; k++)
        if (wanted(n, (enum notify_kind)k) &&
            !(n->subs[k] = bus_subscribe(n->ctx->bus, kind_patterns[k], on_event, n))) {
            cfg_error(d, NULL, "notify: cannot subscribe to %s", kind_patterns[k]);
            unsubscribe_kinds(n);
            return -1;
        }
    return 0;
}

static void notify_free(notify *n)
{
    channels_free(n);
    notify_dedup_free(n->dedup);
    curl_ev_free(n->curl);
    notify_cfg_free(&n->cfg);
    free(n);
}

static int notify_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d, void **state)
{
    notify *n = calloc(1, sizeof *n);
    if (!n) {
        cfg_error(d, NULL, "notify: out of memory");
        return -1;
    }
    n->ctx = ctx;
    if (!notify_cfg_read(config, &n->cfg, d)) {
        free(n);
        return -1;
    }
    n->curl = curl_ev_new(ctx->loop);
    n->dedup = notify_dedup_new(ctx->loop, n->cfg.window, on_emit, n);
    if (!n->curl || !n->dedup) {
        cfg_error(d, NULL, "notify: out of memory");
        notify_free(n);
        return -1;
    }
    if (channels_make(n, d) != 0) {
        notify_free(n);
        return -1;
    }
    *state = n;
    return 0;
}

static int notify_start(void *state, cfg_diag *d)
{
    notify *n = state;
    if (!(n->status_sub = bus_subscribe(n->ctx->bus, "cmd.notify.status", on_status, n))) {
        cfg_error(d, NULL, "notify: cannot subscribe to cmd.notify.status");
        return -1;
    }
    if (subscribe_kinds(n, d) != 0)
        return -1;
    log_info("notify: %zu channels, %zu rules", n->cfg.n_channels, n->cfg.n_rules);
    return 0;
}

/* A new section replaces rules and channels (deliveries of the old ones
 * still under way are given up, and said so); what was already told stays
 * told. */
static int notify_reload(void *state, const cfg_node *config, cfg_diag *d)
{
    notify *n = state;
    notify_cfg c;
    if (!notify_cfg_read(config, &c, d))
        return -1;
    notify_dedup *dd = notify_dedup_new(n->ctx->loop, c.window, on_emit, n);
    if (!dd) {
        notify_cfg_free(&c);
        return cfg_error(d, NULL, "notify: out of memory"), -1;
    }
    unsubscribe_kinds(n);
    channels_free(n);
    notify_cfg_free(&n->cfg);
    n->cfg = c;
    /* The seen keys move over only by keeping the old table when the
     * window is the same; a changed window starts afresh. */
    if (notify_dedup_window(n->dedup) == c.window)
        notify_dedup_free(dd);
    else {
        notify_dedup_free(n->dedup);
        n->dedup = dd;
    }
    if (channels_make(n, d) != 0 || subscribe_kinds(n, d) != 0)
        return -1;
    log_info("notify: reloaded: %zu channels, %zu rules", n->cfg.n_channels, n->cfg.n_rules);
    return 0;
}

static void notify_stop(void *state)
{
    notify *n = state;
    unsubscribe_kinds(n);
    if (n->status_sub)
        bus_unsubscribe(n->ctx->bus, n->status_sub);
    notify_free(n);
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "notify",
    .kind = BOSUN_PLUGIN_INTEGRATION,
    .description = "tells people at once: webhook, ntfy and e-mail notifications",
    .version = BOSUN_VERSION,
    .check = notify_check,
    .init = notify_init,
    .start = notify_start,
    .reload = notify_reload,
    .stop = notify_stop,
};
