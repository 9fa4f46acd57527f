/*
 * video.c - storyboard to MP4; see video.h for the package and the guarantees. One render:
 * speak the narration (speech.h) into the temporary folder, measure it, re-time the shots and
 * captions to it, write every on-screen text to its own file, run ffmpeg, write captions.srt
 * and manifest.json, rename the folder into place. Every child runs with the time left before
 * the render's deadline and in the temporary folder (so the filter graph names text files by
 * short relative names and never holds a path that would need escaping).
 *
 * The picture is one filter graph of drawbox/drawtext filters over a colour source at the
 * template's frame rate, each enabled for its shot's time (between(t,a,z)). The filters path
 * runs every frame through it and encodes them all, then decodes the thumbnail from the MP4.
 * The stills path works out here which frames of that same source differ from the one before
 * (evaluating the same enable intervals on the same frame times as ffmpeg does), puts a
 * select filter in front of the drawing that keeps only those, and encodes what is left with
 * its timestamps (a variable frame rate: each frame lasts until the picture changes; -tune
 * stillimage; a keyframe at least every 10 s for seeking), the narration muxed in and the
 * title card's frame written as the thumbnail, all in one ffmpeg run. Its sound keeps the
 * narration's sample rate and takes the AAC encoder's fast coder; otherwise the sound would
 * be the longest step of the render.
 *
 * A render's temporary folder is locked with flock() from just after mkdtemp() until it is
 * renamed or removed; its child processes inherit the lock (proc_inherit), so it is free only
 * when they are gone too. It is marked as a render's (VIDEO_TEMP_MARK) so the sweep never
 * takes another writer's temporary folder of the same shape (the publisher's, were both to
 * share a folder). The packages folder itself is locked shared while a render makes, locks
 * and marks its folder and exclusively while video_sweep() looks, so the sweep never sees a
 * folder between its making and its locking.
 *
 * Threads: any thread. The render slot counter (slot_mu) and the ffmpeg version cache
 * (version_mu) are the only shared state; the last failure is thread-local.
 */
#define _GNU_SOURCE /* renameat2, O_DIRECTORY */
#include "media/video.h"

#include "media/draw.h"
#include "media/proc.h"
#include "media/speech.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static _Thread_local enum video_fail last_fail = VIDEO_FAIL_NONE;

enum video_fail video_last_fail(void)
{
    return last_fail;
}

/* The ways of composing the picture, [video] compose. */
enum compose { COMPOSE_STILLS, COMPOSE_FILTERS };

static const char *const compose_names[] = {"stills", "filters"};

static int compose_of(const struct config *c)
{
    for (size_t i = 0; i < sizeof compose_names / sizeof compose_names[0]; i++)
        if (strcmp(c->video_compose, compose_names[i]) == 0)
            return (int)i;
    return -1;
}

/* Errors that are the machine's fault when a file or folder of the render cannot be made. */
static bool env_errno(int e)
{
    static const int env[] = {ENOSPC, EDQUOT, EROFS,  EACCES, EPERM,  EIO,
                              EFBIG,  EMFILE, ENFILE, ENOMEM, ENOENT, ENOTDIR};

    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
        if (e == env[i])
            return true;
    return false;
}

/* ---- the template ---- */

void video_template_default(struct video_template *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->background, sizeof t->background, "0x101828");
    snprintf(t->text, sizeof t->text, "0xF5F7FA");
    snprintf(t->accent, sizeof t->accent, "0xE63946");
    snprintf(t->slate, sizeof t->slate, "0x1D3557");
    snprintf(t->lower_third, sizeof t->lower_third, "0x000000@0.7");
    snprintf(t->caption, sizeof t->caption, "0xFFD166");
    snprintf(t->credit_box, sizeof t->credit_box, "0x000000@0.55");
    snprintf(t->font, sizeof t->font, "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    t->fps = 25;
    t->title_size = 64;
    t->text_size = 40;
    t->lower_title_size = 36;
    t->lower_source_size = 26;
    t->fact_size = 120;
    t->credit_size = 22;
    t->motion[VIDEO_SHOT_TITLE] = VIDEO_MOTION_ZOOM_IN;
    t->motion[VIDEO_SHOT_NARRATION] = VIDEO_MOTION_PAN_RIGHT;
    t->motion[VIDEO_SHOT_KEY_FACT] = VIDEO_MOTION_PAN_LEFT;
    t->margin = 60;
    t->lower_third_height = 120;
    t->line_spacing = 12;
    t->wrap_chars = 44;
    t->max_lines = 6;
}

enum tkind { T_COLOR, T_FONT, T_INT };

static const struct {
    const char *name;
    enum tkind kind;
    size_t offset;
    int min, max;
} template_keys[] = {
#define TC(f)                                                                                      \
    {                                                                                              \
#f, T_COLOR, offsetof(struct video_template, f), 0, 0                                      \
    }
#define TI(f, lo, hi)                                                                              \
    {                                                                                              \
#f, T_INT, offsetof(struct video_template, f), lo, hi                                      \
    }
    TC(background),
    TC(text),
    TC(accent),
    TC(slate),
    TC(lower_third),
    TC(caption),
    TC(credit_box),
    {"font", T_FONT, offsetof(struct video_template, font), 0, 0},
    TI(fps, 1, 60),
    TI(title_size, 8, 300),
    TI(text_size, 8, 300),
    TI(lower_title_size, 8, 300),
    TI(lower_source_size, 8, 300),
    TI(fact_size, 8, 400),
    TI(credit_size, 8, 100),
    TI(margin, 0, 300),
    TI(lower_third_height, 20, 360),
    TI(line_spacing, 0, 100),
    TI(wrap_chars, 10, 120),
    TI(max_lines, 1, 20),
#undef TC
#undef TI
};

/* A colour ffmpeg reads: "#RRGGBB" is stored as 0xRRGGBB; names, hex and "@alpha" only. */
static int color_set(char *dst, size_t size, const char *v)
{
    const char *s = v[0] == '#' ? v + 1 : v;

    if (*s == '\0' || strlen(s) + 2 >= size)
        return -1;
    for (const char *p = s; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '@' || *p == '.'))
            return -1;
    snprintf(dst, size, "%s%s", v[0] == '#' ? "0x" : "", s);
    return 0;
}

/* A font path goes into the filter graph: only characters that need no escaping there. */
static bool font_ok(const char *v)
{
    if (v[0] != '/')
        return false;
    for (const char *p = v; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '/' || *p == '.' || *p == '_' || *p == '-' || *p == '+'))
            return false;
    return true;
}

static const char *const motion_names[] = {"none",    "pan_left", "pan_right",
                                           "zoom_in", "zoom_out", NULL};
static const char *const pictured_names[VIDEO_SHOT_KINDS] = {"title_card", "narration", "key_fact"};

const char *video_motion_name(enum video_motion m)
{
    return (int)m >= 0 && m <= VIDEO_MOTION_ZOOM_OUT ? motion_names[m] : "none";
}

/* A [motion] line: a kind of shot and how its photographs move. */
static char *motion_line(struct video_template *t, const char *name, const char *value)
{
    for (int k = 0; k < VIDEO_SHOT_KINDS; k++) {
        if (strcmp(name, pictured_names[k]) != 0)
            continue;
        for (int m = 0; motion_names[m] != NULL; m++)
            if (strcmp(value, motion_names[m]) == 0) {
                t->motion[k] = (enum video_motion)m;
                return NULL;
            }
        return xasprintf("[motion] %s: \"%s\" is not a motion (none, pan_left, pan_right, "
                         "zoom_in, zoom_out)",
                         name, value);
    }
    return xasprintf("[motion] unknown kind of shot \"%s\" (title_card, narration, key_fact)",
                     name);
}

