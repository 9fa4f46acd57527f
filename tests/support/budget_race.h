/*
 * budget_race.h - the reserve/commit loop of the budget race test, shared by the test's
 * threads (test_budget.c) and the second process (budget_racer.c), and the link both open to
 * the shared test Redis (database BUDGET_RACE_DB). Each caller uses its own link.
 */
#ifndef NEWSROOM_BUDGET_RACE_H
#define NEWSROOM_BUDGET_RACE_H

#include "cost/budget.h"

#include <stdint.h>

#define BUDGET_RACE_DB 7

struct rlink;

struct race_result {
    int64_t committed; /* micro-dollars committed by this caller */
    long ok, refused, released, commits, alerts;
};

/* A link to the shared test Redis (NEWSROOM_TEST_REDIS_SOCKET and _PASSWORD), database 7.
 * NULL when the variables are missing. */
struct rlink *budget_race_link(const char *name);

/* iters rounds for agent at now_ms: reserve 1 to 50 µ$; a tenth released, the rest committed
 * at between half and all of the reservation. Returns 0, or -1 with *cause. */
int budget_race_run(struct rlink *l, const struct budget_options *o, const char *agent, int iters,
                    unsigned seed, int64_t now_ms, struct race_result *out, char **cause);

#endif
