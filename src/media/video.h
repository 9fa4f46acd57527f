/*
 * video.h - rendering a storyboard (storyboard.h) into a video package: the narration spoken
 * by the configured speech provider (speech.h), visuals drawn by ffmpeg's filters (a title
 * card, a lower third with the headline and source, a slate per key fact, the narration's
 * sentences, a closing card) styled by a template (config/video.conf), composed into a
 * 1280x720 H.264 + AAC MP4 as long as the narration, captions as SRT timed to the real
 * narration, a thumbnail PNG (a frame of the title card) and manifest.json. ffmpeg and
 * espeak-ng run as child processes with argument vectors (proc.h), never through a shell;
 * every story text reaches ffmpeg through a file (drawtext textfile=, expansion=none), never
 * inside the filter graph.
 *
 * The package folder is <packages dir>/<id>/; it is rendered in a hidden temporary folder
 * beside it (".<id>.XXXXXX") and renamed into place only when complete, so a failed or
 * killed render leaves nothing behind.
 *
 * Render slots: at most [video] render_workers renders run at once in one process (a counter
 * under a mutex, shared by every producer agent of the process; not across processes).
 *
 * Threads: any thread; the slot counter is guarded by its own mutex, nothing else is shared.
 */
#ifndef NEWSROOM_VIDEO_H
#define NEWSROOM_VIDEO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct config;

#define VIDEO_WIDTH  1280
#define VIDEO_HEIGHT 720

/* The look of a video: colours ("#RRGGBB", "0xRRGGBB" or an ffmpeg colour name, with an
 * optional "@alpha"), DejaVuSans (or another TrueType file) and sizes in pixels. */
struct video_template {
    char background[32], text[32], accent[32], slate[32], lower_third[32], caption[32];
    char font[256];
    int fps;
    int title_size, text_size, lower_title_size, lower_source_size, fact_size;
    int margin, lower_third_height, line_spacing, wrap_chars, max_lines;
};

/* The built-in template (what config/video.conf ships with). */
void video_template_default(struct video_template *t);

/* Reads the INI file path ([template] section) over t. Returns 0, or -1 with *cause naming the
 * file, line and key (t is then partly updated). */
int video_template_load(struct video_template *t, const char *path, char **cause);

/* The template file [video] template names; empty: config/video.conf of the share directory
 * (paths_share_file: installed, or the source tree) when it exists, else
 * NULL (the built-in one). A new string or NULL. */
char *video_template_path(const struct config *c);

/* Why videos cannot be made with c (ffmpeg or the local speech program missing or turned off:
 * "ffmpeg not found"), as a new string, or NULL when they can. */
char *video_unavailable(const struct config *c);

/* Takes a render slot of this process when one of [video] render_workers is free; returns
 * false when all are busy. Give it back with video_slot_release(). */
bool video_slot_try(const struct config *c);
void video_slot_release(void);

/* Renders the storyboard sb (borrowed) of story id into <packages_dir>/<id>/, within
 * [video] render_timeout_s. On success returns 0 and *pkg: a new reference, sb's fields with
 * kind "video", video "rendered", shots and captions_srt re-timed to the real narration,
 * duration_s/duration_ms/narration_ms of the video, folder, mp4, srt, thumbnail, manifest
 * (absolute paths), files (names in the folder), tools and render_ms {speech, compose}. On
 * failure returns -1 with *cause (a render past its limit says so) and leaves no files. */
int video_render(const struct config *c, const char *packages_dir, const char *id, const json_t *sb,
                 json_t **pkg, char **cause);

/* <data dir>/packages. A new string. */
char *video_packages_dir(const struct config *c);

#endif
