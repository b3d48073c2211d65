#include "config.h"

#include "git_changes.h"
#include "git_status.h"
#include "hmap.h"
#include "util.h"

#include <bosun/log.h>

#include <dirent.h>
#include <errno.h>
#include <ev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* git's output for the lists: far more than files_max records. */
#define LIST_OUT_MAX (8u << 20)
#define GIT_TIMEOUT  60.0
/* The tree of an empty commit: what a repository without commits diffs
 * against. */
#define EMPTY_TREE   "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
#define DEBOUNCE_CAP 5

enum step { ST_PROBE, ST_BASE, ST_GITDIR, ST_IDLE, ST_STATUS, ST_NUMSTAT, ST_DIFF, ST_HEAD };

struct git_changes {
    struct ev_loop *loop;
    bus_t *bus;
    char *dir; /* the top of the work tree once probed */
    changes_config cfg;
    git_as as;
    gid_t *groups;
    char *subject;
    json_t *ids;
    char *base; /* HEAD when the run began */
    enum step step;
    git_cmd *cmd;
    json_t *snap; /* the snapshot being taken */
    json_t *last; /* the last one published */
    int ino;      /* inotify descriptor, -1 when polling */
    ev_io ino_io;
    hmap wd_dirs; /* watch -> directory path (relative to dir, "" for the top) */
    int gitdir_wd;
    unsigned n_watches;
    ev_timer debounce, poll;
    bool dirty;          /* a change came while a snapshot was under way */
    double first_change; /* of those the debounce timer waits out */
    bool final;          /* the run is over: one last snapshot, then done */
    bool no_tree;        /* not a work tree: nothing to do */
    void (*done)(void *arg);
    void *done_arg;
};

static void run_step(git_changes *c, enum step s);

static void publish(git_changes *c)
{
    json_t *snap = c->snap;
    c->snap = NULL;
    /* A tree that holds no change when the run begins is the baseline, not
     * news. */
    bool empty = json_array_size(json_object_get(snap, "files")) == 0 &&
                 json_array_size(json_object_get(snap, "numstat")) == 0;
    if (!c->last && empty && !c->final) {
        c->last = snap;
        return;
    }
    if (c->last && json_equal(c->last, snap)) {
        json_decref(snap);
        return;
    }
    json_decref(c->last);
    c->last = snap;
    json_t *data = json_deep_copy(snap);
    json_object_update(data, c->ids);
    json_object_set_new(data, "final", json_boolean(c->final));
    if (bus_publish_new(c->bus, c->subject, NULL, data) != 0)
        log_error("cannot publish %s: invalid subject", c->subject);
}

static void snapshot_over(git_changes *c)
{
    c->step = ST_IDLE;
    if (c->final) {
        if (c->done) {
            void (*done)(void *) = c->done;
            c->done = NULL;
            done(c->done_arg);
        }
        return;
    }
    if (c->dirty && !ev_is_active(&c->debounce)) {
        c->dirty = false;
        c->first_change = ev_now(c->loop);
        ev_timer_set(&c->debounce, c->cfg.debounce, 0);
        ev_timer_start(c->loop, &c->debounce);
    }
}

/* ------------------------------------------------------------ watching */

static void trigger(git_changes *c)
{
    if (c->final || c->no_tree)
        return;
    if (c->step != ST_IDLE) {
        c->dirty = true;
        return;
    }
    /* debounce after the last change, but no longer than DEBOUNCE_CAP
     * debounces after the first: a tree written all the time still gets
     * its snapshots */
    double now = ev_now(c->loop);
    if (!ev_is_active(&c->debounce))
        c->first_change = now;
    double wait = c->cfg.debounce, left = c->first_change + DEBOUNCE_CAP * c->cfg.debounce - now;
    ev_timer_stop(c->loop, &c->debounce);
    ev_timer_set(&c->debounce, wait < left ? wait : left > 0 ? left : 0, 0);
    ev_timer_start(c->loop, &c->debounce);
}

/* Frees the watches' paths and the map (to be initialised again). */
static void forget_watches(git_changes *c)
{
    size_t pos = 0;
    uint64_t k;
    char *path;
    while ((path = hmap_next_u64(&c->wd_dirs, &pos, &k)))
        free(path);
    hmap_destroy(&c->wd_dirs);
    c->n_watches = 0;
}

