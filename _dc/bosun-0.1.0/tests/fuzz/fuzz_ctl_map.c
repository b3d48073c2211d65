/* libFuzzer target for bosunctl --url's reading of the REST API's answers
 * (core/cli/ctl_http_reply.c and ctl_http_map.c): every bus request the
 * commands send, mapped to REST calls whose answers -- status, Content-Type
 * and body -- come from the input instead of a server.
 *
 * Checked: the mapping gives either NULL with a reason in err, or a JSON
 * object, which is an error or has the shape its command reads (lists and
 * events arrays); it asks at most
 * MAP_CALLS_MAX answers (paging stops); a 401 is never an answer.
 * Memory errors, leaks and undefined behaviour are the sanitizers'.
 *
 * Input: segments split by "\n@@\n".  The first: byte 0 picks the
 * subject, the rest is the request's data (JSON; not an object: none).
 * Each next one is an answer, in the order asked: byte 0 picks the status,
 * byte 1 is the length of the Content-Type that follows, the rest is the
 * body.  Once they run out, a call fails as an unreachable daemon does. */
#include "config.h"

#include "fuzz_check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/approval.h>
#include <bosun/store.h>
#include <bosun/task.h>

#include "ctl_http_int.h"
#include "ctl_wire.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ctl_http_map.c follows at most 100 pages of a list. */
#define MAP_CALLS_MAX 110

static const char sep[] = "\n@@\n";

/* The answers of one input, handed out in turn by http_do below. */
static struct {
    const char *p; /* the rest of the input */
    size_t left;
    int calls;
    int denied; /* a 401 was handed out */
} feed;

/* The next segment, or NULL when there is none. */
static const char *next_segment(size_t *len)
{
    if (!feed.p)
        return NULL;
    const char *s = feed.p;
    const char *end = memmem(s, feed.left, sep, sizeof sep - 1);
    *len = end ? (size_t)(end - s) : feed.left;
    if (end) {
        feed.left -= *len + sizeof sep - 1;
        feed.p = end + sizeof sep - 1;
    } else
        feed.p = NULL;
    return s;
}

static const long statuses[] = {200, 201, 204, 301, 400, 401, 403, 404, 409, 429, 500, 503, 101};

int http_do(ctl_http *h, const char *method, const char *path, const char *query, json_t *body,
            double timeout, http_reply *out, char *err, size_t err_size)
{
    (void)method, (void)path, (void)query, (void)body, (void)timeout;
    memset(out, 0, sizeof *out);
    feed.calls++;
    FUZZ_CHECK(feed.calls <= MAP_CALLS_MAX);
    size_t len;
    const char *s = next_segment(&len);
    if (!s || len < 2) {
        snprintf(err, err_size, "cannot reach bosund at %s: no more answers", h->t.base);
        h->base.failure = CTL_FAIL_UNAVAILABLE;
        return -1;
    }
    out->status = statuses[(unsigned char)s[0] % (sizeof statuses / sizeof statuses[0])];
    feed.denied |= out->status == 401;
    size_t clen = (unsigned char)s[1];
    if (clen > len - 2)
        clen = len - 2;
    out->ctype = xstrndup(s + 2, clen); /* curl gives it up to a NUL too */
    out->len = len - 2 - clen;
    out->body = xmalloc(out->len + 1);
    memcpy(out->body, s + 2 + clen, out->len);
    out->body[out->len] = '\0';
    if (out->status == 429)
        snprintf(out->retry_after, sizeof out->retry_after, "%d", (int)clen);
    return 0;
}

/* /ws is not fuzzed here (fuzz_ctl_upgrade and fuzz_ws are): a request
 * with no route is refused as a daemon without /ws would. */
json_t *ctl_ws_request(const ctl_http_target *t, const char *subject, json_t *data, double timeout,
                       enum ctl_failure *failure, char *err, size_t err_size)
{
    (void)subject, (void)data, (void)timeout;
    *failure = CTL_FAIL_UNAVAILABLE;
    snprintf(err, err_size, "bosund at %s refused the /ws upgrade: HTTP 404", t->base);
    return NULL;
}

static const struct {
    const char *subject;
    const char *list; /* the member the command reads as an array, or NULL */
} subjects[] = {
    {PROC_CMD_PS, "rows"},
    {PROC_CMD_START, NULL},
    {PROC_CMD_STOP, NULL},
    {PROC_CMD_RESTART, NULL},
    {BOSUN_STORE_RUNS, "runs"},
    {BOSUN_STORE_EVENTS, "events"},
    {BOSUN_STORE_TASKS, "tasks"},
    {BOSUN_STORE_INPUTS, "inputs"},
    {BOSUN_STORE_ARTIFACTS, NULL}, /* "artifacts", or "artifact" with a name */
    {BOSUN_STORE_STATUS, NULL},
    {BOSUN_TASK_CREATE, NULL},
    {BOSUN_INPUT_ANSWER, NULL},
    {"cmd.auth.token.create", NULL},
    {"cmd.auth.token.list", "tokens"},
    {"cmd.auth.token.revoke", NULL},
    {BOSUN_APPROVAL_REQUEST, NULL},
    {BOSUN_APPROVAL_LIST, "approvals"},
    {BOSUN_APPROVAL_ANSWER, NULL},
    {"cmd.other", NULL},
};

static void check_reply(json_t *out, const char *err, const char *list)
{
    if (!out) {
        FUZZ_CHECK(err[0] != '\0');
        return;
    }
    FUZZ_CHECK(json_is_object(out));
    /* An error, whatever its members (die_error() copes with none), ends
     * the command; anything else is read as its reply. */
    if (json_object_get(out, "error"))
        return;
    if (list)
        FUZZ_CHECK(json_is_array(json_object_get(out, list)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    feed.p = (const char *)data;
    feed.left = size;
    feed.calls = feed.denied = 0;
    size_t len;
    const char *first = next_segment(&len);
    if (!first || len < 1)
        return 0;
    size_t pick = (unsigned char)first[0] % (sizeof subjects / sizeof subjects[0]);
    json_t *req = json_loadb(first + 1, len - 1, JSON_DECODE_ANY, NULL);
    ctl_http h;
    memset(&h, 0, sizeof h);
    h.t.base = xstrdup("https://bosun.test:8420");
    h.t.host = xstrdup("bosun.test");
    h.t.port = xstrdup("8420");
    h.t.prefix = xstrdup("");
    char err[512] = "";
    json_t *out = http_map_request(&h, subjects[pick].subject, req, 5, err, sizeof err);
    check_reply(out, err, subjects[pick].list);
    if (feed.denied) /* bad credentials end the command, whatever came before */
        FUZZ_CHECK(!out);
    json_decref(out);
    json_decref(req);
    json_decref(h.store);
    free(h.t.base);
    free(h.t.host);
    free(h.t.port);
    free(h.t.prefix);
    return 0;
}
