/* sqlite store — what the llm modules (sqlite_llm_files.c,
 * sqlite_llm_chat.c) share: the run a request names resolved to the
 * session its history is keyed by, and the events they publish. */
#ifndef BOSUN_SQLITE_LLM_H
#define BOSUN_SQLITE_LLM_H

#include "sqlite_store.h"

#include <bosun/agent.h>
#include <bosun/agent_stream.h>

/* A request's run: its id, its agent (the event subjects' token) and the
 * session its files and chat are keyed by. */
typedef struct sqlstore_llm_run {
    const char *run;
    char agent[BUS_SUBJECT_MAX];
    char session[BOSUN_SESSION_ID_MAX + 1];
} sqlstore_llm_run;

/* Resolves args' "run" (required) through the runs table: the session is
 * args' "session" when given (the agent socket sets it from the run), else
 * the run's session_id, else the run id itself (a run of a type that has
 * no session, such as exec).  NULL, or the error reply. */
json_t *sqlstore_llm_resolve(sqlstore *s, const json_t *args, sqlstore_llm_run *lr);

/* Publishes data (stolen) as evt.run.<agent>.<run>.<what>. */
void sqlstore_llm_publish(sqlstore *s, const sqlstore_llm_run *lr, const char *what, json_t *data);

/* Runs a write with the writer idle, in one transaction: fn returns an
 * SQLite code and fills *reply; on failure the reply is a store_error and
 * the transaction is rolled back. */
json_t *sqlstore_llm_transaction(sqlstore *s, int (*fn)(sqlstore *s, void *arg, json_t **reply),
                                 void *arg);

/* The route handler of a write: deferred after the events that arrived
 * before it (read your writes), carried out without a reply subject too. */
void sqlstore_llm_on_write(bus_t *bus, const bus_msg *msg, void *arg, sqlstore_query_fn fn);

#endif
