/* bosunctl commands about agents and runs (ps, start, stop, restart) and
 * about stored events (logs, events). */
#include "config.h"

#include "bosunctl.h"
#include "ctl_output.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bosun/bus.h>
#include <bosun/store.h>

#define PROMPT_MAX (1024 * 1024)

json_t *bus_call(ctl_conn *conn, const char *subject, json_t *data, double timeout, int *rc)
{
    json_t *req = json_pack("{s:s,s:s,s:o,s:f}", "op", "request", "subject", subject, "data", data,
                            "timeout", timeout);
    json_t *r = call(conn, req, timeout + 10, rc);
    if (!r)
        return NULL;
    json_t *d = json_incref(json_object_get(r, "data"));
    json_decref(r);
    json_t *e = json_object_get(d, "error");
    if (e) {
        *rc = die_error(e);
        json_decref(d);
        return NULL;
    }
    return d;
}

/* A request whose failure is not the command's: its reply data, or NULL
 * (nothing printed) on any error.  data is taken. */
static json_t *quiet_call(ctl_conn *conn, const char *subject, json_t *data, double timeout)
{
    char err[512];
    json_t *req = json_pack("{s:s,s:s,s:o,s:f}", "op", "request", "subject", subject, "data", data,
                            "timeout", timeout);
    json_t *resp = ctl_call(conn, req, timeout + 10, err, sizeof err);
    json_decref(req);
    json_t *d = json_incref(json_object_get(json_object_get(resp, "result"), "data"));
    json_decref(resp);
    if (!json_is_object(d) || json_is_object(json_object_get(d, "error"))) {
        json_decref(d);
        return NULL;
    }
    return d;
}

json_t *store_status(ctl_conn *conn)
{
    return quiet_call(conn, BOSUN_STORE_STATUS, json_object(), 5.0);
}

json_t *notify_status(ctl_conn *conn)
{
    return quiet_call(conn, "cmd.notify.status", json_object(), 2.0);
}

void store_warn(ctl_conn *conn)
{
    json_t *st = store_status(conn);
    if (st && json_is_true(json_object_get(st, "failing")))
        fprintf(stderr,
                "bosunctl: warning: the store cannot write to %s: %s; %" JSON_INTEGER_FORMAT
                " events wait in memory and agents' output is paused until it can "
                "(see bosunctl status)\n",
                json_string_value(json_object_get(st, "path")) ?: "?",
                json_string_value(json_object_get(st, "failure")) ?: "?",
                json_integer_value(json_object_get(st, "pending")));
    json_decref(st);
}

/* ------------------------------------------------------------ ps */

static void format_exit(json_t *row, char *buf, size_t size)
{
    json_t *code = json_object_get(row, "exit_code"), *sig = json_object_get(row, "exit_signal");
    if (json_is_integer(sig))
        snprintf(buf, size, "signal %" JSON_INTEGER_FORMAT, json_integer_value(sig));
    else if (json_is_integer(code))
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(code));
    else
        snprintf(buf, size, "-");
}

/* On a hub, the active runs of its machines, from their forwarded events
 * (the store's projection): appended to rows as ps rows, with "machine".
 * Local rows of another machine than --machine are dropped.  A daemon
 * without the fleet plugin or a store adds nothing. */
static void ps_machines(ctl_conn *conn, const opts *o, json_t *rows)
{
    for (size_t i = json_array_size(rows); o->machine && i-- > 0;) {
        const char *m = json_string_value(json_object_get(json_array_get(rows, i), "machine"));
        if (!m || strcmp(m, o->machine) != 0)
            json_array_remove(rows, i);
    }
    /* Only a hub (the fleet plugin answers) has machines' runs: elsewhere
     * ps must not wait for the store, which may be slow (a commit). */
    json_t *fleet = quiet_call(conn, "cmd.machine.list", json_object(), 2);
    if (!fleet)
        return;
    json_decref(fleet);
    json_t *q = json_pack("{s:b,s:b,s:i}", "active", 1, "remote", 1, "limit", 10000);
    if (o->machine)
        json_object_set_new(q, "machine", json_string(o->machine));
    json_t *d = quiet_call(conn, BOSUN_STORE_RUNS, q, 5);
    size_t i;
    json_t *run;
    double now = (double)time(NULL);
    json_array_foreach(json_object_get(d, "runs"), i, run)
    {
        double started = json_number_value(json_object_get(run, "started_at"));
        json_object_set_new(run, "uptime", json_real(started > 0 ? now - started : 0));
        json_array_append(rows, run);
    }
    json_decref(d);
}

