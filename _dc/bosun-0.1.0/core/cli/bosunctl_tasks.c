/* bosunctl commands about tasks, input requests and artifacts. */
#include "config.h"

#include "bosunctl.h"
#include "ctl_output.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bosun/store.h>
#include <bosun/task.h>

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* ------------------------------------------------------------ task */

static int task_create(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 0 || !o->title)
        return die(EX_USAGE_, "usage: bosunctl task create --title T [--prompt P | --prompt-file "
                              "F] [--agent A]");
    json_t *prompt;
    int rc = prompt_option(o, &prompt);
    if (rc)
        return rc;
    json_t *req = json_pack("{s:s}", "title", o->title);
    if (prompt)
        json_object_set_new(req, "prompt", prompt);
    if (o->agent)
        json_object_set_new(req, "agent", json_string(o->agent));
    const char *user = getenv("USER");
    if (user)
        json_object_set_new(req, "owner", json_string(user));
    machine_option(o, req);
    json_t *d = bus_call(conn, BOSUN_TASK_CREATE, req, 30, &rc);
    if (!d)
        return rc;
    if (o->json) {
        print_json(d);
    } else {
        printf("%s\n", str(d, "task"));
        if (str(d, "run"))
            printf("started run %s of %s\n", str(d, "run"), o->agent);
    }
    const char *start_error = str(d, "start_error");
    if (start_error)
        rc = die(1, "the task was created but its agent did not start: %s", start_error);
    json_decref(d);
    return rc;
}

static int task_list(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 0)
        return die(EX_USAGE_, "usage: bosunctl task list [--machine M]");
    int rc = 0;
    json_t *d = bus_call(conn, BOSUN_STORE_TASKS,
                         json_pack("{s:i,s:s*}", "limit", 1000, "machine", o->machine), 30, &rc);
    if (!d)
        return rc;
    json_t *tasks = json_object_get(d, "tasks");
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t)
    {
        json_object_set(t, "id", json_object_get(t, "task"));
        json_object_set_new(
            t, "has_pending_requests",
            json_boolean(json_integer_value(json_object_get(t, "pending_inputs")) > 0));
    }
    if (o->json) {
        print_json(tasks);
        json_decref(d);
        return 0;
    }
    static const char *const headers[] = {"ID",      "TITLE",   "STATUS",  "OWNER",
                                          "PENDING", "UPDATED", "MACHINE", NULL};
    table *tb = table_new(headers);
    json_array_foreach(tasks, i, t)
    {
        char pending[16], updated[32];
        snprintf(pending, sizeof pending, "%lld",
                 (long long)json_integer_value(json_object_get(t, "pending_inputs")));
        format_time(json_object_get(t, "updated_at"), updated, sizeof updated);
        const char *row[] = {str(t, "task"), str(t, "title"), str(t, "status"),  str(t, "owner"),
                             pending,        updated,         str(t, "machine"), NULL};
        table_add_row(tb, row);
    }
    table_print(tb, stdout);
    table_free(tb);
    json_decref(d);
    return 0;
}

static json_t *query(ctl_conn *conn, const char *subject, json_t *args, const char *key, int *rc)
{
    json_t *d = bus_call(conn, subject, args, 30, rc);
    if (!d)
        return NULL;
    json_t *v = json_incref(json_object_get(d, key));
    json_decref(d);
    return v ? v : json_array();
}

static void show_task_text(json_t *t, json_t *runs, json_t *inputs, json_t *arts, json_t *prs)
{
    char updated[32];
    format_time(json_object_get(t, "updated_at"), updated, sizeof updated);
    printf("task:    %s\ntitle:   %s\nstatus:  %s\nowner:   %s\nagent:   %s\nupdated: %s\n",
           str(t, "task"), str(t, "title") ?: "", str(t, "status") ?: "-", str(t, "owner") ?: "-",
           str(t, "agent") ?: "-", updated);
    char cost[32];
    format_cost(json_object_get(t, "cost_usd"), cost, sizeof cost);
    printf("cost:    %s\n", cost);
    if (str(t, "prompt"))
        printf("prompt:\n  %s\n", str(t, "prompt"));
    size_t i;
    json_t *v;
    printf("\nruns:\n");
    json_array_foreach(runs, i, v)
    {
        format_cost(json_object_get(v, "cost_usd"), cost, sizeof cost);
        printf("  %s  %-13s %-9s %s%s\n", str(v, "run"), str(v, "state"), cost,
               str(v, "resumed_from") ? "resumed from " : "", str(v, "resumed_from") ?: "");
    }
    printf("\nquestions:\n");
    json_array_foreach(inputs, i, v)
    {
        printf("  %s  %-9s %s\n", str(v, "input"), str(v, "status"), str(v, "question"));
        if (str(v, "answer"))
            printf("      answer: %s\n", str(v, "answer"));
    }
    printf("\nartifacts:\n");
    json_array_foreach(arts, i, v) printf(
        "  %s  v%lld  %lld bytes  %s\n", str(v, "name"),
        (long long)json_integer_value(json_object_get(v, "version")),
        (long long)json_integer_value(json_object_get(v, "size")), str(v, "mime_type") ?: "");
    printf("\npull requests:\n");
    json_array_foreach(prs, i, v) printf("  %s\n", str(v, "url"));
}

