/* A store that is slow to answer the supervisor's recovery question at
 * start (cmd.store.runs), as a large or busy one can be: it answers "no
 * runs" after slow_store.delay seconds (default 3).  Meanwhile the daemon
 * runs its loop and serves clients while its start is not complete, which
 * is what the tests of that state need to see.  Questions asked while
 * one waits (the supervisor asks two at once) are answered with it. */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/bosun.h>

static struct {
    const bosun_ctx *ctx;
    double delay;
    bus_sub *sub;
    ev_timer timer;
    char reply[8][BUS_SUBJECT_MAX + 1]; /* the waiting questions' reply subjects */
    size_t n_reply;
} st;

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    json_t *data = json_pack("{s:[]}", "runs");
    for (size_t i = 0; i < st.n_reply; i++)
        bus_publish(st.ctx->bus, st.reply[i], NULL, data);
    json_decref(data);
    st.n_reply = 0;
    log_notice("slow_store: answered cmd.store.runs after %.1f s", st.delay);
}

static void on_runs(bus_t *bus, const bus_msg *msg, void *arg)
{
    if (!msg->reply || st.n_reply == sizeof st.reply / sizeof st.reply[0])
        return;
    snprintf(st.reply[st.n_reply++], sizeof st.reply[0], "%s", msg->reply);
    if (ev_is_active(&st.timer))
        return;
    ev_timer_set(&st.timer, st.delay, 0.);
    ev_timer_start(st.ctx->loop, &st.timer);
}

static bool check(const cfg_node *c, cfg_diag *d)
{
    double delay;
    return cfg_get_duration(c, "delay", 3.0, 0.0, 8.0, &delay, d);
}

static int init(const bosun_ctx *ctx, const cfg_node *c, cfg_diag *d, void **state)
{
    st.ctx = ctx;
    if (!cfg_get_duration(c, "delay", 3.0, 0.0, 8.0, &st.delay, d))
        return -1;
    ev_timer_init(&st.timer, on_timer, st.delay, 0.);
    *state = &st;
    return 0;
}

static int start(void *state, cfg_diag *d)
{
    st.sub = bus_subscribe(st.ctx->bus, "cmd.store.runs", on_runs, NULL);
    return st.sub ? 0 : -1;
}

static void stop(void *state)
{
    ev_timer_stop(st.ctx->loop, &st.timer);
    bus_unsubscribe(st.ctx->bus, st.sub);
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "slow_store",
    .kind = BOSUN_PLUGIN_INTEGRATION,
    .check = check,
    .init = init,
    .start = start,
    .stop = stop,
};
