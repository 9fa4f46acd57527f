/*
 * test_chain.c - fallback chains (src/llm/chain.c) and what the cost layer records of them,
 * against a local fake of the OpenAI API (tests/support/fake_llm.c: every request checked
 * against the documented chat completions API) and a private redis-server:
 *
 *   - chain specs: members, errors named;
 *   - "openai:gpt-4o-mini -> sim": the first member serves while it answers; in an outage
 *     the sim serves (fallback), the breaker opens after `failures` and the fake then sees no
 *     more calls; after the cool-down one trial goes through, and once the fake answers again
 *     the breaker closes and OpenAI serves again;
 *   - a request the API refuses (401) is fatal: no fallback, the key never in the cause;
 *   - a one-member chain whose breaker is open fails at once as RETRYABLE with breaker_open;
 *   - cost_complete() through a chain: the usage record names the provider and model that
 *     served, the fallback flag, and the price of that model;
 *   - the usage journal: a commit applied by Redis whose reply was lost (replayed with the
 *     same unique id) is counted once; a record journaled while Redis was gone is applied
 *     by the replay.
 */
#include "core/clock.h"
#include "core/fail.h"
#include "cost/budget.h"
#include "cost/cost.h"
#include "cost/journal.h"
#include "cost/pricing.h"
#include "fake_llm.h"
#include "llm/chain.h"
#include "recovery/breaker.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define KEY "sk-test-chain-0123456789"

static const struct breaker_policy policy = {
    .failures = 2,
    .window_ms = 10000,
    .cooldown_ms = 300,
    .trials = 1,
    .successes = 1,
    .refresh_ms = 50,
};

static const struct rlink_options lopts = {
    .connect_timeout_ms = 2000,
    .command_timeout_ms = 2000,
    .reconnect_base_ms = 20,
    .reconnect_max_ms = 200,
};

static struct llm_message msgs[] = {
    {"system", "Answer with one JSON object."},
    {"user", "Storm closes the harbour; ferries cancelled until Friday, the port said."}};

static struct llm_request request(void)
{
    struct llm_request r = {.model = "sim-fast",
                            .messages = msgs,
                            .nmessages = 2,
                            .temperature = 0.2,
                            .max_tokens = 100,
                            .json = true,
                            .task_type = "news_scout",
                            .seed = 3,
                            .tier = LLM_FAST};

    return r;
}

static struct llm_provider *router(struct fake_llm *f, const char *fast)
{
    struct llm_provider_config cfg = {
        .kind = "openai", .base_url = fake_llm_url(f), .api_key = KEY, .timeout_ms = 2000};
    struct llm_provider *p;
    char *cause = NULL;

    cfg.chain[LLM_FAST] = fast;
    if ((p = llm_provider_new(&cfg, &cause)) == NULL)
        fail_msg("llm_provider_new: %s", cause);
    assert_string_equal(llm_provider_kind(p), "chain");
    return p;
}

