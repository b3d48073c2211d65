#include "config.h"

#include "daemon.h"
#include "admin_token.h"
#include "ctl_server.h"
#include "daemon_config.h"
#include "lockfile.h"
#include "fdtable.h"
#include "fsafe.h"
#include "agent_config.h"
#include "plugin_registry.h"
#include "proc.h"
#include "sdnotify.h"
#include "approval.h"
#include "llm_edit.h"
#include "hook_attach.h"
#include "task.h"
#include "util.h"

#include <errno.h>
#include <ev.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bosun/bosun.h>

typedef struct bosund {
    struct ev_loop *loop;
    bus_t *bus;
    char *config_path;
    cfg_node *root; /* the configuration in force, for comparisons at reload */
    daemon_config cfg;
    plugin_module **plugins; /* in start order */
    size_t n_plugins;
    int lock_fd;
    char *lock_path;
    ctl_server *ctl;
    ctl_server *agent_ctl; /* the agents' own socket */
    proc *proc;
    task_service *tasks;
    approval_service *approvals;
    llm_edit *llm_edits; /* cmd.llm.files.put/delete: human edits of workspaces */
    hook_service *hooks; /* attached Claude Code sessions (bosunctl hook) */
    bus_sub *status_sub; /* cmd.daemon.status */
    admin_tokens *admin_tokens;
    bool ready; /* the start is complete: runs recovered, autostart agents started */
    bool stopping;
    ev_signal sighup, sigterm, sigint;
    ev_timer watchdog;
    ev_timer trim;
    double start_time;
    double start_mono;
    unsigned reloads;
} bosund;

static void log_diag(const cfg_diag *d, enum log_level level)
{
    for (size_t i = 0; i < d->n; i++)
        log_msg(level, "%s", d->msgs[i]);
}

static json_t *diag_to_json(const cfg_diag *d)
{
    json_t *a = json_array();
    for (size_t i = 0; i < d->n; i++)
        json_array_append_new(a, json_string(d->msgs[i]));
    return a;
}

/* ------------------------------------------------------------ plugins */

static const char *const *search_path(const daemon_config *c)
{
    return (const char *const *)c->plugin_path;
}

/* Loads every plugin listed in c and runs its check on its section; on
 * failure unloads what it loaded and returns NULL. */
static plugin_module **load_and_check(const cfg_node *root, const daemon_config *c, size_t *n,
                                      cfg_diag *d)
{
    size_t count = 0;
    while (c->plugins[count])
        count++;
    plugin_module **mods = xcalloc(count + 1, sizeof *mods);
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        mods[i] = plugin_load(c->plugins[i], search_path(c), d);
        if (!mods[i]) {
            ok = false;
            continue;
        }
        if (!mods[i]->desc->check(cfg_get(root, c->plugins[i]), d))
            ok = false;
    }
    if (!ok) {
        for (size_t i = 0; i < count; i++)
            plugin_unload(mods[i]);
        free(mods);
        return NULL;
    }
    *n = count;
    return mods;
}

static void fill_ctx(bosund *dm, plugin_module *m)
{
    m->ctx.loop = dm->loop;
    m->ctx.bus = dm->bus;
    m->ctx.plugin_name = m->name;
    m->ctx.machine_id = dm->cfg.machine_id;
    m->ctx.state_dir = dm->cfg.state_dir;
    m->ctx.runtime_dir = dm->cfg.runtime_dir;
    m->ctx.start_time = dm->start_time;
}

static int plugin_bring_up(bosund *dm, plugin_module *m, const cfg_node *root, cfg_diag *d)
{
    fill_ctx(dm, m);
    const cfg_node *sec = cfg_get(root, m->name);
    m->init_called = true;
    if (m->desc->init(&m->ctx, sec, d, &m->state) != 0) {
        cfg_error(d, NULL, "plugin '%s': init failed", m->name);
        return -1;
    }
    m->inited = true;
    if (m->desc->start(m->state, d) != 0) {
        cfg_error(d, NULL, "plugin '%s': start failed", m->name);
        return -1;
    }
    m->started = true;
    log_info("plugin %s started (%s, %s)", m->name, bosun_plugin_kind_name(m->desc->kind), m->path);
    return 0;
}

