/*
 * test_image.c - pictures for the video (image.h) with real ffmpeg: fetched over HTTP from a
 * local server (fake_feed.h's routes) and from files with the feeds' limits, and refused with
 * their reason when they are no picture: over the byte limit (declared and chunked), an HTML
 * page named .jpg served as image/jpeg, a broken (truncated) JPEG that ffmpeg refuses to
 * decode, a 1x1 tracking pixel (GIF and PNG), a picture under the minimum size, a 404, a host
 * that never answers within the time limit; every type known by its bytes (JPEG, PNG, GIF,
 * WebP made by ffmpeg, MP4), sizes read from the headers; a good picture normalised to the
 * size asked and a clip re-encoded with its length read back. Pictures are made by ffmpeg in
 * the test's folder; nothing is downloaded. Single-threaded test code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/paths.h"
#include "fake_feed.h"
#include "media/image.h"
#include "media/proc.h"
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fx {
    char *dir;
    char *ffmpeg;
    struct fake_feed *http;
    struct image_limits lim;
};

/* dir/name as a new string. */
static char *joined(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);

    assert_non_null(s);
    snprintf(s, n, "%s/%s", dir, name);
    return s;
}

/* Runs ffmpeg with the lavfi source src, writing out in the test's folder. */
static void make(struct fx *f, const char *src, const char *extra, const char *out)
{
    char path[600], *cause = NULL;
    const char *argv[16];
    int n = 0;

    snprintf(path, sizeof path, "%s/%s", f->dir, out);
    argv[n++] = f->ffmpeg;
    argv[n++] = "-nostdin";
    argv[n++] = "-loglevel";
    argv[n++] = "error";
    argv[n++] = "-y";
    argv[n++] = "-f";
    argv[n++] = "lavfi";
    argv[n++] = "-i";
    argv[n++] = src;
    if (extra != NULL) {
        argv[n++] = "-t";
        argv[n++] = extra;
    } else {
        argv[n++] = "-frames:v";
        argv[n++] = "1";
    }
    argv[n++] = path;
    argv[n] = NULL;
    if (proc_run(argv, NULL, 0, NULL, &cause) == -1)
        fail_msg("ffmpeg: %s", cause);
}

static char *slurp(struct fx *f, const char *name, size_t *len)
{
    char path[600];
    FILE *fp;
    char *buf;
    long n;

    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* Serves the file name of the test's folder at path as type. */
static void serve(struct fx *f, const char *path, const char *name, const char *type)
{
    size_t len;
    char *data = slurp(f, name, &len);

    fake_feed_route(f->http, path, 200, type, data, len, 0);
    free(data);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);

    f->dir = test_tmpdir();
    f->ffmpeg = paths_which("ffmpeg");
    assert_non_null(f->ffmpeg);
    make(f, "testsrc2=s=640x360", NULL, "ok.jpg");
    make(f, "color=c=red:s=2x2,scale=1:1", NULL, "pixel.png");
    make(f, "color=c=red:s=2x2,scale=1:1", NULL, "pixel.gif");
    make(f, "color=c=blue:s=200x100", NULL, "small.png");
    make(f, "testsrc2=s=400x300", NULL, "pic.webp");
    make(f, "testsrc2=s=800x450", NULL, "big.png");
    make(f, "testsrc2=s=320x240:r=25", "2", "clip.mp4");
    {
        size_t len;
        char *jpg = slurp(f, "ok.jpg", &len), path[600];

        /* A JPEG cut short: its header reads, its picture does not. */
        snprintf(path, sizeof path, "%s/broken.jpg", f->dir);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(jpg, 1, len / 3, fp), len / 3);
        fclose(fp);
        free(jpg);
        snprintf(path, sizeof path, "%s/page.jpg", f->dir);
        test_write_file(path, "<!DOCTYPE html>\n<html><head><title>Not found</title></head>"
                              "<body><p>Sorry</p></body></html>\n");
    }
    f->http = fake_feed_start();
    f->lim = (struct image_limits){.timeout_ms = 2000,
                                   .max_bytes = 1 << 20,
                                   .max_redirects = 3,
                                   .min_width = 320,
                                   .min_height = 180};
    serve(f, "/ok.jpg", "ok.jpg", "image/jpeg");
    serve(f, "/page.jpg", "page.jpg", "image/jpeg"); /* a server that lies about it, too */
    serve(f, "/broken.jpg", "broken.jpg", "image/jpeg");
    serve(f, "/pixel.gif", "pixel.gif", "image/gif");
    serve(f, "/pixel.png", "pixel.png", "image/png");
    serve(f, "/small.png", "small.png", "image/png");
    serve(f, "/pic.webp", "pic.webp", "image/webp");
    serve(f, "/clip.mp4", "clip.mp4", "video/mp4");
    fake_feed_route(f->http, "/hang.jpg", 200, "image/jpeg", "x", 1, -1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    fake_feed_release(f->http);
    fake_feed_stop(f->http);
    test_rmrf(f->dir);
    free(f->dir);
    free(f->ffmpeg);
    free(f);
    return 0;
}

