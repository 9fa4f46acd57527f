/*
 * role_producer.c - the producer: takes the oldest story waiting on the "produce" stage
 * (PRODUCING, passed by QA), builds its production package from the final script with
 * storyboard_build() (no model call: narration, duration at [production] words_per_minute,
 * shot list, SRT captions) and stores it as body "package" while moving the story on to
 * REVIEWING, in one step (bb_complete_with). Rendering real video is a later issue; the
 * package's kind says "storyboard".
 *
 * A story without a final script counts a failed attempt (agent_fail_story); one that cannot
 * be moved on is put back on "produce".
 *
 * Threads: runs on its agent's thread only.
 */
#include "agents/agent.h"
#include "agents/storyboard.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "store/blackboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int producer_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    struct storyboard_options so;
    struct bb_lock lk;
    struct bb_item *item = NULL;
    json_t *pkg, *patch;
    const char *final;
    char reason[160];
    int rc;

    (void)state;
    rc = bb_take(ctx->bb, "produce", BB_PRODUCING, ctx->claim_ttl_ms, &lk, &item, cause);
    if (rc == BB_NONE)
        return 0;
    if (rc != BB_OK)
        return -1;
    atomic_fetch_add(&ctx->stats->claimed, 1);
    if (item == NULL) {
        agent_give_back(ctx, &lk, BB_PRODUCING, "producer could not read it");
        *cause = xasprintf("story %s could not be read", lk.id);
        return -1;
    }
    final = agent_json_str(json_object_get(item->body, "script"), "final");
    storyboard_options_default(&so);
    so.words_per_minute = ctx->cfg->words_per_minute;
    pkg = *final != '\0' ? storyboard_build(final, agent_json_str(item->body, "title"),
                                            agent_json_str(item->body, "source"), &so)
                         : NULL;
    bb_item_free(item);
    if (pkg == NULL) {
        agent_fail_story(ctx, &lk, "no final script to produce");
        *cause = xasprintf("%s: no final script to produce", lk.id);
        return -1;
    }
    json_object_set_new(pkg, "by", json_string(ctx->id));
    snprintf(reason, sizeof reason, "storyboard ready for review: %zu shots, %.1f s",
             json_array_size(json_object_get(pkg, "shots")),
             json_number_value(json_object_get(pkg, "duration_s")));
    patch = json_pack("{s:o}", "package", pkg);
    rc = bb_complete_with(ctx->bb, &lk, BB_REVIEWING, patch, reason, cause);
    json_decref(patch);
    if (rc != BB_OK) {
        if (rc == BB_REFUSED)
            agent_give_back(ctx, &lk, BB_PRODUCING, "producer could not move it on");
        return -1;
    }
    atomic_fetch_add(&ctx->stats->advanced, 1);
    return 1;
}

const struct agent_role role_producer = {
    .name = "producer",
    .tier = LLM_FAST, /* makes no model call */
    .reclaim = {BB_PRODUCING, -1},
    .serves = {BB_PRODUCING, -1},
    .wake = {"stage:produce", NULL},
    .cycle = producer_cycle,
};
