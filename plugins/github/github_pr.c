/* Pull requests linked to tasks: their metadata, kept on the task.
 *
 * A refresh is four conditional GETs, one after the other: the pull
 * request, its head commit's check runs and combined status, and its
 * reviews.  The check runs and the reviews come 100 a page: every page
 * GitHub's Link names is read (under api_url, through github_api.c, each
 * page conditional on its own ETag) up to PAGES_MAX, and the summary is
 * made from all of them; a list cut there says so (truncated, and the
 * check runs not read count as pending).  Unchanged, each is a 304 (which
 * GitHub does not count against the rate limit).  When what they make
 * differs from what the task holds, evt.pr.<task>.updated carries the new
 * metadata and the store keeps it (task_prs, with the pull request's
 * ETag, so that the first refresh after a restart is conditional too).  Open PRs are refreshed
 * every refresh_interval, spread over it; closed and merged ones only on a webhook.  A refresh that
 * fails waits longer each time (up to an hour). */
#define _GNU_SOURCE
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "github.h"

#define FAIL_WAIT_MAX 3600.0
#define PAGES_MAX     10 /* of check runs, of reviews: 1000 each */

enum step { STEP_PULL, STEP_CHECKS, STEP_STATUS, STEP_REVIEWS, STEP_DONE };

struct github_pr {
    github *g;
    char task[GITHUB_TASK_MAX + 1];
    char owner[GITHUB_LOGIN_MAX + 1];
    char repo[GITHUB_REPO_MAX + 1];
    long long number;
    char url[GITHUB_URL_BUF]; /* the pull request on web_url */
    char head_sha[65];
    json_t *meta; /* NULL until fetched */
    double fetched_at;
    double next_at;
    int failures;
    /* the refresh under way */
    github_call *call;
    enum step step;
    json_t *draft;
    const char *cause;
    bool again; /* a webhook came during the refresh */
    /* the pages of the check runs or the reviews read so far */
    int pages;
    bool cut; /* PAGES_MAX read and GitHub named another */
    github_checks_tally tally;
    json_t *latest; /* each reviewer's latest decisive review */
};

const char *github_pr_task(const github_pr *pr)
{
    return pr->task;
}

static void pr_key(const char *task, const char *owner, const char *repo, long long number,
                   char *out, size_t size)
{
    snprintf(out, size, "%s\n%s/%s#%lld", task, owner, repo, number);
    for (char *p = strchr(out, '\n'); p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

static bool open_pr(const github_pr *pr)
{
    const char *state = json_string_value(json_object_get(pr->meta, "state"));
    return !state || strcmp(state, "open") == 0 || strcmp(state, "unknown") == 0;
}

json_t *github_pr_json(const github_pr *pr)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:o?,s:O}", "task", pr->task, "url", pr->url, "owner",
                     pr->owner, "repo", pr->repo, "number", (json_int_t)pr->number, "fetched_at",
                     pr->fetched_at > 0 ? json_real(pr->fetched_at) : NULL, "pr",
                     pr->meta ? pr->meta : json_null());
}

/* ------------------------------------------------------------ refresh */

static void step_start(github_pr *pr);

static void api_url(const github_pr *pr, const char *tail, char *out, size_t size)
{
    snprintf(out, size, "%s/repos/%s/%s%s", pr->g->cfg.api_url, pr->owner, pr->repo, tail);
}

static void publish_update(github_pr *pr, json_t *meta)
{
    github *g = pr->g;
    bool changed = !pr->meta || !json_equal(pr->meta, meta);
    json_decref(pr->meta);
    pr->meta = meta;
    pr->fetched_at = bosun_now();
    log_debug("github: %s/%s#%lld on task %s refreshed (%s)%s", pr->owner, pr->repo, pr->number,
              pr->task, pr->cause ? pr->cause : "refresh", changed ? ", changed" : "");
    if (changed) {
        g->updates++;
        char subject[BUS_SUBJECT_MAX];
        snprintf(subject, sizeof subject, "evt.pr.%s.updated", pr->task);
        json_t *data = github_pr_json(pr);
        json_object_set_new(data, "cause", json_string(pr->cause ? pr->cause : "refresh"));
        bus_publish_new(g->ctx->bus, subject, NULL, data);
    }
    const char *etag = NULL;
    char url[GITHUB_URL_BUF];
    char tail[64];
    snprintf(tail, sizeof tail, "/pulls/%lld", pr->number);
    api_url(pr, tail, url, sizeof url);
    etag = github_api_etag(g->api, url, GITHUB_JSON);
    /* A change goes to the store at once, right behind its event; a
     * refresh that changed nothing only moves fetched_at, batched. */
    github_store_pr(g,
                    json_pack("{s:s,s:s,s:O,s:s?,s:f}", "task", pr->task, "url", pr->url,
                              "metadata", meta, "etag", etag, "fetched_at", pr->fetched_at),
                    changed);
}

