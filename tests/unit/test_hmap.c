/* Unit tests for core/common/hmap.c, linked alone (no libbosun). */
#include "config.h"

#include "tap.h"

#include "hmap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    assert_int_equal(hmap_put(&m, "alpha", VAL(1)), 0);
    assert_int_equal(hmap_put(&m, "beta", VAL(2)), 0);
    assert_int_equal(hmap_put(&m, "", VAL(3)), 0);
    assert_int_equal(hmap_count(&m), 3);
    assert_ptr_equal(hmap_get(&m, "alpha"), VAL(1));
    assert_ptr_equal(hmap_get(&m, "beta"), VAL(2));
    assert_ptr_equal(hmap_get(&m, ""), VAL(3));
    assert_null(hmap_get(&m, "alph"));
    assert_null(hmap_get(&m, "alphaa"));

    assert_int_equal(hmap_put(&m, "alpha", VAL(4)), 0);
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
    assert_int_equal(hmap_putn(&m, buf + 4, 3, VAL(1)), 0); /* "run" */
    buf[4] = 'X';                                           /* the map must hold its own copy */
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

static void test_null_value_refused(void **state)
{
    hmap m = {0};
    errno = 0;
    assert_int_equal(hmap_put(&m, "a", NULL), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(hmap_count(&m), 0);
    hmap u;
    hmap_init_u64(&u);
    errno = 0;
    assert_int_equal(hmap_put_u64(&u, 1, NULL), -1);
    assert_int_equal(errno, EINVAL);
    hmap_destroy(&m);
    hmap_destroy(&u);
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
            assert_int_equal(hmap_put(&m, key, v), 0);
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
            assert_int_equal(hmap_put_u64(&m, key, v), 0);
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
        assert_int_equal(hmap_put(&m, key, VAL(i)), 0);
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
        assert_int_equal(hmap_put_u64(&u, i * 3, VAL(i)), 0);
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
        assert_int_equal(hmap_put(&m, key, VAL(i)), 0);
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
        cmocka_unit_test(test_null_value_refused),
        cmocka_unit_test(test_random_against_reference_str),
        cmocka_unit_test(test_random_against_reference_u64),
        cmocka_unit_test(test_iteration_visits_each_once),
        cmocka_unit_test(test_shrinks_when_emptied),
    };
    return RUN_TESTS(tests);
}
