/* A plugin built for another ABI: bosund must refuse it. */
#include <stdlib.h>
#include <bosun/bosun.h>

static bool check(const cfg_node *c, cfg_diag *d)
{
    return true;
}

static int init(const bosun_ctx *ctx, const cfg_node *c, cfg_diag *d, void **state)
{
    abort(); /* never reached: the ABI check comes first */
}

static int start(void *state, cfg_diag *d)
{
    abort();
}

static void stop(void *state)
{
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI + 41,
    .name = "bad_abi",
    .kind = BOSUN_PLUGIN_INTEGRATION,
    .check = check,
    .init = init,
    .start = start,
    .stop = stop,
};
