/* One run's life: spawn, states, output, exit, restart with back-off, stop
 * with escalation to SIGKILL, and the events that tell all of it. */
#include "config.h"

#include "proc_internal.h"
#include "fsafe.h"
#include "proc_spawn.h"
#include "token.h"
#include "util.h"

#include <bosun/secret.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bosun/agent_stream.h>
#include <bosun/codec.h>
#include <bosun/log.h>
#include <bosun/store.h>

extern char **environ;

/* Prompts larger than this reach the agent only as BOSUN_PROMPT_FILE: one
 * environment string may not exceed 128 KiB (MAX_ARG_STRLEN). */
#define PROMPT_ENV_MAX (64 * 1024)
#define LOGBUF_FLUSH   (256 * 1024) /* also flushed after every read */
#define LOGBUF_KEEP    4096         /* kept between reads; a larger one is freed */

/* The largest log buffer the daemon keeps for the next read. */
#define LOGBUF_SPARE_MAX (1024 * 1024)

static const char *const state_names[] = {"STOPPED", "STARTING", "RUNNING",
                                          "BACKOFF", "STOPPING", "EXITED",
                                          "FATAL",   "LOST",     "WAITING_INPUT"};

const char *run_state_name(enum run_state s)
{
    return state_names[s];
}

/* Classes of state_names, from <bosun/store.h>'s lists (filled once: this
 * is asked on every supervision step). */
static enum bosun_run_class state_class(enum run_state s)
{
    static enum bosun_run_class classes[sizeof state_names / sizeof state_names[0]];
    static bool filled;
    if (!filled) {
        for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++)
            classes[i] = bosun_run_state_class(state_names[i]);
        filled = true;
    }
    return classes[s];
}

/* A waiting run is active while its process still runs. */
bool run_active(const run *r)
{
    enum bosun_run_class c = state_class(r->state);
    return c == BOSUN_RUN_CLASS_ACTIVE || (c == BOSUN_RUN_CLASS_WAITING && r->alive);
}

static void set_reason(run *r, const char *reason)
{
    if (reason == r->reason)
        return;
    free(r->reason);
    r->reason = reason ? xstrdup(reason) : NULL;
}

/* ------------------------------------------------------------ events */

/* Output lines are the bulk of all events: they carry only what the store
 * needs for its columns (the agent is in the subject, the machine is the
 * store's own). */
static void emit_output(run *r, json_t *data)
{
    if (!r->output_subject) {
        r->output_subject = xasprintf("evt.run.%s.%s.output", r->agent_name, r->id);
        r->id_json = json_string(r->id);
        r->task_json = r->task ? json_string(r->task) : NULL;
    }
    json_object_set(data, "run", r->id_json);
    if (r->task_json)
        json_object_set(data, "task", r->task_json);
    if (bus_publish_new(r->p->bus, r->output_subject, NULL, data) != 0)
        log_error("cannot publish %s: invalid subject", r->output_subject);
}

void run_emit(run *r, const char *kind, json_t *data)
{
    if (!data)
        data = json_object();
    json_object_set_new(data, "run", json_string(r->id));
    json_object_set_new(data, "agent", json_string(r->agent_name));
    json_object_set_new(data, "task", r->task ? json_string(r->task) : json_null());
    json_object_set_new(data, "machine", json_string(r->p->machine_id));
    char subject[BUS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "evt.run.%s.%s.%s", r->agent_name, r->id, kind);
    if (bus_publish_new(r->p->bus, subject, NULL, data) != 0)
        log_error("cannot publish %s: invalid subject", subject);
}

static json_t *opt_int(bool present, int v)
{
    return present ? json_integer(v) : json_null();
}

static json_t *opt_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *opt_time(double t)
{
    return t > 0 ? json_real(t) : json_null();
}

json_t *run_to_json(const run *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "run", json_string(r->id));
    json_object_set_new(o, "agent", json_string(r->agent_name));
    json_object_set_new(o, "instance", json_integer(r->instance));
    json_object_set_new(o, "task", opt_str(r->task));
    json_object_set_new(o, "machine", json_string(r->p->machine_id));
    json_object_set_new(o, "state", json_string(run_state_name(r->state)));
    json_object_set_new(o, "pid", json_integer(r->pid));
    json_object_set_new(o, "pid_start", json_integer((json_int_t)r->pid_start));
    json_object_set_new(o, "exit_code", opt_int(r->has_exit && !r->exit_signal, r->exit_code));
    json_object_set_new(o, "exit_signal", opt_int(r->has_exit && r->exit_signal, r->exit_signal));
    json_object_set_new(o, "created_at", json_real(r->created_at));
    json_object_set_new(o, "started_at", opt_time(r->started_at));
    json_object_set_new(o, "ended_at", opt_time(r->ended_at));
    json_object_set_new(o, "restarts", json_integer(r->restarts));
    json_object_set_new(o, "reason", opt_str(r->reason));
    json_object_set_new(o, "resumed_from", opt_str(r->resumed_from));
    json_object_set_new(o, "waiting_input", opt_str(ask_first(r)));
    json_object_set_new(o, "session_id", opt_str(r->session_id));
    json_object_set_new(o, "cost_usd", r->has_cost ? json_real(r->cost_usd) : json_null());
    json_object_set_new(o, "tokens", run_spent_tokens(r, false));
    json_object_set_new(o, "updated_at", json_real(r->updated_at));
    json_object_set_new(o, "adopted", json_boolean(r->adopted));
    return o;
}

void run_publish_state(run *r)
{
    r->updated_at = bosun_now();
    run_emit(r, "state", run_to_json(r));
}

static void remove_runtime_files(run *r);

static void set_state(run *r, enum run_state s, const char *reason)
{
    /* A run that ended stays as it ended: nothing late (an input request
     * of a stopped run, a resume) may rewrite its history.  (A new run is
     * STOPPED too, but has not ended.) */
    if (r->ended_at != 0 && state_class(r->state) == BOSUN_RUN_CLASS_TERMINAL && s != r->state) {
        log_warning("run %s (%s) is %s; not changing it to %s", r->id, r->agent_name,
                    run_state_name(r->state), run_state_name(s));
        return;
    }
    if (reason)
        set_reason(r, reason);
    r->state = s;
    if (!run_active(r) && r->ended_at == 0)
        r->ended_at = bosun_now();
    log_debug("run %s (%s): %s%s%s", r->id, r->agent_name, run_state_name(s), r->reason ? ": " : "",
              r->reason ? r->reason : "");
    run_publish_state(r);
    if (r->git && state_class(s) == BOSUN_RUN_CLASS_TERMINAL) {
        /* the last snapshot and the worktree's fate, on their own time */
        git_run_end(r->git, &r->p->git_ending);
        r->git = NULL;
    }
    if (!run_active(r) && s != RS_WAITING_INPUT)
        remove_runtime_files(r); /* the token's file goes with the run */
    if (!run_active(r))
        proc_run_settled(r->p, r);
}

void run_set_state(run *r, enum run_state s, const char *reason)
{
    set_state(r, s, reason);
}