int cmd_ps(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 0)
        return die(EX_USAGE_, "usage: bosunctl ps [--machine M]");
    int rc = 0;
    json_t *d = bus_call(conn, PROC_CMD_PS, json_object(), 10, &rc);
    if (!d)
        return rc;
    json_t *rows = json_object_get(d, "rows");
    ps_machines(conn, o, rows);
    if (o->json) {
        print_json(rows);
        json_decref(d);
        return 0;
    }
    static const char *const headers[] = {"AGENT",  "RUN",      "STATE", "PID",
                                          "UPTIME", "RESTARTS", "EXIT",  "COST",
                                          "REASON", "MACHINE",  NULL};
    table *t = table_new(headers);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char agent[96], pid[24], up[32], restarts[24], ex[48], cost[32];
        const char *name = json_string_value(json_object_get(row, "agent")) ?: "-";
        long long inst = json_integer_value(json_object_get(row, "instance"));
        if (inst > 0)
            snprintf(agent, sizeof agent, "%s:%lld", name, inst);
        else
            snprintf(agent, sizeof agent, "%s", name);
        const char *state = json_string_value(json_object_get(row, "state"));
        long long p = json_integer_value(json_object_get(row, "pid"));
        bool live = state && (strcmp(state, "RUNNING") == 0 || strcmp(state, "STARTING") == 0 ||
                              strcmp(state, "STOPPING") == 0);
        snprintf(pid, sizeof pid, live && p > 0 ? "%lld" : "-", p);
        double uptime = json_number_value(json_object_get(row, "uptime"));
        if (uptime > 0)
            format_duration(uptime, up, sizeof up);
        else
            snprintf(up, sizeof up, "-");
        snprintf(restarts, sizeof restarts, "%lld",
                 json_integer_value(json_object_get(row, "restarts")));
        format_exit(row, ex, sizeof ex);
        format_cost(json_object_get(row, "cost_usd"), cost, sizeof cost);
        const char *cells[] = {agent,
                               json_string_value(json_object_get(row, "run")),
                               state,
                               pid,
                               up,
                               restarts,
                               ex,
                               cost,
                               json_string_value(json_object_get(row, "reason")),
                               json_string_value(json_object_get(row, "machine")),
                               NULL};
        table_add_row(t, cells);
    }
    table_print(t, stdout);
    table_free(t);
    json_decref(d);
    return 0;
}

/* ------------------------------------------------------------ start/stop */

/* The file's text ("-": stdin), or NULL after printing why (*rc set). */
static char *read_prompt_file(const char *path, int *rc)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        *rc = die(EX_USAGE_, "--prompt-file: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = xmalloc(PROMPT_MAX + 2);
    size_t n = fread(buf, 1, PROMPT_MAX + 1, f);
    bool failed = ferror(f);
    int read_errno = errno;
    if (f != stdin)
        fclose(f);
    if (failed) {
        free(buf);
        *rc = die(EX_USAGE_, "--prompt-file: cannot read %s: %s", path, strerror(read_errno));
        return NULL;
    }
    if (n > PROMPT_MAX) {
        free(buf);
        *rc = die(EX_USAGE_, "--prompt-file: %s is over %d bytes", path, PROMPT_MAX);
        return NULL;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        free(buf);
        *rc = die(EX_USAGE_, "--prompt-file: %s contains NUL bytes", path);
        return NULL;
    }
    return buf;
}

int prompt_option(const opts *o, json_t **prompt)
{
    *prompt = NULL;
    if (o->prompt && o->prompt_file)
        return die(EX_USAGE_, "--prompt and --prompt-file exclude each other");
    if (!o->prompt && !o->prompt_file)
        return 0;
    int rc = 0;
    char *text = o->prompt_file ? read_prompt_file(o->prompt_file, &rc) : NULL;
    if (o->prompt_file && !text)
        return rc;
    *prompt = json_string(text ? text : o->prompt);
    free(text);
    if (!*prompt)
        return die(EX_USAGE_, "the prompt is not valid UTF-8");
    return 0;
}

void machine_option(const opts *o, json_t *req)
{
    if (o->machine)
        json_object_set_new(req, "machine", json_string(o->machine));
}

