/* libFuzzer target for subject syntax and the subject trie.
 *
 * The input is split into lines.  Every line goes through the validators;
 * valid patterns go into a trie, and every valid subject (the lines, plus one
 * subject derived from each pattern so that matches are common) is matched
 * through the trie and through the reference matcher, which must agree.
 * Half the patterns are then removed and the check repeated, then the rest,
 * after which the trie must be back to its bare root. */
#include "config.h"

#include "bus_trie.h"

#include <bosun/bus.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES    16
#define LINE_MAX_LEN (BUS_SUBJECT_MAX + 8)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct corpus {
    char line[MAX_LINES][LINE_MAX_LEN + 1];
    size_t n_lines;
    char derived[MAX_LINES][2 * LINE_MAX_LEN + 1];
    int ids[MAX_LINES];
    bool inserted[MAX_LINES];
};

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_subject: check failed: %s (line %d)\n", #cond, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void split_lines(struct corpus *c, const uint8_t *data, size_t size)
{
    size_t start = 0;
    while (start <= size && c->n_lines < MAX_LINES) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        size_t len = end - start < LINE_MAX_LEN ? end - start : LINE_MAX_LEN;
        /* An embedded NUL just ends the C string early. */
        memcpy(c->line[c->n_lines], data + start, len);
        c->line[c->n_lines][len] = '\0';
        c->n_lines++;
        if (!nl)
            break;
        start = end + 1;
    }
}

/* A subject the pattern must match: "*" becomes "w", ">" becomes "g.h". */
static void derive_subject(const char *pattern, char *out)
{
    size_t o = 0;
    for (const char *p = pattern; *p; p++) {
        if (*p == '*') {
            out[o++] = 'w';
        } else if (*p == '>') {
            memcpy(out + o, "g.h", 3);
            o += 3;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

static void check_validators(const char *s)
{
    int subject = bus_subject_check(s);
    int pattern = bus_pattern_check(s);
    CHECK(subject == 0 || subject == -1);
    CHECK(pattern == 0 || pattern == -1);
    if (subject == 0) {
        CHECK(pattern == 0); /* every subject is a pattern matching itself */
        CHECK(strlen(s) <= BUS_SUBJECT_MAX);
        CHECK(bus_pattern_matches(s, s));
    } else {
        CHECK(!bus_pattern_matches(s, s)); /* not a subject: matches nothing */
    }
}

struct hits {
    unsigned count[MAX_LINES];
    int calls;
};

static void on_match(void *entry, void *arg)
{
    struct hits *h = arg;
    h->count[*(int *)entry]++;
}

static void check_subject(const bus_trie *t, const struct corpus *c, const char *subject)
{
    if (bus_subject_check(subject) != 0)
        return;
    struct hits h = {{0}, 0};
    int calls = bus_trie_match(t, subject, on_match, &h);
    int expected = 0;
    for (size_t i = 0; i < c->n_lines; i++) {
        unsigned want = c->inserted[i] && bus_pattern_matches(c->line[i], subject);
        CHECK(h.count[i] == want);
        expected += (int)want;
    }
    CHECK(calls == expected);
}

static void check_all(const bus_trie *t, const struct corpus *c)
{
    for (size_t i = 0; i < c->n_lines; i++) {
        check_subject(t, c, c->line[i]);
        check_subject(t, c, c->derived[i]);
    }
}

static void remove_where(bus_trie *t, struct corpus *c, size_t parity)
{
    for (size_t i = 0; i < c->n_lines; i++) {
        if (!c->inserted[i] || i % 2 != parity)
            continue;
        CHECK(bus_trie_remove(t, c->line[i], &c->ids[i]) == 0);
        c->inserted[i] = false;
        /* A second removal finds nothing. */
        errno = 0;
        CHECK(bus_trie_remove(t, c->line[i], &c->ids[i]) == -1 && errno == ENOENT);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct corpus c;
    memset(&c, 0, sizeof c);
    split_lines(&c, data, size);

    bus_trie *t = bus_trie_new();
    size_t inserted = 0;
    for (size_t i = 0; i < c.n_lines; i++) {
        check_validators(c.line[i]);
        c.ids[i] = (int)i;
        if (bus_pattern_check(c.line[i]) == 0) {
            CHECK(bus_trie_insert(t, c.line[i], &c.ids[i]) == 0);
            c.inserted[i] = true;
            inserted++;
            derive_subject(c.line[i], c.derived[i]);
            check_validators(c.derived[i]);
        } else {
            errno = 0;
            CHECK(bus_trie_insert(t, c.line[i], &c.ids[i]) == -1 && errno == EINVAL);
        }
    }
    CHECK(bus_trie_count(t) == inserted);
    check_all(t, &c);

    remove_where(t, &c, 0);
    check_all(t, &c);
    remove_where(t, &c, 1);
    CHECK(bus_trie_count(t) == 0);
    CHECK(bus_trie_nodes(t) == 1);
    bus_trie_free(t);
    return 0;
}
