/* bosun — loading the configuration tree from YAML.
 *
 * libyaml's event parser is used rather than its document loader because
 * only events carry every node's position, and because building the tree
 * ourselves lets us refuse what a configuration file should not contain:
 *
 * - anchors and aliases: they would turn the tree into a graph (and allow
 *   "billion laughs" expansion); configuration stays readable without them;
 * - more than one document, keys that are maps or lists, duplicate keys;
 * - tags other than the core schema's (!!str, !!int, !!float, !!bool,
 *   !!null on scalars, !!map on maps, !!seq on lists) and the bare "!":
 *   an admin writing "!secret" or "!!python/object:os.system" expects a
 *   meaning we would silently drop, and a tag on the wrong kind of node
 *   says the text is not what its writer thinks.  "!!str" (or "!") keeps a
 *   plain "null" or "~" a string; the other accepted tags are ignored,
 *   since the getters decide how to read a value.
 *
 * A node's type comes from the raw text: only a plain (unquoted, untagged)
 * "", "~", "null", "Null" or "NULL" is CFG_NULL.  "${NAME}" is expanded in
 * scalar values (never keys) after that decision, so "${EMPTY}" is an empty
 * string, not a null, and a variable cannot change a value's type.
 *
 * Errors that leave the tree's shape intact (undefined variables, duplicate
 * keys, tags) are collected so that --check-config shows all of them; the
 * others stop the load.
 */
#include "config.h"

#include <bosun/cfg.h>

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#define CFG_MAX_BYTES  (4u << 20)
#define CFG_MAX_DEPTH  64
#define CFG_MAX_ERRORS 50

#define YAML_STD_TAG "tag:yaml.org,2002:"

struct builder {
    cfg_diag *d;
    const char *text; /* the input, to turn a byte offset into a position */
    size_t len;
    cfg_node *root;
    cfg_node *stack[CFG_MAX_DEPTH]; /* open maps and sequences */
    int depth;
    char *key; /* a key read in the innermost map, its value not yet */
    int key_line, key_col;
    int docs;
    int errors;
    bool stop;
};

/* ---------------------------------------------------------------- errors */

__attribute__((format(printf, 4, 0))) static void verr(struct builder *b, int line, int col,
                                                       const char *fmt, va_list ap)
{
    if (b->stop)
        return;
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    cfg_node at = {.file = b->root->file, .line = line, .col = col};
    cfg_error(b->d, &at, "%s", text ? text : fmt);
    free(text);
    if (++b->errors >= CFG_MAX_ERRORS) {
        cfg_error(b->d, &at, "too many errors, giving up");
        b->stop = true;
    }
}

/* An error after which the tree can still be built. */
__attribute__((format(printf, 4, 5))) static void err(struct builder *b, int line, int col,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr(b, line, col, fmt, ap);
    va_end(ap);
}

/* An error that ends the load. */
__attribute__((format(printf, 4, 5))) static void fatal(struct builder *b, int line, int col,
                                                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr(b, line, col, fmt, ap);
    va_end(ap);
    b->stop = true;
}

static int mark_line(yaml_mark_t m)
{
    return (int)m.line + 1;
}

static int mark_col(yaml_mark_t m)
{
    return (int)m.column + 1;
}

/* " in 'daemon'" or " at top level", for messages about a key of map. */
static const char *where(const cfg_node *map, char *buf, size_t size)
{
    if (!map->parent) {
        snprintf(buf, size, " at top level");
        return buf;
    }
    char path[256];
    snprintf(buf, size, " in '%s'", cfg_path(map, path, sizeof path));
    return buf;
}

/* Reader errors (bad encoding, control characters) carry a byte offset
 * only; a line and column are what an admin can act on. */
static void offset_position(const struct builder *b, size_t offset, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && i < b->len; i++) {
        unsigned char c = (unsigned char)b->text[i];
        if (c == '\n') {
            ++*line;
            *col = 1;
        } else if ((c & 0xc0) != 0x80) { /* count characters, not UTF-8 bytes */
            ++*col;
        }
    }
}