struct tload {
    struct video_template *t;
    const char *path;
    char *cause;
};

/* inih calls this per key; a bad one stops the parse (its line is inih's answer). */
static int template_line(void *user, const char *section, const char *name, const char *value)
{
    struct tload *l = user;

    if (l->cause != NULL)
        return 0;
    if (strcmp(section, "motion") == 0) {
        l->cause = motion_line(l->t, name, value);
        return l->cause == NULL;
    }
    if (strcmp(section, "template") != 0) {
        l->cause = xasprintf("unknown section [%s] ([template], [motion])", section);
        return 0;
    }
    for (size_t i = 0; i < sizeof template_keys / sizeof template_keys[0]; i++) {
        char *field = (char *)l->t + template_keys[i].offset;

        if (strcmp(template_keys[i].name, name) != 0)
            continue;
        switch (template_keys[i].kind) {
        case T_COLOR:
            if (color_set(field, 32, value) == -1)
                l->cause = xasprintf("%s: \"%s\" is not a colour (#RRGGBB[@alpha] or a name)", name,
                                     value);
            return l->cause == NULL;
        case T_FONT:
            if (!font_ok(value) || strlen(value) >= sizeof l->t->font)
                l->cause = xasprintf("font: \"%s\" must be an absolute path of letters, "
                                     "digits and / . _ - +",
                                     value);
            else
                snprintf(field, sizeof l->t->font, "%s", value);
            return l->cause == NULL;
        case T_INT: {
            char *end;
            long v = strtol(value, &end, 10);

            if (*value == '\0' || *end != '\0' || v < template_keys[i].min ||
                v > template_keys[i].max)
                l->cause = xasprintf("%s: \"%s\" is not a whole number from %d to %d", name, value,
                                     template_keys[i].min, template_keys[i].max);
            else
                *(int *)(void *)field = (int)v;
            return l->cause == NULL;
        }
        }
    }
    l->cause = xasprintf("unknown key \"%s\"", name);
    return 0;
}

int video_template_load(struct video_template *t, const char *path, char **cause)
{
    struct tload l = {t, path, NULL};
    int rc = ini_parse(path, template_line, &l);

    if (l.cause != NULL) {
        *cause = xasprintf("%s:%d: %s", path, rc, l.cause);
        free(l.cause);
        return -1;
    }
    if (rc < 0) {
        *cause = xasprintf("cannot read the video template %s", path);
        return -1;
    }
    if (rc > 0) {
        *cause = xasprintf("%s:%d: syntax error", path, rc);
        return -1;
    }
    return 0;
}

char *video_template_path(const struct config *c)
{
    if (c->video_template[0] != '\0')
        return xstrdup(c->video_template);
    return paths_share_file("config/video.conf");
}

/* ---- tools and slots ---- */

static bool off(const char *v)
{
    return v[0] == '\0' || strcmp(v, "none") == 0;
}

char *video_unavailable(const struct config *c)
{
    char *p;

    if (compose_of(c) < 0)
        return xasprintf("[video] compose \"%s\" is neither stills nor filters", c->video_compose);
    if (off(c->video_ffmpeg))
        return xstrdup("ffmpeg is turned off ([video] ffmpeg)");
    if ((p = paths_which(c->video_ffmpeg)) == NULL)
        return xasprintf("%s not found", c->video_ffmpeg);
    free(p);
    if (strcmp(c->video_speech, "espeak-ng") == 0) {
        if (off(c->video_espeak))
            return xstrdup("espeak-ng is turned off ([video] espeak)");
        if ((p = paths_which(c->video_espeak)) == NULL)
            return xasprintf("%s not found", c->video_espeak);
        free(p);
    }
    return NULL;
}

static pthread_mutex_t slot_mu = PTHREAD_MUTEX_INITIALIZER;
static int slots_busy;

bool video_slot_try(const struct config *c)
{
    bool got;

    pthread_mutex_lock(&slot_mu);
    got = slots_busy < c->video_render_workers;
    if (got)
        slots_busy++;
    pthread_mutex_unlock(&slot_mu);
    return got;
}

void video_slot_release(void)
{
    pthread_mutex_lock(&slot_mu);
    if (slots_busy > 0)
        slots_busy--;
    pthread_mutex_unlock(&slot_mu);
}

char *video_packages_dir(const struct config *c)
{
    char *data = config_data_dir(c), *dir = xasprintf("%s/packages", data);

    free(data);
    return dir;
}

/* ---- text ---- */

/* ---- timing ---- */

/* Storyboard time to video time: the title card stays, the narration stretches from planned
 * to real, what follows moves by the difference. */
struct retime {
    int64_t title, planned, real;
};

static int64_t retime(const struct retime *r, int64_t ms)
{
    if (ms <= r->title)
        return ms;
    if (ms <= r->title + r->planned)
        return r->planned > 0 ? r->title + (ms - r->title) * r->real / r->planned : r->title;
    return ms - r->planned + r->real;
}

static bool parse_srt_time(const char *s, int64_t *ms)
{
    int h, m, sec, milli;

    if (sscanf(s, "%2d:%2d:%2d,%3d", &h, &m, &sec, &milli) != 4)
        return false;
    *ms = ((int64_t)h * 3600 + m * 60 + sec) * 1000 + milli;
    return true;
}

static void srt_time(int64_t ms, char *buf, size_t size)
{
    snprintf(buf, size, "%02lld:%02lld:%02lld,%03lld", (long long)(ms / 3600000),
             (long long)(ms / 60000 % 60), (long long)(ms / 1000 % 60), (long long)(ms % 1000));
}

/* The SRT with every "A --> B" line re-timed. A new string. */
static char *retime_srt(const char *srt, const struct retime *r)
{
    struct draw_buf b = {0};
    const char *p = srt;

    draw_add(&b, "", 0);
    while (*p != '\0') {
        size_t n = strcspn(p, "\n");
        const char *arrow = memmem(p, n, " --> ", 5);
        int64_t a, z;

        if (arrow != NULL && parse_srt_time(p, &a) && parse_srt_time(arrow + 5, &z)) {
            char ta[32], tz[32];

            srt_time(retime(r, a), ta, sizeof ta);
            srt_time(retime(r, z), tz, sizeof tz);
            draw_printf(&b, "%s --> %s", ta, tz);
        } else {
            draw_add(&b, p, n);
        }
        p += n;
        if (*p == '\n') {
            draw_add(&b, "\n", 1);
            p++;
        }
    }
    return b.s;
}

/* ---- the filter graph ---- */

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? s : "";
}

/* Whether a shot shows a picture (a file its chain chose), rather than a text slide. */
static bool has_picture(const json_t *sh)
{
    const json_t *pic = json_object_get(sh, "picture");

    return json_is_string(json_object_get(pic, "file")) && strcmp(jstr(pic, "source"), "text") != 0;
}

/* The drawing over a shot's picture: the title card's headline on a band, a key fact's figure,
 * the picture's mark ("Illustration") and its credit. */
