/* bosunctl hook: the command Claude Code runs for its hooks, so sessions a
 * person starts by hand show on bosun as attached runs; and hook
 * install|uninstall, which write it into Claude Code's settings.
 *
 * The hook must never hold up the person's session: everything (reading
 * stdin, connecting, the daemon's answer) has 2 seconds, enforced by
 * alarm(2) whatever blocks; any failure exits 0 and prints nothing, which
 * Claude Code takes as "no opinion".  stdout carries only the decision
 * JSON of --approve; stderr goes to /dev/null unless BOSUN_HOOK_DEBUG is
 * set. */
#include "config.h"

#include "bosunctl.h"
#include "hook_settings.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bosun/sys.h>
#include <bosun/approval.h>
#include <bosun/json.h>

/* The whole command, connect + send + answer, seconds. */
#define HOOK_BUDGET 2

static char *hook_text;
static size_t hook_len;
static bool hook_oversize;

static void on_alarm(int sig)
{
    (void)sig;
    _exit(0);
}

static void read_stdin(void)
{
    size_t cap = 64 * 1024;
    hook_text = xmalloc(cap);
    for (;;) {
        if (hook_len == cap) {
            if (cap > HOOK_INPUT_MAX) {
                hook_oversize = true;
                return; /* the rest is not read: nothing of it is kept */
            }
            cap *= 2;
            hook_text = xrealloc(hook_text, cap);
        }
        ssize_t n = read(0, hook_text + hook_len, cap - hook_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        hook_len += (size_t)n;
    }
    hook_oversize = hook_len > HOOK_INPUT_MAX;
}

void hook_prepare(void)
{
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    alarm(HOOK_BUDGET);
    const char *debug = getenv("BOSUN_HOOK_DEBUG");
    if (!debug || !*debug) {
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
    }
    read_stdin();
}

/* Claude Code's answer to a PreToolUse hook. */
static void print_decision(const char *decision, const char *reason)
{
    json_t *o = json_pack("{s:{s:s,s:s,s:s}}", "hookSpecificOutput", "hookEventName", "PreToolUse",
                          "permissionDecision", decision, "permissionDecisionReason", reason);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(s);
    json_decref(o);
}

/* --approve: bosun's policy decides (cmd.approval.request evaluates the
 * rules, records the decision, and holds an "ask" until a person answers
 * with bosunctl approval allow|deny); no answer within the wait prints
 * nothing, so Claude Code asks the person itself. */
static void approve(ctl_conn *conn, const opts *o, const char *run)
{
    json_t *in = json_loadb(hook_text, hook_len, 0, NULL);
    const char *tool = json_string_value(json_object_get(in, "tool_name"));
    json_t *input = json_object_get(in, "tool_input");
    if (!tool || (input && !json_is_object(input))) {
        json_decref(in);
        return;
    }
    double wait = o->timeout_set ? o->timeout : HOOK_APPROVE_WAIT;
    alarm((unsigned)wait + HOOK_BUDGET);
    json_t *req = json_pack("{s:s,s:s,s:s,s:O?}", "agent", BOSUN_APPROVAL_ATTACHED, "run", run,
                            "tool", tool, "input", input);
    int rc = 0;
    json_t *d = bus_call(conn, BOSUN_APPROVAL_REQUEST, req, wait, &rc);
    const char *behavior = json_string_value(json_object_get(d, "behavior"));
    const char *by = json_string_value(json_object_get(d, "decided_by"));
    const char *message = json_string_value(json_object_get(d, "message"));
    if (behavior && (strcmp(behavior, "allow") == 0 || strcmp(behavior, "deny") == 0)) {
        char reason[1024];
        snprintf(reason, sizeof reason, "bosun: %s (%s)%s%s",
                 strcmp(behavior, "allow") == 0 ? "allowed" : "denied", by ? by : "policy",
                 message ? ": " : "", message ? message : "");
        print_decision(behavior, reason);
    }
    json_decref(d);
    json_decref(in);
}

static int hook_run(ctl_conn *conn, const opts *o)
{
    json_t *data;
    json_t *text = hook_oversize ? NULL : json_stringn(hook_text, hook_len);
    if (hook_oversize)
        data = json_pack("{s:I}", "oversize", (json_int_t)hook_len);
    else if (!text)
        data = json_pack("{s:I}", "not_text", (json_int_t)hook_len);
    else
        data = json_pack("{s:o}", "input", text);
    int rc = 0;
    json_t *d = bus_call(conn, HOOK_CMD_EVENT, data, HOOK_BUDGET - 0.5, &rc);
    const char *run = json_string_value(json_object_get(d, "run"));
    const char *event = json_string_value(json_object_get(d, "event"));
    if (run && o->approve && event && strcmp(event, "PreToolUse") == 0)
        approve(conn, o, run);
    json_decref(d);
    free(hook_text);
    return 0;
}

/* ------------------------------------------------------------ install */

/* text, quoted for sh where it needs to be. */
static void shell_word(char *buf, size_t size, const char *text)
{
    bool plain = *text != '\0';
    for (const char *p = text; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@", *p))
            plain = false;
    if (plain) {
        snprintf(buf, size, "%s", text);
        return;
    }
    size_t n = 0;
    if (n + 1 < size)
        buf[n++] = '\'';
    for (const char *p = text; *p && n + 5 < size; p++) {
        if (*p == '\'') {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *p;
        }
    }
    if (n + 1 < size)
        buf[n++] = '\'';
    buf[n] = '\0';
}

static void append_word(char *cmd, size_t size, const char *word)
{
    char q[PATH_MAX * 4 + 8];
    shell_word(q, sizeof q, word);
    size_t n = strlen(cmd);
    snprintf(cmd + n, size - n, "%s%s", n ? " " : "", q);
}

/* The command the hooks run: this bosunctl by its absolute path, and how
 * it reaches the daemon when that was given (a relative socket path made
 * absolute: Claude Code runs hooks in the session's directory). */
static int hook_command(const opts *o, char *cmd, size_t size)
{
    char self[PATH_MAX], path[PATH_MAX];
    /* $BOSUNCTL names another program to run (an uninstalled build's
     * wrapper script, whose binary cannot run on its own). */
    const char *env = getenv("BOSUNCTL");
    if (env && env[0] == '/') {
        snprintf(self, sizeof self, "%s", env);
    } else {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            return die(1, "cannot find bosunctl's own path: %s", strerror(errno));
        self[n] = '\0';
    }
    cmd[0] = '\0';
    append_word(cmd, size, self);
    append_word(cmd, size, "hook");
    if (o->socket) {
        if (o->socket[0] != '/' && realpath(o->socket, path))
            append_word(cmd, size, "--socket"), append_word(cmd, size, path);
        else
            append_word(cmd, size, "--socket"), append_word(cmd, size, o->socket);
    }
    if (o->url) {
        append_word(cmd, size, "--url");
        append_word(cmd, size, o->url);
        const char *tf = o->token_file ? o->token_file : getenv("BOSUN_TOKEN_FILE");
        if (tf && *tf) {
            append_word(cmd, size, "--token-file");
            append_word(cmd, size, realpath(tf, path) ? path : tf);
        }
        if (o->cacert) {
            append_word(cmd, size, "--cacert");
            append_word(cmd, size, realpath(o->cacert, path) ? path : o->cacert);
        }
    }
    if (o->config) {
        append_word(cmd, size, "--config");
        append_word(cmd, size, realpath(o->config, path) ? path : o->config);
    }
    return 0;
}

static char *settings_path(const opts *o, char **dir)
{
    const char *base = o->project;
    char *home = NULL;
    if (!base) {
        const char *h = getenv("HOME");
        if (!h || h[0] != '/')
            return NULL;
        base = home = xstrdup(h);
    }
    *dir = xasprintf("%s/.claude", base);
    free(home);
    return xasprintf("%s/settings.json", *dir);
}

/* The settings (an empty object when the file does not exist), or NULL
 * after saying why. */
static json_t *read_settings(const char *path, int *rc)
{
    FILE *f = fopen(path, "re");
    if (!f && errno == ENOENT)
        return json_object();
    if (!f) {
        *rc = die(1, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = xmalloc(HOOK_SETTINGS_MAX + 1);
    size_t n = fread(buf, 1, HOOK_SETTINGS_MAX + 1, f);
    bool bad = ferror(f);
    fclose(f);
    json_t *v = NULL;
    bosun_json_error je;
    if (bad)
        *rc = die(1, "%s: cannot read it", path);
    else if (n > HOOK_SETTINGS_MAX)
        *rc = die(1, "%s: over %d bytes; not changing it", path, HOOK_SETTINGS_MAX);
    else if (!(v = bosun_json_parse(buf, n, BOSUN_JSON_REJECT_DUPLICATES, &je)))
        *rc = die(1, "%s:%d:%d: %s; not changing it", path, je.line, je.column, je.text);
    free(buf);
    return v;
}

/* Replaces path by the settings at once (a temporary file renamed over
 * it), keeping the file's mode. */
static int write_settings(const char *dir, const char *path, json_t *settings)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return die(1, "%s: %s", dir, strerror(errno));
    struct stat st;
    mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0600;
    char *tmp = xasprintf("%s.bosun-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int rc = die(1, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    char *text = json_dumps(settings, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    size_t len = text ? strlen(text) : 0;
    bool ok = text && fchmod(fd, mode) == 0 && bosun_write_all(fd, text, len) == 0 &&
              bosun_write_all(fd, "\n", 1) == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    int rc = ok ? 0 : die(1, "%s: cannot write it: %s", path, strerror(errno));
    if (!ok)
        unlink(tmp);
    free(text);
    free(tmp);
    return rc;
}

static int hook_install(const opts *o, bool install)
{
    if (o->user && o->project)
        return die(EX_USAGE_, "--user and --project exclude each other");
    char *dir = NULL, *path = settings_path(o, &dir);
    if (!path)
        return die(EX_USAGE_, "HOME is not set: use --project DIR");
    int rc = 0;
    json_t *settings = read_settings(path, &rc);
    char cmd[PATH_MAX * 10], err[512];
    size_t removed = 0;
    if (settings && install && (rc = hook_command(o, cmd, sizeof cmd)) == 0 &&
        hook_settings_install(settings, cmd, o->approve, err, sizeof err) != 0)
        rc = die(1, "%s: %s; not changing it", path, err);
    else if (settings && !install &&
             hook_settings_uninstall(settings, &removed, err, sizeof err) != 0)
        rc = die(1, "%s: %s; not changing it", path, err);
    if (settings && rc == 0 && (install || removed))
        rc = write_settings(dir, path, settings);
    if (rc == 0 && install)
        printf("bosun's hooks are in %s (%s)\n", path, cmd);
    else if (rc == 0)
        printf("%zu bosun hook%s taken out of %s\n", removed, removed == 1 ? "" : "s", path);
    json_decref(settings);
    free(path);
    free(dir);
    return rc;
}

bool hook_needs_daemon(int argc, char **argv)
{
    (void)argv;
    return argc == 0; /* install and uninstall only write a file */
}

int cmd_hook(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc == 0)
        return conn ? hook_run(conn, o) : 0;
    if (argc == 1 && strcmp(argv[0], "install") == 0)
        return hook_install(o, true);
    if (argc == 1 && strcmp(argv[0], "uninstall") == 0)
        return hook_install(o, false);
    return die(EX_USAGE_, "usage: bosunctl hook [--approve] | hook install [--user | --project "
                          "DIR] [--approve] | hook uninstall [--user | --project DIR]");
}
