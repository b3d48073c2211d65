/* Loading plugin modules with libltdl and checking their descriptors.
 * Internal to libbosun and bosund; plugins see only <bosun/plugin.h>. */
#ifndef BOSUN_PLUGIN_REGISTRY_H
#define BOSUN_PLUGIN_REGISTRY_H

#include <stdbool.h>
#include <bosun/plugin.h>

typedef struct plugin_module {
    char *name; /* as listed in daemon.plugins */
    char *path; /* the file that was opened */
    void *handle;
    const struct bosun_plugin *desc;
    void *state;      /* set by init */
    bosun_ctx ctx;    /* handed to init; lives as long as the module */
    bool init_called; /* then the module's code is never unmapped */
    bool inited;
    bool started;
} plugin_module;

/* libltdl set-up; reference counted, so nested users are fine. */
int plugin_system_init(void);
void plugin_system_exit(void);

/* Finds name in each directory of search_path (NULL-terminated, may be
 * NULL), then in the install directory; opens it, finds the descriptor and
 * checks its ABI and mandatory callbacks.  On failure returns NULL with one
 * message in d naming the plugin and the reason. */
plugin_module *plugin_load(const char *name, const char *const *search_path, cfg_diag *d);

/* Stops (if started) and frees m; the module file is closed only if its
 * init was never called (see bosun-plugin(7), LIFECYCLE). */
void plugin_unload(plugin_module *m);

#endif
