/*
 * bench_render.c - `newsroom bench render`: how fast the producer's video comes out. A
 * 150-word script (a 60-second narration at 150 words a minute) is turned into a storyboard
 * and rendered (video.h) with the configured tools and template into a temporary folder,
 * --runs times by each path ([video] compose): "stills" (each distinct frame drawn once) and
 * "filters" (today's first renderer, every frame drawn and encoded), taking turns which goes
 * first so both see the same machine. After each render the same narration is encoded to AAC
 * alone, as that path encodes its sound: the floor no render of it can beat.
 *
 * A third path, "pictures", renders the same story with pictures, as the producer would after
 * the visual chain (visual.h) ran offline on it: a picture of the story's on the title card
 * (zooming) and on a narration shot (panning), a chart of its figures on a key fact, text
 * slides on the rest; by the stills path, so motion costs what it costs: every frame of a
 * moving picture drawn and encoded, the rest encoded as stills.
 *
 * Figures (medians): seconds of video per second of wall time for the whole render by each
 * path, stills against filters (the ratio is the speed-up) and pictures against stills (the
 * ratio is what the pictures cost); each path against its AAC floor (expressed the same way:
 * the video's length over the encode's wall time; the ratio is the share of the floor
 * reached); composition alone (ffmpeg: visuals, encoding, thumbnail); the visual chain's own
 * time for the pictures (fetching, checking and normalising the pictures, drawing the chart;
 * once); the narration's synthesis time (speech.h) on its own; the video's length. `--path
 * stills`, `filters` or `pictures` measures one path only. No Redis. Main thread only.
 */
#include "bench.h"

#include "agents/storyboard.h"
#include "media/proc.h"
#include "media/video.h"
#include "media/visual.h"
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
    const char *name;    /* the path */
    const char *compose; /* [video] compose */
    bool on;
    const json_t *sb; /* what it renders (borrowed) */
    double whole[RUNS_MAX], compose_s[RUNS_MAX], floor[RUNS_MAX], speech[RUNS_MAX];
};

