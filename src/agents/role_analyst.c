/*
 * role_analyst.c - the analyst: claims the oldest PENDING story (-> PROCESSING, locked), asks
 * a BALANCED model for a content analysis through the budget (cost_complete), records the
 * decision in the story's body ("analysis": newsworthiness, credibility, summary, confidence,
 * reasoning, decision, by) and then either archives the story with the reason or moves it on
 * to DEBATING (DEBATE_QUEUE).
 *
 * A deferred budget moves the story straight back to PENDING with bb_complete() (no attempt
 * counted, the lock released) and the analyst waits before claiming again; a halt noticed
 * between the claim and the call does the same without calling. A failed call counts an
 * attempt with bb_fail() (retry, then FAILED with the reason). A claim whose analyst died is
 * taken back by any analyst's bb_reclaim(PROCESSING).
 *
 * Threads: runs on its agent's thread only.
 */
#include "agents/agent.h"
#include "core/clock.h"
#include "core/fail.h"
#include "core/log.h"
#include "cost/cost.h"
#include "store/blackboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANALYST_DEFER_MS 2000
/* Worth covering: newsworthiness and credibility at least these. */
#define ANALYST_MIN_NEWSWORTHY  0.5
#define ANALYST_MIN_CREDIBILITY 0.3

static const char analyst_system[] =
    "You are a news analyst. Judge the story: answer with one JSON object {\"summary\": str, "
    "\"scores\": {\"newsworthiness\": 0-1, \"credibility\": 0-1, \"clarity\": 0-1, \"impact\": "
    "0-1}, \"sentiment\": str, \"entities\": [str], \"topics\": [str], \"confidence\": 0-1}.";

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

/* Gives the claimed story back to PENDING without counting an attempt. */
static void give_back(struct agent_ctx *ctx, const struct bb_lock *lk, const char *why)
{
    char *cause = NULL;

    if (bb_complete(ctx->bb, lk, BB_PENDING, why, &cause) != BB_OK) {
        /* The lock lapses and bb_reclaim() takes it back (counting an attempt). */
        log_warn("%s: cannot give %s back: %s", ctx->id, lk->id, cause);
        free(cause);
    }
}

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_number(v) ? json_number_value(v) : 0;
}

static int analyst_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    struct analyst *an = state;
    struct bb_lock lk;
    struct bb_item *item = NULL;
    struct llm_message msgs[2];
    struct llm_request req = {0};
    struct llm_response resp = {0};
    struct budget_refusal refusal;
    struct llm_error err;
    json_t *ans, *scores, *patch;
    const char *title, *content, *summary;
    char *user, *why = NULL, reasoning[512];
    double nw, cred, conf;
    bool cover;
    int rc;

    if (clock_mono_ms() < an->deferred_until)
        return 0;
    rc = bb_claim(ctx->bb, BB_PENDING, BB_PROCESSING, ctx->claim_ttl_ms, &lk, cause);
    if (rc == BB_NONE)
        return 0;
    if (rc != BB_OK)
        return -1;
    atomic_fetch_add(&ctx->stats->claimed, 1);
    if ((rc = bb_read(ctx->bb, lk.id, &item, cause)) != BB_OK) {
        if (rc == BB_NONE)
            *cause = xasprintf("claimed story %s has disappeared", lk.id);
        give_back(ctx, &lk, "analyst could not read it");
        return -1;
    }
    title = json_string_value(json_object_get(item->body, "title"));
    content = json_string_value(json_object_get(item->body, "content"));
    user = xasprintf("Title: %s\n\n%s", title ? title : "", content ? content : "");
    bb_item_free(item);
    if (agent_halted(ctx)) {
        free(user);
        give_back(ctx, &lk, "swarm halted before analysis");
        return 0;
    }
    msgs[0] = (struct llm_message){"system", analyst_system};
    msgs[1] = (struct llm_message){"user", user};
    req.model = pricing_tier_model(ctx->pricing, LLM_BALANCED)->name;
    req.messages = msgs;
    req.nmessages = 2;
    req.temperature = 0.3;
    req.max_tokens = 400;
    req.json = true;
    req.task_type = "content_analysis";
    req.seed = 2;
    rc = cost_complete(ctx->cost, ctx->provider, lk.id, &req, &resp, &refusal, &err, &why);
    free(user);
    if (rc == COST_DEFERRED) {
        char msg[200];

        atomic_fetch_add(&ctx->stats->deferred, 1);
        snprintf(msg, sizeof msg, "budget deferred by the %s limit", refusal.limit);
        give_back(ctx, &lk, msg);
        an->deferred_until = clock_mono_ms() + ANALYST_DEFER_MS;
        return 0;
    }
    if (rc == COST_FAILED) {
        int now = -1;
        char *fc = NULL;

        if (bb_fail(ctx->bb, lk.id, &lk, why, ctx->max_attempts, &now, &fc) == BB_ERR) {
            log_warn("%s: cannot fail %s: %s", ctx->id, lk.id, fc);
            free(fc);
        }
        atomic_fetch_add(&ctx->stats->failed, 1);
        *cause = xasprintf("analysis of %s failed: %s", lk.id, why);
        free(why);
        return -1;
    }
    atomic_fetch_add(&ctx->stats->llm_calls, 1);
    ans = json_loads(resp.text, 0, NULL);
    llm_response_clear(&resp);
    if (!json_is_object(ans)) {
        json_decref(ans);
        bb_fail(ctx->bb, lk.id, &lk, "the analysis was not a JSON object", ctx->max_attempts, NULL,
                cause);
        atomic_fetch_add(&ctx->stats->failed, 1);
        free(*cause);
        *cause = xasprintf("analysis of %s: the answer was not a JSON object", lk.id);
        return -1;
    }
    scores = json_object_get(ans, "scores");
    nw = num(scores, "newsworthiness");
    cred = num(scores, "credibility");
    conf = num(ans, "confidence");
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
    patch = json_pack("{s:{s:f, s:f, s:s, s:f, s:s, s:s, s:s, s:O?}}", "analysis", "newsworthiness",
                      nw, "credibility", cred, "summary", summary ? summary : "", "confidence",
                      conf, "reasoning", reasoning, "decision", cover ? "cover" : "archive", "by",
                      ctx->id, "topics", json_object_get(ans, "topics"));
    json_decref(ans);
    rc = bb_update(ctx->bb, lk.id, patch, &lk, cause);
    json_decref(patch);
    if (rc != BB_OK) {
        give_back(ctx, &lk, "analyst could not record its decision");
        return -1;
    }
    rc = bb_complete(ctx->bb, &lk, cover ? BB_DEBATING : BB_ARCHIVED, reasoning, cause);
    if (rc != BB_OK) {
        /* Do not leave it locked until the lock lapses: let it go for another analyst. */
        char *ignored = NULL;

        if (bb_lock_release(ctx->bb, &lk, &ignored) != BB_OK)
            free(ignored);
        return -1;
    }
    atomic_fetch_add(cover ? &ctx->stats->advanced : &ctx->stats->archived, 1);
    return 1;
}

static void analyst_shutdown(struct agent_ctx *ctx, void *state)
{
    (void)ctx;
    free(state); /* no claim outlives a cycle */
}

const struct agent_role role_analyst = {
    .name = "analyst",
    .tier = LLM_BALANCED,
    .reclaim = {BB_PROCESSING, -1},
    .init = analyst_init,
    .cycle = analyst_cycle,
    .shutdown = analyst_shutdown,
};
