/* Unit tests for the configuration tree: loading, positions, environment
 * expansion, refusals, typed getters, key checks, paths and comparison. */
#include "config.h"

#include "tap.h"

#include <bosun/cfg.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */

static cfg_node *load(const char *text)
{
    cfg_diag d;
    cfg_diag_init(&d);
    cfg_node *root = cfg_load_string(text, strlen(text), "t.yaml", &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "# unexpected: %s\n", d.msgs[i]);
    assert_non_null(root);
    assert_int_equal(d.n, 0);
    cfg_diag_free(&d);
    return root;
}

/* Loads text that must be refused; d receives the messages. */
static void load_fails(const char *text, cfg_diag *d)
{
    cfg_diag_init(d);
    cfg_node *root = cfg_load_string(text, strlen(text), "t.yaml", d);
    assert_null(root);
    assert_true(d->n >= 1);
}

/* The single message of a refused text must be exactly want. */
static void assert_load_error(const char *text, const char *want)
{
    cfg_diag d;
    load_fails(text, &d);
    assert_string_equal(d.msgs[0], want);
    assert_int_equal(d.n, 1);
    cfg_diag_free(&d);
}

static const cfg_node *at(const cfg_node *root, const char *k1, const char *k2)
{
    const cfg_node *n = cfg_get(root, k1);
    assert_non_null(n);
    if (k2) {
        n = cfg_get(n, k2);
        assert_non_null(n);
    }
    return n;
}

static void assert_pos(const cfg_node *n, int line, int col)
{
    assert_int_equal(n->line, line);
    assert_int_equal(n->col, col);
}

/* ---------------------------------------------------------------- loading */

static void test_positions(void **state)
{
    cfg_node *root = load("# comment\n"
                          "daemon:\n"
                          "  log_level: info\n"
                          "  port: 8080\n"
                          "list:\n"
                          "  - a\n"
                          "  -   b\n");
    assert_int_equal(root->type, CFG_MAP);
    assert_pos(root, 2, 1);
    assert_null(root->parent);
    assert_int_equal(root->n_items, 2);

    const cfg_node *daemon = at(root, "daemon", NULL);
    assert_int_equal(daemon->type, CFG_MAP);
    assert_pos(daemon, 3, 3);
    assert_int_equal(daemon->key_line, 2);
    assert_int_equal(daemon->key_col, 1);
    assert_ptr_equal(daemon->parent, root);

    const cfg_node *level = at(root, "daemon", "log_level");
    assert_int_equal(level->type, CFG_SCALAR);
    assert_string_equal(level->value, "info");
    assert_string_equal(level->key, "log_level");
    assert_pos(level, 3, 14);
    assert_int_equal(level->key_line, 3);
    assert_int_equal(level->key_col, 3);
    assert_pos(at(root, "daemon", "port"), 4, 9);

    const cfg_node *list = at(root, "list", NULL);
    assert_int_equal(list->type, CFG_SEQ);
    assert_int_equal(list->n_items, 2);
    assert_pos(list->items[0], 6, 5);
    assert_pos(list->items[1], 7, 7);
    assert_null(list->items[0]->key);
    assert_int_equal(list->items[0]->key_line, 0);
    assert_string_equal(list->items[1]->value, "b");

    /* Every node shares the one file name string. */
    assert_string_equal(root->file, "t.yaml");
    assert_ptr_equal(level->file, root->file);
    assert_ptr_equal(list->items[1]->file, root->file);
    cfg_free(root);
}

static void test_nested(void **state)
{
    cfg_node *root = load("a: {b: [1, [2, 3], {c: d}], e: []}\n"
                          "f:\n"
                          "  - g: 1\n"
                          "    h: [x]\n"
                          "  - - nested\n");
    const cfg_node *b = at(root, "a", "b");
    assert_int_equal(b->type, CFG_SEQ);
    assert_int_equal(b->n_items, 3);
    assert_string_equal(b->items[0]->value, "1");
    assert_pos(b->items[0], 1, 9);
    assert_int_equal(b->items[1]->type, CFG_SEQ);
    assert_string_equal(b->items[1]->items[1]->value, "3");
    assert_int_equal(b->items[2]->type, CFG_MAP);
    assert_string_equal(cfg_get(b->items[2], "c")->value, "d");
    const cfg_node *e = at(root, "a", "e");
    assert_int_equal(e->type, CFG_SEQ);
    assert_int_equal(e->n_items, 0);

    const cfg_node *f = at(root, "f", NULL);
    assert_int_equal(f->n_items, 2);
    assert_int_equal(f->items[0]->type, CFG_MAP);
    assert_pos(f->items[0], 3, 5);
    assert_string_equal(cfg_get(f->items[0], "h")->items[0]->value, "x");
    assert_int_equal(f->items[1]->type, CFG_SEQ);
    assert_string_equal(f->items[1]->items[0]->value, "nested");
    cfg_free(root);
}

static void test_many_items(void **state)
{
    /* Grows children arrays past several capacity steps. */
    char text[8192];
    size_t len = 0;
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "k%d: %d\n", i, i);
    cfg_node *root = load(text);
    assert_int_equal(root->n_items, 300);
    for (int i = 0; i < 300; i++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "%d", i);
        assert_string_equal(cfg_get(root, key)->value, val);
        assert_int_equal(root->items[i]->line, i + 1);
    }
    cfg_free(root);
}