static void stop_plugins(bosund *dm)
{
    for (size_t i = dm->n_plugins; i-- > 0;) {
        plugin_module *m = dm->plugins[i];
        if (m->inited)
            log_info("stopping plugin %s", m->name);
        plugin_unload(m);
    }
    free(dm->plugins);
    dm->plugins = NULL;
    dm->n_plugins = 0;
}

static int start_plugins(bosund *dm, cfg_diag *d)
{
    for (size_t i = 0; i < dm->n_plugins; i++)
        if (plugin_bring_up(dm, dm->plugins[i], dm->root, d) != 0)
            return -1;
    return 0;
}

/* ------------------------------------------------------------ agents */

/* The plugin modules agent types are looked up in: during a reload check,
 * the running ones plus those about to be added. */
typedef struct module_set {
    plugin_module **a;
    size_t na;
    plugin_module **b;
    size_t nb;
} module_set;

static const struct bosun_agent_ops *find_in_modules(plugin_module **mods, size_t n,
                                                     const char *type, void **state)
{
    for (size_t i = 0; i < n; i++) {
        plugin_module *m = mods[i];
        if (m && strcmp(m->name, type) == 0 && m->desc->kind == BOSUN_PLUGIN_AGENT) {
            *state = m->state;
            return m->desc->ops;
        }
    }
    return NULL;
}

static const struct bosun_agent_ops *lookup_agent_type(const char *type, void **state, void *arg)
{
    const module_set *set = arg;
    const struct bosun_agent_ops *ops = find_in_modules(set->a, set->na, type, state);
    return ops ? ops : find_in_modules(set->b, set->nb, type, state);
}

static agent_config **parse_agents(const cfg_node *root, plugin_module **a, size_t na,
                                   plugin_module **b, size_t nb, cfg_diag *d)
{
    module_set set = {a, na, b, nb};
    agent_config **agents = NULL;
    spend_limits global;
    /* The global budget and `prices:` (which prices the agents' usage) go
     * with the agents: checked together, so a wrong one refuses the start,
     * the reload and `bosund --check`. */
    bool ok = spend_limits_parse(root, false, &global, d);
    bosun_prices *prices = bosun_prices_new(cfg_get(root, "prices"), d);
    ok = agent_config_parse(cfg_get(root, "agents"), lookup_agent_type, &set, &agents, d) && ok;
    if (!prices || !ok) {
        bosun_prices_free(prices);
        agent_config_free_all(agents);
        return NULL;
    }
    bosun_prices_free(prices);
    return agents;
}

static void apply_global_budget(bosund *dm, const cfg_node *root)
{
    spend_limits global;
    if (spend_limits_parse(root, false, &global, NULL))
        proc_set_budget(dm->proc, &global);
}

/* ------------------------------------------------------------ status */

static json_t *plugins_json(void *arg)
{
    bosund *dm = arg;
    json_t *a = json_array();
    for (size_t i = 0; i < dm->n_plugins; i++) {
        const plugin_module *m = dm->plugins[i];
        json_array_append_new(a,
                              json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:b}", "name", m->name, "kind",
                                        bosun_plugin_kind_name(m->desc->kind), "description",
                                        m->desc->description ? m->desc->description : "", "version",
                                        m->desc->version ? m->desc->version : "", "path", m->path,
                                        "abi", (int)m->desc->abi, "started", m->started));
    }
    return a;
}

