/* Unit tests for the sqlite store's usage projection and cmd.store.cost
 * (plugins/sqlite/sqlite_cost.c, sqlite_cost_query.c), on a real database
 * file migrated to the current schema. */
#include "config.h"

#include "tap.h"

#include "../../plugins/sqlite/sqlite_store.h"

#include <bosun/date.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64];
    sqlstore s;
    sqlstore_cost_stmts c;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/bosun-cost-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char path[128];
    snprintf(path, sizeof path, "%s/store.db", f->dir);
    f->s.path = strdup(path);
    f->s.cache_bytes = 1 << 20;
    char err[512];
    if (sqlstore_open(&f->s, err, sizeof err) != 0) {
        fprintf(stderr, "# %s\n", err);
        return -1;
    }
    if (sqlstore_cost_prepare(f->s.db, &f->c) != SQLITE_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sqlstore_cost_finalize(&f->c);
    sqlstore_close(&f->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f->s.path);
    free(f);
    return 0;
}

/* Stores the event (as sqlite_events.c does, machine defaulting to "m1")
 * and folds it into the projection. */
static void feed(fixture *f, const char *subject, double time, const char *json)
{
    json_t *data = json_loads(json, 0, NULL);
    assert_non_null(data);
    const char *machine = json_string_value(json_object_get(data, "machine"));
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->s.db,
                                        "INSERT INTO events(time, subject, machine, data)"
                                        " VALUES (?1, ?2, ?3, ?4)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_double(st, 1, time);
    sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, machine ? machine : "m1", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlstore_event e = {.subject = (char *)subject, .time = time, .data = data};
    assert_int_equal(sqlstore_cost_project(&f->c, &e, machine ? machine : "m1"), SQLITE_OK);
    json_decref(data);
}

static json_t *query(fixture *f, const char *args_json)
{
    json_t *args = json_loads(args_json, 0, NULL);
    assert_non_null(args);
    json_t *r = sqlstore_cost_query(&f->s, args);
    json_decref(args);
    assert_non_null(r);
    return r;
}

/* The item with that key (NULL: the null key). */
static json_t *item(json_t *reply, const char *key)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(reply, "items"), i, it)
    {
        const char *k = json_string_value(json_object_get(it, "key"));
        if ((!key && !k) || (key && k && strcmp(k, key) == 0))
            return it;
    }
    fail_msg("no item %s", key ? key : "(null)");
    return NULL;
}

