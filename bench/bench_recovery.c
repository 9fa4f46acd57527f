/*
 * bench_recovery.c - `newsroom bench recovery`: what a crashing swarm costs. The chaos run of
 * tests/chaos/chaos_kill.c (N wire stories through three `newsroom swarm --once
 * --auto-approve` processes of this binary on a private redis-server with AOF, the sim at
 * model latencies that keep them busy, one process SIGKILLed every 5 s and started again, for
 * 2 minutes) against the same run without kills, in one run, through the chaos harness
 * (tests/chaos/chaos.h): the time until every story is terminal, with kills against without;
 * the paid calls (usage records with a cost), with against without (aim: at most 1.02); the
 * paid calls repeated and the results lost to a kill before they were stored; and for every
 * story taken back from a killed process, the seconds from the kill to the story claimed again,
 * p50 and p99 (aims: 15 s and 30 s). The dead are found by their process (a restarted process,
 * and every other on this host, sees the old pid gone); --by-heartbeat turns that off
 * ([recovery] reap_by_pid = false), so they are found as on another machine, by their lapsed
 * heartbeat.
 *
 * Redis bytes (and keys) per story after retention against before: once every story of the run
 * with kills is terminal, Redis's used_memory over the empty database's, per story, then the
 * same after one retention pass with 1 ms windows (recovery/retention.h: every terminal story
 * deleted with every key of it and its vector memory records), as `bench retention` measures
 * it for a run without kills.
 */
#include "bench.h"

#include "chaos.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "memory/memory.h"
#include "recovery/retention.h"

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECOVERY_SWARMS 3
#define PAID_AIM        1.02
#define P50_AIM_S       15.0
#define MAX_AIM_S       30.0

/* As chaos_kill.c: model latencies that keep the stories going through the kills. */
static const char recovery_conf[] = "[cost]\n"
                                    "global_daily_budget = 0\n"
                                    "[providers]\n"
                                    "sim_latency_fast_ms = 200\n"
                                    "sim_latency_balanced_ms = 600\n"
                                    "sim_latency_premium_ms = 1200\n"
                                    "[video]\n"
                                    "ffmpeg = none\n";

/* --by-heartbeat: what a process on another machine sees, no process of this host looked at. */
static const char heartbeat_only[] = "[recovery]\nreap_by_pid = false\n";

struct side {
    struct chaos_figures f;
    double seconds; /* from the swarms' start until every story is terminal */
    /* Redis bytes (INFO used_memory over the empty database's) and keys per story when every
     * story was terminal, and after one retention pass with 1 ms windows deleted them. */
    double bytes_before, bytes_after, keys_before, keys_after;
};

/* What the run left in Redis, per story, before and after one retention pass (windows of 1 ms:
 * every terminal story goes, with its vector memory records) on the harness's link. */
static int retention_figures(struct chaos *c, long long empty_used, long long empty_keys,
                             long stories, struct side *out, char **cause)
{
    struct rlink *l = chaos_link(c);
    struct config *cfg = config_new();
    struct retention_policy p;
    struct retention_report rep;
    long long used, keys;
    int rc = -1;

    memset(&p, 0, sizeof p);
    p.window_ms[RETENTION_PUBLISHED] = p.window_ms[RETENTION_ARCHIVED] =
        p.window_ms[RETENTION_FAILED] = 1;
    p.dead_agents_ms = 1;
    p.max_rounds = 1000;
    p.mem = memory_open(cfg, l, cause);
    if (p.mem == NULL && *cause != NULL)
        goto out;
    if (bench_redis_memory(l, &used, &keys, cause) == -1)
        goto out;
    out->bytes_before = (double)(used - empty_used) / (double)stories;
    out->keys_before = (double)(keys - empty_keys) / (double)stories;
    clock_sleep_ms(5, NULL); /* past the 1 ms windows */
    if (retention_run(l, &p, "bench-recovery", &rep, cause) == -1 ||
        bench_redis_memory(l, &used, &keys, cause) == -1)
        goto out;
    out->bytes_after = (double)(used - empty_used) / (double)stories;
    out->keys_after = (double)(keys - empty_keys) / (double)stories;
    rc = 0;
out:
    memory_free(p.mem);
    config_free(cfg);
    return rc;
}

