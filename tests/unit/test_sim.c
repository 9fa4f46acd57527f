/*
 * test_sim.c - the offline provider: the same seed and input give the same answer and a
 * different seed or model another; confidences spread below 0.3 and above 0.9 and models
 * disagree; token counts follow the estimate and stay near real tokenizer ratios; every task
 * type answers in its documented shape; scripts are built from the input's own sentences with
 * a lead, key facts and a sign-off within max_tokens; latency per tier is honoured.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "llm/llm.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char story[] =
    "The city council approved a 4.5% budget increase on Tuesday, officials said. "
    "Mayor Elena Ruiz told reporters the money would fund 120 new teachers and two "
    "hospital wings. According to the finance office, the plan costs $38 million over three "
    "years. Opposition leader Mark Chen said the vote was rushed and called for a public "
    "hearing. The budget takes effect in January. Residents will see property taxes rise by "
    "about 2%. Local businesses welcomed the investment in schools.";

static struct llm_provider *sim(uint64_t seed, int latency_fast)
{
    struct llm_provider_config cfg = {.kind = "sim", .sim_seed = seed};
    char *cause = NULL;
    struct llm_provider *p;

    cfg.sim_latency_ms[LLM_FAST] = latency_fast;
    p = llm_provider_new(&cfg, &cause);
    if (p == NULL)
        fail_msg("%s", cause);
    return p;
}

static void ask(struct llm_provider *p, const char *task, const char *model, const char *text,
                uint64_t seed, int max_tokens, bool json, struct llm_response *r)
{
    struct llm_message m[2] = {{"system", "You are a newsroom assistant."}, {"user", text}};
    struct llm_request req = {.model = model,
                              .messages = m,
                              .nmessages = 2,
                              .temperature = 0.3,
                              .max_tokens = max_tokens,
                              .json = json,
                              .task_type = task,
                              .seed = seed};
    char *cause = NULL;

    if (llm_complete(p, &req, r, NULL, &cause) != 0)
        fail_msg("%s: %s", task, cause);
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);

    if (!json_is_object(j))
        fail_msg("not a JSON object (%s): %s", e.text, text);
    return j;
}

static void test_deterministic(void **state)
{
    struct llm_provider *p = sim(7, 0), *q = sim(7, 0), *other = sim(8, 0);
    struct llm_response a, b, c;

    (void)state;
    ask(p, "content_analysis", "sim-balanced", story, 1, 300, true, &a);
    ask(q, "content_analysis", "sim-balanced", story, 1, 300, true, &b);
    assert_string_equal(a.text, b.text);
    assert_int_equal(a.prompt_tokens, b.prompt_tokens);
    assert_int_equal(a.completion_tokens, b.completion_tokens);
    assert_true(a.confidence == b.confidence);
    /* Another provider seed gives another answer for the same input. */
    ask(other, "content_analysis", "sim-balanced", story, 1, 300, true, &c);
    assert_string_not_equal(a.text, c.text);
    assert_true(llm_provider_shareable(p));
    assert_string_equal(llm_provider_kind(p), "sim");
    llm_response_clear(&a);
    llm_response_clear(&b);
    llm_response_clear(&c);
    llm_provider_free(p);
    llm_provider_free(q);
    llm_provider_free(other);
}

/* A varied synthetic item: n-th of a set, from a one-liner to a sourced report. */
static void item_text(int n, char *buf, size_t len)
{
    static const char *const parts[] = {
        "Officials said the storm forced 3,000 people to evacuate. ",
        "A local blog posted a rumour. ",
        "Reuters reported the central bank raised rates by 0.25 points. ",
        "Something happened somewhere. ",
        "The court heard that police arrested 12 people, the judge said. ",
        "According to the ministry, inflation fell to 2.1% in May. ",
        "Fans cheered. ",
        "The election result will be announced on Friday, a spokesperson told AP. ",
    };
    size_t used = 0;

    buf[0] = '\0';
    for (int k = 0; k < 1 + n % 9 && used + 100 < len; k++) {
        const char *s = parts[(n * 7 + k * 3 + n / 5) % 8];

        snprintf(buf + used, len - used, "%s", s);
        used += strlen(s);
    }
    snprintf(buf + used, len - used, "Item %d.", n);
}