static json_t *status_json(void *arg)
{
    bosund *dm = arg;
    json_t *names = json_array();
    for (size_t i = 0; i < dm->n_plugins; i++)
        json_array_append_new(names, json_string(dm->plugins[i]->name));
    const char *state = dm->stopping ? "stopping" : dm->ready ? "running" : "starting";
    return json_pack("{s:s,s:s,s:I,s:f,s:f,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:I,s:o,s:I,s:I,s:I,s:I}",
                     "state", state, "version", bosun_version(), "pid", (json_int_t)getpid(),
                     "uptime", bosun_monotonic() - dm->start_mono, "start_time", dm->start_time,
                     "machine_id", dm->cfg.machine_id, "config", dm->config_path, "state_dir",
                     dm->cfg.state_dir, "runtime_dir", dm->cfg.runtime_dir, "agent_socket",
                     dm->cfg.agent_socket, "log_level", log_level_name(log_get_level()), "plugins",
                     names, "control_clients", (json_int_t)ctl_server_client_count(dm->ctl),
                     "control_buffers", ctl_server_buffers_json(dm->ctl), "agent_clients",
                     (json_int_t)ctl_server_client_count(dm->agent_ctl), "subscriptions",
                     (json_int_t)bus_sub_count(dm->bus), "queued",
                     (json_int_t)bus_queue_length(dm->bus), "reloads", (json_int_t)dm->reloads);
}

/* The same status for callers on the bus (the HTTP API, later the fleet
 * hub), with the host's name, which a remote caller cannot look up.  Who may
 * ask is decided at the bus edge, as for the control socket's op. */
static void on_status_request(bus_t *bus, const bus_msg *msg, void *arg)
{
    if (!msg->reply)
        return;
    json_t *st = status_json(arg);
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        host[0] = '\0';
    json_object_set_new(st, "hostname", json_string(host));
    bus_reply(bus, msg, st);
    json_decref(st);
}

/* ------------------------------------------------------------ reload */

static plugin_module *find_plugin(bosund *dm, const char *name)
{
    for (size_t i = 0; i < dm->n_plugins; i++)
        if (strcmp(dm->plugins[i]->name, name) == 0)
            return dm->plugins[i];
    return NULL;
}

static bool listed(char **names, const char *name)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static void warn_restart_only(const daemon_config *old, const daemon_config *new)
{
    struct {
        const char *key, *a, *b;
    } keys[] = {
        {"machine_id", old->machine_id, new->machine_id},
        {"state_dir", old->state_dir, new->state_dir},
        {"runtime_dir", old->runtime_dir, new->runtime_dir},
        {"control_socket", old->control_socket, new->control_socket},
        {"control_socket_group", old->control_socket_group, new->control_socket_group},
        {"agent_socket", old->agent_socket, new->agent_socket},
    };
    if (old->control_socket_mode != new->control_socket_mode)
        log_notice("reload: daemon.control_socket_mode changed; the new value takes effect at "
                   "the next start");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].a ? keys[i].a : "", keys[i].b ? keys[i].b : "") != 0)
            log_notice("reload: daemon.%s changed; the new value takes effect at the next start",
                       keys[i].key);
}

/* Checks everything first (parse, daemon section, every plugin's check,
 * modules of new plugins loadable), so that a bad file changes nothing. */
static bool reload_prepare(bosund *dm, cfg_node **root, daemon_config *cfg, plugin_module ***added,
                           size_t *n_added, cfg_diag *d)
{
    *root = cfg_load_file(dm->config_path, d);
    if (!*root)
        return false;
    if (!daemon_config_parse(*root, true, cfg, d)) {
        cfg_free(*root);
        return false;
    }
    size_t count = 0;
    while (cfg->plugins[count])
        count++;
    *added = xcalloc(count + 1, sizeof **added);
    *n_added = 0;
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        const char *name = cfg->plugins[i];
        plugin_module *m = find_plugin(dm, name);
        if (!m) {
            m = plugin_load(name, (const char *const *)cfg->plugin_path, d);
            if (!m) {
                ok = false;
                continue;
            }
            (*added)[(*n_added)++] = m;
        }
        if (!m->desc->check(cfg_get(*root, name), d))
            ok = false;
    }
    if (ok) {
        /* Agent types are looked up among the plugins of the new list only. */
        plugin_module **kept = xcalloc(dm->n_plugins + 1, sizeof *kept);
        size_t n_kept = 0;
        for (size_t i = 0; i < dm->n_plugins; i++)
            if (listed(cfg->plugins, dm->plugins[i]->name))
                kept[n_kept++] = dm->plugins[i];
        agent_config **agents = parse_agents(*root, kept, n_kept, *added, *n_added, d);
        free(kept);
        ok = agents != NULL;
        agent_config_free_all(agents);
    }
    if (!ok) {
        for (size_t i = 0; i < *n_added; i++)
            plugin_unload((*added)[i]);
        free(*added);
        daemon_config_free(cfg);
        cfg_free(*root);
    }
    return ok;
}

