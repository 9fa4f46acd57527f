/*
 * role_writer.c - the writer: turns a story that reached consensus into a script, and reworks
 * a script that QA or a reviewer sent back. Works on stories in PRODUCING (the production
 * floor), passing them on through blackboard stages: "rewrite" in, "qa" out.
 *
 * Each cycle takes, in one round trip (bb_take_any), the oldest due story waiting on "rewrite"
 * (QA below the bar, or a reviewer's "revise" with body "revision_request"), else on "write"
 * (a script taken back from a writer that died, or waiting for a retry), else claims the
 * oldest CONSENSUS_REACHED story (-> PRODUCING, its step "write"). A new story gets a draft
 * (BALANCED, "script_draft") from its title and content with the analyst's summary and the
 * writers' lessons from earlier stories like it (memory.h), then up to [production]
 * revisions_max revision passes (BALANCED; types tighten, clarity, sources in turn), each
 * measured with script_measure() against the sources and recorded with its improvement (score
 * after minus score before; kept only when positive), then the final script (PREMIUM,
 * "script_final"). Early stopping (only with agent_savings()): a draft whose confidence is
 * below [cost] early_stop_low or above early_stop_high skips the revisions (more BALANCED
 * passes would not change the outcome; QA judges the final either way), and a revision that
 * gains less than revision_min_improvement ends them; each stop is recorded with
 * early_stop_record() and in the script. A draft above early_stop_high is also kept as the
 * final without the PREMIUM pass (QA, on PREMIUM, still judges it). A rework is one PREMIUM
 * revision of the final that answers the last QA verdict's issues ("qa_rework") or the
 * reviewer's note ("reviewer_note", which also restarts the QA rounds). The script goes to
 * "qa" with the whole body field "script".
 *
 * Checkpoints: every paid call's result is kept with the story as it is made, in the body's
 * "writing" (the draft and its confidence, the early-stop decision, every revision so far, the
 * version kept), written after each call that another call follows (the last goes with the
 * hand-off to QA, which replaces "writing" by "script"). A story taken back or retried resumes
 * from there: the draft and the revisions made are never asked for again.
 *
 * A halt, an outage or a deferred budget parks the story without counting an attempt (a new
 * one on "write", a rework on "rewrite": agent_setback_ask) and a deferral or an outage makes
 * the writer wait; a failed call counts an attempt of its step. A writer that dies has its
 * story taken back at once to the front of its stage by the swarm's reaper.
 *
 * Threads: runs on its agent's thread only.
 */
#include "agents/agent.h"
#include "agents/script.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "cost/early_stop.h"
#include "cost/pricing.h"
#include "observe/trace.h"
#include "memory/memory.h"
#include "store/blackboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRITER_DEFER_MS     2000
#define WRITER_DRAFT_TOKENS 400
#define WRITER_FINAL_TOKENS 600

static const struct revision_kind {
    const char *type;
    const char *ask;
} revision_kinds[] = {
    {"tighten", "Tighten it: cut repetition and filler to fit the target length; keep every "
                "fact."},
    {"clarity", "Make it clearer: short spoken sentences, one idea each, the news first."},
    {"sources", "Strengthen the sourcing: keep every figure and attribute each claim to its "
                "named source."},
};
#define NKINDS ((int)(sizeof revision_kinds / sizeof revision_kinds[0]))

static const char draft_system[] =
    "You are a broadcast news writer. Write a script of %d to %d spoken words for a short news "
    "video from the story the user gives: the news first, then the key facts with their "
    "figures, each claim attributed to its named source, then a sign-off. Analyst's summary: "
    "%s. Answer with one JSON object {\"script\": str, \"confidence\": 0-1}.";
static const char revise_system[] =
    "You are a broadcast news editor. Revise the draft below against the story the user gives "
    "(%d to %d spoken words). %s Answer with one JSON object {\"script\": str, \"confidence\": "
    "0-1}.\n\nDraft:\n%s";
static const char final_system[] =
    "You are the senior news writer. Write the final broadcast script (%d to %d spoken words) "
    "from the draft below and the story the user gives: accurate to the sources, every figure "
    "kept, each claim attributed. Answer with one JSON object {\"script\": str, \"confidence\": "
    "0-1}.\n\nDraft:\n%s";
