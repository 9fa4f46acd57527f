/*
 * test_usage_journal.c - usage is never lost: a swarm on the sim provider runs stories while
 * its private redis-server (AOF, fsync on every write) is killed with SIGKILL and started again
 * twice; paid calls whose usage record could not reach Redis go to the journal in the data
 * directory and are replayed once the link is back. At the end the usage stream holds exactly
 * one record per paid call the sim made (llm_sim_calls(), counted inside the sim provider):
 * none lost, none counted twice (every record's unique id appears once).
 *
 * Waits are conditions with deadlines (AWAIT): Redis is killed while a paid call is under way,
 * and the outage lasts until that call's record has been journaled (tried again when the call
 * ended just before the kill).
 */
#include "agents/agent.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "cost/budget.h"
#include "cost/journal.h"
#include "cost/pricing.h"
#include "store/blackboard.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#define STORIES 40

static const char *const aof[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};

static const struct rlink_options lopts = {
    .connect_timeout_ms = 1000,
    .command_timeout_ms = 2000,
    .reconnect_base_ms = 20,
    .reconnect_max_ms = 300,
};

/* Bytes of journal files in dir (0 when there is none). */
static long long journal_bytes(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    long long total = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[600];
        struct stat sb;

        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (strncmp(e->d_name, "usage-", 6) == 0 && stat(path, &sb) == 0)
            total += sb.st_size;
    }
    closedir(d);
    return total;
}

/* Paid (not cached) usage records in the stream, and whether any unique id came twice. */
static long paid_records(struct rlink *l, bool *dup)
{
    redisReply *r = test_must(l, "XRANGE %s - +", "nr:cost:usage");
    char **seen = xcalloc(r->elements + 1, sizeof *seen);
    long paid = 0;
    size_t n = 0;

    *dup = false;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *h = r->element[i]->element[1];
        const char *uid = rlink_reply_field(h, "uid");

        if (strcmp(rlink_reply_field(h, "cached"), "1") != 0)
            paid++;
        for (size_t k = 0; k < n; k++)
            if (strcmp(seen[k], uid) == 0)
                *dup = true;
        seen[n++] = xstrdup(uid);
    }
    for (size_t k = 0; k < n; k++)
        free(seen[k]);
    free(seen);
    freeReplyObject(r);
    return paid;
}

static long long usage_len(struct rlink *l)
{
    char *cause = NULL;
    redisReply *r = rlink_command(l, &cause, "XLEN nr:cost:usage");
    long long n = r != NULL ? r->integer : -1;

    free(cause);
    freeReplyObject(r);
    return n;
}

/* Whether a paid call is under way: the sim has counted more calls since calls0 than the
 * stream holds paid records (false while the stream cannot be read). */
static bool call_under_way(struct rlink *l, long long calls0)
{
    bool dup;

    /* usage_len() first: paid_records() fails the test on a link that is down. */
    return usage_len(l) >= 0 && llm_sim_calls() - calls0 > paid_records(l, &dup);
}

/* SIGKILL while a paid call is under way, then the same server started again on its files once
 * that call has found it gone and kept its record in the journal. The call may end between the
 * look and the kill, or what looked under way was a record the journal still held from the last
 * outage: then nothing reaches the journal, the server comes back, and the outage is tried
 * again (a paid call needs Redis to start: only one under way at the kill can be journaled). */
static void kill_and_restart(struct test_redis *srv, struct rlink *l, long long calls0,
                             const char *jdir, long long *bytes)
{
    char dir[80];

    snprintf(dir, sizeof dir, "%s", srv->dir);
    for (int tries = 0;; tries++) {
        int64_t until;
        bool kept;

        if (tries == 20)
            fail_msg("no paid call found Redis gone in 20 outages");
        AWAIT(60, call_under_way(l, calls0));
        kill(srv->pid, SIGKILL);
        waitpid(srv->pid, NULL, 0);
        srv->pid = 0;
        until = clock_mono_ms() + 5000;
        while (journal_bytes(jdir) <= *bytes && clock_mono_ms() < until)
            clock_sleep_ms(10, NULL);
        kept = journal_bytes(jdir) > *bytes;
        if (kept)
            *bytes = journal_bytes(jdir);
        if (test_redis_start(srv, dir, aof) == -1)
            fail_msg("redis-server did not start again");
        if (kept)
            return;
    }
}

static void test_restarts(void **state)
{
    struct config *cfg;
    struct pricing *pricing;
    struct swarm_options o;
    struct swarm *s;
    struct rlink *l;
    struct bb *b;
    char *data = test_tmpdir(), *jdir = xasprintf("%s/journal", data), *cause = NULL;
    long long calls0 = llm_sim_calls(), calls, bytes = 0;
    struct budget_options bo;
    long paid;
    bool dup;
    int late = 0;

    (void)state;
    swarmenv_models(false, &cfg, &pricing);
    cfg->sim_latency_fast_ms = 20;
    cfg->sim_latency_balanced_ms = 40;
    cfg->sim_latency_premium_ms = 60;
    free(cfg->data_dir);
    cfg->data_dir = xstrdup(data);
    free(cfg->video_ffmpeg);
    cfg->video_ffmpeg = xstrdup("none");
    memset(&o, 0, sizeof o);
    o.addr = *test_private_addr();
    o.link = lopts;
    o.cfg = cfg;
    o.pricing = pricing;
    o.roles = "scout:1,analyst:2,debater:3,moderator:1,writer:2,qa:1,producer:1,publisher:1,"
              "archivist:1,approver:1";
    o.auto_approve = true;
    o.wire = true;
    o.wire_seed = 11;
    o.wire_limit = STORIES;
    o.heartbeat_ttl_ms = 5000;
    o.max_attempts = 50; /* the outages are not the stories' fault */
    l = rlink_new(test_private_addr(), &lopts);
    b = bb_new(l, "test");
    s = swarmenv_start(&o);
    /* Twice: once a few calls are recorded, Redis dies and comes back. */
    AWAIT(60, usage_len(l) >= 20);
    kill_and_restart(test_private(), l, calls0, jdir, &bytes);
    AWAIT(60, usage_len(l) >= 60);
    kill_and_restart(test_private(), l, calls0, jdir, &bytes);
    AWAIT(240, swarm_settled(s) && swarmenv_open(b) == 0);
    swarm_stop(s);
    swarm_free(s);
    calls = llm_sim_calls() - calls0;
    /* Anything still journaled (the last commits came before the replay): replayed now. */
    budget_options_from_config(&bo, cfg);
    assert_int_equal(journal_open(jdir, &cause), 0);
    assert_int_equal(journal_replay(l, &bo, &late, &cause), 0);
    journal_close();
    paid = paid_records(l, &dup);
    print_message("%lld sim calls; %ld paid usage records; journal held %lld bytes over two "
                  "outages; %d replayed after the run\n",
                  calls, paid, bytes, late);
    assert_true(bytes > 0);
    assert_false(dup);
    assert_int_equal(paid, calls);
    bb_free(b);
    rlink_free(l);
    config_free(cfg);
    pricing_free(pricing);
    test_rmrf(data);
    free(data);
    free(jdir);
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN); /* a killed server shows as an I/O error, as in the binary */
    return test_private_start(aof);
}

static int group_teardown(void **state)
{
    (void)state;
    test_private_stop();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restarts),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
