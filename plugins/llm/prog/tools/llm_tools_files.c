/* read_file, write_file, edit_file and delete_file.  They run at once on
 * the loop: each touches one file of bounded size. */
#define _GNU_SOURCE
#include "llm_tools_fileio.h"
#include "llm_tools_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LT_READ_LINES 2000 /* lines read_file returns when no limit is given */

static const char *lt_arg_str(json_t *args, const char *key)
{
    return json_string_value(json_object_get(args, key));
}

static json_int_t lt_arg_int(json_t *args, const char *key, json_int_t dflt)
{
    json_t *v = json_object_get(args, key);
    return v ? json_integer_value(v) : dflt;
}

/* What read_file gathers: whole lines from first, up to limit lines and
 * max bytes. */
struct lt_lines {
    json_int_t first, limit, line; /* line: the number of the line being read */
    size_t max;
    char *out;
    size_t len;
    bool cut;  /* stopped by max, not by limit or the end */
    bool done; /* stopped by max or limit */
    bool more; /* stopped by limit with more of the file after */
};

static void lt_lines_feed(struct lt_lines *l, const char *buf, size_t n)
{
    for (size_t i = 0; i < n && !l->done;) {
        const char *nl = memchr(buf + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - buf) + 1 : n;
        if (l->line >= l->first) {
            size_t take = end - i;
            if (l->len + take > l->max) {
                /* the line being cut is where a next read starts */
                memcpy(l->out + l->len, buf + i, l->max - l->len);
                l->len = l->max;
                l->cut = l->done = true;
                return;
            }
            memcpy(l->out + l->len, buf + i, take);
            l->len += take;
        }
        if (nl && ++l->line >= l->first + l->limit) {
            l->done = true;
            l->more = end < n;
        }
        i = end;
    }
}

static void lt_read_done(llm_tool_job *j, const char *rel, struct lt_lines *l, json_t *detail)
{
    char *text = lt_text(l->out, l->len);
    char *content = NULL;
    json_int_t next = l->line;
    if (text && l->cut)
        (void)!asprintf(&content, "%s\n[... cut at %zu bytes: read on with offset=%lld]", text,
                        l->max, (long long)next);
    else if (text && l->more)
        (void)!asprintf(&content, "%s\n[... more lines: read on with offset=%lld]", text,
                        (long long)next);
    else if (text && l->len == 0 && l->first > 1)
        (void)!asprintf(&content, "[no line %lld: the file has %lld lines]", (long long)l->first,
                        (long long)(l->line - 1));
    if (content)
        free(text);
    else
        content = text;
    json_object_set_new(detail, "path", json_string(rel));
    json_object_set_new(detail, "bytes", json_integer((json_int_t)l->len));
    json_object_set_new(detail, "truncated", json_boolean(l->cut || l->more));
    lt_job_ok(j, content, detail);
}

void lt_read_file(llm_tool_job *j, json_t *args)
{
    char rel[LTP_PATH_MAX];
    struct ltf_error e;
    int fd = -1;
    if (ltf_path(lt_arg_str(args, "path"), false, rel, &e) < 0 ||
        (fd = ltf_open_read(j->t->ws_fd, rel, &e)) < 0) {
        lt_job_fail(j, e.category, NULL, "%s", e.message);
        return;
    }
    struct lt_lines l = {.first = lt_arg_int(args, "offset", 1),
                         .limit = lt_arg_int(args, "limit", LT_READ_LINES),
                         .line = 1,
                         .max = j->t->files.read_max};
    l.out = malloc(l.max + 1);
    char buf[65536];
    ssize_t n = 0;
    while (l.out && !l.done && ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0)
            lt_lines_feed(&l, buf, (size_t)n);
    /* Stopped by limit at the end of a chunk: one more read tells whether
     * the file goes on. */
    if (n > 0 && l.done && !l.cut && !l.more) {
        char c;
        while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
            ;
        l.more = n > 0;
    }
    int err = errno;
    close(fd);
    if (!l.out || n < 0) {
        free(l.out);
        lt_job_fail(j, "runtime", NULL, "%s: %s", rel, l.out ? strerror(err) : "out of memory");
        return;
    }
    lt_read_done(j, rel, &l, json_object());
    free(l.out);
}

/* Writes and reports; the result says what happened for the model. */
static void lt_write_and_report(llm_tool_job *j, const char *rel, const char *data, size_t len,
                                json_t *detail, const char *what)
{
    struct ltf_error e;
    bool created, link_broken;
    int replaced;
    if (ltf_write_atomic(j->t->ws_fd, rel, data, len, &created, &link_broken, &replaced, &e) < 0) {
        json_decref(detail);
        lt_job_fail(j, e.category, NULL, "%s", e.message);
        return;
    }
    lt_hold_until_idle(j->t, replaced);
    lt_file_changed(j, rel, "write", data, len);
    json_object_set_new(detail, "path", json_string(rel));
    json_object_set_new(detail, "bytes", json_integer((json_int_t)len));
    json_object_set_new(detail, "created", json_boolean(created));
    if (link_broken)
        json_object_set_new(detail, "hard_link_broken", json_true());
    char *content = NULL;
    (void)!asprintf(&content, "%s %s (%zu bytes)%s", what, rel, len,
                    link_broken ? "; its other hard links keep the old content" : "");
    lt_job_ok(j, content, detail);
}

