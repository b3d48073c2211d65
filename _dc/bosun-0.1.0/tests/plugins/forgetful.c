/* A plugin whose stop forgets its repeating timer: the daemon must keep
 * the module's code mapped after a reload removes it, so that the timer
 * still runs this code (which logs once that it ran after stop) instead of
 * jumping into unmapped memory. */
#include <ev.h>

#include <bosun/bosun.h>

static ev_timer tick;
static bool stopped;
static bool said;

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    if (stopped && !said) {
        said = true;
        log_notice("forgetful: timer ran after stop");
    }
}

static bool check(const cfg_node *c, cfg_diag *d)
{
    return true;
}

static int init(const bosun_ctx *ctx, const cfg_node *c, cfg_diag *d, void **state)
{
    *state = ctx->loop;
    return 0;
}

static int start(void *state, cfg_diag *d)
{
    ev_timer_init(&tick, on_tick, 0.01, 0.01);
    ev_timer_start(state, &tick);
    log_notice("forgetful: start");
    return 0;
}

static void stop(void *state)
{
    stopped = true; /* and the timer is deliberately left running */
    log_notice("forgetful: stop");
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "forgetful",
    .kind = BOSUN_PLUGIN_INTEGRATION,
    .check = check,
    .init = init,
    .start = start,
    .stop = stop,
};
