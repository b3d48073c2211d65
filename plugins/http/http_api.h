/* The REST API v1's parts (http_api*.c), and what they share.
 *
 * Every route turns its request into one or a few bus requests on behalf of
 * the caller (bus_request_as with r->id.who) and their replies into the
 * response: the API adds no second path to what cmd.proc.*, cmd.task.*,
 * cmd.input.*, cmd.store.* and cmd.daemon.status do.  What it adds is the
 * checking of what comes from the network (each parameter's syntax and
 * range, the body's shape, unknown parameters refused) with 400s that name
 * the parameter, the narrowing of identities scoped to one task (agents,
 * share links), and the shapes of bosun-http(7): lists as
 * {"items": [...], "next": cursor|null}, errors as
 * {"error": {"code", "message"}}.
 */
#ifndef BOSUN_HTTP_API_H
#define BOSUN_HTTP_API_H

#include "http.h"

#include <stdbool.h>
#include <stddef.h>

/* Lists: the page size when "limit" is absent, and the most one page may
 * hold (the store's replies are bounded too, see cmd.store.events). */
#define API_LIMIT_DEFAULT 100
#define API_LIMIT_MAX     1000
/* Run, task, input and machine ids, agent names: 1 to 64 of A-Z a-z 0-9 _ -
 * (what the core accepts for a task id and an agent name). */
#define API_ID_MAX 64
/* Stopping waits for the runs to reach a terminal state, which takes up to
 * the agent's stop_timeout (then SIGKILL): longer than a query. */
#define API_STOP_TIMEOUT 120.0

/* The handlers, one file per concern; the route table that binds them to
 * paths, methods and who may call them is in http_api.c. */
void api_machines_list(http_request *r, const char *const *args, size_t n_args);
void api_machine_show(http_request *r, const char *const *args, size_t n_args);
/* http_api_machines.c: the hub's registry; the *_local ones (this machine
 * alone) where there is no fleet plugin. */
void api_machine_registration(http_request *r, const char *const *args, size_t n_args);
void api_machine_revoke(http_request *r, const char *const *args, size_t n_args);
void api_machines_list_local(http_request *r, const char *const *args, size_t n_args);
void api_machine_show_local(http_request *r, const char *const *args, size_t n_args);
void api_status_show(http_request *r, const char *const *args, size_t n_args);
void api_agents_list(http_request *r, const char *const *args, size_t n_args);
void api_agent_start(http_request *r, const char *const *args, size_t n_args);
void api_agent_stop(http_request *r, const char *const *args, size_t n_args);
void api_agent_restart(http_request *r, const char *const *args, size_t n_args);
void api_runs_list(http_request *r, const char *const *args, size_t n_args);
void api_run_show(http_request *r, const char *const *args, size_t n_args);
void api_run_stop(http_request *r, const char *const *args, size_t n_args);
void api_run_restart(http_request *r, const char *const *args, size_t n_args);
void api_run_logs(http_request *r, const char *const *args, size_t n_args);
/* Looks the run up (404, scope), then runs the step of http_api_runs.c's
 * table named step with the stored run and state (stolen; NULL is {}). */
