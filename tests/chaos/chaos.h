/*
 * chaos.h - the chaos tests' harness (tests/chaos/), also behind `newsroom bench recovery`:
 * real `newsroom swarm` processes on a private redis-server with an append-only file in a
 * temporary folder, started, killed with real signals and restarted; stories ingested through
 * the binary; Redis itself killed, restarted and stopped; and the figures of a run read back
 * from what the swarm recorded in Redis:
 *
 *   stories in, and out by final status; lost (not terminal at the end); published twice (two
 *   moves to PUBLISHED in the events stream); paid calls (the usage stream's records with a
 *   cost, cache hits left out) against the checkpoints each story carries (its analysis, the
 *   votes of its consensus, its script's draft, revisions and final, its QA verdicts): a paid
 *   call beyond them is repeated, unless it is a result lost to a kill (a call made by an agent
 *   of a process SIGKILLed after it, of which the story shows no trace: no vote, no change by
 *   that agent after the call: the kill came between the payment and the checkpoint, a window
 *   only one atomic step of the usage and the checkpoint would close); and, for every story
 *   taken back from a killed process, the seconds from the kill to the story being claimed
 *   again (median, p99, max).
 *
 * Plain C (no cmocka), so the benchmark shares it: functions return 0 or -1 with *cause.
 * Single-threaded; every swarm process dies with the harness (PR_SET_PDEATHSIG).
 */
#ifndef NEWSROOM_CHAOS_H
#define NEWSROOM_CHAOS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CHAOS_SLOTS 8

struct chaos;
struct rlink;

/* A harness in a new temporary folder: redis-server with AOF (appendfsync always: an
 * acknowledged write survives SIGKILL) on a socket there, and a configuration file for the
 * swarms: the sim provider, no video unless conf says otherwise, then conf (INI text, may be
 * NULL) appended. binary is the newsroom binary (borrowed). Free with chaos_free(). */
struct chaos *chaos_new(const char *binary, const char *conf, char **cause);
/* Kills every swarm process still running, stops Redis, removes the folder (kept, and said so
 * on stderr, when keep is set: to look at the logs of a failed run). NULL is a no-op. */
void chaos_free(struct chaos *c, bool keep);
const char *chaos_dir(const struct chaos *c);
/* The publish folder every swarm shares, and the data directory of slot i. */
const char *chaos_publish_dir(const struct chaos *c);
void chaos_data_dir(const struct chaos *c, int slot, char *buf, size_t size);
/* The harness's own link to Redis (reconnects by itself after a restart). */
struct rlink *chaos_link(struct chaos *c);

/* Writes n wire stories of seed with `newsroom wire` and ingests them with `newsroom ctl
 * ingest`. Returns the stories accepted (the wire's duplicates are refused), or -1. */
long chaos_ingest(struct chaos *c, long n, uint64_t seed, char **cause);
/* Runs the binary with args (NULL-terminated) to its end within secs; its exit code, or -1
 * (*cause) when it could not run or took longer (then it is killed). Its output is kept in the
 * folder as NAME.out / NAME.err. */
int chaos_run(struct chaos *c, const char *name, int secs, const char *const *args, char **cause);

/* chaos_ingest() of n stories of seed, then chaos_start() of `newsroom ARGS` in slots
 * 0..swarms-1: the beginning of every chaos run. Returns the stories accepted, or -1. */
long chaos_begin(struct chaos *c, long n, uint64_t seed, int swarms, const char *const *args,
                 char **cause);
/* Calls fn for every story on the blackboard (the item is borrowed for the call). 0, or -1 with
 * *cause. */
struct bb_item;
int chaos_each_story(struct chaos *c, void (*fn)(const struct bb_item *it, void *arg), void *arg,
                     char **cause);

/* Starts `newsroom ARGS` (NULL-terminated) in slot i (0..CHAOS_SLOTS-1) with its own data
 * directory and the shared publish folder; what runs there after chaos_restart() is the same
 * command. rlimit_fsize > 0 limits the size of the files it writes (SIGXFSZ ignored). */
int chaos_start(struct chaos *c, int slot, const char *const *args, long rlimit_fsize,
                char **cause);
/* Sends sig to slot i's process; a SIGKILL is recorded (pid, time) for the figures and the
 * process collected. 0, or -1 when nothing runs there. */
int chaos_signal(struct chaos *c, int slot, int sig);
/* Starts slot i's command again (it must not be running). */
int chaos_restart(struct chaos *c, int slot, char **cause);
/* Whether slot i's process runs; collects it when it has exited (*code: its exit code, or
 * 128 + signal; may be NULL). */
bool chaos_running(struct chaos *c, int slot, int *code);
/* Waits up to secs for every started process to exit by itself. 0 when all did with exit 0;
 * -1 with *cause naming one that did not (it is then killed). */
int chaos_wait_all(struct chaos *c, int secs, char **cause);
pid_t chaos_pid(const struct chaos *c, int slot);

/* Redis: a signal to the server (SIGKILL, SIGSTOP, SIGCONT) and a start after a SIGKILL (on the
 * same files: its append-only file is replayed). */
int chaos_redis_signal(struct chaos *c, int sig);
int chaos_redis_start(struct chaos *c, char **cause);

/* Stories not yet terminal, or -1 when Redis does not answer. */
long chaos_busy(struct chaos *c);
/* The swarm's spend today (global day window, micro-dollars) and what operators granted on
 * top of the global limit for today. -1 when Redis does not answer. */
int chaos_spend(struct chaos *c, int64_t *spent, int64_t *granted);

struct chaos_figures {
    long in;                          /* stories ingested */
    long published, archived, failed; /* out, by final status */
    long lost;                        /* not terminal at the end */
    long published_twice;             /* stories moved to PUBLISHED more than once */
    long paid_calls;                  /* usage records with a cost */
    long repeated;                    /* paid calls beyond the checkpoints, not lost to a kill */
    long lost_to_kills;               /* paid results lost between payment and checkpoint */
    long kills;                       /* SIGKILLs of swarm processes */
    long reclaimed;                   /* stories taken back from killed processes */
    long never_resumed;               /* of those, never claimed again */
    double resume_p50_s, resume_p99_s, resume_max_s; /* kill to claimed again; -1: none */
    long archived_quorum;                            /* archived for "quorum not reached" */
    long parked;       /* stories that waited (parked) at least once */
    long takings_back; /* every claim taken back, whoever held it */
};

/* Reads the figures of the run from Redis (in: the count chaos_ingest() returned, or 0 to
 * count every story). 0, or -1 with *cause. */
int chaos_figures(struct chaos *c, long in, struct chaos_figures *f, char **cause);
/* Prints them, one line per figure, each prefixed with "chaos NAME: ". */
void chaos_print(FILE *out, const char *name, const struct chaos_figures *f);

#endif
