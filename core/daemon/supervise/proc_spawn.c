#include "config.h"

#include "proc_spawn.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

/* The descriptors 3 and up are the daemon's (2 pipes a run, sockets, the
 * store): none may reach the agent.  Closing them here would keep the
 * daemon waiting in vfork while the child closes a thousand pipes, one by
 * one; marking them close-on-exec is a bitmap update, and exec closes them
 * after it has let the daemon go (issue 18; see the measurements in
 * tests/bench/README: on a loaded machine the gain is within the noise). */
static int child_close_from_3(void)
{
#ifdef CLOSE_RANGE_CLOEXEC
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return 0;
#endif
    /* before Linux 5.11 */
    return close_range(3, ~0U, 0);
}

/* A clone copies the daemon's descriptor table, a thousand pipe ends at
 * 500 runs, and exec drops them again, while the daemon waits.  So the
 * child starts on the daemon's table (CLONE_FILES) and copies only its
 * lowest descriptors: three slots, opened once, hold the run's stdout and
 * stderr pipes and /dev/null for the child to take as 1, 2 and 0.  (A bare
 * loop holding 1,000 pipe ends took 1.18x the time of one holding none;
 * with this 1.05x: tests/bench/README.)
 *
 * Each spawning thread has its own slots and child stack: the loop thread
 * (index 0) and the pool's workers (spawn_batch_add).  All slots are
 * opened at once, so that "below low" covers every one of them; a child
 * copies the other threads' slots too, marks them close-on-exec with the
 * rest, and exec drops them. */
#define SPAWN_THREADS_MAX 4

typedef struct spawn_slots {
    int out, err, null;
} spawn_slots;

static spawn_slots slots[SPAWN_THREADS_MAX];
static int slots_low;    /* one above the highest slot; 0: not opened yet */
static unsigned n_slots; /* spawning threads: the loop's and the workers */

/* The children's stacks while they share the daemon's memory; execvpe
 * puts a script's argv on it (ENOEXEC), so each is generous.  Pages never
 * touched cost nothing. */
#define CHILD_STACK_SIZE (256 * 1024)
static char child_stacks[SPAWN_THREADS_MAX][CHILD_STACK_SIZE] __attribute__((aligned(16)));

/* A descriptor on /dev/null, 3 or higher so that dup2 onto 0-2 in the
 * child never overwrites a slot. */
static int slot_open(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && fd < 3) {
        int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        int saved = errno;
        close(fd);
        errno = saved;
        fd = high;
    }
    return fd;
}

/* One spawning thread more than CPUs, up to SPAWN_THREADS_MAX: a spawn
 * waits in vfork while the child execs, mostly for the other CPU to wake
 * (on the 2-vCPU VM the CPUs were idle 64 % of the time while bosund
 * started 500 agents one after the other), so spawns overlap each other
 * and the loop thread's own work.  500 agents to RUNNING: 0.33 s with
 * one thread, 0.27 s with three (tests/bench/README, issue 18). */
static unsigned spawn_threads_wanted(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN) + 1;
    if (n < 1)
        n = 1;
    return n > SPAWN_THREADS_MAX ? SPAWN_THREADS_MAX : (unsigned)n;
}

static int slots_ready(void)
{
    if (slots_low > 0)
        return 0;
    unsigned want = spawn_threads_wanted();
    int fd[3 * SPAWN_THREADS_MAX];
    for (unsigned i = 0; i < 3 * want; i++)
        if ((fd[i] = slot_open()) < 0) {
            int saved = errno;
            while (i-- > 0)
                close(fd[i]);
            errno = saved;
            return -1;
        }
    int low = 0;
    for (unsigned t = 0; t < want; t++) {
        slots[t] = (spawn_slots){fd[3 * t], fd[3 * t + 1], fd[3 * t + 2]};
        for (int k = 0; k < 3; k++)
            if (fd[3 * t + k] + 1 > low)
                low = fd[3 * t + k] + 1;
    }
    n_slots = want;
    slots_low = low;
    return 0;
}

/* A descriptor table of the child's own with only those below low. */
static int child_unshare_low(unsigned low)
{
#ifdef CLOSE_RANGE_UNSHARE
    if (close_range(low, ~0U, CLOSE_RANGE_UNSHARE) == 0)
        return 0;
#endif
    /* before Linux 5.9: a copy of all, closed at exec below */
    return unshare(CLONE_FILES);
}

