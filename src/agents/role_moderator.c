/*
 * role_moderator.c - the moderator: takes the oldest open debate whose panel has voted or whose
 * deadline has passed, under a lease (debate_ready), computes the consensus (debate_consensus:
 * no model is asked), records it with the story ("consensus": score, threshold, reached,
 * quorum, every vote with its agent, confidence and reasoning, reason, by) and moves the story
 * from DEBATING to CONSENSUS_REACHED, or archives it with "no consensus: ...", in one atomic
 * step that is refused unless the story is DEBATING and nobody holds it (bb_complete_from; the
 * debate's lease already makes this moderator the only one closing it); then it closes the
 * debate with the outcome.
 *
 * A debate whose story is still PENDING or PROCESSING (its analyst opened the debate and has
 * not completed the story yet, or died and the story waits for a retry) is put aside until the
 * lease lapses. A debate whose story has gone past DEBATING or away (an operator moved it, it
 * was deleted) is closed as story_moved, unless the story already carries this debate's
 * consensus: then a moderator died between recording it and closing the debate, and the debate
 * is closed with that outcome. A moderator that dies anywhere leaves its lease to lapse, and the
 * next moderator does the same work again, so every step may be repeated.
 *
 * Threads: runs on its agent's thread only.
 */
#include "agents/agent.h"
#include "core/fail.h"
#include "core/log.h"
#include "observe/trace.h"
#include "store/blackboard.h"
#include "store/debate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long a moderator holds a debate while it closes it. */
#define MODERATOR_LEASE_MS 15000

/* The story's body field "consensus" for this debate. New reference. */
static json_t *consensus_json(const struct agent_ctx *ctx, const struct debate *d,
                              const struct consensus *c)
{
    json_t *votes = json_array();

    for (size_t i = 0; i < d->nvotes; i++)
        json_array_append_new(votes, json_pack("{s:s, s:s, s:f, s:s}", "agent", d->votes[i].agent,
                                               "vote", debate_vote_name(d->votes[i].vote),
                                               "confidence", d->votes[i].confidence, "reasoning",
                                               d->votes[i].reasoning));
    return json_pack("{s:f, s:f, s:b, s:i, s:i, s:b, s:i, s:i, s:i, s:i, s:o, s:s, s:s, s:I}",
                     "score", c->score, "threshold", c->threshold, "reached", c->reached, "quorum",
                     c->quorum, "panel", c->panel, "quorum_met", c->quorum_met, "for", c->n_for,
                     "against", c->n_against, "abstain", c->n_abstain, "votes_cast", c->votes,
                     "votes", votes, "reason", c->reason, "by", ctx->id, "debate_opened_ms",
                     (json_int_t)d->opened_ms);
}

static int close_debate(struct agent_ctx *ctx, const struct debate *d, const char *outcome,
                        double score, const char *reason, char **cause)
{
    int rc = debate_close(ctx->link, d->id, ctx->id, outcome, score, reason, cause);

    if (rc == DEBATE_OK)
        return 1;
    if (rc == DEBATE_REFUSED || rc == DEBATE_NONE) {
        /* Another moderator got there first (our lease lapsed): nothing is lost. */
        log_info("%s: debate %s: %s", ctx->id, d->id, *cause);
        free(*cause);
        *cause = NULL;
        return 1;
    }
    return -1;
}

/* The story is not DEBATING: close the debate with what the story says happened. */
static int close_moved(struct agent_ctx *ctx, const struct debate *d, const struct bb_item *it,
                       char **cause)
{
    const json_t *cons = it != NULL ? json_object_get(it->body, "consensus") : NULL;
    char why[200];

    if (json_is_object(cons) &&
        json_integer_value(json_object_get(cons, "debate_opened_ms")) == d->opened_ms) {
        bool reached = json_is_true(json_object_get(cons, "reached"));
        const char *reason = json_string_value(json_object_get(cons, "reason"));

        return close_debate(ctx, d, reached ? DEBATE_CONSENSUS : DEBATE_NO_CONSENSUS,
                            json_number_value(json_object_get(cons, "score")),
                            reason != NULL ? reason : "", cause);
    }
    if (it == NULL)
        snprintf(why, sizeof why, "the story has gone from the blackboard");
    else
        snprintf(why, sizeof why, "the story was %s, not DEBATING, when the debate closed",
                 bb_statuses[it->status].name);
    return close_debate(ctx, d, DEBATE_STORY_MOVED, 0, why, cause);
}

static int moderator_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    struct debate d;
    struct consensus c;
    struct bb_item *it = NULL;
    struct bb_lock unlocked;
    json_t *patch;
    int rc, out;

    (void)state;
    rc = debate_ready(ctx->link, ctx->id, MODERATOR_LEASE_MS, &d, cause);
    if (rc == DEBATE_NONE)
        return 0;
    if (rc != DEBATE_OK)
        return -1;
    memset(&unlocked, 0, sizeof unlocked);
    snprintf(unlocked.id, sizeof unlocked.id, "%s", d.id);
    debate_consensus(&d, &c);
    /* The common case in one round trip: record the outcome with the move, refused unless the
     * story is DEBATING and nobody holds it (the debate's lease makes this moderator the only
     * one closing it; no lock of the story is needed). */
    patch = json_pack("{s:o}", "consensus", consensus_json(ctx, &d, &c));
    rc = bb_complete_from(ctx->bb, &unlocked, BB_DEBATING,
                          c.reached ? BB_CONSENSUS_REACHED : BB_ARCHIVED, patch, c.reason, cause);
    json_decref(patch);
    if (rc == BB_ERR) {
        char *why = *cause;

        *cause = xasprintf("debate %s: cannot record the consensus: %s", d.id, why);
        free(why);
        debate_clear(&d);
        return -1;
    }
    if (rc != BB_OK) {
        /* Held by another, gone, or not DEBATING: look at the story to tell which. */
        free(*cause);
        *cause = NULL;
        rc = bb_read(ctx->bb, d.id, &it, cause);
        if (rc == BB_ERR) {
            debate_clear(&d);
            return -1;
        }
        if (rc == BB_OK && (it->status == BB_PENDING || it->status == BB_PROCESSING)) {
            /* The analyst opens the debate before it completes the story to DEBATING: it is
             * between the two, or died there and the story waits for a retry (which finds
             * this debate open). Look again once the lease lapses. */
            bb_item_free(it);
            debate_clear(&d);
            return 0;
        }
        if (rc != BB_OK || it->status != BB_DEBATING) {
            out = close_moved(ctx, &d, rc == BB_OK ? it : NULL, cause);
            bb_item_free(it);
            debate_clear(&d);
            return out;
        }
        /* Someone holds the story: the lease lapses and the next try looks again. */
        bb_item_free(it);
        *cause = xasprintf("debate %s: the story is locked by another holder", d.id);
        debate_clear(&d);
        return -1;
    }
    atomic_fetch_add(c.reached ? &ctx->stats->advanced : &ctx->stats->archived, 1);
    trace_consensus(d.id, c.score, c.threshold, c.reached, c.votes, c.reason);
    out = close_debate(ctx, &d, c.reached ? DEBATE_CONSENSUS : DEBATE_NO_CONSENSUS, c.score,
                       c.reason, cause);
    debate_clear(&d);
    return out;
}

const struct agent_role role_moderator = {
    .name = "moderator",
    .tier = LLM_FAST, /* never asks a model */
    .reclaim = {-1},
    .serves = {BB_DEBATING, -1},
    .wake = {"debate_full", NULL},
    .init = NULL,
    .cycle = moderator_cycle,
    .shutdown = NULL,
};