static void start_polling(git_changes *c, const char *why)
{
    if (c->ino >= 0) {
        ev_io_stop(c->loop, &c->ino_io);
        close(c->ino);
        c->ino = -1;
    }
    forget_watches(c);
    hmap_init_u64(&c->wd_dirs);
    log_info("changes of %s: polling every %.1f s (%s)", c->dir, c->cfg.poll, why);
    ev_timer_set(&c->poll, c->cfg.poll, c->cfg.poll);
    ev_timer_start(c->loop, &c->poll);
}

static const uint32_t WATCH_MASK = IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO |
                                   IN_CLOSE_WRITE | IN_DELETE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW |
                                   IN_EXCL_UNLINK;

/* Watches rel (under dir) and the directories below it, breadth first,
 * up to watch_max in all.  False when inotify cannot (limits): the caller
 * polls instead. */
static bool watch_tree(git_changes *c, const char *rel, const char **why)
{
    char **queue = xcalloc(1, sizeof *queue);
    size_t head = 0, tail = 0, cap = 1;
    queue[tail++] = xstrdup(rel);
    bool ok = true;
    while (head < tail) {
        char *r = queue[head++];
        char *abs = r[0] ? xasprintf("%s/%s", c->dir, r) : xstrdup(c->dir);
        if (c->n_watches >= c->cfg.watch_max) {
            *why = "watch_max directories reached";
            ok = false;
        }
        int wd = ok ? inotify_add_watch(c->ino, abs, WATCH_MASK) : -1;
        if (ok && wd < 0 && (errno == ENOSPC || errno == ENOMEM)) {
            *why = "the inotify watch limit is reached";
            ok = false;
        }
        DIR *d = ok && wd >= 0 ? opendir(abs) : NULL;
        free(abs);
        if (wd >= 0 && !hmap_get_u64(&c->wd_dirs, (uint64_t)wd)) {
            hmap_put_u64(&c->wd_dirs, (uint64_t)wd, xstrdup(r));
            c->n_watches++;
        }
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 ||
                strcmp(e->d_name, "..") == 0 || strcmp(e->d_name, ".git") == 0)
                continue;
            if (tail == cap)
                queue = xrealloc(queue, (cap *= 2) * sizeof *queue);
            queue[tail++] = r[0] ? xasprintf("%s/%s", r, e->d_name) : xstrdup(e->d_name);
        }
        if (d)
            closedir(d);
    }
    for (size_t i = 0; i < tail; i++)
        free(queue[i]);
    free(queue);
    return ok;
}

static void on_inotify(struct ev_loop *loop, ev_io *w, int revents)
{
    git_changes *c = w->data;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool changed = false;
    for (;;) {
        ssize_t n = read(c->ino, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            p += sizeof *e + e->len;
            if (e->mask & IN_Q_OVERFLOW) {
                changed = true;
                continue;
            }
            const char *name = e->len ? e->name : "";
            if (e->mask & IN_IGNORED) { /* its directory is gone */
                char *gone = hmap_del_u64(&c->wd_dirs, (uint64_t)e->wd);
                if (gone)
                    c->n_watches--;
                free(gone);
                continue;
            }
            if (e->wd == c->gitdir_wd) {
                /* Of git's own files only the index and HEAD say that the
                 * tree's state moved (git add, commit, checkout). */
                changed = changed || strcmp(name, "index") == 0 || strcmp(name, "HEAD") == 0;
                continue;
            }
            const char *rel = hmap_get_u64(&c->wd_dirs, (uint64_t)e->wd);
            if (!rel || strcmp(name, ".git") == 0)
                continue;
            changed = true;
            if ((e->mask & IN_ISDIR) && (e->mask & (IN_CREATE | IN_MOVED_TO)) && c->ino >= 0) {
                char *sub = rel[0] ? xasprintf("%s/%s", rel, name) : xstrdup(name);
                const char *why = NULL;
                bool ok = watch_tree(c, sub, &why);
                free(sub);
                if (!ok) {
                    start_polling(c, why);
                    break;
                }
            }
        }
        if (c->ino < 0)
            break;
    }
    if (changed)
        trigger(c);
}

