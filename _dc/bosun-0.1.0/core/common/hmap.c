#include "config.h"

#include "hmap.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct hmap_slot {
    void *value; /* NULL: the slot is empty */
    uint64_t hash;
    union {
        char *str; /* NUL-terminated copy of len bytes */
        uint64_t u64;
    } key;
    size_t len;
};

/* A key being looked up, with its hash computed once. */
struct hkey {
    const char *str;
    size_t len;
    uint64_t u64;
    uint64_t hash;
};

#define MIN_CAP 8

/* ------------------------------------------------------------------ hashing */

static uint64_t sip_key[2];
static bool sip_key_set;

/* Seeds lazily so that a map costs nothing until used.  GRND_NONBLOCK: a
 * daemon started early at boot must not hang here; the fallback is weaker
 * but still differs per process. */
static void sip_key_init(void)
{
    if (sip_key_set)
        return;
    if (getrandom(sip_key, sizeof sip_key, GRND_NONBLOCK) != (ssize_t)sizeof sip_key) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sip_key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
        sip_key[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&ts;
    }
    sip_key_set = true;
}

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl(v[1], 13) ^ v[0];
    v[0] = rotl(v[0], 32);
    v[2] += v[3];
    v[3] = rotl(v[3], 16) ^ v[2];
    v[0] += v[3];
    v[3] = rotl(v[3], 21) ^ v[0];
    v[2] += v[1];
    v[1] = rotl(v[1], 17) ^ v[2];
    v[2] = rotl(v[2], 32);
}

/* SipHash-1-3: keyed, fast on the short strings used as keys here. */
static uint64_t siphash13(const void *data, size_t len)
{
    const unsigned char *in = data;
    uint64_t v[4] = {
        sip_key[0] ^ 0x736f6d6570736575ULL,
        sip_key[1] ^ 0x646f72616e646f6dULL,
        sip_key[0] ^ 0x6c7967656e657261ULL,
        sip_key[1] ^ 0x7465646279746573ULL,
    };
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m;
        memcpy(&m, in + i, 8);
        v[3] ^= m;
        sip_round(v);
        v[0] ^= m;
    }
    uint64_t last = (uint64_t)len << 56;
    for (size_t j = 0; i + j < len; j++)
        last |= (uint64_t)in[i + j] << (8 * j);
    v[3] ^= last;
    sip_round(v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for (int r = 0; r < 3; r++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* Integer keys are chosen by the program (ids), so a mixer suffices. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static struct hkey str_key(const char *s, size_t len)
{
    sip_key_init();
    return (struct hkey){.str = s, .len = len, .hash = siphash13(s, len)};
}

static struct hkey u64_key(uint64_t k)
{
    return (struct hkey){.u64 = k, .hash = mix64(k)};
}

/* ------------------------------------------------------------------ table */

void hmap_init(hmap *m)
{
    *m = (hmap){.u64_keys = false};
}

void hmap_init_u64(hmap *m)
{
    *m = (hmap){.u64_keys = true};
}

void hmap_destroy(hmap *m)
{
    if (!m->u64_keys)
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].value)
                free(m->slots[i].key.str);
    free(m->slots);
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

size_t hmap_count(const hmap *m)
{
    return m->count;
}

static bool key_eq(const hmap *m, const struct hmap_slot *s, const struct hkey *k)
{
    if (s->hash != k->hash)
        return false;
    if (m->u64_keys)
        return s->key.u64 == k->u64;
    return s->len == k->len && memcmp(s->key.str, k->str, k->len) == 0;
}

/* Index of k's slot, or of the empty slot that ends its probe chain.  The
 * load limit guarantees an empty slot exists. */
static size_t find_slot(const hmap *m, const struct hkey *k)
{
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)k->hash & mask;; i = (i + 1) & mask) {
        const struct hmap_slot *s = &m->slots[i];
        if (!s->value || key_eq(m, s, k))
            return i;
    }
}

static struct hmap_slot *lookup(const hmap *m, const struct hkey *k)
{
    if (m->count == 0)
        return NULL;
    struct hmap_slot *s = &m->slots[find_slot(m, k)];
    return s->value ? s : NULL;
}

/* Moves every entry into a table of new_cap slots; keys are moved, not
 * copied, so this fails only if the new table cannot be allocated. */
