/*
 * test_trace_view.c - a trace's events made readable: creates and updates merged, the tree
 * (stage, task, generation, decision, score) in time order, totals and cost by step, the
 * trace's name, input and output; an unknown trace refused; times parsed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "observe/trace_view.h"

#include <stdlib.h>
#include <string.h>

static const char events[] =
    "["
    "{\"type\":\"trace-create\",\"timestamp\":\"2026-11-28T10:00:00.000Z\",\"body\":{\"id\":\"s1\","
    "\"name\":\"analysis\",\"input\":{\"title\":\"A title\",\"source\":\"Wire\"}}},"
    "{\"type\":\"span-create\",\"timestamp\":\"2026-11-28T10:00:01.000Z\",\"body\":{\"id\":"
    "\"task\","
    "\"traceId\":\"s1\",\"name\":\"analysis\",\"startTime\":\"2026-11-28T10:00:01.000Z\","
    "\"parentObservationId\":\"stage\",\"metadata\":{\"agent\":\"analyst-1\",\"role\":\"analyst\"}}"
    "},"
    "{\"type\":\"generation-create\",\"timestamp\":\"2026-11-28T10:00:01.100Z\",\"body\":{\"id\":"
    "\"g1\",\"traceId\":\"s1\",\"name\":\"content_analysis\",\"model\":\"sim-balanced\","
    "\"startTime\":\"2026-11-28T10:00:01.100Z\",\"parentObservationId\":\"task\"}},"
    "{\"type\":\"generation-update\",\"timestamp\":\"2026-11-28T10:00:01.700Z\",\"body\":{\"id\":"
    "\"g1\",\"traceId\":\"s1\",\"endTime\":\"2026-11-28T10:00:01.700Z\",\"usageDetails\":{"
    "\"input\":"
    "100,\"output\":50,\"total\":150},\"costDetails\":{\"input\":0.001,\"output\":0.002,\"total\":"
    "0.003},\"metadata\":{\"cost_micro_usd\":3000}}},"
    "{\"type\":\"generation-create\",\"timestamp\":\"2026-11-28T10:00:01.200Z\",\"body\":{\"id\":"
    "\"g0\",\"traceId\":\"s1\",\"name\":\"script_final\",\"model\":\"sim-premium\","
    "\"startTime\":\"2026-11-28T10:00:01.050Z\",\"parentObservationId\":\"task\"}},"
    "{\"type\":\"generation-update\",\"timestamp\":\"2026-11-28T10:00:02.000Z\",\"body\":{\"id\":"
    "\"g0\",\"traceId\":\"s1\",\"endTime\":\"2026-11-28T10:00:02.000Z\",\"usageDetails\":{"
    "\"input\":"
    "10,\"output\":20,\"total\":30},\"costDetails\":{\"total\":0.0071}}},"
    "{\"type\":\"event-create\",\"timestamp\":\"2026-11-28T10:00:01.800Z\",\"body\":{\"traceId\":"
    "\"s1\",\"name\":\"decision: coverage\",\"startTime\":\"2026-11-28T10:00:01.800Z\","
    "\"parentObservationId\":\"task\",\"output\":{\"decision\":\"cover\",\"confidence\":0.8,"
    "\"reasoning\":\"worth it\"}}},"
    "{\"type\":\"score-create\",\"timestamp\":\"2026-11-28T10:00:01.900Z\",\"body\":{\"id\":\"sc\","
    "\"traceId\":\"s1\",\"name\":\"qa_score\",\"value\":8.5,\"comment\":\"fine\",\"observationId\":"
    "\"task\"}},"
    "{\"type\":\"span-update\",\"timestamp\":\"2026-11-28T10:00:02.500Z\",\"body\":{\"id\":"
    "\"task\","
    "\"traceId\":\"s1\",\"endTime\":\"2026-11-28T10:00:02.500Z\",\"level\":\"ERROR\","
    "\"statusMessage\":\"it broke\"}},"
    "{\"type\":\"span-create\",\"timestamp\":\"2026-11-28T10:00:03.000Z\",\"body\":{\"id\":"
    "\"stage\","
    "\"traceId\":\"s1\",\"name\":\"analysis\",\"startTime\":\"2026-11-28T10:00:00.000Z\","
    "\"endTime\":\"2026-11-28T10:00:03.000Z\"}},"
    "{\"type\":\"trace-create\",\"timestamp\":\"2026-11-28T10:00:03.000Z\",\"body\":{\"id\":\"s1\","
    "\"name\":\"archived\",\"output\":{\"status\":\"ARCHIVED\",\"reason\":\"dull\"}}}"
    "]";

static void test_view(void **state)
{
    json_t *ev = json_loads(events, 0, NULL);
    struct trace_view v;

    (void)state;
    assert_non_null(ev);
    assert_int_equal(trace_view_build(ev, "s1", &v), 0);
    assert_string_equal(v.name, "archived");
    assert_string_equal(v.title, "A title");
    assert_string_equal(v.status, "ARCHIVED");
    assert_string_equal(v.reason, "dull");
    assert_int_equal(v.last_ms - v.first_ms, 3000);
    assert_int_equal(v.calls, 2);
    assert_int_equal(v.tokens_in, 110);
    assert_int_equal(v.tokens_out, 70);
    assert_int_equal(v.cost, 3000 + 7100);
    /* stage > task > (g0, g1, decision, score) by start time. */
    assert_int_equal(v.nobs, 6);
    assert_string_equal(v.obs[0].name, "analysis");
    assert_int_equal(v.obs[0].depth, 0);
    assert_int_equal(v.obs[0].end_ms - v.obs[0].start_ms, 3000);
    assert_int_equal(v.obs[1].depth, 1);
    assert_string_equal(v.obs[1].agent, "analyst-1");
    assert_true(v.obs[1].error);
    assert_string_equal(v.obs[1].detail, "it broke");
    assert_string_equal(v.obs[2].name, "script_final");
    assert_int_equal(v.obs[2].kind, TRACE_GENERATION);
    assert_int_equal(v.obs[2].cost, 7100);
    assert_int_equal(v.obs[2].depth, 2);
    assert_string_equal(v.obs[3].model, "sim-balanced");
    assert_int_equal(v.obs[3].end_ms - v.obs[3].start_ms, 600);
    assert_int_equal(v.obs[4].kind, TRACE_EVENT);
    assert_string_equal(v.obs[4].detail, "cover confidence 0.80: worth it");
    assert_int_equal(v.obs[5].kind, TRACE_SCORE);
    assert_string_equal(v.obs[5].detail, "8.5: fine");
    /* Cost by step, highest first. */
    assert_int_equal(v.nsteps, 2);
    assert_string_equal(v.steps[0].step, "script_final");
    assert_int_equal(v.steps[1].cost, 3000);
    trace_view_free(&v);
    json_decref(ev);
    ev = json_array();
    assert_int_equal(trace_view_build(ev, "none", &v), -1);
    json_decref(ev);
}

static void test_time(void **state)
{
    (void)state;
    assert_int_equal(trace_view_time("1970-01-01T00:00:01.5Z"), 1500);
    assert_int_equal(trace_view_time("1970-01-01T00:00:01.123456Z"), 1123);
    assert_int_equal(trace_view_time("1970-01-01T00:00:02Z"), 2000);
    assert_int_equal(trace_view_time("yesterday"), 0);
    assert_int_equal(trace_view_time(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view),
        cmocka_unit_test(test_time),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
