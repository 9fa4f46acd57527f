/*
 * early_stop.h - stopping work on an item early by a model's confidence: below the low
 * threshold it stops as low quality (not worth more calls), above the high one as good enough
 * (more calls would not change the outcome). Each stop is recorded with its reason and
 * confidence on EARLY_STOP_STREAM_KEY and counted, with the calls it saved and their
 * estimated cost, in EARLY_STOP_COUNTS_KEY, by one script (cost_stop.lua).
 *
 * Threads: early_stop_decide() is pure; the Redis functions take the caller's own link.
 */
#ifndef NEWSROOM_EARLY_STOP_H
#define NEWSROOM_EARLY_STOP_H

#include "cost/usage.h"

#include <stdint.h>

struct config;
struct rlink;

#define EARLY_STOP_STREAM_KEY COST_PREFIX "stops"
#define EARLY_STOP_COUNTS_KEY COST_PREFIX "stop_counts"
#define EARLY_STOP_MAXLEN_STR "10000"

struct early_stop_config {
    double low;  /* stop below this (default 0.3) */
    double high; /* stop above this (default 0.9) */
};
/* From [cost] early_stop_low and early_stop_high. */
void early_stop_config_from(struct early_stop_config *e, const struct config *c);

enum early_stop_decision { EARLY_STOP_CONTINUE, EARLY_STOP_LOW_QUALITY, EARLY_STOP_GOOD_ENOUGH };

/* The decision for a confidence; an unknown one (below 0, or NaN) never stops. */
enum early_stop_decision early_stop_decide(const struct early_stop_config *e, double confidence);
/* "continue", "low_quality", "good_enough". */
const char *early_stop_reason(enum early_stop_decision d);

/* Records a stop (d is not EARLY_STOP_CONTINUE) of agent's task at confidence, saving
 * calls_saved calls of est_cost_each micro-dollars each. Returns 0, or -1 with *cause. */
int early_stop_record(struct rlink *l, const char *agent, const char *task,
                      enum early_stop_decision d, double confidence, int calls_saved,
                      int64_t est_cost_each, char **cause);

struct early_stop_stats {
    int64_t low_quality, good_enough, calls_saved, saved; /* saved: micro-dollars */
};
int early_stop_stats(struct rlink *l, struct early_stop_stats *out, char **cause);

#endif