typedef struct spawn_child {
    const spawn_request *r;
    const spawn_slots *slots;
    const sigset_t *ignored; /* the daemon's SIG_IGN dispositions */
    volatile int child_errno;
} spawn_child;

/* Runs in the clone child, on its thread's child stack and in the daemon's
 * memory: only system calls, then exec or _exit.  The user is switched
 * with the raw system calls: glibc's setuid() would have every thread of
 * the daemon (the store's writer, the spawn workers) switch too. */
static int clone_child(void *arg)
{
    spawn_child *c = arg;
    const spawn_request *r = c->r;
    if (child_unshare_low((unsigned)slots_low) < 0)
        goto fail;
    if (dup2(c->slots->null, 0) < 0 || dup2(c->slots->out, 1) < 0 || dup2(c->slots->err, 2) < 0)
        goto fail;
    /* Own process group (pgid = pid) so that stop reaches grandchildren. */
    if (setpgid(0, 0) < 0)
        goto fail;
    if (r->switch_user && (syscall(SYS_setgroups, r->n_groups, r->groups) < 0 ||
                           syscall(SYS_setgid, r->gid) < 0 || syscall(SYS_setuid, r->uid) < 0))
        goto fail;
    if (r->workdir && chdir(r->workdir) < 0)
        goto fail;
    if (child_close_from_3() < 0)
        goto fail;
    /* Default dispositions and an empty mask whatever the daemon set: exec
     * itself resets the caught signals, only the ignored ones stay. */
    for (int s = 1; s < NSIG; s++)
        if (sigismember(c->ignored, s) == 1)
            signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvpe(r->argv[0], r->argv, r->envp);
fail:
    c->child_errno = errno;
    _exit(127);
}

/* The signals the daemon ignores now (SIGPIPE at least): once a batch,
 * rather than NSIG system calls in every child while the daemon waits. */
static void ignored_signals(sigset_t *set)
{
    sigemptyset(set);
    for (int s = 1; s < NSIG; s++) {
        struct sigaction sa;
        if (s != SIGKILL && s != SIGSTOP && sigaction(s, NULL, &sa) == 0 &&
            !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_IGN)
            sigaddset(set, s);
    }
}

/* A vfork-style clone, not posix_spawn: posix_spawn's closefrom action
 * closes in the child while the daemon waits, it copies the whole
 * descriptor table, and switching user needs code between clone and exec
 * anyway.  Thread t's slots and stack.  Returns 0 or an errno value, once
 * the child has exec'd or failed. */
static int spawn_with_clone(unsigned t, const spawn_request *r, const sigset_t *ignored, pid_t *pid)
{
    const spawn_slots *sl = &slots[t];
    if (dup3(r->stdout_fd, sl->out, O_CLOEXEC) < 0 || dup3(r->stderr_fd, sl->err, O_CLOEXEC) < 0) {
        int saved = errno;
        dup3(sl->null, sl->out, O_CLOEXEC);
        errno = saved;
        return errno;
    }
    spawn_child c = {.r = r, .slots = sl, .ignored = ignored, .child_errno = 0};
    sigset_t all, old;
    sigfillset(&all);
    /* No handler of the daemon may run in the child while it shares our
     * memory. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t p = clone(clone_child, child_stacks[t] + CHILD_STACK_SIZE,
                    CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &c);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    /* The slots let go of the pipes: the child's ends are its own now, and
     * the caller closes the daemon's. */
    dup3(sl->null, sl->out, O_CLOEXEC);
    dup3(sl->null, sl->err, O_CLOEXEC);
    if (p < 0)
        return saved;
    if (c.child_errno != 0) {
        /* The child has _exit'ed or is about to: reap it here, as
         * posix_spawn does, so that no reaper sees a pid it never knew. */
        while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
            ;
        return c.child_errno;
    }
    *pid = p;
    return 0;
}

static void spawn_error(const spawn_request *r, int rc, char *err, size_t err_size)
{
    snprintf(err, err_size, "cannot execute '%s'%s%s: %s", r->argv[0], r->workdir ? " in " : "",
             r->workdir ? r->workdir : "", strerror(rc));
}

