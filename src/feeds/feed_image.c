/*
 * feed_image.c - image references of feed items and article pages; see feed_image.h. HTML is
 * read with libxml2's HTML parser (no network), the same way the text of items is; a walk
 * visits at most FEED_TEXT_NODE_BUDGET nodes, so hostile markup cannot make it long.
 *
 * Threads: any; everything lives in one call.
 */
#include "feeds/feed_image.h"

#include "core/fail.h"
#include "feeds/feed_parse.h"
#include "feeds/feed_text.h"
#include "feeds/feed_url.h"

#include <libxml/HTMLparser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ALT_MAX    300
#define CREDIT_MAX 200
#define TYPE_MAX   100

static const char *const kind_names[FEED_IMAGE_KIND_COUNT] = {
    [FEED_IMAGE_MEDIA_CONTENT] = "media:content",
    [FEED_IMAGE_MEDIA_THUMBNAIL] = "media:thumbnail",
    [FEED_IMAGE_ENCLOSURE] = "enclosure",
    [FEED_IMAGE_ITUNES] = "itunes:image",
    [FEED_IMAGE_ATOM_ENCLOSURE] = "atom:enclosure",
    [FEED_IMAGE_HTML] = "img",
    [FEED_IMAGE_OG] = "og:image",
    [FEED_IMAGE_TWITTER] = "twitter:image",
};

const char *feed_image_kind_name(enum feed_image_kind k)
{
    return (int)k >= 0 && k < FEED_IMAGE_KIND_COUNT ? kind_names[k] : "?";
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? xstrdup(s) : NULL;
}

void feed_images_add(struct feed_images *l, const struct feed_image *img)
{
    struct feed_image *d;

    if (img->url == NULL || *img->url == '\0' || l->n >= FEED_IMAGES_MAX)
        return;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].url, img->url) == 0)
            return;
    l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    d = &l->v[l->n++];
    d->url = xstrdup(img->url);
    d->kind = img->kind;
    d->type = dup_or_null(img->type);
    d->width = img->width > 0 ? img->width : 0;
    d->height = img->height > 0 ? img->height : 0;
    d->credit = dup_or_null(img->credit);
    d->alt = dup_or_null(img->alt);
}

void feed_images_extend(struct feed_images *l, const struct feed_images *from)
{
    for (size_t i = 0; i < from->n; i++)
        feed_images_add(l, &from->v[i]);
}

void feed_images_clear(struct feed_images *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].url);
        free(l->v[i].type);
        free(l->v[i].credit);
        free(l->v[i].alt);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

bool feed_image_type(const char *type)
{
    return type != NULL && strncasecmp(type, "image/", 6) == 0 && type[6] != '\0';
}

bool feed_image_url_looks(const char *url)
{
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".gif", ".webp", NULL};
    size_t n;

    if (url == NULL)
        return false;
    n = strcspn(url, "?#");
    for (size_t i = 0; exts[i] != NULL; i++) {
        size_t e = strlen(exts[i]);

        if (n > e && strncasecmp(url + n - e, exts[i], e) == 0)
            return true;
    }
    return false;
}

/* A declared dimension ("640", "640px"); 0 when there is none or it makes no sense. */
static int dimension(const char *v)
{
    long n;
    char *end;

    if (v == NULL)
        return 0;
    n = strtol(v, &end, 10);
    if (end == v || n <= 0 || n > 100000)
        return 0;
    return (int)n;
}

static char *prop(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *out;

    if (v == NULL)
        return NULL;
    out = xstrdup((const char *)v);
    xmlFree(v);
    return out;
}

static char *clean_prop(xmlNodePtr n, const char *name, size_t max)
{
    char *v = prop(n, name), *out;

    if (v == NULL)
        return NULL;
    out = feed_clean_text(v, max);
    free(v);
    if (*out == '\0') {
        free(out);
        return NULL;
    }
    return out;
}

struct walk {
    struct feed_images *l;
    feed_image_resolver resolve;
    void *ctx;
    long nodes;
};

static void add_img(struct walk *w, xmlNodePtr n)
{
    char *src = prop(n, "src"), *wd = prop(n, "width"), *ht = prop(n, "height");
    struct feed_image img = {.kind = FEED_IMAGE_HTML};

    img.url = src != NULL ? w->resolve(w->ctx, src) : NULL;
    if (img.url != NULL) {
        img.width = dimension(wd);
        img.height = dimension(ht);
        img.alt = clean_prop(n, "alt", ALT_MAX);
        feed_images_add(w->l, &img);
        free(img.alt);
    }
    free(img.url);
    free(src);
    free(wd);
    free(ht);
}

static void walk_imgs(struct walk *w, xmlNodePtr node)
{
    for (xmlNodePtr n = node->children; n != NULL && w->l->n < FEED_IMAGES_MAX; n = n->next) {
        if (++w->nodes > FEED_TEXT_NODE_BUDGET)
            return;
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcasecmp((const char *)n->name, "img") == 0)
            add_img(w, n);
        else
            walk_imgs(w, n);
    }
}

void feed_images_from_tree(struct feed_images *l, struct _xmlNode *node,
                           feed_image_resolver resolve, void *ctx)
{
    struct walk w = {l, resolve, ctx, 0};

    walk_imgs(&w, node);
}

