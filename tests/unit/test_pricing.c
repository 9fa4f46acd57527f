/*
 * test_pricing.c - the pricing table and exact money: decimals parsed to the micro-dollar
 * (and refused past six decimals or with a sign), costs rounded up, the shipped
 * config/pricing.conf equal to the built-in table, the default task tiers as the issue lists
 * them, and bad files refused with FILE:LINE naming the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cost/money.h"
#include "cost/pricing.h"
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_money_exact(void **state)
{
    static const struct {
        const char *text;
        int64_t micro;
    } good[] = {
        {"0.0015", 1500},      {"0.015", 15000},          {"0.06", 60000}, {"1", 1000000},
        {"12.5", 12500000},    {"0.000001", 1},           {".5", 500000},  {"3.", 3000000},
        {"0.1500000", 150000}, {"1000000000", MONEY_MAX},
    };
    static const char *const bad[] = {"",      "-1", "+1", "1e3", "0.0000001",    "abc",
                                      "1.2.3", " 1", "1 ", ".",   "1000000000.01"};
    const char *why;
    char buf[MONEY_BUF];
    int64_t v, sum = 0;

    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(money_parse(good[i].text, &v, &why), 0);
        assert_int_equal(v, good[i].micro);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (money_parse(bad[i], &v, &why) != -1)
            fail_msg("\"%s\" was accepted as money", bad[i]);
    /* Ten thousand additions of 0.0001 are exactly 1.00: no float drift. */
    assert_int_equal(money_parse("0.0001", &v, &why), 0);
    for (int i = 0; i < 10000; i++)
        sum += v;
    assert_string_equal(money_format(sum, buf, sizeof buf), "1.00");
    assert_string_equal(money_format(1500, buf, sizeof buf), "0.0015");
    assert_string_equal(money_format(12500000, buf, sizeof buf), "12.50");
    assert_string_equal(money_format(0, buf, sizeof buf), "0.00");
    assert_int_equal(money_parse_ratio("0.8", &v, &why), 0);
    assert_int_equal(v, 800000);
    assert_int_equal(money_parse_ratio("1.5", &v, &why), -1);
}

static void test_cost_rounding(void **state)
{
    struct pricing *p = pricing_default();
    const struct pricing_model *fast = pricing_model(p, "sim-fast");

    (void)state;
    assert_non_null(fast);
    assert_int_equal(fast->prompt_per_1k, 1500);
    assert_int_equal(pricing_cost(fast, 1000, 0), 1500);
    assert_int_equal(pricing_cost(fast, 1000, 1000), 3000);
    assert_int_equal(pricing_cost(fast, 1, 0), 2); /* 1.5 µ$ rounds up */
    assert_int_equal(pricing_cost(fast, 0, 0), 0);
    assert_int_equal(pricing_cost(fast, -5, -5), 0);
    pricing_free(p);
}

static void test_default_tiers(void **state)
{
    static const struct {
        const char *task;
        enum llm_tier tier;
    } want[] = {
        {"news_scout", LLM_FAST},          {"content_filter", LLM_FAST},
        {"topic_tagging", LLM_FAST},       {"content_analysis", LLM_BALANCED},
        {"debate_argument", LLM_BALANCED}, {"script_draft", LLM_BALANCED},
        {"script_final", LLM_PREMIUM},     {"quality_assurance", LLM_BALANCED},
        {"qa_escalation", LLM_PREMIUM},    {"script_escalation", LLM_PREMIUM},
        {"stock_image", LLM_FAST},         {"image_generation", LLM_BALANCED},
        {"presenter_video", LLM_PREMIUM},  {"clip_generation", LLM_PREMIUM},
    };
    struct pricing *p = pricing_default();
    enum llm_tier t;

    (void)state;
    assert_int_equal(pricing_task_count(p), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(pricing_task_tier(p, want[i].task, &t), 0);
        assert_int_equal(t, want[i].tier);
    }
    assert_int_equal(pricing_task_tier(p, "nonsense", &t), -1);
    for (int i = 0; i < LLM_TIER_COUNT; i++)
        assert_int_equal(pricing_tier_model(p, (enum llm_tier)i)->tier, i);
    assert_int_equal(pricing_tier_model(p, LLM_PREMIUM)->prompt_per_1k, 60000);
    pricing_free(p);
}

static void test_shipped_file_is_builtin(void **state)
{
    char path[1024], *cause = NULL;
    struct pricing *file, *builtin = pricing_default();

    (void)state;
    snprintf(path, sizeof path, "%s/config/pricing.conf", test_env("NEWSROOM_SOURCE_DIR"));
    file = pricing_load(path, &cause);
    if (file == NULL)
        fail_msg("%s", cause);
    assert_true(pricing_equal(file, builtin));
    assert_true(pricing_equal(builtin, file));
    pricing_free(file);
    file = pricing_open("", &cause);
    assert_true(pricing_equal(file, builtin));
    pricing_free(file);
    pricing_free(builtin);
}

static const char *const good_head = "[tiers]\nFAST = f\nBALANCED = b\nPREMIUM = p\n"
                                     "[tasks]\nnews_scout = FAST\n"
                                     "[model f]\ntier = FAST\nprovider = sim\n"
                                     "prompt_per_1k = 0.001\ncompletion_per_1k = 0.002\n"
                                     "[model b]\ntier = BALANCED\nprovider = openai\n"
                                     "prompt_per_1k = 0.01\ncompletion_per_1k = 0.02\n"
                                     "[model p]\ntier = PREMIUM\nprovider = anthropic\n"
                                     "prompt_per_1k = 0.1\ncompletion_per_1k = 0.2\n";