static int resize(hmap *m, size_t new_cap)
{
    struct hmap_slot *slots = calloc(new_cap, sizeof *slots);
    if (!slots)
        return -1;
    size_t mask = new_cap - 1;
    for (size_t i = 0; i < m->cap; i++) {
        struct hmap_slot *s = &m->slots[i];
        if (!s->value)
            continue;
        size_t j = (size_t)s->hash & mask;
        while (slots[j].value)
            j = (j + 1) & mask;
        slots[j] = *s;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = new_cap;
    return 0;
}

/* Keeps the load at most 3/4 so that probe chains stay short. */
static int reserve_one(hmap *m)
{
    if ((m->count + 1) * 4 <= m->cap * 3)
        return 0;
    return resize(m, m->cap ? m->cap * 2 : MIN_CAP);
}

/* An insert that failed would leave a caller's index silently incomplete
 * (a run nobody can find again): like xmalloc, give up loudly instead. */
static _Noreturn void fail(const char *why)
{
    static const char prefix[] = "<2>hmap: ";
    /* write(2), not stdio: no allocation on the way out. */
    if (write(STDERR_FILENO, prefix, sizeof prefix - 1) >= 0 &&
        write(STDERR_FILENO, why, strlen(why)) >= 0)
        (void)!write(STDERR_FILENO, "\n", 1);
    abort();
}

static void insert(hmap *m, const struct hkey *k, void *value)
{
    if (!value)
        fail("NULL value inserted (a caller's bug)");
    struct hmap_slot *s = lookup(m, k);
    if (s) {
        s->value = value;
        return;
    }
    char *copy = NULL;
    if (!m->u64_keys) {
        copy = malloc(k->len + 1);
        if (!copy)
            fail("out of memory");
        memcpy(copy, k->str, k->len);
        copy[k->len] = '\0';
    }
    if (reserve_one(m) < 0)
        fail("out of memory");
    s = &m->slots[find_slot(m, k)];
    s->value = value;
    s->hash = k->hash;
    s->len = k->len;
    if (m->u64_keys)
        s->key.u64 = k->u64;
    else
        s->key.str = copy;
    m->count++;
}

/* Backward-shift deletion: pulls later members of the probe chain into the
 * hole so that lookups never need tombstones. */
static void remove_at(hmap *m, size_t hole)
{
    size_t mask = m->cap - 1;
    for (size_t j = (hole + 1) & mask; m->slots[j].value; j = (j + 1) & mask) {
        size_t home = (size_t)m->slots[j].hash & mask;
        /* The entry at j may fill the hole only if the hole lies on its probe
         * path, i.e. cyclically within [home, j). */
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    memset(&m->slots[hole], 0, sizeof m->slots[hole]);
}

/* Returns memory after churn; a failed shrink only keeps the larger table. */
static void maybe_shrink(hmap *m)
{
    if (m->count == 0) {
        free(m->slots);
        m->slots = NULL;
        m->cap = 0;
    } else if (m->cap > MIN_CAP && m->count * 8 < m->cap) {
        (void)resize(m, m->cap / 2);
    }
}

static void *erase(hmap *m, const struct hkey *k)
{
    struct hmap_slot *s = lookup(m, k);
    if (!s)
        return NULL;
    void *value = s->value;
    if (!m->u64_keys)
        free(s->key.str);
    remove_at(m, (size_t)(s - m->slots));
    m->count--;
    maybe_shrink(m);
    return value;
}

/* ------------------------------------------------------------------ string keys */

void *hmap_getn(const hmap *m, const char *key, size_t len)
{
    assert(!m->u64_keys);
    if (m->count == 0)
        return NULL;
    struct hkey k = str_key(key, len);
    struct hmap_slot *s = lookup(m, &k);
    return s ? s->value : NULL;
}

void *hmap_get(const hmap *m, const char *key)
{
    return hmap_getn(m, key, strlen(key));
}

void hmap_putn(hmap *m, const char *key, size_t len, void *value)
{
    assert(!m->u64_keys);
    struct hkey k = str_key(key, len);
    insert(m, &k, value);
}

void hmap_put(hmap *m, const char *key, void *value)
{
    hmap_putn(m, key, strlen(key), value);
}

void *hmap_deln(hmap *m, const char *key, size_t len)
{
    assert(!m->u64_keys);
    if (m->count == 0)
        return NULL;
    struct hkey k = str_key(key, len);
    return erase(m, &k);
}

void *hmap_del(hmap *m, const char *key)
{
    return hmap_deln(m, key, strlen(key));
}

/* ------------------------------------------------------------------ integer keys */

void *hmap_get_u64(const hmap *m, uint64_t key)
{
    assert(m->u64_keys);
    struct hkey k = u64_key(key);
    struct hmap_slot *s = lookup(m, &k);
    return s ? s->value : NULL;
}

void hmap_put_u64(hmap *m, uint64_t key, void *value)
{
    assert(m->u64_keys);
    struct hkey k = u64_key(key);
    insert(m, &k, value);
}

void *hmap_del_u64(hmap *m, uint64_t key)
{
    assert(m->u64_keys);
    struct hkey k = u64_key(key);
    return erase(m, &k);
}

/* ------------------------------------------------------------------ iteration */

static struct hmap_slot *next_slot(const hmap *m, size_t *pos)
{
    while (*pos < m->cap) {
        struct hmap_slot *s = &m->slots[(*pos)++];
        if (s->value)
            return s;
    }
    return NULL;
}

void *hmap_next(const hmap *m, size_t *pos, const char **key)
{
    assert(!m->u64_keys);
    struct hmap_slot *s = next_slot(m, pos);
    if (s && key)
        *key = s->key.str;
    return s ? s->value : NULL;
}

void *hmap_next_u64(const hmap *m, size_t *pos, uint64_t *key)
{
    assert(m->u64_keys);
    struct hmap_slot *s = next_slot(m, pos);
    if (s && key)
        *key = s->key.u64;
    return s ? s->value : NULL;
}
