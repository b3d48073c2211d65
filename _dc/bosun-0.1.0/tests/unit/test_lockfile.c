/* lockfile: one holder at a time, even while holders stop and start as
 * fast as they can (a stopping daemon unlinks the file it holds). */
#include "config.h"

#include "tap.h"

#include "../../core/daemon/lockfile.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 4
#define ROUNDS  3000

typedef struct {
    atomic_int holders;
    atomic_int overlaps;
    atomic_int acquired;
} shared_counts;

static char dir[64];
static char path[96];

static void worker(shared_counts *c)
{
    for (int i = 0; i < ROUNDS; i++) {
        pid_t holder;
        int fd = lockfile_acquire(path, &holder);
        if (fd < 0)
            continue;
        atomic_fetch_add(&c->acquired, 1);
        if (atomic_fetch_add(&c->holders, 1) != 0)
            atomic_fetch_add(&c->overlaps, 1);
        /* Give the others a chance to open the file now. */
        usleep(i % 3 == 0 ? 10 : 0);
        atomic_fetch_sub(&c->holders, 1);
        lockfile_release(fd, path);
    }
    _exit(0);
}

static void one_holder_under_churn(void **state)
{
    (void)state;
    shared_counts *c =
        mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(c != MAP_FAILED);
    memset(c, 0, sizeof *c);
    pid_t pids[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0)
            worker(c);
    }
    for (int i = 0; i < WORKERS; i++) {
        int st;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    print_message("# %d locks taken, %d while another was held\n", atomic_load(&c->acquired),
                  atomic_load(&c->overlaps));
    assert_true(atomic_load(&c->acquired) > 0);
    assert_int_equal(atomic_load(&c->overlaps), 0);
    munmap(c, sizeof *c);
}

static void holder_is_named(void **state)
{
    (void)state;
    pid_t holder = 0;
    int fd = lockfile_acquire(path, &holder);
    assert_true(fd >= 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        pid_t h = 0;
        int fd2 = lockfile_acquire(path, &h);
        _exit(fd2 < 0 && h == getppid() ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    lockfile_release(fd, path);
    assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s", "/tmp/bosun-lock.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/bosund.lock", dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(holder_is_named),
        cmocka_unit_test(one_holder_under_churn),
    };
    int rc = RUN_TESTS(tests);
    unlink(path);
    rmdir(dir);
    return rc;
}
