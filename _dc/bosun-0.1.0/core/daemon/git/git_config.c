#include "config.h"

#include "git_config.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BRANCH_MAX 200

static const char *const placeholders[] = {"{task}", "{run}", "{agent}", "{instance}", NULL};

/* A ref name as git-check-ref-format(1) takes one, a little stricter:
 * only A-Z a-z 0-9 . _ - /, no empty, "."-led or ".lock" component, no
 * "..", not "-"-led. */
static bool ref_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > BRANCH_MAX || s[0] == '-' || s[0] == '/' || s[n - 1] == '/' ||
        s[n - 1] == '.' || strstr(s, "..") || strstr(s, "//") || strstr(s, "/.") || s[0] == '.' ||
        (n >= 5 && strcmp(s + n - 5, ".lock") == 0) || strstr(s, ".lock/"))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/", s[i]))
            return false;
    return true;
}

/* Replaces the placeholders; NULL with a reason for an unknown one or a
 * stray brace. */
static char *expand(const char *tmpl, const char *const values[4], char *err, size_t err_size)
{
    size_t cap = strlen(tmpl) + 1;
    for (size_t i = 0; i < 4; i++)
        cap += strlen(values[i]) * strlen(tmpl);
    char *out = xcalloc(1, cap);
    size_t n = 0;
    for (const char *p = tmpl; *p;) {
        if (*p == '}') {
            snprintf(err, err_size, "a '}' outside a placeholder");
            free(out);
            return NULL;
        }
        if (*p != '{') {
            out[n++] = *p++;
            continue;
        }
        size_t i = 0;
        while (placeholders[i] && strncmp(p, placeholders[i], strlen(placeholders[i])) != 0)
            i++;
        if (!placeholders[i]) {
            snprintf(err, err_size,
                     "unknown placeholder at '%.20s' (use {task} {run} {agent} {instance})", p);
            free(out);
            return NULL;
        }
        size_t k = strlen(values[i]);
        memcpy(out + n, values[i], k);
        n += k;
        p += strlen(placeholders[i]);
    }
    return out;
}

char *worktree_branch_name(const char *tmpl, const char *agent, const char *run, const char *task,
                           unsigned instance, char *err, size_t err_size)
{
    char inst[16];
    snprintf(inst, sizeof inst, "%u", instance);
    const char *values[4] = {task && task[0] ? task : "notask", run, agent, inst};
    char *b = expand(tmpl, values, err, err_size);
    if (b && !ref_ok(b)) {
        snprintf(err, err_size, "'%s' is not a branch name git takes", b);
        free(b);
        return NULL;
    }
    return b;
}

static bool parse_keep(const cfg_node *wt, worktree_config *w, cfg_diag *d)
{
    static const char *const names[] = {"on-change", "always", "never"};
    const char *v;
    if (!cfg_get_string(wt, "keep", "on-change", &v, d))
        return false;
    for (size_t i = 0; i < 3; i++)
        if (strcmp(v, names[i]) == 0) {
            w->keep = (enum worktree_keep)i;
            return true;
        }
    char path[256];
    return cfg_error(d, cfg_get(wt, "keep"), "'%s': '%s' is not one of on-change, always, never",
                     cfg_path(cfg_get(wt, "keep"), path, sizeof path), v);
}

static bool check_branch(const cfg_node *wt, const char *branch, cfg_diag *d)
{
    char err[256], path[256];
    const cfg_node *at = cfg_get(wt, "branch") ? cfg_get(wt, "branch") : wt;
    /* With sample values of the shapes a run gives (ids are tokens). */
    char *b = worktree_branch_name(branch, "agent", "01ABCDEF", "task-1", 0, err, sizeof err);
    if (!b)
        return cfg_error(d, at, "'%s': %s", cfg_path(at, path, sizeof path), err);
    free(b);
    return true;
}

