/*
 * test_production.c - the production floor (writer, qa, producer) against the shared test
 * Redis (database 11), with the sim provider at no latency: stories put in CONSENSUS_REACHED
 * all end in REVIEWING with their script (draft, revisions, final), QA verdicts and
 * storyboard package; a script QA keeps failing goes back to the writer and fails after the
 * bounded rounds with the reason; a reviewer's "revise" (handed to "rewrite" as the archivist
 * does) is reworked and comes back for review; a story waiting on a stage is not reclaimed,
 * and one whose taker died (took it and never let go) is taken back once its lock lapses and
 * still gets produced. Waits are conditions with deadlines, never blind sleeps.
 * Single-threaded test code (the swarm's threads are the code under test).
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
#include "store/blackboard.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB      11
#define STORIES 6
#define FLOOR   "writer:1,qa:1,producer:1"

struct fx {
    struct rlink *l;
    struct bb *bb;
    struct config *cfg;
    struct pricing *pricing;
    char ids[STORIES][NEWS_ID_MAX + 1];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);

    f->l = test_shared_link(DB, "test_production");
    freeReplyObject(test_must(f->l, "FLUSHDB%s", ""));
    f->bb = bb_new(f->l, "test");
    swarmenv_models(true, &f->cfg, &f->pricing);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    pricing_free(f->pricing);
    config_free(f->cfg);
    bb_free(f->bb);
    rlink_free(f->l);
    free(f);
    return 0;
}

/* Writes n full-length wire stories straight into CONSENSUS_REACHED, as a debate would leave
 * them (with the analyst's summary), and keeps their ids. */
static void put_stories(struct fx *f, int n)
{
    long i = 0;

    for (int k = 0; k < n; i++) {
        enum wire_kind kind;
        json_t *j = wire_story(2026, i, &kind, NULL), *extra;
        struct news_item *it;
        char existing[NEWS_ID_MAX + 1], *cause = NULL;

        if (kind != WIRE_NORMAL) {
            json_decref(j);
            continue;
        }
        it = news_item_from_json(j, &cause);
        if (it == NULL)
            fail_msg("story %ld: %s", i, cause);
        extra = json_pack("{s:{s:s, s:s}}", "analysis", "summary", it->title, "decision", "cover");
        if (bb_write(f->bb, it, extra, BB_CONSENSUS_REACHED, true, existing, &cause) != BB_OK)
            fail_msg("bb_write: %s", cause);
        snprintf(f->ids[k++], NEWS_ID_MAX + 1, "%s", it->id);
        json_decref(extra);
        news_item_free(it);
        json_decref(j);
    }
}

static long count_status(struct fx *f, int status)
{
    return swarmenv_count(f->bb, status);
}

static struct bb_item *item(struct fx *f, const char *id)
{
    struct bb_item *it = NULL;
    char *cause = NULL;

    if (bb_read(f->bb, id, &it, &cause) != BB_OK)
        fail_msg("bb_read %s: %s", id, cause ? cause : "none");
    return it;
}

static int status_of(struct fx *f, const char *id)
{
    struct bb_item *it = item(f, id);
    int st = it->status;

    bb_item_free(it);
    return st;
}

static struct swarm *floor_start(struct fx *f)
{
    struct swarm_options o;

    swarmenv_options(&o, DB, f->cfg, f->pricing, FLOOR, 0, 0);
    o.reclaim_every_ms = 100;
    return swarmenv_start(&o);
}

static const char *sval(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_string(v))
        fail_msg("\"%s\" is not a string", key);
    return json_string_value(v);
}

