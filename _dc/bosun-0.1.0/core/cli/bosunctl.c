/* bosunctl — the admin CLI.  Talks to bosund over the control socket, or
 * to a remote one over HTTP (--url; ctl_http.h). */
#include "config.h"

#include "bosunctl.h"
#include "ctl_client.h"
#include "ctl_http.h"
#include "ctl_output.h"
#include "daemon_config.h"
#include "util.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bosun/bosun.h>

volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = 1;
}

static void usage(FILE *out)
{
    fputs("Usage: bosunctl [-s SOCKET | -c CONFIG | --url URL --token-file F] [--json] COMMAND "
          "[ARGS]\n"
          "\n"
          "Commands:\n"
          "  status                         daemon version, pid, uptime, machine, plugins\n"
          "  plugins                        loaded plugins\n"
          "  reload                         re-read the configuration (like SIGHUP)\n"
          "  pub SUBJECT JSON               publish a message on the bus\n"
          "  request SUBJECT JSON [--timeout S]   send a request, print the reply\n"
          "  sub PATTERN [--count N]        print messages until interrupted or N received\n"
          "  ps [--machine M]               agents and their runs (a hub: machines' too)\n"
          "  start AGENT [--task ID] [--prompt TEXT | --prompt-file FILE]\n"
          "                                 start a run of a configured agent, print its id\n"
          "  stop RUN|AGENT                 stop a run, or every run of an agent\n"
          "      (start, stop, restart, task create, input answer, approval allow|deny:\n"
          "       --machine M sends it to machine M of a hub, see bosun-fleet(7))\n"
          "  restart RUN|AGENT              restart a run, or every run of an agent\n"
          "  logs RUN [-f] [--tail N]       a run's output\n"
          "  changes RUN [--diff]           what a run changed in its git work tree\n"
          "  events [--since SEQ] [--subject P] [--machine M] [-f]   stored, then live\n"
          "  task create --title T [--prompt P | --prompt-file F] [--agent A]\n"
          "  task list [--machine M] | task show ID   tasks, with runs, questions, PRs\n"
          "  input list [--pending] [--machine M]   questions agents asked\n"
          "  input answer ID TEXT | --choice N   answer one (resumes a waiting run)\n"
          "  approval list | approval show ID   tool calls waiting for a person's approval\n"
          "  pr list TASK | pr show TASK N | pr diff TASK N   a task's GitHub pull requests\n"
          "  approval allow|deny ID [--always] [--message TEXT]   decide one\n"
          "  artifact list TASK | artifact get TASK NAME [--version N]\n"
          "  mcp [--token-file F] [--relay] MCP server on stdin/stdout, for agents\n"
          "  hook [--approve]               a Claude Code hook: report the call on stdin\n"
          "  hook install|uninstall [--user | --project DIR] [--approve]   in Claude's settings\n"
          "  token create --name N [--ttl D]   a new admin token (its secret printed once)\n"
          "  token list | token revoke ID   admin tokens (never their secrets)\n"
          "  machine token create [--name N] [--ttl D]   a fleet registration token (once)\n"
          "  machine list | show ID | revoke ID   the hub's machines\n"
          "  login --github [--token-file F]   with --url: log in with GitHub (device flow),\n"
          "                                 keeping the session for later --url calls\n"
          "  cost [--by run|task|agent|machine|day] [--since DATE] [--until DATE] [--agent A]\n"
          "      [--task ID] [--machine M]  tokens and USD spent (DATE: YYYY-MM-DD or RFC 3339)\n"
          "  files RUN [PATH] [--version N] [--diff A..B]   an llm run's versioned files\n"
          "  chat RUN [MESSAGE]   send to an llm run, or its history (a prompt on a terminal)\n"
          "\n"
          "Options:\n"
          "  -s, --socket PATH   control socket (default: $BOSUN_SOCKET, else from the config)\n"
          "  -c, --config FILE   configuration to find the socket in\n"
          "  -u, --url URL       a remote bosund's HTTP API, https://host:8420 (default: "
          "$BOSUN_URL):\n"
          "                      every command but plugins, reload, pub, sub and mcp\n"
          "      --token-file F  with --url: the file holding an admin token or a session\n"
          "                      (default: $BOSUN_TOKEN_FILE, else the session of login);\n"
          "                      with mcp: the run's agent token\n"
          "      --cacert FILE   with --url: CA certificates to verify the daemon with\n"
          "      --json          machine-readable output\n"
          "  -h, --help          this help;  -V, --version  the version\n"
          "\nSee bosunctl(1).\n",
          out);
}

