/* What git does around one run: its worktree (made before the first
 * process, kept or removed at the end per `keep`) and its change snapshots
 * (git_changes.h).  A git_run outlives its run: at the end it takes the
 * last snapshot and settles the worktree on its own, in a list the
 * supervisor waits for at shutdown.
 *
 * While a run's worktree exists and the run has not settled it, a marker
 * <state_dir>/worktrees/<run>.json says where it is and how to keep it, so
 * that a bosund started after a crash settles what the dead one left. */
#ifndef BOSUN_GIT_RUN_H
#define BOSUN_GIT_RUN_H

#include <stdbool.h>

#include <bosun/bus.h>

#include "git_cmd.h"
#include "git_config.h"

struct ev_loop;

typedef struct git_run git_run;

/* The runs being settled. */
typedef struct git_run_list {
    git_run *head;
    void (*settled)(void *arg); /* one left the list */
    void *arg;
} git_run_list;

typedef struct git_run_spec {
    struct ev_loop *loop;
    bus_t *bus;
    const char *state_dir;
    const char *machine, *agent, *run, *task; /* task may be NULL */
    unsigned instance;
    const worktree_config *wt;     /* NULL: no worktree */
    const changes_config *changes; /* NULL or disabled: no snapshots */
    const git_as *as;              /* NULL: as bosund */
} git_run_spec;

git_run *git_run_new(const git_run_spec *s);
/* Makes the worktree; ready(arg, NULL) once it is there (at once without a
 * worktree: the call is then synchronous), ready(arg, reason) when it
 * cannot be made. */
void git_run_prepare(git_run *g, void (*ready)(void *arg, const char *err), void *arg);
bool git_run_preparing(const git_run *g);
/* The worktree, once made; NULL without one. */
const char *git_run_workdir(const git_run *g);
/* A process of the run started in dir (NULL: bosund's own): snapshots of
 * dir begin, the first time. */
void git_run_watch(git_run *g, const char *dir);
/* The run resumed as run (a new id) goes on in the same worktree: its
 * marker moves to the new id; snapshots start anew with its process. */
void git_run_handover(git_run *g, const char *run);
/* The run is over: g joins list and leaves it (freed) once settled. */
void git_run_end(git_run *g, git_run_list *list);
/* Stops everything at once (shutdown); a worktree's marker stays. */
void git_run_free(git_run *g);
void git_run_list_free(git_run_list *list);

/* Start-up: settles the worktrees of runs that are not running any more,
 * each into list.  live(arg, run) gives a run that goes on (adopted, or
 * waiting for an answer) its git_run slot, which gets the worktree back;
 * NULL for one that is over. */
void git_run_recover(struct ev_loop *loop, bus_t *bus, const char *state_dir, const char *machine,
                     git_run **(*live)(void *arg, const char *run), void *arg, git_run_list *list);

#endif
