/*
 * test_agents.c - the agent loop, the first two roles and the wire simulator, against the
 * shared test Redis (database 9): the wire is deterministic with about 5% duplicates and 15%
 * weak stories; a swarm of scout:1,analyst:2 over N wire stories ends, with --once semantics,
 * with every story ARCHIVED (with a reason) or DEBATING and none PENDING or PROCESSING,
 * the deliberate duplicates (the same text under a new id: another outlet) merged into their
 * story as further sources by semantic deduplication, no other story merged, and one usage
 * record per LLM call; a halted swarm claims nothing and
 * spends nothing until resumed. Waits are conditions with deadlines, never blind sleeps.
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
#include "cost/usage.h"
#include "store/blackboard.h"
#include "store/control.h"
#include "store/registry.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB 9

/* The fixture: a link in database DB, a blackboard, the models (swarmenv.h). */
static int setup(void **state)
{
    *state = swarmenv_fx_new(DB, "test_agents", false);
    return 0;
}

static int teardown(void **state)
{
    swarmenv_fx_free(*state);
    return 0;
}

static void options(struct swarmenv_fx *f, struct swarm_options *o, const char *roles, long stories)
{
    swarmenv_options(o, DB, f->cfg, f->pricing, roles, stories, 42);
}

static long count_status(struct swarmenv_fx *f, int status)
{
    return swarmenv_count(f->bb, status);
}

static long usage_records(struct swarmenv_fx *f)
{
    redisReply *r = test_must(f->l, "XLEN %s", USAGE_STREAM_KEY);
    long n = (long)r->integer;

    freeReplyObject(r);
    return n;
}

static bool drained(struct swarmenv_fx *f, struct swarm *s)
{
    return swarm_settled(s) && count_status(f, BB_PENDING) == 0 &&
           count_status(f, BB_PROCESSING) == 0;
}

static void test_wire(void **state)
{
    const long n = 4000;
    long kinds[3] = {0};
    char(*hashes)[65] = calloc((size_t)n, 65);

    (void)state;
    for (long i = 0; i < n; i++) {
        enum wire_kind k;
        long dup_of;
        json_t *a = wire_story(7, i, &k, &dup_of), *b = wire_story(7, i, NULL, NULL);
        char *cause = NULL;
        struct news_item *it = news_item_from_json(a, &cause);

        if (it == NULL)
            fail_msg("story %ld: %s", i, cause);
        assert_true(json_equal(a, b));
        memcpy(hashes[i], it->hash, 65);
        kinds[k]++;
        if (k == WIRE_DUPLICATE) {
            assert_true(dup_of >= 0 && dup_of < i);
            assert_string_equal(hashes[dup_of], it->hash);
        } else {
            /* Every story that is not a deliberate duplicate is unique. */
            for (long j = 0; j < i; j++)
                if (strcmp(hashes[j], it->hash) == 0)
                    fail_msg("story %ld repeats story %ld by accident", i, j);
            if (k == WIRE_WEAK)
                assert_true(strlen(it->content) < 250);
            else
                assert_true(strlen(it->content) > 300);
        }
        news_item_free(it);
        json_decref(a);
        json_decref(b);
    }
    assert_in_range(kinds[WIRE_DUPLICATE], n * 3 / 100, n * 7 / 100);
    assert_in_range(kinds[WIRE_WEAK], n * 11 / 100, n * 19 / 100);
    {
        json_t *a = wire_story(7, 3, NULL, NULL), *b = wire_story(8, 3, NULL, NULL);
        assert_false(json_equal(a, b));
        json_decref(a);
        json_decref(b);
    }
    free(hashes);
}

/* config/sample_stories.jsonl is the wire's first 50 stories of seed 2026, one a line. */
static void test_samples(void **state)
{
    char path[4096], *text, *line, *save = NULL;
    long n = 0;

    (void)state;
    snprintf(path, sizeof path, "%s/config/sample_stories.jsonl", test_env("NEWSROOM_SOURCE_DIR"));
    text = test_read_file(path);
    assert_non_null(text);
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        json_t *want = wire_story(2026, n++, NULL, NULL);
        char *s = json_dumps(want, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_string_equal(line, s);
        free(s);
        json_decref(want);
    }
    assert_int_equal(n, 50);
    free(text);
}

static void test_bad_spec(void **state)
{
    struct swarmenv_fx *f = *state;
    struct swarm_options o;
    char *cause = NULL;

    options(f, &o, "scout:1,bogus:2", 0);
    assert_null(swarm_new(&o, &cause));
    assert_non_null(strstr(cause, "\"bogus\""));
    free(cause);
    cause = NULL;
    options(f, &o, "analyst:0", 0);
    assert_null(swarm_new(&o, &cause));
    free(cause);
}

