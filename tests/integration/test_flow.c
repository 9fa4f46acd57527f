/*
 * test_flow.c - flow and cost (issue 12) against the shared test Redis (databases 52 to 55),
 * with swarms of real agent threads and the sim provider at zero latency:
 *
 *   backpressure  (52) a swarm without a producer (the slowest producer there is) fills the
 *                 floor to its high-water mark and no further while the wire runs on; the
 *                 stages upstream stay within theirs, the stage holding the flow back is
 *                 "produce", the scout holds the wire's stories in RAW_FEED without paying
 *                 for their screening, and the model calls stop; a producer started then
 *                 drains the floor and the flow, and its calls, resume. With no marks but
 *                 [flow] max_wait, no QA verdict is paid for a story the absent producer
 *                 would keep waiting (it is held, saying why).
 *   priority      (53) a breaking story written behind 50 ordinary ones is the first claimed
 *                 at every step: analysis, a debate seat and its closing, writing, QA,
 *                 production, approval, publishing (each step run on its own, so its whole
 *                 queue waits when it starts).
 *   expiry        (54) stories that waited past [flow] stale_after before production
 *                 (PENDING, CONSENSUS_REACHED) are archived as stale, and one that waited past
 *                 [review] expire_after for review as "not reviewed in time", each with the
 *                 system's audit record; a claim meets a stale story and archives it instead
 *                 of taking it; 0 turns review expiry off; the archivist runs the pass; a
 *                 debate whose story expired seats nobody.
 *   drain rings   (60) a claim held at a stage's mark notes it (nr:bb:flow held:<stage>) and
 *                 the stage's next drain rings the doorbell "drained:<stage>" once, for every
 *                 kind of gate: a status's depth (the analysts' debate gate), a stage's queue
 *                 (QA's produce gate) and the debaters' seat gate (write); a drain with
 *                 nobody held notes nothing. (The roles wait on those names: an agent held
 *                 at a mark tries again when its stage drains, not at its next poll.)
 *   cascade       (55) under the cascade QA asks BALANCED first and escalates only a doubtful
 *                 verdict, the writer writes a PREMIUM final only for a draft below the bar:
 *                 every escalation is on the story and in usage (qa_escalation,
 *                 script_escalation), one for one; the baseline switch still makes every call
 *                 PREMIUM, with no cascade.
 *
 * Waits are conditions with deadlines (AWAIT), never blind sleeps. Single-threaded test code
 * (the swarms' threads are the code under test).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agents/agent.h"
#include "agents/wire.h"
#include "core/clock.h"
#include "core/config.h"
#include "cost/pricing.h"
#include "store/audit.h"
#include "store/blackboard.h"
#include "store/bus.h"
#include "store/debate.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_BACKPRESSURE 52
#define DB_PRIORITY     53
#define DB_EXPIRY       54
#define DB_CASCADE      55
#define DB_DRAIN        60

/* ---- helpers ---- */

static long long xlen(struct rlink *l, const char *key)
{
    redisReply *r = test_must(l, "XLEN %s", key);
    long long n = r->integer;

    freeReplyObject(r);
    return n;
}

static long depth(struct bb *bb, int stage)
{
    struct bb_flow_reading fr;
    char *cause = NULL;

    if (bb_flow_read(bb, NULL, NULL, &fr, &cause) != BB_OK)
        fail_msg("bb_flow_read: %s", cause);
    return fr.depth[stage];
}

static int holding(struct bb *bb, const struct config *cfg)
{
    struct bb_flow_reading fr;
    long hwm[BB_FLOW_COUNT];
    char *cause = NULL;

    if (bb_flow_read(bb, NULL, NULL, &fr, &cause) != BB_OK)
        fail_msg("bb_flow_read: %s", cause);
    for (int i = 0; i < BB_FLOW_COUNT; i++)
        hwm[i] = cfg->flow_hwm[i];
    return bb_flow_holding(fr.depth, hwm);
}

/* Writes wire story n of seed in status st with extra body fields (borrowed, may be NULL);
 * its id into id. */
static void put(struct bb *bb, long n, int st, const json_t *extra, char id[NEWS_ID_MAX + 1])
{
    json_t *j = wire_story(2026, n, NULL, NULL);
    struct news_item *it;
    char existing[NEWS_ID_MAX + 1], *cause = NULL;

    /* The wire's own breaking flag is not what these tests are about. */
    json_object_del(j, "breaking");
    it = news_item_from_json(j, &cause);
    if (it == NULL)
        fail_msg("story %ld: %s", n, cause);
    if (bb_write(bb, it, extra, (enum bb_status)st, true, existing, &cause) != BB_OK)
        fail_msg("bb_write %s: %s", it->id, cause);
    snprintf(id, NEWS_ID_MAX + 1, "%s", it->id);
    news_item_free(it);
    json_decref(j);
}

