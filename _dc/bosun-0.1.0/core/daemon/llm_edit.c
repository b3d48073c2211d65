/* cmd.llm.files.put {run, path, content_base64} and cmd.llm.files.delete
 * {run, path} (llm_edit.h).
 *
 * An edit goes in three steps: the run is looked up in the store (its
 * agent, and its session, which names the default workspace), the file is
 * written or removed in the workspace, and the store records the change as
 * a version by "human"; the requester gets the record's reply.  The
 * workspace is the agent's workdir when set, else
 * state_dir/llm/<session>/workspace (<run> for a run without a session),
 * made 0700 (the daemon's) when missing: the llm agent type makes it
 * before its run starts, so that is only for a run of another type; the
 * run's agent must still be configured (a removed agent's workdir is not
 * known any more).  Below it every directory is opened one segment
 * at a time with O_NOFOLLOW relative to its parent (the path's segments
 * are plain names, llm_path.h), so a symbolic link planted by the agent
 * never leads the daemon out; the file itself is replaced by fsafe_write
 * (unlink, then O_EXCL), so a hard link to something outside is never
 * written through, and it keeps the mode of the file it replaces and the
 * owner of its directory. */
#define _GNU_SOURCE
#include "config.h"

#include "llm_edit.h"
#include "fsafe.h"
#include "llm_path.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bosun/agent.h>
#include <bosun/agent_stream.h>
#include <bosun/codec.h>
#include <bosun/json.h>
#include <bosun/log.h>
#include <bosun/store.h>

#define LLM_EDIT_TIMEOUT 10.0
#define LLM_EDIT_RUN_MAX 64
/* Edits waiting for the store at once. */
#define LLM_EDIT_PENDING_MAX 256

typedef struct llm_pending {
    struct llm_pending *next, *prev;
    llm_edit *e;
    uint64_t req;
    char *reply; /* the requester's reply subject, may be NULL */
    char *run, *path;
    bool put;
    json_t *b64;            /* the content as sent, for the record */
    unsigned char *content; /* decoded */
    size_t size;
} llm_pending;

struct llm_edit {
    bus_t *bus;
    proc *p;
    char *state_dir;
    bus_sub *subs[2];
    llm_pending *pending;
    size_t n_pending;
};

/* ------------------------------------------------------------ replies */

static void llm_pending_free(llm_pending *q)
{
    llm_edit *e = q->e;
    if (q->prev)
        q->prev->next = q->next;
    else
        e->pending = q->next;
    if (q->next)
        q->next->prev = q->prev;
    e->n_pending--;
    free(q->reply);
    free(q->run);
    free(q->path);
    json_decref(q->b64);
    free(q->content);
    free(q);
}

static void llm_answer(bus_t *bus, const char *reply, json_t *data)
{
    if (reply)
        bus_publish_new(bus, reply, NULL, data);
    else
        json_decref(data);
}

/* Answers and ends q; data stolen. */
static void llm_finish(llm_pending *q, json_t *data)
{
    llm_answer(q->e->bus, q->reply, data);
    llm_pending_free(q);
}

/* ------------------------------------------------------------ the disk */

/* Opens the directory path names below base, segment by segment without
 * following a link, making missing ones with mode when create is set; the
 * last segment too when whole, else *last points at it.  -1 with errno. */
static int llm_walk(int base, const char *path, bool whole, bool create, mode_t mode,
                    const char **last)
{
    int fd = dup(base);
    const char *seg = path;
    for (const char *slash; fd >= 0 && ((slash = strchr(seg, '/')) || whole); seg = slash + 1) {
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        char name[LLM_SEGMENT_MAX + 1];
        snprintf(name, sizeof name, "%.*s", (int)n, seg);
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create && mkdirat(fd, name, mode) == 0)
            next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int saved = errno;
        close(fd);
        errno = saved;
        fd = next;
        if (!slash)
            break;
    }
    if (last)
        *last = seg;
    return fd;
}