/* What every reviewed story carries: script, QA verdicts (the last passed) and package. */
static void check_reviewed(const struct bb_item *it)
{
    const json_t *script = json_object_get(it->body, "script");
    const json_t *qa = json_object_get(it->body, "qa");
    const json_t *pkg = json_object_get(it->body, "package");
    const json_t *last = json_array_get(qa, json_array_size(qa) - 1);
    size_t i;
    json_t *r;

    assert_int_equal(it->status, BB_REVIEWING);
    assert_int_equal(it->section, BB_REVIEW_QUEUE);
    assert_true(strlen(sval(script, "draft")) > 0);
    assert_true(strlen(sval(script, "final")) > 0);
    assert_true(json_integer_value(json_object_get(script, "words")) > 0);
    assert_true(json_is_number(json_object_get(script, "confidence")));
    assert_non_null(strstr(sval(script, "by"), "writer-"));
    assert_true(json_is_array(json_object_get(script, "revisions")));
    json_array_foreach(json_object_get(script, "revisions"), i, r)
    {
        assert_int_equal(json_integer_value(json_object_get(r, "number")), (json_int_t)i + 1);
        assert_true(strlen(sval(r, "type")) > 0);
        assert_true(json_is_number(json_object_get(r, "improvement")));
        assert_true(json_is_number(json_object_get(r, "confidence")));
        assert_true(strlen(sval(r, "reasoning")) > 0);
    }
    assert_true(json_array_size(qa) >= 1);
    assert_true(json_is_true(json_object_get(last, "passed")));
    assert_true(json_is_number(json_object_get(last, "score")));
    assert_true(json_is_number(json_object_get(last, "confidence")));
    assert_true(json_is_array(json_object_get(last, "issues")));
    assert_non_null(strstr(sval(last, "reasoning"), "passed"));
    assert_non_null(strstr(sval(last, "by"), "qa-"));
    assert_string_equal(sval(pkg, "kind"), "storyboard");
    assert_true(json_number_value(json_object_get(pkg, "duration_s")) > 4);
    assert_true(strncmp(sval(pkg, "captions_srt"), "1\n00:00:02,000 --> ", 19) == 0);
    assert_string_equal(sval(json_array_get(json_object_get(pkg, "shots"), 0), "kind"),
                        "title_card");
    assert_non_null(strstr(sval(pkg, "by"), "producer-"));
    assert_true(json_integer_value(json_object_get(pkg, "words")) ==
                json_integer_value(json_object_get(script, "words")));
}

static void test_floor(void **state)
{
    struct fx *f = *state;
    struct swarm *s;
    long stage;
    char *cause = NULL;

    /* A low bar: every story gets through on its first or second round. */
    f->cfg->qa_pass_score_micro = 1000000;
    put_stories(f, STORIES);
    s = floor_start(f);
    AWAIT(60, count_status(f, BB_REVIEWING) == STORIES);
    swarm_stop(s);
    swarm_free(s);
    for (int i = 0; i < STORIES; i++) {
        struct bb_item *it = item(f, f->ids[i]);

        check_reviewed(it);
        bb_item_free(it);
    }
    assert_int_equal(count_status(f, BB_PRODUCING), 0);
    assert_int_equal(bb_stage_len(f->bb, "qa", &stage, &cause), BB_OK);
    assert_int_equal(stage, 0);
    {
        redisReply *r = test_must(f->l, "KEYS %s", BB_PREFIX "lock:*");
        assert_int_equal(r->elements, 0);
        freeReplyObject(r);
    }
}

static void test_qa_below_bar(void **state)
{
    struct fx *f = *state;
    struct swarm *s;

    /* No script of a wire story fits in 20 words: QA fails every round. */
    f->cfg->script_words_max = 20;
    f->cfg->qa_max_rounds = 2;
    put_stories(f, 2);
    s = floor_start(f);
    AWAIT(60, count_status(f, BB_FAILED) == 2);
    swarm_stop(s);
    swarm_free(s);
    for (int i = 0; i < 2; i++) {
        struct bb_item *it = item(f, f->ids[i]);
        const json_t *qa = json_object_get(it->body, "qa");
        const json_t *script = json_object_get(it->body, "script");
        const json_t *revs = json_object_get(script, "revisions");
        const json_t *last = json_array_get(revs, json_array_size(revs) - 1);

        assert_non_null(strstr(it->fail_reason, "QA: round 2 of 2"));
        assert_non_null(strstr(it->fail_reason, "below the bar"));
        assert_int_equal(json_array_size(qa), 2);
        for (size_t k = 0; k < 2; k++) {
            const json_t *v = json_array_get(qa, k);

            assert_int_equal(json_integer_value(json_object_get(v, "round")), (json_int_t)k + 1);
            assert_true(json_is_false(json_object_get(v, "passed")));
            assert_true(json_array_size(json_object_get(v, "issues")) >= 1);
        }
        /* One rework answered the first verdict's issues. */
        assert_string_equal(sval(last, "type"), "qa_rework");
        assert_non_null(strstr(sval(last, "answered"), "a script needs"));
        assert_int_equal(json_integer_value(json_object_get(script, "qa_reworks")), 1);
        assert_null(json_object_get(it->body, "package"));
        bb_item_free(it);
    }
}

