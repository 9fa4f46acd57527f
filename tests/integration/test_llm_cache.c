/*
 * test_llm_cache.c - the response cache on the shared test Redis (database 8, flushed before
 * each test): a miss then a hit with the same text and usage and cached = true; prompts that
 * differ only in white space share an entry while a different model, temperature, max_tokens,
 * JSON flag, provider kind or prompt does not; entries carry the TTL and expire; the hit rate
 * counts every lookup; a cache with TTL 0 stores nothing; a dead Redis never fails a call.
 * A lookup, hit or miss, is one round trip with its count; an entry that is not an answer is
 * a miss and counted as one. The cost layer goes through the cache only for the task types of
 * its policy (cache_task_types): the others neither look up nor store.
 * Also measures the hit rate of a sim run (a realistic mix of repeated screening calls, all of
 * them task types the default policy caches) and prints it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "cost/cost.h"
#include "cost/pricing.h"
#include "llm/batch.h"
#include "llm/cache.h"
#include "llm/llm.h"
#include "store/rlink.h"
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB 8

struct fx {
    struct rlink *l;
    struct llm_cache *c;
    struct llm_provider *sim;
};

static struct rlink *connect_db(void)
{
    return test_shared_link(DB, "newsroom-test-llm-cache");
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct llm_provider_config cfg = {.kind = "sim", .sim_seed = 1};
    char *cause = NULL;

    f->l = connect_db();
    freeReplyObject(test_must(f->l, "FLUSHDB%s", ""));
    f->c = llm_cache_new(f->l, 60);
    f->sim = llm_provider_new(&cfg, &cause);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    llm_provider_free(f->sim);
    llm_cache_free(f->c);
    rlink_free(f->l);
    free(f);
    return 0;
}

static struct llm_request request(const struct llm_message *m, size_t n)
{
    return (struct llm_request){.model = "sim-fast",
                                .messages = m,
                                .nmessages = n,
                                .temperature = 0.2,
                                .max_tokens = 200,
                                .json = true,
                                .task_type = "news_scout"};
}

static void complete(struct fx *f, const struct llm_request *req, struct llm_response *r)
{
    char *cause = NULL;

    if (llm_complete_cached(f->c, f->sim, req, r, NULL, 1, 0, &cause) != 0)
        fail_msg("%s", cause);
}

static void test_miss_then_hit(void **state)
{
    struct fx *f = *state;
    struct llm_message m[2] = {{"system", "Screen this item. Answer in JSON."},
                               {"user", "Officials said 300 homes lost power in the storm."}};
    struct llm_message spaced[2] = {{"system", "  Screen this item.\n Answer   in JSON. "},
                                    {"user", "Officials said 300 homes\tlost power in the storm."}};
    struct llm_request req = request(m, 2), req2 = request(spaced, 2);
    struct llm_response a, b, c;
    struct llm_cache_stats st;
    char *cause = NULL;

    complete(f, &req, &a);
    assert_false(a.cached);
    complete(f, &req, &b);
    assert_true(b.cached);
    assert_string_equal(a.text, b.text);
    assert_int_equal(a.prompt_tokens, b.prompt_tokens);
    assert_int_equal(a.completion_tokens, b.completion_tokens);
    assert_true(a.confidence == b.confidence);
    /* White space is folded: the same entry. */
    complete(f, &req2, &c);
    assert_true(c.cached);
    assert_string_equal(a.text, c.text);
    assert_int_equal(llm_cache_stats(f->c, &st, &cause), 0);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 1);
    assert_true(st.hit_rate > 0.66 && st.hit_rate < 0.67);
    llm_response_clear(&a);
    llm_response_clear(&b);
    llm_response_clear(&c);
}

static void test_different_params_miss(void **state)
{
    struct fx *f = *state;
    struct llm_message m[1] = {{"user", "The court ruled on Friday."}};
    struct llm_message other[1] = {{"user", "The court ruled on Monday."}};
    struct llm_message role[1] = {{"system", "The court ruled on Friday."}};
    struct llm_request base = request(m, 1), v[6];
    char keys[8][LLM_CACHE_KEY_HEX];
    struct llm_response r;

    for (int i = 0; i < 6; i++)
        v[i] = base;
    v[0].model = "sim-balanced";
    v[1].temperature = 0.7;
    v[2].max_tokens = 201;
    v[3].json = false;
    v[4].messages = other;
    v[5].messages = role;
    llm_cache_key("sim", &base, keys[0]);
    for (int i = 0; i < 6; i++)
        llm_cache_key("sim", &v[i], keys[i + 1]);
    llm_cache_key("openai", &base, keys[7]);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(strlen(keys[i]), 64);
        for (int k = 0; k < i; k++)
            if (strcmp(keys[i], keys[k]) == 0)
                fail_msg("keys %d and %d are the same", i, k);
    }
    /* Only the first call of each is answered by the provider. */
    complete(f, &base, &r);
    assert_false(r.cached);
    llm_response_clear(&r);
    for (int i = 0; i < 6; i++) {
        complete(f, &v[i], &r);
        if (r.cached)
            fail_msg("variant %d was a hit", i);
        llm_response_clear(&r);
    }
    /* The seed is part of the key (another seed asks for another sample): a miss, then a hit
     * for the same seed again. */
    base.seed = 99;
    complete(f, &base, &r);
    assert_false(r.cached);
    llm_response_clear(&r);
    complete(f, &base, &r);
    assert_true(r.cached);
    llm_response_clear(&r);
}

