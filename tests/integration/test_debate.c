/*
 * test_debate.c - debates against the shared test Redis (database 10): opening is idempotent
 * (and a debate closed as story_moved opens afresh), seats respect the panel and the seat TTL,
 * one vote per seated agent, ready by a full panel and by the deadline, a moderator's lease
 * keeps a second one out until it lapses, closing, reading and listing; then the debater and
 * moderator agents on the wire's stories (every debate closed with at least the quorum of
 * votes and its consensus recorded with the story) and a moderator on debates without votes
 * and without their story. Waits are conditions with deadlines, never blind sleeps.
 * Single-threaded test code (the swarm's threads are the code under test).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agents/agent.h"
#include "core/clock.h"
#include "core/config.h"
#include "cost/pricing.h"
#include "store/blackboard.h"
#include "store/debate.h"
#include "store/news_item.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB 10

/* The fixture: a link in database DB, a blackboard, the models (swarmenv.h). */
static int setup(void **state)
{
    *state = swarmenv_fx_new(DB, "test_debate", true);
    return 0;
}

static int teardown(void **state)
{
    swarmenv_fx_free(*state);
    return 0;
}

static void opts(struct debate_options *o, int panel, int quorum, int deadline_ms)
{
    debate_options_default(o);
    o->panel = panel;
    o->quorum = quorum;
    o->deadline_ms = deadline_ms;
}

static void must_open(struct swarmenv_fx *f, const char *id, const struct debate_options *o,
                      bool want_new)
{
    char *cause = NULL;
    bool created = !want_new;

    if (debate_open(f->l, id, "A title", "A summary", "The story.", o, "analyst-1", &created,
                    &cause) != DEBATE_OK)
        fail_msg("debate_open %s: %s", id, cause);
    assert_true(created == want_new);
}

/* Seats agent; returns the debate's id in id (or "" for none). */
static int seat(struct swarmenv_fx *f, const char *agent, int ttl_ms, char id[NEWS_ID_MAX + 1])
{
    struct debate d;
    char *cause = NULL;
    int rc = debate_seat(f->l, agent, ttl_ms, &d, &cause);

    if (rc == DEBATE_ERR)
        fail_msg("debate_seat: %s", cause);
    snprintf(id, NEWS_ID_MAX + 1, "%s", rc == DEBATE_OK ? d.id : "");
    debate_clear(&d);
    return rc;
}

static int vote(struct swarmenv_fx *f, const char *id, const char *agent,
                enum debate_vote_kind kind, double conf, char **why)
{
    struct debate_vote v = {.vote = kind, .confidence = conf, .reasoning = (char *)"my reasons"};

    snprintf(v.agent, sizeof v.agent, "%s", agent);
    *why = NULL;
    return debate_vote(f->l, id, &v, NULL, why);
}

static void expect_refused(int rc, char **why, const char *needle)
{
    assert_int_equal(rc, DEBATE_REFUSED);
    if (strstr(*why, needle) == NULL)
        fail_msg("\"%s\" does not say \"%s\"", *why, needle);
    free(*why);
    *why = NULL;
}

static int ready(struct swarmenv_fx *f, const char *moderator, int lease_ms,
                 char id[NEWS_ID_MAX + 1], size_t *nvotes)
{
    struct debate d;
    char *cause = NULL;
    int rc = debate_ready(f->l, moderator, lease_ms, &d, &cause);

    if (rc == DEBATE_ERR)
        fail_msg("debate_ready: %s", cause);
    snprintf(id, NEWS_ID_MAX + 1, "%s", rc == DEBATE_OK ? d.id : "");
    if (nvotes != NULL)
        *nvotes = d.nvotes;
    debate_clear(&d);
    return rc;
}

