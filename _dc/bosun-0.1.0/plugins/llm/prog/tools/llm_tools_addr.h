/* Which addresses the fetch tool may connect to by default: public ones.
 * Checked on the address curl is about to connect to (after DNS, after
 * any redirect), so a name that resolves to 127.0.0.1 is caught. */
#ifndef BOSUN_LLM_TOOLS_ADDR_H
#define BOSUN_LLM_TOOLS_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* NULL when sa is a public unicast address, else what it is ("loopback",
 * "private", "link-local", "carrier-grade NAT", ...).  Families other than
 * IPv4 and IPv6 are "not an IP address". */
const char *lta_addr_private(const struct sockaddr *sa, socklen_t len);

#endif