void lt_write_file(llm_tool_job *j, json_t *args)
{
    char rel[LTP_PATH_MAX];
    struct ltf_error e;
    json_t *content = json_object_get(args, "content");
    size_t len = json_string_length(content);
    if (ltf_path(lt_arg_str(args, "path"), false, rel, &e) < 0) {
        lt_job_fail(j, e.category, NULL, "%s", e.message);
        return;
    }
    if (len > j->t->files.write_max) {
        lt_job_fail(j, "invalid", NULL, "content is %zu bytes, more than the %zu write_file takes",
                    len, j->t->files.write_max);
        return;
    }
    lt_write_and_report(j, rel, json_string_value(content), len, json_object(), "wrote");
}

/* The text with up to the first count+1 occurrences of search counted;
 * the replaced text when there are 1..count of them. */
static char *lt_replace(const char *text, size_t len, const char *search, size_t slen,
                        const char *repl, size_t rlen, size_t *matches, size_t *out_len)
{
    *matches = 0;
    for (const char *p = text; (p = memmem(p, len - (size_t)(p - text), search, slen)); p += slen)
        (*matches)++;
    if (*matches == 0)
        return NULL;
    size_t size = len - *matches * slen + *matches * rlen;
    char *out = malloc(size + 1), *o = out;
    const char *p = text, *hit;
    while (out && (hit = memmem(p, len - (size_t)(p - text), search, slen))) {
        memcpy(o, p, (size_t)(hit - p));
        o += hit - p;
        memcpy(o, repl, rlen);
        o += rlen;
        p = hit + slen;
    }
    if (out) {
        memcpy(o, p, len - (size_t)(p - text));
        out[size] = '\0';
    }
    *out_len = size;
    return out;
}

void lt_edit_file(llm_tool_job *j, json_t *args)
{
    char rel[LTP_PATH_MAX];
    struct ltf_error e;
    size_t len, out_len, matches;
    char *text = NULL;
    if (ltf_path(lt_arg_str(args, "path"), false, rel, &e) < 0 ||
        !(text = ltf_read_all(j->t->ws_fd, rel, j->t->files.write_max, &len, &e))) {
        lt_job_fail(j, e.category, NULL, "%s", e.message);
        return;
    }
    json_t *search = json_object_get(args, "search"), *repl = json_object_get(args, "replace");
    json_int_t count = lt_arg_int(args, "count", 1);
    char *out = lt_replace(text, len, json_string_value(search), json_string_length(search),
                           json_string_value(repl), json_string_length(repl), &matches, &out_len);
    free(text);
    if (matches == 0)
        lt_job_fail(j, "not_found", NULL, "the search text does not occur in %s (0 matches)", rel);
    else if (matches > (size_t)count)
        lt_job_fail(j, "invalid", NULL,
                    "the search text occurs %zu times in %s, more than count (%lld): add "
                    "surrounding text to make it unique, or set count to %zu",
                    matches, rel, (long long)count, matches);
    else if (!out)
        lt_job_fail(j, "runtime", NULL, "out of memory");
    else if (out_len > j->t->files.write_max)
        lt_job_fail(j, "invalid", NULL, "the edited %s would be %zu bytes, more than %zu", rel,
                    out_len, j->t->files.write_max);
    else
        lt_write_and_report(j, rel, out, out_len,
                            json_pack("{s:I}", "replacements", (json_int_t)matches), "edited");
    free(out);
}

void lt_delete_file(llm_tool_job *j, json_t *args)
{
    char rel[LTP_PATH_MAX];
    struct ltf_error e;
    const char *base;
    int dir = -1;
    if (ltf_path(lt_arg_str(args, "path"), false, rel, &e) < 0) {
        lt_job_fail(j, e.category, NULL, "%s", e.message);
        return;
    }
    struct stat st;
    int held = -1;
    if ((dir = ltp_open_parent(j->t->ws_fd, rel, false, &base)) < 0 ||
        fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        const char *category, *why = ltp_strerror(errno, &category);
        if (dir >= 0)
            close(dir);
        lt_job_fail(j, category, NULL, "%s: %s", rel, why);
        return;
    }
    /* Its blocks are freed when held is closed, once the loop is idle. */
    if (S_ISREG(st.st_mode))
        held = ltf_inode_ref(dir, base);
    if (S_ISDIR(st.st_mode) || unlinkat(dir, base, 0) < 0) {
        const char *category, *why = S_ISDIR(st.st_mode)
                                         ? "is a directory (delete_file deletes files)"
                                         : ltp_strerror(errno, &category);
        if (S_ISDIR(st.st_mode))
            category = "invalid";
        close(dir);
        if (held >= 0)
            close(held);
        lt_job_fail(j, category, NULL, "%s: %s", rel, why);
        return;
    }
    close(dir);
    lt_hold_until_idle(j->t, held);
    lt_file_changed(j, rel, "delete", NULL, 0);
    char *content = NULL;
    (void)!asprintf(&content, "deleted %s", rel);
    lt_job_ok(j, content, json_pack("{s:s}", "path", rel));
}
