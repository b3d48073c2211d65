/* notify_event — which bus events a person is told about, and what the
 * message says.
 *
 * The kinds of rules' on: and the events that carry them (bosun-bus(7)):
 *   input.requested      evt.input.<id>.requested
 *   approval.requested   evt.approval.<id>.requested
 *   run.failed           evt.run.<agent>.<run>.spawn_failed (every failed
 *                        start or exit, restarts included: a flapping agent)
 *   run.fatal            evt.run.<agent>.<run>.state with state FATAL
 *   run.needs_attention  evt.run.<agent>.<run>.attention
 *   task.done            evt.task.<id>.updated with status done
 *   budget.exceeded      evt.run.<agent>.<run>.budget
 *   machine.offline      evt.machine.<id>.offline
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"

/* Longest question or error carried into a message: a phone screen's worth,
 * and a bound on what an agent's text costs each channel. */
#define DETAIL_MAX 2000

static const char *const kind_names[NK_COUNT] = {
    [NK_INPUT] = "input.requested",         [NK_APPROVAL] = "approval.requested",
    [NK_RUN_FAILED] = "run.failed",         [NK_RUN_FATAL] = "run.fatal",
    [NK_ATTENTION] = "run.needs_attention", [NK_TASK_DONE] = "task.done",
    [NK_BUDGET] = "budget.exceeded",        [NK_MACHINE_OFFLINE] = "machine.offline",
};

const char *notify_kind_name(enum notify_kind k)
{
    return (unsigned)k < NK_COUNT ? kind_names[k] : NULL;
}

int notify_kind_parse(const char *name)
{
    for (int k = 0; k < NK_COUNT; k++)
        if (strcmp(kind_names[k], name) == 0)
            return k;
    return -1;
}

notify_msg *notify_msg_ref(notify_msg *m)
{
    m->refs++;
    return m;
}

void notify_msg_unref(notify_msg *m)
{
    if (!m || --m->refs > 0)
        return;
    free(m->key);
    free(m->id);
    free(m->agent);
    free(m->task);
    free(m->run);
    free(m->machine);
    free(m->title);
    free(m->detail);
    free(m->link);
    free(m);
}

/* Names and ids go into headers and lines: no control characters. */
static char *field(const json_t *data, const char *key)
{
    const char *s = json_string_value(json_object_get(data, key));
    return s && *s ? notify_header_text(s, 256) : NULL;
}

/* An id as one path segment of the link: unreserved characters kept,
 * the rest %XX (ids are subject tokens, but the run's comes from data). */
static char *url_segment(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(3 * strlen(s) + 1), *o = out;
    for (; out && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c)) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    if (out)
        *o = '\0';
    return out;
}