static struct bb_item *item(struct bb *bb, const char *id)
{
    struct bb_item *it = NULL;
    char *cause = NULL;

    if (bb_read(bb, id, &it, &cause) != BB_OK)
        fail_msg("bb_read %s: %s", id, cause != NULL ? cause : "none");
    return it;
}

/* The value of field name of a stream entry's field list, "" when it has none. */
static const char *field(const redisReply *f, const char *name)
{
    for (size_t k = 0; k + 1 < f->elements; k += 2)
        if (strcmp(f->element[k]->str, name) == 0)
            return f->element[k + 1]->str;
    return "";
}

/* ---- backpressure ---- */

/* A swarm of roles with the wire for `stories` stories at rate a second (0: as fast as the
 * scout takes them). */
static struct swarm *start(struct swarmenv_fx *f, int db, const char *roles, long stories,
                           double rate)
{
    struct swarm_options o;

    swarmenv_options(&o, db, f->cfg, f->pricing, roles, stories, 7);
    o.wire_rate_per_s = rate;
    return swarmenv_start(&o);
}

/* The usage records stop growing: the same count twice, one second apart. */
static bool calls_stopped(struct rlink *l)
{
    long long a = xlen(l, "nr:cost:usage"), b;
    int64_t until = clock_mono_ms() + 1000;

    while (clock_mono_ms() < until)
        clock_sleep_ms(50, NULL);
    b = xlen(l, "nr:cost:usage");
    return a == b;
}

static void test_backpressure(void **state)
{
    struct swarmenv_fx *f = swarmenv_fx_new(DB_BACKPRESSURE, "test_flow", true);
    struct swarm *up, *producer;
    long long calls;
    long pending_skipped = 0;
    int64_t until;

    (void)state;
    f->cfg->flow_hwm[BB_FLOW_PENDING] = 4;
    f->cfg->flow_hwm[BB_FLOW_DEBATE] = 2;
    f->cfg->flow_hwm[BB_FLOW_WRITE] = 2;
    f->cfg->flow_hwm[BB_FLOW_FLOOR] = 3;
    f->cfg->flow_hwm[BB_FLOW_QA] = 0;
    f->cfg->flow_hwm[BB_FLOW_PRODUCE] = 1;
    f->cfg->flow_hwm[BB_FLOW_REVIEW] = 0;
    f->cfg->flow_max_wait_ms = 0; /* the marks alone */
    /* Everything but the producer, the wire running on: 80 stories, 10 a second. */
    up = start(f, DB_BACKPRESSURE, "scout:1,analyst:1,debater:3,moderator:1,writer:1,qa:1", 80, 10);
    AWAIT(60, depth(f->bb, BB_FLOW_FLOOR) == 3);
    /* The floor stays at its mark while the wire runs; so does every stage before it. */
    until = clock_mono_ms() + 3000;
    while (clock_mono_ms() < until) {
        struct bb_flow_reading fr;
        char *cause = NULL;

        if (bb_flow_read(f->bb, NULL, NULL, &fr, &cause) != BB_OK)
            fail_msg("bb_flow_read: %s", cause);
        if (fr.depth[BB_FLOW_FLOOR] > 3 || fr.depth[BB_FLOW_PRODUCE] > 1 ||
            fr.depth[BB_FLOW_DEBATE] > 2 || fr.depth[BB_FLOW_WRITE] > 2)
            fail_msg("past a mark: floor %ld/3, produce %ld/1, debate %ld/2, write %ld/2",
                     fr.depth[BB_FLOW_FLOOR], fr.depth[BB_FLOW_PRODUCE], fr.depth[BB_FLOW_DEBATE],
                     fr.depth[BB_FLOW_WRITE]);
        clock_sleep_ms(20, NULL);
    }
    assert_int_equal(depth(f->bb, BB_FLOW_FLOOR), 3);
    assert_int_equal(holding(f->bb, f->cfg), BB_FLOW_PRODUCE);
    /* The model calls stop (once the calls under way are done), and stay stopped. */
    AWAIT(30, calls_stopped(f->l));
    calls = xlen(f->l, "nr:cost:usage");
    AWAIT(30, swarm_settled(up)); /* the wire has handed out every story */
    until = clock_mono_ms() + 2000;
    while (clock_mono_ms() < until)
        clock_sleep_ms(50, NULL);
    assert_int_equal(xlen(f->l, "nr:cost:usage"), calls);
    /* The scout held the rest in RAW_FEED, without paying for their screening. */
    assert_true(swarmenv_count(f->bb, BB_PENDING) > 4);
    {
        struct bb_item **items;
        size_t n;
        char next[BB_CURSOR_MAX + 1], *cause = NULL;

        if (bb_query(f->bb, -1, BB_PENDING, "", 100, &items, &n, next, &cause) != BB_OK)
            fail_msg("bb_query: %s", cause);
        for (size_t i = 0; i < n; i++) {
            const json_t *sc = json_object_get(items[i]->body, "screening");

            pending_skipped += json_is_string(json_object_get(sc, "skipped"));
            bb_item_free(items[i]);
        }
        free(items);
    }
    assert_true(pending_skipped > 0);
    /* The producer comes: the floor drains, stories reach review, the calls resume. */
    producer = start(f, DB_BACKPRESSURE, "producer:1", 0, 0);
    AWAIT(60, swarmenv_count(f->bb, BB_REVIEWING) >= 10);
    AWAIT(60, xlen(f->l, "nr:cost:usage") > calls);
    AWAIT(120, swarmenv_open(f->bb) == swarmenv_count(f->bb, BB_REVIEWING));
    assert_int_equal(depth(f->bb, BB_FLOW_FLOOR), 0);
    swarm_stop(producer);
    swarm_stop(up);
    swarm_free(producer);
    swarm_free(up);
    swarmenv_fx_free(f);
}

