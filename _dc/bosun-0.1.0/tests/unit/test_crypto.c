/* <bosun/crypto.h>: SHA-256 against the FIPS 180-4 / NIST vectors,
 * HMAC-SHA256 against RFC 4231, constant-time comparison, base64url (RFC
 * 4648 §10 vectors, canonical decoding only) and tokens. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include <bosun/crypto.h>
#include <bosun/sys.h>

static void sha(const char *in, size_t len, const char *want)
{
    char hex[65];
    bosun_sha256_hex(in, len, hex);
    assert_string_equal(hex, want);
}

static void test_sha256_vectors(void **state)
{
    sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* Lengths around the block and padding boundaries (55, 56, 63, 64, 65). */
static void test_sha256_boundaries(void **state)
{
    static const struct {
        size_t len;
        const char *hex;
    } v[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {1000, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"},
    };
    char buf[1000];
    memset(buf, 'a', sizeof buf);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        sha(buf, v[i].len, v[i].hex);
}

static void hex(const unsigned char *md, char *out)
{
    for (int i = 0; i < BOSUN_SHA256_SIZE; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

/* RFC 4231 test cases 1, 2 and 6 (a key longer than the block). */
static void test_hmac_vectors(void **state)
{
    unsigned char md[BOSUN_SHA256_SIZE];
    char h[65];
    unsigned char key1[20];
    memset(key1, 0x0b, sizeof key1);
    assert_int_equal(bosun_hmac_sha256(key1, sizeof key1, "Hi There", 8, md), 0);
    hex(md, h);
    assert_string_equal(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    const char *d2 = "what do ya want for nothing?";
    assert_int_equal(bosun_hmac_sha256("Jefe", 4, d2, strlen(d2), md), 0);
    hex(md, h);
    assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    unsigned char key6[131];
    memset(key6, 0xaa, sizeof key6);
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    assert_int_equal(bosun_hmac_sha256(key6, sizeof key6, d6, strlen(d6), md), 0);
    hex(md, h);
    assert_string_equal(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* The empty key and message (Python's hmac module gives the values), with
 * the key as a pointer and as NULL; a NULL key with a length is refused. */
static void test_hmac_empty(void **state)
{
    unsigned char md[BOSUN_SHA256_SIZE];
    char h[65];
    const char *want = "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";
    assert_int_equal(bosun_hmac_sha256("", 0, "", 0, md), 0);
    hex(md, h);
    assert_string_equal(h, want);
    assert_int_equal(bosun_hmac_sha256(NULL, 0, "", 0, md), 0);
    hex(md, h);
    assert_string_equal(h, want);
    assert_int_equal(bosun_hmac_sha256("k", 1, "", 0, md), 0);
    hex(md, h);
    assert_string_equal(h, "8bb990c40a7d61cb97597a942125025be50ac8beb74436e3735b98893a7f6620");
    assert_int_equal(bosun_hmac_sha256(NULL, 1, "", 0, md), -1);
}

static void test_equal(void **state)
{
    assert_true(bosun_crypto_equal("abcd", "abcd", 4));
    assert_false(bosun_crypto_equal("abcd", "abce", 4));
    assert_true(bosun_crypto_equal("x", "y", 0));
    assert_true(bosun_crypto_streq("secret", "secret"));
    assert_false(bosun_crypto_streq("secret", "secreT"));
    assert_false(bosun_crypto_streq("secret", "secret2"));
    assert_false(bosun_crypto_streq("", "a"));
    assert_true(bosun_crypto_streq("", ""));
    assert_false(bosun_crypto_streq(NULL, "a"));
    assert_false(bosun_crypto_streq("a", NULL));
}

/* RFC 4648 §10, unpadded, and the two characters that differ from base64. */
static void test_base64url(void **state)
{
    static const char *const v[][2] = {
        {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
    char out[16];
    unsigned char back[16];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = strlen(v[i][0]);
        assert_int_equal(bosun_base64url_encode(v[i][0], n, out, sizeof out), strlen(v[i][1]));
        assert_string_equal(out, v[i][1]);
        assert_int_equal(bosun_base64url_decode(v[i][1], strlen(v[i][1]), back, sizeof back),
                         (long)n);
        assert_memory_equal(back, v[i][0], n);
    }
    /* Too small, padding, the wrong alphabet, an impossible length, and a
     * non-canonical last character ("Zh" would also decode to "f"). */
    assert_int_equal(bosun_base64url_encode("foo", 3, out, 4), 0);
    assert_int_equal(bosun_base64url_decode("Zm9v", 4, back, 2), -1);
    assert_int_equal(bosun_base64url_decode("Zg==", 4, back, sizeof back), -1);
    assert_int_equal(bosun_base64url_decode("+/8", 3, back, sizeof back), -1);
    assert_int_equal(bosun_base64url_decode("Zm9vY", 5, back, sizeof back), -1);
    assert_int_equal(bosun_base64url_decode("Zh", 2, back, sizeof back), -1);
}

static void test_token(void **state)
{
    char a[64], b[64];
    assert_int_equal(bosun_token_new("bsn_adm_", a, sizeof a), 0);
    assert_int_equal(bosun_token_new("bsn_adm_", b, sizeof b), 0);
    assert_int_equal(strlen(a), 8 + BOSUN_TOKEN_CHARS);
    assert_memory_equal(a, "bsn_adm_", 8);
    assert_string_not_equal(a, b);
    unsigned char raw[32];
    assert_int_equal(bosun_base64url_decode(a + 8, BOSUN_TOKEN_CHARS, raw, sizeof raw), 32);
    assert_int_equal(bosun_token_new("bsn_adm_", a, 8 + BOSUN_TOKEN_CHARS), -1);
    assert_int_equal(bosun_token_new("", a, sizeof a), -1);
    assert_int_equal(bosun_token_new(NULL, a, sizeof a), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors), cmocka_unit_test(test_sha256_boundaries),
        cmocka_unit_test(test_hmac_vectors),   cmocka_unit_test(test_hmac_empty),
        cmocka_unit_test(test_equal),          cmocka_unit_test(test_base64url),
        cmocka_unit_test(test_token),
    };
    return RUN_TESTS(tests);
}
