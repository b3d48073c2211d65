/* bash's process start (see llm_tools_spawn.h).  Everything the child
 * needs is built before the clone: between clone and exec the child calls
 * only async-signal-safe functions (curl's resolver threads may hold
 * malloc's lock at the clone).
 *
 * The child shares bosun-llm's memory until its exec (CLONE_VM |
 * CLONE_VFORK, as posix_spawn does, which cannot set the parent-death
 * signal): a fork copied the page tables of the whole process and left
 * every page bosun-llm wrote afterwards to a copy-on-write fault, for a
 * child that only execs.  Sharing memory asks for care: the child runs on
 * a stack of its own, writes nothing but its locals (and errno, which the
 * parent reads only when the clone failed), and runs with every signal
 * blocked (the parent blocks them around the clone) until each
 * disposition is back to the default, so no handler of bosun-llm's runs
 * in it. */
#define _GNU_SOURCE
#include "llm_tools_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* What a command may see of bosun-llm's environment: the agent token, API
 * keys and the rest stay out. */
static const char *const lt_env_keep[] = {"PATH", "HOME", "LANG",    "LC_ALL", "LC_CTYPE", "TERM",
                                          "TZ",   "USER", "LOGNAME", "SHELL",  "TMPDIR",   NULL};

static char **lt_env(void)
{
    size_t n = 0;
    char **env = calloc(sizeof lt_env_keep / sizeof *lt_env_keep + 1, sizeof *env);
    for (char **e = environ; env && e && *e; e++)
        for (const char *const *k = lt_env_keep; *k; k++) {
            size_t len = strlen(*k);
            if (strncmp(*e, *k, len) == 0 && (*e)[len] == '=')
                env[n++] = *e;
        }
    return env;
}

static const char **lt_argv(const llm_tools *t, const char *command)
{
    const char **argv = calloc(40, sizeof *argv);
    size_t n = 0;
    if (!argv)
        return NULL;
    if (t->bash.bwrap) {
        const char *pre[] = {t->bash.bwrap,
                             "--ro-bind",
                             "/",
                             "/",
                             "--dev",
                             "/dev",
                             "--proc",
                             "/proc",
                             "--tmpfs",
                             "/tmp",
                             "--bind",
                             t->workspace,
                             t->workspace,
                             "--chdir",
                             t->workspace,
                             "--unshare-all",
                             "--die-with-parent",
                             "--new-session"};
        for (size_t i = 0; i < sizeof pre / sizeof *pre; i++)
            argv[n++] = pre[i];
        if (t->bash.network)
            argv[n++] = "--share-net";
        argv[n++] = "--";
    }
    argv[n++] = "/bin/sh";
    argv[n++] = "-c";
    argv[n++] = command;
    return argv;
}

/* The child, from clone to exec.  Its own session keeps it out of
 * bosun-llm's process group, so bosund's signals to the run reach it only
 * through bosun-llm (llm_tools_free ends every running group); if
 * bosun-llm is killed outright, the death signal still ends the command's
 * first process (and under bwrap, with it, the whole sandbox). */
struct lt_child_args {
    const llm_tools *t;
    int out;
    const char **argv;
    char **env;
    pid_t parent;
};

static int lt_child(void *arg)
{
    const struct lt_child_args *a = arg;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != a->parent)
        _exit(126);
    /* Defaults first, then the mask: a signal let through earlier would
     * run bosun-llm's handler on its memory. */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int null = open("/dev/null", O_RDONLY);
    if (setsid() < 0 || null < 0 || dup2(null, 0) < 0 || dup2(a->out, 1) < 0 ||
        dup2(a->out, 2) < 0 || fchdir(a->t->ws_fd) < 0)
        _exit(126);
    close_range(3, ~0U, 0);
    execve(a->argv[0], (char *const *)a->argv, a->env);
    static const char msg[] = "bosun-llm: cannot run the command: exec failed\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
}

/* The child's stack, used only until its exec (the parent waits for it):
 * room for libc's calls and a sanitizer's frames. */
#define LT_CHILD_STACK (256u << 10)

/* Clones the child and returns once it has exec'd or exited. */
static pid_t lt_clone(struct lt_child_args *a, char *err, size_t err_size)
{
    void *stack = mmap(NULL, LT_CHILD_STACK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        snprintf(err, err_size, "cannot map the child's stack: %s", strerror(errno));
        return -1;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid =
        clone(lt_child, (char *)stack + LT_CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, a);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    munmap(stack, LT_CHILD_STACK);
    if (pid < 0)
        snprintf(err, err_size, "cannot start the command: %s", strerror(saved));
    return pid;
}

pid_t lt_spawn(const llm_tools *t, const char *command, int *out_fd, char *err, size_t err_size)
{
    int p[2];
    const char **argv = lt_argv(t, command);
    char **env = lt_env();
    pid_t pid = -1, parent = getpid();
    if (!argv || !env) {
        snprintf(err, err_size, "out of memory");
    } else if (pipe2(p, O_CLOEXEC) < 0) {
        snprintf(err, err_size, "cannot make a pipe: %s", strerror(errno));
    } else if ((pid = lt_clone(&(struct lt_child_args){t, p[1], argv, env, parent}, err,
                               err_size)) < 0) {
        close(p[0]);
        close(p[1]);
    } else {
        close(p[1]);
        fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
        *out_fd = p[0];
    }
    free(argv);
    free(env);
    return pid;
}

/* The first line of what fd holds (bwrap's complaint), at most size-1
 * bytes, without its newline. */
static void lt_first_line(int fd, char *out, size_t size)
{
    size_t got = 0;
    ssize_t n;
    while (got + 1 < size && (n = read(fd, out + got, size - 1 - got)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        got += (size_t)n;
    }
    out[got] = '\0';
    out[strcspn(out, "\n")] = '\0';
}

int lt_bwrap_probe(const llm_tools *t, char *err, size_t err_size)
{
    const char **argv = lt_argv(t, "true");
    char **env = lt_env();
    int p[2] = {-1, -1}, rc = -1, status = 0;
    posix_spawn_file_actions_t fa;
    bool fa_ok = false;
    pid_t pid;
    if (!argv || !env || pipe2(p, O_CLOEXEC) < 0 || posix_spawn_file_actions_init(&fa) != 0) {
        snprintf(err, err_size, "cannot start bwrap: %s", strerror(errno));
        goto out;
    }
    fa_ok = true;
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, env) != 0) {
        snprintf(err, err_size, "cannot start %s: %s", argv[0], strerror(errno));
        goto out;
    }
    close(p[1]);
    p[1] = -1;
    char said[256];
    lt_first_line(p[0], said, sizeof said);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        rc = 0;
    else
        snprintf(err, err_size,
                 "tools config: sandbox: bwrap cannot make its sandbox here (%s); a "
                 "systemd unit with RestrictNamespaces=yes forbids it (bosun-llm-tools(7))",
                 said[0] ? said : "no reason given");
out:
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
    free(argv);
    free(env);
    return rc;
}
