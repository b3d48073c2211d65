/* fuzz_notify — what an event's data (agents' questions, tool inputs, run
 * ids: text from outside) becomes in the notify plugin's requests.
 *
 * Input: byte 0 picks the event (one subject per kind, with an extra token
 * now and then), byte 1 the channel (webhook JSON or slack, ntfy, e-mail),
 * the rest is the event's JSON data; when it is no JSON object, the raw
 * bytes (any, not even UTF-8) become the question, reason and run.
 * Checks: no header holds a control character (nothing an agent writes
 * can add a header), a webhook body is a JSON object of the right kind,
 * an e-mail has exactly its own header lines, CRLF throughout and no line
 * past 998 bytes, and the link stays one URL without blanks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const subjects[] = {
    "evt.input.Q1.requested",  "evt.approval.A1.requested",  "evt.run.coder.R1.spawn_failed",
    "evt.run.coder.R1.state",  "evt.run.coder.R1.attention", "evt.task.T1.updated",
    "evt.run.coder.R1.budget", "evt.machine.m1.offline",     "evt.run.x.y.z.spawn_failed",
};

static const char *const email_headers[] = {"Date: ",
                                            "From: ",
                                            "To: ",
                                            "Subject: ",
                                            "Message-ID: ",
                                            "MIME-Version: ",
                                            "Content-Type: ",
                                            "Content-Transfer-Encoding: ",
                                            "X-Bosun-Event: ",
                                            NULL};

static void check_email(const notify_request *r)
{
    const char *p = r->body, *end = r->body + r->body_len;
    bool in_headers = true;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        FUZZ_CHECK(nl && nl > p && nl[-1] == '\r'); /* CRLF, every line ended */
        size_t len = (size_t)(nl - p) - 1;
        FUZZ_CHECK(len <= 998);
        FUZZ_CHECK(!memchr(p, '\r', len));
        if (in_headers && len == 0) {
            in_headers = false;
        } else if (in_headers && (*p == ' ' || *p == '\t')) {
            FUZZ_CHECK(len > 1); /* a folded line, never an empty one */
        } else if (in_headers) {
            bool known = false;
            for (size_t i = 0; email_headers[i]; i++)
                known = known || strncmp(p, email_headers[i], strlen(email_headers[i])) == 0;
            FUZZ_CHECK(known);
        }
        p = nl + 1;
    }
    FUZZ_CHECK(!in_headers);
}

static void check(const notify_channel_cfg *c, const notify_msg *m, const notify_request *r)
{
    for (size_t i = 0; r->headers[i]; i++)
        for (const char *h = r->headers[i]; *h; h++)
            FUZZ_CHECK((unsigned char)*h >= 0x20 && *h != 0x7f);
    if (m->link)
        FUZZ_CHECK(!strpbrk(m->link, " \t\r\n\"<>"));
    if (c->type == NT_EMAIL) {
        check_email(r);
    } else if (c->type == NT_WEBHOOK) {
        json_t *o = json_loadb(r->body, r->body_len, 0, NULL);
        FUZZ_CHECK(json_is_object(o));
        if (!c->slack)
            FUZZ_CHECK(strcmp(json_string_value(json_object_get(o, "kind")),
                              notify_kind_name(m->kind)) == 0);
        json_decref(o);
    }
}

static json_t *data_of(const uint8_t *d, size_t n)
{
    json_t *o = json_loadb((const char *)d, n, 0, NULL);
    if (json_is_object(o))
        return o;
    json_decref(o);
    json_t *s = json_stringn_nocheck((const char *)d, n);
    json_t *o2 = json_pack("{s:O,s:O,s:O,s:s,s:s,s:O}", "question", s, "reason", s, "run", s,
                           "state", "FATAL", "status", "done", "agent", s);
    json_decref(s);
    return o2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    char *to[] = {"ops@example.test", NULL};
    notify_channel_cfg c = {
        .name = "c", .url = "https://h.example.test/x", .from = "bosun@example.test", .to = to};
    c.type = data[1] % 3 == 0 ? NT_WEBHOOK : data[1] % 3 == 1 ? NT_NTFY : NT_EMAIL;
    c.slack = data[1] & 4;
    c.secret = data[1] & 8 ? "key" : NULL;
    json_t *d = data_of(data + 2, size - 2);
    const char *subject = subjects[data[0] % (sizeof subjects / sizeof *subjects)];
    notify_msg *m = notify_msg_from_event(subject, d, 1796277240.5,
                                          data[0] & 0x80 ? "https://b.example.test" : NULL, "m0");
    if (m) {
        FUZZ_CHECK(m->key && m->id && m->title && m->detail && m->machine);
        notify_request r;
        if (notify_request_build(&c, m, 1796277241.0, &r) == 0) {
            check(&c, m, &r);
            notify_request_free(&r);
        }
        char *text = notify_msg_text(m);
        FUZZ_CHECK(text);
        free(text);
        notify_msg_unref(m);
    }
    json_decref(d);
    return 0;
}