/* No marks, but [flow] max_wait: with no producer, the produce stage stops draining, and QA
 * pays no verdict for a story that would then wait there past it. */
static bool held_before_paid_call(struct rlink *l)
{
    redisReply *r = test_must(l, "XRANGE nr:bb:events - +%s", "");
    bool seen = false;

    for (size_t i = 0; i < r->elements && !seen; i++) {
        const redisReply *fl = r->element[i]->element[1];

        seen = strcmp(field(fl, "k"), "park") == 0 &&
               strstr(field(fl, "why"), "held before a paid call") != NULL &&
               strstr(field(fl, "why"), "produce") != NULL;
    }
    freeReplyObject(r);
    return seen;
}

static void test_wait_before_paid_call(void **state)
{
    struct swarmenv_fx *f = swarmenv_fx_new(DB_BACKPRESSURE, "test_flow", true);
    struct swarm *s;

    (void)state;
    memset(f->cfg->flow_hwm, 0, sizeof f->cfg->flow_hwm);
    f->cfg->flow_max_wait_ms = 1000;
    /* Stories keep coming (5 a second) after the first ones have waited for the absent producer
     * longer than max_wait. */
    s = start(f, DB_BACKPRESSURE, "scout:1,analyst:1,debater:3,moderator:1,writer:1,qa:1", 60, 5);
    AWAIT(90, held_before_paid_call(f->l));
    swarm_stop(s);
    swarm_free(s);
    swarmenv_fx_free(f);
}

/* ---- priority ---- */

/* The id of the first event of kind k (and, when not NULL, with field name = value). */
static char *first_event(struct rlink *l, const char *k, const char *name, const char *value)
{
    redisReply *r = test_must(l, "XRANGE nr:bb:events - +%s", "");
    char *id = NULL;

    for (size_t i = 0; i < r->elements && id == NULL; i++) {
        const redisReply *fl = r->element[i]->element[1];

        if (strcmp(field(fl, "k"), k) == 0 && (name == NULL || strcmp(field(fl, name), value) == 0))
            id = strdup(field(fl, "id"));
    }
    freeReplyObject(r);
    if (id == NULL)
        fail_msg("no %s event%s%s%s", k, name != NULL ? " with " : "", name != NULL ? name : "",
                 name != NULL ? value : "");
    return id;
}

static void expect_first(struct rlink *l, const char *step, const char *k, const char *name,
                         const char *value, const char *want)
{
    char *id = first_event(l, k, name, value);

    if (strcmp(id, want) != 0)
        fail_msg("%s: %s was taken first, not the breaking story %s", step, id, want);
    free(id);
}

/* Runs roles until nothing waits for them: no story in status st, or, for a stage (st < 0), on
 * flow stage -st - 1. */
static void run_step(struct swarmenv_fx *f, const char *roles, int st, bool approve)
{
    struct swarm_options o;
    struct swarm *s;

    swarmenv_options(&o, DB_PRIORITY, f->cfg, f->pricing, roles, 0, 0);
    o.auto_approve = approve;
    s = swarmenv_start(&o);
    if (st >= 0)
        AWAIT(120, swarmenv_count(f->bb, st) == 0);
    else
        AWAIT(120, depth(f->bb, -st - 1) == 0);
    swarm_stop(s);
    swarm_free(s);
}
#define STAGE(flow) (-(flow)-1)

