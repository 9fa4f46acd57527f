/*
 * test_recovery.c - failure recovery's core against the shared test Redis (database 16,
 * emptied before each test):
 *
 *   - claims belong to agents: indexed per agent, taken back at once when the agent's process
 *     is gone (bb_reap), to the front of their queue, no attempt counted; the dead claimer's
 *     late write is refused; another agent's claim is left alone.
 *   - a lapsed heartbeat is death only when the reaper may trust its view; the pulse keeps a
 *     live agent's claims alive past their lock's TTL and tells an agent it was declared dead.
 *   - setbacks: attempts per step with a backoff that claims respect (not due, not taken),
 *     FAILED at a step's last attempt with the whole error history; parks count nothing, and a
 *     story parked for a budget request goes on once the request is decided.
 *   - the dead set: list, requeue by id and --all with a fresh budget and an audit record, an
 *     ARCHIVED story requeued by id at the step its checkpoints say, --step retiring the
 *     checkpoints of that step and later ones.
 *   - debates: a dead debater's seat freed at once with its time given back; a paused debate's
 *     clock stands still.
 *   - processes: a killed process (zombie or collected) is gone, a live one is not, and a pid
 *     whose start time differs is another process.
 *   - a swarm's heart takes back the claim of an agent whose process is gone (not waiting for
 *     its heartbeat), and its analyst finishes the story.
 *   - a writer resumes a story from its checkpoint without paying for the draft or the
 *     revisions again (the usage stream says so).
 *   - an LLM outage (retryable: HTTP 500 from a local OpenAI-compatible fake) parks a story and
 *     counts no attempt; a fatal answer (401) counts one.
 *
 * Waits are conditions with deadlines, never blind sleeps.
 */
#include "agents/agent.h"
#include "agents/review.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "cost/pricing.h"
#include "fake_llm.h"
#include "recovery/deadset.h"
#include "store/audit.h"
#include "store/blackboard.h"
#include "store/debate.h"
#include "store/registry.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define DB 16

static long long integer(struct rlink *l, const char *fmt, const char *arg)
{
    redisReply *r = test_must(l, fmt, arg);
    long long v = r->type == REDIS_REPLY_INTEGER  ? r->integer
                  : r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10)
                                                  : 0;

    freeReplyObject(r);
    return v;
}

static int setup(void **state)
{
    *state = swarmenv_fx_new(DB, "test_recovery", true);
    return 0;
}

static int teardown(void **state)
{
    swarmenv_fx_free(*state);
    return 0;
}

static void put(struct swarmenv_fx *f, const char *id, enum bb_status st, json_t *extra)
{
    char existing[NEWS_ID_MAX + 1], *cause = NULL;
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s}", "id", id, "title", id, "content",
        "The city council approved a budget of 4.2 million dollars on Tuesday, officials said. "
        "The mayor said the money would pay for 12 new buses and repairs to 30 bridges. "
        "Council member Ana Ruiz said the vote was 7 to 2 after a debate of three hours. "
        "Residents will see the first new buses in March, according to the transit office. "
        "The finance director said taxes would not rise this year.",
        "source", "test");
    struct news_item *it = news_item_from_json(j, &cause);

    assert_non_null(it);
    if (bb_write(f->bb, it, extra, st, false, existing, &cause) != BB_OK)
        fail_msg("bb_write %s: %s", id, cause);
    news_item_free(it);
    json_decref(j);
    json_decref(extra);
}

static struct bb_item *item(struct swarmenv_fx *f, const char *id)
{
    struct bb_item *it = NULL;
    char *cause = NULL;

    if (bb_read(f->bb, id, &it, &cause) != BB_OK)
        fail_msg("bb_read %s: %s", id, cause ? cause : "none");
    return it;
}

static int status_of(struct swarmenv_fx *f, const char *id)
{
    struct bb_item *it = item(f, id);
    int st = it->status;

    bb_item_free(it);
    return st;
}

static double score(struct swarmenv_fx *f, const char *key, const char *id)
{
    char cmd[300];
    redisReply *r;
    double v;

    snprintf(cmd, sizeof cmd, "ZSCORE %s %%s", key);
    r = test_must(f->l, cmd, id);
    v = r->type == REDIS_REPLY_STRING ? strtod(r->str, NULL) : -1;
    freeReplyObject(r);
    return v;
}

