#include "config.h"

#include "git_run.h"
#include "git_changes.h"
#include "util.h"

#include <bosun/log.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GIT_TIMEOUT  120.0 /* a worktree of a large repository takes a while */
#define GIT_OUT_MAX  (64u << 10)
#define MARKER_MAX   (64u << 10)
#define RUN_ID_CHARS "0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghijklmnopqrstuvwxyz_-"

enum step {
    S_NONE,
    P_REPO,   /* is repo a repository? */
    P_BASE,   /* base -> a commit */
    P_ADD,    /* git worktree add */
    E_STATUS, /* on-change: uncommitted changes? */
    E_AHEAD,  /* commits ahead of base? */
    E_REMOVE, /* git worktree remove */
    E_RM,     /* what remove left (a worktree git no longer knows) */
    E_PRUNE,  /* git worktree prune */
    E_BRANCH, /* the run's branch, when it holds nothing */
};

struct git_run {
    struct git_run *next, *prev;
    git_run_list *list;
    struct ev_loop *loop;
    bus_t *bus;
    char *state_dir, *machine, *agent, *run, *task;
    unsigned instance;
    bool has_wt; /* configured */
    worktree_config wt;
    char *path, *branch, *base_commit, *marker;
    bool made;      /* the worktree exists (or may: add was under way) */
    bool recovered; /* left by an earlier bosund */
    changes_config changes;
    git_as as;
    gid_t *groups;
    git_changes *ch;
    git_cmd *cmd;
    enum step step;
    bool dirty;
    long long ahead; /* -1: unknown */
    void (*ready)(void *arg, const char *err);
    void *ready_arg;
};

static void step(git_run *g, enum step s);

/* ------------------------------------------------------------ events */

static json_t *ids(const git_run *g)
{
    return json_pack("{s:s,s:s,s:s?,s:s}", "run", g->run, "agent", g->agent, "task", g->task,
                     "machine", g->machine);
}

static const char *keep_name(enum worktree_keep k);

static void publish_worktree(git_run *g, const char *action, const char *reason)
{
    json_t *d = ids(g);
    json_object_set_new(d, "action", json_string(action));
    json_object_set_new(d, "path", json_string(g->path));
    json_object_set_new(d, "repo", json_string(g->wt.repo));
    json_object_set_new(d, "branch", g->branch ? json_string(g->branch) : json_null());
    json_object_set_new(d, "base", json_string(g->wt.base));
    json_object_set_new(d, "keep", json_string(keep_name(g->wt.keep)));
    if (g->base_commit)
        json_object_set_new(d, "base_commit", json_string(g->base_commit));
    if (reason)
        json_object_set_new(d, "reason", json_string(reason));
    if (g->ahead >= 0)
        json_object_set_new(d, "commits_ahead", json_integer(g->ahead));
    if (g->step >= E_STATUS)
        json_object_set_new(d, "changed", json_boolean(g->dirty));
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.run.%s.%s.worktree", g->agent, g->run);
    if (bus_publish_new(g->bus, subject, NULL, d) != 0)
        log_error("cannot publish %s: invalid subject", subject);
}

/* ------------------------------------------------------------ marker */

static const char *keep_name(enum worktree_keep k)
{
    return k == WT_KEEP_ALWAYS ? "always" : k == WT_KEEP_NEVER ? "never" : "on-change";
}

static int write_marker(git_run *g, char *err, size_t err_size)
{
    char *dir = xasprintf("%s/worktrees", g->state_dir);
    int rc = util_mkdir_p(dir, 0750);
    free(dir);
    json_t *m =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s?,s:s,s:s}", "run", g->run, "agent", g->agent,
                  "machine", g->machine, "repo", g->wt.repo, "path", g->path, "branch", g->branch,
                  "task", g->task, "base", g->wt.base, "keep", keep_name(g->wt.keep));
    json_object_set_new(m, "base_commit", json_string(g->base_commit));
    int fd =
        rc == 0 ? open(g->marker, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640) : -1;
    rc = fd >= 0 ? json_dumpfd(m, fd, JSON_COMPACT) : -1;
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    json_decref(m);
    if (rc != 0)
        snprintf(err, err_size, "worktree: cannot write %s: %s", g->marker, strerror(errno));
    return rc;
}

