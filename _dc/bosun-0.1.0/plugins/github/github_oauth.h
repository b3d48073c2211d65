/* The GitHub login (github_oauth*.c): the web flow and the device flow,
 * served on the bus for the http plugin's routes (plugins/http/
 * http_auth_github.c), which alone issues bosun sessions.
 *
 *   github_oauth.c         the bus side: cmd.github.auth.start|callback|
 *                          device|poll, and the code exchange
 *   github_oauth_state.c   the web flow's state: a short JWT signed with the
 *                          plugin's key, single-use, and the PKCE verifier
 *                          derived from it (nothing kept per started login)
 *   github_oauth_device.c  the device flow's sessions and their polling
 *   github_oauth_user.c    token -> GET /user (and /user/orgs) -> role
 *   github_oauth_parse.c   GitHub's answers, checked and bounded (fuzzed)
 *
 * GitHub's access token lives only through the requests that read the
 * user: it is zeroed and freed after, never logged, never kept. */
#ifndef BOSUN_GITHUB_OAUTH_H
#define BOSUN_GITHUB_OAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <bosun/bosun.h>
#include <bosun/jwt.h>

#include "curl_ev.h"
#include "github.h"

#define GH_AUTH_START    "cmd.github.auth.start"
#define GH_AUTH_CALLBACK "cmd.github.auth.callback"
#define GH_AUTH_DEVICE   "cmd.github.auth.device"
#define GH_AUTH_POLL     "cmd.github.auth.poll"

#define GH_STATE_TTL      600.0       /* a started web login, seconds */
#define GH_STATE_USED     4096        /* states remembered as used at once */
#define GH_DEVICE_MAX     64          /* device logins in progress at once */
#define GH_DEVICE_TTL     900.0       /* at most, whatever GitHub says */
#define GH_TOKEN_MAX      512         /* bytes of a GitHub access token */
#define GH_CODE_MAX       256         /* of an authorization code, a device code */
#define GH_ANSWER_MAX     (64u << 10) /* of one answer of GitHub's */
#define GH_VERIFIER_LEN   43          /* PKCE verifier: base64url of 32 bytes */
#define GH_CHALLENGE_SIZE 48          /* room for a PKCE challenge's base64url */

/* ------------------------------------------------------------ parse */

/* An answer of the token endpoint: a token, or GitHub's error code (its
 * errors come with status 200). */
typedef struct gh_token_answer {
    char token[GH_TOKEN_MAX + 1]; /* "" when error is set */
    char error[64];               /* "authorization_pending", "slow_down", ... */
    long interval;                /* slow_down's new interval, 0 when absent */
} gh_token_answer;

typedef struct gh_device_answer {
    char device_code[GH_CODE_MAX + 1];
    char user_code[32];
    char verification_uri[GITHUB_URL_MAX + 1];
    long expires_in; /* seconds */
    long interval;   /* seconds */
} gh_device_answer;

/* Each: 0, or -1 with why (naming the member, never its value). */
int gh_parse_token(const char *body, size_t len, gh_token_answer *out, char *why, size_t why_size);
int gh_parse_device(const char *body, size_t len, gh_device_answer *out, char *why,
                    size_t why_size);
/* GET /user: the login, checked as a GitHub login. */
int gh_parse_user(const char *body, size_t len, char login[GITHUB_LOGIN_MAX + 1], char *why,
                  size_t why_size);
/* GET /user/orgs: whether one of the orgs is in allowed (lower-case). */
int gh_parse_orgs(const char *body, size_t len, char *const *allowed, bool *member, char *why,
                  size_t why_size);

/* ------------------------------------------------------------ state */

typedef struct gh_state gh_state;

/* The key is state_dir/github_oauth.key (made on first start). */
gh_state *gh_state_new(const char *state_dir, char *err, size_t err_size);
void gh_state_free(gh_state *s);
/* A state for a login that will come back to redirect_uri: malloc'ed,
 * with its id (for the browser's binding cookie) in id (72 bytes) and its
 * PKCE challenge in challenge (GH_CHALLENGE_SIZE bytes). */
char *gh_state_issue(gh_state *s, const char *redirect_uri, char *id, char *challenge);
/* Checks a state that came back with binding (the cookie set at the
 * start): its signature and age, that binding is its id, and that it was
 * not used before (it is used from now on).  0 with its redirect_uri
 * (malloc'ed) and PKCE verifier; else -1 with the reason and *busy set
 * when the used-list is full (a 503, not the client's fault). */
int gh_state_take(gh_state *s, const char *state, const char *binding, char **redirect_uri,
                  char verifier[GH_VERIFIER_LEN + 1], bool *busy, char *why, size_t why_size);

/* ------------------------------------------------------------ user */

/* What the login ends with: a GitHub login allowed in, and its role. */
typedef void (*gh_user_fn)(void *arg, const char *login, const char *role, const char *code,
                           const char *why);

/* Reads the user behind token (and its orgs when allowed_orgs is set) and
 * decides: done(login, "admin"|"viewer", NULL, NULL), or done(login or
 * NULL, NULL, code, why) with code "forbidden" (not allowed) or
 * "unavailable" (GitHub failed).  token is copied and zeroed after.  done
 * runs from the loop, exactly once, unless gh_user_cancel comes first. */
typedef struct gh_user gh_user;
gh_user *gh_user_check(github *g, const char *token, gh_user_fn done, void *arg);
void gh_user_cancel(gh_user *u);
/* The reply a gh_user_fn's outcome makes, for flow ("web", "device"):
 * {"login","role"} (logged at info level) or the error. */
json_t *gh_user_reply(const char *flow, const char *login, const char *role, const char *code,
                      const char *why);
/* The role of an allowed login, or NULL when it may not log in before
 * its orgs are known (*need_orgs set when orgs could let it in). */
const char *gh_user_role(const github_cfg *c, const char *login, bool *need_orgs);

/* ------------------------------------------------------------ device */

typedef struct gh_devices gh_devices;
gh_devices *gh_devices_new(github *g);
void gh_devices_free(gh_devices *d);
/* cmd.github.auth.device and .poll */
void gh_devices_start(gh_devices *d, const bus_msg *m);
void gh_devices_poll(gh_devices *d, const bus_msg *m);

/* ------------------------------------------------------------ shared */

/* Whether an answer of GitHub's about what ("the user", ...) failed: no
 * answer, a status other than 200, or one over GH_ANSWER_MAX; then the
 * reason, for the person logging in, is in why, and logged. */
bool gh_answer_failed(const char *what, const curl_ev_response *r, char *why, size_t size);

/* A form-encoded body of name=value pairs (NULL-terminated, values
 * escaped), or NULL. */
char *gh_form(const char *const *pairs);
/* Replies to m with {"error": {"code", "message"}}. */
void gh_reply_error(bus_t *bus, const bus_msg *m, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Posts form to web_url + path (the token and device endpoints) with
 * Accept: application/json; done gets the response. */
curl_ev_fetch *gh_post_form(github *g, const char *path, const char *form, curl_ev_fetch_fn done,
                            void *arg, char *err, size_t err_size);

github_oauth *github_oauth_new(github *g, cfg_diag *d);
void github_oauth_free(github_oauth *o);

#endif
