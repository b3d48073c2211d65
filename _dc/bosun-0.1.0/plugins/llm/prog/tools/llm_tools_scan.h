/* The workspace index behind "files changed by bash are picked up": a map
 * of every regular file's path to its identity (device, inode, size,
 * mtime, ctime) and content hash.  A rescan stats every file and reads
 * only those whose identity changed, so a scan after a command that
 * touched nothing costs one fstatat per file.
 *
 * Bounded: the walk stops at max_files files or max_bytes of content
 * (the rescan says so, and reports no deletes then, since what it did not
 * reach may still be there); symlinks are not followed; ".git"
 * directories are not entered (their objects are the repository's, not
 * files of the work); names that are not UTF-8 text are skipped and
 * counted (the history names paths in JSON). */
#ifndef BOSUN_LLM_TOOLS_SCAN_H
#define BOSUN_LLM_TOOLS_SCAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct lt_scan;

typedef void (*lts_change_fn)(void *arg, const char *path, const char *op, const void *content,
                              size_t len);

/* file_max: a larger file is not recorded (one record of the history
 * must fit a control-socket line), only counted as "too_large". */
struct lt_scan *lts_new(int ws_fd, size_t max_files, size_t max_bytes, size_t file_max);
void lts_free(struct lt_scan *s);

/* Indexes the workspace as it is, reporting nothing. */
void lts_baseline(struct lt_scan *s);

/* A change a tool made itself (content of len bytes, or deleted), so the
 * next rescan does not report it again. */
void lts_note(struct lt_scan *s, const char *path, const void *content, size_t len, bool deleted);

/* Rescans, calling changed for each file written ("write", with its
 * content) or gone ("delete", content NULL) since the index was made.
 * Returns {changed, files, bytes} plus "limit": "why" when a bound was
 * hit, "skipped_names": N and "too_large": N (new ref, NULL without
 * memory). */
json_t *lts_rescan(struct lt_scan *s, lts_change_fn changed, void *arg);

#endif
