/* An out-of-tree plugin, built by tests/integration/oot_plugin.sh against the
 * installed headers with `pkg-config --cflags --libs bosun`.  It answers
 * requests on "<subject>" (config key, default "echo") with the request's
 * data wrapped as {"echo": DATA, "plugin": NAME}. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include <bosun/bosun.h>

typedef struct echo {
    const bosun_ctx *ctx;
    char *subject;
    bus_sub *sub;
} echo;

static const char *const keys[] = {"subject", NULL};

static bool echo_check(const cfg_node *config, cfg_diag *d)
{
    const char *subject;
    bool ok = cfg_check_keys(config, keys, d);
    ok = cfg_get_string(config, "subject", "echo", &subject, d) && ok;
    if (ok && bus_subject_check(subject) != 0)
        ok = cfg_error(d, cfg_get(config, "subject"), "'echo.subject': invalid subject '%s'",
                       subject);
    return ok;
}

static int echo_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d, void **state)
{
    const char *subject;
    if (!cfg_get_string(config, "subject", "echo", &subject, d))
        return -1;
    echo *e = calloc(1, sizeof *e);
    e->ctx = ctx;
    e->subject = strdup(subject);
    *state = e;
    return 0;
}

static void on_request(bus_t *bus, const bus_msg *msg, void *arg)
{
    echo *e = arg;
    json_t *reply = json_pack("{s:O,s:s}", "echo", msg->data, "plugin", e->ctx->plugin_name);
    bus_reply(bus, msg, reply);
    json_decref(reply);
}

static int echo_start(void *state, cfg_diag *d)
{
    (void)d;
    echo *e = state;
    e->sub = bus_subscribe(e->ctx->bus, e->subject, on_request, e);
    return e->sub ? 0 : -1;
}

static void echo_stop(void *state)
{
    echo *e = state;
    if (e->sub)
        bus_unsubscribe(e->ctx->bus, e->sub);
    free(e->subject);
    free(e);
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "echo",
    .kind = BOSUN_PLUGIN_INTEGRATION,
    .description = "answers requests with their own data (out-of-tree test plugin)",
    .version = "1.0",
    .check = echo_check,
    .init = echo_init,
    .start = echo_start,
    .stop = echo_stop,
};
