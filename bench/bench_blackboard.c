/*
 * bench_blackboard.c - `newsroom bench blackboard`: how fast stories move through the
 * blackboard. It starts a private redis-server in a temporary folder (the embedded module,
 * so the numbers never touch a real swarm's data), writes N items, then walks each through
 * five transitions (PENDING -> PROCESSING -> DEBATING -> CONSENSUS_REACHED -> PRODUCING ->
 * REVIEWING) from 1 and from 4 client threads. Figures: writes/s, transitions/s, and the Redis
 * commands each transition runs (INFO commandstats; all inside one EVALSHA, so one round trip).
 * The limit each rate is set against, measured in the same run on the same links: PING round
 * trips per second, the ceiling for anything that needs one round trip.
 */
#include "bench.h"

#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"
#include "store/blackboard.h"
#include "store/embedded.h"
#include "store/rlink.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WALK 5

static const enum bb_status walk[WALK] = {BB_PROCESSING, BB_DEBATING, BB_CONSENSUS_REACHED,
                                          BB_PRODUCING, BB_REVIEWING};

struct worker {
    pthread_t th;
    const struct redis_addr *addr;
    const struct rlink_options *opt;
    int first, count; /* items [first, first + count) */
    const char *mode; /* "write", "walk" or "ping" */
    int failures;
    char *error;
};

static void item_id(int i, char *buf, size_t size)
{
    snprintf(buf, size, "bench-%07d", i);
}

static void *work(void *p)
{
    struct worker *w = p;
    struct rlink *l = rlink_new(w->addr, w->opt);
    struct bb *b = bb_new(l, "bench");
    char id[32], *cause = NULL;

    for (int i = w->first; i < w->first + w->count && w->error == NULL; i++) {
        item_id(i, id, sizeof id);
        if (strcmp(w->mode, "write") == 0) {
            char title[64], body[96];
            json_t *j;
            struct news_item *it;
            char existing[NEWS_ID_MAX + 1];

            snprintf(title, sizeof title, "Bench story %d", i);
            snprintf(body, sizeof body, "The body of bench story number %d.", i);
            j = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "title", title, "content", body,
                          "source", "bench");
            it = news_item_from_json(j, &cause);
            json_decref(j);
            if (it == NULL || bb_write(b, it, NULL, BB_PENDING, true, existing, &cause) != BB_OK)
                w->error = cause;
            news_item_free(it);
        } else if (strcmp(w->mode, "walk") == 0) {
            for (int k = 0; k < WALK && w->error == NULL; k++)
                if (bb_transition(b, id, walk[k], NULL, NULL, &cause) != BB_OK)
                    w->error = cause;
        } else {
            int64_t us;

            for (int k = 0; k < WALK && w->error == NULL; k++)
                if (rlink_ping(l, &us, &cause) == -1)
                    w->error = cause;
        }
    }
    bb_free(b);
    rlink_free(l);
    return NULL;
}

/* Runs mode over n items on `threads` threads; returns seconds, or -1 after printing why. */
static double timed(const char *mode, int n, int threads, const struct redis_addr *addr,
                    const struct rlink_options *opt)
{
    struct worker w[4];
    int64_t t0 = clock_mono_us();
    int bad = 0;

    for (int i = 0; i < threads; i++) {
        w[i] = (struct worker){.addr = addr, .opt = opt, .mode = mode};
        w[i].first = i * (n / threads);
        w[i].count = i == threads - 1 ? n - w[i].first : n / threads;
        pthread_create(&w[i].th, NULL, work, &w[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(w[i].th, NULL);
        if (w[i].error != NULL) {
            cli_error("bench blackboard: %s: %s", mode, w[i].error);
            free(w[i].error);
            bad = 1;
        }
    }
    return bad ? -1 : (double)(clock_mono_us() - t0) / 1e6;
}

int bench_blackboard(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"n", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const int thread_counts[] = {1, 4};
    struct config *cfg = config_new();
    struct embedded *emb = NULL;
    struct redis_addr addr;
    struct rlink_options opt;
    struct rlink *l = NULL;
    struct bench_figure figs[6];
    int nfig = 0, c, code = EXIT_DONE;
    long n = 2000;
    bool json = false, config_error;
    char dir[] = "/tmp/newsroom-bench-XXXXXX", *cause = NULL;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'n':
            if (bench_parse_long("blackboard", "--n", optarg, 100, 1000000, &n) == -1) {
                config_free(cfg);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            printf("usage: newsroom bench blackboard [--json] [--n ITEMS]\n");
            config_free(cfg);
            return EXIT_DONE;
        default:
            cli_error("bench blackboard: unknown option %s", argv[optind - 1]);
            config_free(cfg);
            return EXIT_USAGE;
        }
    }
    if (mkdtemp(dir) == NULL) {
        cli_error("bench blackboard: cannot make a temporary folder");
        config_free(cfg);
        return EXIT_UNREACHABLE;
    }
    emb = embedded_start(cfg, dir, &addr, &config_error, &cause);
    if (emb == NULL) {
        cli_error("bench blackboard: %s", cause);
        free(cause);
        code = config_error ? EXIT_USAGE : EXIT_UNREACHABLE;
        goto out;
    }
    rlink_options_from_config(&opt, cfg);
    l = rlink_new(&addr, &opt);

    for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) {
        int threads = thread_counts[t];
        long long before, after;
        double w_s, t_s, p_s;
        redisReply *r = rlink_command(l, &cause, "FLUSHALL");

        if (r == NULL) {
            cli_error("bench blackboard: %s", cause);
            code = EXIT_UNREACHABLE;
            goto out;
        }
        freeReplyObject(r);
        if ((w_s = timed("write", (int)n, threads, &addr, &opt)) < 0 ||
            (before = bench_command_calls(l)) < 0 ||
            (t_s = timed("walk", (int)n, threads, &addr, &opt)) < 0 ||
            (after = bench_command_calls(l)) < 0 ||
            (p_s = timed("ping", (int)n, threads, &addr, &opt)) < 0) {
            code = EXIT_UNREACHABLE;
            goto out;
        }
        snprintf(figs[nfig].name, sizeof figs[nfig].name, "writes, %d thread%s", threads,
                 threads > 1 ? "s" : "");
        figs[nfig].value = (double)n / w_s;
        figs[nfig].unit = "items/s";
        figs[nfig].peer = "PING round trips";
        figs[nfig].peer_value = (double)n * WALK / p_s;
        figs[nfig].ratio = figs[nfig].value / figs[nfig].peer_value;
        nfig++;
        snprintf(figs[nfig].name, sizeof figs[nfig].name, "transitions, %d thread%s", threads,
                 threads > 1 ? "s" : "");
        figs[nfig].value = (double)n * WALK / t_s;
        figs[nfig].unit = "transitions/s";
        figs[nfig].peer = "PING round trips";
        figs[nfig].peer_value = (double)n * WALK / p_s;
        figs[nfig].ratio = figs[nfig].value / figs[nfig].peer_value;
        nfig++;
        if (t == 0) {
            snprintf(figs[nfig].name, sizeof figs[nfig].name, "commands per transition");
            figs[nfig].value = (double)(after - before) / ((double)n * WALK);
            figs[nfig].unit = "commands";
            figs[nfig].peer = NULL;
            nfig++;
        }
    }
    if (!json)
        printf("%ld items, %d transitions each, private redis-server; ratio = rate / PING "
               "round-trip rate on the same links\n",
               n, WALK);
    bench_report("blackboard", figs, nfig, json);
out:
    rlink_free(l);
    embedded_release(emb);
    paths_rmrf(dir);
    config_free(cfg);
    return code;
}