/* ------------------------------------------------------------ set-up */

/* A run has two directories: <state_dir>/runs/<id> for what outlives it
 * (prompt, answer, output.log), made at its first file; and
 * <runtime_dir>/runs/<id> for what is secret or passing (mcp.json with the
 * token, the copies of the prompt and answer the agent reads, the agent
 * type's files), removed when the run ends.  Under systemd the runtime one
 * is on tmpfs: the token never reaches a disk.
 *
 * Both are the daemon's, whatever user the agent runs as: the state one is
 * 0750 in a state directory only the daemon and its group enter, the
 * runtime one 0711 so that an agent of another user reaches the files
 * given to it there (its own, 0600) but can neither list nor add nor
 * replace anything.  Files are made relative to the directory without
 * following links (fsafe.h). */
static int ensure_state_dir(run *r, char *err, size_t err_size)
{
    if (r->state_dir_made)
        return 0;
    int fd = fsafe_dir(r->run_dir, 0750);
    if (fd < 0) {
        snprintf(err, err_size, "cannot create %s: %s", r->run_dir, strerror(errno));
        return -1;
    }
    close(fd);
    r->state_dir_made = true;
    return 0;
}

static int agent_owner(run *r, uid_t *uid, gid_t *gid, char *err, size_t err_size)
{
    agent_config *a = r->agent;
    (void)err; /* cannot fail any more: kept for its callers */
    (void)err_size;
    if (!a || !a->user)
        return 0;
    *uid = a->uid; /* resolved when the configuration was loaded */
    *gid = a->gid;
    return 1;
}

/* Writes name afresh in dir, open as dfd (-1: not opened), with mode,
 * owned by uid/gid unless uid is -1; returns its path or NULL (err set). */
static char *write_file_at(int dfd, const char *dir, const char *name, const char *content,
                           mode_t mode, uid_t uid, gid_t gid, char *err, size_t err_size)
{
    char *path = xasprintf("%s/%s", dir, name);
    if (dfd < 0 || fsafe_write(dfd, name, content, strlen(content), mode, uid, gid) < 0) {
        snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
        free(path);
        path = NULL;
    }
    return path;
}

static char *write_file_in(const char *dir, mode_t dir_mode, const char *name, const char *content,
                           mode_t mode, uid_t uid, gid_t gid, char *err, size_t err_size)
{
    int dfd = fsafe_dir(dir, dir_mode);
    char *path = write_file_at(dfd, dir, name, content, mode, uid, gid, err, err_size);
    if (dfd >= 0)
        close(dfd);
    return path;
}

/* A file for the agent to read, in the runtime directory (open as rt, or
 * -1 to open it): 0600 and the agent's user's when it runs as another
 * one. */
static char *run_give_file_at(run *r, int rt, const char *name, const char *content, char *err,
                              size_t err_size)
{
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    if (agent_owner(r, &uid, &gid, err, err_size) < 0)
        return NULL;
    if (rt >= 0)
        return write_file_at(rt, r->rt_dir, name, content, 0600, uid, gid, err, err_size);
    return write_file_in(r->rt_dir, 0711, name, content, 0600, uid, gid, err, err_size);
}

static char *run_give_file(run *r, const char *name, const char *content, char *err,
                           size_t err_size)
{
    return run_give_file_at(r, -1, name, content, err, err_size);
}

char *run_write_state_file(run *r, const char *name, const char *content, char *err,
                           size_t err_size)
{
    if (ensure_state_dir(r, err, err_size) < 0)
        return NULL;
    char *kept =
        write_file_in(r->run_dir, 0750, name, content, 0640, (uid_t)-1, (gid_t)-1, err, err_size);
    if (!kept)
        return NULL;
    free(kept);
    return run_give_file(r, name, content, err, err_size);
}

char *run_read_state_file(run *r, const char *name, size_t max)
{
    int dfd = open(r->run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return NULL;
    size_t len;
    char *text = fsafe_read(dfd, name, max, &len);
    close(dfd);
    return text;
}

static void remove_runtime_files(run *r)
{
    if (!r->rt_dir)
        return;
    /* The directory is the daemon's: its names are the ones it made. */
    static const char *const given[] = {"mcp.json", "mcp-http.json", "prompt", "answer"};
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++) {
        char *path = xasprintf("%s/%s", r->rt_dir, given[i]);
        unlink(path);
        free(path);
    }
    rmdir(r->rt_dir); /* only when the agent type left nothing there */
}

/* mcp-http.json: bosun's server as MCP Streamable HTTP at the http
 * plugin's /mcp, the token in its Authorization header (0600 like
 * mcp.json).  None when the agent asks for stdio or, under auto, when no
 * loopback listener serves /mcp; mcp_transport: http without one is an
 * error. */
static int give_http_config(run *r, int rt, char *err, size_t err_size)
{
    enum mcp_transport t = r->agent ? r->agent->mcp_transport : MCP_TRANSPORT_AUTO;
    const char *url = r->p->mcp_http_url;
    if (t == MCP_TRANSPORT_STDIO || (!url && t == MCP_TRANSPORT_AUTO))
        return 0;
    if (!url) {
        snprintf(err, err_size,
                 "mcp_transport is http, but no plain-HTTP loopback listener serves /mcp (load "
                 "the http plugin with listen: 127.0.0.1:PORT and no tls)");
        return -1;
    }
    char *auth = xasprintf("Bearer %s", r->token);
    json_t *cfg = json_pack("{s:{s:{s:s,s:s,s:{s:s}}}}", "mcpServers", "bosun", "type", "http",
                            "url", url, "headers", "Authorization", auth);
    explicit_bzero(auth, strlen(auth));
    free(auth);
    char *text = json_dumps(cfg, JSON_INDENT(2));
    json_decref(cfg);
    r->mcp_http_config =
        text ? run_give_file_at(r, rt, "mcp-http.json", text, err, err_size) : NULL;
    if (text)
        explicit_bzero(text, strlen(text));
    free(text);
    if (!r->mcp_http_config && !text)
        snprintf(err, err_size, "out of memory writing mcp-http.json");
    return r->mcp_http_config ? 0 : -1;
}

/* The run's agent token (shown to the run only; elsewhere its hash) and
 * the MCP configuration agents such as Claude Code take with
 * --mcp-config: `bosunctl mcp` with the socket and the token in its
 * environment, in one 0600 file (and mcp-http.json, give_http_config). */
