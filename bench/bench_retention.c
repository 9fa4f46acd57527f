/*
 * bench_retention.c - `newsroom bench retention`: what retention gives back. N wire stories
 * go through the whole swarm on a private redis-server (sim at zero latency, --auto-approve)
 * until every one is terminal; then one retention pass (recovery/retention.h) with windows of
 * 1 ms deletes every terminal story. Figures: Redis memory (INFO used_memory over what the
 * empty database held) and keys per story before and after the pass, used_memory / DBSIZE
 * before and after, and how fast the pass deleted stories. The soak test of a long run reads
 * "bytes per story" from here.
 */
#include "bench.h"

#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "recovery/retention.h"
#include "store/rlink.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETENTION_ROLES                                                                            \
    "scout:1,analyst:2,debater:3,moderator:1,writer:2,qa:1,producer:1,publisher:1,"                \
    "archivist:1,approver:1"

struct mem {
    long long used, keys;
};

static int measure(struct rlink *l, struct mem *m, char **cause)
{
    return bench_redis_memory(l, &m->used, &m->keys, cause);
}

static void figure(struct bench_figure *f, const char *name, double v, const char *unit,
                   const char *peer, double peer_value, double ratio)
{
    snprintf(f->name, sizeof f->name, "%s", name);
    f->value = v;
    f->unit = unit;
    f->peer = peer;
    f->peer_value = peer_value;
    f->ratio = ratio;
}

/* What is left after the pass, by key family (the first two parts of the name): keys and
 * MEMORY USAGE bytes; printed, not figures. Returns 0, or -1 with *cause. */
