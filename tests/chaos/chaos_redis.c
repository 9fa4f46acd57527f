/*
 * chaos_redis.c - chaos test 2: 150 stories through three `newsroom swarm --once
 * --auto-approve` processes while their redis-server (AOF, appendfsync always) is SIGKILLed
 * and started again twice, and stopped with SIGSTOP for 20 s once. Every link reconnects, no
 * live agent is taken for dead after an outage every agent lived through, every result whose
 * write met a dead server is written again once it is back. Fails on any story lost, published
 * twice or paid call repeated; prints the figures (chaos.h).
 */
#include "chaos.h"
#include "core/clock.h"
#include "testenv.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define STORIES  150
#define SWARMS   3
#define FINISH_S 300

static const char conf[] = "[cost]\n"
                           "global_daily_budget = 0\n"
                           "[providers]\n"
                           "sim_latency_fast_ms = 100\n"
                           "sim_latency_balanced_ms = 300\n"
                           "sim_latency_premium_ms = 600\n"
                           "[video]\n"
                           "ffmpeg = none\n";

/* Sleeps until `at` ms after t0: the outages' schedule is what the test is about. */
static void until(int64_t t0, int64_t at)
{
    int64_t left = t0 + at - clock_mono_ms();

    if (left > 0)
        clock_sleep_ms(left, NULL);
}

static void restart_redis(struct chaos *c)
{
    char *cause = NULL;

    if (chaos_redis_start(c, &cause) == -1)
        fail_msg("%s", cause);
}

static void test_redis_outages(void **state)
{
    const char *const args[] = {"swarm", "--once", "--auto-approve", NULL};
    char *cause = NULL;
    struct chaos *c = chaos_new(test_env("NEWSROOM_BINARY"), conf, &cause);
    struct chaos_figures f;
    int64_t t0;
    long in;

    (void)state;
    if (c == NULL)
        fail_msg("chaos: %s", cause);
    if ((in = chaos_begin(c, STORIES, 2202, SWARMS, args, &cause)) < 0)
        fail_msg("%s", cause);
    t0 = clock_mono_ms();
    until(t0, 10000);
    assert_int_equal(chaos_redis_signal(c, SIGKILL), 0);
    until(t0, 11000);
    restart_redis(c);
    until(t0, 30000);
    assert_int_equal(chaos_redis_signal(c, SIGKILL), 0);
    until(t0, 32000);
    restart_redis(c);
    until(t0, 50000);
    assert_int_equal(chaos_redis_signal(c, SIGSTOP), 0);
    until(t0, 70000);
    assert_int_equal(chaos_redis_signal(c, SIGCONT), 0);
    if (chaos_wait_all(c, FINISH_S, &cause) == -1) {
        chaos_free(c, true);
        fail_msg("%s", cause);
    }
    if (chaos_figures(c, in, &f, &cause) == -1)
        fail_msg("figures: %s", cause);
    chaos_print(stdout, "redis", &f);
    if (f.lost != 0 || f.published_twice != 0 || f.repeated != 0 || f.archived_quorum != 0) {
        chaos_free(c, true);
        fail_msg("stories lost %ld, published twice %ld, paid calls repeated %ld, archived for a "
                 "quorum not reached %ld",
                 f.lost, f.published_twice, f.repeated, f.archived_quorum);
    }
    assert_int_equal(f.published + f.archived + f.failed, in);
    chaos_free(c, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_redis_outages)};

    return cmocka_run_group_tests(tests, NULL, NULL);
}
