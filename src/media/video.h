/*
 * video.h - rendering a storyboard (storyboard.h) into a video package: the narration spoken
 * by the configured speech provider (speech.h), visuals drawn by ffmpeg's filters (a title
 * card, a lower third with the headline and source, a slate per key fact, the narration's
 * sentences, a closing card) styled by a template (config/video.conf), and the pictures the
 * visual chain chose (visual.h: each shot's "picture", its file in the storyboard's
 * "pictures_dir"; brought into the package's pictures/ folder, photographs panning or zooming
 * as the template's [motion] says, clips playing, with their credits drawn), composed into a
 * 1280x720 H.264 + AAC MP4 as long as the narration, captions as SRT timed to the real
 * narration, a thumbnail PNG (a frame of the title card) and manifest.json. ffmpeg and
 * espeak-ng run as child processes with argument vectors (proc.h), never through a shell;
 * every story text reaches ffmpeg through a file (drawtext textfile=, expansion=none), never
 * inside the filter graph.
 *
 * Two ways of composing the picture ([video] compose): "stills" (the default) draws each
 * distinct frame once and encodes the video as stills (a variable frame rate: a frame where
 * the picture changes, on the template's frame grid, held until the next; every frame while a
 * picture moves), with the title
 * card's frame as the thumbnail; "filters" is the first renderer, kept for comparison
 * (`newsroom bench render --path filters`): every frame of a constant frame rate drawn by the
 * filters and encoded, the thumbnail decoded from the MP4. Both give the same pictures at the
 * same times (tests/integration/test_video.c compares them).
 *
 * The package folder is <packages dir>/<id>/; it is rendered in a hidden temporary folder
 * beside it (".<id>.XXXXXX") and renamed into place only when complete, so a failed render
 * leaves nothing behind. A killed process cannot clean up, so the folder is locked (flock) by
 * the render for as long as it or any of its child processes lives, and video_sweep() removes
 * the unlocked ones: what dead processes left.
 *
 * Render slots: at most [video] render_workers renders run at once in one process (a counter
 * under a mutex, shared by every producer agent of the process; not across processes).
 *
 * Threads: any thread; the slot counter and the ffmpeg version cache are guarded by their own
 * mutexes; the last failure (video_last_fail) is the calling thread's own.
 */
#ifndef NEWSROOM_VIDEO_H
#define NEWSROOM_VIDEO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct config;

#define VIDEO_WIDTH  1280
#define VIDEO_HEIGHT 720

/* How a photograph moves over its shot ([motion] of the template, per kind of shot): not at
 * all, a slow pan across it, or a slow zoom into or out of it. Charts, clips and text never
 * move. */
enum video_motion {
    VIDEO_MOTION_NONE,
    VIDEO_MOTION_PAN_LEFT,
    VIDEO_MOTION_PAN_RIGHT,
    VIDEO_MOTION_ZOOM_IN,
    VIDEO_MOTION_ZOOM_OUT
};
/* The kinds of shot a picture can cover, as [motion] names them. */
enum video_pictured {
    VIDEO_SHOT_TITLE,
    VIDEO_SHOT_NARRATION,
    VIDEO_SHOT_KEY_FACT,
    VIDEO_SHOT_KINDS
};

/* "none", "pan_left", "pan_right", "zoom_in", "zoom_out". */
const char *video_motion_name(enum video_motion m);

/* The look of a video: colours ("#RRGGBB", "0xRRGGBB" or an ffmpeg colour name, with an
 * optional "@alpha"), DejaVuSans (or another TrueType file) and sizes in pixels; the box behind
 * a picture's credit and its size; each kind of shot's motion over a photograph. */
struct video_template {
    char background[32], text[32], accent[32], slate[32], lower_third[32], caption[32];
    char credit_box[32];
    char font[256];
    int fps;
    int title_size, text_size, lower_title_size, lower_source_size, fact_size, credit_size;
    int margin, lower_third_height, line_spacing, wrap_chars, max_lines;
    enum video_motion motion[VIDEO_SHOT_KINDS];
};

/* The built-in template (what config/video.conf ships with). */
void video_template_default(struct video_template *t);

/* Reads the INI file path ([template] and [motion] sections) over t. Returns 0, or -1 with *cause
 * naming the file, line and key (t is then partly updated). */
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

/* Why the calling thread's last video_render() failed; NONE after a success (or before any).
 * ENV: the machine's fault, not the story's: no space, quota, a read-only or unwritable
 * folder, an I/O error, a tool or the template's font missing, a tool killed by a signal.
 * TIMEOUT: past [video] render_timeout_s. INPUT: everything else (the story's id or
 * storyboard, a template that does not parse, a tool refusing its input). */
enum video_fail { VIDEO_FAIL_NONE, VIDEO_FAIL_INPUT, VIDEO_FAIL_ENV, VIDEO_FAIL_TIMEOUT };
enum video_fail video_last_fail(void);

/* Renders the storyboard sb (borrowed) of story id into <packages_dir>/<id>/, within
 * [video] render_timeout_s. On success returns 0 and *pkg: a new reference, sb's fields with
 * kind "video", video "rendered", shots and captions_srt re-timed to the real narration,
 * duration_s/duration_ms/narration_ms of the video, folder, mp4, srt, thumbnail, manifest
 * (absolute paths), files (names in the folder), tools and render_ms {speech, compose}. On
 * failure returns -1 with *cause (a render past its limit says so) and leaves no files;
 * video_last_fail() says which kind of failure it was. */
int video_render(const struct config *c, const char *packages_dir, const char *id, const json_t *sb,
                 json_t **pkg, char **cause);

/* The file in a render's temporary folder that says it is one (removed with the folder, or
 * from the package folder once renamed). */
#define VIDEO_TEMP_MARK ".render"

/* Removes the temporary render folders (".<id>.XXXXXX" holding VIDEO_TEMP_MARK) in
 * packages_dir that no live render holds: what a killed process left. Never one a render of
 * this or another process on the machine is using (its lock is taken), nor one it cannot
 * lock, nor an unmarked one. Called when a swarm's producers start. Returns how many it
 * removed (0 when packages_dir does not exist), or -1 when it cannot read the folder. */
int video_sweep(const char *packages_dir);

/* Encodes the WAV file wav (16-bit PCM, as the narration is) to AAC in out (an .m4a) the way a
 * render with c encodes its sound, and nothing else: the floor of a render's time, for `newsroom
 * bench render`. Returns 0, or -1 with *cause. */
int video_encode_narration(const struct config *c, const char *wav, const char *out, char **cause);

/* <data dir>/packages. A new string. */
char *video_packages_dir(const struct config *c);

#endif