static int g_picture_shot(struct draw_graph *gr, const json_t *sh, double a, double z)
{
    const struct video_template *t = gr->t;
    const json_t *pic = json_object_get(sh, "picture");
    const char *kind = jstr(sh, "kind"), *credit = jstr(pic, "credit"), *mark = jstr(pic, "mark");
    char geo[96], x[64], y[64], *w = NULL;
    int rc = 0, band;

    if (strcmp(kind, "title_card") == 0) {
        w = draw_wrap(jstr(sh, "text"), t->wrap_chars * 40 / t->title_size + 8, 3);
        band = 3 * (t->title_size + t->line_spacing) + 2 * 30;
        snprintf(geo, sizeof geo, "x=0:y=(ih-%d)/2:w=iw:h=%d", band, band);
        draw_box(gr, geo, t->lower_third, a, z);
        snprintf(geo, sizeof geo, "x=0:y=ih-%d:w=iw:h=12", t->margin);
        draw_box(gr, geo, t->accent, a, z);
        rc = draw_text(gr, w, t->title_size, t->text, "(w-text_w)/2", "(h-text_h)/2", a, z);
    } else if (strcmp(kind, "key_fact") == 0 && strcmp(jstr(pic, "source"), "chart") != 0) {
        const char *fig = strstr(jstr(sh, "visual"), ": ");

        snprintf(x, sizeof x, "%d", t->margin);
        if (fig != NULL)
            rc = draw_label(gr, fig + 2, t->fact_size / 2, t->accent, t->lower_third, 18, x, x, a,
                            z);
    }
    if (rc == 0 && *mark != '\0') {
        snprintf(x, sizeof x, "w-text_w-%d", t->margin / 2);
        snprintf(y, sizeof y, "%d", t->margin / 2);
        rc = draw_label(gr, mark, t->credit_size, t->text, t->accent, 10, x, y, a, z);
    }
    if (rc == 0 && *credit != '\0') {
        snprintf(x, sizeof x, "w-text_w-%d", t->margin / 2);
        snprintf(y, sizeof y, "h-text_h-%d", 12 + t->credit_size / 2);
        rc = draw_label(gr, credit, t->credit_size, t->text, t->credit_box, 8, x, y, a, z);
    }
    free(w);
    return rc;
}

/* Adds the drawing of shot sh (times already re-timed, in seconds a..z). */
static int g_shot(struct draw_graph *gr, const json_t *sh, double a, double z)
{
    const struct video_template *t = gr->t;
    const char *kind = jstr(sh, "kind");
    char *w = NULL, geo[96], y[64];
    int rc = 0;

    if (has_picture(sh))
        return g_picture_shot(gr, sh, a, z);
    if (strcmp(kind, "title_card") == 0) {
        w = draw_wrap(jstr(sh, "text"), t->wrap_chars * 40 / t->title_size + 8, t->max_lines);
        snprintf(geo, sizeof geo, "x=0:y=ih-%d:w=iw:h=12", t->margin);
        draw_box(gr, geo, t->accent, a, z);
        rc = draw_text(gr, w, t->title_size, t->text, "(w-text_w)/2", "(h-text_h)/2", a, z);
    } else if (strcmp(kind, "lower_third") == 0) {
        char *src = draw_wrap(jstr(sh, "source"), 80, 1);

        w = draw_wrap(jstr(sh, "text"), 60, 1);
        snprintf(geo, sizeof geo, "x=0:y=ih-%d:w=iw:h=%d", t->margin + t->lower_third_height,
                 t->lower_third_height);
        draw_box(gr, geo, t->lower_third, a, z);
        snprintf(geo, sizeof geo, "x=0:y=ih-%d:w=16:h=%d", t->margin + t->lower_third_height,
                 t->lower_third_height);
        draw_box(gr, geo, t->accent, a, z);
        snprintf(y, sizeof y, "h-%d", t->margin + t->lower_third_height - 18);
        rc = draw_text(gr, w, t->lower_title_size, t->text, "48", y, a, z);
        snprintf(y, sizeof y, "h-%d", t->margin + t->lower_source_size + 18);
        if (rc == 0 && *src != '\0')
            rc = draw_text(gr, src, t->lower_source_size, t->caption, "48", y, a, z);
        free(src);
    } else if (strcmp(kind, "key_fact") == 0) {
        const char *visual = jstr(sh, "visual"), *fig = strstr(visual, ": ");

        draw_box(gr, "x=0:y=0:w=iw:h=ih", t->slate, a, z);
        snprintf(y, sizeof y, "%d", t->margin + 40);
        rc = draw_text(gr, fig != NULL ? fig + 2 : "", t->fact_size, t->accent, "(w-text_w)/2", y,
                       a, z);
        w = draw_wrap(jstr(sh, "text"), t->wrap_chars, t->max_lines);
        snprintf(y, sizeof y, "%d", t->margin + 80 + t->fact_size);
        if (rc == 0)
            rc = draw_text(gr, w, t->text_size, t->text, "(w-text_w)/2", y, a, z);
    } else if (strcmp(kind, "closing") == 0) {
        w = draw_wrap(jstr(sh, "text"), t->wrap_chars, t->max_lines);
        rc = draw_text(gr, w, t->text_size, t->text, "(w-text_w)/2", "(h-text_h)/2", a, z);
    } else { /* narration: the sentence on screen */
        w = draw_wrap(jstr(sh, "text"), t->wrap_chars, t->max_lines);
        snprintf(y, sizeof y, "%d", t->margin + 40);
        rc = draw_text(gr, w, t->text_size, t->text, "(w-text_w)/2", y, a, z);
    }
    free(w);
    return rc;
}

/* ---- the render ---- */

