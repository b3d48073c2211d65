/* bosunctl machine token create|list|show|revoke: the hub's fleet registry
 * (cmd.machine.*, served by the fleet plugin). */
#include "config.h"

#include "bosunctl.h"
#include "ctl_output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REG_TTL_MAX (30 * 86400.0)

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int token_create(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "create") != 0)
        return die(EX_USAGE_, "usage: bosunctl machine token create [--name N] [--ttl DURATION]");
    json_t *req = json_object();
    if (o->name)
        json_object_set_new(req, "name", json_string(o->name));
    if (o->ttl) {
        double ttl = ctl_parse_ttl(o->ttl, REG_TTL_MAX);
        if (ttl < 0) {
            json_decref(req);
            return die(EX_USAGE_, "--ttl: '%s' is not a duration of 1 s to 30 d", o->ttl);
        }
        json_object_set_new(req, "ttl", json_real(ttl));
    }
    int rc = 0;
    json_t *r = bus_call(conn, "cmd.machine.token.create", req, 10, &rc);
    if (!r)
        return rc;
    if (o->json) {
        print_json(r);
    } else {
        json_t *g = json_object_get(r, "registration");
        char expires[32];
        format_time(json_object_get(g, "expires_at"), expires, sizeof expires);
        /* The secret alone on stdout, so that `> file` captures just it. */
        printf("%s\n", str(r, "token") ?: "");
        fprintf(stderr,
                "bosunctl: registration token %s created, single use, expires %s; the token "
                "above is shown only now\n",
                str(g, "id") ?: "?", expires);
    }
    json_decref(r);
    return 0;
}

static void print_machine(json_t *m)
{
    char first[32], last[32];
    format_time(json_object_get(m, "first_seen"), first, sizeof first);
    format_time(json_object_get(m, "last_seen"), last, sizeof last);
    printf("id:         %s\nname:       %s\nstatus:     %s%s\nfirst seen: %s\nlast seen:  %s\n"
           "version:    %s\naddress:    %s\n",
           str(m, "id") ?: "-", str(m, "name") ?: "-", str(m, "status") ?: "-",
           json_is_true(json_object_get(m, "revoked")) ? " (revoked)" : "", first, last,
           str(m, "version") ?: "-", str(m, "address") ?: "-");
}

static int machine_list(ctl_conn *conn, const opts *o)
{
    int rc = 0;
    json_t *r = bus_call(conn, "cmd.machine.list", json_object(), 10, &rc);
    if (!r)
        return rc;
    if (o->json) {
        print_json(json_object_get(r, "items"));
        json_decref(r);
        return 0;
    }
    static const char *const headers[] = {"ID", "NAME", "STATUS", "LAST SEEN", "VERSION", NULL};
    table *tb = table_new(headers);
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(r, "items"), i, m)
    {
        char last[32];
        format_time(json_object_get(m, "last_seen"), last, sizeof last);
        const char *status =
            json_is_true(json_object_get(m, "revoked")) ? "revoked" : str(m, "status");
        const char *row[] = {str(m, "id"), str(m, "name") ?: "-", status, last,
                             str(m, "version") ?: "-"};
        table_add_row(tb, row);
    }
    table_print(tb, stdout);
    table_free(tb);
    json_decref(r);
    return 0;
}

static int machine_one(ctl_conn *conn, const opts *o, const char *subject, const char *id)
{
    int rc = 0;
    json_t *r = bus_call(conn, subject, json_pack("{s:s}", "id", id), 10, &rc);
    if (!r)
        return rc;
    if (o->json)
        print_json(r);
    else if (strcmp(subject, "cmd.machine.show") == 0)
        print_machine(json_object_get(r, "machine"));
    else
        printf("revoked %s\n", id);
    json_decref(r);
    return 0;
}

int cmd_machine(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    if (strcmp(sub, "token") == 0)
        return token_create(conn, o, argc - 1, argv + 1);
    if (strcmp(sub, "list") == 0 && argc == 1)
        return machine_list(conn, o);
    if (strcmp(sub, "show") == 0 && argc == 2)
        return machine_one(conn, o, "cmd.machine.show", argv[1]);
    if (strcmp(sub, "revoke") == 0 && argc == 2)
        return machine_one(conn, o, "cmd.machine.revoke", argv[1]);
    return die(EX_USAGE_, "usage: bosunctl machine token create|list|show ID|revoke ID");
}