static void test_ttl_and_expiry(void **state)
{
    struct fx *f = *state;
    struct llm_cache *short_c = llm_cache_new(f->l, 1);
    struct llm_message m[1] = {{"user", "Shares fell 3% in early trading."}};
    struct llm_request req = request(m, 1);
    char hex[LLM_CACHE_KEY_HEX], key[128];
    struct llm_response r;
    redisReply *rep;
    char *cause = NULL;

    assert_int_equal(llm_complete_cached(short_c, f->sim, &req, &r, NULL, 1, 0, &cause), 0);
    llm_response_clear(&r);
    llm_cache_key("sim", &req, hex);
    snprintf(key, sizeof key, "nr:llm:cache:%s", hex);
    rep = test_must(f->l, "PTTL %s", key);
    assert_true(rep->integer > 0 && rep->integer <= 1000);
    freeReplyObject(rep);
    assert_int_equal(llm_cache_get(short_c, "sim", &req, &r, &cause), 1);
    llm_response_clear(&r);
    /* Let Redis expire it: wait for the key to go (a condition, with a deadline), then the
     * cache must miss. */
    {
        int64_t deadline = clock_mono_ms() + 5000;
        long long exists = 1;

        while (exists == 1 && clock_mono_ms() < deadline) {
            rep = test_must(f->l, "EXISTS %s", key);
            exists = rep->integer;
            freeReplyObject(rep);
            if (exists == 1)
                clock_sleep_ms(20, NULL);
        }
        assert_int_equal(exists, 0);
    }
    assert_int_equal(llm_cache_get(short_c, "sim", &req, &r, &cause), 0);
    llm_cache_free(short_c);
}

static void test_ttl_zero_stores_nothing(void **state)
{
    struct fx *f = *state;
    struct llm_cache *off = llm_cache_new(f->l, 0);
    struct llm_message m[1] = {{"user", "Nothing to keep."}};
    struct llm_request req = request(m, 1);
    struct llm_response r;
    redisReply *rep;
    char *cause = NULL;

    for (int i = 0; i < 2; i++) {
        assert_int_equal(llm_complete_cached(off, f->sim, &req, &r, NULL, 1, 0, &cause), 0);
        assert_false(r.cached);
        llm_response_clear(&r);
    }
    rep = test_must(f->l, "DBSIZE%s", "");
    assert_int_equal(rep->integer, 0);
    freeReplyObject(rep);
    llm_cache_free(off);
}

static void test_redis_down_still_answers(void **state)
{
    struct fx *f = *state;
    static const struct rlink_options o = {.connect_timeout_ms = 200,
                                           .command_timeout_ms = 200,
                                           .reconnect_base_ms = 20,
                                           .reconnect_max_ms = 100};
    struct redis_addr a = {.transport = REDIS_UNIX};
    struct rlink *dead;
    struct llm_cache *c;
    struct llm_message m[1] = {{"user", "Still answered."}};
    struct llm_request req = request(m, 1);
    struct llm_response r;
    char *cause = NULL;

    snprintf(a.path, sizeof a.path, "/nonexistent/redis.sock");
    dead = rlink_new(&a, &o);
    c = llm_cache_new(dead, 60);
    assert_int_equal(llm_complete_cached(c, f->sim, &req, &r, NULL, 1, 0, &cause), 0);
    assert_false(r.cached);
    assert_non_null(r.text);
    llm_response_clear(&r);
    llm_cache_free(c);
    rlink_free(dead);
}

