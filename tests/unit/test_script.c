/*
 * test_script.c - measuring scripts: words, sentences (full stops inside figures and quotes,
 * line breaks), and the score the writer's revisions are judged by (figures kept, length
 * against the bounds, attributions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agents/script.h"

#include <stdlib.h>
#include <string.h>

static void test_words(void **state)
{
    (void)state;
    assert_int_equal(script_words(NULL), 0);
    assert_int_equal(script_words(""), 0);
    assert_int_equal(script_words("  one\ttwo\n\nthree  "), 3);
    assert_int_equal(script_words("café Zürich 4.2%"), 3);
}

static void test_sentences(void **state)
{
    const char *t =
        "Prices rose 4.2 percent. \"It works,\" she said.\nTitle line\n\n  Why? Because!";
    const char *want[] = {"Prices rose 4.2 percent.", "\"It works,\" she said.", "Title line",
                          "Why?", "Because!"};
    struct script_span *s;
    size_t n = script_sentences(t, &s);

    (void)state;
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s[i].len, strlen(want[i]));
        assert_memory_equal(t + s[i].start, want[i], s[i].len);
    }
    free(s);
    assert_int_equal(script_sentences("   \n ", &s), 0);
    assert_null(s);
}

static void test_measure(void **state)
{
    const char *src = "The bank lent 86.6 million in 2020, officials said. Rates rose 35 percent.";
    struct script_metrics m;

    (void)state;
    /* Two of three figures, one attribution, 10 words for 10 to 20. */
    script_measure("The bank lent 86.6 million in 2020, officials said today.", src, 10, 20, &m);
    assert_int_equal(m.figures, 3);
    assert_int_equal(m.figures_kept, 2);
    assert_int_equal(m.attributions, 1);
    assert_int_equal(m.words, 10);
    assert_true(m.length_fit == 1);
    assert_true(m.score > 0.71 && m.score < 0.72); /* 0.4*2/3 + 0.3 + 0.15 */
    /* Everything kept, attributed twice, too long by half. */
    script_measure("The bank lent 86.6 million in 2020, officials said; rates rose 35 percent, "
                   "according to the report.",
                   src, 5, 10, &m);
    assert_int_equal(m.figures_kept, 3);
    assert_int_equal(m.attributions, 2);
    assert_true(m.length_fit < 1);
    /* Nothing: score 0. */
    script_measure("", src, 10, 20, &m);
    assert_true(m.score == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_sentences),
        cmocka_unit_test(test_measure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
