/* Unit tests for core/common/hmap.c, linked alone (no libbosun). */
#include "config.h"

#include "tap.h"

#include "hmap.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Distinct non-NULL values without allocating: addresses inside an array. */
static char values[4096];
#define VAL(i) ((void *)&values[(i)])

static void test_empty(void **state)
{
    hmap m = {0};
    size_t pos = 0;
    assert_int_equal(hmap_count(&m), 0);
    assert_null(hmap_get(&m, "a"));
    assert_null(hmap_del(&m, "a"));
    assert_null(hmap_next(&m, &pos, NULL));
    hmap_destroy(&m);

    hmap u;
    hmap_init_u64(&u);
    assert_null(hmap_get_u64(&u, 0));
    assert_null(hmap_del_u64(&u, 7));
    hmap_destroy(&u);
}

static void test_put_get_replace_del(void **state)
{
    hmap m;
    hmap_init(&m);
    hmap_put(&m, "alpha", VAL(1));
    hmap_put(&m, "beta", VAL(2));
    hmap_put(&m, "", VAL(3));
    assert_int_equal(hmap_count(&m), 3);
    assert_ptr_equal(hmap_get(&m, "alpha"), VAL(1));
    assert_ptr_equal(hmap_get(&m, "beta"), VAL(2));
    assert_ptr_equal(hmap_get(&m, ""), VAL(3));
    assert_null(hmap_get(&m, "alph"));
    assert_null(hmap_get(&m, "alphaa"));

    hmap_put(&m, "alpha", VAL(4));
    assert_int_equal(hmap_count(&m), 3);
    assert_ptr_equal(hmap_get(&m, "alpha"), VAL(4));

    assert_ptr_equal(hmap_del(&m, "alpha"), VAL(4));
    assert_null(hmap_del(&m, "alpha"));
    assert_null(hmap_get(&m, "alpha"));
    assert_int_equal(hmap_count(&m), 2);
    hmap_destroy(&m);
    assert_int_equal(hmap_count(&m), 0);
}

static void test_slices_and_key_copy(void **state)
{
    hmap m = {0};
    char buf[] = "evt.run.start";
    hmap_putn(&m, buf + 4, 3, VAL(1)); /* "run" */
    buf[4] = 'X';                      /* the map must hold its own copy */
    assert_ptr_equal(hmap_get(&m, "run"), VAL(1));
    assert_ptr_equal(hmap_getn(&m, "running", 3), VAL(1));
    assert_null(hmap_getn(&m, "running", 4));
    size_t pos = 0;
    const char *key = NULL;
    assert_ptr_equal(hmap_next(&m, &pos, &key), VAL(1));
    assert_string_equal(key, "run");
    assert_ptr_equal(hmap_deln(&m, "run.x", 3), VAL(1));
    assert_int_equal(hmap_count(&m), 0);
    hmap_destroy(&m);
}