static void start_watching(git_changes *c, const char *gitdir)
{
    const char *why = "inotify is not available";
    c->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (c->ino >= 0 && watch_tree(c, "", &why)) {
        c->gitdir_wd = inotify_add_watch(c->ino, gitdir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
        ev_io_init(&c->ino_io, on_inotify, c->ino, EV_READ);
        c->ino_io.data = c;
        ev_io_start(c->loop, &c->ino_io);
        return;
    }
    start_polling(c, why);
}

static void on_debounce(struct ev_loop *loop, ev_timer *w, int revents)
{
    git_changes *c = w->data;
    if (c->step == ST_IDLE && !c->final)
        run_step(c, ST_STATUS);
}

static void on_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
    on_debounce(loop, &((git_changes *)w->data)->debounce, revents);
}

/* ------------------------------------------------------------ git */

static char *first_line(const git_result *res)
{
    return xstrndup(res->out, strcspn(res->out, "\n"));
}

static void set_list(git_changes *c, const char *key,
                     json_t *(*parse)(const char *, size_t, size_t, bool *, char *, size_t),
                     const git_result *res)
{
    bool cut = false;
    char err[256];
    json_t *list = parse(res->out, res->out_len, c->cfg.files_max, &cut, err, sizeof err);
    if (!list) {
        log_warning("changes of %s: git's %s output is not understood: %s", c->dir, key, err);
        list = json_array();
        cut = true;
    }
    cut = cut || res->out_cut;
    json_object_set_new(c->snap, key, list);
    char name[64];
    snprintf(name, sizeof name, "%s_truncated", key);
    json_object_set_new(c->snap, name, json_boolean(cut));
}

static void sum_numstat(json_t *snap)
{
    long long added = 0, deleted = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(snap, "numstat"), i, e)
    {
        added += json_integer_value(json_object_get(e, "added"));
        deleted += json_integer_value(json_object_get(e, "deleted"));
    }
    json_object_set_new(snap, "added", json_integer(added));
    json_object_set_new(snap, "deleted", json_integer(deleted));
}

static void on_git(const git_result *res, void *arg)
{
    git_changes *c = arg;
    c->cmd = NULL;
    enum step s = c->step;
    if (!res->ok && s != ST_BASE && s != ST_HEAD) {
        if (s == ST_PROBE) {
            c->no_tree = true; /* not a work tree: nothing to record */
            log_debug("changes of %s: not recorded (%s)", c->dir, res->error);
        } else {
            log_warning("changes of %s: %s", c->dir, res->error);
            json_decref(c->snap);
            c->snap = NULL;
        }
        return snapshot_over(c);
    }
    switch (s) {
    case ST_PROBE:
        free(c->dir);
        c->dir = first_line(res);
        return run_step(c, c->base ? ST_GITDIR : ST_BASE);
    case ST_BASE:
        c->base = res->ok ? first_line(res) : xstrdup(EMPTY_TREE);
        return run_step(c, ST_GITDIR);
    case ST_GITDIR: {
        char *gitdir = first_line(res);
        if (!c->final)
            start_watching(c, gitdir);
        free(gitdir);
        c->step = ST_IDLE;
        return run_step(c, ST_STATUS); /* what the tree holds at the start */
    }
    case ST_STATUS:
        c->snap = json_pack("{s:s}", "base", c->base);
        set_list(c, "files", git_status_parse, res);
        return run_step(c, ST_NUMSTAT);
    case ST_NUMSTAT:
        set_list(c, "numstat", git_numstat_parse, res);
        sum_numstat(c->snap);
        return run_step(c, ST_DIFF);
    case ST_DIFF:
        json_object_set_new(c->snap, "diff", git_path_json(res->out, res->out_len));
        json_object_set_new(c->snap, "diff_truncated", json_boolean(res->out_cut));
        json_object_set_new(c->snap, "diff_max", json_integer((json_int_t)c->cfg.diff_max));
        return run_step(c, ST_HEAD);
    case ST_HEAD:
        json_object_set_new(c->snap, "head",
                            res->ok ? json_stringn(res->out, strcspn(res->out, "\n"))
                                    : json_null());
        publish(c);
        return snapshot_over(c);
    case ST_IDLE:
        break;
    }
}

