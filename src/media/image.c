/*
 * image.c - fetching, checking and normalising pictures and clips; see image.h. A fetch holds
 * the bytes in memory (at most the byte limit), checks them, then writes them out; ffmpeg runs
 * as a child process (proc.h) with -err_detect explode -xerror, so a truncated or corrupt file
 * fails instead of being drawn half grey.
 *
 * Threads: any; nothing is shared.
 */
#include "media/image.h"

#include "core/config.h"
#include "core/fail.h"
#include "feeds/feed_fetch.h"
#include "media/draw.h"
#include "media/proc.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *image_type_name(enum image_type t)
{
    static const char *const names[] = {"none", "jpeg", "png", "gif", "webp", "mp4"};

    return (int)t >= 0 && t <= IMAGE_MP4 ? names[t] : "none";
}

enum image_type image_sniff(const void *data, size_t len)
{
    const unsigned char *p = data;

    if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return IMAGE_JPEG;
    if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return IMAGE_PNG;
    if (len >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return IMAGE_GIF;
    if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return IMAGE_WEBP;
    if (len >= 12 && memcmp(p + 4, "ftyp", 4) == 0)
        return IMAGE_MP4;
    return IMAGE_NONE;
}

/* Whether the text at p (n bytes) starts, past white space, with one of the words (any case). */
static bool starts_with_any(const char *p, size_t n, const char *const *words)
{
    while (n > 0 && isspace((unsigned char)*p))
        p++, n--;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3, n -= 3;
    for (size_t i = 0; words[i] != NULL; i++) {
        size_t w = strlen(words[i]);

        if (n >= w && strncasecmp(p, words[i], w) == 0)
            return true;
    }
    return false;
}

const char *image_what(const void *data, size_t len, char *buf, size_t size)
{
    static const char *const html[] = {"<!doctype html", "<html", "<head", "<body", "<!--", NULL};
    static const char *const xml[] = {"<?xml", "<rss", "<feed", "<svg", NULL};
    static const char *const json[] = {"{", "[", NULL};
    const unsigned char *p = data;
    size_t text = 0, n = len < 512 ? len : 512;

    if (len == 0)
        return "empty";
    if (starts_with_any(data, n, html))
        return "an HTML page";
    if (starts_with_any(data, n, xml))
        return "an XML document";
    if (n >= 4 && memcmp(p, "%PDF", 4) == 0)
        return "a PDF document";
    if (starts_with_any(data, n, json))
        return "JSON";
    for (size_t i = 0; i < n; i++)
        text += p[i] >= 0x20 || p[i] == '\n' || p[i] == '\r' || p[i] == '\t';
    if (text == n)
        return "text";
    snprintf(buf, size, "unknown bytes");
    for (size_t i = 0; i < 4 && i < len; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), " 0x%02x", p[i]);
    return buf;
}

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static unsigned le16(const unsigned char *p)
{
    return (unsigned)p[1] << 8 | p[0];
}

static unsigned long be32(const unsigned char *p)
{
    return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

static unsigned long le24(const unsigned char *p)
{
    return (unsigned long)p[2] << 16 | (unsigned long)p[1] << 8 | p[0];
}

/* A JPEG's frame header (SOFn): walks the markers from the start. */
static int jpeg_size(const unsigned char *p, size_t len, int *w, int *h)
{
    size_t i = 2;

    while (i + 4 <= len) {
        unsigned marker, seg;

        if (p[i] != 0xFF)
            return -1;
        marker = p[i + 1];
        if (marker == 0xFF) { /* fill bytes */
            i++;
            continue;
        }
        if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
            i += 2;
            continue;
        }
        if (marker == 0xD9 || marker == 0xDA) /* the end, or the scan: no frame header seen */
            return -1;
        seg = be16(p + i + 2);
        if (seg < 2)
            return -1;
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
            marker != 0xCC) {
            if (i + 9 > len)
                return -1;
            *h = (int)be16(p + i + 5);
            *w = (int)be16(p + i + 7);
            return 0;
        }
        i += 2 + seg;
    }
    return -1;
}

int image_size(const void *data, size_t len, int *w, int *h)
{
    const unsigned char *p = data;

    switch (image_sniff(data, len)) {
    case IMAGE_JPEG:
        return jpeg_size(p, len, w, h);
    case IMAGE_PNG:
        if (len < 24 || memcmp(p + 12, "IHDR", 4) != 0)
            return -1;
        *w = (int)(be32(p + 16) & 0x7fffffff);
        *h = (int)(be32(p + 20) & 0x7fffffff);
        return 0;
    case IMAGE_GIF:
        if (len < 10)
            return -1;
        *w = (int)le16(p + 6);
        *h = (int)le16(p + 8);
        return 0;
    case IMAGE_WEBP:
        if (len >= 30 && memcmp(p + 12, "VP8 ", 4) == 0) {
            *w = (int)(le16(p + 26) & 0x3fff);
            *h = (int)(le16(p + 28) & 0x3fff);
            return 0;
        }
        if (len >= 25 && memcmp(p + 12, "VP8L", 4) == 0 && p[20] == 0x2f) {
            unsigned long bits = (unsigned long)p[21] | (unsigned long)p[22] << 8 |
                                 (unsigned long)p[23] << 16 | (unsigned long)p[24] << 24;

            *w = (int)(bits & 0x3fff) + 1;
            *h = (int)((bits >> 14) & 0x3fff) + 1;
            return 0;
        }
        if (len >= 30 && memcmp(p + 12, "VP8X", 4) == 0) {
            *w = (int)le24(p + 24) + 1;
            *h = (int)le24(p + 27) + 1;
            return 0;
        }
        return -1;
    default:
        return -1;
    }
}

