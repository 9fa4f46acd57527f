/*
 * bench_cost.c - `newsroom bench cost`: dollars per published story. The same N wire stories
 * (one seed) go through the whole swarm twice on a private redis-server with the offline sim
 * provider at zero latency and --auto-approve: once as Newsroom runs (tiering: cheap models
 * screen, premium ones only finish; early stops by confidence: revisions, the PREMIUM final
 * of a draft already good enough, debates settled before their panel is full; the response
 * cache; batched screening), once as the baseline with every call on PREMIUM and none of
 * those savings (swarm_options.baseline). Spend is the sum of the usage records of each run;
 * the ratio of the two costs per published story is set against the aim of 0.30.
 */
#include "bench.h"

#include "cli/cli.h"
#include "core/config.h"
#include "core/fail.h"
#include "cost/money.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COST_ROLES                                                                                 \
    "scout:1,analyst:2,debater:3,moderator:1,writer:2,qa:1,producer:1,publisher:1,"                \
    "archivist:1,approver:1"
#define COST_AIM 0.30

struct cost_side {
    struct bench_run run;
    int64_t spend; /* micro-dollars */
    long calls;
    double per_story; /* dollars per published story */
};

static int cost_side(struct bench_env *e, long n, bool baseline, struct cost_side *out,
                     char **cause)
{
    memset(out, 0, sizeof *out);
    out->run.roles = COST_ROLES;
    out->run.n = n;
    out->run.seed = 2026;
    out->run.baseline = baseline;
    out->run.timeout_s = 600;
    if (bench_swarm_run(e, &out->run, cause) == -1)
        return -1;
    if ((out->spend = bench_usage_cost(e, &out->calls, cause)) < 0)
        return -1;
    if (out->run.counts[BB_PUBLISHED_S] == 0) {
        *cause = xasprintf("no story was published%s", baseline ? " in the baseline" : "");
        return -1;
    }
    out->per_story = (double)out->spend / 1e6 / (double)out->run.counts[BB_PUBLISHED_S];
    return 0;
}

int bench_cost(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"n", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bench_env env;
    struct cost_side ours, base;
    struct bench_figure figs[4];
    long n = 200;
    int nfig = 0, c, code = EXIT_DONE;
    bool json = false;
    char *cause = NULL, m1[32], m2[32];

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'n':
            if (bench_parse_long("cost", "--n", optarg, 10, 100000, &n) == -1)
                return EXIT_USAGE;
            break;
        case 'h':
            printf("usage: newsroom bench cost [--json] [--n STORIES]\n");
            return EXIT_DONE;
        default:
            cli_error("bench cost: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (bench_env_start(&env, "cost", &cause) == -1) {
        cli_error("bench cost: %s", cause);
        free(cause);
        return EXIT_UNREACHABLE;
    }
    if (cost_side(&env, n, false, &ours, &cause) == -1 ||
        cost_side(&env, n, true, &base, &cause) == -1) {
        cli_error("bench cost: %s", cause);
        free(cause);
        bench_env_stop(&env);
        return EXIT_UNREACHABLE;
    }
    snprintf(figs[nfig].name, sizeof figs[nfig].name, "cost per 1000 published stories");
    figs[nfig].value = ours.per_story * 1000;
    figs[nfig].unit = "$";
    figs[nfig].peer = "all PREMIUM, no savings";
    figs[nfig].peer_value = base.per_story * 1000;
    figs[nfig].ratio = ours.per_story / base.per_story;
    nfig++;
    snprintf(figs[nfig].name, sizeof figs[nfig].name, "model calls per story");
    figs[nfig].value = (double)ours.calls / (double)n;
    figs[nfig].unit = "calls";
    figs[nfig].peer = "all PREMIUM, no savings";
    figs[nfig].peer_value = (double)base.calls / (double)n;
    figs[nfig].ratio = figs[nfig].peer_value / figs[nfig].value;
    nfig++;
    if (!json)
        printf("%ld wire stories through %s, sim at zero latency, --auto-approve\n"
               "ours: %s spent, %ld calls, %ld published; baseline: %s spent, %ld calls, %ld "
               "published\ncost ratio %.3f (aim: at most %.2f; the ratio column below is "
               "ours / baseline for cost, baseline / ours for calls)\n",
               n, COST_ROLES, money_format(ours.spend, m1, sizeof m1), ours.calls,
               ours.run.counts[BB_PUBLISHED_S], money_format(base.spend, m2, sizeof m2), base.calls,
               base.run.counts[BB_PUBLISHED_S], ours.per_story / base.per_story, COST_AIM);
    bench_report("cost", figs, nfig, json);
    bench_env_stop(&env);
    return code;
}
