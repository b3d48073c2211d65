/* Change snapshots of a run whose workdir is a git work tree: what the
 * agent changed since the run began (paths with their status, numstat
 * counts, the diff, cut at a size), published as evt.run.AGENT.RUN.changes
 * when files change (inotify, with a debounce; polling when inotify cannot
 * watch the tree) and at the end.  A snapshot equal to the one before is
 * not published. */
#ifndef BOSUN_GIT_CHANGES_H
#define BOSUN_GIT_CHANGES_H

#include <jansson.h>

#include <bosun/bus.h>

#include "git_cmd.h"
#include "git_config.h"

struct ev_loop;

typedef struct git_changes git_changes;

/* Starts looking at dir: nothing is published when it is not in a git
 * work tree.  ids ({"run","agent","task","machine"}) go into every event;
 * subject is the events' subject.  The changes are those since base (a
 * commit), or since HEAD at this call when base is NULL. */
git_changes *git_changes_new(struct ev_loop *loop, bus_t *bus, const char *dir, const char *base,
                             const changes_config *cfg, const git_as *as, const char *subject,
                             const json_t *ids);
/* Takes the last snapshot (after the one under way, if any) and calls
 * done; watching has stopped.  done may free c. */
void git_changes_final(git_changes *c, void (*done)(void *arg), void *arg);
void git_changes_free(git_changes *c);

#endif
