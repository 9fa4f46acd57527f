/*
 * role_producer.c - the producer: takes the oldest story waiting on the "produce" stage
 * (PRODUCING, passed by QA), builds its storyboard from the final script with
 * storyboard_build() (no model call: narration, duration at [production] words_per_minute,
 * shot list, SRT captions), renders it into a video package with video_render() (video.h:
 * <data dir>/packages/<id>/ with video.mp4, captions.srt, thumbnail.png, the narration and
 * manifest.json) and stores the package as body "package" (kind "video", the folder and file
 * paths, the real duration) while moving the story on to REVIEWING, in one step
 * (bb_complete_with).
 *
 * Before the render, the visual designer's fallback chain (visual.h) picks a picture for every
 * shot: the story's own images, a chart of its figures, and with keys a presenter, clips,
 * generated or stock pictures, text slides last; each shot's choice is recorded in the package
 * (its "picture") and the chain's report as "visuals". The pictures wait in the story's work
 * folder (<data dir>/visuals/<id>/) until its video is made, so a render that fails and comes
 * back pays for none of them twice; the folder goes when the video is made, or after a day.
 *
 * Without ffmpeg or the speech program (video_unavailable()) the package is the storyboard
 * (kind "storyboard") marked "video": "unavailable: <why>". Renders are bounded per process
 * (video_slot_try(): [video] render_workers); a producer finding every slot busy takes no
 * story this cycle. Before rendering the claim is extended by [video] render_timeout_s, so the
 * lock outlives the longest render.
 *
 * A story without a final script, or whose render fails or runs past its time limit, counts a
 * failed attempt (agent_fail_story) with the reason; one that cannot be moved on is put back
 * on "produce". When the agent starts, the temporary render folders a killed process left
 * behind are removed (video_sweep).
 *
 * Threads: runs on its agent's thread only (the render slots are shared through video.c).
 */
#include "agents/agent.h"
#include "agents/storyboard.h"
#include "media/video.h"
#include "media/visual.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "core/paths.h"
#include "store/blackboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The video of storyboard *pkg (replaced by the video package on success). Returns 0, or -1
 * with the reason in *why (a new string). */
static int render(struct agent_ctx *ctx, const struct bb_lock *lk, json_t **pkg, char **why)
{
    const struct config *c = ctx->cfg;
    char *dir, *cause = NULL;
    json_t *video = NULL;
    int rc;

    if (bb_lock_extend(ctx->bb, lk, ctx->claim_ttl_ms + c->video_render_timeout_s * 1000, &cause) !=
        BB_OK) {
        *why = xasprintf("cannot keep the story through its render: %s", cause);
        free(cause);
        return -1;
    }
    dir = video_packages_dir(c);
    rc = video_render(c, dir, lk->id, *pkg, &video, &cause);
    free(dir);
    if (rc == -1) {
        *why = xasprintf("video render failed: %s", cause);
        free(cause);
        return -1;
    }
    json_decref(*pkg);
    *pkg = video;
    return 0;
}

/* The pictures of storyboard *pkg for the story whose body is body (visual.h), chosen in the
 * story's work folder; the chain's report goes into the package as "visuals". The claim is
 * kept through the chain and the render that follows it. Never fails: a story without
 * pictures still renders (text slides). */
static void pictures(struct agent_ctx *ctx, const struct bb_lock *lk, const json_t *body,
                     json_t *pkg)
{
    const struct config *c = ctx->cfg;
    struct visual_env ve = {c, ctx->cost, lk->id, ctx->stop};
    char *dir = visual_work_dir(c, lk->id), *cause = NULL;
    json_t *report = NULL;

    if (bb_lock_extend(ctx->bb, lk,
                       ctx->claim_ttl_ms + (c->visual_timeout_s + c->video_render_timeout_s) * 1000,
                       &cause) != BB_OK) {
        log_warn("%s: %s: cannot keep the story through its pictures: %s", ctx->id, lk->id, cause);
        free(cause);
    } else if (visual_choose(&ve, body, pkg, dir, &report, &cause) == -1) {
        log_warn("%s: %s: no pictures (%s); text slides only", ctx->id, lk->id, cause);
        free(cause);
    } else {
        json_object_set_new(pkg, "visuals", report);
    }
    free(dir);
}