static int64_t file_size(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

/* What one render holds; freed by render_clear. */
struct render {
    const struct config *c;
    int compose; /* enum compose */
    char *tmp, *ffmpeg, *ffmpeg_version, *template_path;
    int lock; /* the temporary folder, locked; -1 when none */
    struct video_template t;
    struct speech *speech;
    int64_t deadline;
    char *cause;
    enum video_fail fail; /* what kind of failure r->cause is */
};

static int timed_out(struct render *r)
{
    return r->c->video_render_timeout_s > 0 && clock_mono_ms() >= r->deadline;
}

/* Records the kind of a failure: errno e of a file or folder of the render. */
static void fail_errno(struct render *r, int e)
{
    r->fail = env_errno(e) ? VIDEO_FAIL_ENV : VIDEO_FAIL_INPUT;
}

/* Records the kind of a child process's failure from how it ended (proc_last_end() of the
 * thread that ran it). */
static void fail_proc(struct render *r, enum proc_end end)
{
    switch (end) {
    case PROC_END_TIMEOUT:
        r->fail = VIDEO_FAIL_TIMEOUT;
        break;
    case PROC_END_ENV:
        r->fail = VIDEO_FAIL_ENV;
        break;
    default:
        r->fail = proc_env_text(r->cause) ? VIDEO_FAIL_ENV : VIDEO_FAIL_INPUT;
    }
}

/* Runs ffmpeg in the temporary folder with the render's deadline. */
static int run_ffmpeg(struct render *r, const char *const *argv)
{
    if (proc_run(argv, r->tmp, r->c->video_render_timeout_s > 0 ? r->deadline : 0, NULL,
                 &r->cause) == -1) {
        fail_proc(r, proc_last_end());
        if (timed_out(r)) {
            free(r->cause);
            r->cause = NULL;
        }
        return -1;
    }
    return 0;
}

/* The narration in tmp/narration.wav, its length in *ms. */
static int narrate(struct render *r, const char *text, int64_t *ms, char **files, int *nfiles)
{
    const char *ext = speech_ext(r->speech);
    char *name = xasprintf("narration.%s", ext), *path = xasprintf("%s/%s", r->tmp, name);
    int rc;

    rc = speech_synthesize(r->speech, text, path,
                           r->c->video_render_timeout_s > 0 ? r->deadline : 0, ms, &r->cause);
    files[(*nfiles)++] = name;
    if (rc == -1) {
        /* A local program ran through proc_run(); a network voice says what it knows. */
        if (strcmp(speech_name(r->speech), "espeak-ng") == 0)
            fail_proc(r, proc_last_end());
        else
            r->fail = proc_env_text(r->cause) ? VIDEO_FAIL_ENV : VIDEO_FAIL_INPUT;
    }
    if (rc == 0 && *ms < 0) {
        /* Not a WAV (MP3 from a network voice): decode it once to measure and mix it. */
        const char *argv[] = {
            r->ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",         "-y", "-i", name,
            "-ac",     "1",        "-ar",          "44100",     "narration.wav", NULL};
        char *wav = xasprintf("%s/narration.wav", r->tmp);

        rc = run_ffmpeg(r, argv);
        if (rc == 0 && (rc = speech_wav_duration(wav, ms, &r->cause)) == -1)
            r->fail = VIDEO_FAIL_INPUT;
        free(wav);
        files[(*nfiles)++] = xstrdup("narration.wav");
    }
    free(path);
    return rc;
}

static void render_clear(struct render *r)
{
    free(r->tmp);
    free(r->ffmpeg);
    free(r->ffmpeg_version);
    free(r->template_path);
    speech_free(r->speech);
}

/* The package's manifest.json: its files, lengths, tools, and each shot's picture (records:
 * [{"n", "kind", "start_ms", "end_ms", "picture"}], borrowed; empty for a storyboard without
 * pictures) with the visual chain's report (visuals, borrowed, may be NULL). A new string. */
static char *manifest(const char *id, const struct render *r, char **files, int nfiles,
                      int64_t duration_ms, int64_t narration_ms, json_t *records,
                      const json_t *visuals)
{
    json_t *m = json_object(), *fl = json_array(), *tools = json_object();
    char *s, *out;

    for (int i = 0; i < nfiles; i++) {
        char *p = xasprintf("%s/%s", r->tmp, files[i]);

        json_array_append_new(
            fl, json_pack("{s:s, s:I}", "name", files[i], "bytes", (json_int_t)file_size(p)));
        free(p);
    }
    json_object_set_new(tools, "ffmpeg", json_string(r->ffmpeg_version));
    json_object_set_new(tools, speech_name(r->speech), json_string(speech_version(r->speech)));
    json_object_set_new(m, "id", json_string(id));
    json_object_set_new(m, "width", json_integer(VIDEO_WIDTH));
    json_object_set_new(m, "height", json_integer(VIDEO_HEIGHT));
    json_object_set_new(m, "duration_ms", json_integer(duration_ms));
    json_object_set_new(m, "duration_s", json_real((double)duration_ms / 1000));
    json_object_set_new(m, "narration_ms", json_integer(narration_ms));
    json_object_set_new(m, "speech", json_string(speech_name(r->speech)));
    json_object_set_new(m, "compose", json_string(compose_names[r->compose]));
    json_object_set_new(m, "template",
                        r->template_path != NULL ? json_string(r->template_path) : json_null());
    json_object_set_new(m, "files", fl);
    json_object_set_new(m, "tools", tools);
    if (json_array_size(records) > 0) {
        json_t *rec;
        size_t i;

        /* Each picture's size, as files get theirs (the pictures stay in the package's
         * pictures/ folder: the video holds them; files lists what a package publishes). */
        json_array_foreach(records, i, rec)
        {
            const char *f =
                json_string_value(json_object_get(json_object_get(rec, "picture"), "file"));
            char *p;

            if (f == NULL)
                continue;
            p = xasprintf("%s/%s", r->tmp, f);
            json_object_set_new(json_object_get(rec, "picture"), "bytes",
                                json_integer(file_size(p)));
            free(p);
        }
        json_object_set(m, "shots", records);
    }
    if (visuals != NULL)
        json_object_set_new(m, "visuals", json_deep_copy(visuals));
    s = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(m);
    if (s == NULL)
        fail("cannot encode a manifest");
    out = xasprintf("%s\n", s);
    free(s);
    return out;
}

/* A shot's time as the filter graph gives it to ffmpeg ("%.3f" seconds) and as ffmpeg reads
 * it back, so the frames chosen here are the frames ffmpeg's enable expressions pick. */
static double graph_time(int64_t ms)
{
    char buf[32];

    snprintf(buf, sizeof buf, "%.3f", (double)ms / 1000);
    return strtod(buf, NULL);
}

/* The frames of the stills path, from the colour source of total_ms at fps whose frame n
 * shows at t = n * (1 / fps) and shows shot i when iv[i][0] <= t <= iv[i][1] (between()):
 * the first, every frame whose set of shots differs from the one before, every frame while a
 * shot whose picture moves is on screen (moving[i]: a pan, a zoom, a clip), and the last. Returns
 * the select filter keeping them, a new string; *thumb is the place among them of the frame on
 * screen at thumb_ms (the thumbnail). */
static char *stills_select(const double (*iv)[2], const bool *moving, int nshots, int fps,
                           int64_t total_ms, int64_t thumb_ms, int *thumb)
{
    struct draw_buf b = {0};
    bool *was = xcalloc((size_t)nshots + 1, sizeof *was);
    bool *now = xcalloc((size_t)nshots + 1, sizeof *now);
    const double tb = 1.0 / (double)fps, thumb_t = (double)thumb_ms / 1000;
    int64_t frames = 0, kept = 0, run = -1, prev = -2;

    /* ffmpeg's colour source ends at the first frame whose time, rounded to microseconds, is
     * not before its duration. */
    while (((frames * 1000000 + fps / 2) / fps) < total_ms * 1000)
        frames++;
    draw_add(&b, "select='", 8);
    *thumb = 0;
    for (int64_t n = 0; n < frames; n++) {
        double t = (double)n * tb;
        bool changed = n == 0;

        for (int i = 0; i < nshots; i++) {
            now[i] = iv[i][0] <= t && t <= iv[i][1];
            changed |= now[i] != was[i] || (now[i] && moving[i]);
        }
        memcpy(was, now, (size_t)nshots * sizeof *was);
        if (!changed && n < frames - 1)
            continue;
        if (t <= thumb_t)
            *thumb = (int)kept;
        kept++;
        /* Runs of frames (a moving picture's) as one term: ffmpeg's expressions nest each
         * term, and a few hundred of them are more than it parses. */
        if (n != prev + 1) {
            if (run >= 0)
                draw_printf(&b, run == prev ? "eq(n,%lld)+" : "between(n,%lld,%lld)+",
                            (long long)run, (long long)prev);
            run = n;
        }
        prev = n;
    }
    /* The last run, and any frame the source might make past it, ends the video. */
    draw_printf(&b, "gte(n,%lld)'", (long long)run);
    free(was);
    free(now);
    return b.s;
}

/* The last argument vectors hold at most this many entries. */
#define ARGV_MAX 256

/* Appends the arguments, ended by NULL, to argv (at *n). */
#define args_add(argv, n, ...) proc_args_add(argv, n, ARGV_MAX, __VA_ARGS__)

/* The sound's encoder: AAC at 128 kb/s. The filters path resamples to 44.1 kHz and takes the
 * AAC encoder's default two-loop search; the stills path keeps the narration's own rate
 * (espeak-ng speaks at 22.05 kHz, so resampling adds nothing to hear) and takes the fast coder:
 * otherwise the sound would be the longest step of its render. */
static void audio_args(const char **argv, int *na, int compose)
{
    args_add(argv, na, "-c:a", "aac", "-b:a", "128k", NULL);
    if (compose == COMPOSE_STILLS)
        args_add(argv, na, "-aac_coder", "fast", NULL);
    else
        args_add(argv, na, "-ar", "44100", NULL);
}

/* ---- pictures ---- */

/* One shot's picture as the render composes it: an ffmpeg input over the shot's time. */
struct picture {
    int input;     /* ffmpeg's input number */
    char file[64]; /* in the package: "pictures/shot03.jpg" */
    double a, z;   /* on screen from a to z s */
    enum video_motion motion;
    bool clip;
    int w, h; /* the file's size */
};

/* Copies src to dst (a hard link when both are on one file system). Returns 0, or -1 with
 * errno. */
static int copy_file(const char *src, const char *dst)
{
    char buf[65536];
    int in, out, e = 0;
    ssize_t n;

    if (link(src, dst) == 0)
        return 0;
    if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1)
        return -1;
    if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1) {
        e = errno;
        close(in);
        errno = e;
        return -1;
    }
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) {
            e = errno != 0 ? errno : EIO;
            break;
        }
    if (n < 0)
        e = errno;
    close(in);
    if (close(out) == -1 && e == 0)
        e = errno;
    errno = e;
    return e == 0 ? 0 : -1;
}

