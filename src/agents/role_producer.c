/*
 * role_producer.c - the producer: takes the first story waiting on the "produce" stage
 * (PRODUCING, passed by QA; none while the review queue is at [flow] review_hwm), builds its
 * storyboard from the final script with storyboard_build() (no model call: narration, duration at
 * [production] words_per_minute, shot list, SRT captions), renders it into a video package with
 * video_render() (video.h: <data dir>/packages/<id>/ with video.mp4, captions.srt, thumbnail.png,
 * the narration and manifest.json), puts it into the package store (media/store.h: with [store]
 * kind local it stays in that folder, with s3 it goes to the bucket and the folder is removed) and
 * stores the package as body "package" (kind "video", its files, the real duration, and in "store"
 * where the store keeps it) while moving the story on to REVIEWING, in one step
 * (bb_complete_with). A package the store cannot take (the bucket unreachable, a key refused)
 * is a fault of the environment, like a full disk: the story waits.
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
 * story this cycle. However long a render takes, the claim stays this producer's by its heartbeat
 * (the swarm's heart keeps its lock alive), not by a long lock: a producer that dies has its story
 * taken back to the front of "produce" at once.
 *
 * A render that fails because of its environment (video_last_fail() VIDEO_FAIL_ENV, or the
 * packages folder found full, read-only or unwritable by envfault_probe() before the render or
 * after it: a render cut short by a full disk that was freed before it ended is still the
 * environment's) parks the story on "produce" with a backoff, counting no attempt, and without
 * rendering when the probe before fails: it is rendered when the disk is fixed. One that
 * fails on its input falls back to the storyboard (kind "storyboard", "video": "failed: ...");
 * one past its time limit counts a failed attempt. A story without a final script counts a
 * failed attempt too; one that cannot be moved on is put back on "produce". When the agent
 * starts, the temporary render folders a killed process left behind are removed (video_sweep).
 *
 * Threads: runs on its agent's thread only (the render slots are shared through video.c).
 */
#include "agents/agent.h"
#include "agents/storyboard.h"
#include "media/store.h"
#include "media/video.h"
#include "media/visual.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "core/paths.h"
#include "recovery/envfault.h"
#include "observe/trace.h"
#include "store/blackboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a render failed. */
enum render_outcome { RENDERED, RENDER_ENV, RENDER_INPUT, RENDER_TIMEOUT };

/* The video of storyboard *pkg (replaced by the video package on success). Returns RENDERED,
 * or how it failed with the reason in *why (a new string). */
static enum render_outcome render(struct agent_ctx *ctx, struct pstore *store,
                                  const struct bb_lock *lk, json_t **pkg, char **why)
{
    const struct config *c = ctx->cfg;
    char *dir, *cause = NULL, *env = NULL;
    json_t *video = NULL;
    enum video_fail vf;
    int rc;

    dir = video_packages_dir(c);
    /* The folder is probed before as well as after: a render that began while the disk was full
     * and failed after it was freed (its narration cut short, say) is the environment's too,
     * and a probe after it alone would blame the story. */
    if (envfault_probe(dir, &env) > 0) {
        *why = xasprintf("video render not started: %s", env);
        free(env);
        free(dir);
        return RENDER_ENV;
    }
    free(env);
    env = NULL;
    atomic_store(&ctx->life_ms, clock_mono_ms()); /* a render is a sign of life */
    rc = video_render(c, dir, lk->id, *pkg, &video, &cause);
    atomic_store(&ctx->life_ms, clock_mono_ms());
    if (rc == 0 && pstore_put_package(store, lk->id, video, &cause) == -1) {
        atomic_store(&ctx->life_ms, clock_mono_ms());
        *why = xasprintf("the package store did not take the package: %s", cause);
        free(cause);
        free(dir);
        json_decref(video);
        return RENDER_ENV;
    }
    if (rc == 0) {
        atomic_store(&ctx->life_ms, clock_mono_ms());
        free(dir);
        json_decref(*pkg);
        *pkg = video;
        return RENDERED;
    }
    vf = video_last_fail();
    /* The folder is probed whatever the renderer said: a full disk is never the story's. */
    if (vf == VIDEO_FAIL_ENV || envfault_probe(dir, &env) > 0) {
        *why = xasprintf("video render failed for its environment: %s%s%s", cause,
                         env != NULL ? "; " : "", env != NULL ? env : "");
        free(env);
        free(dir);
        free(cause);
        return RENDER_ENV;
    }
    free(dir);
    *why = xasprintf("video render failed: %s", cause);
    free(cause);
    return vf == VIDEO_FAIL_TIMEOUT ? RENDER_TIMEOUT : RENDER_INPUT;
}

/* The pictures of storyboard *pkg for the story whose body is body (visual.h), chosen in the
 * story's work folder; the chain's report goes into the package as "visuals". The chain shows
 * signs of life as it goes (each provider asked, each job polled), so the claim stays this
 * producer's by its heartbeat however long a presenter or clip takes. Never fails: a story
 * without pictures still renders (text slides). */
static void pictures(struct agent_ctx *ctx, const struct bb_lock *lk, const json_t *body,
                     json_t *pkg)
{
    const struct config *c = ctx->cfg;
    struct visual_env ve = {c, ctx->cost, lk->id, ctx->stop, &ctx->life_ms};
    char *dir = visual_work_dir(c, lk->id), *cause = NULL;
    json_t *report = NULL;

    if (visual_choose(&ve, body, pkg, dir, &report, &cause) == -1) {
        log_warn("%s: %s: no pictures (%s); text slides only", ctx->id, lk->id, cause);
        free(cause);
    } else {
        json_object_set_new(pkg, "visuals", report);
    }
    free(dir);
}

