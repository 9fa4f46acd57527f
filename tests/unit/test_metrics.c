/*
 * test_metrics.c - the Prometheus registry and its text exposition: counters, gauges and
 * histograms (cumulative buckets, +Inf, _sum, _count), labels escaped, series touched at zero,
 * families in the order first used, HELP and TYPE once per family, thousands of series each
 * found again; and the metrics address
 * (HOST:PORT, [IPv6]:PORT) with its errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "observe/metrics.h"
#include "observe/metrics_http.h"

#include <stdlib.h>
#include <string.h>

static const double b3[] = {1, 5, 10};
static const struct metric_def c_def = {"t_things_total",        "Things.", METRIC_COUNTER,
                                        {"kind", "where", NULL}, NULL,      0};
static const struct metric_def g_def = {"t_level", "A level.", METRIC_GAUGE, {NULL}, NULL, 0};
static const struct metric_def h_def = {"t_wait_seconds", "Waits.", METRIC_HISTOGRAM,
                                        {"stage", NULL},  b3,       3};

static void test_render(void **state)
{
    struct metrics *m = metrics_new();
    struct metrics_text t = {0};
    const char *want = "# HELP t_things_total Things.\n"
                       "# TYPE t_things_total counter\n"
                       "t_things_total{kind=\"a\",where=\"x\"} 3\n"
                       "t_things_total{kind=\"q\\\"uote\\\\back\\nline\",where=\"\"} 0\n"
                       "# HELP t_level A level.\n"
                       "# TYPE t_level gauge\n"
                       "t_level 0.25\n"
                       "# HELP t_wait_seconds Waits.\n"
                       "# TYPE t_wait_seconds histogram\n"
                       "t_wait_seconds_bucket{stage=\"qa\",le=\"1\"} 1\n"
                       "t_wait_seconds_bucket{stage=\"qa\",le=\"5\"} 2\n"
                       "t_wait_seconds_bucket{stage=\"qa\",le=\"10\"} 2\n"
                       "t_wait_seconds_bucket{stage=\"qa\",le=\"+Inf\"} 3\n"
                       "t_wait_seconds_sum{stage=\"qa\"} 25.5\n"
                       "t_wait_seconds_count{stage=\"qa\"} 3\n";

    (void)state;
    metrics_add(m, &c_def, (const char *[]){"a", "x"}, 1);
    metrics_add(m, &c_def, (const char *[]){"a", "x"}, 2);
    metrics_touch(m, &c_def, (const char *[]){"q\"uote\\back\nline", NULL});
    metrics_set(m, &g_def, NULL, 7);
    metrics_set(m, &g_def, NULL, 0.25);
    metrics_observe(m, &h_def, (const char *[]){"qa"}, 0.5);
    metrics_observe(m, &h_def, (const char *[]){"qa"}, 5);  /* on a bound: in that bucket */
    metrics_observe(m, &h_def, (const char *[]){"qa"}, 20); /* past the last: +Inf only */
    metrics_render(m, &t);
    assert_string_equal(t.p, want);
    assert_true(metrics_value(m, &c_def, (const char *[]){"a", "x"}) == 3);
    assert_true(metrics_value(m, &h_def, (const char *[]){"qa"}) == 3);
    assert_true(metrics_value(m, &c_def, (const char *[]){"none", "x"}) == 0);
    metrics_text_free(&t);
    metrics_free(m);
    metrics_free(NULL);
}

static void test_listen(void **state)
{
    char host[64], *why = NULL;
    int port;

    (void)state;
    assert_int_equal(metrics_listen_parse("127.0.0.1:9464", host, sizeof host, &port, &why), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9464);
    assert_int_equal(metrics_listen_parse("[::1]:0", host, sizeof host, &port, &why), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_int_equal(metrics_listen_parse("localhost:80", host, sizeof host, &port, &why), 0);
    assert_int_equal(metrics_listen_check("", &why), 0); /* empty: off */
    {
        static const char *const bad[] = {"9464",    ":9464", "host:",     "host:65536",
                                          "host:-1", "a:b:1", "[::1]9464", "host:12x"};

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            why = NULL;
            if (metrics_listen_check(bad[i], &why) != -1)
                fail_msg("\"%s\" was taken as an address", bad[i]);
            assert_non_null(why);
            free(why);
        }
    }
}

/* Thousands of series in 1024 buckets, keys of every length from 0 to 120 bytes around the
 * 8-byte steps of the hash, and label sets that join to the same text but for where one label
 * ends: each is its own series and reads back its own value. */
static void test_many_series(void **state)
{
    struct metrics *m = metrics_new();
    char kind[160], where[16];

    (void)state;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < 3000; i++) {
            int n = i % 121;

            memset(kind, 'k', (size_t)n);
            snprintf(kind + (n > 6 ? n - 6 : 0), sizeof kind - (size_t)(n > 6 ? n - 6 : 0), "%06d",
                     i);
            snprintf(where, sizeof where, "w%d", i % 7);
            if (pass == 0)
                metrics_add(m, &c_def, (const char *[]){kind, where}, i + 1);
            else
                assert_true(metrics_value(m, &c_def, (const char *[]){kind, where}) == i + 1);
        }
    metrics_add(m, &c_def, (const char *[]){"ab", "c"}, 1);
    metrics_add(m, &c_def, (const char *[]){"a", "bc"}, 2);
    assert_true(metrics_value(m, &c_def, (const char *[]){"ab", "c"}) == 1);
    assert_true(metrics_value(m, &c_def, (const char *[]){"a", "bc"}) == 2);
    assert_true(metrics_value(m, &c_def, (const char *[]){"abc", NULL}) == 0);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_many_series),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