static int issue_token(run *r, int rt, char *err, size_t err_size)
{
    proc *p = r->p;
    if (token_new(r->token) != 0) {
        snprintf(err, err_size, "no randomness for the agent token");
        return -1;
    }
    /* Only the token_issued event (the store) needs the hash. */
    char hash[TOKEN_HASH_LEN + 1];
    token_hash(r->token, hash);
    /* Known by value from now on: redacted wherever it would be stored or
     * logged (see <bosun/secret.h>), until the run is freed. */
    if (bosun_secret_add(r->token, strlen(TOKEN_PREFIX)) != 0) {
        explicit_bzero(r->token, sizeof r->token);
        snprintf(err, err_size, "cannot register the agent token: %s", strerror(errno));
        return -1;
    }
    json_t *cfg = json_pack("{s:{s:{s:s,s:[s],s:{s:s,s:s,s:s}}}}", "mcpServers", "bosun", "command",
                            p->mcp_command, "args", "mcp", "env", "BOSUN_SOCKET", p->agent_socket,
                            "BOSUN_RUN_ID", r->id, "BOSUN_AGENT_TOKEN", r->token);
    char *text = json_dumps(cfg, JSON_INDENT(2));
    json_decref(cfg);
    r->mcp_config = run_give_file_at(r, rt, "mcp.json", text, err, err_size);
    explicit_bzero(text, strlen(text));
    free(text);
    if (!r->mcp_config || give_http_config(r, rt, err, err_size) != 0)
        return -1;
    run_emit(r, "token_issued",
             json_pack("{s:s,s:f}", "hash", hash, "expires_at", bosun_now() + p->token_ttl));
    return 0;
}

run *run_new(proc *p, agent_config *a, const char *id, unsigned instance, const char *task,
             const char *prompt, char *err, size_t err_size)
{
    run *r = xcalloc(1, sizeof *r);
    r->p = p;
    if (id)
        snprintf(r->id, sizeof r->id, "%s", id);
    else
        ulid_new(r->id);
    r->agent = a;
    r->agent_name = xstrdup(a->name);
    r->instance = instance;
    r->task = task ? xstrdup(task) : NULL;
    r->prompt = prompt ? xstrdup(prompt) : NULL;
    r->created_at = r->updated_at = bosun_now();
    r->pidfd = -1;
    r->log.fd = -1;
    r->run_dir = xasprintf("%s/runs/%s", p->state_dir, r->id);
    r->rt_dir = xasprintf("%s/runs/%s", p->runtime_dir, r->id);
    /* 0711 exactly: an older version left it 0700 and the agent's. */
    int rt = fsafe_dir(r->rt_dir, 0711);
    if (rt < 0 || fchmod(rt, 0711) < 0) {
        if (rt >= 0)
            close(rt);
        snprintf(err, err_size, "cannot create %s: %s", r->rt_dir, strerror(errno));
        run_free(r);
        return NULL;
    }
    /* mcp.json and mcp-http.json go through the descriptor just checked: no second
     * mkdir, open and fstat of the same directory a spawn (issue 18). */
    if ((r->prompt &&
         !(r->prompt_file = run_write_state_file(r, "prompt", r->prompt, err, err_size))) ||
        (!id && issue_token(r, rt, err, err_size) < 0)) {
        close(rt);
        run_free(r);
        return NULL;
    }
    close(rt);
    ev_init(&r->timer, NULL);
    ev_init(&r->drain, NULL);
    ev_init(&r->drain_poll, NULL);
    r->timer.data = r;
    return r;
}

static void flush_log_cb(void *arg);

/* The log file is made at the first output: most service agents print
 * little, and a file fewer per run makes starting hundreds of them faster. */
static void flush_log(run *r)
{
    if (r->logbuf_len == 0)
        return;
    char dir_err[256];
    if (r->log.fd < 0 && !r->log_failed && ensure_state_dir(r, dir_err, sizeof dir_err) < 0) {
        log_error("run %s: %s (output is still kept as events)", r->id, dir_err);
        r->log_failed = true;
    }
    if (r->log.fd < 0 && !r->log_failed) {
        unsigned long long max = r->agent ? r->agent->log_max_bytes : 10ull << 20;
        if (output_log_open(&r->log, r->run_dir, "output.log", max,
                            r->agent ? r->agent->log_keep : 5) < 0) {
            log_error("run %s: cannot open %s/output.log: %s (output is still kept as events)",
                      r->id, r->run_dir, strerror(errno));
            r->log_failed = true;
        }
    }
    output_log_write(&r->log, r->logbuf, r->logbuf_len);
    r->logbuf_len = 0;
    /* Flushed after every read: a buffer grown for a burst of output is
     * not kept by a run that has gone quiet, but by the daemon, for the
     * next read of any run (growing one from nothing for every read of a
     * busy run cost a tenth of the loop's time, in realloc and fresh
     * pages). */
    if (r->logbuf_cap > LOGBUF_KEEP) {
        proc *p = r->p;
        if (r->logbuf_cap <= LOGBUF_SPARE_MAX && r->logbuf_cap > p->logbuf_spare_cap) {
            free(p->logbuf_spare);
            p->logbuf_spare = r->logbuf;
            p->logbuf_spare_cap = r->logbuf_cap;
        } else
            free(r->logbuf);
        r->logbuf = NULL;
        r->logbuf_cap = 0;
    }
}

static void flush_log_cb(void *arg)
{
    flush_log(arg);
}

void run_free(run *r)
{
    if (!r)
        return;
    proc_pace_forget(r->p, r);
    ev_timer_stop(r->p->loop, &r->timer);
    ev_timer_stop(r->p->loop, &r->pid_poll);
    ev_timer_stop(r->p->loop, &r->drain);
    ev_timer_stop(r->p->loop, &r->drain_poll);
    if (r->pidfd >= 0) {
        ev_io_stop(r->p->loop, &r->pidfd_io);
        close(r->pidfd);
    }
    output_free(r->out);
    flush_log(r);
    output_log_close(&r->log);
    free(r->logbuf);
    free(r->agent_name);
    free(r->task);
    free(r->prompt);
    free(r->prompt_file);
    free(r->mcp_config);
    free(r->mcp_http_config);
    if (r->token[0])
        bosun_secret_remove(r->token);
    explicit_bzero(r->token, sizeof r->token);
    remove_runtime_files(r);
    free(r->run_dir);
    free(r->rt_dir);
    free(r->output_subject);
    json_decref(r->id_json);
    json_decref(r->task_json);
    free(r->reason);
    free(r->waiters);
    ask_clear(r);
    free(r->resumed_from);
    free(r->resume_input);
    free(r->resume_answer);
    free(r->session_id);
    free(r->model);
    json_decref(r->last_result);
    git_run_free(r->git);
    free(r);
}

/* ------------------------------------------------------------ output */

/* Room for need bytes in r's log buffer: the daemon's spare buffer when
 * it is large enough, else a larger one of r's own. */
static void grow_log(run *r, size_t need)
{
    proc *p = r->p;
    if (p->logbuf_spare && p->logbuf_spare_cap >= need) {
        if (r->logbuf_len)
            memcpy(p->logbuf_spare, r->logbuf, r->logbuf_len);
        free(r->logbuf);
        r->logbuf = p->logbuf_spare;
        r->logbuf_cap = p->logbuf_spare_cap;
        p->logbuf_spare = NULL;
        p->logbuf_spare_cap = 0;
        return;
    }
    r->logbuf_cap = need * 2;
    r->logbuf = xrealloc(r->logbuf, r->logbuf_cap);
}