static const char rework_system[] =
    "You are the senior news writer. Rework the final script below against the story the user "
    "gives (%d to %d spoken words). %s Answer with one JSON object {\"script\": str, "
    "\"confidence\": 0-1}.\n\nScript:\n%s";

struct writer {
    int64_t deferred_until; /* monotonic ms */
};

/* One story in hand. */
struct job {
    struct agent_ctx *ctx;
    struct writer *w;
    struct bb_lock lk;
    const char *stage; /* where it came from: "rewrite", or "write" (a new story, a retry) */
    char *sources;     /* title and content: the user message of every call */
    int words_min, words_max;
};

/* The stages a script goes through after the writer, where it would wait. */
#define WRITER_DOWNSTREAM ((1u << BB_FLOW_QA) | (1u << BB_FLOW_PRODUCE))

/* Before a paid call: when the story would then wait past [flow] max_wait for QA and the
 * producer, no call is paid now: the story waits on its stage (its checkpoints kept) and the
 * writer pauses. Returns true when it was held (the cycle returns 0). */
static bool hold(struct job *j)
{
    char *why = NULL;

    if (!agent_flow_wait(j->ctx, WRITER_DOWNSTREAM, &why))
        return false;
    j->w->deferred_until = clock_mono_ms() + WRITER_DEFER_MS;
    agent_park(j->ctx, &j->lk, why, AGENT_FLOW_HOLD_MS, NULL);
    free(why);
    return true;
}

static int writer_init(struct agent_ctx *ctx, void **state, char **cause)
{
    (void)ctx;
    (void)cause;
    *state = xcalloc(1, sizeof(struct writer));
    return 0;
}

static double round3(double v)
{
    return v < 0 ? -(double)(long long)(-v * 1000 + 0.5) / 1000
                 : (double)(long long)(v * 1000 + 0.5) / 1000;
}

/* What to do after a call that did not answer (why taken): the story is set back (parked, or
 * an attempt counted; its checkpoints are written already); 0 or -1 (*cause). */
static int not_answered(struct job *j, int rc, char *why, char **cause)
{
    if (rc == AGENT_ASK_DEFERRED || rc == AGENT_ASK_OUTAGE)
        j->w->deferred_until = clock_mono_ms() + WRITER_DEFER_MS;
    return agent_setback_ask(j->ctx, &j->lk, rc, why, NULL, cause);
}

/* One call for a script: AGENT_ASK_OK with *text (new string, not empty) and *confidence,
 * else what agent_ask() returned, with *why. An empty script counts as a failed call. */
static int ask_script(struct job *j, enum llm_tier tier, const char *task_type, const char *system,
                      int max_tokens, uint64_t seed, char **text, double *confidence, char **why)
{
    json_t *ans = NULL;
    int rc = agent_ask(j->ctx, j->lk.id, tier, task_type, system, j->sources, max_tokens, seed,
                       &ans, why);
    const char *s;

    if (rc != AGENT_ASK_OK)
        return rc;
    s = agent_json_str(ans, "script");
    if (*s == '\0') {
        json_decref(ans);
        *why = xasprintf("the %s answer had no script", task_type);
        return AGENT_ASK_FAILED;
    }
    *text = xstrdup(s);
    *confidence = agent_json_num(ans, "confidence", -1);
    json_decref(ans);
    return AGENT_ASK_OK;
}

static void measure(const struct job *j, const char *text, struct script_metrics *m)
{
    script_measure(text, j->sources, j->words_min, j->words_max, m);
}

/* A revision record: {number, type, improvement, score_before, score_after, kept, confidence,
 * reasoning, by} (plus what it answered, for a rework). New reference. */
static json_t *revision_record(const struct job *j, int number, const char *type,
                               const struct script_metrics *before,
                               const struct script_metrics *after, bool kept, double confidence,
                               const char *answered)
{
    double imp = round3(after->score - before->score);
    char *why = xasprintf("%s: score %.3f -> %.3f (figures kept %d of %d, %d words for %d to %d, "
                          "%d attributions)%s",
                          type, before->score, after->score, after->figures_kept, after->figures,
                          after->words, j->words_min, j->words_max, after->attributions,
                          kept ? "; kept" : "; not kept, the previous version stays");
    json_t *r =
        json_pack("{s:i, s:s, s:f, s:f, s:f, s:b, s:f, s:s, s:s}", "number", number, "type", type,
                  "improvement", imp, "score_before", before->score, "score_after", after->score,
                  "kept", kept, "confidence", confidence, "reasoning", why, "by", j->ctx->id);

    if (answered != NULL)
        json_object_set_new(r, "answered", json_string(answered));
    trace_revision(j->lk.id, number, type, imp, before->score, after->score, kept, why);
    free(why);
    return r;
}

