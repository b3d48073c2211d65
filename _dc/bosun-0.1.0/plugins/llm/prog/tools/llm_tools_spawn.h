/* Starting bash's command: /bin/sh -c in the workspace, in a session and
 * process group of its own, stdout and stderr on one pipe, stdin from
 * /dev/null, a filtered environment; under `sandbox: bwrap` inside
 * bubblewrap (read-only system, only the workspace writable, a private
 * /tmp, new namespaces, no network unless bash.network). */
#ifndef BOSUN_LLM_TOOLS_SPAWN_H
#define BOSUN_LLM_TOOLS_SPAWN_H

#include "llm_tools_int.h"

#include <sys/types.h>

/* Starts command; *out_fd is the non-blocking read end of its output.
 * Returns the pid (also the process group id), or -1 with err. */
pid_t lt_spawn(const llm_tools *t, const char *command, int *out_fd, char *err, size_t err_size);

/* Runs the sandbox once with `true`, blocking (at creation, before any
 * call): 0 when bwrap can make it here, else -1 with err carrying bwrap's
 * reason (no user namespaces, a systemd unit's RestrictNamespaces=...). */
int lt_bwrap_probe(const llm_tools *t, char *err, size_t err_size);

#endif
