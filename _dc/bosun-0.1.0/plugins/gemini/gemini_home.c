/* The Gemini CLI's home for an agent.  Gemini takes MCP servers only from
 * a settings file, and keeps its sessions (which --resume needs) under its
 * home: so each agent gets a home of its own that outlives its runs
 * (resuming starts a new run), GEMINI_CLI_HOME points there, and bosun
 * rewrites <home>/.gemini/settings.json before every launch.  (The
 * system settings file Gemini also reads is refused by it unless every
 * directory above it is root's and closed to others, which a daemon not
 * running as root, or a test under /tmp, cannot offer.)
 *
 * The home may belong to the agent's user: nothing there is followed as a
 * link, and the file is replaced by a rename, never written through. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gemini.h"

static char *failf(char **error, const char *what, const char *path)
{
    if (asprintf(error, "%s %s: %s", what, path, strerror(errno)) < 0)
        *error = NULL;
    return NULL;
}

/* dir/name as a directory (made 0700 when missing, given to the owner of
 * dir so that the agent's user may write in it), opened; -1 on failure. */
static int sub_dir(int dfd, const char *name)
{
    if (mkdirat(dfd, name, 0700) == 0) {
        struct stat st;
        if (fstat(dfd, &st) == 0 && st.st_uid != geteuid() &&
            fchownat(dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0)
            return -1;
    } else if (errno != EEXIST) {
        return -1;
    }
    return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* name in dfd replaced by text: a new file, then renamed over the old. */
static int replace_file(int dfd, const char *name, const char *text)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".%s.%ld", name, (long)getpid());
    unlinkat(dfd, tmp, 0);
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, text, strlen(text));
    rc = close(fd) != 0 || rc != 0 ? -1 : 0;
    if (rc == 0)
        rc = renameat(dfd, tmp, dfd, name);
    if (rc != 0) {
        int e = errno;
        unlinkat(dfd, tmp, 0);
        errno = e;
    }
    return rc;
}

static char *home_path(const gemini_state *st, const bosun_run_info *run)
{
    const char *home = NULL;
    char *path = NULL;
    if (cfg_get_string(run->config, "home", NULL, &home, NULL) && home)
        return strdup(home);
    if (!st || !st->state_dir || asprintf(&path, "%s/gemini/%s", st->state_dir, run->agent) < 0)
        return NULL;
    return path;
}

/* The default home's two levels under the state directory. */
static int make_default(const gemini_state *st, const bosun_run_info *run)
{
    int sfd = open(st->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int gfd = sfd >= 0 ? sub_dir(sfd, "gemini") : -1;
    int afd = gfd >= 0 ? sub_dir(gfd, run->agent) : -1;
    int e = errno;
    if (sfd >= 0)
        close(sfd);
    if (gfd >= 0)
        close(gfd);
    errno = e;
    return afd;
}

/* The policy file: written, or removed when there is none (approvals
 * that were taken out of the configuration). */
static int put_policy(int dfd, const char *policy)
{
    if (policy)
        return replace_file(dfd, GEMINI_POLICY_FILE, policy);
    return unlinkat(dfd, GEMINI_POLICY_FILE, 0) == 0 || errno == ENOENT ? 0 : -1;
}

char *gemini_home_prepare(const gemini_state *st, const bosun_run_info *run, const json_t *settings,
                          const char *policy, char **error)
{
    char *home = home_path(st, run);
    if (!home) {
        *error = strdup("no home for the Gemini CLI (out of memory)");
        return NULL;
    }
    bool configured = cfg_get(run->config, "home") != NULL;
    int hfd = configured ? open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                         : make_default(st, run);
    int dfd = hfd >= 0 ? sub_dir(hfd, ".gemini") : -1;
    char *text = json_dumps(settings, JSON_INDENT(2) | JSON_SORT_KEYS);
    int rc = dfd >= 0 && text ? replace_file(dfd, "settings.json", text) : -1;
    if (rc == 0)
        rc = put_policy(dfd, policy);
    int e = errno;
    free(text);
    if (dfd >= 0)
        close(dfd);
    if (hfd >= 0)
        close(hfd);
    if (rc != 0) {
        errno = e;
        failf(error, "cannot write the Gemini CLI's settings (or policy file) in", home);
        free(home);
        return NULL;
    }
    return home;
}
