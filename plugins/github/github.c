/* github — the plugin's lifecycle (see github.h for its parts). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "curl_ev.h"
#include "github.h"
#include "github_oauth.h"

static bool github_check(const cfg_node *config, cfg_diag *d)
{
    github_cfg cfg;
    if (!github_cfg_read(config, &cfg, d))
        return false;
    github_cfg_free(&cfg);
    return true;
}

static int github_init(const bosun_ctx *ctx, const cfg_node *config, cfg_diag *d, void **state)
{
    github *g = calloc(1, sizeof *g);
    if (!g)
        return cfg_error(d, NULL, "github: out of memory"), -1;
    g->ctx = ctx;
    if (!github_cfg_read(config, &g->cfg, d)) {
        free(g);
        return -1;
    }
    github_cfg_mask_secrets(&g->cfg);
    *state = g;
    return 0;
}

static int github_start(void *state, cfg_diag *d)
{
    github *g = state;
    if (!g->curl && !(g->curl = curl_ev_new(g->ctx->loop)))
        return cfg_error(d, NULL, "github: cannot initialise libcurl"), -1;
    if (!(g->oauth = github_oauth_new(g, d)))
        return -1;
    log_info("github: API at %s%s%s", g->cfg.api_url, g->cfg.token ? ", with a token" : "",
             g->cfg.webhook_secret ? ", webhooks verified" : "");
    return 0;
}

static int github_reload(void *state, const cfg_node *config, cfg_diag *d)
{
    github *g = state;
    github_cfg cfg;
    if (!github_cfg_read(config, &cfg, d))
        return -1; /* the old settings stay */
    github_cfg_mask_secrets(&cfg);
    github_cfg_free(&g->cfg);
    g->cfg = cfg;
    return 0;
}

static void github_stop(void *state)
{
    github *g = state;
    github_oauth_free(g->oauth);
    if (g->curl)
        curl_ev_free(g->curl);
    github_cfg_free(&g->cfg);
    free(g);
}

BOSUN_PLUGIN_EXPORT const struct bosun_plugin bosun_plugin = {
    .abi = BOSUN_PLUGIN_ABI,
    .name = "github",
    .kind = BOSUN_PLUGIN_INTEGRATION,
    .description = "GitHub pull requests, webhooks and login",
    .version = BOSUN_VERSION,
    .check = github_check,
    .init = github_init,
    .start = github_start,
    .reload = github_reload,
    .stop = github_stop,
};