static void test_confidence_spread_and_disagreement(void **state)
{
    struct llm_provider *p = sim(1, 0);
    int low = 0, high = 0, mid = 0, disagree = 0;
    char text[2048];

    (void)state;
    for (int n = 0; n < 300; n++) {
        struct llm_response a, b;
        json_t *ja, *jb;

        item_text(n, text, sizeof text);
        ask(p, "news_scout", "sim-fast", text, 0, 200, true, &a);
        ask(p, "news_scout", "sim-balanced", text, 0, 200, true, &b);
        assert_true(a.confidence >= 0 && a.confidence <= 1);
        low += a.confidence < 0.3;
        high += a.confidence > 0.9;
        mid += a.confidence >= 0.3 && a.confidence <= 0.9;
        ja = parse(a.text);
        jb = parse(b.text);
        disagree += json_is_true(json_object_get(ja, "newsworthy")) !=
                    json_is_true(json_object_get(jb, "newsworthy"));
        json_decref(ja);
        json_decref(jb);
        llm_response_clear(&a);
        llm_response_clear(&b);
    }
    /* Early stopping (< 0.3, > 0.9) and disagreement must really happen, but not always. */
    if (low < 15 || high < 10 || mid < 100 || disagree < 15 || disagree > 200)
        fail_msg("low %d high %d mid %d disagree %d of 300", low, high, mid, disagree);
    print_message("confidence: %d below 0.3, %d above 0.9, %d between; models disagree on %d "
                  "of 300\n",
                  low, high, mid, disagree);
    llm_provider_free(p);
}

static void test_token_estimates(void **state)
{
    int t = llm_estimate_tokens(story);
    double bytes_per_token = (double)strlen(story) / t;
    struct llm_message m[1] = {{"user", story}};
    struct llm_request req = {.messages = m, .nmessages = 1};

    (void)state;
    assert_int_equal(llm_estimate_tokens(""), 0);
    assert_int_equal(llm_estimate_tokens(NULL), 0);
    assert_int_equal(llm_estimate_tokens("the cat sat"), 3);
    assert_int_equal(llm_estimate_tokens("2024"), 2);
    assert_int_equal(llm_estimate_tokens("Hello, world!"), 4);
    /* English news prose: about 4 to 5 bytes a token (cl100k gives ~4.3 here). */
    if (bytes_per_token < 3.6 || bytes_per_token > 5.2)
        fail_msg("%.2f bytes a token (%d tokens)", bytes_per_token, t);
    assert_int_equal(llm_estimate_prompt_tokens(&req), t + 4 + 3);
}

static void test_usage_matches_estimates(void **state)
{
    struct llm_provider *p = sim(1, 0);
    struct llm_message m[2] = {{"system", "You are a newsroom assistant."}, {"user", story}};
    struct llm_request req = {.model = "sim-fast",
                              .messages = m,
                              .nmessages = 2,
                              .max_tokens = 300,
                              .json = true,
                              .task_type = "topic_tagging"};
    struct llm_response r;
    char *cause = NULL;

    (void)state;
    if (llm_complete(p, &req, &r, NULL, &cause) != 0)
        fail_msg("%s", cause);
    assert_int_equal(r.prompt_tokens, llm_estimate_prompt_tokens(&req));
    assert_int_equal(r.completion_tokens, llm_estimate_tokens(r.text));
    assert_false(r.cached);
    llm_response_clear(&r);
    llm_provider_free(p);
}

