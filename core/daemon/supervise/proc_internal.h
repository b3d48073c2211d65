/* Shared between proc.c (agents, requests, recovery) and proc_run.c (one
 * run's life).  Internal to libbosun. */
#ifndef BOSUN_PROC_INTERNAL_H
#define BOSUN_PROC_INTERNAL_H

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "agent_config.h"
#include "git_run.h"
#include "hmap.h"
#include "proc.h"
#include "proc_output.h"
#include "spend_limit.h"
#include "token.h"
#include "ulid.h"

/* supervisord's states, plus LOST: the daemon died while the run was
 * active and its process was gone when the daemon came back. */
enum run_state {
    RS_STOPPED,
    RS_STARTING,
    RS_RUNNING,
    RS_BACKOFF,
    RS_STOPPING,
    RS_EXITED,
    RS_FATAL,
    RS_LOST,
    RS_WAITING_INPUT, /* asked a human (blocking); resumed when answered */
};

/* A blocking question of the run's, with its answer once it comes
 * (proc_ask.c). */
typedef struct run_ask {
    char *input;
    char *answer; /* NULL until answered */
} run_ask;
#define RUN_ASK_MAX 8

/* A request waiting for runs to reach a state (stop, restart). */
typedef struct run_waiter {
    char *reply;
    json_t *runs; /* ids, for the answer */
    unsigned pending;
    const char *verb; /* "stopped" or "restarted" */
} run_waiter;

typedef struct run {
    struct run *next, *prev; /* proc's list of runs */
    struct run *slot_next;   /* the other runs of its (agent, instance) slot */
    proc *p;
    char id[ULID_LEN + 1];
    char *agent_name;
    agent_config *agent; /* NULL once the agent is removed from the config */
    char *task;
    char *prompt;
    char *prompt_file;
    char *run_dir;             /* <state_dir>/runs/<id>, made at its first file */
    char *rt_dir;              /* <runtime_dir>/runs/<id>: mcp.json, the type's files */
    char token[TOKEN_LEN + 1]; /* secret: only ever in the run's env and token file */
    char *mcp_config;
    char *mcp_http_config; /* mcp-http.json, or NULL (stdio only) */
    enum run_state state;
    unsigned instance;
    pid_t pid;
    unsigned long long pid_start;
    int exit_code;   /* valid when has_exit and exit_signal == 0 */
    int exit_signal; /* 0 when it exited normally */
    double created_at, started_at, ended_at, updated_at;
    double started_mono; /* of the current process */
    unsigned restarts;   /* processes started after the first */
    unsigned failures;   /* consecutive, for back-off and max_restarts */
    char *reason;
    ev_timer timer; /* start_secs, back-off, stop escalation, retry */
    output_capture *out;
    output_log log;
    char *logbuf; /* lines not yet written to the log file */
    size_t logbuf_len, logbuf_cap;
    unsigned long long lines[3]; /* per stream, indexed by enum bosun_stream */
    char *output_subject;        /* made once: output lines are most events */
    json_t *id_json, *task_json;
    /* Its blocking questions not yet carried on with, in asking order:
     * the first answered one resumes it once its process has exited. */
    run_ask asks[RUN_ASK_MAX];
    size_t n_asks;
    char *resumed_from; /* the run this one continues */
    char *resume_input; /* for a resumed run: the request and its answer */
    char *resume_answer;
    char *session_id;    /* the agent's session (see bosun_run_info.session_id) */
    char *model;         /* the model a `session` event named, else NULL (pricing) */
    bool resume_crash;   /* the next process resumes the session after a crash */
    json_t *last_result; /* the current process's last "result" event */
    git_run *git;        /* its worktree and change snapshots, or NULL */
    /* Spent so far, over all processes of the run: the sums of the
     * "result" events' cost_usd and usage (see bosun-plugin(7)). */
    double cost_usd;
    bool has_cost;
    long long tokens[4]; /* input, output, cache_read, cache_write */
    /* Of the current process since its last "result": the "usage" events'
     * tokens and cost, for budgets checked mid-run (a result's totals
     * replace them). */
    long long live_tokens[4];
    double live_usd;
    double counted_usd;     /* of cost_usd + live_usd, what the totals hold */
    double budget_left;     /* usd_per_run less cost_usd, at the process's start */
    const char *budget_hit; /* the budget that stopped it (static), or NULL */
    int pidfd;
    int drain_status; /* while draining: the main process's wait status */
    ev_io pidfd_io;
    ev_timer pid_poll;   /* when pidfd_open is unavailable */
    ev_timer drain;      /* stop_timeout, then SIGKILL, then give up */
    ev_timer drain_poll; /* is the group gone? */
    run_waiter **waiters;
    size_t n_waiters;
    /* flags, together: no padding after each */
    bool state_dir_made;
    bool log_failed; /* the log file could not be made: events only */
    bool has_exit;
    bool restart_requested;
    bool alive;       /* a process of this run is running */
    bool adopted;     /* not our child: watched through a pidfd */
    bool orphan_stop; /* an orphan stopped at start-up: its slot autostarts after */
    /* kill_mode group: the main process has exited and what it left in
     * its process group is being stopped; its output is still read. */
    bool draining;
    bool drain_killed; /* SIGKILL sent */
    bool pace_queued;  /* waits in proc's restart queue (proc_pace.c) */
    struct run *pace_next;
} run;