static void append_log(run *r, const char *line, size_t len)
{
    if (r->logbuf_len + len + 1 > r->logbuf_cap)
        grow_log(r, r->logbuf_len + len + 1);
    memcpy(r->logbuf + r->logbuf_len, line, len);
    r->logbuf[r->logbuf_len + len] = '\n';
    r->logbuf_len += len + 1;
    if (r->logbuf_len >= LOGBUF_FLUSH)
        flush_log(r);
}

/* What the agent type is told about r (which has an agent). */
static bosun_run_info run_info(const run *r)
{
    return (bosun_run_info){.run_id = r->id,
                            .agent = r->agent_name,
                            .instance = r->instance,
                            .task_id = r->task,
                            .prompt = r->prompt,
                            .prompt_file = r->prompt_file,
                            .machine_id = r->p->machine_id,
                            .run_dir = r->rt_dir,
                            .config = r->agent->node,
                            .restarts = r->restarts,
                            .resume_input =
                                r->resume_crash ? BOSUN_RESUME_CRASH_TEXT : r->resume_answer,
                            .mcp_config = r->mcp_config,
                            .mcp_http_config = r->mcp_http_config,
                            .session_id = r->session_id,
                            .resume_why = r->resume_crash    ? BOSUN_RESUME_CRASH
                                          : r->resume_answer ? BOSUN_RESUME_ANSWER
                                                             : BOSUN_RESUME_NONE,
                            .result = r->last_result};
}

static bool type_parsed_line(run *r, enum bosun_stream stream, const char *line, size_t len)
{
    agent_config *a = r->agent;
    if (!a || !a->ops->parse_line)
        return false;
    json_t *events = json_array();
    bosun_run_info info = run_info(r);
    int rc = a->ops->parse_line(a->type_state, &info, stream, line, len, events);
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        if (kind && bus_subject_check(kind) == 0 && !strchr(kind, '.')) {
            run_note_event(r, kind, ev);
            run_emit(r, kind, json_incref(ev));
        } else
            log_warning("run %s: agent type %s produced an event without a valid kind", r->id,
                        a->type);
    }
    json_decref(events);
    return rc == 1;
}

/* Output lines become "output" events: text when the bytes are UTF-8, else
 * base64, so binary output is kept exactly and never breaks JSON. */
static void on_line(void *arg, enum bosun_stream stream, const bosun_line *piece)
{
    run *r = arg;
    const char *line = piece->data;
    size_t len = piece->len;
    append_log(r, line, len);
    r->lines[stream]++;
    if (type_parsed_line(r, stream, line, len))
        return;
    static json_t *names[3];
    if (!names[BOSUN_STREAM_STDOUT]) {
        names[BOSUN_STREAM_STDOUT] = json_string("stdout");
        names[BOSUN_STREAM_STDERR] = json_string("stderr");
    }
    json_t *d = json_object();
    json_object_set(d, "stream", names[stream]);
    json_object_set_new(d, "n", json_integer((json_int_t)r->lines[stream]));
    if (bosun_utf8_text(line, len)) {
        json_object_set_new(d, "text", json_stringn_nocheck(line, len));
    } else {
        char *b64 = util_base64_encode(line, len);
        json_object_set_new(d, "base64", json_string(b64));
        free(b64);
    }
    /* Enough to give back the agent's bytes exactly: a piece goes on in
     * the next event, a line ends with a newline unless it says otherwise. */
    if (piece->cut)
        json_object_set_new(d, "cut", json_true());
    else if (!piece->nl)
        json_object_set_new(d, "eol", json_string(""));
    else if (piece->cr)
        json_object_set_new(d, "eol", json_string("\r\n"));
    emit_output(r, d);
}

void run_pause_output(run *r, bool pause)
{
    if (!r->out)
        return;
    if (pause)
        output_pause(r->out);
    else
        output_resume(r->out);
}

/* ------------------------------------------------------------ spawn */

/* Sets NAME=value in a NULL-terminated list, replacing an earlier NAME. */
static void env_set(char ***env, size_t *n, const char *entry)
{
    size_t name_len = strcspn(entry, "=");
    for (size_t i = 0; i < *n; i++)
        if (strncmp((*env)[i], entry, name_len) == 0 && (*env)[i][name_len] == '=') {
            free((*env)[i]);
            (*env)[i] = xstrdup(entry);
            return;
        }
    *env = xrealloc(*env, (*n + 2) * sizeof **env);
    (*env)[(*n)++] = xstrdup(entry);
    (*env)[*n] = NULL;
}

/* Removes NAME, which may come from the daemon's environment or env:, so a
 * run never sees a prompt that is not its own. */
static void env_unset(char **env, size_t *n, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < *n; i++)
        if (strncmp(env[i], name, len) == 0 && env[i][len] == '=') {
            free(env[i]);
            memmove(env + i, env + i + 1, (*n - i) * sizeof *env);
            (*n)--;
            return;
        }
}

static void env_setf(char ***env, size_t *n, const char *name, const char *value)
{
    char *e = xasprintf("%s=%s", name, value ? value : "");
    env_set(env, n, e);
    free(e);
}

/* The daemon's environment, then the type's additions, the agent's env:,
 * and the BOSUN_* variables, later ones winning. */
static char **build_env(run *r, const bosun_launch *l)
{
    char **env = xcalloc(1, sizeof *env);
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        env_set(&env, &n, *e);
    for (char **e = l->env; e && *e; e++)
        env_set(&env, &n, *e);
    for (char **e = r->agent->env; e && *e; e++)
        env_set(&env, &n, *e);
    env_setf(&env, &n, "BOSUN_RUN_ID", r->id);
    env_setf(&env, &n, "BOSUN_AGENT", r->agent_name);
    env_setf(&env, &n, "BOSUN_MACHINE_ID", r->p->machine_id);
    env_setf(&env, &n, "BOSUN_TASK_ID", r->task ? r->task : "");
    char inst[16];
    snprintf(inst, sizeof inst, "%u", r->instance);
    env_setf(&env, &n, "BOSUN_INSTANCE", inst);
    env_unset(env, &n, "BOSUN_PROMPT_FILE");
    env_unset(env, &n, "BOSUN_PROMPT");
    env_unset(env, &n, "BOSUN_AGENT_TOKEN");
    env_unset(env, &n, "BOSUN_MCP_CONFIG");
    env_unset(env, &n, "BOSUN_SESSION_ID");
    if (r->session_id)
        env_setf(&env, &n, "BOSUN_SESSION_ID", r->session_id);
    env_setf(&env, &n, "BOSUN_SOCKET", r->p->agent_socket);
    static const char *const resume_vars[] = {"BOSUN_RESUME", "BOSUN_RESUMED_FROM",
                                              "BOSUN_INPUT_REQUEST_ID", "BOSUN_INPUT_ANSWER",
                                              "BOSUN_INPUT_ANSWER_FILE"};
    for (size_t i = 0; i < sizeof resume_vars / sizeof resume_vars[0]; i++)
        env_unset(env, &n, resume_vars[i]);
    if (r->resume_input) {
        env_setf(&env, &n, "BOSUN_RESUME", "1");
        env_setf(&env, &n, "BOSUN_RESUMED_FROM", r->resumed_from);
        env_setf(&env, &n, "BOSUN_INPUT_REQUEST_ID", r->resume_input);
        char *file = xasprintf("%s/answer", r->rt_dir);
        env_setf(&env, &n, "BOSUN_INPUT_ANSWER_FILE", file);
        free(file);
        if (strlen(r->resume_answer) <= PROMPT_ENV_MAX)
            env_setf(&env, &n, "BOSUN_INPUT_ANSWER", r->resume_answer);
    }
    if (r->token[0]) {
        env_setf(&env, &n, "BOSUN_AGENT_TOKEN", r->token);
        env_setf(&env, &n, "BOSUN_MCP_CONFIG", r->mcp_config);
    }
    if (r->prompt) {
        env_setf(&env, &n, "BOSUN_PROMPT_FILE", r->prompt_file);
        if (strlen(r->prompt) <= PROMPT_ENV_MAX)
            env_setf(&env, &n, "BOSUN_PROMPT", r->prompt);
    }
    return env;
}

