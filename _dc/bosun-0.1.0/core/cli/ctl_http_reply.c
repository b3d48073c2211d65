/* bosunctl over HTTP: what an answer from the daemon means -- the body
 * on success, the {"error"} a command prints, or why there is no usable
 * answer (ctl_http_int.h).  Apart from the transfer (http_do) so that it can
 * be fuzzed with the mapping (tests/fuzz/fuzz_ctl_map.c). */
#include "config.h"

#include "ctl_http_int.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bosun/json.h>

void http_reply_free(http_reply *r)
{
    free(r->body);
    free(r->ctype);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ JSON calls */

/* An error answer as the bus reply the commands print: the server's own
 * {"error"} when it sent one. */
static json_t *status_error(ctl_http *h, const char *method, const char *path, http_reply *r,
                            json_t *body)
{
    json_t *e = json_object_get(body, "error");
    if (json_is_object(e) && json_is_string(json_object_get(e, "code"))) {
        json_t *copy = json_pack("{s:O}", "error", e);
        if (r->status == 429 && r->retry_after[0]) {
            json_t *ce = json_object_get(copy, "error");
            char *m = xasprintf("%s; retry after %s s",
                                json_string_value(json_object_get(ce, "message")) ?: "rate limited",
                                r->retry_after);
            json_object_set_new(ce, "message", json_string(m));
            free(m);
        }
        return copy;
    }
    if (r->status >= 300 && r->status < 400)
        return bus_error_json("redirect",
                              "%s %s was redirected (HTTP %ld): give --url the "
                              "daemon's own address",
                              method, path, r->status);
    return bus_error_json("http_error", "%s %s answered HTTP %ld", method, path, r->status);
}

json_t *http_judge(ctl_http *h, const char *method, const char *path, http_reply *rp, char *err,
                   size_t err_size)
{
    http_reply r = *rp;
    bosun_json_error je;
    json_t *v = r.len ? bosun_json_parse(r.body, r.len, BOSUN_JSON_REJECT_DUPLICATES, &je) : NULL;
    json_t *out = NULL;
    if (r.status == 401) {
        /* Not an answer to print: the credentials are wrong for every call. */
        const char *m = json_string_value(json_object_get(json_object_get(v, "error"), "message"));
        snprintf(err, err_size, "bosund at %s refused the token: %s", h->t.base,
                 m ? m : "unauthorized");
        h->base.failure = CTL_FAIL_DENIED;
    } else if (r.status < 200 || r.status > 299) {
        out = status_error(h, method, path, &r, v);
    } else if (!v && r.len) {
        snprintf(err, err_size, "bosund at %s sent invalid JSON for %s %s: %s", h->t.base, method,
                 path, je.text);
    } else if (v && !json_is_object(v)) {
        /* Every API answer is an object; the commands read members of it. */
        snprintf(err, err_size, "bosund at %s answered %s %s with JSON that is not an object",
                 h->t.base, method, path);
    } else {
        out = v ? json_incref(v) : json_object();
    }
    json_decref(v);
    return out;
}

json_t *http_json(ctl_http *h, const char *method, const char *path, const char *query,
                  json_t *body, double timeout, char *err, size_t err_size)
{
    http_reply r;
    if (http_do(h, method, path, query, body, timeout, &r, err, err_size) != 0)
        return NULL;
    json_t *out = http_judge(h, method, path, &r, err, err_size);
    http_reply_free(&r);
    return out;
}