static void reload_apply_plugins(bosund *dm, const cfg_node *root, const daemon_config *cfg,
                                 plugin_module **added, size_t n_added, cfg_diag *d)
{
    /* Removed plugins stop first, in reverse order, as at shutdown. */
    size_t kept = 0;
    plugin_module **next = xcalloc(dm->n_plugins + n_added + 1, sizeof *next);
    for (size_t i = dm->n_plugins; i-- > 0;) {
        plugin_module *m = dm->plugins[i];
        if (!listed(cfg->plugins, m->name)) {
            log_info("reload: stopping plugin %s (no longer listed)", m->name);
            plugin_unload(m);
            dm->plugins[i] = NULL;
        }
    }
    for (size_t i = 0; i < dm->n_plugins; i++) {
        plugin_module *m = dm->plugins[i];
        if (!m)
            continue;
        next[kept++] = m;
        const cfg_node *old_sec = cfg_get(dm->root, m->name), *new_sec = cfg_get(root, m->name);
        if (cfg_equal(old_sec, new_sec))
            continue;
        if (!m->desc->reload)
            log_notice("reload: plugin %s cannot reload its settings; restart bosund to apply "
                       "them",
                       m->name);
        else if (m->desc->reload(m->state, new_sec, d) != 0)
            log_error("reload: plugin %s refused its new settings and keeps the old ones", m->name);
        else
            log_info("reload: plugin %s applied new settings", m->name);
    }
    free(dm->plugins);
    dm->plugins = next;
    dm->n_plugins = kept;
    for (size_t i = 0; i < n_added; i++) {
        if (plugin_bring_up(dm, added[i], root, d) == 0) {
            dm->plugins[dm->n_plugins++] = added[i];
            continue;
        }
        /* Not in the list: nothing resolves an agent type or lists it with
         * a state its init never set. */
        log_error("reload: plugin %s could not start and is not loaded", added[i]->name);
        plugin_unload(added[i]);
    }
}

/* Settings that only take effect at start keep their running values: the
 * strings move over, so pointers handed to plugins (ctx) stay valid. */
static void keep_restart_only(daemon_config *next, daemon_config *running)
{
#define SWAP_FIELD(f)                                                                              \
    do {                                                                                           \
        __typeof__(next->f) tmp_ = next->f;                                                        \
        next->f = running->f;                                                                      \
        running->f = tmp_;                                                                         \
    } while (0)
    SWAP_FIELD(machine_id);
    SWAP_FIELD(state_dir);
    SWAP_FIELD(runtime_dir);
    SWAP_FIELD(control_socket);
    SWAP_FIELD(control_socket_mode);
    SWAP_FIELD(control_socket_group);
    SWAP_FIELD(agent_socket);
#undef SWAP_FIELD
}

/* The end of a reload for systemd: READY=1 again, except while the start
 * is not complete (a SIGHUP then), when READY=1 is still on_started's. */
static void notify_reloaded(const bosund *dm, const char *status)
{
    if (dm->ready)
        sdnotify_sendf("READY=1\nSTATUS=%s", status);
    else
        sdnotify_send("STATUS=starting: recovering runs (configuration reloaded meanwhile)");
}

/* Returns NULL on success, else {"applied": bool, "errors": [...]}: refused
 * (nothing changed) or applied with problems. */