/* ------------------------------------------------------------ connection */

static int socket_from_config(const char *path, int explicit_config, char **out)
{
    cfg_diag d;
    cfg_diag_init(&d);
    cfg_node *root = cfg_load_file(path, &d);
    daemon_config cfg;
    int rc = 0;
    if (root && daemon_config_parse(root, false, &cfg, &d)) {
        *out = xstrdup(cfg.control_socket);
        daemon_config_free(&cfg);
    } else if (explicit_config) {
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "%s\n", d.msgs[i]);
        rc = die(EX_CONFIG_, "cannot find the control socket in %s", path);
    } else {
        /* No usable config: the daemon's own default. */
        *out = xstrdup(DAEMON_DEFAULT_RUNTIME "/" DAEMON_SOCKET_NAME);
    }
    cfg_free(root);
    cfg_diag_free(&d);
    return rc;
}

static int connect_daemon(const opts *o, ctl_conn **conn)
{
    char *path = NULL;
    const char *env = getenv("BOSUN_SOCKET");
    if (o->socket)
        path = xstrdup(o->socket);
    else if (env && *env)
        path = xstrdup(env);
    else {
        int explicit_config = o->config || getenv("BOSUN_CONFIG");
        int rc = socket_from_config(daemon_config_path(o->config), explicit_config, &path);
        if (rc)
            return rc;
    }
    enum ctl_connect_error why;
    char err[512];
    *conn = ctl_connect(path, &why, err, sizeof err);
    free(path);
    if (*conn)
        return 0;
    if (why == CTL_CONNECT_NOT_RUNNING)
        return die(EX_UNAVAILABLE_, "bosund is not running (%s)", err);
    if (why == CTL_CONNECT_DENIED)
        return die(EX_NOPERM_, "permission denied (%s); are you in the socket's group?", err);
    return die(EX_UNAVAILABLE_, "%s", err);
}

/* --url and its defaults from the environment; a command that needs the
 * control socket is refused over it, saying why.  BOSUN_URL gives way to
 * any sign of a local daemon (-s, -c, BOSUN_SOCKET, which bosund sets for
 * its agents), and to the ones that need a socket. */
static int remote_options(opts *o, const char *local_only, const char *name)
{
    bool remote = !local_only;
    const char *env_url = getenv("BOSUN_URL");
    const char *env_sock = getenv("BOSUN_SOCKET");
    bool local = o->socket || o->config || (env_sock && *env_sock);
    if (!o->url && !local && remote && env_url && *env_url)
        o->url = env_url;
    if (!o->url) {
        if (o->cacert)
            return die(EX_USAGE_, "--cacert goes with --url");
        return 0;
    }
    if (o->socket)
        return die(EX_USAGE_, "--socket and --url exclude each other");
    if (!remote)
        return die(EX_USAGE_, "%s is not available over --url: %s", name, local_only);
    const char *env_tf = getenv("BOSUN_TOKEN_FILE");
    if (!o->token_file && env_tf && *env_tf)
        o->token_file = env_tf;
    return 0;
}

/* The token file of a --url call: the one given, else the session that
 * `login --github` kept, when there is one.  NULL for login itself, which
 * has no credential yet. */
static const char *url_token_file(const opts *o, bool login, char **owned)
{
    *owned = NULL;
    if (login || o->token_file)
        return login ? NULL : o->token_file;
    char *path = login_session_path();
    if (path && access(path, F_OK) == 0)
        return *owned = path;
    free(path);
    return NULL;
}

static int connect_url(const opts *o, bool login, ctl_conn **conn)
{
    char err[512], *owned;
    int code = 0;
    const char *token_file = url_token_file(o, login, &owned);
    if (!token_file && !login)
        return die(EX_USAGE_, "--url needs a token: --token-file FILE, BOSUN_TOKEN_FILE, or a "
                              "session from bosunctl --url URL login --github");
    *conn = ctl_http_open(o->url, token_file, o->cacert, &code, err, sizeof err);
    free(owned);
    return *conn ? 0 : die(code, "%s", err);
}