static void report_parser_error(struct builder *b, const yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "syntax error";
    int line, col;
    switch (p->error) {
    case YAML_MEMORY_ERROR:
        fatal(b, 0, 0, "out of memory while parsing");
        return;
    case YAML_READER_ERROR:
        offset_position(b, p->problem_offset, &line, &col);
        if (p->problem_value >= 0)
            fatal(b, line, col, "%s (byte 0x%02X)", problem, (unsigned)p->problem_value);
        else
            fatal(b, line, col, "%s", problem);
        return;
    default:
        break;
    }
    line = mark_line(p->problem_mark);
    col = mark_col(p->problem_mark);
    if (p->context)
        fatal(b, line, col, "%s (%s at %d:%d)", problem, p->context, mark_line(p->context_mark),
              mark_col(p->context_mark));
    else
        fatal(b, line, col, "%s", problem);
}

/* ---------------------------------------------------------------- nodes */

/* The file name lives in the root's own allocation: every node points to
 * it, and cfg_free() needs no special case to release it. */
static cfg_node *new_root(const char *name)
{
    size_t len = strlen(name);
    cfg_node *root = xcalloc(1, sizeof *root + len + 1);
    char *file = (char *)(root + 1);
    memcpy(file, name, len + 1);
    root->type = CFG_MAP;
    root->file = file;
    root->line = 1;
    root->col = 1;
    return root;
}

static void append_child(cfg_node *parent, cfg_node *child)
{
    /* Capacity is implied by the count: 4, then each power of two. */
    size_t n = parent->n_items;
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0))
        parent->items = xrealloc(parent->items, (n ? 2 * n : 4) * sizeof *parent->items);
    parent->items[n] = child;
    parent->n_items = n + 1;
    child->parent = parent;
}

/* Creates a node at event's position under the innermost open collection,
 * taking the pending key if that collection is a map. */
static cfg_node *new_child(struct builder *b, enum cfg_type type, const yaml_event_t *ev)
{
    cfg_node *parent = b->stack[b->depth - 1];
    cfg_node *n = xcalloc(1, sizeof *n);
    n->type = type;
    n->file = b->root->file;
    n->line = mark_line(ev->start_mark);
    n->col = mark_col(ev->start_mark);
    if (parent->type == CFG_MAP) {
        n->key = b->key;
        n->key_line = b->key_line;
        n->key_col = b->key_col;
        b->key = NULL;
    }
    append_child(parent, n);
    return n;
}

/* ---------------------------------------------------------------- scalars */

struct strbuf {
    char *s;
    size_t len, cap;
};

static void sb_put(struct strbuf *sb, const char *s, size_t n)
{
    if (sb->len + n + 1 > sb->cap) {
        while (sb->len + n + 1 > sb->cap)
            sb->cap = sb->cap ? 2 * sb->cap : 64;
        sb->s = xrealloc(sb->s, sb->cap);
    }
    memcpy(sb->s + sb->len, s, n);
    sb->len += n;
    sb->s[sb->len] = '\0';
}

