/* github — GitHub for bosun (kind integration), internal parts.
 *
 * Pull requests linked to tasks (metadata kept on the task, refreshed with
 * conditional requests, diff and files on demand), webhooks, and the
 * GitHub login (github_oauth*.c).  Every request to GitHub goes through
 * libcurl's multi interface on the daemon's loop.  One file per concern:
 *
 *   github.c          the plugin: lifecycle, the bus, the status
 *   github_config.c   the github: section, checked with FILE:LINE:COL
 *   github_secret.c   the secret files (0600, owned by the daemon's user)
 *   github_oauth*.c   the login, web and device flows
 *
 * Secrets (client secret, API token, webhook secret) are read from their
 * files at init and reload, registered with <bosun/secret.h> so that the
 * log and the bus mask them, and never written anywhere. */
#ifndef BOSUN_GITHUB_H
#define BOSUN_GITHUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include <bosun/bosun.h>

#include "hmap.h"

#define GITHUB_URL_MAX       2048
#define GITHUB_LOGIN_MAX     39  /* GitHub's limit for user and org names */
#define GITHUB_REPO_MAX      100 /* a repository's name */
#define GITHUB_CLIENT_ID_MAX 100
#define GITHUB_SECRET_MIN    16 /* bytes of a secret file's value */
#define GITHUB_SECRET_MAX    1024
#define GITHUB_LIST_MAX      1000 /* logins in one allow-list */

/* ------------------------------------------------------------ config */

typedef struct github_cfg {
    char *api_url; /* without a final slash: https://api.github.com */
    char *web_url; /* https://github.com */
    char *client_id;
    char *client_secret_file;
    char *token_file;
    char *webhook_secret_file;
    char *ca_file; /* NULL: the system's CAs */
    /* The secrets the files hold (NULL when the file is not configured),
     * zeroed when freed. */
    char *client_secret;
    char *token;
    char *webhook_secret;
    /* NULL-terminated, lower-cased (GitHub logins are case-insensitive);
     * NULL when not configured. */
    char **allowed_users;
    char **allowed_orgs;
    char **admins;
    double refresh_interval;  /* between conditional refreshes of an open PR */
    double request_timeout;   /* of one request to GitHub */
    double webhook_max_age;   /* a delivery whose event time is older is stale */
    long long max_prs;        /* linked PRs followed at once */
    long long max_deliveries; /* delivery ids remembered against replays */
} github_cfg;

/* Reads and checks the github: section (c may be NULL: all defaults),
 * secret files included; false with messages in d, *out then empty. */
bool github_cfg_read(const cfg_node *c, github_cfg *out, cfg_diag *d);
void github_cfg_free(github_cfg *c);
/* Registers the secrets with <bosun/secret.h> (masked in logs and events). */
void github_cfg_mask_secrets(const github_cfg *c);
/* Whether login (any case) is in list (NULL-terminated, lower-case). */
bool github_login_in(char *const *list, const char *login);
/* Whether s is a GitHub user or org login: letters, digits and inner
 * single hyphens, 1 to 39 bytes. */
bool github_login_valid(const char *s);

/* ------------------------------------------------------------ secrets */

/* The one line of text in the file at path, which must be a regular file
 * of the daemon's user with no group or other permission: a malloc'ed
 * string of GITHUB_SECRET_MIN..MAX printable bytes, or NULL with why (which
 * never holds any of the file's content). */
char *github_secret_read(const char *path, char *why, size_t why_size);
/* Zeroes and frees. */
void github_secret_free(char *s);

/* Whether s is a repository name: letters, digits, '-', '_', '.', 1 to
 * 100, not "." or "..". */
bool github_repo_valid(const char *s);

/* ------------------------------------------------------------ parsing */

/* (github_parse.c) GitHub's answers read into bosun's shapes; NULL when
 * the answer is not of the expected shape. */
/* A pull request: {number, title, state (open|closed|merged|unknown),
 * draft, merged, mergeable, mergeable_state, author, html_url, updated_at,
 * head {ref, sha}, base {ref}, requested_reviewers (a count)}; the head's
 * sha (hex, or "") into head_sha. */
json_t *github_parse_pull(const json_t *pull, char *head_sha, size_t sha_size);
/* A commit's check runs: {total, success, failure, pending, conclusion
 * (none|failure|pending|success)}. */
json_t *github_parse_check_runs(const json_t *body);
/* The same over several pages: each page added to a tally (0, or -1
 * when it is not a page of check runs), the summary made from it. */
