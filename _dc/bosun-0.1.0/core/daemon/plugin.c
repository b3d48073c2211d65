#include "config.h"

#include "plugin_registry.h"
#include "daemon_config.h"
#include "util.h"

#include <errno.h>
#include <ltdl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bosun/agent.h>
#include <bosun/log.h>
#include <bosun/version.h>

static int ltdl_users;

int plugin_system_init(void)
{
    if (ltdl_users++ > 0)
        return 0;
    if (lt_dlinit() != 0) {
        log_error("plugins: cannot initialise libltdl: %s", lt_dlerror());
        ltdl_users = 0;
        return -1;
    }
    return 0;
}

/* The modules stay mapped until the process exits (no lt_dlexit): a leak
 * report at exit then names the plugin's frames instead of an unknown
 * module, and LeakSanitizer does not walk the dynamic TLS of a module that
 * was unmapped (its tracer crashed on a stale entry after a reload).
 * libltdl's own handles stay reachable from its globals. */
void plugin_system_exit(void)
{
    if (ltdl_users > 0)
        --ltdl_users;
}

/* lt_dlopenext tries "<base>.la" then "<base>.so"; we check for either file
 * first so that "not found" and "found but unloadable" get different
 * messages. */
static bool module_file_exists(const char *base)
{
    static const char *const exts[] = {"", ".la", ".so"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        char *p = xasprintf("%s%s", base, exts[i]);
        bool found = access(p, R_OK) == 0 && (exts[i][0] || strchr(base, '/') != NULL);
        free(p);
        if (found)
            return true;
    }
    return false;
}

static char *try_dir(const char *dir, const char *name, char **tried)
{
    char *base = xasprintf("%s/%s", dir, name);
    char *t = xasprintf("%s%s%s", *tried ? *tried : "", *tried ? ", " : "", dir);
    free(*tried);
    *tried = t;
    if (module_file_exists(base))
        return base;
    free(base);
    return NULL;
}

/* Search order: $BOSUN_PLUGIN_PATH (colon-separated, for running from a
 * build tree or testing a plugin), daemon.plugin_path, the install dir. */
static char *find_module(const char *name, const char *const *search_path, char **tried)
{
    if (strchr(name, '/'))
        return module_file_exists(name) ? xstrdup(name) : NULL;
    char *found = NULL;
    const char *env = getenv("BOSUN_PLUGIN_PATH");
    if (env && *env) {
        char *copy = xstrdup(env), *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir && !found;
             dir = strtok_r(NULL, ":", &save))
            found = try_dir(dir, name, tried);
        free(copy);
    }
    for (size_t i = 0; !found && search_path && search_path[i]; i++)
        found = try_dir(search_path[i], name, tried);
    return found ? found : try_dir(PLUGINDIR, name, tried);
}

static bool descriptor_valid(const char *name, const struct bosun_plugin *desc, cfg_diag *d)
{
    if (desc->abi != BOSUN_PLUGIN_ABI)
        return cfg_error(d, NULL,
                         "plugin '%s': ABI version %u, this bosund needs %u (rebuild it "
                         "against bosun %s)",
                         name, (unsigned)desc->abi, (unsigned)BOSUN_PLUGIN_ABI, BOSUN_VERSION);
    if (!desc->name || !bosun_plugin_kind_name(desc->kind))
        return cfg_error(d, NULL, "plugin '%s': descriptor has no name or an unknown kind", name);
    const char *missing = !desc->check   ? "check"
                          : !desc->init  ? "init"
                          : !desc->start ? "start"
                          : !desc->stop  ? "stop"
                                         : NULL;
    if (missing)
        return cfg_error(d, NULL, "plugin '%s': descriptor lacks the mandatory '%s' callback", name,
                         missing);
    if (desc->kind == BOSUN_PLUGIN_AGENT) {
        const struct bosun_agent_ops *ops = desc->ops;
        if (!ops || !ops->build_launch)
            return cfg_error(d, NULL,
                             "plugin '%s': an agent type needs an ops table with "
                             "build_launch",
                             name);
        if (ops->abi != BOSUN_AGENT_ABI)
            return cfg_error(d, NULL, "plugin '%s': agent ABI version %u, this bosund needs %u",
                             name, ops->abi, (unsigned)BOSUN_AGENT_ABI);
    }
    return true;
}

plugin_module *plugin_load(const char *name, const char *const *search_path, cfg_diag *d)
{
    if (!plugin_name_valid(name)) {
        cfg_error(d, NULL, "plugin '%s': invalid name (letters, digits, '_' and '-', or a path)",
                  name);
        return NULL;
    }
    char *tried = NULL;
    char *base = find_module(name, search_path, &tried);
    if (!base) {
        if (tried)
            cfg_error(d, NULL, "plugin '%s': not found (searched %s)", name, tried);
        else
            cfg_error(d, NULL, "plugin '%s': not found", name);
        free(tried);
        return NULL;
    }
    free(tried);
    lt_dlhandle h = lt_dlopenext(base);
    if (!h) {
        cfg_error(d, NULL, "plugin '%s': cannot load %s: %s", name, base, lt_dlerror());
        free(base);
        return NULL;
    }
    const struct bosun_plugin *desc = lt_dlsym(h, BOSUN_PLUGIN_SYMBOL);
    if (!desc) {
        cfg_error(d, NULL, "plugin '%s': %s exports no '%s' descriptor", name, base,
                  BOSUN_PLUGIN_SYMBOL);
        lt_dlclose(h);
        free(base);
        return NULL;
    }
    if (!descriptor_valid(name, desc, d)) {
        lt_dlclose(h);
        free(base);
        return NULL;
    }
    plugin_module *m = xcalloc(1, sizeof *m);
    m->name = xstrdup(name);
    m->path = base;
    m->handle = h;
    m->desc = desc;
    return m;
}

void plugin_unload(plugin_module *m)
{
    if (!m)
        return;
    if (m->inited && m->desc->stop) {
        m->desc->stop(m->state);
        m->inited = m->started = false;
    }
    /* A module whose init ran may have left a subscription, a request or a
     * watcher behind (init may fail half-way; stop may forget one): its
     * code stays mapped so that such a callback runs the plugin's code,
     * not unmapped memory.  libltdl closes it at exit (lt_dlexit); loading
     * the same module again later only takes another reference. */
    if (m->handle && !m->init_called)
        lt_dlclose(m->handle);
    free(m->name);
    free(m->path);
    free(m);
}