static long long num(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static double usd(json_t *o)
{
    return json_number_value(json_object_get(o, "cost_usd"));
}

/* 2026-12-01T10:00:00Z and the next day. */
#define DAY1 1796119200.0
#define DAY2 (DAY1 + 86400.0)

/* Two usage events while it runs, then the result with the totals: the
 * result replaces the live sum; usage after it counts until the next. */
static void test_live_then_result(void **state)
{
    fixture *f = *state;
    const char *u = "{\"kind\":\"usage\",\"run\":\"r1\",\"agent\":\"a\",\"task\":\"t1\","
                    "\"input_tokens\":100,\"output_tokens\":10,\"cost_usd\":0.01}";
    feed(f, "evt.run.a.r1.usage", DAY1, u);
    feed(f, "evt.run.a.r1.usage", DAY1 + 1, u);
    json_t *r = query(f, "{\"by\":\"run\"}");
    json_t *it = item(r, "r1");
    assert_int_equal(num(it, "input_tokens"), 200);
    assert_true(fabs(usd(it) - 0.02) < 1e-12);
    assert_string_equal(json_string_value(json_object_get(it, "agent")), "a");
    json_decref(r);

    feed(f, "evt.run.a.r1.result", DAY1 + 2,
         "{\"kind\":\"result\",\"run\":\"r1\",\"agent\":\"a\",\"task\":\"t1\",\"cost_usd\":0.05,"
         "\"usage\":{\"input_tokens\":250,\"output_tokens\":25,\"cache_read_tokens\":5,"
         "\"cache_write_tokens\":7}}");
    r = query(f, "{\"by\":\"run\"}");
    it = item(r, "r1");
    assert_int_equal(num(it, "input_tokens"), 250);
    assert_int_equal(num(it, "output_tokens"), 25);
    assert_int_equal(num(it, "cache_read_tokens"), 5);
    assert_int_equal(num(it, "cache_creation_tokens"), 7);
    assert_true(fabs(usd(it) - 0.05) < 1e-12);
    assert_int_equal(num(it, "runs"), 1);
    json_decref(r);

    /* A resumed process of the same run: live again, then its result adds. */
    feed(f, "evt.run.a.r1.usage", DAY1 + 3,
         "{\"run\":\"r1\",\"agent\":\"a\",\"task\":\"t1\",\"input_tokens\":30,\"cost_usd\":0.003}");
    r = query(f, "{\"by\":\"run\"}");
    assert_int_equal(num(item(r, "r1"), "input_tokens"), 280);
    json_decref(r);
    feed(f, "evt.run.a.r1.result", DAY1 + 4,
         "{\"run\":\"r1\",\"agent\":\"a\",\"task\":\"t1\",\"cost_usd\":0.004,"
         "\"usage\":{\"input_tokens\":40}}");
    r = query(f, "{\"by\":\"run\"}");
    it = item(r, "r1");
    assert_int_equal(num(it, "input_tokens"), 290);
    assert_true(fabs(usd(it) - 0.054) < 1e-12);
    json_decref(r);
}

/* Runs of two agents on two machines over two days. */
static void feed_fleet(fixture *f)
{
    feed(f, "evt.run.a.r1.result", DAY1,
         "{\"run\":\"r1\",\"agent\":\"a\",\"task\":\"t1\",\"cost_usd\":0.5,"
         "\"usage\":{\"input_tokens\":1000,\"output_tokens\":100}}");
    feed(f, "evt.run.b.r2.result", DAY1 + 60,
         "{\"run\":\"r2\",\"agent\":\"b\",\"task\":\"t1\",\"machine\":\"m2\",\"cost_usd\":0.25,"
         "\"usage\":{\"input_tokens\":500,\"output_tokens\":50}}");
    feed(f, "evt.run.b.r3.result", DAY2,
         "{\"run\":\"r3\",\"agent\":\"b\",\"task\":null,\"cost_usd\":0.125,"
         "\"usage\":{\"input_tokens\":200,\"output_tokens\":20}}");
    /* The subject names the run and agent when the data does not. */
    feed(f, "evt.run.b.r4.usage", DAY2 + 60, "{\"input_tokens\":7}");
}

static void test_groupings(void **state)
{
    fixture *f = *state;
    feed_fleet(f);
    json_t *r = query(f, "{\"by\":\"task\"}");
    assert_int_equal(num(item(r, "t1"), "input_tokens"), 1500);
    assert_int_equal(num(item(r, "t1"), "runs"), 2);
    assert_int_equal(num(item(r, NULL), "input_tokens"), 207);
    json_t *total = json_object_get(r, "total");
    assert_int_equal(num(total, "input_tokens"), 1707);
    assert_int_equal(num(total, "output_tokens"), 170);
    assert_int_equal(num(total, "runs"), 4);
    assert_true(fabs(usd(total) - 0.875) < 1e-12);
    json_decref(r);

    r = query(f, "{\"by\":\"agent\"}");
    assert_int_equal(num(item(r, "a"), "input_tokens"), 1000);
    assert_int_equal(num(item(r, "b"), "input_tokens"), 707);
    assert_int_equal(num(item(r, "b"), "runs"), 3);
    json_decref(r);

    r = query(f, "{\"by\":\"machine\"}");
    assert_int_equal(num(item(r, "m1"), "input_tokens"), 1207);
    assert_int_equal(num(item(r, "m2"), "input_tokens"), 500);
    json_decref(r);

    r = query(f, "{\"by\":\"day\"}");
    assert_int_equal(json_array_size(json_object_get(r, "items")), 2);
    assert_int_equal(num(item(r, "2026-12-01"), "input_tokens"), 1500);
    assert_int_equal(num(item(r, "2026-12-02"), "input_tokens"), 207);
    json_decref(r);
}

static void test_filters_and_pages(void **state)
{
    fixture *f = *state;
    feed_fleet(f);
    json_t *r = query(f, "{\"by\":\"run\",\"since\":\"2026-12-02\"}");
    assert_int_equal(json_array_size(json_object_get(r, "items")), 2);
    assert_int_equal(num(json_object_get(r, "total"), "input_tokens"), 207);
    json_decref(r);
    /* A day as until takes that whole day in; a time is exclusive. */
    r = query(f, "{\"by\":\"run\",\"until\":\"2026-12-01\"}");
    assert_int_equal(num(json_object_get(r, "total"), "input_tokens"), 1500);
    json_decref(r);
    r = query(f, "{\"by\":\"run\",\"since\":\"2026-12-01T10:00:30Z\",\"until\":"
                 "\"2026-12-01T12:00:00+01:00\"}");
    assert_int_equal(num(json_object_get(r, "total"), "input_tokens"), 500);
    json_decref(r);
    r = query(f, "{\"by\":\"run\",\"agent\":\"b\",\"machine\":\"m1\"}");
    assert_int_equal(num(json_object_get(r, "total"), "input_tokens"), 207);
    json_decref(r);
    r = query(f, "{\"by\":\"agent\",\"task\":\"t1\",\"since\":0}");
    assert_int_equal(num(json_object_get(r, "total"), "runs"), 2);
    json_decref(r);

    /* Pages by key: r1 r2 | r3 r4 | end. */
    r = query(f, "{\"by\":\"run\",\"limit\":2}");
    assert_int_equal(json_array_size(json_object_get(r, "items")), 2);
    assert_string_equal(json_string_value(json_object_get(r, "next")), "r2");
    assert_int_equal(num(json_object_get(r, "total"), "runs"), 4);
    json_decref(r);
    r = query(f, "{\"by\":\"run\",\"limit\":2,\"cursor\":\"r2\"}");
    assert_int_equal(json_array_size(json_object_get(r, "items")), 2);
    assert_non_null(item(r, "r4"));
    assert_true(json_is_null(json_object_get(r, "next")));
    json_decref(r);
}

/* Whatever the projection holds, a rebuild from the events holds too. */
static void test_rebuild_same(void **state)
{
    fixture *f = *state;
    feed_fleet(f);
    feed(f, "evt.run.a.r5.usage", DAY2 + 90, "{\"input_tokens\":3,\"cost_usd\":0.001}");
    static const char *const bys[] = {"run", "task", "agent", "machine", "day"};
    char *before[5];
    for (int i = 0; i < 5; i++) {
        char args[64];
        snprintf(args, sizeof args, "{\"by\":\"%s\"}", bys[i]);
        json_t *r = query(f, args);
        before[i] = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT);
        json_decref(r);
    }
    assert_int_equal(sqlstore_exec(f->s.db, "BEGIN"), SQLITE_OK);
    assert_int_equal(sqlstore_cost_rebuild(f->s.db), SQLITE_OK);
    assert_int_equal(sqlstore_exec(f->s.db, "COMMIT"), SQLITE_OK);
    for (int i = 0; i < 5; i++) {
        char args[64];
        snprintf(args, sizeof args, "{\"by\":\"%s\"}", bys[i]);
        json_t *r = query(f, args);
        char *after = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT);
        assert_string_equal(after, before[i]);
        free(after);
        free(before[i]);
        json_decref(r);
    }
}