typedef struct github_checks_tally {
    json_int_t seen, success, failure, pending;
    json_int_t total_count; /* the largest total_count a page said */
} github_checks_tally;
int github_tally_check_runs(const json_t *page, github_checks_tally *t);
json_t *github_checks_summary(const github_checks_tally *t);
/* A commit's combined status: {state, total}. */
json_t *github_parse_status(const json_t *body);
/* A PR's reviews: {decision (changes_requested|approved|review_required|
 * none), approved, changes_requested}. */
json_t *github_parse_reviews(const json_t *reviews, json_int_t requested);
/* The same over several pages: each page (oldest first) into latest
 * ({login: state}; 0, or -1 when page is not a list), the summary made
 * from it. */
int github_tally_reviews(const json_t *page, json_t *latest);
json_t *github_reviews_summary(const json_t *latest, json_int_t requested);
/* Appends a page of a PR's files to items as {path, status, additions,
 * deletions, changes, patch, previous_path?}: 0, 1 when items is full
 * (3000, GitHub's own bound), -1 when page is not a list. */
int github_parse_files(const json_t *page, json_t *items);

enum github_hook_kind {
    GITHUB_HOOK_OTHER = 0, /* an event bosun does not follow */
    GITHUB_HOOK_PING,
    GITHUB_HOOK_PR,      /* pull_request */
    GITHUB_HOOK_REVIEW,  /* pull_request_review */
    GITHUB_HOOK_CHECKS,  /* check_run, check_suite */
    GITHUB_HOOK_COMMENT, /* issue_comment on a pull request */
};

#define GITHUB_HOOK_PRS_MAX 16

typedef struct github_hook {
    enum github_hook_kind kind;
    char owner[GITHUB_LOGIN_MAX + 1];
    char repo[GITHUB_REPO_MAX + 1];
    long long numbers[GITHUB_HOOK_PRS_MAX]; /* the pull requests it is about */
    size_t n_numbers;
    double time; /* the event's own time (seconds since the epoch), 0: none */
    char action[32];
    char sender[GITHUB_LOGIN_MAX + 1];
    char state[32]; /* a review's state, a check's conclusion or status */
} github_hook;

/* The payload of a delivery of event (X-GitHub-Event): 0 with *h filled,
 * or -1 with why. */
int github_parse_hook(const char *event, const json_t *body, github_hook *h, char *why,
                      size_t size);

/* ------------------------------------------------------------ API */

struct ev_loop;
struct curl_ev;
typedef struct github_api github_api;
typedef struct github_call github_call;

#define GITHUB_JSON     "application/vnd.github+json"
#define GITHUB_DIFF     "application/vnd.github.diff"
#define GITHUB_BODY_MAX (8u << 20) /* a JSON page or a diff */
#define GITHUB_URL_BUF  (GITHUB_URL_MAX + 512)

typedef struct github_response {
    long status;      /* 0: no response (error says why); a 304 with a kept body is 200 */
    const char *body; /* NUL-terminated; "" when none */
    size_t len;
    bool truncated;    /* the body passed the call's bound */
    bool not_modified; /* GitHub answered 304: body is the kept one (if any) */
    const char *etag;  /* or NULL */
    const char *link;  /* the Link header, or NULL */
    const char *error; /* when status is 0 */
} github_response;

/* resp lives only during the call. */
typedef void (*github_api_fn)(const github_response *resp, void *arg);

typedef struct github_api_stats {
    bool known;                   /* a response said the rate limit */
    long long limit;              /* X-RateLimit-Limit */
    long long remaining;          /* X-RateLimit-Remaining */
    double reset;                 /* X-RateLimit-Reset, seconds since the epoch */
    double held_until;            /* 0, or when requests go again (a limit hit) */
    long long requests;           /* sent */
    long long conditional;        /* of those, with If-None-Match */
    long long not_modified;       /* 304s */
    long long failures;           /* no response, or a status >= 400 */
    long long primary, secondary; /* limits hit */
    size_t queued, inflight, cached;
} github_api_stats;

github_api *github_api_new(struct ev_loop *loop, struct curl_ev *curl, const github_cfg *cfg);
/* cfg stays the caller's; after a reload the new one. */
void github_api_set_cfg(github_api *a, const github_cfg *cfg);
/* Ends every call not finished, each callback told (status 0), then
 * frees; no callback can start another request. */