static void test_nulls(void **state)
{
    cfg_node *root = load("a:\n"
                          "b: ~\n"
                          "c: null\n"
                          "d: Null\n"
                          "e: NULL\n"
                          "f: ''\n"
                          "g: \"\"\n"
                          "h: nil\n"
                          "i: !!str null\n"
                          "j: \"null\"\n"
                          "k: |\n"
                          "l: nULL\n");
    const char *nulls[] = {"a", "b", "c", "d", "e"};
    for (size_t i = 0; i < 5; i++) {
        const cfg_node *n = at(root, nulls[i], NULL);
        assert_int_equal(n->type, CFG_NULL);
        assert_null(n->value);
    }
    const char *strings[][2] = {{"f", ""},     {"g", ""}, {"h", "nil"}, {"i", "null"},
                                {"j", "null"}, {"k", ""}, {"l", "nULL"}};
    for (size_t i = 0; i < 7; i++) {
        const cfg_node *n = at(root, strings[i][0], NULL);
        assert_int_equal(n->type, CFG_SCALAR);
        assert_string_equal(n->value, strings[i][1]);
    }
    /* An empty value sits right after the colon. */
    assert_pos(at(root, "a", NULL), 1, 3);
    cfg_free(root);
}

static void test_quoted(void **state)
{
    cfg_node *root = load("a: plain\nb: 'single'\nc: \"dq\\tx\"\nd: |\n  block\n");
    assert_false(at(root, "a", NULL)->quoted);
    assert_true(at(root, "b", NULL)->quoted);
    assert_string_equal(at(root, "b", NULL)->value, "single");
    assert_true(at(root, "c", NULL)->quoted);
    assert_string_equal(at(root, "c", NULL)->value, "dq\tx");
    assert_false(at(root, "d", NULL)->quoted);
    assert_string_equal(at(root, "d", NULL)->value, "block\n");
    cfg_free(root);
}

static void test_empty_documents(void **state)
{
    const char *texts[] = {"", "# only a comment\n", "---\n", "--- ~\n", "\n\n", "{}"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        cfg_node *root = load(texts[i]);
        assert_int_equal(root->type, CFG_MAP);
        assert_int_equal(root->n_items, 0);
        assert_string_equal(root->file, "t.yaml");
        cfg_free(root);
    }
}

static void test_top_level_not_map(void **state)
{
    assert_load_error("- a\n- b\n", "t.yaml:1:1: top level must be a map");
    assert_load_error("hello\n", "t.yaml:1:1: top level must be a map");
    assert_load_error("\"\"\n", "t.yaml:1:1: top level must be a map");
}

static void test_name_default(void **state)
{
    cfg_diag d;
    cfg_diag_init(&d);
    assert_null(cfg_load_string("- x", 3, NULL, &d));
    assert_int_equal(d.n, 1);
    assert_string_equal(d.msgs[0], "<string>:1:1: top level must be a map");
    cfg_diag_free(&d);
    /* A NULL diag is allowed and simply discards. */
    assert_null(cfg_load_string("- x", 3, "t", NULL));
}

static void test_length_respected(void **state)
{
    /* Only len bytes are parsed: the rest would be a duplicate key. */
    const char *text = "a: 1\na: 2\n";
    cfg_diag d;
    cfg_diag_init(&d);
    cfg_node *root = cfg_load_string(text, 5, "t.yaml", &d);
    assert_non_null(root);
    assert_int_equal(root->n_items, 1);
    cfg_free(root);
    cfg_diag_free(&d);
}

/* ---------------------------------------------------------------- environment */

static void test_env_expansion(void **state)
{
    setenv("BOSUN_TEST_X", "hello", 1);
    setenv("BOSUN_TEST_EMPTY", "", 1);
    setenv("_u9", "u", 1);
    cfg_node *root = load("p: ${BOSUN_TEST_X}/x\n"
                          "q: '$${BOSUN_TEST_X}'\n"
                          "r: a$b\n"
                          "s: cost $\n"
                          "t: ${BOSUN_TEST_EMPTY}\n"
                          "u: \"${BOSUN_TEST_X}${_u9}$$$\"\n"
                          "${BOSUN_TEST_X}: key\n"
                          "v: [\"${BOSUN_TEST_X}\"]\n"
                          "w: $(x) $ {x}\n");
    assert_string_equal(at(root, "p", NULL)->value, "hello/x");
    assert_string_equal(at(root, "q", NULL)->value, "${BOSUN_TEST_X}");
    assert_string_equal(at(root, "r", NULL)->value, "a$b");
    assert_string_equal(at(root, "s", NULL)->value, "cost $");
    /* The type comes from the raw text: an empty expansion is not null. */
    assert_int_equal(at(root, "t", NULL)->type, CFG_SCALAR);
    assert_string_equal(at(root, "t", NULL)->value, "");
    assert_string_equal(at(root, "u", NULL)->value, "hellou$$");
    /* Keys are never expanded. */
    assert_string_equal(at(root, "${BOSUN_TEST_X}", NULL)->value, "key");
    assert_string_equal(at(root, "v", NULL)->items[0]->value, "hello");
    assert_string_equal(at(root, "w", NULL)->value, "$(x) $ {x}");
    cfg_free(root);
}

static void test_env_undefined(void **state)
{
    unsetenv("BOSUN_TEST_UNDEFINED");
    assert_load_error("daemon:\n  state_dir: ${BOSUN_TEST_UNDEFINED}/x\n",
                      "t.yaml:2:14: undefined environment variable 'BOSUN_TEST_UNDEFINED' in "
                      "'daemon.state_dir'");
    assert_load_error("paths:\n  - ok\n  - \"${BOSUN_TEST_UNDEFINED}\"\n",
                      "t.yaml:3:5: undefined environment variable 'BOSUN_TEST_UNDEFINED' in "
                      "'paths[1]'");
}

static void test_env_errors_collected(void **state)
{
    unsetenv("BOSUN_TEST_U1");
    unsetenv("BOSUN_TEST_U2");
    cfg_diag d;
    load_fails("a: ${BOSUN_TEST_U1}\nb: ok\nc: ${BOSUN_TEST_U2}\n", &d);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.msgs[0],
                        "t.yaml:1:4: undefined environment variable 'BOSUN_TEST_U1' in 'a'");
    assert_string_equal(d.msgs[1],
                        "t.yaml:3:4: undefined environment variable 'BOSUN_TEST_U2' in 'c'");
    cfg_diag_free(&d);
}