/* Renders p's storyboard by its path into dir, then encodes its narration alone; fills run i. */
static int measure(struct config *cfg, struct path_runs *p, const char *dir, long i, double *length,
                   char **cause)
{
    int64_t t0 = clock_mono_ms(), t1;
    const json_t *sb = p->sb;
    json_t *pkg = NULL, *ms;
    char id[48], *wav, *out;
    int rc;

    snprintf(id, sizeof id, "bench-%s-%ld", p->name, i);
    free(cfg->video_compose);
    cfg->video_compose = xstrdup(p->compose);
    if (video_render(cfg, dir, id, sb, &pkg, cause) == -1)
        return -1;
    t1 = clock_mono_ms();
    *length = json_number_value(json_object_get(pkg, "duration_s"));
    ms = json_object_get(pkg, "render_ms");
    p->whole[i] = *length / ((double)(t1 - t0) / 1000);
    p->compose_s[i] = *length / ((double)json_integer_value(json_object_get(ms, "compose")) / 1000);
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

/* Draws a picture with ffmpeg's lavfi graph src into dir as name. */
static int picture(const char *ffmpeg, const char *dir, const char *src, const char *name,
                   char **cause)
{
    char *path = xasprintf("%s/%s", dir, name);
    const char *argv[] = {ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                          "-i",   src,        "-frames:v", "1",     path, NULL};
    int rc = proc_run(argv, NULL, 0, NULL, cause);

    free(path);
    return rc;
}

/* The storyboard sb with pictures: two of the story's (drawn here, as a feed would carry
 * them) and a chart of its figures, chosen by the visual chain offline into dir/work. Returns
 * a new storyboard and *chain_s, the chain's time, or NULL with *cause. */
static json_t *with_pictures(struct config *cfg, const char *dir, const json_t *sb, double *chain_s,
                             char **cause)
{
    char *ffmpeg = paths_which(cfg->video_ffmpeg), *work = xasprintf("%s/work", dir);
    struct visual_env ve = {cfg, NULL, "bench-pictures", NULL, NULL};
    json_t *out = json_deep_copy(sb), *body = NULL, *report = NULL;
    int64_t t0;

    if (picture(ffmpeg, dir, "gradients=s=1600x900:c0=0x003049:c1=0xd62828:c2=0xf77f00:n=3",
                "lead.jpg", cause) == -1 ||
        picture(ffmpeg, dir, "mandelbrot=s=1600x900", "second.jpg", cause) == -1) {
        json_decref(out);
        out = NULL;
        goto done;
    }
    body = json_pack("{s:s, s:s, s:s, s:{s:[{s:s, s:s}, {s:s, s:s}]}}", "title",
                     "Transit budget adds 18 bus routes", "source", "Metro Desk", "content", script,
                     "feed", "images", "url", "", "kind", "media:content", "url", "", "kind",
                     "og:image");
    json_object_set_new(json_array_get(json_object_get(json_object_get(body, "feed"), "images"), 0),
                        "url", json_sprintf("file://%s/lead.jpg", dir));
    json_object_set_new(json_array_get(json_object_get(json_object_get(body, "feed"), "images"), 1),
                        "url", json_sprintf("file://%s/second.jpg", dir));
    /* The offline chain only, whatever keys the environment holds. */
    free(cfg->visual_designer);
    cfg->visual_designer = xstrdup("chart");
    free(cfg->visual_designer_backup);
    cfg->visual_designer_backup = xstrdup("feed");
    free(cfg->visual_designer_simple);
    cfg->visual_designer_simple = xstrdup("");
    free(cfg->stock_image_agent);
    cfg->stock_image_agent = xstrdup("");
    t0 = clock_mono_ms();
    if (visual_choose(&ve, body, out, work, &report, cause) == -1) {
        json_decref(out);
        out = NULL;
    }
    *chain_s = (double)(clock_mono_ms() - t0) / 1000;
    json_decref(report);
done:
    json_decref(body);
    free(ffmpeg);
    free(work);
    return out;
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
    struct path_runs paths[3] = {{.name = "stills", .compose = "stills", .on = true},
                                 {.name = "filters", .compose = "filters", .on = true},
                                 {.name = "pictures", .compose = "stills", .on = true}};
    struct path_runs *st = &paths[0], *fi = &paths[1], *pi = &paths[2];
    struct config *cfg = NULL;
    struct storyboard_options so;
    struct bench_figure figs[16];
    double length = 0, pictures_length = 0, chain_s = 0;
    char dir[] = "/tmp/newsroom-bench-XXXXXX", *cause = NULL, *why;
    long runs = 3;
    bool json = false;
    int c, n = 0, code = EXIT_DONE;
    json_t *sb = NULL, *sb_pictures = NULL;

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
            if (strcmp(optarg, "stills") != 0 && strcmp(optarg, "filters") != 0 &&
                strcmp(optarg, "pictures") != 0) {
                cli_error("bench render: --path \"%s\" must be stills, filters or pictures",
                          optarg);
                return EXIT_USAGE;
            }
            for (int k = 0; k < 3; k++)
                paths[k].on = strcmp(optarg, paths[k].name) == 0;
            break;
        case 'h':
            printf("usage: newsroom bench render [--json] [--runs N] "
                   "[--path stills|filters|pictures]\n"
                   "  Renders a 60 s story N times (default 3) by each path, stills (each\n"
                   "  distinct frame drawn once) and filters (every frame drawn), and the same\n"
                   "  story with pictures (a zooming and a panning picture of the story's, a\n"
                   "  chart of its figures, text slides) by the stills path; compares them with\n"
                   "  each other and with encoding the narration to AAC.\n");
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
    st->sb = fi->sb = sb;
    if (pi->on) {
        sb_pictures = with_pictures(cfg, dir, sb, &chain_s, &cause);
        if (sb_pictures == NULL) {
            cli_error("bench render: the pictures: %s", cause);
            free(cause);
            code = EXIT_UNREACHABLE;
            goto out;
        }
        pi->sb = sb_pictures;
    }
    for (long i = 0; i < runs; i++) {
        /* Turns: the first path of a run rotates, so drifting load falls on all of them. */
        for (int k = 0; k < 3; k++) {
            struct path_runs *p = &paths[(k + i) % 3];

            if (p->on &&
                measure(cfg, p, dir, i, p == pi ? &pictures_length : &length, &cause) == -1) {
                cli_error("bench render: %s: %s", p->name, cause);
                free(cause);
                code = EXIT_UNREACHABLE;
                goto out;
            }
        }
    }
    /* Per path: the whole render (stills against filters, pictures against stills, when both
     * ran), each against its AAC floor, composition alone. */
    for (int row = 0; row < 3; row++)
        for (int k = 0; k < 3; k++) {
            static const char *const names[] = {": video per wall second", " against its AAC floor",
                                                ": composition alone"};
            struct path_runs *p = &paths[k];
            const char *peer = NULL;
            double peer_value = 0, *v = row < 2 ? p->whole : p->compose_s;
            char name[64];

            if (!p->on)
                continue;
            snprintf(name, sizeof name, "%s%s", p->name, names[row]);
            if (row == 0 && p == st && fi->on) {
                peer = "filters";
                peer_value = bench_median(fi->whole, (int)runs);
            } else if (row == 0 && p == pi && st->on) {
                peer = "stills (text slides only)";
                peer_value = bench_median(st->whole, (int)runs);
            } else if (row == 1) {
                peer = p == fi ? "AAC alone, two-loop coder" : "AAC alone, fast coder";
                peer_value = bench_median(p->floor, (int)runs);
            }
            bench_figure(&figs[n++], name, bench_median(v, (int)runs), "s/s", peer, peer_value,
                         false);
        }
    if (pi->on)
        bench_figure(&figs[n++], "pictures: the visual chain", chain_s, "s", NULL, 0, false);
    {
        char name[64];
        struct path_runs *p = st->on ? st : fi->on ? fi : pi;

        snprintf(name, sizeof name, "narration synthesis (%s)", cfg->video_speech);
        bench_figure(&figs[n++], name, bench_median(p->speech, (int)runs), "s", NULL, 0, false);
    }
    bench_figure(&figs[n++], "video length", length > 0 ? length : pictures_length, "s", NULL, 0,
                 false);
    if (!json)
        printf("a 150-word story at 150 words a minute, %ld run%s of each path (medians), "
               "preset %s, 1280x720 H.264 + AAC\n",
               runs, runs > 1 ? "s" : "", cfg->video_preset);
    bench_report("render", figs, n, json);
out:
    json_decref(sb);
    json_decref(sb_pictures);
    paths_rmrf(dir);
    config_free(cfg);
    return code;
}
