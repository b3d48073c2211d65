/* libFuzzer target for bosunctl's reading of the answer to its /ws
 * upgrade request (core/cli/ctl_ws_answer.c): what a remote server, or
 * anything pretending to be one, sends back before the first frame.
 *
 * The input is the answer, read in chunks as the socket gives it: the end
 * of the header block must be found at the same place whatever the
 * chunks, and never past the bytes read.  The block is then judged against
 * a fixed key.
 *
 * Checked: an upgrade is accepted only with a status line "HTTP/1.x 101",
 * Upgrade: websocket, Connection: Upgrade and the key's own
 * Sec-WebSocket-Accept (RFC 6455 4.1); 401 and 403 are "denied", other
 * statuses "refused", both with a three-digit code; no status line means
 * code 0; a header's value fits its buffer, NUL-terminated, with no CR, LF
 * or surrounding blank, however small the buffer.  Memory errors, leaks
 * and undefined behaviour are the sanitizers'.
 *
 * Input: byte 0 picks the chunk size (1 to 64), the rest is the answer. */
#include "config.h"

#include "fuzz_check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_ws_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 6455 1.3's example key and its accept value. */
static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char accept_value[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/* Where the block ends, found chunk by chunk as read_answer() does. */
static size_t end_by_chunks(const char *buf, size_t len, size_t chunk)
{
    for (size_t have = 0; have < len;) {
        have += chunk < len - have ? chunk : len - have;
        size_t end = ctl_ws_answer_end(buf, have);
        if (end) {
            FUZZ_CHECK(end <= have && end >= 4);
            return end;
        }
    }
    return 0;
}

static void check_value(const char *head, const char *name, size_t size)
{
    char out[300];
    memset(out, 'X', sizeof out);
    if (ctl_ws_header_value(head, name, out, size) != 0)
        return;
    size_t n = strnlen(out, size);
    FUZZ_CHECK(n < size);                               /* NUL-terminated within size */
    FUZZ_CHECK(size == sizeof out || out[size] == 'X'); /* nothing written past it */
    FUZZ_CHECK(!strpbrk(out, "\r\n"));
    FUZZ_CHECK(n == 0 || (out[0] != ' ' && out[0] != '\t'));
    FUZZ_CHECK(n == 0 || (out[n - 1] != ' ' && out[n - 1] != '\t'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)(data[0] % 64) + 1;
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    size_t whole = ctl_ws_answer_end(buf, len);
    FUZZ_CHECK(end_by_chunks(buf, len, chunk) == whole);
    if (!whole)
        return 0;
    int status = -1;
    enum ctl_ws_verdict v = ctl_ws_answer_judge(buf, whole, key, &status);
    switch (v) {
    case CTL_WS_UPGRADED:
        FUZZ_CHECK(status == 101);
        FUZZ_CHECK(memmem(buf, whole, accept_value, sizeof accept_value - 1));
        FUZZ_CHECK(whole >= 12 && memcmp(buf, "HTTP/1.", 7) == 0 && memcmp(buf + 9, "101", 3) == 0);
        break;
    case CTL_WS_BAD_HANDSHAKE:
        FUZZ_CHECK(status == 101);
        break;
    case CTL_WS_DENIED:
        FUZZ_CHECK(status == 401 || status == 403);
        break;
    case CTL_WS_REFUSED:
        FUZZ_CHECK(status >= 0 && status <= 999 && status != 101 && status != 401 && status != 403);
        break;
    case CTL_WS_NOT_HTTP:
        FUZZ_CHECK(status == 0);
        break;
    }
    /* The header lookups on the block as a string, up to a NUL if any. */
    char *head = strndup(buf, whole);
    if (!head)
        return 0;
    static const char *const names[] = {"upgrade", "connection", "sec-websocket-accept", "x", ""};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        for (size_t s = 1; s <= 9; s += 4)
            check_value(head, names[i], s);
    check_value(head, "sec-websocket-accept", 300);
    free(head);
    return 0;
}
