/* What GitHub answers, read into bosun's own shapes.  GitHub's JSON is
 * outside input: every member is type-checked, strings are cut to a bound
 * at a UTF-8 boundary, and what is missing or of another type is left
 * out (or null) rather than trusted.  Pure functions, fuzzed
 * (tests/fuzz/fuzz_github.c). */
#define _GNU_SOURCE
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bosun/crypto.h>
#include <bosun/date.h>

#include "github.h"

#define TEXT_MAX  1024 /* a title, a ref, a name */
#define SHA_MAX   64
#define FILES_MAX 3000 /* GitHub lists at most 3000 files of a PR */

/* s cut to at most max bytes, not inside a UTF-8 sequence. */
static json_t *text(const json_t *v, size_t max)
{
    const char *s = json_string_value(v);
    if (!s)
        return json_null();
    size_t n = json_string_length(v);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return json_stringn(s, n);
}

static json_t *member_text(const json_t *o, const char *key, size_t max)
{
    return text(json_object_get(o, key), max);
}

static json_t *login_of(const json_t *o, const char *key)
{
    return member_text(json_object_get(o, key), "login", GITHUB_LOGIN_MAX);
}

static json_t *boolean_or_null(const json_t *v)
{
    return json_is_boolean(v) ? json_boolean(json_is_true(v)) : json_null();
}

/* ------------------------------------------------------------ pulls */

json_t *github_parse_pull(const json_t *pull, char *head_sha, size_t sha_size)
{
    if (!json_is_object(pull) || !json_is_integer(json_object_get(pull, "number")))
        return NULL;
    const json_t *head = json_object_get(pull, "head"), *base = json_object_get(pull, "base");
    const char *sha = json_string_value(json_object_get(head, "sha"));
    size_t sl = sha ? strlen(sha) : 0;
    bool sha_ok = sl > 0 && sl <= SHA_MAX && strspn(sha, "0123456789abcdef") == sl;
    snprintf(head_sha, sha_size, "%s", sha_ok ? sha : "");
    bool merged = json_is_true(json_object_get(pull, "merged")) ||
                  json_is_string(json_object_get(pull, "merged_at"));
    const char *state = json_string_value(json_object_get(pull, "state"));
    const char *st = merged                                  ? "merged"
                     : state && strcmp(state, "closed") == 0 ? "closed"
                     : state && strcmp(state, "open") == 0   ? "open"
                                                             : "unknown";
    json_t *m = json_object();
    json_object_set_new(m, "number",
                        json_integer(json_integer_value(json_object_get(pull, "number"))));
    json_object_set_new(m, "title", member_text(pull, "title", TEXT_MAX));
    json_object_set_new(m, "state", json_string(st));
    json_object_set_new(m, "draft", json_boolean(json_is_true(json_object_get(pull, "draft"))));
    json_object_set_new(m, "merged", json_boolean(merged));
    json_object_set_new(m, "mergeable", boolean_or_null(json_object_get(pull, "mergeable")));
    json_object_set_new(m, "mergeable_state", member_text(pull, "mergeable_state", 64));
    json_object_set_new(m, "author", login_of(pull, "user"));
    json_object_set_new(m, "html_url", member_text(pull, "html_url", GITHUB_URL_MAX));
    json_object_set_new(m, "updated_at", member_text(pull, "updated_at", 64));
    json_object_set_new(m, "head",
                        json_pack("{s:o,s:o}", "ref", member_text(head, "ref", TEXT_MAX), "sha",
                                  sha_ok ? json_string(sha) : json_null()));
    json_object_set_new(m, "base", json_pack("{s:o}", "ref", member_text(base, "ref", TEXT_MAX)));
    const json_t *rr = json_object_get(pull, "requested_reviewers");
    json_object_set_new(m, "requested_reviewers",
                        json_integer(json_is_array(rr) ? (json_int_t)json_array_size(rr) : 0));
    return m;
}

/* ------------------------------------------------------------ checks */

