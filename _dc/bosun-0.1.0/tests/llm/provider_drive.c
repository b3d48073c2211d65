/* provider_drive — one bosun-llm provider call against a (fake) model API,
 * for the tests: prints what the caller sees as JSON lines on stdout.
 *
 * usage: provider_drive CONFIG.json REQUEST.json
 *   CONFIG   the llm: section as JSON (provider, base_url, model, api_key,
 *            ...); "api_key_env": NAME takes the key from the environment
 *   REQUEST  {"system": "...", "messages": [...], "tools": [...],
 *            "cancel_after_deltas": N (cancel the call after N text deltas)}
 * Lines: {"delta": TEXT}, {"thinking": TEXT},
 *        {"retrying": {"attempt", "wait", "why"}},
 *        {"done": {"ok", "stop_reason", "message", "usage", "category",
 *                  "error", "http_status"}, "elapsed": SECONDS},
 *        {"cancelled": true, "elapsed": SECONDS}.
 * Exit status 0 when done came (whatever its result) or the call was
 * cancelled as asked, 1 on a usage or set-up error, 2 when llm_provider_call
 * refused the request. */
#include "config.h"

#include <ev.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curl_ev.h"
#include "llm_provider.h"

typedef struct drive {
    struct ev_loop *loop;
    llm_call *call;
    long deltas, cancel_after;
    ev_tstamp start;
    bool finished;
} drive;

static void emit(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (s)
        printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(o);
}

static void on_text(void *arg, const char *text, size_t len)
{
    drive *d = arg;
    emit(json_pack("{s:s%}", "delta", text, len));
    if (d->cancel_after > 0 && ++d->deltas == d->cancel_after) {
        llm_call_cancel(d->call);
        d->call = NULL;
        d->finished = true;
        emit(json_pack("{s:b,s:f}", "cancelled", 1, "elapsed", ev_now(d->loop) - d->start));
        ev_break(d->loop, EVBREAK_ALL);
    }
}

static void on_thinking(void *arg, const char *text, size_t len)
{
    (void)arg;
    emit(json_pack("{s:s%}", "thinking", text, len));
}

static void on_retrying(void *arg, int attempt, double wait, const char *why)
{
    (void)arg;
    emit(json_pack("{s:{s:i,s:f,s:s}}", "retrying", "attempt", attempt, "wait", wait, "why", why));
}

static void on_done(void *arg, const struct llm_turn_result *r)
{
    drive *d = arg;
    ev_now_update(d->loop);
    json_t *o = json_pack("{s:b,s:I}", "ok", r->ok, "http_status", (json_int_t)r->http_status);
    if (r->stop_reason)
        json_object_set_new(o, "stop_reason", json_string(r->stop_reason));
    if (r->message)
        json_object_set(o, "message", r->message);
    if (r->usage)
        json_object_set(o, "usage", r->usage);
    if (r->category)
        json_object_set_new(o, "category", json_string(r->category));
    if (r->error)
        json_object_set_new(o, "error", json_string(r->error));
    emit(json_pack("{s:o,s:f}", "done", o, "elapsed", ev_now(d->loop) - d->start));
    d->call = NULL;
    d->finished = true;
    ev_break(d->loop, EVBREAK_ALL);
}

static json_t *load(const char *path)
{
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j)
        fprintf(stderr, "provider_drive: %s:%d:%d: %s\n", path, err.line, err.column, err.text);
    return j;
}

/* "api_key_env": NAME becomes "api_key": $NAME, so a test's key need not
 * be written to a file. */
static void key_from_env(json_t *cfg)
{
    const char *env = json_string_value(json_object_get(cfg, "api_key_env"));
    if (!env)
        return;
    const char *v = getenv(env);
    if (v)
        json_object_set_new(cfg, "api_key", json_string(v));
    json_object_del(cfg, "api_key_env");
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: provider_drive CONFIG.json REQUEST.json\n");
        return 1;
    }
    json_t *cfg = load(argv[1]), *req = load(argv[2]);
    if (!cfg || !req)
        return 1;
    key_from_env(cfg);
    drive d = {.loop = EV_DEFAULT};
    d.cancel_after = (long)json_integer_value(json_object_get(req, "cancel_after_deltas"));
    curl_ev *curl = curl_ev_new(d.loop);
    char err[256];
    llm_provider *p = curl ? llm_provider_new(curl, cfg, err, sizeof err) : NULL;
    if (!p) {
        fprintf(stderr, "provider_drive: %s\n", curl ? err : "curl_ev_new failed");
        emit(json_pack("{s:s}", "config_error", curl ? err : "curl_ev_new failed"));
        curl_ev_free(curl);
        json_decref(cfg);
        json_decref(req);
        return 1;
    }
    static const struct llm_turn_ops ops = {on_text, on_thinking, on_retrying, on_done};
    ev_now_update(d.loop);
    d.start = ev_now(d.loop);
    d.call = llm_provider_call(p, json_string_value(json_object_get(req, "system")),
                               json_object_get(req, "messages"), json_object_get(req, "tools"),
                               &ops, &d);
    int rc = 0;
    if (!d.call) {
        emit(json_pack("{s:s}", "refused", llm_provider_error(p)));
        rc = 2;
    } else {
        ev_run(d.loop, 0);
    }
    llm_provider_free(p);
    curl_ev_free(curl);
    json_decref(cfg);
    json_decref(req);
    return rc;
}