/* Reaps with agents gone[0..n) dead by process; the claims taken back. */
static int reap(struct swarmenv_fx *f, bool lapsed, const char *const *gone, size_t n)
{
    struct bb_retry policy = {.max_attempts = 3};
    char *cause = NULL;
    int taken = -1;

    if (bb_reap(f->bb, &policy, lapsed, 3600000, "nowhere", 1, gone, n, &taken, NULL, NULL,
                &cause) != BB_OK)
        fail_msg("bb_reap: %s", cause);
    return taken;
}

static void test_claims_belong_to_agents(void **state)
{
    struct swarmenv_fx *f = *state;
    struct bb *a = bb_new(f->l, "agent-a"), *b = bb_new(f->l, "agent-b");
    struct bb_lock la, lb;
    struct bb_item *it;
    const char *gone[] = {"agent-a"};
    char *cause = NULL;

    put(f, "s1", BB_PENDING, NULL);
    put(f, "s2", BB_PENDING, NULL);
    put(f, "s3", BB_PENDING, NULL);
    assert_int_equal(bb_claim(a, BB_PENDING, BB_PROCESSING, 60000, &la, &cause), BB_OK);
    assert_int_equal(bb_claim(b, BB_PENDING, BB_PROCESSING, 60000, &lb, &cause), BB_OK);
    assert_string_equal(la.id, "s1");
    assert_int_equal(integer(f->l, "SISMEMBER nr:bb:held:agent-a %s", "s1"), 1);
    assert_int_equal(integer(f->l, "SISMEMBER nr:bb:held:agent-b %s", "s2"), 1);
    /* s3 looks older than anything: the one taken back still goes before it. */
    freeReplyObject(test_must(f->l, "ZADD nr:bb:st:PENDING 5 %s", "s3"));
    assert_int_equal(reap(f, false, NULL, 0), 0);
    assert_int_equal(reap(f, false, gone, 1), 1);
    it = item(f, "s1");
    assert_int_equal(it->status, BB_PENDING);
    assert_int_equal(it->attempts, 0);
    assert_int_equal(it->reclaims, 1);
    assert_non_null(strstr(it->reason, "agent-a died (its process is gone)"));
    bb_item_free(it);
    assert_true(score(f, "nr:bb:st:PENDING", "s1") < 5);
    assert_int_equal(integer(f->l, "EXISTS nr:bb:held:agent-a%s", ""), 0);
    /* The dead claimer's late write is refused; the living one's claim is untouched. */
    assert_int_equal(bb_complete(a, &la, BB_DEBATING, NULL, &cause), BB_REFUSED);
    free(cause);
    cause = NULL;
    assert_int_equal(status_of(f, "s2"), BB_PROCESSING);
    assert_int_equal(bb_complete(b, &lb, BB_DEBATING, NULL, &cause), BB_OK);
    assert_int_equal(integer(f->l, "SISMEMBER nr:bb:held:agent-b %s", "s2"), 0);
    /* The next claim takes s1 first. */
    assert_int_equal(bb_claim(b, BB_PENDING, BB_PROCESSING, 60000, &lb, &cause), BB_OK);
    assert_string_equal(lb.id, "s1");
    bb_free(a);
    bb_free(b);
}