/* Runs fn in a child and returns how it ended (a waitpid status). */
static int in_child(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fn();
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void put_null(void)
{
    hmap m = {0};
    hmap_put(&m, "a", NULL);
}

#if !defined(__SANITIZE_ADDRESS__)
static void put_until_out_of_memory(void)
{
    struct rlimit rl = {64 << 20, 64 << 20};
    if (setrlimit(RLIMIT_AS, &rl) < 0)
        _exit(2);
    hmap m;
    hmap_init_u64(&m);
    for (uint64_t i = 0; i < ((uint64_t)1 << 24); i++)
        hmap_put_u64(&m, i, VAL(1)); /* grows until an allocation fails */
    _exit(3);
}
#endif

/* An insert that cannot be done never returns as if it were: the caller's
 * index would silently lack the entry. */
static void test_failed_insert_aborts(void **state)
{
    int st = in_child(put_null);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's allocator reports out of memory itself, before hmap sees it. */
#else
    st = in_child(put_until_out_of_memory);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
#endif
}

/* Random puts and deletes checked against a plain array: exercises growth,
 * shrinking and backward-shift deletion across wrapped probe chains. */
#define KEYS 1000
static void test_random_against_reference_str(void **state)
{
    hmap m = {0};
    void *ref[KEYS] = {0};
    size_t live = 0;
    srand(12345);
    for (int op = 0; op < 100000; op++) {
        int k = rand() % KEYS;
        char key[16];
        snprintf(key, sizeof key, "k%d", k);
        if (rand() % 3 == 0) {
            assert_ptr_equal(hmap_del(&m, key), ref[k]);
            live -= ref[k] != NULL;
            ref[k] = NULL;
        } else {
            void *v = VAL(rand() % (int)sizeof values);
            hmap_put(&m, key, v);
            live += ref[k] == NULL;
            ref[k] = v;
        }
        assert_int_equal(hmap_count(&m), live);
    }
    for (int k = 0; k < KEYS; k++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", k);
        assert_ptr_equal(hmap_get(&m, key), ref[k]);
    }
    hmap_destroy(&m);
}

static void test_random_against_reference_u64(void **state)
{
    hmap m;
    hmap_init_u64(&m);
    void *ref[KEYS] = {0};
    size_t live = 0;
    srand(54321);
    for (int op = 0; op < 100000; op++) {
        /* Spread keys out, key 0 included, so high bits matter. */
        int k = rand() % KEYS;
        uint64_t key = (uint64_t)k * 0x100000001ULL;
        if (rand() % 3 == 0) {
            assert_ptr_equal(hmap_del_u64(&m, key), ref[k]);
            live -= ref[k] != NULL;
            ref[k] = NULL;
        } else {
            void *v = VAL(k + 1);
            hmap_put_u64(&m, key, v);
            live += ref[k] == NULL;
            ref[k] = v;
        }
        assert_int_equal(hmap_count(&m), live);
    }
    for (int k = 0; k < KEYS; k++)
        assert_ptr_equal(hmap_get_u64(&m, (uint64_t)k * 0x100000001ULL), ref[k]);
    hmap_destroy(&m);
}

static void test_iteration_visits_each_once(void **state)
{
    hmap m = {0};
    int seen[500] = {0};
    for (int i = 0; i < 500; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", i);
        hmap_put(&m, key, VAL(i));
    }
    size_t pos = 0, n = 0;
    const char *key;
    void *v;
    while ((v = hmap_next(&m, &pos, &key))) {
        int i = (int)((char *)v - values);
        assert_int_equal(atoi(key), i);
        seen[i]++;
        n++;
    }
    assert_int_equal(n, 500);
    for (int i = 0; i < 500; i++)
        assert_int_equal(seen[i], 1);
    hmap_destroy(&m);

    hmap u;
    hmap_init_u64(&u);
    for (uint64_t i = 0; i < 100; i++)
        hmap_put_u64(&u, i * 3, VAL(i));
    uint64_t sum = 0, k;
    pos = 0;
    n = 0;
    while (hmap_next_u64(&u, &pos, &k)) {
        sum += k;
        n++;
    }
    assert_int_equal(n, 100);
    assert_int_equal(sum, 3 * 99 * 100 / 2);
    hmap_destroy(&u);
}

/* Emptying a map gives its table back: tries prune through this. */
static void test_shrinks_when_emptied(void **state)
{
    hmap m = {0};
    for (int i = 0; i < 1000; i++) {
        char key[16];
        snprintf(key, sizeof key, "x%d", i);
        hmap_put(&m, key, VAL(i));
    }
    size_t big = m.cap;
    assert_true(big >= 1024);
    for (int i = 0; i < 990; i++) {
        char key[16];
        snprintf(key, sizeof key, "x%d", i);
        assert_ptr_equal(hmap_del(&m, key), VAL(i));
    }
    assert_true(m.cap < big);
    for (int i = 990; i < 1000; i++) {
        char key[16];
        snprintf(key, sizeof key, "x%d", i);
        assert_ptr_equal(hmap_get(&m, key), VAL(i));
        assert_ptr_equal(hmap_del(&m, key), VAL(i));
    }
    assert_int_equal(m.cap, 0);
    assert_null(m.slots);
    hmap_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_put_get_replace_del),
        cmocka_unit_test(test_slices_and_key_copy),
        cmocka_unit_test(test_failed_insert_aborts),
        cmocka_unit_test(test_random_against_reference_str),
        cmocka_unit_test(test_random_against_reference_u64),
        cmocka_unit_test(test_iteration_visits_each_once),
        cmocka_unit_test(test_shrinks_when_emptied),
    };
    return RUN_TESTS(tests);
}