void github_api_free(github_api *a);
/* GET url (under api_url, else NULL) as accept, the body bounded by
 * max_body; done is called once, from the loop, unless cancelled.  NULL
 * when the queue is full or memory is short. */
github_call *github_api_get(github_api *a, const char *url, const char *accept, size_t max_body,
                            github_api_fn done, void *arg);
void github_api_cancel(github_call *c);
/* An ETag known for url (from the store): the next GET is conditional. */
void github_api_seed(github_api *a, const char *url, const char *accept, const char *etag);
/* The ETag kept for url, or NULL. */
const char *github_api_etag(github_api *a, const char *url, const char *accept);
const github_api_stats *github_api_stats_get(github_api *a);
/* The rel="next" URL of a Link header, when it lies under base. */
bool github_link_next(const char *link, const char *base, char *out, size_t size);

/* ------------------------------------------------------------ plugin */

typedef struct github_oauth github_oauth; /* the login's state (github_oauth*.c) */
typedef struct github_pr github_pr;

#define GITHUB_TASK_MAX 64

typedef struct github {
    const bosun_ctx *ctx;
    github_cfg cfg;
    struct curl_ev *curl; /* every request to GitHub, on ctx->loop */
    github_api *api;
    github_oauth *oauth; /* NULL until the login's code sets it up */
    hmap prs;            /* github_pr_key() -> github_pr */
    hmap deliveries;     /* X-GitHub-Delivery -> github_delivery */
    bool loaded;         /* the store's rows are in (webhooks wait for it) */
    int load_tries;
    uint64_t load_req;   /* the store's answer awaited, or 0 */
    json_t *load_kept;   /* cmd.store.github's rows, until cmd.store.prs answers */
    ev_timer tick;       /* refreshes due, rows to the store, pruning */
    ev_timer load_retry; /* the store was not there yet */
    json_t *dirty_prs;   /* rows for cmd.store.github.put */
    json_t *dirty_deliveries;
    double pruned_at;
    bus_sub *subs[8];
    size_t n_subs;
    long long refreshes, updates; /* for the status */
    long long hooks_accepted, hooks_refused;
} github;

/* ---- pull requests (github_pr.c) */

/* Follows the pull request linked to task (from the store at start, or a
 * new link): a refresh is started at once when refresh is set.  NULL when
 * max_prs are followed already. */
github_pr *github_pr_follow(github *g, const char *task, const char *owner, const char *repo,
                            long long number, const json_t *stored, bool refresh);
/* Refreshes the PR now (a webhook); cause is said in the event. */
void github_pr_refresh(github *g, github_pr *pr, const char *cause);
/* Starts the refreshes that are due; on the tick. */
void github_prs_due(github *g, double now);
/* Each PR of owner/repo#number, for a webhook: fn(pr, arg). */
size_t github_prs_matching(github *g, const char *owner, const char *repo, long long number,
                           void (*fn)(github *, github_pr *, void *), void *arg);
const char *github_pr_task(const github_pr *pr);
/* The PR of task with that number (and repository, when owner is not
 * NULL); *matches says how many there are. */
github_pr *github_pr_find(github *g, const char *task, const char *owner, const char *repo,
                          long long number, int *matches);
/* api_url/repos/OWNER/REPO + tail into out. */
void github_pr_api_url(const github_pr *pr, const char *tail, char *out, size_t size);
/* owner/repo#number of the PR into out, for messages. */
const char *github_pr_name(const github_pr *pr, char *out, size_t size);
/* {task, url, owner, repo, number, fetched_at, pr} of a PR. */
json_t *github_pr_json(const github_pr *pr);
void github_prs_free(github *g);
/* The bus commands about PRs: cmd.github.prs[.link|.diff|.files]. */
int github_pr_commands(github *g);

/* ---- webhooks (github_hook.c) */

int github_hook_commands(github *g);
/* 1 when signature (X-Hub-Signature-256) is "sha256=" and the hex
 * HMAC-SHA256 of the body under secret (compared in constant time), 0
 * when it is another's, -1 when it is not of that form. */
int github_hook_verify(const char *secret, const char *signature, const char *body, size_t len);
/* Delivery ids from the store; drops those older than the window. */
void github_hook_load(github *g, const json_t *rows);
void github_hook_prune(github *g, double now);
void github_hook_free(github *g);

/* ---- the store (github.c) */

/* A row (stolen) for cmd.store.github.put: sent now, or with the next
 * tick's batch. */
void github_store_pr(github *g, json_t *row, bool now);
void github_store_delivery(github *g, const char *id, double received_at);

#endif
