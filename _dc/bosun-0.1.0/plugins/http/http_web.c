/* The dashboard's files: GET /, /{file} and /assets/{file} from
 * http.web_root (default $(datadir)/bosun/web), see bosun-http(7).
 *
 * The files are read into memory when the plugin starts or reloads, never
 * per request: a request costs no disk access that could stall the loop,
 * and only names present in that table can be served, so no path from a
 * client ever reaches the file system (no traversal to guard against).
 * Bounded: FILES_MAX files, FILE_MAX bytes each, TOTAL_MAX in all; a
 * tree past a bound is refused with the reason, and the dashboard then
 * answers 503 saying so.
 *
 * Every response carries a strict Content-Security-Policy (scripts and
 * styles from this origin only, no inline script, no eval, connections to
 * this origin only, no framing), nosniff and no referrer.  Caching: a name
 * carrying a content hash (app.3f9c2b1a.js) is immutable for a year;
 * everything else is revalidated by ETag on each load (304 when unchanged). */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bosun/crypto.h>
#include <bosun/log.h>

#include "http_int.h"

#define FILES_MAX 256
#define FILE_MAX  (4 * 1024 * 1024)
#define TOTAL_MAX (32 * 1024 * 1024)

static const char CSP[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

typedef struct web_file {
    char name[128]; /* "index.html", "assets/app.js" */
    const char *type;
    char *data;
    size_t len;
    char etag[24];
    bool immutable;
} web_file;

struct http_web {
    char *root;
    uint64_t sig; /* of the tree when last read (tree_signature) */
    web_file *files;
    size_t n;
    char error[256]; /* why nothing is served, or "" */
};

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* "app.3f9c2b1a.js": a dot, at least 8 hex digits, a dot and the extension. */
static bool hashed_name(const char *name)
{
    const char *ext = strrchr(name, '.');
    if (!ext)
        return false;
    const char *p = ext;
    size_t hex = 0;
    while (p > name && p[-1] && strchr("0123456789abcdef", p[-1])) {
        p--;
        hex++;
    }
    return hex >= 8 && p > name && p[-1] == '.';
}

/* A name the table may hold: letters, digits, '-', '_', '.', not starting
 * with a dot (no hidden files, no "..", no editor droppings). */
static bool plain_name(const char *s)
{
    if (!*s || *s == '.' || strlen(s) > 60)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

static void web_clear(http_web *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->files[i].data);
    free(w->files);
    w->files = NULL;
    w->n = 0;
}

static bool read_file(int dirfd, const char *name, web_file *f, char *err, size_t err_size)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, err_size, "%.64s: %s", name, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    if (st.st_size > FILE_MAX) {
        snprintf(err, err_size, "%.64s: %lld bytes, more than the %d a dashboard file may have",
                 name, (long long)st.st_size, FILE_MAX);
        close(fd);
        return false;
    }
    f->len = (size_t)st.st_size;
    f->data = malloc(f->len + 1);
    size_t got = 0;
    while (f->data && got < f->len) {
        ssize_t r = read(fd, f->data + got, f->len - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!f->data || got != f->len) {
        snprintf(err, err_size, "%.64s: cannot read it", name);
        return false;
    }
    unsigned char digest[32];
    bosun_sha256(f->data, f->len, digest);
    snprintf(f->etag, sizeof f->etag, "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", digest[0], digest[1],
             digest[2], digest[3], digest[4], digest[5], digest[6], digest[7]);
    return true;
}

/* Adds the regular files of dir (relative name prefix) to the table; one
 * level of subfolders ("assets/"). */
static bool load_dir(http_web *w, int dirfd, const char *prefix, int depth, size_t *total)
{
    DIR *d = fdopendir(dirfd);
    if (!d) {
        snprintf(w->error, sizeof w->error, "%.150s/%.64s: %s", w->root, prefix, strerror(errno));
        close(dirfd);
        return false;
    }
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d))) {
        if (!plain_name(e->d_name))
            continue;
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth == 0) {
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            char p[80];
            snprintf(p, sizeof p, "%.64s/", e->d_name);
            ok = sub >= 0 && load_dir(w, sub, p, depth + 1, total);
            continue;
        }
        const char *type = type_of(e->d_name);
        if (!S_ISREG(st.st_mode) || !type)
            continue; /* not something a page loads */
        if (w->n >= FILES_MAX) {
            snprintf(w->error, sizeof w->error, "%.200s: more than %d files", w->root, FILES_MAX);
            ok = false;
            break;
        }
        web_file *f = &w->files[w->n];
        memset(f, 0, sizeof *f);
        snprintf(f->name, sizeof f->name, "%.64s%.60s", prefix, e->d_name);
        f->type = type;
        f->immutable = hashed_name(e->d_name);
        char err[200];
        if (!read_file(dirfd, e->d_name, f, err, sizeof err)) {
            snprintf(w->error, sizeof w->error, "%.100s/%.150s", w->root, err);
            free(f->data);
            ok = false;
            break;
        }
        w->n++;
        *total += f->len;
        if (*total > TOTAL_MAX) {
            snprintf(w->error, sizeof w->error, "%s: more than %d bytes in all", w->root,
                     TOTAL_MAX);
            ok = false;
        }
    }
    closedir(d);
    return ok;
}