int die_conn(const ctl_conn *conn, const char *err)
{
    return die(conn->failure == CTL_FAIL_DENIED ? EX_NOPERM_ : EX_UNAVAILABLE_, "%s", err);
}

int die_error(const json_t *error)
{
    const char *code = json_string_value(json_object_get(error, "code"));
    const char *msg = json_string_value(json_object_get(error, "message"));
    return die(1, "%s (%s)", msg ? msg : "request failed", code ? code : "error");
}

/* Sends one request and returns its result, or NULL after printing the error
 * (and setting *rc). */
json_t *call(ctl_conn *conn, json_t *req, double timeout, int *rc)
{
    char err[512];
    json_t *resp = ctl_call(conn, req, timeout, err, sizeof err);
    json_decref(req);
    if (!resp) {
        *rc = die_conn(conn, err);
        return NULL;
    }
    if (json_is_true(json_object_get(resp, "ok"))) {
        json_t *result = json_incref(json_object_get(resp, "result"));
        json_decref(resp);
        return result;
    }
    json_t *e = json_object_get(resp, "error");
    json_t *details = json_object_get(e, "details");
    size_t i;
    json_t *v;
    json_array_foreach(details, i, v) fprintf(stderr, "%s\n", json_string_value(v) ?: "");
    *rc = die_error(e);
    json_decref(resp);
    return NULL;
}

void print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s)
        puts(s);
    free(s);
}

/* ------------------------------------------------------------ commands */

/* The store's line of the status, and what is wrong with it. */
static void print_store(ctl_conn *conn)
{
    json_t *st = store_status(conn);
    if (!st)
        return;
    printf("store:          %s, %" JSON_INTEGER_FORMAT " events, last seq %" JSON_INTEGER_FORMAT
           ", %" JSON_INTEGER_FORMAT " waiting (%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
           " bytes retained)\n",
           json_string_value(json_object_get(st, "backend")) ?: "?",
           json_integer_value(json_object_get(st, "events")),
           json_integer_value(json_object_get(st, "last_seq")),
           json_integer_value(json_object_get(st, "pending")),
           json_integer_value(json_object_get(st, "retained_bytes")),
           json_integer_value(json_object_get(st, "retain_max_bytes")));
    if (json_is_true(json_object_get(st, "failing")))
        printf("store FAILING:  cannot write to %s: %s (%" JSON_INTEGER_FORMAT
               " failed attempts); agents' output is paused\n",
               json_string_value(json_object_get(st, "path")) ?: "?",
               json_string_value(json_object_get(st, "failure")) ?: "?",
               json_integer_value(json_object_get(st, "failures")));
    json_int_t dropped = json_integer_value(json_object_get(st, "dropped"));
    if (dropped > 0)
        printf("store dropped:  %" JSON_INTEGER_FORMAT
               " events since start (retain_max_bytes reached while failing)\n",
               dropped);
    json_decref(st);
}

/* Whether the daemon's status lists the plugin (asked only then: over
 * --url a request without a route of its own costs a /ws). */
static bool has_plugin(json_t *status, const char *name)
{
    size_t i;
    json_t *v;
    json_t *plugins = json_object_get(status, "plugins");
    json_array_foreach(plugins, i, v)
    {
        if (strcmp(json_string_value(v) ?: "", name) == 0)
            return true;
    }
    return false;
}