static void schedule_retry(run *r, const char *reason);

static void on_start_secs(struct ev_loop *loop, ev_timer *w, int revents)
{
    run *r = w->data;
    if (r->state == RS_STARTING)
        set_state(r, RS_RUNNING, NULL);
}

static void spawn_failed(run *r, const char *reason)
{
    run_emit(r, "spawn_failed",
             json_pack("{s:s,s:I}", "reason", reason, "restarts", (json_int_t)r->restarts));
    log_warning("run %s (%s): %s", r->id, r->agent_name, reason);
    schedule_retry(r, reason);
}

/* A spawn made ready and waiting to be started: at once, or with the
 * others of its batch (run_spawn_batch_end). */
typedef struct pending_spawn {
    run *r;
    bosun_launch l; /* the agent type's command: argv, workdir, env */
    spawn_request req;
    char **env;
    int child_out, child_err; /* the pipes' write ends, for the child */
    int resume_why;           /* enum bosun_resume_why */
    spawn_batch_item it;
} pending_spawn;

struct spawn_batch {
    pending_spawn **v;
    size_t n, cap;
};

/* The pipes, the environment and the request of a spawn. */
static int launch_prepare(run *r, pending_spawn *ps, char *err, size_t err_size)
{
    agent_config *a = r->agent;
    const char *worktree = git_run_workdir(r->git);
    ps->req = (spawn_request){.argv = ps->l.argv,
                              .workdir = worktree        ? worktree
                                         : ps->l.workdir ? ps->l.workdir
                                                         : a->workdir};
    ps->child_out = ps->child_err = -1;
    r->out = output_new(r->p->loop, a->line_max, on_line, flush_log_cb, r, &ps->child_out,
                        &ps->child_err);
    if (!r->out) {
        snprintf(err, err_size, "cannot create pipes: %s", strerror(errno));
        return -1;
    }
    ps->req.stdout_fd = ps->child_out;
    ps->req.stderr_fd = ps->child_err;
    if (a->user) { /* resolved when the configuration was loaded */
        ps->req.switch_user = true;
        ps->req.uid = a->uid;
        ps->req.gid = a->gid;
        ps->req.groups = a->groups;
        ps->req.n_groups = a->n_groups;
    }
    ps->env = build_env(r, &ps->l);
    ps->req.envp = ps->env;
    return 0;
}

/* The run ends over a budget: class BUDGET, never restarted. */
static void end_on_budget(run *r, const char *why)
{
    run_emit(r, "spawn_failed", json_pack("{s:s,s:s}", "reason", why, "class", "budget"));
    r->restart_requested = false;
    set_state(r, RS_EXITED, why);
}

/* Everything a spawn needs before the clone: the budget check, the
 * session, the agent type's command, the pipes.  NULL when the run could
 * not be made ready (it is told so). */
static pending_spawn *spawn_prepare(run *r)
{
    agent_config *a = r->agent;
    char err[512] = "";
    /* Restarts and resumes too: a spent budget stays spent. */
    if (proc_budget_refuses(r->p, a, r->task, err, sizeof err)) {
        if (!r->budget_hit)
            r->budget_hit = "refused";
        end_on_budget(r, err);
        return NULL;
    }
    r->budget_left = a->budget.usd_per_run - r->cost_usd;
    run_emit(r, "spawn_requested", json_pack("{s:I}", "restarts", (json_int_t)r->restarts));
    bosun_run_info info = run_info(r);
    char *type_err = NULL;
    if (r->session_id && !r->resume_crash && !r->resume_answer) {
        /* Started over: a new conversation, never the old one's id again
         * (a CLI refuses to create a session that exists). */
        free(r->session_id);
        r->session_id = NULL;
        info = run_info(r);
    }
    if (!r->session_id && !r->resume_answer && !r->resume_crash && a->ops->assign_session) {
        char sid[BOSUN_SESSION_ID_MAX + 1] = "";
        if (a->ops->assign_session(a->type_state, &info, sid, sizeof sid) == 0) {
            if (!bosun_session_id_valid(sid)) {
                spawn_failed(r, "the agent type assigned an invalid session id");
                return NULL;
            }
            run_set_session(r, sid); /* stored before the process starts */
            info = run_info(r);
        }
    }
    json_decref(r->last_result);
    r->last_result = NULL;
    info.result = NULL;
    info.budget_usd_left = a->budget.usd_per_run > 0 ? &r->budget_left : NULL;
    bool resuming = r->resume_answer || r->resume_crash;
    int (*build)(void *, const bosun_run_info *, bosun_launch *, char **) =
        resuming && a->ops->build_resume ? a->ops->build_resume : a->ops->build_launch;
    pending_spawn *ps = xcalloc(1, sizeof *ps);
    ps->r = r;
    ps->resume_why = info.resume_why;
    if (build(a->type_state, &info, &ps->l, &type_err) != 0 || !ps->l.argv || !ps->l.argv[0]) {
        snprintf(err, sizeof err, "agent type %s could not build the command: %s", a->type,
                 type_err ? type_err : "no argv");
        free(type_err);
        bosun_launch_clear(&ps->l);
        free(ps);
        spawn_failed(r, err);
        return NULL;
    }
    if (launch_prepare(r, ps, err, sizeof err) != 0) {
        bosun_launch_clear(&ps->l);
        free(ps);
        output_free(r->out);
        r->out = NULL;
        spawn_failed(r, err);
        return NULL;
    }
    return ps;
}

/* After the clone (it->error 0: started): the run is RUNNING, or STARTING
 * for start_secs; or it failed to start and backs off. */