/* Records an early stop of the revisions; returns the script's "early_stop" field. */
static json_t *stop_revisions(struct job *j, enum early_stop_decision d, double confidence,
                              int calls_saved, const char *at, const char *system)
{
    struct agent_ctx *ctx = j->ctx;
    const struct pricing_model *m = pricing_tier_model(ctx->pricing, agent_tier(ctx, LLM_BALANCED));
    int64_t each = pricing_cost(m, llm_estimate_tokens(system) + llm_estimate_tokens(j->sources),
                                WRITER_DRAFT_TOKENS);
    char *cause = NULL;

    if (early_stop_record(ctx->link, ctx->id, j->lk.id, d, confidence, calls_saved, each, &cause) ==
        -1) {
        log_warn("%s: cannot record an early stop of %s: %s", ctx->id, j->lk.id, cause);
        free(cause);
    }
    return json_pack("{s:s, s:f, s:i, s:s}", "reason", early_stop_reason(d), "confidence",
                     confidence, "calls_saved", calls_saved, "at", at);
}

/* Records that the PREMIUM final was not written: the draft was good enough (one call saved,
 * estimated on the PREMIUM model with the final's prompt). */
static void stop_final(struct job *j, double confidence, const char *system)
{
    struct agent_ctx *ctx = j->ctx;
    const struct pricing_model *m = pricing_tier_model(ctx->pricing, LLM_PREMIUM);
    int64_t each = pricing_cost(m, llm_estimate_tokens(system), WRITER_FINAL_TOKENS);
    char *cause = NULL;

    if (early_stop_record(ctx->link, ctx->id, j->lk.id, EARLY_STOP_GOOD_ENOUGH, confidence, 1, each,
                          &cause) == -1) {
        log_warn("%s: cannot record an early stop of %s: %s", ctx->id, j->lk.id, cause);
        free(cause);
    }
}

/* Whether the cascade is on ([cost] cascade, and never in the cost baseline). */
static bool cascade_on(const struct agent_ctx *ctx)
{
    return agent_savings(ctx) && ctx->cfg->cascade;
}

/* Hands the story to "qa" with body "script" (takes ownership of script), the writing's
 * checkpoint done with. 1, or -1. */
static int hand_to_qa(struct job *j, json_t *script, const char *reason, char **cause)
{
    json_t *patch = json_pack("{s:o, s:n}", "script", script, "writing");
    int64_t since = 0;
    int rc;

    do
        rc = bb_handoff(j->ctx->bb, &j->lk, "qa", patch, reason, cause);
    while (agent_again(j->ctx, &rc, &since, cause));

    json_decref(patch);
    if (rc != BB_OK) {
        /* A claim still ours after a Redis error goes back when its lock or its writer dies. */
        char *c = *cause;

        *cause = xasprintf("handing %s to QA: %s", j->lk.id, c != NULL ? c : "refused");
        free(c);
        return -1;
    }
    return 1;
}

/* What a new script's writing has made so far: the body's "writing" checkpoint. */
struct draft {
    char *text;  /* the version kept (the draft, or a revision that improved it) */
    double conf; /* the draft's confidence */
    enum early_stop_decision d;
    json_t *revisions; /* revision records so far */
    json_t *stop;      /* the early stop, or JSON null */
    int done;          /* revisions made */
    bool stopped;      /* the revisions ended early */
};

static const char *const decision_names[] = {
    [EARLY_STOP_CONTINUE] = "continue",
    [EARLY_STOP_LOW_QUALITY] = "low_quality",
    [EARLY_STOP_GOOD_ENOUGH] = "good_enough",
};

static void draft_clear(struct draft *dr)
{
    free(dr->text);
    json_decref(dr->revisions);
    json_decref(dr->stop);
    memset(dr, 0, sizeof *dr);
}

