/* bosun — what libbosun exports.
 *
 * libbosun is built with -fvisibility=hidden: only declarations marked
 * BOSUN_API are part of its ABI, so the core's internal helpers never
 * become something a plugin can link against (tests/integration/abi.sh
 * checks the exported set against these headers). */
#ifndef BOSUN_API_H
#define BOSUN_API_H

#define BOSUN_API __attribute__((visibility("default")))

#endif