static int task_show(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 1)
        return die(EX_USAGE_, "usage: bosunctl task show ID");
    int rc = 0;
    json_t *tasks =
        query(conn, BOSUN_STORE_TASKS, json_pack("{s:s}", "task", argv[0]), "tasks", &rc);
    if (!tasks)
        return rc;
    json_t *t = json_incref(json_array_get(tasks, 0));
    json_decref(tasks);
    if (!t)
        return die(1, "no task %s", argv[0]);
    json_t *runs = query(conn, BOSUN_STORE_RUNS, json_pack("{s:s,s:b}", "task", argv[0], "cost", 1),
                         "runs", &rc);
    json_t *inputs =
        query(conn, BOSUN_STORE_INPUTS, json_pack("{s:s}", "task", argv[0]), "inputs", &rc);
    json_t *arts =
        query(conn, BOSUN_STORE_ARTIFACTS, json_pack("{s:s}", "task", argv[0]), "artifacts", &rc);
    json_t *prs = query(conn, BOSUN_STORE_PRS, json_pack("{s:s}", "task", argv[0]), "prs", &rc);
    if (runs && inputs && arts && prs) {
        if (o->json) {
            json_t *all = json_pack("{s:O,s:O,s:O,s:O,s:O}", "task", t, "runs", runs, "inputs",
                                    inputs, "artifacts", arts, "prs", prs);
            print_json(all);
            json_decref(all);
        } else
            show_task_text(t, runs, inputs, arts, prs);
    }
    json_decref(t);
    json_decref(runs);
    json_decref(inputs);
    json_decref(arts);
    json_decref(prs);
    return rc;
}

int cmd_task(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    if (strcmp(sub, "create") == 0)
        return task_create(conn, o, argc - 1, argv + 1);
    if (strcmp(sub, "list") == 0)
        return task_list(conn, o, argc - 1, argv + 1);
    if (strcmp(sub, "show") == 0)
        return task_show(conn, o, argc - 1, argv + 1);
    return die(EX_USAGE_, "usage: bosunctl task create|list|show ...");
}

/* ------------------------------------------------------------ input */

static int input_list(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 0)
        return die(EX_USAGE_, "usage: bosunctl input list [--pending] [--machine M]");
    int rc = 0;
    json_t *args = json_pack("{s:i,s:s*}", "limit", 1000, "machine", o->machine);
    if (o->pending)
        json_object_set_new(args, "status", json_string("pending"));
    json_t *inputs = query(conn, BOSUN_STORE_INPUTS, args, "inputs", &rc);
    if (!inputs)
        return rc;
    size_t i;
    json_t *v;
    json_array_foreach(inputs, i, v) json_object_set(v, "id", json_object_get(v, "input"));
    if (o->json) {
        print_json(inputs);
        json_decref(inputs);
        return 0;
    }
    static const char *const headers[] = {"ID",       "TASK",    "RUN", "STATUS",
                                          "QUESTION", "MACHINE", NULL};
    table *tb = table_new(headers);
    json_array_foreach(inputs, i, v)
    {
        char question[256];
        snprintf(question, sizeof question, "%s", str(v, "question") ?: "");
        question[strcspn(question, "\n")] = '\0';
        json_t *choices = json_object_get(v, "choices");
        if (json_array_size(choices) > 0) {
            size_t k;
            json_t *c;
            size_t len = strlen(question);
            json_array_foreach(choices, k, c)
            {
                if (len + 8 >= sizeof question)
                    break;
                len += (size_t)snprintf(question + len, sizeof question - len, "%s%zu) %s",
                                        k ? " " : " [", k + 1, json_string_value(c));
            }
            if (len + 2 < sizeof question)
                strcat(question, "]");
        }
        const char *row[] = {str(v, "input"), str(v, "task"),    str(v, "run"), str(v, "status"),
                             question,        str(v, "machine"), NULL};
        table_add_row(tb, row);
    }
    table_print(tb, stdout);
    table_free(tb);
    json_decref(inputs);
    return 0;
}

