/* bosunctl files and bosunctl chat: an llm run's versioned files and its
 * conversation (cmd.llm.files.*, cmd.llm.chat.*, bosun-bus(7)).
 *
 * A diff (files --diff A..B) is made here, on the client, by running
 * diff -u (GNU diffutils, Essential in Debian, so always there) on the two
 * versions written to private temporary files: its output is the unified
 * format every tool reads, and a diff algorithm of our own would be code
 * to keep correct for no gain.
 *
 * chat without a message on a terminal is a prompt: each line is sent
 * (cmd.llm.chat.send) and the reply streamed from the run's events
 * (message_delta text as it comes, then the turn's end at a status idle or
 * error, or the run's end). */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include "bosunctl.h"
#include "ctl_output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bosun/bus.h>
#include <bosun/codec.h>
#include <bosun/sys.h>

#define LLM_TIMEOUT 30
/* A turn of the model may be long; the prompt waits for it this long. */
#define LLM_TURN_TIMEOUT 3600.0

static const char *const files_usage =
    "usage: bosunctl files RUN [PATH] [--version N] [--diff A..B] [--json]";
static const char *const chat_usage = "usage: bosunctl chat RUN [MESSAGE] [--json]";

/* Asks subject with q (taken) and shows the reply: as JSON with --json,
 * else with show.  0, or the failure's exit status. */
static int llm_show(ctl_conn *conn, const opts *o, const char *subject, json_t *q,
                    void (*show)(json_t *d))
{
    int rc = 0;
    json_t *d = bus_call(conn, subject, q, LLM_TIMEOUT, &rc);
    if (!d)
        return rc;
    if (o->json)
        print_json(d);
    else
        show(d);
    json_decref(d);
    return 0;
}

/* ------------------------------------------------------------ files */

static void files_table(json_t *d)
{
    static const char *const head[] = {"VERSION", "SIZE", "ACTOR", "ROUND", "PATH", NULL};
    table *t = table_new(head);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(d, "items"), i, it)
    {
        char v[24], size[24], round[24], path[1100];
        bool del = json_is_true(json_object_get(it, "deleted"));
        snprintf(v, sizeof v, "%lld",
                 (long long)json_integer_value(json_object_get(it, "version")));
        snprintf(size, sizeof size, "%lld",
                 (long long)json_integer_value(json_object_get(it, "size")));
        snprintf(round, sizeof round, "%s",
                 json_is_integer(json_object_get(it, "round")) ? "" : "-");
        if (!round[0])
            snprintf(round, sizeof round, "%lld",
                     (long long)json_integer_value(json_object_get(it, "round")));
        snprintf(path, sizeof path, "%s%s", json_string_value(json_object_get(it, "path")),
                 del ? " (deleted)" : "");
        const char *row[] = {v,
                             del ? "-" : size,
                             json_string_value(json_object_get(it, "actor")) ?: "-",
                             round,
                             path,
                             NULL};
        table_add_row(t, row);
    }
    table_print(t, stdout);
    table_free(t);
    printf("latest version: %lld\n", (long long)json_integer_value(json_object_get(d, "latest")));
}

/* The workspace's paths (of a replay). */
static void files_paths(json_t *d)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(d, "files"), i, f)
        printf("%s\n", json_string_value(json_object_get(f, "path")));
}

/* The content of path as of version (-1: the latest); NULL with *rc set,
 * or with *rc 0 and *missing when there is none at that version. */