/* How the picture of shot sh moves: a photograph (feed, stock, generated) by its kind of shot's
 * [motion]; a clip plays; charts and the rest stand still. */
static enum video_motion motion_of(const struct video_template *t, const json_t *sh)
{
    static const char *const photos[] = {"feed", "stock", "generated", NULL};
    const json_t *pic = json_object_get(sh, "picture");
    const char *kind = jstr(sh, "kind");
    bool photo = false;

    for (size_t i = 0; photos[i] != NULL; i++)
        photo |= strcmp(jstr(pic, "source"), photos[i]) == 0;
    if (!photo || strcmp(jstr(pic, "media"), "clip") == 0)
        return VIDEO_MOTION_NONE;
    if (strcmp(kind, "title_card") == 0)
        return t->motion[VIDEO_SHOT_TITLE];
    if (strcmp(kind, "key_fact") == 0)
        return t->motion[VIDEO_SHOT_KEY_FACT];
    return t->motion[VIDEO_SHOT_NARRATION];
}

/* Brings the picture of shot sh (in the storyboard's pictures folder) into the package as
 * pictures/shotNN.EXT and describes it in *p (input is the next free one). Returns 1 when the
 * shot has a picture, 0 when not, -1 with r->cause. */
static int picture_take(struct render *r, const char *dir, const json_t *sh, int n, double a,
                        double z, int input, struct picture *p)
{
    const json_t *pic = json_object_get(sh, "picture");
    const char *file = jstr(pic, "file"), *ext = strrchr(file, '.');
    char *src, *dst;
    int rc;

    if (!has_picture(sh) || dir == NULL || strchr(file, '/') != NULL || ext == NULL ||
        strlen(ext) > 5)
        return 0;
    memset(p, 0, sizeof *p);
    snprintf(p->file, sizeof p->file, "pictures/shot%02d%s", n, ext);
    /* The folder, for the first picture. */
    dst = xasprintf("%s/pictures", r->tmp);
    rc = mkdir(dst, 0755) == -1 && errno != EEXIST ? -1 : 0;
    if (rc == -1) {
        fail_errno(r, errno);
        r->cause = xasprintf("cannot make %s: %s", dst, strerror(errno));
    }
    free(dst);
    if (rc == -1)
        return -1;
    src = xasprintf("%s/%s", dir, file);
    dst = xasprintf("%s/%s", r->tmp, p->file);
    rc = copy_file(src, dst);
    if (rc == -1) {
        fail_errno(r, errno);
        r->cause =
            xasprintf("cannot bring the picture %s into the package: %s", src, strerror(errno));
    }
    free(src);
    free(dst);
    if (rc == -1)
        return -1;
    p->input = input;
    p->a = a;
    p->z = z;
    p->clip = strcmp(jstr(pic, "media"), "clip") == 0;
    p->motion = motion_of(&r->t, sh);
    p->w = (int)json_integer_value(json_object_get(pic, "w"));
    p->h = (int)json_integer_value(json_object_get(pic, "h"));
    if (p->w < VIDEO_WIDTH || p->h < VIDEO_HEIGHT)
        p->w = VIDEO_WIDTH, p->h = VIDEO_HEIGHT;
    return 1;
}

/* The graph's start: the colour source (only the frames select keeps, when given) in the
 * encoder's format, each picture laid over it for its shot's time, ending in the label [bN]
 * for the drawing to follow. A still photograph is cropped to the frame once; a pan is a crop
 * that moves across the picture frame by frame; a zoom is zoompan; a clip plays from its shot's
 * start. A moving picture's frames are made only for its shot, on the frame grid. */
static void g_pictures(struct draw_buf *g, const char *select, const struct picture *p, int n,
                       int fps)
{
    draw_printf(g, "[0:v]%s%sformat=yuv420p[b0];", select != NULL ? select : "",
                select != NULL ? "," : "");
    for (int k = 0; k < n; k++) {
        int64_t f0 = (int64_t)(p[k].a * fps + 0.999999), f1 = (int64_t)(p[k].z * fps + 1e-6);
        int64_t frames = f1 >= f0 ? f1 - f0 + 1 : 1;
        double start = (double)f0 / fps, span = (double)(frames > 1 ? frames - 1 : 1) / fps;
        char pos[96];

        if (p[k].clip) {
            draw_printf(g, "[%d:v]trim=duration=%.3f,setpts=PTS-STARTPTS+%.6f/TB,setsar=1[p%d];",
                        p[k].input, p[k].z - p[k].a + 1.0 / fps, start, k);
        } else if (p[k].motion == VIDEO_MOTION_PAN_LEFT || p[k].motion == VIDEO_MOTION_PAN_RIGHT) {
            snprintf(pos, sizeof pos, "%sclip((t-%.6f)/%.6f,0,1)",
                     p[k].motion == VIDEO_MOTION_PAN_LEFT ? "1-" : "", start, span);
            draw_printf(g,
                        "[%d:v]loop=loop=%lld:size=1:start=0,setpts=N/(%d*TB)+%.6f/TB,"
                        "crop=%d:%d:x='(iw-ow)*(%s)':y='(ih-oh)/2',setsar=1[p%d];",
                        p[k].input, (long long)frames - 1, fps, start, VIDEO_WIDTH, VIDEO_HEIGHT,
                        pos, k);
        } else if (p[k].motion == VIDEO_MOTION_ZOOM_IN || p[k].motion == VIDEO_MOTION_ZOOM_OUT) {
            /* From the whole picture to the frame's size inside it (or back): no upscaling. */
            double most = (double)p[k].w / VIDEO_WIDTH;

            snprintf(pos, sizeof pos, "%s%.4f*on/%lld",
                     p[k].motion == VIDEO_MOTION_ZOOM_IN ? "1+" : "", most - 1,
                     (long long)(frames > 1 ? frames - 1 : 1));
            if (p[k].motion == VIDEO_MOTION_ZOOM_OUT)
                snprintf(pos, sizeof pos, "%.4f-%.4f*on/%lld", most, most - 1,
                         (long long)(frames > 1 ? frames - 1 : 1));
            draw_printf(g,
                        "[%d:v]zoompan=z='%s':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=%lld:"
                        "s=%dx%d:fps=%d,setpts=N/(%d*TB)+%.6f/TB,setsar=1[p%d];",
                        p[k].input, pos, (long long)frames, VIDEO_WIDTH, VIDEO_HEIGHT, fps, fps,
                        start, k);
        } else if (p[k].w != VIDEO_WIDTH || p[k].h != VIDEO_HEIGHT) {
            draw_printf(g, "[%d:v]crop=%d:%d,setsar=1[p%d];", p[k].input, VIDEO_WIDTH, VIDEO_HEIGHT,
                        k);
        } else {
            draw_printf(g, "[%d:v]setsar=1[p%d];", p[k].input, k);
        }
        draw_printf(g,
                    "[b%d][p%d]overlay=x=0:y=0:eof_action=repeat:enable='between(t,%.3f,%.3f)'"
                    "[b%d];",
                    k, k, p[k].a, p[k].z, k + 1);
    }
    draw_printf(g, "[b%d]", n);
}