static int input_answer(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if ((o->choice > 0) == (argc == 2) || argc < 1 || argc > 2)
        return die(EX_USAGE_, "usage: bosunctl input answer ID TEXT | --choice N");
    json_t *req = json_pack("{s:s}", "input", argv[0]);
    if (o->choice > 0)
        json_object_set_new(req, "choice", json_integer(o->choice));
    else {
        json_t *a = json_string(argv[1]);
        if (!a) {
            json_decref(req);
            return die(EX_USAGE_, "the answer is not valid UTF-8");
        }
        json_object_set_new(req, "answer", a);
    }
    const char *user = getenv("USER");
    if (user)
        json_object_set_new(req, "by", json_string(user));
    int rc = 0;
    machine_option(o, req);
    json_t *d = bus_call(conn, BOSUN_INPUT_ANSWER, req, 30, &rc);
    if (!d)
        return rc;
    if (o->json)
        print_json(d);
    else if (str(d, "resumed"))
        printf("answered %s; resumed as run %s\n", argv[0], str(d, "resumed"));
    else
        printf("answered %s\n", argv[0]);
    json_decref(d);
    return 0;
}

int cmd_input(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    if (strcmp(sub, "list") == 0)
        return input_list(conn, o, argc - 1, argv + 1);
    if (strcmp(sub, "answer") == 0)
        return input_answer(conn, o, argc - 1, argv + 1);
    return die(EX_USAGE_, "usage: bosunctl input list|answer ...");
}

/* ------------------------------------------------------------ artifact */

static int artifact_list(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 1)
        return die(EX_USAGE_, "usage: bosunctl artifact list TASK");
    int rc = 0;
    json_t *arts =
        query(conn, BOSUN_STORE_ARTIFACTS, json_pack("{s:s}", "task", argv[0]), "artifacts", &rc);
    if (!arts)
        return rc;
    if (o->json) {
        print_json(arts);
        json_decref(arts);
        return 0;
    }
    static const char *const headers[] = {"NAME", "VERSION", "VERSIONS", "SIZE",
                                          "TYPE", "CREATED", NULL};
    table *tb = table_new(headers);
    size_t i;
    json_t *v;
    json_array_foreach(arts, i, v)
    {
        char ver[24], vers[24], size[24], created[32];
        snprintf(ver, sizeof ver, "%lld",
                 (long long)json_integer_value(json_object_get(v, "version")));
        snprintf(vers, sizeof vers, "%lld",
                 (long long)json_integer_value(json_object_get(v, "versions")));
        snprintf(size, sizeof size, "%lld",
                 (long long)json_integer_value(json_object_get(v, "size")));
        format_time(json_object_get(v, "created_at"), created, sizeof created);
        const char *row[] = {str(v, "name"), ver, vers, size, str(v, "mime_type"), created, NULL};
        table_add_row(tb, row);
    }
    table_print(tb, stdout);
    table_free(tb);
    json_decref(arts);
    return 0;
}

static int artifact_get(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    if (argc != 2)
        return die(EX_USAGE_, "usage: bosunctl artifact get TASK NAME [--version N]");
    json_t *args = json_pack("{s:s,s:s,s:b}", "task", argv[0], "name", argv[1], "content", 1);
    if (o->version > 0)
        json_object_set_new(args, "version", json_integer(o->version));
    int rc = 0;
    json_t *d = bus_call(conn, BOSUN_STORE_ARTIFACTS, args, 30, &rc);
    if (!d)
        return rc;
    json_t *a = json_object_get(d, "artifact");
    if (!a) {
        json_decref(d);
        return die(1, "no artifact %s on task %s", argv[1], argv[0]);
    }
    if (o->json) {
        print_json(a);
    } else if (str(a, "text")) {
        fputs(str(a, "text"), stdout);
    } else {
        size_t n = 0;
        unsigned char *raw = util_base64_decode(str(a, "base64") ?: "", &n);
        if (raw)
            fwrite(raw, 1, n, stdout);
        free(raw);
    }
    json_decref(d);
    return 0;
}

int cmd_artifact(ctl_conn *conn, const opts *o, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    if (strcmp(sub, "list") == 0)
        return artifact_list(conn, o, argc - 1, argv + 1);
    if (strcmp(sub, "get") == 0)
        return artifact_get(conn, o, argc - 1, argv + 1);
    return die(EX_USAGE_, "usage: bosunctl artifact list|get ...");
}
