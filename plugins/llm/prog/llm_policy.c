/* bosun-llm's copy of its approval policies (llm_policy.h).
 *
 * Why a local decision is exact.  bosund numbers the state of every
 * policy (a generation) and publishes evt.approval.policy.changed with the
 * new number before it answers whatever made the change: the reload's
 * reply, the --always answer's reply and the held cmd.approval.request
 * reply of the call answered (approval.c).  Its messages reach this
 * connection in the order it wrote them.  This copy is used only when
 *   - it is of the newest generation any notice read has named (a notice
 *     newer than the copy makes it unusable until a fresh copy comes), and
 *   - at the instant of the decision every byte bosund has written to the
 *     connection has been read and handled (llm_ctl_read_all).
 * So a change acknowledged to anyone before the decision had its notice
 * written before that acknowledgement, hence read before the decision,
 * hence the copy was dropped and bosund is asked instead: the decision is
 * the one bosund would make at that instant.  A change not acknowledged
 * yet is concurrent with the call, and either order is a correct one.
 * The one gap is bosund's own output backlog (a notice queued in its
 * memory, not yet written): the generation sent with every recorded
 * decision lets bosund mark such a decision stale in its event. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

#include <bosun/approval_map.h>
#include <bosun/log.h>

#include "llm_loop.h"
#include "llm_policy.h"

struct llm_policy {
    llm_ctl *ctl;
    bosun_approval_policy *global, *agent, *sticky;
    bool have;           /* the three above are a copy of generation */
    uint64_t generation; /* of the copy */
    uint64_t newest;     /* the newest generation a notice named */
    uint64_t fetch;      /* the cmd.approval.policy in flight, else 0 */
    bool subscribed;     /* the notices are followed */
    uint64_t sub;        /* their subscription */
    bool sub_answered;   /* the daemon took or refused it */
    void (*ready)(void *);
    void *ready_arg;
};

static void tell_ready(llm_policy *p)
{
    if (p->ready && !llm_policy_coming(p))
        p->ready(p->ready_arg);
}

static void drop_copy(llm_policy *p)
{
    bosun_approval_policy_free(p->global);
    bosun_approval_policy_free(p->agent);
    bosun_approval_policy_free(p->sticky);
    p->global = p->agent = p->sticky = NULL;
    p->have = false;
}

/* One policy of the reply: null is none; anything else must parse. */
static bool parse_one(const json_t *v, bosun_approval_policy **out)
{
    char err[256];
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    *out = bosun_approval_policy_from_json(v, err, sizeof err);
    if (!*out)
        log_warning("approvals: bosund's policy copy is not one (%s); every call is asked", err);
    return *out != NULL;
}

static void fetch(llm_policy *p);

static void on_policy(void *arg, const json_t *data, const char *code, const char *msg)
{
    llm_policy *p = arg;
    p->fetch = 0;
    drop_copy(p);
    const json_t *gen = json_object_get(data, "generation");
    if (code || !json_is_integer(gen) || json_object_get(data, "error")) {
        log_info("approvals: no local copy of the policy (%s); bosund decides every call",
                 code ? msg : "no generation in the reply");
        return tell_ready(p);
    }
    uint64_t g = (uint64_t)json_integer_value(gen);
    if (!parse_one(json_object_get(data, "global"), &p->global) ||
        !parse_one(json_object_get(data, "agent"), &p->agent) ||
        !parse_one(json_object_get(data, "sticky"), &p->sticky)) {
        drop_copy(p);
        return tell_ready(p);
    }
    p->generation = g;
    if (g > p->newest)
        p->newest = g;
    p->have = true;
    if (p->generation < p->newest) /* a notice came after bosund answered */
        fetch(p);
    tell_ready(p);
}

static void fetch(llm_policy *p)
{
    if (p->fetch || !p->subscribed)
        return;
    p->fetch = llm_ctl_request(p->ctl, BOSUN_APPROVAL_POLICY, NULL, LLM_BUS_TIMEOUT, on_policy, p);
}

static void on_changed(void *arg, const char *subject, const json_t *data)
{
    (void)subject;
    llm_policy *p = arg;
    const json_t *gen = json_object_get(data, "generation");
    uint64_t g = json_is_integer(gen) ? (uint64_t)json_integer_value(gen) : UINT64_MAX;
    if (g > p->newest)
        p->newest = g;
    if (!p->have || p->generation < p->newest)
        fetch(p);
}

/* The copy is asked for once the notices are followed, so that no change
 * after it is missed. */
static void on_followed(void *arg, const json_t *data, const char *code, const char *msg)
{
    llm_policy *p = arg;
    p->sub_answered = true;
    if (code) {
        log_info("approvals: cannot follow policy changes (%s); bosund decides every call", msg);
        return tell_ready(p);
    }
    p->subscribed = true;
    fetch(p);
    tell_ready(p); /* when the request could not even be sent */
}

llm_policy *llm_policy_new(llm_ctl *ctl, void (*ready)(void *), void *arg)
{
    llm_policy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->ctl = ctl;
    p->ready = ready;
    p->ready_arg = arg;
    p->sub = llm_ctl_subscribe(ctl, BOSUN_APPROVAL_CHANGED, on_changed, p, on_followed);
    return p;
}

void llm_policy_free(llm_policy *p)
{
    if (!p)
        return;
    if (p->fetch)
        llm_ctl_forget(p->ctl, p->fetch);
    if (p->sub)
        llm_ctl_unsubscribe(p->ctl, p->sub);
    drop_copy(p);
    free(p);
}

bool llm_policy_coming(const llm_policy *p)
{
    return p && ((p->sub && !p->sub_answered) || p->fetch);
}

enum llm_policy_verdict llm_policy_decide(llm_policy *p, const char *tool, const json_t *input,
                                          bosun_approval_result *r, uint64_t *generation)
{
    if (llm_policy_coming(p))
        return LLM_POLICY_COMING;
    if (!p || !p->have || p->generation < p->newest)
        return LLM_POLICY_ASK;
    if (!llm_ctl_read_all(p->ctl))
        return LLM_POLICY_UNREAD;
    *r = bosun_approval_evaluate(p->sticky, p->agent, p->global, tool, input);
    *generation = p->generation;
    enum bosun_approval_decision d;
    if (r->source == BOSUN_APPROVAL_FROM_DEFAULT &&
        !bosun_approval_default_of(p->agent, p->global, &d))
        return LLM_POLICY_FREE;
    return LLM_POLICY_DECIDED;
}
