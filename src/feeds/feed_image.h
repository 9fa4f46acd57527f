/*
 * feed_image.h - the pictures a news item refers to, as feeds and article pages give them: Media
 * RSS's media:content and media:thumbnail, an enclosure (RSS or Atom's link rel="enclosure")
 * with an image type, itunes:image, <img> elements in the item's HTML, and an article page's
 * og:image and twitter:image. Only references are kept here (an http(s) URL, or for a feed
 * read from a file a file: URL inside that feed's own folder); fetching and checking the bytes
 * is the producer's (media/image.h). The list keeps the order they were found in, without
 * repeats, at most FEED_IMAGES_MAX.
 *
 * Threads: any; no state (libxml2's set-up is feed_parse_init()'s).
 */
#ifndef NEWSROOM_FEED_IMAGE_H
#define NEWSROOM_FEED_IMAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define FEED_IMAGES_MAX 8

/* Where a reference was found. */
enum feed_image_kind {
    FEED_IMAGE_MEDIA_CONTENT,   /* <media:content medium="image"> or of an image type */
    FEED_IMAGE_MEDIA_THUMBNAIL, /* <media:thumbnail> */
    FEED_IMAGE_ENCLOSURE,       /* RSS <enclosure type="image/..."> */
    FEED_IMAGE_ITUNES,          /* <itunes:image href> */
    FEED_IMAGE_ATOM_ENCLOSURE,  /* Atom <link rel="enclosure" type="image/..."> */
    FEED_IMAGE_HTML,            /* <img src> in the item's HTML */
    FEED_IMAGE_OG,              /* the article page's <meta property="og:image"> */
    FEED_IMAGE_TWITTER,         /* the article page's <meta name="twitter:image"> */
    FEED_IMAGE_KIND_COUNT
};

/* "media:content", "media:thumbnail", "enclosure", "itunes:image", "atom:enclosure", "img",
 * "og:image", "twitter:image". */
const char *feed_image_kind_name(enum feed_image_kind k);

struct feed_image {
    char *url; /* absolute */
    enum feed_image_kind kind;
    char *type; /* the declared media type, or NULL */
    int width;  /* declared, 0 when not */
    int height;
    char *credit; /* media:credit, or NULL */
    char *alt;    /* alt text, media:title or media:description, or NULL */
};

struct feed_images {
    struct feed_image *v;
    size_t n;
};

/* Appends a copy of img unless its URL is already listed or the list is full. */
void feed_images_add(struct feed_images *l, const struct feed_image *img);
/* Appends every image of from (copies). */
void feed_images_extend(struct feed_images *l, const struct feed_images *from);
void feed_images_clear(struct feed_images *l);

/* Whether a declared media type is an image's ("image/..." in any case). */
bool feed_image_type(const char *type);
/* Whether a URL's path ends like a picture's file (.jpg, .jpeg, .png, .gif, .webp, any case):
 * for media:content that declares neither medium nor type. */
bool feed_image_url_looks(const char *url);

/* Resolves one reference as written where it was found: a new absolute string, or NULL when it
 * is not one to keep. */
typedef char *(*feed_image_resolver)(void *ctx, const char *ref);

/* Appends the <img> elements of len bytes of HTML (src resolved by resolve; data: and other
 * schemes the resolver refuses are left out; width, height and alt kept). */
void feed_images_from_html(struct feed_images *l, const char *html, size_t len,
                           feed_image_resolver resolve, void *ctx);
/* The same for the <img> elements (any namespace: XHTML content) below an XML or HTML node
 * (a libxml2 xmlNodePtr), at most FEED_TEXT_NODE_BUDGET nodes visited. */
struct _xmlNode;
void feed_images_from_tree(struct feed_images *l, struct _xmlNode *node,
                           feed_image_resolver resolve, void *ctx);

/* Appends an article page's og:image (og:image:url, og:image:secure_url; with
 * og:image:width/height/alt) and twitter:image (twitter:image:src) references, resolved against
 * page_url (http(s) only). charset as fulltext_extract() takes it. */
void feed_images_from_page(struct feed_images *l, const char *html, size_t len, const char *charset,
                           const char *page_url);

/* The list as a JSON array of {"url", "kind", "type"?, "width"?, "height"?, "credit"?, "alt"?}.
 * New reference. */
json_t *feed_images_json(const struct feed_images *l);

#endif