/* The notify plugin's line, and each channel that keeps failing. */
static void print_notify(ctl_conn *conn)
{
    json_t *st = notify_status(conn);
    if (!st)
        return;
    json_int_t sent = 0, failed = 0, failing = 0;
    size_t i;
    json_t *ch;
    json_t *chs = json_object_get(st, "channels");
    json_array_foreach(chs, i, ch)
    {
        sent += json_integer_value(json_object_get(ch, "sent"));
        failed += json_integer_value(json_object_get(ch, "failed"));
        failing += strcmp(json_string_value(json_object_get(ch, "state")) ?: "", "failing") == 0;
    }
    printf("notify:         %zu channels, %" JSON_INTEGER_FORMAT " sent, %" JSON_INTEGER_FORMAT
           " failed, %" JSON_INTEGER_FORMAT " failing\n",
           json_array_size(chs), sent, failed, failing);
    json_array_foreach(chs, i, ch)
    {
        if (strcmp(json_string_value(json_object_get(ch, "state")) ?: "", "failing") != 0)
            continue;
        printf("notify FAILING: channel %s (%s): %" JSON_INTEGER_FORMAT
               " attempts in a row failed, %" JSON_INTEGER_FORMAT " waiting; last: %s\n",
               json_string_value(json_object_get(ch, "name")) ?: "?",
               json_string_value(json_object_get(ch, "type")) ?: "?",
               json_integer_value(json_object_get(ch, "consecutive_failures")),
               json_integer_value(json_object_get(ch, "queued")) +
                   json_integer_value(json_object_get(ch, "in_flight")) +
                   json_integer_value(json_object_get(ch, "waiting_retry")),
               json_string_value(json_object_get(ch, "last_error")) ?: "?");
    }
    json_decref(st);
}

/* The github plugin's line: GitHub's rate budget and what it was spent on
 * (bosun-github(7)). */
static void print_github(ctl_conn *conn)
{
    int rc = 0;
    json_t *g = bus_call(conn, "cmd.github.status", json_object(), 10, &rc);
    if (!g)
        return;
    json_t *rate = json_object_get(g, "rate");
    char reset[32] = "-", held[32] = "";
    if (json_is_object(rate)) {
        format_time(json_object_get(rate, "reset"), reset, sizeof reset);
        printf("github:         rate %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
               " left, reset %s",
               json_integer_value(json_object_get(rate, "remaining")),
               json_integer_value(json_object_get(rate, "limit")), reset);
    } else
        printf("github:         rate not known yet");
    printf("; %" JSON_INTEGER_FORMAT " requests, %" JSON_INTEGER_FORMAT
           " conditional, %" JSON_INTEGER_FORMAT " not modified; %" JSON_INTEGER_FORMAT
           " pull requests\n",
           json_integer_value(json_object_get(g, "requests")),
           json_integer_value(json_object_get(g, "conditional")),
           json_integer_value(json_object_get(g, "not_modified")),
           json_integer_value(json_object_get(g, "prs")));
    if (json_is_number(json_object_get(g, "held_until"))) {
        format_time(json_object_get(g, "held_until"), held, sizeof held);
        printf("github HELD:    a rate limit was hit; no request to GitHub until %s\n", held);
    }
    json_decref(g);
}

static int cmd_status(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    int rc = 0;
    json_t *r = call(conn, json_pack("{s:s}", "op", "status"), 10, &rc);
    if (!r)
        return rc;
    if (o->json) {
        json_t *st = store_status(conn);
        if (st)
            json_object_set_new(r, "store", st);
        json_t *nt = has_plugin(r, "notify") ? notify_status(conn) : NULL;
        if (nt)
            json_object_set_new(r, "notify", nt);
        int grc = 0;
        json_t *gh = has_plugin(r, "github")
                         ? bus_call(conn, "cmd.github.status", json_object(), 10, &grc)
                         : NULL;
        if (gh)
            json_object_set_new(r, "github", gh);
        print_json(r);
        json_decref(r);
        return 0;
    }
    char up[64];
    format_duration(json_number_value(json_object_get(r, "uptime")), up, sizeof up);
    const char *state = json_string_value(json_object_get(r, "state"));
    printf("bosund %s, pid %" JSON_INTEGER_FORMAT ", up %s%s%s\n",
           json_string_value(json_object_get(r, "version")),
           json_integer_value(json_object_get(r, "pid")), up,
           state && strcmp(state, "running") != 0 ? ", " : "",
           state && strcmp(state, "running") != 0 ? state : "");
    printf("machine:        %s\n", json_string_value(json_object_get(r, "machine_id")));
    printf("config:         %s\n", json_string_value(json_object_get(r, "config")));
    printf("state dir:      %s\n", json_string_value(json_object_get(r, "state_dir")));
    printf("runtime dir:    %s\n", json_string_value(json_object_get(r, "runtime_dir")));
    printf("log level:      %s\n", json_string_value(json_object_get(r, "log_level")));
    printf("plugins:       ");
    size_t i;
    json_t *v;
    json_t *plugins = json_object_get(r, "plugins");
    json_array_foreach(plugins, i, v) printf(" %s", json_string_value(v));
    printf("%s\n", json_array_size(plugins) ? "" : " (none)");
    printf("subscriptions:  %" JSON_INTEGER_FORMAT "\n",
           json_integer_value(json_object_get(r, "subscriptions")));
    printf("clients:        %" JSON_INTEGER_FORMAT "\n",
           json_integer_value(json_object_get(r, "control_clients")));
    printf("reloads:        %" JSON_INTEGER_FORMAT "\n",
           json_integer_value(json_object_get(r, "reloads")));
    bool notify = has_plugin(r, "notify"), github = has_plugin(r, "github");
    json_decref(r);
    print_store(conn);
    if (notify)
        print_notify(conn);
    if (github)
        print_github(conn);
    return 0;
}