/* The workspace's descriptor, or -1 with err filled. */
static int llm_workspace(llm_edit *e, const char *agent, const char *key, char *err,
                         size_t err_size)
{
    const agent_config *a = agent ? proc_agent(e->p, agent) : NULL;
    /* Its workdir, if it had one, is not known any more: never guess. */
    if (!a) {
        snprintf(err, err_size, "the run's agent %s is not configured any more",
                 agent ? agent : "?");
        return -1;
    }
    if (a->workdir) {
        int fd = open(a->workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            snprintf(err, err_size, "the workspace %s: %s", a->workdir, strerror(errno));
        return fd;
    }
    int base = open(e->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char rel[BOSUN_SESSION_ID_MAX + 32];
    snprintf(rel, sizeof rel, "llm/%s/workspace", key);
    int fd = base < 0 ? -1 : llm_walk(base, rel, true, true, 0700, NULL);
    if (fd < 0)
        snprintf(err, err_size, "the workspace %s/%s: %s", e->state_dir, rel, strerror(errno));
    if (base >= 0)
        close(base);
    return fd;
}

/* The mode the new file gets: the old one's, else 0644. */
static mode_t llm_mode_of(int dir, const char *name)
{
    struct stat st;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
        return st.st_mode & 0777;
    return 0644;
}

/* Writes or removes q's file in the workspace ws; NULL or the error. */
static json_t *llm_apply(const llm_pending *q, int ws)
{
    const char *name;
    int dir = llm_walk(ws, q->path, false, q->put, 0755, &name);
    if (dir < 0)
        return bus_error_json(errno == ENOENT ? "not_found" : "io_error", "%s: %s", q->path,
                              errno == ELOOP || errno == ENOTDIR
                                  ? "a directory on the path is a symbolic link or a file"
                                  : strerror(errno));
    struct stat st;
    int rc = fstat(dir, &st);
    if (rc == 0 && q->put) {
        uid_t uid = st.st_uid == geteuid() ? (uid_t)-1 : st.st_uid;
        rc = fsafe_write(dir, name, q->content, q->size, llm_mode_of(dir, name), uid, st.st_gid);
    } else if (rc == 0) {
        rc = unlinkat(dir, name, 0);
    }
    int saved = errno;
    close(dir);
    if (rc == 0)
        return NULL;
    return bus_error_json(saved == ENOENT ? "not_found" : "io_error", "%s: %s", q->path,
                          saved == EISDIR || saved == EPERM ? "is a directory" : strerror(saved));
}

/* ------------------------------------------------------------ the store */

static void on_recorded(bus_t *bus, enum bus_reply_status status, const bus_msg *m, void *arg)
{
    (void)bus;
    llm_pending *q = arg;
    q->req = 0;
    if (status != BUS_REPLY_OK) {
        log_error("llm: %s of %s in run %s is on disk but not recorded: the store %s",
                  q->put ? "a write" : "a delete", q->path, q->run,
                  status == BUS_REPLY_TIMEOUT ? "did not answer" : "is not there");
        return llm_finish(q, bus_error_json("store_unavailable",
                                            "the file changed but the store did not record it"));
    }
    llm_finish(q, json_incref(m->data));
}

static void llm_record(llm_pending *q, const char *session)
{
    json_t *rec =
        json_pack("{s:s,s:s?,s:s,s:s,s:s,s:O?}", "run", q->run, "session", session, "path", q->path,
                  "op", q->put ? "write" : "delete", "actor", "human", "content_base64", q->b64);
    q->req = bus_request(q->e->bus, "cmd.llm.files.record", rec, LLM_EDIT_TIMEOUT, on_recorded, q);
    json_decref(rec);
    if (!q->req)
        llm_finish(q, bus_error_json("store_unavailable", "cannot ask the store"));
}

static void on_run(bus_t *bus, enum bus_reply_status status, const bus_msg *m, void *arg)
{
    (void)bus;
    llm_pending *q = arg;
    q->req = 0;
    if (status != BUS_REPLY_OK)
        return llm_finish(q, bus_error_json("store_unavailable", "the store did not answer"));
    const json_t *run = json_array_get(json_object_get(m->data, "runs"), 0);
    if (!json_is_object(run))
        return llm_finish(q, bus_error_json("not_found", "no run %s", q->run));
    const char *agent = json_string_value(json_object_get(run, "agent"));
    const char *sid = json_string_value(json_object_get(run, "session_id"));
    if (!sid || !bosun_session_id_valid(sid))
        sid = NULL;
    char err[512];
    int ws = llm_workspace(q->e, agent, sid ? sid : q->run, err, sizeof err);
    if (ws < 0)
        return llm_finish(
            q, bus_error_json(strstr(err, "not configured") ? "not_found" : "io_error", "%s", err));
    json_t *failed = llm_apply(q, ws);
    close(ws);
    if (failed)
        return llm_finish(q, failed);
    log_info("llm: run %s: %s %s by a human", q->run, q->put ? "wrote" : "deleted", q->path);
    llm_record(q, sid);
}

/* ------------------------------------------------------------ requests */

static const char *const llm_put_keys[] = {"run",     "path", "content_base64",
                                           "session", "task", NULL};

/* Checks a request into q; NULL or the error reply. */
static json_t *llm_parse(const json_t *d, llm_pending *q)
{
    const char *k;
    json_t *v;
    char why[200];
    if (!json_is_object(d))
        return bus_error_json("bad_request", "the request must be an object");
    json_object_foreach((json_t *)d, k, v)
    {
        size_t i = 0;
        while (llm_put_keys[i] && strcmp(llm_put_keys[i], k) != 0)
            i++;
        if (!llm_put_keys[i] || (!q->put && strcmp(k, "content_base64") == 0))
            return bus_error_json("bad_request", "unknown key '%.64s'", k);
    }
    const json_t *run = json_object_get(d, "run"), *path = json_object_get(d, "path");
    if (!json_is_string(run) || json_string_length(run) == 0 ||
        json_string_length(run) > LLM_EDIT_RUN_MAX || bus_subject_check(json_string_value(run)) ||
        strchr(json_string_value(run), '.'))
        return bus_error_json("bad_request", "'run' must be a run id");
    if (!json_is_string(path))
        return bus_error_json("bad_request", "'path' is required, a string");
    if (strlen(json_string_value(path)) != json_string_length(path) ||
        !llm_path_check(json_string_value(path), json_string_length(path), why, sizeof why))
        return bus_error_json("bad_request", "'path': %s", why);
    q->run = xstrdup(json_string_value(run));
    q->path = xstrdup(json_string_value(path));
    if (!q->put)
        return NULL;
    const json_t *b64 = json_object_get(d, "content_base64");
    if (!json_is_string(b64))
        return bus_error_json("bad_request", "'content_base64' is required, a string");
    size_t len = json_string_length(b64);
    if (len / 4 * 3 > LLM_FILE_MAX + 2)
        return bus_error_json("too_large", "the content is more than %u bytes", LLM_FILE_MAX);
    q->content =
        len ? bosun_base64_decode(json_string_value(b64), &q->size) : (unsigned char *)xstrdup("");
    if (!q->content || strlen(json_string_value(b64)) != len)
        return bus_error_json("bad_request", "'content_base64' is not valid padded base64");
    if (q->size > LLM_FILE_MAX)
        return bus_error_json("too_large", "the content is %zu bytes, more than %u", q->size,
                              LLM_FILE_MAX);
    q->b64 = json_incref((json_t *)b64);
    return NULL;
}

static void llm_on_edit(llm_edit *e, const bus_msg *m, bool put)
{
    if (e->n_pending >= LLM_EDIT_PENDING_MAX)
        return llm_answer(e->bus, m->reply, bus_error_json("busy", "too many edits at once"));
    llm_pending *q = xcalloc(1, sizeof *q);
    q->e = e;
    q->put = put;
    q->reply = m->reply ? xstrdup(m->reply) : NULL;
    q->next = e->pending;
    if (e->pending)
        e->pending->prev = q;
    e->pending = q;
    e->n_pending++;
    json_t *bad = llm_parse(m->data, q);
    if (bad)
        return llm_finish(q, bad);
    json_t *ask = json_pack("{s:s,s:i}", "run", q->run, "limit", 1);
    q->req = bus_request(e->bus, BOSUN_STORE_RUNS, ask, LLM_EDIT_TIMEOUT, on_run, q);
    json_decref(ask);
    if (!q->req)
        llm_finish(q, bus_error_json("store_unavailable", "cannot ask the store"));
}

static void on_put(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)bus;
    llm_on_edit(arg, m, true);
}

static void on_delete(bus_t *bus, const bus_msg *m, void *arg)
{
    (void)bus;
    llm_on_edit(arg, m, false);
}

llm_edit *llm_edit_new(bus_t *bus, proc *p, const char *state_dir)
{
    llm_edit *e = xcalloc(1, sizeof *e);
    e->bus = bus;
    e->p = p;
    e->state_dir = xstrdup(state_dir);
    e->subs[0] = bus_subscribe(bus, "cmd.llm.files.put", on_put, e);
    e->subs[1] = bus_subscribe(bus, "cmd.llm.files.delete", on_delete, e);
    if (!e->subs[0] || !e->subs[1]) {
        llm_edit_free(e);
        return NULL;
    }
    return e;
}

void llm_edit_free(llm_edit *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < 2; i++)
        if (e->subs[i])
            bus_unsubscribe(e->bus, e->subs[i]);
    while (e->pending) {
        if (e->pending->req)
            bus_request_cancel(e->bus, e->pending->req);
        llm_pending_free(e->pending);
    }
    free(e->state_dir);
    free(e);
}
