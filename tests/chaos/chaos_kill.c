/*
 * chaos_kill.c - chaos test 1: 300 stories through three `newsroom swarm --once
 * --auto-approve` processes (every role) on a private redis-server with AOF and the sim
 * provider, while the test SIGKILLs a random one every 5 s and restarts it at once, for 2
 * minutes; then the run finishes on its own. Fails on any story lost, published twice or paid
 * call repeated; prints the figures (chaos.h), among them the seconds from a kill to each
 * story it held running again.
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

#define STORIES  300
#define SWARMS   3
#define KILL_S   120
#define EVERY_MS 5000
#define FINISH_S 300

/* Model latencies that keep the 300 stories going through the two minutes of kills. */
static const char conf[] = "[cost]\n"
                           "global_daily_budget = 0\n"
                           "[providers]\n"
                           "sim_latency_fast_ms = 200\n"
                           "sim_latency_balanced_ms = 600\n"
                           "sim_latency_premium_ms = 1200\n"
                           "[video]\n"
                           "ffmpeg = none\n";

static void test_kill_swarms(void **state)
{
    const char *const args[] = {"swarm", "--once", "--auto-approve", NULL};
    char *cause = NULL;
    struct chaos *c = chaos_new(test_env("NEWSROOM_BINARY"), conf, &cause);
    struct chaos_figures f;
    long in;
    int64_t end, next;
    unsigned seed = 11;

    (void)state;
    if (c == NULL)
        fail_msg("chaos: %s", cause);
    if ((in = chaos_begin(c, STORIES, 1101, SWARMS, args, &cause)) < 0)
        fail_msg("%s", cause);
    end = clock_mono_ms() + KILL_S * 1000LL;
    next = clock_mono_ms() + EVERY_MS;
    while (clock_mono_ms() < end && chaos_busy(c) != 0) {
        int victim = (int)(rand_r(&seed) % SWARMS);

        clock_sleep_ms(next - clock_mono_ms(), NULL); /* the test's own schedule of kills */
        next += EVERY_MS;
        if (chaos_running(c, victim, NULL)) {
            chaos_signal(c, victim, SIGKILL);
            if (chaos_restart(c, victim, &cause) == -1)
                fail_msg("restart: %s", cause);
        }
    }
    /* The kills stop; every process ends by itself once nothing is left to do. */
    if (chaos_wait_all(c, FINISH_S, &cause) == -1) {
        chaos_free(c, true);
        fail_msg("%s", cause);
    }
    if (chaos_figures(c, in, &f, &cause) == -1)
        fail_msg("figures: %s", cause);
    chaos_print(stdout, "kill", &f);
    if (f.lost != 0 || f.published_twice != 0 || f.repeated != 0 || f.never_resumed != 0 ||
        f.archived_quorum != 0) {
        chaos_free(c, true);
        fail_msg("stories lost %ld, published twice %ld, paid calls repeated %ld, never resumed "
                 "%ld, archived for a quorum not reached %ld",
                 f.lost, f.published_twice, f.repeated, f.never_resumed, f.archived_quorum);
    }
    assert_true(f.kills >= KILL_S * 1000 / EVERY_MS / 2);
    assert_int_equal(f.published + f.archived + f.failed, in);
    chaos_free(c, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill_swarms)};

    return cmocka_run_group_tests(tests, NULL, NULL);
}
