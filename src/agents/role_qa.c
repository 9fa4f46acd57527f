/*
 * role_qa.c - quality assurance: takes the oldest story waiting on the "qa" stage (status
 * PRODUCING, handed on by the writer), asks a PREMIUM model ("quality_assurance") to score the
 * final script against the story's sources (facts, length, tone: score 0 to 10, issues,
 * confidence) and checks the length itself ([production] script_words_min and _max). A
 * script passes with a score of at least qa_pass_score and a length within the bounds.
 *
 * Every verdict is appended to the body's "qa" array: {round, score, passed, issues, words,
 * confidence, reasoning, by}. The verdict's round numbers every QA round of the story (after a
 * reviewer's revise they go on: 1, 2, then 3); the rounds left in a pass are the script's QA
 * reworks plus one (the writer counts them in script.qa_reworks and starts again after a
 * reviewer's note). Passed: handed on to
 * "produce". Below the bar with rounds left (qa_max_rounds): handed back to the writer on
 * "rewrite". Below the bar in the last round: FAILED at once with the reason (bb_fail with
 * one attempt allowed), and the writers learn from it (memory_learn: a lesson recalled into
 * the drafts of stories like it).
 *
 * The verdict is the paid result of this step, kept with the story in the step that hands it
 * on. A halt, an outage or a deferred budget parks the story on "qa" without counting an
 * attempt (and a deferral or an outage makes QA wait); a failed call counts an attempt of the
 * step "qa" (agent_fail_story: retried on "qa" after a backoff, the script kept; FAILED with
 * its error history when the attempts run out). A QA agent that dies has its story taken back
 * to the front of "qa" at once by the swarm's reaper.
 *
 * Threads: runs on its agent's thread only.
 */
#include "agents/agent.h"
#include "agents/script.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "observe/trace.h"
#include "memory/memory.h"
#include "store/blackboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QA_DEFER_MS 2000
#define QA_TOKENS   300

static const char qa_system[] =
    "You are the quality desk of a news channel. Score the broadcast script against its sources "
    "for factual accuracy (every figure and claim as the sources give it, attributed), length "
    "(%d to %d words) and a neutral, clear tone. Answer with one JSON object {\"score\": 0-10, "
    "\"passed\": bool, \"issues\": [str], \"confidence\": 0-1}.";

struct qa {
    int64_t deferred_until; /* monotonic ms */
};

static int qa_init(struct agent_ctx *ctx, void **state, char **cause)
{
    (void)ctx;
    (void)cause;
    *state = xcalloc(1, sizeof(struct qa));
    return 0;
}

/* Records the verdicts and fails the story at once (one attempt allowed), in one step. */
static int qa_fail(struct agent_ctx *ctx, const struct bb_lock *lk, json_t *patch, const char *why,
                   char **cause)
{
    /* The verdicts and the failure in one step. */
    atomic_fetch_add(&ctx->stats->failed, 1);
    int64_t since = 0;
    int rc;

    do
        rc = bb_fail_with(ctx->bb, lk->id, lk, why, 1, patch, NULL, cause);
    while (agent_again(ctx, &rc, &since, cause));
    return rc == BB_OK ? 1 : -1; /* else the claim goes back when its lock or its agent dies */
}

/* Whether the cascade is on ([cost] cascade, and never in the cost baseline). */
static bool cascade_on(const struct agent_ctx *ctx)
{
    return agent_savings(ctx) && ctx->cfg->cascade;
}

/* Why a BALANCED verdict (score, confidence) is in doubt against the bar: borderline or not
 * sure enough ([cost] cascade_qa_borderline, cascade_qa_confidence); NULL when it stands. */
static const char *doubt(const struct config *cfg, double score, double conf, double bar, char *buf,
                         size_t size)
{
    double near = (double)cfg->cascade_qa_borderline_micro / 1e6;
    double least = (double)cfg->cascade_qa_confidence_ppm / 1e6;

    if (score >= bar - near && score < bar + near)
        snprintf(buf, size, "borderline: %.1f is within %.1f of the bar %.1f", score, near, bar);
    else if (conf < least)
        snprintf(buf, size, "not sure enough: confidence %.2f, below %.2f", conf, least);
    else
        return NULL;
    return buf;
}

/* The verdict of one QA round: with the cascade, BALANCED first ("quality_assurance"), and a
 * PREMIUM second opinion ("qa_escalation") only for a verdict in doubt; the first is kept with
 * the story (body "qa_first", a checkpoint) before the second is asked, so a story taken back
 * does not pay for it again. Without the cascade, one PREMIUM call. Returns what agent_ask()
 * returns, with *ans, and *cascade (new reference, NULL without the cascade): {first: {tier,
 * score, confidence}, escalated, why}. */