static void test_open_idempotent(void **state)
{
    struct swarmenv_fx *f = *state;
    struct debate_options o;
    struct debate d;
    char *cause = NULL, id[NEWS_ID_MAX + 1];

    opts(&o, 3, 2, 60000);
    must_open(f, "s1", &o, true);
    assert_int_equal(seat(f, "debater-1", 60000, id), DEBATE_OK);
    assert_int_equal(vote(f, "s1", "debater-1", DEBATE_FOR, 0.8, &cause), DEBATE_OK);
    /* Opening again changes nothing: same time, the vote stays. */
    assert_int_equal(debate_get(f->l, "s1", &d, &cause), DEBATE_OK);
    {
        int64_t opened = d.opened_ms;

        debate_clear(&d);
        opts(&o, 5, 5, 1000);
        must_open(f, "s1", &o, false);
        assert_int_equal(debate_get(f->l, "s1", &d, &cause), DEBATE_OK);
        assert_true(d.opened_ms == opened);
    }
    assert_int_equal(d.panel, 3);
    assert_int_equal(d.quorum, 2);
    assert_true(d.open);
    assert_int_equal(d.nvotes, 1);
    assert_string_equal(d.votes[0].agent, "debater-1");
    assert_int_equal(d.votes[0].vote, DEBATE_FOR);
    assert_true(d.votes[0].confidence > 0.79 && d.votes[0].confidence < 0.81);
    assert_string_equal(d.votes[0].reasoning, "my reasons");
    assert_string_equal(d.title, "A title");
    assert_string_equal(d.by, "analyst-1");
    /* Its clock started with its first seat. */
    assert_true(d.started_ms >= d.opened_ms);
    assert_true(d.deadline_ms == d.started_ms + 60000);
    debate_clear(&d);

    /* Closed for another reason: stays closed. Closed as story_moved: opens afresh. */
    assert_int_equal(debate_close(f->l, "s1", "mod-1", DEBATE_STORY_MOVED, 0, "gone", &cause),
                     DEBATE_OK);
    must_open(f, "s1", &o, true);
    assert_int_equal(debate_get(f->l, "s1", &d, &cause), DEBATE_OK);
    assert_true(d.open);
    assert_int_equal(d.nvotes, 0);
    assert_int_equal(d.seats, 0);
    assert_int_equal(d.panel, 5);
    debate_clear(&d);
    assert_int_equal(debate_close(f->l, "s1", "mod-1", DEBATE_NO_CONSENSUS, 0, "no", &cause),
                     DEBATE_OK);
    must_open(f, "s1", &o, false);

    /* Bad input is refused with a reason, and nothing is written. */
    opts(&o, 3, 4, 1000);
    assert_int_equal(debate_open(f->l, "s2", "t", "s", NULL, &o, "a", NULL, &cause), DEBATE_ERR);
    assert_non_null(strstr(cause, "quorum"));
    free(cause);
    opts(&o, 3, 2, 1000);
    assert_int_equal(debate_open(f->l, "", "t", "s", NULL, &o, "a", NULL, &cause), DEBATE_ERR);
    free(cause);
    assert_int_equal(debate_get(f->l, "s2", &d, &cause), DEBATE_NONE);
    assert_int_equal(debate_close(f->l, "s1", "mod-1", "maybe", 0, "", &cause), DEBATE_ERR);
    free(cause);
}

/* Whether the server's clock has passed debate id's deadline. */
static bool past_deadline(struct swarmenv_fx *f, const char *id)
{
    struct debate d;
    char *cause = NULL;
    bool past;

    if (debate_get(f->l, id, &d, &cause) != DEBATE_OK)
        fail_msg("debate_get %s: %s", id, cause ? cause : "no debate");
    past = d.now_ms >= d.deadline_ms;
    debate_clear(&d);
    return past;
}