/* The token of subject at position i (0-based), into buf. */
static const char *token(const char *subject, int i, char *buf, size_t size)
{
    const char *p = subject;
    for (; i > 0 && p; i--) {
        p = strchr(p, '.');
        if (p)
            p++;
    }
    if (!p)
        return NULL;
    size_t n = strcspn(p, ".");
    if (n == 0 || n >= size)
        return NULL;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

/* The kind of an event, or -1 for one nobody is told about. */
static int classify(const char *subject, const json_t *data)
{
    if (strncmp(subject, "evt.input.", 10) == 0 && ends_with(subject, ".requested"))
        return NK_INPUT;
    if (strncmp(subject, "evt.approval.", 13) == 0 && ends_with(subject, ".requested"))
        return NK_APPROVAL;
    if (strncmp(subject, "evt.machine.", 12) == 0 && ends_with(subject, ".offline"))
        return NK_MACHINE_OFFLINE;
    if (strncmp(subject, "evt.task.", 9) == 0 && ends_with(subject, ".updated")) {
        const char *st = json_string_value(json_object_get(data, "status"));
        return st && strcmp(st, "done") == 0 ? NK_TASK_DONE : -1;
    }
    if (strncmp(subject, "evt.run.", 8) != 0)
        return -1;
    if (ends_with(subject, ".spawn_failed")) {
        /* A budget stop has its own kind; a question's exit is no failure. */
        const char *cls = json_string_value(json_object_get(data, "class"));
        return !cls || strcmp(cls, "failed") == 0 ? NK_RUN_FAILED : -1;
    }
    if (ends_with(subject, ".state")) {
        const char *st = json_string_value(json_object_get(data, "state"));
        return st && strcmp(st, "FATAL") == 0 ? NK_RUN_FATAL : -1;
    }
    if (ends_with(subject, ".attention"))
        return NK_ATTENTION;
    if (ends_with(subject, ".budget"))
        return NK_BUDGET;
    return -1;
}

static char *cut(const char *s)
{
    return notify_header_text(s ? s : "", DETAIL_MAX);
}

/* The question, the error, the tool: what the person must read. */
static char *detail_of(enum notify_kind k, const json_t *data)
{
    char *out = NULL;
    switch (k) {
    case NK_INPUT:
        return cut(json_string_value(json_object_get(data, "question")));
    case NK_APPROVAL: {
        char *in = json_dumps(json_object_get(data, "input"), JSON_COMPACT | JSON_ENCODE_ANY);
        if (asprintf(&out, "tool %s: %s", json_string_value(json_object_get(data, "tool")) ?: "?",
                     in ? in : "") < 0)
            out = NULL;
        free(in);
        break;
    }
    case NK_RUN_FAILED:
    case NK_RUN_FATAL:
    case NK_ATTENTION:
        return cut(json_string_value(json_object_get(data, "reason")));
    case NK_BUDGET:
        if (asprintf(&out, "%s: spent %.4g of %.4g",
                     json_string_value(json_object_get(data, "budget")) ?: "budget",
                     json_number_value(json_object_get(data, "spent")),
                     json_number_value(json_object_get(data, "limit"))) < 0)
            out = NULL;
        break;
    case NK_TASK_DONE:
        return cut(json_string_value(json_object_get(data, "title")));
    default:
        return strdup("");
    }
    char *c = cut(out);
    free(out);
    return c;
}

static const char *const verbs[NK_COUNT] = {
    [NK_INPUT] = "asks a question",     [NK_APPROVAL] = "waits for an approval",
    [NK_RUN_FAILED] = "failed",         [NK_RUN_FATAL] = "gave up restarting (FATAL)",
    [NK_ATTENTION] = "needs attention", [NK_TASK_DONE] = "is done",
    [NK_BUDGET] = "reached its budget", [NK_MACHINE_OFFLINE] = "went offline",
};

static int fill_ids(notify_msg *m, const char *subject, const json_t *data)
{
    char tok[BUS_SUBJECT_MAX];
    m->agent = field(data, "agent");
    m->task = field(data, "task");
    m->run = field(data, "run");
    m->machine = field(data, "machine");
    const char *id = token(subject, 2, tok, sizeof tok);
    switch (m->kind) {
    case NK_RUN_FAILED:
    case NK_RUN_FATAL:
    case NK_ATTENTION:
    case NK_BUDGET:
        /* evt.run.<agent>.<run>.kind: the run. */
        id = m->run ? m->run : token(subject, 3, tok, sizeof tok);
        break;
    case NK_MACHINE_OFFLINE:
        if (!m->machine && id)
            m->machine = strdup(id);
        break;
    default:
        break;
    }
    m->id = id ? strdup(id) : NULL;
    return m->id ? 0 : -1;
}

/* The de-duplication key: one message per question, approval, fatal run,
 * budget stop, task.  A failed attempt, an attention notice or a machine
 * gone have no id of their own and may come back: the event's time (ms)
 * tells a repeat from the same event heard twice. */
static int make_key(notify_msg *m)
{
    int n;
    if (m->kind == NK_RUN_FAILED || m->kind == NK_MACHINE_OFFLINE || m->kind == NK_ATTENTION)
        n = asprintf(&m->key, "%s:%s:%.3f", kind_names[m->kind], m->id, m->time);
    else
        n = asprintf(&m->key, "%s:%s", kind_names[m->kind], m->id);
    return n < 0 ? -1 : 0;
}

/* The dashboard's page to act on m (plugins/http/web: #/VIEW or
 * #/VIEW/ID): a question on its task's page, where it is answered; an
 * approval and a machine on the overview, which answers approvals in place
 * and lists machines; a run's trouble on the run's page. */
static const char *link_page(const notify_msg *m, const char **id)
{
    switch (m->kind) {
    case NK_INPUT:
        *id = m->task;
        return m->task ? "tasks" : "overview";
    case NK_APPROVAL:
    case NK_MACHINE_OFFLINE:
        *id = NULL;
        return "overview";
    case NK_TASK_DONE:
        *id = m->id;
        return "tasks";
    default:
        *id = m->id;
        return "runs";
    }
}

static int make_text(notify_msg *m, const char *public_url)
{
    const char *who = m->kind == NK_MACHINE_OFFLINE ? "machine"
                      : m->kind == NK_TASK_DONE     ? "task"
                                                    : "agent";
    const char *name = m->kind == NK_MACHINE_OFFLINE ? m->machine
                       : m->kind == NK_TASK_DONE     ? m->task
                                                     : m->agent;
    if (asprintf(&m->title, "bosun: %s %s %s", who, name ? name : "?", verbs[m->kind]) < 0) {
        m->title = NULL;
        return -1;
    }
    if (!public_url)
        return 0;
    const char *id;
    const char *page = link_page(m, &id);
    char *seg = url_segment(id ? id : "");
    int rc = seg ? asprintf(&m->link, "%s/#/%s%s%s", public_url, page, id ? "/" : "", seg) : -1;
    free(seg);
    if (rc < 0) {
        m->link = NULL;
        return -1;
    }
    return 0;
}

notify_msg *notify_msg_from_event(const char *subject, const json_t *data, double time,
                                  const char *public_url, const char *machine)
{
    int k = classify(subject, data);
    if (k < 0 || !json_is_object(data))
        return NULL;
    notify_msg *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->refs = 1;
    m->kind = (enum notify_kind)k;
    m->time = time;
    m->count = 1;
    snprintf(m->subject, sizeof m->subject, "%s", subject);
    if (fill_ids(m, subject, data) != 0 || (!m->machine && !(m->machine = strdup(machine))) ||
        make_key(m) != 0 || !(m->detail = detail_of(m->kind, data)) ||
        make_text(m, public_url) != 0) {
        notify_msg_unref(m);
        return NULL;
    }
    return m;
}

char *notify_msg_text(const notify_msg *m)
{
    char *out = NULL;
    char count[64] = "";
    if (m->count > 1)
        snprintf(count, sizeof count, "failed %d times within the window\n", m->count);
    if (asprintf(&out, "%s\n%s%s%s%s%s%s%s%s%s%s%s%s%s", m->title, count, m->agent ? "agent: " : "",
                 m->agent ? m->agent : "", m->agent ? "\n" : "", m->task ? "task: " : "",
                 m->task ? m->task : "", m->task ? "\n" : "", m->run ? "run: " : "",
                 m->run ? m->run : "", m->run ? "\n" : "", m->machine ? "machine: " : "",
                 m->machine ? m->machine : "", m->machine ? "\n" : "") < 0)
        return NULL;
    char *full = NULL;
    if (asprintf(&full, "%s%s%s%s%s", out, *m->detail ? m->detail : "", *m->detail ? "\n" : "",
                 m->link ? m->link : "", m->link ? "\n" : "") < 0)
        full = NULL;
    free(out);
    return full;
}
