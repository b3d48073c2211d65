/* A small open-addressing hash map (linear probing, backward-shift deletion,
 * so no tombstones pile up under churn).
 *
 * A map has either string keys (copied into the map, compared by bytes, so a
 * key may be a slice of a longer string) or uint64_t keys, chosen at init.
 * Values are non-NULL pointers owned by the caller: NULL means "absent".
 *
 * The struct is public so that it can be embedded; a zeroed struct (or
 * hmap_init) is an empty string-keyed map, hmap_init_u64 makes an integer-keyed
 * one, and neither allocates anything until the first insert.
 *
 * String keys are hashed with SipHash-1-3 under a per-process random key
 * because they can come from the network (subject tokens), where a fixed hash
 * would let a peer force every key into one probe chain.
 *
 * This file depends on libc only: the unit test links it alone. */
#ifndef BOSUN_HMAP_H
#define BOSUN_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap_slot;

typedef struct hmap {
    struct hmap_slot *slots; /* NULL until the first insert */
    size_t cap;              /* power of two, or 0 */
    size_t count;
    bool u64_keys;
} hmap;

void hmap_init(hmap *m);
void hmap_init_u64(hmap *m);
/* Frees the map's storage and its key copies, not the values.  The map is
 * empty and usable afterwards. */
void hmap_destroy(hmap *m);

size_t hmap_count(const hmap *m);

/* String keys.  The *n variants take a key of len bytes that need not be
 * NUL-terminated.  put replaces the value of an existing key.  put cannot
 * fail: out of memory (or a NULL value, a caller's bug) aborts the process
 * with a message on stderr, as xmalloc does, because a lost entry (a child
 * whose exit is never matched to its run) is worse than a crash that the
 * init system sees and restarts.
 * del returns the removed value, or NULL if the key was absent. */
void *hmap_get(const hmap *m, const char *key);
void *hmap_getn(const hmap *m, const char *key, size_t len);
void hmap_put(hmap *m, const char *key, void *value);
void hmap_putn(hmap *m, const char *key, size_t len, void *value);
void *hmap_del(hmap *m, const char *key);
void *hmap_deln(hmap *m, const char *key, size_t len);

/* uint64_t keys, same contracts. */
void *hmap_get_u64(const hmap *m, uint64_t key);
void hmap_put_u64(hmap *m, uint64_t key, void *value);
void *hmap_del_u64(hmap *m, uint64_t key);

/* Iteration: start with *pos = 0; each call returns the next value (and its
 * key through key, which may be NULL) or NULL at the end.  The map must not
 * be modified during an iteration. */
void *hmap_next(const hmap *m, size_t *pos, const char **key);
void *hmap_next_u64(const hmap *m, size_t *pos, uint64_t *key);

#endif