static void test_heartbeats(void **state)
{
    struct swarmenv_fx *f = *state;
    struct registry *r = registry_new(f->l);
    struct registry_agent ra = {.id = "agent-l", .role = "analyst", .tier = "BALANCED"};
    struct registry_pulse_result res;
    struct bb *a = bb_new(f->l, "agent-l");
    const char *ids[] = {"agent-l"}, *claims[] = {"h1"};
    struct bb_lock lk, other;
    char *cause = NULL;
    int64_t end;

    put(f, "h1", BB_PENDING, NULL);
    put(f, "h2", BB_PENDING, NULL);
    assert_int_equal(registry_register(r, &ra, 300, &cause), 0);
    assert_int_equal(bb_claim(a, BB_PENDING, BB_PROCESSING, 400, &lk, &cause), BB_OK);
    assert_int_equal(bb_claim(a, BB_PENDING, BB_PROCESSING, 400, &other, &cause), BB_OK);
    assert_string_equal(lk.id, "h1");
    /* Pulsed, the claim it works on outlives its 400 ms lock; one it let go without saying
     * so lapses. */
    end = clock_mono_ms() + 1200;
    while (clock_mono_ms() < end) {
        assert_int_equal(registry_pulse(f->l, ids, claims, 1, 300, 400, &res, &cause), 0);
        assert_true(res.exists);
        assert_int_equal(res.reaped_ms, 0);
        assert_int_equal(integer(f->l, "EXISTS nr:bb:lock:%s", "h1"), 1);
        clock_sleep_ms(100, NULL);
    }
    assert_int_equal(integer(f->l, "EXISTS nr:bb:lock:%s", "h2"), 0);
    assert_int_equal(integer(f->l, "SISMEMBER nr:bb:held:agent-l %s", "h2"), 0);
    /* No pulse: the heartbeat lapses. Not death while the reaper may not trust its view. */
    {
        struct registry_agent got;
        bool found;

        AWAIT(5, registry_get(r, "agent-l", &got, &found, &cause) == 0 && found &&
                     got.status == REGISTRY_DEAD);
    }
    assert_int_equal(reap(f, false, NULL, 0), 0);
    assert_int_equal(status_of(f, "h1"), BB_PROCESSING);
    assert_int_equal(reap(f, true, NULL, 0), 1);
    assert_int_equal(status_of(f, "h1"), BB_PENDING);
    /* It lived after all: its next pulse says it was declared dead, once. */
    assert_int_equal(registry_pulse(f->l, ids, NULL, 1, 5000, 400, &res, &cause), 0);
    assert_true(res.exists);
    assert_true(res.reaped_ms > 0);
    assert_int_equal(registry_pulse(f->l, ids, NULL, 1, 5000, 400, &res, &cause), 0);
    assert_int_equal(res.reaped_ms, 0);
    assert_int_equal(bb_complete(a, &lk, BB_DEBATING, NULL, &cause), BB_REFUSED);
    free(cause);
    registry_free(r);
    bb_free(a);
}