static void test_env_bad_syntax(void **state)
{
    assert_load_error("a:\n  b: x${HOME\n", "t.yaml:2:6: unterminated '${' in 'a.b'");
    assert_load_error("a: ${1A}\n", "t.yaml:1:4: invalid environment variable name '1A' in 'a'");
    assert_load_error("a: ${}\n", "t.yaml:1:4: invalid environment variable name '' in 'a'");
    assert_load_error("a: ${A-B}\n", "t.yaml:1:4: invalid environment variable name 'A-B' in 'a'");
    assert_load_error("a: \"${A B}\"\n",
                      "t.yaml:1:4: invalid environment variable name 'A B' in 'a'");
}

/* ---------------------------------------------------------------- refusals */

static void test_duplicate_key(void **state)
{
    assert_load_error("a: 1\nb: 2\na: 3\n",
                      "t.yaml:3:1: duplicate key 'a' at top level (first at 1:1)");
    assert_load_error("daemon:\n  x: 1\n  y: 2\n  x: 3\n",
                      "t.yaml:4:3: duplicate key 'x' in 'daemon' (first at 2:3)");
    assert_load_error("l:\n  - {k: 1, k: 2}\n",
                      "t.yaml:2:12: duplicate key 'k' in 'l[0]' (first at 2:6)");
    /* Three times: both later ones are reported against the first. */
    cfg_diag d;
    load_fails("k: 1\nk: 2\nk: 3\n", &d);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.msgs[0], "t.yaml:2:1: duplicate key 'k' at top level (first at 1:1)");
    assert_string_equal(d.msgs[1], "t.yaml:3:1: duplicate key 'k' at top level (first at 1:1)");
    cfg_diag_free(&d);
}

static void test_anchor_alias_refused(void **state)
{
    assert_load_error("a: &x 1\nb: *x\n", "t.yaml:1:4: anchors (&x) are not supported");
    assert_load_error("b: *x\n", "t.yaml:1:4: aliases (*x) are not supported");
    assert_load_error("base: &b {x: 1}\n", "t.yaml:1:7: anchors (&b) are not supported");
    assert_load_error("a:\n  <<: *b\n", "t.yaml:2:7: aliases (*b) are not supported");
}

static void test_multi_document_refused(void **state)
{
    assert_load_error("a: 1\n---\nb: 2\n", "t.yaml:2:1: only one YAML document is allowed");
    assert_load_error("a: 1\n...\n---\n", "t.yaml:3:1: only one YAML document is allowed");
}

static void test_complex_key_refused(void **state)
{
    assert_load_error("? [a, b]\n: 1\n",
                      "t.yaml:1:3: keys must be plain strings, not maps or lists");
    assert_load_error("{{a: 1}: 2}\n", "t.yaml:1:2: keys must be plain strings, not maps or lists");
}

static void test_tags(void **state)
{
    assert_load_error("a: !secret x\n", "t.yaml:1:4: tag '!secret' is not supported");
    cfg_node *root = load("a: !!str 1\nb: !!int 2\nc: !!map {d: 1}\n");
    assert_string_equal(at(root, "a", NULL)->value, "1");
    assert_string_equal(at(root, "b", NULL)->value, "2");
    assert_int_equal(at(root, "c", NULL)->type, CFG_MAP);
    cfg_free(root);
    /* Every tag the documentation lists, each on its kind of node. */
    root = load("--- !!map\na: !!float 1.5\nb: !!bool true\nc: !!null\nd: !!seq [!!str x, ! y]\n"
                "e: ! {f: 1}\n!!str g: !<tag:yaml.org,2002:int> 3\n");
    assert_string_equal(at(root, "a", NULL)->value, "1.5");
    assert_int_equal(at(root, "c", NULL)->type, CFG_NULL);
    assert_int_equal(at(root, "d", NULL)->type, CFG_SEQ);
    assert_int_equal(at(root, "e", NULL)->type, CFG_MAP);
    assert_string_equal(at(root, "g", NULL)->value, "3");
    cfg_free(root);
}

/* Standard-looking tags outside the core schema, or on the wrong kind of
 * node, are refused too, named in their short form. */
static void test_tags_nonstandard(void **state)
{
    assert_load_error("a: !!foo x\n", "t.yaml:1:4: tag '!!foo' is not supported");
    assert_load_error("a: !!python/object:os.system x\n",
                      "t.yaml:1:4: tag '!!python/object:os.system' is not supported");
    assert_load_error("a: !<tag:yaml.org,2002:bogus> x\n",
                      "t.yaml:1:4: tag '!!bogus' is not supported");
    assert_load_error("a: !<tag:example.com,2000:x> x\n",
                      "t.yaml:1:4: tag 'tag:example.com,2000:x' is not supported");
    assert_load_error("a: !!binary aGk=\n", "t.yaml:1:4: tag '!!binary' is not supported");
    assert_load_error("a: !!timestamp 2001-12-14\n",
                      "t.yaml:1:4: tag '!!timestamp' is not supported");
    assert_load_error("a: !!set {b: 1}\n", "t.yaml:1:4: tag '!!set' is not supported");
    assert_load_error("a:\n  !!foo b: 1\n", "t.yaml:2:3: tag '!!foo' is not supported");
    assert_load_error("a: !!seq {b: 1}\n", "t.yaml:1:4: tag '!!seq' does not fit a map");
    assert_load_error("a: !!map [1]\n", "t.yaml:1:4: tag '!!map' does not fit a list");
    assert_load_error("a: !!int [1]\n", "t.yaml:1:4: tag '!!int' does not fit a list");
    assert_load_error("a: !!map x\n", "t.yaml:1:4: tag '!!map' does not fit a scalar");
    assert_load_error("!!seq\na: 1\n", "t.yaml:1:1: tag '!!seq' does not fit a map");
    assert_load_error("--- !!python/none\n", "t.yaml:1:5: tag '!!python/none' is not supported");
    /* All of them are reported, each at its own place. */
    cfg_diag d;
    load_fails("a: !!foo 1\nb: !!bar 2\n", &d);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.msgs[1], "t.yaml:2:4: tag '!!bar' is not supported");
    cfg_diag_free(&d);
}

