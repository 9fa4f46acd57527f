/*
 * test_video.c - the producer's video (video.h, speech.h, proc.h) with the real espeak-ng and
 * ffmpeg: a ~40-word story rendered end to end (ffprobe: one H.264 1280x720 stream and one
 * audio stream, a length within 10% of the narration's; captions a valid SRT covering the
 * narration; the thumbnail a 1280x720 PNG; the manifest matching the files); a render past its
 * time limit killed with the reason and no files left; the producer in a swarm (shared test
 * Redis, database 7) rendering a story that the publisher then publishes with its files, and,
 * with ffmpeg pointing at a missing program, writing the storyboard marked "unavailable"; the
 * ElevenLabs provider against a local fake of its API (fake_tts.h) that checks each request.
 * Renders use libx264's ultrafast preset so the suite stays quick on two cores.
 * Single-threaded test code (the swarm's threads are the code under test).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
                              "stream=codec_type,codec_name,width,height:format=duration",
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

/* Everything a rendered package promises, for the package pkg of folder, which holds n files
 * (the package's 5, or more where the publisher added its own). */
static void check_package(const json_t *pkg, const char *folder, int n)
{
    char path[800], *text, *cause = NULL;
    json_t *pr, *st, *man, *fl, *v;
    int video = 0, audio = 0;
    int64_t narration, wav_ms, duration, title = 2000, first, last;
    double probed;
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
        } else if (strcmp(type, "audio") == 0) {
            audio++;
            assert_string_equal(json_string_value(json_object_get(st, "codec_name")), "aac");
        }
    }
    assert_int_equal(video, 1);
    assert_int_equal(audio, 1);
    probed = atof(json_string_value(json_object_get(json_object_get(pr, "format"), "duration")));
    json_decref(pr);
    /* Title card + narration + closing card: within 10% of what the narration makes it. */
    assert_true(probed * 1000 > (double)(title + narration) * 0.9);
    assert_true(probed * 1000 < (double)duration * 1.1);
    assert_true(probed * 1000 > (double)duration * 0.9);

    snprintf(path, sizeof path, "%s/captions.srt", folder);
    text = test_read_file(path);
    assert_non_null(text);
    assert_string_equal(text, json_string_value(json_object_get(pkg, "captions_srt")));
    check_srt(text, &first, &last);
    free(text);
    assert_int_equal(first, title);
    assert_true(last <= title + narration);
    assert_true(last >= title + narration * 9 / 10);

    snprintf(path, sizeof path, "%s/thumbnail.png", folder);
    check_png(path, 1280, 720);

    snprintf(path, sizeof path, "%s/manifest.json", folder);
    man = json_load_file(path, 0, NULL);
    assert_non_null(man);
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

static void test_render(void **state)
{
    struct fx *f = *state;
    json_t *sb = board(short_script), *pkg = NULL;
    char *cause = NULL, folder[700];

    if (video_render(f->cfg, f->pkgdir, "story-1", sb, &pkg, &cause) == -1)
        fail_msg("render: %s", cause);
    snprintf(folder, sizeof folder, "%s/story-1", f->pkgdir);
    check_package(pkg, folder, 5);
    assert_int_equal(entries(f->pkgdir), 1); /* no temporary folder left */
    /* The package names its files and folder; the storyboard's shots are re-timed. */
    assert_non_null(strstr(json_string_value(json_object_get(pkg, "folder")), "/story-1"));
    assert_int_equal(json_array_size(json_object_get(pkg, "shots")),
                     json_array_size(json_object_get(sb, "shots")));
    json_decref(pkg);
    json_decref(sb);
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
    f->cfg->video_render_timeout_s = 1;
    set_str(&f->cfg->video_preset, "veryslow");
    t0 = clock_mono_ms();
    assert_int_equal(video_render(f->cfg, f->pkgdir, "story-2", sb, &pkg, &cause), -1);
    assert_true(clock_mono_ms() - t0 < 5000);
    assert_null(pkg);
    assert_non_null(strstr(cause, "time limit of 1 s"));
    assert_int_equal(entries(f->pkgdir), 0);
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
    free(cause);
    set_str(&f->cfg->video_ffmpeg, "ffmpeg");
    set_str(&f->cfg->video_espeak, "none");
    why = video_unavailable(f->cfg);
    assert_non_null(strstr(why, "turned off"));
    free(why);
    assert_int_equal(entries(f->pkgdir), 0);
    json_decref(sb);
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
    char pub[700], path[800];

    snprintf(pub, sizeof pub, "%s/publish", f->dir);
    set_str(&f->cfg->publish_dir, pub);
    run_floor(f, "writer:1,qa:1,producer:1,approver:1,publisher:1", BB_PUBLISHED_S, &bb, &l);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_render, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_produce_and_publish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_produce_without_ffmpeg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elevenlabs, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
