/*
 * role_analyst.c - the analyst: claims the oldest PENDING story (-> PROCESSING, locked), asks
 * a BALANCED model for a content analysis through the budget (agent_ask), and then either
 * archives the story with the reason or opens its debate (debate_open) and moves it on to
 * DEBATING (DEBATE_QUEUE), recording the decision in the story's body in the same step
 * ("analysis": newsworthiness, credibility, summary, confidence, reasoning, decision, by).
 * The lessons the analysts learned from earlier stories like it (memory.h) go into the system
 * prompt.
 *
 * The analysis is the story's checkpoint of this step: a story that comes back with one (it
 * was requeued to be debated again, or the debate could not be opened) is not analysed again.
 * What is not the story's fault (a halt, an outage, an empty budget: agent_setback_ask) parks
 * it in PENDING without counting an attempt, and after a deferral or an outage the analyst waits
 * before claiming again; a failed call counts an attempt of the step "analyze" (agent_fail_story:
 * retried after a backoff, FAILED with its error history when they run out). A claim whose
 * analyst died goes back to the front of PENDING at once (the swarm's reaper).
 *
 * Threads: runs on its agent's thread only.
 */
#include "agents/agent.h"
#include "core/clock.h"
#include "core/fail.h"
#include "core/log.h"
#include "observe/trace.h"
#include "memory/memory.h"
#include "store/blackboard.h"
#include "store/debate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANALYST_DEFER_MS 2000
/* Worth covering: newsworthiness and credibility at least these. */
#define ANALYST_MIN_NEWSWORTHY  0.5
#define ANALYST_MIN_CREDIBILITY 0.3
/* A story's priority weighs newsworthiness this much, urgency the rest. */
#define ANALYST_PRIORITY_NEWSWORTHY 0.6

static const char analyst_system[] =
    "You are a news analyst. Judge the story: answer with one JSON object {\"summary\": str, "
    "\"scores\": {\"newsworthiness\": 0-1, \"credibility\": 0-1, \"clarity\": 0-1, \"impact\": "
    "0-1, \"urgency\": 0-1}, \"sentiment\": str, \"entities\": [str], \"topics\": [str], "
    "\"confidence\": 0-1}.";

struct analyst {
    int64_t deferred_until; /* monotonic ms */
};

static int analyst_init(struct agent_ctx *ctx, void **state, char **cause)
{
    (void)ctx;
    (void)cause;
    *state = xcalloc(1, sizeof(struct analyst));
    return 0;
}

/* A story's priority from the analysis (blackboard.h): 0 to 99 from newsworthiness and
 * urgency, and BB_PRIORITY_BREAKING more for a story flagged breaking, so breaking news always
 * comes first and the analyst orders the rest. */
static int analyst_priority(bool breaking, double newsworthiness, double urgency)
{
    double v =
        ANALYST_PRIORITY_NEWSWORTHY * newsworthiness + (1 - ANALYST_PRIORITY_NEWSWORTHY) * urgency;
    int p = (int)(99 * (v < 0 ? 0 : v > 1 ? 1 : v) + 0.5);

    return (breaking ? BB_PRIORITY_BREAKING : 0) + p;
}

