#include "config.h"

#include "ulid.h"
#include "util.h"

#include <stdint.h>
#include <string.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static uint64_t last_ms;
static uint8_t last_rand[10];

/* Adds one to the 80-bit random part; returns false on overflow. */
static bool increment(uint8_t r[10])
{
    for (int i = 9; i >= 0; i--)
        if (++r[i] != 0)
            return true;
    return false;
}

void ulid_new(char out[ULID_LEN + 1])
{
    uint64_t ms = (uint64_t)(bosun_now() * 1000.0);
    if (ms <= last_ms) {
        /* Same (or an earlier: clock stepped back) millisecond: keep order
         * by counting up from the previous id. */
        ms = last_ms;
        if (!increment(last_rand))
            ms = ++last_ms;
    } else {
        if (bosun_random_bytes(last_rand, sizeof last_rand) != 0)
            memset(last_rand, 0, sizeof last_rand);
        last_rand[0] &= 0x7f; /* room to count up */
        last_ms = ms;
    }
    uint8_t b[16];
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)(ms >> (40 - 8 * i));
    memcpy(b + 6, last_rand, 10);
    /* 128 bits as 26 base32 digits: the first digit carries 3 bits. */
    int bit = -2;
    for (int i = 0; i < ULID_LEN; i++, bit += 5) {
        unsigned v = 0;
        for (int k = 0; k < 5; k++) {
            int pos = bit + k;
            v <<= 1;
            if (pos >= 0)
                v |= (b[pos / 8] >> (7 - pos % 8)) & 1u;
        }
        out[i] = crockford[v];
    }
    out[ULID_LEN] = '\0';
}

bool ulid_valid(const char *s)
{
    if (!s || strlen(s) != ULID_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (!strchr(crockford, *p))
            return false;
    return s[0] <= '7';
}
