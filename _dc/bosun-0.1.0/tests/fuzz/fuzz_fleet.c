/* libFuzzer target for the hub's side of the fleet link (plugins/fleet):
 * the frames a machine sends, as the http plugin relays them on
 * fleet.link.in {conn, peer, frame}, answered by the fleet plugin with the
 * frames to send back and whether to close.
 *
 * Each input runs against a fresh hub (an empty registry in a scratch
 * state directory, one registration token made through
 * cmd.machine.token.create).  It is cut into lines, at most LINES_MAX:
 *   '0'..'3' JSON   a frame on link 0..3; a "token" of "REG" in its data is
 *                   replaced by the registration token, "MCH" by the last
 *                   machine token the hub issued; a line that is not JSON
 *                   goes as a JSON string (a frame that is no object)
 *   'x' DIGIT       fleet.link.closed for that link
 *   'z' DIGIT JSON  a frame on that link, and the link closed before the
 *                   hub answers (a first registration waits for the
 *                   registry's write): answered all the same, nothing bound
 *   anything else   the whole line, if JSON, as the fleet.link.in data
 *
 * Checked: every answer is {frames:[…], close: 0|1008} or a bus error;
 * every frame has a subject, an object for data and a time; a frame other
 * than machine.register on a link that has not registered is refused
 * (error frame, close 1008), on one that has it is not closed; a heartbeat
 * has no answer; a register answer is on the frame's reply subject, ok with
 * the machine id asked for and no close, or refused with one of the
 * protocol's codes and close 1008; a machine token only in exchange for a
 * registration token; no answer and no listing echoes a token the machine
 * sent or holds a hash.  Memory errors, leaks and undefined behaviour are
 * the sanitizers'. */
#include "config.h"

#include "fuzz_check.h"

#include <ev.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bosun/bosun.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct bosun_plugin bosun_plugin; /* plugins/fleet/fleet.c */

#define LINES_MAX 64
#define LINKS     4
#define TOKEN_MAX 128

typedef struct hub {
    struct ev_loop *loop;
    bus_t *bus;
    bosun_ctx ctx;
    void *state;
    char dir[64];
    char reg[TOKEN_MAX], mch[TOKEN_MAX];
    char bound[LINKS][80]; /* the machine each link registered as, "" if none */
} hub;

typedef struct answer {
    bool done;
    json_t *data;
} answer;

static void on_answer(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    answer *a = arg;
    a->done = true;
    if (st == BUS_REPLY_OK)
        a->data = json_incref(m->data);
}

/* Runs the bus and the loop's due timers until a answered (a first
 * registration is answered from a timer, once the registry is written). */
static void drain(hub *h, const answer *a)
{
    for (int i = 0; i < 8 && !a->done; i++) {
        bus_flush(h->bus, 0);
        if (!a->done)
            ev_run(h->loop, EVRUN_NOWAIT);
    }
    bus_flush(h->bus, 0);
    FUZZ_CHECK(a->done && a->data);
}

/* One request, answered synchronously; takes data. */
static json_t *ask(hub *h, const char *subject, json_t *data)
{
    answer a = {false, NULL};
    FUZZ_CHECK(bus_request(h->bus, subject, data, 10.0, on_answer, &a) != 0);
    json_decref(data);
    drain(h, &a);
    return a.data;
}

/* The store's side of the registry (cmd.store.machines[.put]): an empty
 * store that takes every write, so that the plugin loads and answers. */
static void fake_store(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)arg;
    json_t *r = strcmp(m->subject, "cmd.store.machines") == 0
                    ? json_pack("{s:[],s:[]}", "machines", "registrations")
                    : json_pack("{s:i,s:i}", "machines", 0, "registrations", 0);
    if (m->reply)
        bus_reply(bus, m, r);
    json_decref(r);
}

static void hub_open(hub *h)
{
    memset(h, 0, sizeof *h);
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(h->dir, sizeof h->dir, "%s/fuzz_fleet.XXXXXX", base);
    FUZZ_CHECK(mkdtemp(h->dir));
    h->loop = ev_loop_new(EVFLAG_AUTO);
    h->bus = bus_new(h->loop);
    FUZZ_CHECK(h->loop && h->bus);
    FUZZ_CHECK(bus_subscribe(h->bus, "cmd.store.machines", fake_store, NULL));
    FUZZ_CHECK(bus_subscribe(h->bus, "cmd.store.machines.put", fake_store, NULL));
    h->ctx = (bosun_ctx){.loop = h->loop,
                         .bus = h->bus,
                         .plugin_name = "fleet",
                         .machine_id = "hub",
                         .state_dir = h->dir,
                         .runtime_dir = h->dir};
    static const char yaml[] = "heartbeat_timeout: 90s\n";
    cfg_diag d;
    cfg_diag_init(&d);
    cfg_node *c = cfg_load_string(yaml, sizeof yaml - 1, "fuzz", &d);
    FUZZ_CHECK(c && bosun_plugin.init(&h->ctx, c, &d, &h->state) == 0);
    FUZZ_CHECK(bosun_plugin.start(h->state, &d) == 0);
    cfg_free(c);
    cfg_diag_free(&d);
    json_t *out = ask(h, "cmd.machine.token.create", json_pack("{s:s}", "name", "fuzz"));
    const char *t = json_string_value(json_object_get(out, "token"));
    FUZZ_CHECK(t && strlen(t) < sizeof h->reg && strncmp(t, "bsn_reg_", 8) == 0);
    snprintf(h->reg, sizeof h->reg, "%s", t);
    json_decref(out);
}

