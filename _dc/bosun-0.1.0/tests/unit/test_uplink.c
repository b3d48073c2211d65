/* The uplink plugin's pure parts (plugins/uplink): the back-off waits, the
 * token files, the upgrade's answer and the frames from the hub. */
#include "config.h"

#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uplink.h"

#define TOK_BODY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

/* 1, 2, 4 ... up to the cap, each within +-20 %, never above the cap; a
 * reset starts over at 1. */
static void test_backoff(void **state)
{
    (void)state;
    uplink_backoff b;
    uplink_backoff_init(&b, 60);
    double want[] = {1, 2, 4, 8, 16, 32, 60, 60};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uplink_backoff c = b, d = b;
        double lo = uplink_backoff_next(&c, 0.0), hi = uplink_backoff_next(&d, 0.999999);
        double mid = uplink_backoff_next(&b, 0.5);
        assert_true(mid > want[i] * 0.999 && mid < want[i] * 1.001);
        assert_true(lo >= want[i] * 0.8 - 1e-9 && lo < want[i] * 0.801);
        assert_true(hi <= 60.0 && hi <= want[i] * 1.2 + 1e-9);
        if (want[i] * 1.2 < 60)
            assert_true(hi > want[i] * 1.199);
    }
    uplink_backoff_reset(&b);
    assert_true(uplink_backoff_next(&b, 0.5) == 1.0);
    /* a small cap: 1, 2, 4, 4 ... */
    uplink_backoff_init(&b, 4);
    assert_true(uplink_backoff_next(&b, 0.5) == 1.0);
    assert_true(uplink_backoff_next(&b, 0.5) == 2.0);
    assert_true(uplink_backoff_next(&b, 0.5) == 4.0);
    assert_true(uplink_backoff_next(&b, 0.0) == 3.2);
    assert_true(uplink_backoff_next(&b, 0.99) == 4.0);
    /* out-of-range randomness counts as the middle */
    uplink_backoff_init(&b, 60);
    assert_true(uplink_backoff_next(&b, 7.0) == 1.0);
}

/* The splay after a lost link: uniform over [0, splay), none at 0, the
 * middle for out-of-range randomness. */
static void test_splay(void **state)
{
    (void)state;
    assert_true(uplink_splay(5, 0.0) == 0.0);
    assert_true(uplink_splay(5, 0.5) == 2.5);
    double hi = uplink_splay(5, 0.999999);
    assert_true(hi > 4.999 && hi < 5.0);
    assert_true(uplink_splay(0, 0.7) == 0.0);
    assert_true(uplink_splay(-1, 0.7) == 0.0);
    assert_true(uplink_splay(4, 1.0) == 2.0);
    assert_true(uplink_splay(4, -0.1) == 2.0);
}

static void test_token_valid(void **state)
{
    (void)state;
    assert_true(uplink_token_valid("bsn_mch_" TOK_BODY, "bsn_mch_"));
    assert_false(uplink_token_valid("bsn_reg_" TOK_BODY, "bsn_mch_"));
    assert_false(uplink_token_valid("bsn_mch_short", "bsn_mch_"));
    assert_false(uplink_token_valid("bsn_mch_" TOK_BODY "!", "bsn_mch_"));
    assert_false(uplink_token_valid("bsn_mch_" TOK_BODY " ", "bsn_mch_"));
    assert_false(uplink_token_valid(NULL, "bsn_mch_"));
}

/* Written 0600 through a rename, read back without its newline; a file
 * that is not a token, or missing, says so. */
static void test_token_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/bosun-uplink-XXXXXX", path[256], why[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/machine.tok", dir);
    bool missing = false;
    assert_null(uplink_token_read(path, "bsn_mch_", &missing, why, sizeof why));
    assert_true(missing);
    assert_int_equal(uplink_token_write(path, "bsn_mch_" TOK_BODY, why, sizeof why), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *t = uplink_token_read(path, "bsn_mch_", &missing, why, sizeof why);
    assert_non_null(t);
    assert_string_equal(t, "bsn_mch_" TOK_BODY);
    free(t);
    assert_null(uplink_token_read(path, "bsn_reg_", &missing, why, sizeof why));
    assert_false(missing);
    assert_non_null(strstr(why, "does not hold a bsn_reg_"));
    FILE *f = fopen(path, "w");
    fputs("bsn_mch_" TOK_BODY "\nbsn_mch_" TOK_BODY "\n", f);
    fclose(f);
    assert_null(uplink_token_read(path, "bsn_mch_", &missing, why, sizeof why));
    unlink(path);
    rmdir(dir);
}

static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";