static void run_step(git_changes *c, enum step s)
{
    const char *probe[] = {"rev-parse", "--show-toplevel", NULL};
    const char *base[] = {"rev-parse", "--verify", "--quiet", "HEAD^{commit}", NULL};
    const char *gitdir[] = {"rev-parse", "--absolute-git-dir", NULL};
    const char *status[] = {"status", "--porcelain=v2", "-z", "--untracked-files=all", NULL};
    const char *numstat[] = {
        "diff", "--no-ext-diff", "--no-textconv", "--numstat", "-z", c->base, "--", NULL};
    const char *diff[] = {"diff", "--no-ext-diff", "--no-textconv", "--no-color", c->base, "--",
                          NULL};
    const char *head[] = {"rev-parse", "--verify", "--quiet", "HEAD^{commit}", NULL};
    const char *const *args[] = {
        [ST_PROBE] = probe,     [ST_BASE] = base, [ST_GITDIR] = gitdir, [ST_STATUS] = status,
        [ST_NUMSTAT] = numstat, [ST_DIFF] = diff, [ST_HEAD] = head};
    size_t out_max = s == ST_DIFF ? c->cfg.diff_max : LIST_OUT_MAX;
    char err[256];
    c->step = s;
    c->cmd = git_cmd_start(c->loop, c->dir, args[s], &c->as, out_max, GIT_TIMEOUT, on_git, c, err,
                           sizeof err);
    if (!c->cmd) {
        log_warning("changes of %s: %s", c->dir, err);
        if (s <= ST_GITDIR)
            c->no_tree = true;
        json_decref(c->snap);
        c->snap = NULL;
        snapshot_over(c);
    }
}

git_changes *git_changes_new(struct ev_loop *loop, bus_t *bus, const char *dir, const char *base,
                             const changes_config *cfg, const git_as *as, const char *subject,
                             const json_t *ids)
{
    git_changes *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->bus = bus;
    c->dir = xstrdup(dir);
    c->cfg = *cfg;
    if (as) {
        c->as = *as;
        if (as->n_groups) {
            c->groups = xcalloc(as->n_groups, sizeof *c->groups);
            memcpy(c->groups, as->groups, as->n_groups * sizeof *c->groups);
        }
        c->as.groups = c->groups;
    }
    c->subject = xstrdup(subject);
    c->ids = json_deep_copy(ids);
    c->base = base ? xstrdup(base) : NULL;
    c->ino = -1;
    c->gitdir_wd = -1;
    hmap_init_u64(&c->wd_dirs);
    ev_timer_init(&c->debounce, on_debounce, 0, 0);
    ev_timer_init(&c->poll, on_poll, 0, 0);
    c->debounce.data = c->poll.data = c;
    run_step(c, ST_PROBE);
    return c;
}

void git_changes_final(git_changes *c, void (*done)(void *arg), void *arg)
{
    c->final = true;
    c->done = done;
    c->done_arg = arg;
    ev_timer_stop(c->loop, &c->debounce);
    ev_timer_stop(c->loop, &c->poll);
    if (c->ino >= 0) {
        ev_io_stop(c->loop, &c->ino_io);
        close(c->ino);
        c->ino = -1;
    }
    if (c->no_tree) {
        c->done = NULL;
        done(arg);
        return;
    }
    /* The snapshot under way may have read the tree before the last
     * writes: it ends as it is (not published), then a whole new one. */
    if (c->step == ST_IDLE)
        run_step(c, ST_STATUS);
    else if (c->step >= ST_STATUS) {
        git_cmd_cancel(c->cmd);
        c->cmd = NULL;
        json_decref(c->snap);
        c->snap = NULL;
        run_step(c, ST_STATUS);
    }
    /* still probing: the probe's end takes the first (and last) snapshot */
}

void git_changes_free(git_changes *c)
{
    if (!c)
        return;
    git_cmd_cancel(c->cmd);
    ev_timer_stop(c->loop, &c->debounce);
    ev_timer_stop(c->loop, &c->poll);
    if (c->ino >= 0) {
        ev_io_stop(c->loop, &c->ino_io);
        close(c->ino);
    }
    forget_watches(c);
    json_decref(c->snap);
    json_decref(c->last);
    json_decref(c->ids);
    free(c->groups);
    free(c->subject);
    free(c->dir);
    free(c->base);
    free(c);
}