static void test_bad_files(void **state)
{
    /* Each tail starts after good_head's 21 lines, on line 22. */
    static const struct {
        const char *tail;
        const char *want;
    } cases[] = {
        {"[model f]\nprompt_per_1k = 1\n", ":23: [model f] prompt_per_1k is set twice"},
        {"[model x]\ntier = FAST\nprovider = sim\nprompt_per_1k = 0.00000015\n",
         ":25: [model x] prompt_per_1k: \"0.00000015\" has more than six decimals"},
        {"[model x]\ntier = FAST\nprovider = sim\nprompt_per_1k = -1\n",
         ":25: [model x] prompt_per_1k: \"-1\""},
        {"[model x]\ntier = SLOW\n", ":23: [model x] tier: \"SLOW\" is not a tier"},
        {"[model x]\nprovider = gemini\n", ":23: [model x] provider: \"gemini\""},
        {"[model x]\ncolour = red\n", ":23: unknown key \"colour\" in [model x]"},
        {"[tasks]\nscript_final = ULTRA\n", ":23: [tasks] script_final: \"ULTRA\""},
        {"[prices]\nx = 1\n", ":23: unknown section [prices]"},
        {"[model x]\ntier = FAST\n", ":23: [model x] has no provider"},
        {"[media m]\nprovider = dalle\n", ":23: [media m] provider: \"dalle\" is not a provider"},
        {"[media m]\nunit = frame\n", ":23: [media m] unit: \"frame\" is not a unit"},
        {"[media m]\nprice = 0.0000001\n", ":23: [media m] price: \"0.0000001\""},
        {"[media m]\nflavour = 1\n", ":23: unknown key \"flavour\" in [media m]"},
        {"[media m]\nprovider = pexels\ntask = news_scout\nunit = request\n",
         ":23: [media m] has no price"},
        {"[media m]\nprovider = pexels\ntask = dreaming\nunit = request\nprice = 1\n",
         ":23: [media m] task: \"dreaming\" is not in [tasks]"},
        {"this is not ini\n", ":22: not a [section]"},
    };
    char *dir = test_tmpdir(), path[256], *cause;

    (void)state;
    snprintf(path, sizeof path, "%s/pricing.conf", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = malloc(strlen(good_head) + strlen(cases[i].tail) + 1);
        struct pricing *p;

        strcpy(text, good_head);
        strcat(text, cases[i].tail);
        test_write_file(path, text);
        free(text);
        cause = NULL;
        p = pricing_load(path, &cause);
        if (p != NULL)
            fail_msg("case %zu was accepted", i);
        if (strstr(cause, cases[i].want) == NULL || strncmp(cause, path, strlen(path)) != 0)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, cause, cases[i].want);
        free(cause);
    }
    /* The tier's model must exist and be of that tier. */
    test_write_file(path, "[tiers]\nFAST = nope\nBALANCED = b\nPREMIUM = b\n[tasks]\nx = FAST\n"
                          "[model b]\ntier = BALANCED\nprovider = sim\nprompt_per_1k = 1\n"
                          "completion_per_1k = 1\n");
    cause = NULL;
    assert_null(pricing_load(path, &cause));
    assert_non_null(strstr(cause, ":2: [tiers] FAST: model \"nope\" has no [model nope]"));
    free(cause);
    cause = NULL;
    assert_null(pricing_load("/nonexistent/pricing.conf", &cause));
    assert_non_null(strstr(cause, "cannot read"));
    free(cause);
    test_rmrf(dir);
    free(dir);
}

static void test_media_prices(void **state)
{
    struct pricing *p = pricing_default();
    const struct pricing_media *img = pricing_media(p, "gpt-image-1");
    const struct pricing_media *clip = pricing_media(p, "gen4_turbo");
    enum llm_tier t;

    (void)state;
    assert_non_null(img);
    assert_non_null(clip);
    assert_non_null(pricing_media(p, "pexels-search"));
    assert_non_null(pricing_media(p, "heygen-avatar"));
    assert_null(pricing_media(p, "sim-fast"));
    assert_int_equal(img->unit, PRICING_PER_IMAGE);
    assert_string_equal(pricing_unit_name(clip->unit), "second");
    assert_int_equal(pricing_media_cost(img, 1), 63000);
    assert_int_equal(pricing_media_cost(clip, 5), 250000);
    /* A part of a unit rounds up to the thousandth, then to the micro-dollar. */
    assert_int_equal(pricing_media_cost(clip, 4.2001), 210050);
    assert_int_equal(pricing_media_cost(clip, -1), 0);
    assert_int_equal(pricing_task_tier(p, clip->task, &t), 0);
    assert_int_equal(t, LLM_PREMIUM);
    pricing_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_money_exact),   cmocka_unit_test(test_cost_rounding),
        cmocka_unit_test(test_default_tiers), cmocka_unit_test(test_shipped_file_is_builtin),
        cmocka_unit_test(test_bad_files),     cmocka_unit_test(test_media_prices),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
