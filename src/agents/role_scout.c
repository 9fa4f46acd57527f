/*
 * role_scout.c - the scout: takes stories from the configured feeds ([feeds] sources: the due
 * ones, claimed through the schedule every scout shares in Redis, feeds/feed_store.h) and from
 * the wire simulator when it runs (at the wire's rate), asks a FAST model for topic tags in one
 * batched screening call through the budget (cost_complete), and writes each story to RAW_FEED
 * / PENDING by its identity and semantic deduplication (memory_story_enter(): a rewording of a
 * story already in is merged into it as a further source). A deferred call keeps the batch in
 * hand and waits; a failed call still writes the stories, untagged (the news is not lost for
 * want of tags).
 *
 * Feeds never block a scout: a claimed source goes to the process's fetcher pool
 * (feeds/feed_pool.h), which fetches, parses and completes summaries with the article's text on
 * its own thread; each cycle the scout takes what the pool has ready, without waiting, so its
 * heartbeat and the halt flag are read on time however long a host takes. The pool's events
 * keep their order: a source's items, then its "done". The done is recorded (status,
 * schedule, and the validators for the next conditional request) only once every item before
 * it is written, so a scout that stops mid-poll leaves the old validators and the next poll
 * reads the feed whole again: no item is lost. While a poll is unfinished its claim is
 * extended, and on stop it is given back, due at once. A folder source's done names its
 * files, which become sources of their own (feed_store_members).
 *
 * Threads: runs on its agent's thread only; the wire (its own mutex) and the fetcher pool (its
 * own mutex and thread) are the shared things. The swarm's in-flight count is raised before a
 * story is taken from the wire or the pool and lowered once it is written or refused, so
 * "settled" never sees a story in between.
 */
#include "agents/agent.h"
#include "agents/wire.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "cost/cost.h"
#include "feeds/feed_pool.h"
#include "feeds/feed_store.h"
#include "llm/batch.h"
#include "memory/memory.h"
#include "observe/trace.h"
#include "store/blackboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCOUT_DEFER_MS 1000
/* How often a scout with feeds asks the shared schedule for due sources. */
#define SCOUT_POLL_CHECK_MS 1000
/* A claim on a source outlives the fetch's timeout by this much; an unfinished poll's claim is
 * extended every third of it. */
#define SCOUT_LEASE_SLACK_MS 60000
/* Polls one scout has in the pool at once. */
#define SCOUT_POLLS_MAX 8

static const char scout_system[] =
    "You screen news items for a newsroom. For each item give its topic tags. Answer with one "
    "JSON object {\"verdicts\": [{\"item\": N, \"topics\": [...], \"primary\": \"...\", "
    "\"confidence\": 0.0}]}, one verdict per item, N as numbered in the input.";

/* A poll this scout has in the pool: submitted, its done not yet recorded. */
struct poll {
    char *source;
    bool write_failed; /* an item of it could not be written: keep the old validators */
};

struct scout {
    struct news_item *held[LLM_BATCH_MAX];     /* taken from a feed or the wire, not yet written */
    struct feed_event *held_ev[LLM_BATCH_MAX]; /* held[i]'s feed event (owns it), NULL: wire */
    size_t nheld;
    int64_t deferred_until; /* monotonic ms */
    char **sources;         /* [feeds] sources */
    size_t nsources;
    char **fulltext; /* [feeds] fulltext: the sources that want full text ("*": all) */
    size_t nfulltext;
    struct feed_pool *pool;    /* the process's, while there are sources */
    struct feed_event **queue; /* taken from the pool, not yet held; items counted in flight */
    size_t nqueue, qhead;
    struct poll *polls;
    size_t npolls;
    int64_t next_check;  /* monotonic ms: when to ask the schedule again */
    int64_t next_extend; /* monotonic ms: when to extend the unfinished polls' claims */
    int lease_ms;
};

static int scout_init(struct agent_ctx *ctx, void **state, char **cause)
{
    struct scout *sc = xcalloc(1, sizeof *sc);

    (void)cause;
    if (ctx->cfg != NULL && ctx->cfg->feed_sources != NULL)
        sc->nsources = feed_store_split(ctx->cfg->feed_sources, &sc->sources);
    if (sc->nsources > 0) {
        struct feed_pool_options po;

        sc->nfulltext = feed_store_split(ctx->cfg->feed_fulltext, &sc->fulltext);
        feed_pool_options_from_config(&po, ctx->cfg);
        sc->pool = feed_pool_acquire(&po);
        sc->lease_ms = ctx->cfg->feed_timeout_ms + SCOUT_LEASE_SLACK_MS;
    }
    *state = sc;
    return 0;
}