static void test_setbacks(void **state)
{
    struct swarmenv_fx *f = *state;
    struct bb_retry policy = {.max_attempts = 3, .base_ms = 300, .max_ms = 600};
    struct bb_lock lk;
    struct bb_item *it;
    const json_t *errors;
    char *cause = NULL;
    int now;

    put(f, "r1", BB_PENDING, NULL);
    /* An attempt: not due, so not taken, until its backoff has passed. */
    assert_int_equal(bb_claim(f->bb, BB_PENDING, BB_PROCESSING, 60000, &lk, &cause), BB_OK);
    assert_int_equal(bb_setback(f->bb, "r1", &lk, BB_ATTEMPT, "bad answer", &policy, -1, NULL, NULL,
                                &now, &cause),
                     BB_OK);
    assert_int_equal(now, BB_PENDING);
    it = item(f, "r1");
    assert_true(it->due_ms > 0);
    bb_item_free(it);
    assert_int_equal(bb_claim(f->bb, BB_PENDING, BB_PROCESSING, 60000, &lk, &cause), BB_NONE);
    AWAIT(5, bb_claim(f->bb, BB_PENDING, BB_PROCESSING, 60000, &lk, &cause) == BB_OK);
    /* A park counts nothing and waits what it is told. */
    assert_int_equal(bb_setback(f->bb, "r1", &lk, BB_PARK, "provider down", &policy, 200, NULL,
                                NULL, &now, &cause),
                     BB_OK);
    AWAIT(5, bb_claim(f->bb, BB_PENDING, BB_PROCESSING, 60000, &lk, &cause) == BB_OK);
    it = item(f, "r1");
    assert_int_equal(it->attempts, 1);
    assert_int_equal(it->parks, 1);
    bb_item_free(it);
    /* Two more attempts at the same step: FAILED, the whole history kept. */
    assert_int_equal(bb_setback(f->bb, "r1", &lk, BB_ATTEMPT, "bad again", &policy, -1, NULL, NULL,
                                &now, &cause),
                     BB_OK);
    AWAIT(5, bb_claim(f->bb, BB_PENDING, BB_PROCESSING, 60000, &lk, &cause) == BB_OK);
    assert_int_equal(bb_setback(f->bb, "r1", &lk, BB_ATTEMPT, "bad thrice", &policy, -1, NULL, NULL,
                                &now, &cause),
                     BB_OK);
    assert_int_equal(now, BB_FAILED);
    it = item(f, "r1");
    assert_string_equal(it->failed_step, "analyze");
    assert_string_equal(it->fail_reason, "bad thrice");
    errors = json_object_get(it->body, "errors");
    assert_int_equal(json_array_size(errors), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "error")),
                        "bad answer");
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 2), "step")),
                        "analyze");
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 2), "agent")),
                        "test");
    bb_item_free(it);

    /* Each step has its own budget: two attempts at analyze, then two at write, never FAILED. */
    put(f, "r2", BB_PENDING, NULL);
    for (int i = 0; i < 2; i++) {
        AWAIT(5, bb_claim(f->bb, BB_PENDING, BB_PROCESSING, 60000, &lk, &cause) == BB_OK);
        assert_int_equal(
            bb_setback(f->bb, "r2", &lk, BB_ATTEMPT, "a", &policy, -1, NULL, NULL, &now, &cause),
            BB_OK);
    }
    AWAIT(5, bb_claim(f->bb, BB_PENDING, BB_PROCESSING, 60000, &lk, &cause) == BB_OK);
    assert_int_equal(bb_complete(f->bb, &lk, BB_DEBATING, NULL, &cause), BB_OK);
    assert_int_equal(bb_transition(f->bb, "r2", BB_CONSENSUS_REACHED, NULL, NULL, &cause), BB_OK);
    for (int i = 0; i < 2; i++) {
        static const char *const stages[] = {"rewrite", "write"};

        AWAIT(5, bb_take_any(f->bb, stages, 2, BB_PRODUCING, BB_CONSENSUS_REACHED, 60000, &lk, NULL,
                             NULL, &cause) == BB_OK);
        assert_int_equal(
            bb_setback(f->bb, "r2", &lk, BB_ATTEMPT, "w", &policy, -1, NULL, NULL, &now, &cause),
            BB_OK);
        /* Retried on the writer's stage, never back at CONSENSUS_REACHED. */
        assert_int_equal(now, BB_PRODUCING);
    }
    it = item(f, "r2");
    assert_int_equal(it->attempts, 4);
    assert_string_equal(it->stage, "write");
    bb_item_free(it);

    /* Parked for a budget request: it goes on when the request is decided, not before. */
    put(f, "r3", BB_PENDING, NULL);
    freeReplyObject(test_must(f->l, "HSET nr:cost:req:77 status %s", "open"));
    assert_int_equal(bb_claim(f->bb, BB_PENDING, BB_PROCESSING, 60000, &lk, &cause), BB_OK);
    assert_string_equal(lk.id, "r3");
    assert_int_equal(bb_setback(f->bb, "r3", &lk, BB_PARK, "budget deferred", &policy, 600000, "77",
                                NULL, &now, &cause),
                     BB_OK);
    reap(f, false, NULL, 0);
    assert_int_equal(bb_claim(f->bb, BB_PENDING, BB_PROCESSING, 60000, &lk, &cause), BB_NONE);
    freeReplyObject(test_must(f->l, "HSET nr:cost:req:77 status %s", "granted"));
    reap(f, false, NULL, 0);
    assert_int_equal(bb_claim(f->bb, BB_PENDING, BB_PROCESSING, 60000, &lk, &cause), BB_OK);
    assert_string_equal(lk.id, "r3");
    assert_int_equal(integer(f->l, "SCARD nr:bb:budget_wait%s", ""), 0);
}

/* The last audit record's what and item. */
static void last_audit(struct swarmenv_fx *f, const char *what, const char *id)
{
    struct audit_entry *e;
    size_t n;
    char *cause = NULL;

    assert_int_equal(audit_read(f->l, 1, &e, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].what, what);
    assert_string_equal(e[0].item, id);
    audit_entries_free(e, n);
}

/* review_render()'s lines, one after another in buf (2048 bytes). */
static void collect(void *arg, const char *line)
{
    char *buf = arg;
    size_t n = strlen(buf);

    snprintf(buf + n, 2048 - n, "%s\n", line);
}

