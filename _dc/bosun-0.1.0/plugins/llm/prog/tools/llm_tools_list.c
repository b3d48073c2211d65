/* list_files: a sorted, bounded, recursive listing beneath a workspace
 * directory.  Symlinks are listed as "name -> target" and never entered;
 * ".git" is listed but not entered. */
#define _GNU_SOURCE
#include "llm_tools_fileio.h"
#include "llm_tools_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LTL_MAX_ENTRIES 2000
#define LTL_MAX_DEPTH   32
#define LTL_MAX_VISITS  100000 /* entries looked at, matching the glob or not */

struct ltl_walk {
    const char *glob;
    bool glob_paths; /* the glob has a slash: match whole paths, not names */
    char **lines;
    size_t count, visited;
    bool cut;
};

static bool ltl_match(const struct ltl_walk *w, const char *path, const char *name)
{
    if (!w->glob)
        return true;
    return fnmatch(w->glob, w->glob_paths ? path : name, w->glob_paths ? FNM_PATHNAME : 0) == 0;
}

static void ltl_add(struct ltl_walk *w, char *line)
{
    if (!line)
        return;
    if (w->count >= LTL_MAX_ENTRIES) {
        w->cut = true;
        free(line);
        return;
    }
    w->lines[w->count++] = line;
}

static void ltl_dir(struct ltl_walk *w, int dir, const char *prefix, int depth);

static void ltl_entry(struct ltl_walk *w, int dir, const char *name, const char *prefix, int depth)
{
    char *path = NULL, *line = NULL;
    struct stat st;
    if (++w->visited > LTL_MAX_VISITS) {
        w->cut = true;
        return;
    }
    if (asprintf(&path, "%s%s", prefix, name) < 0)
        return;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        free(path);
        return;
    }
    if (ltl_match(w, path, name)) {
        if (S_ISDIR(st.st_mode)) {
            (void)!asprintf(&line, "%s/", path);
        } else if (S_ISLNK(st.st_mode)) {
            char target[1024];
            ssize_t n = readlinkat(dir, name, target, sizeof target - 1);
            target[n > 0 ? n : 0] = '\0';
            (void)!asprintf(&line, "%s -> %s", path, target);
        } else {
            (void)!asprintf(&line, "%s (%jd bytes)", path, (intmax_t)st.st_size);
        }
        ltl_add(w, line);
    }
    if (S_ISDIR(st.st_mode) && strcmp(name, ".git") != 0 && depth < LTL_MAX_DEPTH && !w->cut) {
        int sub = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        char *sub_prefix = NULL;
        if (sub >= 0 && asprintf(&sub_prefix, "%s/", path) >= 0)
            ltl_dir(w, sub, sub_prefix, depth + 1);
        else if (sub >= 0)
            close(sub);
        free(sub_prefix);
    }
    free(path);
}

/* Lists dir (taken). */
static void ltl_dir(struct ltl_walk *w, int dir, const char *prefix, int depth)
{
    DIR *d = fdopendir(dir);
    if (!d) {
        close(dir);
        return;
    }
    struct dirent *de;
    while (!w->cut && (de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            ltl_entry(w, dirfd(d), de->d_name, prefix, depth);
    closedir(d);
}

static int ltl_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *ltl_join(struct ltl_walk *w)
{
    size_t size = 1;
    for (size_t i = 0; i < w->count; i++)
        size += strlen(w->lines[i]) + 1;
    char *out = malloc(size + 128), *o = out;
    for (size_t i = 0; out && i < w->count; i++)
        o += sprintf(o, "%s\n", w->lines[i]);
    if (out && w->cut)
        o += sprintf(
            o,
            "[... listing stopped at %zu entries (%zu looked at): give a narrower path or glob]\n",
            w->count, w->visited);
    if (out)
        *o = '\0';
    return out;
}

void lt_list_files(llm_tool_job *j, json_t *args)
{
    char rel[LTP_PATH_MAX];
    struct ltf_error e;
    const char *path = json_string_value(json_object_get(args, "path"));
    if (ltf_path(path ? path : ".", true, rel, &e) < 0) {
        lt_job_fail(j, e.category, NULL, "%s", e.message);
        return;
    }
    int dir = ltp_open(j->t->ws_fd, rel, O_RDONLY | O_DIRECTORY, 0);
    if (dir < 0) {
        const char *category, *why = ltp_strerror(errno, &category);
        lt_job_fail(j, category, NULL, "%s: %s", rel, why);
        return;
    }
    struct ltl_walk w = {.glob = json_string_value(json_object_get(args, "glob"))};
    w.glob_paths = w.glob && strchr(w.glob, '/');
    w.lines = calloc(LTL_MAX_ENTRIES, sizeof *w.lines);
    char *prefix = NULL;
    if (w.lines && asprintf(&prefix, "%s", strcmp(rel, ".") == 0 ? "" : rel) >= 0) {
        char *slashed = NULL;
        if (*prefix && asprintf(&slashed, "%s/", prefix) >= 0) {
            free(prefix);
            prefix = slashed;
        }
        ltl_dir(&w, dir, prefix, 0);
    } else {
        close(dir);
    }
    free(prefix);
    if (w.lines)
        qsort(w.lines, w.count, sizeof *w.lines, ltl_cmp);
    char *text = w.lines ? ltl_join(&w) : NULL;
    char *content = text ? lt_text(text, strlen(text)) : NULL;
    free(text);
    for (size_t i = 0; i < w.count; i++)
        free(w.lines[i]);
    free(w.lines);
    if (!content) {
        lt_job_fail(j, "runtime", NULL, "out of memory");
        return;
    }
    lt_job_ok(j, content,
              json_pack("{s:s,s:I,s:b}", "path", rel, "entries", (json_int_t)w.count, "truncated",
                        w.cut));
}
