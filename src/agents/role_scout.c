/*
 * role_scout.c - the scout: takes stories from the configured feeds ([feeds] sources: polls
 * the due ones, claimed through the schedule every scout shares in Redis, feeds/feed_store.h)
 * and from the wire simulator when it runs (at the wire's rate), asks a FAST model for topic tags
 * in one batched screening call through the budget (cost_complete), and writes each story to
 * RAW_FEED / PENDING by its identity and semantic deduplication (memory_story_enter(): a
 * rewording of a story already in is merged into it as a further source). A deferred call keeps the
 * batch in hand and waits; a failed call still writes the stories, untagged (the news is not lost
 * for want of tags). A feed source's poll fetches (feeds/feed_fetch.h, conditional on the
 * validators kept), parses (feeds/feed_parse.h) and records its outcome before any of its items is
 * written; a broken source gets its error and the next poll goes on with the others.
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
#include "feeds/feed_fetch.h"
#include "feeds/feed_parse.h"
#include "feeds/feed_store.h"
#include "llm/batch.h"
#include "memory/memory.h"
#include "store/blackboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCOUT_DEFER_MS 1000
/* How often a scout with feeds asks the shared schedule for due sources. */
#define SCOUT_POLL_CHECK_MS 1000
/* A claim on a source outlives the fetch's timeout by this much. */
#define SCOUT_LEASE_SLACK_MS 60000

static const char scout_system[] =
    "You screen news items for a newsroom. For each item give its topic tags. Answer with one "
    "JSON object {\"verdicts\": [{\"item\": N, \"topics\": [...], \"primary\": \"...\", "
    "\"confidence\": 0.0}]}, one verdict per item, N as numbered in the input.";

/* An item parsed from a feed, waiting for its turn in a batch. */
struct queued {
    struct news_item *item;
    char *source;
};

struct scout {
    struct news_item *held[LLM_BATCH_MAX]; /* taken from a feed or the wire, not yet written */
    char *held_src[LLM_BATCH_MAX];         /* held[i]'s feed source, NULL for the wire */
    size_t nheld;
    int64_t deferred_until; /* monotonic ms */
    char **sources;         /* [feeds] sources */
    size_t nsources;
    struct queued *queue; /* parsed, not yet held; counted in ctx->inflight */
    size_t nqueue, qhead;
    int64_t next_check; /* monotonic ms: when to ask the schedule again */
};