static unsigned char *files_content(ctl_conn *conn, const char *run, const char *path, long version,
                                    size_t *len, bool *missing, int *rc)
{
    json_t *q = json_pack("{s:s,s:s}", "run", run, "path", path);
    if (version >= 0)
        json_object_set_new(q, "version", json_integer(version));
    json_t *req = json_pack("{s:s,s:s,s:o,s:i}", "op", "request", "subject", "cmd.llm.files.get",
                            "data", q, "timeout", LLM_TIMEOUT);
    json_t *r = call(conn, req, LLM_TIMEOUT + 10, rc);
    json_t *d = json_object_get(r, "data");
    json_t *e = json_object_get(d, "error");
    unsigned char *out = NULL;
    *missing = false;
    *len = 0;
    if (e && missing &&
        strcmp(json_string_value(json_object_get(e, "code")) ?: "", "not_found") == 0)
        *missing = true;
    else if (e)
        *rc = die_error(e);
    else if (d) {
        const char *b64 = json_string_value(json_object_get(d, "content_base64"));
        out = b64 && *b64 ? bosun_base64_decode(b64, len) : (unsigned char *)strdup("");
        if (!out)
            *rc = die(EX_UNAVAILABLE_, "the daemon gave unreadable content");
    }
    json_decref(r);
    return out;
}

static int files_show(ctl_conn *conn, const opts *o, const char *run, const char *path)
{
    int rc = 0;
    size_t len;
    bool missing;
    unsigned char *c =
        files_content(conn, run, path, o->version > 0 ? o->version : -1, &len, &missing, &rc);
    if (missing)
        return die(1, "%s: no such file%s", path, o->version > 0 ? " at that version" : "");
    if (!c)
        return rc;
    fwrite(c, 1, len, stdout);
    free(c);
    return 0;
}

/* A private temporary file holding len bytes; its name in path. */
static int files_temp(const unsigned char *data, size_t len, char path[64])
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, 64, "%.40s/bosunctl.XXXXXX", dir && *dir && strlen(dir) < 40 ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    int rc = len ? bosun_write_all(fd, data, len) : 0;
    close(fd);
    return rc;
}

/* diff -u of one path between two versions; 0 or 1 (differ) or an error. */
static int files_diff_path(ctl_conn *conn, const char *run, const char *path, long a, long b)
{
    int rc = 0;
    size_t len[2];
    bool missing[2];
    unsigned char *c[2];
    c[0] = files_content(conn, run, path, a, &len[0], &missing[0], &rc);
    if (!c[0] && !missing[0])
        return rc;
    c[1] = files_content(conn, run, path, b, &len[1], &missing[1], &rc);
    if (!c[1] && !missing[1]) {
        free(c[0]);
        return rc;
    }
    char tmp[2][64] = {"", ""}, label[2][1200];
    for (int i = 0; i < 2 && rc == 0; i++) {
        if (files_temp(c[i], len[i], tmp[i]) != 0)
            rc = die(EX_UNAVAILABLE_, "cannot write a temporary file: %s", strerror(errno));
        snprintf(label[i], sizeof label[i], "%s/%s@%ld", i ? "b" : "a", path, i ? b : a);
        if (missing[i])
            snprintf(label[i], sizeof label[i], "/dev/null");
    }
    free(c[0]);
    free(c[1]);
    if (rc == 0) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            execlp("diff", "diff", "-u", "--label", label[0], "--label", label[1], tmp[0], tmp[1],
                   (char *)NULL);
            _exit(127);
        }
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) > 1)
            rc = die(EX_UNAVAILABLE_, "diff -u failed (is diffutils installed?)");
        else
            rc = WEXITSTATUS(st);
    }
    for (int i = 0; i < 2; i++)
        if (tmp[i][0])
            unlink(tmp[i]);
    return rc;
}