/* Fetches path (on the local server when it starts with '/'); returns the rc, *why the cause (or
 * NULL), *info. */
static int fetch(struct fx *f, const char *path, bool clip, struct image_info *info, char **why)
{
    char url[600], out[600];

    if (path[0] != '/')
        snprintf(url, sizeof url, "%s", path);
    else
        snprintf(url, sizeof url, "%s%s", fake_feed_base(f->http), path);
    snprintf(out, sizeof out, "%s/fetched", f->dir);
    unlink(out);
    *why = NULL;
    return image_fetch(url, &f->lim, clip, out, info, why);
}

/* path is refused and the reason holds want. */
static void refused(struct fx *f, const char *path, const char *want)
{
    struct image_info info;
    char *why;
    char out[600];

    if (fetch(f, path, false, &info, &why) == 0)
        fail_msg("%s was accepted", path);
    if (strstr(why, want) == NULL)
        fail_msg("%s: \"%s\" lacks \"%s\"", path, why, want);
    printf("%s refused: %s\n", path, why);
    free(why);
    snprintf(out, sizeof out, "%s/fetched", f->dir);
    assert_true(access(out, F_OK) != 0); /* nothing half-written */
}

static void test_good_pictures(void **state)
{
    struct fx *f = *state;
    struct image_info info;
    char *why, url[700], *in, *out;

    assert_int_equal(fetch(f, "/ok.jpg", false, &info, &why), 0);
    assert_int_equal(info.type, IMAGE_JPEG);
    assert_int_equal(info.width, 640);
    assert_int_equal(info.height, 360);
    assert_int_equal(fetch(f, "/pic.webp", false, &info, &why), 0);
    assert_int_equal(info.type, IMAGE_WEBP);
    assert_int_equal(info.width, 400);
    assert_int_equal(info.height, 300);
    /* From a file, its escapes decoded. */
    {
        char src[700], dst[700];

        snprintf(src, sizeof src, "%s/big.png", f->dir);
        snprintf(dst, sizeof dst, "%s/a picture.png", f->dir);
        assert_int_equal(rename(src, dst), 0);
        snprintf(url, sizeof url, "file://%s/a%%20picture.png", f->dir);
        assert_int_equal(fetch(f, url, false, &info, &why), 0);
        assert_int_equal(info.type, IMAGE_PNG);
        assert_int_equal(info.width, 800);
        assert_int_equal(info.height, 450);
    }
    /* Normalised to the size asked, centre-cropped. */
    in = joined(f->dir, "fetched");
    out = joined(f->dir, "norm.jpg");
    assert_int_equal(image_normalise(f->ffmpeg, in, out, 1472, 828, 0, &why), 0);
    {
        size_t len;
        char *data = slurp(f, "norm.jpg", &len);
        int w = 0, h = 0;

        assert_int_equal(image_sniff(data, len), IMAGE_JPEG);
        assert_int_equal(image_size(data, len, &w, &h), 0);
        assert_int_equal(w, 1472);
        assert_int_equal(h, 828);
        free(data);
    }
    free(in);
    free(out);
}

