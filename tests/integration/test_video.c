/*
 * test_video.c - the producer's video (video.h, speech.h, proc.h) with the real espeak-ng and
 * ffmpeg: a ~40-word story rendered end to end by both paths, stills and filters (ffprobe: one
 * H.264 1280x720 yuv420p stream and one AAC stream, the moov atom first, a length within 2% of
 * the package's and of title card + narration; the stills path encoding only the frames that
 * differ; captions a valid SRT inside the narration; the thumbnail a 1280x720 PNG; the
 * manifest matching the files); a frame from the middle of every segment of the stills video
 * against the same frame of the filters video (mean absolute difference per channel, and of
 * the worst 16x16 block, within tolerances; the next segment's frame outside them, so the
 * comparison can fail), the two thumbnails likewise; a render past its time limit killed with
 * the reason, TIMEOUT and no files or processes left; the failure classes (a read-only
 * folder, a full tmpfs as root, a file size limit: ENV; a bad id or template: INPUT); the
 * sweep of temporary folders (a killed render's removed, a live one of another process kept,
 * its helper dying with it); the producer in a swarm (shared test Redis, database 7)
 * sweeping a dead render's folder at start and rendering a story that the publisher then
 * publishes with its files, and, with ffmpeg pointing at a missing program, writing the
 * storyboard marked "unavailable"; the ElevenLabs provider against a local fake of its API
 * (fake_tts.h) that checks each request. Renders use libx264's ultrafast preset so the suite
 * stays quick on two cores. Single-threaded test code (the swarm's threads are the code under
 * test; the sweep test forks a process that plays another render).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agents/agent.h"
#include "media/proc.h"
#include "media/speech.h"
#include "agents/storyboard.h"
#include "media/video.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/paths.h"
#include "cost/pricing.h"
#include "fake_tts.h"
#include "store/blackboard.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DB 7

static const char short_script[] =
    "The city council approved a new budget of 86.6 million dollars on Tuesday. "
    "The plan adds twelve bus routes and repairs three bridges. "
    "Officials said the work starts in May and should finish within two years.";

struct fx {
    char *dir;
    char pkgdir[600];
    struct config *cfg;
};

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = strdup(v);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char tpl[700];

    f->dir = test_tmpdir();
    snprintf(f->pkgdir, sizeof f->pkgdir, "%s/packages", f->dir);
    f->cfg = config_new();
    set_str(&f->cfg->data_dir, f->dir);
    set_str(&f->cfg->video_preset, "ultrafast");
    snprintf(tpl, sizeof tpl, "%s/config/video.conf", test_env("NEWSROOM_SOURCE_DIR"));
    set_str(&f->cfg->video_template, tpl);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    umount2(f->pkgdir, MNT_DETACH); /* a tmpfs of test_fail_env's, if it stopped half-way */
    config_free(f->cfg);
    test_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static json_t *board(const char *script)
{
    struct storyboard_options so;

    storyboard_options_default(&so);
    return storyboard_build(script, "Council approves a \"bigger\" budget: 100% done?",
                            "City Desk {wire}", &so);
}

/* Entries of dir (not . and ..). */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static int64_t size_of(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

/* ffprobe's JSON of path. */
static json_t *probe(const char *path)
{
    char *prog = paths_which("ffprobe"), *cause = NULL;
    struct proc_result r;
    json_t *j;

    assert_non_null(prog);
    {
        const char *argv[] = {prog,
                              "-v",
                              "error",
                              "-show_entries",
                              "stream=codec_type,codec_name,width,height,pix_fmt,nb_frames,"
                              "sample_rate:format=duration",
                              "-of",
                              "json",
                              path,
                              NULL};

        if (proc_run(argv, NULL, clock_mono_ms() + 30000, &r, &cause) == -1)
            fail_msg("ffprobe: %s", cause);
    }
    j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    proc_result_clear(&r);
    free(prog);
    return j;
}

static int64_t srt_ms(const char *s)
{
    int h, m, sec, ms;

    assert_int_equal(sscanf(s, "%2d:%2d:%2d,%3d", &h, &m, &sec, &ms), 4);
    return ((int64_t)h * 3600 + m * 60 + sec) * 1000 + ms;
}

/* A valid SRT: numbered cues from 1, "A --> B" with A < B and never going back, text lines,
 * blank lines between. Returns the cues' first start and last end. */
static void check_srt(const char *srt, int64_t *first, int64_t *last)
{
    const char *p = srt;
    int n = 0;
    int64_t prev = 0;

    *first = -1;
    while (*p != '\0') {
        char line[256];
        int num;
        int64_t a, z;

        assert_int_equal(sscanf(p, "%d\n", &num), 1);
        assert_int_equal(num, ++n);
        p = strchr(p, '\n') + 1;
        snprintf(line, sizeof line, "%.*s", (int)strcspn(p, "\n"), p);
        assert_non_null(strstr(line, " --> "));
        a = srt_ms(line);
        z = srt_ms(strstr(line, " --> ") + 5);
        assert_true(a < z);
        assert_true(a >= prev);
        if (*first < 0)
            *first = a;
        prev = z;
        p = strchr(p, '\n') + 1;
        assert_true(*p != '\n' && *p != '\0'); /* at least one text line */
        while (*p != '\0' && *p != '\n')
            p = strchr(p, '\n') + 1;
        if (*p == '\n')
            p++;
    }
    assert_true(n > 0);
    *last = prev;
}

/* The PNG signature and an IHDR of width x height. */
static void check_png(const char *path, unsigned w, unsigned h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char b[24];
    FILE *fp = fopen(path, "rb");

    assert_non_null(fp);
    assert_int_equal(fread(b, 1, 24, fp), 24);
    fclose(fp);
    assert_memory_equal(b, sig, 8);
    assert_memory_equal(b + 12, "IHDR", 4);
    assert_int_equal((unsigned)b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19], w);
    assert_int_equal((unsigned)b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23], h);
}