static json_t *daemon_reload(void *arg)
{
    bosund *dm = arg;
    cfg_diag d;
    cfg_diag_init(&d);
    log_notice("reloading %s", dm->config_path);
    sdnotify_send("RELOADING=1\nSTATUS=reloading configuration");
    cfg_node *root = NULL;
    daemon_config cfg;
    plugin_module **added = NULL;
    size_t n_added = 0;
    if (!reload_prepare(dm, &root, &cfg, &added, &n_added, &d)) {
        log_diag(&d, LOG_LEVEL_ERR);
        log_error("reload refused: %s is invalid; the running configuration is kept",
                  dm->config_path);
        json_t *result = json_pack("{s:b,s:o}", "applied", 0, "errors", diag_to_json(&d));
        cfg_diag_free(&d);
        notify_reloaded(dm, "running (last reload refused: invalid configuration)");
        return result;
    }
    warn_restart_only(&dm->cfg, &cfg);
    log_set_level(cfg.log_level);
    if (dm->ctl)
        ctl_server_set_budget(dm->ctl, (size_t)cfg.control_buffer_max);
    reload_apply_plugins(dm, root, &cfg, added, n_added, &d);
    free(added);
    if (dm->proc) {
        agent_config **agents = parse_agents(root, dm->plugins, dm->n_plugins, NULL, 0, &d);
        if (agents) {
            apply_global_budget(dm, root);
            proc_set_agents(dm->proc, agents);
            proc_set_prices(dm->proc, bosun_prices_new(cfg_get(root, "prices"), NULL));
        } else
            cfg_error(&d, NULL,
                      "reload: the agents could not be applied; the old ones keep "
                      "running");
    }
    keep_restart_only(&cfg, &dm->cfg);
    daemon_config_free(&dm->cfg);
    dm->cfg = cfg;
    cfg_free(dm->root);
    dm->root = root;
    dm->reloads++;
    /* Before the reload is answered: agents deciding their own calls
     * read the notice first (approval.c). */
    approval_service_changed(dm->approvals);
    json_t *result = NULL;
    if (d.n > 0) {
        /* Applied, but some plugin or agent did not take it: say so. */
        log_diag(&d, LOG_LEVEL_ERR);
        log_error("configuration reloaded with %zu problems", d.n);
        result = json_pack("{s:b,s:o}", "applied", 1, "errors", diag_to_json(&d));
    } else {
        log_notice("configuration reloaded (%zu plugins running)", dm->n_plugins);
    }
    cfg_diag_free(&d);
    char status[96];
    snprintf(status, sizeof status, "running, %zu plugins, %u reloads", dm->n_plugins, dm->reloads);
    notify_reloaded(dm, status);
    return result;
}

/* ------------------------------------------------------------ signals */

static void on_sighup(struct ev_loop *loop, ev_signal *w, int revents)
{
    json_t *errors = daemon_reload(w->data);
    json_decref(errors);
}

static void on_runs_stopped(void *arg)
{
    bosund *dm = arg;
    ev_break(dm->loop, EVBREAK_ALL);
}

/* The first SIGTERM stops the runs gracefully (stop_signal, then SIGKILL
 * after stop_timeout) and exits when they are gone; a second one kills
 * their process groups at once. */
static void on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    bosund *dm = w->data;
    if (dm->stopping) {
        log_notice("received %s again: killing all runs", strsignal(w->signum));
        proc_kill_all(dm->proc);
        return;
    }
    dm->stopping = true;
    log_notice("received %s, stopping", strsignal(w->signum));
    sdnotify_send("STOPPING=1\nSTATUS=stopping runs");
    proc_shutdown(dm->proc, on_runs_stopped, dm);
}

static void on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
    sdnotify_send("WATCHDOG=1");
}

/* Bursts (hundreds of agents starting, an output flood) leave freed memory
 * that glibc keeps; give it back once things are quiet so the daemon's
 * resident size reflects what it holds, not its busiest moment. */
static void on_trim(struct ev_loop *loop, ev_timer *w, int revents)
{
#ifdef __GLIBC__
    struct mallinfo2 mi = mallinfo2();
    if (mi.fordblks > 256 * 1024)
        malloc_trim(0);
#endif
}