void api_with_run(http_request *r, const char *id, const char *step, json_t *state);
/* http_api_changes.c */
void api_run_changes(http_request *r, const char *const *args, size_t n_args);
void api_changes_found(http_request *r, const json_t *run, json_t *state);
void api_tasks_list(http_request *r, const char *const *args, size_t n_args);
void api_task_create(http_request *r, const char *const *args, size_t n_args);
void api_task_show(http_request *r, const char *const *args, size_t n_args);
void api_inputs_list(http_request *r, const char *const *args, size_t n_args);
/* http_api_approvals.c */
void api_approvals_list(http_request *r, const char *const *args, size_t n_args);
void api_approval_request(http_request *r, const char *const *args, size_t n_args);
void api_approval_show(http_request *r, const char *const *args, size_t n_args);
void api_approval_allow(http_request *r, const char *const *args, size_t n_args);
void api_approval_deny(http_request *r, const char *const *args, size_t n_args);
void api_hook_event(http_request *r, const char *const *args, size_t n_args);
void api_input_answer(http_request *r, const char *const *args, size_t n_args);
void api_artifacts_list(http_request *r, const char *const *args, size_t n_args);
void api_artifact_get(http_request *r, const char *const *args, size_t n_args);
void api_events_list(http_request *r, const char *const *args, size_t n_args);
/* http_api_llm.c: an llm run's files and chat */
void api_run_files(http_request *r, const char *const *args, size_t n_args);
void api_run_file_get(http_request *r, const char *const *args, size_t n_args);
void api_run_file_put(http_request *r, const char *const *args, size_t n_args);
void api_run_file_delete(http_request *r, const char *const *args, size_t n_args);
void api_run_messages(http_request *r, const char *const *args, size_t n_args);
void api_run_message_send(http_request *r, const char *const *args, size_t n_args);
void api_run_messages_clear(http_request *r, const char *const *args, size_t n_args);
/* http_api_github.c: a task's pull requests, GitHub's webhooks */
void api_task_prs(http_request *r, const char *const *args, size_t n_args);
void api_task_pr_link(http_request *r, const char *const *args, size_t n_args);
void api_task_pr_diff(http_request *r, const char *const *args, size_t n_args);
void api_task_pr_files(http_request *r, const char *const *args, size_t n_args);
void api_github_webhook(http_request *r, const char *const *args, size_t n_args);
/* http_api_cost.c */
void api_cost_show(http_request *r, const char *const *args, size_t n_args);
void api_budgets_show(http_request *r, const char *const *args, size_t n_args);

/* ------------------------------------------------------------ checks */

/* Whether s is an id as above. */
bool api_id_ok(const char *s);
/* A path argument that must be an id: false, with a 400 naming what, when
 * it is not. */
bool api_path_id(http_request *r, const char *what, const char *s);

/* Refuses (400, false) a query parameter not in allowed (NULL-terminated)
 * or given twice: a typo never silently lists something else. */
bool api_query_check(http_request *r, const char *const *allowed);
/* An integer parameter in [min, max]; absent keeps *out.  false with a 400
 * when it is not one. */
bool api_query_int(http_request *r, const char *name, long long min, long long max, long long *out);
/* An id parameter (as above); absent leaves *out NULL. */
bool api_query_id(http_request *r, const char *name, const char **out);
/* "true" or "false"; absent leaves *out at -1. */
bool api_query_bool(http_request *r, const char *name, int *out);
/* limit, with the defaults above. */
bool api_query_limit(http_request *r, long long *limit);

/* The request's body as a JSON object with only the allowed keys: an empty
 * body is {}.  NULL, with the response given (400 for bad JSON, a non-object
 * or an unknown key, 415 for a body that is not application/json). */
json_t *api_body_object(http_request *r, const char *const *allowed);
/* A string member of body: absent leaves *out NULL (a 400 when required);
 * a 400 when it is not a string of min to max bytes. */
bool api_body_string(http_request *r, const json_t *body, const char *key, size_t min, size_t max,
                     bool required, const char **out);

/* An optional id member (as above): absent leaves *out NULL. */
bool api_body_id(http_request *r, const json_t *body, const char *key, const char **out);

/* ------------------------------------------------------------ scope */

/* (http_api_scope.c) The one task identity id is bound to (an agent, a
 * share link; "" for one bound to no task: then it sees none), or NULL for
 * an identity that sees every task; and its own run, or NULL. */
const char *api_id_task(const http_identity *id);
const char *api_id_run(const http_identity *id);
/* Narrows the store query q (an object, changed in place) that id sends on
 * subject to what id may see: its task forced as the "task" filter (its run
 * as "run" when it has no task).  NULL when q may go, else the error code
 * ("not_found" for another task's or run's things, as REST answers them;
 * "forbidden" for a subject that is no read of the store, "bad_request")
 * with a message in msg.  An identity bound to no task passes unchanged. */
