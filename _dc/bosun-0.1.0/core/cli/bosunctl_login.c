/* bosunctl --url URL login --github: GitHub's device flow through the
 * daemon (POST /api/v1/auth/github/device, then .../device/poll at the
 * interval given), ending with a bosun session stored in a 0600 file that
 * later --url calls use when no --token-file is given. */
#include "config.h"

#include "bosunctl.h"
#include "ctl_output.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bosun/sys.h>

#define LOGIN_POLL_MAX 3600 /* polls of one login, at most (its code lasts 15 min) */
/* Seconds one call may take: beyond the daemon's own bound on a poll
 * (the token, the user and its orgs asked of GitHub in turn: 90 s). */
#define LOGIN_CALL_TIMEOUT 100

char *login_session_path(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        return xasprintf("%s/bosun/session", xdg);
    if (home && home[0] == '/')
        return xasprintf("%s/.config/bosun/session", home);
    return NULL;
}

/* mkdir -p for the directories above path, 0700 for those made. */
static int make_parents(const char *path)
{
    char *dir = xstrdup(path);
    int rc = 0;
    for (char *p = dir + 1; rc == 0 && (p = strchr(p, '/')); p++) {
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            rc = -1;
        *p = '/';
    }
    free(dir);
    return rc;
}

/* Writes token to path (0600, through a temporary file renamed into
 * place, so that a reader never sees half of it). */
static int save_session(const char *path, const char *token)
{
    if (make_parents(path) != 0)
        return die(EX_CONFIG_, "cannot make the directory of %s: %s", path, strerror(errno));
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = 0;
    if (fd < 0 || bosun_write_all(fd, token, strlen(token)) != 0 ||
        bosun_write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
        rc = die(EX_CONFIG_, "cannot write %s: %s", tmp, strerror(errno));
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        rc = die(EX_CONFIG_, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    if (fd >= 0)
        close(fd);
    free(tmp);
    return rc;
}

/* Sleeps secs, or less when interrupted. */
static void wait_interval(long secs)
{
    struct timespec ts = {.tv_sec = secs, .tv_nsec = 0};
    while (!interrupted && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int logged_in(const opts *o, json_t *r, const char *path)
{
    const char *token = json_string_value(json_object_get(r, "token"));
    if (!token)
        return die(1, "the daemon's answer has no session token");
    int rc = save_session(path, token);
    if (rc)
        return rc;
    json_t *id = json_object_get(r, "identity");
    if (o->json) {
        json_t *out = json_pack("{s:O,s:O,s:s}", "identity", id, "expires_at",
                                json_object_get(r, "expires_at"), "session_file", path);
        print_json(out);
        json_decref(out);
        return 0;
    }
    char expires[32];
    format_time(json_object_get(r, "expires_at"), expires, sizeof expires);
    printf("Logged in as %s (%s) until %s; the session is in %s\n",
           json_string_value(json_object_get(id, "id")) ?: "?",
           json_string_value(json_object_get(id, "role")) ?: "?", expires, path);
    return 0;
}

static int poll_until_done(ctl_conn *conn, const opts *o, const char *handle, long interval,
                           const char *path)
{
    for (int i = 0; i < LOGIN_POLL_MAX && !interrupted; i++) {
        wait_interval(interval);
        if (interrupted)
            break;
        int rc = 0;
        json_t *r = bus_call(conn, "cmd.github.auth.poll", json_pack("{s:s}", "handle", handle),
                             LOGIN_CALL_TIMEOUT, &rc);
        if (!r)
            return rc;
        const char *status = json_string_value(json_object_get(r, "status"));
        json_t *iv = json_object_get(r, "interval");
        if (json_is_integer(iv) && json_integer_value(iv) >= 1 && json_integer_value(iv) <= 3600)
            interval = (long)json_integer_value(iv);
        if (status && strcmp(status, "ok") == 0) {
            rc = logged_in(o, r, path);
            json_decref(r);
            return rc;
        }
        if (status && strcmp(status, "slow_down") == 0 && !o->json)
            fprintf(stderr, "bosunctl: GitHub asks to poll more slowly: every %ld s\n", interval);
        json_decref(r);
    }
    return die(1, "the login was %s", interrupted ? "interrupted" : "not finished in time");
}

int cmd_login(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    (void)argv;
    if (argc != 0 || !o->github)
        return die(EX_USAGE_, "usage: bosunctl --url URL login --github [--token-file F]");
    if (!o->url)
        return die(EX_USAGE_, "login makes a session for --url: give the daemon's URL");
    char *path = o->token_file ? xstrdup(o->token_file) : login_session_path();
    if (!path)
        return die(EX_USAGE_, "no HOME to keep the session in: give --token-file F");
    int rc = 0;
    json_t *d = bus_call(conn, "cmd.github.auth.device", json_object(), LOGIN_CALL_TIMEOUT, &rc);
    if (!d) {
        free(path);
        return rc;
    }
    const char *handle = json_string_value(json_object_get(d, "handle"));
    const char *code = json_string_value(json_object_get(d, "user_code"));
    const char *uri = json_string_value(json_object_get(d, "verification_uri"));
    json_int_t interval = json_integer_value(json_object_get(d, "interval"));
    if (!handle || !code || !uri || interval < 1 || interval > 3600) {
        json_decref(d);
        free(path);
        return die(1, "the daemon's answer to the device login is malformed");
    }
    /* To stderr: stdout stays for the result (--json). */
    fprintf(stderr, "Open %s and enter the code %s\n", uri, code);
    fflush(stderr);
    rc = poll_until_done(conn, o, handle, (long)interval, path);
    json_decref(d);
    free(path);
    return rc;
}