/* The draft state from a "writing" checkpoint: true when there is one. */
static bool draft_from(struct draft *dr, const json_t *w)
{
    const char *text = agent_json_str(w, "draft"), *dn = agent_json_str(w, "decision");

    memset(dr, 0, sizeof *dr);
    if (*text == '\0')
        return false;
    dr->text = xstrdup(text);
    dr->conf = agent_json_num(w, "draft_confidence", -1);
    dr->d = EARLY_STOP_CONTINUE;
    for (size_t i = 0; i < sizeof decision_names / sizeof decision_names[0]; i++)
        if (strcmp(dn, decision_names[i]) == 0)
            dr->d = (enum early_stop_decision)i;
    dr->revisions = json_is_array(json_object_get(w, "revisions"))
                        ? json_deep_copy(json_object_get(w, "revisions"))
                        : json_array();
    dr->stop = json_object_get(w, "early_stop") != NULL
                   ? json_deep_copy(json_object_get(w, "early_stop"))
                   : json_null();
    dr->done = (int)json_integer_value(json_object_get(w, "done"));
    dr->stopped = json_is_true(json_object_get(w, "stopped"));
    return true;
}

/* Keeps the draft state with the story ({"writing": ...}): 0, or -1 with *cause (the claim
 * was lost, or Redis failed: the caller stops here; the story comes back to its step). */
static int draft_keep(struct job *j, const struct draft *dr, char **cause)
{
    json_t *patch = json_pack("{s:{s:s, s:f, s:s, s:O, s:O, s:i, s:b, s:s}}", "writing", "draft",
                              dr->text, "draft_confidence", dr->conf, "decision",
                              decision_names[dr->d], "revisions", dr->revisions, "early_stop",
                              dr->stop, "done", dr->done, "stopped", dr->stopped, "by", j->ctx->id);
    int rc = agent_checkpoint(j->ctx, &j->lk, patch, cause);

    json_decref(patch);
    if (rc == -1) {
        char *c = *cause;

        *cause = xasprintf("keeping the script of %s: %s", j->lk.id, c != NULL ? c : "refused");
        free(c);
    }
    return rc;
}

/* Whether another revision follows. */
static bool revising(const struct config *cfg, const struct draft *dr)
{
    return dr->d == EARLY_STOP_CONTINUE && !dr->stopped && dr->done < cfg->revisions_max;
}

/* Whether the draft kept (measured cur) owes a PREMIUM final: not good enough as drafted, and
 * below the cascade's bar (or no cascade). */
static bool final_owed(const struct agent_ctx *ctx, const struct draft *dr,
                       const struct script_metrics *cur)
{
    const struct config *cfg = ctx->cfg;

    if (dr->d == EARLY_STOP_GOOD_ENOUGH)
        return false;
    return !(cascade_on(ctx) && cur->score >= (double)cfg->cascade_final_bar_ppm / 1e6 &&
             dr->conf >= (double)cfg->cascade_final_confidence_ppm / 1e6);
}

