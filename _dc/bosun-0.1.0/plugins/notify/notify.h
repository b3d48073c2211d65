/* notify — telling a person at once that an agent needs them or failed.
 *
 * The plugin listens to the bus events that matter to a person (a question,
 * an approval, a failure, a spent budget, a machine gone), matches them to
 * the configured rules and delivers one message per channel a rule names:
 * a signed JSON webhook (optionally Slack/Discord-shaped), an ntfy topic,
 * or an e-mail over SMTP, all through curl_ev on the daemon's loop.
 *
 * Parts:
 *   notify.c          the plugin: lifecycle, subscriptions, cmd.notify.status
 *   notify_config.c   the notify: section, checked with FILE:LINE:COL
 *   notify_event.c    a bus event -> a notify_msg (what, who, link)
 *   notify_dedup.c    one message per request/failure; flapping coalesced
 *   notify_channel.c  per channel: queue, transfers in flight, retries
 *   notify_format.c   the request of each channel type (body, headers)
 */
#ifndef BOSUN_NOTIFY_H
#define BOSUN_NOTIFY_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

#include <bosun/bosun.h>

#include "curl_ev.h"

enum notify_kind {
    NK_INPUT,
    NK_APPROVAL,
    NK_RUN_FAILED,
    NK_RUN_FATAL,
    NK_ATTENTION,
    NK_TASK_DONE,
    NK_BUDGET,
    NK_MACHINE_OFFLINE,
    NK_COUNT
};

/* "input.requested" ... as written in rules' on:, NULL when out of range. */
const char *notify_kind_name(enum notify_kind k);
/* -1 for an unknown name. */
int notify_kind_parse(const char *name);

/* One thing to tell: built once from an event, shared by the channels. */
typedef struct notify_msg {
    int refs;
    enum notify_kind kind;
    char *key;                     /* de-duplication key, e.g. "input:01J..." */
    char *id;                      /* the input/approval/run/task/machine id the link names */
    char *agent;                   /* NULL when the event has none */
    char *task;                    /* idem */
    char *run;                     /* idem */
    char *machine;                 /* idem */
    char *title;                   /* one line: what happened */
    char *detail;                  /* the question, the error, the tool...; may be "" */
    char *link;                    /* public_url + path, or NULL without public_url */
    double time;                   /* the event's publish time */
    int count;                     /* > 1 for a coalesced "failed N times" */
    char subject[BUS_SUBJECT_MAX]; /* the event it came from */
} notify_msg;

notify_msg *notify_msg_ref(notify_msg *m);
void notify_msg_unref(notify_msg *m);
/* The message of a bus event, or NULL when the event is not one a person is
 * told about (a run that exited 0, a task that is not done...).  machine is
 * the machine of events that do not name theirs (questions, tasks): this
 * daemon's. */
notify_msg *notify_msg_from_event(const char *subject, const json_t *data, double time,
                                  const char *public_url, const char *machine);
/* The plain text of a message: title, the who lines, detail, link. */
char *notify_msg_text(const notify_msg *m);

enum notify_type { NT_WEBHOOK, NT_NTFY, NT_EMAIL };

typedef struct notify_channel_cfg {
    char *name;
    enum notify_type type;
    char *url;      /* webhook/ntfy: http(s)://...; email: smtp(s)://host:port */
    char *secret;   /* webhook: HMAC key; ntfy: bearer token; email: password */
    bool slack;     /* webhook format: slack */
    char *priority; /* ntfy; NULL: by kind */
    char *tags;     /* ntfy; NULL: by kind */
    char *from;     /* email */
    char **to;      /* email, NULL-terminated */
    char *username; /* email; NULL: no AUTH */
    bool starttls;  /* email smtp://: require STARTTLS (default true) */
    char *ca_file;
    double timeout; /* one attempt */
    int retries;    /* attempts after the first */
    double backoff_min, backoff_max;
    size_t queue_max;
} notify_channel_cfg;

typedef struct notify_rule {
    bool on[NK_COUNT];
    char **agents; /* NULL: any */
    char **tasks;  /* NULL: any */
    size_t *to;    /* channel indexes */
    size_t n_to;
} notify_rule;

typedef struct notify_cfg {
    char *public_url; /* without a trailing slash; NULL when unset */
    double window;    /* failures of one agent coalesced within it */
    notify_rule *rules;
    size_t n_rules;
    notify_channel_cfg *channels;
    size_t n_channels;
} notify_cfg;

/* Checks and reads the notify: section (NULL: nothing configured). */
bool notify_cfg_read(const cfg_node *section, notify_cfg *out, cfg_diag *d);
void notify_cfg_free(notify_cfg *c);
/* Whether rule r matches message m. */
bool notify_rule_matches(const notify_rule *r, const notify_msg *m);

/* ---- de-duplication and coalescing */

typedef struct notify_dedup notify_dedup;
typedef void (*notify_emit_fn)(notify_msg *m, void *arg);

notify_dedup *notify_dedup_new(struct ev_loop *loop, double window, notify_emit_fn emit, void *arg);
void notify_dedup_free(notify_dedup *dd);
/* Takes a reference's worth of m: emits it at once (the first of its key,
 * the first failure of an agent in a window), drops a duplicate, or counts
 * a repeated failure to emit one "failed N times" when the window ends. */
void notify_dedup_push(notify_dedup *dd, notify_msg *m);
size_t notify_dedup_suppressed(const notify_dedup *dd);
double notify_dedup_window(const notify_dedup *dd);

/* ---- channels */

typedef struct notify_channel notify_channel;

notify_channel *notify_channel_new(const bosun_ctx *ctx, curl_ev *curl,
                                   const notify_channel_cfg *cfg);
/* Ends transfers and timers without events. */
void notify_channel_free(notify_channel *ch);
/* Queues a delivery (takes its own reference to m). */
void notify_channel_send(notify_channel *ch, notify_msg *m);
json_t *notify_channel_status(const notify_channel *ch);
bool notify_channel_failing(const notify_channel *ch);

/* ---- the request of one delivery */

typedef struct notify_request {
    char *body;
    size_t body_len;
    char **headers; /* NULL-terminated "Name: value" */
} notify_request;

/* Builds the HTTP request (webhook, ntfy) or the RFC 5322 message (email)
 * of m for channel c at time now.  0, or -1 when out of memory. */
int notify_request_build(const notify_channel_cfg *c, const notify_msg *m, double now,
                         notify_request *out);
void notify_request_free(notify_request *r);
/* Text made fit for one header line: control characters become spaces,
 * cut at max bytes on a UTF-8 boundary.  malloc'ed. */
char *notify_header_text(const char *s, size_t max);

#endif