/* Whether the MP4 at path has its moov atom before its mdat (faststart: a player can begin
 * before the whole file has arrived). */
static bool moov_first(const char *path)
{
    FILE *fp = fopen(path, "rb");
    unsigned char h[16];
    bool moov = false;

    assert_non_null(fp);
    while (fread(h, 1, 8, fp) == 8) {
        uint64_t size = (uint64_t)h[0] << 24 | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 8 | h[3];
        long head = 8;

        if (size == 1) {
            assert_int_equal(fread(h + 8, 1, 8, fp), 8);
            size = 0;
            for (int i = 8; i < 16; i++)
                size = size << 8 | h[i];
            head = 16;
        }
        if (memcmp(h + 4, "moov", 4) == 0)
            moov = true;
        if (memcmp(h + 4, "mdat", 4) == 0)
            break;
        if (size < (uint64_t)head || fseek(fp, (long)size - head, SEEK_CUR) != 0)
            break;
    }
    fclose(fp);
    return moov;
}

/* Everything a rendered package promises, for the package pkg of folder, which holds n files
 * (the package's 5, or more where the publisher added its own). */
static void check_package(const json_t *pkg, const char *folder, int n)
{
    char path[800], *text, *cause = NULL;
    json_t *pr, *st, *man, *fl, *v;
    int video = 0, audio = 0;
    int64_t narration, wav_ms, duration, title = 2000, first, last, frames = 0;
    double probed;
    const char *compose;
    size_t i;

    assert_string_equal(json_string_value(json_object_get(pkg, "kind")), "video");
    assert_non_null(strstr(json_string_value(json_object_get(pkg, "mp4")), "/video.mp4"));
    narration = json_integer_value(json_object_get(pkg, "narration_ms"));
    duration = json_integer_value(json_object_get(pkg, "duration_ms"));
    assert_true(narration > 5000);
    /* The narration measured is the narration spoken. */
    snprintf(path, sizeof path, "%s/narration.wav", folder);
    assert_int_equal(speech_wav_duration(path, &wav_ms, &cause), 0);
    assert_int_equal(wav_ms, narration);

    snprintf(path, sizeof path, "%s/manifest.json", folder);
    man = json_load_file(path, 0, NULL);
    assert_non_null(man);
    compose = json_string_value(json_object_get(man, "compose"));
    assert_non_null(compose);

    snprintf(path, sizeof path, "%s/video.mp4", folder);
    pr = probe(path);
    json_array_foreach(json_object_get(pr, "streams"), i, st)
    {
        const char *type = json_string_value(json_object_get(st, "codec_type"));

        if (strcmp(type, "video") == 0) {
            video++;
            assert_string_equal(json_string_value(json_object_get(st, "codec_name")), "h264");
            assert_int_equal(json_integer_value(json_object_get(st, "width")), 1280);
            assert_int_equal(json_integer_value(json_object_get(st, "height")), 720);
            assert_string_equal(json_string_value(json_object_get(st, "pix_fmt")), "yuv420p");
            frames = atoll(json_string_value(json_object_get(st, "nb_frames")));
        } else if (strcmp(type, "audio") == 0) {
            audio++;
            assert_string_equal(json_string_value(json_object_get(st, "codec_name")), "aac");
        }
    }
    assert_int_equal(video, 1);
    assert_int_equal(audio, 1);
    probed = atof(json_string_value(json_object_get(json_object_get(pr, "format"), "duration")));
    json_decref(pr);
    /* Title card + narration + closing card, within 2% of what the package says. */
    assert_true(probed * 1000 >= (double)(title + narration) * 0.98);
    assert_true(probed * 1000 - (double)duration <= (double)duration * 0.02);
    assert_true((double)duration - probed * 1000 <= (double)duration * 0.02);
    /* Filters: every frame at 25 a second; stills: a frame per change of picture (each shot
     * starts and ends one, with the first and the last), never one a 40 ms tick. */
    if (strcmp(compose, "filters") == 0)
        assert_true(llabs(frames - duration * 25 / 1000) <= 2);
    else
        assert_true(frames >= 3 &&
                    frames <= 2 * (int64_t)json_array_size(json_object_get(pkg, "shots")) + 2);
    /* Players: the index comes first. */
    assert_true(moov_first(path));

    snprintf(path, sizeof path, "%s/captions.srt", folder);
    text = test_read_file(path);
    assert_non_null(text);
    assert_string_equal(text, json_string_value(json_object_get(pkg, "captions_srt")));
    check_srt(text, &first, &last);
    free(text);
    /* The cues lie inside the narration and cover nearly all of it. */
    assert_int_equal(first, title);
    assert_true(last <= title + narration);
    assert_true(last >= title + narration * 9 / 10);

    snprintf(path, sizeof path, "%s/thumbnail.png", folder);
    check_png(path, 1280, 720);

    assert_int_equal(json_integer_value(json_object_get(man, "duration_ms")), duration);
    assert_non_null(
        strstr(json_string_value(json_object_get(json_object_get(man, "tools"), "ffmpeg")),
               "ffmpeg version"));
    assert_non_null(
        strstr(json_string_value(json_object_get(json_object_get(man, "tools"), "espeak-ng")),
               "eSpeak NG"));
    fl = json_object_get(man, "files");
    assert_int_equal(json_array_size(fl), 4); /* narration, video, thumbnail, captions */
    json_array_foreach(fl, i, v)
    {
        snprintf(path, sizeof path, "%s/%s", folder, json_string_value(json_object_get(v, "name")));
        assert_true(size_of(path) > 0);
        assert_int_equal(json_integer_value(json_object_get(v, "bytes")), size_of(path));
    }
    json_decref(man);
    /* Only the package: no text files for ffmpeg left over. */
    assert_int_equal(entries(folder), n);
}

