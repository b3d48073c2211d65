/* Replays one fuzz target's seed corpus in `make check`.
 *
 * Linked with one target's source (fuzz_*.c) and the code it fuzzes, built
 * by the normal compiler with the build's own flags, so the corpus runs in
 * every build, the sanitizer build included, and not only in a clang
 * --enable-fuzzing one.  Each file of tests/fuzz/corpus/FUZZ_CORPUS is fed
 * to LLVMFuzzerTestOneInput() once, in name order, as one TAP test: a
 * target's own check aborts the program, which the TAP driver reports.
 *
 *   replay_NAME [DIR]     DIR defaults to $top_srcdir/tests/fuzz/corpus/NAME
 */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_CORPUS
#error "FUZZ_CORPUS names the corpus directory"
#endif

/* libFuzzer's own default -max_len is 4096; seeds stay far below this. */
#define REPLAY_MAX_BYTES (16u << 20)
#define REPLAY_MAX_FILES 10000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of dir, sorted; NULL when it cannot be read. */
static char **replay_list(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = calloc(REPLAY_MAX_FILES, sizeof *names);
    size_t n = 0;
    struct dirent *e;
    while (names && n < REPLAY_MAX_FILES && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        names[n] = strdup(e->d_name);
        if (!names[n])
            break;
        n++;
    }
    closedir(d);
    if (names)
        qsort(names, n, sizeof *names, replay_by_name);
    *count = n;
    return names;
}

/* Reads path whole into a buffer of exactly its size (so that ASan sees any
 * read past the input's end); -1 with errno set on failure. */
static int replay_read(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > REPLAY_MAX_BYTES) {
        fclose(f);
        errno = EFBIG;
        return -1;
    }
    *size = (size_t)st.st_size;
    *data = malloc(*size ? *size : 1);
    size_t got = *data ? fread(*data, 1, *size, f) : 0;
    fclose(f);
    if (!*data || got != *size) {
        free(*data);
        errno = EIO;
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char dir[4096];
    const char *top = getenv("top_srcdir");
    if (argc > 1)
        snprintf(dir, sizeof dir, "%s", argv[1]);
    else
        snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", top ? top : ".", FUZZ_CORPUS);
    size_t n = 0;
    char **names = replay_list(dir, &n);
    if (!names || n == 0) {
        printf("1..1\nnot ok 1 - corpus %s has inputs\n", dir);
        return 1;
    }
    printf("1..%zu\n", n);
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        uint8_t *data = NULL;
        size_t size = 0;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (replay_read(path, &data, &size) != 0) {
            printf("not ok %zu - %s: %s\n", i + 1, names[i], strerror(errno));
            failed = 1;
        } else {
            fflush(stdout); /* what was said before a crash stays said */
            LLVMFuzzerTestOneInput(data, size);
            printf("ok %zu - %s/%s (%zu bytes)\n", i + 1, FUZZ_CORPUS, names[i], size);
            free(data);
        }
        free(names[i]);
    }
    free(names);
    return failed;
}
