/*
 * image.h - pictures and clips for the video: fetched with the feeds' limits (a time limit for
 * the whole transfer, a byte limit that stops it as soon as it is passed, a bound on redirects;
 * libcurl through feed_fetch.h for http(s), the file system for a file: URL), known by their
 * first bytes and never by their name (JPEG, PNG, GIF, WebP; an HTML page named .jpg is an
 * HTML page), measured from their headers, refused when they are a tracking pixel or smaller
 * than the minimum, then decoded strictly by ffmpeg (a broken file fails) and written at the
 * video's frame size, scaled to fill it and centre-cropped. A clip (an MP4 from a presenter or
 * clip service) is decoded the same strict way and re-encoded at the frame size and rate,
 * without sound.
 *
 * Threads: any; each call makes and frees its own transfer.
 */
#ifndef NEWSROOM_IMAGE_H
#define NEWSROOM_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

enum image_type { IMAGE_NONE, IMAGE_JPEG, IMAGE_PNG, IMAGE_GIF, IMAGE_WEBP, IMAGE_MP4 };

/* "jpeg", "png", "gif", "webp", "mp4"; "none". */
const char *image_type_name(enum image_type t);

/* What the first len bytes are, by their magic numbers. */
enum image_type image_sniff(const void *data, size_t len);

/* What bytes that are no picture look like, for a reason: "an HTML page", "an XML document",
 * "a PDF document", "JSON", "text", "empty", or "unknown bytes 0x.. 0x.. 0x.. 0x..". Written
 * into buf (at least 48 bytes). */
const char *image_what(const void *data, size_t len, char *buf, size_t size);

/* The width and height a picture's header declares (JPEG's frame header, PNG's IHDR, GIF's
 * screen, WebP's VP8, VP8L or VP8X header). Returns 0, or -1 when they cannot be read. */
int image_size(const void *data, size_t len, int *w, int *h);

struct image_limits {
    int timeout_ms;    /* the whole transfer */
    size_t max_bytes;  /* longer is refused */
    int max_redirects; /* followed */
    int min_width;     /* a smaller picture is refused */
    int min_height;
};

/* [feeds] timeout_ms, max_bytes, max_redirects and [visual] min_width, min_height. */
void image_limits_from_config(struct image_limits *l, const struct config *c);

/* What a fetch learned of a picture. */
struct image_info {
    enum image_type type;
    int width, height;
    size_t bytes;
    bool host_fault; /* a failed transfer the host is to blame for (a breaker's failure) */
};

/* Fetches url (http(s), or file:) within l into path (created or replaced) when it is a
 * picture (want_clip: an MP4 instead) of at least l's minimum size. Returns 0 with *info, or -1
 * with *cause saying why, naming nothing secret: "larger than the N byte limit", "HTTP status
 * 404", "no complete answer within N ms", "not a picture: an HTML page", "a tracking pixel
 * (1x1)", "too small: 200x100, under 320x180", "cannot read its size from its header". */
int image_fetch(const char *url, const struct image_limits *l, bool want_clip, const char *path,
                struct image_info *info, char **cause);

/* Writes the bytes of a picture already in memory (a generated image) to path after the same
 * checks as image_fetch(). Returns 0 with *info, or -1 with *cause. */
int image_accept(const void *data, size_t len, const struct image_limits *l, const char *path,
                 struct image_info *info, char **cause);

/* Decodes the picture in strictly with ffmpeg (the first frame of a GIF) and writes out (a
 * .jpg or .png by its name) at w x h, scaled to cover and centre-cropped, within deadline_ms
 * (monotonic; 0: none). Returns 0, or -1 with *cause ("broken: ..." for a file that does not
 * decode). */
int image_normalise(const char *ffmpeg, const char *in, const char *out, int w, int h,
                    int64_t deadline_ms, char **cause);

/* Decodes the clip in strictly and writes out (an MP4, H.264, no sound) at w x h and fps, at
 * most max_s seconds long; *seconds receives its length. Returns 0, or -1 with *cause. */
int image_clip_normalise(const char *ffmpeg, const char *in, const char *out, int w, int h, int fps,
                         double max_s, int64_t deadline_ms, double *seconds, char **cause);

/* The length of the MP4 at path from its movie header (mvhd). Returns 0, or -1 with *cause. */
int image_mp4_seconds(const char *path, double *seconds, char **cause);

#endif