static void test_seats_and_votes(void **state)
{
    struct swarmenv_fx *f = *state;
    struct debate_options o;
    struct debate d;
    char *cause = NULL, id[NEWS_ID_MAX + 1];

    opts(&o, 2, 2, 60000);
    must_open(f, "s1", &o, true);
    assert_int_equal(seat(f, "a", 60000, id), DEBATE_OK);
    assert_string_equal(id, "s1");
    assert_int_equal(seat(f, "b", 60000, id), DEBATE_OK);
    /* The panel is full; a seated agent gets no second seat. */
    assert_int_equal(seat(f, "c", 60000, id), DEBATE_NONE);
    assert_int_equal(seat(f, "a", 60000, id), DEBATE_NONE);
    /* One vote per seated agent, never from an agent without a seat. */
    assert_int_equal(vote(f, "s1", "a", DEBATE_AGAINST, 0.6, &cause), DEBATE_OK);
    expect_refused(vote(f, "s1", "a", DEBATE_FOR, 0.9, &cause), &cause, "already");
    expect_refused(vote(f, "s1", "z", DEBATE_FOR, 0.9, &cause), &cause, "no seat");
    assert_int_equal(vote(f, "nope", "a", DEBATE_FOR, 0.9, &cause), DEBATE_NONE);
    free(cause);
    /* A seat without a vote lapses after the seat TTL and goes to another agent; a seat with
     * a vote never lapses. */
    AWAIT(5, seat(f, "c", 150, id) == DEBATE_OK);
    assert_string_equal(id, "s1");
    expect_refused(vote(f, "s1", "b", DEBATE_FOR, 0.9, &cause), &cause, "no seat");
    /* Given back, a seat is free at once. */
    assert_int_equal(debate_unseat(f->l, "s1", "c", false, &cause), DEBATE_OK);
    assert_int_equal(debate_unseat(f->l, "s1", "a", false, &cause), DEBATE_NONE);
    assert_int_equal(seat(f, "d", 60000, id), DEBATE_OK);
    assert_int_equal(vote(f, "s1", "d", DEBATE_FOR, 0.9, &cause), DEBATE_OK);
    assert_int_equal(debate_get(f->l, "s1", &d, &cause), DEBATE_OK);
    assert_int_equal(d.nvotes, 2);
    debate_clear(&d);
    /* Older debates seat first. A debate's clock starts with its first seat, however long it
     * waited for a free debater; once it has run out, the debate seats nobody. */
    opts(&o, 2, 2, 60000);
    must_open(f, "s2", &o, true);
    opts(&o, 2, 2, 1);
    must_open(f, "s3", &o, true);
    assert_int_equal(seat(f, "e", 60000, id), DEBATE_OK);
    assert_string_equal(id, "s2");
    assert_int_equal(seat(f, "f", 60000, id), DEBATE_OK);
    assert_string_equal(id, "s2");
    AWAIT(5, past_deadline(f, "s3"));
    assert_int_equal(seat(f, "g", 60000, id), DEBATE_OK);
    assert_string_equal(id, "s3");
    AWAIT(5, past_deadline(f, "s3"));
    assert_int_equal(seat(f, "h", 60000, id), DEBATE_NONE);
}

