#include "config.h"

#include <time.h>

#include <bosun/sys.h>

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bosun_now(void)
{
    return clock_seconds(CLOCK_REALTIME);
}

double bosun_monotonic(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}