/* The pictures' inputs, after the colour source and the narration. */
static void picture_inputs(const char **argv, int *na, const struct picture *p, int n)
{
    for (int k = 0; k < n; k++)
        args_add(argv, na, "-i", p[k].file, NULL);
}

/* The stills path's video and thumbnail in one ffmpeg run: the pictures and the drawing
 * filters of gr (shot i shown from iv[i][0] to iv[i][1] s) behind a select of the frames that
 * differ or move, over the colour source color, with the narration after the title card's
 * silence. Returns 0, or -1 with r->cause and r->fail. */
static int stills(struct render *r, const struct draw_graph *gr, const double (*iv)[2],
                  const bool *moving, int nshots, const struct picture *pics, int npics,
                  int64_t title_ms, const char *total_s, int64_t total_ms, const char *color,
                  const char *preset)
{
    struct draw_buf g = {0};
    const char *argv[ARGV_MAX];
    char *select;
    int na = 0, thumb = 0, rc;

    /* Only the frames that differ or move, drawn in the encoder's format as the filters path
     * draws them; the title card's frame split off as the thumbnail. */
    select = stills_select(iv, moving, nshots, r->t.fps, total_ms, title_ms / 2, &thumb);
    g_pictures(&g, select, pics, npics, r->t.fps);
    draw_printf(&g, "%s[vd];[vd]split[v][vt];[vt]select='eq(n,%d)'[t];",
                gr->g.len > 0 ? gr->g.s : "null", thumb);
    /* The sound is padded to the length itself: with -t, ffmpeg 5.1 drops a last frame that
     * shows after a long one. */
    draw_printf(&g, "[1:a]adelay=delays=%lld:all=1,apad=whole_dur=%s[a]", (long long)title_ms,
                total_s);
    args_add(argv, &na, r->ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f",
             "lavfi", "-i", color, "-i", "narration.wav", NULL);
    picture_inputs(argv, &na, pics, npics);
    args_add(argv, &na, "-filter_complex", g.s, "-map", "[v]", "-map", "[a]", "-c:v", "libx264",
             "-preset", preset, "-tune", "stillimage", "-pix_fmt", "yuv420p", "-fps_mode:v", "vfr",
             "-force_key_frames", "expr:gte(t,n_forced*10)", NULL);
    audio_args(argv, &na, r->compose);
    args_add(argv, &na, "-movflags", "+faststart", "video.mp4", "-map", "[t]", "-frames:v", "1",
             "-update", "1", "thumbnail.png", NULL);
    rc = run_ffmpeg(r, argv);
    free(select);
    free(g.s);
    return rc;
}

/* The filters path's video, then its thumbnail decoded from it: the pictures and the drawing
 * filters of gr over every frame of the colour source color, with the narration after the
 * title card's silence. Returns 0, or -1 with r->cause and r->fail. */
static int filters(struct render *r, const struct draw_graph *gr, const struct picture *pics,
                   int npics, int64_t title_ms, const char *total_s, const char *color,
                   const char *preset)
{
    struct draw_buf g = {0};
    const char *argv[ARGV_MAX];
    char thumb_s[32];
    int na = 0, rc;

    args_add(argv, &na, r->ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f",
             "lavfi", "-i", color, "-i", "narration.wav", NULL);
    picture_inputs(argv, &na, pics, npics);
    g_pictures(&g, NULL, pics, npics, r->t.fps);
    draw_printf(&g, "%s[v];[1:a]adelay=delays=%lld:all=1,apad[a]", gr->g.len > 0 ? gr->g.s : "null",
                (long long)title_ms);
    args_add(argv, &na, "-filter_complex", g.s, "-map", "[v]", "-map", "[a]", "-c:v", "libx264",
             "-preset", preset, "-pix_fmt", "yuv420p", NULL);
    audio_args(argv, &na, r->compose);
    args_add(argv, &na, "-t", total_s, "-movflags", "+faststart", "video.mp4", NULL);
    rc = run_ffmpeg(r, argv);
    free(g.s);
    if (rc == -1)
        return -1;
    /* The thumbnail: a frame from the middle of the title card. */
    snprintf(thumb_s, sizeof thumb_s, "%.3f", (double)title_ms / 2000);
    na = 0;
    args_add(argv, &na, r->ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-ss",
             thumb_s, "-i", "video.mp4", "-frames:v", "1", "-update", "1", "thumbnail.png", NULL);
    return run_ffmpeg(r, argv);
}

/* What the package and its manifest say of a shot's picture: its file in the package, how it
 * moves, and the chain's record without the work folder's file name. New reference. */
static json_t *picture_record(const json_t *sh, const struct picture *p)
{
    json_t *pic = json_deep_copy(json_object_get(sh, "picture"));

    if (pic == NULL)
        pic = json_pack("{s:s, s:s, s:s}", "source", "text", "label", "text slide", "credit", "");
    if (p != NULL) {
        json_object_set_new(pic, "file", json_string(p->file));
        json_object_set_new(pic, "motion",
                            json_string(p->clip ? "clip" : video_motion_name(p->motion)));
    } else {
        json_object_del(pic, "file");
    }
    return pic;
}