static void test_ready_lease_close(void **state)
{
    struct swarmenv_fx *f = *state;
    struct debate_options o;
    struct debate d, *list;
    size_t n, nvotes;
    char *cause = NULL, id[NEWS_ID_MAX + 1];

    opts(&o, 2, 2, 60000);
    must_open(f, "full", &o, true);
    assert_int_equal(ready(f, "m1", 60000, id, NULL), DEBATE_NONE);
    assert_int_equal(seat(f, "a", 60000, id), DEBATE_OK);
    assert_int_equal(seat(f, "b", 60000, id), DEBATE_OK);
    assert_int_equal(vote(f, "full", "a", DEBATE_FOR, 0.9, &cause), DEBATE_OK);
    assert_int_equal(ready(f, "m1", 60000, id, NULL), DEBATE_NONE);
    assert_int_equal(vote(f, "full", "b", DEBATE_ABSTAIN, 0.5, &cause), DEBATE_OK);
    /* Ready by a full panel, leased to m1: neither m2 nor m1 itself gets it again while the
     * lease lasts. */
    assert_int_equal(ready(f, "m1", 60000, id, &nvotes), DEBATE_OK);
    assert_string_equal(id, "full");
    assert_int_equal(nvotes, 2);
    assert_int_equal(ready(f, "m2", 60000, id, NULL), DEBATE_NONE);
    assert_int_equal(ready(f, "m1", 60000, id, NULL), DEBATE_NONE);
    expect_refused(debate_close(f->l, "full", "m2", DEBATE_CONSENSUS, 1, "r", &cause), &cause,
                   "m1");
    assert_int_equal(debate_close(f->l, "full", "m1", DEBATE_CONSENSUS, 1.0, "all for", &cause),
                     DEBATE_OK);
    expect_refused(debate_close(f->l, "full", "m1", DEBATE_CONSENSUS, 1, "r", &cause), &cause,
                   "closed already");
    expect_refused(vote(f, "full", "a", DEBATE_FOR, 0.9, &cause), &cause, "closed");
    assert_int_equal(debate_get(f->l, "full", &d, &cause), DEBATE_OK);
    assert_false(d.open);
    assert_string_equal(d.outcome, DEBATE_CONSENSUS);
    assert_string_equal(d.reason, "all for");
    assert_string_equal(d.closed_by, "m1");
    assert_true(d.score > 0.99);
    assert_true(d.closed_ms >= d.opened_ms);
    debate_clear(&d);
    {
        redisReply *r = test_must(f->l, "TTL %s", DEBATE_PREFIX "full");
        assert_true(r->integer > 0 && r->integer <= DEBATE_KEEP_S);
        freeReplyObject(r);
        r = test_must(f->l, "ZSCORE %s full", DEBATES_OPEN_KEY);
        assert_int_equal(r->type, REDIS_REPLY_NIL);
        freeReplyObject(r);
    }

    /* Ready by the deadline, with no votes at all (its clock started with a seat that never
     * voted); a lease that lapses lets another in. */
    opts(&o, 3, 2, 200);
    must_open(f, "late", &o, true);
    assert_int_equal(seat(f, "x", 100, id), DEBATE_OK);
    assert_string_equal(id, "late");
    AWAIT(5, ready(f, "m1", 500, id, &nvotes) == DEBATE_OK);
    assert_string_equal(id, "late");
    assert_int_equal(nvotes, 0);
    assert_int_equal(ready(f, "m2", 60000, id, NULL), DEBATE_NONE);
    AWAIT(5, ready(f, "m2", 60000, id, NULL) == DEBATE_OK);
    assert_string_equal(id, "late");
    assert_int_equal(debate_close(f->l, "late", "m2", DEBATE_NO_CONSENSUS, 0, "none", &cause),
                     DEBATE_OK);

    opts(&o, 3, 2, 60000);
    must_open(f, "open-1", &o, true);
    assert_int_equal(debate_list(f->l, true, 10, &list, &n, &cause), DEBATE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, "open-1");
    debate_list_free(list, n);
    assert_int_equal(debate_list(f->l, false, 10, &list, &n, &cause), DEBATE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, "late"); /* newest first */
    assert_string_equal(list[1].id, "full");
    assert_int_equal(list[1].nvotes, 2);
    debate_list_free(list, n);
    assert_int_equal(debate_list(f->l, false, 1, &list, &n, &cause), DEBATE_OK);
    assert_int_equal(n, 1);
    debate_list_free(list, n);
    {
        json_t *j;

        assert_int_equal(debate_get(f->l, "full", &d, &cause), DEBATE_OK);
        j = debate_to_json(&d);
        assert_string_equal(json_string_value(json_object_get(j, "outcome")), "consensus");
        assert_int_equal(json_array_size(json_object_get(j, "votes")), 2);
        json_decref(j);
        debate_clear(&d);
    }
}

/* Votes that settle a debate before its panel is full close it early: two confident "for"
 * votes of a panel of three can not be outweighed by a third, so no third debater is seated and
 * the moderator may close it; a split stays open for the third seat. */
static void test_decided_early(void **state)
{
    struct swarmenv_fx *f = *state;
    struct debate_options o;
    char id[NEWS_ID_MAX + 1], *why = NULL;
    size_t n = 0;

    opts(&o, 3, 2, 60000);
    must_open(f, "sure", &o, true);
    assert_int_equal(seat(f, "d1", 60000, id), DEBATE_OK);
    assert_int_equal(seat(f, "d2", 60000, id), DEBATE_OK);
    assert_int_equal(vote(f, "sure", "d1", DEBATE_FOR, 0.9, &why), DEBATE_OK);
    /* One vote is below the quorum: not settled, not ready. */
    assert_int_equal(ready(f, "m1", 1000, id, &n), DEBATE_NONE);
    assert_int_equal(vote(f, "sure", "d2", DEBATE_FOR, 0.8, &why), DEBATE_OK);
    /* 1.7 for: even a third "against" at full confidence leaves 1.7 / 2.7 = 0.63 >= 0.6. */
    assert_int_equal(seat(f, "d3", 60000, id), DEBATE_NONE);
    assert_int_equal(ready(f, "m1", 1000, id, &n), DEBATE_OK);
    assert_string_equal(id, "sure");
    assert_int_equal(n, 2);

    must_open(f, "split", &o, true);
    assert_int_equal(seat(f, "d1", 60000, id), DEBATE_OK);
    assert_int_equal(seat(f, "d2", 60000, id), DEBATE_OK);
    assert_int_equal(vote(f, "split", "d1", DEBATE_FOR, 0.9, &why), DEBATE_OK);
    assert_int_equal(vote(f, "split", "d2", DEBATE_AGAINST, 0.9, &why), DEBATE_OK);
    /* 0.9 for, 0.9 against: the third vote decides, so it is wanted. */
    assert_int_equal(ready(f, "m2", 1000, id, &n), DEBATE_NONE);
    assert_int_equal(seat(f, "d3", 60000, id), DEBATE_OK);
    assert_string_equal(id, "split");
}

