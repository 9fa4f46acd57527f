/*
 * role_archivist.c - the archivist moves decided stories on; no model is asked.
 *
 *   REJECTED, plain   -> ARCHIVED, archive reason "rejected: <the reviewer's reason>"; the
 *                        reason becomes a lesson for the analysts and writers (memory_learn)
 *   REJECTED, revise  -> PRODUCING, handed to the writer's stage "rewrite" with body
 *                        "revision_request": {note, by, at, at_ms} (review.h: a revise decision's
 *                        reason is "revise: NOTE")
 *
 * and, every [retention] interval, runs an expiry pass (bb_expire: stories that waited longer
 * than [flow] stale_after before production are archived as stale, those that waited for review
 * longer than [review] expire_after as "not reviewed in time", each audited as the system) and a
 * retention pass (recovery/retention.h): stories past their terminal status's window are
 * deleted with every key of theirs, old budget requests and dead agents go. A pass holds a Redis
 * lock, so one archivist of the whole swarm runs it at a time; the others find it held and go on.
 *
 * FAILED stories are left alone: FAILED is terminal and listed (the dead set,
 * recovery/deadset.h) with its error history until an operator requeues it, or until
 * retention's window for FAILED deletes it.
 *
 * Each story is locked first (bb_lock_first), so two archivists never move one story twice;
 * a story another holds is skipped. Rejections go first, oldest first (bb_lock_first). The
 * review record is on the story already: every decision writes it in the same step
 * (review_decide, bb_decide_with).
 *
 * Threads: runs on its agent's thread only.
 */
#include "agents/agent.h"
#include "agents/review.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "observe/trace.h"
#include "recovery/retention.h"
#include "memory/memory.h"
#include "store/blackboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stories looked at per queue in one expiry pass. */
#define ARCHIVIST_EXPIRE_SCAN 500

/* Moves on the locked REJECTED story it. Returns 1, or -1 with *cause. */
static int settle_rejected(struct agent_ctx *ctx, const struct bb_item *it,
                           const struct bb_lock *lk, char **cause)
{
    const char *note = review_revise_note(it->reason);
    json_t *patch = json_object();
    char *reason;
    int rc;

    if (note == NULL) {
        reason = xasprintf("rejected: %s", it->reason[0] != '\0' ? it->reason : "no reason given");
        rc = bb_complete_with(ctx->bb, lk, BB_ARCHIVED, patch, reason, cause);
        if (rc == BB_OK) {
            const char *const learners[] = {"analyst", "writer", NULL};
            char *what = xasprintf("A reviewer (%s) rejected the video: %s", it->decided_by,
                                   it->reason[0] != '\0' ? it->reason : "no reason given");

            atomic_fetch_add(&ctx->stats->archived, 1);
            log_info("%s: archived %s (%s)", ctx->id, it->id, reason);
            /* The analysts and writers remember why, for the next story like this one. */
            memory_learn(agent_memory(ctx), ctx->id, learners, it, what, 0.8);
            free(what);
        } else {
            agent_release(ctx, lk);
        }
    } else {
        char at[32];

        json_object_set_new(patch, "revision_request",
                            json_pack("{s:s, s:s, s:s, s:I}", "note", note, "by", it->decided_by,
                                      "at", review_iso_time(it->decided_ms, at, sizeof at), "at_ms",
                                      (json_int_t)it->decided_ms));
        reason = xasprintf("revision requested: %s", note);
        /* To PRODUCING and onto the writer's stage in one step: never PRODUCING on no stage. */
        rc = bb_handoff_to(ctx->bb, lk, BB_PRODUCING, "rewrite", patch, reason, cause);
        if (rc != BB_OK) {
            agent_release(ctx, lk);
        } else {
            atomic_fetch_add(&ctx->stats->advanced, 1);
            log_info("%s: sent %s back to the writer (%s)", ctx->id, it->id, reason);
        }
    }
    if (rc == BB_OK)
        trace_story_moved(it, note == NULL ? BB_ARCHIVED : BB_PRODUCING, reason);
    free(reason);
    json_decref(patch);
    if (rc != BB_OK) {
        char *c = *cause;

        *cause = xasprintf("cannot move %s on: %s", it->id, c);
        free(c);
        return -1;
    }
    return 1;
}

/* One rejected story: 1 done, 0 none, -1 error. */
static int rejected(struct agent_ctx *ctx, char **cause)
{
    struct bb_item *it = NULL;
    struct bb_lock lk;
    int rc = bb_lock_first(ctx->bb, BB_REJECTED, ctx->claim_ttl_ms, &lk, &it, cause);

    if (rc != BB_OK)
        return rc == BB_NONE ? 0 : -1;
    rc = settle_rejected(ctx, it, &lk, cause);
    bb_item_free(it);
    return rc;
}

struct archivist {
    int64_t next_retention; /* monotonic ms */
};

static int archivist_init(struct agent_ctx *ctx, void **state, char **cause)
{
    (void)ctx;
    (void)cause;
    *state = xcalloc(1, sizeof(struct archivist));
    return 0;
}

static int archivist_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    struct archivist *a = state;
    struct retention_policy p;
    struct retention_report rep;
    int rc;

    if ((rc = rejected(ctx, cause)) != 0)
        return rc;
    if (clock_mono_ms() < a->next_retention)
        return 0;
    {
        long stale = 0, unreviewed = 0;

        /* Expiry first: what it archives, retention deletes in its time. */
        if (bb_expire(ctx->bb, ctx->cfg->flow_stale_ms, ctx->cfg->review_expire_ms,
                      ARCHIVIST_EXPIRE_SCAN, &stale, &unreviewed, cause) != BB_OK)
            return -1;
        if (stale > 0 || unreviewed > 0) {
            log_info("%s: expired %ld stale stor%s and %ld not reviewed in time", ctx->id, stale,
                     stale == 1 ? "y" : "ies", unreviewed);
            atomic_fetch_add(&ctx->stats->archived, stale + unreviewed);
        }
    }
    retention_policy_from_config(&p, ctx->cfg);
    p.mem = agent_memory(ctx);
    a->next_retention = clock_mono_ms() + ctx->cfg->retention_interval_ms;
    if (retention_run(ctx->link, &p, ctx->id, &rep, cause) == -1)
        return -1;
    return 0;
}

const struct agent_role role_archivist = {
    .name = "archivist",
    .tier = LLM_FAST,
    .reclaim = {-1},
    .serves = {BB_REJECTED, -1},
    .wake = {"REJECTED", NULL},
    .init = archivist_init,
    .cycle = archivist_cycle,
    .shutdown = agent_free_state,
};