static int group_setup(void **state)
{
    (void)state;
    breaker_set_local_policy(&policy);
    return test_private_start(NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    test_private_stop();
    return 0;
}

static void test_specs(void **state)
{
    struct llm_chain_member_spec m[LLM_CHAIN_MAX];
    size_t n;
    char *why = NULL;

    (void)state;
    assert_int_equal(
        llm_chain_parse(" anthropic:claude-sonnet-4-0 -> openai:gpt-4o->sim ", m, &n, &why), 0);
    assert_int_equal(n, 3);
    assert_string_equal(m[0].kind, "anthropic");
    assert_string_equal(m[0].model, "claude-sonnet-4-0");
    assert_string_equal(m[1].model, "gpt-4o");
    assert_string_equal(m[2].kind, "sim");
    assert_string_equal(m[2].model, "");
    assert_int_equal(llm_chain_parse("  ", m, &n, &why), 0);
    assert_int_equal(n, 0);
    assert_int_equal(llm_chain_spec_check("openai -> mistral:large", &why), -1);
    assert_non_null(strstr(why, "unknown provider kind \"mistral\""));
    free(why);
    assert_int_equal(llm_chain_spec_check("openai -> -> sim", &why), -1);
    assert_non_null(strstr(why, "empty member"));
    free(why);
    assert_int_equal(llm_chain_spec_check("openai:gpt 4o", &why), -1);
    assert_non_null(strstr(why, "no blank"));
    free(why);
}

/* One call of tier FAST; returns llm_complete's result. */
static int call(struct llm_provider *p, struct llm_response *r, struct llm_error *e, char **cause)
{
    struct llm_request req = request();

    return llm_complete(p, &req, r, e, cause);
}

/* Who served one call (a static buffer); fails the test when the call fails. */
static const char *served(struct llm_provider *p)
{
    static char who[LLM_SERVED_MAX];
    struct llm_response r;
    struct llm_error e;
    char *cause = NULL;

    if (call(p, &r, &e, &cause) != 0)
        fail_msg("a call through the chain failed: %s", cause);
    snprintf(who, sizeof who, "%s", r.served_by);
    llm_response_clear(&r);
    return who;
}

static void test_outage_and_back(void **state)
{
    struct fake_llm *f = fake_llm_start(FAKE_OPENAI, KEY);
    struct llm_provider *p = router(f, "openai:gpt-4o-mini -> sim");
    struct llm_response r;
    struct llm_error e;
    char *cause = NULL, *v;

    (void)state;
    assert_int_equal(call(p, &r, &e, &cause), 0);
    assert_string_equal(r.served_by, "openai:gpt-4o-mini");
    assert_false(r.fallback);
    llm_response_clear(&r);

    fake_llm_fail(f, 503);
    for (int i = 0; i < 5; i++) {
        if (call(p, &r, &e, &cause) != 0)
            fail_msg("call %d during the outage: %s", i, cause);
        assert_string_equal(r.served_by, "sim:sim-fast");
        assert_true(r.fallback);
        llm_response_clear(&r);
    }
    /* Two failures opened the breaker: the other three never reached the service. */
    assert_int_equal(fake_llm_failed(f), 2);
    /* Cool-down over: one trial a round reaches the service, fails, and opens it again. */
    AWAIT(5, served(p) != NULL && fake_llm_failed(f) == 3);
    fake_llm_fail(f, 0);
    /* Back: the next trial succeeds and closes it; OpenAI serves again. */
    AWAIT(5, strcmp(served(p), "openai:gpt-4o-mini") == 0);
    assert_int_equal(fake_llm_failed(f), 3);
    assert_int_equal(fake_llm_succeeded(f), 2);
    v = fake_llm_violation(f);
    assert_null(v);
    llm_provider_free(p);
    fake_llm_stop(f);
}

static void test_fatal_and_all_open(void **state)
{
    struct fake_llm *f = fake_llm_start(FAKE_OPENAI, KEY);
    struct llm_provider *p = router(f, "openai:scenario-401 -> sim");
    struct llm_provider *alone = router(f, "openai:gpt-4o-mini");
    struct llm_response r;
    struct llm_error e;
    char *cause = NULL;
    int before;

    (void)state;
    assert_int_equal(call(p, &r, &e, &cause), -1);
    assert_int_equal(e.kind, LLM_ERR_FATAL);
    assert_int_equal(e.http_status, 401);
    assert_null(strstr(cause, KEY));
    free(cause);
    /* The one-member chain shares the provider's breaker (same kind and URL): 401 is not an
     * outage, so it is closed; an outage opens it, then calls fail at once. */
    fake_llm_fail(f, 502);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(call(alone, &r, &e, &cause), -1);
        assert_int_equal(e.kind, LLM_ERR_RETRYABLE);
        assert_false(e.breaker_open);
        free(cause);
    }
    before = fake_llm_requests(f);
    assert_int_equal(call(alone, &r, &e, &cause), -1);
    assert_int_equal(e.kind, LLM_ERR_RETRYABLE);
    assert_true(e.breaker_open);
    assert_non_null(strstr(cause, "every provider of the fast chain is unavailable"));
    assert_non_null(strstr(cause, "is open"));
    free(cause);
    assert_int_equal(fake_llm_requests(f), before);
    fake_llm_fail(f, 0);
    llm_provider_free(p);
    llm_provider_free(alone);
    fake_llm_stop(f);
}

/* The newest usage record names provider and model, the fallback flag, and r's tokens at
 * model's price from pr. */
static void check_usage(struct rlink *l, const struct pricing *pr, const struct llm_response *r,
                        const char *provider, const char *model, const char *fallback)
{
    char *cause = NULL, cost[24];
    redisReply *x = rlink_command(l, &cause, "XREVRANGE nr:cost:usage + - COUNT 1");
    const redisReply *h;

    if (x == NULL || x->elements != 1)
        fail_msg("no usage record: %s", cause != NULL ? cause : "empty stream");
    h = x->element[0]->element[1];
    snprintf(
        cost, sizeof cost, "%lld",
        (long long)pricing_cost(pricing_model(pr, model), r->prompt_tokens, r->completion_tokens));
    assert_string_equal(rlink_reply_field(h, "provider"), provider);
    assert_string_equal(rlink_reply_field(h, "model"), model);
    assert_string_equal(rlink_reply_field(h, "fallback"), fallback);
    assert_string_equal(rlink_reply_field(h, "cost"), cost);
    freeReplyObject(x);
}