static void refresh_end(github_pr *pr, bool ok)
{
    github *g = pr->g;
    double now = ev_now(g->ctx->loop);
    pr->call = NULL;
    pr->step = STEP_DONE;
    json_decref(pr->latest);
    pr->latest = NULL;
    if (ok) {
        pr->failures = 0;
        publish_update(pr, pr->draft);
        pr->draft = NULL;
        pr->next_at = now + g->cfg.refresh_interval;
    } else {
        json_decref(pr->draft);
        pr->draft = NULL;
        pr->failures++;
        pr->next_at =
            now + fmin(g->cfg.refresh_interval * pow(2, fmin(pr->failures, 10)), FAIL_WAIT_MAX);
    }
    pr->cause = NULL;
    if (pr->again) {
        pr->again = false;
        github_pr_refresh(g, pr, "webhook");
    }
}

static json_t *parse_body(const github_response *r)
{
    return r->status == 200 && r->len > 0 && !r->truncated
               ? bosun_json_parse(r->body, r->len, 0, NULL)
               : NULL;
}

static bool take_pull(github_pr *pr, const github_response *r)
{
    if (r->status == 304 && pr->meta) {
        /* The ETag came from the store and the body is not in memory:
         * what the task holds is GitHub's still. */
        pr->draft = json_deep_copy(pr->meta);
        return pr->draft != NULL;
    }
    json_t *body = parse_body(r);
    pr->draft = github_parse_pull(body, pr->head_sha, sizeof pr->head_sha);
    json_decref(body);
    if (!pr->draft) {
        log_warning("github: %s/%s#%lld: %s", pr->owner, pr->repo, pr->number,
                    r->status == 0 ? r->error : "not a pull request in GitHub's answer");
        return false;
    }
    return true;
}

static void take_status(github_pr *pr, const github_response *r)
{
    json_t *body = parse_body(r), *part = github_parse_status(body);
    if (!part && r->not_modified && pr->meta)
        part = json_incref(json_object_get(pr->meta, "status")); /* kept from the store */
    json_object_set_new(pr->draft, "status", part ? part : json_null());
    json_decref(body);
}

/* One page of the check runs or the reviews into the tally: false when
 * it is not one (a failed request, a token without the permission). */
static bool take_page(github_pr *pr, const github_response *r)
{
    json_t *body = parse_body(r);
    int rc = pr->step == STEP_CHECKS ? github_tally_check_runs(body, &pr->tally)
                                     : github_tally_reviews(body, pr->latest);
    json_decref(body);
    return rc == 0;
}

/* The next page's URL when GitHub's Link names one and PAGES_MAX are not
 * read yet (then the list is cut, and said so). */
static bool next_page(github_pr *pr, const github_response *r, char *url, size_t size)
{
    if (!r->link || !github_link_next(r->link, pr->g->cfg.api_url, url, size))
        return false;
    if (++pr->pages < PAGES_MAX)
        return true;
    pr->cut = true;
    return false;
}

/* The check runs or the reviews summed up from every page read; a part
 * that fails is null (or what the store kept, when GitHub said 304 to a
 * request whose body is not in memory). */
static void part_end(github_pr *pr, bool ok, const github_response *r)
{
    bool checks = pr->step == STEP_CHECKS;
    const char *key = checks ? "checks" : "reviews";
    json_t *part = NULL;
    if (ok) {
        json_int_t requested =
            json_integer_value(json_object_get(pr->draft, "requested_reviewers"));
        part = checks ? github_checks_summary(&pr->tally)
                      : github_reviews_summary(pr->latest, requested);
        if (part && pr->cut) {
            json_object_set_new(part, "truncated", json_true());
            /* Said once, not at each refresh of a list that stays long. */
            if (!json_is_true(json_object_get(json_object_get(pr->meta, key), "truncated")))
                log_warning("github: %s/%s#%lld: only the first %d pages of its %s are read",
                            pr->owner, pr->repo, pr->number, PAGES_MAX,
                            checks ? "check runs" : "reviews");
        }
    } else if (r->not_modified && pr->meta)
        part = json_incref(json_object_get(pr->meta, key));
    if (!checks)
        json_object_set(pr->draft, "review_decision",
                        part ? json_object_get(part, "decision") : json_null());
    json_object_set_new(pr->draft, key, part ? part : json_null());
    json_decref(pr->latest);
    pr->latest = NULL;
}