static void start_signals(bosund *dm)
{
    ev_signal_init(&dm->sighup, on_sighup, SIGHUP);
    ev_signal_init(&dm->sigterm, on_stop_signal, SIGTERM);
    ev_signal_init(&dm->sigint, on_stop_signal, SIGINT);
    dm->sighup.data = dm->sigterm.data = dm->sigint.data = dm;
    ev_signal_start(dm->loop, &dm->sighup);
    ev_signal_start(dm->loop, &dm->sigterm);
    ev_signal_start(dm->loop, &dm->sigint);
    /* Agents' and clients' pipes closing must not kill the daemon. */
    signal(SIGPIPE, SIG_IGN);
#ifdef __GLIBC__
    /* Give the top of the heap back on free() sooner than glibc's default. */
    mallopt(M_TRIM_THRESHOLD, 64 * 1024);
#endif
    ev_timer_init(&dm->trim, on_trim, 0.5, 0.5);
    ev_timer_start(dm->loop, &dm->trim);
    uint64_t usec = sdnotify_watchdog_usec();
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    if (usec > 0) {
        double every = (double)usec / 2e6;
        ev_timer_init(&dm->watchdog, on_watchdog, every, every);
        ev_timer_start(dm->loop, &dm->watchdog);
        log_info("systemd watchdog: pinging every %.3f s", every);
    }
}

static void stop_signals(bosund *dm)
{
    ev_signal_stop(dm->loop, &dm->sighup);
    ev_signal_stop(dm->loop, &dm->sigterm);
    ev_signal_stop(dm->loop, &dm->sigint);
    ev_timer_stop(dm->loop, &dm->watchdog);
    ev_timer_stop(dm->loop, &dm->trim);
}

/* ------------------------------------------------------------ start/stop */

static int load_config(bosund *dm, cfg_diag *d)
{
    dm->root = cfg_load_file(dm->config_path, d);
    if (!dm->root)
        return -1;
    if (!daemon_config_parse(dm->root, true, &dm->cfg, d))
        return -1;
    return 0;
}

static int prepare_dirs_and_lock(bosund *dm)
{
    /* Private: the store holds prompts, answers, artifacts and
     * environments.  Agents never need to enter it (what they read is in
     * the runtime directory).  What an older version or a umask left wider
     * is narrowed: directories to 0750, files to 0640, three levels down
     * (runs/<id>/<file>), each change logged.  Not what worktrees/
     * holds: the runs' git worktrees are their agents' files, whose modes
     * (an executable script) and owners are theirs (bosun.yaml(5)). */
    if (util_mkdir_p(dm->cfg.state_dir, 0750) < 0) {
        log_error("cannot create state_dir %s: %s", dm->cfg.state_dir, strerror(errno));
        return -1;
    }
    static const char *const agents_own[] = {"worktrees", NULL};
    fsafe_tighten(dm->cfg.state_dir, 0750, 0640, 2, agents_own);
    if (util_mkdir_p(dm->cfg.runtime_dir, 0755) < 0) {
        log_error("cannot create runtime_dir %s: %s", dm->cfg.runtime_dir, strerror(errno));
        return -1;
    }
    dm->lock_path = xasprintf("%s/%s", dm->cfg.state_dir, DAEMON_LOCK_NAME);
    pid_t holder = 0;
    dm->lock_fd = lockfile_acquire(dm->lock_path, &holder);
    if (dm->lock_fd >= 0)
        return 0;
    if (holder > 0)
        log_error("another bosund (pid %ld) is running on state_dir %s (lock %s)", (long)holder,
                  dm->cfg.state_dir, dm->lock_path);
    else
        log_error("cannot lock %s: %s", dm->lock_path, strerror(errno));
    return -1;
}