int cmd_start(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 1)
        return die(EX_USAGE_, "usage: bosunctl start AGENT [--task ID] [--prompt TEXT | "
                              "--prompt-file FILE]");
    json_t *prompt;
    int rc = prompt_option(o, &prompt);
    if (rc)
        return rc;
    json_t *req = json_pack("{s:s}", "agent", argv[0]);
    if (o->task)
        json_object_set_new(req, "task", json_string(o->task));
    if (prompt)
        json_object_set_new(req, "prompt", prompt);
    machine_option(o, req);
    json_t *d = bus_call(conn, PROC_CMD_START, req, o->timeout_set ? o->timeout : 30, &rc);
    if (!d)
        return rc;
    if (o->json)
        print_json(d);
    else
        puts(json_string_value(json_object_get(d, "run")) ?: "");
    json_decref(d);
    /* Started, but its output would not be stored for now: say so. */
    store_warn(conn);
    return 0;
}

static int stop_like(ctl_conn *conn, const opts *o, int argc, char **argv, const char *subject,
                     const char *verb)
{
    if (argc != 1)
        return die(EX_USAGE_, "usage: bosunctl %s RUN|AGENT",
                   strcmp(verb, "stopped") ? "restart" : "stop");
    int rc = 0;
    json_t *req = json_pack("{s:s}", "target", argv[0]);
    machine_option(o, req);
    json_t *d = bus_call(conn, subject, req, o->timeout_set ? o->timeout : 600, &rc);
    if (!d)
        return rc;
    if (o->json) {
        print_json(d);
    } else {
        size_t i;
        json_t *id;
        json_t *ids = json_object_get(d, verb);
        const char *run = json_string_value(json_object_get(d, "run"));
        if (run) /* a restart that started a new run */
            printf("started %s\n", run);
        json_array_foreach(ids, i, id) printf("%s %s\n", verb, json_string_value(id) ?: "");
        if (json_is_array(ids) && json_array_size(ids) == 0)
            printf("nothing was running\n");
    }
    json_decref(d);
    return 0;
}

int cmd_stop(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    return stop_like(conn, o, argc, argv, PROC_CMD_STOP, "stopped");
}

int cmd_restart(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    return stop_like(conn, o, argc, argv, PROC_CMD_RESTART, "restarted");
}

/* ------------------------------------------------------------ events */

typedef void (*event_printer)(json_t *ev, const opts *o);

/* Pages through stored events after *last (query borrowed), printing
 * each, until the store has no more.  Replies are bounded in bytes, so a
 * page may hold fewer events than asked.  A "tail" query is asked once; if
 * its window did not fit one reply ("partial"), the rest is read forwards
 * like any other page.  Returns 0 or the exit code of a failed request. */
static int replay_pages(ctl_conn *conn, const opts *o, json_t *query, json_int_t *last,
                        event_printer print, bool (*stop_when)(json_t *ev), bool *ended)
{
    json_t *q = json_deep_copy(query);
    int rc = 0;
    for (;;) {
        bool tail = json_object_get(q, "tail") != NULL;
        if (tail)
            json_object_del(q, "since"), json_object_del(q, "limit"); /* the window is the tail */
        else
            json_object_set_new(q, "since", json_integer(*last));
        json_t *d = bus_call(conn, BOSUN_STORE_EVENTS, json_incref(q), 30, &rc);
        if (!d)
            break;
        size_t i;
        json_t *ev;
        json_array_foreach(json_object_get(d, "events"), i, ev)
        {
            print(ev, o);
            *last = json_integer_value(json_object_get(ev, "seq"));
            *ended = *ended || (stop_when && stop_when(ev));
        }
        bool more = json_is_true(json_object_get(d, tail ? "partial" : "more"));
        if (tail) {
            json_object_del(q, "tail");
            json_object_set_new(q, "limit", json_integer(1000));
        }
        if (!more) {
            json_int_t store_last = json_integer_value(json_object_get(d, "last_seq"));
            if (store_last > *last)
                *last = store_last;
        }
        json_decref(d);
        if (!more)
            break;
    }
    json_decref(q);
    return rc;
}

/* The daemon stopped pushing live events (we fell behind): read what was
 * missed from the store, resume, and read once more what came between the
 * two; live events that follow are then filtered by seq as usual. */
