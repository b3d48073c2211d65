/* bosun — writing TOML for the CLIs configured in it (Codex's -c
 * overrides, Gemini's policy files). */
#ifndef BOSUN_TOML_H
#define BOSUN_TOML_H

#include <bosun/api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* s as a TOML basic string, quotes included ('"' and '\\' escaped,
 * control bytes as \uXXXX); malloc'ed, NULL when out of memory. */
BOSUN_API char *bosun_toml_string(const char *s);

#ifdef __cplusplus
}
#endif
#endif