static void test_batch_through_cache(void **state)
{
    struct fx *f = *state;
    struct llm_batch_item items[3] = {{"1", "Rates rose 0.5 points, the bank said."},
                                      {"2", "A storm hit the coast."},
                                      {"3", "Police arrested 4 people."}};
    struct llm_batch_verdict v[3];
    struct llm_request tmpl = {.model = "sim-fast"};
    struct llm_response total;
    char *cause = NULL;

    assert_int_equal(
        llm_batch_screen(f->sim, f->c, &tmpl, "news_scout", items, 3, v, &total, NULL, &cause), 3);
    assert_false(total.cached);
    llm_response_clear(&total);
    for (int i = 0; i < 3; i++)
        llm_batch_verdict_clear(&v[i]);
    assert_int_equal(
        llm_batch_screen(f->sim, f->c, &tmpl, "news_scout", items, 3, v, &total, NULL, &cause), 3);
    assert_true(total.cached);
    llm_response_clear(&total);
    for (int i = 0; i < 3; i++)
        llm_batch_verdict_clear(&v[i]);
}

/* One round trip a lookup, the count included, for a miss and for a hit (the first lookup
 * may load the script: NOSCRIPT and SCRIPT LOAD are extra round trips once per link). */
static void test_lookup_one_round_trip(void **state)
{
    struct fx *f = *state;
    struct llm_message m[1] = {{"user", "The bridge reopened on Sunday."}};
    struct llm_message warm[1] = {{"user", "Loads the script."}};
    struct llm_request req = request(m, 1), w = request(warm, 1);
    struct llm_response r;
    struct llm_cache_stats st;
    char *cause = NULL;
    long long before;

    assert_int_equal(llm_cache_get(f->c, "sim", &w, &r, &cause), 0);
    before = rlink_commands_sent();
    assert_int_equal(llm_cache_get(f->c, "sim", &req, &r, &cause), 0);
    assert_int_equal(rlink_commands_sent() - before, 1);
    complete(f, &req, &r); /* a miss again, and the store */
    assert_false(r.cached);
    llm_response_clear(&r);
    before = rlink_commands_sent();
    assert_int_equal(llm_cache_get(f->c, "sim", &req, &r, &cause), 1);
    assert_int_equal(rlink_commands_sent() - before, 1);
    assert_true(r.cached);
    llm_response_clear(&r);
    assert_int_equal(llm_cache_stats(f->c, &st, &cause), 0);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 3);
}

/* A value that is not an answer (another writer, another format) is a miss, counted as one
 * although the script saw a value, and the next store replaces it. */
static void test_foreign_value_is_a_miss(void **state)
{
    struct fx *f = *state;
    struct llm_message m[1] = {{"user", "Not an answer under this key."}};
    struct llm_request req = request(m, 1);
    char hex[LLM_CACHE_KEY_HEX];
    struct llm_response r;
    struct llm_cache_stats st;
    char *cause = NULL;

    llm_cache_key("sim", &req, hex);
    freeReplyObject(test_must(f->l, "SET nr:llm:cache:%s {\"text\":1}", hex));
    assert_int_equal(llm_cache_get(f->c, "sim", &req, &r, &cause), 0);
    assert_int_equal(llm_cache_stats(f->c, &st, &cause), 0);
    assert_int_equal(st.hits, 0);
    assert_int_equal(st.misses, 1);
    complete(f, &req, &r);
    assert_false(r.cached);
    llm_response_clear(&r);
    complete(f, &req, &r);
    assert_true(r.cached);
    llm_response_clear(&r);
    assert_int_equal(llm_cache_stats(f->c, &st, &cause), 0);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 2);
}

/* Two budgeted calls of task_type through c, with a prompt of their own (the key does not
 * hold the task type): whether the second was a hit. */
static bool second_cached(struct fx *f, struct cost *c, const char *task_type, int n)
{
    char text[128];
    struct llm_message m[1] = {{"user", text}};
    struct llm_request req = request(m, 1);
    struct llm_response r;
    struct budget_refusal ref;
    char *cause = NULL;
    bool cached = false;

    snprintf(text, sizeof text, "The council approved budget %d on Tuesday.", n);
    req.task_type = task_type;
    for (int i = 0; i < 2; i++) {
        if (cost_complete(c, f->sim, "item-1", &req, &r, &ref, NULL, &cause) != COST_OK)
            fail_msg("%s", cause != NULL ? cause : ref.limit);
        if (i == 0)
            assert_false(r.cached);
        cached = r.cached;
        llm_response_clear(&r);
    }
    return cached;
}

static long long lookups(struct fx *f)
{
    struct llm_cache_stats st;
    char *cause = NULL;

    assert_int_equal(llm_cache_stats(f->c, &st, &cause), 0);
    return st.hits + st.misses;
}

/* cost_complete() consults the cache only for the task types of its policy: the others pay
 * no lookup (nothing counted) and leave nothing stored. */
