/* Workspace paths: every file tool reaches its file through these, so a
 * path the model gives can name only something beneath the workspace.
 *
 * Paths are normalised lexically first (relative only, "." dropped, ".."
 * may not climb above the workspace), then opened with openat2(2) and
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS from the workspace's descriptor:
 * a symlink inside the workspace that stays inside is followed, one that
 * leads out (absolute, or climbing) fails with EXDEV.  Where the kernel has
 * no openat2 (ENOSYS) each component is opened with O_NOFOLLOW instead,
 * which refuses every symlink — stricter, never looser. */
#ifndef BOSUN_LLM_TOOLS_PATH_H
#define BOSUN_LLM_TOOLS_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LTP_PATH_MAX 4096

/* Writes the normalised form of in ("a/b", or "." for the workspace
 * itself) to out (LTP_PATH_MAX bytes).  Returns 0, or with err saying why
 * the path was refused -1 (malformed) or -2 (absolute, or ".." leading
 * out: denied). */
int ltp_normalize(const char *in, char out[LTP_PATH_MAX], char *err, size_t err_size);

/* Opens the normalised path rel beneath root (flags and mode as for
 * openat(2); O_CLOEXEC is added).  Returns the descriptor or -1 with errno
 * (EXDEV or ELOOP: the path leads out of the workspace). */
int ltp_open(int root, const char *rel, int flags, mode_t mode);

/* Opens rel with O_NOFOLLOW on every component: no symlink at all. */
int ltp_open_nofollow(int root, const char *rel, int flags);

/* Opens the directory holding the normalised path rel (not ".") and sets
 * *base to rel's last component.  With create, missing directories on the
 * way are made (0755).  Returns the directory's descriptor or -1 with
 * errno. */
int ltp_open_parent(int root, const char *rel, bool create, const char **base);

/* Tests only: walk component by component as if openat2 were missing. */
void ltp_force_fallback(bool on);

/* A readable reason for errno after ltp_open*, and the result category
 * ("not_found", "denied", "invalid", "runtime") it falls in. */
const char *ltp_strerror(int err, const char **category);

#endif