static void hub_close(hub *h)
{
    bosun_plugin.stop(h->state);
    bus_flush(h->bus, 0);
    bus_free(h->bus);
    ev_loop_destroy(h->loop);
    char path[128];
    snprintf(path, sizeof path, "%s/fleet.json", h->dir);
    unlink(path);
    rmdir(h->dir);
}

/* Whether v's text holds s; a short s would be found by chance. */
static bool contains(const json_t *v, const char *s)
{
    if (!s || strlen(s) < 16)
        return false;
    char *text = json_dumps(v, JSON_COMPACT);
    bool in = text && strstr(text, s);
    free(text);
    return in;
}

static bool refusal_code(const char *c)
{
    static const char *const codes[] = {"token_invalid", "token_used",  "token_expired",
                                        "token_revoked", "bad_request", NULL};
    for (size_t i = 0; c && codes[i]; i++)
        if (strcmp(c, codes[i]) == 0)
            return true;
    return false;
}

static void check_frames(const json_t *frames)
{
    size_t i;
    json_t *f;
    FUZZ_CHECK(json_is_array(frames));
    json_array_foreach(frames, i, f)
    {
        FUZZ_CHECK(json_is_string(json_object_get(f, "subject")));
        FUZZ_CHECK(json_is_object(json_object_get(f, "data")));
        FUZZ_CHECK(json_is_number(json_object_get(f, "time")));
    }
}

/* The register answer, the model of which link speaks for which machine. */
static void check_register(hub *h, int link, const json_t *frame, const json_t *out, int close)
{
    json_t *frames = json_object_get(out, "frames");
    FUZZ_CHECK(json_array_size(frames) == 1);
    json_t *f = json_array_get(frames, 0);
    const char *reply = json_string_value(json_object_get(frame, "reply"));
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(f, "subject")),
                      reply ? reply : "machine.register") == 0);
    json_t *d = json_object_get(f, "data");
    json_t *fd = json_object_get(frame, "data");
    const char *sent = json_string_value(json_object_get(fd, "token"));
    const char *id = json_string_value(json_object_get(fd, "machine_id"));
    if (!json_is_true(json_object_get(d, "ok"))) {
        FUZZ_CHECK(
            refusal_code(json_string_value(json_object_get(json_object_get(d, "error"), "code"))));
        FUZZ_CHECK(close == 1008);
        FUZZ_CHECK(!contains(d, sent));
        return;
    }
    FUZZ_CHECK(close == 0 && id && strlen(id) < sizeof h->bound[0]);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(d, "machine_id")), id) == 0);
    const char *mt = json_string_value(json_object_get(d, "machine_token"));
    if (mt) {
        FUZZ_CHECK(sent && strcmp(sent, h->reg) == 0 && strncmp(mt, "bsn_mch_", 8) == 0 &&
                   strlen(mt) < sizeof h->mch);
        snprintf(h->mch, sizeof h->mch, "%s", mt);
    }
    for (int i = 0; i < LINKS; i++)
        if (i != link && strcmp(h->bound[i], id) == 0)
            h->bound[i][0] = '\0'; /* replaced */
    snprintf(h->bound[link], sizeof h->bound[link], "%s", id);
}

static void substitute(hub *h, json_t *frame)
{
    json_t *d = json_object_get(frame, "data");
    const char *t = json_string_value(json_object_get(d, "token"));
    if (t && strcmp(t, "REG") == 0)
        json_object_set_new(d, "token", json_string(h->reg));
    else if (t && strcmp(t, "MCH") == 0 && h->mch[0])
        json_object_set_new(d, "token", json_string(h->mch));
}

static void closed(hub *h, int link)
{
    char conn[16];
    snprintf(conn, sizeof conn, "%d", link);
    bus_publish_new(h->bus, "fleet.link.closed", NULL, json_pack("{s:s}", "conn", conn));
    bus_flush(h->bus, 0);
    h->bound[link][0] = '\0';
}