static void test_dead_set(void **state)
{
    struct swarmenv_fx *f = *state;
    struct bb_item **items, *it;
    struct bb_lock lk;
    size_t n;
    const char *at = NULL;
    long done = -1, refused = -1;
    char *cause = NULL;
    int now;

    put(f, "d1", BB_PENDING, NULL);
    put(f, "d2", BB_PENDING, NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(bb_claim(f->bb, BB_PENDING, BB_PROCESSING, 60000, &lk, &cause), BB_OK);
        assert_int_equal(bb_fail(f->bb, lk.id, &lk, "model refused", 1, &now, &cause), BB_OK);
        assert_int_equal(now, BB_FAILED);
    }
    assert_int_equal(deadset_list(f->bb, 100, &items, &n, &cause), BB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(deadset_resume_step(items[0]), "analyze");
    {
        json_t *j = deadset_item_json(items[0]);
        char lines[2048] = "";

        assert_string_equal(json_string_value(json_object_get(j, "step")), "analyze");
        assert_int_equal(json_array_size(json_object_get(j, "errors")), 1);
        json_decref(j);
        /* ctl item and the control room's detail show the history. */
        review_render(items[0]->body, collect, lines);
        assert_non_null(strstr(lines, "error       attempt 1 at analyze by test, "));
        assert_non_null(strstr(lines, ": model refused"));
    }
    for (size_t i = 0; i < n; i++)
        bb_item_free(items[i]);
    free(items);
    /* By id: back at its step, at the front, a fresh budget, audited. */
    assert_int_equal(deadset_requeue(f->bb, "d1", NULL, false, &at, &cause), BB_OK);
    assert_string_equal(at, "analyze");
    last_audit(f, "requeue", "d1");
    it = item(f, "d1");
    assert_int_equal(it->status, BB_PENDING);
    assert_int_equal(it->requeues, 1);
    assert_int_equal(json_array_size(json_object_get(it->body, "errors")), 2);
    bb_item_free(it);
    assert_int_equal(deadset_requeue(f->bb, "d1", NULL, false, &at, &cause), BB_REFUSED);
    assert_non_null(strstr(cause, "only a FAILED story"));
    free(cause);
    cause = NULL;
    assert_int_equal(deadset_requeue(f->bb, "d1", "nowhere", false, &at, &cause), BB_REFUSED);
    free(cause);
    cause = NULL;
    assert_int_equal(bb_claim(f->bb, BB_PENDING, BB_PROCESSING, 60000, &lk, &cause), BB_OK);
    assert_string_equal(lk.id, "d1");
    assert_int_equal(bb_fail(f->bb, "d1", &lk, "model refused", 1, &now, &cause), BB_OK);
    assert_int_equal(now, BB_FAILED); /* its fresh budget was one attempt */
    /* --all */
    assert_int_equal(deadset_requeue_all(f->bb, NULL, &done, &refused, &cause), BB_OK);
    assert_int_equal(done, 2);
    assert_int_equal(refused, 0);
    assert_int_equal(swarmenv_count(f->bb, BB_FAILED), 0);
    assert_int_equal(swarmenv_count(f->bb, BB_PENDING), 2);

    /* An ARCHIVED story (the old "failed: ..." archiving) comes back by id at the step its
     * checkpoints say: it was QA'd, so it is produced; --step write retires the script. */
    put(f, "a1", BB_PENDING,
        json_pack("{s:{s:s, s:{s:f}}, s:{s:b}, s:{s:s, s:s}, s:[{s:b}]}", "analysis", "decision",
                  "cover", "scores", "newsworthiness", 0.9, "consensus", "reached", 1, "script",
                  "draft", "d", "final", "The final script.", "qa", "passed", 1));
    assert_int_equal(bb_transition(f->bb, "a1", BB_ARCHIVED, "failed: disk full", NULL, &cause),
                     BB_OK);
    assert_int_equal(deadset_requeue(f->bb, "a1", NULL, false, &at, &cause), BB_REFUSED);
    free(cause);
    cause = NULL;
    assert_int_equal(deadset_requeue(f->bb, "a1", NULL, true, &at, &cause), BB_OK);
    assert_string_equal(at, "produce");
    it = item(f, "a1");
    assert_int_equal(it->status, BB_PRODUCING);
    assert_string_equal(it->stage, "produce");
    assert_string_equal(it->archive_reason, "");
    bb_item_free(it);
    assert_int_equal(bb_take(f->bb, "produce", BB_PRODUCING, 60000, &lk, NULL, &cause), BB_OK);
    assert_int_equal(bb_fail(f->bb, "a1", &lk, "render broke", 1, &now, &cause), BB_OK);
    assert_int_equal(deadset_requeue(f->bb, "a1", "write", false, &at, &cause), BB_OK);
    it = item(f, "a1");
    assert_string_equal(it->stage, "write");
    assert_null(json_object_get(it->body, "script"));
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(it->body, "superseded"), "script"), "final")),
        "The final script.");
    assert_true(json_is_object(json_object_get(it->body, "analysis")));
    bb_item_free(it);
}

