/* libFuzzer target for what GitHub sends the github plugin
 * (plugins/github/github_parse.c): webhook deliveries (the payload read
 * for the event's PRs, repository and time; the X-Hub-Signature-256
 * check), the REST answers read into a PR's metadata (the pull request,
 * check runs, combined status, reviews, files) and the Link header's next
 * page.
 *
 * Input: byte 0 chooses the reader, byte 1 the event name (webhooks); the
 * rest is the text.
 *
 * Checked: a webhook's parse gives at most GITHUB_HOOK_PRS_MAX positive
 * numbers, a valid owner and repository for the events about PRs, a time
 * >= 0, and printable action/sender/state; the body's honest signature
 * verifies (1), the same with one digit changed does not (0), a
 * signature of another form is -1; a parsed pull request has a known
 * state and a hex head sha; check counts add up; a review decision is one
 * of four words; files stay within GitHub's 3000; a next page from Link
 * lies under the base and is printable.  Memory errors, leaks and
 * undefined behaviour are the sanitizers'. */
#include "config.h"

#include "fuzz_check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/crypto.h>

#include "github.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const events[] = {"pull_request", "pull_request_review", "check_run",
                                     "check_suite",  "issue_comment",       "ping",
                                     "push"};
static const char secret[] = "fuzz-webhook-secret-0123456789";

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

static void check_signature(const char *body, size_t len)
{
    unsigned char mac[BOSUN_SHA256_SIZE];
    char sig[7 + 2 * BOSUN_SHA256_SIZE + 1] = "sha256=";
    FUZZ_CHECK(bosun_hmac_sha256(secret, strlen(secret), body, len, mac) == 0);
    for (size_t i = 0; i < sizeof mac; i++)
        snprintf(sig + 7 + 2 * i, 3, "%02x", mac[i]);
    FUZZ_CHECK(github_hook_verify(secret, sig, body, len) == 1);
    sig[7] = sig[7] == '0' ? '1' : '0';
    FUZZ_CHECK(github_hook_verify(secret, sig, body, len) == 0);
    sig[8] = 'G';
    FUZZ_CHECK(github_hook_verify(secret, sig, body, len) == -1);
    FUZZ_CHECK(github_hook_verify(secret, NULL, body, len) == -1);
    /* The body as a signature: never taken. */
    char *as_sig = strndup(body, len);
    FUZZ_CHECK(as_sig && github_hook_verify(secret, as_sig, body, len) != 1);
    free(as_sig);
}

static void check_hook(const char *event, const json_t *body)
{
    github_hook h;
    char why[160];
    if (github_parse_hook(event, body, &h, why, sizeof why) != 0) {
        FUZZ_CHECK(why[0] && printable(why));
        return;
    }
    FUZZ_CHECK(h.n_numbers <= GITHUB_HOOK_PRS_MAX && h.time >= 0);
    for (size_t i = 0; i < h.n_numbers; i++)
        FUZZ_CHECK(h.numbers[i] > 0);
    if (h.kind != GITHUB_HOOK_OTHER && h.kind != GITHUB_HOOK_PING)
        FUZZ_CHECK(github_login_valid(h.owner) && github_repo_valid(h.repo));
    FUZZ_CHECK(printable(h.action) && printable(h.sender) && printable(h.state));
}

static void check_pull(const json_t *v)
{
    char sha[65];
    json_t *m = github_parse_pull(v, sha, sizeof sha);
    if (!m)
        return;
    const char *state = json_string_value(json_object_get(m, "state"));
    FUZZ_CHECK(state && (!strcmp(state, "open") || !strcmp(state, "closed") ||
                         !strcmp(state, "merged") || !strcmp(state, "unknown")));
    FUZZ_CHECK(strspn(sha, "0123456789abcdef") == strlen(sha));
    char *text = json_dumps(m, JSON_COMPACT);
    FUZZ_CHECK(text != NULL); /* every string in it is valid UTF-8 */
    free(text);
    json_decref(m);
}

static void check_parts(const json_t *v)
{
    json_t *c = github_parse_check_runs(v);
    if (c) {
        json_int_t t = json_integer_value(json_object_get(c, "total"));
        FUZZ_CHECK(json_integer_value(json_object_get(c, "success")) +
                       json_integer_value(json_object_get(c, "failure")) +
                       json_integer_value(json_object_get(c, "pending")) <=
                   t);
    }
    json_decref(c);
    json_decref(github_parse_status(v));
    json_t *r = github_parse_reviews(v, 1);
    if (r) {
        const char *d = json_string_value(json_object_get(r, "decision"));
        FUZZ_CHECK(d && (!strcmp(d, "approved") || !strcmp(d, "changes_requested") ||
                         !strcmp(d, "review_required") || !strcmp(d, "none")));
    }
    json_decref(r);
    /* The same page twice, as a refresh reading two pages would. */
    github_checks_tally t = {0};
    if (github_tally_check_runs(v, &t) == 0 && github_tally_check_runs(v, &t) == 0) {
        json_t *s = github_checks_summary(&t);
        FUZZ_CHECK(s && t.success + t.failure + t.pending <= t.seen);
        json_decref(s);
    }
    json_t *latest = json_object();
    if (github_tally_reviews(v, latest) == 0 && github_tally_reviews(v, latest) == 0) {
        json_t *s = github_reviews_summary(latest, 0);
        FUZZ_CHECK(s && json_integer_value(json_object_get(s, "approved")) +
                                json_integer_value(json_object_get(s, "changes_requested")) ==
                            (json_int_t)json_object_size(latest));
        json_decref(s);
    }
    json_decref(latest);
    json_t *items = json_array();
    for (int i = 0; i < 40 && github_parse_files(v, items) == 0; i++)
        ;
    FUZZ_CHECK(json_array_size(items) <= 3000);
    json_decref(items);
}

static void check_link(const char *text)
{
    static const char base[] = "https://api.github.com";
    char out[GITHUB_URL_BUF];
    if (!github_link_next(text, base, out, sizeof out))
        return;
    FUZZ_CHECK(strncmp(out, base, strlen(base)) == 0 && out[strlen(base)] == '/');
    FUZZ_CHECK(printable(out));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    char *z = strndup(text, len); /* the Link header: a C string */
    if (!z)
        return 0;
    json_t *v = bosun_json_parse(text, len, 0, NULL);
    switch (data[0] % 4) {
    case 0:
        check_signature(text, len);
        check_hook(events[data[1] % (sizeof events / sizeof *events)], v);
        break;
    case 1:
        check_pull(v);
        break;
    case 2:
        check_parts(v);
        break;
    default:
        check_link(z);
        break;
    }
    json_decref(v);
    free(z);
    return 0;
}