/* Renders sb as story id into f->pkgdir by the compose path; fails the test on failure. */
static json_t *render(struct fx *f, const char *compose, const char *id, const json_t *sb)
{
    json_t *pkg = NULL;
    char *cause = NULL;

    set_str(&f->cfg->video_compose, compose);
    if (video_render(f->cfg, f->pkgdir, id, sb, &pkg, &cause) == -1)
        fail_msg("render (%s): %s", compose, cause);
    assert_int_equal(video_last_fail(), VIDEO_FAIL_NONE);
    return pkg;
}

static void test_render(void **state)
{
    struct fx *f = *state;
    json_t *sb = board(short_script), *pkg;
    char folder[700];

    pkg = render(f, "stills", "story-1", sb);
    snprintf(folder, sizeof folder, "%s/story-1", f->pkgdir);
    check_package(pkg, folder, 5);
    assert_int_equal(entries(f->pkgdir), 1); /* no temporary folder left */
    /* The package names its files and folder; the storyboard's shots are re-timed. */
    assert_non_null(strstr(json_string_value(json_object_get(pkg, "folder")), "/story-1"));
    assert_int_equal(json_array_size(json_object_get(pkg, "shots")),
                     json_array_size(json_object_get(sb, "shots")));
    json_decref(pkg);
    /* Today's path still gives the same package. */
    pkg = render(f, "filters", "story-f", sb);
    snprintf(folder, sizeof folder, "%s/story-f", f->pkgdir);
    check_package(pkg, folder, 5);
    assert_int_equal(entries(f->pkgdir), 2);
    json_decref(pkg);
    json_decref(sb);
}

/* ---- the stills path draws what the filters path draws ---- */

#define FRAME_BYTES (1280 * 720 * 3)
/* Tolerances, in levels of 255: the mean absolute difference of a channel over the frame, and
 * of the worst 16x16 block (all channels); two encodes of one picture stay well inside them,
 * a wrong or missing line of text does not. */
#define TOL_MEAN  1.0
#define TOL_BLOCK 10.0

/* The frames with CFR indexes idx[0..n) of the MP4 at path as a 25 fps player shows them
 * (a variable frame rate's frame held until the next one), as RGB24, in one buffer of
 * n * FRAME_BYTES; dir is scratch space. */
static unsigned char *frames_at(const char *path, const int64_t *idx, int n, const char *dir)
{
    char *prog = paths_which("ffmpeg"), *cause = NULL, *vf, out[700];
    unsigned char *buf = malloc((size_t)n * FRAME_BYTES);
    size_t len = 0, cap = 64;

    vf = malloc(cap);
    len = (size_t)snprintf(vf, cap, "fps=25,select='");
    for (int i = 0; i < n; i++) {
        char term[48];
        int k = snprintf(term, sizeof term, "%seq(n,%lld)", i > 0 ? "+" : "", (long long)idx[i]);

        if (len + (size_t)k + 4 > cap)
            vf = realloc(vf, cap = (len + (size_t)k + 4) * 2);
        memcpy(vf + len, term, (size_t)k + 1);
        len += (size_t)k;
    }
    memcpy(vf + len, "'", 2);
    snprintf(out, sizeof out, "%s/f%%03d.rgb", dir);
    {
        const char *argv[] = {prog,          "-nostdin", "-v",     "error", "-y",
                              "-i",          path,       "-vf",    vf,      "-fps_mode",
                              "passthrough", "-f",       "image2", "-c:v",  "rawvideo",
                              "-pix_fmt",    "rgb24",    out,      NULL};

        if (proc_run(argv, NULL, clock_mono_ms() + 60000, NULL, &cause) == -1)
            fail_msg("frames of %s: %s", path, cause);
    }
    for (int i = 0; i < n; i++) {
        char name[720];
        FILE *fp;

        snprintf(name, sizeof name, "%s/f%03d.rgb", dir, i + 1);
        fp = fopen(name, "rb");
        if (fp == NULL)
            fail_msg("%s has no frame %lld (%s)", path, (long long)idx[i], vf);
        assert_int_equal(fread(buf + (size_t)i * FRAME_BYTES, 1, FRAME_BYTES, fp), FRAME_BYTES);
        fclose(fp);
        unlink(name);
    }
    free(vf);
    free(prog);
    return buf;
}

/* A PNG decoded to RGB24 (FRAME_BYTES). */
static unsigned char *png_rgb(const char *path, const char *dir)
{
    const int64_t zero = 0;

    return frames_at(path, &zero, 1, dir);
}

