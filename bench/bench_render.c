/*
 * bench_render.c - `newsroom bench render`: how fast the producer's video comes out. A
 * 150-word script (a 60-second narration at 150 words a minute) is turned into a storyboard
 * and rendered (video.h) with the configured tools and template into a temporary folder,
 * --runs times by each path ([video] compose): "stills" (each distinct frame drawn once) and
 * "filters" (today's first renderer, every frame drawn and encoded), taking turns which goes
 * first so both see the same machine. After each render the same narration is encoded to AAC
 * alone, as that path encodes its sound: the floor no render of it can beat.
 *
 * Figures (medians): seconds of video per second of wall time for the whole render by each
 * path, stills against filters (the ratio is the speed-up); each path against its AAC floor
 * (expressed the same way: the video's length over the encode's wall time; the ratio is the
 * share of the floor reached); composition alone (ffmpeg: visuals, encoding, thumbnail); the
 * narration's synthesis time (speech.h) on its own; the video's length. `--path stills` or
 * `--path filters` measures one path only. No Redis. Main thread only.
 */
#include "bench.h"

#include "agents/storyboard.h"
#include "media/video.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 150 words with figures (key-fact slates), in ten sentences. */
static const char script[] =
    "The regional transit authority approved a budget of 412 million dollars on Tuesday "
    "evening. The plan adds eighteen bus routes and extends two tram lines into the northern "
    "suburbs. Officials said construction begins in March and should take about three years. "
    "Ticket prices will rise by 5 percent next January, the first increase since 2019. "
    "Riders groups welcomed the new routes but criticised the fare increase as badly timed. "
    "The authority says ridership has recovered to 94 percent of its level before the "
    "pandemic. Electric buses will make up half of the fleet by the end of the decade, "
    "according to the plan. The council must still vote on the borrowing needed for the tram "
    "extension next month. Opposition members have asked for an independent review of the "
    "cost estimates before that vote. The authority will publish the full route maps on its "
    "website later this week, with public meetings planned.";

#define RUNS_MAX 16

/* One path's measurements, a value per run. */
struct path_runs {
    const char *name; /* [video] compose */
    bool on;
    double whole[RUNS_MAX], compose[RUNS_MAX], floor[RUNS_MAX], speech[RUNS_MAX];
};

/* Renders sb by path p into dir as story id, then encodes its narration alone; fills run i. */
static int measure(struct config *cfg, struct path_runs *p, const char *dir, long i,
                   const json_t *sb, double *length, char **cause)
{
    int64_t t0 = clock_mono_ms(), t1;
    json_t *pkg = NULL, *ms;
    char id[48], *wav, *out;
    int rc;

    snprintf(id, sizeof id, "bench-%s-%ld", p->name, i);
    free(cfg->video_compose);
    cfg->video_compose = xstrdup(p->name);
    if (video_render(cfg, dir, id, sb, &pkg, cause) == -1)
        return -1;
    t1 = clock_mono_ms();
    *length = json_number_value(json_object_get(pkg, "duration_s"));
    ms = json_object_get(pkg, "render_ms");
    p->whole[i] = *length / ((double)(t1 - t0) / 1000);
    p->compose[i] = *length / ((double)json_integer_value(json_object_get(ms, "compose")) / 1000);
    p->speech[i] = (double)json_integer_value(json_object_get(ms, "speech")) / 1000;
    wav = xasprintf("%s/narration.wav", json_string_value(json_object_get(pkg, "folder")));
    out = xasprintf("%s/floor-%s.m4a", dir, p->name);
    t0 = clock_mono_ms();
    rc = video_encode_narration(cfg, wav, out, cause);
    p->floor[i] = *length / ((double)(clock_mono_ms() - t0) / 1000);
    free(wav);
    free(out);
    json_decref(pkg);
    return rc;
}

