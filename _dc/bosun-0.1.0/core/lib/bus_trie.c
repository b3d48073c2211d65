#include "config.h"

#include "bus_trie.h"
#include "hmap.h"
#include "util.h"

#include <bosun/bus.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct node {
    hmap literals;     /* token -> struct node * */
    struct node *star; /* "*" */
    struct node *fwc;  /* ">": never has children, ">" ends a pattern */
    void **entries;    /* patterns ending here, in insertion order */
    size_t n_entries;
    size_t cap_entries;
};

struct bus_trie {
    struct node root;
    size_t count;
    size_t nodes;
};

struct tok {
    const char *s;
    size_t len;
};

/* A walk from the root: node[i] is reached from node[i - 1] by tok[i - 1]. */
struct path {
    struct node *node[BUS_TOKENS_MAX + 1];
    struct tok tok[BUS_TOKENS_MAX];
    size_t depth;
};

/* Splits on dots.  Empty tokens are refused because no pattern has one, and
 * a "*" must not be allowed to match them. */
static int split(const char *s, struct tok out[BUS_TOKENS_MAX])
{
    int n = 0;
    for (;;) {
        size_t len = strcspn(s, ".");
        if (len == 0 || n == BUS_TOKENS_MAX)
            return -1;
        out[n++] = (struct tok){s, len};
        if (s[len] == '\0')
            return n;
        s += len + 1;
    }
}

static bool is_wild(const struct tok *t, char c)
{
    return t->len == 1 && t->s[0] == c;
}

static struct node *new_node(bus_trie *t)
{
    t->nodes++;
    return xcalloc(1, sizeof(struct node));
}

static bool node_empty(const struct node *n)
{
    return n->n_entries == 0 && hmap_count(&n->literals) == 0 && !n->star && !n->fwc;
}

static void free_node(bus_trie *t, struct node *n)
{
    size_t pos = 0;
    struct node *child;
    while ((child = hmap_next(&n->literals, &pos, NULL)))
        free_node(t, child);
    hmap_destroy(&n->literals);
    if (n->star)
        free_node(t, n->star);
    if (n->fwc)
        free_node(t, n->fwc);
    free(n->entries);
    if (n != &t->root) {
        free(n);
        t->nodes--;
    }
}

bus_trie *bus_trie_new(void)
{
    bus_trie *t = xcalloc(1, sizeof *t);
    hmap_init(&t->root.literals);
    t->nodes = 1;
    return t;
}

void bus_trie_free(bus_trie *t)
{
    if (!t)
        return;
    free_node(t, &t->root);
    free(t);
}

size_t bus_trie_count(const bus_trie *t)
{
    return t->count;
}

size_t bus_trie_nodes(const bus_trie *t)
{
    return t->nodes;
}

/* ------------------------------------------------------------------ insert, remove */

static struct node *child_of(const struct node *n, const struct tok *tk)
{
    if (is_wild(tk, '*'))
        return n->star;
    if (is_wild(tk, '>'))
        return n->fwc;
    return hmap_getn(&n->literals, tk->s, tk->len);
}

/* Returns the child for tk, creating it if needed; NULL only on ENOMEM. */
static struct node *child_make(bus_trie *t, struct node *n, const struct tok *tk)
{
    struct node *c = child_of(n, tk);
    if (c)
        return c;
    c = new_node(t);
    if (is_wild(tk, '*')) {
        n->star = c;
    } else if (is_wild(tk, '>')) {
        n->fwc = c;
    } else {
        hmap_putn(&n->literals, tk->s, tk->len, c);
    }
    return c;
}

static void child_detach(struct node *n, const struct tok *tk)
{
    if (is_wild(tk, '*'))
        n->star = NULL;
    else if (is_wild(tk, '>'))
        n->fwc = NULL;
    else
        hmap_deln(&n->literals, tk->s, tk->len);
}

/* Frees the empty nodes at the end of the path, deepest first, so that a
 * removed pattern leaves no trace behind. */