/* The debate seated first: the lowest seat time over every debate. */
static char *first_seated(struct rlink *l)
{
    redisReply *keys = test_must(l, "KEYS nr:debate:*:seats%s", "");
    long long best = -1;
    char *id = NULL;

    for (size_t i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        redisReply *h = test_must(l, "HVALS %s", k);

        for (size_t v = 0; v < h->elements; v++) {
            long long t = strtoll(h->element[v]->str, NULL, 10);

            if (best < 0 || t < best) {
                best = t;
                free(id);
                id = strndup(k + strlen("nr:debate:"),
                             strlen(k) - strlen("nr:debate:") - strlen(":seats"));
            }
        }
        freeReplyObject(h);
    }
    freeReplyObject(keys);
    if (id == NULL)
        fail_msg("no debate seat was taken");
    return id;
}

static void test_priority(void **state)
{
    struct swarmenv_fx *f = swarmenv_fx_new(DB_PRIORITY, "test_flow", true);
    char ids[51][NEWS_ID_MAX + 1], *seated;
    json_t *breaking = json_pack("{s:b}", "breaking", 1);
    struct bb_item *it;
    long n = 0;

    (void)state;
    /* No marks: the queues are whole. Debates wait for their whole panel, so every story's
     * debate closes in the order its debaters sat. */
    memset(f->cfg->flow_hwm, 0, sizeof f->cfg->flow_hwm);
    f->cfg->debate_quorum = f->cfg->debate_panel;
    for (int k = 0; k < 50; n++) {
        enum wire_kind kind;
        json_t *j = wire_story(2026, n, &kind, NULL);

        json_decref(j);
        if (kind == WIRE_NORMAL)
            put(f->bb, n, BB_PENDING, NULL, ids[k++]);
    }
    /* The breaking story comes last: a strong one, so that it goes all the way. */
    for (;; n++) {
        enum wire_kind kind;
        json_t *j = wire_story(2026, n, &kind, NULL);

        json_decref(j);
        if (kind == WIRE_NORMAL)
            break;
    }
    put(f->bb, n, BB_PENDING, breaking, ids[50]);
    json_decref(breaking);
    it = item(f->bb, ids[50]);
    assert_int_equal(it->priority, BB_PRIORITY_BREAKING);
    bb_item_free(it);
    it = item(f->bb, ids[0]);
    assert_int_equal(it->priority, 0);
    bb_item_free(it);

    run_step(f, "analyst:1", BB_PENDING, false);
    expect_first(f->l, "analysis", "claim", "to", "PROCESSING", ids[50]);
    it = item(f->bb, ids[50]);
    if (it->status != BB_DEBATING)
        fail_msg("the breaking story was %s after its analysis, not DEBATING",
                 bb_statuses[it->status].name);
    assert_true(it->priority >= BB_PRIORITY_BREAKING);
    bb_item_free(it);

    run_step(f, "debater:3,moderator:1", BB_DEBATING, false);
    seated = first_seated(f->l);
    if (strcmp(seated, ids[50]) != 0)
        fail_msg("debate: %s was seated first, not the breaking story %s", seated, ids[50]);
    free(seated);
    expect_first(f->l, "consensus", "move", "from", "DEBATING", ids[50]);
    it = item(f->bb, ids[50]);
    if (it->status != BB_CONSENSUS_REACHED)
        fail_msg("the breaking story was %s after its debate", bb_statuses[it->status].name);
    bb_item_free(it);

    run_step(f, "writer:1", BB_CONSENSUS_REACHED, false);
    expect_first(f->l, "writing", "claim", "to", "PRODUCING", ids[50]);
    /* Every script written is on QA's stage now. */
    assert_int_equal(depth(f->bb, BB_FLOW_QA), swarmenv_count(f->bb, BB_PRODUCING));

    run_step(f, "qa:1", STAGE(BB_FLOW_QA), false);
    expect_first(f->l, "QA", "take", "stage", "qa", ids[50]);

    run_step(f, "producer:1", STAGE(BB_FLOW_PRODUCE), false);
    expect_first(f->l, "production", "take", "stage", "produce", ids[50]);

    run_step(f, "approver:1", BB_REVIEWING, true);
    expect_first(f->l, "approval", "decide", "to", "APPROVED", ids[50]);

    run_step(f, "publisher:1", BB_APPROVED, false);
    expect_first(f->l, "publishing", "lock", "from", "APPROVED", ids[50]);
    it = item(f->bb, ids[50]);
    assert_int_equal(it->status, BB_PUBLISHED_S);
    bb_item_free(it);
    swarmenv_fx_free(f);
}