static int qa_ask(struct agent_ctx *ctx, const struct bb_lock *lk, const struct bb_item *item,
                  int number, int round, const char *sys, const char *user, double bar,
                  json_t **ans, json_t **cascade, char **why)
{
    const json_t *kept = json_object_get(item->body, "qa_first");
    double s1, c1;
    char buf[160];
    const char *in_doubt;
    json_t *first;
    int rc;

    *cascade = NULL;
    if (!cascade_on(ctx))
        return agent_ask(ctx, lk->id, LLM_PREMIUM, "quality_assurance", sys, user, QA_TOKENS,
                         (uint64_t)round, ans, why);
    if (json_is_object(kept) && json_integer_value(json_object_get(kept, "round")) == number) {
        /* Asked before this round: the BALANCED opinion stands, only the second is owed. */
        first = json_deep_copy(json_object_get(kept, "answer"));
    } else {
        rc = agent_ask(ctx, lk->id, LLM_BALANCED, "quality_assurance", sys, user, QA_TOKENS,
                       (uint64_t)round, &first, why);
        if (rc != AGENT_ASK_OK)
            return rc;
    }
    s1 = agent_json_num(first, "score", 0);
    c1 = agent_json_num(first, "confidence", -1);
    in_doubt = doubt(ctx->cfg, s1, c1, bar, buf, sizeof buf);
    *cascade = json_pack("{s:{s:s, s:f, s:f}, s:b}", "first", "tier", "BALANCED", "score", s1,
                         "confidence", c1, "escalated", in_doubt != NULL);
    if (in_doubt == NULL) {
        *ans = first;
        return AGENT_ASK_OK;
    }
    json_object_set_new(*cascade, "why", json_string(in_doubt));
    if (!json_is_object(kept) || json_integer_value(json_object_get(kept, "round")) != number) {
        json_t *patch = json_pack("{s:{s:i, s:O}}", "qa_first", "round", number, "answer", first);
        char *c = NULL;

        if (agent_checkpoint(ctx, lk, patch, &c) == -1) {
            /* The claim was lost or Redis failed: the story comes back to QA. */
            json_decref(patch);
            json_decref(first);
            json_decref(*cascade);
            *cascade = NULL;
            *why = xasprintf("keeping the first QA opinion: %s", c != NULL ? c : "refused");
            free(c);
            return AGENT_ASK_LOST;
        }
        json_decref(patch);
    }
    json_decref(first);
    rc = agent_ask(ctx, lk->id, LLM_PREMIUM, "qa_escalation", sys, user, QA_TOKENS, (uint64_t)round,
                   ans, why);
    if (rc != AGENT_ASK_OK) {
        json_decref(*cascade);
        *cascade = NULL;
    }
    return rc;
}

