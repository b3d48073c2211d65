/* The machine's token files.  The permanent token lives only in
 * token_file (0600, replaced atomically: a crash leaves the old token or
 * the new one, never half of one); the registration token comes from the
 * configuration or its own file.  Neither is ever logged. */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "uplink.h"

#define TOKEN_FILE_MAX 1024
#define TOKEN_BODY_MIN 16
#define TOKEN_BODY_MAX 200

bool uplink_token_valid(const char *text, const char *prefix)
{
    size_t pl = strlen(prefix);
    if (!text || strncmp(text, prefix, pl) != 0)
        return false;
    size_t n =
        strspn(text + pl, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
    return text[pl + n] == '\0' && n >= TOKEN_BODY_MIN && n <= TOKEN_BODY_MAX;
}

/* dir and base name of path, malloc'ed. */
static int split(const char *path, char **dir, char **base)
{
    char *a = strdup(path), *b = strdup(path);
    *dir = *base = NULL;
    if (a && b) {
        *dir = strdup(dirname(a));
        *base = strdup(basename(b));
    }
    free(a);
    free(b);
    if (*dir && *base)
        return 0;
    free(*dir);
    free(*base);
    return -1;
}

char *uplink_token_read(const char *path, const char *prefix, bool *missing, char *why,
                        size_t why_size)
{
    char *dir, *base;
    *missing = false;
    if (split(path, &dir, &base) != 0) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    size_t len = 0;
    char *text = bosun_file_read(dir, base, TOKEN_FILE_MAX, &len);
    int e = errno;
    free(dir);
    free(base);
    if (!text) {
        *missing = e == ENOENT;
        snprintf(why, why_size, "%s: %s", path, e == EFBIG ? "longer than a token" : strerror(e));
        return NULL;
    }
    while (len > 0 && strchr(" \t\r\n", text[len - 1]))
        text[--len] = '\0';
    if (strlen(text) != len || !uplink_token_valid(text, prefix)) {
        explicit_bzero(text, len);
        free(text);
        snprintf(why, why_size, "%s does not hold a %s... token", path, prefix);
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        log_warning("uplink: %s can be read by others (mode %03o): it holds a secret; chmod 600 it",
                    path, (unsigned)(st.st_mode & 0777));
    return text;
}

int uplink_token_write(const char *path, const char *token, char *why, size_t why_size)
{
    char *dir, *base;
    if (split(path, &dir, &base) != 0) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    size_t n = strlen(token);
    char buf[UPLINK_TOKEN_MAX + 2];
    int rc = -1;
    if (n <= UPLINK_TOKEN_MAX) {
        memcpy(buf, token, n);
        buf[n] = '\n';
        rc = bosun_file_replace(dir, base, buf, n + 1, 0600);
        if (rc != 0)
            snprintf(why, why_size, "%s: %s", path, strerror(errno));
        explicit_bzero(buf, sizeof buf);
    } else
        snprintf(why, why_size, "the token is too long");
    free(dir);
    free(base);
    return rc;
}
