/*
 * bench_soak.c - `newsroom bench soak [--minutes M]`: the default run, left running. The
 * default roles (SWARM_DEFAULT_ROLES) with an approver that approves a story once it has waited
 * --approve-after seconds (as a person reading the review queue would; [review]
 * auto_approve_after), the wire endless at its default rate (SWARM_DEFAULT_WIRE_RATE), the sim
 * at its default model latencies and video on (real ffmpeg renders, when ffmpeg and espeak-ng
 * are installed), in this process on a private redis-server, for M minutes (default 10). Every
 * 10 s it samples the stories per section, the depth of every flow stage, this process's RSS
 * and Redis's used_memory and DBSIZE; at the end it reports the slope of each (least squares,
 * per minute), each stage's depth at the end against its depth at minute 2 (the aim: no stage
 * deeper; both are the mean of three samples, 30 s), each stage's deepest, and memory's slope
 * over the second half of the run (the aim: flat), with Redis's also less the bytes of its
 * streams, which grow until their writers' caps (50,000 events, 100,000 usage records: hours
 * of this run) and only then stay.
 *
 * Retention runs with short windows (--retention S, default 120 s: every terminal status, the
 * usage ids ([retention] usage_ids) and the response cache's entries ([providers] cache_ttl_s),
 * and a pass every 15 s) so that it acts within the run: memory can only stay flat when what
 * the run finished goes. The daily budget is off (the sim's benchmark prices would reach the
 * shipped 10.00 after about 200 stories and park the rest, which is not what this measures).
 * --marks off runs without high-water marks, to measure how deep each stage gets on its own
 * (how the defaults were sized).
 *
 * Threads: the main thread samples; the swarm runs on its own threads.
 */
#include "bench.h"

#include "agents/agent.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "media/video.h"
#include "store/blackboard.h"
#include "store/rlink.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SOAK_SAMPLE_MS 10000
#define SOAK_MAX       (24 * 60 * 6) /* a day of samples */

struct sample {
    double t_min; /* minutes from the start */
    long section[BB_SECTION_COUNT];
    long depth[BB_FLOW_COUNT];
    long long rss, used_memory, dbsize; /* bytes, bytes, keys */
    long long streams; /* bytes in the streams, which their writers cap (events, usage, ...) */
    long published, archived, failed; /* now on the blackboard (retention deletes them) */
    long done;                        /* published since the start (the publishers' count) */
};

/* This process's resident set, in bytes (0 when /proc cannot tell). */
static long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long pages = 0, size = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%lld %lld", &size, &pages) != 2)
        pages = 0;
    fclose(f);
    return pages * sysconf(_SC_PAGESIZE);
}

/* The bytes of every stream (SCAN TYPE stream, MEMORY USAGE of each, every entry counted):
 * what grows until its writer's cap (nr:bb:events 50,000 entries, nr:cost:usage 100,000, the
 * audit, stops, breaker and vector memory logs) and then stays. */
