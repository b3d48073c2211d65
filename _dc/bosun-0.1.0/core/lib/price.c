/* Model prices (see <bosun/price.h>). */
#include "config.h"

#include <bosun/price.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define PRICE_MAX  1e6 /* USD per Mtok: far above any list price */
#define PRICES_MAX 1024
#define MODEL_MAX  200

typedef struct price_entry {
    const char *model;
    bosun_price price;
} price_entry;

/* Public list prices, standard tier, prompts up to 200k tokens; checked
 * 2026-12-02 (bosun.yaml(5) names the sources).  Cached input is a tenth
 * of input for both providers. */
static const price_entry defaults[] = {
    {"gpt-5", {1.25, 10.0, 0.125}},
    {"gpt-5-codex", {1.25, 10.0, 0.125}},
    {"gpt-5-mini", {0.25, 2.0, 0.025}},
    {"gpt-5-nano", {0.05, 0.40, 0.005}},
    {"gpt-5.1", {1.25, 10.0, 0.125}},
    {"gpt-5.1-codex", {1.25, 10.0, 0.125}},
    {"gpt-5.1-codex-max", {1.25, 10.0, 0.125}},
    {"gpt-5.1-codex-mini", {0.25, 2.0, 0.025}},
    {"gpt-5.2", {1.75, 14.0, 0.175}},
    {"gpt-5.2-codex", {1.75, 14.0, 0.175}},
    {"gpt-5.3-codex", {1.75, 14.0, 0.175}},
    {"gpt-5.4", {2.50, 15.0, 0.25}},
    {"gpt-5.4-mini", {0.75, 4.50, 0.075}},
    {"gpt-5.5", {5.0, 30.0, 0.50}},
    {"gemini-2.0-flash", {0.10, 0.40, 0.025}},
    {"gemini-2.5-pro", {1.25, 10.0, 0.125}},
    {"gemini-2.5-flash", {0.30, 2.50, 0.03}},
    {"gemini-2.5-flash-lite", {0.10, 0.40, 0.01}},
    {"gemini-3-pro", {2.0, 12.0, 0.20}},
    {"gemini-3-flash", {0.50, 3.0, 0.05}},
    {"gemini-3.1-pro", {2.0, 12.0, 0.20}},
};

struct bosun_prices {
    price_entry *user; /* model strings owned */
    size_t n_user;
};

static bool get_price(const cfg_node *m, const char *key, double *out, cfg_diag *d)
{
    const cfg_node *v = cfg_get(m, key);
    char path[256];
    if (!v)
        return cfg_error(d, m, "'%s': needs '%s'", cfg_path(m, path, sizeof path), key);
    char *end = NULL;
    double x = v->type == CFG_SCALAR && v->value ? strtod(v->value, &end) : NAN;
    if (!end || end == v->value || *end || !(x >= 0 && x <= PRICE_MAX))
        return cfg_error(d, v, "'%s': a price in USD per million tokens, 0 to %g",
                         cfg_path(v, path, sizeof path), PRICE_MAX);
    *out = x;
    return true;
}

static bool parse_entry(const cfg_node *m, price_entry *e, cfg_diag *d)
{
    static const char *const keys[] = {"input_per_mtok", "output_per_mtok", "cached_input_per_mtok",
                                       NULL};
    char path[256];
    if (m->type != CFG_MAP)
        return cfg_error(d, m, "'%s': must be a map of %s, %s, %s", cfg_path(m, path, sizeof path),
                         keys[0], keys[1], keys[2]);
    if (!m->key || !*m->key || strlen(m->key) > MODEL_MAX)
        return cfg_error(d, m, "'%s': a model name of 1 to %d characters",
                         cfg_path(m, path, sizeof path), MODEL_MAX);
    bool ok = cfg_check_keys(m, keys, d);
    ok = get_price(m, keys[0], &e->price.input_per_mtok, d) && ok;
    ok = get_price(m, keys[1], &e->price.output_per_mtok, d) && ok;
    /* Without a cached price, cached input costs what input costs: never
     * less than the user wrote. */
    e->price.cached_input_per_mtok = e->price.input_per_mtok;
    if (cfg_get(m, keys[2]))
        ok = get_price(m, keys[2], &e->price.cached_input_per_mtok, d) && ok;
    e->model = m->key;
    return ok;
}

bosun_prices *bosun_prices_new(const cfg_node *prices, cfg_diag *d)
{
    bosun_prices *p = xcalloc(1, sizeof *p);
    if (!prices || prices->type == CFG_NULL)
        return p;
    char path[256];
    if (prices->type != CFG_MAP || prices->n_items > PRICES_MAX) {
        cfg_error(d, prices, "'%s': must be a map of at most %d models",
                  cfg_path(prices, path, sizeof path), PRICES_MAX);
        free(p);
        return NULL;
    }
    p->user = xcalloc(prices->n_items ? prices->n_items : 1, sizeof *p->user);
    bool ok = true;
    for (size_t i = 0; i < prices->n_items; i++) {
        ok = parse_entry(prices->items[i], &p->user[i], d) && ok;
        p->user[i].model = xstrdup(p->user[i].model ? p->user[i].model : "");
        p->n_user = i + 1;
    }
    if (!ok) {
        bosun_prices_free(p);
        return NULL;
    }
    return p;
}

void bosun_prices_free(bosun_prices *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_user; i++)
        free((char *)p->user[i].model);
    free(p->user);
    free(p);
}

/* How well name matches model: its length for an exact match or a
 * family prefix ending at a '-', else 0. */
static size_t match(const char *name, const char *model)
{
    size_t n = strlen(name);
    if (strncmp(name, model, n) != 0)
        return 0;
    return model[n] == '\0' || model[n] == '-' ? n : 0;
}

static void best(const price_entry *t, size_t n, const char *model, size_t *best_len,
                 const bosun_price **out)
{
    for (size_t i = 0; i < n; i++) {
        size_t m = match(t[i].model, model);
        if (m > *best_len) {
            *best_len = m;
            *out = &t[i].price;
        }
    }
}

bool bosun_prices_lookup(const bosun_prices *p, const char *model, bosun_price *out)
{
    if (!model || !*model)
        return false;
    size_t len = 0;
    const bosun_price *found = NULL;
    /* The user's first: on equal length, a default does not displace it. */
    if (p)
        best(p->user, p->n_user, model, &len, &found);
    best(defaults, sizeof defaults / sizeof defaults[0], model, &len, &found);
    if (found)
        *out = *found;
    return found != NULL;
}

double bosun_price_cost(const bosun_price *pr, long long input, long long output,
                        long long cached_input)
{
    double in = input > 0 ? (double)input : 0, outp = output > 0 ? (double)output : 0,
           ca = cached_input > 0 ? (double)cached_input : 0;
    return (in * pr->input_per_mtok + outp * pr->output_per_mtok + ca * pr->cached_input_per_mtok) /
           1e6;
}