/* FNV-1a over what changes when a file is added, removed, renamed or
 * rewritten: every entry's name, inode, size and mtime, one level down. */
static uint64_t mix(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static uint64_t dir_signature(int dirfd, uint64_t h, int depth)
{
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return h;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (!plain_name(e->d_name) || fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        long long v[4] = {(long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                          st.st_mtim.tv_nsec};
        h = mix(mix(h, e->d_name, strlen(e->d_name)), v, sizeof v);
        if (S_ISDIR(st.st_mode) && depth == 0) {
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                h = dir_signature(sub, h, 1);
        }
    }
    closedir(d);
    return h;
}

static uint64_t tree_signature(const char *root)
{
    int fd = *root ? open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    return fd < 0 ? 0 : dir_signature(fd, 14695981039346656037ULL, 0);
}

static int http_web_load(http_web *w)
{
    web_clear(w);
    w->error[0] = '\0';
    w->sig = tree_signature(w->root);
    if (!w->root || !*w->root) {
        snprintf(w->error, sizeof w->error, "the dashboard is turned off (http.web_root is empty)");
        return 0;
    }
    w->files = calloc(FILES_MAX, sizeof *w->files);
    int fd = open(w->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!w->files || fd < 0) {
        snprintf(w->error, sizeof w->error, "the dashboard's files are not installed at %s: %s",
                 w->root, w->files ? strerror(errno) : "out of memory");
        if (fd >= 0)
            close(fd);
        log_notice("http: %s", w->error);
        return -1;
    }
    size_t total = 0;
    if (!load_dir(w, fd, "", 0, &total)) {
        log_warning("http: the dashboard is not served: %s", w->error);
        web_clear(w);
        return -1;
    }
    log_info("http: dashboard: %zu files, %zu bytes from %s", w->n, total, w->root);
    return 0;
}

http_web *http_web_new(const char *root)
{
    http_web *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->root = strdup(root ? root : "");
    if (!w->root) {
        free(w);
        return NULL;
    }
    http_web_load(w);
    return w;
}

int http_web_set_root(http_web *w, const char *root)
{
    char *r = strdup(root ? root : "");
    if (!r)
        return -1;
    free(w->root);
    w->root = r;
    return http_web_load(w);
}

void http_web_watch(http_web *w)
{
    if (w->root[0] && tree_signature(w->root) != w->sig) {
        log_notice("http: the dashboard's files changed in %s: reading them again", w->root);
        http_web_load(w);
    }
}

void http_web_free(http_web *w)
{
    if (!w)
        return;
    web_clear(w);
    free(w->root);
    free(w);
}

static const web_file *find(const http_web *w, const char *name)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->files[i].name, name) == 0)
            return &w->files[i];
    return NULL;
}

/* Whether If-None-Match names this ETag (a list, or "*"). */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    if (strcmp(inm, "*") == 0)
        return true;
    return strstr(inm, etag) != NULL;
}

static void add_security_headers(http_request *r)
{
    http_add_header(r, "Content-Security-Policy", CSP);
    http_add_header(r, "X-Content-Type-Options", "nosniff");
    http_add_header(r, "X-Frame-Options", "DENY");
    http_add_header(r, "Referrer-Policy", "no-referrer");
    http_add_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}

/* Answers r with the file, or 304; false (r untouched) for a name the
 * table does not hold. */
static bool serve_file(http_request *r, const http_web *w, const char *name)
{
    const web_file *f = find(w, name);
    if (!f)
        return false;
    add_security_headers(r);
    http_add_header(r, "ETag", f->etag);
    http_add_header(r, "Cache-Control",
                    f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
    if (etag_matches(http_header(r, "if-none-match"), f->etag))
        http_respond(r, 304, NULL, NULL, 0);
    else
        http_respond(r, 200, f->type, f->data, f->len);
    return true;
}

static void web_index(http_request *r, const char *const *args, size_t n_args)
{
    (void)args;
    (void)n_args;
    const http_web *w = http_server_web(r->srv);
    if (serve_file(r, w, "index.html"))
        return;
    add_security_headers(r);
    http_respond_error(r, 503, "unavailable", "%s",
                       w->error[0] ? w->error : "the dashboard has no index.html");
}

bool http_web_try(http_request *r)
{
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
        return false;
    return r->path[0] == '/' && serve_file(r, http_server_web(r->srv), r->path + 1);
}

/* Only the page itself is a route; its files are looked up by the router
 * when no route matched (http_web_try), so an unknown path stays a 404
 * and another method on it no 405. */
const http_route http_web_routes[] = {
    {"GET", "/", web_index, HTTP_ALLOW_ANON, HTTP_BODY_NONE},
};
const size_t http_web_n_routes = sizeof http_web_routes / sizeof http_web_routes[0];
