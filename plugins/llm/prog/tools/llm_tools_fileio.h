/* The file operations the file tools share: a checked path, a bounded
 * read of a regular file, and an atomic write.  Each fails with a
 * category and a message for the model. */
#ifndef BOSUN_LLM_TOOLS_FILEIO_H
#define BOSUN_LLM_TOOLS_FILEIO_H

#include "llm_tools_path.h"

#include <stdbool.h>
#include <stddef.h>

struct ltf_error {
    const char *category;
    char message[512];
};

/* The normalised form of the "path" argument in out; allow_root: "." (the
 * workspace itself) is a valid answer. */
int ltf_path(const char *in, bool allow_root, char out[LTP_PATH_MAX], struct ltf_error *e);

/* Opens a regular file of the workspace for reading.  A file with more
 * than one hard link is refused: its other names may be outside the
 * workspace, and reading it would read them. */
int ltf_open_read(int ws, const char *rel, struct ltf_error *e);

/* The whole of a regular file of at most max bytes, malloc'ed and
 * NUL-terminated (the NUL not counted in *len). */
char *ltf_read_all(int ws, const char *rel, size_t max, size_t *len, struct ltf_error *e);

/* Replaces (or creates) rel with len bytes, atomically: a temporary file
 * in the same directory renamed over the name.  A symlink at rel is
 * replaced, never written through; a file with other hard links keeps
 * them on the old content (copy on write: *link_broken is set), so a link
 * to a file outside the workspace never lets a write reach it.  Missing
 * directories are made.  *created says whether rel did not exist.
 * *replaced is an O_PATH descriptor of the regular file the rename
 * replaced (-1 when there was none): while it is open the kernel keeps
 * that inode, so freeing its blocks (on a filesystem mounted with discard,
 * a wait for the device) happens when the caller closes it, not inside
 * the rename. */
/* An O_PATH descriptor of base in dir (-1 on failure): while it is open
 * the kernel keeps the file's inode, and its blocks, even once its name
 * is gone; see lt_hold_until_idle. */
int ltf_inode_ref(int dir, const char *base);

int ltf_write_atomic(int ws, const char *rel, const void *data, size_t len, bool *created,
                     bool *link_broken, int *replaced, struct ltf_error *e);

#endif