/* One run of n stories of seed; kills every every_ms for kill_s seconds (0: none). */
static int run_side(const char *binary, long n, long kill_s, long every_ms, bool by_heartbeat,
                    struct side *out, char **cause)
{
    const char *const args[] = {"swarm", "--once", "--auto-approve", NULL};
    char *conf = xasprintf("%s%s", recovery_conf, by_heartbeat ? heartbeat_only : "");
    struct chaos *c = chaos_new(binary, conf, cause);
    unsigned seed = 11;
    int64_t t0, end, next;
    long long empty_used, empty_keys;
    long in;
    int rc = -1;

    memset(out, 0, sizeof *out);
    free(conf);
    if (c == NULL)
        return -1;
    if (bench_redis_memory(chaos_link(c), &empty_used, &empty_keys, cause) == -1)
        goto out;
    if ((in = chaos_begin(c, n, 1101, RECOVERY_SWARMS, args, cause)) < 0)
        goto out;
    t0 = clock_mono_ms();
    end = t0 + kill_s * 1000;
    next = t0 + every_ms;
    while (kill_s > 0 && clock_mono_ms() < end && chaos_busy(c) != 0) {
        int victim = (int)(rand_r(&seed) % RECOVERY_SWARMS);

        clock_sleep_ms(next - clock_mono_ms(), NULL); /* the schedule of kills */
        next += every_ms;
        if (chaos_running(c, victim, NULL)) {
            chaos_signal(c, victim, SIGKILL);
            if (chaos_restart(c, victim, cause) == -1)
                goto out;
        }
    }
    if (chaos_wait_all(c, 1200, cause) == -1)
        goto out;
    out->seconds = (double)(clock_mono_ms() - t0) / 1000.0;
    if (chaos_figures(c, in, &out->f, cause) == -1)
        goto out;
    if (out->f.lost > 0) {
        *cause = xasprintf("%ld stories were not terminal at the end", out->f.lost);
        goto out;
    }
    /* The figures first: retention deletes what they read. */
    if (retention_figures(c, empty_used, empty_keys, in, out, cause) == -1)
        goto out;
    rc = 0;
out:
    chaos_free(c, rc == -1);
    return rc;
}

static void figure(struct bench_figure *f, const char *name, double value, const char *unit,
                   const char *peer, double peer_value, bool lower_better)
{
    snprintf(f->name, sizeof f->name, "%s", name);
    f->value = value;
    f->unit = unit;
    f->peer = peer;
    f->peer_value = peer_value;
    f->ratio = peer == NULL   ? 0
               : lower_better ? (value > 0 ? peer_value / value : 0)
                              : (peer_value > 0 ? value / peer_value : 0);
}

