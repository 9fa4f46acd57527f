/*
 * retention.h - retention windows, like BullMQ's removeOnComplete and Sidekiq's capped dead
 * set: a story that has stayed in a terminal status (PUBLISHED, ARCHIVED, FAILED) longer than
 * that status's window ([retention] published 30d, archived 7d, failed 30d; 0 keeps them) is
 * deleted with every key of it (retention_sweep.lua: its hash, content-hash entry, section and
 * status index entries and count, stage entry, debate with votes and seats, per-task budget,
 * its place in open budget requests, and the keys of RETENTION_STORY_KEYS); budget requests
 * decided longer than the archived window ago go too; agents dead longer than [retention]
 * dead_agents leave the registry. The events, audit and usage streams are capped by their
 * writers (XADD MAXLEN ~) and are left alone.
 *
 * One pass at a time in the whole swarm: a pass holds nr:retention:lock (SET NX PX with a
 * token); another caller finds it held and does nothing. The archivist runs a pass every
 * [retention] interval (role_archivist.c).
 *
 * Threads: the caller's link (its thread). Errors: 0 / -1 with *cause.
 */
#ifndef NEWSROOM_RETENTION_H
#define NEWSROOM_RETENTION_H

#include "store/keys.h"

#include <stdbool.h>
#include <stdint.h>

struct config;
struct memory;
struct rlink;

#define RETENTION_LOCK_KEY NR_PREFIX "retention:lock"

/* Windows by terminal status, in ms (0: kept for ever). */
enum { RETENTION_PUBLISHED, RETENTION_ARCHIVED, RETENTION_FAILED, RETENTION_STATUSES };

struct retention_policy {
    int64_t window_ms[RETENTION_STATUSES];
    int64_t dead_agents_ms;
    int batch;      /* stories per step (one script call); <= 0: 100 */
    int max_rounds; /* steps per status per pass; <= 0: 20 */
    /* The vector memory whose news_articles records of deleted stories go too (borrowed; NULL:
     * none, as with [memory] backend off). */
    struct memory *mem;
};

/* The [retention] keys of c. */
void retention_policy_from_config(struct retention_policy *p, const struct config *c);

struct retention_report {
    bool ran;                         /* false: another pass held the lock */
    long stories[RETENTION_STATUSES]; /* deleted, by status */
    long requests;                    /* budget requests deleted */
    int agents;                       /* dead agents removed */
};

/* One pass as owner (an agent id, for the lock's value). Returns 0 with *out, or -1 with
 * *cause (the pass stops at the first failure; what it deleted stays deleted). */
int retention_run(struct rlink *l, const struct retention_policy *p, const char *owner,
                  struct retention_report *out, char **cause);

#endif