/* The steps of a render, in the temporary folder; the package is built into *pkg. */
static int render_steps(struct render *r, const char *id, const json_t *sb, json_t *pkg)
{
    const json_t *shots = json_object_get(sb, "shots"), *sh;
    const char *pictures_dir = json_string_value(json_object_get(sb, "pictures_dir"));
    size_t nall = json_array_size(shots);
    char **files = xcalloc(nall + 16, sizeof *files);
    char *srt = NULL, *mf = NULL, total_s[32], color[160];
    const char *preset = r->c->video_preset;
    struct draw_graph gr = {.t = &r->t, .dir = r->tmp};
    struct retime rt = {0};
    double(*iv)[2] = xcalloc(nall + 1, sizeof *iv);
    bool *moving = xcalloc(nall + 1, sizeof *moving);
    struct picture *pics = xcalloc(nall + 1, sizeof *pics);
    int nfiles = 0, rc = -1, nshots = 0, npics = 0;
    int64_t t0 = clock_mono_ms(), t1, narration_ms = 0, total_ms;
    json_t *records = json_array();
    size_t i;

    /* The narration, measured. */
    if (narrate(r, jstr(sb, "narration"), &narration_ms, files, &nfiles) == -1)
        goto out;
    t1 = clock_mono_ms();
    json_array_foreach(shots, i, sh)
    {
        if (strcmp(jstr(sh, "kind"), "title_card") == 0)
            rt.title = json_integer_value(json_object_get(sh, "end_ms"));
    }
    rt.planned = json_integer_value(json_object_get(sb, "narration_ms"));
    rt.real = narration_ms;
    total_ms = retime(&rt, json_integer_value(json_object_get(sb, "duration_ms")));
    if (total_ms < rt.title + narration_ms)
        total_ms = rt.title + narration_ms;

    /* The pictures and the drawing, shot by shot, re-timed. */
    {
        json_t *nshots_j = json_array();

        json_array_foreach(shots, i, sh)
        {
            json_t *ns = json_deep_copy(sh);
            int64_t a = retime(&rt, json_integer_value(json_object_get(sh, "start_ms")));
            int64_t z = retime(&rt, json_integer_value(json_object_get(sh, "end_ms")));
            int got = 0;

            json_object_set_new(ns, "start_ms", json_integer(a));
            json_object_set_new(ns, "end_ms", json_integer(z));
            iv[nshots][0] = graph_time(a);
            iv[nshots][1] = graph_time(z > a ? z : a);
            if (r->cause == NULL)
                got = picture_take(r, pictures_dir, sh, nshots + 1, iv[nshots][0], iv[nshots][1],
                                   2 + npics, &pics[npics]);
            if (got == 1)
                moving[nshots] = pics[npics].clip || pics[npics].motion != VIDEO_MOTION_NONE;
            if (json_object_get(sh, "picture") != NULL) {
                json_t *rec = picture_record(sh, got == 1 ? &pics[npics] : NULL);

                json_object_set(ns, "picture", rec);
                json_array_append_new(records,
                                      json_pack("{s:i, s:s, s:I, s:I, s:o}", "n", nshots + 1,
                                                "kind", jstr(sh, "kind"), "start_ms", (json_int_t)a,
                                                "end_ms", (json_int_t)z, "picture", rec));
            }
            npics += got == 1;
            json_array_append_new(nshots_j, ns);
            if (got == -1)
                break;
            if (gr.cause == NULL && g_shot(&gr, sh, iv[nshots][0], iv[nshots][1]) == -1) {
                fail_errno(r, gr.err);
                break;
            }
            nshots++;
        }
        json_object_set_new(pkg, "shots", nshots_j);
        json_object_del(pkg, "pictures_dir");
    }
    if (r->cause != NULL)
        goto out;
    if (gr.cause != NULL) {
        r->cause = gr.cause;
        gr.cause = NULL;
        goto out;
    }
    snprintf(total_s, sizeof total_s, "%.3f", (double)total_ms / 1000);
    snprintf(color, sizeof color, "color=c=%s:s=%dx%d:r=%d:d=%s", r->t.background, VIDEO_WIDTH,
             VIDEO_HEIGHT, r->t.fps, total_s);
    if (r->compose == COMPOSE_STILLS) {
        if (stills(r, &gr, (const double(*)[2])iv, moving, nshots, pics, npics, rt.title, total_s,
                   total_ms, color, preset) == -1)
            goto out;
    } else if (filters(r, &gr, pics, npics, rt.title, total_s, color, preset) == -1) {
        goto out;
    }
    files[nfiles++] = xstrdup("video.mp4");
    files[nfiles++] = xstrdup("thumbnail.png");
    /* Captions re-timed to the narration. */
    {
        char *p = xasprintf("%s/captions.srt", r->tmp);

        srt = retime_srt(jstr(sb, "captions_srt"), &rt);
        rc = draw_write_file(p, srt, strlen(srt), &r->cause);
        if (rc == -1)
            fail_errno(r, errno);
        free(p);
        if (rc == -1)
            goto out;
        rc = -1;
        files[nfiles++] = xstrdup("captions.srt");
    }
    mf = manifest(id, r, files, nfiles, total_ms, narration_ms, records,
                  json_object_get(sb, "visuals"));
    {
        char *p = xasprintf("%s/manifest.json", r->tmp);

        rc = draw_write_file(p, mf, strlen(mf), &r->cause);
        if (rc == -1)
            fail_errno(r, errno);
        free(p);
        if (rc == -1)
            goto out;
        rc = -1;
    }
    /* The text files were for ffmpeg only. */
    for (int k = 0; k < gr.nfiles; k++) {
        char *p = xasprintf("%s/text%03d.txt", r->tmp, k);

        unlink(p);
        free(p);
    }
    {
        json_t *names = json_array();

        for (int k = 0; k < nfiles; k++)
            json_array_append_new(names, json_string(files[k]));
        json_array_append_new(names, json_string("manifest.json"));
        json_object_set_new(pkg, "files", names);
    }
    json_object_set_new(pkg, "captions_srt", json_string(srt));
    json_object_set_new(pkg, "duration_ms", json_integer(total_ms));
    json_object_set_new(pkg, "duration_s", json_real((double)total_ms / 1000));
    json_object_set_new(pkg, "narration_ms", json_integer(narration_ms));
    json_object_set_new(pkg, "render_ms",
                        json_pack("{s:I, s:I}", "speech", (json_int_t)(t1 - t0), "compose",
                                  (json_int_t)(clock_mono_ms() - t1)));
    json_object_set_new(pkg, "tools",
                        json_pack("{s:s, s:s, s:s}", "ffmpeg", r->ffmpeg_version, "speech",
                                  speech_name(r->speech), "speech_version",
                                  speech_version(r->speech)));
    rc = 0;
out:
    free(gr.g.s);
    free(gr.cause);
    free(srt);
    free(mf);
    free(iv);
    free(moving);
    free(pics);
    json_decref(records);
    for (int k = 0; k < nfiles; k++)
        free(files[k]);
    free(files);
    return rc;
}

/* ---- the version of ffmpeg, once per binary ---- */

static pthread_mutex_t version_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *path, *line;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} version_cache;

/* `ffmpeg -version`'s first line for the program at path, asked again only when the file
 * changed. A new string. */
static char *ffmpeg_version(const char *path)
{
    struct stat sb;
    char *line = NULL;
    bool known;

    if (stat(path, &sb) == -1)
        return xstrdup("ffmpeg (version unknown)");
    pthread_mutex_lock(&version_mu);
    known = version_cache.path != NULL && strcmp(version_cache.path, path) == 0 &&
            version_cache.dev == sb.st_dev && version_cache.ino == sb.st_ino &&
            version_cache.size == sb.st_size && version_cache.mtime.tv_sec == sb.st_mtim.tv_sec &&
            version_cache.mtime.tv_nsec == sb.st_mtim.tv_nsec;
    if (known)
        line = xstrdup(version_cache.line);
    pthread_mutex_unlock(&version_mu);
    if (known)
        return line;
    line = proc_first_line(path, "-version");
    if (line == NULL)
        return xstrdup("ffmpeg (version unknown)");
    pthread_mutex_lock(&version_mu);
    free(version_cache.path);
    free(version_cache.line);
    version_cache.path = xstrdup(path);
    version_cache.line = xstrdup(line);
    version_cache.dev = sb.st_dev;
    version_cache.ino = sb.st_ino;
    version_cache.size = sb.st_size;
    version_cache.mtime = sb.st_mtim;
    pthread_mutex_unlock(&version_mu);
    return line;
}

/* ---- temporary folders ---- */

/* Whether name is one of our temporary folders: ".<id>.XXXXXX". */
static bool temp_name(const char *name)
{
    size_t n = strlen(name);

    return name[0] == '.' && n >= 9 && name[n - 7] == '.' && strcmp(name, "..") != 0;
}

/* Makes r->tmp in packages_dir and locks it, while packages_dir is locked shared (a sweep
 * holds it exclusively). Returns 0, or -1 with *cause and r->fail. */