static void test_nul_refused(void **state)
{
    assert_load_error("a: \"x\\0y\"\n",
                      "t.yaml:1:4: NUL characters are not allowed in configuration text");
}

static void test_syntax_errors(void **state)
{
    assert_load_error("a: b: c\n", "t.yaml:1:5: mapping values are not allowed in this context");
    assert_load_error("a: [1, 2\n", "t.yaml:2:1: did not find expected ',' or ']' (while "
                                    "parsing a flow sequence at 1:4)");
    assert_load_error("a:\n  b: 1\n c: 2\n",
                      "t.yaml:3:2: did not find expected key (while parsing a block mapping "
                      "at 1:1)");
    assert_load_error("a: 'open\n", "t.yaml:2:1: found unexpected end of stream (while "
                                    "scanning a quoted scalar at 1:4)");
    /* Reader errors carry an offset, turned into a line and column. */
    assert_load_error("a: 1\nb: x\xff\n", "t.yaml:2:5: invalid leading UTF-8 octet (byte 0xFF)");
}

static void test_depth_limit(void **state)
{
    char text[512];
    /* The root map plus 63 sequences is the deepest allowed. */
    size_t n = 0;
    n += (size_t)snprintf(text, sizeof text, "a: ");
    for (int i = 0; i < 63; i++)
        text[n++] = '[';
    for (int i = 0; i < 63; i++)
        text[n++] = ']';
    text[n] = '\0';
    cfg_node *root = load(text);
    const cfg_node *deep = at(root, "a", NULL);
    for (int i = 1; i < 63; i++)
        deep = deep->items[0];
    assert_int_equal(deep->type, CFG_SEQ);
    assert_int_equal(deep->n_items, 0);
    cfg_free(root);

    n = (size_t)snprintf(text, sizeof text, "a: ");
    for (int i = 0; i < 64; i++)
        text[n++] = '[';
    for (int i = 0; i < 64; i++)
        text[n++] = ']';
    text[n] = '\0';
    assert_load_error(text, "t.yaml:1:67: nesting deeper than 64 levels");
}

static void test_size_limit(void **state)
{
    size_t len = (4u << 20) + 1;
    char *text = malloc(len);
    assert_non_null(text);
    memset(text, '#', len);
    cfg_diag d;
    cfg_diag_init(&d);
    assert_null(cfg_load_string(text, len, "big.yaml", &d));
    assert_int_equal(d.n, 1);
    assert_string_equal(d.msgs[0], "big.yaml: too large (the limit is 4194304 bytes)");
    cfg_diag_free(&d);
    free(text);
}

static void test_too_many_errors(void **state)
{
    char text[8192];
    size_t len = 0;
    unsetenv("BOSUN_TEST_NOPE");
    for (int i = 0; i < 200; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "k%d: ${BOSUN_TEST_NOPE}\n", i);
    cfg_diag d;
    load_fails(text, &d);
    assert_int_equal(d.n, 51);
    assert_string_equal(d.msgs[50], "t.yaml:50:6: too many errors, giving up");
    cfg_diag_free(&d);
}

static void test_load_file(void **state)
{
    char path[] = "/tmp/test_cfg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "daemon:\n  port: 99999\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);

    cfg_diag d;
    cfg_diag_init(&d);
    cfg_node *root = cfg_load_file(path, &d);
    assert_non_null(root);
    assert_string_equal(root->file, path);
    long long port = 0;
    assert_false(cfg_get_int(cfg_get(root, "daemon"), "port", 80, 1, 65535, &port, &d));
    assert_int_equal(port, 80);
    char want[256];
    snprintf(want, sizeof want, "%s:2:9: 'daemon.port': must be between 1 and 65535, got '99999'",
             path);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.msgs[0], want);
    cfg_free(root);
    cfg_diag_free(&d);
    unlink(path);

    cfg_diag_init(&d);
    assert_null(cfg_load_file("/nonexistent/bosun.yaml", &d));
    assert_int_equal(d.n, 1);
    assert_string_equal(d.msgs[0],
                        "/nonexistent/bosun.yaml: cannot open: No such file or directory");
    cfg_diag_free(&d);

    cfg_diag_init(&d);
    assert_null(cfg_load_file("/tmp", &d));
    assert_int_equal(d.n, 1);
    assert_string_equal(d.msgs[0], "/tmp: cannot read: Is a directory");
    cfg_diag_free(&d);
}

/* ---------------------------------------------------------------- getters */

static const char *const getter_doc = "s: text\n"
                                      "q: \"8080\"\n"
                                      "n: ~\n"
                                      "m: {a: 1}\n"
                                      "l: [x]\n"
                                      "b1: yes\n"
                                      "b2: Off\n"
                                      "b3: TRUE\n"
                                      "bad: maybe\n";

static void assert_one_msg(cfg_diag *d, const char *want)
{
    assert_int_equal(d->n, 1);
    assert_string_equal(d->msgs[0], want);
    cfg_diag_free(d);
    cfg_diag_init(d);
}

static void test_get_string(void **state)
{
    cfg_node *root = load(getter_doc);
    cfg_diag d;
    cfg_diag_init(&d);
    const char *s = NULL;
    assert_true(cfg_get_string(root, "s", "def", &s, &d));
    assert_string_equal(s, "text");
    assert_true(cfg_get_string(root, "q", "def", &s, &d));
    assert_string_equal(s, "8080");
    assert_true(cfg_get_string(root, "n", "def", &s, &d));
    assert_string_equal(s, "def");
    assert_true(cfg_get_string(root, "absent", NULL, &s, &d));
    assert_null(s);
    assert_true(cfg_get_string(NULL, "s", "def", &s, &d));
    assert_string_equal(s, "def");
    assert_int_equal(d.n, 0);

    assert_false(cfg_get_string(root, "m", "def", &s, &d));
    assert_string_equal(s, "def");
    assert_one_msg(&d, "t.yaml:4:4: 'm': expected a scalar, got a map");
    assert_false(cfg_get_string(root, "l", "def", &s, &d));
    assert_one_msg(&d, "t.yaml:5:4: 'l': expected a scalar, got a list");
    cfg_free(root);
}

