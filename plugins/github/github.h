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

#include <bosun/bosun.h>

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

/* ------------------------------------------------------------ plugin */

struct curl_ev;
typedef struct github_oauth github_oauth; /* the login's state (github_oauth*.c) */

typedef struct github {
    const bosun_ctx *ctx;
    github_cfg cfg;
    struct curl_ev *curl; /* every request to GitHub, on ctx->loop */
    github_oauth *oauth;  /* NULL until the login's code sets it up */
} github;

#endif