/* ---- expiry ---- */

/* The audit record of item id with what "expire", or fails. Its reason into reason. */
static void expect_audit(struct rlink *l, const char *id, const char *reason_prefix)
{
    struct audit_entry *e = NULL;
    size_t n = 0;
    char *cause = NULL;
    bool found = false;

    if (audit_read(l, 100, &e, &n, &cause) == -1)
        fail_msg("audit_read: %s", cause);
    for (size_t i = 0; i < n && !found; i++)
        if (e[i].item != NULL && strcmp(e[i].item, id) == 0 && strcmp(e[i].what, "expire") == 0) {
            found = true;
            assert_string_equal(e[i].user, "system");
            if (e[i].reason == NULL ||
                strncmp(e[i].reason, reason_prefix, strlen(reason_prefix)) != 0)
                fail_msg("the audit of %s says \"%s\", not \"%s...\"", id,
                         e[i].reason != NULL ? e[i].reason : "", reason_prefix);
        }
    audit_entries_free(e, n);
    if (!found)
        fail_msg("no expire audit record for %s", id);
}

static void expect_archived(struct bb *bb, const char *id, const char *reason_prefix)
{
    struct bb_item *it = item(bb, id);

    if (it->status != BB_ARCHIVED)
        fail_msg("%s is %s, not ARCHIVED", id, bb_statuses[it->status].name);
    if (strncmp(it->archive_reason, reason_prefix, strlen(reason_prefix)) != 0)
        fail_msg("%s was archived as \"%s\", not \"%s...\"", id, it->archive_reason, reason_prefix);
    bb_item_free(it);
}

static void test_expiry(void **state)
{
    struct swarmenv_fx *f = swarmenv_fx_new(DB_EXPIRY, "test_flow", true);
    char pending[NEWS_ID_MAX + 1], consensus[NEWS_ID_MAX + 1], reviewing[NEWS_ID_MAX + 1];
    char fresh[NEWS_ID_MAX + 1], claimed[NEWS_ID_MAX + 1], kept[NEWS_ID_MAX + 1];
    char debating[NEWS_ID_MAX + 1], later[NEWS_ID_MAX + 1];
    struct bb_flow_opts fo = {.gate = -1, .take_gate = -1, .stale_ms = 1000};
    struct debate_options dopt;
    struct debate d;
    struct bb_lock lk;
    struct bb_item *it = NULL;
    long stale = -1, unreviewed = -1;
    char *cause = NULL;
    int64_t t0;

    (void)state;
    put(f->bb, 0, BB_PENDING, NULL, pending);
    put(f->bb, 1, BB_CONSENSUS_REACHED, NULL, consensus);
    put(f->bb, 4, BB_REVIEWING, NULL, reviewing);
    put(f->bb, 5, BB_PENDING, NULL, claimed);
    put(f->bb, 6, BB_DEBATING, NULL, debating);
    debate_options_from(&dopt, f->cfg);
    if (debate_open(f->l, debating, "t", "s", "b", &dopt, "test", NULL, &cause) != DEBATE_OK)
        fail_msg("debate_open: %s", cause);
    t0 = swarmenv_server_ms(f->l);
    AWAIT(10, swarmenv_server_ms(f->l) > t0 + 1100);
    put(f->bb, 7, BB_PENDING, NULL, fresh);

    /* A claim meets the stale story first and archives it instead of taking it. */
    {
        int rc = bb_claim_flow(f->bb, BB_PENDING, BB_PROCESSING, 60000, &fo, &lk, &it, &cause);

        assert_int_equal(rc, BB_OK);
        assert_string_equal(lk.id, fresh); /* the stale ones before it were archived */
        bb_item_free(it);
        bb_lock_release(f->bb, &lk, &cause);
    }
    expect_archived(f->bb, pending, "stale: waited ");
    expect_archived(f->bb, claimed, "stale: waited ");
    expect_audit(f->l, claimed, "stale: waited ");

    /* The pass: the stale story waiting for a writer, and the one not reviewed in time. */
    if (bb_expire(f->bb, 1000, 1000, 100, &stale, &unreviewed, &cause) != BB_OK)
        fail_msg("bb_expire: %s", cause);
    assert_int_equal(stale, 2); /* CONSENSUS_REACHED, DEBATING */
    assert_int_equal(unreviewed, 1);
    expect_archived(f->bb, consensus, "stale: waited ");
    expect_archived(f->bb, debating, "stale: waited ");
    expect_archived(f->bb, reviewing, "not reviewed in time");
    it = item(f->bb, reviewing);
    assert_string_equal(it->archive_reason, "not reviewed in time");
    bb_item_free(it);
    expect_audit(f->l, consensus, "stale: waited ");
    expect_audit(f->l, reviewing, "not reviewed in time: waited ");
    /* A debate whose story expired seats nobody. */
    assert_int_equal(debate_seat(f->l, "debater-x", 5000, &d, &cause), DEBATE_NONE);

    /* Review expiry 0 is off: a story waits for review as long as it takes. */
    put(f->bb, 8, BB_REVIEWING, NULL, kept);
    t0 = swarmenv_server_ms(f->l);
    AWAIT(10, swarmenv_server_ms(f->l) > t0 + 1100);
    if (bb_expire(f->bb, 0, 0, 100, &stale, &unreviewed, &cause) != BB_OK)
        fail_msg("bb_expire: %s", cause);
    assert_int_equal(stale, 0);
    assert_int_equal(unreviewed, 0);
    it = item(f->bb, kept);
    assert_int_equal(it->status, BB_REVIEWING);
    bb_item_free(it);

    /* The archivist runs the pass every [retention] interval. */
    f->cfg->flow_stale_ms = 1000;
    f->cfg->retention_interval_ms = 1000;
    put(f->bb, 9, BB_PENDING, NULL, later);
    {
        struct swarm *s = start(f, DB_EXPIRY, "archivist:1", 0, 0);

        AWAIT(30, (it = item(f->bb, later))->status == BB_ARCHIVED || (bb_item_free(it), false));
        bb_item_free(it);
        swarm_stop(s);
        swarm_free(s);
    }
    expect_archived(f->bb, later, "stale: waited ");
    expect_audit(f->l, later, "stale: waited ");
    swarmenv_fx_free(f);
}