/* Odd reports count as nothing; other subjects are not usage. */
static void test_odd_events(void **state)
{
    fixture *f = *state;
    feed(f, "evt.run.a.r1.result", DAY1,
         "{\"cost_usd\":\"lots\",\"usage\":{\"input_tokens\":-5,\"output_tokens\":1.5,"
         "\"cache_read_tokens\":1125899906842624}}");
    feed(f, "evt.run.a.r1.usage", DAY1, "{\"input_tokens\":\"9\",\"cost_usd\":-1}");
    feed(f, "evt.run.a.r1.usage.more", DAY1, "{\"input_tokens\":9}");
    feed(f, "evt.run.a.r1.Usage", DAY1, "{\"input_tokens\":9}");
    feed(f, "evt.task.t1.usage", DAY1, "{\"input_tokens\":9}");
    json_t *r = query(f, "{\"by\":\"run\"}");
    json_t *t = json_object_get(r, "total");
    assert_int_equal(num(t, "input_tokens") + num(t, "output_tokens") + num(t, "cache_read_tokens"),
                     0);
    assert_true(usd(t) == 0);
    assert_int_equal(num(t, "runs"), 1);
    json_decref(r);
}

static void expect_bad(fixture *f, const char *args, const char *needle)
{
    json_t *r = query(f, args);
    json_t *err = json_object_get(r, "error");
    assert_string_equal(json_string_value(json_object_get(err, "code")), "bad_request");
    const char *msg = json_string_value(json_object_get(err, "message"));
    if (!msg || !strstr(msg, needle))
        fail_msg("'%s': message '%s' lacks '%s'", args, msg ? msg : "", needle);
    json_decref(r);
}

static void test_bad_arguments(void **state)
{
    fixture *f = *state;
    expect_bad(f, "{\"by\":\"week\"}", "'by' must be run, task, agent, machine or day");
    expect_bad(f, "{\"by\":3}", "'by' must be a string");
    expect_bad(f, "{\"since\":\"2026-13-01\"}", "'since': '2026-13-01'");
    expect_bad(f, "{\"until\":\"yesterday\"}", "'until'");
    expect_bad(f, "{\"since\":true}", "'since' must be a date");
    expect_bad(f, "{\"since\":\"2026-12-02\",\"until\":\"2026-12-01T00:00:00Z\"}",
               "'until' is before 'since'");
    expect_bad(f, "{\"limit\":0}", "'limit'");
    expect_bad(f, "{\"bye\":\"run\"}", "unknown argument 'bye'");
}

static void test_dates(void **state)
{
    double t;
    char err[200];
    assert_true(bosun_date_parse("1970-01-01", false, &t, err, sizeof err) && t == 0);
    assert_true(bosun_date_parse("1970-01-01", true, &t, err, sizeof err) && t == 86400);
    assert_true(bosun_date_parse("2026-12-01T10:00:00Z", false, &t, err, sizeof err) && t == DAY1);
    assert_true(bosun_date_parse("2026-12-01t12:30:00.5+02:30", false, &t, err, sizeof err) &&
                t == DAY1 + 0.5);
    assert_true(bosun_date_parse("2024-02-29", false, &t, err, sizeof err));
    static const char *const bad[] = {"2025-02-29",
                                      "2026-12-1",
                                      "2026-12-01T10:00Z",
                                      "2026-12-01T10:00:00",
                                      "2026-12-01T24:00:00Z",
                                      "1969-12-31",
                                      "2026-12-01T10:00:00Zx",
                                      "",
                                      "now",
                                      "2026-12-01T10:00:00.Z",
                                      "1970-01-01T00:00:00+01:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (bosun_date_parse(bad[i], false, &t, err, sizeof err))
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(err, "is not a date"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_live_then_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_groupings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters_and_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_odd_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test(test_dates),
    };
    return RUN_TESTS(tests);
}