static void test_debate_seats(void **state)
{
    struct swarmenv_fx *f = *state;
    struct debate_options o;
    struct debate d;
    const char *gone[] = {"deb-x"};
    char *cause = NULL;
    int64_t deadline;

    debate_options_default(&o);
    o.deadline_ms = 60000;
    put(f, "v1", BB_DEBATING, NULL);
    assert_int_equal(debate_open(f->l, "v1", "t", "s", "b", &o, "analyst-1", NULL, &cause),
                     DEBATE_OK);
    assert_int_equal(debate_seat(f->l, "deb-x", 60000, &d, &cause), DEBATE_OK);
    deadline = d.deadline_ms;
    debate_clear(&d);
    assert_int_equal(integer(f->l, "SISMEMBER nr:debate:seated:deb-x %s", "v1"), 1);
    AWAIT(5, test_server_ms(f->l) > deadline - 60000 + 1000);
    assert_int_equal(reap(f, false, gone, 1), 0);
    assert_int_equal(debate_get(f->l, "v1", &d, &cause), DEBATE_OK);
    assert_int_equal(d.seats, 0);
    /* The second the dead debater held its seat is the debate's again. */
    assert_true(d.deadline_ms >= deadline + 1000);
    debate_clear(&d);

    /* A paused debate's clock stands still: not closed for its deadline. */
    o.deadline_ms = 300;
    put(f, "v2", BB_DEBATING, NULL);
    assert_int_equal(debate_open(f->l, "v2", "t", "s", "b", &o, "analyst-1", NULL, &cause),
                     DEBATE_OK);
    assert_int_equal(debate_seat(f->l, "deb-y", 60000, &d, &cause), DEBATE_OK);
    assert_string_equal(d.id, "v1"); /* the older one first */
    debate_clear(&d);
    assert_int_equal(debate_seat(f->l, "deb-y", 60000, &d, &cause), DEBATE_OK);
    assert_string_equal(d.id, "v2");
    debate_clear(&d);
    assert_int_equal(debate_unseat(f->l, "v2", "deb-y", true, &cause), DEBATE_OK);
    assert_int_equal(debate_get(f->l, "v2", &d, &cause), DEBATE_OK);
    assert_true(d.paused_ms > 0);
    deadline = d.deadline_ms;
    debate_clear(&d);
    AWAIT(5, test_server_ms(f->l) > deadline + 500);
    assert_int_equal(debate_ready(f->l, "mod-1", 60000, &d, &cause), DEBATE_NONE);
    /* The next seat adds the pause to the deadline (deb-z sits at v1 first, the older). */
    assert_int_equal(debate_seat(f->l, "deb-z", 60000, &d, &cause), DEBATE_OK);
    assert_string_equal(d.id, "v1");
    debate_clear(&d);
    assert_int_equal(debate_seat(f->l, "deb-z", 60000, &d, &cause), DEBATE_OK);
    assert_string_equal(d.id, "v2");
    debate_clear(&d);
    assert_int_equal(debate_get(f->l, "v2", &d, &cause), DEBATE_OK);
    assert_int_equal(d.paused_ms, 0);
    assert_true(d.deadline_ms >= deadline + 500);
    debate_clear(&d);
}

static void test_processes(void **state)
{
    pid_t child;
    long long start;
    int st;

    (void)state;
    start = registry_process_start((long)getpid());
    assert_true(start > 0);
    assert_false(registry_process_gone((long)getpid(), start));
    /* The same pid with another start time is another process: the old one is gone. */
    assert_true(registry_process_gone((long)getpid(), start + 1));
    child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    assert_true(child > 0);
    AWAIT(5, registry_process_start((long)child) > 0);
    start = registry_process_start((long)child);
    assert_false(registry_process_gone((long)child, start));
    kill(child, SIGKILL);
    /* Dead before its parent collects it (a zombie), and after. */
    AWAIT(5, registry_process_gone((long)child, start));
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(registry_process_gone((long)child, start));
}

/* The reason of the last event of kind for story id, or "" (a new string). */
static char *event_why(struct swarmenv_fx *f, const char *kind, const char *id)
{
    redisReply *r = test_must(f->l, "XRANGE nr:bb:events - +%s", "");
    char *why = xstrdup("");

    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *fl = r->element[i]->element[1];

        if (strcmp(rlink_reply_field(fl, "k"), kind) == 0 &&
            strcmp(rlink_reply_field(fl, "id"), id) == 0) {
            free(why);
            why = xstrdup(rlink_reply_field(fl, "why"));
        }
    }
    freeReplyObject(r);
    return why;
}

