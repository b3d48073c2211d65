/* A fuzz target's own check: a failure says which and aborts, which
 * libFuzzer reports as a crash with its input (and a replay as a failed
 * test). */
#ifndef BOSUN_FUZZ_CHECK_H
#define BOSUN_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(c)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
