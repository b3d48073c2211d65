/* bosun — the store contract.
 *
 * A store is a plugin of kind BOSUN_PLUGIN_STORE.  Like every plugin it
 * talks only over the bus, so this header is the whole interface: the
 * subjects a store consumes, answers and publishes, and the shape of their
 * data.  The embedded default is `sqlite`; a PostgreSQL store for a hub
 * implements the same contract.
 *
 * Events.  Every message on an "evt.>" subject is an event and is persisted
 * in arrival order with a sequence number that only grows, never repeats
 * and never goes backwards, also across restarts (gaps are allowed).  The
 * data of an event is a JSON object; the store reads from it the columns
 *   run     data.run   (string, optional)
 *   task    data.task  (string, optional)
 *   machine data.machine, else the local machine id
 * Writes are batched: everything that arrived during one loop turn is
 * committed in one transaction before the loop sleeps again.
 *
 * After a batch is committed the store publishes each of its events on
 * BOSUN_STORED_PREFIX + subject (so "evt.run.a.b.output" is re-published as
 * "stored.evt.run.a.b.output") with the stored form
 *   {"seq": N, "time": T, "subject": S, "machine": M, "run": R|null,
 *    "task": K|null, "data": {...}}
 * A client that subscribes to "stored.<pattern>" and then asks for
 * BOSUN_STORE_EVENTS since some seq gets every event exactly once if it
 * drops live ones with seq <= the last replayed seq: no gap, no duplicate.
 *
 * Projections kept up to date from events:
 *   runs   from "evt.run.<agent>.<run>.state" whose data is a run object
 *          (BOSUN_RUN_FIELDS below)
 *   agents from "evt.agent.<name>.configured" {"agent","type","config"} and
 *          "evt.agent.<name>.removed"
 *   tasks  from "evt.task.<id>.updated" {"task","title","prompt","status",
 *          "agent","owner"} (missing fields keep their values)
 *
 *   inputs from "evt.input.<id>.requested" {"input","run","task","agent",
 *          "question","choices" (array of strings or null),"blocking"}
 *          (status "pending"), "evt.input.<id>.answered" {"input","answer",
 *          "choice" (index or null),"answered_by"} (status "answered") and
 *          "evt.input.<id>.cancelled" {"input","reason"} (status "cancelled")
 *   prs    from "evt.pr.<task>.linked" {"task","run","url","owner","repo",
 *          "number"} (one row per task and url)
 *   tokens from "evt.run.<agent>.<run>.token_issued" {"run","task","agent",
 *          "machine","hash","expires_at"}: hashes only, never a token
 *   runs   also from "evt.run.<agent>.<run>.status" {"state","message"}:
 *          the agent's own report, kept as status / status_message
 *   tasks  updated_at also moves with every stored event whose data.task
 *          names the task
 *   approvals from "evt.approval.<id>.decided" {"id","agent","task",
 *          "run","tool","decision","decided_by","always","sticky_rule"}
 *          (sticky_rule kept only when "always" is true)
 *
 * Requests (reply data; on bad arguments the reply is
 * {"error": {"code": "bad_request", "message": "..."}}):
 *
 *   cmd.store.events  {"since": N (exclusive, default 0),
 *                      "subject": PATTERN (bus wildcards, default "evt.>"),
 *                      "run": ID, "task": ID, "limit": N (1..10000,
 *                      default 1000), "tail": N (the last N matching,
 *                      still in ascending order; excludes "since")}
 *                  -> {"events": [stored form...], "last_seq": highest seq
 *                      committed at the time of the query, "more": bool}
 *   cmd.store.runs    {"run": ID, "agent": NAME, "task": ID, "active": bool
 *                      (only runs whose state is not terminal), "state": S,
 *                      "machine": M, "after": ID, "limit": N}
 *                  -> {"runs": [run objects (+ "status", "status_message"),
 *                      newest first]}
 *   cmd.store.tasks   {"task": ID, "status": S, "after": ID, "limit": N}
 *                  -> {"tasks": [task objects with "pending_inputs" (count),
 *                      last updated first]}
 *   cmd.store.inputs  {"input": ID, "task": ID, "run": ID, "status":
 *                      "pending"|"answered"|"cancelled", "after": ID,
 *                      "limit": N}
 *                  -> {"inputs": [{"input","task","run","agent","question",
 *                      "choices","blocking","status","answer","choice",
 *                      "answered_by","created_at","answered_at"}, newest first]}
 *                  "after" pages these three lists: the rows that come after
 *                  the one with that id in the list's order (none for an
 *                  unknown id), so a client asks again with the id of the
 *                  last row it got.
 *   cmd.store.prs     {"task": ID} -> {"prs": [{"task","run","url","owner",
 *                      "repo","number","linked_at"}]}
 *   cmd.store.tokens  {"hash": HEX} -> {"tokens": [{"hash","run","task",
 *                      "agent","machine","created_at","expires_at"}]}
 *   cmd.store.artifacts.put {"task","run","name","mime_type", "text" | "base64"}
 *                  -> {"task","name","version","size","mime_type","sha256",
 *                      "created_at"} once committed (durable), then
 *                      "evt.artifact.<task>.added" is published with the same
 *                      fields and "run" (never the content).  Every put is a
 *                      new version (1, 2, ...) of (task, name).  Content over
 *                      the store's artifact_max_bytes is refused (code
 *                      "too_large").
 *   cmd.store.artifacts {"task": ID, "name": N, "version": V, "content": bool}
 *                  -> without name: {"artifacts": [latest version of each
 *                      name, with "versions" (count)]}; with name: every
 *                      version, newest first; with "content": true one
 *                      version (the given one, else the latest) as
 *                      {"artifact": {..., "text" | "base64"}}
 *   cmd.store.cost    {"by": "run"|"task"|"agent" (default)|"machine"|"day",
 *                      "since", "until" (seconds, or "YYYY-MM-DD" / RFC 3339
 *                      text: <bosun/date.h>; a day as until is included),
 *                      "agent", "task", "machine", "limit", "cursor"}
 *                  -> {"items": [{"key", "input_tokens", "output_tokens",
 *                      "cache_read_tokens", "cache_creation_tokens",
 *                      "cost_usd", "runs"} (by run also "agent", "task",
 *                      "machine"), ordered by key], "total": {the same sums
 *                      over every selected row}, "next": cursor | null}.
 *                      Usage comes from the runs' usage and result events
 *                      (a result replaces the usage reported live before it).
 *   cmd.store.approvals {"id": ID, "sticky": bool (only the decisions that
 *                      made a sticky rule), "after": ID, "limit": N
 *                      (1..10000, default 1000)}
 *                  -> {"approvals": [{"id","agent","task","run","tool",
 *                      "decision","decided_by","sticky_rule","decided_at"},
 *                      oldest first]}: decided approval requests, the
 *                      projection of "evt.approval.<id>.decided" (made
 *                      from the stored events when the table is new);
 *                      "after" pages as above, in this list's order
 *   cmd.store.status  {} -> {"backend", "path", "events", "last_seq",
 *                      "schema_version", "pending", "failing" (bool) and
 *                      while failing "failure" (message) and
 *                      "failing_since"; the sqlite store adds
 *                      "retained_bytes", "retain_max_bytes", "dropped",
 *                      "congested", "parked", "failures"}; answered at once,
 *                      without waiting for a commit
 *
 *   cmd.store.append_remote {"machine": ID, "events": [{"seq": MSEQ,
 *                      "subject", "time", "data", "run"?, "task"?}, ...]
 *                      (at most 256, mseq strictly increasing)}
 *                  -> {"machine": ID, "acked_seq": N} once committed: a
 *                      hub's copy of a machine's events (bosun-fleet(7)).
 *                      Each is stored with machine = ID (also in its data)
 *                      and its machine seq; one already stored (same
 *                      machine and mseq) is skipped.  N is the highest mseq
 *                      stored for ID (0: none; no events: only that).  They
 *                      are not "evt.>" messages: only the stored.* feed
 *                      shows them, with "machine_seq" in the stored form.
 *                      Runs, tasks and inputs are projected from them keyed
 *                      by machine too; agents, tokens and prs are not.
 *                      cmd.store.events, runs, tasks and inputs take
 *                      "machine": ID to list one machine's.
 *
 *   cmd.store.github {} -> {"prs": [{"task", "url", "metadata", "etag",
 *                      "fetched_at"}], "deliveries": [{"id",
 *                      "received_at"}]}: what the github plugin keeps about
 *                      linked pull requests and the webhook deliveries it
 *                      has seen (bosun-github(7)), read once at its start.
 *   cmd.store.github.put {"prs": [...], "deliveries": [...],
 *                      "deliveries_before": T} -> {"prs": N, "deliveries": N}
 *                      once committed: rows replaced by (task, url) and by
 *                      id; deliveries received before T are dropped.
 *
 * Queries (all but cmd.store.status) see every event published before the
 * request: they wait for its commit, without blocking the daemon, unless
 * commits fail (then they see what is committed).  A store that drops
 * events (memory bound reached while failing) says so in
 * "evt.store.dropped" {"count", "bytes", "total", "first", "last",
 * "reason"}.
 */
