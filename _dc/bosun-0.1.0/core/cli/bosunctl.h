/* bosunctl's command modules share these. */
#ifndef BOSUN_BOSUNCTL_H
#define BOSUN_BOSUNCTL_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

#include "ctl_client.h"

/* sysexits(3) */
#define EX_USAGE_       64
#define EX_UNAVAILABLE_ 69
#define EX_NOPERM_      77
#define EX_CONFIG_      78

typedef struct opts {
    const char *socket;
    const char *config;
    const char *url;    /* --url / BOSUN_URL: over HTTP instead of the socket */
    const char *cacert; /* --cacert */
    int json;
    double timeout;
    int timeout_set;
    long count;
    const char *task;
    const char *prompt;
    const char *prompt_file;
    long tail;
    int follow;
    long long since;
    const char *since_text; /* --since as given (cost: a date) */
    const char *until;      /* cost --until */
    const char *by;         /* cost --by */
    const char *subject;
    const char *token_file;
    const char *title;
    const char *agent;
    long choice;
    long version;
    int pending;
    int relay;        /* mcp: relay lines even when stdio could be handed over */
    const char *name; /* token create */
    const char *ttl;
    int always;          /* approval allow|deny --always */
    const char *message; /* approval allow|deny --message */
    int user;            /* hook install --user */
    const char *project; /* hook install --project DIR */
    int approve;         /* hook --approve */
    const char *machine; /* --machine: one machine's, on a hub (bosun-fleet(7)) */
    int diff; /* --diff: changes shows the diff; files diffs A..B, its last argument */
    int github;          /* login --github */
} opts;

extern volatile sig_atomic_t interrupted;

/* Adds "machine" (--machine) to a request for a hub's machine. */
void machine_option(const opts *o, json_t *req);

/* The name die() prints: "bosunctl", or "bosun-mcp" in that program. */
extern const char *ctl_program;
/* Prints "bosunctl: message" to stderr and returns code. */
int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* die() for a transport failure (err): no permission (77) when the daemon
 * refused our credentials, else unavailable (69). */
int die_conn(const ctl_conn *conn, const char *err);
/* die(1, ...) with an error's "message (code)"; either may be missing. */
int die_error(const json_t *error);
/* Sends req (stolen) and returns the response's result, or NULL after
 * printing the error (*rc set). */
json_t *call(ctl_conn *conn, json_t *req, double timeout, int *rc);
/* Sends a bus request; returns the reply data, or NULL after printing the
 * error (*rc set) -- also when the reply carries {"error": ...}. */
json_t *bus_call(ctl_conn *conn, const char *subject, json_t *data, double timeout, int *rc);
void print_json(json_t *v);
/* cmd.store.status, or NULL without a word when there is no store. */
json_t *store_status(ctl_conn *conn);
/* The notify plugin's cmd.notify.status, or NULL (not loaded). */
json_t *notify_status(ctl_conn *conn);
/* A warning on stderr when the store is failing. */
void store_warn(ctl_conn *conn);
/* The prompt given by --prompt or --prompt-file (a file, "-" for stdin:
 * at most 1 MiB, no NUL), as a JSON string in *prompt (NULL when neither
 * is given).  Returns 0, or an exit code after printing why: both options
 * given, the file cannot be read, or the text is not UTF-8. */
int prompt_option(const opts *o, json_t **prompt);

/* bosunctl_hook.c: hook_prepare before connecting (the 2 s budget starts,
 * stdin is read), when hook_needs_daemon says the call reports a hook. */
int cmd_hook(ctl_conn *conn, const opts *o, int argc, char **argv);
bool hook_needs_daemon(int argc, char **argv);
void hook_prepare(void);
int cmd_ps(ctl_conn *conn, const opts *o, int argc, char **argv);
/* bosunctl_login.c: login --github, and where its session is kept by
 * default ($XDG_CONFIG_HOME/bosun/session or ~/.config/bosun/session;
 * malloc'ed, NULL without a HOME). */
int cmd_login(ctl_conn *conn, const opts *o, int argc, char **argv);
char *login_session_path(void);
int cmd_start(ctl_conn *conn, const opts *o, int argc, char **argv);
int cmd_stop(ctl_conn *conn, const opts *o, int argc, char **argv);
int cmd_restart(ctl_conn *conn, const opts *o, int argc, char **argv);
int cmd_logs(ctl_conn *conn, const opts *o, int argc, char **argv);
int cmd_events(ctl_conn *conn, const opts *o, int argc, char **argv);
int cmd_changes(ctl_conn *conn, const opts *o, int argc, char **argv);
int cmd_mcp(ctl_conn *conn, const opts *o, int argc, char **argv);
/* Answers every JSON-RPC request on stdin with an error giving reason. */
int mcp_refuse_all(const char *reason);
int cmd_task(ctl_conn *conn, const opts *o, int argc, char **argv);
int cmd_input(ctl_conn *conn, const opts *o, int argc, char **argv);
int cmd_approval(ctl_conn *conn, const opts *o, int argc, char **argv);
int cmd_artifact(ctl_conn *conn, const opts *o, int argc, char **argv);
int cmd_token(ctl_conn *conn, const opts *o, int argc, char **argv);
int cmd_machine(ctl_conn *conn, const opts *o, int argc, char **argv);
int cmd_cost(ctl_conn *conn, const opts *o, int argc, char **argv);
/* bosunctl_llm.c */
int cmd_files(ctl_conn *conn, const opts *o, int argc, char **argv);
int cmd_chat(ctl_conn *conn, const opts *o, int argc, char **argv);
/* bosunctl_pr.c */
int cmd_pr(ctl_conn *conn, const opts *o, int argc, char **argv);
double ctl_parse_ttl(const char *s, double max);

#endif
