/*
 * test_batch.c - batched screening: the split sums exactly to the total and follows the
 * weights; the prompt lists every item under its marker; the parser takes the documented
 * object (or a bare array), ignores items out of range or repeated, and refuses what is not
 * JSON; and with sim a batch of items comes back end to end with one verdict per item, the
 * same verdicts as asking about each item alone would give, and token shares that add up to
 * the call's usage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "llm/batch.h"
#include "llm/llm.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_split_exact(void **state)
{
    int w[5] = {10, 20, 30, 0, 40}, out[5], sum = 0;
    int eq[3], z[3] = {0, 0, 0};

    (void)state;
    llm_batch_split(101, w, 5, out);
    for (int i = 0; i < 5; i++)
        sum += out[i];
    assert_int_equal(sum, 101);
    assert_int_equal(out[3], 0);
    assert_true(out[4] >= 40 && out[4] <= 41);
    assert_true(out[0] >= 10 && out[0] <= 11);
    /* No weights: equal shares, the remainder to the first. */
    llm_batch_split(10, z, 3, eq);
    assert_int_equal(eq[0], 4);
    assert_int_equal(eq[1], 3);
    assert_int_equal(eq[2], 3);
    llm_batch_split(0, w, 5, out);
    for (int i = 0; i < 5; i++)
        assert_int_equal(out[i], 0);
    /* Many random splits all sum exactly. */
    srand(3);
    for (int k = 0; k < 2000; k++) {
        int ww[LLM_BATCH_MAX], oo[LLM_BATCH_MAX], n = 1 + rand() % LLM_BATCH_MAX, t = rand() % 5000;

        sum = 0;
        for (int i = 0; i < n; i++)
            ww[i] = rand() % 300;
        llm_batch_split(t, ww, (size_t)n, oo);
        for (int i = 0; i < n; i++) {
            assert_true(oo[i] >= 0);
            sum += oo[i];
        }
        assert_int_equal(sum, t);
    }
}

static void test_prompt_and_parse(void **state)
{
    struct llm_batch_item items[2] = {{"a", "First item."}, {"b", "Second item."}};
    struct llm_batch_verdict v[3];
    char *prompt = llm_batch_prompt(items, 2), *cause = NULL;

    (void)state;
    assert_string_equal(prompt, "### ITEM 1\nFirst item.\n### ITEM 2\nSecond item.\n");
    free(prompt);
    assert_int_equal(llm_batch_parse("{\"verdicts\": [{\"item\": 2, \"keep\": true, "
                                     "\"confidence\": 0.8}, {\"item\": 9}, {\"item\": 2}, "
                                     "{\"item\": 1, \"keep\": false}]}",
                                     3, v, &cause),
                     2);
    assert_non_null(v[0].json);
    assert_non_null(strstr(v[0].json, "false"));
    assert_true(v[0].confidence < 0);
    assert_true(v[1].confidence > 0.79 && v[1].confidence < 0.81);
    assert_null(v[2].json);
    for (int i = 0; i < 3; i++)
        llm_batch_verdict_clear(&v[i]);
    assert_int_equal(llm_batch_parse("[{\"item\": 1}]", 1, v, &cause), 1);
    llm_batch_verdict_clear(&v[0]);
    assert_int_equal(llm_batch_parse("not json", 1, v, &cause), -1);
    assert_non_null(strstr(cause, "not JSON"));
    free(cause);
    assert_int_equal(llm_batch_parse("{\"answer\": 1}", 1, v, &cause), -1);
    assert_non_null(strstr(cause, "verdicts"));
    free(cause);
}

static const char *const texts[] = {
    "The central bank raised interest rates by 0.5 points on Thursday, Reuters reported.",
    "Fans cheered.",
    "Police arrested 12 people after the protest, officials said. The court will hear the "
    "case on Monday, according to a statement from the ministry.",
    "A storm hit the coast.",
    "The election commission said turnout reached 67%, the highest since 1998.",
};

static void test_sim_end_to_end(void **state)
{
    struct llm_provider_config cfg = {.kind = "sim", .sim_seed = 5};
    struct llm_provider *p;
    struct llm_batch_item items[5];
    struct llm_batch_verdict v[5];
    struct llm_request tmpl = {.model = "sim-fast", .temperature = 0, .seed = 2};
    struct llm_response total;
    struct llm_error err;
    char *cause = NULL;
    int got, psum = 0, csum = 0;

    (void)state;
    p = llm_provider_new(&cfg, &cause);
    assert_non_null(p);
    for (int i = 0; i < 5; i++)
        items[i] = (struct llm_batch_item){"id", texts[i]};
    got = llm_batch_screen(p, NULL, &tmpl, "content_filter", items, 5, v, &total, &err, &cause);
    if (got != 5)
        fail_msg("got %d: %s", got, cause != NULL ? cause : total.text);
    for (int i = 0; i < 5; i++) {
        json_t *j = json_loads(v[i].json, 0, NULL);

        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "item")), i + 1);
        assert_true(json_is_boolean(json_object_get(j, "keep")));
        assert_true(v[i].confidence >= 0 && v[i].confidence <= 1);
        json_decref(j);
        psum += v[i].prompt_tokens;
        csum += v[i].completion_tokens;
    }
    /* The shares add up to the call exactly; longer items pay more of the prompt. */
    assert_int_equal(psum, total.prompt_tokens);
    assert_int_equal(csum, total.completion_tokens);
    assert_true(v[2].prompt_tokens > v[1].prompt_tokens);
    /* One call for five items costs fewer prompt tokens than five calls would. */
    {
        int single = 0;

        for (int i = 0; i < 5; i++) {
            struct llm_message m[2] = {{"system", "Screen this news item; answer in JSON."},
                                       {"user", texts[i]}};
            struct llm_request r = {.model = "sim-fast",
                                    .messages = m,
                                    .nmessages = 2,
                                    .max_tokens = 200,
                                    .json = true,
                                    .task_type = "content_filter",
                                    .seed = 2};
            struct llm_response one;

            assert_int_equal(llm_complete(p, &r, &one, NULL, &cause), 0);
            single += one.prompt_tokens;
            /* The same item gets the same verdict alone as in the batch. */
            assert_true(one.confidence == v[i].confidence);
            llm_response_clear(&one);
        }
        print_message("batch of 5: %d prompt + %d completion tokens; 5 single calls: %d prompt\n",
                      total.prompt_tokens, total.completion_tokens, single);
        assert_true(total.prompt_tokens < single + 5 * 10);
    }
    for (int i = 0; i < 5; i++)
        llm_batch_verdict_clear(&v[i]);
    llm_response_clear(&total);
    /* Limits. */
    assert_int_equal(
        llm_batch_screen(p, NULL, &tmpl, "content_filter", items, 0, v, &total, &err, &cause), -1);
    assert_int_equal(err.kind, LLM_ERR_FATAL);
    free(cause);
    llm_provider_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_exact),
        cmocka_unit_test(test_prompt_and_parse),
        cmocka_unit_test(test_sim_end_to_end),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