static void test_refused(void **state)
{
    struct fx *f = *state;
    char url[700];

    refused(f, "/page.jpg", "not a picture: an HTML page");
    refused(f, "/pixel.gif", "a tracking pixel (1x1)");
    refused(f, "/pixel.png", "a tracking pixel (1x1)");
    refused(f, "/small.png", "too small: 200x100, under 320x180");
    refused(f, "/big", "larger than the 1048576 byte limit");
    refused(f, "/big-chunked", "larger than the 1048576 byte limit");
    refused(f, "/nothing.jpg", "HTTP status 404");
    refused(f, "/hang.jpg", "no complete answer within 2000 ms");
    refused(f, "/clip.mp4", "not a picture: an MP4 video");
    snprintf(url, sizeof url, "file://%s/page.jpg", f->dir);
    refused(f, url, "not a picture: an HTML page");
    snprintf(url, sizeof url, "file://%s/missing.jpg", f->dir);
    refused(f, url, "No such file");
    refused(f, "ftp://example.org/a.jpg", "neither an http(s) nor a file: URL");
}

/* A broken JPEG passes the fetch (its header is whole) and fails the decode, saying so. */
static void test_broken(void **state)
{
    struct fx *f = *state;
    struct image_info info;
    char *why, *in, *out;

    assert_int_equal(fetch(f, "/broken.jpg", false, &info, &why), 0);
    in = joined(f->dir, "fetched");
    out = joined(f->dir, "broken-out.jpg");
    assert_int_equal(image_normalise(f->ffmpeg, in, out, 1280, 720, 0, &why), -1);
    assert_non_null(strstr(why, "broken: ffmpeg cannot decode it"));
    printf("broken.jpg refused: %s\n", why);
    free(why);
    free(in);
    free(out);
}

static void test_sniff(void **state)
{
    static const unsigned char gif[] = "GIF89a\x02\x00\x03\x00";
    static const unsigned char pdf[] = "%PDF-1.7 ...";
    char buf[64];

    (void)state;
    assert_int_equal(image_sniff(gif, sizeof gif - 1), IMAGE_GIF);
    assert_int_equal(image_sniff(pdf, sizeof pdf - 1), IMAGE_NONE);
    assert_string_equal(image_what(pdf, sizeof pdf - 1, buf, sizeof buf), "a PDF document");
    assert_string_equal(image_what("{\"a\":1}", 7, buf, sizeof buf), "JSON");
    assert_string_equal(image_what("\x01\x02\x03\x04\x05", 5, buf, sizeof buf),
                        "unknown bytes 0x01 0x02 0x03 0x04");
    assert_string_equal(image_what("", 0, buf, sizeof buf), "empty");
}

static void test_clip(void **state)
{
    struct fx *f = *state;
    struct image_info info;
    double secs = 0;
    char *why, *in, *out;

    assert_int_equal(fetch(f, "/ok.jpg", true, &info, &why), -1);
    assert_non_null(strstr(why, "not an MP4 clip: jpeg"));
    free(why);
    assert_int_equal(fetch(f, "/clip.mp4", true, &info, &why), 0);
    assert_int_equal(info.type, IMAGE_MP4);
    in = joined(f->dir, "fetched");
    out = joined(f->dir, "clip-out.mp4");
    assert_int_equal(image_clip_normalise(f->ffmpeg, in, out, 1280, 720, 25, 1.5, 0, &secs, &why),
                     0);
    assert_true(secs > 1.4 && secs < 1.6);
    free(in);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_pictures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken, setup, teardown),
        cmocka_unit_test(test_sniff),
        cmocka_unit_test_setup_teardown(test_clip, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
