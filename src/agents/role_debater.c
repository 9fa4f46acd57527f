/*
 * role_debater.c - the debater: takes a seat at the first open debate (highest priority, then
 * oldest) that has one free for it (debate_seat_gated: while the stories waiting for a writer
 * are at [flow] write_hwm, only debates already under way), reads the story, asks a BALANCED
 * model for an argument ("debate_argument": stance support | neutral | oppose, argument,
 * reasons, confidence) and votes for, against or abstains accordingly, with the model's
 * confidence and its argument as the reasoning (debate_vote). Before the paid call it looks at
 * the flow: a story that would then wait past [flow] max_wait for a writer gets no vote now
 * (the seat is given back, the debate's clock stands still). Each debater asks with a seed of its
 * own, so a panel's answers differ.
 *
 * The debater holds no blackboard lock: the story stays DEBATING while the panel votes, and the
 * moderator (role_moderator.c) moves it on. Each vote is the paid result, kept in the debate's
 * votes as it is cast. A halted swarm, a deferred budget or an outage gives the seat back and
 * pauses the debate's clock (not the debate's fault; a deferral or an outage also makes the
 * debater wait before taking another seat); a failed call gives the seat back at once for
 * another debater. A debater that dies has its seats freed at once by the swarm's reaper
 * (through nr:debate:seated:<agent>), and the debate gets back the time they were held.
 *
 * Threads: runs on its agent's thread only.
 */
#include "agents/agent.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "observe/trace.h"
#include "store/blackboard.h"
#include "store/debate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEBATER_DEFER_MS 2000
/* A seat lapses after the claim TTL, but never later than half the debate's deadline, so a
 * seat a dead debater left can still be filled in time. */
#define DEBATER_SEAT_MIN_MS 1000

/* The system prompt: the debater's perspective and id. */
#define DEBATER_SYSTEM                                                                             \
    "You sit on a newsroom's editorial panel as %s (panelist %s). Argue whether the story "        \
    "below should be covered as a news video: answer with one JSON object {\"stance\": "           \
    "\"support\"|\"neutral\"|\"oppose\", \"argument\": str, \"reasons\": [str], "                  \
    "\"confidence\": 0-1}."

/* Each debater speaks from one of these angles (chosen by its seed). Its own system prompt
 * also keeps the response cache from handing every panelist the first one's answer. */
static const char *const perspectives[] = {
    "a sceptical fact-checker",
    "the audience editor",
    "the standards editor",
    "a field reporter",
};

static const struct {
    const char *stance;
    enum debate_vote_kind vote;
} stances[] = {
    {"support", DEBATE_FOR},
    {"oppose", DEBATE_AGAINST},
    {"neutral", DEBATE_ABSTAIN},
};

struct debater {
    int64_t deferred_until; /* monotonic ms */
    int seat_ttl_ms;
    uint64_t seed;
    char *system; /* its own system prompt */
};