/* The paths whose content differs between the manifests of A and B. */
static json_t *files_changed(ctl_conn *conn, const char *run, long a, long b, int *rc)
{
    json_t *m[2] = {NULL, NULL}, *out = json_array();
    long v[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        json_t *d = bus_call(
            conn, "cmd.llm.files.replay",
            json_pack("{s:s,s:I,s:b}", "run", run, "version", (json_int_t)v[i], "content", 0),
            LLM_TIMEOUT, rc);
        m[i] = json_object();
        size_t k;
        json_t *f;
        json_array_foreach(json_object_get(d, "files"), k, f) json_object_set(
            m[i], json_string_value(json_object_get(f, "path")), json_object_get(f, "sha256"));
        json_decref(d);
    }
    const char *path;
    json_t *sha;
    json_object_foreach(m[0], path, sha) if (!json_equal(sha, json_object_get(m[1], path)))
        json_array_append_new(out, json_string(path));
    json_object_foreach(m[1], path, sha) if (!json_object_get(m[0], path))
        json_array_append_new(out, json_string(path));
    json_decref(m[0]);
    json_decref(m[1]);
    return out;
}

static int files_diff(ctl_conn *conn, const char *range, const char *run, const char *path)
{
    char *end;
    long a = strtol(range, &end, 10), b = 0;
    if (end == range || strncmp(end, "..", 2) != 0 || a < 0)
        return die(EX_USAGE_, "--diff: '%s' is not A..B (two version numbers)", range);
    const char *bs = end + 2;
    b = strtol(bs, &end, 10);
    if (end == bs || *end || b < 0)
        return die(EX_USAGE_, "--diff: '%s' is not A..B (two version numbers)", range);
    if (path)
        return files_diff_path(conn, run, path, a, b);
    int rc = 0, worst = 0;
    json_t *paths = files_changed(conn, run, a, b, &rc);
    size_t i;
    json_t *p;
    json_array_foreach(paths, i, p)
    {
        rc = files_diff_path(conn, run, json_string_value(p), a, b);
        if (rc > worst)
            worst = rc;
    }
    json_decref(paths);
    return rc > 1 ? rc : worst;
}

int cmd_files(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    /* --diff is a flag (changes --diff takes no value): files' A..B is
     * the argument after it, so the last one. */
    if (o->diff) {
        if (argc < 2 || argc > 3)
            return die(EX_USAGE_, "%s", files_usage);
        return files_diff(conn, argv[argc - 1], argv[0], argc > 2 ? argv[1] : NULL);
    }
    if (argc < 1 || argc > 2)
        return die(EX_USAGE_, "%s", files_usage);
    const char *run = argv[0], *path = argc > 1 ? argv[1] : NULL;
    if (path)
        return files_show(conn, o, run, path);
    if (o->version > 0)
        return llm_show(
            conn, o, "cmd.llm.files.replay",
            json_pack("{s:s,s:I,s:b}", "run", run, "version", (json_int_t)o->version, "content", 0),
            files_paths);
    return llm_show(conn, o, "cmd.llm.files.list", json_pack("{s:s}", "run", run), files_table);
}

/* ------------------------------------------------------------ chat */

static void chat_print(const json_t *m)
{
    const char *role = json_string_value(json_object_get(m, "role")) ?: "?";
    const char *content = json_string_value(json_object_get(m, "content")) ?: "";
    printf("[%lld] %s: %s\n", (long long)json_integer_value(json_object_get(m, "seq")), role,
           content);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(m, "tool_calls"), i, c)
        printf("    -> %s (%s)\n", json_string_value(json_object_get(c, "name")) ?: "?",
               json_string_value(json_object_get(c, "id")) ?: "?");
}

static void chat_items(json_t *d)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(d, "items"), i, m) chat_print(m);
}

static int chat_history(ctl_conn *conn, const opts *o, const char *run)
{
    return llm_show(conn, o, "cmd.llm.chat.history", json_pack("{s:s}", "run", run), chat_items);
}

static int chat_send(ctl_conn *conn, const opts *o, const char *run, const char *text)
{
    int rc = 0;
    json_t *d = bus_call(conn, "cmd.llm.chat.send",
                         json_pack("{s:s,s:s}", "run", run, "text", text), LLM_TIMEOUT, &rc);
    if (!d)
        return rc;
    if (o->json)
        print_json(d);
    else if (isatty(STDOUT_FILENO))
        printf("sent (message %lld)\n", (long long)json_integer_value(json_object_get(d, "seq")));
    json_decref(d);
    return 0;
}

