#include "config.h"

#include "mcp_path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bosun/codec.h>
#include <bosun/json.h>
#include <bosun/task.h>

#include "ctl_wire.h"
#include "util.h"

json_t *mcp_path_wanted(const char *line, size_t len, const char **path)
{
    /* Only add_artifact calls are ever rewritten: spare every other message
     * a parse on the way through. */
    if (!memmem(line, len, "add_artifact", 12))
        return NULL;
    json_t *msg = bosun_json_parse(line, len, BOSUN_JSON_REJECT_DUPLICATES, NULL);
    json_t *params = json_object_get(msg, "params");
    const char *method = json_string_value(json_object_get(msg, "method"));
    const char *name = json_string_value(json_object_get(params, "name"));
    *path = json_string_value(json_object_get(json_object_get(params, "arguments"), "path"));
    if (!method || strcmp(method, "tools/call") != 0 || !name ||
        strcmp(name, "add_artifact") != 0 || !*path) {
        json_decref(msg);
        return NULL;
    }
    return msg;
}

static json_t *path_error(const char *path, const char *why)
{
    char reason[600];
    snprintf(reason, sizeof reason, "cannot read %.400s: %s", path, why);
    return json_pack("{s:s}", "error", reason);
}

json_t *mcp_path_read(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        json_t *e = path_error(path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return e;
    }
    json_t *e = NULL;
    if (!S_ISREG(st.st_mode))
        e = path_error(path, "not a regular file");
    else if (st.st_size > MCP_PATH_FILE_MAX)
        e = path_error(path, "the file is over " MCP_PATH_FILE_MAX_TEXT);
    if (e) {
        close(fd);
        return e;
    }
    char *data = xmalloc((size_t)st.st_size + 1);
    size_t len = 0;
    ssize_t got = 0;
    while (
        len < (size_t)st.st_size &&
        ((got = read(fd, data + len, (size_t)st.st_size - len)) > 0 || (got < 0 && errno == EINTR)))
        len += got > 0 ? (size_t)got : 0;
    int read_errno = errno;
    close(fd);
    if (got < 0) {
        free(data);
        return path_error(path, strerror(read_errno));
    }
    json_t *out;
    if (bosun_utf8_text(data, len)) {
        out = json_object();
        json_object_set_new_nocheck(out, "content", json_stringn_nocheck(data, len));
    } else {
        char *b64 = util_base64_encode(data, len);
        out = json_pack("{s:s}", "content_base64", b64);
        free(b64);
    }
    free(data);
    /* Escapes and base64 make the content longer than the file: what does
     * not fit one control-socket line would end the session, so it fails
     * the call instead. */
    if (json_dumpb(out, NULL, 0, JSON_COMPACT) > MCP_PATH_SEND_MAX) {
        json_decref(out);
        return path_error(path, "too large to send once encoded");
    }
    return out;
}

void mcp_path_apply(json_t *msg, const json_t *file)
{
    json_t *params = json_object_get(msg, "params");
    json_t *args = json_object_get(params, "arguments");
    const char *error = json_string_value(json_object_get(file, "error"));
    if (error || !json_is_object(file)) {
        json_t *meta = json_object_get(params, "_meta");
        if (!json_is_object(meta)) {
            meta = json_object();
            json_object_set_new(params, "_meta", meta);
        }
        json_object_set_new(meta, BOSUN_MCP_META_PATH_ERROR,
                            json_string(error ? error : "the file could not be read"));
        return;
    }
    json_object_del(args, "path");
    json_t *content = json_object_get(file, "content");
    json_t *b64 = json_object_get(file, "content_base64");
    if (json_is_string(content))
        json_object_set(args, "content", content);
    else if (json_is_string(b64))
        json_object_set(args, "content_base64", b64);
}