static bool env_name_valid(const char *s, size_t n)
{
    if (n == 0 || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

/* Expands one "${NAME}" starting at s (which begins with "${"), appending
 * the value.  Returns the number of bytes consumed, or 0 after reporting. */
static size_t expand_var(struct builder *b, const cfg_node *node, const char *s, size_t len,
                         struct strbuf *out)
{
    char path[256];
    const char *close = memchr(s + 2, '}', len - 2);
    if (!close) {
        err(b, node->line, node->col, "unterminated '${' in '%s'",
            cfg_path(node, path, sizeof path));
        return 0;
    }
    size_t name_len = (size_t)(close - (s + 2));
    if (!env_name_valid(s + 2, name_len)) {
        err(b, node->line, node->col, "invalid environment variable name '%.*s' in '%s'",
            (int)(name_len > 64 ? 64 : name_len), s + 2, cfg_path(node, path, sizeof path));
        return 0;
    }
    char *name = xstrndup(s + 2, name_len);
    const char *value = getenv(name);
    if (value)
        sb_put(out, value, strlen(value));
    else
        err(b, node->line, node->col, "undefined environment variable '%s' in '%s'", name,
            cfg_path(node, path, sizeof path));
    free(name);
    return value ? name_len + 3 : 0;
}

/* Returns the text with "${NAME}" and "$$" replaced, or NULL after
 * reporting.  Any other "$" is kept, so "a$b" and a trailing "$" need no
 * escaping. */
static char *expand(struct builder *b, const cfg_node *node, const char *s, size_t len)
{
    struct strbuf out = {0};
    sb_put(&out, "", 0);
    size_t i = 0;
    while (i < len) {
        const char *dollar = memchr(s + i, '$', len - i);
        size_t plain = dollar ? (size_t)(dollar - (s + i)) : len - i;
        sb_put(&out, s + i, plain);
        i += plain;
        if (i == len)
            break;
        if (i + 1 < len && s[i + 1] == '$') {
            sb_put(&out, "$", 1);
            i += 2;
        } else if (i + 1 < len && s[i + 1] == '{') {
            size_t used = expand_var(b, node, s + i, len - i, &out);
            if (used == 0) {
                free(out.s);
                return NULL;
            }
            i += used;
        } else {
            sb_put(&out, "$", 1);
            i++;
        }
    }
    return out.s;
}

/* Whether a resolved tag may stand on a node of this kind: "!" anywhere,
 * and the core schema's tags (YAML 1.2, 10.3) on their kind of node.
 * libyaml resolves "!!x" and "!<tag:yaml.org,2002:x>" alike. */
static bool tag_fits(const char *tag, enum cfg_type kind)
{
    static const char *const scalar_tags[] = {"str", "int", "float", "bool", "null"};
    if (strcmp(tag, "!") == 0)
        return true;
    if (strncmp(tag, YAML_STD_TAG, strlen(YAML_STD_TAG)) != 0)
        return false;
    const char *name = tag + strlen(YAML_STD_TAG);
    if (kind == CFG_MAP)
        return strcmp(name, "map") == 0;
    if (kind == CFG_SEQ)
        return strcmp(name, "seq") == 0;
    for (size_t i = 0; i < sizeof scalar_tags / sizeof scalar_tags[0]; i++)
        if (strcmp(name, scalar_tags[i]) == 0)
            return true;
    return false;
}

/* A refused tag, named as written in its short form ("!!x" for the
 * standard prefix); the text is cut, since a tag can be long. */
static void check_tag(struct builder *b, const yaml_char_t *tag, const yaml_event_t *ev,
                      enum cfg_type kind)
{
    if (!tag || tag_fits((const char *)tag, kind))
        return;
    const char *t = (const char *)tag, *shown = t, *prefix = "";
    if (strncmp(t, YAML_STD_TAG, strlen(YAML_STD_TAG)) == 0)
        prefix = "!!", shown = t + strlen(YAML_STD_TAG);
    bool standard = *prefix && (strcmp(shown, "map") == 0 || strcmp(shown, "seq") == 0 ||
                                tag_fits(t, CFG_SCALAR));
    const char *what = kind == CFG_MAP ? "a map" : kind == CFG_SEQ ? "a list" : "a scalar";
    if (standard)
        err(b, mark_line(ev->start_mark), mark_col(ev->start_mark),
            "tag '%s%.100s' does not fit %s", prefix, shown, what);
    else
        err(b, mark_line(ev->start_mark), mark_col(ev->start_mark),
            "tag '%s%.100s' is not supported", prefix, shown);
}

static bool scalar_is_null(const yaml_event_t *ev)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    if (tag && (strcmp(tag, "!") == 0 || strcmp(tag, YAML_STD_TAG "str") == 0))
        return false;
    const char *v = (const char *)ev->data.scalar.value;
    return ev->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* A "\0" escape would silently cut the C string the getters see. */
static bool scalar_has_nul(struct builder *b, const yaml_event_t *ev)
{
    if (!memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
        return false;
    err(b, mark_line(ev->start_mark), mark_col(ev->start_mark),
        "NUL characters are not allowed in configuration text");
    return true;
}

static void add_scalar(struct builder *b, const yaml_event_t *ev)
{
    check_tag(b, ev->data.scalar.tag, ev, CFG_SCALAR);
    if (scalar_is_null(ev)) {
        new_child(b, CFG_NULL, ev);
        return;
    }
    cfg_node *n = new_child(b, CFG_SCALAR, ev);
    n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    if (scalar_has_nul(b, ev))
        return;
    n->value = expand(b, n, (const char *)ev->data.scalar.value, ev->data.scalar.length);
    if (!n->value) /* reported; keep the node well-formed for cfg_free */
        n->value = xstrdup("");
}

/* ---------------------------------------------------------------- keys */

static void take_key(struct builder *b, const yaml_event_t *ev)
{
    int line = mark_line(ev->start_mark), col = mark_col(ev->start_mark);
    if (ev->type != YAML_SCALAR_EVENT) {
        fatal(b, line, col, "keys must be plain strings, not maps or lists");
        return;
    }
    if (ev->data.scalar.anchor) {
        fatal(b, line, col, "anchors (&%s) are not supported", ev->data.scalar.anchor);
        return;
    }
    check_tag(b, ev->data.scalar.tag, ev, CFG_SCALAR);
    scalar_has_nul(b, ev); /* reported; the cut text is still taken, keeping the map's shape */
    b->key = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
    b->key_line = line;
    b->key_col = col;
}

static int compare_keys(const void *pa, const void *pb)
{
    const cfg_node *a = *(const cfg_node *const *)pa, *b = *(const cfg_node *const *)pb;
    int c = strcmp(a->key, b->key);
    if (c)
        return c;
    if (a->key_line != b->key_line)
        return a->key_line < b->key_line ? -1 : 1;
    return (a->key_col > b->key_col) - (a->key_col < b->key_col);
}

/* Checked when the map ends, by sorting, so that a map with many keys costs
 * n log n rather than n². */
static void check_duplicates(struct builder *b, const cfg_node *map)
{
    size_t n = map->n_items;
    if (n < 2)
        return;
    cfg_node **sorted = xmalloc(n * sizeof *sorted);
    memcpy(sorted, map->items, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_keys);
    const cfg_node *first = sorted[0];
    char buf[300];
    for (size_t i = 1; i < n; i++) {
        if (strcmp(sorted[i]->key, first->key) != 0) {
            first = sorted[i];
            continue;
        }
        err(b, sorted[i]->key_line, sorted[i]->key_col, "duplicate key '%s'%s (first at %d:%d)",
            sorted[i]->key, where(map, buf, sizeof buf), first->key_line, first->key_col);
    }
    free(sorted);
}

/* ---------------------------------------------------------------- events */

static void open_collection(struct builder *b, enum cfg_type type, const yaml_event_t *ev)
{
    int line = mark_line(ev->start_mark), col = mark_col(ev->start_mark);
    if (b->depth == CFG_MAX_DEPTH) {
        fatal(b, line, col, "nesting deeper than %d levels", CFG_MAX_DEPTH);
        return;
    }
    cfg_node *n = new_child(b, type, ev); /* before depth changes: it reads the stack */
    b->stack[b->depth++] = n;
}

/* The document's top node: the root map itself, or an empty document. */
static void open_root(struct builder *b, const yaml_event_t *ev)
{
    int line = mark_line(ev->start_mark), col = mark_col(ev->start_mark);
    if (ev->type == YAML_SCALAR_EVENT && scalar_is_null(ev)) {
        check_tag(b, ev->data.scalar.tag, ev, CFG_SCALAR); /* an empty file may be tagged too */
        return;
    }
    if (ev->type != YAML_MAPPING_START_EVENT) {
        fatal(b, line, col, "top level must be a map");
        return;
    }
    check_tag(b, ev->data.mapping_start.tag, ev, CFG_MAP);
    b->root->line = line;
    b->root->col = col;
    b->stack[b->depth++] = b->root;
}

static const yaml_char_t *event_anchor(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return ev->data.scalar.anchor;
    case YAML_MAPPING_START_EVENT:
        return ev->data.mapping_start.anchor;
    case YAML_SEQUENCE_START_EVENT:
        return ev->data.sequence_start.anchor;
    default:
        return NULL;
    }
}

/* A scalar, the start of a map or sequence, or an alias. */
static void on_node(struct builder *b, const yaml_event_t *ev)
{
    int line = mark_line(ev->start_mark), col = mark_col(ev->start_mark);
    if (ev->type == YAML_ALIAS_EVENT) {
        fatal(b, line, col, "aliases (*%s) are not supported", ev->data.alias.anchor);
        return;
    }
    const yaml_char_t *anchor = event_anchor(ev);
    if (anchor) {
        fatal(b, line, col, "anchors (&%s) are not supported", anchor);
        return;
    }
    if (b->depth == 0) {
        open_root(b, ev);
        return;
    }
    if (b->stack[b->depth - 1]->type == CFG_MAP && !b->key) {
        take_key(b, ev);
        return;
    }
    if (ev->type == YAML_SCALAR_EVENT) {
        add_scalar(b, ev);
    } else if (ev->type == YAML_MAPPING_START_EVENT) {
        check_tag(b, ev->data.mapping_start.tag, ev, CFG_MAP);
        open_collection(b, CFG_MAP, ev);
    } else {
        check_tag(b, ev->data.sequence_start.tag, ev, CFG_SEQ);
        open_collection(b, CFG_SEQ, ev);
    }
}

static void on_event(struct builder *b, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->docs > 1)
            fatal(b, mark_line(ev->start_mark), mark_col(ev->start_mark),
                  "only one YAML document is allowed");
        break;
    case YAML_SCALAR_EVENT:
    case YAML_ALIAS_EVENT:
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        on_node(b, ev);
        break;
    case YAML_MAPPING_END_EVENT:
        if (b->depth > 0)
            check_duplicates(b, b->stack[--b->depth]);
        break;
    case YAML_SEQUENCE_END_EVENT:
        if (b->depth > 0)
            b->depth--;
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- loading */

static void parse(struct builder *b)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fatal(b, 0, 0, "out of memory while parsing");
        return;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)b->text, b->len);
    while (!b->stop) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            report_parser_error(b, &parser);
            break;
        }
        on_event(b, &ev);
        bool end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (end)
            break;
    }
    yaml_parser_delete(&parser);
}