/* Removes what renders of killed processes left in the packages folder; never fails. */
static int producer_init(struct agent_ctx *ctx, void **state, char **cause)
{
    char *dir = video_packages_dir(ctx->cfg);
    int n = video_sweep(dir);

    (void)state;
    (void)cause;
    if (n > 0)
        log_info("%s: removed %d temporary render folder(s) left in %s", ctx->id, n, dir);
    else if (n < 0)
        log_warn("%s: cannot look for leftover render folders in %s", ctx->id, dir);
    free(dir);
    if ((n = visual_sweep(ctx->cfg, 86400)) > 0)
        log_info("%s: removed %d picture folder(s) a day old", ctx->id, n);
    return 0;
}

static int producer_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    struct storyboard_options so;
    struct bb_lock lk;
    struct bb_item *item = NULL;
    json_t *pkg, *patch;
    const char *final;
    char reason[200], *unavailable, *why = NULL;
    bool slot = false;
    int rc;

    (void)state;
    unavailable = video_unavailable(ctx->cfg);
    if (unavailable == NULL && !(slot = video_slot_try(ctx->cfg))) {
        return 0; /* every render slot of this process is busy */
    }
    rc = bb_take(ctx->bb, "produce", BB_PRODUCING, ctx->claim_ttl_ms, &lk, &item, cause);
    if (rc != BB_OK || item == NULL) {
        if (slot)
            video_slot_release();
        free(unavailable);
        if (rc == BB_NONE)
            return 0;
        if (rc != BB_OK)
            return -1;
        atomic_fetch_add(&ctx->stats->claimed, 1);
        agent_give_back(ctx, &lk, BB_PRODUCING, "producer could not read it");
        *cause = xasprintf("story %s could not be read", lk.id);
        return -1;
    }
    atomic_fetch_add(&ctx->stats->claimed, 1);
    final = agent_json_str(json_object_get(item->body, "script"), "final");
    storyboard_options_default(&so);
    so.words_per_minute = ctx->cfg->words_per_minute;
    pkg = *final != '\0' ? storyboard_build(final, agent_json_str(item->body, "title"),
                                            agent_json_str(item->body, "source"), &so)
                         : NULL;
    if (pkg != NULL && unavailable == NULL)
        pictures(ctx, &lk, item->body, pkg);
    bb_item_free(item);
    if (pkg == NULL) {
        if (slot)
            video_slot_release();
        free(unavailable);
        agent_fail_story(ctx, &lk, "no final script to produce");
        *cause = xasprintf("%s: no final script to produce", lk.id);
        return -1;
    }
    if (unavailable != NULL) {
        char *mark = xasprintf("unavailable: %s", unavailable);

        json_object_set_new(pkg, "video", json_string(mark));
        free(mark);
        free(unavailable);
    } else {
        rc = render(ctx, &lk, &pkg, &why);
        video_slot_release();
        if (rc == 0) { /* made: the pictures are in the package now */
            char *dir = visual_work_dir(ctx->cfg, lk.id);

            paths_rmrf(dir);
            free(dir);
        }
        if (rc == -1) {
            json_decref(pkg);
            agent_fail_story(ctx, &lk, why);
            *cause = xasprintf("%s: %s", lk.id, why);
            free(why);
            return -1;
        }
    }
    json_object_set_new(pkg, "by", json_string(ctx->id));
    snprintf(reason, sizeof reason, "%s ready for review: %zu shots, %.1f s",
             strcmp(agent_json_str(pkg, "kind"), "video") == 0 ? "video" : "storyboard",
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
    .init = producer_init,
    .cycle = producer_cycle,
};