void feed_images_from_html(struct feed_images *l, const char *html, size_t len,
                           feed_image_resolver resolve, void *ctx)
{
    htmlDocPtr doc;

    if (len == 0 || len > FEED_TEXT_BUDGET || memchr(html, '<', len) == NULL)
        return;
    feed_parse_init();
    doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
                         HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                             HTML_PARSE_NOIMPLIED);
    if (doc == NULL)
        return;
    feed_images_from_tree(l, (xmlNodePtr)doc, resolve, ctx);
    xmlFreeDoc(doc);
}

/* ---- article pages ---- */

/* An http(s) reference resolved against the page's URL. */
static char *page_resolve(void *ctx, const char *ref)
{
    char *abs = feed_url_resolve(ctx, ref);

    if (abs != NULL && !feed_url_is_http(abs)) {
        free(abs);
        abs = NULL;
    }
    return abs;
}

/* The meta tags of the page that matter here, in page order. */
struct page_meta {
    struct feed_image og, twitter;
    bool og_done;
    long nodes;
};

static void page_meta_tag(struct page_meta *m, const char *key, const char *content,
                          const char *page_url)
{
    static const char *const og_url[] = {"og:image", "og:image:url", "og:image:secure_url", NULL};
    static const char *const tw_url[] = {"twitter:image", "twitter:image:src", NULL};

    for (size_t i = 0; og_url[i] != NULL; i++)
        if (strcasecmp(key, og_url[i]) == 0) {
            /* The first og:image is the page's picture; its structured properties follow it
             * until the next og:image. */
            if (m->og.url == NULL)
                m->og.url = page_resolve((void *)page_url, content);
            else if (strcasecmp(key, "og:image") == 0)
                m->og_done = true;
            return;
        }
    if (m->og.url != NULL && !m->og_done) {
        if (strcasecmp(key, "og:image:width") == 0)
            m->og.width = dimension(content);
        else if (strcasecmp(key, "og:image:height") == 0)
            m->og.height = dimension(content);
        else if (strcasecmp(key, "og:image:type") == 0 && m->og.type == NULL)
            m->og.type = feed_clean_text(content, TYPE_MAX);
        else if (strcasecmp(key, "og:image:alt") == 0 && m->og.alt == NULL)
            m->og.alt = feed_clean_text(content, ALT_MAX);
    }
    for (size_t i = 0; tw_url[i] != NULL; i++)
        if (strcasecmp(key, tw_url[i]) == 0 && m->twitter.url == NULL)
            m->twitter.url = page_resolve((void *)page_url, content);
    if (strcasecmp(key, "twitter:image:alt") == 0 && m->twitter.alt == NULL)
        m->twitter.alt = feed_clean_text(content, ALT_MAX);
}

static void page_walk(struct page_meta *m, xmlNodePtr node, const char *page_url)
{
    for (xmlNodePtr n = node->children; n != NULL; n = n->next) {
        if (++m->nodes > FEED_TEXT_NODE_BUDGET)
            return;
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcasecmp((const char *)n->name, "meta") == 0) {
            char *key = prop(n, "property"), *content = prop(n, "content");

            if (key == NULL)
                key = prop(n, "name");
            if (key != NULL && content != NULL)
                page_meta_tag(m, key, content, page_url);
            free(key);
            free(content);
        } else if (strcasecmp((const char *)n->name, "body") != 0) {
            page_walk(m, n, page_url);
        }
    }
}

static void image_clear(struct feed_image *i)
{
    free(i->url);
    free(i->type);
    free(i->alt);
    free(i->credit);
}

void feed_images_from_page(struct feed_images *l, const char *html, size_t len, const char *charset,
                           const char *page_url)
{
    const int opts = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING;
    struct page_meta m = {.og = {.kind = FEED_IMAGE_OG}, .twitter = {.kind = FEED_IMAGE_TWITTER}};
    htmlDocPtr doc;

    if (len == 0 || len > (size_t)0x7fffffff || !feed_url_is_http(page_url))
        return;
    feed_parse_init();
    doc = htmlReadMemory(html, (int)len, NULL, charset, opts);
    if (doc == NULL && charset != NULL)
        doc = htmlReadMemory(html, (int)len, NULL, NULL, opts);
    if (doc == NULL)
        return;
    /* The meta tags outside <body>: the head's, where Open Graph and Twitter cards put
     * them (the body, where the article is, is not walked). */
    page_walk(&m, (xmlNodePtr)doc, page_url);
    xmlFreeDoc(doc);
    if (m.og.url != NULL)
        feed_images_add(l, &m.og);
    if (m.twitter.url != NULL)
        feed_images_add(l, &m.twitter);
    image_clear(&m.og);
    image_clear(&m.twitter);
}

json_t *feed_images_json(const struct feed_images *l)
{
    json_t *a = json_array();

    for (size_t i = 0; i < l->n; i++) {
        const struct feed_image *im = &l->v[i];
        json_t *o = json_pack("{s:s, s:s}", "url", im->url, "kind", feed_image_kind_name(im->kind));

        if (o == NULL)
            continue; /* not UTF-8: cannot be one (URLs are escaped ASCII) */
        if (im->type != NULL)
            json_object_set_new(o, "type", json_string(im->type));
        if (im->width > 0)
            json_object_set_new(o, "width", json_integer(im->width));
        if (im->height > 0)
            json_object_set_new(o, "height", json_integer(im->height));
        if (im->credit != NULL)
            json_object_set_new(o, "credit", json_string(im->credit));
        if (im->alt != NULL)
            json_object_set_new(o, "alt", json_string(im->alt));
        json_array_append_new(a, o);
    }
    return a;
}
