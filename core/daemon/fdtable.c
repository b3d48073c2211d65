/* The descriptor table, grown once (see fdtable.h).
 *
 * Every run holds descriptors (its output pipes' read ends, its pidfd,
 * for a moment its pipes' write ends), so starting 500 agents takes the
 * table from 64 slots to 2,048.  The kernel grows it by doubling, and once
 * the process has threads (the store's writer, the spawn pool) each growth
 * waits for an RCU grace period while every thread that opens a
 * descriptor waits for it: 10 to 15 ms each on a 2-vCPU VM, about 45 ms of
 * the 0.3 s it took to get 500 agents running (perf sched_switch: the loop
 * thread and both spawn threads in expand_files, synchronize_rcu).  Grown
 * here, while the daemon is still one thread, it costs no grace period,
 * and it never shrinks. */
#include "config.h"

#include "fdtable.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#define FDTABLE_BASE  256
#define FDTABLE_MAX   (1u << 20)
#define INSTANCES_MAX 10000 /* the agent parser's bound */

static size_t instances_of(const cfg_node *agent)
{
    /* Invalid values are the agent parser's to report, later, with the
     * plugins' types known; here one is a guess. */
    cfg_diag quiet;
    cfg_diag_init(&quiet);
    long long k = 1;
    if (!cfg_get_int(agent, "instances", 1, 1, INSTANCES_MAX, &k, &quiet))
        k = 1;
    cfg_diag_free(&quiet);
    return (size_t)k;
}

size_t fdtable_wanted(const cfg_node *root)
{
    size_t runs = 0;
    const cfg_node *agents = root ? cfg_get(root, "agents") : NULL;
    for (size_t i = 0; agents && agents->type == CFG_MAP && i < agents->n_items; i++)
        runs += instances_of(agents->items[i]);
    return FDTABLE_BASE + FDTABLE_PER_RUN * runs;
}

void fdtable_reserve(size_t n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur != RLIM_INFINITY && n > rl.rlim_cur)
        n = (size_t)rl.rlim_cur;
    if (n > FDTABLE_MAX)
        n = FDTABLE_MAX;
    if (n <= 64)
        return; /* the table every process starts with */
    int base = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (base < 0)
        return;
    int high = fcntl(base, F_DUPFD_CLOEXEC, (int)n - 1);
    if (high >= 0)
        close(high);
    close(base);
}
