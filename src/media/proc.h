/*
 * proc.h - runs a helper program (ffmpeg, espeak-ng) as a child process with an argument
 * vector, never through a shell, under a deadline. The child gets its own process group, so a
 * run past its deadline is ended with SIGKILL to the whole group (ffmpeg's own children too).
 * Its standard input is /dev/null; its output is kept (the first bytes of stdout, the last
 * bytes of stderr) for version strings and error reasons.
 *
 * Threads: any thread; nothing is shared between calls. Waiting uses a pidfd (Linux 5.3+)
 * polled together with the output pipes, so no call sleeps.
 */
#ifndef NEWSROOM_PROC_H
#define NEWSROOM_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proc_result {
    int status;     /* exit status, or 128 + signal; -1 when it never ran */
    bool timed_out; /* killed at the deadline */
    char *out;      /* the first PROC_OUT_MAX bytes of stdout, NUL-terminated; owned */
    char *err;      /* the last PROC_OUT_MAX bytes of stderr, NUL-terminated; owned */
};

#define PROC_OUT_MAX 8192

/* Runs argv[0] (a full path, see paths_which()) with argv in folder cwd (NULL: the current
 * one) until it exits or deadline_ms (monotonic, clock_mono_ms(); 0: none) passes. Returns 0
 * when it ran and exited 0; otherwise -1 with *cause (the program's name and why: exit status
 * with the last line of its stderr, killed at the deadline, could not start). *r is filled
 * either way (r may be NULL); free it with proc_result_clear(). */
int proc_run(const char *const *argv, const char *cwd, int64_t deadline_ms, struct proc_result *r,
             char **cause);
void proc_result_clear(struct proc_result *r);

/* The first line of `program arg` (e.g. "-version") as a new string, or NULL. */
char *proc_first_line(const char *program, const char *arg);

#endif