static void test_shapes(void **state)
{
    struct llm_provider *p = sim(3, 0);
    struct llm_response r;
    json_t *j, *s;

    (void)state;
    ask(p, "news_scout", "m", story, 0, 300, true, &r);
    j = parse(r.text);
    assert_true(json_is_boolean(json_object_get(j, "newsworthy")));
    assert_true(json_is_number(json_object_get(j, "score")));
    assert_true(json_is_array(json_object_get(j, "topics")));
    assert_true(json_is_array(json_object_get(j, "reasons")));
    assert_true(json_number_value(json_object_get(j, "confidence")) == r.confidence);
    json_decref(j);
    llm_response_clear(&r);

    ask(p, "content_filter", "m", story, 0, 300, true, &r);
    j = parse(r.text);
    assert_true(json_is_boolean(json_object_get(j, "keep")));
    assert_true(json_is_string(json_object_get(j, "reason")));
    json_decref(j);
    llm_response_clear(&r);

    ask(p, "topic_tagging", "m", story, 0, 300, true, &r);
    j = parse(r.text);
    /* The story's keywords: council/budget (politics? no: "vote"), hospital, finance. */
    assert_true(json_array_size(json_object_get(j, "topics")) >= 1);
    assert_true(json_is_string(json_object_get(j, "primary")));
    json_decref(j);
    llm_response_clear(&r);

    ask(p, "content_analysis", "m", story, 0, 300, true, &r);
    j = parse(r.text);
    s = json_object_get(j, "scores");
    assert_true(json_is_number(json_object_get(s, "newsworthiness")));
    assert_true(json_is_number(json_object_get(s, "credibility")));
    /* The summary is the item's own lead; names come from the item. */
    assert_non_null(
        strstr(json_string_value(json_object_get(j, "summary")), "budget increase on Tuesday"));
    {
        const char *dump = r.text;

        assert_non_null(strstr(dump, "Elena"));
    }
    json_decref(j);
    llm_response_clear(&r);

    ask(p, "debate_argument", "m", story, 0, 300, true, &r);
    j = parse(r.text);
    {
        const char *st = json_string_value(json_object_get(j, "stance"));

        assert_non_null(st);
        assert_true(strcmp(st, "support") == 0 || strcmp(st, "oppose") == 0 ||
                    strcmp(st, "neutral") == 0);
    }
    assert_true(json_is_string(json_object_get(j, "argument")));
    json_decref(j);
    llm_response_clear(&r);

    ask(p, "quality_assurance", "m", story, 0, 300, true, &r);
    j = parse(r.text);
    {
        double sc = json_number_value(json_object_get(j, "score"));

        assert_true(sc >= 0 && sc <= 10);
        assert_true(json_is_true(json_object_get(j, "passed")) == (sc >= 7.0));
    }
    assert_true(json_is_array(json_object_get(j, "issues")));
    json_decref(j);
    llm_response_clear(&r);
    llm_provider_free(p);
}

static void test_scripts(void **state)
{
    struct llm_provider *p = sim(3, 0);
    struct llm_response d, f, shortr;

    (void)state;
    ask(p, "script_draft", "m", story, 0, 400, false, &d);
    ask(p, "script_final", "m", story, 0, 400, false, &f);
    /* Prose, not JSON, built from the story: the lead first, then key facts, a sign-off. */
    assert_int_equal(strncmp(d.text, "The city council approved", 25), 0);
    assert_non_null(strstr(d.text, "Key facts:"));
    assert_non_null(strstr(d.text, "120 new teachers"));
    assert_non_null(strstr(d.text, "For Newsroom, I'm"));
    assert_non_null(strstr(f.text, "For Newsroom, I'm"));
    assert_true(strlen(f.text) >= strlen(d.text));
    assert_true(d.completion_tokens <= 400);
    /* A small max_tokens cuts the script. */
    ask(p, "script_draft", "m", story, 0, 30, false, &shortr);
    assert_true(shortr.completion_tokens <= 30);
    assert_true(shortr.completion_tokens >= 20);
    llm_response_clear(&d);
    llm_response_clear(&f);
    llm_response_clear(&shortr);
    llm_provider_free(p);
}

static void test_latency_per_tier(void **state)
{
    struct llm_provider *slow = sim(1, 100), *fast = sim(1, 0);
    struct llm_response r;
    int64_t t0;

    (void)state;
    t0 = clock_mono_ms();
    ask(slow, "news_scout", "m", story, 0, 100, true, &r); /* FAST tier: 80 to 120 ms */
    assert_true(clock_mono_ms() - t0 >= 75);
    assert_true(r.latency_ms >= 75);
    llm_response_clear(&r);
    t0 = clock_mono_ms();
    /* No sleep where none is configured: well under the 80 ms the slow tier sleeps at least. */
    ask(slow, "script_final", "m", story, 0, 100, false, &r); /* PREMIUM: 0 configured */
    assert_true(clock_mono_ms() - t0 < 75);
    llm_response_clear(&r);
    ask(fast, "news_scout", "m", story, 0, 100, true, &r);
    assert_true(r.latency_ms < 75);
    llm_response_clear(&r);
    llm_provider_free(slow);
    llm_provider_free(fast);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_confidence_spread_and_disagreement),
        cmocka_unit_test(test_token_estimates),
        cmocka_unit_test(test_usage_matches_estimates),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_latency_per_tier),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
