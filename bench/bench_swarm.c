/*
 * bench_swarm.c - what `bench pipeline` and `bench cost` share: a private redis-server in a
 * temporary folder (the embedded module, so the figures never touch a real swarm's data), and
 * one whole swarm run over a fixed number of wire stories with --auto-approve, from an empty
 * database until every story is terminal. See bench.h.
 */
#include "bench.h"

#include "agents/agent.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"
#include "cost/pricing.h"
#include "agents/wire.h"
#include "store/blackboard.h"
#include "store/embedded.h"
#include "store/rlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bench_env_start(struct bench_env *e, const char *bench, char **cause)
{
    bool config_error;

    memset(e, 0, sizeof *e);
    e->bench = bench;
    snprintf(e->dir, sizeof e->dir, "/tmp/newsroom-bench-XXXXXX");
    e->cfg = config_new();
    /* Offline, zero latency unless the bench sets it; no daily limit (the shipped 10.00 is a
     * few hundred sim stories). */
    e->cfg->sim_latency_fast_ms = e->cfg->sim_latency_balanced_ms = e->cfg->sim_latency_premium_ms =
        0;
    e->cfg->global_daily_budget = 0;
    /* The swarm benches measure coordination, not ffmpeg: producers write storyboards
     * (`newsroom bench render` measures rendering). */
    free(e->cfg->video_ffmpeg);
    e->cfg->video_ffmpeg = xstrdup("none");
    if (mkdtemp(e->dir) == NULL) {
        *cause = xasprintf("cannot make a temporary folder");
        e->dir[0] = '\0';
        bench_env_stop(e);
        return -1;
    }
    /* Its data (the usage journal) in the bench's folder, not the user's data directory. */
    free(e->cfg->data_dir);
    e->cfg->data_dir = xstrdup(e->dir);
    e->pricing = pricing_open(e->cfg->pricing_file, cause);
    if (e->pricing == NULL) {
        bench_env_stop(e);
        return -1;
    }
    e->emb = embedded_start(e->cfg, e->dir, &e->addr, &config_error, cause);
    if (e->emb == NULL) {
        bench_env_stop(e);
        return -1;
    }
    rlink_options_from_config(&e->opt, e->cfg);
    e->link = rlink_new(&e->addr, &e->opt);
    return 0;
}

void bench_env_stop(struct bench_env *e)
{
    rlink_free(e->link);
    embedded_release(e->emb);
    if (e->dir[0] != '\0')
        paths_rmrf(e->dir);
    pricing_free(e->pricing);
    config_free(e->cfg);
    memset(e, 0, sizeof *e);
}

int bench_flush(struct bench_env *e, char **cause)
{
    redisReply *r = rlink_command(e->link, cause, "FLUSHALL");

    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

/* Stories not yet terminal (PUBLISHED, ARCHIVED, or FAILED: the dead set keeps those), or -1
 * (*cause). */
static long busy_stories(struct bb *b, long counts[BB_STATUS_COUNT], char **cause)
{
    long c[BB_SECTION_COUNT][BB_STATUS_COUNT];
    long busy = 0;

    if (bb_counts(b, c, cause) != BB_OK)
        return -1;
    for (int st = 0; st < BB_STATUS_COUNT; st++) {
        counts[st] = 0;
        for (int sec = 0; sec < BB_SECTION_COUNT; sec++)
            counts[st] += c[sec][st];
        if (!bb_statuses[st].terminal)
            busy += counts[st];
    }
    return busy;
}

int64_t bench_usage_cost(struct bench_env *e, long *calls, char **cause)
{
    redisReply *r = rlink_command(e->link, cause, "XRANGE nr:cost:usage - +");
    int64_t sum = 0;

    if (r == NULL)
        return -1;
    *calls = 0;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *f = r->element[i]->element[1];

        for (size_t k = 0; k + 1 < f->elements; k += 2)
            if (strcmp(f->element[k]->str, "cost") == 0)
                sum += strtoll(f->element[k + 1]->str, NULL, 10);
        (*calls)++;
    }
    freeReplyObject(r);
    return sum;
}

/* A swarm of roles on the bench's server, configuration and prices; empties the database
 * first. 0, or -1 with *cause. */
static int env_swarm_options(struct bench_env *e, const char *roles, struct swarm_options *so,
                             char **cause)
{
    if (bench_flush(e, cause) == -1)
        return -1;
    memset(so, 0, sizeof *so);
    so->addr = e->addr;
    so->link = e->opt;
    so->cfg = e->cfg;
    so->pricing = e->pricing;
    so->roles = roles;
    return 0;
}