static int write_new(struct job *j, const struct bb_item *item, char **cause)
{
    struct agent_ctx *ctx = j->ctx;
    const struct config *cfg = ctx->cfg;
    const char *summary = agent_json_str(json_object_get(item->body, "analysis"), "summary");
    struct early_stop_config es;
    struct script_metrics cur, m;
    struct draft dr;
    json_t *script, *cascade = NULL;
    char *final = NULL, *sys, *brief, *why = NULL, reason[160];
    double final_conf, bar = (double)cfg->cascade_final_bar_ppm / 1e6;
    double least = (double)cfg->cascade_final_confidence_ppm / 1e6;
    int rc;

    if (!draft_from(&dr, json_object_get(item->body, "writing"))) {
        struct memory_known known;

        if (hold(j))
            return 0;
        brief = xasprintf(draft_system, j->words_min, j->words_max, *summary ? summary : "none");
        /* The writers' lessons from earlier stories like this one (rejections, failed QA); no
         * recall when there is none, none from Redis when none came since the last. */
        agent_lessons(ctx, "writer", &known);
        sys = memory_with_lessons_known(agent_memory(ctx), ctx->id, "writer", j->sources, brief,
                                        &known);
        free(brief);
        rc = ask_script(j, LLM_BALANCED, "script_draft", sys, WRITER_DRAFT_TOKENS, 1, &dr.text,
                        &dr.conf, &why);
        free(sys);
        if (rc != AGENT_ASK_OK)
            return not_answered(j, rc, why, cause);
        dr.revisions = json_array();
        dr.stop = json_null();
        early_stop_config_from(&es, cfg);
        dr.d = agent_savings(ctx) ? early_stop_decide(&es, dr.conf) : EARLY_STOP_CONTINUE;
        if (dr.d != EARLY_STOP_CONTINUE && cfg->revisions_max > 0) {
            sys = xasprintf(revise_system, j->words_min, j->words_max, revision_kinds[0].ask,
                            dr.text);
            json_decref(dr.stop);
            dr.stop = stop_revisions(j, dr.d, dr.conf, cfg->revisions_max, "draft", sys);
            free(sys);
            dr.stopped = true;
        }
        measure(j, dr.text, &cur);
        /* Another paid call follows unless the draft is good enough as it is (or, with no
         * revision to make, meets the cascade's bar). */
        if (dr.d != EARLY_STOP_GOOD_ENOUGH && (revising(cfg, &dr) || final_owed(ctx, &dr, &cur)) &&
            draft_keep(j, &dr, cause) == -1) {
            draft_clear(&dr);
            return -1;
        }
    } else {
        measure(j, dr.text, &cur);
    }
    for (int i = dr.done + 1; dr.d == EARLY_STOP_CONTINUE && !dr.stopped && i <= cfg->revisions_max;
         i++) {
        const struct revision_kind *k = &revision_kinds[(i - 1) % NKINDS];
        /* Tightening aims at the middle of the bounds (about 4 tokens for 3 words). */
        int tokens = strcmp(k->type, "tighten") == 0
                         ? (j->words_min + j->words_max) / 2 * 4 / 3 + 20
                         : WRITER_DRAFT_TOKENS;
        char *text = NULL;
        double c;
        bool kept;

        sys = xasprintf(revise_system, j->words_min, j->words_max, k->ask, dr.text);
        rc = ask_script(j, LLM_BALANCED, "script_draft", sys, tokens, 10 + (uint64_t)i, &text, &c,
                        &why);
        if (rc != AGENT_ASK_OK) {
            free(sys);
            draft_clear(&dr);
            return not_answered(j, rc, why, cause);
        }
        measure(j, text, &m);
        kept = m.score > cur.score;
        json_array_append_new(dr.revisions,
                              revision_record(j, i, k->type, &cur, &m, kept, c, NULL));
        dr.done = i;
        if (kept) {
            free(dr.text);
            dr.text = text;
            text = NULL;
        }
        free(text);
        if (agent_savings(ctx) && i < cfg->revisions_max &&
            round3(m.score - cur.score) < (double)cfg->revision_min_improvement_ppm / 1e6) {
            char at[32];

            snprintf(at, sizeof at, "revision %d", i);
            json_decref(dr.stop);
            dr.stop = stop_revisions(j, EARLY_STOP_GOOD_ENOUGH, c, cfg->revisions_max - i, at, sys);
            json_object_set_new(dr.stop, "why",
                                json_string("the revision improved less than "
                                            "revision_min_improvement"));
            dr.stopped = true;
        }
        free(sys);
        if (kept)
            cur = m;
        /* Kept when a paid call follows: another revision, or the PREMIUM final. */
        if ((revising(cfg, &dr) || final_owed(ctx, &dr, &cur)) && draft_keep(j, &dr, cause) == -1) {
            draft_clear(&dr);
            return -1;
        }
    }
    sys = xasprintf(final_system, j->words_min, j->words_max, dr.text);
    if (dr.d == EARLY_STOP_GOOD_ENOUGH) {
        /* Good enough as drafted: the PREMIUM polish would not change the outcome, and QA (on
         * PREMIUM) still judges it; below its bar it comes back for a PREMIUM rework. */
        stop_final(j, dr.conf, sys);
        if (!json_is_object(dr.stop)) { /* no revisions to stop (revisions_max 0) */
            json_decref(dr.stop);
            dr.stop = json_pack("{s:s, s:f, s:i, s:s}", "reason", early_stop_reason(dr.d),
                                "confidence", dr.conf, "calls_saved", 0, "at", "draft");
        }
        json_object_set_new(dr.stop, "final", json_string("the draft, good enough as it was"));
        final = xstrdup(dr.text);
        final_conf = dr.conf;
        rc = AGENT_ASK_OK;
    } else if (cascade_on(ctx) && !final_owed(ctx, &dr, &cur)) {
        /* The cascade: the BALANCED draft meets the bar, so it is the final; no PREMIUM. */
        cascade = json_pack("{s:b, s:f, s:f, s:f, s:f, s:s}", "escalated", false, "draft_score",
                            round3(cur.score), "bar", bar, "draft_confidence", dr.conf,
                            "least_confidence", least, "final", "the BALANCED draft");
        final = xstrdup(dr.text);
        final_conf = dr.conf;
        rc = AGENT_ASK_OK;
    } else if (hold(j)) {
        free(sys);
        draft_clear(&dr);
        return 0;
    } else {
        /* Below the bar (or no cascade): the final on PREMIUM. Under the cascade it is an
         * escalation, recorded on the story and in usage (task type script_escalation). */
        if (cascade_on(ctx)) {
            char because[200];

            snprintf(because, sizeof because,
                     "the draft measured %.3f (the bar is %.2f) at confidence %.2f (at least "
                     "%.2f)",
                     cur.score, bar, dr.conf, least);
            cascade = json_pack("{s:b, s:f, s:f, s:f, s:f, s:s}", "escalated", true, "draft_score",
                                round3(cur.score), "bar", bar, "draft_confidence", dr.conf,
                                "least_confidence", least, "why", because);
        }
        rc = ask_script(j, LLM_PREMIUM, cascade != NULL ? "script_escalation" : "script_final", sys,
                        WRITER_FINAL_TOKENS, 3, &final, &final_conf, &why);
    }
    free(sys);
    if (rc != AGENT_ASK_OK) {
        json_decref(cascade);
        draft_clear(&dr);
        return not_answered(j, rc, why, cause);
    }
    measure(j, final, &m);
    script = json_pack("{s:s, s:s, s:i, s:f, s:f, s:f, s:O, s:O, s:i, s:s}", "draft", dr.text,
                       "final", final, "words", m.words, "draft_confidence", dr.conf, "confidence",
                       final_conf, "score", m.score, "revisions", dr.revisions, "early_stop",
                       dr.stop, "qa_reworks", 0, "by", ctx->id);
    if (cascade != NULL)
        json_object_set_new(script, "cascade", cascade);
    free(final);
    snprintf(reason, sizeof reason, "script written (%d words, %d revision%s); to QA", m.words,
             dr.done, dr.done == 1 ? "" : "s");
    draft_clear(&dr);
    return hand_to_qa(j, script, reason, cause);
}

