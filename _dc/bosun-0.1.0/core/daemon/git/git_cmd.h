/* Running git as a child process driven by the loop: output read through
 * non-blocking pipes (ev_io), the exit seen by an ev_child, a time limit
 * after which the process group is killed.  Nothing here waits. */
#ifndef BOSUN_GIT_CMD_H
#define BOSUN_GIT_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ev_loop;

typedef struct git_cmd git_cmd;

typedef struct git_as {
    bool switch_user; /* run as uid/gid (bosund is root, the agent is not) */
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    size_t n_groups;
} git_as;

typedef struct git_result {
    bool ok;           /* ran and exited with 0 */
    int exit_code;     /* -1 when killed or when it did not run */
    const char *error; /* why it failed in words (git's first stderr line, a signal,
                        * the time limit), "" when ok */
    const char *out;   /* stdout, NUL-terminated (the NUL not counted) */
    size_t out_len;
    bool out_cut; /* stdout passed out_max: out holds its first out_max bytes */
} git_result;

typedef void (*git_cmd_fn)(const git_result *res, void *arg);

/* Starts `git -C dir ARGS...` (args NULL-terminated) with an environment
 * that never prompts nor takes optional locks, LC_ALL=C.  done is called
 * once, from the loop, never from here.  NULL with err filled when it
 * cannot start (git missing, out of descriptors). */
git_cmd *git_cmd_start(struct ev_loop *loop, const char *dir, const char *const *args,
                       const git_as *as, size_t out_max, double timeout, git_cmd_fn done, void *arg,
                       char *err, size_t err_size);
/* The same for any program (argv[0] looked up in PATH); what names it in
 * the error. */
git_cmd *git_cmd_start_argv(struct ev_loop *loop, const char *const *argv, const char *what,
                            const git_as *as, size_t out_max, double timeout, git_cmd_fn done,
                            void *arg, char *err, size_t err_size);
/* Kills it if it still runs and frees it; done is not called. */
void git_cmd_cancel(git_cmd *c);

#endif
