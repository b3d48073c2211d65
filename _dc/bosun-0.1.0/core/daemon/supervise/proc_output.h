/* Capturing a child's stdout and stderr: non-blocking reads from pipes,
 * split into lines (an over-long line is cut into pieces marked as cut),
 * handed to a callback, and appended to a per-run log file with size-based
 * rotation.  Nothing is dropped: when the consumer falls behind the reader
 * is paused and the pipe fills, which blocks the writer (back-pressure). */
#ifndef BOSUN_PROC_OUTPUT_H
#define BOSUN_PROC_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <bosun/agent.h>
#include <bosun/lines.h>

struct ev_loop;

/* One line or piece of a line, as <bosun/lines.h> frames it (cut, and
 * how it ended, so that the bytes can be given back exactly). */
typedef void (*output_line_cb)(void *arg, enum bosun_stream stream, const bosun_line *line);

typedef struct output_log {
    int fd;
    char *dir;  /* a directory of the daemon's (see fsafe.h) */
    char *name; /* the file in it */
    char *path; /* both, for messages */
    unsigned long long size;
    unsigned long long max_bytes;
    unsigned keep;
    unsigned long failed; /* writes failed in a row */
    double failed_logged; /* monotonic time of the last line about it */
} output_log;

typedef struct output_capture output_capture;

/* Creates both pipes.  *child_out and *child_err receive the write ends for
 * the child (the caller closes them after spawning).  Returns NULL with
 * errno on failure. */
/* flush(arg), when not NULL, runs after the lines of each read are handed
 * over (to write them to the log file in one go). */
output_capture *output_new(struct ev_loop *loop, size_t line_max, output_line_cb cb,
                           void (*flush)(void *arg), void *arg, int *child_out, int *child_err);
void output_start(output_capture *oc);
/* Reads what is already in the pipes without waiting (the child has
 * exited), flushes partial lines and closes the pipes. */
void output_finish(output_capture *oc);
void output_free(output_capture *oc);
/* Pauses/resumes reading (back-pressure). */
void output_pause(output_capture *oc);
void output_resume(output_capture *oc);

/* Log files: dir/name, dir/name.1 … dir/name.<keep>, mode 0640, opened
 * and rotated relative to dir without following links (fsafe.h).  Returns
 * 0 or -1 with errno. */
int output_log_open(output_log *log, const char *dir, const char *name,
                    unsigned long long max_bytes, unsigned keep);
/* Appends bytes, rotating first when they would pass max_bytes. */
void output_log_write(output_log *log, const char *data, size_t len);
void output_log_close(output_log *log);

#endif
