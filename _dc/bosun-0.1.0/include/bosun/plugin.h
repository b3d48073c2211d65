/* bosun — writing a plugin.
 *
 * A plugin is a shared module (libtool -module) that exports exactly one
 * symbol, "bosun_plugin", a const struct bosun_plugin filled with designated
 * initialisers.  bosund finds the module in daemon.plugin_path (then the
 * install directory), checks abi == BOSUN_PLUGIN_ABI and the mandatory
 * callbacks, and refuses the plugin with a clear error otherwise.
 *
 * Lifecycle, all on the daemon's single loop thread:
 *
 *   check(config)       validate the plugin's config subtree, no side effects;
 *                       used by --check-config and before every reload
 *   init(ctx, config)   build the state; ctx stays valid until stop returns
 *   start(state)        begin work: subscribe, start watchers
 *   reload(state, cfg)  apply a new, already checked subtree (optional; a
 *                       plugin without it keeps its old settings and a
 *                       notice says a restart is needed)
 *   stop(state)         undo start and free the state; called in reverse
 *                       load order at shutdown
 *
 * The config subtree is the top-level section named like the plugin (for
 * "heartbeat", the "heartbeat:" map), or NULL when there is none.  It is
 * only valid during the call: copy what you keep.
 *
 * Plugins talk to each other only over the bus (ctx->bus).  They may add
 * their own watchers to ctx->loop and must remove them in stop.
 *
 * Build out of tree:
 *   cc -shared -fPIC $(pkg-config --cflags bosun) my.c -o my.so \
 *      $(pkg-config --libs bosun)
 */
#ifndef BOSUN_PLUGIN_H
#define BOSUN_PLUGIN_H

#include <bosun/api.h>

#include <stdbool.h>
#include <stdint.h>
#include <bosun/bus.h>
#include <bosun/cfg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Raised whenever struct bosun_plugin or struct bosun_ctx change
 * incompatibly; a module built for another value is refused. */
#define BOSUN_PLUGIN_ABI 1

#define BOSUN_PLUGIN_SYMBOL "bosun_plugin"

enum bosun_plugin_kind {
    BOSUN_PLUGIN_AGENT = 1,
    BOSUN_PLUGIN_TRANSPORT = 2,
    BOSUN_PLUGIN_STORE = 3,
    BOSUN_PLUGIN_INTEGRATION = 4,
};

BOSUN_API const char *bosun_plugin_kind_name(enum bosun_plugin_kind kind);

/* What the core hands a plugin at init. */
typedef struct bosun_ctx {
    struct ev_loop *loop;
    bus_t *bus;
    const char *plugin_name; /* as listed in daemon.plugins */
    const char *machine_id;  /* a valid subject token */
    const char *state_dir;
    const char *runtime_dir;
    double start_time; /* daemon start, seconds since the epoch */
    void *reserved[8];
} bosun_ctx;

struct bosun_plugin {
    uint32_t abi; /* BOSUN_PLUGIN_ABI */
    const char *name;
    enum bosun_plugin_kind kind;
    const char *description;
    const char *version;

    /* Mandatory. */
    bool (*check)(const cfg_node *config, cfg_diag *diag);
    /* Mandatory.  Returns 0 with *state set, or -1 with a message in diag. */
    int (*init)(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *diag, void **state);
    /* Mandatory.  Returns 0, or -1 with a message in diag. */
    int (*start)(void *state, cfg_diag *diag);
    /* Optional.  Returns 0, or -1 with a message in diag (old settings kept). */
    int (*reload)(void *state, const cfg_node *config, cfg_diag *diag);
    /* Mandatory. */
    void (*stop)(void *state);

    /* Kind-specific operations table, or NULL. */
    const void *ops;
    void *reserved[8];
};

#define BOSUN_PLUGIN_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
}
#endif
#endif
