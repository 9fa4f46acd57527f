/*
 * test_llm_cache_policy.c - the response cache's policy by task type, the pure part of
 * src/llm/cache.c: which task types a cache_task_types list takes (exact words, "*" for
 * every one, empty for none, blanks around entries ignored, no prefix or substring matches,
 * a request without a task type only through "*"), the default list holding the screening
 * and analysis calls and not the per-story ones, and which lists are valid, with the bad
 * entry named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "llm/cache.h"

#include <stdlib.h>
#include <string.h>

static void test_wants(void **state)
{
    static const struct {
        const char *list, *task_type;
        bool wanted;
    } cases[] = {
        {"news_scout", "news_scout", true},
        {"news_scout,content_filter", "content_filter", true},
        {" news_scout , content_filter ", "content_filter", true},
        {"news_scout,\tcontent_filter", "news_scout", true},
        {"news_scout,content_filter", "script_draft", false},
        {"news_scout", "news", false},           /* no prefix match */
        {"news", "news_scout", false},           /* nor the other way */
        {"content_analysis", "analysis", false}, /* nor a substring */
        {"*", "script_draft", true},
        {"news_scout,*", "quality_assurance", true},
        {"*", NULL, true},
        {"*", "", true},
        {"news_scout", NULL, false},
        {"news_scout", "", false},
        {"", "news_scout", false},
        {"  ", "news_scout", false},
        {NULL, "news_scout", false},
        {NULL, NULL, false},
        {"", NULL, false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (llm_cache_wants(cases[i].list, cases[i].task_type) != cases[i].wanted)
            fail_msg("llm_cache_wants(\"%s\", \"%s\") is not %s",
                     cases[i].list != NULL ? cases[i].list : "(null)",
                     cases[i].task_type != NULL ? cases[i].task_type : "(null)",
                     cases[i].wanted ? "true" : "false");
}

/* The default takes the calls whose text recurs and none of those unique to a story (nor the
 * analysis, which is kept with its story and never asked twice). */
static void test_default(void **state)
{
    static const char *const cached[] = {"news_scout", "content_filter", "topic_tagging"};
    static const char *const not_cached[] = {
        "content_analysis",  "debate_argument",   "script_draft", "script_final",
        "script_escalation", "quality_assurance", "qa_escalation"};
    char *why = NULL;

    (void)state;
    assert_int_equal(llm_cache_task_types_check(LLM_CACHE_TASK_TYPES_DEFAULT, &why), 0);
    for (size_t i = 0; i < sizeof cached / sizeof cached[0]; i++)
        assert_true(llm_cache_wants(LLM_CACHE_TASK_TYPES_DEFAULT, cached[i]));
    for (size_t i = 0; i < sizeof not_cached / sizeof not_cached[0]; i++)
        assert_false(llm_cache_wants(LLM_CACHE_TASK_TYPES_DEFAULT, not_cached[i]));
    assert_false(llm_cache_wants(LLM_CACHE_TASK_TYPES_DEFAULT, NULL));
}

static void test_check(void **state)
{
    static const char *const good[] = {
        "",
        "   ",
        "*",
        "news_scout",
        "news_scout,content_filter",
        " news_scout , *",
        "a,b_c,_",
        LLM_CACHE_TASK_TYPES_DEFAULT,
    };
    static const struct {
        const char *list, *named; /* the bad entry the message must name */
    } bad[] = {
        {"News_scout", "\"News_scout\""},
        {"news_scout,script-draft", "\"script-draft\""},
        {"news scout", "\"news scout\""},
        {"news_scout,task2", "\"task2\""},
        {"news*", "\"news*\""},
        {"**", "\"**\""},
        {"news_scout;content_filter", "\"news_scout;content_filter\""},
        {"news_scout,,content_filter", "empty entry"},
        {"news_scout,", "empty entry"},
        {",", "empty entry"},
        {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char *why = NULL;

        if (llm_cache_task_types_check(good[i], &why) != 0)
            fail_msg("\"%s\" was refused: %s", good[i], why);
        assert_null(why);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *why = NULL;

        if (llm_cache_task_types_check(bad[i].list, &why) != -1)
            fail_msg("\"%s\" was taken", bad[i].list);
        assert_non_null(why);
        if (strstr(why, bad[i].named) == NULL)
            fail_msg("\"%s\" does not name %s", why, bad[i].named);
        free(why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wants),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
