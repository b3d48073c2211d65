/* libFuzzer target for the GitHub login's readers of GitHub's answers
 * (plugins/github/github_oauth_parse.c): the token endpoint's answer, the
 * device code endpoint's, GET /user's and GET /user/orgs'.
 *
 * Checked: each returns 0 or -1; on -1 its output is cleared; on 0 a
 * token is 1 to GH_TOKEN_MAX visible ASCII bytes (or an error code of
 * visible bytes is set instead, with an interval in range), a device
 * answer has its codes, an http(s) URL and times in range, a login is a
 * GitHub login, and an org member is only said so when the list has an
 * allowed org.  Memory errors and leaks are the sanitizers'.
 *
 * Input: one selector byte (which reader, modulo 4), then the body. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "fuzz_check.h"
#include "github_oauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool visible(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)s[i]))
            return false;
    return true;
}

static bool zeroed(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static void token(const char *body, size_t len)
{
    gh_token_answer t;
    char why[256];
    int rc = gh_parse_token(body, len, &t, why, sizeof why);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        FUZZ_CHECK(zeroed(&t, sizeof t) && why[0]);
        return;
    }
    if (t.error[0]) {
        FUZZ_CHECK(!t.token[0] && visible(t.error, sizeof t.error - 1));
        FUZZ_CHECK(t.interval >= 0 && t.interval <= 3600);
    } else {
        FUZZ_CHECK(visible(t.token, GH_TOKEN_MAX) && t.interval == 0);
    }
}

static void device(const char *body, size_t len)
{
    gh_device_answer a;
    char why[256];
    int rc = gh_parse_device(body, len, &a, why, sizeof why);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        FUZZ_CHECK(zeroed(&a, sizeof a) && why[0]);
        return;
    }
    FUZZ_CHECK(visible(a.device_code, GH_CODE_MAX));
    FUZZ_CHECK(visible(a.user_code, sizeof a.user_code - 1));
    FUZZ_CHECK(visible(a.verification_uri, GITHUB_URL_MAX));
    FUZZ_CHECK(strncmp(a.verification_uri, "http://", 7) == 0 ||
               strncmp(a.verification_uri, "https://", 8) == 0);
    FUZZ_CHECK(a.expires_in >= 1 && a.expires_in <= 86400);
    FUZZ_CHECK(a.interval >= 1 && a.interval <= 3600);
}

static void user(const char *body, size_t len)
{
    char login[GITHUB_LOGIN_MAX + 1], why[256];
    int rc = gh_parse_user(body, len, login, why, sizeof why);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(rc == 0 ? github_login_valid(login) : (!login[0] && why[0]));
}

static void orgs(const char *body, size_t len)
{
    static char acme[] = "acme", dev[] = "bosun-dev";
    static char *const allowed[] = {acme, dev, NULL};
    bool member = true;
    char why[256];
    int rc = gh_parse_orgs(body, len, allowed, &member, why, sizeof why);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        FUZZ_CHECK(!member && why[0]);
        return;
    }
    if (member) {
        json_t *a = json_loadb(body, len, 0, NULL);
        bool found = false;
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
        {
            const char *s = json_string_value(json_object_get(e, "login"));
            found = found || (s && (strcasecmp(s, "acme") == 0 || strcasecmp(s, "bosun-dev") == 0));
        }
        json_decref(a);
        FUZZ_CHECK(found);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 4) {
    case 0:
        token(body, len);
        break;
    case 1:
        device(body, len);
        break;
    case 2:
        user(body, len);
        break;
    default:
        orgs(body, len);
        break;
    }
    return 0;
}
