/* bosunctl approval list|show|allow|deny: the approval requests the
 * policy asked a person about (cmd.approval.list, cmd.approval.answer). */
#include "config.h"

#include "bosunctl.h"
#include "ctl_output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/approval.h>

static const char *field(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_t *list_of(ctl_conn *conn, const char *id, int *rc)
{
    json_t *d = bus_call(conn, BOSUN_APPROVAL_LIST,
                         id ? json_pack("{s:s}", "id", id) : json_object(), 30, rc);
    if (!d)
        return NULL;
    json_t *list = json_incref(json_object_get(d, "approvals"));
    json_decref(d);
    if (!json_is_array(list)) {
        json_decref(list);
        *rc = die(1, "the daemon's reply has no approvals list");
        return NULL;
    }
    return list;
}

/* The tool's main argument, one line, for the table. */
static void call_text(json_t *v, char *buf, size_t size)
{
    json_t *input = json_object_get(v, "input");
    char *text = input ? json_dumps(input, JSON_COMPACT) : NULL;
    snprintf(buf, size, "%s %s", field(v, "tool") ? field(v, "tool") : "?", text ? text : "");
    buf[strcspn(buf, "\n")] = '\0';
    free(text);
}

static int approval_list(ctl_conn *conn, const opts *o, const char *id)
{
    int rc = 0;
    json_t *list = list_of(conn, id, &rc);
    if (!list)
        return rc;
    if (o->json || id) {
        print_json(id ? json_array_get(list, 0) : list);
        json_decref(list);
        return 0;
    }
    static const char *const headers[] = {"ID", "AGENT", "TASK", "RUN", "EXPIRES", "CALL", NULL};
    table *tb = table_new(headers);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        char expires[32], call_buf[256];
        format_time(json_object_get(v, "expires_at"), expires, sizeof expires);
        call_text(v, call_buf, sizeof call_buf);
        const char *row[] = {field(v, "id"),
                             field(v, "agent"),
                             field(v, "task"),
                             field(v, "run"),
                             expires,
                             call_buf,
                             NULL};
        table_add_row(tb, row);
    }
    table_print(tb, stdout);
    table_free(tb);
    json_decref(list);
    return 0;
}

static int approval_answer(ctl_conn *conn, const opts *o, const char *decision, const char *id)
{
    json_t *req = json_pack("{s:s,s:s,s:b}", "id", id, "decision", decision, "always", o->always);
    if (o->message) {
        json_t *m = json_string(o->message);
        if (!m) {
            json_decref(req);
            return die(EX_USAGE_, "the message is not valid UTF-8");
        }
        json_object_set_new(req, "message", m);
    }
    const char *user = getenv("USER");
    if (user)
        json_object_set_new(req, "by", json_string(user));
    int rc = 0;
    machine_option(o, req);
    json_t *d = bus_call(conn, BOSUN_APPROVAL_ANSWER, req, 30, &rc);
    if (!d)
        return rc;
    if (o->json)
        print_json(d);
    else if (field(d, "sticky_rule"))
        printf("%s %s; from now on %s for this agent and task\n",
               strcmp(decision, "allow") == 0 ? "allowed" : "denied", id, field(d, "sticky_rule"));
    else
        printf("%s %s\n", strcmp(decision, "allow") == 0 ? "allowed" : "denied", id);
    json_decref(d);
    return 0;
}

int cmd_approval(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    if (strcmp(sub, "list") == 0 && argc == 1)
        return approval_list(conn, o, NULL);
    if (strcmp(sub, "show") == 0 && argc == 2)
        return approval_list(conn, o, argv[1]);
    if ((strcmp(sub, "allow") == 0 || strcmp(sub, "deny") == 0) && argc == 2)
        return approval_answer(conn, o, sub, argv[1]);
    return die(EX_USAGE_, "usage: bosunctl approval list | show ID | allow|deny ID [--always] "
                          "[--message TEXT]");
}