static void frame_on(hub *h, int link, const char *text, size_t len)
{
    json_t *frame = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    if (!frame)
        frame = json_stringn_nocheck(text, len);
    if (!frame)
        return; /* not UTF-8: the relay refuses it before the hub sees it */
    substitute(h, frame);
    char conn[16];
    snprintf(conn, sizeof conn, "%d", link);
    json_t *out =
        ask(h, "fleet.link.in",
            json_pack("{s:s,s:s,s:O}", "conn", conn, "peer", "127.0.0.1:1", "frame", frame));
    FUZZ_CHECK(json_is_array(json_object_get(out, "frames")));
    json_t *cj = json_object_get(out, "close");
    FUZZ_CHECK(json_is_integer(cj));
    int close = (int)json_integer_value(cj);
    FUZZ_CHECK(close == 0 || close == 1008);
    check_frames(json_object_get(out, "frames"));
    const char *subject = json_string_value(json_object_get(frame, "subject"));
    bool shaped =
        json_is_object(frame) && subject && json_is_object(json_object_get(frame, "data"));
    if (shaped && strcmp(subject, "machine.register") == 0) {
        check_register(h, link, frame, out, close);
    } else if (!h->bound[link][0]) {
        FUZZ_CHECK(close == 1008 && json_array_size(json_object_get(out, "frames")) == 1);
    } else {
        FUZZ_CHECK(close == 0);
        if (shaped && strcmp(subject, "machine.heartbeat") == 0)
            FUZZ_CHECK(json_array_size(json_object_get(out, "frames")) == 0);
    }
    /* The relay closes the socket and says so, as it would. */
    if (close)
        closed(h, link);
    json_decref(out);
    json_decref(frame);
}

static void raw_in(hub *h, const char *text, size_t len)
{
    json_t *d = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    if (!d)
        return;
    json_t *out = ask(h, "fleet.link.in", d);
    json_t *frames = json_object_get(out, "frames");
    FUZZ_CHECK(frames || json_is_object(json_object_get(out, "error")));
    if (frames)
        check_frames(frames);
    json_decref(out);
    /* What it did to the links (a replacement, a new binding) is not
     * modelled: every link starts again. */
    for (int i = 0; i < LINKS; i++)
        closed(h, i);
}

/* A register whose link closes before it is answered: answered all the
 * same, and the link does not stay bound. */
static void register_then_close(hub *h, int link, const char *text, size_t len)
{
    json_t *frame = json_loadb(text, len, 0, NULL);
    if (!json_is_object(frame)) {
        json_decref(frame);
        return;
    }
    substitute(h, frame);
    char conn[16];
    snprintf(conn, sizeof conn, "%d", link);
    json_t *d = json_pack("{s:s,s:s,s:O}", "conn", conn, "peer", "127.0.0.1:1", "frame", frame);
    answer a = {false, NULL};
    FUZZ_CHECK(bus_request(h->bus, "fleet.link.in", d, 10.0, on_answer, &a) != 0);
    json_decref(d);
    bus_flush(h->bus, 0); /* delivered, perhaps waiting for the registry */
    bus_publish_new(h->bus, "fleet.link.closed", NULL, json_pack("{s:s}", "conn", conn));
    drain(h, &a);
    json_t *c = json_object_get(a.data, "close");
    FUZZ_CHECK(json_is_integer(c) && (json_integer_value(c) == 0 || json_integer_value(c) == 1008));
    check_frames(json_object_get(a.data, "frames"));
    const char *mt = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(a.data, "frames"), 0), "data"),
        "machine_token"));
    if (mt && strlen(mt) < sizeof h->mch)
        snprintf(h->mch, sizeof h->mch, "%s", mt);
    json_decref(a.data);
    json_decref(frame);
    /* What it did to the other links (a replacement) is not modelled:
     * every link starts again. */
    for (int i = 0; i < LINKS; i++)
        closed(h, i);
}

static void check_listing(hub *h)
{
    json_t *out = ask(h, "cmd.machine.list", json_object());
    FUZZ_CHECK(json_is_array(json_object_get(out, "items")));
    FUZZ_CHECK(!contains(out, "hash") && !contains(out, h->reg + 8) &&
               !(h->mch[0] && contains(out, h->mch + 8)));
    json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        log_set_level(LOG_LEVEL_ERR - 1);
        quiet = true;
    }
    hub h;
    hub_open(&h);
    const char *p = (const char *)data, *end = p + size;
    for (int n = 0; p < end && n < LINES_MAX; n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len >= 1 && p[0] >= '0' && p[0] < '0' + LINKS)
            frame_on(&h, p[0] - '0', p + 1, len - 1);
        else if (len >= 2 && p[0] == 'x' && p[1] >= '0' && p[1] < '0' + LINKS)
            closed(&h, p[1] - '0');
        else if (len >= 2 && p[0] == 'z' && p[1] >= '0' && p[1] < '0' + LINKS)
            register_then_close(&h, p[1] - '0', p + 2, len - 2);
        else
            raw_in(&h, p, len);
        p += len + (nl ? 1 : 0);
    }
    check_listing(&h);
    hub_close(&h);
    return 0;
}
