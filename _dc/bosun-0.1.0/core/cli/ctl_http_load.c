/* bosunctl's HTTP transport (ctl_http.c, ctl_http_map.c, ctl_ws.c) is a
 * module, loaded only when --url asks for it: libcurl and the libraries it
 * needs (libssl, GnuTLS for librtmp, Kerberos, LDAP, nghttp2, ...: 30 of
 * them) made every bosunctl start 4x slower (3.4 -> 14.4 ms) and every
 * `bosunctl mcp` relay, one per agent run, 5.9 MB larger (1.3 MB of it
 * private), while only --url uses them. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ltdl.h>

#include "ctl_http.h"

#ifndef CLIMODDIR
#error "CLIMODDIR must name the directory the HTTP transport module is installed in"
#endif

#define MODULE_NAME "bosunctl_http"

typedef ctl_conn *(*open_fn)(const char *, const char *, const char *, int *, char *, size_t);

/* In a libtool build tree the program runs from .libs/, where the module
 * is built too: use that one, so that tests never pick up an installed
 * copy.  An installed bosunctl never runs from a directory of that name. */
static lt_dlhandle open_in_build_tree(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    const char *base = strrchr(exe, '/');
    if (!base || strcmp(base + 1, ".libs") != 0)
        return NULL;
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", exe, MODULE_NAME) >= sizeof path)
        return NULL;
    return lt_dlopenext(path);
}

static open_fn load(char *err, size_t err_size)
{
    if (lt_dlinit() != 0) {
        snprintf(err, err_size, "cannot load the HTTP transport: %s", lt_dlerror());
        return NULL;
    }
    lt_dlhandle h = open_in_build_tree();
    if (!h)
        h = lt_dlopenext(CLIMODDIR "/" MODULE_NAME);
    if (!h) {
        snprintf(err, err_size, "--url needs the HTTP transport module %s/%s.so: %s", CLIMODDIR,
                 MODULE_NAME, lt_dlerror());
        return NULL;
    }
    /* Kept loaded until exit: the connection it returns is its code. */
    open_fn fn;
    /* POSIX's way from an object pointer to a function pointer. */
    *(void **)&fn = lt_dlsym(h, "ctl_http_open");
    if (!fn)
        snprintf(err, err_size, "%s has no ctl_http_open: %s", MODULE_NAME, lt_dlerror());
    return fn;
}

/* The module's ctl_http_open, behind the same declaration (ctl_http.h). */
ctl_conn *ctl_http_open(const char *url, const char *token_file, const char *cacert, int *code,
                        char *err, size_t err_size)
{
    open_fn fn = load(err, err_size);
    if (!fn) {
        *code = 70; /* EX_SOFTWARE, as when libcurl cannot start */
        return NULL;
    }
    return fn(url, token_file, cacert, code, err, err_size);
}