struct diff {
    double mean[3]; /* per channel */
    double block;   /* the worst 16x16 block, all channels */
};

static struct diff compare(const unsigned char *a, const unsigned char *b)
{
    struct diff d = {{0, 0, 0}, 0};
    uint64_t sum[3] = {0, 0, 0};

    for (size_t i = 0; i < FRAME_BYTES; i++)
        sum[i % 3] += (uint64_t)abs((int)a[i] - (int)b[i]);
    for (int c = 0; c < 3; c++)
        d.mean[c] = (double)sum[c] / (1280.0 * 720.0);
    for (int by = 0; by < 720; by += 16)
        for (int bx = 0; bx < 1280; bx += 16) {
            uint64_t s = 0;

            for (int y = by; y < by + 16; y++)
                for (int x = bx * 3; x < (bx + 16) * 3; x++) {
                    size_t o = (size_t)y * 1280 * 3 + (size_t)x;

                    s += (uint64_t)abs((int)a[o] - (int)b[o]);
                }
            if ((double)s / (16 * 16 * 3) > d.block)
                d.block = (double)s / (16 * 16 * 3);
        }
    return d;
}

static bool within(const struct diff *d)
{
    return d->mean[0] <= TOL_MEAN && d->mean[1] <= TOL_MEAN && d->mean[2] <= TOL_MEAN &&
           d->block <= TOL_BLOCK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static void test_frames_match(void **state)
{
    struct fx *f = *state;
    json_t *sb = board(short_script), *ps, *pf, *sh;
    int64_t cuts[64], idx[64], duration;
    char mp4s[700], mp4f[700], scratch[700];
    unsigned char *fs, *ff;
    int ncuts = 0, nseg = 0, controls = 0;
    double worst_mean = 0, worst_block = 0, closest_other = 1e9;
    size_t i;

    ps = render(f, "stills", "cmp-stills", sb);
    pf = render(f, "filters", "cmp-filters", sb);
    /* The same re-timed shots, so the same segments. */
    assert_true(json_equal(json_object_get(ps, "shots"), json_object_get(pf, "shots")));
    duration = json_integer_value(json_object_get(ps, "duration_ms"));
    cuts[ncuts++] = 0;
    cuts[ncuts++] = duration;
    json_array_foreach(json_object_get(ps, "shots"), i, sh)
    {
        assert_true(ncuts + 2 <= 64);
        cuts[ncuts++] = json_integer_value(json_object_get(sh, "start_ms"));
        cuts[ncuts++] = json_integer_value(json_object_get(sh, "end_ms"));
    }
    qsort(cuts, (size_t)ncuts, sizeof cuts[0], cmp_i64);
    /* A frame from the middle of every segment at least 200 ms long. */
    for (int k = 0; k + 1 < ncuts; k++)
        if (cuts[k + 1] - cuts[k] >= 200)
            idx[nseg++] = (cuts[k] + cuts[k + 1]) / 2 * 25 / 1000;
    assert_true(nseg >= 4);
    snprintf(mp4s, sizeof mp4s, "%s/cmp-stills/video.mp4", f->pkgdir);
    snprintf(mp4f, sizeof mp4f, "%s/cmp-filters/video.mp4", f->pkgdir);
    snprintf(scratch, sizeof scratch, "%s/frames", f->dir);
    assert_int_equal(mkdir(scratch, 0755), 0);
    fs = frames_at(mp4s, idx, nseg, scratch);
    ff = frames_at(mp4f, idx, nseg, scratch);
    for (int k = 0; k < nseg; k++) {
        struct diff d = compare(fs + (size_t)k * FRAME_BYTES, ff + (size_t)k * FRAME_BYTES);

        printf("segment %d (frame %lld): mean |diff| R %.3f G %.3f B %.3f, worst block %.2f\n", k,
               (long long)idx[k], d.mean[0], d.mean[1], d.mean[2], d.block);
        if (!within(&d))
            fail_msg("segment %d (frame %lld) of the stills video differs from the filters "
                     "video's",
                     k, (long long)idx[k]);
        for (int c = 0; c < 3; c++)
            worst_mean = d.mean[c] > worst_mean ? d.mean[c] : worst_mean;
        worst_block = d.block > worst_block ? d.block : worst_block;
        /* The comparison can fail: where the next segment's picture is another one, the
         * stills frame against it is outside the tolerances. */
        if (k + 1 < nseg) {
            const unsigned char *next = ff + (size_t)(k + 1) * FRAME_BYTES;
            struct diff o = compare(ff + (size_t)k * FRAME_BYTES, next);

            if (o.block > TOL_BLOCK) {
                o = compare(fs + (size_t)k * FRAME_BYTES, next);
                assert_false(within(&o));
                closest_other = o.block < closest_other ? o.block : closest_other;
                controls++;
            }
        }
    }
    assert_true(controls >= 2);
    printf("stills against filters, %d segments: worst channel mean %.3f (tolerance %.1f), "
           "worst block %.2f (tolerance %.1f); %d other segments' frames: worst block >= %.2f\n",
           nseg, worst_mean, TOL_MEAN, worst_block, TOL_BLOCK, controls, closest_other);
    free(fs);
    free(ff);
    /* The thumbnails: the stills path's drawn title card, the filters path's decoded one. */
    {
        char ts[720], tf[720];
        struct diff d;

        snprintf(ts, sizeof ts, "%s/cmp-stills/thumbnail.png", f->pkgdir);
        snprintf(tf, sizeof tf, "%s/cmp-filters/thumbnail.png", f->pkgdir);
        fs = png_rgb(ts, scratch);
        ff = png_rgb(tf, scratch);
        d = compare(fs, ff);
        printf("thumbnails: mean |diff| R %.3f G %.3f B %.3f, worst block %.2f\n", d.mean[0],
               d.mean[1], d.mean[2], d.block);
        assert_true(within(&d));
        free(fs);
        free(ff);
    }
    json_decref(ps);
    json_decref(pf);
    json_decref(sb);
}

/* ---- failures and their classes ---- */

/* A process other than this one whose folder (cwd) is dir or below it (a helper running
 * there), or 0. */
static pid_t process_in(const char *dir)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;
    size_t n = strlen(dir);

    assert_non_null(d);
    while (found == 0 && (e = readdir(d)) != NULL) {
        int pid = atoi(e->d_name);
        char link[64], cwd[1024];
        ssize_t k;

        if (pid <= 0 || pid == (int)getpid())
            continue;
        snprintf(link, sizeof link, "/proc/%d/cwd", pid);
        k = readlink(link, cwd, sizeof cwd - 1);
        if (k <= 0)
            continue;
        cwd[k] = '\0';
        if (strncmp(cwd, dir, n) == 0 && (cwd[n] == '\0' || cwd[n] == '/'))
            found = pid;
    }
    closedir(d);
    return found;
}