/* The string items of a JSON array as one new string "a; b; c". */
static char *joined(const json_t *arr)
{
    char *out = xstrdup("");
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        char *next;

        if (!json_is_string(v))
            continue;
        next = xasprintf("%s%s%s", out, *out ? "; " : "", json_string_value(v));
        free(out);
        out = next;
    }
    return out;
}

static int rework(struct job *j, const struct bb_item *item, char **cause)
{
    struct agent_ctx *ctx = j->ctx;
    json_t *script = json_deep_copy(json_object_get(item->body, "script"));
    const json_t *req = json_object_get(item->body, "revision_request");
    const json_t *qa = json_object_get(item->body, "qa");
    struct script_metrics before, after;
    const char *type, *old;
    char *ask, *answered, *sys, *text = NULL, *why = NULL, reason[200];
    bool reviewer;
    double conf;
    int rc, number;

    if (hold(j)) {
        json_decref(script);
        return 0;
    }
    old = agent_json_str(script, "final");
    if (!json_is_object(script) || *old == '\0') {
        json_decref(script);
        agent_fail_story(ctx, &j->lk, "sent back for a rewrite without a final script");
        *cause = xasprintf("%s: sent back for a rewrite without a final script", j->lk.id);
        return -1;
    }
    reviewer = json_is_object(req) &&
               !json_equal((json_t *)req, json_object_get(script, "answered_request"));
    if (reviewer) {
        type = "reviewer_note";
        answered = xstrdup(agent_json_str(req, "note"));
        ask =
            xasprintf("A reviewer (%s) asked for changes: %s", agent_json_str(req, "by"), answered);
    } else {
        const json_t *last = json_array_get(qa, json_array_size(qa) - 1);

        type = "qa_rework";
        answered = joined(json_object_get(last, "issues"));
        ask =
            xasprintf("Quality assurance scored it %.1f of 10 and asked: %s",
                      agent_json_num(last, "score", 0), *answered ? answered : "a stronger script");
    }
    sys = xasprintf(rework_system, j->words_min, j->words_max, ask, old);
    free(ask);
    number = (int)json_array_size(json_object_get(script, "revisions")) + 1;
    rc = ask_script(j, LLM_PREMIUM, "script_final", sys, WRITER_FINAL_TOKENS,
                    100 + (uint64_t)number, &text, &conf, &why);
    free(sys);
    if (rc != AGENT_ASK_OK) {
        free(answered);
        json_decref(script);
        return not_answered(j, rc, why, cause);
    }
    measure(j, old, &before);
    measure(j, text, &after);
    if (!json_is_array(json_object_get(script, "revisions")))
        json_object_set_new(script, "revisions", json_array());
    json_array_append_new(json_object_get(script, "revisions"),
                          revision_record(j, number, type, &before, &after, true, conf, answered));
    free(answered);
    json_object_set_new(script, "final", json_string(text));
    json_object_set_new(script, "words", json_integer(after.words));
    json_object_set_new(script, "confidence", json_real(conf));
    json_object_set_new(script, "score", json_real(after.score));
    json_object_set_new(script, "by", json_string(ctx->id));
    if (reviewer) {
        /* A reviewer's note is a new brief: the QA rounds start again. */
        json_object_set_new(script, "answered_request", json_deep_copy(req));
        json_object_set_new(script, "qa_reworks", json_integer(0));
    } else {
        json_object_set_new(
            script, "qa_reworks",
            json_integer(json_integer_value(json_object_get(script, "qa_reworks")) + 1));
    }
    free(text);
    snprintf(reason, sizeof reason, "script reworked (%s, %d words); back to QA", type,
             after.words);
    return hand_to_qa(j, script, reason, cause);
}