const char *api_scope_query(const http_identity *id, const char *subject, json_t *q, char *msg,
                            size_t size);

/* The one task an identity scoped to a task (an agent, a share link) may
 * see ("" for one bound to no task: then none), or NULL for an identity
 * that sees every task. */
const char *api_scope_task(const http_request *r);
/* The run of a bound identity (an agent's own run), or NULL. */
const char *api_scope_run(const http_request *r);
/* Whether the identity may see something of task (NULL: of no task).  When
 * not, answers 404 with what (as if it did not exist: a scoped caller
 * learns nothing of other tasks) and returns false. */
bool api_scope_allows(http_request *r, const char *task, const char *what, const char *id);

/* The task filter of a list for r: for a scoped identity its task, whatever
 * was asked; false (with a 404) when it asks for another task. */
bool api_list_task(http_request *r, const char **task);

/* ------------------------------------------------------------ bus */

/* What happens with a reply that is not an error: reply is borrowed, state
 * (the caller's, given to api_call) is the callee's to release. */
typedef void (*api_reply_fn)(http_request *r, json_t *reply, json_t *state);

/* Sends a request on subject with data (stolen) on behalf of the caller's
 * principal and calls done with its reply, data narrowed first by
 * api_scope_query for an identity bound to a task.  Everything else is
 * answered here, and state released: what the narrowing refuses (its
 * code's status: 404, 403, 400), a refusal at the bus edge (403), a reply that
 * carries an error (its code's status), a timeout after
 * limits.request_timeout, or timeout seconds when it is > 0 (504), nobody
 * serving the subject (503). */
void api_call(http_request *r, const char *subject, json_t *data, json_t *state, double timeout,
              api_reply_fn done);
/* The request of a POST .../{id}/<verb>: the path's id (what names it in
 * a 400), no query, an empty body or {}; false after answering a 400. */
bool api_verb_ok(http_request *r, const char *what, const char *const *args, size_t n_args);
/* An api_reply_fn answering 200 with the reply as it is (cmd.proc.stop and
 * restart's). */
void api_proc_done(http_request *r, json_t *reply, json_t *state);

/* ------------------------------------------------------------ replies */

/* {"items": items, "next": next or null}, 200; both stolen. */
void api_respond_list(http_request *r, json_t *items, json_t *next);
/* A page of a list the store answered with one row more than limit, when
 * there are more: cuts the extra row and makes the cursor the key (a string
 * member) of the last row kept. items stolen. */
void api_respond_page(http_request *r, json_t *items, long long limit, const char *key);
/* Asks subject for one page of a store list: q (stolen) with "limit" set
 * to one more than limit, the reply's member list answered as a page whose
 * cursor is each row's key. */
void api_list_call(http_request *r, const char *subject, json_t *q, long long limit,
                   const char *list, const char *key);
/* The headers of stored content given as raw bytes (an artifact, an llm
 * run's file): never sniffed nor run by a browser, its version under
 * version_header, an ETag of its SHA-256 when sha is one. */
void api_content_headers(http_request *r, const char *version_header, json_int_t version,
                         const char *sha);
/* The error object of a bus reply, as a response. */
void api_respond_bus_error(http_request *r, const json_t *error);

/* ------------------------------------------------------------ events */

/* The window of a stored-events query from the query parameters tail,
 * limit and since_name ("since", or "cursor"/"since" for /events): a JSON
 * object for cmd.store.events, or NULL with a 400 given. */
json_t *api_events_window(http_request *r, const char *since_name);
/* Sends cmd.store.events with q (stolen) and answers with the events as a
 * list: next is the last seq returned when more follow (for a tail, when
 * the window was cut), and last_seq the store's highest. */
void api_events_query(http_request *r, json_t *q);

#endif
