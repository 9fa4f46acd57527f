/*
 * test_pictures.c - the visual designer's chain offline (visual.h: chart and feed, text last)
 * and pictures in a rendered video (video.h), with the real ffmpeg and espeak-ng. A story
 * whose feed gave five picture references (an HTML page named .jpg, a 1x1 tracking pixel, a
 * picture under the minimum size, then two good ones) and whose script states three figures:
 * the refused references are recorded with their reasons, the title card and a later shot get
 * the two good pictures credited to their photographer and source, the first key fact gets a
 * chart whose labels are the three figures (the slide's text files hold them, and the bars in
 * its PNG are in proportion to them), the rest are text slides; a rerun takes the saved choice
 * back. Rendered, each shot's frame shows its picture's colours within a tolerance (the
 * picture moving as [motion] says) with the credit drawn over it, the manifest says each
 * shot's source, and the control room's contact sheet labels each shot with what it shows. A story
 * stating no figures gets no chart, and says why. Single-threaded test code; no Redis (the chain
 * runs without a budget: paid providers step aside).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agents/storyboard.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/paths.h"
#include "media/proc.h"
#include "media/video.h"
#include "media/visual.h"
#include "room/room_int.h"
#include "testenv.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define W     1280
#define H     720
#define FRAME ((size_t)W * H * 3)

static const char script[] = "Unemployment fell to 4.1 percent in March, the statistics office "
                             "said. Youth unemployment stands at 11.5 percent. Long-term "
                             "unemployment is 1.9 percent of the workforce. The minister "
                             "welcomed the news on Friday.";

struct fx {
    char *dir, *ffmpeg, work[600], pkgdir[600];
    struct config *cfg;
};

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = strdup(v);
}

/* Draws a picture with ffmpeg's lavfi graph src into the test's folder as name. */
static void draw(struct fx *f, const char *src, const char *name)
{
    char path[700], *cause = NULL;
    const char *argv[] = {f->ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                          "-i",      src,        "-frames:v", "1",     path, NULL};

    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    if (proc_run(argv, NULL, 0, NULL, &cause) == -1)
        fail_msg("ffmpeg %s: %s", name, cause);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char tpl[700], path[700];

    f->dir = test_tmpdir();
    f->ffmpeg = paths_which("ffmpeg");
    assert_non_null(f->ffmpeg);
    snprintf(f->work, sizeof f->work, "%s/work", f->dir);
    snprintf(f->pkgdir, sizeof f->pkgdir, "%s/packages", f->dir);
    f->cfg = config_new();
    set_str(&f->cfg->data_dir, f->dir);
    set_str(&f->cfg->video_preset, "ultrafast");
    snprintf(tpl, sizeof tpl, "%s/config/video.conf", test_env("NEWSROOM_SOURCE_DIR"));
    set_str(&f->cfg->video_template, tpl);
    /* Two pictures of two flat colours each, left and right: what a frame must show. */
    draw(f, "color=c=0xC03020:s=480x540[l];color=c=0x20A040:s=480x540[r];[l][r]hstack", "lead.png");
    draw(f, "color=c=0x2050D0:s=480x540[l];color=c=0xE0C020:s=480x540[r];[l][r]hstack",
         "second.jpg");
    draw(f, "color=c=red:s=2x2,scale=1:1", "pixel.png");
    draw(f, "color=c=blue:s=160x90", "thumb.png");
    snprintf(path, sizeof path, "%s/page.jpg", f->dir);
    test_write_file(path, "<html><body>Moved</body></html>\n");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    config_free(f->cfg);
    test_rmrf(f->dir);
    free(f->dir);
    free(f->ffmpeg);
    free(f);
    return 0;
}

/* The story's body: its text, source and picture references as the scout stores them. */
static json_t *story(struct fx *f, const char *content, bool pictures)
{
    static const struct {
        const char *name, *kind, *credit;
    } refs[] = {
        {"page.jpg", "media:content", NULL},    {"pixel.png", "img", NULL},
        {"thumb.png", "media:thumbnail", NULL}, {"lead.png", "media:content", "Ana Lopez"},
        {"second.jpg", "og:image", NULL},
    };
    json_t *images = json_array();

    for (size_t i = 0; pictures && i < sizeof refs / sizeof refs[0]; i++) {
        json_t *r = json_pack("{s:s, s:s}", "url", "", "kind", refs[i].kind);

        json_object_set_new(r, "url", json_sprintf("file://%s/%s", f->dir, refs[i].name));
        if (refs[i].credit != NULL)
            json_object_set_new(r, "credit", json_string(refs[i].credit));
        json_array_append_new(images, r);
    }
    return json_pack("{s:s, s:s, s:s, s:{s:o}}", "title", "Unemployment falls to 4.1 percent",
                     "source", "Valley Herald", "content", content, "feed", "images", images);
}

