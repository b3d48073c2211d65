/* A memory budget shared by many buffers (see <bosun/budget.h>). */
#include "config.h"

#include <bosun/budget.h>

#include <stdint.h>
#include <stdlib.h>

#include "util.h"

struct bosun_budget {
    size_t limit; /* 0: unlimited */
    size_t used;
    size_t peak;
};

bosun_budget *bosun_budget_new(size_t limit)
{
    bosun_budget *b = xcalloc(1, sizeof *b);
    b->limit = limit;
    return b;
}

void bosun_budget_free(bosun_budget *b)
{
    free(b);
}

void bosun_budget_set_limit(bosun_budget *b, size_t limit)
{
    b->limit = limit;
}

size_t bosun_budget_limit(const bosun_budget *b)
{
    return b->limit;
}

bool bosun_budget_reserve(bosun_budget *b, size_t n)
{
    /* Written so that no sum can wrap around. */
    if (b->limit && (b->used > b->limit || n > b->limit - b->used))
        return false;
    if (!b->limit && n > SIZE_MAX - b->used)
        return false;
    b->used += n;
    if (b->used > b->peak)
        b->peak = b->used;
    return true;
}

void bosun_budget_release(bosun_budget *b, size_t n)
{
    b->used -= n < b->used ? n : b->used;
}

size_t bosun_budget_used(const bosun_budget *b)
{
    return b->used;
}

size_t bosun_budget_peak(const bosun_budget *b)
{
    return b->peak;
}

bool bosun_budget_high(const bosun_budget *b)
{
    return b->limit && b->used >= b->limit / 4 * 3;
}
