/* An agent's `worktree:` and `changes:` keys (bosun.yaml(5)). */
#ifndef BOSUN_GIT_CONFIG_H
#define BOSUN_GIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <bosun/cfg.h>

enum worktree_keep {
    WT_KEEP_ON_CHANGE, /* when it has changes or commits ahead of base */
    WT_KEEP_ALWAYS,
    WT_KEEP_NEVER,
};

typedef struct worktree_config {
    char *repo;   /* absolute */
    char *base;   /* a commit-ish of repo */
    char *branch; /* template: {task} {run} {agent} {instance} */
    enum worktree_keep keep;
} worktree_config;

typedef struct changes_config {
    bool enabled;
    double debounce;    /* quiet time after a change before a snapshot */
    double poll;        /* interval without inotify */
    size_t diff_max;    /* bytes of diff in one event */
    size_t files_max;   /* paths in one event */
    unsigned watch_max; /* inotify watches (directories) of one run */
} changes_config;

/* NULL *out when the agent has no worktree:. */
bool worktree_config_parse(const cfg_node *agent, worktree_config **out, cfg_diag *d);
void worktree_config_free(worktree_config *w);
bool changes_config_parse(const cfg_node *agent, changes_config *out, cfg_diag *d);

/* The branch for one run, or NULL with a reason when the result is not a
 * branch name git takes (a task id with characters a ref cannot hold). */
char *worktree_branch_name(const char *tmpl, const char *agent, const char *run, const char *task,
                           unsigned instance, char *err, size_t err_size);

#endif