static bool is_one_of(const char *s, const char *const *list)
{
    for (size_t i = 0; s && list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* A page of a commit's check runs added to t; -1 when it is not one. */
int github_tally_check_runs(const json_t *page, github_checks_tally *t)
{
    static const char *const failed[] = {"failure",         "timed_out",       "cancelled",
                                         "action_required", "startup_failure", NULL};
    static const char *const passed[] = {"success", "neutral", "skipped", NULL};
    const json_t *runs = json_object_get(page, "check_runs");
    if (!json_is_array(runs))
        return -1;
    size_t i;
    const json_t *r;
    json_array_foreach(runs, i, r)
    {
        const char *status = json_string_value(json_object_get(r, "status"));
        const char *conclusion = json_string_value(json_object_get(r, "conclusion"));
        t->seen++;
        if (!status || strcmp(status, "completed") != 0)
            t->pending++;
        else if (is_one_of(conclusion, failed))
            t->failure++;
        else if (is_one_of(conclusion, passed))
            t->success++;
    }
    /* Each page says the count of all of them. */
    const json_t *tc = json_object_get(page, "total_count");
    if (json_is_integer(tc) && json_integer_value(tc) > t->total_count)
        t->total_count = json_integer_value(tc);
    return 0;
}

json_t *github_checks_summary(const github_checks_tally *t)
{
    json_int_t total = t->seen, pending = t->pending;
    /* Runs GitHub counted but did not list (pages not read) are not
     * known to have passed. */
    if (t->total_count > total)
        pending += t->total_count - total, total = t->total_count;
    const char *conclusion = total == 0   ? "none"
                             : t->failure ? "failure"
                             : pending    ? "pending"
                                          : "success";
    return json_pack("{s:I,s:I,s:I,s:I,s:s}", "total", total, "success", t->success, "failure",
                     t->failure, "pending", pending, "conclusion", conclusion);
}

json_t *github_parse_check_runs(const json_t *body)
{
    github_checks_tally t = {0};
    return github_tally_check_runs(body, &t) < 0 ? NULL : github_checks_summary(&t);
}

json_t *github_parse_status(const json_t *body)
{
    const char *state = json_string_value(json_object_get(body, "state"));
    const json_t *n = json_object_get(body, "total_count");
    static const char *const states[] = {"success", "failure", "pending", "error", NULL};
    if (!is_one_of(state, states))
        return NULL;
    return json_pack("{s:s,s:I}", "state", state, "total",
                     json_is_integer(n) ? json_integer_value(n) : (json_int_t)0);
}

/* The latest APPROVED or CHANGES_REQUESTED review of each reviewer
 * decides, a DISMISSED one takes theirs back, COMMENTED changes nothing:
 * GitHub's own reviewDecision (GraphQL only) also weighs branch
 * protection, which the REST API does not show.  GitHub lists reviews
 * oldest first, so pages read in order leave each one's latest. */
int github_tally_reviews(const json_t *page, json_t *latest)
{
    if (!json_is_array(page) || !json_is_object(latest))
        return -1;
    size_t i;
    const json_t *r;
    json_array_foreach(page, i, r)
    {
        const char *who = json_string_value(json_object_get(json_object_get(r, "user"), "login"));
        const char *state = json_string_value(json_object_get(r, "state"));
        if (!who || !state || !github_login_valid(who))
            continue;
        if (strcmp(state, "APPROVED") == 0 || strcmp(state, "CHANGES_REQUESTED") == 0)
            json_object_set_new(latest, who, json_string(state));
        else if (strcmp(state, "DISMISSED") == 0)
            json_object_del(latest, who);
    }
    return 0;
}

json_t *github_reviews_summary(const json_t *latest, json_int_t requested)
{
    json_int_t approved = 0, changes = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)latest, k, v)
    {
        if (strcmp(json_string_value(v), "APPROVED") == 0)
            approved++;
        else
            changes++;
    }
    const char *decision = changes         ? "changes_requested"
                           : approved      ? "approved"
                           : requested > 0 ? "review_required"
                                           : "none";
    return json_pack("{s:s,s:I,s:I}", "decision", decision, "approved", approved,
                     "changes_requested", changes);
}