static void swarm_opts(struct swarmenv_fx *f, struct swarm_options *o, const char *roles,
                       long stories)
{
    swarmenv_options(o, DB, f->cfg, f->pricing, roles, stories, 10);
}

static long count_status(struct swarmenv_fx *f, int status)
{
    return swarmenv_count(f->bb, status);
}

static long open_debates(struct swarmenv_fx *f)
{
    redisReply *r = test_must(f->l, "ZCARD %s", DEBATES_OPEN_KEY);
    long n = (long)r->integer;

    freeReplyObject(r);
    return n;
}

static bool settled(struct swarmenv_fx *f, struct swarm *s)
{
    return swarm_settled(s) && count_status(f, BB_PENDING) == 0 &&
           count_status(f, BB_PROCESSING) == 0 && count_status(f, BB_DEBATING) == 0 &&
           open_debates(f) == 0;
}

/* Every debated story carries its consensus, with every vote, and its debate is closed with
 * the outcome the story's status says. */
static void check_story(struct swarmenv_fx *f, const struct bb_item *it, long *debated)
{
    const json_t *cons = json_object_get(it->body, "consensus"), *votes;
    struct debate d;
    char *cause = NULL;

    if (!json_is_object(cons)) {
        /* Archived by the analyst: no debate. */
        assert_int_equal(it->status, BB_ARCHIVED);
        assert_true(strncmp(it->archive_reason, "not newsworthy", 14) == 0);
        assert_int_equal(debate_get(f->l, it->id, &d, &cause), DEBATE_NONE);
        return;
    }
    (*debated)++;
    votes = json_object_get(cons, "votes");
    assert_true(json_array_size(votes) >= 2); /* the quorum */
    for (size_t i = 0; i < json_array_size(votes); i++) {
        const json_t *v = json_array_get(votes, i);

        assert_true(json_is_string(json_object_get(v, "agent")));
        assert_true(json_is_string(json_object_get(v, "vote")));
        assert_true(json_is_number(json_object_get(v, "confidence")));
        assert_true(strlen(json_string_value(json_object_get(v, "reasoning"))) > 0);
    }
    assert_int_equal(debate_get(f->l, it->id, &d, &cause), DEBATE_OK);
    assert_false(d.open);
    assert_true(d.nvotes >= (size_t)d.quorum);
    if (it->status == BB_CONSENSUS_REACHED) {
        assert_true(json_is_true(json_object_get(cons, "reached")));
        assert_string_equal(d.outcome, DEBATE_CONSENSUS);
    } else {
        assert_int_equal(it->status, BB_ARCHIVED);
        assert_false(json_is_true(json_object_get(cons, "reached")));
        assert_string_equal(d.outcome, DEBATE_NO_CONSENSUS);
        assert_true(strncmp(it->archive_reason, "no consensus", 12) == 0);
    }
    assert_string_equal(d.reason, json_string_value(json_object_get(cons, "reason")));
    debate_clear(&d);
}

static void test_agents_debate(void **state)
{
    struct swarmenv_fx *f = *state;
    struct swarm_options o;
    struct swarm *s;
    struct bb_item **items;
    size_t nitems;
    long debated = 0, total = 0;
    char next[BB_CURSOR_MAX + 1], *cause = NULL;

    swarm_opts(f, &o, "scout:1,analyst:2,debater:4,moderator:2", 24);
    s = swarm_new(&o, &cause);
    assert_non_null(s);
    assert_int_equal(swarm_start(s, &cause), 0);
    AWAIT(120, settled(f, s));
    swarm_stop(s);
    swarm_free(s);
    for (int st = 0; st < BB_STATUS_COUNT; st++) {
        next[0] = '\0';
        do {
            assert_int_equal(bb_query(f->bb, -1, st, next, 100, &items, &nitems, next, &cause),
                             BB_OK);
            for (size_t i = 0; i < nitems; i++) {
                total++;
                check_story(f, items[i], &debated);
                bb_item_free(items[i]);
            }
            free(items);
        } while (next[0] != '\0');
    }
    assert_true(total > 0);
    assert_true(debated > 0);
    assert_int_equal(count_status(f, BB_CONSENSUS_REACHED) + count_status(f, BB_ARCHIVED), total);
    /* Every agent has gone: no seat outlives a debater, no lock a moderator. */
    {
        redisReply *r = test_must(f->l, "KEYS %s", BB_PREFIX "lock:*");
        assert_int_equal(r->elements, 0);
        freeReplyObject(r);
    }
}