void image_limits_from_config(struct image_limits *l, const struct config *c)
{
    l->timeout_ms = c->feed_timeout_ms;
    l->max_bytes = (size_t)c->feed_max_bytes;
    l->max_redirects = c->feed_max_redirects;
    l->min_width = c->visual_min_width;
    l->min_height = c->visual_min_height;
}

/* Checks len bytes as a picture (or an MP4 when want_clip) against l. Returns 0 with *info,
 * or -1 with *cause. */
static int check(const void *data, size_t len, const struct image_limits *l, bool want_clip,
                 struct image_info *info, char **cause)
{
    char buf[64];

    info->type = image_sniff(data, len);
    info->bytes = len;
    if (want_clip) {
        if (info->type != IMAGE_MP4) {
            *cause = xasprintf("not an MP4 clip: %s", info->type != IMAGE_NONE
                                                          ? image_type_name(info->type)
                                                          : image_what(data, len, buf, sizeof buf));
            return -1;
        }
        return 0;
    }
    if (info->type == IMAGE_NONE || info->type == IMAGE_MP4) {
        *cause = xasprintf("not a picture: %s", info->type == IMAGE_MP4
                                                    ? "an MP4 video"
                                                    : image_what(data, len, buf, sizeof buf));
        return -1;
    }
    if (image_size(data, len, &info->width, &info->height) == -1) {
        *cause = xasprintf("broken: cannot read the size from its %s header",
                           image_type_name(info->type));
        return -1;
    }
    if (info->width <= 2 && info->height <= 2) {
        *cause = xasprintf("a tracking pixel (%dx%d)", info->width, info->height);
        return -1;
    }
    if (info->width < l->min_width || info->height < l->min_height) {
        *cause = xasprintf("too small: %dx%d, under %dx%d", info->width, info->height, l->min_width,
                           l->min_height);
        return -1;
    }
    return 0;
}

static int write_out(const char *path, const void *data, size_t len, char **cause)
{
    return draw_write_file(path, data, len, cause);
}

int image_accept(const void *data, size_t len, const struct image_limits *l, const char *path,
                 struct image_info *info, char **cause)
{
    memset(info, 0, sizeof *info);
    if (len > l->max_bytes) {
        *cause = xasprintf("larger than the %zu byte limit", l->max_bytes);
        return -1;
    }
    if (check(data, len, l, false, info, cause) == -1)
        return -1;
    return write_out(path, data, len, cause);
}

/* A file: URL's path with its percent-escapes decoded, as a "file://" source for
 * feed_file_fetch(); NULL when it is not a file: URL or holds an escaped NUL or slash. */
static char *file_source(const char *url)
{
    const char *p;
    char *out, *o;

    if (strncasecmp(url, "file:", 5) != 0)
        return NULL;
    p = url + 5;
    if (strncmp(p, "//localhost/", 12) == 0)
        p += 11;
    else if (strncmp(p, "//", 2) == 0)
        p += 2;
    out = o = xmalloc(strlen(p) + 8);
    o += sprintf(o, "file://");
    for (; *p != '\0' && *p != '?' && *p != '#'; p++) {
        if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], '\0'};
            int c = (int)strtol(hex, NULL, 16);

            if (c == 0 || c == '/') {
                free(out);
                return NULL;
            }
            *o++ = (char)c;
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

int image_fetch(const char *url, const struct image_limits *l, bool want_clip, const char *path,
                struct image_info *info, char **cause)
{
    struct feed_answer a;
    int rc;

    memset(info, 0, sizeof *info);
    if (strncasecmp(url, "file:", 5) == 0) {
        char *src = file_source(url);

        if (src == NULL) {
            *cause = xstrdup("not a file the feed can name");
            return -1;
        }
        rc = feed_file_fetch(src, NULL, l->max_bytes, &a, cause);
        free(src);
        if (rc == -1)
            return -1;
        if (a.data == NULL) {
            feed_answer_clear(&a);
            *cause = xstrdup("a folder, not a file");
            return -1;
        }
    } else if (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0) {
        struct feed_fetch_options fo = {l->timeout_ms, l->max_bytes, l->max_redirects};
        struct feed_transfer *t = feed_transfer_new(FEED_FETCH_MEDIA, url, NULL, NULL, &fo);
        CURLcode cc = curl_easy_perform(feed_transfer_easy(t));

        rc = feed_transfer_finish(t, cc, &a, cause);
        feed_transfer_free(t);
        info->host_fault = a.host_fault;
        if (rc == -1) {
            feed_answer_clear(&a);
            return -1;
        }
    } else {
        *cause = xstrdup("neither an http(s) nor a file: URL");
        return -1;
    }
    rc = check(a.data, a.len, l, want_clip, info, cause);
    if (rc == 0)
        rc = write_out(path, a.data, a.len, cause);
    feed_answer_clear(&a);
    return rc;
}

