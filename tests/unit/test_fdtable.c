/* fdtable: the descriptors a configuration wants, and the table grown to
 * hold them before any thread starts (FDSize in /proc/self/status is the
 * table's size). */
#include "config.h"

#include "tap.h"

#include "../../core/daemon/fdtable.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static long fd_size(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "FDSize: %ld", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

static cfg_node *load(const char *text)
{
    cfg_diag d;
    cfg_diag_init(&d);
    cfg_node *root = cfg_load_string(text, strlen(text), "test.yaml", &d);
    cfg_diag_free(&d);
    assert_non_null(root);
    return root;
}

static void wanted_counts_instances(void **state)
{
    (void)state;
    cfg_node *root = load("agents:\n"
                          "  a: {command: [sleep, '1']}\n"
                          "  b: {command: [sleep, '1'], instances: 300}\n"
                          "  c: {command: [sleep, '1'], instances: nonsense}\n"
                          "  d: {command: [sleep, '1'], instances: -4}\n");
    /* a 1, b 300, and one each for the two the agent parser will refuse. */
    assert_int_equal(fdtable_wanted(root), 256 + FDTABLE_PER_RUN * 303);
    cfg_free(root);
    root = load("daemon: {machine_id: m}\n");
    assert_int_equal(fdtable_wanted(root), 256);
    cfg_free(root);
    assert_int_equal(fdtable_wanted(NULL), 256);
}

static void reserve_grows_the_table(void **state)
{
    (void)state;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    long want = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 3000 ? 3000 : (long)rl.rlim_cur;
    long before = fd_size();
    assert_true(before > 0);
    fdtable_reserve((size_t)want);
    long after = fd_size();
    assert_true(after >= want);
    /* Nothing stays open: the next descriptor is the lowest free one. */
    FILE *f = fopen("/dev/null", "r");
    assert_non_null(f);
    assert_true(fileno(f) < 64);
    fclose(f);
    /* More than the soft limit is the soft limit, not a failure. */
    fdtable_reserve((size_t)rl.rlim_cur + 100000);
    assert_true(fd_size() >= after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wanted_counts_instances),
        cmocka_unit_test(reserve_grows_the_table),
    };
    return RUN_TESTS(tests);
}
