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

static int qa_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    struct qa *q = state;
    const struct config *cfg = ctx->cfg;
    const double bar = (double)cfg->qa_pass_score_micro / 1e6;
    struct bb_lock lk;
    struct bb_item *item = NULL;
    const json_t *script;
    json_t *ans = NULL, *issues, *verdicts, *patch;
    const char *final;
    char *sys, *user, *why = NULL, reasoning[512], pass[96];
    double score, conf;
    bool length_ok, passed;
    int rc, round, number, words;

    if (clock_mono_ms() < q->deferred_until)
        return 0;
    rc = bb_take(ctx->bb, "qa", BB_PRODUCING, ctx->claim_ttl_ms, &lk, &item, cause);
    if (rc == BB_NONE)
        return 0;
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
    sys = xasprintf(qa_system, cfg->script_words_min, cfg->script_words_max);
    user = xasprintf("Script:\n%s\n\nSources:\n%s\n\n%s", final,
                     agent_json_str(item->body, "title"), agent_json_str(item->body, "content"));
    rc = agent_ask(ctx, lk.id, LLM_PREMIUM, "quality_assurance", sys, user, QA_TOKENS,
                   (uint64_t)round, &ans, &why);
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
    json_array_append_new(verdicts, json_pack("{s:i, s:f, s:b, s:o, s:i, s:f, s:s, s:s}", "round",
                                              number, "score", score, "passed", passed, "issues",
                                              issues, "words", words, "confidence", conf,
                                              "reasoning", reasoning, "by", ctx->id));
    patch = json_pack("{s:o}", "qa", verdicts);
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
    .wake = {"stage:qa", NULL},
    .init = qa_init,
    .cycle = qa_cycle,
    .shutdown = agent_free_state,
};
