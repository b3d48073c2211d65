/* bosun — configuration tree: diagnostics, paths, lookup, key checks and
 * comparison.  Loading lives in cfg_yaml.c, typed conversion in cfg_get.c. */
#include "config.h"

#include <bosun/cfg.h>

#include "cfg_int.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_diag_init(cfg_diag *d)
{
    d->msgs = NULL;
    d->n = 0;
    d->cap = 0;
}

void cfg_diag_free(cfg_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->msgs[i]);
    free(d->msgs);
    cfg_diag_init(d);
}

static void diag_push(cfg_diag *d, char *msg)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 8;
        d->msgs = xrealloc(d->msgs, d->cap * sizeof *d->msgs);
    }
    d->msgs[d->n++] = msg;
}

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return xstrdup(fmt); /* an invalid conversion; the raw format still helps */
    char *s = xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

bool cfg_error(cfg_diag *d, const cfg_node *node, const char *fmt, ...)
{
    if (!d)
        return false;
    va_list ap;
    va_start(ap, fmt);
    char *text = vformat(fmt, ap);
    va_end(ap);
    char *msg;
    if (!node || !node->file)
        msg = text;
    else if (node->line <= 0)
        msg = xasprintf("%s: %s", node->file, text);
    else
        msg = xasprintf("%s:%d:%d: %s", node->file, node->line, node->col, text);
    if (msg != text)
        free(text);
    diag_push(d, msg);
    return false;
}

void cfg_free(cfg_node *root)
{
    if (!root)
        return;
    for (size_t i = 0; i < root->n_items; i++)
        cfg_free(root->items[i]);
    free(root->items);
    free(root->key);
    free(root->value);
    /* The root carries the shared file name in its own allocation
     * (cfg_yaml.c), so one free() covers both. */
    free(root);
}

/* ---------------------------------------------------------------- paths */

/* Appends with truncation, like snprintf, but piecewise. */
struct path_buf {
    char *buf;
    size_t size;
    size_t len;
};

