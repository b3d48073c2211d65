/* The fetch tool's URL allowlist.  URLs are compared in curl's normalised
 * form (scheme and host lower-case, default port dropped, path
 * normalised), entries of the list too, and a prefix only matches at a
 * boundary: "https://api.example.com" allows "https://api.example.com/x"
 * but not "https://api.example.com.evil.test/" nor
 * "https://api.example.com@evil.test/". */
#ifndef BOSUN_LLM_TOOLS_URL_H
#define BOSUN_LLM_TOOLS_URL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The normalised form of an http:// or https:// URL without user info,
 * malloc'ed; NULL with err when the URL is not one. */
char *ltu_normalize(const char *url, char *err, size_t err_size);

/* Whether the normalised url starts with one of the prefixes of allow. */
bool ltu_allowed(const json_t *allow, const char *url);

#endif
