/*
 * chaos_budget.c - chaos test 4: a global daily budget that runs out mid-run, then a grant.
 * 60 stories through two `newsroom swarm --once --auto-approve` processes with
 * [cost] global_daily_budget = 2 dollars, about half of what they need: every call the budget
 * refuses parks its story in its step (a debate pauses its clock while its debaters are
 * deferred), and nothing is archived or failed for it; for ten seconds of starvation the spend
 * never passes the limit. Then an operator grants more (`ctl budget grant`, audited): the
 * stories parked for that request go on at once and every story ends. Fails on any story lost,
 * published twice, paid call repeated, archived or failed for the budget, or spend above the
 * limit; prints the figures (chaos.h).
 */
#include "chaos.h"
#include "core/clock.h"
#include "core/fail.h"
#include "store/blackboard.h"
#include "store/rlink.h"
#include "testenv.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define STORIES  60
#define SWARMS   2
#define LIMIT    2000000 /* micro-dollars: [cost] global_daily_budget = 2 */
#define FINISH_S 240

static const char conf[] = "[providers]\n"
                           "sim_latency_fast_ms = 20\n"
                           "sim_latency_balanced_ms = 50\n"
                           "sim_latency_premium_ms = 100\n"
                           "[video]\n"
                           "ffmpeg = none\n"
                           "[cost]\n"
                           "global_daily_budget = 2\n";

/* The open budget request's id into id, or "" when none is open. */
static void open_request(struct chaos *c, char *id, size_t size)
{
    char *cause = NULL;
    redisReply *r = rlink_command(chaos_link(c), &cause, "HVALS nr:cost:req:open");

    id[0] = '\0';
    if (r == NULL) {
        free(cause);
        return;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0)
        snprintf(id, size, "%s", r->element[0]->str);
    freeReplyObject(r);
}

struct outcome {
    long parked;  /* stories parked at least once */
    long wrongly; /* archived or failed for anything but a decision of the swarm */
};

/* A decision of the swarm: not newsworthy, no consensus on the votes (not for a quorum the
 * budget kept away), QA's last verdict. */
static void judge(const struct bb_item *it, void *arg)
{
    struct outcome *o = arg;
    bool decided = strncmp(it->archive_reason, "not newsworthy", 14) == 0 ||
                   (strncmp(it->archive_reason, "no consensus: ", 14) == 0 &&
                    strstr(it->archive_reason, "quorum") == NULL);

    o->parked += it->parks > 0;
    if ((it->status == BB_ARCHIVED && !decided) ||
        (it->status == BB_FAILED && strcmp(it->failed_step, "qa") != 0)) {
        fprintf(stderr, "%s %s: %s%s\n", bb_statuses[it->status].name, it->id, it->archive_reason,
                it->fail_reason);
        o->wrongly++;
    }
}

static struct outcome outcomes(struct chaos *c)
{
    struct outcome o = {0, 0};
    char *cause = NULL;

    if (chaos_each_story(c, judge, &o, &cause) == -1)
        fail_msg("stories: %s", cause);
    return o;
}

static void test_budget_runs_out(void **state)
{
    const char *const args[] = {"swarm", "--once", "--auto-approve", NULL};
    char *cause = NULL, req[32] = "";
    struct chaos *c = chaos_new(test_env("NEWSROOM_BINARY"), conf, &cause);
    struct chaos_figures f;
    int64_t spent = 0, granted = 0, end, max_spent = 0;
    struct outcome o;
    long in;

    (void)state;
    if (c == NULL)
        fail_msg("chaos: %s", cause);
    if ((in = chaos_begin(c, STORIES, 4404, SWARMS, args, &cause)) < 0)
        fail_msg("%s", cause);
    /* The budget runs out: a request opens for an operator. */
    end = clock_mono_ms() + 120000;
    while (open_request(c, req, sizeof req), req[0] == '\0') {
        if (clock_mono_ms() > end)
            fail_msg("the budget did not run out within 120 s");
        if (chaos_busy(c) == 0)
            fail_msg("every story ended before the budget ran out: raise the stories");
        clock_sleep_ms(50, NULL);
    }
    /* Starved: stories wait in their steps; the spend never passes the limit. Absence can
     * only be observed, over a span: ten seconds of it. */
    end = clock_mono_ms() + 10000;
    while (clock_mono_ms() < end) {
        if (chaos_spend(c, &spent, &granted) == 0 && spent > max_spent)
            max_spent = spent;
        clock_sleep_ms(100, NULL);
    }
    assert_true(max_spent <= LIMIT);
    assert_true(chaos_busy(c) > 0);
    o = outcomes(c);
    assert_int_equal(o.wrongly, 0);
    assert_true(o.parked > 0);
    printf("chaos budget: limit $%.2f, spent $%.6f when it ran out; %ld stories parked; request %s "
           "granted\n",
           LIMIT / 1e6, max_spent / 1e6, o.parked, req);
    /* An operator grants enough for the rest. */
    if (chaos_run(c, "grant", 60,
                  (const char *[]){"ctl", "budget", "grant", req, "--amount", "20", NULL},
                  &cause) != 0)
        fail_msg("ctl budget grant %s failed (see %s/grant.err)", req, chaos_dir(c));
    if (chaos_wait_all(c, FINISH_S, &cause) == -1) {
        chaos_free(c, true);
        fail_msg("%s", cause);
    }
    if (chaos_figures(c, in, &f, &cause) == -1)
        fail_msg("figures: %s", cause);
    chaos_print(stdout, "budget", &f);
    o = outcomes(c);
    assert_int_equal(chaos_spend(c, &spent, &granted), 0);
    printf("chaos budget: spent $%.6f of $%.2f + $%.2f granted\n", spent / 1e6, LIMIT / 1e6,
           granted / 1e6);
    if (f.lost != 0 || f.published_twice != 0 || f.repeated != 0 || o.wrongly != 0 ||
        spent > LIMIT + granted) {
        chaos_free(c, true);
        fail_msg("stories lost %ld, published twice %ld, paid calls repeated %ld, archived or "
                 "failed for the budget %ld, spend %lld over %lld",
                 f.lost, f.published_twice, f.repeated, o.wrongly, (long long)spent,
                 (long long)(LIMIT + granted));
    }
    assert_int_equal(f.published + f.archived + f.failed, in);
    chaos_free(c, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_budget_runs_out)};

    return cmocka_run_group_tests(tests, NULL, NULL);
}