/* ---- the cascade ---- */

struct usage_count {
    long calls, premium, qa_esc, script_esc;
};

/* The usage records: calls, those on PREMIUM, and the escalations (each must be a story's). */
static void usage_counts(struct rlink *l, struct usage_count *u)
{
    redisReply *r = test_must(l, "XRANGE nr:cost:usage - +%s", "");

    memset(u, 0, sizeof *u);
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *fl = r->element[i]->element[1];
        const char *type = field(fl, "type");

        u->calls++;
        u->premium += strcmp(field(fl, "tier"), "PREMIUM") == 0;
        u->qa_esc += strcmp(type, "qa_escalation") == 0;
        u->script_esc += strcmp(type, "script_escalation") == 0;
        if (strcmp(type, "qa_escalation") == 0 || strcmp(type, "script_escalation") == 0)
            assert_true(field(fl, "task")[0] != '\0');
    }
    freeReplyObject(r);
}

/* The escalations the stories record: QA verdicts escalated, scripts whose final went to
 * PREMIUM; and whether any story carries a cascade at all. */
static void story_escalations(struct bb *bb, long *qa, long *script, long *cascades)
{
    int statuses[] = {BB_PUBLISHED_S, BB_ARCHIVED, BB_FAILED, BB_REVIEWING};

    *qa = *script = *cascades = 0;
    for (size_t s = 0; s < sizeof statuses / sizeof statuses[0]; s++) {
        char next[BB_CURSOR_MAX + 1] = "", *cause = NULL;

        do {
            struct bb_item **items;
            size_t n;

            if (bb_query(bb, -1, statuses[s], next, 100, &items, &n, next, &cause) != BB_OK)
                fail_msg("bb_query: %s", cause);
            for (size_t i = 0; i < n; i++) {
                const json_t *qav = json_object_get(items[i]->body, "qa"), *v;
                const json_t *sc =
                    json_object_get(json_object_get(items[i]->body, "script"), "cascade");
                size_t k;

                json_array_foreach(qav, k, v)
                {
                    const json_t *c = json_object_get(v, "cascade");

                    *cascades += c != NULL;
                    *qa += json_is_true(json_object_get(c, "escalated"));
                    if (json_is_true(json_object_get(c, "escalated")))
                        assert_string_equal(json_string_value(json_object_get(v, "tier")),
                                            "PREMIUM");
                }
                *cascades += sc != NULL;
                *script += json_is_true(json_object_get(sc, "escalated"));
                bb_item_free(items[i]);
            }
            free(items);
        } while (next[0] != '\0');
    }
}

