/* Paths of files in an llm run's workspace, as the store records them and
 * the daemon writes them: relative, '/'-separated, each segment a plain
 * name.  One check, shared by the sqlite store (cmd.llm.files.*), the
 * daemon's human edits and their fuzz target, so a path the store keeps is
 * always one the daemon could write below the workspace. */
#ifndef BOSUN_LLM_PATH_H
#define BOSUN_LLM_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Longest path, in bytes, and longest segment (NAME_MAX). */
#define LLM_PATH_MAX    1024
#define LLM_SEGMENT_MAX 255
/* Largest file content one version holds, in bytes. */
#define LLM_FILE_MAX (4u * 1024 * 1024)

/* Whether the n bytes at path (no NUL among them) are such a path: 1 to
 * LLM_PATH_MAX bytes of UTF-8 without control characters, not starting or
 * ending with '/', no empty, "." or ".." segment, no segment longer than
 * LLM_SEGMENT_MAX.  On false, err says what was wrong. */
bool llm_path_check(const char *path, size_t n, char *err, size_t err_size);

#endif