static int cmd_plugins(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    int rc = 0;
    json_t *r = call(conn, json_pack("{s:s}", "op", "plugins"), 10, &rc);
    if (!r)
        return rc;
    if (o->json) {
        print_json(r);
        json_decref(r);
        return 0;
    }
    static const char *const headers[] = {"NAME", "KIND",        "VERSION", "STATE",
                                          "PATH", "DESCRIPTION", NULL};
    table *t = table_new(headers);
    size_t i;
    json_t *p;
    json_array_foreach(r, i, p)
    {
        const char *row[] = {
            json_string_value(json_object_get(p, "name")),
            json_string_value(json_object_get(p, "kind")),
            json_string_value(json_object_get(p, "version")),
            json_is_true(json_object_get(p, "started")) ? "running" : "loaded",
            json_string_value(json_object_get(p, "path")),
            json_string_value(json_object_get(p, "description")),
        };
        table_add_row(t, row);
    }
    table_print(t, stdout);
    table_free(t);
    json_decref(r);
    return 0;
}

static int cmd_reload(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    int rc = 0;
    json_t *r = call(conn, json_pack("{s:s}", "op", "reload"), 60, &rc);
    if (!r)
        return rc;
    if (o->json)
        print_json(r);
    else
        puts("configuration reloaded");
    json_decref(r);
    return 0;
}

static json_t *parse_data(const char *text, int *rc)
{
    /* Read as the daemon reads requests: duplicate keys refused. */
    bosun_json_error je;
    json_t *v = bosun_json_parse(text, strlen(text), BOSUN_JSON_REJECT_DUPLICATES, &je);
    if (!v)
        *rc = die(EX_USAGE_, "invalid JSON data at column %d: %s", je.column, je.text);
    return v;
}

static int cmd_pub(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 2)
        return die(EX_USAGE_, "usage: bosunctl pub SUBJECT JSON");
    if (bus_subject_check(argv[0]) != 0)
        return die(EX_USAGE_, "invalid subject '%s'", argv[0]);
    int rc = 0;
    json_t *data = parse_data(argv[1], &rc);
    if (!data)
        return rc;
    json_t *r = call(
        conn, json_pack("{s:s,s:s,s:o}", "op", "pub", "subject", argv[0], "data", data), 10, &rc);
    if (!r)
        return rc;
    if (o->json)
        print_json(json_pack("{s:b,s:s}", "published", 1, "subject", argv[0]));
    json_decref(r);
    return 0;
}

static int cmd_request(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 2)
        return die(EX_USAGE_, "usage: bosunctl request SUBJECT JSON [--timeout S]");
    if (bus_subject_check(argv[0]) != 0)
        return die(EX_USAGE_, "invalid subject '%s'", argv[0]);
    int rc = 0;
    json_t *data = parse_data(argv[1], &rc);
    if (!data)
        return rc;
    json_t *req = json_pack("{s:s,s:s,s:o,s:f}", "op", "request", "subject", argv[0], "data", data,
                            "timeout", o->timeout);
    json_t *r = call(conn, req, o->timeout + 10, &rc);
    if (!r)
        return rc;
    if (o->json) {
        print_json(r);
    } else {
        char *s = json_dumps(json_object_get(r, "data"), JSON_INDENT(2) | JSON_ENCODE_ANY);
        puts(s ? s : "null");
        free(s);
    }
    json_decref(r);
    return 0;
}