int bench_render(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"runs", required_argument, NULL, 'r'},
        {"path", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct path_runs paths[2] = {{.name = "stills", .on = true}, {.name = "filters", .on = true}};
    struct path_runs *st = &paths[0], *fi = &paths[1];
    struct config *cfg = NULL;
    struct storyboard_options so;
    struct bench_figure figs[8];
    double length = 0;
    char dir[] = "/tmp/newsroom-bench-XXXXXX", *cause = NULL, *why;
    long runs = 3;
    bool json = false;
    int c, n = 0, code = EXIT_DONE;
    json_t *sb = NULL;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'r':
            if (bench_parse_long("render", "--runs", optarg, 1, RUNS_MAX, &runs) == -1)
                return EXIT_USAGE;
            break;
        case 'p':
            if (strcmp(optarg, "stills") != 0 && strcmp(optarg, "filters") != 0) {
                cli_error("bench render: --path \"%s\" must be stills or filters", optarg);
                return EXIT_USAGE;
            }
            st->on = strcmp(optarg, "stills") == 0;
            fi->on = !st->on;
            break;
        case 'h':
            printf("usage: newsroom bench render [--json] [--runs N] [--path stills|filters]\n"
                   "  Renders a 60 s story N times (default 3) by each path, stills (each\n"
                   "  distinct frame drawn once) and filters (today's, every frame drawn), and\n"
                   "  compares them with each other and with encoding the narration to AAC.\n");
            return EXIT_DONE;
        case ':':
            cli_error("bench render: option %s needs a value", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            cli_error("bench render: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    /* The configuration the swarm would use: tools, template, preset. */
    cfg = config_resolve(NULL, &cause);
    if (cfg == NULL) {
        cli_error("bench render: %s", cause);
        free(cause);
        return EXIT_USAGE;
    }
    if ((why = video_unavailable(cfg)) != NULL) {
        cli_error("bench render: %s (Debian: ffmpeg espeak-ng fonts-dejavu-core)", why);
        free(why);
        config_free(cfg);
        return EXIT_UNREACHABLE;
    }
    if (mkdtemp(dir) == NULL) {
        cli_error("bench render: cannot make a temporary folder");
        config_free(cfg);
        return EXIT_UNREACHABLE;
    }
    storyboard_options_default(&so);
    so.words_per_minute = 150;
    cfg->words_per_minute = 150;
    sb = storyboard_build(script, "Transit budget adds 18 bus routes", "Metro Desk", &so);
    for (long i = 0; i < runs; i++) {
        /* Turns: the first path of a run alternates, so drifting load falls on both. */
        for (int k = 0; k < 2; k++) {
            struct path_runs *p = &paths[(k + i) % 2];

            if (p->on && measure(cfg, p, dir, i, sb, &length, &cause) == -1) {
                cli_error("bench render: %s: %s", p->name, cause);
                free(cause);
                code = EXIT_UNREACHABLE;
                goto out;
            }
        }
    }
    /* Per path: the whole render (stills against filters when both ran), each against its
     * AAC floor, composition alone. */
    for (int row = 0; row < 3; row++)
        for (int k = 0; k < 2; k++) {
            static const char *const names[] = {": video per wall second", " against its AAC floor",
                                                ": composition alone"};
            struct path_runs *p = &paths[k];
            const char *peer = NULL;
            double peer_value = 0, *v = row < 2 ? p->whole : p->compose;
            char name[64];

            if (!p->on)
                continue;
            snprintf(name, sizeof name, "%s%s", p->name, names[row]);
            if (row == 0 && p == st && fi->on) {
                peer = "filters (today's path)";
                peer_value = bench_median(fi->whole, (int)runs);
            } else if (row == 1) {
                peer = p == st ? "AAC alone, fast coder" : "AAC alone, two-loop coder";
                peer_value = bench_median(p->floor, (int)runs);
            }
            bench_figure(&figs[n++], name, bench_median(v, (int)runs), "s/s", peer, peer_value,
                         false);
        }
    {
        char name[64];

        snprintf(name, sizeof name, "narration synthesis (%s)", cfg->video_speech);
        bench_figure(&figs[n++], name, bench_median(st->on ? st->speech : fi->speech, (int)runs),
                     "s", NULL, 0, false);
    }
    bench_figure(&figs[n++], "video length", length, "s", NULL, 0, false);
    if (!json)
        printf("a 150-word story at 150 words a minute, %ld run%s of each path (medians), "
               "preset %s, 1280x720 H.264 + AAC\n",
               runs, runs > 1 ? "s" : "", cfg->video_preset);
    bench_report("render", figs, n, json);
out:
    json_decref(sb);
    paths_rmrf(dir);
    config_free(cfg);
    return code;
}
