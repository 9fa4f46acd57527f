/*
 * fuzz_image.c - bytes a feed's picture URL answers with, and the HTML pictures are found in:
 * the picture's kind by its magic bytes, its size from its header (JPEG markers, PNG, GIF,
 * WebP's three headers), what bytes that are no picture look like, and the <img> elements and
 * og:image / twitter:image tags of the same bytes read as HTML. A size must be read from a
 * picture's own kind only, and be positive; what a page gives must be absolute http(s) URLs.
 * Seeds: tests/fuzz/corpus/image (tiny pictures ffmpeg made, a page).
 */
#include "feeds/feed_image.h"
#include "media/image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Resolves every reference as it is, when it is an http(s) URL. */
static char *as_is(void *ctx, const char *ref)
{
    (void)ctx;
    return strncmp(ref, "http://", 7) == 0 || strncmp(ref, "https://", 8) == 0 ? strdup(ref)
                                                                                : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct feed_images l = {0};
    enum image_type t = image_sniff(data, size);
    char what[64];
    int w = -1, h = -1;

    if (image_size(data, size, &w, &h) == 0) {
        if (t == IMAGE_NONE || t == IMAGE_MP4 || w < 0 || h < 0)
            abort();
    }
    if (t == IMAGE_NONE && strlen(image_what(data, size, what, sizeof what)) == 0)
        abort();
    feed_images_from_html(&l, (const char *)data, size, as_is, NULL);
    feed_images_from_page(&l, (const char *)data, size, NULL, "https://news.example/a/b.html");
    if (l.n > FEED_IMAGES_MAX)
        abort();
    for (size_t i = 0; i < l.n; i++)
        if (strncmp(l.v[i].url, "http", 4) != 0)
            abort();
    feed_images_clear(&l);
    return 0;
}
