/*
 * test_chart.c - the figures of a story and the chart they make (chart.h), pure: amounts,
 * percentages and counts with their units read as the script writes them; years, ordinals,
 * numbers without a unit and figures the story's own text does not state left out; bars for
 * figures sharing a unit, a comparison otherwise, none under two figures. Also the check of
 * the visual chain's configured links (visual.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/chart.h"
#include "media/visual.h"

#include <stdlib.h>
#include <string.h>

static size_t figures(const char *script, const char *sources, struct chart_figure *f)
{
    return chart_figures(script, sources, f, CHART_FIGURES_MAX);
}

static void test_kinds_of_figure(void **state)
{
    static const char text[] =
        "The authority approved a budget of 412 million dollars on Tuesday. Fares rise by 5% "
        "next year, and ridership is back to 94 percent. The plan adds 18 bus routes and "
        "$4.2 billion of loans, with 12,400 jobs and \xE2\x82\xAC"
        "300 million from Brussels.";
    struct chart_figure f[CHART_FIGURES_MAX];
    size_t n = figures(text, text, f);

    (void)state;
    assert_int_equal(n, 7);
    assert_string_equal(f[0].text, "412 million dollars");
    assert_string_equal(f[0].unit, "dollars");
    assert_true(f[0].value == 412e6);
    assert_string_equal(f[1].text, "5%");
    assert_string_equal(f[1].unit, "%");
    assert_string_equal(f[2].text, "94 percent");
    assert_string_equal(f[2].unit, "%");
    assert_string_equal(f[3].text, "18 bus routes");
    assert_string_equal(f[3].unit, "bus routes");
    assert_string_equal(f[4].text, "$4.2 billion");
    assert_string_equal(f[4].unit, "$");
    assert_true(f[4].value == 4.2e9);
    assert_string_equal(f[5].text, "12,400 jobs");
    assert_true(f[5].value == 12400);
    assert_string_equal(f[6].text, "\xE2\x82\xAC"
                                   "300 million");
    assert_string_equal(f[6].unit, "EUR");
}

static void test_not_figures(void **state)
{
    static const char text[] =
        "In 2019 the council met on the 13th and again in 2026. It was the 2nd vote. "
        "Model 5G phones ship. COVID-19 cases fell. Numbers like 42 alone say nothing.";
    struct chart_figure f[CHART_FIGURES_MAX];

    (void)state;
    assert_int_equal(figures(text, text, f), 0);
    assert_int_equal(chart_figures(NULL, text, f, CHART_FIGURES_MAX), 0);
}

/* Only what the story states: a figure the writer added that the sources do not hold is not
 * charted, and a number inside a longer one does not count as stated. */
static void test_only_stated(void **state)
{
    static const char script[] = "Sales rose 12 percent to 3.5 million units, and 41 percent of "
                                 "them went abroad.";
    static const char sources[] = "Sales rose 12 percent. Shipments reached 3.5 million units. "
                                  "Exports were 141 percent of plan.";
    struct chart_figure f[CHART_FIGURES_MAX];
    size_t n;

    (void)state;
    n = figures(script, sources, f);
    assert_int_equal(n, 2);
    assert_string_equal(f[0].text, "12 percent");
    assert_string_equal(f[1].text, "3.5 million units");
}

static void test_three_figures_chart(void **state)
{
    static const char script[] = "Unemployment fell to 4.1 percent in March. Youth unemployment "
                                 "stands at 11.5 percent, and long-term unemployment at 1.9 "
                                 "percent of the workforce.";
    struct chart_figure f[CHART_FIGURES_MAX];
    size_t n = figures(script, script, f);
    json_t *plan = chart_plan(f, n), *labels;

    (void)state;
    assert_int_equal(n, 3);
    assert_non_null(plan);
    assert_string_equal(json_string_value(json_object_get(plan, "kind")), "bars");
    assert_string_equal(json_string_value(json_object_get(plan, "unit")), "%");
    labels = json_object_get(plan, "labels");
    assert_int_equal(json_array_size(labels), 3);
    assert_string_equal(json_string_value(json_array_get(labels, 0)), "4.1 percent");
    assert_string_equal(json_string_value(json_array_get(labels, 1)), "11.5 percent");
    assert_string_equal(json_string_value(json_array_get(labels, 2)), "1.9 percent");
    assert_true(json_number_value(json_array_get(json_object_get(plan, "values"), 1)) == 11.5);
    json_decref(plan);
}

static void test_comparison_and_none(void **state)
{
    static const char mixed[] = "The fund raised 630.4 million dollars, hired 85 engineers and "
                                "grew 22 percent.";
    static const char one[] = "The storm dropped 309.8 millimetres of rain on the town.";
    static const char none[] = "The minister resigned on Friday after a long debate.";
    struct chart_figure f[CHART_FIGURES_MAX];
    json_t *plan;
    size_t n;

    (void)state;
    n = figures(mixed, mixed, f);
    assert_int_equal(n, 3);
    plan = chart_plan(f, n);
    assert_string_equal(json_string_value(json_object_get(plan, "kind")), "comparison");
    assert_int_equal(json_array_size(json_object_get(plan, "labels")), 3);
    assert_string_equal(json_string_value(json_array_get(json_object_get(plan, "labels"), 1)),
                        "85 engineers");
    json_decref(plan);
    n = figures(one, one, f);
    assert_int_equal(n, 1);
    assert_null(chart_plan(f, n));
    n = figures(none, none, f);
    assert_int_equal(n, 0);
    assert_null(chart_plan(f, n));
}

static void test_link_check(void **state)
{
    char *why = NULL;

    (void)state;
    assert_int_equal(visual_link_check("chart, heygen, runway", &why), 0);
    assert_int_equal(visual_link_check("", &why), 0);
    assert_int_equal(visual_link_check(" pexels ", &why), 0);
    assert_int_equal(visual_link_check("feed, dalle", &why), -1);
    assert_non_null(strstr(why, "unknown visual provider \"dalle\""));
    free(why);
    why = NULL;
    assert_int_equal(visual_link_check("feed, text", &why), -1);
    assert_non_null(strstr(why, "always the last link"));
    free(why);
    why = NULL;
    assert_int_equal(visual_link_check("feed,feed", &why), -1);
    assert_non_null(strstr(why, "listed twice"));
    free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_of_figure),     cmocka_unit_test(test_not_figures),
        cmocka_unit_test(test_only_stated),         cmocka_unit_test(test_three_figures_chart),
        cmocka_unit_test(test_comparison_and_none), cmocka_unit_test(test_link_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