static void daemon_teardown(bosund *dm)
{
    if (dm->loop)
        stop_signals(dm);
    ctl_server_free(dm->agent_ctl);
    dm->agent_ctl = NULL;
    ctl_server_free(dm->ctl);
    dm->ctl = NULL;
    if (dm->status_sub)
        bus_unsubscribe(dm->bus, dm->status_sub);
    dm->status_sub = NULL;
    approval_service_free(dm->approvals);
    dm->approvals = NULL;
    llm_edit_free(dm->llm_edits);
    dm->llm_edits = NULL;
    if (dm->proc)
        proc_set_ps_extra(dm->proc, NULL, NULL);
    hook_service_free(dm->hooks);
    dm->hooks = NULL;
    task_service_free(dm->tasks);
    dm->tasks = NULL;
    admin_tokens_free(dm->admin_tokens);
    dm->admin_tokens = NULL;
    proc_free(dm->proc);
    dm->proc = NULL;
    if (dm->cfg.runtime_dir) {
        char *runs = xasprintf("%s/runs", dm->cfg.runtime_dir);
        rmdir(runs); /* empty once every run's files are gone */
        free(runs);
    }
    /* Events published while stopping reach the store before it stops. */
    if (dm->bus)
        bus_flush(dm->bus, 0);
    stop_plugins(dm);
    if (dm->bus)
        bus_free(dm->bus);
    plugin_system_exit();
    lockfile_release(dm->lock_fd, dm->lock_path);
    free(dm->lock_path);
    daemon_config_free(&dm->cfg);
    cfg_free(dm->root);
    sdnotify_close();
    if (dm->loop)
        ev_loop_destroy(dm->loop);
}

static int daemon_start(bosund *dm)
{
    cfg_diag d;
    cfg_diag_init(&d);
    int rc = -1;
    if (load_config(dm, &d) != 0) {
        log_diag(&d, LOG_LEVEL_ERR);
        log_error("%s: invalid configuration, not starting", dm->config_path);
        goto out;
    }
    log_set_level(dm->cfg.log_level);
    /* Before the plugins start their threads (see fdtable.c). */
    fdtable_reserve(fdtable_wanted(dm->root));
    if (prepare_dirs_and_lock(dm) != 0)
        goto out;
    dm->loop = ev_default_loop(EVFLAG_AUTO);
    dm->bus = bus_new(dm->loop);
    if (plugin_system_init() != 0)
        goto out;
    dm->plugins = load_and_check(dm->root, &dm->cfg, &dm->n_plugins, &d);
    if (!dm->plugins || start_plugins(dm, &d) != 0) {
        log_diag(&d, LOG_LEVEL_ERR);
        log_error("not starting: a plugin could not be loaded or started");
        goto out;
    }
    agent_config **agents = parse_agents(dm->root, dm->plugins, dm->n_plugins, NULL, 0, &d);
    if (!agents) {
        log_diag(&d, LOG_LEVEL_ERR);
        log_error("not starting: invalid agents");
        goto out;
    }
    proc_options po = {.loop = dm->loop,
                       .bus = dm->bus,
                       .machine_id = dm->cfg.machine_id,
                       .state_dir = dm->cfg.state_dir,
                       .runtime_dir = dm->cfg.runtime_dir,
                       .agent_socket = dm->cfg.agent_socket,
                       .mcp_command = dm->cfg.mcp_command,
                       .token_ttl = dm->cfg.agent_token_ttl,
                       .adopt_orphans = dm->cfg.adopt_orphans};
    dm->proc = proc_new(&po);
    apply_global_budget(dm, dm->root);
    proc_set_agents(dm->proc, agents);
    proc_set_prices(dm->proc, bosun_prices_new(cfg_get(dm->root, "prices"), NULL));
    dm->tasks = task_service_new(dm->bus, dm->proc, dm->cfg.machine_id);
    dm->approvals = approval_service_new(dm->loop, dm->bus, dm->proc, &dm->cfg.approvals);
    dm->hooks = hook_service_new(dm->bus, dm->cfg.machine_id);
    if (!dm->hooks)
        goto out;
    dm->llm_edits = llm_edit_new(dm->bus, dm->proc, dm->cfg.state_dir);
    if (!dm->llm_edits)
        goto out;
    proc_set_ps_extra(dm->proc, hook_service_ps_rows, dm->hooks);
    dm->status_sub = bus_subscribe(dm->bus, "cmd.daemon.status", on_status_request, dm);
    dm->admin_tokens = admin_tokens_new(dm->bus, dm->cfg.state_dir);
    if (!dm->admin_tokens)
        goto out;
    ctl_hooks hooks = {
        .status = status_json, .plugins = plugins_json, .reload = daemon_reload, .arg = dm};
    dm->ctl = ctl_server_new(dm->loop, dm->bus, dm->cfg.control_socket, dm->cfg.control_socket_mode,
                             dm->cfg.control_socket_group, &hooks);
    if (!dm->ctl)
        goto out;
    ctl_server_set_budget(dm->ctl, (size_t)dm->cfg.control_buffer_max);
    /* Never the control socket: agents get one where a connection is
     * worth only what its run token allows. */
    dm->agent_ctl = ctl_server_new_agent(dm->loop, dm->bus, dm->cfg.agent_socket);
    if (!dm->agent_ctl)
        goto out;
    ctl_server_share_budget(dm->agent_ctl, dm->ctl);
    rc = 0;
out:
    cfg_diag_free(&d);
    return rc;
}

