/* Parsers of what git prints for a change snapshot (git_changes.c):
 * `git status --porcelain=v2 -z` and `git diff --numstat -z`.  Both are
 * outside input (the work tree is the agent's): every record is checked,
 * the number of records is bounded, and a path that is not UTF-8 is kept
 * with its bytes past ASCII shown as '?' so that an event stays JSON. */
#ifndef BOSUN_GIT_STATUS_H
#define BOSUN_GIT_STATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Longest path taken (PATH_MAX); a longer one makes the output invalid. */
#define GIT_PATH_MAX 4096

/* [{"path", "status": "XY" (porcelain v2's two letters, "??" untracked,
 * "!!" ignored), "orig"?: the source of a rename or copy}], at most max
 * entries (*cut set when there were more).  NULL, with a reason in err,
 * when the text is not porcelain v2. */
json_t *git_status_parse(const char *buf, size_t len, size_t max, bool *cut, char *err,
                         size_t err_size);

/* [{"path", "added", "deleted" (null for a binary file), "orig"?}] from
 * `git diff --numstat -z`, at most max entries.  NULL with a reason when
 * the text is not numstat. */
json_t *git_numstat_parse(const char *buf, size_t len, size_t max, bool *cut, char *err,
                          size_t err_size);

/* A JSON string of n bytes: as is when they are UTF-8, else with every
 * byte that is not part of a well-formed sequence replaced by '?'. */
json_t *git_path_json(const char *s, size_t n);

#endif
