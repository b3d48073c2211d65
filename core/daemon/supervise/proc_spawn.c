#include "config.h"

#include "proc_spawn.h"
#include "util.h"

#include <errno.h>
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
 * lowest descriptors: the three slots below, opened once, hold the run's
 * stdout and stderr pipes and /dev/null for the child to take as 1, 2 and
 * 0.  (A bare loop holding 1,000 pipe ends took 1.18x the time of one
 * holding none; with this 1.05x: tests/bench/README.)  spawn_process runs
 * on the daemon's loop thread only: the slots and the child's stack are
 * its. */
static struct {
    int out, err, null, low; /* low: one above the highest of them */
} slots = {-1, -1, -1, 0};

/* The child's stack while it shares the daemon's memory; execvpe puts a
 * script's argv on it (ENOEXEC), so it is generous. */
static char child_stack[256 * 1024] __attribute__((aligned(16)));

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

static int slots_ready(void)
{
    if (slots.low > 0)
        return 0;
    int fd[3];
    for (int i = 0; i < 3; i++)
        if ((fd[i] = slot_open()) < 0) {
            int saved = errno;
            while (i-- > 0)
                close(fd[i]);
            errno = saved;
            return -1;
        }
    slots.out = fd[0];
    slots.err = fd[1];
    slots.null = fd[2];
    for (int i = 0; i < 3; i++)
        if (fd[i] + 1 > slots.low)
            slots.low = fd[i] + 1;
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
    volatile int child_errno;
} spawn_child;

/* Runs in the clone child, on child_stack and in the daemon's memory:
 * only system calls, then exec or _exit. */
static int clone_child(void *arg)
{
    spawn_child *c = arg;
    const spawn_request *r = c->r;
    if (child_unshare_low((unsigned)slots.low) < 0)
        goto fail;
    if (dup2(slots.null, 0) < 0 || dup2(slots.out, 1) < 0 || dup2(slots.err, 2) < 0)
        goto fail;
    /* Own process group (pgid = pid) so that stop reaches grandchildren. */
    if (setpgid(0, 0) < 0)
        goto fail;
    if (r->switch_user &&
        (setgroups(r->n_groups, r->groups) < 0 || setgid(r->gid) < 0 || setuid(r->uid) < 0))
        goto fail;
    if (r->workdir && chdir(r->workdir) < 0)
        goto fail;
    if (child_close_from_3() < 0)
        goto fail;
    /* Default dispositions and an empty mask whatever the daemon set. */
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvpe(r->argv[0], r->argv, r->envp);
fail:
    c->child_errno = errno;
    _exit(127);
}

/* A vfork-style clone, not posix_spawn: posix_spawn's closefrom action
 * closes in the child while the daemon waits, it copies the whole
 * descriptor table, and switching user needs code between clone and exec
 * anyway.  Returns once the child has exec'd or failed. */
static int spawn_with_clone(const spawn_request *r, pid_t *pid)
{
    if (slots_ready() < 0)
        return errno;
    if (dup3(r->stdout_fd, slots.out, O_CLOEXEC) < 0 ||
        dup3(r->stderr_fd, slots.err, O_CLOEXEC) < 0) {
        int saved = errno;
        dup3(slots.null, slots.out, O_CLOEXEC);
        errno = saved;
        return errno;
    }
    spawn_child c = {.r = r, .child_errno = 0};
    sigset_t all, old;
    sigfillset(&all);
    /* No handler of the daemon may run in the child while it shares our
     * memory. */
    sigprocmask(SIG_SETMASK, &all, &old);
    pid_t p = clone(clone_child, child_stack + sizeof child_stack,
                    CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &c);
    int saved = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* The slots let go of the pipes: the child's ends are its own now, and
     * the caller closes the daemon's. */
    dup3(slots.null, slots.out, O_CLOEXEC);
    dup3(slots.null, slots.err, O_CLOEXEC);
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

int spawn_process(const spawn_request *r, pid_t *pid, char *err, size_t err_size)
{
    int rc = spawn_with_clone(r, pid);
    if (rc != 0)
        snprintf(err, err_size, "cannot execute '%s'%s%s: %s", r->argv[0], r->workdir ? " in " : "",
                 r->workdir ? r->workdir : "", strerror(rc));
    return rc;
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
