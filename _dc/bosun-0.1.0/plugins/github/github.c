/* github — the plugin's lifecycle, its rows in the store, its tick (see
 * github.h for its parts).
 *
 * At start the plugin reads from the store the pull requests linked to
 * tasks (cmd.store.prs: MCP's link_pr and the API's links alike), what it
 * kept about them (cmd.store.github: metadata, ETag, fetch time) and the
 * webhook deliveries of the last webhook_max_age; webhooks are refused
 * with 503 until then, since a replay could not be told.  Rows go back to
 * the store with cmd.store.github.put: a delivery id at once (before the
 * delivery is acted on, so that a crash cannot forget it), metadata on
 * the next tick, batched. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "curl_ev.h"
#include "github.h"
#include "github_oauth.h"

#define TICK         1.0  /* seconds between looks at what is due */
#define PRUNE_EVERY  60.0 /* delivery ids past the window are dropped */
#define LOAD_TIMEOUT 10.0
#define LOAD_TRIES   10

/* ------------------------------------------------------------ store */

static void store_put(github *g, json_t *prs, json_t *deliveries)
{
    json_t *q = json_pack("{s:o,s:o,s:f}", "prs", prs ? prs : json_array(), "deliveries",
                          deliveries ? deliveries : json_array(), "deliveries_before",
                          bosun_now() - g->cfg.webhook_max_age - 600.0);
    /* Without a reply subject: the store carries a put out all the same. */
    if (q && bus_has_subscribers(g->ctx->bus, BOSUN_STORE_GITHUB_PUT))
        bus_publish(g->ctx->bus, BOSUN_STORE_GITHUB_PUT, NULL, q);
    log_debug("github: %zu pull requests, %zu deliveries to the store",
              json_array_size(json_object_get(q, "prs")),
              json_array_size(json_object_get(q, "deliveries")));
    json_decref(q);
}

void github_store_pr(github *g, json_t *row, bool now)
{
    if (!row)
        return;
    if (now)
        return store_put(g, json_pack("[o]", row), NULL);
    if (!g->dirty_prs)
        g->dirty_prs = json_array();
    json_array_append_new(g->dirty_prs, row);
}

void github_store_delivery(github *g, const char *id, double received_at)
{
    store_put(g, NULL, json_pack("[{s:s,s:f}]", "id", id, "received_at", received_at));
}

static void flush(github *g)
{
    if (!g->dirty_prs)
        return;
    json_t *rows = g->dirty_prs;
    g->dirty_prs = NULL;
    store_put(g, rows, NULL);
}

/* ------------------------------------------------------------ loading */

static void load_start(github *g);

/* The kept row of (task, url), or NULL. */
static const json_t *kept_row(const json_t *kept, const char *task, const char *url)
{
    size_t i;
    const json_t *r;
    json_array_foreach(kept, i, r)
    {
        const char *t = json_string_value(json_object_get(r, "task"));
        const char *u = json_string_value(json_object_get(r, "url"));
        if (t && u && strcmp(t, task) == 0 && strcmp(u, url) == 0)
            return r;
    }
    return NULL;
}

static void follow_links(github *g, const json_t *links, const json_t *kept)
{
    size_t i;
    const json_t *l;
    json_array_foreach(links, i, l)
    {
        const char *task = json_string_value(json_object_get(l, "task"));
        const char *url = json_string_value(json_object_get(l, "url"));
        const char *owner = json_string_value(json_object_get(l, "owner"));
        const char *repo = json_string_value(json_object_get(l, "repo"));
        json_int_t number = json_integer_value(json_object_get(l, "number"));
        if (task && url && owner && repo && number > 0 && github_login_valid(owner) &&
            github_repo_valid(repo) && strlen(task) <= GITHUB_TASK_MAX)
            github_pr_follow(g, task, owner, repo, number, kept_row(kept, task, url), false);
    }
}

static void loaded(github *g, const char *why)
{
    g->loaded = true;
    if (why)
        log_warning("github: %s: delivery ids and pull requests live in memory only", why);
    else
        log_info("github: %zu linked pull requests, %zu recent webhook deliveries",
                 hmap_count(&g->prs), hmap_count(&g->deliveries));
}