static void print_stream_message(json_t *msg, const opts *o)
{
    if (o->json) {
        print_json(msg);
    } else {
        char *data = json_dumps(json_object_get(msg, "data"), JSON_COMPACT | JSON_ENCODE_ANY);
        const char *reply = json_string_value(json_object_get(msg, "reply"));
        printf("%s%s%s %s\n", json_string_value(json_object_get(msg, "subject")),
               reply ? " reply=" : "", reply ? reply : "", data ? data : "null");
        free(data);
    }
    fflush(stdout);
}

static int cmd_sub(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 1)
        return die(EX_USAGE_, "usage: bosunctl sub PATTERN [--count N]");
    if (bus_pattern_check(argv[0]) != 0)
        return die(EX_USAGE_, "invalid pattern '%s'", argv[0]);
    int rc = 0;
    json_t *r = call(conn, json_pack("{s:s,s:s}", "op", "sub", "pattern", argv[0]), 10, &rc);
    if (!r)
        return rc;
    json_int_t sid = json_integer_value(json_object_get(r, "sid"));
    json_decref(r);
    long seen = 0;
    while (!interrupted && (o->count <= 0 || seen < o->count)) {
        int timed_out;
        char err[512];
        json_t *m = ctl_read(conn, -1, &timed_out, err, sizeof err);
        if (!m) {
            if (interrupted)
                break;
            return die_conn(conn, err);
        }
        json_t *s = json_object_get(m, "sub");
        if (json_is_integer(s) && json_integer_value(s) == sid) {
            print_stream_message(json_object_get(m, "msg"), o);
            seen++;
        }
        json_decref(m);
    }
    return 0;
}

/* local: why the command is not available over --url, NULL when it is
 * (the REST API has what it needs; bosunctl(1) lists them). */
#define LOCAL_ONLY "; run it on the daemon's machine, over its control socket"
static const struct command {
    const char *name;
    int (*run)(ctl_conn *conn, const opts *o, int argc, char **argv);
    const char *local;
} commands[] = {
    {"status", cmd_status, NULL},
    {"plugins", cmd_plugins,
     "the HTTP API does not list plugins (their files are the machine's own)" LOCAL_ONLY},
    {"reload", cmd_reload, "the configuration is never changed over the network" LOCAL_ONLY},
    {"pub", cmd_pub, "the HTTP API publishes nothing on the bus for a client" LOCAL_ONLY},
    {"request", cmd_request, NULL},
    {"sub", cmd_sub,
     "only stored events can be followed over HTTP: use bosunctl events -f --subject PATTERN"},
    {"ps", cmd_ps, NULL},
    {"start", cmd_start, NULL},
    {"stop", cmd_stop, NULL},
    {"restart", cmd_restart, NULL},
    {"logs", cmd_logs, NULL},
    {"changes", cmd_changes, NULL},
    {"events", cmd_events, NULL},
    {"mcp", cmd_mcp, "it serves agents that bosund started on its own machine" LOCAL_ONLY},
    {"task", cmd_task, NULL},
    {"input", cmd_input, NULL},
    {"approval", cmd_approval, NULL},
    {"hook", cmd_hook, NULL},
    {"artifact", cmd_artifact, NULL},
    {"token", cmd_token, NULL},
    {"machine", cmd_machine, "the REST routes for machines are not there yet" LOCAL_ONLY},
    {"cost", cmd_cost, NULL},
    {"files", cmd_files, NULL},
    {"chat", cmd_chat, NULL},
    {"login", cmd_login, NULL},
    {"pr", cmd_pr,
     "the pull requests' REST routes are GET /api/v1/tasks/ID/prs, pr-diff?pr=N and "
     "pr-files?pr=N" LOCAL_ONLY},
};

/* ------------------------------------------------------------ options */

