/*
 * role_archivist.c - the archivist moves decided stories on; no model is asked.
 *
 *   REJECTED, plain   -> ARCHIVED, archive reason "rejected: <the reviewer's reason>"
 *   REJECTED, revise  -> PRODUCING, handed to the writer's stage "rewrite" with body
 *                        "revision_request": {note, by, at, at_ms} (review.h: a revise decision's
 *                        reason is "revise: NOTE")
 *   PUBLISHED, older than [publish] retention_days
 *                     -> ARCHIVED, "retention: published more than N days ago"
 *   FAILED            -> ARCHIVED, "failed: <the failure reason>" (the failure reason stays on
 *                        the story too), so every story that leaves the line ends PUBLISHED or
 *                        ARCHIVED with a reason
 *
 * Each story is locked first (bb_lock_first), so two archivists never move one story twice;
 * a story another holds is skipped. Rejections go first, oldest first (bb_lock_first), then
 * failures; retention, every few seconds, looks at the oldest published stories and stops at
 * the first that is young enough. The review record is on the story already: every decision
 * writes it in the same step (review_decide, bb_decide_with).
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
#include "store/blackboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARCHIVIST_SCAN 16
/* Retention needs no hurry: it is looked at this often. */
#define RETENTION_EVERY_MS 5000
#define DAY_MS             (24LL * 3600 * 1000)

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
            atomic_fetch_add(&ctx->stats->archived, 1);
            log_info("%s: archived %s (%s)", ctx->id, it->id, reason);
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

/* When the story was published: body publish.at_ms, else its last update. */
static int64_t published_ms(const struct bb_item *it)
{
    const json_t *at = json_object_get(json_object_get(it->body, "publish"), "at_ms");

    return json_is_integer(at) ? (int64_t)json_integer_value(at) : it->updated_ms;
}

/* Locks candidate id and reads it back in status st: BB_OK with *it and *lk, BB_NONE when it
 * is no longer there or another holds it, BB_ERR (*cause). */
static int lock_in(struct agent_ctx *ctx, const char *id, enum bb_status st, struct bb_lock *lk,
                   struct bb_item **it, char **cause)
{
    int rc = bb_lock_acquire(ctx->bb, id, ctx->claim_ttl_ms, lk, cause);

    *it = NULL;
    if (rc == BB_ERR)
        return BB_ERR;
    if (rc != BB_OK) {
        free(*cause);
        *cause = NULL;
        return BB_NONE;
    }
    rc = bb_read(ctx->bb, id, it, cause);
    if (rc == BB_OK && (*it)->status == (int)st)
        return BB_OK;
    agent_release(ctx, lk);
    bb_item_free(*it);
    *it = NULL;
    return rc == BB_ERR ? BB_ERR : BB_NONE;
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

/* One failed story archived with its failure reason: 1 done, 0 none, -1 error. */
static int failed(struct agent_ctx *ctx, char **cause)
{
    struct bb_item *it = NULL;
    struct bb_lock lk;
    char *reason;
    int rc = bb_lock_first(ctx->bb, BB_FAILED, ctx->claim_ttl_ms, &lk, &it, cause);

    if (rc != BB_OK)
        return rc == BB_NONE ? 0 : -1;
    reason = xasprintf("failed: %s", it->fail_reason);
    if (bb_complete(ctx->bb, &lk, BB_ARCHIVED, reason, cause) == BB_OK) {
        atomic_fetch_add(&ctx->stats->archived, 1);
        trace_story_moved(it, BB_ARCHIVED, reason);
        rc = 1;
    } else {
        agent_release(ctx, &lk);
        rc = -1;
    }
    free(reason);
    bb_item_free(it);
    return rc;
}

/* Published stories past retention: 1 some archived, 0 none, -1 error. */
static int retention(struct agent_ctx *ctx, char **cause)
{
    struct bb_item **items, *it;
    size_t n;
    char next[BB_CURSOR_MAX + 1];
    int days = ctx->cfg->publish_retention_days, done = 0;
    int64_t cutoff = clock_wall_ms() - days * DAY_MS;
    bool young = false;

    if (bb_query(ctx->bb, -1, BB_PUBLISHED_S, "", ARCHIVIST_SCAN, &items, &n, next, cause) != BB_OK)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct bb_lock lk;
        int rc;

        if (done >= 0 && !young) {
            if (published_ms(items[i]) > cutoff) {
                young = true; /* oldest first: the rest are younger still */
            } else if ((rc = lock_in(ctx, items[i]->id, BB_PUBLISHED_S, &lk, &it, cause)) ==
                       BB_ERR) {
                done = -1;
            } else if (rc == BB_OK) {
                char *reason = xasprintf("retention: published more than %d day%s ago", days,
                                         days == 1 ? "" : "s");

                if (bb_complete(ctx->bb, &lk, BB_ARCHIVED, reason, cause) == BB_OK) {
                    atomic_fetch_add(&ctx->stats->archived, 1);
                    log_info("%s: archived %s (%s)", ctx->id, it->id, reason);
                    done = 1;
                } else {
                    agent_release(ctx, &lk);
                    done = -1;
                }
                free(reason);
                bb_item_free(it);
            }
        }
        bb_item_free(items[i]);
    }
    free(items);
    return done;
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
    int rc;

    if ((rc = rejected(ctx, cause)) != 0 || (rc = failed(ctx, cause)) != 0)
        return rc;
    if (clock_mono_ms() < a->next_retention)
        return 0;
    if ((rc = retention(ctx, cause)) == 0)
        a->next_retention = clock_mono_ms() + RETENTION_EVERY_MS;
    return rc;
}

const struct agent_role role_archivist = {
    .name = "archivist",
    .tier = LLM_FAST,
    .reclaim = {-1},
    .serves = {BB_REJECTED, BB_FAILED, -1},
    .wake = {"REJECTED", "FAILED", NULL},
    .init = archivist_init,
    .cycle = archivist_cycle,
    .shutdown = agent_free_state,
};