/* The last token of an event's subject: its kind. */
static const char *chat_kind(const char *subject)
{
    const char *k = strrchr(subject, '.');
    return k ? k + 1 : subject;
}

/* Shows one event of the run; whether it ends the turn the prompt waits
 * for.  A message's deltas are printed as they come, the whole message
 * only when none came (streamed says whether they did). */
static bool chat_event(const char *subject, const json_t *data, bool *streamed)
{
    const char *kind = chat_kind(subject);
    const char *text = json_string_value(json_object_get(data, "text"));
    if (strcmp(kind, "message_delta") == 0 && text) {
        fputs(text, stdout);
        *streamed = true;
    } else if (strcmp(kind, "message") == 0 && !strstr(subject, ".chat.message")) {
        printf("%s\n", *streamed ? "" : text ? text : "");
        *streamed = false;
    } else if (strcmp(kind, "tool_use") == 0) {
        printf("%s[%s]\n", *streamed ? "\n" : "",
               json_string_value(json_object_get(data, "name")) ?: "tool");
        *streamed = false;
    } else if (strcmp(kind, "status") == 0) {
        const char *st = json_string_value(json_object_get(data, "status"));
        return st && (strcmp(st, "idle") == 0 || strcmp(st, "error") == 0);
    }
    fflush(stdout);
    return strcmp(kind, "exited") == 0;
}

/* Reads the subscription until the turn ends; 0, or an error. */
static int chat_follow(ctl_conn *conn, json_int_t sid)
{
    bool streamed = false;
    while (!interrupted) {
        int timed_out;
        char err[512];
        json_t *m = ctl_read(conn, LLM_TURN_TIMEOUT, &timed_out, err, sizeof err);
        if (!m)
            return interrupted ? 0
                   : timed_out ? die(EX_UNAVAILABLE_, "no answer")
                               : die_conn(conn, err);
        json_t *msg = json_object_get(m, "msg");
        bool end = json_integer_value(json_object_get(m, "sub")) == sid &&
                   chat_event(json_string_value(json_object_get(msg, "subject")) ?: "",
                              json_object_get(msg, "data"), &streamed);
        json_decref(m);
        if (end) {
            if (streamed)
                printf("\n");
            break;
        }
    }
    return 0;
}

static int chat_prompt(ctl_conn *conn, const opts *o, const char *run)
{
    char pattern[200];
    snprintf(pattern, sizeof pattern, "evt.run.*.%s.>", run);
    if (bus_pattern_check(pattern) != 0)
        return die(EX_USAGE_, "'%s' is not a run id", run);
    int rc = chat_history(conn, o, run);
    if (rc)
        return rc;
    json_t *r = call(conn, json_pack("{s:s,s:s}", "op", "sub", "pattern", pattern), 10, &rc);
    if (!r)
        return rc;
    json_int_t sid = json_integer_value(json_object_get(r, "sid"));
    json_decref(r);
    char *line = NULL;
    size_t cap = 0;
    while (!interrupted) {
        printf("> ");
        fflush(stdout);
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0)
            break;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if ((rc = chat_send(conn, o, run, line)) != 0 || (rc = chat_follow(conn, sid)) != 0)
            break;
    }
    free(line);
    return rc;
}

int cmd_chat(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc < 1 || argc > 2)
        return die(EX_USAGE_, "%s", chat_usage);
    if (argc == 2)
        return chat_send(conn, o, argv[0], argv[1]);
    if (isatty(STDIN_FILENO) && !o->json && o->url)
        return die(EX_USAGE_, "chat's prompt is not available over --url: it follows the run's "
                              "live events; give a MESSAGE, or run it on the daemon's machine");
    if (isatty(STDIN_FILENO) && !o->json)
        return chat_prompt(conn, o, argv[0]);
    return chat_history(conn, o, argv[0]);
}