static json_t *board(const char *text)
{
    struct storyboard_options so;

    storyboard_options_default(&so);
    return storyboard_build(text, "Unemployment falls to 4.1 percent", "Valley Herald", &so);
}

static const char *src_of(const json_t *sb, size_t i)
{
    return json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(sb, "shots"), i), "picture"), "source"));
}

static const json_t *pic_of(const json_t *sb, size_t i)
{
    return json_object_get(json_array_get(json_object_get(sb, "shots"), i), "picture");
}

/* The RGB24 pixels of a PNG, or of the video frame a 25 fps player shows at t s. */
static unsigned char *pixels(struct fx *f, const char *path, double t)
{
    char vf[96], out[700], *cause = NULL;
    unsigned char *buf = malloc(FRAME);
    FILE *fp;

    snprintf(vf, sizeof vf, "fps=25,select='eq(n,%d)'", (int)(t * 25 + 0.5));
    snprintf(out, sizeof out, "%s/frame.rgb", f->dir);
    {
        const char *argv[] = {f->ffmpeg,   "-nostdin", "-v",
                              "error",     "-y",       "-i",
                              path,        "-vf",      t < 0 ? "null" : vf,
                              "-frames:v", "1",        "-f",
                              "rawvideo",  "-pix_fmt", "rgb24",
                              out,         NULL};

        if (proc_run(argv, NULL, clock_mono_ms() + 60000, NULL, &cause) == -1)
            fail_msg("a frame of %s: %s", path, cause);
    }
    fp = fopen(out, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(buf, 1, FRAME, fp), FRAME);
    fclose(fp);
    return buf;
}

/* The mean colour of the box x0..x1, y0..y1 against want (0xRRGGBB): each channel within
 * tolerance. */
static void expect_colour(const unsigned char *px, int x0, int y0, int x1, int y1, unsigned want,
                          int tolerance, const char *what)
{
    double sum[3] = {0, 0, 0};
    int n = 0;

    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++, n++)
            for (int c = 0; c < 3; c++)
                sum[c] += px[((size_t)y * W + (size_t)x) * 3 + (size_t)c];
    for (int c = 0; c < 3; c++) {
        int got = (int)(sum[c] / n + 0.5), exp = (int)(want >> (16 - 8 * c)) & 0xff;

        if (abs(got - exp) > tolerance)
            fail_msg("%s: channel %d is %d, the picture's is %d (tolerance %d)", what, c, got, exp,
                     tolerance);
    }
}

/* How many pixels of row y from x0 to x1 are within 40 of colour c. */
static int run_of(const unsigned char *px, int y, int x0, int x1, unsigned c)
{
    int n = 0;

    for (int x = x0; x < x1; x++) {
        const unsigned char *p = px + ((size_t)y * W + (size_t)x) * 3;

        n += abs(p[0] - (int)(c >> 16 & 0xff)) < 40 && abs(p[1] - (int)(c >> 8 & 0xff)) < 40 &&
             abs(p[2] - (int)(c & 0xff)) < 40;
    }
    return n;
}

/* The texts of the chart slide's files (chart_NNN.txt) in dir, each on a line of its own
 * ("\n" first). */
static char *chart_texts(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *all = strdup("\n");
    size_t len = 1;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        char path[900], *text;

        if (strncmp(e->d_name, "chart_", 6) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        text = test_read_file(path);
        all = realloc(all, len + strlen(text) + 2);
        len += (size_t)sprintf(all + len, "%s\n", text);
        free(text);
    }
    closedir(d);
    return all;
}