static int qa_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    struct qa *q = state;
    const struct config *cfg = ctx->cfg;
    const double bar = (double)cfg->qa_pass_score_micro / 1e6;
    struct bb_lock lk;
    struct bb_item *item = NULL;
    const json_t *script;
    json_t *ans = NULL, *issues, *verdicts, *patch, *cascade = NULL;
    struct bb_flow_opts fo;
    const char *stage = "qa";
    const char *final;
    char *sys, *user, *why = NULL, reasoning[512], pass[96];
    double score, conf;
    bool length_ok, passed;
    int rc, round, number, words;

    if (clock_mono_ms() < q->deferred_until || agent_flow_resting(ctx))
        return 0;
    /* Backpressure: nothing is taken while the producer's stage is at its mark. */
    agent_flow_claim(ctx, -1, BB_FLOW_PRODUCE, false, &fo);
    rc = bb_take_flow(ctx->bb, &stage, 1, BB_PRODUCING, -1, ctx->claim_ttl_ms, &fo, &lk, &item,
                      NULL, cause);
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
        agent_park(ctx, &lk, "qa could not read it", -1, NULL);
        *cause = xasprintf("story %s could not be read", lk.id);
        return -1;
    }
    script = json_object_get(item->body, "script");
    final = agent_json_str(script, "final");
    if (*final == '\0') {
        agent_fail_story(ctx, &lk, "handed to QA without a final script");
        *cause = xasprintf("%s: handed to QA without a final script", lk.id);
        bb_item_free(item);
        return -1;
    }
    round = (int)json_integer_value(json_object_get(script, "qa_reworks")) + 1;
    /* The verdict's number counts every QA round the story had, a reviewer's revise
     * included; the rounds left (qa_max_rounds) count only this pass's reworks. */
    number = (int)json_array_size(json_object_get(item->body, "qa")) + 1;
    if (agent_flow_wait(ctx, 1u << BB_FLOW_PRODUCE, &why)) {
        /* The producer would keep it waiting past [flow] max_wait: no verdict is paid now. */
        bb_item_free(item);
        q->deferred_until = clock_mono_ms() + QA_DEFER_MS;
        agent_park(ctx, &lk, why, AGENT_FLOW_HOLD_MS, NULL);
        free(why);
        return 0;
    }
    sys = xasprintf(qa_system, cfg->script_words_min, cfg->script_words_max);
    user = xasprintf("Script:\n%s\n\nSources:\n%s\n\n%s", final,
                     agent_json_str(item->body, "title"), agent_json_str(item->body, "content"));
    rc = qa_ask(ctx, &lk, item, number, round, sys, user, bar, &ans, &cascade, &why);
    free(sys);
    free(user);
    if (rc != AGENT_ASK_OK) {
        bb_item_free(item);
        if (rc == AGENT_ASK_DEFERRED || rc == AGENT_ASK_OUTAGE)
            q->deferred_until = clock_mono_ms() + QA_DEFER_MS;
        return agent_setback_ask(ctx, &lk, rc, why, NULL, cause);
    }
    score = agent_json_num(ans, "score", 0);
    conf = agent_json_num(ans, "confidence", -1);
    issues = json_is_array(json_object_get(ans, "issues"))
                 ? json_deep_copy(json_object_get(ans, "issues"))
                 : json_array();
    words = script_words(final);
    length_ok = words >= cfg->script_words_min && words <= cfg->script_words_max;
    if (!length_ok) {
        char msg[128];

        snprintf(msg, sizeof msg, "%d words; a script needs %d to %d", words, cfg->script_words_min,
                 cfg->script_words_max);
        json_array_append_new(issues, json_string(msg));
    }
    passed = score >= bar && length_ok;
    if (number == round)
        snprintf(pass, sizeof pass, "round %d of %d", round, cfg->qa_max_rounds);
    else
        snprintf(pass, sizeof pass, "round %d (%d of %d since the reviewer's note)", number, round,
                 cfg->qa_max_rounds);
    snprintf(reasoning, sizeof reasoning,
             "%s: score %.1f of 10 (the bar is %.1f), %d words (%d to %d)%s; %s", pass, score, bar,
             words, cfg->script_words_min, cfg->script_words_max,
             length_ok ? "" : ", out of bounds",
             passed                       ? "passed, to the producer"
             : round < cfg->qa_max_rounds ? "below the bar, back to the writer"
                                          : "below the bar with no rounds left");
    json_decref(ans);
    trace_qa(lk.id, round, score, passed, reasoning);
    verdicts = json_is_array(json_object_get(item->body, "qa"))
                   ? json_deep_copy(json_object_get(item->body, "qa"))
                   : json_array();
    {
        json_t *v = json_pack(
            "{s:i, s:f, s:b, s:o, s:i, s:f, s:s, s:s, s:s}", "round", number, "score", score,
            "passed", passed, "issues", issues, "words", words, "confidence", conf, "reasoning",
            reasoning, "by", ctx->id, "tier",
            cascade != NULL && !json_is_true(json_object_get(cascade, "escalated")) ? "BALANCED"
                                                                                    : "PREMIUM");

        if (cascade != NULL)
            json_object_set_new(v, "cascade", cascade);
        json_array_append_new(verdicts, v);
    }
    /* The verdicts, and the first opinion kept while a second was asked, done with. */
    patch = json_pack("{s:o, s:n}", "qa", verdicts, "qa_first");
    if (!passed && round >= cfg->qa_max_rounds) {
        /* The writers remember why, for the next story like this one. */
        const char *const writers[] = {"writer", NULL};
        char *list = json_dumps(issues, JSON_COMPACT), *what;

        what = xasprintf("Its script failed quality assurance for good (%s; issues: %s)", reasoning,
                         list != NULL ? list : "[]");
        memory_learn(agent_memory(ctx), ctx->id, writers, item, what, 0.6);
        free(what);
        free(list);
    }
    bb_item_free(item);
    if (passed || round < cfg->qa_max_rounds) {
        int64_t since = 0;

        do
            rc = bb_handoff(ctx->bb, &lk, passed ? "produce" : "rewrite", patch, reasoning, cause);
        while (agent_again(ctx, &rc, &since, cause));
        rc = rc == BB_OK ? 1 : -1;
    } else {
        char *fw = xasprintf("QA: %s", reasoning);

        rc = qa_fail(ctx, &lk, patch, fw, cause);
        free(fw);
    }
    json_decref(patch);
    return rc;
}

const struct agent_role role_qa = {
    .name = "qa",
    .tier = LLM_PREMIUM,
    .reclaim = {BB_PRODUCING, -1},
    .serves = {BB_PRODUCING, -1},
    .wake = {"stage:qa", "drained:produce", NULL},
    .init = qa_init,
    .cycle = qa_cycle,
    .shutdown = agent_free_state,
};
