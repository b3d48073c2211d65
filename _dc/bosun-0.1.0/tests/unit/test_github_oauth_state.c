/* The GitHub login's web-flow state (plugins/github/github_oauth_state.c):
 * a state comes back once, only with its browser's binding, only unaltered;
 * its PKCE verifier matches the challenge sent with it; the used-list
 * refuses (busy) rather than forgets when full. */
#include "config.h"

#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bosun/crypto.h>

#include "github_oauth.h"

static char dir[] = "/tmp/bosun-ghstate.XXXXXX";

static gh_state *make(void)
{
    char err[256];
    gh_state *s = gh_state_new(dir, err, sizeof err);
    assert_non_null(s);
    return s;
}

static void comes_back_once_with_matching_pkce(void **unused)
{
    (void)unused;
    gh_state *s = make();
    char id[72], challenge[GH_CHALLENGE_SIZE], verifier[GH_VERIFIER_LEN + 1], why[256];
    char *st = gh_state_issue(s, "http://127.0.0.1:1/cb", id, challenge);
    assert_non_null(st);
    assert_int_equal(strlen(challenge), 43);
    char *ru = NULL;
    bool busy;
    assert_int_equal(gh_state_take(s, st, id, &ru, verifier, &busy, why, sizeof why), 0);
    assert_string_equal(ru, "http://127.0.0.1:1/cb");
    free(ru);
    /* S256: the challenge is base64url(SHA-256(verifier)). */
    unsigned char d[BOSUN_SHA256_SIZE];
    char b64[48];
    bosun_sha256(verifier, strlen(verifier), d);
    bosun_base64url_encode(d, sizeof d, b64, sizeof b64);
    assert_string_equal(b64, challenge);
    assert_int_equal(gh_state_take(s, st, id, &ru, verifier, &busy, why, sizeof why), -1);
    assert_non_null(strstr(why, "used already"));
    assert_false(busy);
    assert_null(ru);
    free(st);
    gh_state_free(s);
}

static void refuses_another_browser_and_tampering(void **unused)
{
    (void)unused;
    gh_state *s = make();
    char id[72], challenge[GH_CHALLENGE_SIZE], verifier[GH_VERIFIER_LEN + 1], why[256], *ru;
    bool busy;
    char *st = gh_state_issue(s, "http://h/cb", id, challenge);
    assert_int_equal(gh_state_take(s, st, NULL, &ru, verifier, &busy, why, sizeof why), -1);
    assert_non_null(strstr(why, "another browser"));
    assert_int_equal(gh_state_take(s, st, "x", &ru, verifier, &busy, why, sizeof why), -1);
    char *t = strdup(st);
    t[strlen(t) - 2] ^= 1; /* the signature */
    assert_int_equal(gh_state_take(s, t, id, &ru, verifier, &busy, why, sizeof why), -1);
    assert_non_null(strstr(why, "not one this daemon issued"));
    /* Another daemon's key (another state_dir) does not pass either. */
    char dir2[] = "/tmp/bosun-ghstate2.XXXXXX", err[256];
    assert_non_null(mkdtemp(dir2));
    gh_state *other = gh_state_new(dir2, err, sizeof err);
    assert_int_equal(gh_state_take(other, st, id, &ru, verifier, &busy, why, sizeof why), -1);
    gh_state_free(other);
    char path[128];
    snprintf(path, sizeof path, "%s/github_oauth.key", dir2);
    unlink(path);
    rmdir(dir2);
    /* The refusals did not use it up. */
    assert_int_equal(gh_state_take(s, st, id, &ru, verifier, &busy, why, sizeof why), 0);
    free(ru);
    free(t);
    free(st);
    gh_state_free(s);
}

static void full_list_is_busy(void **unused)
{
    (void)unused;
    gh_state *s = make();
    char id[72], challenge[GH_CHALLENGE_SIZE], verifier[GH_VERIFIER_LEN + 1], why[256], *ru;
    bool busy = false;
    for (int i = 0; i < GH_STATE_USED; i++) {
        char *st = gh_state_issue(s, "http://h/cb", id, challenge);
        assert_int_equal(gh_state_take(s, st, id, &ru, verifier, &busy, why, sizeof why), 0);
        free(ru);
        free(st);
    }
    char *st = gh_state_issue(s, "http://h/cb", id, challenge);
    assert_int_equal(gh_state_take(s, st, id, &ru, verifier, &busy, why, sizeof why), -1);
    assert_true(busy);
    free(st);
    gh_state_free(s);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(comes_back_once_with_matching_pkce),
        cmocka_unit_test(refuses_another_browser_and_tampering),
        cmocka_unit_test(full_list_is_busy),
    };
    int rc = RUN_TESTS(tests);
    char path[128];
    snprintf(path, sizeof path, "%s/github_oauth.key", dir);
    unlink(path);
    rmdir(dir);
    return rc;
}