#ifndef BOSUN_STORE_H
#define BOSUN_STORE_H

#include <bosun/api.h>

#define BOSUN_STORED_PREFIX       "stored."
#define BOSUN_STORE_EVENTS        "cmd.store.events"
#define BOSUN_STORE_RUNS          "cmd.store.runs"
#define BOSUN_STORE_TASKS         "cmd.store.tasks"
#define BOSUN_STORE_STATUS        "cmd.store.status"
#define BOSUN_STORE_INPUTS        "cmd.store.inputs"
#define BOSUN_STORE_PRS           "cmd.store.prs"
#define BOSUN_STORE_TOKENS        "cmd.store.tokens"
#define BOSUN_STORE_ARTIFACTS     "cmd.store.artifacts"
#define BOSUN_STORE_ARTIFACTS_PUT "cmd.store.artifacts.put"
#define BOSUN_STORE_COST          "cmd.store.cost"
#define BOSUN_STORE_APPROVALS     "cmd.store.approvals"
#define BOSUN_STORE_APPEND_REMOTE "cmd.store.append_remote"
#define BOSUN_STORE_MACHINES      "cmd.store.machines"
#define BOSUN_STORE_MACHINES_PUT  "cmd.store.machines.put"
#define BOSUN_STORE_GITHUB        "cmd.store.github"
#define BOSUN_STORE_GITHUB_PUT    "cmd.store.github.put"

