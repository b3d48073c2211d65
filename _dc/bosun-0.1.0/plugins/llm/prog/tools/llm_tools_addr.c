/* Address classes for the fetch tool's SSRF check (see llm_tools_addr.h).
 * IPv6 forms that carry an IPv4 address (mapped ::ffff:a.b.c.d,
 * compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by
 * that address, so a private IPv4 address cannot hide inside one. */
#include "llm_tools_addr.h"

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

struct lta_net4 {
    uint32_t net;
    int bits;
    const char *what;
};

static const struct lta_net4 lta_v4[] = {
    {0x00000000, 8, "\"this network\" (0.0.0.0/8)"},
    {0x0A000000, 8, "private (10.0.0.0/8)"},
    {0x64400000, 10, "carrier-grade NAT (100.64.0.0/10)"},
    {0x7F000000, 8, "loopback"},
    {0xA9FE0000, 16, "link-local"},
    {0xAC100000, 12, "private (172.16.0.0/12)"},
    {0xC0000000, 24, "IETF protocol assignments (192.0.0.0/24)"},
    {0xC0A80000, 16, "private (192.168.0.0/16)"},
    {0xC6120000, 15, "benchmarking (198.18.0.0/15)"},
    {0xE0000000, 4, "multicast"},
    {0xF0000000, 4, "reserved (240.0.0.0/4)"},
};

static const char *lta_v4_class(uint32_t a)
{
    for (size_t i = 0; i < sizeof lta_v4 / sizeof *lta_v4; i++) {
        uint32_t mask = 0xFFFFFFFFu << (32 - lta_v4[i].bits);
        if ((a & mask) == lta_v4[i].net)
            return lta_v4[i].what;
    }
    return NULL;
}

static uint32_t lta_v4_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *lta_v6_class(const uint8_t *a)
{
    static const uint8_t zero[16], mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF},
                                   nat64[12] = {0x00, 0x64, 0xFF, 0x9B};
    if (memcmp(a, zero, 16) == 0)
        return "unspecified (::)";
    if (memcmp(a, zero, 15) == 0 && a[15] == 1)
        return "loopback";
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 || memcmp(a, nat64, 12) == 0)
        return lta_v4_class(lta_v4_at(a + 12));
    if (a[0] == 0x20 && a[1] == 0x02)
        return lta_v4_class(lta_v4_at(a + 2));
    if ((a[0] & 0xFE) == 0xFC)
        return "unique local (fc00::/7)";
    if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80)
        return "link-local";
    if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0)
        return "site-local (fec0::/10)";
    if (a[0] == 0xFF)
        return "multicast";
    return NULL;
}

const char *lta_addr_private(const struct sockaddr *sa, socklen_t len)
{
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return lta_v4_class(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return lta_v6_class(in6->sin6_addr.s6_addr);
    }
    return "not an IP address";
}
