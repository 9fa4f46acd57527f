/*
 * bench_pipeline.c - `newsroom bench pipeline`: the whole swarm end to end on a private
 * redis-server with the offline sim provider.
 *
 * Throughput: N wire stories through every role with --auto-approve and the sim at zero
 * latency, from the wire until every story is terminal: stories per second, and the Redis
 * commands per story: those the agents sent (round trips, counted by rlink; idle polling
 * included, the bench's own taken out) against the aim of 40, and those the server ran for
 * them (INFO commandstats, which counts every command a Lua script runs too).
 *
 * Latency: the sim at its configured per-tier latencies ([providers] sim_latency_*_ms), a
 * swarm without scout or approver, and stories written one at a time (each waits until the
 * previous one is review-ready, so no story queues behind another): for each story the time
 * from its write to REVIEWING (server clock) against the sum of the model latencies on its
 * critical path, from the usage records of its calls (the debaters' votes run side by side,
 * so only the slowest vote counts). The difference is what the infrastructure adds; its share
 * of the end-to-end time is set against the aim of 2%. Medians.
 */
#include "bench.h"

#include "agents/agent.h"
#include "agents/wire.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "llm/chain.h"
#include "store/blackboard.h"
#include "store/rlink.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIPELINE_ROLES                                                                             \
    "scout:1,analyst:2,debater:3,moderator:1,writer:2,qa:1,producer:1,publisher:1,"                \
    "archivist:1,approver:1"
#define LATENCY_ROLES "analyst:1,debater:3,moderator:1,writer:1,qa:1,producer:1"
#define CMDS_AIM      40.0
#define INFRA_AIM     0.02