static enum uplink_upgrade_result judge(const char *answer, size_t *used, int *status, char *why)
{
    char *req = NULL;
    size_t len = 0;
    uplink_upgrade *u = uplink_upgrade_with_key("hub:8420", "/fleet", key, &req, &len);
    assert_non_null(u);
    assert_non_null(strstr(req, "GET /fleet HTTP/1.1\r\nHost: hub:8420\r\n"));
    assert_non_null(strstr(req, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
    free(req);
    enum uplink_upgrade_result r =
        uplink_upgrade_feed(u, answer, strlen(answer), used, status, why, 256);
    uplink_upgrade_free(u);
    return r;
}

/* A 101 with the key's accept value is done where its headers end; other
 * answers fail with the status, or with what is missing. */
static void test_upgrade(void **state)
{
    (void)state;
    size_t used;
    int status;
    char why[256];
    const char *ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                     "\r\n\x81\x02hi";
    assert_int_equal(judge(ok, &used, &status, why), UPLINK_UPGRADE_DONE);
    assert_int_equal(used, strlen(ok) - 4);
    assert_int_equal(status, 101);
    assert_int_equal(
        judge("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", &used, &status, why),
        UPLINK_UPGRADE_FAIL);
    assert_int_equal(status, 404);
    assert_non_null(strstr(why, "fleet plugin"));
    assert_int_equal(judge("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n",
                           &used, &status, why),
                     UPLINK_UPGRADE_FAIL);
    assert_non_null(strstr(why, "Sec-WebSocket-Accept"));
    assert_int_equal(judge("HTTP/1.1 101 Switching", &used, &status, why), UPLINK_UPGRADE_MORE);
    assert_int_equal(judge("SSH-2.0-OpenSSH\r\n", &used, &status, why), UPLINK_UPGRADE_FAIL);
    /* a 200 followed by a 101 in the same bytes is a 200 */
    assert_int_equal(judge("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                           "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Accept: "
                           "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                           &used, &status, why),
                     UPLINK_UPGRADE_FAIL);
    assert_int_equal(status, 200);
}

static int parse(const char *text, uplink_msg *m, char *why)
{
    return uplink_msg_parse(text, strlen(text), m, why, 256);
}

static void test_frames(void **state)
{
    (void)state;
    uplink_msg m;
    char why[256];
    assert_int_equal(parse("{\"subject\":\"machine.ack\",\"data\":{\"seq\":5}}", &m, why), 0);
    assert_int_equal(m.kind, UPLINK_MSG_ACK);
    assert_int_equal(m.seq, 5);
    uplink_msg_clear(&m);
    assert_int_equal(
        parse("{\"subject\":\"cmd.proc.stop\",\"reply\":\"h.1\",\"data\":{\"target\":\"w\"}}", &m,
              why),
        0);
    assert_int_equal(m.kind, UPLINK_MSG_COMMAND);
    assert_string_equal(m.reply, "h.1");
    uplink_msg_clear(&m);
    assert_int_equal(parse("{\"subject\":\"cmd.proc.stop\",\"data\":{}}", &m, why), -1);
    assert_int_equal(parse("{\"subject\":\"machine.ack\",\"data\":{\"seq\":-2}}", &m, why), -1);
    assert_int_equal(parse("{\"subject\":\"a..b\",\"data\":{}}", &m, why), -1);
    assert_int_equal(parse("{\"subject\":\"x\",\"data\":[]}", &m, why), -1);
    assert_int_equal(parse("{\"subject\":\"x\",\"data\":{},\"data\":{}}", &m, why), -1);
    assert_int_equal(parse("[1]", &m, why), -1);
    assert_int_equal(
        parse("{\"subject\":\"r.1\",\"data\":{\"ok\":true,\"acked_seq\":3,\"machine_token\":"
              "\"bsn_mch_" TOK_BODY "\"}}",
              &m, why),
        0);
    assert_int_equal(m.kind, UPLINK_MSG_REPLY);
    uplink_registered r;
    assert_int_equal(uplink_registered_read(m.data, &r, why, sizeof why), 0);
    assert_true(r.ok);
    assert_int_equal(r.acked_seq, 3);
    assert_string_equal(r.machine_token, "bsn_mch_" TOK_BODY);
    uplink_msg_clear(&m);
    json_t *d =
        json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", "token_used", "message", "used");
    assert_int_equal(uplink_registered_read(d, &r, why, sizeof why), 0);
    assert_false(r.ok);
    assert_string_equal(r.code, "token_used");
    json_decref(d);
    d = json_pack("{s:b,s:s}", "ok", 1, "machine_token", "bsn_reg_" TOK_BODY);
    assert_int_equal(uplink_registered_read(d, &r, why, sizeof why), -1); /* no acked_seq */
    json_decref(d);
    size_t n;
    char *f = uplink_frame("machine.heartbeat", NULL, json_pack("{s:i}", "agents_running", 2), &n);
    assert_non_null(f);
    assert_null(strstr(f, "\"reply\""));
    free(f);
    char out[16];
    assert_string_equal(uplink_printable("a\nb\x7f"
                                         "cdefghijklmnop",
                                         8, out, sizeof out),
                        "a?b?cdef");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),     cmocka_unit_test(test_splay),
        cmocka_unit_test(test_token_valid), cmocka_unit_test(test_token_files),
        cmocka_unit_test(test_upgrade),     cmocka_unit_test(test_frames),
    };
    return RUN_TESTS(tests);
}