static void test_timeout(void **state)
{
    struct fx *f = *state;
    char *script = calloc(1, 16 * sizeof short_script), *cause = NULL;
    json_t *sb, *pkg = NULL;
    int64_t t0;

    for (int i = 0; i < 12; i++) {
        strcat(script, short_script);
        strcat(script, " ");
    }
    sb = board(script);
    /* Today's path at its slowest: every frame drawn and encoded, well past a second. */
    f->cfg->video_render_timeout_s = 1;
    set_str(&f->cfg->video_preset, "veryslow");
    set_str(&f->cfg->video_compose, "filters");
    t0 = clock_mono_ms();
    assert_int_equal(video_render(f->cfg, f->pkgdir, "story-2", sb, &pkg, &cause), -1);
    assert_true(clock_mono_ms() - t0 < 5000);
    assert_null(pkg);
    assert_non_null(strstr(cause, "time limit of 1 s"));
    assert_int_equal(video_last_fail(), VIDEO_FAIL_TIMEOUT);
    assert_int_equal(entries(f->pkgdir), 0);
    /* The killed ffmpeg was waited for: nothing runs in the package folder. */
    assert_int_equal(process_in(f->pkgdir), 0);
    free(cause);
    free(script);
    json_decref(sb);
}

static void test_unavailable(void **state)
{
    struct fx *f = *state;
    char *why, *cause = NULL;
    json_t *sb = board(short_script), *pkg = NULL;

    set_str(&f->cfg->video_ffmpeg, "/nonexistent/ffmpeg");
    why = video_unavailable(f->cfg);
    assert_string_equal(why, "/nonexistent/ffmpeg not found");
    free(why);
    assert_int_equal(video_render(f->cfg, f->pkgdir, "story-3", sb, &pkg, &cause), -1);
    assert_int_equal(video_last_fail(), VIDEO_FAIL_ENV); /* a tool missing */
    free(cause);
    set_str(&f->cfg->video_ffmpeg, "ffmpeg");
    set_str(&f->cfg->video_espeak, "none");
    why = video_unavailable(f->cfg);
    assert_non_null(strstr(why, "turned off"));
    free(why);
    set_str(&f->cfg->video_espeak, "espeak-ng");
    set_str(&f->cfg->video_compose, "slideshow");
    why = video_unavailable(f->cfg);
    assert_non_null(strstr(why, "\"slideshow\" is neither stills nor filters"));
    free(why);
    assert_int_equal(entries(f->pkgdir), 0);
    json_decref(sb);
}

/* Expects the render of sb to fail with class want, leaving nothing behind; returns the
 * cause (free it). */
static char *render_fails(struct fx *f, const json_t *sb, const char *id, enum video_fail want)
{
    json_t *pkg = NULL;
    char *cause = NULL;

    assert_int_equal(video_render(f->cfg, f->pkgdir, id, sb, &pkg, &cause), -1);
    assert_null(pkg);
    assert_non_null(cause);
    printf("%s: %s\n", id, cause);
    if (video_last_fail() != want)
        fail_msg("%s: class %d, wanted %d (%s)", id, video_last_fail(), want, cause);
    return cause;
}

static void test_fail_input(void **state)
{
    struct fx *f = *state;
    json_t *sb = board(short_script);
    char tpl[700];

    free(render_fails(f, sb, ".hidden", VIDEO_FAIL_INPUT));
    free(render_fails(f, sb, "a/b", VIDEO_FAIL_INPUT));
    snprintf(tpl, sizeof tpl, "%s/bad.conf", f->dir);
    test_write_file(tpl, "[template]\nfps = many\n");
    set_str(&f->cfg->video_template, tpl);
    free(render_fails(f, sb, "story-t", VIDEO_FAIL_INPUT));
    /* A success clears the class. */
    set_str(&f->cfg->video_template, "");
    json_decref(render(f, "stills", "story-ok", sb));
    json_decref(sb);
}

/* Mounts a tmpfs with opts on dir when this process may (root in a namespace that allows
 * it); returns whether it did. */