static void test_get_bool(void **state)
{
    cfg_node *root = load(getter_doc);
    cfg_diag d;
    cfg_diag_init(&d);
    bool b = false;
    assert_true(cfg_get_bool(root, "b1", false, &b, &d));
    assert_true(b);
    assert_true(cfg_get_bool(root, "b2", true, &b, &d));
    assert_false(b);
    assert_true(cfg_get_bool(root, "b3", false, &b, &d));
    assert_true(b);
    assert_true(cfg_get_bool(root, "n", true, &b, &d));
    assert_true(b);
    assert_true(cfg_get_bool(root, "absent", false, &b, &d));
    assert_false(b);
    assert_int_equal(d.n, 0);

    assert_false(cfg_get_bool(root, "bad", true, &b, &d));
    assert_true(b);
    assert_one_msg(&d,
                   "t.yaml:9:6: 'bad': expected a boolean (true/false/yes/no/on/off), got 'maybe'");
    assert_false(cfg_get_bool(root, "m", false, &b, &d));
    assert_one_msg(&d, "t.yaml:4:4: 'm': expected a scalar, got a map");

    cfg_node *r2 = load("daemon:\n  log_level: maybe\n");
    assert_false(cfg_get_bool(cfg_get(r2, "daemon"), "log_level", false, &b, &d));
    assert_one_msg(&d, "t.yaml:2:14: 'daemon.log_level': expected a boolean "
                       "(true/false/yes/no/on/off), got 'maybe'");
    cfg_free(r2);
    cfg_free(root);
}

static void test_get_int(void **state)
{
    cfg_node *root = load("a: 42\nb: -7\nc: +3\nd: 0\ne: \"65535\"\nf: 007\n"
                          "min: -9223372036854775808\nmax: 9223372036854775807\n"
                          "over: 9223372036854775808\nunder: -9223372036854775809\n"
                          "x1: 4x\nx2: 0x10\nx3: 1.5\nx4: ''\nx5: ' 1'\nx6: '-'\nx7: 1e3\n"
                          "port: 70000\nneg: -1\n");
    cfg_diag d;
    cfg_diag_init(&d);
    long long v = 0;
    const struct {
        const char *key;
        long long want;
    } good[] = {{"a", 42},    {"b", -7}, {"c", 3},           {"d", 0},
                {"e", 65535}, {"f", 7},  {"min", LLONG_MIN}, {"max", LLONG_MAX}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        assert_true(cfg_get_int(root, good[i].key, 1, LLONG_MIN, LLONG_MAX, &v, &d));
        assert_true(v == good[i].want);
    }
    assert_true(cfg_get_int(root, "absent", 12, 0, 100, &v, &d));
    assert_int_equal(v, 12);
    assert_int_equal(d.n, 0);

    const char *bad[] = {"x1", "x2", "x3", "x4", "x5", "x6", "x7"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_false(cfg_get_int(root, bad[i], 5, LLONG_MIN, LLONG_MAX, &v, &d));
        assert_int_equal(v, 5);
        assert_non_null(strstr(d.msgs[d.n - 1], "expected an integer"));
    }
    assert_int_equal(d.n, 7);
    assert_string_equal(d.msgs[0], "t.yaml:11:5: 'x1': expected an integer, got '4x'");
    cfg_diag_free(&d);
    cfg_diag_init(&d);

    assert_false(cfg_get_int(root, "over", 1, LLONG_MIN, LLONG_MAX, &v, &d));
    assert_false(cfg_get_int(root, "under", 1, LLONG_MIN, LLONG_MAX, &v, &d));
    assert_int_equal(d.n, 2);
    cfg_diag_free(&d);
    cfg_diag_init(&d);

    assert_false(cfg_get_int(root, "port", 80, 1, 65535, &v, &d));
    assert_int_equal(v, 80);
    assert_one_msg(&d, "t.yaml:18:7: 'port': must be between 1 and 65535, got '70000'");
    assert_false(cfg_get_int(root, "neg", 0, 0, LLONG_MAX, &v, &d));
    assert_one_msg(&d, "t.yaml:19:6: 'neg': must be at least 0, got '-1'");
    assert_false(cfg_get_int(root, "a", 0, LLONG_MIN, 10, &v, &d));
    assert_one_msg(&d, "t.yaml:1:4: 'a': must be at most 10, got '42'");
    cfg_free(root);
}

