/* The workspace index (see llm_tools_scan.h). */
#define _GNU_SOURCE
#include "llm_tools_scan.h"

#include "hmap.h"
#include "llm_tools_path.h"

#include <bosun/codec.h>
#include <bosun/crypto.h>
#include <bosun/log.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LTS_MAX_DEPTH 64

struct lts_entry {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    unsigned char sha[BOSUN_SHA256_SIZE];
    bool seen; /* met by the running scan */
};

struct lt_scan {
    int ws_fd;
    size_t max_files, max_bytes, file_max;
    hmap index; /* path -> struct lts_entry */
};

/* One scan's state. */
struct lts_walk {
    struct lt_scan *s;
    lts_change_fn changed;
    void *arg;
    size_t files, bytes, count;
    size_t skipped;   /* names that are not UTF-8 text */
    size_t too_large; /* files over file_max, not recorded */
    const char *limit;
};

struct lt_scan *lts_new(int ws_fd, size_t max_files, size_t max_bytes, size_t file_max)
{
    struct lt_scan *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ws_fd = ws_fd;
    s->max_files = max_files;
    s->max_bytes = max_bytes;
    s->file_max = file_max;
    hmap_init(&s->index);
    return s;
}

void lts_free(struct lt_scan *s)
{
    if (!s)
        return;
    size_t pos = 0;
    const char *key;
    struct lts_entry *e;
    while ((e = hmap_next(&s->index, &pos, &key)))
        free(e);
    hmap_destroy(&s->index);
    free(s);
}

static bool lts_same(const struct lts_entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static void lts_set_stat(struct lts_entry *e, const struct stat *st)
{
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtime = st->st_mtim;
    e->ctime = st->st_ctim;
}

/* The whole content of an open regular file of size bytes, malloc'ed. */
static char *lts_slurp(int fd, size_t size, size_t *len)
{
    char *buf = malloc(size + 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    *len = got;
    return buf;
}

static struct lts_entry *lts_entry_for(struct lt_scan *s, const char *path)
{
    struct lts_entry *e = hmap_get(&s->index, path);
    if (!e && (e = calloc(1, sizeof *e)))
        hmap_put(&s->index, path, e);
    return e;
}

/* A regular file met by the walk: compare, hash when changed, report. */
static void lts_file(struct lts_walk *w, int dir, const char *name, const char *path,
                     const struct stat *st)
{
    struct lt_scan *s = w->s;
    if (w->files >= s->max_files || w->bytes + (size_t)st->st_size > s->max_bytes) {
        w->limit = w->files >= s->max_files ? "scan_max_files" : "scan_max_bytes";
        return;
    }
    struct lts_entry *e = hmap_get(&s->index, path);
    if ((size_t)st->st_size > s->file_max) {
        /* too large for one record of the history: left as it was */
        w->too_large++;
        if (e)
            e->seen = true;
        return;
    }
    if (e && lts_same(e, st)) {
        e->seen = true;
        w->files++;
        w->bytes += (size_t)st->st_size;
        return;
    }
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    size_t len = 0;
    char *data = fd >= 0 ? lts_slurp(fd, (size_t)st->st_size, &len) : NULL;
    if (fd >= 0)
        close(fd);
    if (!data) {
        if (e)
            e->seen = true;
        return;
    }
    unsigned char sha[BOSUN_SHA256_SIZE];
    bosun_sha256(data, len, sha);
    bool is_new = !e;
    if (!e && !(e = lts_entry_for(s, path))) {
        free(data);
        return;
    }
    bool differs = is_new || memcmp(e->sha, sha, sizeof sha) != 0;
    lts_set_stat(e, st);
    memcpy(e->sha, sha, sizeof sha);
    e->seen = true;
    w->files++;
    w->bytes += len;
    if (differs && w->changed) {
        w->changed(w->arg, path, "write", data, len);
        w->count++;
    }
    free(data);
}

static void lts_dir(struct lts_walk *w, int dir, const char *prefix, int depth);

static void lts_entry_met(struct lts_walk *w, int dir, const char *name, const char *prefix,
                          int depth)
{
    char path[LTP_PATH_MAX];
    if (w->limit)
        return; /* past a bound the walk stops: its cost is bounded too */
    if (!bosun_utf8_text(name, strlen(name))) {
        w->skipped++; /* a path the history (JSON text) cannot name */
        return;
    }
    if (snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "", name) >= (int)sizeof path)
        return;
    struct stat st;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return;
    if (S_ISREG(st.st_mode)) {
        lts_file(w, dir, name, path, &st);
    } else if (S_ISDIR(st.st_mode) && strcmp(name, ".git") != 0) {
        if (depth >= LTS_MAX_DEPTH) {
            w->limit = "depth";
            return;
        }
        int sub = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0)
            lts_dir(w, sub, path, depth + 1);
    }
}

