/*
 * role_scout.c - the scout: takes stories from the wire simulator (at the wire's rate), asks
 * a FAST model for topic tags in one batched screening call through the budget
 * (cost_complete), and writes each story to RAW_FEED / PENDING with the exact-duplicate check
 * of bb_write(). A deferred call keeps the batch in hand and waits; a failed call still writes
 * the stories, untagged (the news is not lost for want of tags).
 *
 * Threads: runs on its agent's thread only; the wire is the one shared thing (its own mutex).
 * The swarm's in-flight count is raised before a story is taken from the wire and lowered
 * once it is written or refused, so "settled" never sees a story in between.
 */
#include "agents/agent.h"
#include "agents/wire.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "cost/cost.h"
#include "llm/batch.h"
#include "store/blackboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCOUT_DEFER_MS 1000

static const char scout_system[] =
    "You screen news items for a newsroom. For each item give its topic tags. Answer with one "
    "JSON object {\"verdicts\": [{\"item\": N, \"topics\": [...], \"primary\": \"...\", "
    "\"confidence\": 0.0}]}, one verdict per item, N as numbered in the input.";

struct scout {
    struct news_item *held[LLM_BATCH_MAX]; /* taken from the wire, not yet written */
    size_t nheld;
    int64_t deferred_until; /* monotonic ms */
};

static int scout_init(struct agent_ctx *ctx, void **state, char **cause)
{
    (void)ctx;
    (void)cause;
    *state = xcalloc(1, sizeof(struct scout));
    return 0;
}

static size_t batch_size(const struct agent_ctx *ctx)
{
    int n = agent_savings(ctx) ? ctx->cfg->llm_batch_size : 1;

    return n < 1 ? 1 : n > LLM_BATCH_MAX ? LLM_BATCH_MAX : (size_t)n;
}

/* Writes held story i with extra (borrowed) and lets go of it. */
static void scout_write(struct agent_ctx *ctx, struct scout *sc, size_t i, const json_t *extra)
{
    char existing[NEWS_ID_MAX + 1] = "", *cause = NULL;
    int rc = bb_write(ctx->bb, sc->held[i], extra, BB_PENDING, true, existing, &cause);

    if (rc == BB_OK) {
        atomic_fetch_add(&ctx->stats->written, 1);
    } else if (rc == BB_DUPLICATE) {
        atomic_fetch_add(&ctx->stats->duplicates, 1);
        log_debug("%s: %s duplicates %s", ctx->id, sc->held[i]->id, existing);
        free(cause);
    } else {
        /* A Redis failure: the wire story is dropped, said loudly. */
        log_warn("%s: cannot write %s: %s", ctx->id, sc->held[i]->id, cause);
        free(cause);
    }
    news_item_free(sc->held[i]);
    sc->held[i] = NULL;
    atomic_fetch_sub(ctx->inflight, 1);
}

static int scout_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    struct scout *sc = state;
    struct llm_batch_item items[LLM_BATCH_MAX];
    struct llm_batch_verdict verdicts[LLM_BATCH_MAX];
    struct llm_message msgs[2];
    struct llm_request req = {0};
    struct llm_response resp = {0};
    struct budget_refusal refusal;
    struct llm_error err;
    char *texts[LLM_BATCH_MAX], *user, *why = NULL;
    size_t want = batch_size(ctx), n;
    int rc, got = -1;

    (void)cause;
    if (clock_mono_ms() < sc->deferred_until)
        return 0;
    while (ctx->wire != NULL && sc->nheld < want) {
        atomic_fetch_add(ctx->inflight, 1);
        if (wire_take(ctx->wire, &sc->held[sc->nheld]) != 1) {
            atomic_fetch_sub(ctx->inflight, 1);
            break;
        }
        sc->nheld++;
    }
    if (sc->nheld == 0)
        return 0;
    /* The loop checked the halt flag before this cycle; a halt since then must still stop the
     * model call: keep the batch for later. */
    if (agent_halted(ctx))
        return 0;
    n = sc->nheld;
    for (size_t i = 0; i < n; i++) {
        texts[i] = xasprintf("%s\n%s", sc->held[i]->title, sc->held[i]->content);
        items[i] = (struct llm_batch_item){sc->held[i]->id, texts[i]};
        memset(&verdicts[i], 0, sizeof verdicts[i]);
    }
    user = llm_batch_prompt(items, n);
    msgs[0] = (struct llm_message){"system", scout_system};
    msgs[1] = (struct llm_message){"user", user};
    req.model = pricing_tier_model(ctx->pricing, agent_tier(ctx, LLM_FAST))->name;
    req.messages = msgs;
    req.nmessages = 2;
    req.temperature = 0.2;
    req.max_tokens = 64 + 160 * (int)n;
    req.json = true;
    req.task_type = "topic_tagging";
    req.seed = 1;
    rc = cost_complete(ctx->cost, ctx->provider, NULL, &req, &resp, &refusal, &err, &why);
    free(user);
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    if (rc == COST_DEFERRED) {
        /* Keep the batch; try again once the wait is over (or a budget is granted). */
        atomic_fetch_add(&ctx->stats->deferred, 1);
        log_info("%s: screening deferred by the %s limit", ctx->id, refusal.limit);
        sc->deferred_until = clock_mono_ms() + SCOUT_DEFER_MS;
        return 0;
    }
    if (rc == COST_OK) {
        atomic_fetch_add(&ctx->stats->llm_calls, 1);
        got = llm_batch_parse(resp.text, n, verdicts, &why);
        if (got == -1) {
            log_warn("%s: screening answer: %s", ctx->id, why);
            free(why);
        }
        llm_response_clear(&resp);
    } else {
        log_warn("%s: screening failed, writing untagged: %s", ctx->id, why);
        free(why);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *extra = json_pack("{s:s}", "found_by", ctx->id);
        json_t *v = verdicts[i].json != NULL ? json_loads(verdicts[i].json, 0, NULL) : NULL;

        if (v != NULL) {
            json_t *t = json_object_get(v, "topics");
            if (json_is_array(t))
                json_object_set(extra, "tags", t);
            json_object_set_new(extra, "screening", v);
        }
        scout_write(ctx, sc, i, extra);
        json_decref(extra);
        llm_batch_verdict_clear(&verdicts[i]);
    }
    sc->nheld = 0;
    return 1;
}

static void scout_shutdown(struct agent_ctx *ctx, void *state)
{
    struct scout *sc = state;

    if (sc == NULL)
        return;
    /* Stories in hand were never written and are lost: the wire has moved past them. (It is a
     * simulator; a real feed would be read again from its source.) */
    for (size_t i = 0; i < sc->nheld; i++) {
        news_item_free(sc->held[i]);
        atomic_fetch_sub(ctx->inflight, 1);
    }
    free(sc);
}

const struct agent_role role_scout = {
    .name = "scout",
    .tier = LLM_FAST,
    .reclaim = {-1},
    .serves = {-1},
    .init = scout_init,
    .cycle = scout_cycle,
    .shutdown = scout_shutdown,
};