static void spawn_finish(pending_spawn *ps)
{
    run *r = ps->r;
    const spawn_batch_item *it = &ps->it;
    agent_config *a = r->agent;
    close(ps->child_out);
    close(ps->child_err);
    util_strv_free(ps->env);
    char err[512] = "";
    if (it->error == 0) {
        r->pid = it->pid;
        r->pid_start = it->start_time;
        hmap_put_u64(&r->p->by_pid, (uint64_t)it->pid, r);
        if (r->git)
            git_run_watch(r->git, ps->req.workdir);
    } else
        spawn_batch_error(it, err, sizeof err);
    json_t *argv = json_array();
    for (char **v = ps->l.argv; *v; v++)
        json_array_append_new(argv, json_string(*v));
    bosun_launch_clear(&ps->l);
    int why = ps->resume_why;
    int error = it->error;
    free(ps);
    if (error != 0) {
        json_decref(argv);
        output_free(r->out);
        r->out = NULL;
        return spawn_failed(r, err);
    }
    r->started_at = bosun_now();
    r->started_mono = bosun_monotonic();
    r->alive = true;
    r->has_exit = false;
    r->ended_at = 0;
    set_reason(r, NULL);
    if (r->p->paused)
        output_pause(r->out);
    output_start(r->out);
    run_emit(r, "spawn_started",
             json_pack("{s:i,s:o,s:I,s:o,s:s}", "pid", (int)r->pid, "argv", argv, "restarts",
                       (json_int_t)r->restarts, "session_id", opt_str(r->session_id), "resume",
                       why == BOSUN_RESUME_CRASH    ? "crash"
                       : why == BOSUN_RESUME_ANSWER ? "answer"
                                                    : "none"));
    if (a->start_secs <= 0) {
        set_state(r, RS_RUNNING, NULL);
        return;
    }
    set_state(r, RS_STARTING, NULL);
    ev_timer_stop(r->p->loop, &r->timer);
    ev_timer_init(&r->timer, on_start_secs, a->start_secs, 0);
    r->timer.data = r;
    ev_timer_start(r->p->loop, &r->timer);
}

static void spawn_now(run *r)
{
    pending_spawn *ps = spawn_prepare(r);
    if (!ps)
        return;
    proc *p = r->p;
    ps->it.req = &ps->req;
    if (p->spawn_batch_depth == 0) {
        spawn_one(&ps->it);
        spawn_finish(ps);
        return;
    }
    struct spawn_batch *b = p->spawn_batch;
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->v = xrealloc(b->v, b->cap * sizeof *b->v);
    }
    b->v[b->n++] = ps;
    spawn_batch_add(&ps->it);
}

void run_spawn_batch_begin(proc *p)
{
    if (!p->spawn_batch)
        p->spawn_batch = xcalloc(1, sizeof *p->spawn_batch);
    if (p->spawn_batch_depth++ == 0)
        spawn_batch_open();
}

/* The batch's clones have been running on the pool's threads while its
 * runs were made ready; the rest start here.  Then each run is finished in
 * the order it was made ready.  A spawn asked for while finishing (none
 * is, today: a failure backs off on a timer) goes alone. */
void run_spawn_batch_end(proc *p)
{
    if (p->spawn_batch_depth == 0 || --p->spawn_batch_depth > 0)
        return;
    spawn_batch_close();
    struct spawn_batch b = *p->spawn_batch;
    *p->spawn_batch = (struct spawn_batch){0};
    for (size_t i = 0; i < b.n; i++)
        spawn_finish(b.v[i]);
    free(b.v);
}

void run_spawn_batch_free(proc *p)
{
    spawn_pool_stop();
    if (p->spawn_batch)
        free(p->spawn_batch->v); /* empty: every batch has ended */
    free(p->spawn_batch);
    p->spawn_batch = NULL;
}

static void on_worktree_ready(void *arg, const char *err)
{
    run *r = arg;
    if (err)
        return spawn_failed(r, err);
    spawn_now(r);
}

/* A run gets its git_run when it has a worktree or a workdir whose
 * changes to record; the worktree is made before its first process. */
void run_spawn(run *r)
{
    agent_config *a = r->agent;
    if (!r->git && (a->worktree || (a->changes.enabled && a->workdir))) {
        git_as as = {.switch_user = a->user != NULL,
                     .uid = a->uid,
                     .gid = a->gid,
                     .groups = a->groups,
                     .n_groups = a->n_groups};
        git_run_spec s = {.loop = r->p->loop,
                          .bus = r->p->bus,
                          .state_dir = r->p->state_dir,
                          .machine = r->p->machine_id,
                          .agent = r->agent_name,
                          .run = r->id,
                          .task = r->task,
                          .instance = r->instance,
                          .wt = a->worktree,
                          .changes = &a->changes,
                          .as = &as};
        r->git = git_run_new(&s);
    }
    if (a->worktree && !git_run_workdir(r->git)) {
        set_state(r, RS_STARTING, "making its worktree");
        git_run_prepare(r->git, on_worktree_ready, r);
        return;
    }
    spawn_now(r);
}

/* ------------------------------------------------------------ restarts */

static double backoff_delay(const agent_config *a, unsigned failures)
{
    if (a->backoff_base <= 0 || failures == 0)
        return 0;
    double d = a->backoff_base * pow(2.0, (double)(failures - 1));
    return d > a->backoff_max ? a->backoff_max : d;
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    run *r = w->data;
    if (r->state != RS_BACKOFF)
        return;
    /* Not at once: proc_pace.c spawns it when the loop has room. */
    proc_pace_spawn(r->p, r);
}

static void schedule_retry(run *r, const char *reason)
{
    agent_config *a = r->agent;
    if (!a || r->p->shutting_down) {
        set_state(r, RS_EXITED, reason);
        return;
    }
    r->failures++;
    if (a->max_restarts >= 0 && r->failures > (unsigned long long)a->max_restarts) {
        char why[600];
        snprintf(why, sizeof why, "gave up after %u consecutive failures (max_restarts %lld): %s",
                 r->failures, a->max_restarts, reason);
        set_state(r, RS_FATAL, why);
        return;
    }
    double delay = backoff_delay(a, r->failures);
    /* Even without back-off the next spawn waits for the next loop turn, so
     * that a command that cannot start never recurses. */
    set_state(r, RS_BACKOFF, reason);
    ev_timer_stop(r->p->loop, &r->timer);
    ev_timer_init(&r->timer, on_retry, delay, 0);
    r->timer.data = r;
    ev_timer_start(r->p->loop, &r->timer);
}

/* ------------------------------------------------------------ exit */

static void describe_exit(int status, char *buf, size_t size)
{
    if (WIFSIGNALED(status)) {
        const char *n = signal_to_name(WTERMSIG(status));
        if (n)
            snprintf(buf, size, "killed by signal %d (SIG%s)", WTERMSIG(status), n);
        else
            snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
    } else {
        snprintf(buf, size, "exited with code %d", WEXITSTATUS(status));
    }
}

static const char *exit_class_name(enum bosun_exit_class c)
{
    switch (c) {
    case BOSUN_EXIT_DONE:
        return "done";
    case BOSUN_EXIT_NEEDS_INPUT:
        return "needs_input";
    case BOSUN_EXIT_BUDGET:
        return "budget";
    default:
        return "failed";
    }
}

