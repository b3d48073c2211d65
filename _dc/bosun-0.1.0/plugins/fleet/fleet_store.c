/* The fleet registry's persistence in the store (see fleet_store.h).
 *
 * The registry is the store's machines tables held in memory: reads (the
 * token check of every register) never wait on the disk, writes go through
 * cmd.store.machines.put.  A caller that must not answer before its change
 * is durable (a token issued or traded, a revocation) passes a callback and
 * answers from it; heartbeats' last_seen and the online/offline status only
 * mark their rows dirty and are written together every FLEET_STORE_EVERY
 * seconds, so a thousand heartbeating machines cost one put per tick, not
 * one per heartbeat (after a stop or a crash last_seen is at most that much
 * older). */
#include "config.h"

#include "fleet_store.h"

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/store.h>
#include <bosun/sys.h>

#define STORE_TIMEOUT 30.0
#define IMPORT_MAX    (8u << 20)

typedef struct fs_write {
    struct fs_write *next;
    fleet_store *fs;
    uint64_t req;
    json_t *put;
    fleet_store_done done;
    void *arg;
} fs_write;

struct fleet_store {
    const bosun_ctx *ctx;
    fleet_registry *reg;
    ev_timer tick;  /* the coalesced writes */
    ev_timer retry; /* a load the store did not answer */
    uint64_t load_req;
    unsigned load_failures;
    void (*ready)(void *);
    void *ready_arg;
    fs_write *writes;
};

const char *fleet_store_failure(enum bus_reply_status st, const bus_msg *m, const char *subject)
{
    static char why[160];
    if (st == BUS_REPLY_NO_RESPONDERS) {
        snprintf(why, sizeof why, "no store plugin answers %s (the fleet needs sqlite)", subject);
        return why;
    }
    if (st == BUS_REPLY_TIMEOUT)
        return "the store did not answer in time";
    if (st != BUS_REPLY_OK)
        return "the hub is stopping";
    json_t *err = json_object_get(m->data, "error");
    if (err)
        return json_string_value(json_object_get(err, "message")) ?: "the store refused it";
    return NULL;
}

/* ------------------------------------------------------------ writes */

static void write_free(fs_write *w)
{
    json_decref(w->put);
    free(w);
}

static void write_unlink(fleet_store *fs, fs_write *w)
{
    for (fs_write **p = &fs->writes; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            return;
        }
}

static void on_put(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    fs_write *w = arg;
    if (st == BUS_REPLY_CANCELLED)
        return; /* fleet_store_free has it */
    write_unlink(w->fs, w);
    const char *err = fleet_store_failure(st, m, BOSUN_STORE_MACHINES_PUT);
    if (err) {
        /* Its rows go with the next put; a caller undoes its own change. */
        fleet_registry_unwritten(w->fs->reg, w->put);
        log_error("fleet: cannot store the machines registry: %s", err);
    }
    if (w->done)
        w->done(w->arg, err);
    write_free(w);
}

static void send_put(fleet_store *fs, json_t *put, fleet_store_done done, void *arg)
{
    fs_write *w = calloc(1, sizeof *w);
    if (w) {
        *w = (fs_write){.fs = fs, .put = put, .done = done, .arg = arg};
        w->req = bus_request(fs->ctx->bus, BOSUN_STORE_MACHINES_PUT, put, STORE_TIMEOUT, on_put, w);
    }
    if (!w || !w->req) {
        /* Answered from the loop like any other outcome. */
        log_error("fleet: cannot ask the store to write the machines registry");
        fleet_registry_unwritten(fs->reg, put);
        json_decref(put);
        free(w);
        if (done)
            done(arg, "the hub is out of memory");
        return;
    }
    w->next = fs->writes;
    fs->writes = w;
}

void fleet_store_write(fleet_store *fs, fleet_store_done done, void *arg)
{
    /* An empty put still waits for the store: the answer then comes after
     * every earlier write is committed. */
    json_t *put = fleet_registry_changes(fs->reg);
    send_put(fs, put ? put : json_object(), done, arg);
}

static void on_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop, (void)revents;
    fleet_store *fs = t->data;
    json_t *put = fleet_registry_changes(fs->reg);
    if (put)
        send_put(fs, put, NULL, NULL);
}

/* ------------------------------------------------------------ load */

static void ask_load(fleet_store *fs);

static void loaded(fleet_store *fs)
{
    log_info("fleet: %zu machines and %zu registration tokens loaded from the store",
             fleet_registry_count(fs->reg, true), fleet_registry_count(fs->reg, false));
    ev_timer_start(fs->ctx->loop, &fs->tick);
    fs->ready(fs->ready_arg);
}

