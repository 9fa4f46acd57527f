/*
 * bench_render.c - `newsroom bench render`: how fast the producer's video comes out. A
 * 150-word script (a 60-second narration at 150 words a minute) is turned into a storyboard
 * and rendered (video.h) with the configured tools and template into a temporary folder,
 * --runs times. Figures (medians): seconds of video per second of wall time for the whole
 * render and for composition alone (ffmpeg: visuals, encoding, thumbnail), the narration's
 * synthesis time (speech.h) on its own, and the video's length. No Redis. Main thread only.
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

int bench_render(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"runs", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct config *cfg = NULL;
    struct storyboard_options so;
    struct bench_figure figs[4];
    double whole[16], compose[16], speech[16], length = 0;
    char dir[] = "/tmp/newsroom-bench-XXXXXX", *cause = NULL, *why;
    long runs = 3;
    bool json = false;
    int c, code = EXIT_DONE;
    json_t *sb = NULL;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'r':
            if (bench_parse_long("render", "--runs", optarg, 1, 16, &runs) == -1)
                return EXIT_USAGE;
            break;
        case 'h':
            printf("usage: newsroom bench render [--json] [--runs N]\n");
            return EXIT_DONE;
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
        int64_t t0 = clock_mono_ms();
        json_t *pkg = NULL, *ms;
        char id[32];

        snprintf(id, sizeof id, "bench-%ld", i);
        if (video_render(cfg, dir, id, sb, &pkg, &cause) == -1) {
            cli_error("bench render: %s", cause);
            free(cause);
            code = EXIT_UNREACHABLE;
            goto out;
        }
        length = json_number_value(json_object_get(pkg, "duration_s"));
        ms = json_object_get(pkg, "render_ms");
        whole[i] = length / ((double)(clock_mono_ms() - t0) / 1000);
        compose[i] = length / ((double)json_integer_value(json_object_get(ms, "compose")) / 1000);
        speech[i] = (double)json_integer_value(json_object_get(ms, "speech")) / 1000;
        json_decref(pkg);
    }
    memset(figs, 0, sizeof figs);
    snprintf(figs[0].name, sizeof figs[0].name, "video per wall second, whole render");
    figs[0].value = bench_median(whole, (int)runs);
    figs[0].unit = "s/s";
    snprintf(figs[1].name, sizeof figs[1].name, "video per wall second, composition");
    figs[1].value = bench_median(compose, (int)runs);
    figs[1].unit = "s/s";
    snprintf(figs[2].name, sizeof figs[2].name, "narration synthesis (%s)", cfg->video_speech);
    figs[2].value = bench_median(speech, (int)runs);
    figs[2].unit = "s";
    snprintf(figs[3].name, sizeof figs[3].name, "video length");
    figs[3].value = length;
    figs[3].unit = "s";
    if (!json)
        printf("a 150-word story at 150 words a minute, %ld run%s (medians), preset %s, "
               "1280x720 H.264 + AAC\n",
               runs, runs > 1 ? "s" : "", cfg->video_preset);
    bench_report("render", figs, 4, json);
out:
    json_decref(sb);
    paths_rmrf(dir);
    config_free(cfg);
    return code;
}