static enum bosun_exit_class classify(run *r, int status)
{
    agent_config *a = r->agent;
    if (a && a->ops->classify_exit) {
        bosun_run_info info = run_info(r);
        return a->ops->classify_exit(a->type_state, &info, status);
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? BOSUN_EXIT_DONE : BOSUN_EXIT_FAILED;
}

static void notify_waiters(run *r)
{
    size_t n = r->n_waiters;
    run_waiter **ws = r->waiters;
    r->waiters = NULL;
    r->n_waiters = 0;
    for (size_t i = 0; i < n; i++)
        waiter_done(r->p, ws[i], r);
    free(ws);
}

void run_add_waiter(run *r, run_waiter *w)
{
    r->waiters = xrealloc(r->waiters, (r->n_waiters + 1) * sizeof *r->waiters);
    r->waiters[r->n_waiters++] = w;
}

/* It asked a human and may exit meanwhile: not a failure, never
 * restarted; an answer resumes it, at once when it came already. */
static void exit_waiting(run *r, const char *how)
{
    run_emit(r, "spawn_completed",
             json_pack("{s:s,s:s}", "reason", how, "waiting_input", ask_first(r)));
    char why[128];
    snprintf(why, sizeof why, "waiting for input %s", ask_open(r) ? ask_open(r) : ask_first(r));
    set_state(r, RS_WAITING_INPUT, why);
    if (ask_answered(r))
        proc_resume_later(r->p, r);
}

static void finish_stopping(run *r)
{
    /* killasgroup: whatever the agent left in its group goes too. */
    if (r->pid > 0)
        kill(-r->pid, SIGKILL);
    if (r->budget_hit) {
        ask_clear(r);
        end_on_budget(r, r->reason ? r->reason : "budget exceeded");
        notify_waiters(r);
        return;
    }
    if (r->restart_requested && r->agent && !r->p->shutting_down) {
        r->restart_requested = false;
        r->failures = 0;
        r->restarts++;
        r->resume_crash = r->session_id && r->agent->resume == RESUME_ALWAYS;
        run_spawn(r); /* its questions stay: the new process exits waiting too */
        notify_waiters(r);
        return;
    }
    if (r->n_asks && (r->p->shutting_down || r->orphan_stop)) {
        /* Stopped by bosund, not by a person: the answer still resumes
         * it, after bosund's restart (from the store) or now. */
        exit_waiting(r, r->reason ? r->reason : "stopped");
        notify_waiters(r);
        return;
    }
    ask_clear(r); /* stopped by a human: nothing resumes it */
    set_state(r, RS_STOPPED, r->reason ? r->reason : "stopped");
    notify_waiters(r);
}

static void after_exit(run *r, int status, const char *how)
{
    if (r->state == RS_STOPPING) {
        finish_stopping(r);
        return;
    }
    if (r->n_asks) {
        exit_waiting(r, how);
        return;
    }
    if (r->state == RS_STARTING) {
        char why[300];
        snprintf(why, sizeof why, "%s within start_secs (%.3g s)", how, r->agent->start_secs);
        run_emit(r, "spawn_failed", json_pack("{s:s}", "reason", why));
        schedule_retry(r, why);
        return;
    }
    enum bosun_exit_class cls = classify(r, status);
    /* What the agent said at its end explains an exit better than a code. */
    const char *said = json_string_value(json_object_get(r->last_result, "reason"));
    char why[600];
    snprintf(why, sizeof why, "%s%s%s", how, said && cls != BOSUN_EXIT_DONE ? ": " : "",
             said && cls != BOSUN_EXIT_DONE ? said : "");
    json_t *ended = json_pack("{s:s,s:s}", "reason", why, "class", exit_class_name(cls));
    run_emit(r, cls == BOSUN_EXIT_DONE ? "spawn_completed" : "spawn_failed", ended);
    agent_config *a = r->agent;
    bool stopped = cls == BOSUN_EXIT_NEEDS_INPUT || cls == BOSUN_EXIT_BUDGET || r->budget_hit;
    /* Died (a signal nobody here sent): with resume on-crash its session
     * carries on, whatever the restart policy says. */
    bool crash_resume =
        a && !stopped && WIFSIGNALED(status) && r->session_id && a->resume >= RESUME_ON_CRASH;
    bool restart = a && !r->p->shutting_down && !stopped &&
                   (crash_resume || a->restart == RESTART_ALWAYS ||
                    (a->restart == RESTART_ON_FAILURE && cls == BOSUN_EXIT_FAILED));
    if (!restart) {
        set_state(r, RS_EXITED, cls == BOSUN_EXIT_NEEDS_INPUT && !said ? "waiting for input" : why);
        return;
    }
    r->resume_crash = crash_resume || (r->session_id && a->resume == RESUME_ALWAYS);
    /* A clean exit, or a run that stayed up restart_reset, ends a streak of
     * failures: back-off and max_restarts count consecutive failures only. */
    if (cls == BOSUN_EXIT_DONE || bosun_monotonic() - r->started_mono >= a->restart_reset)
        r->failures = 0;
    schedule_retry(r, why);
}

/* The run's end once nothing of its process group is left to wait for. */
static void finish_exit(run *r, int status)
{
    ev_timer_stop(r->p->loop, &r->timer);
    r->draining = false;
    ev_timer_stop(r->p->loop, &r->drain);
    ev_timer_stop(r->p->loop, &r->drain_poll);
    if (r->out) {
        /* Output written before the exit is published before it. */
        output_finish(r->out);
        output_free(r->out);
        r->out = NULL;
    }
    flush_log(r);
    r->alive = false;
    r->has_exit = true;
    r->exit_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    char how[128];
    describe_exit(status, how, sizeof how);
    run_emit(r, "exited",
             json_pack("{s:i,s:o,s:o,s:f,s:I,s:I}", "pid", (int)r->pid, "exit_code",
                       opt_int(!r->exit_signal, r->exit_code), "exit_signal",
                       opt_int(r->exit_signal != 0, r->exit_signal), "duration",
                       bosun_monotonic() - r->started_mono, "stdout_lines",
                       (json_int_t)r->lines[BOSUN_STREAM_STDOUT], "stderr_lines",
                       (json_int_t)r->lines[BOSUN_STREAM_STDERR]));
    after_exit(r, status, how);
    /* The pid stays in the record (last process) but is no longer ours. */
}

/* How often the group is looked at while it drains, and how long after
 * SIGKILL it may take to go (zombies nobody reaps never do). */
#define DRAIN_POLL       0.05
#define DRAIN_KILL_GRACE 1.0

static void on_drain_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
    run *r = w->data;
    if (kill(-r->pid, 0) < 0 && errno == ESRCH)
        finish_exit(r, r->drain_status);
}

/* stop_timeout after the stop signal: SIGKILL; DRAIN_KILL_GRACE after
 * that: the run ends whatever is left. */
