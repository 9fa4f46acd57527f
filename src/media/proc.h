/*
 * proc.h - runs a helper program (ffmpeg, espeak-ng) as a child process with an argument
 * vector, never through a shell, under a deadline. The child gets its own process group, so a
 * run past its deadline is ended with SIGKILL to the whole group (ffmpeg's own children too),
 * and whatever is left in the group when the child ends is killed with it. The child also dies
 * with the thread that started it (PR_SET_PDEATHSIG): a process killed with SIGKILL leaves no
 * helper running. Its standard input is /dev/null; its output is kept (the first bytes of
 * stdout, the last bytes of stderr) for version strings and error reasons.
 *
 * Threads: any thread; nothing is shared between calls. The last run's end (proc_last_end)
 * and the descriptor children inherit (proc_inherit) are the calling thread's own. Waiting
 * uses a pidfd (Linux 5.3+) polled together with the output pipes, so no call sleeps.
 */
#ifndef NEWSROOM_PROC_H
#define NEWSROOM_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a run ended, as the caller should take it. */
enum proc_end {
    PROC_END_OK,     /* exited 0 */
    PROC_END_FAILED, /* exited non-zero, its stderr naming no fault of the machine */
    /* The machine's fault, not the input's: the program could not be started (missing, not
     * executable, no processes or memory left), was killed by a signal that was not our
     * deadline's (the OOM killer, SIGXFSZ, a crash), or exited non-zero with its stderr naming
     * one (proc_env_text: no space, quota, read-only, permission, I/O error, file too big). */
    PROC_END_ENV,
    PROC_END_TIMEOUT, /* killed at its deadline */
};

struct proc_result {
    int status;     /* exit status, or 128 + signal; -1 when it never ran */
    bool timed_out; /* killed at the deadline */
    enum proc_end end;
    char *out; /* the first PROC_OUT_MAX bytes of stdout, NUL-terminated; owned */
    char *err; /* the last PROC_OUT_MAX bytes of stderr, NUL-terminated; owned */
};

#define PROC_OUT_MAX 8192

/* Runs argv[0] (a full path, see paths_which()) with argv in folder cwd (NULL: the current
 * one) until it exits or deadline_ms (monotonic, clock_mono_ms(); 0: none) passes. Returns 0
 * when it ran and exited 0; otherwise -1 with *cause (the program's name and why: exit status
 * with the line of its stderr that names a fault of the machine, else its last line; killed
 * at the deadline; could not start). *r is filled either way (r may be NULL); free it with
 * proc_result_clear(). The end is also kept for proc_last_end(). */
int proc_run(const char *const *argv, const char *cwd, int64_t deadline_ms, struct proc_result *r,
             char **cause);
void proc_result_clear(struct proc_result *r);

/* How the calling thread's last proc_run() ended (PROC_END_OK before any). */
enum proc_end proc_last_end(void);

/* Every child the calling thread starts from now on inherits fd (open in the child under its
 * own number), until proc_inherit(-1). A lock held through fd is then held until the caller
 * and every such child have let go of it: video.c holds its render folder's lock this way. */
void proc_inherit(int fd);

/* Whether text (a program's stderr, a cause) names a fault of the machine: no space left,
 * quota exceeded, read-only file system, permission denied, I/O error, file too large, too
 * many open files, out of memory. */
bool proc_env_text(const char *text);

/* Appends the arguments that follow, ended by NULL, to the argument vector argv at *n and
 * keeps it NULL-terminated; argv has room for max entries (more is the caller's bug: it
 * aborts). */
void proc_args_add(const char **argv, int *n, int max, ...);

/* The first line of `program arg` (e.g. "-version") as a new string, or NULL. */
char *proc_first_line(const char *program, const char *arg);

#endif