/* The first page of a list step: nothing summed yet. */
static void part_begin(github_pr *pr)
{
    pr->pages = 0;
    pr->cut = false;
    memset(&pr->tally, 0, sizeof pr->tally);
    json_decref(pr->latest);
    pr->latest = pr->step == STEP_REVIEWS ? json_object() : NULL;
}

static void on_step(const github_response *r, void *arg)
{
    github_pr *pr = arg;
    pr->call = NULL;
    if (pr->step == STEP_PULL) {
        if (!take_pull(pr, r))
            return refresh_end(pr, false);
    } else if (pr->step == STEP_STATUS)
        take_status(pr, r);
    else {
        bool ok = take_page(pr, r);
        char next[GITHUB_URL_BUF];
        if (ok && next_page(pr, r, next, sizeof next)) {
            pr->call = github_api_get(pr->g->api, next, GITHUB_JSON, GITHUB_BODY_MAX, on_step, pr);
            if (pr->call)
                return;
            ok = false; /* the queue is full: no summary of part of them */
        }
        part_end(pr, ok, r);
    }
    pr->step++;
    if (pr->step == STEP_REVIEWS + 1)
        return refresh_end(pr, true);
    step_start(pr);
}

static void step_start(github_pr *pr)
{
    char tail[200], url[GITHUB_URL_BUF];
    /* Without a head commit there are no checks to read. */
    while ((pr->step == STEP_CHECKS || pr->step == STEP_STATUS) && !pr->head_sha[0]) {
        json_object_set_new(pr->draft, pr->step == STEP_CHECKS ? "checks" : "status", json_null());
        pr->step++;
    }
    if (pr->step == STEP_CHECKS || pr->step == STEP_REVIEWS)
        part_begin(pr);
    switch (pr->step) {
    case STEP_PULL:
        snprintf(tail, sizeof tail, "/pulls/%lld", pr->number);
        break;
    case STEP_CHECKS:
        snprintf(tail, sizeof tail, "/commits/%s/check-runs?per_page=100", pr->head_sha);
        break;
    case STEP_STATUS:
        snprintf(tail, sizeof tail, "/commits/%s/status", pr->head_sha);
        break;
    default:
        snprintf(tail, sizeof tail, "/pulls/%lld/reviews?per_page=100", pr->number);
        break;
    }
    api_url(pr, tail, url, sizeof url);
    pr->call = github_api_get(pr->g->api, url, GITHUB_JSON, GITHUB_BODY_MAX, on_step, pr);
    if (!pr->call) {
        log_warning("github: %s/%s#%lld: the request queue is full", pr->owner, pr->repo,
                    pr->number);
        refresh_end(pr, false);
    }
}

void github_pr_refresh(github *g, github_pr *pr, const char *cause)
{
    if (pr->step != STEP_DONE) {
        pr->again = pr->again || strcmp(cause, "webhook") == 0;
        return;
    }
    g->refreshes++;
    pr->cause = cause;
    pr->step = STEP_PULL;
    step_start(pr);
}

void github_prs_due(github *g, double now)
{
    size_t pos = 0;
    github_pr *pr;
    while ((pr = hmap_next(&g->prs, &pos, NULL)) != NULL)
        if (pr->step == STEP_DONE && now >= pr->next_at && (open_pr(pr) || pr->failures))
            github_pr_refresh(g, pr, "refresh");
}

/* ------------------------------------------------------------ registry */