/* One spawn on the loop thread, outside any batch. */
static int spawn_on_loop_thread(const spawn_request *r, pid_t *pid)
{
    sigset_t ignored;
    ignored_signals(&ignored);
    return slots_ready() < 0 ? errno : spawn_with_clone(0, r, &ignored, pid);
}

int spawn_process(const spawn_request *r, pid_t *pid, char *err, size_t err_size)
{
    int rc = spawn_on_loop_thread(r, pid);
    if (rc != 0)
        spawn_error(r, rc, err, err_size);
    return rc;
}

/* ------------------------------------------------------------ the pool
 *
 * A batch is a queue the loop thread adds requests to while it makes the
 * next ones ready; the workers take them as they come, so the clones run
 * beside that work and beside each other.  At spawn_batch_close the loop
 * thread takes what is left, and returns once every request is done.  The
 * workers wait on a condition variable between requests, with every
 * signal blocked.  Only the loop thread calls in. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    pthread_t threads[SPAWN_THREADS_MAX];
    unsigned n_workers;
    bool stopping;
    bool ready;               /* the batch's first request readied slots and workers */
    int open_errno;           /* the slots could not be opened: every item fails */
    spawn_batch_item **queue; /* the batch's requests, in the order added */
    size_t n, cap, next;      /* next: the first not taken yet */
    unsigned busy;            /* threads inside a request */
    sigset_t ignored;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER,
          .work = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

/* An item's outcome, on the thread that spawned it: the start time is read
 * now, while the pid is our unreaped child and so names the same process
 * until the loop thread reaps it. */
static void item_result(spawn_batch_item *it, pid_t pid, int error)
{
    it->error = error;
    it->pid = error ? 0 : pid;
    it->start_time = error ? 0 : proc_start_time(pid);
}

static void spawn_item(unsigned t, spawn_batch_item *it, const sigset_t *ignored)
{
    pid_t pid = 0;
    int rc = spawn_with_clone(t, it->req, ignored, &pid);
    item_result(it, pid, rc);
}

/* Called with the lock held; returns with it held. */
static void take_one(unsigned t)
{
    spawn_batch_item *it = pool.queue[pool.next++];
    pool.busy++;
    pthread_mutex_unlock(&pool.lock);
    spawn_item(t, it, &pool.ignored);
    pthread_mutex_lock(&pool.lock);
    if (--pool.busy == 0 && pool.next >= pool.n)
        pthread_cond_signal(&pool.done);
}

static void *worker_main(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (!pool.stopping && pool.next >= pool.n)
            pthread_cond_wait(&pool.work, &pool.lock);
        if (pool.stopping)
            break;
        take_one(t);
    }
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

/* Starts the workers at the first batch; with one CPU, or if no thread
 * can be made, the loop thread spawns alone at spawn_batch_close. */