static void test_chain_and_render(void **state)
{
    struct fx *f = *state;
    struct visual_env ve = {f->cfg, NULL, "pic-1", NULL, NULL};
    json_t *body = story(f, script, true), *sb = board(script), *report = NULL, *rej, *pkg = NULL;
    json_t *again, *report2 = NULL, *man;
    const json_t *chart, *labels;
    char *cause = NULL, *texts, path[900];
    unsigned char *px;

    assert_non_null(sb);
    assert_int_equal(json_array_size(json_object_get(sb, "shots")), 7);
    assert_int_equal(visual_choose(&ve, body, sb, f->work, &report, &cause), 0);
    /* The refused references and why. */
    rej = json_object_get(report, "rejected");
    assert_int_equal(json_array_size(rej), 3);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(rej, 0), "why")),
                           "not a picture: an HTML page"));
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(rej, 1), "why")),
                           "a tracking pixel (1x1)"));
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(rej, 2), "why")),
                           "too small: 160x90, under 320x180"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(report, "providers"), "pexels")),
        "no key ([visual] pexels_api_key, PEXELS_API_KEY)");
    /* Title, lower third, three key facts, narration, closing. */
    assert_string_equal(src_of(sb, 0), "feed");
    assert_string_equal(json_string_value(json_object_get(pic_of(sb, 0), "credit")),
                        "Image: Ana Lopez / Valley Herald");
    assert_string_equal(json_string_value(json_object_get(pic_of(sb, 0), "link")),
                        "visual_designer_backup");
    assert_string_equal(src_of(sb, 1), "text");
    assert_string_equal(src_of(sb, 2), "chart");
    assert_string_equal(src_of(sb, 3), "feed");
    assert_string_equal(json_string_value(json_object_get(pic_of(sb, 3), "credit")),
                        "Image: Valley Herald");
    assert_string_equal(src_of(sb, 4), "text");
    assert_string_equal(src_of(sb, 5), "text");
    assert_string_equal(src_of(sb, 6), "text");
    /* The chart: its labels are the three figures, in its plan and its text files. */
    chart = json_object_get(pic_of(sb, 2), "chart");
    labels = json_object_get(chart, "labels");
    assert_int_equal(json_array_size(labels), 3);
    assert_string_equal(json_string_value(json_array_get(labels, 0)), "4.1 percent");
    assert_string_equal(json_string_value(json_array_get(labels, 1)), "11.5 percent");
    assert_string_equal(json_string_value(json_array_get(labels, 2)), "1.9 percent");
    texts = chart_texts(f->work);
    assert_non_null(strstr(texts, "\n4.1 percent\n"));
    assert_non_null(strstr(texts, "\n11.5 percent\n"));
    assert_non_null(strstr(texts, "\n1.9 percent\n"));
    free(texts);
    /* Its bars in proportion: 11.5 is the full length, the others their share of it. */
    snprintf(path, sizeof path, "%s/%s", f->work,
             json_string_value(json_object_get(pic_of(sb, 2), "file")));
    px = pixels(f, path, -1);
    {
        int full = run_of(px, 200 + 106 + 53, 500, W, 0xE63946);
        int a = run_of(px, 200 + 53, 500, W, 0xE63946),
            c = run_of(px, 200 + 212 + 53, 500, W, 0xE63946);

        printf("chart bars: %d %d %d pixels for 4.1, 11.5, 1.9\n", a, full, c);
        assert_true(full > 500);
        assert_true(abs(a - (int)(full * 4.1 / 11.5)) <= 3);
        assert_true(abs(c - (int)(full * 1.9 / 11.5)) <= 3);
    }
    free(px);
    /* A rerun for the same storyboard takes the saved choice back. */
    again = board(script);
    assert_int_equal(visual_choose(&ve, body, again, f->work, &report2, &cause), 0);
    assert_true(json_is_true(json_object_get(report2, "reused")));
    assert_true(json_equal(json_object_get(again, "shots"), json_object_get(sb, "shots")));
    json_decref(again);
    json_decref(report2);

    /* Rendered: the pictures reach the video, credited. */
    json_object_set(sb, "visuals", report);
    if (video_render(f->cfg, f->pkgdir, "pic-1", sb, &pkg, &cause) == -1)
        fail_msg("render: %s", cause);
    snprintf(path, sizeof path, "%s/pic-1/manifest.json", f->pkgdir);
    man = json_load_file(path, 0, NULL);
    assert_non_null(man);
    {
        static const char *const want[] = {"feed", "text", "chart", "feed", "text", "text", "text"};
        const json_t *shots = json_object_get(man, "shots");

        assert_int_equal(json_array_size(shots), 7);
        for (size_t i = 0; i < 7; i++)
            assert_string_equal(src_of(man, i), want[i]);
        assert_string_equal(json_string_value(json_object_get(pic_of(man, 0), "motion")),
                            "zoom_in");
        assert_string_equal(json_string_value(json_object_get(pic_of(man, 3), "motion")),
                            "pan_left");
        assert_string_equal(json_string_value(json_object_get(pic_of(man, 3), "file")),
                            "pictures/shot04.jpg");
        assert_true(json_integer_value(json_object_get(pic_of(man, 3), "bytes")) > 0);
        assert_non_null(json_object_get(json_object_get(man, "visuals"), "rejected"));
    }
    {
        const json_t *shots = json_object_get(pkg, "shots");
        double t0 =
            (double)json_integer_value(json_object_get(json_array_get(shots, 0), "end_ms")) / 4000;
        double a3 =
            (double)json_integer_value(json_object_get(json_array_get(shots, 3), "start_ms")) /
            1000;
        double z3 =
            (double)json_integer_value(json_object_get(json_array_get(shots, 3), "end_ms")) / 1000;

        snprintf(path, sizeof path, "%s/pic-1/video.mp4", f->pkgdir);
        /* The title card zooms into the lead picture: red left, green right, above the band
         * that holds the headline. */
        px = pixels(f, path, t0);
        expect_colour(px, 150, 80, 350, 160, 0xC03020, 14, "title card, left");
        expect_colour(px, 930, 80, 1130, 160, 0x20A040, 14, "title card, right");
        free(px);
        /* The fourth shot pans across the second picture, its credit drawn on a box. */
        px = pixels(f, path, (a3 + z3) / 2);
        expect_colour(px, 150, 300, 400, 420, 0x2050D0, 14, "a feed picture, left");
        expect_colour(px, 900, 300, 1150, 420, 0xE0C020, 14, "a feed picture, right");
        {
            int bright = 0, picture = 0;

            for (int y = 676; y < 704; y++)
                for (int x = 1060; x < 1250; x++) {
                    const unsigned char *p = px + ((size_t)y * W + (size_t)x) * 3;

                    bright += p[0] > 200 && p[1] > 200 && p[2] > 200;
                    picture +=
                        abs(p[0] - 0xE0) < 20 && abs(p[1] - 0xC0) < 20 && abs(p[2] - 0x20) < 20;
                }
            printf("credit box: %d bright text pixels, %d of the picture's colour\n", bright,
                   picture);
            assert_true(bright > 100);
            assert_true(picture < 200); /* darkened by the box, not the bare picture */
        }
        free(px);
    }
    /* The control room's contact sheet: a frame of each shot and what it shows. */
    {
        struct room_frames *fr = room_frames_fetch(f->cfg, "pic-1", pkg);
        static const char *const sheet[] = {"feed image", "text slide", "chart",     "feed image",
                                            "text slide", "text slide", "text slide"};

        assert_string_equal(fr->note, "");
        assert_int_equal(fr->nsheet, 7);
        for (size_t i = 0; i < 7; i++)
            assert_string_equal(fr->sheet[i].label, sheet[i]);
        assert_string_equal(fr->thumb.label, "");
        room_frames_free(fr);
    }
    json_decref(man);
    json_decref(pkg);
    json_decref(report);
    json_decref(body);
    json_decref(sb);
}

/* A story that states no figure (a year is none) gets no chart, and the chain says why. */
static void test_no_figures(void **state)
{
    static const char plain[] = "The minister resigned on Friday after the vote of 2019 was "
                                "annulled. Her deputy takes over.";
    struct fx *f = *state;
    struct visual_env ve = {f->cfg, NULL, "pic-2", NULL, NULL};
    json_t *body = story(f, plain, false), *sb = board(plain), *report = NULL;
    const json_t *tried;
    char *cause = NULL;
    size_t i, n = json_array_size(json_object_get(sb, "shots"));
    bool said = false;

    assert_int_equal(visual_choose(&ve, body, sb, f->work, &report, &cause), 0);
    for (i = 0; i < n; i++) {
        assert_string_equal(src_of(sb, i), "text");
        tried = json_object_get(pic_of(sb, i), "tried");
        for (size_t k = 0; k < json_array_size(tried); k++)
            said |= strstr(json_string_value(json_object_get(json_array_get(tried, k), "why")),
                           "a chart needs two") != NULL;
    }
    assert_true(said);
    assert_null(json_object_get(json_object_get(report, "sources"), "chart"));
    json_decref(report);
    json_decref(body);
    json_decref(sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_and_render, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_figures, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