#define ARGS_MAX 40

/* Runs ffmpeg on the input in, strict about broken input (-err_detect explode -xerror), with
 * the output arguments that follow (ended by NULL). Returns 0, or -1 with *cause saying that
 * what was read is broken. */
static int strict_ffmpeg(const char *ffmpeg, const char *in, int64_t deadline_ms, char **cause, ...)
{
    const char *argv[ARGS_MAX], *a;
    char *why = NULL;
    int n = 0;
    va_list ap;

    proc_args_add(argv, &n, ARGS_MAX, ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
                  "-err_detect", "explode", "-xerror", "-y", "-i", in, NULL);
    va_start(ap, cause);
    while ((a = va_arg(ap, const char *)) != NULL)
        proc_args_add(argv, &n, ARGS_MAX, a, NULL);
    va_end(ap);
    if (proc_run(argv, NULL, deadline_ms, NULL, &why) == -1) {
        *cause = xasprintf("broken: ffmpeg cannot decode it (%s)", why);
        free(why);
        return -1;
    }
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

int image_normalise(const char *ffmpeg, const char *in, const char *out, int w, int h,
                    int64_t deadline_ms, char **cause)
{
    char vf[160];
    bool jpeg = ends_with(out, ".jpg") || ends_with(out, ".jpeg");

    snprintf(vf, sizeof vf,
             "scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,setsar=1%s", w, h, w, h,
             jpeg ? ",format=yuvj420p" : "");
    if (jpeg)
        return strict_ffmpeg(ffmpeg, in, deadline_ms, cause, "-frames:v", "1", "-vf", vf, "-q:v",
                             "2", out, NULL);
    return strict_ffmpeg(ffmpeg, in, deadline_ms, cause, "-frames:v", "1", "-vf", vf, out, NULL);
}

int image_clip_normalise(const char *ffmpeg, const char *in, const char *out, int w, int h, int fps,
                         double max_s, int64_t deadline_ms, double *seconds, char **cause)
{
    char vf[200], t[32];

    snprintf(vf, sizeof vf,
             "scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,setsar=1,fps=%d,"
             "format=yuv420p",
             w, h, w, h, fps);
    snprintf(t, sizeof t, "%.3f", max_s);
    if (strict_ffmpeg(ffmpeg, in, deadline_ms, cause, "-an", "-t", t, "-vf", vf, "-c:v", "libx264",
                      "-preset", "veryfast", "-crf", "20", "-movflags", "+faststart", out,
                      NULL) == -1)
        return -1;
    return image_mp4_seconds(out, seconds, cause);
}

/* Finds the box named type among the boxes in [p, end): its payload in *body, *len. */
static int mp4_box(const unsigned char *p, const unsigned char *end, const char *type,
                   const unsigned char **body, size_t *len)
{
    while (end - p >= 8) {
        unsigned long size = be32(p);
        size_t head = 8;

        if (size == 1) {
            if (end - p < 16 || be32(p + 8) != 0)
                return -1; /* a box over 4 GiB: no clip here is one */
            size = be32(p + 12);
            head = 16;
        } else if (size == 0) {
            size = (unsigned long)(end - p);
        }
        if (size < head || size > (unsigned long)(end - p))
            return -1;
        if (memcmp(p + 4, type, 4) == 0) {
            *body = p + head;
            *len = size - head;
            return 0;
        }
        p += size;
    }
    return -1;
}

int image_mp4_seconds(const char *path, double *seconds, char **cause)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    const unsigned char *moov, *mvhd;
    size_t n, moov_len, mvhd_len;
    long size;
    int rc = -1;

    if (f == NULL) {
        *cause = xasprintf("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size <= 0 || size > (256L << 20)) {
        fclose(f);
        *cause = xasprintf("%s: not an MP4 of a size a clip has", path);
        return -1;
    }
    buf = xmalloc((size_t)size);
    n = fread(buf, 1, (size_t)size, f);
    fclose(f);
    if (mp4_box(buf, buf + n, "moov", &moov, &moov_len) == 0 &&
        mp4_box(moov, moov + moov_len, "mvhd", &mvhd, &mvhd_len) == 0 && mvhd_len >= 20) {
        unsigned long scale, dur;

        if (mvhd[0] == 1 && mvhd_len >= 32) { /* version 1: 64-bit times */
            scale = be32(mvhd + 20);
            dur = be32(mvhd + 28); /* the low half: no clip is longer than 2^32 ticks */
        } else {
            scale = be32(mvhd + 12);
            dur = be32(mvhd + 16);
        }
        if (scale > 0) {
            *seconds = (double)dur / (double)scale;
            rc = 0;
        }
    }
    free(buf);
    if (rc == -1)
        *cause = xasprintf("%s: no movie header (mvhd) with a length", path);
    return rc;
}
