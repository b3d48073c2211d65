/* libFuzzer target for what a hub sends a machine's uplink plugin
 * (plugins/uplink): the answer to the /fleet upgrade request, read by
 * http-parser under the plugin's bounds (uplink_upgrade.c), and the
 * frames of the link (uplink_proto.c).
 *
 * Input: byte 0 chooses.  Even: the rest is an answer to the upgrade,
 * byte 1 picking the chunk size (1 to 64).  Odd: the rest is one text
 * frame.
 *
 * Checked for answers: the verdict, the HTTP status and where the answer
 * ends do not depend on how the bytes are cut into chunks; DONE only for
 * a 101 carrying the key's own Sec-WebSocket-Accept (RFC 6455 1.3's
 * example key), with the bytes it used within what was fed; what follows
 * the answer is left alone.
 *
 * Checked for frames: a frame the parser takes has a valid subject, an
 * object for data, a reply on every command, a seq >= 0 on every ack; as
 * an answer to machine.register its error code is a word and its machine
 * token a bsn_mch_ token; the subject made printable is printable and
 * bounded; a frame built back from the parsed subject and data parses
 * again to the same subject and kind.  Memory errors, leaks and undefined
 * behaviour are the sanitizers'. */
#include "config.h"

#include "fuzz_check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uplink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char accept_value[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

typedef struct verdict {
    enum uplink_upgrade_result r;
    int status;
    size_t end; /* total bytes of the answer, when DONE */
} verdict;

static verdict feed(const char *buf, size_t len, size_t chunk)
{
    char *req = NULL;
    size_t req_len = 0;
    uplink_upgrade *u = uplink_upgrade_with_key("hub:8420", "/fleet", key, &req, &req_len);
    FUZZ_CHECK(u && req && strstr(req, key));
    free(req);
    verdict v = {UPLINK_UPGRADE_MORE, 0, 0};
    size_t off = 0;
    while (off < len) {
        size_t n = chunk < len - off ? chunk : len - off, used = 0;
        char why[UPLINK_WHY_MAX] = "";
        v.r = uplink_upgrade_feed(u, buf + off, n, &used, &v.status, why, sizeof why);
        FUZZ_CHECK(used <= n);
        if (v.r == UPLINK_UPGRADE_MORE)
            FUZZ_CHECK(used == n);
        if (v.r != UPLINK_UPGRADE_MORE) {
            if (v.r == UPLINK_UPGRADE_FAIL)
                FUZZ_CHECK(strlen(why) > 0 && strlen(why) < sizeof why);
            v.end = off + used;
            break;
        }
        off += n;
    }
    uplink_upgrade_free(u);
    return v;
}

static void answer(const char *buf, size_t len, size_t chunk)
{
    verdict a = feed(buf, len, chunk), b = feed(buf, len, len ? len : 1);
    FUZZ_CHECK(a.r == b.r);
    if (a.r == UPLINK_UPGRADE_DONE) {
        FUZZ_CHECK(a.end == b.end && a.end <= len);
        FUZZ_CHECK(a.status == 101);
        FUZZ_CHECK(memmem(buf, a.end, accept_value, sizeof accept_value - 1));
    }
}

static void printable(const char *s)
{
    char out[80];
    uplink_printable(s, 64, out, sizeof out);
    FUZZ_CHECK(strlen(out) <= 64);
    for (const char *p = out; *p; p++)
        FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
}

static void frame(const char *text, size_t len)
{
    uplink_msg m;
    char why[UPLINK_WHY_MAX];
    if (uplink_msg_parse(text, len, &m, why, sizeof why) != 0) {
        FUZZ_CHECK(m.root == NULL && strlen(why) > 0);
        return;
    }
    FUZZ_CHECK(m.subject && bus_subject_check(m.subject) == 0);
    FUZZ_CHECK(json_is_object(m.data));
    if (m.kind == UPLINK_MSG_COMMAND)
        FUZZ_CHECK(m.reply && strncmp(m.subject, "cmd.", 4) == 0);
    if (m.kind == UPLINK_MSG_ACK)
        FUZZ_CHECK(m.seq >= 0);
    printable(m.subject);
    uplink_registered r;
    if (uplink_registered_read(m.data, &r, why, sizeof why) == 0) {
        if (r.ok) {
            FUZZ_CHECK(r.acked_seq >= 0 && r.code == NULL);
            FUZZ_CHECK(!r.machine_token || uplink_token_valid(r.machine_token, "bsn_mch_"));
        } else {
            FUZZ_CHECK(r.code && strlen(r.code) <= 64 &&
                       strspn(r.code, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(r.code));
        }
        FUZZ_CHECK(!r.machine_id || bus_subject_check(r.machine_id) == 0);
    }
    size_t n;
    char *back = uplink_frame(m.subject, m.reply, json_deep_copy(m.data), &n);
    if (back) {
        uplink_msg m2;
        FUZZ_CHECK(uplink_msg_parse(back, n, &m2, why, sizeof why) == 0);
        FUZZ_CHECK(strcmp(m2.subject, m.subject) == 0 && m2.kind == m.kind);
        FUZZ_CHECK(json_equal(m2.data, m.data));
        uplink_msg_clear(&m2);
        free(back);
    }
    uplink_msg_clear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (data[0] & 1)
        frame((const char *)data + 1, size - 1);
    else
        answer((const char *)data + 2, size - 2, 1 + data[1] % 64);
    return 0;
}