static void test_cost_policy(void **state)
{
    struct fx *f = *state;
    struct pricing *p = pricing_default();
    struct budget_options o = {.alert_ppm = 800000,
                               .reservation_ttl_ms = 60000,
                               .cache_task_types = " news_scout ,content_analysis"};
    struct cost *c = cost_new(f->l, p, &o, "cache-policy-1");
    struct cost *all;
    redisReply *rep;

    cost_set_cache(c, f->c);
    assert_true(second_cached(f, c, "news_scout", 1));
    assert_int_equal(lookups(f), 2);
    assert_false(second_cached(f, c, "script_draft", 2));
    assert_false(second_cached(f, c, NULL, 3));
    assert_int_equal(lookups(f), 2);
    rep = test_must(f->l, "KEYS nr:llm:cache:*%s", "");
    assert_int_equal(rep->elements, 2); /* the news_scout answer and the stats */
    freeReplyObject(rep);
    cost_free(c);
    /* "*" takes every task type, a request without one too; so does no policy at all. */
    o.cache_task_types = "*";
    all = cost_new(f->l, p, &o, "cache-policy-2");
    cost_set_cache(all, f->c);
    assert_true(second_cached(f, all, "script_draft", 4));
    assert_true(second_cached(f, all, NULL, 5));
    cost_free(all);
    o.cache_task_types = NULL;
    all = cost_new(f->l, p, &o, "cache-policy-3");
    cost_set_cache(all, f->c);
    assert_true(second_cached(f, all, "quality_assurance", 6));
    cost_free(all);
    /* "" takes none. */
    o.cache_task_types = "";
    c = cost_new(f->l, p, &o, "cache-policy-4");
    cost_set_cache(c, f->c);
    assert_false(second_cached(f, c, "topic_tagging", 7));
    cost_free(c);
    pricing_free(p);
}

/* A sim run's screening traffic: 6 scouts read 4 feeds that overlap (wire stories appear in
 * several feeds), each item is filtered, tagged and scouted once per agent that sees it, and
 * a second pass an hour later re-screens what is still on the feeds. The cache key includes the
 * model, so items scouted by both tiers miss once per tier. */
static void test_sim_run_hit_rate(void **state)
{
    struct fx *f = *state;
    static const char *const tasks[] = {"news_scout", "content_filter", "topic_tagging"};
    static const char *const leads[] = {
        "Officials said the storm forced thousands of people to evacuate.",
        "The central bank raised rates, Reuters reported.",
        "Police arrested several people after the match, the judge said.",
        "Turnout rose in the election, the commission said.",
        "Hospital waiting lists grew again, the ministry said.",
    };
    struct llm_cache_stats st;
    char *cause = NULL;
    int calls = 0;

    /* The rate measured is the one the default policy gets: it caches all of these. */
    for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++)
        assert_true(llm_cache_wants(LLM_CACHE_TASK_TYPES_DEFAULT, tasks[i]));
    assert_int_equal(llm_cache_stats_reset(f->c, &cause), 0);
    for (int pass = 0; pass < 2; pass++)
        for (int agent = 0; agent < 6; agent++)
            for (int feed = 0; feed < 4; feed++) {
                /* Each feed carries 25 items; 10 of them are wire stories on every feed. */
                if ((agent + feed) % 3 == 2)
                    continue; /* each agent follows 2 or 3 of the 4 feeds */
                for (int k = 0; k < 25; k++) {
                    int story = k < 10 ? k : 10 + feed * 15 + (k - 10) + pass * 7;
                    char text[256];
                    struct llm_message m[2] = {
                        {"system", "You screen news for a newsroom. Answer in JSON."},
                        {"user", text}};
                    struct llm_request req = request(m, 2);
                    struct llm_response r;

                    snprintf(text, sizeof text, "%s The count stood at %d on Monday.",
                             leads[story % 5], 10 + story);
                    req.task_type = tasks[(agent + k) % 3];
                    req.model = agent < 4 ? "sim-fast" : "sim-balanced";
                    complete(f, &req, &r);
                    llm_response_clear(&r);
                    calls++;
                }
            }
    assert_int_equal(llm_cache_stats(f->c, &st, &cause), 0);
    assert_int_equal(st.hits + st.misses, calls);
    print_message("sim run: %d screening calls, %lld hits, %lld misses: cache hit rate %.1f%%\n",
                  calls, st.hits, st.misses, 100 * st.hit_rate);
    assert_true(st.hit_rate > 0.3 && st.hit_rate < 0.95);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_miss_then_hit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_different_params_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ttl_and_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ttl_zero_stores_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redis_down_still_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_through_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_one_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_value_is_a_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cost_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sim_run_hit_rate, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
