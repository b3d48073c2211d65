/* The process's descriptor table, grown once at start-up. */
#ifndef BOSUN_FDTABLE_H
#define BOSUN_FDTABLE_H

#include <stddef.h>

#include <bosun/cfg.h>

/* Descriptors the configuration's runs are expected to hold at once: a
 * few for the daemon, its sockets and plugins, and FDTABLE_PER_RUN for
 * each instance of each agent. */
#define FDTABLE_PER_RUN 4
size_t fdtable_wanted(const cfg_node *root);

/* Grows the descriptor table to hold at least n descriptors (at most the
 * soft RLIMIT_NOFILE), by asking for a descriptor at n - 1 and closing it.
 * Call it before any thread starts.  Best effort: a failure changes
 * nothing but the speed. */
void fdtable_reserve(size_t n);

#endif
