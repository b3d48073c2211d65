/* bosunctl token create|list|revoke: admin tokens (cmd.auth.token.*). */
#include "config.h"

#include "bosunctl.h"
#include "ctl_output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/auth.h>

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* "90", "90s", "15m", "12h", "30d", "2w" -> seconds (1 to max); -1 when not one. */
double ctl_parse_ttl(const char *s, double max)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v > 0))
        return -1;
    static const struct {
        const char *unit;
        double mult;
    } units[] = {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"w", 7 * 86400}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].unit) == 0) {
            double secs = v * units[i].mult;
            return secs >= 1 && secs <= max ? secs : -1;
        }
    return -1;
}

static int token_create(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    (void)argv;
    if (argc != 0 || !o->name)
        return die(EX_USAGE_, "usage: bosunctl token create --name NAME [--ttl DURATION]");
    json_t *req = json_pack("{s:s}", "name", o->name);
    if (o->ttl) {
        double ttl = ctl_parse_ttl(o->ttl, BOSUN_ADMIN_TOKEN_TTL_MAX);
        if (ttl < 0) {
            json_decref(req);
            return die(EX_USAGE_, "--ttl: '%s' is not a duration (90s, 15m, 12h, 30d, 2w)", o->ttl);
        }
        json_object_set_new(req, "ttl", json_real(ttl));
    }
    int rc = 0;
    json_t *r = bus_call(conn, BOSUN_AUTH_TOKEN_CREATE, req, 10, &rc);
    if (!r)
        return rc;
    if (o->json) {
        print_json(r);
    } else {
        json_t *t = json_object_get(r, "token");
        char expires[32];
        format_time(json_object_get(t, "expires_at"), expires, sizeof expires);
        /* The secret alone on stdout, so that `> file` captures just it. */
        printf("%s\n", str(r, "secret") ?: "");
        fprintf(stderr,
                "bosunctl: admin token %s (%s) created, expires %s; the secret above is shown "
                "only now\n",
                str(t, "id") ?: "?", str(t, "name") ?: "?", expires);
    }
    json_decref(r);
    return 0;
}

static int token_list(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return die(EX_USAGE_, "usage: bosunctl token list");
    int rc = 0;
    json_t *r = bus_call(conn, BOSUN_AUTH_TOKEN_LIST, json_object(), 10, &rc);
    if (!r)
        return rc;
    if (o->json) {
        print_json(json_object_get(r, "tokens"));
        json_decref(r);
        return 0;
    }
    static const char *const headers[] = {"ID", "NAME", "CREATED", "EXPIRES", "LAST USED", NULL};
    table *tb = table_new(headers);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(r, "tokens"), i, t)
    {
        char created[32], expires[32], used[32];
        format_time(json_object_get(t, "created_at"), created, sizeof created);
        format_time(json_object_get(t, "expires_at"), expires, sizeof expires);
        format_time(json_object_get(t, "last_used_at"), used, sizeof used);
        const char *row[] = {str(t, "id"), str(t, "name"), created, expires, used};
        table_add_row(tb, row);
    }
    table_print(tb, stdout);
    table_free(tb);
    json_decref(r);
    return 0;
}

static int token_revoke(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 1)
        return die(EX_USAGE_, "usage: bosunctl token revoke ID");
    int rc = 0;
    json_t *r = bus_call(conn, BOSUN_AUTH_TOKEN_REVOKE, json_pack("{s:s}", "id", argv[0]), 10, &rc);
    if (!r)
        return rc;
    if (o->json)
        print_json(r);
    else
        printf("revoked %s\n", str(r, "id") ?: argv[0]);
    json_decref(r);
    return 0;
}

int cmd_token(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    if (strcmp(sub, "create") == 0)
        return token_create(conn, o, argc - 1, argv + 1);
    if (strcmp(sub, "list") == 0)
        return token_list(conn, o, argc - 1, argv + 1);
    if (strcmp(sub, "revoke") == 0)
        return token_revoke(conn, o, argc - 1, argv + 1);
    return die(EX_USAGE_, "usage: bosunctl token create|list|revoke ...");
}