static void test_swarm_reaps_gone_process(void **state)
{
    struct swarmenv_fx *f = *state;
    struct registry *r = registry_new(f->l);
    struct registry_agent ra = {.role = "analyst", .tier = "BALANCED"};
    struct swarm_options o;
    struct swarm *s;
    struct bb *dead;
    struct bb_lock lk;
    char *cause = NULL, *why;
    pid_t child;
    int st;

    /* A process of this host that registered an agent, claimed a story and died. */
    child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    AWAIT(5, registry_process_start((long)child) > 0);
    snprintf(ra.id, sizeof ra.id, "analyst-here-%ld-1", (long)child);
    ra.pid = (long)child;
    ra.pstart = registry_process_start((long)child);
    assert_int_equal(registry_register(r, &ra, 600000, &cause), 0);
    put(f, "g1", BB_PENDING, NULL);
    dead = bb_new(f->l, ra.id);
    assert_int_equal(bb_claim(dead, BB_PENDING, BB_PROCESSING, 600000, &lk, &cause), BB_OK);
    kill(child, SIGKILL);
    assert_int_equal(waitpid(child, &st, 0), child);
    /* Its heartbeat would last ten minutes, its lock as long: only its process tells. */
    swarmenv_options(&o, DB, f->cfg, f->pricing, "analyst:1", 0, 0);
    s = swarmenv_start(&o);
    AWAIT(30, status_of(f, "g1") == BB_DEBATING || status_of(f, "g1") == BB_ARCHIVED);
    swarm_stop(s);
    swarm_free(s);
    why = event_why(f, "reclaim", "g1");
    assert_non_null(strstr(why, "its process is gone"));
    free(why);
    assert_int_equal(bb_complete(dead, &lk, BB_DEBATING, NULL, &cause), BB_REFUSED);
    free(cause);
    bb_free(dead);
    registry_free(r);
}

/* Usage records of story id and task type. */
static int calls_of(struct swarmenv_fx *f, const char *id, const char *type)
{
    redisReply *r = test_must(f->l, "XRANGE nr:cost:usage - +%s", "");
    int n = 0;

    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *fl = r->element[i]->element[1];

        n += strcmp(rlink_reply_field(fl, "task"), id) == 0 &&
             strcmp(rlink_reply_field(fl, "type"), type) == 0;
    }
    freeReplyObject(r);
    return n;
}

static void test_writer_resumes(void **state)
{
    struct swarmenv_fx *f = *state;
    struct swarm_options o;
    struct swarm *s;
    struct bb_lock lk;
    struct bb_item *it;
    json_t *writing;
    char *cause = NULL;

    f->cfg->qa_pass_score_micro = 0;
    /* The PREMIUM final always (no cascade, which may take the draft as the final): what this
     * shows is that only the final is paid for again. */
    f->cfg->cascade = false;
    /* A writer made the draft and both revisions, kept them, and died before the final. */
    put(f, "w1", BB_CONSENSUS_REACHED,
        json_pack("{s:{s:s}}", "analysis", "summary", "The council approved the budget."));
    assert_int_equal(bb_claim(f->bb, BB_CONSENSUS_REACHED, BB_PRODUCING, 60000, &lk, &cause),
                     BB_OK);
    writing =
        json_pack("{s:{s:s, s:f, s:s, s:[{s:i}, {s:i}], s:n, s:i, s:b, s:s}}", "writing", "draft",
                  "The council approved the budget on Tuesday, officials said. That is the "
                  "news from the council chamber tonight, with every figure in the "
                  "record.",
                  "draft_confidence", 0.6, "decision", "continue", "revisions", "number", 1,
                  "number", 2, "early_stop", "done", 2, "stopped", 0, "by", "writer-gone");
    assert_int_equal(bb_update(f->bb, "w1", writing, &lk, &cause), BB_OK);
    json_decref(writing);
    {
        const char *gone[] = {"test"};

        assert_int_equal(reap(f, false, gone, 1), 1);
    }
    it = item(f, "w1");
    assert_int_equal(it->status, BB_PRODUCING);
    assert_string_equal(it->stage, "write");
    bb_item_free(it);
    swarmenv_options(&o, DB, f->cfg, f->pricing, "writer:1,qa:1,producer:1", 0, 0);
    s = swarmenv_start(&o);
    AWAIT(60, status_of(f, "w1") == BB_REVIEWING);
    swarm_stop(s);
    swarm_free(s);
    /* Only the final was paid for: the draft and its revisions were checkpoints. */
    assert_int_equal(calls_of(f, "w1", "script_draft"), 0);
    assert_int_equal(calls_of(f, "w1", "script_final"), 1);
    it = item(f, "w1");
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(it->body, "script"), "revisions")), 2);
    assert_null(json_object_get(it->body, "writing"));
    bb_item_free(it);
}