static int catch_up(ctl_conn *conn, const opts *o, json_t *base, json_int_t sid, json_int_t *last,
                    event_printer print, bool (*stop_when)(json_t *ev), bool *ended)
{
    int rc = replay_pages(conn, o, base, last, print, stop_when, ended);
    if (rc)
        return rc;
    json_t *r = call(conn, json_pack("{s:s,s:I}", "op", "resume", "sid", sid), 10, &rc);
    if (!r)
        return rc;
    json_decref(r);
    return replay_pages(conn, o, base, last, print, stop_when, ended);
}

/* Replays stored events, then (with -f) follows live ones from the
 * "stored." feed.  The subscription is made before the replay, and live
 * events at or below the last replayed sequence are dropped: no gap, no
 * duplicate.  The subscription is resumable: when this reader falls behind
 * the daemon says so and stops pushing, and the reader catches up from the
 * store, so a slow reader still gets everything.  stop_when(ev) may end
 * the follow (e.g. a run has ended). */
static int replay_and_follow(ctl_conn *conn, const opts *o, json_t *query, const char *pattern,
                             event_printer print, bool (*stop_when)(json_t *ev))
{
    int rc = 0;
    json_int_t sid = 0;
    if (o->follow) {
        char live[BUS_SUBJECT_MAX + 16];
        snprintf(live, sizeof live, "%s%s", BOSUN_STORED_PREFIX, pattern);
        json_t *r =
            call(conn, json_pack("{s:s,s:s,s:b}", "op", "sub", "pattern", live, "resumable", 1), 10,
                 &rc);
        if (!r) {
            json_decref(query);
            return rc;
        }
        sid = json_integer_value(json_object_get(r, "sid"));
        json_decref(r);
    }
    json_int_t last = json_integer_value(json_object_get(query, "since"));
    bool ended = false;
    rc = replay_pages(conn, o, query, &last, print, stop_when, &ended);
    /* Catching up reads forwards (no tail) what the live feed would have
     * brought: all of pattern, so that stop_when sees a run's end. */
    json_object_del(query, "tail");
    json_object_set_new(query, "limit", json_integer(1000));
    json_object_set_new(query, "subject", json_string(pattern));
    while (!rc && o->follow && !ended && !interrupted) {
        int timed_out;
        char err[512];
        json_t *m = ctl_read_after(conn, last, -1, &timed_out, err, sizeof err);
        if (!m) {
            if (interrupted)
                break;
            json_decref(query);
            return die_conn(conn, err);
        }
        json_t *s = json_object_get(m, "sub");
        json_t *ev = json_object_get(json_object_get(m, "msg"), "data");
        json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
        bool ours = json_is_integer(s) && json_integer_value(s) == sid;
        if (ours && json_is_true(json_object_get(m, "paused"))) {
            rc = catch_up(conn, o, query, sid, &last, print, stop_when, &ended);
        } else if (ours && seq > last) {
            print(ev, o);
            last = seq;
            ended = stop_when && stop_when(ev);
        }
        json_decref(m);
        fflush(stdout);
    }
    json_decref(query);
    return rc;
}

static void print_event(json_t *ev, const opts *o)
{
    const char *machine = json_string_value(json_object_get(ev, "machine"));
    /* The live feed carries every machine's: --machine keeps one's. */
    if (o->machine && (!machine || strcmp(machine, o->machine) != 0))
        return;
    if (o->json) {
        print_json(ev);
        return;
    }
    char when[32];
    time_t t = (time_t)json_number_value(json_object_get(ev, "time"));
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", localtime_r(&t, &tm));
    char *data = json_dumps(json_object_get(ev, "data"), JSON_COMPACT | JSON_ENCODE_ANY);
    /* A machine's event on a hub: "@machine" before its subject. */
    bool remote = machine && json_object_get(ev, "machine_seq");
    printf("%" JSON_INTEGER_FORMAT " %s %s%s%s%s %s\n",
           json_integer_value(json_object_get(ev, "seq")), when, remote ? "@" : "",
           remote ? machine : "", remote ? " " : "",
           json_string_value(json_object_get(ev, "subject")) ?: "", data ? data : "null");
    free(data);
}