static bool mount_tmpfs(const char *dir, const char *opts)
{
    return mount("tmpfs", dir, "tmpfs", 0, opts) == 0;
}

static void test_fail_env(void **state)
{
    struct fx *f = *state;
    json_t *sb = board(short_script);
    struct rlimit old, small;
    bool mounted;
    char *cause;

    /* A read-only packages folder: a read-only tmpfs as root, else a folder without write
     * permission. */
    assert_int_equal(mkdir(f->pkgdir, 0755), 0);
    mounted = mount_tmpfs(f->pkgdir, "size=1m");
    if (mounted)
        assert_int_equal(mount(NULL, f->pkgdir, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);
    else if (geteuid() != 0)
        assert_int_equal(chmod(f->pkgdir, 0555), 0);
    if (mounted || geteuid() != 0) {
        cause = render_fails(f, sb, "story-ro", VIDEO_FAIL_ENV);
        assert_true(strstr(cause, "Read-only file system") != NULL ||
                    strstr(cause, "Permission denied") != NULL);
        free(cause);
    } else {
        printf("read-only folder: skipped (root without mount)\n");
    }
    if (mounted)
        assert_int_equal(umount(f->pkgdir), 0);
    chmod(f->pkgdir, 0755);
    assert_int_equal(entries(f->pkgdir), 0);

    /* No space left: a 256 KB tmpfs, when this process may mount one. */
    if (mount_tmpfs(f->pkgdir, "size=256k")) {
        cause = render_fails(f, sb, "story-full", VIDEO_FAIL_ENV);
        assert_non_null(strstr(cause, "No space left on device"));
        free(cause);
        assert_int_equal(entries(f->pkgdir), 0);
        assert_int_equal(umount(f->pkgdir), 0);
    } else {
        printf("full folder: skipped (cannot mount a tmpfs)\n");
    }

    /* A file size limit (any user): the speech program is killed by SIGXFSZ writing the
     * narration. This process ignores the signal meanwhile (its own writes are small). */
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 64 * 1024;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    cause = render_fails(f, sb, "story-fsize", VIDEO_FAIL_ENV);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    assert_true(strstr(cause, "signal") != NULL || strstr(cause, "File too large") != NULL);
    free(cause);
    assert_int_equal(entries(f->pkgdir), 0);
    json_decref(sb);
}

/* ---- temporary folders ---- */

/* Plays another process's render: makes and locks a temporary folder for story id in pkgdir
 * (its name into folder), starts a helper (sleep) in it that inherits the lock, as a render's
 * ffmpeg does, and runs until killed. Returns the process's pid once the folder is locked. */
static pid_t other_render(const char *pkgdir, const char *id, char *folder, size_t size)
{
    int p[2];
    pid_t pid;

    snprintf(folder, size, "%s/.%s.XXXXXX", pkgdir, id);
    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *sleep_prog = paths_which("sleep"), *cause = NULL, mark[800];
        const char *argv[] = {sleep_prog, "600", NULL};
        int fd;

        close(p[0]);
        if (mkdtemp(folder) == NULL || (fd = open(folder, O_RDONLY | O_DIRECTORY)) == -1 ||
            flock(fd, LOCK_EX) == -1)
            _exit(1);
        snprintf(mark, sizeof mark, "%s/%s", folder, VIDEO_TEMP_MARK);
        test_write_file(mark, "");
        if (write(p[1], folder, strlen(folder) + 1) < 0)
            _exit(1);
        close(p[1]);
        proc_inherit(fd);
        proc_run(argv, folder, 0, NULL, &cause); /* until killed */
        _exit(0);
    }
    close(p[1]);
    assert_true(read(p[0], folder, size) > 0);
    close(p[0]);
    return pid;
}

/* Whether process pid runs (exists and is not a zombie waiting for a reaper). */
static bool alive(pid_t pid)
{
    char path[64], stat[512], *end;
    FILE *fp;
    bool yes = false;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if ((fp = fopen(path, "r")) == NULL)
        return false;
    if (fgets(stat, sizeof stat, fp) != NULL && (end = strrchr(stat, ')')) != NULL)
        yes = end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
    fclose(fp);
    return yes;
}

static void test_sweep(void **state)
{
    struct fx *f = *state;
    char dead[700], live[700], keep[700], other_tmp[700], path[800];
    pid_t other, helper;

    /* Nothing to sweep: no folder. */
    assert_int_equal(video_sweep(f->pkgdir), 0);
    assert_int_equal(mkdir(f->pkgdir, 0755), 0);
    /* What a killed render left: a marked temporary folder nobody holds, with files. */
    snprintf(dead, sizeof dead, "%s/.story-d.a1b2c3", f->pkgdir);
    assert_int_equal(mkdir(dead, 0700), 0);
    snprintf(path, sizeof path, "%s/narration.wav", dead);
    test_write_file(path, "RIFF");
    snprintf(path, sizeof path, "%s/%s", dead, VIDEO_TEMP_MARK);
    test_write_file(path, "");
    /* Not ours: a package, another writer's temporary folder (unmarked) and a hidden file,
     * all of similar names. */
    snprintf(keep, sizeof keep, "%s/story-k", f->pkgdir);
    assert_int_equal(mkdir(keep, 0755), 0);
    snprintf(other_tmp, sizeof other_tmp, "%s/.story-p.Q7w8e9", f->pkgdir);
    assert_int_equal(mkdir(other_tmp, 0700), 0);
    snprintf(path, sizeof path, "%s/.notes.a1b2c3", f->pkgdir);
    test_write_file(path, "x");
    /* A live render of another process, its helper running in its folder. */
    other = other_render(f->pkgdir, "story-l", live, sizeof live);
    AWAIT(10, (helper = process_in(live)) != 0);
    assert_int_equal(video_sweep(f->pkgdir), 1);
    assert_true(access(dead, F_OK) != 0);
    assert_int_equal(access(live, F_OK), 0);
    assert_int_equal(access(keep, F_OK), 0);
    assert_int_equal(access(other_tmp, F_OK), 0);
    assert_int_equal(access(path, F_OK), 0);
    /* The other process is killed: its helper dies with it (PR_SET_PDEATHSIG), the lock goes
     * with both, and the next sweep removes the folder. */
    assert_int_equal(kill(other, SIGKILL), 0);
    assert_int_equal(waitpid(other, NULL, 0), other);
    AWAIT(10, !alive(helper));
    assert_int_equal(video_sweep(f->pkgdir), 1);
    assert_true(access(live, F_OK) != 0);
    assert_int_equal(entries(f->pkgdir), 3); /* story-k, .story-p.Q7w8e9, .notes.a1b2c3 */
}