/* Walks dir (taken) and what is below it. */
static void lts_dir(struct lts_walk *w, int dir, const char *prefix, int depth)
{
    DIR *d = fdopendir(dir);
    if (!d) {
        close(dir);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        lts_entry_met(w, dirfd(d), de->d_name, prefix, depth);
    }
    closedir(d);
}

/* Reports and drops what the walk did not meet, a batch at a time since
 * the map cannot change under hmap_next. */
static void lts_sweep(struct lts_walk *w)
{
    enum { BATCH = 64 };
    for (;;) {
        char *gone[BATCH];
        size_t n = 0, pos = 0;
        const char *key;
        struct lts_entry *e;
        while (n < BATCH && (e = hmap_next(&w->s->index, &pos, &key))) {
            if (e->seen)
                continue;
            e->seen = true; /* met by this sweep, even when strdup fails */
            if ((gone[n] = strdup(key)))
                n++;
        }
        if (n == 0)
            return;
        for (size_t i = 0; i < n; i++) {
            free(hmap_del(&w->s->index, gone[i]));
            if (w->changed) {
                w->changed(w->arg, gone[i], "delete", NULL, 0);
                w->count++;
            }
            free(gone[i]);
        }
    }
}

static void lts_walk_all(struct lts_walk *w)
{
    size_t pos = 0;
    const char *key;
    struct lts_entry *e;
    while ((e = hmap_next(&w->s->index, &pos, &key)))
        e->seen = false;
    int root = openat(w->s->ws_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root >= 0)
        lts_dir(w, root, "", 0);
    /* Past a bound what was not met may still be there: no deletes. */
    if (!w->limit)
        lts_sweep(w);
}

void lts_baseline(struct lt_scan *s)
{
    struct lts_walk w = {.s = s};
    lts_walk_all(&w);
    if (w.limit)
        log_warning("llm tools: workspace index stopped at %s (%zu files, %zu bytes indexed)",
                    w.limit, w.files, w.bytes);
}

json_t *lts_rescan(struct lt_scan *s, lts_change_fn changed, void *arg)
{
    struct lts_walk w = {.s = s, .changed = changed, .arg = arg};
    lts_walk_all(&w);
    json_t *r = json_pack("{s:I,s:I,s:I}", "changed", (json_int_t)w.count, "files",
                          (json_int_t)w.files, "bytes", (json_int_t)w.bytes);
    if (w.limit) {
        log_warning("llm tools: workspace scan stopped at %s (%zu files, %zu bytes); changes "
                    "past it are not recorded",
                    w.limit, w.files, w.bytes);
        if (r)
            json_object_set_new(r, "limit", json_string(w.limit));
    }
    if (w.skipped && r)
        json_object_set_new(r, "skipped_names", json_integer((json_int_t)w.skipped));
    if (w.too_large && r)
        json_object_set_new(r, "too_large", json_integer((json_int_t)w.too_large));
    return r;
}

void lts_note(struct lt_scan *s, const char *path, const void *content, size_t len, bool deleted)
{
    if (deleted) {
        free(hmap_del(&s->index, path));
        return;
    }
    /* The walk never follows a symlink, so neither does the note: a path
     * through one is not a path the scan would meet. */
    struct stat st;
    int fd = ltp_open_nofollow(s->ws_fd, path, O_PATH);
    int rc = fd >= 0 ? fstat(fd, &st) : -1;
    if (fd >= 0)
        close(fd);
    if (rc < 0 || !S_ISREG(st.st_mode))
        return;
    struct lts_entry *e = lts_entry_for(s, path);
    if (!e)
        return;
    lts_set_stat(e, &st);
    bosun_sha256(content, len, e->sha);
    e->seen = true;
}