static struct poll *poll_of(struct scout *sc, const char *source)
{
    for (size_t i = 0; i < sc->npolls; i++)
        if (strcmp(sc->polls[i].source, source) == 0)
            return &sc->polls[i];
    return NULL;
}

/* Submits one claimed source to the pool, with the validators kept for it. */
static void submit(struct agent_ctx *ctx, struct scout *sc, const char *source)
{
    const struct config *cfg = ctx->cfg;
    struct feed_job job = {
        .source = source,
        .fetch = {cfg->feed_timeout_ms, (size_t)cfg->feed_max_bytes, cfg->feed_max_redirects},
        .fulltext = feed_store_listed(sc->fulltext, sc->nfulltext, source)};
    char *etag = NULL, *lm = NULL, *cause = NULL;

    if (feed_store_validators(ctx->link, source, &etag, &lm, &cause) == -1) {
        log_warn("%s: feed %s: %s", ctx->id, source, cause);
        free(cause);
    }
    job.etag = etag;
    job.last_modified = lm;
    feed_pool_submit(sc->pool, (uintptr_t)sc, &job);
    sc->polls = xrealloc(sc->polls, (sc->npolls + 1) * sizeof *sc->polls);
    sc->polls[sc->npolls++] = (struct poll){xstrdup(source), false};
    free(etag);
    free(lm);
}

/* Takes what the pool has ready for this scout, without waiting. */
static void take_events(struct agent_ctx *ctx, struct scout *sc)
{
    struct feed_event *ev;

    if (sc->qhead > 0) {
        /* What was taken off the front goes; the queue never grows past what waits. */
        memmove(sc->queue, sc->queue + sc->qhead, (sc->nqueue - sc->qhead) * sizeof *sc->queue);
        sc->nqueue -= sc->qhead;
        sc->qhead = 0;
    }
    while ((ev = feed_pool_take(sc->pool, (uintptr_t)sc)) != NULL) {
        sc->queue = xrealloc(sc->queue, (sc->nqueue + 1) * sizeof *sc->queue);
        sc->queue[sc->nqueue++] = ev;
        if (ev->kind == FEED_EVENT_ITEM)
            atomic_fetch_add(ctx->inflight, 1);
    }
}

/* Records a poll's done: every item before it is written. Its claim ends here. */
static void record_done(struct agent_ctx *ctx, struct scout *sc, struct feed_event *ev)
{
    const struct config *cfg = ctx->cfg;
    struct poll *pl = poll_of(sc, ev->source);
    bool keep_old = pl != NULL && pl->write_failed;
    struct feed_poll p = {.outcome = ev->outcome,
                          .error = ev->error,
                          .items = ev->items,
                          .skipped = ev->skipped,
                          .title = ev->title,
                          .etag = keep_old ? NULL : ev->etag,
                          .last_modified = keep_old ? NULL : ev->last_modified,
                          .folder = ev->members != NULL,
                          .files = (long)ev->nmembers,
                          .by = ctx->id,
                          .interval_ms = cfg->feed_poll_interval_s * 1000,
                          .backoff_max_ms = cfg->feed_backoff_max_s * 1000};
    char *cause = NULL;

    if (strcmp(ev->outcome, "error") == 0)
        log_info("%s: feed %s: %s", ctx->id, ev->source, ev->error);
    if (ev->members != NULL &&
        feed_store_members(ctx->link, ev->source, (const char *const *)ev->members, ev->nmembers,
                           &cause) == -1) {
        log_warn("%s: feed %s: cannot record its files: %s", ctx->id, ev->source, cause);
        free(cause);
        cause = NULL;
    }
    if (feed_store_done(ctx->link, ev->source, &p, &cause) == -1) {
        log_warn("%s: feed %s: cannot record the poll: %s", ctx->id, ev->source, cause);
        free(cause);
    }
    if (pl != NULL) {
        free(pl->source);
        *pl = sc->polls[--sc->npolls];
    }
}

/* Records the dones at the head of the queue while nothing is held (everything before them is
 * written). Returns how many. */
static int record_dones(struct agent_ctx *ctx, struct scout *sc)
{
    int n = 0;

    while (sc->nheld == 0 && sc->qhead < sc->nqueue &&
           sc->queue[sc->qhead]->kind == FEED_EVENT_DONE) {
        struct feed_event *ev = sc->queue[sc->qhead++];

        record_done(ctx, sc, ev);
        feed_event_free(ev);
        n++;
    }
    return n;
}

