/* After a login's code or device grant: who is it, and may it in?
 *
 * GET api_url/user names the login; when allowed_orgs is set and the
 * login is not let in by name, GET api_url/user/orgs?per_page=100 (the
 * token's read:org scope) says whether it is a member of one of them.
 * Deny by default: with no allowed_users, allowed_orgs or admins nobody
 * logs in.  The role is admin for a login in admins, else viewer. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curl_ev.h"
#include "github_oauth.h"

struct gh_user {
    github *g;
    char *auth; /* "Authorization: Bearer TOKEN": zeroed when freed */
    curl_ev_fetch *fetch;
    char login[GITHUB_LOGIN_MAX + 1];
    gh_user_fn done;
    void *arg;
};

const char *gh_user_role(const github_cfg *c, const char *login, bool *need_orgs)
{
    *need_orgs = false;
    if (c->admins && github_login_in(c->admins, login))
        return "admin";
    if (c->allowed_users && github_login_in(c->allowed_users, login))
        return "viewer";
    *need_orgs = c->allowed_orgs && c->allowed_orgs[0];
    return NULL;
}

static void user_free(gh_user *u)
{
    if (u->fetch)
        curl_ev_fetch_cancel(u->fetch);
    explicit_bzero(u->auth, strlen(u->auth));
    free(u->auth);
    free(u);
}

void gh_user_cancel(gh_user *u)
{
    if (u)
        user_free(u);
}

static void finish(gh_user *u, const char *role, const char *code, const char *why)
{
    u->fetch = NULL;
    gh_user_fn done = u->done;
    void *arg = u->arg;
    char login[sizeof u->login];
    memcpy(login, u->login, sizeof login);
    user_free(u);
    done(arg, login[0] ? login : NULL, role, code, why);
}

static int get(gh_user *u, const char *path, curl_ev_fetch_fn done)
{
    char url[GITHUB_URL_MAX + 64], err[256];
    snprintf(url, sizeof url, "%s%s", u->g->cfg.api_url, path);
    const char *headers[] = {u->auth, "Accept: application/vnd.github+json",
                             "X-GitHub-Api-Version: 2022-11-28", NULL};
    curl_ev_request req = {
        .url = url,
        .headers = headers,
        .timeout_ms = (long)(u->g->cfg.request_timeout * 1000),
        .max_body = GH_ANSWER_MAX + 1,
        .ca_file = u->g->cfg.ca_file,
    };
    u->fetch = curl_ev_fetch_start(u->g->curl, &req, done, u, err, sizeof err);
    if (!u->fetch)
        log_error("github: login: cannot ask %s: %s", url, err);
    return u->fetch ? 0 : -1;
}

bool gh_answer_failed(const char *what, const curl_ev_response *r, char *why, size_t size)
{
    if (r->result != CURLE_OK)
        snprintf(why, size, "GitHub could not be reached for %s: %s", what, r->error);
    else if (r->status != 200)
        snprintf(why, size, "GitHub answered %ld for %s", r->status, what);
    else if (r->truncated)
        snprintf(why, size, "GitHub's answer for %s is over %u bytes", what, GH_ANSWER_MAX);
    else
        return false;
    log_warning("github: login: %s", why);
    return true;
}

static void on_orgs(const curl_ev_response *r, void *arg)
{
    gh_user *u = arg;
    char why[256];
    bool member = false;
    if (gh_answer_failed("the user's organisations", r, why, sizeof why))
        return finish(u, NULL, "unavailable", why);
    if (gh_parse_orgs(r->body, r->body_len, u->g->cfg.allowed_orgs, &member, why, sizeof why) !=
        0) {
        log_warning("github: login: %s", why);
        return finish(u, NULL, "unavailable", why);
    }
    if (!member) {
        snprintf(why, sizeof why, "the GitHub user %s is not a member of an allowed organisation",
                 u->login);
        log_notice("github: login refused: %s", why);
        return finish(u, NULL, "forbidden", why);
    }
    finish(u, "viewer", NULL, NULL);
}

static void on_user(const curl_ev_response *r, void *arg)
{
    gh_user *u = arg;
    char why[256];
    u->fetch = NULL;
    if (gh_answer_failed("the user", r, why, sizeof why))
        return finish(u, NULL, "unavailable", why);
    if (gh_parse_user(r->body, r->body_len, u->login, why, sizeof why) != 0) {
        log_warning("github: login: %s", why);
        return finish(u, NULL, "unavailable", why);
    }
    bool need_orgs;
    const char *role = gh_user_role(&u->g->cfg, u->login, &need_orgs);
    if (role)
        return finish(u, role, NULL, NULL);
    if (!need_orgs) {
        snprintf(why, sizeof why, "the GitHub user %s may not log in here", u->login);
        log_notice("github: login refused: %s", why);
        return finish(u, NULL, "forbidden", why);
    }
    if (get(u, "/user/orgs?per_page=100", on_orgs) != 0)
        finish(u, NULL, "unavailable", "cannot ask GitHub for the user's organisations");
}

json_t *gh_user_reply(const char *flow, const char *login, const char *role, const char *code,
                      const char *why)
{
    if (!role)
        return bus_error_json(code, "%s", why);
    log_info("github: %s login of %s (%s)", flow, login, role);
    return json_pack("{s:s,s:s}", "login", login, "role", role);
}

gh_user *gh_user_check(github *g, const char *token, gh_user_fn done, void *arg)
{
    gh_user *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    *u = (gh_user){.g = g, .done = done, .arg = arg};
    size_t n = strlen(token) + 32;
    if (!(u->auth = malloc(n))) {
        free(u);
        return NULL;
    }
    snprintf(u->auth, n, "Authorization: Bearer %s", token);
    if (get(u, "/user", on_user) != 0) {
        user_free(u);
        return NULL;
    }
    return u;
}