static int what_stays(struct rlink *l, char **cause)
{
    struct family {
        char name[48];
        long keys;
        long long bytes;
    } fam[32];
    int nf = 0;
    char cursor[32] = "0";

    do {
        redisReply *r = rlink_command(l, cause, "SCAN %s COUNT 1000", cursor);

        if (r == NULL)
            return -1;
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *key = r->element[1]->element[i]->str, *c1 = strchr(key, ':');
            const char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
            int len = c2 != NULL ? (int)(c2 - key) : (int)strlen(key), f;
            redisReply *m = rlink_command(l, cause, "MEMORY USAGE %s", key);

            if (m == NULL) {
                freeReplyObject(r);
                return -1;
            }
            for (f = 0; f < nf; f++)
                if ((int)strlen(fam[f].name) == len && strncmp(fam[f].name, key, len) == 0)
                    break;
            if (f == nf && nf < 32) {
                snprintf(fam[nf].name, sizeof fam[nf].name, "%.*s", len, key);
                fam[nf].keys = 0;
                fam[nf].bytes = 0;
                nf++;
            }
            if (f < nf) {
                fam[f].keys++;
                fam[f].bytes += m->type == REDIS_REPLY_INTEGER ? m->integer : 0;
            }
            freeReplyObject(m);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    printf("left after the pass (capped streams and keys that expire by themselves):\n");
    for (int f = 0; f < nf; f++)
        printf("  %-24s %6ld keys %10lld bytes\n", fam[f].name, fam[f].keys, fam[f].bytes);
    return 0;
}

int bench_retention(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"n", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bench_env env;
    struct bench_run run = {0};
    struct bench_figure figs[8];
    struct retention_policy p;
    struct retention_report rep;
    struct mem empty, before, after;
    long n = 300, stories;
    int c, nfig = 0;
    bool json = false;
    char *cause = NULL;
    int64_t t0, ms;
    double per_before, per_after;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'n':
            if (bench_parse_long("retention", "--n", optarg, 10, 100000, &n) == -1)
                return EXIT_USAGE;
            break;
        case 'h':
            printf("usage: newsroom bench retention [--json] [--n STORIES]\n");
            return EXIT_DONE;
        default:
            cli_error("bench retention: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (bench_env_start(&env, "retention", &cause) == -1) {
        cli_error("bench retention: %s", cause);
        free(cause);
        return EXIT_UNREACHABLE;
    }
    run.roles = RETENTION_ROLES;
    run.n = n;
    run.seed = 2027;
    run.timeout_s = 600;
    if (bench_flush(&env, &cause) == -1 || measure(env.link, &empty, &cause) == -1 ||
        bench_swarm_run(&env, &run, &cause) == -1 || measure(env.link, &before, &cause) == -1)
        goto fail;
    stories = 0;
    for (int st = 0; st < BB_STATUS_COUNT; st++)
        stories += run.counts[st];
    memset(&p, 0, sizeof p);
    p.window_ms[RETENTION_PUBLISHED] = p.window_ms[RETENTION_ARCHIVED] =
        p.window_ms[RETENTION_FAILED] = 1;
    p.dead_agents_ms = 1;
    p.max_rounds = 1000;
    clock_sleep_ms(5, NULL); /* past the 1 ms windows */
    t0 = clock_mono_us();
    if (retention_run(env.link, &p, "bench", &rep, &cause) == -1)
        goto fail;
    ms = clock_mono_us() - t0;
    if (measure(env.link, &after, &cause) == -1)
        goto fail;
    per_before = (double)(before.used - empty.used) / (double)stories;
    per_after = (double)(after.used - empty.used) / (double)stories;
    figure(&figs[nfig++], "Redis bytes per story, after retention", per_after, "bytes",
           "before retention", per_before, per_after > 0 ? per_before / per_after : 0);
    figure(&figs[nfig++], "keys per story, after retention",
           (double)(after.keys - empty.keys) / (double)stories, "keys", "before retention",
           (double)(before.keys - empty.keys) / (double)stories, 0);
    figs[nfig - 1].ratio =
        figs[nfig - 1].value > 0 ? figs[nfig - 1].peer_value / figs[nfig - 1].value : 0;
    figure(&figs[nfig++], "used_memory / DBSIZE, after retention",
           after.keys > 0 ? (double)after.used / (double)after.keys : 0, "bytes/key",
           "before retention", before.keys > 0 ? (double)before.used / (double)before.keys : 0, 0);
    figs[nfig - 1].ratio =
        figs[nfig - 1].value > 0 ? figs[nfig - 1].peer_value / figs[nfig - 1].value : 0;
    figure(&figs[nfig++], "stories deleted by one pass",
           (double)(rep.stories[0] + rep.stories[1] + rep.stories[2]), "stories", "stories run",
           (double)stories, 0);
    figs[nfig - 1].ratio = stories > 0 ? figs[nfig - 1].value / (double)stories : 0;
    figure(&figs[nfig++], "retention pass",
           ms > 0 ? (double)(rep.stories[0] + rep.stories[1] + rep.stories[2]) * 1e6 / (double)ms
                  : 0,
           "stories/s", NULL, 0, 0);
    if (!json)
        printf("%ld wire stories (%ld on the blackboard), roles %s, sim at zero latency, "
               "--auto-approve, %.1f s; one retention pass with 1 ms windows: %ld published, %ld "
               "archived, %ld failed deleted in %.1f ms; used_memory %lld -> %lld bytes (empty "
               "%lld), keys %lld -> %lld (empty %lld)\n",
               n, stories, RETENTION_ROLES, run.seconds, rep.stories[RETENTION_PUBLISHED],
               rep.stories[RETENTION_ARCHIVED], rep.stories[RETENTION_FAILED], (double)ms / 1000,
               before.used, after.used, empty.used, before.keys, after.keys, empty.keys);
    if (!json && what_stays(env.link, &cause) == -1)
        goto fail;
    bench_report("retention", figs, nfig, json);
    bench_env_stop(&env);
    return EXIT_DONE;
fail:
    cli_error("bench retention: %s", cause);
    free(cause);
    bench_env_stop(&env);
    return EXIT_UNREACHABLE;
}
