/*
 * shared.h - what one process of a swarm starts once for failure recovery, beside its agents:
 * the circuit breakers' board (breaker.h: a sync thread with its own link to Redis) and the
 * usage journal (cost/journal.h, in <data dir>/journal). Both are counted, so every swarm of
 * a process (the control room's, a test's) may start and stop them.
 *
 * Threads: the thread that starts and stops swarms.
 */
#ifndef NEWSROOM_RECOVERY_SHARED_H
#define NEWSROOM_RECOVERY_SHARED_H

struct config;
struct redis_addr;
struct rlink_options;

/* Starts both for c on addr. Returns 0, or -1 with *cause (nothing left started). */
int recovery_shared_start(const struct config *c, const struct redis_addr *addr,
                          const struct rlink_options *lo, char **cause);
/* Undoes one recovery_shared_start(). */
void recovery_shared_stop(void);

#endif
