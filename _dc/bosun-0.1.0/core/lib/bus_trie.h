/* Subject trie, after NATS' "sublist": one level per token, each node with a
 * map of literal tokens to children plus a "*" child and a ">" child, and the
 * entries whose pattern ends at that node.  Matching a subject follows only
 * the literal child named by each token and the wildcard children, so its
 * cost does not grow with unrelated subscriptions.
 *
 * Entries are opaque non-NULL pointers owned by the caller; the trie never
 * dereferences them.  The same entry may be inserted under several patterns
 * (or twice under one: it is then reported twice).  Internal to libbosun; it
 * depends on bus_subject.c, hmap.c and util.c only (the fuzz target links
 * exactly those). */
#ifndef BOSUN_BUS_TRIE_H
#define BOSUN_BUS_TRIE_H

#include <stddef.h>

typedef struct bus_trie bus_trie;

typedef void (*bus_trie_fn)(void *entry, void *arg);

bus_trie *bus_trie_new(void);
/* Frees the nodes, not the entries. */
void bus_trie_free(bus_trie *t);

/* Adds entry under pattern.  Returns 0, or -1 with errno EINVAL (invalid
 * pattern, NULL entry) or ENOMEM (the trie is left as it was). */
int bus_trie_insert(bus_trie *t, const char *pattern, void *entry);
/* Removes one occurrence of entry under pattern and prunes the nodes left
 * empty.  Returns 0, or -1 with errno ENOENT when it was not there. */
int bus_trie_remove(bus_trie *t, const char *pattern, void *entry);

/* Calls fn for every entry whose pattern matches subject, each (entry,
 * pattern) pair once; fn must not modify the trie.  subject must be valid
 * (bus_subject_check) for the result to mean anything; an empty token or more
 * than BUS_TOKENS_MAX tokens gives -1 with errno EINVAL.  Returns the number
 * of calls made. */
int bus_trie_match(const bus_trie *t, const char *subject, bus_trie_fn fn, void *arg);

/* Entries stored, and nodes allocated (the root included, so an empty trie
 * has 1): tests use these to check that removal prunes. */
size_t bus_trie_count(const bus_trie *t);
size_t bus_trie_nodes(const bus_trie *t);

#endif
