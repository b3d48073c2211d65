#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <bosun/store.h>

static bool listed(const char *state, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(state, list[i]) == 0)
            return true;
    return false;
}

#define LISTED(state, ...)                                                                         \
    listed(state, (const char *const[]){__VA_ARGS__},                                              \
           sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

enum bosun_run_class bosun_run_state_class(const char *state)
{
    if (!state)
        return BOSUN_RUN_CLASS_UNKNOWN;
    if (LISTED(state, BOSUN_RUN_ACTIVE_STATES))
        return BOSUN_RUN_CLASS_ACTIVE;
    if (LISTED(state, BOSUN_RUN_WAITING_STATES))
        return BOSUN_RUN_CLASS_WAITING;
    if (LISTED(state, BOSUN_RUN_TERMINAL_STATES))
        return BOSUN_RUN_CLASS_TERMINAL;
    return BOSUN_RUN_CLASS_UNKNOWN;
}