static void retry_or_give_up(github *g, const char *why)
{
    if (++g->load_tries >= LOAD_TRIES)
        return loaded(g, why);
    ev_timer_set(&g->load_retry, 1.0, 0);
    ev_timer_start(g->ctx->loop, &g->load_retry);
}

static uint64_t ask_store(github *g, const char *subject, bus_reply_cb cb)
{
    json_t *q = json_object();
    uint64_t id = q ? bus_request(g->ctx->bus, subject, q, LOAD_TIMEOUT, cb, g) : 0;
    json_decref(q);
    return id;
}

static void on_links(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    github *g = arg;
    g->load_req = 0;
    if (st != BUS_REPLY_OK || json_object_get(m->data, "error"))
        return retry_or_give_up(g, "the store did not answer cmd.store.prs");
    follow_links(g, json_object_get(m->data, "prs"), g->load_kept);
    json_decref(g->load_kept);
    g->load_kept = NULL;
    loaded(g, NULL);
}

static void on_kept(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    github *g = arg;
    g->load_req = 0;
    if (st != BUS_REPLY_OK || json_object_get(m->data, "error"))
        return retry_or_give_up(g, "the store did not answer cmd.store.github");
    github_hook_load(g, json_object_get(m->data, "deliveries"));
    json_decref(g->load_kept);
    g->load_kept = json_incref(json_object_get(m->data, "prs"));
    g->load_req = ask_store(g, BOSUN_STORE_PRS, on_links);
    if (!g->load_req)
        retry_or_give_up(g, "cannot ask the store for the linked pull requests");
}

static void load_start(github *g)
{
    g->load_req = ask_store(g, BOSUN_STORE_GITHUB, on_kept);
    if (!g->load_req)
        retry_or_give_up(g, "cannot ask the store for cmd.store.github");
}

static void on_load_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    load_start(w->data);
}

/* ------------------------------------------------------------ tick */

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    github *g = w->data;
    double now = ev_now(loop);
    if (g->loaded)
        github_prs_due(g, now);
    flush(g);
    if (now - g->pruned_at >= PRUNE_EVERY) {
        g->pruned_at = now;
        github_hook_prune(g, bosun_now());
    }
}

/* ------------------------------------------------------------ plugin */

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
    hmap_init(&g->prs);
    hmap_init(&g->deliveries);
    g->curl = curl_ev_new(ctx->loop);
    g->api = g->curl ? github_api_new(ctx->loop, g->curl, &g->cfg) : NULL;
    if (!g->api) {
        if (g->curl)
            curl_ev_free(g->curl);
        github_cfg_free(&g->cfg);
        free(g);
        return cfg_error(d, NULL, "github: cannot set up libcurl (out of memory)"), -1;
    }
    ev_timer_init(&g->tick, on_tick, TICK, TICK);
    g->tick.data = g;
    ev_timer_init(&g->load_retry, on_load_retry, 1.0, 0);
    g->load_retry.data = g;
    *state = g;
    return 0;
}

static int github_start(void *state, cfg_diag *d)
{
    github *g = state;
    if (!(g->oauth = github_oauth_new(g, d)))
        return -1;
    if (github_pr_commands(g) != 0 || github_hook_commands(g) != 0) {
        cfg_error(d, NULL, "github: cannot subscribe to cmd.github.*");
        return -1;
    }
    ev_timer_start(g->ctx->loop, &g->tick);
    load_start(g);
    log_info("github: API at %s%s%s", g->cfg.api_url, g->cfg.token ? ", with a token" : "",
             g->cfg.webhook_secret ? ", webhooks verified" : ", no webhooks");
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
    g->cfg = cfg; /* the API client holds &g->cfg: it sees the new one */
    return 0;
}

static void github_stop(void *state)
{
    github *g = state;
    github_oauth_free(g->oauth); /* first: it cancels its transfers */
    for (size_t i = g->n_subs; i-- > 0;)
        bus_unsubscribe(g->ctx->bus, g->subs[i]);
    ev_timer_stop(g->ctx->loop, &g->tick);
    ev_timer_stop(g->ctx->loop, &g->load_retry);
    if (g->load_req)
        bus_request_cancel(g->ctx->bus, g->load_req);
    json_decref(g->load_kept);
    flush(g);
    github_prs_free(g);
    github_hook_free(g);
    github_api_free(g->api);
    curl_ev_free(g->curl);
    json_decref(g->dirty_prs);
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