json_t *github_parse_reviews(const json_t *reviews, json_int_t requested)
{
    json_t *latest = json_object();
    json_t *out = github_tally_reviews(reviews, latest) < 0
                      ? NULL
                      : github_reviews_summary(latest, requested);
    json_decref(latest);
    return out;
}

/* ------------------------------------------------------------ files */

int github_parse_files(const json_t *page, json_t *items)
{
    if (!json_is_array(page))
        return -1;
    size_t i;
    const json_t *f;
    json_array_foreach(page, i, f)
    {
        if (json_array_size(items) >= FILES_MAX)
            return 1;
        if (!json_is_string(json_object_get(f, "filename")))
            continue;
        json_t *o = json_pack("{s:o,s:o,s:I,s:I,s:I}", "path", member_text(f, "filename", 4096),
                              "status", member_text(f, "status", 32), "additions",
                              json_integer_value(json_object_get(f, "additions")), "deletions",
                              json_integer_value(json_object_get(f, "deletions")), "changes",
                              json_integer_value(json_object_get(f, "changes")));
        if (json_is_string(json_object_get(f, "previous_filename")))
            json_object_set_new(o, "previous_path", member_text(f, "previous_filename", 4096));
        /* GitHub leaves patch out for binary and very large files. */
        json_object_set_new(o, "patch", member_text(f, "patch", 1u << 20));
        json_array_append_new(items, o);
    }
    return 0;
}

/* ------------------------------------------------------------ Link */

/* The rel="next" URL of a Link header into out: true when there is one
 * and it lies under base (so the token goes nowhere else). */