static void test_get_duration(void **state)
{
    cfg_node *root = load("a: 30\nb: 1.5s\nc: 250ms\nd: 2h\ne: 1d\nf: 1m30s\ng: 5m\n"
                          "h: 1.5 s\ni: .5\nj: 0\nk: 1h1m1s1ms\n"
                          "x1: -1s\nx2: nan\nx3: inf\nx4: 1x\nx5: s\nx6: ''\nx7: 1m30\n"
                          "x8: 1m 30s\nx9: 1e3\nx10: 1S\nx11: '1 '\n"
                          "long: 999999999999999999999999999999999999999999999999999999999999"
                          "999999999999999999999999999999999999999999999999999999999999d\n");
    cfg_diag d;
    cfg_diag_init(&d);
    double v = 0;
    const struct {
        const char *key;
        double want;
    } good[] = {{"a", 30},  {"b", 1.5}, {"c", 0.25}, {"d", 7200}, {"e", 86400},   {"f", 90},
                {"g", 300}, {"h", 1.5}, {"i", 0.5},  {"j", 0},    {"k", 3661.001}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        assert_true(cfg_get_duration(root, good[i].key, -1, 0, INFINITY, &v, &d));
        if (v - good[i].want > 1e-9 || good[i].want - v > 1e-9)
            fail_msg("%s: %g != %g", good[i].key, v, good[i].want);
    }
    assert_true(cfg_get_duration(root, "absent", 2.5, 0, 10, &v, &d));
    assert_true(v == 2.5);
    assert_int_equal(d.n, 0);

    const char *bad[] = {"x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_false(cfg_get_duration(root, bad[i], 7, 0, INFINITY, &v, &d));
        assert_true(v == 7);
        if (!strstr(d.msgs[d.n - 1], "expected a duration"))
            fail_msg("%s: %s", bad[i], d.msgs[d.n - 1]);
    }
    assert_string_equal(d.msgs[2], "t.yaml:15:5: 'x4': expected a duration (e.g. 30, 1.5s, "
                                   "250ms, 5m, 2h, 1d, 1m30s), got '1x'");
    cfg_diag_free(&d);
    cfg_diag_init(&d);

    assert_false(cfg_get_duration(root, "x1", 7, 0, INFINITY, &v, &d));
    assert_one_msg(&d, "t.yaml:12:5: 'x1': a duration cannot be negative, got '-1s'");
    assert_false(cfg_get_duration(root, "d", 7, 1, 3600, &v, &d));
    assert_one_msg(&d, "t.yaml:4:4: 'd': must be between 1 and 3600 seconds, got '2h'");
    assert_false(cfg_get_duration(root, "c", 7, 0.5, INFINITY, &v, &d));
    assert_one_msg(&d, "t.yaml:3:4: 'c': must be at least 0.5 seconds, got '250ms'");
    assert_false(cfg_get_duration(root, "a", 7, 0, 10, &v, &d));
    assert_one_msg(&d, "t.yaml:1:4: 'a': must be at most 10 seconds, got '30'");
    assert_false(cfg_get_duration(root, "long", 7, 0, INFINITY, &v, &d));
    assert_int_equal(d.n, 1);
    assert_true(v == 7);
    cfg_free(root);
    cfg_diag_free(&d);
}

static void test_get_size(void **state)
{
    cfg_node *root = load("a: 4096\nb: 64K\nc: 64k\nd: 10MiB\ne: 1 GB\nf: 3B\ng: 2mb\nh: 1gib\n"
                          "i: 0\nmax: 18446744073709551615\n"
                          "x1: 1.5M\nx2: -1\nx3: 10T\nx4: 18446744073709551616\n"
                          "x5: 17179869184G\nx6: K\nx7: ''\nx8: '10 '\nx9: 1 K B\n");
    cfg_diag d;
    cfg_diag_init(&d);
    unsigned long long v = 0;
    const struct {
        const char *key;
        unsigned long long want;
    } good[] = {{"a", 4096},       {"b", 65536},       {"c", 65536},   {"d", 10485760},
                {"e", 1073741824}, {"f", 3},           {"g", 2097152}, {"h", 1073741824},
                {"i", 0},          {"max", ULLONG_MAX}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        assert_true(cfg_get_size(root, good[i].key, 1, 0, ULLONG_MAX, &v, &d));
        assert_true(v == good[i].want);
    }
    assert_true(cfg_get_size(root, "absent", 99, 0, 100, &v, &d));
    assert_true(v == 99);
    assert_int_equal(d.n, 0);

    const char *bad[] = {"x1", "x2", "x3", "x6", "x7", "x8", "x9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_false(cfg_get_size(root, bad[i], 5, 0, ULLONG_MAX, &v, &d));
        assert_true(v == 5);
        if (!strstr(d.msgs[d.n - 1], "expected a size"))
            fail_msg("%s: %s", bad[i], d.msgs[d.n - 1]);
    }
    assert_string_equal(d.msgs[0], "t.yaml:11:5: 'x1': expected a size (e.g. 4096, 64K, 10MiB, "
                                   "1 GB), got '1.5M'");
    cfg_diag_free(&d);
    cfg_diag_init(&d);

    /* Overflow, of the number or after the unit. */
    assert_false(cfg_get_size(root, "x4", 5, 1, ULLONG_MAX, &v, &d));
    assert_one_msg(&d, "t.yaml:14:5: 'x4': must be at least 1 bytes, got '18446744073709551616'");
    assert_false(cfg_get_size(root, "x5", 5, 0, 1024, &v, &d));
    assert_one_msg(&d, "t.yaml:15:5: 'x5': must be at most 1024 bytes, got '17179869184G'");
    assert_false(cfg_get_size(root, "b", 5, 1024, 4096, &v, &d));
    assert_one_msg(&d, "t.yaml:2:4: 'b': must be between 1024 and 4096 bytes, got '64K'");
    cfg_free(root);
}

static void test_get_strlist(void **state)
{
    cfg_node *root = load("seq: [a, 'b', c]\n"
                          "one: single\n"
                          "empty: []\n"
                          "n: ~\n"
                          "bad:\n"
                          "  - ok\n"
                          "  - {x: 1}\n"
                          "  -\n"
                          "map: {a: b}\n");
    cfg_diag d;
    cfg_diag_init(&d);
    const char **list = NULL;
    assert_true(cfg_get_strlist(root, "seq", &list, &d));
    assert_non_null(list);
    assert_string_equal(list[0], "a");
    assert_string_equal(list[1], "b");
    assert_string_equal(list[2], "c");
    assert_null(list[3]);
    /* Pointers into the tree, not copies. */
    assert_ptr_equal(list[0], at(root, "seq", NULL)->items[0]->value);
    free(list);

    assert_true(cfg_get_strlist(root, "one", &list, &d));
    assert_string_equal(list[0], "single");
    assert_null(list[1]);
    free(list);

    assert_true(cfg_get_strlist(root, "empty", &list, &d));
    assert_non_null(list);
    assert_null(list[0]);
    free(list);

    assert_true(cfg_get_strlist(root, "n", &list, &d));
    assert_null(list);
    assert_true(cfg_get_strlist(root, "absent", &list, &d));
    assert_null(list);
    assert_int_equal(d.n, 0);

    assert_false(cfg_get_strlist(root, "bad", &list, &d));
    assert_null(list);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.msgs[0], "t.yaml:7:5: 'bad[1]': expected a scalar, got a map");
    assert_string_equal(d.msgs[1], "t.yaml:8:4: 'bad[2]': expected a scalar, got null");
    cfg_diag_free(&d);
    cfg_diag_init(&d);

    assert_false(cfg_get_strlist(root, "map", &list, &d));
    assert_null(list);
    assert_one_msg(&d, "t.yaml:9:6: 'map': expected a list or a scalar, got a map");
    cfg_free(root);
}