/* A run object, as published in evt.run.<agent>.<run>.state:
 *   run, agent, instance, task (or null), machine, state, pid (0 when none),
 *   pid_start (the process start time from /proc/<pid>/stat, clock ticks
 *   since boot; 0 when none), exit_code (or null), exit_signal (or null),
 *   created_at, started_at, ended_at (or null), restarts, reason (or null),
 *   resumed_from (or null), updated_at.  Times are seconds since the epoch.
 * Terminal states: STOPPED, EXITED, FATAL (and LOST: the daemon died and
 * the process was gone when it came back). */
#define BOSUN_RUN_TERMINAL_STATES "STOPPED", "EXITED", "FATAL", "LOST"
/* Active: the run has, or is about to have, a process. */
#define BOSUN_RUN_ACTIVE_STATES "STARTING", "RUNNING", "BACKOFF", "STOPPING"
/* Waiting: the run asked a blocking question; it is resumed when answered
 * and is neither active nor terminal once its process has exited. */
#define BOSUN_RUN_WAITING_STATES "WAITING_INPUT"

/* Which of the three lists above a state is in; the one place where bosun
 * decides it (the supervisor, the task index, the store's "active" filter
 * and bosunctl all read these). */
enum bosun_run_class {
    BOSUN_RUN_CLASS_UNKNOWN = 0,
    BOSUN_RUN_CLASS_ACTIVE,
    BOSUN_RUN_CLASS_WAITING,
    BOSUN_RUN_CLASS_TERMINAL,
};
BOSUN_API enum bosun_run_class bosun_run_state_class(const char *state);

#endif