int bench_swarm_run(struct bench_env *e, struct bench_run *run, char **cause)
{
    struct swarm_options so;
    struct swarm *s;
    struct bb *b;
    long long before, after, sent;
    int64_t t0, deadline;
    long busy = -1, polls = 0;

    if (env_swarm_options(e, run->roles, &so, cause) == -1)
        return -1;
    so.wire = run->n > 0;
    so.wire_seed = run->seed;
    so.wire_rate_per_s = 0; /* as fast as the scouts take them */
    so.wire_limit = run->n;
    so.baseline = run->baseline;
    so.auto_approve = true;
    if ((s = swarm_new(&so, cause)) == NULL)
        return -1;
    before = bench_command_calls(e->link);
    sent = rlink_commands_sent();
    t0 = clock_mono_us();
    if (swarm_start(s, cause) == -1) {
        swarm_stop(s);
        swarm_free(s);
        return -1;
    }
    b = bb_new(e->link, "bench");
    deadline = clock_mono_ms() + run->timeout_s * 1000;
    for (;;) {
        if (swarm_failed(s) > 0) {
            *cause = xasprintf("%d agent(s) could not start", swarm_failed(s));
            break;
        }
        if (swarm_settled(s)) {
            polls++;
            if ((busy = busy_stories(b, run->counts, cause)) == 0)
                break;
        }
        if (busy == -1 && *cause != NULL)
            break;
        if (clock_mono_ms() > deadline) {
            *cause = xasprintf("the swarm did not finish %ld stories within %d s (%ld still "
                               "busy)",
                               run->n, run->timeout_s, busy);
            break;
        }
        clock_sleep_ms(10, NULL);
    }
    run->seconds = (double)(clock_mono_us() - t0) / 1e6;
    sent = rlink_commands_sent() - sent;
    after = bench_command_calls(e->link);
    swarm_stop(s);
    swarm_totals(s, &run->totals);
    swarm_free(s);
    bb_free(b);
    if (*cause != NULL)
        return -1;
    /* The polling above is the bench's, not the swarm's: one HGETALL each, taken out. */
    run->commands = before < 0 || after < 0 ? -1 : after - before - polls;
    /* The same for the commands the agents sent (round trips): the bench's polls and its
     * second INFO taken out. */
    run->sent = sent - polls - 1;
    return 0;
}

int bench_redis_memory(struct rlink *l, long long *used, long long *keys, char **cause)
{
    redisReply *r = rlink_command(l, cause, "INFO memory");
    const char *p;

    if (r == NULL)
        return -1;
    p = r->type == REDIS_REPLY_STRING ? strstr(r->str, "used_memory:") : NULL;
    *used = p != NULL ? strtoll(p + strlen("used_memory:"), NULL, 10) : 0;
    freeReplyObject(r);
    if ((r = rlink_command(l, cause, "DBSIZE")) == NULL)
        return -1;
    *keys = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    return 0;
}

/* The sum of the model latencies on story id's critical path (ms) from the usage stream, and
 * its calls; -1 with *cause. Debate votes run side by side in rounds: the quorum's seats first,
 * the rest of the panel after them when those votes left it open; each round counts its
 * slowest vote (records are in the order the calls ended). */
static int64_t critical_path_ms(struct rlink *l, const char *id, int quorum, int *calls,
                                char **cause)
{
    redisReply *r = rlink_command(l, cause, "XRANGE nr:cost:usage - +");
    int64_t sum = 0, round[2] = {0, 0};
    int votes = 0;

    if (r == NULL)
        return -1;
    *calls = 0;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *f = r->element[i]->element[1];
        const char *task = "", *type = "";
        int64_t ms = 0;

        for (size_t k = 0; k + 1 < f->elements; k += 2) {
            const char *name = f->element[k]->str, *v = f->element[k + 1]->str;

            if (strcmp(name, "task") == 0)
                task = v;
            else if (strcmp(name, "type") == 0)
                type = v;
            else if (strcmp(name, "ms") == 0)
                ms = strtoll(v, NULL, 10);
        }
        if (strcmp(task, id) != 0)
            continue;
        (*calls)++;
        if (strcmp(type, "debate_argument") == 0) {
            int64_t *slot = &round[votes++ < quorum ? 0 : 1];

            *slot = ms > *slot ? ms : *slot;
        } else {
            sum += ms;
        }
    }
    freeReplyObject(r);
    return sum + round[0] + round[1];
}

int bench_latency_run(struct bench_env *e, const char *roles, int want, double *e2e, double *crit,
                      int *skipped, char **cause)
{
    struct swarm_options so;
    struct swarm *s;
    struct bb *b;
    int got = 0;

    *skipped = 0;
    if (env_swarm_options(e, roles, &so, cause) == -1)
        return -1;
    if ((s = swarm_new(&so, cause)) == NULL)
        return -1;
    if (swarm_start(s, cause) == -1) {
        swarm_stop(s);
        swarm_free(s);
        return -1;
    }
    b = bb_new(e->link, "bench");
    for (long n = 0; got < want && n < want * 10 && *cause == NULL; n++) {
        enum wire_kind kind;
        json_t *j = wire_story(7, n, &kind, NULL);
        struct news_item *it = kind == WIRE_NORMAL ? news_item_from_json(j, cause) : NULL;
        struct bb_item *item = NULL;
        char existing[NEWS_ID_MAX + 1];
        int64_t deadline = clock_mono_ms() + 120000;
        int calls;

        json_decref(j);
        if (it == NULL)
            continue;
        if (bb_write(b, it, NULL, BB_PENDING, true, existing, cause) != BB_OK) {
            news_item_free(it);
            break;
        }
        /* Await review-ready (or an end elsewhere: archived, no consensus, failed). */
        for (;;) {
            if (bb_read(b, it->id, &item, cause) != BB_OK)
                break;
            if (item->status == BB_REVIEWING || bb_statuses[item->status].terminal)
                break;
            bb_item_free(item);
            item = NULL;
            if (clock_mono_ms() > deadline) {
                *cause = xasprintf("story %s was not review-ready within 120 s", it->id);
                break;
            }
            clock_sleep_ms(2, NULL);
        }
        if (item != NULL && item->status == BB_REVIEWING) {
            int64_t c = critical_path_ms(e->link, it->id, e->cfg->debate_quorum, &calls, cause);

            if (c >= 0) {
                e2e[got] = (double)(item->updated_ms - item->created_ms);
                crit[got] = (double)c;
                got++;
            }
        } else if (item != NULL) {
            (*skipped)++;
        }
        bb_item_free(item);
        news_item_free(it);
    }
    bb_free(b);
    swarm_stop(s);
    swarm_free(s);
    return *cause != NULL ? -1 : got;
}