int cmd_events(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 0)
        return die(EX_USAGE_, "usage: bosunctl events [--since SEQ] [--subject PATTERN] "
                              "[--machine M] [-f]");
    if (o->since < 0)
        return die(EX_USAGE_, "--since: '%s' is not a sequence number", o->since_text);
    const char *pattern = o->subject ? o->subject : "evt.>";
    json_t *q = json_pack("{s:I,s:s,s:i}", "since", (json_int_t)o->since, "subject", pattern,
                          "limit", 1000);
    if (o->machine)
        json_object_set_new(q, "machine", json_string(o->machine));
    if (o->tail && o->since) {
        json_decref(q);
        return die(EX_USAGE_, "--tail and --since exclude each other");
    }
    if (o->tail)
        json_object_set_new(q, "tail", json_integer(o->tail));
    return replay_and_follow(conn, o, q, pattern, print_event, NULL);
}

/* ------------------------------------------------------------ logs */

static void print_log_line(json_t *ev, const opts *o)
{
    json_t *d = json_object_get(ev, "data");
    const char *subject = json_string_value(json_object_get(ev, "subject"));
    const char *kind = subject ? strrchr(subject, '.') : NULL;
    if (!kind || strcmp(kind, ".output") != 0)
        return;
    if (o->json) {
        print_json(ev);
        return;
    }
    const char *stream = json_string_value(json_object_get(d, "stream"));
    FILE *out = stream && strcmp(stream, "stderr") == 0 ? stderr : stdout;
    const char *text = json_string_value(json_object_get(d, "text"));
    if (text) {
        fputs(text, out);
    } else {
        size_t n = 0;
        unsigned char *raw =
            util_base64_decode(json_string_value(json_object_get(d, "base64")) ?: "", &n);
        if (raw)
            fwrite(raw, 1, n, out);
        free(raw);
    }
    /* A piece goes on in the next event; a line ends as the agent ended it
     * ("eol", absent for a newline), so the bytes printed are those written. */
    json_t *eol = json_object_get(d, "eol");
    if (!json_is_true(json_object_get(d, "cut")))
        fputs(json_is_string(eol) ? json_string_value(eol) : "\n", out);
    fflush(out);
}

static bool run_ended(json_t *ev)
{
    const char *subject = json_string_value(json_object_get(ev, "subject"));
    const char *kind = subject ? strrchr(subject, '.') : NULL;
    if (!kind || strcmp(kind, ".state") != 0)
        return false;
    const char *state = json_string_value(json_object_get(json_object_get(ev, "data"), "state"));
    return bosun_run_state_class(state) == BOSUN_RUN_CLASS_TERMINAL;
}

static bool stored_run_ended(ctl_conn *conn, const char *id)
{
    int rc = 0;
    json_t *d = bus_call(conn, BOSUN_STORE_RUNS, json_pack("{s:s}", "run", id), 10, &rc);
    json_t *row = json_array_get(json_object_get(d, "runs"), 0);
    json_t *ev = json_pack("{s:s,s:{s:O?}}", "subject", "evt.run.x.x.state", "data", "state",
                           json_object_get(row, "state"));
    bool ended = row && run_ended(ev);
    json_decref(ev);
    json_decref(d);
    return ended;
}

int cmd_logs(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 1)
        return die(EX_USAGE_, "usage: bosunctl logs RUN [-f] [--tail N]");
    const char *id = argv[0];
    if (bus_subject_check(id) != 0 || strchr(id, '.'))
        return die(EX_USAGE_, "'%s' is not a run id", id);
    char pattern[BUS_SUBJECT_MAX];
    /* Output lines, plus state changes so that -f ends with the run. */
    snprintf(pattern, sizeof pattern, "evt.run.*.%s.%s", id, o->follow ? "*" : "output");
    json_t *q = json_pack("{s:I,s:s,s:s,s:i}", "since", (json_int_t)0, "subject", pattern, "run",
                          id, "limit", 1000);
    if (o->tail) {
        json_object_set_new(q, "tail", json_integer(o->tail));
        char out_only[BUS_SUBJECT_MAX];
        snprintf(out_only, sizeof out_only, "evt.run.*.%s.output", id);
        json_object_set_new(q, "subject", json_string(out_only));
        if (o->follow && stored_run_ended(conn, id)) {
            /* Nothing more will come: show the tail and stop. */
            opts once = *o;
            once.follow = 0;
            return replay_and_follow(conn, &once, q, pattern, print_log_line, NULL);
        }
    }
    return replay_and_follow(conn, o, q, pattern, print_log_line, run_ended);
}