bool github_link_next(const char *link, const char *base, char *out, size_t size)
{
    const char *p = link;
    size_t bl = strlen(base);
    while (p && *p) {
        const char *lt = strchr(p, '<');
        const char *gt = lt ? strchr(lt, '>') : NULL;
        if (!gt)
            return false;
        const char *end = strchr(gt, ',');
        size_t plen = end ? (size_t)(end - gt) : strlen(gt);
        const char *rel = memmem(gt, plen, "rel=\"next\"", 10);
        size_t ul = (size_t)(gt - lt - 1);
        if (rel) {
            if (ul >= size || ul <= bl || strncmp(lt + 1, base, bl) != 0 || lt[1 + bl] != '/')
                return false;
            memcpy(out, lt + 1, ul);
            out[ul] = '\0';
            /* No byte a URL must not hold: the header is GitHub's text. */
            for (size_t i = 0; i < ul; i++)
                if ((unsigned char)out[i] <= ' ' || (unsigned char)out[i] >= 0x7f)
                    return false;
            return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* ------------------------------------------------------------ webhooks */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int github_hook_verify(const char *secret, const char *signature, const char *body, size_t len)
{
    unsigned char want[BOSUN_SHA256_SIZE], got[BOSUN_SHA256_SIZE];
    if (!signature || strncmp(signature, "sha256=", 7) != 0 ||
        strlen(signature + 7) != 2 * BOSUN_SHA256_SIZE)
        return -1;
    for (size_t i = 0; i < BOSUN_SHA256_SIZE; i++) {
        int hi = hexval(signature[7 + 2 * i]), lo = hexval(signature[8 + 2 * i]);
        if (hi < 0 || lo < 0)
            return -1;
        got[i] = (unsigned char)(hi << 4 | lo);
    }
    if (bosun_hmac_sha256(secret, strlen(secret), body, len, want) != 0)
        return 0;
    bool same = bosun_crypto_equal(want, got, sizeof want);
    explicit_bzero(want, sizeof want);
    return same ? 1 : 0;
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    return json_string_value(b ? json_object_get(v, b) : v);
}

/* The first of the RFC 3339 times that parses. */
static double first_time(const json_t *o, const char *const *paths)
{
    for (size_t i = 0; paths[i]; i += 2) {
        const char *t = str_at(o, paths[i], paths[i + 1]);
        double d;
        char err[64];
        if (t && bosun_date_parse(t, false, &d, err, sizeof err))
            return d;
    }
    return 0;
}

static void add_number(github_hook *h, const json_t *v)
{
    if (json_is_integer(v) && json_integer_value(v) > 0 && h->n_numbers < GITHUB_HOOK_PRS_MAX)
        h->numbers[h->n_numbers++] = json_integer_value(v);
}

static void numbers_of(github_hook *h, const json_t *list)
{
    size_t i;
    const json_t *p;
    json_array_foreach(list, i, p) add_number(h, json_object_get(p, "number"));
}

/* s into out when it is a word GitHub uses for an action or a state
 * (letters and '_'), else "". */
static void word_into(char *out, size_t size, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    bool ok = n > 0 && n < size &&
              strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") == n;
    snprintf(out, size, "%s", ok ? s : "");
}

static bool repo_of(github_hook *h, const json_t *body, char *why, size_t size)
{
    const json_t *repo = json_object_get(body, "repository");
    const char *name = json_string_value(json_object_get(repo, "name"));
    const char *owner = str_at(repo, "owner", "login");
    if (!name || !owner || !github_login_valid(owner) || !github_repo_valid(name)) {
        snprintf(why, size, "the payload names no repository (repository.owner.login, .name)");
        return false;
    }
    snprintf(h->owner, sizeof h->owner, "%s", owner);
    snprintf(h->repo, sizeof h->repo, "%s", name);
    return true;
}

int github_parse_hook(const char *event, const json_t *body, github_hook *h, char *why, size_t size)
{
    static const char *const pr_time[] = {"pull_request", "updated_at", NULL};
    static const char *const review_time[] = {"review", "submitted_at", "pull_request",
                                              "updated_at", NULL};
    static const char *const run_time[] = {"check_run", "completed_at", "check_run", "started_at",
                                           NULL};
    static const char *const suite_time[] = {"check_suite", "updated_at", NULL};
    static const char *const comment_time[] = {"comment", "updated_at", "comment", "created_at",
                                               NULL};
    memset(h, 0, sizeof *h);
    if (!json_is_object(body)) {
        snprintf(why, size, "the payload is not a JSON object");
        return -1;
    }
    word_into(h->action, sizeof h->action, json_string_value(json_object_get(body, "action")));
    const char *sender = str_at(body, "sender", "login");
    snprintf(h->sender, sizeof h->sender, "%s", sender && github_login_valid(sender) ? sender : "");
    if (strcmp(event, "pull_request") == 0) {
        h->kind = GITHUB_HOOK_PR;
        add_number(h, json_object_get(json_object_get(body, "pull_request"), "number"));
        h->time = first_time(body, pr_time);
    } else if (strcmp(event, "pull_request_review") == 0) {
        h->kind = GITHUB_HOOK_REVIEW;
        add_number(h, json_object_get(json_object_get(body, "pull_request"), "number"));
        h->time = first_time(body, review_time);
        word_into(h->state, sizeof h->state, str_at(body, "review", "state"));
    } else if (strcmp(event, "check_run") == 0 || strcmp(event, "check_suite") == 0) {
        bool run = event[6] == 'r';
        const json_t *c = json_object_get(body, run ? "check_run" : "check_suite");
        h->kind = GITHUB_HOOK_CHECKS;
        numbers_of(h, json_object_get(c, "pull_requests"));
        h->time = first_time(body, run ? run_time : suite_time);
        const char *st = json_string_value(json_object_get(c, "conclusion"));
        if (!st)
            st = json_string_value(json_object_get(c, "status"));
        word_into(h->state, sizeof h->state, st);
    } else if (strcmp(event, "issue_comment") == 0) {
        const json_t *issue = json_object_get(body, "issue");
        h->kind = GITHUB_HOOK_COMMENT;
        /* Comments on issues that are no pull request are not ours. */
        if (json_is_object(json_object_get(issue, "pull_request")))
            add_number(h, json_object_get(issue, "number"));
        h->time = first_time(body, comment_time);
    } else if (strcmp(event, "ping") == 0) {
        h->kind = GITHUB_HOOK_PING;
        return 0;
    } else {
        h->kind = GITHUB_HOOK_OTHER;
        return 0;
    }
    return repo_of(h, body, why, size) ? 0 : -1;
}

bool github_repo_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > GITHUB_REPO_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}