/* Opens the package store (the agent's state), then removes what renders of killed processes
 * left in the packages folder. Fails only when the store is misconfigured. */
static int producer_init(struct agent_ctx *ctx, void **state, char **cause)
{
    char *dir;
    int n;

    if ((*state = pstore_open(ctx->cfg, cause)) == NULL)
        return -1;
    dir = video_packages_dir(ctx->cfg);
    n = video_sweep(dir);
    if (n > 0)
        log_info("%s: removed %d temporary render folder(s) left in %s", ctx->id, n, dir);
    else if (n < 0)
        log_warn("%s: cannot look for leftover render folders in %s", ctx->id, dir);
    free(dir);
    if ((n = visual_sweep(ctx->cfg, 86400)) > 0)
        log_info("%s: removed %d picture folder(s) a day old", ctx->id, n);
    return 0;
}

static void producer_shutdown(struct agent_ctx *ctx, void *state)
{
    (void)ctx;
    pstore_free(state);
}

static int producer_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    struct storyboard_options so;
    struct bb_flow_opts fo;
    const char *stage = "produce";
    struct bb_lock lk;
    struct bb_item *item = NULL;
    json_t *pkg, *patch;
    const char *final;
    char reason[200], *unavailable, *why = NULL;
    bool slot = false;
    int rc;

    if (agent_flow_resting(ctx))
        return 0;
    unavailable = video_unavailable(ctx->cfg);
    if (unavailable == NULL && !(slot = video_slot_try(ctx->cfg))) {
        return 0; /* every render slot of this process is busy */
    }
    /* Backpressure: nothing is taken while the review queue is at its mark. */
    agent_flow_claim(ctx, -1, BB_FLOW_REVIEW, false, &fo);
    rc = bb_take_flow(ctx->bb, &stage, 1, BB_PRODUCING, -1, ctx->claim_ttl_ms, &fo, &lk, &item,
                      NULL, cause);
    agent_flow_note(ctx, rc);
    if (rc != BB_OK || item == NULL) {
        if (slot)
            video_slot_release();
        free(unavailable);
        if (rc == BB_HELD) {
            free(*cause);
            *cause = NULL;
        }
        if (rc == BB_NONE || rc == BB_HELD)
            return 0;
        if (rc != BB_OK)
            return -1;
        atomic_fetch_add(&ctx->stats->claimed, 1);
        agent_park(ctx, &lk, "producer could not read it", -1, NULL);
        *cause = xasprintf("story %s could not be read", lk.id);
        return -1;
    }
    atomic_fetch_add(&ctx->stats->claimed, 1);
    agent_hold(ctx, &lk, item->attempts);
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
        enum render_outcome ro = render(ctx, state, &lk, &pkg, &why);

        video_slot_release();
        if (ro == RENDERED) { /* made: the pictures are in the package now */
            char *dir = visual_work_dir(ctx->cfg, lk.id);

            paths_rmrf(dir);
            free(dir);
        }
        if (ro == RENDER_ENV) {
            /* Not the story's fault: it waits on "produce" until the folder takes files. */
            json_decref(pkg);
            agent_park(ctx, &lk, why, -1, NULL);
            log_warn("%s: %s: %s; it waits", ctx->id, lk.id, why);
            free(why);
            return 0;
        }
        if (ro == RENDER_TIMEOUT) {
            json_decref(pkg);
            agent_fail_story(ctx, &lk, why);
            *cause = xasprintf("%s: %s", lk.id, why);
            free(why);
            return -1;
        }
        if (ro == RENDER_INPUT) {
            /* The storyboard stands in for the video, saying why. */
            char *mark = xasprintf("failed: %s", why);

            json_object_set_new(pkg, "video", json_string(mark));
            log_warn("%s: %s: %s; the storyboard goes to review", ctx->id, lk.id, why);
            free(mark);
            free(why);
        }
    }
    json_object_set_new(pkg, "by", json_string(ctx->id));
    snprintf(reason, sizeof reason, "%s ready for review: %zu shots, %.1f s",
             strcmp(agent_json_str(pkg, "kind"), "video") == 0 ? "video" : "storyboard",
             json_array_size(json_object_get(pkg, "shots")),
             json_number_value(json_object_get(pkg, "duration_s")));
    patch = json_pack("{s:o}", "package", pkg);
    {
        int64_t since = 0;

        do
            rc = bb_complete_with(ctx->bb, &lk, BB_REVIEWING, patch, reason, cause);
        while (agent_again(ctx, &rc, &since, cause));
    }
    json_decref(patch);
    if (rc != BB_OK) {
        if (rc == BB_REFUSED)
            agent_park(ctx, &lk, "producer could not move it on", -1, NULL);
        return -1;
    }
    atomic_fetch_add(&ctx->stats->advanced, 1);
    trace_decision(&(struct trace_decision){.story = lk.id,
                                            .type = "production",
                                            .outcome = "review",
                                            .reasoning = reason,
                                            .confidence = -1});
    return 1;
}

const struct agent_role role_producer = {
    .name = "producer",
    .tier = LLM_FAST, /* makes no model call */
    .reclaim = {BB_PRODUCING, -1},
    .serves = {BB_PRODUCING, -1},
    .wake = {"stage:produce", "drained:review", NULL},
    .init = producer_init,
    .cycle = producer_cycle,
    .shutdown = producer_shutdown,
};