static void test_reviewer_revise(void **state)
{
    struct fx *f = *state;
    struct swarm *s;
    struct bb_lock lk;
    struct bb_item *it;
    json_t *patch, *revs, *last;
    char *cause = NULL;

    f->cfg->qa_pass_score_micro = 0;
    put_stories(f, 1);
    s = floor_start(f);
    AWAIT(60, status_of(f, f->ids[0]) == BB_REVIEWING);
    /* A reviewer asks for a revision; the archivist hands it to "rewrite". */
    assert_int_equal(
        bb_decide(f->bb, f->ids[0], BB_REJECTED, "revise: shorter lead", 0, NULL, &cause), BB_OK);
    assert_int_equal(bb_lock_acquire(f->bb, f->ids[0], 10000, &lk, &cause), BB_OK);
    assert_int_equal(bb_transition(f->bb, f->ids[0], BB_PRODUCING, "revise", &lk, &cause), BB_OK);
    patch = json_pack("{s:{s:s, s:s, s:s}}", "revision_request", "note", "shorter lead", "by",
                      "editor@desk", "at", "2026-11-28T10:00:00Z");
    assert_int_equal(bb_handoff(f->bb, &lk, "rewrite", patch, "revision requested", &cause), BB_OK);
    json_decref(patch);
    AWAIT(60, status_of(f, f->ids[0]) == BB_REVIEWING);
    swarm_stop(s);
    swarm_free(s);
    it = item(f, f->ids[0]);
    check_reviewed(it);
    revs = json_object_get(json_object_get(it->body, "script"), "revisions");
    last = json_array_get(revs, json_array_size(revs) - 1);
    assert_string_equal(sval(last, "type"), "reviewer_note");
    assert_string_equal(sval(last, "answered"), "shorter lead");
    assert_non_null(json_object_get(json_object_get(it->body, "script"), "answered_request"));
    assert_true(json_array_size(json_object_get(it->body, "qa")) >= 2);
    /* The QA rounds after the revise go on from those before: 1, 2, ..., never 1 twice. */
    for (size_t k = 0; k < json_array_size(json_object_get(it->body, "qa")); k++)
        assert_int_equal(json_integer_value(json_object_get(
                             json_array_get(json_object_get(it->body, "qa"), k), "round")),
                         (json_int_t)k + 1);
    bb_item_free(it);
}

static int reclaimed(struct fx *f)
{
    struct bb_retry policy = {.max_attempts = 3};
    int n = 0;
    char *cause = NULL;

    if (bb_reclaim(f->bb, BB_PRODUCING, &policy, 32, &n, &cause) != BB_OK)
        fail_msg("bb_reclaim: %s", cause);
    return n;
}

static void test_taker_dies(void **state)
{
    struct fx *f = *state;
    struct bb_lock lk, lk2;
    struct bb_item *it;
    struct swarm *s;
    json_t *patch;
    char *cause = NULL;

    f->cfg->qa_pass_score_micro = 0;
    put_stories(f, 1);
    /* A writer hands a script to "qa"... */
    assert_int_equal(bb_claim(f->bb, BB_CONSENSUS_REACHED, BB_PRODUCING, 10000, &lk, &cause),
                     BB_OK);
    patch = json_pack("{s:{s:s, s:s, s:i, s:[], s:i, s:s}}", "script", "draft", "A draft.", "final",
                      "The council approved the budget, officials said. That's the latest.",
                      "words", 10, "revisions", "qa_reworks", 0, "by", "test");
    assert_int_equal(bb_handoff(f->bb, &lk, "qa", patch, "to QA", &cause), BB_OK);
    json_decref(patch);
    /* ...where, unlocked and waiting, it is not taken back. */
    assert_int_equal(reclaimed(f), 0);
    /* A QA agent takes it and dies without letting go. */
    assert_int_equal(bb_take(f->bb, "qa", BB_PRODUCING, 300, &lk2, NULL, &cause), BB_OK);
    assert_string_equal(lk2.id, f->ids[0]);
    assert_int_equal(reclaimed(f), 0); /* still locked */
    AWAIT(10, reclaimed(f) == 1);
    /* Taken back to the front of the step it was in, no attempt counted: never to the
     * writer, whose script is a checkpoint. */
    it = item(f, f->ids[0]);
    assert_int_equal(it->status, BB_PRODUCING);
    assert_string_equal(it->stage, "qa");
    assert_int_equal(it->attempts, 0);
    assert_int_equal(it->reclaims, 1);
    assert_non_null(strstr(it->reason, "lapsed"));
    bb_item_free(it);
    /* The floor resumes it at QA and gets it to review with the script it had. */
    s = floor_start(f);
    AWAIT(60, status_of(f, f->ids[0]) == BB_REVIEWING);
    swarm_stop(s);
    swarm_free(s);
    it = item(f, f->ids[0]);
    check_reviewed(it);
    assert_string_equal(sval(json_object_get(it->body, "script"), "draft"), "A draft.");
    bb_item_free(it);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_floor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qa_below_bar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reviewer_revise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_taker_dies, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