/* The worktree's directory, made empty (git fills an empty one) and the
 * agent's when it runs as another user: git runs as that user, and could
 * not make it in the daemon's worktrees directory. */
static int make_dir(git_run *g, char *err, size_t err_size)
{
    if (mkdir(g->path, 0750) != 0) {
        snprintf(err, err_size, "worktree: cannot create %s: %s", g->path, strerror(errno));
        return -1;
    }
    if (g->as.switch_user && chown(g->path, g->as.uid, g->as.gid) != 0) {
        snprintf(err, err_size, "worktree: cannot give %s to uid %ld: %s", g->path, (long)g->as.uid,
                 strerror(errno));
        rmdir(g->path);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ steps */

static void prepared(git_run *g, const char *err)
{
    g->step = S_NONE;
    void (*ready)(void *, const char *) = g->ready;
    g->ready = NULL;
    if (err) {
        log_warning("run %s (%s): %s", g->run, g->agent, err);
        if (g->made) {
            /* add failed: it leaves nothing but the directory we made */
            rmdir(g->path);
            unlink(g->marker);
            g->made = false;
        }
    } else {
        publish_worktree(g, "created", NULL);
    }
    ready(g->ready_arg, err);
}

static void settled(git_run *g, const char *action, const char *reason)
{
    g->step = S_NONE;
    if (action) {
        unlink(g->marker);
        publish_worktree(g, action, reason);
        log_info("run %s (%s): worktree %s %s%s%s", g->run, g->agent, g->path, action,
                 reason ? ": " : "", reason ? reason : "");
    }
    git_run_list *l = g->list;
    if (g->prev)
        g->prev->next = g->next;
    else if (l)
        l->head = g->next;
    if (g->next)
        g->next->prev = g->prev;
    g->list = NULL;
    git_run_free(g);
    if (l && l->settled)
        l->settled(l->arg);
}

static bool keep_it(const git_run *g)
{
    if (g->wt.keep == WT_KEEP_ALWAYS)
        return true;
    if (g->wt.keep == WT_KEEP_NEVER)
        return false;
    /* unknown counts as changed: a worktree is never thrown away on a guess */
    return g->dirty || g->ahead != 0;
}

static void on_prepare(git_run *g, const git_result *res)
{
    char why[768];
    switch (g->step) {
    case P_REPO:
        if (!res->ok) {
            snprintf(why, sizeof why, "worktree: %s is not a git repository: %s", g->wt.repo,
                     res->error);
            return prepared(g, why);
        }
        return step(g, P_BASE);
    case P_BASE:
        if (!res->ok || res->out_len < 7) {
            snprintf(why, sizeof why, "worktree: base '%s' is not a commit in %s", g->wt.base,
                     g->wt.repo);
            return prepared(g, why);
        }
        g->base_commit = xstrndup(res->out, strcspn(res->out, "\n"));
        if (write_marker(g, why, sizeof why) != 0)
            return prepared(g, why);
        g->made = true;
        if (make_dir(g, why, sizeof why) != 0)
            return prepared(g, why);
        return step(g, P_ADD);
    default:
        if (!res->ok) {
            snprintf(why, sizeof why, "worktree: git worktree add %s failed: %s", g->path,
                     res->error);
            return prepared(g, why);
        }
        return prepared(g, NULL);
    }
}

static void on_end(git_run *g, const git_result *res)
{
    switch (g->step) {
    case E_STATUS:
        g->dirty = !res->ok || res->out_len > 0;
        return step(g, E_AHEAD);
    case E_AHEAD:
        g->ahead = res->ok ? strtoll(res->out, NULL, 10) : -1;
        if (keep_it(g))
            return settled(g, "kept", g->recovered ? "left by an earlier bosund" : NULL);
        return step(g, E_REMOVE);
    case E_REMOVE: {
        struct stat st;
        /* git refuses a directory it does not know as a worktree: an empty
         * one (add never ran) goes here, anything more through rm */
        bool left = lstat(g->path, &st) == 0 && rmdir(g->path) != 0;
        return step(g, left ? E_RM : E_PRUNE);
    }
    case E_RM:
        if (!res->ok)
            log_warning("run %s (%s): cannot remove %s: %s", g->run, g->agent, g->path, res->error);
        return step(g, E_PRUNE);
    case E_PRUNE:
        if (g->ahead == 0 && g->branch)
            return step(g, E_BRANCH);
        return settled(g, "removed", g->recovered ? "left by an earlier bosund" : NULL);
    default:
        if (!res->ok)
            log_warning("run %s (%s): branch %s kept: %s", g->run, g->agent, g->branch, res->error);
        return settled(g, "removed", g->recovered ? "left by an earlier bosund" : NULL);
    }
}

static void on_git(const git_result *res, void *arg)
{
    git_run *g = arg;
    g->cmd = NULL;
    if (g->step <= P_ADD)
        on_prepare(g, res);
    else
        on_end(g, res);
}

static void step(git_run *g, enum step s)
{
    char range[200];
    snprintf(range, sizeof range, "%s..HEAD", g->base_commit ? g->base_commit : "HEAD");
    char base[300];
    snprintf(base, sizeof base, "%s^{commit}", g->wt.base);
    const char *a_repo[] = {"rev-parse", "--git-dir", NULL};
    const char *a_base[] = {"rev-parse", "--verify", "--quiet", base, NULL};
    const char *a_add[] = {"worktree", "add", "-b", g->branch, g->path, g->base_commit, NULL};
    const char *a_status[] = {"status", "--porcelain", "-z", "--untracked-files=normal", NULL};
    const char *a_ahead[] = {"rev-list", "--count", range, NULL};
    const char *a_remove[] = {"worktree", "remove", "--force", "--force", g->path, NULL};
    const char *a_prune[] = {"worktree", "prune", NULL};
    const char *a_branch[] = {"branch", "-D", g->branch, NULL};
    const char *a_rm[] = {"rm", "-rf", "--", g->path, NULL};
    const char *const *args[] = {
        [P_REPO] = a_repo,   [P_BASE] = a_base,     [P_ADD] = a_add,     [E_STATUS] = a_status,
        [E_AHEAD] = a_ahead, [E_REMOVE] = a_remove, [E_PRUNE] = a_prune, [E_BRANCH] = a_branch};
    /* In the worktree itself: what it holds; in the repository: the rest. */
    const char *dir = s == E_STATUS || s == E_AHEAD ? g->path : g->wt.repo;
    char err[512];
    g->step = s;
    if (s == E_RM)
        g->cmd = git_cmd_start_argv(g->loop, a_rm, "rm", &g->as, GIT_OUT_MAX, GIT_TIMEOUT, on_git,
                                    g, err, sizeof err);
    else
        g->cmd = git_cmd_start(g->loop, dir, args[s], &g->as, GIT_OUT_MAX, GIT_TIMEOUT, on_git, g,
                               err, sizeof err);
    if (g->cmd)
        return;
    if (s <= P_ADD) {
        char why[600];
        snprintf(why, sizeof why, "worktree: %s", err);
        return prepared(g, why);
    }
    log_warning("run %s (%s): worktree %s: %s", g->run, g->agent, g->path, err);
    settled(g, NULL, NULL); /* the marker stays: the next start tries again */
}

/* ------------------------------------------------------------ api */

git_run *git_run_new(const git_run_spec *s)
{
    git_run *g = xcalloc(1, sizeof *g);
    g->loop = s->loop;
    g->bus = s->bus;
    g->state_dir = xstrdup(s->state_dir);
    g->machine = xstrdup(s->machine);
    g->agent = xstrdup(s->agent);
    g->run = xstrdup(s->run);
    g->task = s->task ? xstrdup(s->task) : NULL;
    g->instance = s->instance;
    g->ahead = -1;
    if (s->wt) {
        g->has_wt = true;
        g->wt.repo = xstrdup(s->wt->repo);
        g->wt.base = xstrdup(s->wt->base);
        g->wt.branch = xstrdup(s->wt->branch);
        g->wt.keep = s->wt->keep;
    }
    if (s->changes)
        g->changes = *s->changes;
    if (s->as) {
        g->as = *s->as;
        if (s->as->n_groups) {
            g->groups = xcalloc(s->as->n_groups, sizeof *g->groups);
            memcpy(g->groups, s->as->groups, s->as->n_groups * sizeof *g->groups);
        }
        g->as.groups = g->groups;
    }
    g->path = xasprintf("%s/worktrees/%s", g->state_dir, g->run);
    g->marker = xasprintf("%s/worktrees/%s.json", g->state_dir, g->run);
    return g;
}

void git_run_prepare(git_run *g, void (*ready)(void *arg, const char *err), void *arg)
{
    if (!g->has_wt || g->made) {
        ready(arg, NULL);
        return;
    }
    char err[512];
    free(g->branch);
    g->branch =
        worktree_branch_name(g->wt.branch, g->agent, g->run, g->task, g->instance, err, sizeof err);
    if (!g->branch) {
        char why[600];
        snprintf(why, sizeof why, "worktree: branch: %s", err);
        log_warning("run %s (%s): %s", g->run, g->agent, why);
        ready(arg, why);
        return;
    }
    g->ready = ready;
    g->ready_arg = arg;
    step(g, P_REPO);
}

bool git_run_preparing(const git_run *g)
{
    return g && g->step != S_NONE && g->step <= P_ADD;
}

const char *git_run_workdir(const git_run *g)
{
    return g && g->made && !git_run_preparing(g) ? g->path : NULL;
}

void git_run_watch(git_run *g, const char *dir)
{
    if (g->ch || !g->changes.enabled || !dir)
        return;
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.run.%s.%s.changes", g->agent, g->run);
    json_t *id = ids(g);
    g->ch = git_changes_new(g->loop, g->bus, dir, g->base_commit, &g->changes, &g->as, subject, id);
    json_decref(id);
}

void git_run_handover(git_run *g, const char *run)
{
    git_changes_free(g->ch);
    g->ch = NULL;
    char *marker = xasprintf("%s/worktrees/%s.json", g->state_dir, run);
    if (g->made && rename(g->marker, marker) != 0)
        log_warning("cannot rename %s: %s", g->marker, strerror(errno));
    free(g->marker);
    g->marker = marker;
    free(g->run);
    g->run = xstrdup(run);
    if (g->made)
        write_marker(g, (char[256]){0}, 256); /* its "run" names the new one */
}

static void settle_worktree(void *arg)
{
    git_run *g = arg;
    git_changes_free(g->ch);
    g->ch = NULL;
    if (!g->made)
        return settled(g, NULL, NULL);
    struct stat st;
    if (lstat(g->path, &st) != 0) /* add never got to make it */
        return step(g, E_PRUNE);
    /* Without its .git (add cut short) it holds nothing of the run's, and
     * git in it would find whatever repository lies above state_dir. */
    char *dotgit = xasprintf("%s/.git", g->path);
    bool worktree = lstat(dotgit, &st) == 0;
    free(dotgit);
    if (!worktree)
        return step(g, E_REMOVE);
    step(g, g->wt.keep == WT_KEEP_ON_CHANGE ? E_STATUS : E_AHEAD);
}

void git_run_end(git_run *g, git_run_list *list)
{
    g->list = list;
    g->next = list->head;
    if (list->head)
        list->head->prev = g;
    list->head = g;
    if (git_run_preparing(g)) {
        /* stopped before its first process: nothing to snapshot, and what
         * add made goes (git_cmd_cancel kills it) */
        git_cmd_cancel(g->cmd);
        g->cmd = NULL;
        g->ready = NULL;
        g->step = S_NONE;
        if (!g->made)
            return settled(g, NULL, NULL);
        g->wt.keep = WT_KEEP_NEVER;
        g->ahead = 0;
        return step(g, E_REMOVE);
    }
    if (g->ch)
        git_changes_final(g->ch, settle_worktree, g);
    else
        settle_worktree(g);
}

void git_run_free(git_run *g)
{
    if (!g)
        return;
    git_cmd_cancel(g->cmd);
    git_changes_free(g->ch);
    if (g->list) { /* shutdown: out of the list, the marker stays */
        if (g->prev)
            g->prev->next = g->next;
        else
            g->list->head = g->next;
        if (g->next)
            g->next->prev = g->prev;
    }
    free(g->state_dir);
    free(g->machine);
    free(g->agent);
    free(g->run);
    free(g->task);
    free(g->wt.repo);
    free(g->wt.base);
    free(g->wt.branch);
    free(g->path);
    free(g->branch);
    free(g->base_commit);
    free(g->marker);
    free(g->groups);
    free(g);
}

void git_run_list_free(git_run_list *list)
{
    while (list->head)
        git_run_free(list->head);
}

/* ------------------------------------------------------------ recovery */

static const char *marker_str(const json_t *m, const char *key)
{
    const char *s = json_string_value(json_object_get(m, key));
    return s && s[0] && strlen(s) < 4096 ? s : NULL;
}

/* A marker as this code writes it, naming the worktree it sits beside. */
static git_run *from_marker(struct ev_loop *loop, bus_t *bus, const char *state_dir,
                            const char *run, const json_t *m)
{
    const char *repo = marker_str(m, "repo"), *agent = marker_str(m, "agent");
    const char *branch = marker_str(m, "branch"), *base = marker_str(m, "base");
    const char *commit = marker_str(m, "base_commit"), *keep = marker_str(m, "keep");
    const char *machine = marker_str(m, "machine");
    if (!repo || repo[0] != '/' || !agent || !branch || branch[0] == '-' || !base || !commit ||
        commit[0] == '-' || !keep || !machine || strcmp(marker_str(m, "run") ?: "", run) != 0)
        return NULL;
    worktree_config wt = {.repo = (char *)repo, .base = (char *)base, .branch = (char *)branch};
    wt.keep = strcmp(keep, "always") == 0  ? WT_KEEP_ALWAYS
              : strcmp(keep, "never") == 0 ? WT_KEEP_NEVER
                                           : WT_KEEP_ON_CHANGE;
    git_run_spec s = {.loop = loop,
                      .bus = bus,
                      .state_dir = state_dir,
                      .machine = machine,
                      .agent = agent,
                      .run = run,
                      .task = marker_str(m, "task"),
                      .wt = &wt};
    git_run *g = git_run_new(&s);
    g->branch = xstrdup(branch);
    g->base_commit = xstrdup(commit);
    g->made = true;
    g->recovered = true;
    return g;
}

static void recover_one(struct ev_loop *loop, bus_t *bus, const char *state_dir,
                        const char *machine, const char *name, git_run **slot, git_run_list *list)
{
    size_t n = strlen(name) - 5;
    char *run = xstrndup(name, n);
    char *path = xasprintf("%s/worktrees/%s", state_dir, name);
    json_error_t je;
    struct stat st;
    json_t *m = lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < MARKER_MAX
                    ? json_load_file(path, 0, &je)
                    : NULL;
    git_run *g = m ? from_marker(loop, bus, state_dir, run, m) : NULL;
    if (g && strcmp(json_string_value(json_object_get(m, "machine")), machine) != 0)
        log_info("worktree %s was made for machine %s", g->path, g->machine);
    if (g && slot && !*slot) {
        g->recovered = false; /* its run goes on with it */
        *slot = g;
    } else if (g && slot) {
        git_run_free(g);
    } else if (g) {
        git_run_end(g, list);
    } else
        log_warning("%s: not a worktree marker of bosund's; left alone", path);
    json_decref(m);
    free(path);
    free(run);
}

void git_run_recover(struct ev_loop *loop, bus_t *bus, const char *state_dir, const char *machine,
                     git_run **(*live)(void *arg, const char *run), void *arg, git_run_list *list)
{
    char *dir = xasprintf("%s/worktrees", state_dir);
    DIR *d = opendir(dir);
    free(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n <= 5 || n > 64 || strcmp(e->d_name + n - 5, ".json") != 0 ||
            strspn(e->d_name, RUN_ID_CHARS) != n - 5)
            continue;
        char run[64];
        snprintf(run, sizeof run, "%.*s", (int)(n - 5), e->d_name);
        recover_one(loop, bus, state_dir, machine, e->d_name, live(arg, run), list);
    }
    closedir(d);
}
