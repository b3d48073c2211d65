/* bosun — configuration tree.
 *
 * The YAML file is parsed once into a tree of nodes; every node remembers the
 * file, line and column it came from so that any error, found by the core or
 * by a plugin validating its own subtree, can name FILE:LINE:COL and the key.
 *
 * Scalars have "${NAME}" replaced from the environment while loading; an
 * undefined NAME is an error.  "$$" stands for a literal "$".
 *
 * Errors are collected in a cfg_diag rather than printed, so that a caller
 * can report all of them (bosund --check-config) or log them and keep the old
 * configuration (reload).
 */
#ifndef BOSUN_CFG_H
#define BOSUN_CFG_H

#include <bosun/api.h>

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum cfg_type {
    CFG_NULL,   /* "~", "null", or an empty value */
    CFG_SCALAR, /* any other scalar; typed getters convert it */
    CFG_MAP,
    CFG_SEQ,
};

typedef struct cfg_node cfg_node;

struct cfg_node {
    enum cfg_type type;
    const char *file; /* shared by all nodes of one document */
    int line;         /* 1-based */
    int col;          /* 1-based */
    char *key;        /* key under which this node sits in its parent map, else NULL */
    int key_line;     /* where that key was written, for messages about the key */
    int key_col;      /* (0 when there is no key) */
    char *value;      /* scalar text after ${} expansion (CFG_SCALAR only) */
    bool quoted;      /* the scalar was written in quotes */
    cfg_node *parent;
    cfg_node **items; /* children of a map or sequence, in file order */
    size_t n_items;
};

/* Diagnostics: each message is "FILE:LINE:COL: text". */
typedef struct cfg_diag {
    char **msgs;
    size_t n;
    size_t cap;
} cfg_diag;

BOSUN_API void cfg_diag_init(cfg_diag *d);
BOSUN_API void cfg_diag_free(cfg_diag *d);
/* Adds "FILE:LINE:COL: <formatted text>" for node (or a message without a
 * position when node is NULL; "FILE: text" when node->line is 0).  d may be
 * NULL to discard the message.  Always returns false, so that validators can
 * "return cfg_error(...)". */
BOSUN_API bool cfg_error(cfg_diag *d, const cfg_node *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Loads a YAML document.  Returns NULL and fills d on error (syntax errors,
 * undefined variables, duplicate keys, anchors/aliases, multiple documents,
 * non-scalar keys).  An empty document yields an empty map. */
BOSUN_API cfg_node *cfg_load_file(const char *path, cfg_diag *d);
BOSUN_API cfg_node *cfg_load_string(const char *text, size_t len, const char *name, cfg_diag *d);
BOSUN_API void cfg_free(cfg_node *root);

/* Dotted path of a node for messages, e.g. "daemon.plugin_path[2]"; "" for
 * the root; a key containing '.', '[', ']', '"' or nothing is written as
 * ["key"].  The string is written to buf (truncated to size) and returned. */
BOSUN_API const char *cfg_path(const cfg_node *node, char *buf, size_t size);

/* Lookup: the child of a map by key, or NULL (also when map is not a map). */
BOSUN_API const cfg_node *cfg_get(const cfg_node *map, const char *key);

/* Reports every key of map not in the NULL-terminated list allowed.  Returns
 * false if any was found, or if map is not a map (a CFG_NULL map counts as
 * empty and is fine). */
BOSUN_API bool cfg_check_keys(const cfg_node *map, const char *const *allowed, cfg_diag *d);

/* Typed getters.  When the key is absent (or null) *out = def and they
 * return true.  On a wrong type or a bad value they add a message naming the
 * position and key, leave *out = def and return false.
 *
 * string:   any scalar.
 * bool:     true/false/yes/no/on/off.
 * int:      decimal integer within [min, max].
 * duration: number of seconds, or a number with unit ms, s, m, h, d
 *           ("1.5s", "250ms", "2h"), within [min, max] seconds.
 * size:     bytes, or with unit B, K/KB/KiB, M/MB/MiB, G/GB/GiB (all powers
 *           of 1024), within [min, max].
 * strlist:  a sequence of scalars, or one scalar taken as a one-item list;
 *           *out is a NULL-terminated array of pointers into the tree
 *           (free the array only, with free()); NULL when the key is absent
 *           or null, and on error.
 *
 * Quoting does not change how a value is read: "8080" is an integer too. */
BOSUN_API bool cfg_get_string(const cfg_node *map, const char *key, const char *def,
                              const char **out, cfg_diag *d);
BOSUN_API bool cfg_get_bool(const cfg_node *map, const char *key, bool def, bool *out, cfg_diag *d);
BOSUN_API bool cfg_get_int(const cfg_node *map, const char *key, long long def, long long min,
                           long long max, long long *out, cfg_diag *d);
BOSUN_API bool cfg_get_duration(const cfg_node *map, const char *key, double def, double min,
                                double max, double *out, cfg_diag *d);
BOSUN_API bool cfg_get_size(const cfg_node *map, const char *key, unsigned long long def,
                            unsigned long long min, unsigned long long max, unsigned long long *out,
                            cfg_diag *d);
BOSUN_API bool cfg_get_strlist(const cfg_node *map, const char *key, const char ***out,
                               cfg_diag *d);

/* The same conversions on a scalar node itself (for list items, map values).
 * On failure *out is left unchanged. */
BOSUN_API bool cfg_as_bool(const cfg_node *node, bool *out, cfg_diag *d);
BOSUN_API bool cfg_as_int(const cfg_node *node, long long min, long long max, long long *out,
                          cfg_diag *d);
BOSUN_API bool cfg_as_duration(const cfg_node *node, double min, double max, double *out,
                               cfg_diag *d);
BOSUN_API bool cfg_as_size(const cfg_node *node, unsigned long long min, unsigned long long max,
                           unsigned long long *out, cfg_diag *d);

/* Structural comparison (types, keys, values, order); positions ignored.
 * Lets reload tell whether a subtree changed. */
BOSUN_API bool cfg_equal(const cfg_node *a, const cfg_node *b);

#ifdef __cplusplus
}
#endif
#endif