enum {
    OPT_JSON = 1000,
    OPT_TIMEOUT,
    OPT_COUNT,
    OPT_TASK,
    OPT_PROMPT,
    OPT_PROMPT_FILE,
    OPT_TAIL,
    OPT_SINCE,
    OPT_SUBJECT,
    OPT_TOKEN_FILE,
    OPT_TITLE,
    OPT_AGENT,
    OPT_CHOICE,
    OPT_VERSION,
    OPT_PENDING,
    OPT_RELAY,
    OPT_CACERT,
    OPT_NAME,
    OPT_TTL,
    OPT_ALWAYS,
    OPT_MESSAGE,
    OPT_UNTIL,
    OPT_BY,
    OPT_USER,
    OPT_PROJECT,
    OPT_APPROVE,
    OPT_MACHINE,
    OPT_DIFF,
    OPT_GITHUB
};

static int parse_options(int argc, char **argv, opts *o, int stop_at_command)
{
    /* Before the command, --version prints bosunctl's; after it (artifact
     * get), it takes a number. */
#define COMMON_OPTS                                                                                \
    {"socket", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},            \
        {"json", no_argument, NULL, OPT_JSON}, {"timeout", required_argument, NULL, OPT_TIMEOUT},  \
        {"count", required_argument, NULL, OPT_COUNT}, {"help", no_argument, NULL, 'h'},           \
        {"task", required_argument, NULL, OPT_TASK},                                               \
        {"prompt", required_argument, NULL, OPT_PROMPT},                                           \
        {"prompt-file", required_argument, NULL, OPT_PROMPT_FILE},                                 \
        {"tail", required_argument, NULL, OPT_TAIL}, {"follow", no_argument, NULL, 'f'},           \
        {"since", required_argument, NULL, OPT_SINCE},                                             \
        {"subject", required_argument, NULL, OPT_SUBJECT},                                         \
        {"token-file", required_argument, NULL, OPT_TOKEN_FILE},                                   \
        {"title", required_argument, NULL, OPT_TITLE},                                             \
        {"agent", required_argument, NULL, OPT_AGENT},                                             \
        {"choice", required_argument, NULL, OPT_CHOICE}, {"relay", no_argument, NULL, OPT_RELAY},  \
        {"url", required_argument, NULL, 'u'}, {"cacert", required_argument, NULL, OPT_CACERT},    \
        {"name", required_argument, NULL, OPT_NAME}, {"ttl", required_argument, NULL, OPT_TTL},    \
        {"always", no_argument, NULL, OPT_ALWAYS},                                                 \
        {"message", required_argument, NULL, OPT_MESSAGE},                                         \
        {"until", required_argument, NULL, OPT_UNTIL}, {"by", required_argument, NULL, OPT_BY},    \
        {"user", no_argument, NULL, OPT_USER}, {"project", required_argument, NULL, OPT_PROJECT},  \
        {"approve", no_argument, NULL, OPT_APPROVE},                                               \
        {"machine", required_argument, NULL, OPT_MACHINE}, {"diff", no_argument, NULL, OPT_DIFF},  \
        {"github", no_argument, NULL, OPT_GITHUB},                                                 \
    {                                                                                              \
        "pending", no_argument, NULL, OPT_PENDING                                                  \
    }
    static const struct option global_opts[] = {
        COMMON_OPTS, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    static const struct option command_opts[] = {
        COMMON_OPTS, {"version", required_argument, NULL, OPT_VERSION}, {NULL, 0, NULL, 0}};
#undef COMMON_OPTS
    const struct option *long_opts = stop_at_command ? global_opts : command_opts;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, stop_at_command ? "+s:c:u:hV" : "s:c:u:hVf", long_opts,
                            NULL)) != -1) {
        switch (c) {
        case 's':
            o->socket = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'u':
            o->url = optarg;
            break;
        case OPT_CACERT:
            o->cacert = optarg;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_TIMEOUT:
            o->timeout = strtod(optarg, &end);
            if (*end || !(o->timeout > 0 && o->timeout <= 3600))
                return die(EX_USAGE_, "--timeout: '%s' is not a number of seconds in (0, 3600]",
                           optarg);
            o->timeout_set = 1;
            break;
        case OPT_TASK:
            o->task = optarg;
            break;
        case OPT_PROMPT:
            o->prompt = optarg;
            break;
        case OPT_PROMPT_FILE:
            o->prompt_file = optarg;
            break;
        case 'f':
            o->follow = 1;
            break;
        case OPT_TAIL:
            o->tail = strtol(optarg, &end, 10);
            if (*end || o->tail <= 0 || o->tail > 10000)
                return die(EX_USAGE_, "--tail: '%s' is not a number from 1 to 10000", optarg);
            break;
        case OPT_SINCE:
            /* cost takes a date, events a sequence number. */
            o->since_text = optarg;
            o->since = strtoll(optarg, &end, 10);
            if (*end || o->since < 0)
                o->since = -1;
            break;
        case OPT_UNTIL:
            o->until = optarg;
            break;
        case OPT_BY:
            o->by = optarg;
            break;
        case OPT_TOKEN_FILE:
            o->token_file = optarg;
            break;
        case OPT_TITLE:
            o->title = optarg;
            break;
        case OPT_AGENT:
            o->agent = optarg;
            break;
        case OPT_PENDING:
            o->pending = 1;
            break;
        case OPT_RELAY:
            o->relay = 1;
            break;
        case OPT_NAME:
            o->name = optarg;
            break;
        case OPT_TTL:
            o->ttl = optarg;
            break;
        case OPT_ALWAYS:
            o->always = 1;
            break;
        case OPT_MESSAGE:
            o->message = optarg;
            break;
        case OPT_USER:
            o->user = 1;
            break;
        case OPT_PROJECT:
            o->project = optarg;
            break;
        case OPT_APPROVE:
            o->approve = 1;
            break;
        case OPT_MACHINE:
            o->machine = optarg;
            break;
        case OPT_DIFF:
            o->diff = 1;
            break;
        case OPT_GITHUB:
            o->github = 1;
            break;
        case OPT_CHOICE:
        case OPT_VERSION: {
            long v = strtol(optarg, &end, 10);
            if (*end || v <= 0)
                return die(EX_USAGE_, "--%s: '%s' is not a positive number",
                           c == OPT_CHOICE ? "choice" : "version", optarg);
            if (c == OPT_CHOICE)
                o->choice = v;
            else
                o->version = v;
            break;
        }
        case OPT_SUBJECT:
            o->subject = optarg;
            if (bus_pattern_check(optarg) != 0)
                return die(EX_USAGE_, "--subject: invalid pattern '%s'", optarg);
            break;
        case OPT_COUNT:
            o->count = strtol(optarg, &end, 10);
            if (*end || o->count <= 0)
                return die(EX_USAGE_, "--count: '%s' is not a positive integer", optarg);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("bosunctl %s\n", bosun_version());
            exit(0);
        default:
            usage(stderr);
            return EX_USAGE_;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts o = {.timeout = 5.0};
    int rc = parse_options(argc, argv, &o, 1);
    if (rc)
        return rc;
    if (optind >= argc) {
        usage(stderr);
        return EX_USAGE_;
    }
    const char *name = argv[optind];
    const struct command *cmd = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            cmd = &commands[i];
    if (!cmd)
        return die(EX_USAGE_, "unknown command '%s' (see bosunctl --help)", name);
    /* Command options may follow the command: "sub x.> --count 3 --json". */
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    optind = 0; /* glibc: re-initialise getopt */
    rc = parse_options(sub_argc, sub_argv, &o, 0);
    if (rc)
        return rc;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    ctl_conn *conn = NULL;
    /* A hook never fails the session that runs it: whatever goes wrong
     * from here, it exits 0 (bosunctl_hook.c). */
    bool hook = cmd->run == cmd_hook && hook_needs_daemon(sub_argc - optind, sub_argv + optind);
    if (cmd->run == cmd_hook && !hook)
        return cmd_hook(NULL, &o, sub_argc - optind, sub_argv + optind);
    if (hook)
        hook_prepare();
    rc = remote_options(&o, cmd->local, name);
    if (rc && hook)
        return 0;
    if (rc)
        return rc;
    rc = o.url ? connect_url(&o, cmd->run == cmd_login, &conn) : connect_daemon(&o, &conn);
    if (rc && cmd->run == cmd_mcp) {
        /* An MCP client still gets JSON-RPC answers, with the reason. */
        mcp_refuse_all("bosund is not running or cannot be reached");
        return rc;
    }
    if (rc)
        return hook ? 0 : rc;
    rc = cmd->run(conn, &o, sub_argc - optind, sub_argv + optind);
    ctl_close(conn);
    return rc;
}