static void pool_start(void)
{
    static bool tried;
    if (tried)
        return;
    tried = true;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* inherited by the workers */
    for (unsigned t = 1; t < n_slots; t++) {
        if (pthread_create(&pool.threads[t], NULL, worker_main, (void *)(uintptr_t)t) != 0)
            break;
        pool.n_workers++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void spawn_batch_open(void)
{
    pool.ready = false;
}

/* At the batch's first request, not at its opening: most batches (an
 * autostart with nothing to start) stay empty, and a daemon that never
 * spawns never has the workers. */
static void batch_ready(void)
{
    if (pool.ready)
        return;
    pool.ready = true;
    pool.open_errno = slots_ready() < 0 ? errno : 0;
    if (pool.open_errno == 0)
        pool_start();
    /* Before any request is queued: the workers read it unlocked. */
    ignored_signals(&pool.ignored);
}

void spawn_batch_add(spawn_batch_item *it)
{
    batch_ready();
    if (pool.open_errno != 0) {
        item_result(it, 0, pool.open_errno);
        return;
    }
    pthread_mutex_lock(&pool.lock);
    if (pool.n == pool.cap) {
        pool.cap = pool.cap ? 2 * pool.cap : 64;
        pool.queue = xrealloc(pool.queue, pool.cap * sizeof *pool.queue);
    }
    pool.queue[pool.n++] = it;
    if (pool.n_workers)
        pthread_cond_signal(&pool.work);
    pthread_mutex_unlock(&pool.lock);
}

void spawn_batch_close(void)
{
    pthread_mutex_lock(&pool.lock);
    while (pool.next < pool.n)
        take_one(0);
    while (pool.busy > 0)
        pthread_cond_wait(&pool.done, &pool.lock);
    pool.n = pool.next = 0;
    pthread_mutex_unlock(&pool.lock);
}

/* On the loop thread alone, as spawn_process: a single spawn neither
 * takes the pool's lock nor starts its workers. */
void spawn_one(spawn_batch_item *it)
{
    pid_t pid = 0;
    int rc = spawn_on_loop_thread(it->req, &pid);
    item_result(it, pid, rc);
}

unsigned spawn_parallelism(void)
{
    return n_slots ? n_slots : spawn_threads_wanted();
}

void spawn_batch_error(const spawn_batch_item *it, char *err, size_t err_size)
{
    spawn_error(it->req, it->error, err, err_size);
}

void spawn_pool_stop(void)
{
    pthread_mutex_lock(&pool.lock);
    pool.stopping = true;
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.lock);
    for (unsigned t = 1; t <= pool.n_workers; t++)
        pthread_join(pool.threads[t], NULL);
    pool.n_workers = 0;
    free(pool.queue);
    pool.queue = NULL;
    pool.cap = 0;
}

/* Reads field 3 (state) and field 22 (start time) of /proc/<pid>/stat. */
static bool read_stat(pid_t pid, char *state, unsigned long long *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    /* One read, not stdio: the kernel makes the whole line at once, and
     * this runs at every spawn (issue 18). */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    /* comm (field 2) may hold spaces and parentheses: fields after the
     * last ')' are plain. */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || !p[2])
        return false;
    *state = p[2];
    p++;
    for (int field = 3; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    *start = p ? strtoull(p + 1, NULL, 10) : 0;
    return p != NULL;
}

unsigned long long proc_start_time(pid_t pid)
{
    char state;
    unsigned long long start;
    return read_stat(pid, &state, &start) ? start : 0;
}

bool proc_alive(pid_t pid, unsigned long long start)
{
    char state;
    unsigned long long now_start;
    if (pid <= 0 || start == 0 || !read_stat(pid, &state, &now_start))
        return false;
    /* A zombie keeps its pid and start time but is already dead (with no
     * init reaping it, one can stay around for good). */
    return now_start == start && state != 'Z' && state != 'X' && state != 'x';
}

int spawn_resolve_user(const char *user, const char *group, uid_t *uid, gid_t *gid, gid_t **groups,
                       size_t *n_groups, char *err, size_t err_size)
{
    struct passwd *pw = getpwnam(user);
    char *end;
    if (!pw) {
        unsigned long n = strtoul(user, &end, 10);
        if (*user && !*end)
            pw = getpwuid((uid_t)n);
    }
    if (!pw) {
        snprintf(err, err_size, "unknown user '%s'", user);
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    if (group) {
        struct group *gr = getgrnam(group);
        if (!gr) {
            snprintf(err, err_size, "unknown group '%s'", group);
            return -1;
        }
        *gid = gr->gr_gid;
    }
    int ng = 64;
    gid_t *list = xmalloc((size_t)ng * sizeof *list);
    if (getgrouplist(pw->pw_name, *gid, list, &ng) < 0) {
        list = xrealloc(list, (size_t)ng * sizeof *list);
        if (getgrouplist(pw->pw_name, *gid, list, &ng) < 0)
            ng = 0;
    }
    *groups = list;
    *n_groups = (size_t)ng;
    return 0;
}

static const struct {
    const char *name;
    int sig;
} signals[] = {
    {"TERM", SIGTERM}, {"INT", SIGINT},   {"HUP", SIGHUP},   {"KILL", SIGKILL},
    {"QUIT", SIGQUIT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
};

int signal_from_name(const char *name)
{
    if (strncasecmp(name, "SIG", 3) == 0)
        name += 3;
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (strcasecmp(name, signals[i].name) == 0)
            return signals[i].sig;
    return -1;
}

const char *signal_to_name(int sig)
{
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (signals[i].sig == sig)
            return signals[i].name;
    return NULL;
}