static void on_drain_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    run *r = w->data;
    if (r->drain_killed) {
        log_warning("run %s (%s): its process group is still there %.3g s after SIGKILL; "
                    "ending the run",
                    r->id, r->agent_name, DRAIN_KILL_GRACE);
        finish_exit(r, r->drain_status);
        return;
    }
    log_warning("run %s (%s): what its process left in its group still runs %.3g s after SIG%s; "
                "sending SIGKILL",
                r->id, r->agent_name, r->agent->stop_timeout,
                signal_to_name(r->agent->stop_signal));
    r->drain_killed = true;
    kill(-r->pid, SIGKILL);
    ev_timer_set(&r->drain, DRAIN_KILL_GRACE, 0);
    ev_timer_start(loop, &r->drain);
}

/* kill_mode group (the default): when the main process exits on its own,
 * what it left in its process group is stopped like the run would be
 * (stop_signal, SIGKILL after stop_timeout), and its output is read until
 * the last of it has gone; only then does the run end.  Returns false when
 * nothing is left. */
static bool drain_group(run *r, int status)
{
    agent_config *a = r->agent;
    if (!a || a->kill_process_only || r->state == RS_STOPPING || r->pid <= 0 ||
        kill(-r->pid, 0) < 0)
        return false;
    log_notice("run %s (%s): its main process exited and left processes in its group; sending "
               "them SIG%s (kill_mode group)",
               r->id, r->agent_name, signal_to_name(a->stop_signal));
    run_emit(r, "group_stopping",
             json_pack("{s:i,s:s}", "pgid", (int)r->pid, "signal", signal_to_name(a->stop_signal)));
    r->draining = true;
    r->drain_killed = false;
    r->drain_status = status;
    /* Still alive: a stop now goes through run_stop to the group. */
    ev_timer_stop(r->p->loop, &r->timer);
    kill(-r->pid, a->stop_signal);
    ev_timer_init(&r->drain, on_drain_timeout, a->stop_timeout, 0);
    r->drain.data = r;
    ev_timer_start(r->p->loop, &r->drain);
    ev_timer_init(&r->drain_poll, on_drain_poll, DRAIN_POLL, DRAIN_POLL);
    r->drain_poll.data = r;
    ev_timer_start(r->p->loop, &r->drain_poll);
    return true;
}

void run_child_exited(run *r, int status)
{
    if (drain_group(r, status))
        return;
    finish_exit(r, status);
}

/* ------------------------------------------------------------ stop */

static void on_stop_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    run *r = w->data;
    if (r->state != RS_STOPPING || r->pid <= 0)
        return;
    log_warning("run %s (%s): still running %.3g s after SIG%s; sending SIGKILL to its process "
                "group",
                r->id, r->agent_name, r->agent ? r->agent->stop_timeout : 0.0,
                signal_to_name(r->agent ? r->agent->stop_signal : SIGTERM));
    run_emit(r, "stop_escalated", json_pack("{s:i}", "pid", (int)r->pid));
    kill(-r->pid, SIGKILL);
}

void run_stop(run *r, const char *reason)
{
    if (git_run_preparing(r->git) && !r->alive) {
        /* no process yet: its worktree is still being made */
        set_state(r, RS_STOPPED, reason);
        notify_waiters(r);
        return;
    }
    switch (r->state) {
    case RS_BACKOFF:
        ev_timer_stop(r->p->loop, &r->timer);
        if (r->restart_requested && r->agent && !r->p->shutting_down) {
            finish_stopping(r);
            return;
        }
        set_state(r, RS_STOPPED, reason);
        notify_waiters(r);
        return;
    case RS_WAITING_INPUT:
        if (!r->alive) {
            ask_clear(r);
            set_state(r, RS_STOPPED, reason);
            notify_waiters(r);
            return;
        }
        __attribute__((fallthrough)); /* its process still runs */
    case RS_STARTING:
    case RS_RUNNING: {
        int sig = r->agent ? r->agent->stop_signal : SIGTERM;
        double timeout = r->agent ? r->agent->stop_timeout : 10;
        set_state(r, RS_STOPPING, reason);
        if (kill(-r->pid, sig) < 0 && errno == ESRCH)
            kill(r->pid, sig);
        ev_timer_stop(r->p->loop, &r->timer);
        ev_timer_init(&r->timer, on_stop_timeout, timeout, 0);
        r->timer.data = r;
        ev_timer_start(r->p->loop, &r->timer);
        return;
    }
    case RS_STOPPING:
        return;
    default:
        notify_waiters(r);
        return;
    }
}

void run_wait_for_input(run *r, const char *input_id)
{
    if (!run_active(r))
        return; /* an ended run asks nothing: it is never resumed */
    ask_add(r, input_id);
    if (r->alive &&
        (r->state == RS_RUNNING || r->state == RS_STARTING || r->state == RS_WAITING_INPUT)) {
        char why[128];
        snprintf(why, sizeof why, "waiting for input %s", input_id);
        ev_timer_stop(r->p->loop, &r->timer); /* start_secs no longer matters */
        set_state(r, RS_WAITING_INPUT, why);
    }
}

void run_restart(run *r)
{
    r->restart_requested = true;
    set_reason(r, "restart requested");
    run_stop(r, "restart requested");
}

/* ------------------------------------------------------------ orphans */

static void orphan_gone(run *r)
{
    r->alive = false;
    if (r->pidfd >= 0) {
        ev_io_stop(r->p->loop, &r->pidfd_io);
        close(r->pidfd);
        r->pidfd = -1;
    }
    ev_timer_stop(r->p->loop, &r->pid_poll);
    ev_timer_stop(r->p->loop, &r->timer);
    /* Not our child: its exit status cannot be collected. */
    run_emit(
        r, "exited",
        json_pack("{s:i,s:s}", "pid", (int)r->pid, "note", "adopted process; exit status unknown"));
    if (r->state == RS_STOPPING) {
        /* From here on it is an ordinary run: a restart spawns our own child. */
        r->adopted = false;
        finish_stopping(r);
        return;
    }
    if (r->n_asks) {
        exit_waiting(r, "adopted process exited (exit status unknown)");
        return;
    }
    set_state(r, RS_EXITED, "adopted process exited (exit status unknown)");
    notify_waiters(r);
}

static void on_pidfd(struct ev_loop *loop, ev_io *w, int revents)
{
    orphan_gone(w->data);
}

static void on_pid_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
    run *r = w->data;
    if (!proc_alive(r->pid, r->pid_start))
        orphan_gone(r);
}

void run_adopt(run *r, bool stop_it)
{
    r->adopted = true;
    r->alive = true;
#ifdef SYS_pidfd_open
    r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
#endif
    if (r->pidfd >= 0) {
        ev_io_init(&r->pidfd_io, on_pidfd, r->pidfd, EV_READ);
        r->pidfd_io.data = r;
        ev_io_start(r->p->loop, &r->pidfd_io);
    } else {
        ev_timer_init(&r->pid_poll, on_pid_poll, 0.2, 0.2);
        r->pid_poll.data = r;
        ev_timer_start(r->p->loop, &r->pid_poll);
    }
    if (stop_it) {
        r->orphan_stop = true;
        run_stop(r, "stopping a process left running by an earlier bosund");
    } else
        set_state(r, RS_RUNNING, "adopted after a daemon restart");
}