/* Keeps the claims of unfinished polls alive. */
static void extend_claims(struct agent_ctx *ctx, struct scout *sc)
{
    const char **v;
    char *cause = NULL;

    if (sc->npolls == 0 || clock_mono_ms() < sc->next_extend)
        return;
    sc->next_extend = clock_mono_ms() + sc->lease_ms / 3;
    v = xcalloc(sc->npolls, sizeof *v);
    for (size_t i = 0; i < sc->npolls; i++)
        v[i] = sc->polls[i].source;
    if (feed_store_extend(ctx->link, v, sc->npolls, sc->lease_ms, &cause) == -1) {
        log_warn("%s: feed schedule: %s", ctx->id, cause);
        free(cause);
    }
    free(v);
}

/* When there is room, claims due sources and hands them to the pool. */
static void poll_feeds(struct agent_ctx *ctx, struct scout *sc)
{
    char **claimed = NULL, *cause = NULL;
    int n;

    if (sc->nsources == 0 || sc->npolls >= SCOUT_POLLS_MAX || sc->nqueue - sc->qhead > 0 ||
        clock_mono_ms() < sc->next_check)
        return;
    sc->next_check = clock_mono_ms() + SCOUT_POLL_CHECK_MS;
    n = feed_store_claim(ctx->link, (const char *const *)sc->sources, sc->nsources, sc->lease_ms,
                         SCOUT_POLLS_MAX - sc->npolls, &claimed, &cause);
    if (n == -1) {
        log_warn("%s: feed schedule: %s", ctx->id, cause);
        free(cause);
        return;
    }
    for (int i = 0; i < n; i++)
        submit(ctx, sc, claimed[i]);
    if (n > 0 && sc->npolls == (size_t)n)
        sc->next_extend = clock_mono_ms() + sc->lease_ms / 3;
    feed_store_strv_free(claimed, (size_t)n);
}

static size_t batch_size(const struct agent_ctx *ctx)
{
    int n = agent_savings(ctx) ? ctx->cfg->llm_batch_size : 1;

    return n < 1 ? 1 : n > LLM_BATCH_MAX ? LLM_BATCH_MAX : (size_t)n;
}

/* Whether a title announces breaking news: it starts with "breaking" (any case) followed by
 * ":", " -", " news" or white space. */
static bool title_breaking(const char *title)
{
    static const char word[] = "breaking";

    while (*title == ' ' || *title == '\t' || *title == '[' || *title == '(')
        title++;
    if (strncasecmp(title, word, sizeof word - 1) != 0)
        return false;
    title += sizeof word - 1;
    return *title == ':' || *title == ' ' || *title == '\t' || *title == '-' || *title == ']' ||
           *title == ')';
}

