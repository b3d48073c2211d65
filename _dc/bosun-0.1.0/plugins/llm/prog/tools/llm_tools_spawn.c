/* bash's process start (see llm_tools_spawn.h).  Everything the child
 * needs is built before fork: between fork and exec the child calls only
 * async-signal-safe functions (curl's resolver threads may hold malloc's
 * lock at the fork). */
#define _GNU_SOURCE
#include "llm_tools_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The child, from fork to exec.  Its own session keeps it out of
 * bosun-llm's process group, so bosund's signals to the run reach it only
 * through bosun-llm (llm_tools_free ends every running group); if
 * bosun-llm is killed outright, the death signal still ends the command's
 * first process (and under bwrap, with it, the whole sandbox). */
static void lt_child(const llm_tools *t, int out, const char **argv, char **env, pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(126);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL);
    int null = open("/dev/null", O_RDONLY);
    if (setsid() < 0 || null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
        fchdir(t->ws_fd) < 0)
        _exit(126);
    close_range(3, ~0U, 0);
    execve(argv[0], (char *const *)argv, env);
    static const char msg[] = "bosun-llm: cannot run the command: exec failed\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
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
    } else if ((pid = fork()) < 0) {
        snprintf(err, err_size, "cannot fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
    } else if (pid == 0) {
        lt_child(t, p[1], argv, env, parent);
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