int bench_pipeline(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"n", required_argument, NULL, 'n'},
        {"latency-n", required_argument, NULL, 'l'},
        {"chain", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bench_env env;
    struct bench_run run = {0};
    struct bench_figure figs[8];
    double e2e[64], crit[64], infra[64], share[64];
    long n = 500, ln = 8;
    const char *chain = NULL;
    int nfig = 0, c, got, skipped, code = EXIT_DONE;
    bool json = false;
    char *cause = NULL;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'n':
            if (bench_parse_long("pipeline", "--n", optarg, 10, 100000, &n) == -1)
                return EXIT_USAGE;
            break;
        case 'l':
            if (bench_parse_long("pipeline", "--latency-n", optarg, 0, 64, &ln) == -1)
                return EXIT_USAGE;
            break;
        case 'c': {
            char *why = NULL;

            if (llm_chain_spec_check(optarg, &why) == -1) {
                cli_error("bench pipeline: --chain: %s", why);
                free(why);
                return EXIT_USAGE;
            }
            chain = optarg;
            break;
        }
        case 'h':
            printf("usage: newsroom bench pipeline [--json] [--n STORIES] [--latency-n "
                   "STORIES] [--chain SPEC]\n  --chain: every tier's calls through this "
                   "fallback chain, e.g. \"sim\" (each member behind its circuit breaker)\n");
            return EXIT_DONE;
        default:
            cli_error("bench pipeline: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (bench_env_start(&env, "pipeline", &cause) == -1) {
        cli_error("bench pipeline: %s", cause);
        free(cause);
        return EXIT_UNREACHABLE;
    }
    for (int t = 0; chain != NULL && t < LLM_TIER_COUNT; t++) {
        free(env.cfg->fallback_chain[t]);
        env.cfg->fallback_chain[t] = xstrdup(chain);
    }
    run.roles = PIPELINE_ROLES;
    run.n = n;
    run.seed = 2026;
    run.timeout_s = 600;
    if (bench_swarm_run(&env, &run, &cause) == -1) {
        cli_error("bench pipeline: %s", cause);
        free(cause);
        bench_env_stop(&env);
        return EXIT_UNREACHABLE;
    }
    snprintf(figs[nfig].name, sizeof figs[nfig].name, "stories end to end (zero latency)");
    figs[nfig].value = (double)n / run.seconds;
    figs[nfig].unit = "stories/s";
    figs[nfig++].peer = NULL;
    snprintf(figs[nfig].name, sizeof figs[nfig].name, "published");
    figs[nfig].value = (double)run.counts[BB_PUBLISHED_S];
    figs[nfig].unit = "stories";
    figs[nfig++].peer = NULL;
    snprintf(figs[nfig].name, sizeof figs[nfig].name, "Redis commands sent per story");
    figs[nfig].value = (double)run.sent / (double)n;
    figs[nfig].unit = "commands";
    figs[nfig].peer = "aim (at most)";
    figs[nfig].peer_value = CMDS_AIM;
    figs[nfig].ratio = CMDS_AIM / figs[nfig].value;
    nfig++;
    snprintf(figs[nfig].name, sizeof figs[nfig].name, "commands run by the server per story");
    figs[nfig].value = (double)run.commands / (double)n;
    figs[nfig].unit = "commands";
    figs[nfig++].peer = NULL;

    if (ln > 0) {
        env.cfg->sim_latency_fast_ms = 200;
        env.cfg->sim_latency_balanced_ms = 600;
        env.cfg->sim_latency_premium_ms = 1200;
        got = bench_latency_run(&env, LATENCY_ROLES, (int)ln, e2e, crit, &skipped, &cause);
        if (got <= 0) {
            cli_error("bench pipeline: latency: %s",
                      cause != NULL ? cause : "no story became review-ready");
            free(cause);
            code = EXIT_UNREACHABLE;
            goto out;
        }
        for (int i = 0; i < got; i++) {
            infra[i] = e2e[i] - crit[i];
            share[i] = e2e[i] > 0 ? infra[i] / e2e[i] : 0;
        }
        snprintf(figs[nfig].name, sizeof figs[nfig].name, "ingest to review-ready (median)");
        figs[nfig].value = bench_median(e2e, got);
        figs[nfig].unit = "ms";
        figs[nfig].peer = "model latency on its path";
        figs[nfig].peer_value = bench_median(crit, got);
        figs[nfig].ratio = figs[nfig].peer_value / figs[nfig].value;
        nfig++;
        snprintf(figs[nfig].name, sizeof figs[nfig].name, "infrastructure share (median)");
        figs[nfig].value = bench_median(share, got) * 100;
        figs[nfig].unit = "%";
        figs[nfig].peer = "aim (at most)";
        figs[nfig].peer_value = INFRA_AIM * 100;
        figs[nfig].ratio = figs[nfig].value > 0 ? INFRA_AIM * 100 / figs[nfig].value : 0;
        nfig++;
        snprintf(figs[nfig].name, sizeof figs[nfig].name, "infrastructure per story (median)");
        figs[nfig].value = bench_median(infra, got);
        figs[nfig].unit = "ms";
        figs[nfig++].peer = NULL;
    }
    if (!json && chain != NULL)
        printf("every tier through the fallback chain \"%s\" (circuit breakers on)\n", chain);
    if (!json)
        printf("%ld wire stories, roles %s, sim provider at zero latency, --auto-approve; "
               "%.1f s; %ld published, %ld archived, %ld failed\n"
               "latency: %ld stories one at a time at sim latencies FAST %d / BALANCED %d / "
               "PREMIUM %d ms (roles %s)\n",
               n, PIPELINE_ROLES, run.seconds, run.counts[BB_PUBLISHED_S], run.counts[BB_ARCHIVED],
               run.counts[BB_FAILED], ln, env.cfg->sim_latency_fast_ms,
               env.cfg->sim_latency_balanced_ms, env.cfg->sim_latency_premium_ms, LATENCY_ROLES);
    bench_report("pipeline", figs, nfig, json);
out:
    bench_env_stop(&env);
    return code;
}