/* Writes held story i with extra (borrowed) and lets go of it. */
static void scout_write(struct agent_ctx *ctx, struct scout *sc, size_t i, json_t *extra)
{
    char existing[NEWS_ID_MAX + 1] = "", *cause = NULL;
    struct feed_event *ev = sc->held_ev[i];
    int rc;

    if (ev != NULL)
        json_object_set_new(extra, "feed", feed_entry_meta(&ev->entry));
    /* A feed says breaking in its title ("BREAKING: ...", "Breaking news - ..."); the wire and
     * ingested items flag it themselves. Either way the story goes before everything. */
    if (sc->held[i]->breaking || title_breaking(sc->held[i]->title))
        json_object_set_new(extra, "breaking", json_true());
    rc = memory_story_enter(agent_memory(ctx), ctx->bb, sc->held[i], extra, BB_PENDING, existing,
                            &cause);
    if (ev != NULL && rc != BB_ERR && rc != BB_REFUSED &&
        feed_store_count(ctx->link, ev->source, rc != BB_OK, &cause) == -1) {
        log_warn("%s: feed %s: cannot count: %s", ctx->id, ev->source, cause);
        free(cause);
        cause = NULL;
    }
    if (rc == BB_OK) {
        atomic_fetch_add(&ctx->stats->written, 1);
        trace_story_start(sc->held[i]->id, sc->held[i]->title, sc->held[i]->source,
                          sc->held[i]->url[0] != '\0' ? sc->held[i]->url : NULL);
    } else if (rc == BB_DUPLICATE || rc == BB_MERGED || rc == BB_UPDATED || rc == BB_REVISED) {
        atomic_fetch_add(rc == BB_DUPLICATE ? &ctx->stats->duplicates
                         : rc == BB_MERGED  ? &ctx->stats->merged
                                            : &ctx->stats->updated,
                         1);
        log_debug("%s: %s: %s", ctx->id, sc->held[i]->id, cause);
        free(cause);
    } else {
        /* A Redis failure: a wire story is dropped, said loudly; a feed's comes back with the
         * next poll, which keeps the old validators for it. */
        struct poll *pl = ev != NULL ? poll_of(sc, ev->source) : NULL;

        if (pl != NULL)
            pl->write_failed = true;
        log_warn("%s: cannot write %s: %s", ctx->id, sc->held[i]->id, cause);
        free(cause);
    }
    if (ev != NULL)
        feed_event_free(ev);
    else
        news_item_free(sc->held[i]);
    sc->held[i] = NULL;
    sc->held_ev[i] = NULL;
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
    int rc, got = -1, dones;

    (void)cause;
    if (sc->pool != NULL) {
        take_events(ctx, sc);
        extend_claims(ctx, sc);
    }
    if (clock_mono_ms() < sc->deferred_until)
        return 0;
    dones = record_dones(ctx, sc);
    if (sc->pool != NULL && sc->nheld < want)
        poll_feeds(ctx, sc);
    /* A done stops the filling: it is recorded once what is before it is written. */
    while (sc->qhead < sc->nqueue && sc->nheld < want &&
           sc->queue[sc->qhead]->kind == FEED_EVENT_ITEM) {
        struct feed_event *ev = sc->queue[sc->qhead++];

        /* Already counted in flight when it was taken. */
        sc->held_ev[sc->nheld] = ev;
        sc->held[sc->nheld++] = ev->entry.item;
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
        return dones > 0;
    /* The loop checked the halt flag before this cycle; a halt since then must still stop the
     * model call: keep the batch for later. */
    if (agent_halted(ctx))
        return 0;
    n = sc->nheld;
    /* Backpressure: the stories go on into RAW_FEED (PENDING) and wait there, but no screening
     * is paid for while they would wait past [flow] max_wait, or the queue is at its mark. */
    if (agent_flow_full(ctx, BB_FLOW_PENDING) ||
        agent_flow_wait(ctx, 1u << BB_FLOW_PENDING, &why)) {
        const char *said = why != NULL ? why : "the pending queue is at its high-water mark";

        log_debug("%s: screening skipped: %s", ctx->id, said);
        for (size_t i = 0; i < n; i++) {
            json_t *extra =
                json_pack("{s:s, s:{s:s}}", "found_by", ctx->id, "screening", "skipped", said);

            scout_write(ctx, sc, i, extra);
            json_decref(extra);
        }
        free(why);
        sc->nheld = 0;
        memory_flush(agent_memory(ctx));
        record_dones(ctx, sc);
        return 1;
    }
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
    /* The batch's news records go now (each item's check carried the one before it). */
    memory_flush(agent_memory(ctx));
    record_dones(ctx, sc);
    return 1;
}

static void scout_shutdown(struct agent_ctx *ctx, void *state)
{
    struct scout *sc = state;
    char *cause = NULL;

    if (sc == NULL)
        return;
    /* The pool drops this scout's jobs and events at once, whatever hangs. */
    if (sc->pool != NULL)
        feed_pool_cancel(sc->pool, (uintptr_t)sc);
    /* Stories in hand were never written. A wire story is lost (the wire has moved past it; it
     * is a simulator); a feed's comes back with the next poll: its poll's done was not
     * recorded, so the old validators stay, and the source is given back due at once. */
    for (size_t i = 0; i < sc->nheld; i++) {
        if (sc->held_ev[i] != NULL)
            feed_event_free(sc->held_ev[i]);
        else
            news_item_free(sc->held[i]);
        atomic_fetch_sub(ctx->inflight, 1);
    }
    for (size_t i = sc->qhead; i < sc->nqueue; i++) {
        if (sc->queue[i]->kind == FEED_EVENT_ITEM)
            atomic_fetch_sub(ctx->inflight, 1);
        feed_event_free(sc->queue[i]);
    }
    for (size_t i = 0; i < sc->npolls; i++) {
        if (feed_store_release(ctx->link, sc->polls[i].source, &cause) == -1) {
            log_warn("%s: feed %s: cannot give it back: %s", ctx->id, sc->polls[i].source, cause);
            free(cause);
            cause = NULL;
        }
        free(sc->polls[i].source);
    }
    free(sc->polls);
    free(sc->queue);
    feed_pool_release(sc->pool);
    feed_store_strv_free(sc->sources, sc->nsources);
    feed_store_strv_free(sc->fulltext, sc->nfulltext);
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