static void test_as_converters(void **state)
{
    cfg_node *root = load("l: [on, 12, 2m, 1KiB, {a: 1}, ~]\n");
    const cfg_node *l = at(root, "l", NULL);
    cfg_diag d;
    cfg_diag_init(&d);
    bool b = false;
    long long i = 0;
    double t = 0;
    unsigned long long sz = 0;
    assert_true(cfg_as_bool(l->items[0], &b, &d));
    assert_true(b);
    assert_true(cfg_as_int(l->items[1], 0, 100, &i, &d));
    assert_int_equal(i, 12);
    assert_true(cfg_as_duration(l->items[2], 0, 1000, &t, &d));
    assert_true(t == 120);
    assert_true(cfg_as_size(l->items[3], 0, ULLONG_MAX, &sz, &d));
    assert_true(sz == 1024);
    assert_int_equal(d.n, 0);

    /* Failures leave *out alone. */
    i = 99;
    assert_false(cfg_as_int(l->items[4], 0, 100, &i, &d));
    assert_int_equal(i, 99);
    assert_one_msg(&d, "t.yaml:1:23: 'l[4]': expected a scalar, got a map");
    assert_false(cfg_as_bool(l->items[5], &b, &d));
    assert_one_msg(&d, "t.yaml:1:31: 'l[5]': expected a scalar, got null");
    assert_false(cfg_as_size(NULL, 0, 1, &sz, &d));
    assert_one_msg(&d, "missing value");
    cfg_free(root);
}

static void test_long_value_shown_cut(void **state)
{
    char text[400];
    snprintf(text, sizeof text, "a: %0200d\n", 1);
    memcpy(text + 3, "x", 1);
    cfg_node *root = load(text);
    cfg_diag d;
    cfg_diag_init(&d);
    long long v;
    assert_false(cfg_get_int(root, "a", 0, 0, 1, &v, &d));
    assert_int_equal(d.n, 1);
    assert_true(strlen(d.msgs[0]) < 150);
    assert_non_null(strstr(d.msgs[0], "...'"));
    cfg_diag_free(&d);
    cfg_free(root);
}

/* ---------------------------------------------------------------- keys */

static void test_check_keys(void **state)
{
    static const char *const allowed[] = {"log_level", "state_dir", "plugins", NULL};
    cfg_node *root = load("daemon:\n"
                          "  log_level: info\n"
                          "  foo: 1\n"
                          "  bar:\n"
                          "    x: 1\n"
                          "  plugins: []\n"
                          "other: x\n"
                          "nulled: ~\n");
    cfg_diag d;
    cfg_diag_init(&d);
    const cfg_node *daemon = at(root, "daemon", NULL);
    assert_false(cfg_check_keys(daemon, allowed, &d));
    assert_int_equal(d.n, 2);
    assert_string_equal(d.msgs[0], "t.yaml:3:3: unknown key 'foo' in 'daemon' (allowed: "
                                   "log_level, state_dir, plugins)");
    /* The key's position, not its value's (which starts a line later). */
    assert_string_equal(d.msgs[1], "t.yaml:4:3: unknown key 'bar' in 'daemon' (allowed: "
                                   "log_level, state_dir, plugins)");
    cfg_diag_free(&d);
    cfg_diag_init(&d);

    static const char *const top[] = {"daemon", "nulled", NULL};
    assert_false(cfg_check_keys(root, top, &d));
    assert_one_msg(&d, "t.yaml:7:1: unknown key 'other' at top level (allowed: daemon, nulled)");

    static const char *const all[] = {"daemon", "other", "nulled", NULL};
    assert_true(cfg_check_keys(root, all, &d));
    /* Null and absent maps count as empty. */
    assert_true(cfg_check_keys(at(root, "nulled", NULL), allowed, &d));
    assert_true(cfg_check_keys(NULL, allowed, &d));
    assert_int_equal(d.n, 0);

    static const char *const none[] = {NULL};
    assert_false(cfg_check_keys(cfg_get(daemon, "bar"), none, &d));
    assert_one_msg(&d, "t.yaml:5:5: unknown key 'x' in 'daemon.bar' (no keys are allowed)");

    assert_false(cfg_check_keys(at(root, "other", NULL), allowed, &d));
    assert_one_msg(&d, "t.yaml:7:8: 'other': expected a map, got a scalar");
    assert_false(cfg_check_keys(cfg_get(daemon, "plugins"), allowed, &d));
    assert_one_msg(&d, "t.yaml:6:12: 'daemon.plugins': expected a map, got a list");
    cfg_free(root);
}

static void test_cfg_get(void **state)
{
    cfg_node *root = load("a: 1\nl: [1]\n");
    assert_null(cfg_get(root, "missing"));
    assert_null(cfg_get(NULL, "a"));
    assert_null(cfg_get(root, NULL));
    assert_null(cfg_get(at(root, "l", NULL), "a"));
    assert_null(cfg_get(at(root, "a", NULL), "a"));
    assert_string_equal(cfg_get(root, "a")->value, "1");
    cfg_free(root);
}

/* ---------------------------------------------------------------- paths */