/* A story written straight to a status, with a debate that closes in 200 ms. */
static void story_with_debate(struct swarmenv_fx *f, const char *id, enum bb_status st)
{
    char existing[NEWS_ID_MAX + 1], *cause = NULL;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "title", id, "content",
                          "Some content for the debate test.", "source", "test");
    struct news_item *it = news_item_from_json(j, &cause);
    struct debate_options o;

    assert_non_null(it);
    assert_int_equal(bb_write(f->bb, it, NULL, st, false, existing, &cause), BB_OK);
    news_item_free(it);
    json_decref(j);
    opts(&o, 3, 2, 200);
    must_open(f, id, &o, true);
}

static bool closed(struct swarmenv_fx *f, const char *id)
{
    struct debate d;
    char *cause = NULL;
    bool done = debate_get(f->l, id, &d, &cause) == DEBATE_OK && !d.open;

    debate_clear(&d);
    return done;
}

/* Whether a moderator holds a live lease on debate id. */
static bool leased(struct swarmenv_fx *f, const char *id)
{
    struct debate d;
    char *cause = NULL;
    bool yes = debate_get(f->l, id, &d, &cause) == DEBATE_OK && d.lease[0] != '\0' &&
               d.lease_until_ms > d.now_ms;

    debate_clear(&d);
    return yes;
}

static void test_moderator_alone(void **state)
{
    struct swarmenv_fx *f = *state;
    struct swarm_options o;
    struct swarm *s;
    struct bb_item *it;
    struct debate d;
    char *cause = NULL, id[NEWS_ID_MAX + 1];

    story_with_debate(f, "quiet", BB_DEBATING); /* a debater sits down, nobody votes */
    assert_int_equal(seat(f, "ghost", 100, id), DEBATE_OK);
    assert_string_equal(id, "quiet");
    story_with_debate(f, "elsewhere", BB_ARCHIVED); /* an operator archived it */
    story_with_debate(f, "waiting", BB_PROCESSING); /* its analyst has not finished */
    story_with_debate(f, "unseated", BB_DEBATING);  /* no debater ever came: it waits */
    swarm_opts(f, &o, "moderator:2", 0);
    s = swarm_new(&o, &cause);
    assert_non_null(s);
    assert_int_equal(swarm_start(s, &cause), 0);
    AWAIT(20, closed(f, "quiet") && closed(f, "elsewhere"));
    /* Past its deadline, seen by a moderator, and still open. */
    AWAIT(20, leased(f, "waiting"));
    swarm_stop(s);
    swarm_free(s);
    assert_false(closed(f, "waiting"));
    assert_false(closed(f, "unseated"));

    assert_int_equal(bb_read(f->bb, "quiet", &it, &cause), BB_OK);
    assert_int_equal(it->status, BB_ARCHIVED);
    assert_string_equal(it->archive_reason,
                        "no consensus: quorum not reached (0 of 2 votes by the deadline)");
    assert_non_null(json_object_get(it->body, "consensus"));
    bb_item_free(it);
    assert_int_equal(debate_get(f->l, "quiet", &d, &cause), DEBATE_OK);
    assert_string_equal(d.outcome, DEBATE_NO_CONSENSUS);
    debate_clear(&d);

    assert_int_equal(bb_read(f->bb, "elsewhere", &it, &cause), BB_OK);
    assert_int_equal(it->status, BB_ARCHIVED);
    assert_null(json_object_get(it->body, "consensus"));
    bb_item_free(it);
    assert_int_equal(debate_get(f->l, "elsewhere", &d, &cause), DEBATE_OK);
    assert_string_equal(d.outcome, DEBATE_STORY_MOVED);
    assert_non_null(strstr(d.reason, "ARCHIVED"));
    debate_clear(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seats_and_votes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ready_lease_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decided_early, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agents_debate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moderator_alone, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
