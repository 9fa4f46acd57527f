/*
 * video.c - storyboard to MP4; see video.h for the package and the guarantees. One render:
 * speak the narration (speech.h) into the temporary folder, measure it, re-time the shots and
 * captions to it, write every on-screen text to its own file, run ffmpeg once for the video
 * (a colour source and the narration through one filter graph of drawbox/drawtext filters,
 * each enabled for its shot's time) and once for the thumbnail, write captions.srt and
 * manifest.json, rename the folder into place. Every child runs with the time left before the
 * render's deadline and in the temporary folder (so the filter graph names text files by
 * short relative names and never holds a path that would need escaping).
 *
 * Threads: any thread. The render slot counter (slot_mu) is the only shared state.
 */
#define _GNU_SOURCE /* renameat2 */
#include "media/video.h"

#include "media/proc.h"
#include "media/speech.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    snprintf(t->font, sizeof t->font, "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    t->fps = 25;
    t->title_size = 64;
    t->text_size = 40;
    t->lower_title_size = 36;
    t->lower_source_size = 26;
    t->fact_size = 120;
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
    {"font", T_FONT, offsetof(struct video_template, font), 0, 0},
    TI(fps, 1, 60),
    TI(title_size, 8, 300),
    TI(text_size, 8, 300),
    TI(lower_title_size, 8, 300),
    TI(lower_source_size, 8, 300),
    TI(fact_size, 8, 400),
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
    if (strcmp(section, "template") != 0) {
        l->cause = xasprintf("unknown section [%s] (only [template])", section);
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

/* A growing string. */
struct vbuf {
    char *s;
    size_t len, cap;
};

static void vb_add(struct vbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void vb_printf(struct vbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void vb_printf(struct vbuf *b, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) == -1)
        fail("out of memory");
    va_end(ap);
    vb_add(b, s, strlen(s));
    free(s);
}

/* text folded to words (controls are white space) and wrapped into lines of at most width
 * characters, at most max_lines of them (the last ending in "..." when cut). A new string
 * without a final newline. */
static char *wrap(const char *text, int width, int max_lines)
{
    struct vbuf b = {0};
    int lines = 1, col = 0;
    const unsigned char *p = (const unsigned char *)text;

    vb_add(&b, "", 0);
    while (*p != '\0') {
        const unsigned char *w;
        int chars = 0;

        while (*p != '\0' && (*p <= 0x20 || *p == 0x7f))
            p++;
        if (*p == '\0')
            break;
        for (w = p; *w > 0x20 && *w != 0x7f; w++)
            chars += (*w & 0xC0) != 0x80;
        if (col > 0 && col + 1 + chars > width) {
            if (lines == max_lines) {
                vb_add(&b, "...", 3);
                break;
            }
            vb_add(&b, "\n", 1);
            lines++;
            col = 0;
        } else if (col > 0) {
            vb_add(&b, " ", 1);
            col++;
        }
        vb_add(&b, (const char *)p, (size_t)(w - p));
        col += chars;
        p = w;
    }
    return b.s;
}

static int write_file(const char *path, const char *data, size_t len, char **cause)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t off = 0;

    if (fd == -1) {
        *cause = xasprintf("cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);

        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1) {
            *cause = xasprintf("cannot write %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    if (fsync(fd) == -1 || close(fd) == -1) {
        *cause = xasprintf("cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

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
    struct vbuf b = {0};
    const char *p = srt;

    vb_add(&b, "", 0);
    while (*p != '\0') {
        size_t n = strcspn(p, "\n");
        const char *arrow = memmem(p, n, " --> ", 5);
        int64_t a, z;

        if (arrow != NULL && parse_srt_time(p, &a) && parse_srt_time(arrow + 5, &z)) {
            char ta[32], tz[32];

            srt_time(retime(r, a), ta, sizeof ta);
            srt_time(retime(r, z), tz, sizeof tz);
            vb_printf(&b, "%s --> %s", ta, tz);
        } else {
            vb_add(&b, p, n);
        }
        p += n;
        if (*p == '\n') {
            vb_add(&b, "\n", 1);
            p++;
        }
    }
    return b.s;
}

/* ---- the filter graph ---- */

struct graph {
    struct vbuf g;
    const struct video_template *t;
    const char *dir;
    int nfiles;
    char *cause;
};

static void g_sep(struct graph *gr)
{
    if (gr->g.len > 0)
        vb_add(&gr->g, ",", 1);
}

/* A text file for drawtext: returns its name in the folder (static storage in name). */
static int g_textfile(struct graph *gr, const char *text, char *name, size_t size)
{
    char *path;
    int rc;

    snprintf(name, size, "text%03d.txt", gr->nfiles++);
    path = xasprintf("%s/%s", gr->dir, name);
    rc = write_file(path, text, strlen(text), &gr->cause);
    free(path);
    return rc;
}

static void g_box(struct graph *gr, const char *geometry, const char *color, double a, double z)
{
    g_sep(gr);
    vb_printf(&gr->g, "drawbox=%s:color=%s:t=fill:enable='between(t,%.3f,%.3f)'", geometry, color,
              a, z);
}

static int g_text(struct graph *gr, const char *text, int size, const char *color, const char *x,
                  const char *y, double a, double z)
{
    char name[32];

    if (g_textfile(gr, text, name, sizeof name) == -1)
        return -1;
    g_sep(gr);
    vb_printf(&gr->g,
              "drawtext=fontfile=%s:textfile=%s:expansion=none:fontsize=%d:fontcolor=%s:"
              "line_spacing=%d:x=%s:y=%s:enable='between(t,%.3f,%.3f)'",
              gr->t->font, name, size, color, gr->t->line_spacing, x, y, a, z);
    return 0;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? s : "";
}

/* Adds the drawing of shot sh (times already re-timed, in seconds a..z). */
static int g_shot(struct graph *gr, const json_t *sh, double a, double z)
{
    const struct video_template *t = gr->t;
    const char *kind = jstr(sh, "kind");
    char *w = NULL, geo[96], y[64];
    int rc = 0;

    if (strcmp(kind, "title_card") == 0) {
        w = wrap(jstr(sh, "text"), t->wrap_chars * 40 / t->title_size + 8, t->max_lines);
        snprintf(geo, sizeof geo, "x=0:y=ih-%d:w=iw:h=12", t->margin);
        g_box(gr, geo, t->accent, a, z);
        rc = g_text(gr, w, t->title_size, t->text, "(w-text_w)/2", "(h-text_h)/2", a, z);
    } else if (strcmp(kind, "lower_third") == 0) {
        char *src = wrap(jstr(sh, "source"), 80, 1);

        w = wrap(jstr(sh, "text"), 60, 1);
        snprintf(geo, sizeof geo, "x=0:y=ih-%d:w=iw:h=%d", t->margin + t->lower_third_height,
                 t->lower_third_height);
        g_box(gr, geo, t->lower_third, a, z);
        snprintf(geo, sizeof geo, "x=0:y=ih-%d:w=16:h=%d", t->margin + t->lower_third_height,
                 t->lower_third_height);
        g_box(gr, geo, t->accent, a, z);
        snprintf(y, sizeof y, "h-%d", t->margin + t->lower_third_height - 18);
        rc = g_text(gr, w, t->lower_title_size, t->text, "48", y, a, z);
        snprintf(y, sizeof y, "h-%d", t->margin + t->lower_source_size + 18);
        if (rc == 0 && *src != '\0')
            rc = g_text(gr, src, t->lower_source_size, t->caption, "48", y, a, z);
        free(src);
    } else if (strcmp(kind, "key_fact") == 0) {
        const char *visual = jstr(sh, "visual"), *fig = strstr(visual, ": ");

        g_box(gr, "x=0:y=0:w=iw:h=ih", t->slate, a, z);
        snprintf(y, sizeof y, "%d", t->margin + 40);
        rc = g_text(gr, fig != NULL ? fig + 2 : "", t->fact_size, t->accent, "(w-text_w)/2", y, a,
                    z);
        w = wrap(jstr(sh, "text"), t->wrap_chars, t->max_lines);
        snprintf(y, sizeof y, "%d", t->margin + 80 + t->fact_size);
        if (rc == 0)
            rc = g_text(gr, w, t->text_size, t->text, "(w-text_w)/2", y, a, z);
    } else if (strcmp(kind, "closing") == 0) {
        w = wrap(jstr(sh, "text"), t->wrap_chars, t->max_lines);
        rc = g_text(gr, w, t->text_size, t->text, "(w-text_w)/2", "(h-text_h)/2", a, z);
    } else { /* narration: the sentence on screen */
        w = wrap(jstr(sh, "text"), t->wrap_chars, t->max_lines);
        snprintf(y, sizeof y, "%d", t->margin + 40);
        rc = g_text(gr, w, t->text_size, t->text, "(w-text_w)/2", y, a, z);
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

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd == -1)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* What one render holds; freed by render_clear. */
struct render {
    const struct config *c;
    char *tmp, *ffmpeg, *ffmpeg_version, *template_path;
    struct video_template t;
    struct speech *speech;
    int64_t deadline;
    char *cause;
};

static int timed_out(struct render *r)
{
    return r->c->video_render_timeout_s > 0 && clock_mono_ms() >= r->deadline;
}

/* Runs ffmpeg in the temporary folder with the render's deadline. */
static int run_ffmpeg(struct render *r, const char *const *argv)
{
    if (proc_run(argv, r->tmp, r->c->video_render_timeout_s > 0 ? r->deadline : 0, NULL,
                 &r->cause) == -1) {
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
    if (rc == 0 && *ms < 0) {
        /* Not a WAV (MP3 from a network voice): decode it once to measure and mix it. */
        const char *argv[] = {
            r->ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",         "-y", "-i", name,
            "-ac",     "1",        "-ar",          "44100",     "narration.wav", NULL};
        char *wav = xasprintf("%s/narration.wav", r->tmp);

        rc = run_ffmpeg(r, argv);
        if (rc == 0)
            rc = speech_wav_duration(wav, ms, &r->cause);
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

static char *manifest(const char *id, const struct render *r, char **files, int nfiles,
                      int64_t duration_ms, int64_t narration_ms)
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
    json_object_set_new(m, "template",
                        r->template_path != NULL ? json_string(r->template_path) : json_null());
    json_object_set_new(m, "files", fl);
    json_object_set_new(m, "tools", tools);
    s = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(m);
    if (s == NULL)
        fail("cannot encode a manifest");
    out = xasprintf("%s\n", s);
    free(s);
    return out;
}

/* The steps of a render, in the temporary folder; the package is built into *pkg. */
static int render_steps(struct render *r, const char *id, const json_t *sb, json_t *pkg)
{
    const json_t *shots = json_object_get(sb, "shots"), *sh;
    char *files[8], *graph_s = NULL, *srt = NULL, *mf = NULL, total_s[32], title_s[32];
    char color[160], preset[64];
    struct graph gr = {.t = &r->t, .dir = r->tmp};
    struct retime rt = {0};
    int nfiles = 0, rc = -1;
    int64_t t0 = clock_mono_ms(), t1, narration_ms = 0, total_ms;
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

    /* The visuals, shot by shot, re-timed. */
    {
        json_t *nshots = json_array();

        json_array_foreach(shots, i, sh)
        {
            json_t *ns = json_deep_copy(sh);
            int64_t a = retime(&rt, json_integer_value(json_object_get(sh, "start_ms")));
            int64_t z = retime(&rt, json_integer_value(json_object_get(sh, "end_ms")));

            json_object_set_new(ns, "start_ms", json_integer(a));
            json_object_set_new(ns, "end_ms", json_integer(z));
            json_array_append_new(nshots, ns);
            if (gr.cause == NULL &&
                g_shot(&gr, sh, (double)a / 1000, (double)(z > a ? z : a) / 1000) == -1)
                break;
        }
        json_object_set_new(pkg, "shots", nshots);
    }
    if (gr.cause != NULL) {
        r->cause = gr.cause;
        gr.cause = NULL;
        goto out;
    }
    if (gr.g.len == 0)
        vb_add(&gr.g, "null", 4);
    vb_add(&gr.g, "[v];[1:a]", 9);
    vb_printf(&gr.g, "adelay=delays=%lld:all=1,apad[a]", (long long)rt.title);
    graph_s = gr.g.s;
    gr.g.s = NULL;

    snprintf(total_s, sizeof total_s, "%.3f", (double)total_ms / 1000);
    snprintf(color, sizeof color, "color=c=%s:s=%dx%d:r=%d:d=%s", r->t.background, VIDEO_WIDTH,
             VIDEO_HEIGHT, r->t.fps, total_s);
    snprintf(preset, sizeof preset, "%s", r->c->video_preset);
    {
        const char *argv[] = {r->ffmpeg,
                              "-nostdin",
                              "-hide_banner",
                              "-loglevel",
                              "error",
                              "-y",
                              "-f",
                              "lavfi",
                              "-i",
                              color,
                              "-i",
                              "narration.wav",
                              "-filter_complex",
                              graph_s,
                              "-map",
                              "[v]",
                              "-map",
                              "[a]",
                              "-c:v",
                              "libx264",
                              "-preset",
                              preset,
                              "-pix_fmt",
                              "yuv420p",
                              "-c:a",
                              "aac",
                              "-b:a",
                              "128k",
                              "-ar",
                              "44100",
                              "-t",
                              total_s,
                              "-movflags",
                              "+faststart",
                              "video.mp4",
                              NULL};

        if (run_ffmpeg(r, argv) == -1)
            goto out;
        files[nfiles++] = xstrdup("video.mp4");
    }
    /* The thumbnail: a frame from the middle of the title card. */
    snprintf(title_s, sizeof title_s, "%.3f", (double)rt.title / 2000);
    {
        const char *argv[] = {r->ffmpeg, "-nostdin",  "-hide_banner",  "-loglevel",
                              "error",   "-y",        "-ss",           title_s,
                              "-i",      "video.mp4", "-frames:v",     "1",
                              "-update", "1",         "thumbnail.png", NULL};

        if (run_ffmpeg(r, argv) == -1)
            goto out;
        files[nfiles++] = xstrdup("thumbnail.png");
    }
    /* Captions re-timed to the narration. */
    {
        char *p = xasprintf("%s/captions.srt", r->tmp);

        srt = retime_srt(jstr(sb, "captions_srt"), &rt);
        rc = write_file(p, srt, strlen(srt), &r->cause);
        free(p);
        if (rc == -1)
            goto out;
        rc = -1;
        files[nfiles++] = xstrdup("captions.srt");
    }
    mf = manifest(id, r, files, nfiles, total_ms, narration_ms);
    {
        char *p = xasprintf("%s/manifest.json", r->tmp);

        rc = write_file(p, mf, strlen(mf), &r->cause);
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
    free(graph_s);
    free(srt);
    free(mf);
    for (int k = 0; k < nfiles; k++)
        free(files[k]);
    return rc;
}

int video_render(const struct config *c, const char *packages_dir, const char *id, const json_t *sb,
                 json_t **pkg_out, char **cause)
{
    struct render r = {.c = c};
    char *folder = NULL, *why;
    json_t *pkg = NULL;
    int rc = -1;

    *pkg_out = NULL;
    r.deadline = clock_mono_ms() + (int64_t)c->video_render_timeout_s * 1000;
    if ((why = video_unavailable(c)) != NULL) {
        *cause = why;
        return -1;
    }
    if (id[0] == '.' || id[0] == '\0' || strchr(id, '/') != NULL) {
        *cause = xasprintf("story id \"%s\" cannot name a folder", id);
        return -1;
    }
    video_template_default(&r.t);
    r.template_path = video_template_path(c);
    if (r.template_path != NULL && video_template_load(&r.t, r.template_path, cause) == -1)
        goto out_early;
    if (!font_ok(r.t.font) || access(r.t.font, R_OK) != 0) {
        *cause = xasprintf("the font %s is missing (Debian: fonts-dejavu-core)", r.t.font);
        goto out_early;
    }
    r.ffmpeg = paths_which(c->video_ffmpeg);
    if ((r.speech = speech_new(c, cause)) == NULL)
        goto out_early;
    r.ffmpeg_version = proc_first_line(r.ffmpeg, "-version");
    if (r.ffmpeg_version == NULL)
        r.ffmpeg_version = xstrdup("ffmpeg (version unknown)");
    if (paths_mkdir_p(packages_dir, 0755, cause) == -1)
        goto out_early;
    r.tmp = xasprintf("%s/.%s.XXXXXX", packages_dir, id);
    if (mkdtemp(r.tmp) == NULL) {
        *cause =
            xasprintf("cannot make a temporary folder in %s: %s", packages_dir, strerror(errno));
        free(r.tmp);
        r.tmp = NULL;
        goto out_early;
    }
    pkg = json_deep_copy(sb);
    if (render_steps(&r, id, sb, pkg) == -1) {
        if (r.cause == NULL || timed_out(&r)) {
            free(r.cause);
            r.cause = xasprintf("render ran past its time limit of %d s ([video] "
                                "render_timeout_s) and was killed",
                                c->video_render_timeout_s);
        }
        *cause = r.cause;
        goto out;
    }
    folder = xasprintf("%s/%s", packages_dir, id);
    if (chmod(r.tmp, 0755) == -1 || fsync_dir(r.tmp) == -1 ||
        (rename(r.tmp, folder) == -1 &&
         ((errno != EEXIST && errno != ENOTEMPTY) ||
          renameat2(AT_FDCWD, r.tmp, AT_FDCWD, folder, RENAME_EXCHANGE) == -1))) {
        *cause = xasprintf("cannot move the package into %s: %s", folder, strerror(errno));
        goto out;
    }
    fsync_dir(packages_dir);
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
    /* On success tmp is gone or holds the replaced package; on failure the half-made one. */
    paths_rmrf(r.tmp);
    json_decref(pkg);
    free(folder);
out_early:
    render_clear(&r);
    return rc;
}
