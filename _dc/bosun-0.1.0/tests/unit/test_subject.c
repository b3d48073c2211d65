/* Unit tests for subject syntax, the reference matcher and the subject trie
 * (core/lib/bus_subject.c, core/lib/bus_trie.c). */
#include "config.h"

#include "tap.h"

#include "bus_trie.h"

#include <bosun/bus.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_subject_valid(void **state)
{
    static const char *const ok[] = {
        "a", "a.b.c", "evt.run.start", "_INBOX.0123abcd.17", "A-z_0.9", "x-y.Z_9.___", "-", "0.1.2",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (bus_subject_check(ok[i]) != 0)
            fail_msg("subject \"%s\" refused", ok[i]);
        if (bus_pattern_check(ok[i]) != 0)
            fail_msg("subject \"%s\" refused as a pattern", ok[i]);
    }
}

static void test_subject_invalid(void **state)
{
    static const char *const bad[] = {
        "",  ".", "..",  "a.",  ".a",  "a..b", "a...b", "a b",        "a\tb", "a/b",  "a,b", "a*",
        "*", ">", "a.*", "a.>", "*.a", "a.b*", "é",     "a.\xc3\xa9", "a:b",  "a.b.", "a$",  "a\n",
    };
    assert_int_equal(bus_subject_check(NULL), -1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (bus_subject_check(bad[i]) != -1)
            fail_msg("subject \"%s\" accepted", bad[i]);
}

static void test_pattern_valid(void **state)
{
    static const char *const ok[] = {
        "*", ">", "a.*", "a.>", "*.b", "*.*", "*.>", "a.*.c", "*.*.>", "_INBOX.abc.*",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (bus_pattern_check(ok[i]) != 0)
            fail_msg("pattern \"%s\" refused", ok[i]);
}

static void test_pattern_invalid(void **state)
{
    static const char *const bad[] = {
        "",     "a*",   "a>",   "*a", ">a",   "**", ">>", "*>",   ">.a",  "a.>.b", ">.>",
        "a.b>", "a.*b", "a..*", ".>", "a.>.", "*.", ".*", "a. *", "a.* ", "a.#",   "a.?",
    };
    assert_int_equal(bus_pattern_check(NULL), -1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (bus_pattern_check(bad[i]) != -1)
            fail_msg("pattern \"%s\" accepted", bad[i]);
}

/* n tokens of one character: "a.a.a…" */
static char *tokens(size_t n, const char *last)
{
    char *s = calloc(2 * n + 8, 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(s, ".");
        strcat(s, i + 1 == n && last ? last : "a");
    }
    return s;
}

static void test_limits(void **state)
{
    char buf[BUS_SUBJECT_MAX + 2];
    memset(buf, 'x', BUS_SUBJECT_MAX);
    buf[BUS_SUBJECT_MAX] = '\0';
    assert_int_equal(bus_subject_check(buf), 0);
    buf[BUS_SUBJECT_MAX - 2] = '.'; /* dots count too */
    assert_int_equal(bus_subject_check(buf), 0);
    buf[BUS_SUBJECT_MAX] = 'x';
    buf[BUS_SUBJECT_MAX + 1] = '\0';
    assert_int_equal(bus_subject_check(buf), -1);
    assert_int_equal(bus_pattern_check(buf), -1);

    char *s = tokens(BUS_TOKENS_MAX, NULL);
    assert_int_equal(bus_subject_check(s), 0);
    free(s);
    s = tokens(BUS_TOKENS_MAX + 1, NULL);
    assert_int_equal(bus_subject_check(s), -1);
    free(s);
    s = tokens(BUS_TOKENS_MAX, ">");
    assert_int_equal(bus_pattern_check(s), 0);
    free(s);
    s = tokens(BUS_TOKENS_MAX + 1, ">");
    assert_int_equal(bus_pattern_check(s), -1);
    free(s);
}

static void test_reference_matcher(void **state)
{
    static const struct {
        const char *pattern, *subject;
        bool match;
    } cases[] = {
        {"a", "a", true},         {"a", "b", false},
        {"a", "ab", false},       {"ab", "a", false},
        {"a.b", "a.b", true},     {"a.b", "a", false},
        {"a", "a.b", false},      {"*", "a", true},
        {"*", "a.b", false},      {"a.*", "a.b", true},
        {"a.*", "a", false},      {"a.*", "a.b.c", false},
        {"*.b", "a.b", true},     {"*.b", "a.c", false},
        {"a.*.c", "a.b.c", true}, {"a.*.c", "a.b.d", false},
        {">", "a", true},         {">", "a.b.c", true},
        {"a.>", "a", false}, /* ">" needs at least one token */
        {"a.>", "a.b", true},     {"a.>", "a.b.c", true},
        {"a.>", "b.c", false},    {"*.>", "a", false},
        {"*.>", "a.b", true},     {"*.*", "a.b", true},
        {"*.*", "a.b.c", false},  {"_INBOX.p.*", "_INBOX.p.12", true},
        {"a.b", "a.b.", false}, /* invalid subject */
        {"a*", "a", false},     /* invalid pattern */
        {"a.>", "a.*", false},  /* wildcards are not subjects */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (bus_pattern_matches(cases[i].pattern, cases[i].subject) != cases[i].match)
            fail_msg("\"%s\" vs \"%s\": expected %s", cases[i].pattern, cases[i].subject,
                     cases[i].match ? "match" : "no match");
    assert_false(bus_pattern_matches(NULL, "a"));
    assert_false(bus_pattern_matches("a", NULL));
}

/* ------------------------------------------------------------------ trie */

struct hits {
    void *seen[64];
    size_t n;
};

static void collect(void *entry, void *arg)
{
    struct hits *h = arg;
    assert_true(h->n < 64);
    h->seen[h->n++] = entry;
}

static size_t count_hits(const struct hits *h, void *entry)
{
    size_t c = 0;
    for (size_t i = 0; i < h->n; i++)
        c += h->seen[i] == entry;
    return c;
}

static void test_trie_overlapping_wildcards(void **state)
{
    static const char *const patterns[] = {"a.*", "a.>", "*.b", ">", "a.b", "b.*", "a.b.c", "a"};
    static const bool match_ab[] = {true, true, true, true, true, false, false, false};
    bus_trie *t = bus_trie_new();
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(bus_trie_insert(t, patterns[i], (void *)patterns[i]), 0);
    assert_int_equal(bus_trie_count(t), 8);

    struct hits h = {0};
    assert_int_equal(bus_trie_match(t, "a.b", collect, &h), 5);
    assert_int_equal(h.n, 5);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(count_hits(&h, (void *)patterns[i]), match_ab[i] ? 1 : 0);

    h.n = 0;
    assert_int_equal(bus_trie_match(t, "a.b.c", collect, &h), 3); /* a.>, >, a.b.c */
    assert_int_equal(count_hits(&h, (void *)patterns[6]), 1);
    h.n = 0;
    assert_int_equal(bus_trie_match(t, "zzz", collect, &h), 1); /* > */
    bus_trie_free(t);
}

static void test_trie_errors(void **state)
{
    bus_trie *t = bus_trie_new();
    int x;
    errno = 0;
    assert_int_equal(bus_trie_insert(t, "a*", &x), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(bus_trie_insert(t, "a", NULL), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(bus_trie_remove(t, "a.b", &x), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(bus_trie_insert(t, "a.b", &x), 0);
    errno = 0;
    assert_int_equal(bus_trie_remove(t, "a.b", &t), -1); /* other entry */
    assert_int_equal(errno, ENOENT);
    assert_int_equal(bus_trie_remove(t, "a", &x), -1); /* prefix only */
    assert_int_equal(bus_trie_remove(t, "a.b.c", &x), -1);

    struct hits h = {0};
    assert_int_equal(bus_trie_match(t, "a..b", collect, &h), -1);
    assert_int_equal(bus_trie_match(t, "", collect, &h), -1);
    char *many = tokens(BUS_TOKENS_MAX + 1, NULL);
    assert_int_equal(bus_trie_match(t, many, collect, &h), -1);
    free(many);
    assert_int_equal(h.n, 0);
    assert_int_equal(bus_trie_remove(t, "a.b", &x), 0);
    bus_trie_free(t);
}

static void test_trie_duplicates(void **state)
{
    bus_trie *t = bus_trie_new();
    int x, y;
    assert_int_equal(bus_trie_insert(t, "a.*", &x), 0);
    assert_int_equal(bus_trie_insert(t, "a.*", &y), 0);
    assert_int_equal(bus_trie_insert(t, "a.*", &x), 0);
    struct hits h = {0};
    assert_int_equal(bus_trie_match(t, "a.q", collect, &h), 3);
    assert_int_equal(count_hits(&h, &x), 2);
    /* Insertion order is kept within a node. */
    assert_ptr_equal(h.seen[0], &x);
    assert_ptr_equal(h.seen[1], &y);
    assert_int_equal(bus_trie_remove(t, "a.*", &x), 0);
    h.n = 0;
    assert_int_equal(bus_trie_match(t, "a.q", collect, &h), 2);
    assert_ptr_equal(h.seen[0], &y);
    assert_ptr_equal(h.seen[1], &x);
    bus_trie_free(t); /* entries still inside: freeing must not leak nodes */
}

static void test_trie_pruning(void **state)
{
    bus_trie *t = bus_trie_new();
    int e[6];
    assert_int_equal(bus_trie_nodes(t), 1);
    assert_int_equal(bus_trie_insert(t, "a.b.c", &e[0]), 0);
    assert_int_equal(bus_trie_nodes(t), 4);
    assert_int_equal(bus_trie_insert(t, "a.b.>", &e[1]), 0);
    assert_int_equal(bus_trie_nodes(t), 5);
    assert_int_equal(bus_trie_insert(t, "a.*.c", &e[2]), 0);
    assert_int_equal(bus_trie_nodes(t), 7);
    assert_int_equal(bus_trie_insert(t, "a", &e[3]), 0);
    assert_int_equal(bus_trie_nodes(t), 7);

    assert_int_equal(bus_trie_remove(t, "a.b.c", &e[0]), 0);
    assert_int_equal(bus_trie_nodes(t), 6); /* "c" under a.b goes, a.b stays for ">" */
    assert_int_equal(bus_trie_remove(t, "a.b.>", &e[1]), 0);
    assert_int_equal(bus_trie_nodes(t), 4); /* ">" and a.b go */
    assert_int_equal(bus_trie_remove(t, "a.*.c", &e[2]), 0);
    assert_int_equal(bus_trie_nodes(t), 2); /* "a" holds an entry */
    assert_int_equal(bus_trie_remove(t, "a", &e[3]), 0);
    assert_int_equal(bus_trie_nodes(t), 1);
    assert_int_equal(bus_trie_count(t), 0);

    /* Many siblings: the literal maps grow and must shrink back. */
    char pat[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(pat, sizeof pat, "k%d.*.v%d", i % 50, i);
        assert_int_equal(bus_trie_insert(t, pat, &e[4]), 0);
    }
    for (int i = 0; i < 2000; i++) {
        snprintf(pat, sizeof pat, "k%d.*.v%d", i % 50, i);
        assert_int_equal(bus_trie_remove(t, pat, &e[4]), 0);
    }
    assert_int_equal(bus_trie_nodes(t), 1);
    assert_int_equal(bus_trie_count(t), 0);
    bus_trie_free(t);
}

/* Random patterns and subjects over a tiny alphabet, so that overlaps are
 * frequent; the trie must agree with the reference matcher exactly. */
#define NPAT 300
static void random_pattern(char *buf, bool wildcards)
{
    static const char *const tok[] = {"a", "b", "c", "*", ">"};
    int n = 1 + rand() % 4;
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        int k = rand() % (wildcards ? (i + 1 == n ? 5 : 4) : 3);
        strcat(buf, tok[k]);
        if (i + 1 < n)
            strcat(buf, ".");
    }
}

struct marks {
    unsigned char hit[NPAT];
};

static void mark(void *entry, void *arg)
{
    struct marks *m = arg;
    m->hit[*(int *)entry]++;
}

/* Returns the number of matches seen, so that the caller can tell the test
 * from a vacuous one. */
static int check_agreement(bus_trie *t, char pats[][16], const int *ids, const bool *present)
{
    int total = 0;
    for (int s = 0; s < 500; s++) {
        char subject[16];
        random_pattern(subject, false);
        struct marks m = {{0}};
        int calls = bus_trie_match(t, subject, mark, &m);
        int expected = 0;
        for (int i = 0; i < NPAT; i++) {
            int want = present[i] && bus_pattern_matches(pats[i], subject);
            expected += want;
            if (m.hit[ids[i]] != want)
                fail_msg("pattern %s, subject %s: trie %d, reference %d", pats[i], subject,
                         m.hit[ids[i]], want);
        }
        assert_int_equal(calls, expected);
        total += expected;
    }
    return total;
}

static void test_trie_vs_reference(void **state)
{
    static char pats[NPAT][16];
    int ids[NPAT];
    bool present[NPAT];
    srand(20240601);
    bus_trie *t = bus_trie_new();
    for (int i = 0; i < NPAT; i++) {
        random_pattern(pats[i], true);
        assert_int_equal(bus_pattern_check(pats[i]), 0);
        ids[i] = i;
        present[i] = true;
        assert_int_equal(bus_trie_insert(t, pats[i], &ids[i]), 0);
    }
    assert_true(check_agreement(t, pats, ids, present) > 1000);
    for (int i = 0; i < NPAT; i += 2) {
        assert_int_equal(bus_trie_remove(t, pats[i], &ids[i]), 0);
        present[i] = false;
    }
    assert_true(check_agreement(t, pats, ids, present) > 500);
    for (int i = 1; i < NPAT; i += 2)
        assert_int_equal(bus_trie_remove(t, pats[i], &ids[i]), 0);
    assert_int_equal(bus_trie_count(t), 0);
    assert_int_equal(bus_trie_nodes(t), 1);
    bus_trie_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subject_valid),
        cmocka_unit_test(test_subject_invalid),
        cmocka_unit_test(test_pattern_valid),
        cmocka_unit_test(test_pattern_invalid),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_reference_matcher),
        cmocka_unit_test(test_trie_overlapping_wildcards),
        cmocka_unit_test(test_trie_errors),
        cmocka_unit_test(test_trie_duplicates),
        cmocka_unit_test(test_trie_pruning),
        cmocka_unit_test(test_trie_vs_reference),
    };
    return RUN_TESTS(tests);
}