/* Splits "a, b,c" into trimmed, non-empty words. */
static void split_sources(const char *list, struct scout *sc)
{
    char *copy = xstrdup(list), *save = NULL;

    for (char *w = strtok_r(copy, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
        size_t n;

        while (*w == ' ' || *w == '\t')
            w++;
        n = strlen(w);
        while (n > 0 && (w[n - 1] == ' ' || w[n - 1] == '\t'))
            w[--n] = '\0';
        if (n == 0)
            continue;
        sc->sources = xrealloc(sc->sources, (sc->nsources + 1) * sizeof *sc->sources);
        sc->sources[sc->nsources++] = xstrdup(w);
    }
    free(copy);
}

static int scout_init(struct agent_ctx *ctx, void **state, char **cause)
{
    struct scout *sc = xcalloc(1, sizeof *sc);

    (void)cause;
    if (ctx->cfg != NULL && ctx->cfg->feed_sources != NULL)
        split_sources(ctx->cfg->feed_sources, sc);
    *state = sc;
    return 0;
}

static void enqueue(struct agent_ctx *ctx, struct scout *sc, struct news_item *it,
                    const char *source)
{
    if (sc->qhead > 0 && sc->qhead == sc->nqueue)
        sc->qhead = sc->nqueue = 0;
    sc->queue = xrealloc(sc->queue, (sc->nqueue + 1) * sizeof *sc->queue);
    sc->queue[sc->nqueue++] = (struct queued){it, xstrdup(source)};
    atomic_fetch_add(ctx->inflight, 1);
}

/* Polls one source: fetch (conditional), parse every document, queue the items and record
 * the outcome. A failure is the source's, recorded with its reason; it never stops the cycle. */
static void poll_source(struct agent_ctx *ctx, struct scout *sc, const char *source)
{
    const struct config *cfg = ctx->cfg;
    struct feed_fetch_options fo = {cfg->feed_timeout_ms, (size_t)cfg->feed_max_bytes,
                                    cfg->feed_max_redirects};
    struct feed_response resp;
    struct feed_poll p = {.by = ctx->id,
                          .interval_ms = cfg->feed_poll_interval_s * 1000,
                          .backoff_max_ms = cfg->feed_backoff_max_s * 1000};
    char *etag = NULL, *lm = NULL, *cause = NULL, *first_error = NULL, *title = NULL;

    if (feed_store_validators(ctx->link, source, &etag, &lm, &cause) == -1) {
        log_warn("%s: feed %s: %s", ctx->id, source, cause);
        free(cause);
        cause = NULL;
    }
    if (feed_fetch(source, etag, lm, &fo, &resp, &cause) == -1) {
        p.outcome = "error";
        p.error = cause;
        log_info("%s: feed %s: %s", ctx->id, source, cause);
    } else if (resp.not_modified) {
        p.outcome = "not_modified";
        p.etag = resp.etag;
        p.last_modified = resp.last_modified;
    } else {
        for (size_t b = 0; b < resp.nbodies; b++) {
            struct feed_doc doc;
            char *why = NULL;

            if (feed_parse(resp.bodies[b].data, resp.bodies[b].len, resp.bodies[b].url, &doc,
                           &why) == -1) {
                if (first_error == NULL)
                    first_error = resp.nbodies > 1 ? xasprintf("%s: %s", resp.bodies[b].url, why)
                                                   : xstrdup(why);
                free(why);
                continue;
            }
            p.items += (long)doc.nitems;
            p.skipped += (long)doc.skipped;
            if (title == NULL && resp.nbodies == 1)
                title = xstrdup(doc.title);
            for (size_t i = 0; i < doc.nitems; i++) {
                enqueue(ctx, sc, doc.items[i], source);
                doc.items[i] = NULL;
            }
            doc.nitems = 0;
            feed_doc_clear(&doc);
        }
        p.title = title;
        if (first_error != NULL) {
            /* Keep no validators: the next poll reads everything again (the good documents'
             * items come back as duplicates and are refused). */
            p.outcome = "error";
            p.error = first_error;
            log_info("%s: feed %s: %s", ctx->id, source, first_error);
        } else {
            p.outcome = "ok";
            p.etag = resp.etag;
            p.last_modified = resp.last_modified;
        }
    }
    if (feed_store_done(ctx->link, source, &p, &cause) == -1) {
        log_warn("%s: feed %s: cannot record the poll: %s", ctx->id, source, cause);
        free(cause);
        cause = NULL;
    }
    feed_response_clear(&resp);
    free(cause);
    free(first_error);
    free(title);
    free(etag);
    free(lm);
}

/* When the queue is empty and the schedule is due to be asked: claims one due source and
 * polls it. */
static void poll_feeds(struct agent_ctx *ctx, struct scout *sc)
{
    char **claimed = NULL, *cause = NULL;
    int n;

    if (sc->nsources == 0 || sc->qhead < sc->nqueue || clock_mono_ms() < sc->next_check)
        return;
    sc->next_check = clock_mono_ms() + SCOUT_POLL_CHECK_MS;
    n = feed_store_claim(ctx->link, (const char *const *)sc->sources, sc->nsources,
                         ctx->cfg->feed_timeout_ms + SCOUT_LEASE_SLACK_MS, 1, &claimed, &cause);
    if (n == -1) {
        log_warn("%s: feed schedule: %s", ctx->id, cause);
        free(cause);
        return;
    }
    for (int i = 0; i < n && !agent_halted(ctx); i++)
        poll_source(ctx, sc, claimed[i]);
    feed_store_strv_free(claimed, (size_t)n);
    if (n > 0)
        sc->next_check = 0; /* another source may be due as well */
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
    int rc = memory_story_enter(agent_memory(ctx), ctx->bb, sc->held[i], extra, BB_PENDING,
                                existing, &cause);

    if (sc->held_src[i] != NULL && rc != BB_ERR && rc != BB_REFUSED &&
        feed_store_count(ctx->link, sc->held_src[i], rc != BB_OK, &cause) == -1) {
        log_warn("%s: feed %s: cannot count: %s", ctx->id, sc->held_src[i], cause);
        free(cause);
        cause = NULL;
    }
    if (rc == BB_OK) {
        atomic_fetch_add(&ctx->stats->written, 1);
    } else if (rc == BB_DUPLICATE || rc == BB_MERGED || rc == BB_UPDATED || rc == BB_REVISED) {
        atomic_fetch_add(rc == BB_DUPLICATE ? &ctx->stats->duplicates
                         : rc == BB_MERGED  ? &ctx->stats->merged
                                            : &ctx->stats->updated,
                         1);
        log_debug("%s: %s: %s", ctx->id, sc->held[i]->id, cause);
        free(cause);
    } else {
        /* A Redis failure: the wire story is dropped, said loudly. */
        log_warn("%s: cannot write %s: %s", ctx->id, sc->held[i]->id, cause);
        free(cause);
    }
    news_item_free(sc->held[i]);
    sc->held[i] = NULL;
    free(sc->held_src[i]);
    sc->held_src[i] = NULL;
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
    if (sc->nheld < want)
        poll_feeds(ctx, sc);
    while (sc->qhead < sc->nqueue && sc->nheld < want) {
        /* Already counted in flight when it was queued. */
        sc->held[sc->nheld] = sc->queue[sc->qhead].item;
        sc->held_src[sc->nheld++] = sc->queue[sc->qhead++].source;
    }
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
        free(sc->held_src[i]);
        atomic_fetch_sub(ctx->inflight, 1);
    }
    /* Feed items parsed but not written come back on a later poll only if the feed changes;
     * the validators were kept. (A poll writes within a few cycles, so this is rare.) */
    for (size_t i = sc->qhead; i < sc->nqueue; i++) {
        news_item_free(sc->queue[i].item);
        free(sc->queue[i].source);
        atomic_fetch_sub(ctx->inflight, 1);
    }
    free(sc->queue);
    feed_store_strv_free(sc->sources, sc->nsources);
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
