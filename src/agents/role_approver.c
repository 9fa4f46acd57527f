/*
 * role_approver.c - the approver, for tests and demos: with `newsroom swarm --auto-approve` it
 * approves every story awaiting review (REVIEWING) in the place of a person, once it has waited
 * [review] auto_approve_after (0: at once), highest priority first among the longest waiting. No
 * model is asked. Each approval is a bb_decide() whose audit record, in the same atomic step,
 * names the agent (user = its id, from = "swarm") and says "auto-approved (--auto-approve)";
 * the story's body then gets "review": {decision, reason, by, at, at_ms, auto}. A story an
 * operator decided first is left alone. The role refuses to start unless the swarm runs with
 * --auto-approve (ctx->auto_approve), so an approval by the swarm is never an accident.
 *
 * Threads: runs on its agent's thread only.
 */
#include "agents/agent.h"
#include "agents/review.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "store/audit.h"
#include "store/blackboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APPROVER_REASON "auto-approved (--auto-approve)"
#define APPROVER_SCAN   8

static int approver_init(struct agent_ctx *ctx, void **state, char **cause)
{
    (void)state;
    if (!ctx->auto_approve) {
        *cause = xstrdup("the approver approves every reviewed story in place of a person; it "
                         "runs only in a swarm started with --auto-approve");
        return -1;
    }
    return 0;
}

/* Approves id: 1 done, 0 someone else decided it first, -1 error (*cause). */
static int approve(struct agent_ctx *ctx, const char *id, char **cause)
{
    struct audit_record rec;
    char *why = NULL;
    int64_t now = clock_wall_ms();
    json_t *patch;
    int rc;

    if (audit_record_fill(&rec, "approve", id, APPROVER_REASON, cause) == -1)
        return -1;
    /* The record's fields point into rec: the swarm's agent decided, not the process's user. */
    snprintf(rec.who.user, sizeof rec.who.user, "%.63s", ctx->id);
    snprintf(rec.who.from, sizeof rec.who.from, "swarm");
    patch = review_patch("approve", APPROVER_REASON, ctx->id, now, true);
    rc = bb_decide_with(ctx->bb, id, BB_APPROVED, APPROVER_REASON, patch, rec.argc, rec.argv, &why);
    json_decref(patch);
    audit_record_done(&rec);
    if (rc == BB_REFUSED || rc == BB_NONE) {
        log_debug("%s: %s was decided meanwhile: %s", ctx->id, id, why);
        free(why);
        return 0;
    }
    if (rc != BB_OK) {
        *cause = xasprintf("cannot approve %s: %s", id, why);
        free(why);
        return -1;
    }
    log_info("%s: auto-approved %s", ctx->id, id);
    atomic_fetch_add(&ctx->stats->advanced, 1);
    return 1;
}

/* Highest priority first, then the longest waiting. */
static int by_priority(const void *a, const void *b)
{
    const struct bb_item *x = *(const struct bb_item *const *)a;
    const struct bb_item *y = *(const struct bb_item *const *)b;

    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->entered_ms < y->entered_ms ? -1 : x->entered_ms > y->entered_ms;
}

static int approver_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    struct bb_item **items;
    size_t n;
    char next[BB_CURSOR_MAX + 1];
    int64_t delay = ctx->cfg != NULL ? ctx->cfg->review_auto_approve_ms : 0;
    int64_t now = clock_wall_ms();
    int done = 0;

    (void)state;
    /* The longest waiting (the review queue keeps the order stories came in), then those that
     * have waited [review] auto_approve_after, highest priority first: every one of the page in
     * this cycle, one query for all of them. */
    if (bb_query(ctx->bb, -1, BB_REVIEWING, "", APPROVER_SCAN, &items, &n, next, cause) != BB_OK)
        return -1;
    qsort(items, n, sizeof *items, by_priority);
    for (size_t i = 0; i < n; i++) {
        int64_t entered = items[i]->entered_ms > 0 ? items[i]->entered_ms : items[i]->updated_ms;

        if (done != -1 && !atomic_load(ctx->stop) && now - entered >= delay) {
            int rc = approve(ctx, items[i]->id, cause);

            if (rc == -1)
                done = -1;
            else if (rc == 1)
                done = 1;
        }
        bb_item_free(items[i]);
    }
    free(items);
    /* A page that was not full left nothing behind it: wait for the next story to come (the
     * doorbell rings for it) instead of asking again at once. */
    return done == 1 && n < APPROVER_SCAN ? 0 : done;
}

const struct agent_role role_approver = {
    .name = "approver",
    .tier = LLM_FAST,
    .reclaim = {-1},
    .serves = {BB_REVIEWING, -1},
    .wake = {"REVIEWING", NULL},
    .init = approver_init,
    .cycle = approver_cycle,
    .shutdown = NULL,
};