/* The start is complete once the supervisor has recovered what an earlier
 * daemon left and started the autostart agents, which takes bus round
 * trips on the loop: only then is systemd told READY=1, and the plugins
 * sys.<machine_id>.ready (the http plugin's /health answers 503 "starting"
 * until then).  A plugin started later asks cmd.daemon.status's "state". */
static void on_started(void *arg)
{
    bosund *dm = arg;
    if (dm->stopping)
        return;
    dm->ready = true;
    double secs = bosun_monotonic() - dm->start_mono;
    log_notice("bosund ready after %.3f s", secs);
    char subject[BUS_SUBJECT_MAX + 1];
    snprintf(subject, sizeof subject, "sys.%s.ready", dm->cfg.machine_id);
    bus_publish_new(dm->bus, subject, NULL, json_pack("{s:f}", "startup", secs));
    sdnotify_sendf("READY=1\nSTATUS=running, %zu plugins\nMAINPID=%ld", dm->n_plugins,
                   (long)getpid());
}

int daemon_run(const char *path)
{
    bosund dm = {.lock_fd = -1};
    dm.config_path = xstrdup(path);
    dm.start_time = bosun_now();
    dm.start_mono = bosun_monotonic();
    sdnotify_init();
    int status = 1;
    if (daemon_start(&dm) == 0) {
        start_signals(&dm);
        proc_begin(dm.proc, on_started, &dm);
        log_notice("bosund %s started: machine %s, pid %ld, %zu plugins, config %s",
                   bosun_version(), dm.cfg.machine_id, (long)getpid(), dm.n_plugins, path);
        sdnotify_sendf("STATUS=starting: recovering runs, %zu plugins\nMAINPID=%ld", dm.n_plugins,
                       (long)getpid());
        ev_run(dm.loop, 0);
        sdnotify_send("STOPPING=1\nSTATUS=stopping");
        status = 0;
    }
    daemon_teardown(&dm);
    if (status == 0)
        log_notice("bosund stopped");
    free(dm.config_path);
    return status;
}

int daemon_check_config(const char *path)
{
    cfg_diag d;
    cfg_diag_init(&d);
    daemon_config cfg = {0};
    size_t n = 0;
    plugin_module **mods = NULL;
    cfg_node *root = cfg_load_file(path, &d);
    bool ok = root && daemon_config_parse(root, true, &cfg, &d);
    if (ok && plugin_system_init() != 0)
        ok = cfg_error(&d, NULL, "cannot initialise the plugin loader (libltdl)");
    if (ok) {
        mods = load_and_check(root, &cfg, &n, &d);
        ok = mods != NULL;
        agent_config **agents = ok ? parse_agents(root, mods, n, NULL, 0, &d) : NULL;
        ok = ok && agents != NULL;
        agent_config_free_all(agents);
        for (size_t i = 0; i < n; i++)
            plugin_unload(mods[i]);
        free(mods);
        plugin_system_exit();
    }
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", d.msgs[i]);
    if (ok)
        printf("%s: configuration is valid\n", path);
    daemon_config_free(&cfg);
    cfg_free(root);
    cfg_diag_free(&d);
    return ok ? 0 : 1;
}
