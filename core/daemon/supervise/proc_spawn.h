/* Starting a child process in its own process group, without fork():
 * fork() slows down sharply as the daemon's memory grows, a vfork-style
 * clone does not.  Our own clone rather than posix_spawn(): switching user
 * needs code between clone and exec, and the child copies only the
 * daemon's lowest descriptors and marks them close-on-exec instead of
 * closing a copy of them all while the daemon waits (proc_spawn.c). */
#ifndef BOSUN_PROC_SPAWN_H
#define BOSUN_PROC_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct spawn_request {
    char *const *argv;   /* argv[0] without '/' is looked up in the daemon's PATH */
    char *const *envp;   /* the complete environment */
    const char *workdir; /* NULL: the daemon's */
    bool switch_user;    /* only when running as root */
    uid_t uid;
    gid_t gid;
    const gid_t *groups; /* supplementary groups of uid */
    size_t n_groups;
    int stdout_fd; /* write ends the child gets as 1 and 2; stdin is /dev/null */
    int stderr_fd;
} spawn_request;

/* Returns 0 with *pid set, or an errno value (exec or chdir failures
 * included) with a reason in err. */
int spawn_process(const spawn_request *r, pid_t *pid, char *err, size_t err_size);

/* One request of a batch: pid and start_time (proc_start_time) once
 * started, or error (an errno value). */
typedef struct spawn_batch_item {
    const spawn_request *req;
    pid_t pid;
    unsigned long long start_time;
    int error;
} spawn_batch_item;

/* A batch: spawn_batch_add queues a request, which a pool of threads
 * (one a CPU and one more, up to 4) starts while the caller goes on;
 * spawn_batch_close starts what is left on the calling thread too and
 * returns when every request has exec'd or failed.  A request's memory
 * must stay as it is until then.  spawn_one: one request, on the calling
 * thread alone. */
void spawn_batch_open(void);
void spawn_batch_add(spawn_batch_item *it);
void spawn_batch_close(void);
void spawn_one(spawn_batch_item *it);
/* How many spawns a batch runs at once. */
unsigned spawn_parallelism(void);
/* The reason a batch item failed, as spawn_process gives it. */
void spawn_batch_error(const spawn_batch_item *it, char *err, size_t err_size);
/* Ends the pool's threads (at daemon exit). */
void spawn_pool_stop(void);

/* The start time of pid (clock ticks since boot, /proc/<pid>/stat field
 * 22), or 0 when there is no such process.  Together with the pid it names
 * one process for good: a reused pid has another start time. */
unsigned long long proc_start_time(pid_t pid);
/* Whether pid is still the process that had this start time, and not a
 * zombie. */
bool proc_alive(pid_t pid, unsigned long long start);

/* Resolves a user (name or number) and optional group for spawn_request.
 * Returns 0, or -1 with a reason in err. */
int spawn_resolve_user(const char *user, const char *group, uid_t *uid, gid_t *gid, gid_t **groups,
                       size_t *n_groups, char *err, size_t err_size);

/* Signal names as in bosun.yaml ("TERM", "SIGTERM", "INT", "HUP", "KILL",
 * "QUIT", "USR1", "USR2") → number, or -1. */
int signal_from_name(const char *name);
const char *signal_to_name(int sig);

#endif
