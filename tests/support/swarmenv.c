/*
 * swarmenv.c - the shared fixtures of the swarm tests; see swarmenv.h. Single-threaded test
 * code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "swarmenv.h"

#include "core/config.h"
#include "cost/pricing.h"
#include "store/blackboard.h"
#include "store/rlink.h"
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void swarmenv_models(bool zero_latency, struct config **cfg, struct pricing **pricing)
{
    *cfg = config_new();
    /* Swarm tests run the producer without rendering (storyboards, marked so); test_video
     * renders. */
    free((*cfg)->video_ffmpeg);
    (*cfg)->video_ffmpeg = strdup("none");
    /* No daily budget (the shipped 10.00 is a few hundred sim stories): a test of budgets sets
     * its own. */
    (*cfg)->global_daily_budget = 0;
    /* No high-water marks: many of these swarms hold only some roles (scouts and analysts, a
     * floor without a producer), so a stage nobody drains here would hold the flow for good.
     * test_flow sets the marks it tests. */
    memset((*cfg)->flow_hwm, 0, sizeof(*cfg)->flow_hwm);
    if (zero_latency) {
        (*cfg)->sim_latency_fast_ms = 0;
        (*cfg)->sim_latency_balanced_ms = 0;
        (*cfg)->sim_latency_premium_ms = 0;
    }
    *pricing = pricing_default();
}

void swarmenv_options(struct swarm_options *o, int db, const struct config *cfg,
                      const struct pricing *pricing, const char *roles, long stories, uint64_t seed)
{
    memset(o, 0, sizeof *o);
    o->addr.transport = REDIS_UNIX;
    snprintf(o->addr.path, sizeof o->addr.path, "%s", test_env("NEWSROOM_TEST_REDIS_SOCKET"));
    snprintf(o->addr.password, sizeof o->addr.password, "%s",
             test_env("NEWSROOM_TEST_REDIS_PASSWORD"));
    o->addr.db = db;
    o->addr.db_set = true;
    o->link = (struct rlink_options){.connect_timeout_ms = 2000,
                                     .command_timeout_ms = 5000,
                                     .reconnect_base_ms = 20,
                                     .reconnect_max_ms = 200};
    o->cfg = cfg;
    o->pricing = pricing;
    o->roles = roles;
    o->wire = stories > 0;
    o->wire_seed = seed;
    o->wire_limit = stories;
    o->heartbeat_ttl_ms = 5000;
}

struct swarm *swarmenv_start(const struct swarm_options *o)
{
    struct swarm *s;
    char *cause = NULL;

    s = swarm_new(o, &cause);
    if (s == NULL)
        fail_msg("swarm_new: %s", cause);
    if (swarm_start(s, &cause) == -1)
        fail_msg("swarm_start: %s", cause);
    return s;
}

long swarmenv_count(struct bb *bb, int st)
{
    long counts[BB_SECTION_COUNT][BB_STATUS_COUNT], n = 0;
    char *cause = NULL;

    if (bb_counts(bb, counts, &cause) != BB_OK)
        fail_msg("bb_counts: %s", cause);
    for (int s = 0; s < BB_SECTION_COUNT; s++)
        n += counts[s][st];
    return n;
}

long swarmenv_open(struct bb *bb)
{
    long counts[BB_SECTION_COUNT][BB_STATUS_COUNT], n = 0;
    char *cause = NULL;

    if (bb_counts(bb, counts, &cause) != BB_OK) {
        free(cause);
        return -1;
    }
    for (int s = 0; s < BB_SECTION_COUNT; s++)
        for (int st = 0; st < BB_STATUS_COUNT; st++)
            if (!bb_statuses[st].terminal)
                n += counts[s][st];
    return n;
}

int64_t swarmenv_server_ms(struct rlink *l)
{
    redisReply *r = test_must(l, "TIME%s", "");
    int64_t t =
        strtoll(r->element[0]->str, NULL, 10) * 1000 + strtoll(r->element[1]->str, NULL, 10) / 1000;

    freeReplyObject(r);
    return t;
}

struct swarmenv_fx *swarmenv_fx_new(int db, const char *name, bool zero_latency)
{
    struct swarmenv_fx *f = calloc(1, sizeof *f);

    assert_non_null(f);
    f->l = test_shared_link(db, name);
    freeReplyObject(test_must(f->l, "FLUSHDB%s", ""));
    f->bb = bb_new(f->l, "test");
    swarmenv_models(zero_latency, &f->cfg, &f->pricing);
    return f;
}

void swarmenv_fx_free(struct swarmenv_fx *f)
{
    if (f == NULL)
        return;
    pricing_free(f->pricing);
    config_free(f->cfg);
    bb_free(f->bb);
    rlink_free(f->l);
    free(f);
}