static void test_swarm_once(void **state)
{
    struct swarmenv_fx *f = *state;
    const long n = 60;
    long dups = 0;
    struct swarm_options o;
    struct swarm_totals t;
    struct swarm *s;
    struct bb_item **items;
    size_t nitems;
    char next[BB_CURSOR_MAX + 1], *cause = NULL;
    struct registry *reg = registry_new(f->l);
    struct registry_agent *agents;
    size_t nagents;

    for (long i = 0; i < n; i++) {
        enum wire_kind k;
        json_decref(wire_story(42, i, &k, NULL));
        dups += k == WIRE_DUPLICATE;
    }
    options(f, &o, "scout:1,analyst:2", n);
    s = swarm_new(&o, &cause);
    assert_non_null(s);
    assert_int_equal(swarm_size(s), 3);
    assert_int_equal(swarm_start(s, &cause), 0);
    AWAIT(60, drained(f, s));
    swarm_stop(s);
    swarm_totals(s, &t);

    assert_int_equal(t.written, n - dups);
    assert_int_equal(t.merged, dups);
    assert_int_equal(t.duplicates, 0);
    assert_int_equal(count_status(f, BB_ARCHIVED) + count_status(f, BB_DEBATING), n - dups);
    assert_int_equal(t.archived + t.advanced, n - dups);
    assert_true(t.archived > 0);
    assert_true(t.advanced > 0);
    /* One usage record for every LLM call: the scout's batches and one per analysis. */
    assert_true(t.llm_calls > n - dups);
    assert_int_equal(usage_records(f), t.llm_calls);

    assert_int_equal(bb_query(f->bb, -1, BB_ARCHIVED, "", 1000, &items, &nitems, next, &cause),
                     BB_OK);
    for (size_t i = 0; i < nitems; i++) {
        json_t *an = json_object_get(items[i]->body, "analysis");
        assert_true(strncmp(items[i]->archive_reason, "not newsworthy", 14) == 0);
        assert_non_null(json_object_get(an, "reasoning"));
        assert_string_equal(json_string_value(json_object_get(an, "decision")), "archive");
        bb_item_free(items[i]);
    }
    free(items);
    assert_int_equal(bb_query(f->bb, -1, BB_DEBATING, "", 1000, &items, &nitems, next, &cause),
                     BB_OK);
    for (size_t i = 0; i < nitems; i++) {
        json_t *an = json_object_get(items[i]->body, "analysis");
        assert_int_equal(items[i]->section, BB_DEBATE_QUEUE);
        assert_string_equal(json_string_value(json_object_get(an, "decision")), "cover");
        assert_true(json_is_number(json_object_get(an, "confidence")));
        assert_true(json_is_string(json_object_get(an, "summary")));
        assert_non_null(json_object_get(items[i]->body, "tags"));
        bb_item_free(items[i]);
    }
    free(items);
    /* Stopped agents unregistered and hold no lock. */
    assert_int_equal(registry_list(reg, &agents, &nagents, NULL, &cause), 0);
    assert_int_equal(nagents, 0);
    free(agents);
    {
        redisReply *r = test_must(f->l, "KEYS %s", BB_PREFIX "lock:*");
        assert_int_equal(r->elements, 0);
        freeReplyObject(r);
    }
    registry_free(reg);
    swarm_free(s);
}

static bool all_paused(struct swarmenv_fx *f, struct swarm *s)
{
    struct registry *reg = registry_new(f->l);
    struct registry_agent *agents = NULL;
    size_t n = 0;
    int paused = 0;
    char *cause = NULL;

    if (registry_list(reg, &agents, &n, NULL, &cause) == 0) {
        for (size_t i = 0; i < n; i++)
            paused += agents[i].status == REGISTRY_PAUSED;
    } else {
        free(cause);
    }
    free(agents);
    registry_free(reg);
    return paused == swarm_size(s);
}

static long halt_checks(struct swarm *s)
{
    struct swarm_totals t;

    swarm_totals(s, &t);
    return t.halt_checks;
}

static long claimed(struct swarm *s)
{
    struct swarm_totals t;

    swarm_totals(s, &t);
    return t.claimed;
}

static void test_halt(void **state)
{
    struct swarmenv_fx *f = *state;
    struct swarm_options o;
    struct swarm_totals t0, t1;
    struct swarm *s;
    long usage0, pending0, checks0;
    char *cause = NULL;
    struct control_halt lifted;

    /* Analysis slow enough that the halt lands mid-run. */
    f->cfg->sim_latency_balanced_ms = 30;
    options(f, &o, "scout:1,analyst:2", 80);
    o.wire_rate_per_s = 0;
    s = swarm_new(&o, &cause);
    assert_non_null(s);
    assert_int_equal(swarm_start(s, &cause), 0);
    AWAIT(30, claimed(s) >= 3);
    if (control_emergency(f->l, "test halt", true, NULL, NULL, &cause) == -1)
        fail_msg("emergency: %s", cause);
    /* Every agent has seen the flag (a cycle in progress has ended, since the loop only
     * pauses between cycles). */
    AWAIT(10, all_paused(f, s));
    swarm_totals(s, &t0);
    usage0 = usage_records(f);
    pending0 = count_status(f, BB_PENDING);
    checks0 = halt_checks(s);
    assert_int_equal(count_status(f, BB_PROCESSING), 0);
    assert_int_equal(usage0, t0.llm_calls);
    /* Every agent goes round its loop several times while halted... */
    AWAIT(10, halt_checks(s) >= checks0 + 5L * swarm_size(s));
    /* ...and claims nothing, calls no model, writes nothing. */
    swarm_totals(s, &t1);
    assert_int_equal(t1.claimed, t0.claimed);
    assert_int_equal(t1.llm_calls, t0.llm_calls);
    assert_int_equal(t1.written, t0.written);
    assert_int_equal(usage_records(f), usage0);
    assert_int_equal(count_status(f, BB_PENDING), pending0);

    assert_int_equal(control_resume(f->l, "test resume", &lifted, NULL, &cause), 0);
    assert_true(lifted.halted);
    control_halt_clear(&lifted);
    AWAIT(60, drained(f, s));
    swarm_stop(s);
    swarm_totals(s, &t1);
    assert_true(t1.claimed > t0.claimed);
    assert_int_equal(usage_records(f), t1.llm_calls);
    assert_int_equal(t1.archived + t1.advanced, t1.written);
    swarm_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire),
        cmocka_unit_test(test_samples),
        cmocka_unit_test_setup_teardown(test_bad_spec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swarm_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_halt, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
