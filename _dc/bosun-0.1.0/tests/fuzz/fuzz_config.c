/* libFuzzer target for the configuration loader.
 *
 * Loads the input as YAML; when it parses, every node goes through the path
 * builder, the typed converters and the key checks, and the tree must equal
 * itself and a second load of the same text.  Sanitizers catch the rest. */
#include "config.h"

#include <bosun/cfg.h>
#include <bosun/price.h>

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise_scalar(const cfg_node *n, cfg_diag *d)
{
    bool b;
    long long i;
    double t;
    unsigned long long sz;
    cfg_as_bool(n, &b, d);
    cfg_as_int(n, LLONG_MIN, LLONG_MAX, &i, d);
    cfg_as_int(n, 1, 65535, &i, d);
    cfg_as_duration(n, 0, INFINITY, &t, d);
    cfg_as_duration(n, 0.5, 3600, &t, d);
    cfg_as_size(n, 0, ULLONG_MAX, &sz, d);
    cfg_as_size(n, 1024, 1 << 20, &sz, d);
}

/* Runs every getter on one key of map, to cover lookups and defaults. */
static void exercise_getters(const cfg_node *map, const char *key, cfg_diag *d)
{
    const char *s;
    bool b;
    long long i;
    double t;
    unsigned long long sz;
    const char **list;
    cfg_get_string(map, key, "def", &s, d);
    cfg_get_bool(map, key, true, &b, d);
    cfg_get_int(map, key, 0, -100, 100, &i, d);
    cfg_get_duration(map, key, 1, 0, 1e9, &t, d);
    cfg_get_size(map, key, 0, 0, ULLONG_MAX, &sz, d);
    if (cfg_get_strlist(map, key, &list, d)) {
        for (const char **p = list; p && *p; p++)
            if (strlen(*p) == SIZE_MAX) /* reads every item */
                abort();
        free(list);
    }
}

/* Every map, read as a `prices:` table (core/lib/price.c): accepted, each
 * model it names is found with prices in range; refused, it says why. */
static void exercise_prices(const cfg_node *map, cfg_diag *d)
{
    size_t before = d->n;
    bosun_prices *p = bosun_prices_new(map, d);
    if (!p && d->n == before)
        abort();
    for (size_t i = 0; p && i < map->n_items; i++) {
        bosun_price pr;
        if (!bosun_prices_lookup(p, map->items[i]->key, &pr) || !(pr.input_per_mtok >= 0) ||
            !(pr.output_per_mtok <= 1e6) || bosun_price_cost(&pr, 1ll << 50, 1ll << 50, -1) < 0)
            abort();
    }
    bosun_prices_free(p);
}

static void walk(const cfg_node *n, const cfg_node *root, cfg_diag *d)
{
    char path[256], tiny[5];
    cfg_path(n, path, sizeof path);
    cfg_path(n, tiny, sizeof tiny);
    if (strlen(tiny) >= sizeof tiny || n->file != root->file || n->line < 1 || n->col < 1)
        abort();
    static const char *const allowed[] = {"a", "b", "daemon", NULL};
    switch (n->type) {
    case CFG_SCALAR:
        if (!n->value)
            abort();
        exercise_scalar(n, d);
        break;
    case CFG_MAP:
        cfg_check_keys(n, allowed, d);
        exercise_prices(n, d);
        for (size_t i = 0; i < n->n_items; i++) {
            if (!n->items[i]->key || cfg_get(n, n->items[i]->key) == NULL)
                abort();
            exercise_getters(n, n->items[i]->key, d);
        }
        break;
    default:
        cfg_check_keys(n, allowed, d);
        break;
    }
    for (size_t i = 0; i < n->n_items; i++) {
        if (n->items[i]->parent != n || !cfg_equal(n->items[i], n->items[i]))
            abort();
        walk(n->items[i], root, d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cfg_diag d;
    cfg_diag_init(&d);
    cfg_node *root = cfg_load_string((const char *)data, size, "fuzz.yaml", &d);
    if (!root) {
        if (d.n == 0) /* a refusal always says why */
            abort();
        cfg_diag_free(&d);
        return 0;
    }
    if (d.n != 0 || root->type != CFG_MAP)
        abort();
    walk(root, root, &d);
    cfg_node *again = cfg_load_string((const char *)data, size, "again.yaml", NULL);
    if (!again || !cfg_equal(root, again) || !cfg_equal(again, root))
        abort();
    cfg_free(again);
    cfg_free(root);
    cfg_diag_free(&d);
    return 0;
}