/* A pricing file whose BALANCED model is `model`, served by the OpenAI-compatible fake. */
static struct pricing *pricing_for(const char *dir, const char *model)
{
    char path[300], text[1200], *cause = NULL;
    struct pricing *p;

    snprintf(path, sizeof path, "%s/pricing.conf", dir);
    snprintf(text, sizeof text,
             "[tiers]\nFAST = fake-fast\nBALANCED = %s\nPREMIUM = fake-premium\n[tasks]\n"
             "content_analysis = BALANCED\n[model fake-fast]\ntier = FAST\nprovider = openai\n"
             "prompt_per_1k = 0.001\ncompletion_per_1k = 0.001\n[model %s]\ntier = BALANCED\n"
             "provider = openai\nprompt_per_1k = 0.001\ncompletion_per_1k = 0.001\n[model "
             "fake-premium]\ntier = PREMIUM\nprovider = openai\nprompt_per_1k = "
             "0.001\ncompletion_per_1k = 0.001\n",
             model, model);
    test_write_file(path, text);
    p = pricing_open(path, &cause);
    if (p == NULL)
        fail_msg("pricing: %s", cause);
    return p;
}

/* Runs an analyst against the fake with model until the story id is in status want (-1: until
 * the fake has had `requests` requests). */
static void outage_run(struct swarmenv_fx *f, const char *model, const char *id, int want,
                       int requests)
{
    struct fake_llm *fake = fake_llm_start(FAKE_OPENAI, "sk-test-outage");
    char *dir = test_tmpdir();
    struct pricing *p = pricing_for(dir, model);
    struct swarm_options o;
    struct swarm *s;

    free(f->cfg->llm_kind);
    f->cfg->llm_kind = xstrdup("openai");
    free(f->cfg->openai_base_url);
    f->cfg->openai_base_url = xstrdup(fake_llm_url(fake));
    free(f->cfg->openai_api_key);
    f->cfg->openai_api_key = xstrdup("sk-test-outage");
    f->cfg->llm_cache_ttl_s = 0;
    /* The provider's circuit breaker would stop the calls after a few failures (what the
     * provider chaos test shows); here every retryable failure must reach the fake, so that the
     * parking itself is what is seen. */
    f->cfg->breaker_failures = 1000;
    put(f, id, BB_PENDING, NULL);
    swarmenv_options(&o, DB, f->cfg, p, "analyst:1", 0, 0);
    o.retry_base_ms = 100;
    o.retry_max_ms = 200;
    o.max_attempts = 3;
    s = swarmenv_start(&o);
    if (want >= 0)
        AWAIT(60, status_of(f, id) == want);
    else
        AWAIT(60, fake_llm_requests(fake) >= requests);
    swarm_stop(s);
    swarm_free(s);
    fake_llm_stop(fake);
    pricing_free(p);
    test_rmrf(dir);
    free(dir);
}

static void test_outage_parks(void **state)
{
    struct swarmenv_fx *f = *state;
    struct bb_item *it;

    /* 500s (retryable): parked again and again, no attempt counted (each call tries three
     * times: nine requests are three calls). */
    outage_run(f, "scenario-500", "o1", -1, 9);
    it = item(f, "o1");
    assert_int_equal(it->attempts, 0);
    assert_true(it->parks >= 2);
    assert_true(it->status == BB_PENDING || it->status == BB_PROCESSING);
    bb_item_free(it);
    /* 401 (fatal): each counts an attempt, and three end it FAILED with the history. */
    outage_run(f, "scenario-401", "o2", BB_FAILED, 0);
    it = item(f, "o2");
    assert_int_equal(it->status, BB_FAILED);
    assert_int_equal(it->attempts, 3);
    assert_int_equal(it->parks, 0);
    assert_int_equal(json_array_size(json_object_get(it->body, "errors")), 3);
    bb_item_free(it);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claims_belong_to_agents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setbacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debate_seats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swarm_reaps_gone_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_resumes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outage_parks, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