static void cascade_run(struct swarmenv_fx *f, bool baseline)
{
    struct swarm_options o;
    struct swarm *s;

    freeReplyObject(test_must(f->l, "FLUSHDB%s", ""));
    swarmenv_options(&o, DB_CASCADE, f->cfg, f->pricing,
                     "scout:1,analyst:2,debater:3,moderator:1,writer:2,qa:1,producer:1,"
                     "publisher:1,approver:1",
                     40, 2026);
    o.auto_approve = true;
    o.baseline = baseline;
    s = swarmenv_start(&o);
    AWAIT(180, swarm_settled(s) && swarmenv_open(f->bb) == 0);
    swarm_stop(s);
    swarm_free(s);
}

static void test_cascade(void **state)
{
    struct swarmenv_fx *f = swarmenv_fx_new(DB_CASCADE, "test_flow", true);
    struct usage_count u;
    long qa, script, cascades;

    (void)state;
    /* Ours: every escalation is on its story and in usage, one for one. */
    cascade_run(f, false);
    usage_counts(f->l, &u);
    story_escalations(f->bb, &qa, &script, &cascades);
    assert_true(cascades > 0);
    assert_int_equal(u.qa_esc, qa);
    assert_int_equal(u.script_esc, script);
    assert_true(qa > 0);                  /* some verdicts were in doubt */
    assert_true(u.premium < u.calls / 2); /* and most calls were not PREMIUM */
    /* The baseline: every call PREMIUM, no cascade at all. */
    cascade_run(f, true);
    usage_counts(f->l, &u);
    story_escalations(f->bb, &qa, &script, &cascades);
    assert_true(u.calls > 0);
    assert_int_equal(u.premium, u.calls);
    assert_int_equal(u.qa_esc + u.script_esc, 0);
    assert_int_equal(cascades, 0);
    swarmenv_fx_free(f);
}

/* ---- drain rings ---- */

/* The drain rings heard, counted by stage (BB_FLOW_*): the subscriber's thread writes, the test
 * reads. */
struct rings {
    pthread_mutex_t mu;
    long n[BB_FLOW_COUNT];
};

static void on_ring(const char *text, size_t len, void *arg)
{
    struct rings *r = arg;

    if (len < 8 || memcmp(text, "drained:", 8) != 0)
        return;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < BB_FLOW_COUNT; i++)
        if (len - 8 == strlen(bb_flow_stages[i].name) &&
            memcmp(text + 8, bb_flow_stages[i].name, len - 8) == 0)
            r->n[i]++;
    pthread_mutex_unlock(&r->mu);
}