static int temp_make(struct render *r, const char *packages_dir, const char *id, char **cause)
{
    int dir = open(packages_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e;

    if (dir == -1 ||
        (flock(dir, LOCK_SH) == -1 && errno != ENOLCK && errno != EINVAL && errno != EOPNOTSUPP)) {
        e = errno;
        *cause = xasprintf("cannot open %s: %s", packages_dir, strerror(e));
        goto fail;
    }
    r->tmp = xasprintf("%s/.%s.XXXXXX", packages_dir, id);
    if (mkdtemp(r->tmp) == NULL) {
        e = errno;
        *cause = xasprintf("cannot make a temporary folder in %s: %s", packages_dir, strerror(e));
        free(r->tmp);
        r->tmp = NULL;
        goto fail;
    }
    /* A file system without flock leaves the folder unlocked: the sweep cannot lock it either,
     * so it never removes it. */
    r->lock = open(r->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->lock != -1 && flock(r->lock, LOCK_EX | LOCK_NB) == -1) {
        close(r->lock);
        r->lock = -1;
    }
    /* The mark says the folder is a render's: the sweep removes no other. */
    {
        char *mark = xasprintf("%s/%s", r->tmp, VIDEO_TEMP_MARK);
        int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

        e = errno;
        free(mark);
        if (fd == -1) {
            *cause = xasprintf("cannot write in %s: %s", r->tmp, strerror(e));
            paths_rmrf(r->tmp);
            free(r->tmp);
            r->tmp = NULL;
            if (r->lock != -1)
                close(r->lock);
            r->lock = -1;
            goto fail;
        }
        close(fd);
    }
    close(dir);
    return 0;
fail:
    fail_errno(r, e);
    if (dir != -1)
        close(dir);
    return -1;
}

int video_sweep(const char *packages_dir)
{
    int dir = open(packages_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), removed = 0;
    DIR *d;
    struct dirent *e;

    if (dir == -1)
        return errno == ENOENT ? 0 : -1;
    if (flock(dir, LOCK_EX) == -1 || (d = fdopendir(fcntl(dir, F_DUPFD_CLOEXEC, 0))) == NULL) {
        close(dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        int fd;

        if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
            continue;
        if (!temp_name(e->d_name))
            continue;
        fd = openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd == -1)
            continue;
        /* A render's (marked), and free: neither it nor any of its children holds it. */
        if (faccessat(fd, VIDEO_TEMP_MARK, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
            flock(fd, LOCK_EX | LOCK_NB) == 0) {
            char *path = xasprintf("%s/%s", packages_dir, e->d_name);

            if (paths_rmrf(path) == 0)
                removed++;
            free(path);
        }
        close(fd);
    }
    closedir(d);
    close(dir); /* and the lock with it */
    return removed;
}

/* ---- the render ---- */

int video_render(const struct config *c, const char *packages_dir, const char *id, const json_t *sb,
                 json_t **pkg_out, char **cause)
{
    struct render r = {.c = c, .lock = -1, .fail = VIDEO_FAIL_INPUT};
    char *folder = NULL, *why;
    json_t *pkg = NULL;
    int rc = -1;

    *pkg_out = NULL;
    r.deadline = clock_mono_ms() + (int64_t)c->video_render_timeout_s * 1000;
    if ((why = video_unavailable(c)) != NULL) {
        *cause = why;
        last_fail = compose_of(c) < 0 ? VIDEO_FAIL_INPUT : VIDEO_FAIL_ENV; /* a tool missing */
        return -1;
    }
    r.compose = compose_of(c);
    if (id[0] == '.' || id[0] == '\0' || strchr(id, '/') != NULL) {
        *cause = xasprintf("story id \"%s\" cannot name a folder", id);
        last_fail = VIDEO_FAIL_INPUT;
        return -1;
    }
    video_template_default(&r.t);
    r.template_path = video_template_path(c);
    if (r.template_path != NULL && video_template_load(&r.t, r.template_path, cause) == -1) {
        if (access(r.template_path, R_OK) != 0)
            r.fail = VIDEO_FAIL_ENV;
        goto out_early;
    }
    if (!font_ok(r.t.font) || access(r.t.font, R_OK) != 0) {
        *cause = xasprintf("the font %s is missing (Debian: fonts-dejavu-core)", r.t.font);
        r.fail = VIDEO_FAIL_ENV;
        goto out_early;
    }
    r.ffmpeg = paths_which(c->video_ffmpeg);
    if ((r.speech = speech_new(c, cause)) == NULL)
        goto out_early;
    r.ffmpeg_version = ffmpeg_version(r.ffmpeg);
    if (paths_mkdir_p(packages_dir, 0755, cause) == -1) {
        r.fail = VIDEO_FAIL_ENV;
        goto out_early;
    }
    if (temp_make(&r, packages_dir, id, cause) == -1)
        goto out_early;
    proc_inherit(r.lock);
    pkg = json_deep_copy(sb);
    if (render_steps(&r, id, sb, pkg) == -1) {
        if (r.cause == NULL || timed_out(&r)) {
            free(r.cause);
            r.cause = xasprintf("render ran past its time limit of %d s ([video] "
                                "render_timeout_s) and was killed",
                                c->video_render_timeout_s);
            r.fail = VIDEO_FAIL_TIMEOUT;
        }
        *cause = r.cause;
        goto out;
    }
    folder = xasprintf("%s/%s", packages_dir, id);
    if (chmod(r.tmp, 0755) == -1 || paths_fsync_dir(r.tmp) == -1 ||
        (rename(r.tmp, folder) == -1 &&
         ((errno != EEXIST && errno != ENOTEMPTY) ||
          renameat2(AT_FDCWD, r.tmp, AT_FDCWD, folder, RENAME_EXCHANGE) == -1))) {
        fail_errno(&r, errno);
        *cause = xasprintf("cannot move the package into %s: %s", folder, strerror(errno));
        goto out;
    }
    paths_fsync_dir(packages_dir);
    {
        char *mark = xasprintf("%s/%s", folder, VIDEO_TEMP_MARK);

        unlink(mark); /* a package folder is never swept; the mark only has to go */
        free(mark);
    }
    {
        char *abs = realpath(folder, NULL);
        const char *f = abs != NULL ? abs : folder;

        json_object_set_new(pkg, "kind", json_string("video"));
        json_object_set_new(pkg, "video", json_string("rendered"));
        json_object_set_new(pkg, "folder", json_string(f));
        json_object_set_new(pkg, "mp4", json_sprintf("%s/video.mp4", f));
        json_object_set_new(pkg, "srt", json_sprintf("%s/captions.srt", f));
        json_object_set_new(pkg, "thumbnail", json_sprintf("%s/thumbnail.png", f));
        json_object_set_new(pkg, "manifest", json_sprintf("%s/manifest.json", f));
        free(abs);
    }
    *pkg_out = pkg;
    pkg = NULL;
    rc = 0;
out:
    proc_inherit(-1);
    /* On success tmp is gone or holds the replaced package; on failure the half-made one. It
     * is removed before the lock goes, so a sweep never races the removal. */
    paths_rmrf(r.tmp);
    if (r.lock != -1)
        close(r.lock);
    json_decref(pkg);
    free(folder);
out_early:
    last_fail = rc == 0 ? VIDEO_FAIL_NONE : r.fail;
    render_clear(&r);
    return rc;
}

int video_encode_narration(const struct config *c, const char *wav, const char *out, char **cause)
{
    char *ffmpeg = paths_which(c->video_ffmpeg);
    const char *argv[ARGV_MAX];
    int na = 0, rc;

    if (ffmpeg == NULL || compose_of(c) < 0) {
        *cause = ffmpeg == NULL ? xasprintf("%s not found", c->video_ffmpeg)
                                : xasprintf("[video] compose \"%s\" is neither stills nor filters",
                                            c->video_compose);
        free(ffmpeg);
        return -1;
    }
    args_add(argv, &na, ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", wav,
             NULL);
    audio_args(argv, &na, compose_of(c));
    args_add(argv, &na, out, NULL);
    rc = proc_run(argv, NULL, 0, NULL, cause);
    free(ffmpeg);
    return rc;
}
