/* heartbeat — a small bus utility.
 *
 * Publishes "evt.machine.<machine_id>.heartbeat" every `interval` with the
 * daemon's uptime, and answers requests on "sys.ping" and
 * "sys.<machine_id>.ping", which lets tools and the hub check that a
 * machine's bus is alive end to end. */
#define _POSIX_C_SOURCE 200809L
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <bosun/bosun.h>

typedef struct heartbeat {
    const bosun_ctx *ctx;
    double interval;
    ev_timer timer;
    bus_sub *ping_any, *ping_machine;
    json_int_t beats;
    char subject[128];
    char ping_subject[128];
} heartbeat;

static const char *const heartbeat_keys[] = {"interval", NULL};

static bool read_config(const cfg_node *config, double *interval, cfg_diag *d)
{
    bool ok = cfg_check_keys(config, heartbeat_keys, d);
    return cfg_get_duration(config, "interval", 30.0, 0.01, 86400.0, interval, d) && ok;
}

static bool heartbeat_check(const cfg_node *config, cfg_diag *d)
{
    double interval;
    return read_config(config, &interval, d);
}

static json_t *beat_data(heartbeat *hb)
{
    return json_pack("{s:s,s:f,s:I,s:f}", "machine", hb->ctx->machine_id, "uptime",
                     bosun_now() - hb->ctx->start_time, "beat", hb->beats, "interval",
                     hb->interval);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    heartbeat *hb = w->data;
    hb->beats++;
    bus_publish_new(hb->ctx->bus, hb->subject, NULL, beat_data(hb));
}

static void on_ping(bus_t *bus, const bus_msg *msg, void *arg)
{
    heartbeat *hb = arg;
    if (!msg->reply)
        return;
    json_t *data = beat_data(hb);
    json_object_set_new(data, "pong", json_true());
    bus_reply(bus, msg, data);
    json_decref(data);
}

static int heartbeat_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d, void **state)
{
    heartbeat *hb = calloc(1, sizeof *hb);
    if (!hb) {
        cfg_error(d, NULL, "heartbeat: out of memory");
        return -1;
    }
    hb->ctx = ctx;
    if (!read_config(config, &hb->interval, d)) {
        free(hb);
        return -1;
    }
    snprintf(hb->subject, sizeof hb->subject, "evt.machine.%s.heartbeat", ctx->machine_id);
    snprintf(hb->ping_subject, sizeof hb->ping_subject, "sys.%s.ping", ctx->machine_id);
    ev_timer_init(&hb->timer, on_timer, hb->interval, hb->interval);
    hb->timer.data = hb;
    *state = hb;
    return 0;
}

static int heartbeat_start(void *state, cfg_diag *d)
{
    heartbeat *hb = state;
    hb->ping_any = bus_subscribe(hb->ctx->bus, "sys.ping", on_ping, hb);
    hb->ping_machine = bus_subscribe(hb->ctx->bus, hb->ping_subject, on_ping, hb);
    if (!hb->ping_any || !hb->ping_machine) {
        cfg_error(d, NULL, "heartbeat: cannot subscribe to %s", hb->ping_subject);
        return -1;
    }
    ev_timer_start(hb->ctx->loop, &hb->timer);
    return 0;
}

static int heartbeat_reload(void *state, const cfg_node *config, cfg_diag *d)
{
    heartbeat *hb = state;
    double interval;
    if (!read_config(config, &interval, d))
        return -1;
    hb->interval = interval;
    ev_timer_stop(hb->ctx->loop, &hb->timer);
    ev_timer_set(&hb->timer, interval, interval);
    ev_timer_start(hb->ctx->loop, &hb->timer);
    return 0;
}

static void heartbeat_stop(void *state)
{
    heartbeat *hb = state;
    ev_timer_stop(hb->ctx->loop, &hb->timer);
    if (hb->ping_any)
        bus_unsubscribe(hb->ctx->bus, hb->ping_any);
    if (hb->ping_machine)
        bus_unsubscribe(hb->ctx->bus, hb->ping_machine);
    free(hb);
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "heartbeat",
    .kind = BOSUN_PLUGIN_INTEGRATION,
    .description = "publishes evt.machine.<id>.heartbeat and answers sys.ping",
    .version = BOSUN_VERSION,
    .check = heartbeat_check,
    .init = heartbeat_init,
    .start = heartbeat_start,
    .reload = heartbeat_reload,
    .stop = heartbeat_stop,
};