static long rung(struct rings *r, int stage)
{
    long n;

    pthread_mutex_lock(&r->mu);
    n = r->n[stage];
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Whether nr:bb:flow notes a claim held at stage name. */
static bool held_noted(struct rlink *l, const char *name)
{
    char field[64];
    redisReply *r;
    bool noted;

    snprintf(field, sizeof field, "held:%s", name);
    r = test_must(l, "HEXISTS nr:bb:flow %s", field);
    noted = r->integer == 1;
    freeReplyObject(r);
    return noted;
}

static void test_drain_rings(void **state)
{
    struct swarmenv_fx *f = swarmenv_fx_new(DB_DRAIN, "test_flow", true);
    struct rings rg = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct swarm_options o;
    struct bus_sub *sub;
    struct bb_flow_opts fo = {.gate = BB_FLOW_DEBATE, .gate_hwm = 1, .take_gate = -1};
    struct bb_lock lk;
    struct bb_item *it = NULL;
    struct debate d;
    char a[NEWS_ID_MAX + 1], b[NEWS_ID_MAX + 1], c[NEWS_ID_MAX + 1], *cause = NULL;
    const char *qa[] = {"qa"};
    redisReply *r;
    long before;

    (void)state;
    swarmenv_options(&o, DB_DRAIN, f->cfg, f->pricing, "", 0, 7);
    sub = bus_sub_new(&o.addr, &o.link);
    if (bus_sub_add_raw(sub, WAKE_CHANNEL, on_ring, &rg, &cause) == -1 ||
        bus_sub_start(sub, &cause) == -1)
        fail_msg("doorbell subscriber: %s", cause);
    /* Subscribed before the first drain, or its ring goes unheard. */
    assert_int_equal(bus_sub_wait_subscribed(sub, 1, 5000), 0);
    /* The doorbell's channel is the server's, not the database's: a ring counted here may come
     * from another test's swarm too. What proves this test's drains rang is the held note they
     * remove (HDEL and PUBLISH are one script, bb_lib.lua's drained), checked in this test's
     * own database; the counts show the rings reach a subscriber. */

    /* A status's depth: one story debating, the mark at 1; the analyst's claim is held. */
    put(f->bb, 1, BB_DEBATING, NULL, a);
    put(f->bb, 2, BB_PENDING, NULL, b);
    assert_int_equal(bb_claim_flow(f->bb, BB_PENDING, BB_PROCESSING, 10000, &fo, &lk, NULL, &cause),
                     BB_HELD);
    free(cause);
    cause = NULL;
    assert_true(held_noted(f->l, "debate"));
    before = rung(&rg, BB_FLOW_DEBATE);
    if (bb_transition(f->bb, a, BB_CONSENSUS_REACHED, "closed", NULL, &cause) != BB_OK)
        fail_msg("DEBATING -> CONSENSUS_REACHED: %s", cause);
    AWAIT(10, rung(&rg, BB_FLOW_DEBATE) > before);
    assert_false(held_noted(f->l, "debate"));
    /* The gate is open now: the claim takes the story. */
    assert_int_equal(bb_claim_flow(f->bb, BB_PENDING, BB_PROCESSING, 10000, &fo, &lk, NULL, &cause),
                     BB_OK);

    /* The debaters' seat gate: story a waits for a writer, the write mark is 1. */
    if (debate_seat_gated(f->l, "debater-drain-1", 10000, BB_FLOW_WRITE, 1, &d, &cause) ==
        DEBATE_ERR)
        fail_msg("debate_seat_gated: %s", cause);
    debate_clear(&d);
    assert_true(held_noted(f->l, "write"));
    /* Without the mark nothing is noted (nobody is held). */
    r = test_must(f->l, "HDEL nr:bb:flow %s", "held:write");
    freeReplyObject(r);
    if (debate_seat_gated(f->l, "debater-drain-1", 10000, BB_FLOW_WRITE, 0, &d, &cause) ==
        DEBATE_ERR)
        fail_msg("debate_seat_gated: %s", cause);
    debate_clear(&d);
    assert_false(held_noted(f->l, "write"));
    if (debate_seat_gated(f->l, "debater-drain-1", 10000, BB_FLOW_WRITE, 1, &d, &cause) ==
        DEBATE_ERR)
        fail_msg("debate_seat_gated: %s", cause);
    debate_clear(&d);
    before = rung(&rg, BB_FLOW_WRITE);
    if (bb_transition(f->bb, a, BB_PRODUCING, "writing", NULL, &cause) != BB_OK)
        fail_msg("CONSENSUS_REACHED -> PRODUCING: %s", cause);
    AWAIT(10, rung(&rg, BB_FLOW_WRITE) > before);
    assert_false(held_noted(f->l, "write"));

    /* A stage's queue: story c on the produce stage, the mark at 1; QA's take is held. */
    put(f->bb, 3, BB_PRODUCING, NULL, c);
    r = test_must(f->l, "ZADD nr:bb:stage:produce 0 %s", c);
    freeReplyObject(r);
    r = test_must(f->l, "HSET nr:bb:item:%s stage produce", c);
    freeReplyObject(r);
    fo = (struct bb_flow_opts){.gate = -1, .take_gate = BB_FLOW_PRODUCE, .take_hwm = 1};
    assert_int_equal(
        bb_take_flow(f->bb, qa, 1, BB_PRODUCING, -1, 10000, &fo, &lk, NULL, NULL, &cause), BB_HELD);
    free(cause);
    cause = NULL;
    assert_true(held_noted(f->l, "produce"));
    before = rung(&rg, BB_FLOW_PRODUCE);
    if (bb_take(f->bb, "produce", BB_PRODUCING, 10000, &lk, &it, &cause) != BB_OK)
        fail_msg("take from produce: %s", cause);
    bb_item_free(it);
    AWAIT(10, rung(&rg, BB_FLOW_PRODUCE) > before);
    assert_false(held_noted(f->l, "produce"));
    /* Each drain was counted for the heart's rates too, once. */
    r = test_must(f->l, "HMGET nr:bb:flow drained:debate drained:write %s", "drained:produce");
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(r->element[i]->str != NULL ? r->element[i]->str : "(nil)", "1");
    freeReplyObject(r);

    bus_sub_free(sub);
    swarmenv_fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backpressure), cmocka_unit_test(test_wait_before_paid_call),
        cmocka_unit_test(test_priority),     cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_cascade),      cmocka_unit_test(test_drain_rings),
    };

    if (getenv("DEBUG_FILTER") != NULL)
        cmocka_set_test_filter(getenv("DEBUG_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
