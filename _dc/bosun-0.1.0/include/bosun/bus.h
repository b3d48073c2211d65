/* bosun — the in-process message bus.
 *
 * Subjects are tokens of [A-Za-z0-9_-]+ joined by dots ("evt.run.start").
 * Subscription patterns may use "*" for exactly one token and ">" as the last
 * token for one or more remaining tokens (NATS semantics).  Anything else is
 * refused with EINVAL at publish or subscribe time.
 *
 * Publishing never calls a handler directly: messages are queued and
 * delivered from the event loop, in publish order, so a handler can publish
 * without re-entering its publisher.  The handlers matched by one message
 * run in the order their subscriptions were made, each once.  Matching walks
 * a subject trie, so its cost depends on the subject's depth and the
 * wildcards on its path, not on the number of unrelated subscriptions.
 *
 * Request/reply: bus_request() publishes with a unique "_INBOX.…" reply
 * subject and calls its callback exactly once, with the first reply, a
 * timeout, or "no responders" when nobody was subscribed to the subject.
 */
#ifndef BOSUN_BUS_H
#define BOSUN_BUS_H

#include <bosun/api.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ev_loop;

typedef struct bus bus_t;
typedef struct bus_sub bus_sub;

#define BUS_SUBJECT_MAX 512 /* bytes, including dots */
#define BUS_TOKENS_MAX  32

typedef struct bus_msg {
    const char *subject;
    const char *reply; /* NULL when no reply is expected */
    json_t *data;      /* never NULL (json null at least); borrowed, do not modify */
    double time;       /* publish time, seconds since the epoch */
} bus_msg;

typedef void (*bus_handler)(bus_t *bus, const bus_msg *msg, void *arg);

enum bus_reply_status {
    BUS_REPLY_OK = 0,
    BUS_REPLY_TIMEOUT = 1,
    BUS_REPLY_NO_RESPONDERS = 2,
    BUS_REPLY_CANCELLED = 3, /* the bus was freed first */
};

/* msg is NULL unless status is BUS_REPLY_OK. */
typedef void (*bus_reply_cb)(bus_t *bus, enum bus_reply_status status, const bus_msg *msg,
                             void *arg);

BOSUN_API bus_t *bus_new(struct ev_loop *loop);
/* Drops queued messages, cancels pending requests (their callbacks run with
 * BUS_REPLY_CANCELLED) and frees every subscription.  Not to be called from
 * a handler or a reply callback run by the same bus (it aborts). */
BOSUN_API void bus_free(bus_t *bus);

/* 0 if subject is a valid concrete subject (no wildcards), else -1. */
BOSUN_API int bus_subject_check(const char *subject);
/* 0 if pattern is a valid subscription pattern, else -1. */
BOSUN_API int bus_pattern_check(const char *pattern);
/* Whether a valid pattern matches a valid subject (reference matcher that
 * does not use the trie; handy for tests and plugins). */
BOSUN_API bool bus_pattern_matches(const char *pattern, const char *subject);

/* Queues a message.  data may be NULL (sent as json null); the bus takes its
 * own reference, the caller keeps its own.  reply may be NULL.  Returns 0, or
 * -1 with errno EINVAL for an invalid subject or reply subject. */
BOSUN_API int bus_publish(bus_t *bus, const char *subject, const char *reply, json_t *data);
/* Same, stealing the caller's reference to data (also on error). */
BOSUN_API int bus_publish_new(bus_t *bus, const char *subject, const char *reply, json_t *data);

/* The data of an error reply, {"error": {"code": code, "message": ...}},
 * the shape every bus responder answers failures with; the message is
 * formatted and cut at 511 bytes.  NULL on memory failure. */
BOSUN_API json_t *bus_error_json(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Answers a request message: publishes data to msg->reply.  Returns -1 with
 * errno EINVAL when msg has no reply subject. Borrows data. */
BOSUN_API int bus_reply(bus_t *bus, const bus_msg *msg, json_t *data);

/* Returns NULL with errno EINVAL for an invalid pattern, ENOMEM on memory
 * failure.  A subscription may be removed at any time, also from inside any
 * handler; once bus_unsubscribe returns, its handler is not called again. */
BOSUN_API bus_sub *bus_subscribe(bus_t *bus, const char *pattern, bus_handler handler, void *arg);
BOSUN_API void bus_unsubscribe(bus_t *bus, bus_sub *sub);
BOSUN_API const char *bus_sub_pattern(const bus_sub *sub);

/* Sends a request; cb runs exactly once from the loop (never from inside
 * bus_request).  timeout is in seconds (> 0).  Returns a request id > 0, or
 * 0 with errno EINVAL for an invalid subject / timeout. Borrows data. */
BOSUN_API uint64_t bus_request(bus_t *bus, const char *subject, json_t *data, double timeout,
                               bus_reply_cb cb, void *arg);
/* Cancels a pending request: its callback will not be called. */
BOSUN_API void bus_request_cancel(bus_t *bus, uint64_t id);

/* Whether a message on subject would reach any subscription now (false for
 * an invalid subject).  Lets a publisher skip building messages nobody
 * reads. */
BOSUN_API bool bus_has_subscribers(bus_t *bus, const char *subject);

/* Number of live subscriptions made with bus_subscribe, and of messages
 * waiting for delivery. */
BOSUN_API size_t bus_sub_count(const bus_t *bus);
BOSUN_API size_t bus_queue_length(const bus_t *bus);

/* Back-pressure from consumers that keep messages of their own after
 * delivery, such as a store whose commits lag or fail: such a consumer marks
 * its subscription congested while it cannot take more, and clears the mark
 * once it can (unsubscribing clears it too).  Producers that can wait, such
 * as the supervisor reading agents' output, pause while bus_congested() is
 * true, as they do while the queue itself is long.  Messages are still
 * delivered meanwhile: what a congested consumer does with them (wait, keep
 * them up to a bound, drop them counted) is its own business. */
BOSUN_API void bus_set_congested(bus_t *bus, bus_sub *sub, bool congested);
BOSUN_API bool bus_congested(const bus_t *bus);

/* Delivers every queued message now, including messages published by the
 * handlers while doing so, up to max_rounds passes (0 = until the queue is
 * empty).  The loop does this by itself; tests and benchmarks call it to
 * drain without running the loop.  From inside a handler it does nothing,
 * since delivering there would reorder messages. */
BOSUN_API void bus_flush(bus_t *bus, unsigned max_rounds);

#ifdef __cplusplus
}
#endif
#endif