static int stream_bytes(struct rlink *l, long long *out, char **cause)
{
    char cursor[32] = "0";

    *out = 0;
    do {
        redisReply *r = rlink_command(l, cause, "SCAN %s COUNT 1000 TYPE stream", cursor);

        if (r == NULL)
            return -1;
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            redisReply *m = rlink_command(l, cause, "MEMORY USAGE %s SAMPLES 0",
                                          r->element[1]->element[i]->str);

            if (m == NULL) {
                freeReplyObject(r);
                return -1;
            }
            *out += m->type == REDIS_REPLY_INTEGER ? m->integer : 0;
            freeReplyObject(m);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

static int take_sample(struct bench_env *e, struct swarm *sw, struct bb *b, int64_t t0,
                       struct sample *s, char **cause)
{
    struct swarm_totals pub;

    long counts[BB_SECTION_COUNT][BB_STATUS_COUNT];
    struct bb_flow_reading fr;

    memset(s, 0, sizeof *s);
    s->t_min = (double)(clock_mono_ms() - t0) / 60000.0;
    if (bb_counts(b, counts, cause) != BB_OK || bb_flow_read(b, NULL, NULL, &fr, cause) != BB_OK)
        return -1;
    for (int sec = 0; sec < BB_SECTION_COUNT; sec++)
        for (int st = 0; st < BB_STATUS_COUNT; st++)
            s->section[sec] += counts[sec][st];
    for (int sec = 0; sec < BB_SECTION_COUNT; sec++) {
        s->published += counts[sec][BB_PUBLISHED_S];
        s->archived += counts[sec][BB_ARCHIVED];
        s->failed += counts[sec][BB_FAILED];
    }
    memcpy(s->depth, fr.depth, sizeof s->depth);
    swarm_role_totals(sw, "publisher", &pub);
    s->done = pub.advanced;
    s->rss = rss_bytes();
    if (bench_redis_memory(e->link, &s->used_memory, &s->dbsize, cause) == -1)
        return -1;
    return stream_bytes(e->link, &s->streams, cause);
}

/* The least-squares slope per minute of v(s) over samples [from, to). */
static double slope(const struct sample *s, size_t from, size_t to,
                    double (*v)(const struct sample *, int), int k)
{
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;

    for (size_t i = from; i < to; i++) {
        double x = s[i].t_min, y = v(&s[i], k);

        n++;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    return n >= 2 && n * sxx - sx * sx > 0 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0;
}

static double v_section(const struct sample *s, int k)
{
    return (double)s->section[k];
}

static double v_depth(const struct sample *s, int k)
{
    return (double)s->depth[k];
}

static double v_rss(const struct sample *s, int k)
{
    (void)k;
    return (double)s->rss;
}

static double v_used(const struct sample *s, int k)
{
    (void)k;
    return (double)s->used_memory;
}

static double v_done(const struct sample *s, int k)
{
    (void)k;
    return (double)s->done;
}

static double v_rest(const struct sample *s, int k)
{
    (void)k;
    return (double)(s->used_memory - s->streams);
}

static double v_keys(const struct sample *s, int k)
{
    (void)k;
    return (double)s->dbsize;
}

/* The mean of stage k's depth over the three samples around minute `at` (the last three when
 * at < 0). */
static double depth_at(const struct sample *s, size_t n, double at, int k)
{
    size_t mid = n - 2, from, to;
    double sum = 0;

    if (at >= 0)
        for (mid = 0; mid + 1 < n && s[mid].t_min < at; mid++)
            ;
    from = mid > 0 ? mid - 1 : 0;
    to = from + 3 < n ? from + 3 : n;
    for (size_t i = from; i < to; i++)
        sum += (double)s[i].depth[k];
    return to > from ? sum / (double)(to - from) : 0;
}

int bench_soak(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"minutes", required_argument, NULL, 'm'},
        {"approve-after", required_argument, NULL, 'a'},
        {"retention", required_argument, NULL, 'r'},
        {"marks", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bench_env env;
    struct swarm_options so;
    struct swarm *s = NULL;
    struct sample *samples = NULL;
    struct bench_figure figs[2 * BB_FLOW_COUNT + BB_SECTION_COUNT + 12];
    struct config *defaults = config_new();
    long minutes = 10, approve_s = 30, retention_s = 120;
    size_t n = 0, half;
    int nfig = 0, c, code = EXIT_DONE;
    bool json = false, marks = true;
    char *cause = NULL, *video, roles[256], name[64];
    int64_t t0, next, end;
    struct bb *b = NULL;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'm':
            if (bench_parse_long("soak", "--minutes", optarg, 1, 24 * 60, &minutes) == -1)
                goto usage;
            break;
        case 'a':
            if (bench_parse_long("soak", "--approve-after", optarg, 0, 86400, &approve_s) == -1)
                goto usage;
            break;
        case 'r':
            if (bench_parse_long("soak", "--retention", optarg, 1, 86400 * 30, &retention_s) == -1)
                goto usage;
            break;
        case 'k':
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
                cli_error("bench soak: --marks \"%s\" must be on or off", optarg);
                goto usage;
            }
            marks = strcmp(optarg, "on") == 0;
            break;
        case 'h':
            printf("usage: newsroom bench soak [--json] [--minutes M] [--approve-after S] "
                   "[--retention S] [--marks on|off]\n");
            config_free(defaults);
            return EXIT_DONE;
        default:
            cli_error("bench soak: unknown option %s", argv[optind - 1]);
            goto usage;
        }
    }
    if (bench_env_start(&env, "soak", &cause) == -1) {
        cli_error("bench soak: %s", cause);
        free(cause);
        config_free(defaults);
        return EXIT_UNREACHABLE;
    }
    /* The default run: the sim's default latencies, video on as shipped. */
    env.cfg->sim_latency_fast_ms = defaults->sim_latency_fast_ms;
    env.cfg->sim_latency_balanced_ms = defaults->sim_latency_balanced_ms;
    env.cfg->sim_latency_premium_ms = defaults->sim_latency_premium_ms;
    free(env.cfg->video_ffmpeg);
    env.cfg->video_ffmpeg = xstrdup(defaults->video_ffmpeg);
    env.cfg->review_auto_approve_ms = approve_s * 1000;
    /* Every window after which something goes, short: the stories' (retention), the usage
     * ids' and the response cache's. */
    env.cfg->retention_published_ms = env.cfg->retention_archived_ms =
        env.cfg->retention_failed_ms = env.cfg->retention_usage_ids_ms = retention_s * 1000;
    env.cfg->llm_cache_ttl_s = (int)retention_s;
    env.cfg->retention_interval_ms = 15000;
    if (!marks)
        memset(env.cfg->flow_hwm, 0, sizeof env.cfg->flow_hwm);
    video = video_unavailable(env.cfg);
    snprintf(roles, sizeof roles, "%s,approver:1", SWARM_DEFAULT_ROLES);
    memset(&so, 0, sizeof so);
    so.addr = env.addr;
    so.link = env.opt;
    so.cfg = env.cfg;
    so.pricing = env.pricing;
    so.roles = roles;
    so.wire = true;
    so.wire_seed = 2026;
    so.wire_rate_per_s = SWARM_DEFAULT_WIRE_RATE;
    so.auto_approve = true;
    if (!json)
        fprintf(stderr,
                "bench soak: %ld minutes of the default run (%s, the wire at %.1f stories/s, "
                "video %s%s, approval after %ld s), sampled every %d s; retention %ld s%s\n",
                minutes, roles, SWARM_DEFAULT_WIRE_RATE,
                video == NULL ? "on" : "off: ", video == NULL ? "" : video, approve_s,
                SOAK_SAMPLE_MS / 1000, retention_s, marks ? "" : "; no high-water marks");
    samples = xcalloc(SOAK_MAX, sizeof *samples);
    if ((s = swarm_new(&so, &cause)) == NULL || swarm_start(s, &cause) == -1)
        goto fail;
    b = bb_new(env.link, "bench-soak");
    t0 = clock_mono_ms();
    next = t0;
    end = t0 + minutes * 60000;
    while (n < SOAK_MAX) {
        if (swarm_failed(s) > 0) {
            cause = xasprintf("%d agent(s) could not start", swarm_failed(s));
            goto fail;
        }
        if (take_sample(&env, s, b, t0, &samples[n], &cause) == -1)
            goto fail;
        if (!json)
            fprintf(stderr,
                    "  %5.1f min: published %ld (%ld kept), archived %ld, failed %ld; depths %ld "
                    "%ld %ld %ld %ld %ld %ld; RSS %.1f MB, Redis %.1f MB (streams %.1f), %lld "
                    "keys\n",
                    samples[n].t_min, samples[n].done, samples[n].published, samples[n].archived,
                    samples[n].failed, samples[n].depth[0], samples[n].depth[1],
                    samples[n].depth[2], samples[n].depth[3], samples[n].depth[4],
                    samples[n].depth[5], samples[n].depth[6], (double)samples[n].rss / 1e6,
                    (double)samples[n].used_memory / 1e6, (double)samples[n].streams / 1e6,
                    samples[n].dbsize);
        n++;
        next += SOAK_SAMPLE_MS;
        if (next > end)
            break;
        clock_sleep_ms(next - clock_mono_ms(), NULL);
    }
    swarm_stop(s);
    if (n < 3) {
        cause = xasprintf("too few samples (%zu)", n);
        goto fail;
    }
    half = n / 2;
    for (int k = 0; k < BB_FLOW_COUNT; k++) {
        double at2 = depth_at(samples, n, 2.0, k), last = depth_at(samples, n, -1, k);
        long most = 0;

        for (size_t i = 0; i < n; i++)
            most = samples[i].depth[k] > most ? samples[i].depth[k] : most;
        snprintf(name, sizeof name, "%s depth at the end", bb_flow_stages[k].name);
        bench_figure(&figs[nfig++], name, last, "stories", "at minute 2", at2, true);
        if (last == 0 && at2 == 0)
            figs[nfig - 1].ratio = 1;
        snprintf(name, sizeof name, "%s depth slope (deepest %ld, mark %d)", bb_flow_stages[k].name,
                 most, env.cfg->flow_hwm[k]);
        bench_figure(&figs[nfig++], name, slope(samples, 0, n, v_depth, k), "stories/min", NULL, 0,
                     false);
    }
    for (int sec = 0; sec < BB_SECTION_COUNT; sec++) {
        snprintf(name, sizeof name, "%s stories slope", bb_section_names[sec]);
        bench_figure(&figs[nfig++], name, slope(samples, 0, n, v_section, sec), "stories/min", NULL,
                     0, false);
    }
    bench_figure(&figs[nfig++], "RSS slope", slope(samples, 0, n, v_rss, 0) / 1e3, "KB/min", NULL,
                 0, false);
    bench_figure(&figs[nfig++], "RSS slope, second half", slope(samples, half, n, v_rss, 0) / 1e3,
                 "KB/min", NULL, 0, false);
    bench_figure(&figs[nfig++], "Redis used_memory slope", slope(samples, 0, n, v_used, 0) / 1e3,
                 "KB/min", NULL, 0, false);
    bench_figure(&figs[nfig++], "Redis used_memory slope, second half",
                 slope(samples, half, n, v_used, 0) / 1e3, "KB/min", NULL, 0, false);
    bench_figure(&figs[nfig++], "Redis used_memory less the capped streams, slope, 2nd half",
                 slope(samples, half, n, v_rest, 0) / 1e3, "KB/min", NULL, 0, false);
    bench_figure(&figs[nfig++], "Redis DBSIZE slope", slope(samples, 0, n, v_keys, 0), "keys/min",
                 NULL, 0, false);
    bench_figure(&figs[nfig++], "Redis DBSIZE slope, second half",
                 slope(samples, half, n, v_keys, 0), "keys/min", NULL, 0, false);
    bench_figure(&figs[nfig++], "published", (double)samples[n - 1].done, "stories", NULL, 0,
                 false);
    bench_figure(&figs[nfig++], "published per minute, second half",
                 slope(samples, half, n, v_done, 0), "stories/min", "the wire's rate",
                 SWARM_DEFAULT_WIRE_RATE * 60, false);
    if (!json)
        printf("%ld minutes of %s, the wire at %.1f stories/s, video %s, approval after %ld s, "
               "retention windows %ld s (a pass every 15 s), no daily budget%s; %zu samples; at "
               "the end: %ld published in all, on the blackboard %ld published, %ld archived, %ld "
               "failed; RSS %.1f MB, Redis %.1f MB in %lld keys\n(slopes: least squares per "
               "minute; PUBLISHED and ARCHIVE counts fall "
               "as retention deletes what it keeps past its window)\n",
               minutes, roles, SWARM_DEFAULT_WIRE_RATE, video == NULL ? "on" : "off", approve_s,
               retention_s, marks ? "" : ", no high-water marks", n, samples[n - 1].done,
               samples[n - 1].published, samples[n - 1].archived, samples[n - 1].failed,
               (double)samples[n - 1].rss / 1e6, (double)samples[n - 1].used_memory / 1e6,
               samples[n - 1].dbsize);
    bench_report("soak", figs, nfig, json);
    goto out;
fail:
    cli_error("bench soak: %s", cause);
    free(cause);
    code = EXIT_UNREACHABLE;
out:
    if (s != NULL)
        swarm_free(s);
    bb_free(b);
    free(samples);
    free(video);
    bench_env_stop(&env);
    config_free(defaults);
    return code;
usage:
    config_free(defaults);
    return EXIT_USAGE;
}