static int debater_init(struct agent_ctx *ctx, void **state, char **cause)
{
    struct debater *d = xcalloc(1, sizeof *d);
    struct debate_options o;
    uint64_t h = 0xcbf29ce484222325ULL;

    (void)cause;
    debate_options_from(&o, ctx->cfg);
    d->seat_ttl_ms = ctx->claim_ttl_ms;
    if (d->seat_ttl_ms > o.deadline_ms / 2)
        d->seat_ttl_ms = o.deadline_ms / 2;
    if (d->seat_ttl_ms < DEBATER_SEAT_MIN_MS)
        d->seat_ttl_ms = DEBATER_SEAT_MIN_MS;
    /* FNV-1a of the agent id: a seed of its own for every debater of the swarm. */
    for (const char *p = ctx->id; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    d->seed = h;
    d->system = xasprintf(
        DEBATER_SYSTEM, perspectives[h % (sizeof perspectives / sizeof perspectives[0])], ctx->id);
    *state = d;
    return 0;
}

/* Gives the seat back (pause: not the debate's fault, its clock stands still), logging a
 * failure (the seat then goes when this debater's life does). */
static void unseat(struct agent_ctx *ctx, const char *id, bool pause)
{
    char *cause = NULL;

    if (debate_unseat(ctx->link, id, ctx->id, pause, &cause) == DEBATE_ERR) {
        log_warn("%s: cannot give its seat in debate %s back: %s", ctx->id, id, cause);
        free(cause);
    }
}

/* The vote an answer makes: 0, or -1 with *cause when the answer has no valid stance. The
 * reasoning is the argument followed by the reasons (new string in v->reasoning). */
static int answer_vote(const json_t *ans, struct debate_vote *v, char **cause)
{
    const char *stance = json_string_value(json_object_get(ans, "stance"));
    const char *argument = json_string_value(json_object_get(ans, "argument"));
    const json_t *conf = json_object_get(ans, "confidence"), *reasons, *r;
    size_t i, k;
    char *text;

    for (k = 0; k < sizeof stances / sizeof stances[0]; k++)
        if (stance != NULL && strcmp(stance, stances[k].stance) == 0)
            break;
    if (k == sizeof stances / sizeof stances[0]) {
        *cause = xasprintf("the debate_argument answer has no stance of support, neutral or "
                           "oppose");
        return -1;
    }
    v->vote = stances[k].vote;
    /* A model that gives no confidence is taken as unsure either way. */
    v->confidence = json_is_number(conf) ? json_number_value(conf) : 0.5;
    text = xstrdup(argument != NULL ? argument : "");
    reasons = json_object_get(ans, "reasons");
    json_array_foreach(reasons, i, r)
    {
        char *more;

        if (!json_is_string(r))
            continue;
        more = xasprintf("%s%s%s", text, text[0] != '\0' ? "; " : "", json_string_value(r));
        free(text);
        text = more;
    }
    v->reasoning = text;
    return 0;
}

static int debater_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    struct debater *ds = state;
    struct debate d;
    struct debate_vote v;
    char *user, *why = NULL;
    json_t *ans = NULL;
    long nvotes = 0;
    int rc;

    if (clock_mono_ms() < ds->deferred_until)
        return 0;
    /* Backpressure: while the stories waiting for a writer are at their mark, only debates
     * already under way take a debater. */
    rc = debate_seat_gated(ctx->link, ctx->id, ds->seat_ttl_ms, BB_FLOW_WRITE,
                           ctx->cfg->flow_hwm[BB_FLOW_WRITE], &d, cause);
    if (rc == DEBATE_NONE)
        return 0;
    if (rc != DEBATE_OK)
        return -1;
    atomic_fetch_add(&ctx->stats->claimed, 1);
    if (agent_flow_wait(ctx, 1u << BB_FLOW_WRITE, &why)) {
        /* Its story would wait past [flow] max_wait for a writer: no vote is paid now; the
         * debate's clock stands still meanwhile. */
        log_debug("%s: debate %s: %s", ctx->id, d.id, why);
        free(why);
        ds->deferred_until = clock_mono_ms() + DEBATER_DEFER_MS;
        unseat(ctx, d.id, true);
        debate_clear(&d);
        return 0;
    }
    /* The debate carries the story's text: no read of the story needed. */
    user = xasprintf("Title: %s\n\nSummary: %s\n\n%s", d.title, d.summary, d.brief);
    rc = agent_ask(ctx, d.id, LLM_BALANCED, "debate_argument", ds->system, user, 300, ds->seed,
                   &ans, &why);
    free(user);
    switch (rc) {
    case AGENT_ASK_OK:
        break;
    case AGENT_ASK_DEFERRED:
    case AGENT_ASK_OUTAGE:
        ds->deferred_until = clock_mono_ms() + DEBATER_DEFER_MS;
        /* fall through */
    case AGENT_ASK_HALTED:
        log_debug("%s: debate %s: %s; seat given back, the debate waits", ctx->id, d.id, why);
        free(why);
        unseat(ctx, d.id, true);
        debate_clear(&d);
        return 0;
    default:
        /* Another debater takes the seat at once. */
        *cause = xasprintf("debate %s: %s", d.id, why);
        free(why);
        unseat(ctx, d.id, false);
        debate_clear(&d);
        return -1;
    }
    memset(&v, 0, sizeof v);
    snprintf(v.agent, sizeof v.agent, "%s", ctx->id);
    if (answer_vote(ans, &v, &why) == -1) {
        *cause = xasprintf("debate %s: %s", d.id, why);
        free(why);
        json_decref(ans);
        unseat(ctx, d.id, false);
        debate_clear(&d);
        return -1;
    }
    json_decref(ans);
    /* The vote is the paid result: a Redis that is restarting or stopped must not lose it. A
     * refusal after a failed try may mean that try was carried out. */
    {
        int64_t since = clock_mono_ms();
        bool retried = false;

        while ((rc = debate_vote(ctx->link, d.id, &v, &nvotes, &why)) == DEBATE_ERR &&
               clock_mono_ms() - since < ctx->claim_ttl_ms / 2 && !atomic_load(ctx->stop)) {
            free(why);
            why = NULL;
            retried = true;
            atomic_store(&ctx->life_ms, clock_mono_ms());
            clock_sleep_ms_until(500, ctx->stop);
        }
        if (rc == DEBATE_REFUSED && retried && strstr(why, "has voted") != NULL) {
            free(why);
            why = NULL;
            rc = DEBATE_OK;
        }
    }
    if (rc == DEBATE_OK) {
        trace_vote(d.id, debate_vote_name(v.vote), v.confidence, v.reasoning);
        log_debug("%s: voted %s (%.2f) in debate %s, %ld vote(s) in", ctx->id,
                  debate_vote_name(v.vote), v.confidence, d.id, nvotes);
    } else if (rc == DEBATE_ERR) {
        *cause = xasprintf("debate %s: cannot vote: %s", d.id, why);
        free(why);
        free(v.reasoning);
        debate_clear(&d);
        return -1;
    } else {
        /* Closed meanwhile, or the seat lapsed while the model thought: the vote comes too
         * late, which is not an error of this debater. */
        log_info("%s: vote in debate %s refused: %s", ctx->id, d.id, why);
        free(why);
    }
    free(v.reasoning);
    debate_clear(&d);
    return 1;
}

static void debater_shutdown(struct agent_ctx *ctx, void *state)
{
    struct debater *d = state;

    (void)ctx;
    free(d->system);
    free(d); /* a seat never outlives a cycle */
}

const struct agent_role role_debater = {
    .name = "debater",
    .tier = LLM_BALANCED,
    .reclaim = {-1},
    .serves = {-1},
    .wake = {"debate", "drained:write", NULL},
    .init = debater_init,
    .cycle = debater_cycle,
    .shutdown = debater_shutdown,
};
