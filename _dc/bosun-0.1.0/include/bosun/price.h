/* Model prices, for the agent types whose CLI reports tokens but no cost
 * (Codex, Gemini): a built-in table of public list prices (see
 * bosun.yaml(5), "prices") that the user's `prices:` map overrides and
 * extends.  Prices are USD per million tokens. */
#ifndef BOSUN_PRICE_H
#define BOSUN_PRICE_H

#include <stdbool.h>
#include <stddef.h>

#include <bosun/api.h>
#include <bosun/cfg.h>

typedef struct bosun_price {
    double input_per_mtok;        /* uncached input */
    double output_per_mtok;       /* output, reasoning included */
    double cached_input_per_mtok; /* input read from the provider's cache */
} bosun_price;

typedef struct bosun_prices bosun_prices;

/* The table: the defaults, then the user's `prices:` map (node may be
 * NULL).  NULL, with errors in d at FILE:LINE:COL, when the map is wrong. */
BOSUN_API bosun_prices *bosun_prices_new(const cfg_node *prices, cfg_diag *d);
BOSUN_API void bosun_prices_free(bosun_prices *p);

/* The price of a model: its exact name, else the longest entry that is a
 * prefix of it ending at a '-' of the name (a dated or suffixed sibling
 * of a family, "gpt-5-codex-2025-09-15" -> "gpt-5-codex").  A user entry
 * wins over a default of the same name.  p NULL: the defaults only. */
BOSUN_API bool bosun_prices_lookup(const bosun_prices *p, const char *model, bosun_price *out);

/* USD for one turn's counts (negative counts count as 0). */
BOSUN_API double bosun_price_cost(const bosun_price *pr, long long input, long long output,
                                  long long cached_input);

#endif