static void load_again(fleet_store *fs, const char *why)
{
    /* The first failure is an error, the retries (every second) info. */
    if (fs->load_failures++ == 0)
        log_error("fleet: cannot load the machines registry: %s; the fleet waits for it", why);
    else
        log_info("fleet: cannot load the machines registry yet: %s", why);
    fleet_registry_clear(fs->reg);
    ev_timer_set(&fs->retry, 1.0, 0.0);
    ev_timer_start(fs->ctx->loop, &fs->retry);
}

static void on_imported(void *arg, const char *err)
{
    fleet_store *fs = arg;
    const char *dir = fs->ctx->state_dir;
    if (err) {
        if (strcmp(err, "the hub is stopping") != 0)
            load_again(fs, err);
        return;
    }
    char from[4096], to[4096];
    snprintf(from, sizeof from, "%s/%s", dir, FLEET_FILE);
    snprintf(to, sizeof to, "%s/%s.imported", dir, FLEET_FILE);
    if (rename(from, to) != 0)
        log_error("fleet: %s imported into the store, but cannot be renamed to %s: %s", from, to,
                  strerror(errno));
    else
        log_notice("fleet: %zu machines and %zu registration tokens imported from %s into the "
                   "store; the file is now %s",
                   fleet_registry_count(fs->reg, true), fleet_registry_count(fs->reg, false), from,
                   to);
    loaded(fs);
}

/* An empty store on a hub that kept its registry in fleet.json before:
 * its rows are written once, then the file renamed, so it is never read
 * again (and never overrides the store). */
static void import_file(fleet_store *fs)
{
    const char *dir = fs->ctx->state_dir;
    size_t len = 0;
    char *text = bosun_file_read(dir, FLEET_FILE, IMPORT_MAX, &len);
    if (!text) {
        if (errno != ENOENT)
            log_error("fleet: cannot read %s/%s to import it: %s; it is left as it is", dir,
                      FLEET_FILE, strerror(errno));
        return loaded(fs);
    }
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!json_is_object(doc)) {
        log_error("fleet: %s/%s: not a fleet file (%s); not imported, left as it is", dir,
                  FLEET_FILE, doc ? "not an object" : jerr.text);
        json_decref(doc);
        return loaded(fs);
    }
    fleet_registry_load(fs->reg, doc, true);
    json_decref(doc);
    fleet_store_write(fs, on_imported, fs);
}

static void on_load(bus_t *bus, enum bus_reply_status st, const bus_msg *m, void *arg)
{
    (void)bus;
    fleet_store *fs = arg;
    if (st == BUS_REPLY_CANCELLED)
        return;
    fs->load_req = 0;
    const char *err = fleet_store_failure(st, m, BOSUN_STORE_MACHINES);
    if (!err && (!json_is_array(json_object_get(m->data, "machines")) ||
                 !json_is_array(json_object_get(m->data, "registrations"))))
        err = "the store's answer has no machines or registrations";
    if (err)
        return load_again(fs, err);
    fleet_registry_load(fs->reg, m->data, false);
    if (fleet_registry_empty(fs->reg))
        return import_file(fs);
    loaded(fs);
}

static void ask_load(fleet_store *fs)
{
    json_t *q = json_object();
    fs->load_req = bus_request(fs->ctx->bus, BOSUN_STORE_MACHINES, q, STORE_TIMEOUT, on_load, fs);
    json_decref(q);
    if (!fs->load_req)
        load_again(fs, "the request cannot be sent");
}

static void on_retry(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop, (void)revents;
    ask_load(t->data);
}

void fleet_store_load(fleet_store *fs, void (*ready)(void *), void *arg)
{
    fs->ready = ready;
    fs->ready_arg = arg;
    ask_load(fs);
}

/* ------------------------------------------------------------ object */

fleet_store *fleet_store_new(const bosun_ctx *ctx, fleet_registry *reg)
{
    fleet_store *fs = calloc(1, sizeof *fs);
    if (!fs)
        return NULL;
    fs->ctx = ctx;
    fs->reg = reg;
    ev_timer_init(&fs->tick, on_tick, FLEET_STORE_EVERY, FLEET_STORE_EVERY);
    fs->tick.data = fs;
    ev_timer_init(&fs->retry, on_retry, 1.0, 0.0);
    fs->retry.data = fs;
    return fs;
}

void fleet_store_free(fleet_store *fs)
{
    if (!fs)
        return;
    ev_timer_stop(fs->ctx->loop, &fs->tick);
    ev_timer_stop(fs->ctx->loop, &fs->retry);
    if (fs->load_req)
        bus_request_cancel(fs->ctx->bus, fs->load_req);
    while (fs->writes) {
        fs_write *w = fs->writes;
        fs->writes = w->next;
        bus_request_cancel(fs->ctx->bus, w->req);
        if (w->done)
            w->done(w->arg, "the hub is stopping");
        write_free(w);
    }
    /* Rows still dirty (last_seen and status of the last few seconds) are
     * not written: nothing published while plugins stop reaches the store,
     * and a restart makes every machine offline anyway. */
    free(fs);
}
