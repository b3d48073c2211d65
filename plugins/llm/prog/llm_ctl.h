/* bosun-llm's connection to bosund: the agent socket ($BOSUN_SOCKET), made
 * the run's agent principal with {"op": "agent", "token"}, carrying bus
 * requests and subscriptions as newline-delimited JSON (bosunctl(1),
 * "the control protocol") without ever blocking the loop. */
#ifndef BOSUN_LLM_CTL_H
#define BOSUN_LLM_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct ev_loop;
typedef struct llm_ctl llm_ctl;

/* A reply: data is the responder's (it may itself hold {"error": ...}),
 * NULL with code and message when there was none ("timeout",
 * "no_responders", "forbidden", "closed", ...). */
typedef void (*llm_ctl_reply_fn)(void *arg, const json_t *data, const char *code,
                                 const char *message);
/* A message on a subscription: its subject and data. */
typedef void (*llm_ctl_msg_fn)(void *arg, const char *subject, const json_t *data);
/* The daemon closed the connection (or it broke). */
typedef void (*llm_ctl_lost_fn)(void *arg, const char *why);

/* Connects to path; NULL with the reason in err. */
llm_ctl *llm_ctl_new(struct ev_loop *loop, const char *path, llm_ctl_lost_fn lost, void *arg,
                     char *err, size_t err_size);
void llm_ctl_free(llm_ctl *c);

/* {"op": "agent", "token"}: done gets the result ({"run", "task",
 * "agent"}) or the refusal. */
void llm_ctl_agent(llm_ctl *c, const char *token, llm_ctl_reply_fn done, void *arg);
/* A bus request (data stolen; NULL: {}).  Returns its id, for
 * llm_ctl_forget; done is called exactly once unless forgotten. */
uint64_t llm_ctl_request(llm_ctl *c, const char *subject, json_t *data, double timeout,
                         llm_ctl_reply_fn done, void *arg);
/* Whether every byte the daemon has written so far was read and handed
 * to its callbacks: no complete nor partial line held, nothing unread on
 * the socket (FIONREAD).  The instant a local decision may stand for. */
bool llm_ctl_read_all(const llm_ctl *c);
/* done is not called for that request any more. */
void llm_ctl_forget(llm_ctl *c, uint64_t id);
/* Requests sent and not answered yet (subscriptions not counted), and
 * output not yet written: what an exit would lose. */
size_t llm_ctl_unfinished(const llm_ctl *c);
/* Subscribes to pattern; ready (may be NULL) hears once whether the daemon
 * took it (data set) or refused it (code set).  Returns a handle for
 * llm_ctl_unsubscribe. */
uint64_t llm_ctl_subscribe(llm_ctl *c, const char *pattern, llm_ctl_msg_fn fn, void *arg,
                           llm_ctl_reply_fn ready);
/* No more messages nor ready for that subscription. */
void llm_ctl_unsubscribe(llm_ctl *c, uint64_t handle);

#endif