struct proc {
    struct ev_loop *loop;
    bus_t *bus;
    char *machine_id;
    char *state_dir;
    char *runtime_dir;
    char *agent_socket;
    char *mcp_command;
    char *mcp_http_url; /* the http plugin's /mcp on loopback (BOSUN_HTTP_MCP_URL), or NULL */
    double token_ttl;
    bool adopt_orphans;
    agent_config **agents;
    bosun_prices *prices; /* `prices:` in force: cost of usage a CLI does not price */
    run *runs;            /* active runs and the last run of each slot */
    hmap by_id;           /* run id -> run */
    hmap slots;           /* "agent/instance" -> run_slot: the runs of one slot, so
                           * per-slot work does not walk every run */
    hmap by_pid;          /* pid -> run (our children only) */
    ev_child child_watcher;
    git_run_list git_ending; /* ended runs' last snapshots and worktrees, being settled */
    ev_check pressure_check;
    bool paused; /* output reading paused for back-pressure */
    bus_sub *subs[6];
    bool shutting_down;
    void (*shutdown_done)(void *);
    void *shutdown_arg;
    ev_idle shutdown_idle;
    ev_timer autostart_timer;   /* deferred autostart, outside any run's call chain */
    ev_timer resume_timer;      /* deferred resumes of runs answered while exiting */
    ev_timer trim_timer;        /* returns memory once an autostart burst is stored */
    ev_idle pace_idle;          /* spawns due restarts, a few a loop turn */
    run *pace_head, *pace_tail; /* due restarts, oldest first */
    /* Spawns made ready inside run_spawn_batch_begin/end, started together. */
    struct spawn_batch *spawn_batch;
    unsigned spawn_batch_depth;
    spend_totals *spend;        /* per task, per agent and UTC day */
    spend_limits global_budget; /* the top-level budget: */
    bool began;
    int begin_pending;                         /* store answers proc_begin still waits for */
    json_t *begin_spent, *begin_unfinished;    /* those answers, until both are in */
    void (*began_cb)(void *arg);               /* proc_begin's, once */
    void (*ps_extra)(void *arg, json_t *rows); /* proc_set_ps_extra's */
    void *ps_extra_arg;
    void *began_arg;

    /* A run's grown log buffer, kept for the next read of any run: one
     * per daemon, not one per run. */
    char *logbuf_spare;
    size_t logbuf_spare_cap;
};

/* proc_run.c */
const char *run_state_name(enum run_state s);
bool run_active(const run *r);
/* id: an existing run's id (recovery), or NULL for a new one. */
run *run_new(proc *p, agent_config *a, const char *id, unsigned instance, const char *task,
             const char *prompt, char *err, size_t err_size);
void run_free(run *r);
void run_spawn(run *r);
/* Between these, run_spawn only makes a spawn ready; the last end starts
 * them all, several at once (autostart, paced restarts). */
