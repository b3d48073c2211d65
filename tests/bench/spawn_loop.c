/* spawn_loop — the machine's limit for starting many agents: posix_spawn
 * N copies of `sleep 3600` (default 500) as fast as possible, then SIGTERM
 * them all and reap them.
 *
 *   spawn_loop [N [PROGRAM]]     PROGRAM: the sleep to run (default: sleep
 *                                from PATH), given the argument 3600
 *
 * Prints, one "key value" a line:
 *   spawned N         children started
 *   spawn_secs S      first posix_spawn call to the last one returning
 *                     (glibc's posix_spawn returns once the child has exec'd)
 *   stop_secs S       SIGTERM to all until the last one is reaped
 * Used by bench_supervise.sh as the baseline of part (a).
 *
 *   spawn_loop --respawn K SECS PROGRAM [ARG...]
 *
 * The baseline of part (b): keeps K children of PROGRAM running, spawning
 * a new one as soon as one is reaped, for SECS seconds, then waits for the
 * last ones.  Prints "spawns N", "secs S" and "spawns_per_sec R".
 *
 *   spawn_loop --start-cpu N PROGRAM
 *
 * What one child's own start costs the CPUs: N times, one at a time,
 * PROGRAM 0 (sleep 0: the same start as sleep 3600, then an exit) spawned
 * and waited for; prints "children N", "child_user_ms U", "child_sys_ms S"
 * and "child_cpu_ms C" (means, from getrusage(RUSAGE_CHILDREN)).  N
 * children started at once need N x C of CPU time whoever starts them:
 * with P CPUs no spawner can have them all running sooner than about
 * N x C / P, since they start while the others are being spawned. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int respawn(int k, double secs, char **argv)
{
    long spawns = 0, running = 0;
    double t0 = now(), end = t0 + secs;
    for (;;) {
        while (running < k && now() < end) {
            pid_t pid;
            int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
            if (rc != 0) {
                fprintf(stderr, "spawn_loop: posix_spawn %s: %s\n", argv[0], strerror(rc));
                end = 0;
                break;
            }
            spawns++;
            running++;
        }
        if (running == 0)
            break;
        pid_t p = waitpid(-1, NULL, 0);
        if (p > 0)
            running--;
        else if (errno != EINTR)
            break;
    }
    double t1 = now();
    printf("spawns %ld\nsecs %.6f\nspawns_per_sec %.1f\n", spawns, t1 - t0, spawns / (t1 - t0));
    return end == 0 ? 1 : 0;
}

static double ms(struct timeval tv)
{
    return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

static int start_cpu(long n, const char *prog)
{
    char *child_argv[] = {(char *)prog, "0", NULL};
    for (long i = 0; i < n; i++) {
        pid_t pid;
        int rc = posix_spawnp(&pid, prog, NULL, NULL, child_argv, environ), st;
        if (rc != 0) {
            fprintf(stderr, "spawn_loop: posix_spawn %s: %s\n", prog, strerror(rc));
            return 1;
        }
        while (waitpid(pid, &st, 0) < 0)
            if (errno != EINTR)
                return 1;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "spawn_loop: %s 0 did not exit 0\n", prog);
            return 1;
        }
    }
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return 1;
    double u = ms(ru.ru_utime) / (double)n, s = ms(ru.ru_stime) / (double)n;
    printf("children %ld\nchild_user_ms %.4f\nchild_sys_ms %.4f\nchild_cpu_ms %.4f\n", n, u, s,
           u + s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--start-cpu") == 0) {
        long n = strtol(argv[2], NULL, 10);
        if (n < 1 || n > 100000) {
            fprintf(stderr, "usage: spawn_loop --start-cpu N (1..100000) PROGRAM\n");
            return 64;
        }
        return start_cpu(n, argv[3]);
    }
    if (argc >= 5 && strcmp(argv[1], "--respawn") == 0) {
        int k = atoi(argv[2]);
        double secs = atof(argv[3]);
        if (k < 1 || k > 10000 || secs <= 0 || secs > 3600) {
            fprintf(stderr, "usage: spawn_loop --respawn K (1..10000) SECS PROGRAM [ARG...]\n");
            return 64;
        }
        return respawn(k, secs, argv + 4);
    }
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 500;
    const char *prog = argc > 2 ? argv[2] : "sleep";
    if (n < 1 || n > 100000) {
        fprintf(stderr, "usage: spawn_loop [N (1..100000) [PROGRAM]]\n");
        return 64;
    }
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    if (!pids)
        return 1;
    char *child_argv[] = {(char *)prog, "3600", NULL};
    long spawned = 0;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        int rc = posix_spawnp(&pids[i], prog, NULL, NULL, child_argv, environ);
        if (rc != 0) {
            fprintf(stderr, "spawn_loop: posix_spawn #%ld: %s\n", i, strerror(rc));
            break;
        }
        spawned++;
    }
    double t1 = now();
    for (long i = 0; i < spawned; i++)
        kill(pids[i], SIGTERM);
    long reaped = 0;
    while (reaped < spawned) {
        pid_t p = waitpid(-1, NULL, 0);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        reaped++;
    }
    double t2 = now();
    printf("spawned %ld\nspawn_secs %.6f\nstop_secs %.6f\n", spawned, t1 - t0, t2 - t1);
    free(pids);
    return spawned == n ? 0 : 1;
}
