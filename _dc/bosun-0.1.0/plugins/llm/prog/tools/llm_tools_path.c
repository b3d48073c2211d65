/* Workspace path resolution (see llm_tools_path.h). */
#define _GNU_SOURCE
#include "llm_tools_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static bool ltp_fallback;

void ltp_force_fallback(bool on)
{
    ltp_fallback = on;
}

static int ltp_push(char *out, size_t *len, const char *comp, size_t n)
{
    if (*len + (*len ? 1 : 0) + n >= LTP_PATH_MAX)
        return -1;
    if (*len)
        out[(*len)++] = '/';
    memcpy(out + *len, comp, n);
    *len += n;
    out[*len] = '\0';
    return 0;
}

static void ltp_pop(char *out, size_t *len)
{
    char *slash = strrchr(out, '/');
    *len = slash ? (size_t)(slash - out) : 0;
    out[*len] = '\0';
}

int ltp_normalize(const char *in, char out[LTP_PATH_MAX], char *err, size_t err_size)
{
    size_t len = 0, n = strlen(in);
    out[0] = '\0';
    if (n == 0 || n >= LTP_PATH_MAX) {
        snprintf(err, err_size, "the path must be 1 to %d bytes long", LTP_PATH_MAX - 1);
        return -1;
    }
    if (in[0] == '/') {
        snprintf(err, err_size,
                 "absolute paths are refused: give a path relative to the workspace");
        return -2;
    }
    for (const char *p = in; *p;) {
        size_t c = strcspn(p, "/");
        if (c == 2 && p[0] == '.' && p[1] == '.') {
            if (len == 0) {
                snprintf(err, err_size, "the path leads out of the workspace (\"..\")");
                return -2;
            }
            ltp_pop(out, &len);
        } else if (c > 0 && !(c == 1 && p[0] == '.') && ltp_push(out, &len, p, c) < 0) {
            snprintf(err, err_size, "the path is too long");
            return -1;
        }
        p += c;
        p += strspn(p, "/");
    }
    if (len == 0)
        strcpy(out, ".");
    return 0;
}

static int ltp_walk(int root, const char *rel, int flags, mode_t mode)
{
    int cur = dup(root);
    const char *p = rel;
    while (cur >= 0) {
        size_t c = strcspn(p, "/");
        char comp[NAME_MAX + 1];
        if (c > NAME_MAX) {
            close(cur);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(comp, p, c);
        comp[c] = '\0';
        bool last = p[c] == '\0';
        int next = last ? openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode)
                        : openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int saved = errno;
        struct stat st;
        /* O_DIRECTORY|O_NOFOLLOW on a symlink says ENOTDIR: say what it is */
        if (next < 0 && saved == ENOTDIR && fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode))
            saved = ELOOP;
        close(cur);
        errno = saved;
        if (last || next < 0)
            return next;
        cur = next;
        p += c + 1;
    }
    return -1;
}

int ltp_open_nofollow(int root, const char *rel, int flags)
{
    if (strcmp(rel, ".") == 0)
        return openat(root, ".", flags | O_CLOEXEC);
    return ltp_walk(root, rel, flags, 0);
}

int ltp_open(int root, const char *rel, int flags, mode_t mode)
{
    if (!ltp_fallback) {
        struct open_how how = {
            .flags = (unsigned long long)(flags | O_CLOEXEC),
            .mode = (flags & O_CREAT) ? mode : 0,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, root, rel, &how, sizeof how);
        if (fd >= 0 || errno != ENOSYS)
            return (int)fd;
    }
    if (strcmp(rel, ".") == 0)
        return openat(root, ".", flags | O_CLOEXEC, mode);
    return ltp_walk(root, rel, flags, mode);
}

/* Makes one directory beneath root (its parent must exist). */
static int ltp_mkdir_beneath(int root, const char *path)
{
    const char *base;
    int dir = ltp_open_parent(root, path, false, &base);
    if (dir < 0)
        return -1;
    int rc = mkdirat(dir, base, 0755), err = errno;
    close(dir);
    errno = err;
    return rc < 0 && err != EEXIST ? -1 : 0;
}

/* Makes the missing directories of dir from the top down, each through
 * a parent opened beneath root, so a symlink on the way is never followed
 * out. */
static int ltp_mkdirs(int root, const char *dir)
{
    char path[LTP_PATH_MAX];
    size_t n = strlen(dir);
    memcpy(path, dir, n + 1);
    for (size_t i = 0; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        path[i] = '\0';
        int rc = ltp_mkdir_beneath(root, path);
        path[i] = i == n ? '\0' : '/';
        if (rc < 0)
            return -1;
    }
    return 0;
}

int ltp_open_parent(int root, const char *rel, bool create, const char **base)
{
    const char *slash = strrchr(rel, '/');
    *base = slash ? slash + 1 : rel;
    if (!slash)
        return ltp_open(root, ".", O_RDONLY | O_DIRECTORY, 0);
    char dir[LTP_PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - rel), rel);
    int fd = ltp_open(root, dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0 && errno == ENOENT && create) {
        if (ltp_mkdirs(root, dir) < 0)
            return -1;
        fd = ltp_open(root, dir, O_RDONLY | O_DIRECTORY, 0);
    }
    return fd;
}

const char *ltp_strerror(int err, const char **category)
{
    switch (err) {
    case ENOENT:
        *category = "not_found";
        return "no such file or directory";
    case EXDEV:
    case ELOOP:
        *category = "denied";
        return "the path leads out of the workspace (a symlink pointing outside, or a symlink "
               "where none is followed)";
    case EACCES:
    case EPERM:
        *category = "denied";
        return "permission denied";
    case ENOTDIR:
        *category = "not_found";
        return "a component of the path is not a directory";
    case EISDIR:
        *category = "invalid";
        return "the path is a directory";
    case ENAMETOOLONG:
        *category = "invalid";
        return "a path component is too long";
    default:
        *category = "runtime";
        return strerror(err);
    }
}