int bench_recovery(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"n", required_argument, NULL, 'n'},
        {"kill-s", required_argument, NULL, 'k'},
        {"every-ms", required_argument, NULL, 'e'},
        {"by-heartbeat", no_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct side calm, chaos;
    struct bench_figure figs[10];
    char binary[PATH_MAX], *cause = NULL;
    long n = 300, kill_s = 120, every_ms = 5000;
    ssize_t len;
    bool json = false, by_heartbeat = false;
    int nfig = 0, c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'n':
            if (bench_parse_long("recovery", "--n", optarg, 10, 100000, &n) == -1)
                return EXIT_USAGE;
            break;
        case 'k':
            if (bench_parse_long("recovery", "--kill-s", optarg, 1, 3600, &kill_s) == -1)
                return EXIT_USAGE;
            break;
        case 'e':
            if (bench_parse_long("recovery", "--every-ms", optarg, 500, 600000, &every_ms) == -1)
                return EXIT_USAGE;
            break;
        case 'b':
            by_heartbeat = true;
            break;
        case 'h':
            printf("usage: newsroom bench recovery [--json] [--n STORIES] [--kill-s SECONDS] "
                   "[--every-ms MS] [--by-heartbeat]\n");
            return EXIT_DONE;
        default:
            cli_error("bench recovery: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    /* The swarms are this very binary. */
    len = readlink("/proc/self/exe", binary, sizeof binary - 1);
    if (len <= 0) {
        cli_error("bench recovery: cannot tell where this binary is");
        return EXIT_USAGE;
    }
    binary[len] = '\0';
    if (!json)
        fprintf(stderr,
                "bench recovery: %ld stories through %d swarm processes without kills, "
                "then with one SIGKILLed every %ld ms for %ld s%s (a few minutes)\n",
                n, RECOVERY_SWARMS, every_ms, kill_s,
                by_heartbeat ? ", the dead found by their heartbeat alone" : "");
    if (run_side(binary, n, 0, every_ms, false, &calm, &cause) == -1 ||
        run_side(binary, n, kill_s, every_ms, by_heartbeat, &chaos, &cause) == -1) {
        cli_error("bench recovery: %s", cause);
        free(cause);
        return EXIT_UNREACHABLE;
    }
    figure(&figs[nfig++], "completion time", chaos.seconds, "s", "the run without kills",
           calm.seconds, true);
    figure(&figs[nfig++], "paid calls", (double)chaos.f.paid_calls, "calls",
           "the run without kills", (double)calm.f.paid_calls, true);
    figure(&figs[nfig++], "paid calls ratio",
           (double)chaos.f.paid_calls / (double)calm.f.paid_calls, "x", "aim (at most)", PAID_AIM,
           true);
    figure(&figs[nfig++], "paid calls repeated", (double)chaos.f.repeated, "calls", NULL, 0, true);
    figure(&figs[nfig++], "paid results lost to a kill", (double)chaos.f.lost_to_kills, "calls",
           NULL, 0, true);
    figure(&figs[nfig++], "kill to running again (p50)", chaos.f.resume_p50_s, "s", "aim (at most)",
           P50_AIM_S, true);
    figure(&figs[nfig++], "kill to running again (p99)", chaos.f.resume_p99_s, "s", "aim (at most)",
           MAX_AIM_S, true);
    figure(&figs[nfig++], "Redis bytes per story, after retention", chaos.bytes_after, "bytes",
           "before retention", chaos.bytes_before, true);
    figure(&figs[nfig++], "Redis keys per story, after retention", chaos.keys_after, "keys",
           "before retention", chaos.keys_before, true);
    if (!json)
        printf("%ld wire stories, %d swarm processes, --once --auto-approve, sim latencies as "
               "tests/chaos/chaos_kill.c\nwithout kills: %.1f s, %ld paid calls, %ld published; "
               "with %ld kills: %.1f s (x%.2f), %ld paid calls (x%.3f, aim at most %.2f), %ld "
               "published, %ld repeated, %ld lost to a kill, %ld stories taken back (p50 %.1f s, "
               "p99 %.1f s, max %.1f s)\nRedis per story when every story was terminal: %.0f "
               "bytes, %.1f keys; after one retention pass (1 ms windows): %.0f bytes, %.2f keys "
               "(the run with kills; the capped streams stay)\n",
               n, RECOVERY_SWARMS, calm.seconds, calm.f.paid_calls, calm.f.published, chaos.f.kills,
               chaos.seconds, chaos.seconds / calm.seconds, chaos.f.paid_calls,
               (double)chaos.f.paid_calls / (double)calm.f.paid_calls, PAID_AIM, chaos.f.published,
               chaos.f.repeated, chaos.f.lost_to_kills, chaos.f.reclaimed, chaos.f.resume_p50_s,
               chaos.f.resume_p99_s, chaos.f.resume_max_s, chaos.bytes_before, chaos.keys_before,
               chaos.bytes_after, chaos.keys_after);
    bench_report("recovery", figs, nfig, json);
    return EXIT_DONE;
}