static int analyst_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    struct analyst *an = state;
    struct bb_flow_opts fo;
    struct debate_options dopt;
    struct bb_lock lk;
    struct bb_item *item = NULL;
    json_t *ans, *scores, *patch;
    const json_t *kept;
    const char *title, *content, *summary;
    char *user, *system, *why = NULL, *title_copy, *content_copy, reasoning[512];
    int64_t arrived;
    double nw, cred, conf, urgency;
    bool cover, breaking;
    int rc, priority;

    if (clock_mono_ms() < an->deferred_until || agent_flow_resting(ctx))
        return 0;
    /* Backpressure: no promotion while the debates are full; a stale story met is archived. */
    agent_flow_claim(ctx, BB_FLOW_DEBATE, -1, true, &fo);
    rc = bb_claim_flow(ctx->bb, BB_PENDING, BB_PROCESSING, ctx->claim_ttl_ms, &fo, &lk, &item,
                       cause);
    agent_flow_note(ctx, rc);
    if (rc == BB_NONE || rc == BB_HELD) {
        if (rc == BB_HELD) {
            log_debug("%s: %s", ctx->id, *cause);
            free(*cause);
            *cause = NULL;
        }
        return 0;
    }
    if (rc != BB_OK)
        return -1;
    atomic_fetch_add(&ctx->stats->claimed, 1);
    agent_hold(ctx, &lk, item != NULL ? item->attempts : 0);
    if (item == NULL) {
        *cause = xasprintf("claimed story %s came back without its fields", lk.id);
        agent_park(ctx, &lk, "analyst could not read it", -1, NULL);
        return -1;
    }
    title = json_string_value(json_object_get(item->body, "title"));
    content = json_string_value(json_object_get(item->body, "content"));
    title_copy = xstrdup(title ? title : "");
    content_copy = xstrdup(content ? content : "");
    arrived = item->created_ms;
    kept = json_object_get(item->body, "analysis");
    breaking = json_is_true(json_object_get(item->body, "breaking"));
    if (json_is_object(kept) && json_is_object(json_object_get(kept, "scores"))) {
        /* Analysed before: the checkpoint stands, no call is paid again. */
        ans = json_deep_copy(kept);
        rc = AGENT_ASK_OK;
    } else if (agent_flow_wait(ctx, 1u << BB_FLOW_DEBATE, &why)) {
        /* The debates would keep it waiting past [flow] max_wait: no call is paid now. */
        bb_item_free(item);
        free(title_copy);
        free(content_copy);
        an->deferred_until = clock_mono_ms() + ANALYST_DEFER_MS;
        agent_park(ctx, &lk, why, AGENT_FLOW_HOLD_MS, NULL);
        free(why);
        return 0;
    } else {
        struct memory_known known;

        user = xasprintf("Title: %s\n\n%s", title_copy, content_copy);
        /* What the newsroom learned from stories like this one (rejections) goes with the ask
         * (no recall when the analysts have no lesson at all). */
        agent_lessons(ctx, "analyst", &known);
        system = memory_with_lessons_known(agent_memory(ctx), ctx->id, "analyst", user,
                                           analyst_system, &known);
        rc = agent_ask(ctx, lk.id, LLM_BALANCED, "content_analysis", system, user, 400, 2, &ans,
                       &why);
        free(system);
        free(user);
    }
    bb_item_free(item);
    if (rc != AGENT_ASK_OK) {
        if (rc == AGENT_ASK_DEFERRED || rc == AGENT_ASK_OUTAGE)
            an->deferred_until = clock_mono_ms() + ANALYST_DEFER_MS;
        free(title_copy);
        free(content_copy);
        return agent_setback_ask(ctx, &lk, rc, why, NULL, cause);
    }
    scores = json_object_get(ans, "scores");
    nw = agent_json_num(scores, "newsworthiness", 0);
    cred = agent_json_num(scores, "credibility", 0);
    conf = agent_json_num(ans, "confidence", 0);
    /* Urgency: the model's, else its impact score. */
    urgency = agent_json_num(scores, "urgency", agent_json_num(scores, "impact", 0));
    priority = analyst_priority(breaking, nw, urgency);
    summary = json_string_value(json_object_get(ans, "summary"));
    cover = nw >= ANALYST_MIN_NEWSWORTHY && cred >= ANALYST_MIN_CREDIBILITY;
    if (cover)
        snprintf(reasoning, sizeof reasoning,
                 "worth covering: newsworthiness %.2f (at least %.2f), credibility %.2f (at "
                 "least %.2f)",
                 nw, ANALYST_MIN_NEWSWORTHY, cred, ANALYST_MIN_CREDIBILITY);
    else
        snprintf(reasoning, sizeof reasoning,
                 "not newsworthy: newsworthiness %.2f (needs %.2f), credibility %.2f (needs "
                 "%.2f)",
                 nw, ANALYST_MIN_NEWSWORTHY, cred, ANALYST_MIN_CREDIBILITY);
    /* The debate opens before the story reaches DEBATING: a crash in between leaves an open
     * debate that waits for the story's retry (the moderator puts it aside while the story is
     * PENDING or PROCESSING), never a DEBATING story without a debate. */
    if (cover) {
        debate_options_from(&dopt, ctx->cfg);
        dopt.settle_early = agent_savings(ctx); /* the cost baseline hears every debater */
        dopt.reopen_closed = true;              /* a story here again is debated again */
        dopt.priority = priority;
        if (debate_open(ctx->link, lk.id, title_copy, summary ? summary : "", content_copy, &dopt,
                        ctx->id, NULL, cause) != DEBATE_OK) {
            /* Keep the paid analysis with the story: its retry opens the debate without
             * asking again. */
            patch =
                json_pack("{s:{s:f, s:f, s:s, s:f, s:O?, s:O?, s:s}}", "analysis", "newsworthiness",
                          nw, "credibility", cred, "summary", summary ? summary : "", "confidence",
                          conf, "topics", json_object_get(ans, "topics"), "scores",
                          json_object_get(ans, "scores"), "by", ctx->id);
            agent_park(ctx, &lk, "analyst could not open its debate", -1, patch);
            json_decref(patch);
            json_decref(ans);
            free(title_copy);
            free(content_copy);
            return -1;
        }
    }
    free(title_copy);
    free(content_copy);
    patch = json_pack("{s:{s:f, s:f, s:f, s:s, s:f, s:s, s:s, s:s, s:O?, s:O?}, s:i}", "analysis",
                      "newsworthiness", nw, "credibility", cred, "urgency", urgency, "summary",
                      summary ? summary : "", "confidence", conf, "reasoning", reasoning,
                      "decision", cover ? "cover" : "archive", "by",
                      *agent_json_str(ans, "by") != '\0' ? agent_json_str(ans, "by") : ctx->id,
                      "topics", json_object_get(ans, "topics"), "scores",
                      json_object_get(ans, "scores"), "priority", priority);
    json_decref(ans);
    {
        int64_t since = 0;

        do
            rc = bb_complete_with(ctx->bb, &lk, cover ? BB_DEBATING : BB_ARCHIVED, patch, reasoning,
                                  cause);
        while (agent_again(ctx, &rc, &since, cause));
    }
    if (rc != BB_OK) {
        json_decref(patch);
        /* Do not leave it locked until the lock lapses: let it go for another analyst. */
        agent_release(ctx, &lk);
        return -1;
    }
    atomic_fetch_add(cover ? &ctx->stats->advanced : &ctx->stats->archived, 1);
    trace_decision(&(struct trace_decision){.story = lk.id,
                                            .type = "coverage",
                                            .outcome = cover ? "cover" : "archive",
                                            .reasoning = reasoning,
                                            .confidence = conf,
                                            .output = json_object_get(patch, "analysis"),
                                            .since_ms = arrived});
    json_decref(patch);
    return 1;
}

const struct agent_role role_analyst = {
    .name = "analyst",
    .tier = LLM_BALANCED,
    .reclaim = {BB_PROCESSING, -1},
    .serves = {BB_PENDING, BB_PROCESSING, -1},
    .wake = {"PENDING", "drained:debate", NULL},
    .init = analyst_init,
    .cycle = analyst_cycle,
    .shutdown = agent_free_state,
};