github_pr *github_pr_follow(github *g, const char *task, const char *owner, const char *repo,
                            long long number, const json_t *stored, bool refresh)
{
    char key[GITHUB_TASK_MAX + GITHUB_LOGIN_MAX + GITHUB_REPO_MAX + 32];
    pr_key(task, owner, repo, number, key, sizeof key);
    github_pr *pr = hmap_get(&g->prs, key);
    if (pr) {
        if (refresh)
            github_pr_refresh(g, pr, "link");
        return pr;
    }
    if ((long long)hmap_count(&g->prs) >= g->cfg.max_prs) {
        log_warning("github: %s/%s#%lld on task %s not followed: max_prs (%lld) reached", owner,
                    repo, number, task, g->cfg.max_prs);
        return NULL;
    }
    if (!(pr = calloc(1, sizeof *pr)))
        return NULL;
    pr->g = g;
    snprintf(pr->task, sizeof pr->task, "%s", task);
    snprintf(pr->owner, sizeof pr->owner, "%s", owner);
    snprintf(pr->repo, sizeof pr->repo, "%s", repo);
    pr->number = number;
    snprintf(pr->url, sizeof pr->url, "%s/%s/%s/pull/%lld", g->cfg.web_url, owner, repo, number);
    pr->step = STEP_DONE;
    const json_t *meta = json_object_get(stored, "metadata");
    if (json_is_object(meta)) {
        pr->meta = json_deep_copy(meta);
        const char *sha =
            json_string_value(json_object_get(json_object_get(pr->meta, "head"), "sha"));
        snprintf(pr->head_sha, sizeof pr->head_sha, "%s", sha ? sha : "");
        char url[GITHUB_URL_BUF], tail[64];
        snprintf(tail, sizeof tail, "/pulls/%lld", number);
        api_url(pr, tail, url, sizeof url);
        github_api_seed(g->api, url, GITHUB_JSON,
                        json_string_value(json_object_get(stored, "etag")));
    }
    pr->fetched_at = json_number_value(json_object_get(stored, "fetched_at"));
    /* Spread over one interval, so that a restart does not refresh them
     * all in one burst. */
    double since = bosun_now() - pr->fetched_at;
    double left = pr->meta ? g->cfg.refresh_interval - since : 0;
    pr->next_at =
        ev_now(g->ctx->loop) + (left > 0 ? left : 0) +
        (pr->meta ? g->cfg.refresh_interval * (double)(hmap_count(&g->prs) % 97) / 97 : 0);
    hmap_put(&g->prs, key, pr);
    if (refresh)
        github_pr_refresh(g, pr, "link");
    return pr;
}

size_t github_prs_matching(github *g, const char *owner, const char *repo, long long number,
                           void (*fn)(github *, github_pr *, void *), void *arg)
{
    size_t pos = 0, n = 0;
    github_pr *pr;
    github_pr *hits[64];
    /* Collected first: fn may change the map (it does not today, but a
     * refresh's callbacks must never meet a half-walked iteration). */
    while ((pr = hmap_next(&g->prs, &pos, NULL)) != NULL && n < sizeof hits / sizeof *hits)
        if (pr->number == number && strcasecmp(pr->owner, owner) == 0 &&
            strcasecmp(pr->repo, repo) == 0)
            hits[n++] = pr;
    for (size_t i = 0; i < n; i++)
        fn(g, hits[i], arg);
    return n;
}

void github_prs_free(github *g)
{
    size_t pos = 0;
    github_pr *pr;
    while ((pr = hmap_next(&g->prs, &pos, NULL)) != NULL) {
        if (pr->call)
            github_api_cancel(pr->call);
        json_decref(pr->meta);
        json_decref(pr->draft);
        json_decref(pr->latest);
        free(pr);
    }
    hmap_destroy(&g->prs);
}

github_pr *github_pr_find(github *g, const char *task, const char *owner, const char *repo,
                          long long number, int *matches)
{
    size_t pos = 0;
    github_pr *pr, *hit = NULL;
    *matches = 0;
    while ((pr = hmap_next(&g->prs, &pos, NULL)) != NULL)
        if (strcmp(pr->task, task) == 0 && pr->number == number &&
            (!owner || (strcasecmp(pr->owner, owner) == 0 && strcasecmp(pr->repo, repo) == 0))) {
            hit = pr;
            (*matches)++;
        }
    return hit;
}

void github_pr_api_url(const github_pr *pr, const char *tail, char *out, size_t size)
{
    api_url(pr, tail, out, size);
}

const char *github_pr_name(const github_pr *pr, char *out, size_t size)
{
    snprintf(out, size, "%s/%s#%lld", pr->owner, pr->repo, pr->number);
    return out;
}