/* ---- the producer and publisher in a swarm ---- */

static void put_story(struct bb *bb, const char *id)
{
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:s}", "id", id, "title", "Council approves a bigger budget",
                  "content", short_script, "source", "City Desk");
    json_t *extra =
        json_pack("{s:{s:s, s:s}}", "analysis", "summary", short_script, "decision", "cover");
    char *cause = NULL, existing[NEWS_ID_MAX + 1];
    struct news_item *it = news_item_from_json(j, &cause);

    if (it == NULL)
        fail_msg("news item: %s", cause);
    if (bb_write(bb, it, extra, BB_CONSENSUS_REACHED, true, existing, &cause) != BB_OK)
        fail_msg("bb_write: %s", cause);
    news_item_free(it);
    json_decref(extra);
    json_decref(j);
}

static struct bb_item *read_item(struct bb *bb, const char *id)
{
    struct bb_item *it = NULL;
    char *cause = NULL;

    if (bb_read(bb, id, &it, &cause) != BB_OK)
        fail_msg("bb_read %s: %s", id, cause ? cause : "none");
    return it;
}

static void run_floor(struct fx *f, const char *roles, int until, struct bb **bbp,
                      struct rlink **lp)
{
    struct pricing *pricing = pricing_default();
    struct swarm_options o;
    struct swarm *s;

    *lp = test_shared_link(DB, "test_video");
    freeReplyObject(test_must(*lp, "FLUSHDB%s", ""));
    *bbp = bb_new(*lp, "test");
    f->cfg->qa_pass_score_micro = 1000000;
    f->cfg->script_words_min = 1;
    f->cfg->sim_latency_fast_ms = f->cfg->sim_latency_balanced_ms = f->cfg->sim_latency_premium_ms =
        0;
    put_story(*bbp, "vid-1");
    swarmenv_options(&o, DB, f->cfg, pricing, roles, 0, 0);
    o.auto_approve = true;
    s = swarmenv_start(&o);
    AWAIT(120, swarmenv_count(*bbp, until) == 1);
    swarm_stop(s);
    swarm_free(s);
    pricing_free(pricing);
}

static void test_produce_and_publish(void **state)
{
    struct fx *f = *state;
    struct bb *bb;
    struct rlink *l;
    struct bb_item *it;
    const json_t *pkg;
    char pub[700], path[800], *cause = NULL;

    snprintf(pub, sizeof pub, "%s/publish", f->dir);
    set_str(&f->cfg->publish_dir, pub);
    /* A killed process's render folder, which the producer removes when it starts. */
    snprintf(path, sizeof path, "%s/.vid-0.Zx81Qa", f->pkgdir);
    assert_int_equal(paths_mkdir_p(path, 0700, &cause), 0);
    snprintf(path, sizeof path, "%s/.vid-0.Zx81Qa/video.mp4", f->pkgdir);
    test_write_file(path, "half");
    snprintf(path, sizeof path, "%s/.vid-0.Zx81Qa/%s", f->pkgdir, VIDEO_TEMP_MARK);
    test_write_file(path, "");
    run_floor(f, "writer:1,qa:1,producer:1,approver:1,publisher:1", BB_PUBLISHED_S, &bb, &l);
    snprintf(path, sizeof path, "%s/.vid-0.Zx81Qa", f->pkgdir);
    assert_true(access(path, F_OK) != 0);
    it = read_item(bb, "vid-1");
    pkg = json_object_get(it->body, "package");
    check_package(pkg, json_string_value(json_object_get(pkg, "folder")), 5);
    assert_non_null(strstr(json_string_value(json_object_get(pkg, "by")), "producer-"));
    /* The publisher copied the package's files. */
    snprintf(path, sizeof path, "%s/vid-1", pub);
    check_package(pkg, path, 7); /* and package.json, script.txt */
    snprintf(path, sizeof path, "%s/vid-1/package.json", pub);
    assert_true(size_of(path) > 0);
    bb_item_free(it);
    bb_free(bb);
    rlink_free(l);
}