cfg_node *cfg_load_string(const char *text, size_t len, const char *name, cfg_diag *d)
{
    if (!text) { /* libyaml asserts on a NULL input, even an empty one */
        text = "";
        len = 0;
    }
    struct builder b = {.d = d, .text = text, .len = len};
    b.root = new_root(name ? name : "<string>");
    if (len > CFG_MAX_BYTES)
        fatal(&b, 0, 0, "too large (the limit is %u bytes)", CFG_MAX_BYTES);
    else
        parse(&b);
    free(b.key);
    if (b.errors == 0)
        return b.root;
    cfg_free(b.root);
    return NULL;
}

/* Reads at most CFG_MAX_BYTES + 1 bytes, so that an oversized file (or an
 * endless pipe) is detected without reading all of it. */
static char *read_fd(int fd, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = xmalloc(cap);
    while (n <= CFG_MAX_BYTES) {
        if (n == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *len = n;
    return buf;
}

cfg_node *cfg_load_file(const char *path, cfg_diag *d)
{
    cfg_node at = {.file = path};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cfg_error(d, &at, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > (off_t)CFG_MAX_BYTES) {
        close(fd);
        cfg_error(d, &at, "too large (the limit is %u bytes)", CFG_MAX_BYTES);
        return NULL;
    }
    size_t len = 0;
    char *text = read_fd(fd, &len);
    int saved = errno;
    close(fd);
    if (!text) {
        cfg_error(d, &at, "cannot read: %s", strerror(saved));
        return NULL;
    }
    cfg_node *root = cfg_load_string(text, len, path, d);
    free(text);
    return root;
}