static void test_cfg_path(void **state)
{
    cfg_node *root = load("daemon:\n"
                          "  plugin_path: [a, b, c]\n"
                          "agents:\n"
                          "  - name: x\n"
                          "    env: {HOME: /}\n"
                          "  - [[deep]]\n"
                          "\"my.agent\": {\"\": 1, 'q\"uote': 2}\n");
    char buf[128];
    assert_string_equal(cfg_path(root, buf, sizeof buf), "");
    assert_string_equal(cfg_path(at(root, "daemon", NULL), buf, sizeof buf), "daemon");
    const cfg_node *pp = at(root, "daemon", "plugin_path");
    assert_string_equal(cfg_path(pp->items[2], buf, sizeof buf), "daemon.plugin_path[2]");
    const cfg_node *agents = at(root, "agents", NULL);
    assert_string_equal(
        cfg_path(cfg_get(cfg_get(agents->items[0], "env"), "HOME"), buf, sizeof buf),
        "agents[0].env.HOME");
    assert_string_equal(cfg_path(agents->items[1]->items[0]->items[0], buf, sizeof buf),
                        "agents[1][0][0]");
    const cfg_node *odd = at(root, "my.agent", NULL);
    assert_string_equal(cfg_path(odd, buf, sizeof buf), "[\"my.agent\"]");
    assert_string_equal(cfg_path(odd->items[0], buf, sizeof buf), "[\"my.agent\"][\"\"]");
    assert_string_equal(cfg_path(odd->items[1], buf, sizeof buf), "[\"my.agent\"][\"q\\\"uote\"]");

    /* Truncation keeps the buffer terminated. */
    char small[8];
    assert_ptr_equal(cfg_path(pp->items[2], small, sizeof small), small);
    assert_string_equal(small, "daemon.");
    assert_string_equal(cfg_path(NULL, buf, sizeof buf), "");
    char none = 'x';
    cfg_path(pp, &none, 0);
    assert_int_equal(none, 'x');
    cfg_free(root);
}

/* ---------------------------------------------------------------- equality */

static void test_cfg_equal(void **state)
{
    cfg_node *a = load("x: 1\ny: [a, {b: c}]\nz: ~\n");
    cfg_node *same = load("# reformatted\nx: '1'\ny:\n  - \"a\"\n  - b: c\nz:\n");
    cfg_node *value = load("x: 2\ny: [a, {b: c}]\nz: ~\n");
    cfg_node *order = load("y: [a, {b: c}]\nx: 1\nz: ~\n");
    cfg_node *key = load("x: 1\ny: [a, {B: c}]\nz: ~\n");
    cfg_node *type = load("x: 1\ny: [a, {b: c}]\nz: ''\n");
    cfg_node *more = load("x: 1\ny: [a, {b: c}, d]\nz: ~\n");
    assert_true(cfg_equal(a, a));
    assert_true(cfg_equal(a, same));
    assert_false(cfg_equal(a, value));
    assert_false(cfg_equal(a, order));
    assert_false(cfg_equal(a, key));
    assert_false(cfg_equal(a, type));
    assert_false(cfg_equal(a, more));
    assert_true(cfg_equal(NULL, NULL));
    assert_false(cfg_equal(a, NULL));
    assert_false(cfg_equal(NULL, a));
    /* Subtrees compare by content, whatever key they sit under. */
    cfg_node *sub = load("p: {b: c}\nq: {b: c}\n");
    assert_true(cfg_equal(cfg_get(sub, "p"), cfg_get(sub, "q")));
    assert_true(cfg_equal(cfg_get(a, "y")->items[1], cfg_get(sub, "q")));
    cfg_free(a);
    cfg_free(same);
    cfg_free(value);
    cfg_free(order);
    cfg_free(key);
    cfg_free(type);
    cfg_free(more);
    cfg_free(sub);
}

/* ---------------------------------------------------------------- diag */

static void test_cfg_error(void **state)
{
    cfg_diag d;
    cfg_diag_init(&d);
    cfg_node node = {.file = "f.yaml", .line = 3, .col = 7};
    assert_false(cfg_error(&d, &node, "bad %s %d", "thing", 42));
    cfg_node fileonly = {.file = "f.yaml"};
    assert_false(cfg_error(&d, &fileonly, "whole file"));
    assert_false(cfg_error(&d, NULL, "no position"));
    assert_false(cfg_error(NULL, &node, "discarded"));
    assert_int_equal(d.n, 3);
    assert_string_equal(d.msgs[0], "f.yaml:3:7: bad thing 42");
    assert_string_equal(d.msgs[1], "f.yaml: whole file");
    assert_string_equal(d.msgs[2], "no position");
    for (int i = 0; i < 100; i++)
        cfg_error(&d, &node, "m%d", i);
    assert_int_equal(d.n, 103);
    assert_string_equal(d.msgs[102], "f.yaml:3:7: m99");
    cfg_diag_free(&d);
    assert_int_equal(d.n, 0);
    assert_null(d.msgs);
    cfg_diag_free(&d); /* twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_many_items),
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_empty_documents),
        cmocka_unit_test(test_top_level_not_map),
        cmocka_unit_test(test_name_default),
        cmocka_unit_test(test_length_respected),
        cmocka_unit_test(test_env_expansion),
        cmocka_unit_test(test_env_undefined),
        cmocka_unit_test(test_env_errors_collected),
        cmocka_unit_test(test_env_bad_syntax),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_anchor_alias_refused),
        cmocka_unit_test(test_multi_document_refused),
        cmocka_unit_test(test_complex_key_refused),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_tags_nonstandard),
        cmocka_unit_test(test_nul_refused),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_too_many_errors),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_get_string),
        cmocka_unit_test(test_get_bool),
        cmocka_unit_test(test_get_int),
        cmocka_unit_test(test_get_duration),
        cmocka_unit_test(test_get_size),
        cmocka_unit_test(test_get_strlist),
        cmocka_unit_test(test_as_converters),
        cmocka_unit_test(test_long_value_shown_cut),
        cmocka_unit_test(test_check_keys),
        cmocka_unit_test(test_cfg_get),
        cmocka_unit_test(test_cfg_path),
        cmocka_unit_test(test_cfg_equal),
        cmocka_unit_test(test_cfg_error),
    };
    return RUN_TESTS(tests);
}