static void path_put(struct path_buf *p, const char *s, size_t n)
{
    if (p->size == 0)
        return;
    size_t room = p->size - 1 - p->len;
    if (n > room)
        n = room;
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

static void path_puts(struct path_buf *p, const char *s)
{
    path_put(p, s, strlen(s));
}

/* A key that would make the dotted path ambiguous is written as ["key"]. */
static bool key_is_plain(const char *key)
{
    if (!*key)
        return false;
    for (const unsigned char *c = (const unsigned char *)key; *c; c++)
        if (*c < 0x20 || *c == 0x7f || strchr(".[]\"\\", *c))
            return false;
    return true;
}

static void path_put_quoted_key(struct path_buf *p, const char *key)
{
    path_puts(p, "[\"");
    for (const unsigned char *c = (const unsigned char *)key; *c; c++) {
        char esc[8];
        if (*c == '"' || *c == '\\')
            snprintf(esc, sizeof esc, "\\%c", *c);
        else if (*c < 0x20 || *c == 0x7f)
            snprintf(esc, sizeof esc, "\\x%02x", *c);
        else
            snprintf(esc, sizeof esc, "%c", *c);
        path_puts(p, esc);
    }
    path_puts(p, "\"]");
}

static size_t item_index(const cfg_node *parent, const cfg_node *node)
{
    for (size_t i = 0; i < parent->n_items; i++)
        if (parent->items[i] == node)
            return i;
    return parent->n_items; /* not linked: cannot happen in a loaded tree */
}

static void path_write(struct path_buf *p, const cfg_node *node)
{
    const cfg_node *parent = node->parent;
    if (!parent)
        return;
    path_write(p, parent);
    if (parent->type == CFG_SEQ) {
        char idx[32];
        snprintf(idx, sizeof idx, "[%zu]", item_index(parent, node));
        path_puts(p, idx);
        return;
    }
    const char *key = node->key ? node->key : "?";
    if (!key_is_plain(key)) {
        path_put_quoted_key(p, key);
        return;
    }
    if (parent->parent)
        path_puts(p, ".");
    path_puts(p, key);
}

const char *cfg_path(const cfg_node *node, char *buf, size_t size)
{
    struct path_buf p = {buf, size, 0};
    if (size > 0)
        buf[0] = '\0';
    if (node)
        path_write(&p, node);
    return buf;
}

/* ---------------------------------------------------------------- lookup */

const cfg_node *cfg_get(const cfg_node *map, const char *key)
{
    if (!map || map->type != CFG_MAP || !key)
        return NULL;
    for (size_t i = 0; i < map->n_items; i++)
        if (map->items[i]->key && strcmp(map->items[i]->key, key) == 0)
            return map->items[i];
    return NULL;
}

const char *cfg_type_name(enum cfg_type type)
{
    switch (type) {
    case CFG_NULL:
        return "null";
    case CFG_SCALAR:
        return "a scalar";
    case CFG_MAP:
        return "a map";
    case CFG_SEQ:
        return "a list";
    }
    return "?";
}

static bool key_allowed(const char *key, const char *const *allowed)
{
    for (size_t i = 0; allowed && allowed[i]; i++)
        if (strcmp(allowed[i], key) == 0)
            return true;
    return false;
}

/* "a, b, c", built once per call and only when a key is wrong. */
static char *allowed_list(const char *const *allowed)
{
    size_t len = 1;
    for (size_t i = 0; allowed && allowed[i]; i++)
        len += strlen(allowed[i]) + 2;
    char *s = xmalloc(len);
    s[0] = '\0';
    for (size_t i = 0; allowed && allowed[i]; i++) {
        if (i > 0)
            strcat(s, ", ");
        strcat(s, allowed[i]);
    }
    return s;
}

static void report_unknown_key(const cfg_node *map, const cfg_node *child, const char *list,
                               cfg_diag *d)
{
    /* Point at the key, not at its value, which may start lines later. */
    cfg_node at = {.file = child->file, .line = child->key_line, .col = child->key_col};
    if (at.line <= 0) {
        at.line = child->line;
        at.col = child->col;
    }
    char path[256];
    const char *key = child->key ? child->key : "";
    if (!map->parent)
        cfg_error(d, &at, "unknown key '%s' at top level (%s%s)", key, *list ? "allowed: " : "",
                  *list ? list : "no keys are allowed");
    else
        cfg_error(d, &at, "unknown key '%s' in '%s' (%s%s)", key, cfg_path(map, path, sizeof path),
                  *list ? "allowed: " : "", *list ? list : "no keys are allowed");
}

bool cfg_check_keys(const cfg_node *map, const char *const *allowed, cfg_diag *d)
{
    if (!map || map->type == CFG_NULL)
        return true;
    if (map->type != CFG_MAP) {
        char path[256];
        return cfg_error(d, map, "'%s': expected a map, got %s", cfg_path(map, path, sizeof path),
                         cfg_type_name(map->type));
    }
    char *list = NULL;
    for (size_t i = 0; i < map->n_items; i++) {
        const cfg_node *child = map->items[i];
        if (child->key && key_allowed(child->key, allowed))
            continue;
        if (!list)
            list = allowed_list(allowed);
        report_unknown_key(map, child, list, d);
    }
    bool ok = list == NULL;
    free(list);
    return ok;
}

/* ---------------------------------------------------------------- equality */

static bool str_equal(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Quoting and positions are presentation: a reload that only re-quotes or
 * moves a value must not restart the plugin that owns it.  The keys compared
 * are those of the children; the two nodes' own keys are not, so that a
 * subtree can be compared with one found under another name. */
bool cfg_equal(const cfg_node *a, const cfg_node *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->type != b->type || a->n_items != b->n_items)
        return false;
    if (a->type == CFG_SCALAR && !str_equal(a->value, b->value))
        return false;
    for (size_t i = 0; i < a->n_items; i++) {
        if (a->type == CFG_MAP && !str_equal(a->items[i]->key, b->items[i]->key))
            return false;
        if (!cfg_equal(a->items[i], b->items[i]))
            return false;
    }
    return true;
}