static void test_cost_records_who_served(void **state)
{
    struct fake_llm *f = fake_llm_start(FAKE_OPENAI, KEY);
    struct llm_provider *p = router(f, "openai:gpt-4o-mini -> sim");
    struct pricing *pr = pricing_default();
    struct budget_options bo = {.alert_ppm = 800000, .reservation_ttl_ms = 60000};
    struct rlink *l = rlink_new(test_private_addr(), &lopts);
    struct cost *c = cost_new(l, pr, &bo, "writer-1");
    struct llm_request req = request();
    struct llm_response r;
    struct budget_refusal ref;
    char *cause = NULL;

    (void)state;
    freeReplyObject(test_must(l, "FLUSHDB%s", ""));
    req.model = "sim-fast";
    if (cost_complete(c, p, "story-1", &req, &r, &ref, NULL, &cause) != COST_OK)
        fail_msg("%s", cause);
    assert_false(r.fallback);
    check_usage(l, pr, &r, "openai", "gpt-4o-mini", "0");
    llm_response_clear(&r);
    fake_llm_fail(f, 500);
    if (cost_complete(c, p, "story-1", &req, &r, &ref, NULL, &cause) != COST_OK)
        fail_msg("%s", cause);
    assert_true(r.fallback);
    check_usage(l, pr, &r, "sim", "sim-fast", "1");
    llm_response_clear(&r);
    cost_free(c);
    rlink_free(l);
    pricing_free(pr);
    llm_provider_free(p);
    fake_llm_stop(f);
}

static long long xlen_usage(struct rlink *l)
{
    redisReply *r = test_must(l, "XLEN %s", "nr:cost:usage");
    long long n = r->integer;

    freeReplyObject(r);
    return n;
}

static void test_journal_once(void **state)
{
    struct budget_options bo = {.alert_ppm = 800000, .reservation_ttl_ms = 60000};
    struct rlink *l = rlink_new(test_private_addr(), &lopts);
    char *dir = test_tmpdir(), *jdir = xasprintf("%s/journal", dir), uid1[USAGE_UID_MAX],
         uid2[USAGE_UID_MAX];
    struct usage_record u = {.agent = "writer-1",
                             .task = "story-9",
                             .task_type = "script_draft",
                             .model = "sim-balanced",
                             .provider = "sim",
                             .tier = LLM_BALANCED,
                             .prompt_tokens = 100,
                             .completion_tokens = 50,
                             .confidence = 0.5,
                             .cost = 2250};
    char *cause = NULL;
    int replayed = -1;
    int64_t t = clock_wall_ms();

    (void)state;
    freeReplyObject(test_must(l, "FLUSHDB%s", ""));
    assert_int_equal(journal_open(jdir, &cause), 0);
    assert_false(journal_pending());
    usage_new_uid(uid1);
    usage_new_uid(uid2);
    assert_string_not_equal(uid1, uid2);
    /* uid1: Redis applied it, then the reply was lost: journaled all the same. */
    u.uid = uid1;
    assert_int_equal(budget_commit(l, &bo, t, NULL, &u, NULL, &cause), 0);
    assert_int_equal(journal_append(&u, NULL, t, &cause), 0);
    /* uid2: never reached Redis. */
    u.uid = uid2;
    assert_int_equal(journal_append(&u, NULL, t, &cause), 0);
    assert_true(journal_pending());
    assert_int_equal(xlen_usage(l), 1);
    assert_int_equal(journal_replay(l, &bo, &replayed, &cause), 0);
    assert_int_equal(replayed, 2);
    assert_false(journal_pending());
    /* Each call once: uid1 was found applied, uid2 applied now. */
    assert_int_equal(xlen_usage(l), 2);
    assert_int_equal(journal_replay(l, &bo, &replayed, &cause), 0);
    assert_int_equal(replayed, 0);
    assert_int_equal(xlen_usage(l), 2);
    journal_close();
    rlink_free(l);
    test_rmrf(dir);
    free(dir);
    free(jdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_specs),
        cmocka_unit_test(test_outage_and_back),
        cmocka_unit_test(test_fatal_and_all_open),
        cmocka_unit_test(test_cost_records_who_served),
        cmocka_unit_test(test_journal_once),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
