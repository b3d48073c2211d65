/* Unit tests of the pure parts of bosun-llm's tools: path normalisation,
 * the SSRF address classes, the URL allowlist's boundaries, the head/tail
 * capture and the schema validator. */
#include "tap.h"

#include "llm_tools_addr.h"
#include "llm_tools_args.h"
#include "llm_tools_cap.h"
#include "llm_tools_path.h"
#include "llm_tools_schema.h"
#include "llm_tools_url.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static int norm(const char *in, char *out)
{
    char err[256];
    return ltp_normalize(in, out, err, sizeof err);
}

static void test_normalize(void **state)
{
    (void)state;
    char out[LTP_PATH_MAX];
    assert_int_equal(norm("a/b", out), 0);
    assert_string_equal(out, "a/b");
    assert_int_equal(norm("./a//b/./c/", out), 0);
    assert_string_equal(out, "a/b/c");
    assert_int_equal(norm("a/../b", out), 0);
    assert_string_equal(out, "b");
    assert_int_equal(norm("a/..", out), 0);
    assert_string_equal(out, ".");
    assert_int_equal(norm(".", out), 0);
    assert_string_equal(out, ".");
    assert_int_equal(norm("..", out), -2);
    assert_int_equal(norm("a/../../b", out), -2);
    assert_int_equal(norm("/etc/passwd", out), -2);
    assert_int_equal(norm("", out), -1);
    assert_int_equal(norm("...", out), 0); /* a name, not a parent */
    assert_string_equal(out, "...");
    char *longp = malloc(LTP_PATH_MAX + 2);
    memset(longp, 'a', LTP_PATH_MAX + 1);
    longp[LTP_PATH_MAX + 1] = '\0';
    assert_int_equal(norm(longp, out), -1);
    free(longp);
}

static const char *v4(const char *text)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, text, &sa.sin_addr), 1);
    return lta_addr_private((struct sockaddr *)&sa, sizeof sa);
}

static const char *v6(const char *text)
{
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    assert_int_equal(inet_pton(AF_INET6, text, &sa.sin6_addr), 1);
    return lta_addr_private((struct sockaddr *)&sa, sizeof sa);
}