void run_spawn_batch_begin(proc *p);
void run_spawn_batch_end(proc *p);
/* At proc_free: the batch's memory and the spawn pool's threads. */
void run_spawn_batch_free(proc *p);
void run_stop(run *r, const char *reason);
void run_restart(run *r);
void run_child_exited(run *r, int status);
void run_add_waiter(run *r, run_waiter *w);
json_t *run_to_json(const run *r);
void run_emit(run *r, const char *kind, json_t *data);
void run_publish_state(run *r);
/* Sets the state (and reason, unless NULL), publishes it and, once the run
 * is over, removes its runtime files and tells proc_run_settled. */
void run_set_state(run *r, enum run_state s, const char *reason);
void run_adopt(run *r, bool stop_it);
void run_pause_output(run *r, bool pause);

void run_wait_for_input(run *r, const char *input_id);
/* proc_session.c */
/* Stores the run's session id unless it has one (then false: kept). */
bool run_set_session(run *r, const char *id);
/* Takes cost_usd and tokens back from a stored run (recovery). */
void run_restore_spent(run *r, const json_t *stored);
/* Notes what the core keeps of an event of the type's (kind valid). */
void run_note_event(run *r, const char *kind, json_t *ev);
json_t *run_spent_tokens(const run *r, bool live);
/* Writes name in the run's state directory (0640, the daemon's) and the
 * copy the agent reads in its runtime directory (0600, the agent's user's);
 * returns the copy's path, or NULL with a reason. */
char *run_write_state_file(run *r, const char *name, const char *content, char *err,
                           size_t err_size);
/* Up to max bytes of name in the run's state directory, never through a
 * link; NULL when it cannot be read. */
char *run_read_state_file(run *r, const char *name, size_t max);

/* proc_budget.c */
/* Counts what the run spent since the last call and checks its budgets:
 * one exceeded stops the run (event "budget"). */
void run_budget_check(run *r);
/* The run's cost_usd is already in the totals (recovered runs). */
void run_budget_seen(run *r);
/* What is left of each budget that applies to the run, for ps:
 * {"usd_per_run":{"limit","spent","left"},...}; NULL when none does. */
json_t *run_budget_json(const run *r);
/* A new run of a (task may be NULL) would be over a budget: true, with
 * the sentence for the refusal in err. */
bool proc_budget_refuses(proc *p, const agent_config *a, const char *task, char *err,
                         size_t err_size);
/* Adds the stored runs' spending to the totals (start-up). */
void proc_budget_seed_runs(proc *p, const json_t *runs);
/* proc.c: answers m with {"error": {code, message}}. */
void proc_reply_error(bus_t *bus, const bus_msg *m, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* proc.c: s is a bus token (no dot) of 1 to max bytes, as run and task ids are. */
bool proc_valid_token(const char *s, size_t max);
/* cmd.proc.budgets {task?}: every budget in force, what it has spent
 * and what is left (bosun-bus(7)). */
void proc_budget_list(bus_t *bus, const bus_msg *m, void *arg);

/* proc_pace.c: due restarts spawn a few a loop turn, and only while the
 * bus and the store keep up, so that a restart storm cannot starve the
 * control socket nor outrun the store. */
void proc_pace_init(proc *p);
void proc_pace_stop(proc *p);
/* Queues the run (in BACKOFF, its timer done) for its next process. */
void proc_pace_spawn(proc *p, run *r);
/* Takes the run out of the queue (it is being freed). */
void proc_pace_forget(proc *p, run *r);
/* Each loop turn: restarts the spawning once the pressure is gone. */
void proc_pace_check(proc *p);
/* proc_ask.c */
void ask_add(run *r, const char *input);
run_ask *ask_find(run *r, const char *input);
/* The oldest question (the run's waiting_input), the oldest unanswered. */
const char *ask_first(const run *r);
const char *ask_open(const run *r);
bool ask_answered(const run *r);
/* Takes the oldest answered question out; the caller frees both. */
bool ask_take(run *r, char **input, char **answer);
/* The rest go with the run resumed from `from`. */
void ask_move(run *from, run *to);
void ask_clear(run *r);
/* A run restored at start: its answer from the store, if it came. */
void ask_recover(proc *p, run *r);

/* proc.c */
void proc_run_settled(proc *p, run *r);
/* The run exited waiting for input that is already answered. */
void proc_resume_later(proc *p, run *r);
void waiter_done(proc *p, run_waiter *w, run *r);

#endif
