/* A plugin that logs each lifecycle call with its name and its "tag"
 * setting, so tests can see init/start/reload/stop and their order.  Built
 * twice (order_a, order_b) from this one file. */
#include <stdlib.h>
#include <string.h>

#include <bosun/bosun.h>

#ifndef ORDER_NAME
#error ORDER_NAME must be defined
#endif

static const char *const keys[] = {"tag", NULL};

typedef struct order {
    char tag[64];
} order;

static bool read_tag(const cfg_node *c, char *tag, cfg_diag *d)
{
    const char *t;
    bool ok = cfg_check_keys(c, keys, d);
    ok = cfg_get_string(c, "tag", "none", &t, d) && ok;
    if (ok)
        strncpy(tag, t, 63);
    return ok;
}

static bool check(const cfg_node *c, cfg_diag *d)
{
    char tag[64] = "";
    return read_tag(c, tag, d);
}

static int init(const bosun_ctx *ctx, const cfg_node *c, cfg_diag *d, void **state)
{
    order *o = calloc(1, sizeof *o);
    if (!read_tag(c, o->tag, d)) {
        free(o);
        return -1;
    }
    log_info("%s: init tag=%s", ORDER_NAME, o->tag);
    *state = o;
    return 0;
}

static int start(void *state, cfg_diag *d)
{
    log_info("%s: start", ORDER_NAME);
    return 0;
}

static int reload(void *state, const cfg_node *c, cfg_diag *d)
{
    order *o = state;
    if (!read_tag(c, o->tag, d))
        return -1;
    log_info("%s: reload tag=%s", ORDER_NAME, o->tag);
    return 0;
}

static void stop(void *state)
{
    log_info("%s: stop", ORDER_NAME);
    free(state);
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = ORDER_NAME,
    .kind = BOSUN_PLUGIN_INTEGRATION,
    .description = "records its lifecycle calls in the log (test plugin)",
    .version = "1",
    .check = check,
    .init = init,
    .start = start,
    .reload = reload,
    .stop = stop,
};