static void test_addr(void **state)
{
    (void)state;
    const char *refused[] = {"127.0.0.1",       "127.255.0.9", "10.1.2.3",        "172.16.0.1",
                             "172.31.255.255",  "192.168.1.1", "169.254.169.254", "100.64.0.1",
                             "100.127.255.254", "0.0.0.0",     "0.1.2.3",         "224.0.0.1",
                             "255.255.255.255"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        assert_non_null(v4(refused[i]));
    const char *public4[] = {"1.1.1.1",     "8.8.8.8",     "172.32.0.1",
                             "100.128.0.1", "192.169.0.1", "11.0.0.1"};
    for (size_t i = 0; i < sizeof public4 / sizeof *public4; i++)
        assert_null(v4(public4[i]));
    const char *refused6[] = {"::1",
                              "::",
                              "fe80::1",
                              "fc00::1",
                              "fd12:3456::1",
                              "ff02::1",
                              "::ffff:127.0.0.1",
                              "::ffff:10.0.0.1",
                              "::127.0.0.1",
                              "64:ff9b::a9fe:a9fe",
                              "2002:7f00:1::",
                              "fec0::1"};
    for (size_t i = 0; i < sizeof refused6 / sizeof *refused6; i++)
        assert_non_null(v6(refused6[i]));
    assert_null(v6("2606:4700:4700::1111"));
    assert_null(v6("::ffff:8.8.8.8"));
    assert_null(v6("2002:0808:0808::"));
    assert_string_equal(v4("127.0.0.1"), "loopback");
}

static bool allowed(const char *prefix, const char *url)
{
    char err[256];
    json_t *allow = json_pack("[s]", prefix);
    char *norm_url = ltu_normalize(url, err, sizeof err);
    bool ok = norm_url && ltu_allowed(allow, norm_url);
    free(norm_url);
    json_decref(allow);
    return ok;
}

static void test_url(void **state)
{
    (void)state;
    assert_true(allowed("https://api.example.com", "https://api.example.com/v1"));
    assert_true(allowed("https://api.example.com", "https://API.Example.com:443/v1"));
    assert_true(allowed("https://api.example.com", "https://api.example.com"));
    assert_false(allowed("https://api.example.com", "https://api.example.com.evil.test/"));
    assert_false(allowed("https://api.example.com", "https://api.example.com:8443/"));
    assert_false(allowed("https://api.example.com", "http://api.example.com/"));
    assert_true(allowed("https://x.test/docs/", "https://x.test/docs/a"));
    assert_false(allowed("https://x.test/docs/", "https://x.test/docs"));
    assert_true(allowed("https://x.test/docs", "https://x.test/docs?q=1"));
    assert_false(allowed("https://x.test/docs", "https://x.test/docsx"));
    assert_false(allowed("https://x.test/docs/", "https://x.test/docs/../admin"));
    char err[256];
    assert_null(ltu_normalize("https://user@x.test/", err, sizeof err));
    assert_null(ltu_normalize("file:///etc/passwd", err, sizeof err));
    assert_null(ltu_normalize("gopher://x.test/", err, sizeof err));
    assert_null(ltu_normalize("http://x.test/\xff", err, sizeof err)); /* a server's Location */
    assert_string_equal(err, "not a valid URL (not UTF-8 text)");
    assert_null(ltu_normalize("https://FF%FFx.test/", err, sizeof err)); /* %XX in the host */
    assert_null(ltu_normalize("https://ex\xc3\xa4mple.test/", err, sizeof err));
    assert_true(allowed("https://[::1]:8080/", "https://[::1]:8080/x"));
    char *n = ltu_normalize("http:/%32222", err, sizeof err); /* fuzz_llm_args found it */
    assert_non_null(n);
    assert_string_equal(n, "http://0.0.8.174/"); /* what curl connects to */
    free(n);
}

static void test_cap(void **state)
{
    (void)state;
    struct lt_cap c;
    size_t len;
    assert_int_equal(lt_cap_init(&c, 10), 0);
    lt_cap_feed(&c, "abc", 3);
    char *out = lt_cap_render(&c, &len);
    assert_string_equal(out, "abc");
    free(out);
    lt_cap_feed(&c, "defghij", 7); /* exactly 10: nothing cut */
    out = lt_cap_render(&c, &len);
    assert_string_equal(out, "abcdefghij");
    free(out);
    for (char ch = 'k'; ch <= 'z'; ch++)
        lt_cap_feed(&c, &ch, 1);
    out = lt_cap_render(&c, &len);
    assert_string_equal(out, "abcde\n[... 16 bytes cut ...]\nvwxyz");
    assert_int_equal(len, strlen(out));
    free(out);
    lt_cap_feed(&c, "0123456789ABCDEFGHIJ", 20); /* more than the tail at once */
    out = lt_cap_render(&c, &len);
    assert_string_equal(out, "abcde\n[... 36 bytes cut ...]\nFGHIJ");
    free(out);
    lt_cap_free(&c);
}

static bool valid(int tool, const char *args, char *err, size_t n)
{
    json_t *schema = lt_tool_schema(tool), *v = json_loads(args, 0, NULL);
    assert_non_null(schema);
    assert_non_null(v);
    bool ok = lta_validate(schema, v, "arguments", err, n);
    json_decref(schema);
    json_decref(v);
    return ok;
}

static void test_args(void **state)
{
    (void)state;
    char err[512];
    int bash = lt_tool_index("bash"), fetch = lt_tool_index("fetch");
    assert_true(valid(bash, "{\"command\":\"ls\",\"timeout\":2.5}", err, sizeof err));
    assert_false(valid(bash, "{\"timeout\":2}", err, sizeof err));
    assert_string_equal(err, "arguments: \"command\" is required");
    assert_false(valid(bash, "{\"command\":\"\"}", err, sizeof err));
    assert_false(valid(bash, "{\"command\":\"ls\",\"timeout\":-1}", err, sizeof err));
    assert_string_equal(err, "arguments.timeout: must be at least 0.001");
    assert_false(valid(bash, "{\"command\":\"ls\",\"cwd\":\"/\"}", err, sizeof err));
    assert_true(valid(fetch, "{\"url\":\"https://x\",\"headers\":{\"A\":\"b\"}}", err, sizeof err));
    assert_false(valid(fetch, "{\"url\":\"https://x\",\"headers\":{\"A\":1}}", err, sizeof err));
    assert_string_equal(err, "arguments.headers.A: expected string, got integer");
    assert_false(valid(fetch, "{\"url\":\"https://x\",\"method\":\"TRACE\"}", err, sizeof err));
    assert_non_null(strstr(err, "must be one of"));
    assert_false(valid(lt_tool_index("read_file"), "[]", err, sizeof err));
    assert_string_equal(err, "arguments: expected object, got array");
    for (int i = 0; i < LT_TOOL_COUNT; i++) {
        json_t *s = lt_tool_schema(i);
        assert_non_null(s); /* every schema text parses */
        json_decref(s);
    }
    json_t *cfg = lt_config_schema();
    assert_non_null(cfg);
    json_decref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize), cmocka_unit_test(test_addr), cmocka_unit_test(test_url),
        cmocka_unit_test(test_cap),       cmocka_unit_test(test_args),
    };
    return RUN_TESTS(tests);
}