static int writer_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    static const char *const stages[] = {"rewrite", "write"};
    struct writer *w = state;
    struct job j = {.ctx = ctx, .w = w};
    struct bb_flow_opts fo;
    struct bb_item *item = NULL;
    size_t source = 0;
    int rc;

    if (clock_mono_ms() < w->deferred_until || agent_flow_resting(ctx))
        return 0;
    /* Backpressure: no new story while the floor is at its mark (reworks go on); a stale story
     * met on the way is archived. */
    agent_flow_claim(ctx, BB_FLOW_FLOOR, -1, true, &fo);
    rc = bb_take_flow(ctx->bb, stages, 2, BB_PRODUCING, BB_CONSENSUS_REACHED, ctx->claim_ttl_ms,
                      &fo, &j.lk, &item, &source, cause);
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
    agent_hold(ctx, &j.lk, item != NULL ? item->attempts : 0);
    if (item == NULL) {
        *cause = xasprintf("story %s could not be read", j.lk.id);
        agent_park(ctx, &j.lk, "writer could not read it", -1, NULL);
        return -1;
    }
    j.words_min = ctx->cfg->script_words_min;
    j.words_max = ctx->cfg->script_words_max;
    j.sources = xasprintf("%s\n\n%s", agent_json_str(item->body, "title"),
                          agent_json_str(item->body, "content"));
    j.stage = source < 2 ? stages[source] : "write";
    rc = source == 0 ? rework(&j, item, cause) : write_new(&j, item, cause);
    free(j.sources);
    bb_item_free(item);
    return rc;
}

const struct agent_role role_writer = {
    .name = "writer",
    .tier = LLM_BALANCED,
    .reclaim = {BB_PRODUCING, -1},
    .serves = {BB_CONSENSUS_REACHED, BB_PRODUCING, -1},
    .wake = {"CONSENSUS_REACHED", "stage:rewrite", "stage:write", "drained:floor", NULL},
    .init = writer_init,
    .cycle = writer_cycle,
    .shutdown = agent_free_state,
};
