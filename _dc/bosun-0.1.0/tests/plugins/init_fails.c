/* A plugin whose init fails with a reason: bosund must not start. */
#include <bosun/bosun.h>

static bool check(const cfg_node *c, cfg_diag *d)
{
    return true;
}

static int init(const bosun_ctx *ctx, const cfg_node *c, cfg_diag *d, void **state)
{
    cfg_error(d, NULL, "init_fails: the database is unreachable (deliberate test failure)");
    return -1;
}

static int start(void *state, cfg_diag *d)
{
    return 0;
}

static void stop(void *state)
{
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "init_fails",
    .kind = BOSUN_PLUGIN_INTEGRATION,
    .check = check,
    .init = init,
    .start = start,
    .stop = stop,
};