static void prune(bus_trie *t, struct path *p)
{
    for (size_t i = p->depth; i > 0; i--) {
        struct node *n = p->node[i];
        if (!node_empty(n))
            return;
        child_detach(p->node[i - 1], &p->tok[i - 1]);
        free_node(t, n);
    }
}

static void add_entry(struct node *n, void *entry)
{
    if (n->n_entries == n->cap_entries) {
        n->cap_entries = n->cap_entries ? n->cap_entries * 2 : 2;
        n->entries = xrealloc(n->entries, n->cap_entries * sizeof *n->entries);
    }
    n->entries[n->n_entries++] = entry;
}

int bus_trie_insert(bus_trie *t, const char *pattern, void *entry)
{
    struct path p;
    if (!entry || bus_pattern_check(pattern) < 0) {
        errno = EINVAL;
        return -1;
    }
    int n = split(pattern, p.tok);
    p.node[0] = &t->root;
    for (p.depth = 0; p.depth < (size_t)n; p.depth++) {
        struct node *c = child_make(t, p.node[p.depth], &p.tok[p.depth]);
        if (!c) {
            prune(t, &p);
            errno = ENOMEM;
            return -1;
        }
        p.node[p.depth + 1] = c;
    }
    add_entry(p.node[p.depth], entry);
    t->count++;
    return 0;
}

/* Keeps insertion order, so that matches come out in a stable order. */
static int drop_entry(struct node *n, void *entry)
{
    for (size_t i = 0; i < n->n_entries; i++) {
        if (n->entries[i] != entry)
            continue;
        memmove(&n->entries[i], &n->entries[i + 1], (n->n_entries - i - 1) * sizeof *n->entries);
        if (--n->n_entries == 0) {
            free(n->entries);
            n->entries = NULL;
            n->cap_entries = 0;
        }
        return 0;
    }
    return -1;
}

int bus_trie_remove(bus_trie *t, const char *pattern, void *entry)
{
    struct path p;
    int n = pattern ? split(pattern, p.tok) : -1;
    p.node[0] = &t->root;
    for (p.depth = 0; n >= 0 && p.depth < (size_t)n; p.depth++) {
        p.node[p.depth + 1] = child_of(p.node[p.depth], &p.tok[p.depth]);
        if (!p.node[p.depth + 1])
            break;
    }
    if (n < 0 || p.depth < (size_t)n || drop_entry(p.node[p.depth], entry) < 0) {
        errno = ENOENT;
        return -1;
    }
    t->count--;
    prune(t, &p);
    return 0;
}

/* ------------------------------------------------------------------ match */

struct match {
    struct tok tok[BUS_TOKENS_MAX];
    size_t n;
    bus_trie_fn fn;
    void *arg;
    int calls;
};

static void report(const struct node *n, struct match *m)
{
    for (size_t i = 0; i < n->n_entries; i++)
        m->fn(n->entries[i], m->arg);
    m->calls += (int)n->n_entries;
}

/* Each pattern token is either a literal, "*" or ">", so a subject reaches a
 * given node by at most one route and every entry is reported once. */
static void match_from(const struct node *n, size_t i, struct match *m)
{
    if (n->fwc && i < m->n)
        report(n->fwc, m);
    if (i == m->n) {
        report(n, m);
        return;
    }
    const struct node *lit = hmap_getn(&n->literals, m->tok[i].s, m->tok[i].len);
    if (lit)
        match_from(lit, i + 1, m);
    if (n->star)
        match_from(n->star, i + 1, m);
}

int bus_trie_match(const bus_trie *t, const char *subject, bus_trie_fn fn, void *arg)
{
    struct match m = {.fn = fn, .arg = arg};
    int n = subject ? split(subject, m.tok) : -1;
    if (n < 0) {
        errno = EINVAL;
        return -1;
    }
    m.n = (size_t)n;
    match_from(&t->root, 0, &m);
    return m.calls;
}
