#include "config.h"

#include <errno.h>
#include <sys/random.h>
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

int bosun_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}
