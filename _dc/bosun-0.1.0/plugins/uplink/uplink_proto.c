/* Frames of the fleet link (bosun-fleet(7), PROTOCOL).  What the hub sends
 * is outside input: one JSON object, no duplicate keys, a valid subject,
 * an object for data, and per kind the fields it must have with their
 * types and bounds; anything else is refused here, before the plugin looks
 * at it.  No I/O, so that it can be fuzzed (tests/fuzz/fuzz_uplink.c). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uplink.h"

#define CODE_MAX    64
#define MESSAGE_MAX 512

const char *uplink_printable(const char *text, size_t max, char *buf, size_t size)
{
    size_t n = 0;
    if (size == 0)
        return "";
    for (size_t i = 0; text && text[i] && i < max && n + 1 < size; i++) {
        unsigned char c = (unsigned char)text[i];
        buf[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    buf[n] = '\0';
    return buf;
}

static bool word(const char *s, size_t max)
{
    size_t n = s ? strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") : 0;
    return n > 0 && n <= max && s[n] == '\0';
}

static int refuse(char *why, size_t ws, const char *text)
{
    snprintf(why, ws, "%s", text);
    return -1;
}

static bool seq_of(json_t *v, json_int_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = json_integer_value(v);
    return true;
}

int uplink_msg_parse(const char *text, size_t len, uplink_msg *out, char *why, size_t ws)
{
    memset(out, 0, sizeof *out);
    bosun_json_error err;
    json_t *root = bosun_json_parse(text, len, BOSUN_JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        snprintf(why, ws, "not JSON: %.120s at byte %zu", err.text, err.position);
        return -1;
    }
    out->root = root;
    json_t *subject = json_object_get(root, "subject"), *reply = json_object_get(root, "reply");
    out->data = json_object_get(root, "data");
    if (!json_is_object(root))
        return uplink_msg_clear(out), refuse(why, ws, "not a JSON object");
    if (!json_is_string(subject) || json_string_length(subject) > BUS_SUBJECT_MAX ||
        bus_subject_check(json_string_value(subject)) != 0)
        return uplink_msg_clear(out), refuse(why, ws, "no valid 'subject'");
    if (reply && (!json_is_string(reply) || json_string_length(reply) > UPLINK_REPLY_MAX ||
                  bus_subject_check(json_string_value(reply)) != 0))
        return uplink_msg_clear(out), refuse(why, ws, "'reply' is not a valid subject");
    if (!json_is_object(out->data))
        return uplink_msg_clear(out), refuse(why, ws, "'data' is not an object");
    out->subject = json_string_value(subject);
    out->reply = reply ? json_string_value(reply) : NULL;
    if (strcmp(out->subject, "machine.ack") == 0) {
        out->kind = UPLINK_MSG_ACK;
        if (!seq_of(json_object_get(out->data, "seq"), &out->seq))
            return uplink_msg_clear(out), refuse(why, ws, "machine.ack without a 'seq' >= 0");
    } else if (strcmp(out->subject, "machine.close") == 0) {
        out->kind = UPLINK_MSG_CLOSE;
    } else if (strcmp(out->subject, "machine.error") == 0) {
        out->kind = UPLINK_MSG_ERROR;
    } else if (strncmp(out->subject, "cmd.", 4) == 0) {
        out->kind = UPLINK_MSG_COMMAND;
        if (!out->reply)
            return uplink_msg_clear(out), refuse(why, ws, "a command without a 'reply'");
    } else {
        out->kind = UPLINK_MSG_REPLY;
    }
    return 0;
}

void uplink_msg_clear(uplink_msg *m)
{
    json_decref(m->root);
    memset(m, 0, sizeof *m);
}

int uplink_registered_read(json_t *data, uplink_registered *out, char *why, size_t ws)
{
    memset(out, 0, sizeof *out);
    json_t *ok = json_object_get(data, "ok");
    if (!json_is_boolean(ok))
        return refuse(why, ws, "the answer to machine.register has no boolean 'ok'");
    out->ok = json_is_true(ok);
    json_t *id = json_object_get(data, "machine_id");
    if (id && !json_is_null(id)) {
        if (!json_is_string(id) || bus_subject_check(json_string_value(id)) != 0 ||
            strchr(json_string_value(id), '.'))
            return refuse(why, ws, "the answer's 'machine_id' is not a subject token");
        out->machine_id = json_string_value(id);
    }
    if (!out->ok) {
        json_t *e = json_object_get(data, "error");
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (!word(code, CODE_MAX))
            return refuse(why, ws, "a refused machine.register without an error code");
        out->code = code;
        out->message = msg && strlen(msg) <= MESSAGE_MAX ? msg : NULL;
        return 0;
    }
    if (!seq_of(json_object_get(data, "acked_seq"), &out->acked_seq))
        return refuse(why, ws, "the answer to machine.register has no 'acked_seq' >= 0");
    json_t *tok = json_object_get(data, "machine_token");
    if (tok && !json_is_null(tok)) {
        if (!uplink_token_valid(json_string_value(tok), "bsn_mch_"))
            return refuse(why, ws, "the answer's 'machine_token' is not a bsn_mch_ token");
        out->machine_token = json_string_value(tok);
    }
    return 0;
}

char *uplink_frame(const char *subject, const char *reply, json_t *data, size_t *len)
{
    json_t *f = json_pack("{s:s,s:s*,s:o,s:f}", "subject", subject, "reply", reply, "data",
                          data ? data : json_object(), "time", bosun_now());
    if (!f)
        return NULL;
    char *text = bosun_json_dump(f, 0, len);
    json_decref(f);
    return text;
}