static bool check_base(const cfg_node *wt, const char *base, cfg_diag *d)
{
    char path[256];
    /* A revision, never an option of git's. */
    if (base[0] && base[0] != '-' && !strpbrk(base, " \t\n:\\") && strlen(base) <= BRANCH_MAX)
        return true;
    return cfg_error(d, cfg_get(wt, "base"), "'%s': '%s' is not a branch, tag or commit name",
                     cfg_path(cfg_get(wt, "base"), path, sizeof path), base);
}

bool worktree_config_parse(const cfg_node *agent, worktree_config **out, cfg_diag *d)
{
    static const char *const keys[] = {"repo", "base", "branch", "keep", NULL};
    *out = NULL;
    const cfg_node *wt = cfg_get(agent, "worktree");
    if (!wt || wt->type == CFG_NULL)
        return true;
    char path[256];
    if (wt->type != CFG_MAP)
        return cfg_error(d, wt, "'%s': expected a map (repo, base, branch, keep)",
                         cfg_path(wt, path, sizeof path));
    const char *repo, *base, *branch;
    bool ok = cfg_check_keys(wt, keys, d);
    ok = cfg_get_string(wt, "repo", NULL, &repo, d) && ok;
    ok = cfg_get_string(wt, "base", "main", &base, d) && ok;
    ok = cfg_get_string(wt, "branch", "bosun/{task}-{run}", &branch, d) && ok;
    worktree_config *w = xcalloc(1, sizeof *w);
    ok = parse_keep(wt, w, d) && ok;
    if (ok && !repo)
        ok = cfg_error(d, wt, "'%s': needs 'repo' (the repository's path)",
                       cfg_path(wt, path, sizeof path));
    else if (ok && repo[0] != '/')
        ok = cfg_error(d, cfg_get(wt, "repo"), "'%s': must be an absolute path",
                       cfg_path(cfg_get(wt, "repo"), path, sizeof path));
    ok = ok && check_base(wt, base, d) && check_branch(wt, branch, d);
    if (!ok) {
        free(w);
        return false;
    }
    w->repo = xstrdup(repo);
    w->base = xstrdup(base);
    w->branch = xstrdup(branch);
    *out = w;
    return true;
}

void worktree_config_free(worktree_config *w)
{
    if (!w)
        return;
    free(w->repo);
    free(w->base);
    free(w->branch);
    free(w);
}

bool changes_config_parse(const cfg_node *agent, changes_config *c, cfg_diag *d)
{
    static const char *const keys[] = {"debounce",  "poll",      "diff_max",
                                       "files_max", "watch_max", NULL};
    const cfg_node *n = cfg_get(agent, "changes");
    *c = (changes_config){.enabled = true,
                          .debounce = 2,
                          .poll = 10,
                          .diff_max = 256u << 10,
                          .files_max = 1000,
                          .watch_max = 4096};
    if (!n || n->type == CFG_NULL)
        return true;
    if (n->type == CFG_SCALAR)
        return cfg_as_bool(n, &c->enabled, d);
    char path[256];
    if (n->type != CFG_MAP)
        return cfg_error(d, n,
                         "'%s': expected false or a map (debounce, poll, diff_max, files_max, "
                         "watch_max)",
                         cfg_path(n, path, sizeof path));
    unsigned long long diff_max;
    long long files_max, watch_max;
    bool ok = cfg_check_keys(n, keys, d);
    ok = cfg_get_duration(n, "debounce", 2, 0.05, 3600, &c->debounce, d) && ok;
    ok = cfg_get_duration(n, "poll", 10, 0.5, 86400, &c->poll, d) && ok;
    ok = cfg_get_size(n, "diff_max", 256u << 10, 0, 16u << 20, &diff_max, d) && ok;
    ok = cfg_get_int(n, "files_max", 1000, 1, 100000, &files_max, d) && ok;
    ok = cfg_get_int(n, "watch_max", 4096, 0, 1000000, &watch_max, d) && ok;
    c->diff_max = (size_t)diff_max;
    c->files_max = (size_t)files_max;
    c->watch_max = (unsigned)watch_max;
    return ok;
}