static void test_produce_without_ffmpeg(void **state)
{
    struct fx *f = *state;
    struct bb *bb;
    struct rlink *l;
    struct bb_item *it;
    const json_t *pkg;

    set_str(&f->cfg->video_ffmpeg, "/nonexistent/ffmpeg");
    run_floor(f, "writer:1,qa:1,producer:1", BB_REVIEWING, &bb, &l);
    it = read_item(bb, "vid-1");
    pkg = json_object_get(it->body, "package");
    assert_string_equal(json_string_value(json_object_get(pkg, "kind")), "storyboard");
    assert_string_equal(json_string_value(json_object_get(pkg, "video")),
                        "unavailable: /nonexistent/ffmpeg not found");
    assert_true(strlen(json_string_value(json_object_get(pkg, "captions_srt"))) > 0);
    assert_int_equal(entries(f->pkgdir), 0);
    bb_item_free(it);
    bb_free(bb);
    rlink_free(l);
}

/* ---- ElevenLabs ---- */

static void test_elevenlabs(void **state)
{
    struct fx *f = *state;
    struct fake_tts *t = fake_tts_start("sk-test-secret", "voice_Abc-1");
    struct speech *s;
    char path[700], *cause = NULL, *text, *v;
    const unsigned char *want;
    size_t wlen;
    int64_t ms = 0;

    set_str(&f->cfg->video_speech, "elevenlabs");
    set_str(&f->cfg->elevenlabs_base_url, fake_tts_url(t));
    set_str(&f->cfg->elevenlabs_voice_id, "voice_Abc-1");
    /* No key: refused before any request. */
    assert_null(speech_new(f->cfg, &cause));
    assert_non_null(strstr(cause, "no API key"));
    free(cause);
    cause = NULL;
    set_str(&f->cfg->elevenlabs_api_key, "sk-test-secret");
    s = speech_new(f->cfg, &cause);
    assert_non_null(s);
    assert_string_equal(speech_ext(s), "mp3");
    snprintf(path, sizeof path, "%s/narration.mp3", f->dir);
    if (speech_synthesize(s, short_script, path, clock_mono_ms() + 10000, &ms, &cause) == -1)
        fail_msg("synthesize: %s", cause);
    v = fake_tts_violation(t);
    if (v != NULL)
        fail_msg("the fake API saw: %s", v);
    assert_int_equal(fake_tts_good(t), 1);
    assert_int_equal(ms, -1);
    text = fake_tts_last_text(t);
    assert_string_equal(text, short_script);
    free(text);
    text = fake_tts_last_model(t);
    assert_string_equal(text, "eleven_multilingual_v2");
    free(text);
    want = fake_tts_audio(&wlen);
    text = test_read_file(path);
    assert_non_null(text);
    assert_int_equal(size_of(path), (int64_t)wlen);
    assert_memory_equal(text, want, wlen);
    free(text);
    speech_free(s);

    /* A wrong key: a failure whose cause never shows the key (without the espeak-ng fallback,
     * which test_speech_fallback covers, so the failure reaches the caller). */
    set_str(&f->cfg->elevenlabs_api_key, "sk-wrong-key");
    set_str(&f->cfg->video_speech_fallback, "none");
    s = speech_new(f->cfg, &cause);
    assert_non_null(s);
    assert_int_equal(speech_synthesize(s, "Hello.", path, 0, &ms, &cause), -1);
    assert_non_null(strstr(cause, "HTTP 401"));
    assert_null(strstr(cause, "sk-"));
    free(cause);
    speech_free(s);
    fake_tts_stop(t);
}

/* The template: the shipped config/video.conf is the built-in template, [motion] sets each
 * kind of shot's motion, and a bad motion or kind is refused naming its file and line. */
static void test_template(void **state)
{
    struct fx *f = *state;
    struct video_template t, def;
    char path[700], *cause = NULL;

    video_template_default(&def);
    video_template_default(&t);
    snprintf(path, sizeof path, "%s/config/video.conf", test_env("NEWSROOM_SOURCE_DIR"));
    if (video_template_load(&t, path, &cause) == -1)
        fail_msg("%s", cause);
    assert_memory_equal(&t, &def, sizeof t);
    assert_int_equal(t.motion[VIDEO_SHOT_TITLE], VIDEO_MOTION_ZOOM_IN);
    assert_string_equal(video_motion_name(t.motion[VIDEO_SHOT_KEY_FACT]), "pan_left");
    snprintf(path, sizeof path, "%s/t.conf", f->dir);
    test_write_file(path, "[template]\ncredit_size = 30\n[motion]\nnarration = zoom_out\n"
                          "title_card = none\n");
    assert_int_equal(video_template_load(&t, path, &cause), 0);
    assert_int_equal(t.credit_size, 30);
    assert_int_equal(t.motion[VIDEO_SHOT_NARRATION], VIDEO_MOTION_ZOOM_OUT);
    assert_int_equal(t.motion[VIDEO_SHOT_TITLE], VIDEO_MOTION_NONE);
    test_write_file(path, "[motion]\nnarration = wobble\n");
    assert_int_equal(video_template_load(&t, path, &cause), -1);
    assert_non_null(strstr(cause, ":2: [motion] narration: \"wobble\" is not a motion"));
    free(cause);
    cause = NULL;
    test_write_file(path, "[motion]\n\nclosing = pan_left\n");
    assert_int_equal(video_template_load(&t, path, &cause), -1);
    assert_non_null(strstr(cause, ":3: [motion] unknown kind of shot \"closing\""));
    free(cause);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_template, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frames_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_produce_and_publish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_produce_without_ffmpeg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elevenlabs, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
