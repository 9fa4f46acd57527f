/*
 * feed_parse.c - RSS, Atom and RDF documents into feed entries; see feed_parse.h. A document
 * is sniffed (XML 1.0 appendix F: a byte order mark, else the first four bytes, so UTF-16 and
 * UTF-32 without a mark are read too), read whole with xmlCtxtReadMemory() (no network, no
 * DTD, no entity substitution, errors kept on the context instead of printed), then each
 * entry's fields are read by feed_text_walk(), which follows internal entity references itself
 * under a byte and node budget, so an entity bomb that got past libxml2's own amplification
 * check still ends at the budget, and an external entity is never followed. Links are resolved
 * by feed_url_resolve() (RFC 3986, nothing decoded) along the element's xml:base chain. Items
 * are built as JSON and checked by news_item_from_json(), the one gate every news item passes.
 *
 * Threads: any; libxml2 is initialised once under pthread_once.
 */
#include "feeds/feed_parse.h"

#include "core/fail.h"
#include "feeds/feed_text.h"
#include "feeds/feed_url.h"

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NS_ATOM    "http://www.w3.org/2005/Atom"
#define NS_ATOM03  "http://purl.org/atom/ns#"
#define NS_RDF     "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_RSS1    "http://purl.org/rss/1.0/"
#define NS_RSS090  "http://my.netscape.com/rdf/simple/0.9/"
#define NS_DC      "http://purl.org/dc/elements/1.1/"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_MEDIA   "http://search.yahoo.com/mrss/"
#define NS_ITUNES  "http://www.itunes.com/dtds/podcast-1.0.dtd"

#define SOURCE_MAX 200
#define TOPIC_MAX  100
#define BASES_MAX  64
#define DATE_MAX   127

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Loads nothing: an external entity, DTD or XInclude never reaches a file or the network. */
static xmlParserInputPtr no_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
    (void)url;
    (void)id;
    (void)ctxt;
    return NULL;
}

static void init_once_fn(void)
{
    xmlInitParser();
    xmlSetExternalEntityLoader(no_loader);
}

/* libxml2 reports some errors (encoding conversion) through the generic handler whatever the
 * parse options say; the engine never prints, so they go nowhere. */
static void silent(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

void feed_parse_init(void)
{
    pthread_once(&init_once, init_once_fn);
    /* The handler is per thread in libxml2: set it on every call's thread. */
    xmlSetGenericErrorFunc(NULL, silent);
}

/* ---- sniffing ---- */

static bool xml_space(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum feed_sniff feed_sniff(const char *buf, size_t len, const char **encoding)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t width = 1, i = 0;
    bool big = false;
    const char *enc = NULL;

    if (encoding != NULL)
        *encoding = NULL;
    if (len >= 4 && ((p[0] == 0 && p[1] == 0 && p[2] == 0xFE && p[3] == 0xFF) ||
                     (p[0] == 0xFF && p[1] == 0xFE && p[2] == 0 && p[3] == 0))) {
        /* UTF-32 with its mark: libxml2 must be told (and not shown the mark). */
        if (encoding != NULL)
            *encoding = p[0] == 0 ? "UTF-32BE" : "UTF-32LE";
        return FEED_SNIFF_XML;
    }
    if (len >= 2 && ((p[0] == 0xFE && p[1] == 0xFF) || (p[0] == 0xFF && p[1] == 0xFE)))
        return FEED_SNIFF_XML;
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        i = 3;
    else if (len >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] != 0)
        width = 4, big = true, enc = "UTF-32BE";
    else if (len >= 4 && p[0] != 0 && p[1] == 0 && p[2] == 0 && p[3] == 0)
        width = 4, enc = "UTF-32LE";
    else if (len >= 4 && p[0] == 0 && p[1] != 0 && p[2] == 0 && p[3] != 0)
        width = 2, big = true, enc = "UTF-16BE";
    else if (len >= 4 && p[0] != 0 && p[1] == 0 && p[2] != 0 && p[3] == 0)
        width = 2, enc = "UTF-16LE";
    for (; i + width <= len; i += width) {
        unsigned c = 0;

        for (size_t k = 0; k < width; k++)
            c |= (unsigned)p[i + k] << (8 * (big ? width - 1 - k : k));
        if (xml_space(c))
            continue;
        if (c == '<') {
            if (encoding != NULL)
                *encoding = enc;
            return FEED_SNIFF_XML;
        }
        return c == '{' ? FEED_SNIFF_JSON : FEED_SNIFF_OTHER;
    }
    return i >= len ? FEED_SNIFF_EMPTY : FEED_SNIFF_OTHER;
}

/* ---- elements ---- */

/* Whether n is an element of local name `name` in namespace ns (NULL: in none). */
static bool is_el(xmlNodePtr n, const char *ns, const char *name)
{
    if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
        return false;
    if (ns == NULL)
        return n->ns == NULL;
    return n->ns != NULL && n->ns->href != NULL && strcmp((const char *)n->ns->href, ns) == 0;
}

static xmlNodePtr child(xmlNodePtr parent, const char *ns, const char *name)
{
    for (xmlNodePtr n = parent->children; n != NULL; n = n->next)
        if (is_el(n, ns, name))
            return n;
    return NULL;
}

/* What one document is read with. */
struct pctx {
    xmlDocPtr doc;
    enum feed_format format;
    const char *rss_ns;   /* RSS 2.0: the root's namespace (NULL: none); RDF: RSS 1.0 or 0.90 */
    const char *atom_ns;  /* Atom 1.0, or Atom 0.3 */
    char *base;           /* what relative links resolve against under every xml:base: the
                             document's http(s) URL, or the feed's own self/alternate link */
    const char *file_url; /* a document read from a file: its absolute file: URL (else NULL);
                             relative image references resolve against it, inside its folder */
    int64_t now_ms;
};

/* An element of the RSS vocabulary: in the document's RSS namespace, or in none (a prefixed
 * <r:rss> leaves its children unqualified). */
static bool is_rss(const struct pctx *c, xmlNodePtr n, const char *name)
{
    return is_el(n, NULL, name) || (c->rss_ns != NULL && is_el(n, c->rss_ns, name));
}

static xmlNodePtr rss_child(const struct pctx *c, xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr n = parent->children; n != NULL; n = n->next)
        if (is_rss(c, n, name))
            return n;
    return NULL;
}

/* ---- text ---- */

static bool has_element_child(xmlNodePtr n)
{
    for (xmlNodePtr k = n->children; k != NULL; k = k->next)
        if (k->type == XML_ELEMENT_NODE)
            return true;
    return false;
}

static char *gather(const struct pctx *c, xmlNodePtr n, bool raw)
{
    struct feed_sbuf b = {.max = FEED_TEXT_BUDGET};

    feed_text_walk(c->doc, n, &b, raw);
    return feed_sbuf_take(&b);
}

/* The text of a field that holds HTML, escaped (RSS's description) or as elements. */
static char *html_field(const struct pctx *c, xmlNodePtr n, size_t max)
{
    char *raw, *txt;

    if (has_element_child(n)) {
        raw = gather(c, n, false);
        txt = feed_clean_text(raw, max);
    } else {
        raw = gather(c, n, true);
        txt = feed_html_text(raw, max);
    }
    free(raw);
    return txt;
}

static char *plain(const struct pctx *c, xmlNodePtr n, size_t max)
{
    char *raw = gather(c, n, true), *txt = feed_clean_text(raw, max);

    free(raw);
    return txt;
}

static bool prop_is(xmlNodePtr n, const char *name, const char *const *values)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    bool hit = false;

    for (size_t i = 0; v != NULL && values[i] != NULL; i++)
        hit |= strcasecmp((const char *)v, values[i]) == 0;
    xmlFree(v);
    return hit;
}

/* An Atom text construct (RFC 4287 3.1: type text, html or xhtml; Atom 0.3's mode="escaped"
 * too), or NULL when there is none or its content is elsewhere (src) or not text. */
static char *atom_text(const struct pctx *c, xmlNodePtr parent, const char *name, size_t max)
{
    static const char *const html[] = {"html", "text/html", NULL};
    static const char *const xhtml[] = {"xhtml", "application/xhtml+xml", NULL};
    static const char *const escaped[] = {"escaped", NULL};
    static const char *const base64[] = {"base64", NULL};
    xmlNodePtr n = child(parent, c->atom_ns, name);
    xmlChar *type, *src;
    bool text_type;

    if (n == NULL)
        return NULL;
    src = xmlGetProp(n, (const xmlChar *)"src");
    if (src != NULL) {
        xmlFree(src);
        return NULL;
    }
    if (prop_is(n, "mode", base64))
        return NULL;
    if (prop_is(n, "type", xhtml))
        return html_field(c, n, max);
    if (prop_is(n, "type", html) || prop_is(n, "mode", escaped)) {
        char *raw = gather(c, n, true), *txt = feed_html_text(raw, max);

        free(raw);
        return txt;
    }
    type = xmlGetProp(n, (const xmlChar *)"type");
    text_type = type == NULL || strcasecmp((const char *)type, "text") == 0 ||
                strncasecmp((const char *)type, "text/", 5) == 0;
    xmlFree(type);
    return text_type ? plain(c, n, max) : NULL;
}

/* ---- links ---- */

/* node's base: c->base under every xml:base from the root down to node. A new string or
 * NULL. */
static char *node_base(const struct pctx *c, xmlNodePtr node)
{
    xmlChar *bases[BASES_MAX];
    int n = 0;
    char *base = c->base != NULL ? xstrdup(c->base) : NULL;

    for (xmlNodePtr p = node; p != NULL && p->type == XML_ELEMENT_NODE && n < BASES_MAX;
         p = p->parent) {
        xmlChar *v = xmlGetNsProp(p, (const xmlChar *)"base", XML_XML_NAMESPACE);

        if (v != NULL)
            bases[n++] = v;
    }
    while (n-- > 0) {
        char *next = feed_url_resolve(base, (const char *)bases[n]);

        if (next != NULL) {
            free(base);
            base = next;
        }
        xmlFree(bases[n]);
    }
    return base;
}

/* link as written at node, resolved; only http(s) links are kept. A new string or NULL. */
static char *resolve(const struct pctx *c, xmlNodePtr node, const char *link)
{
    char *base, *abs;

    if (link == NULL || *link == '\0')
        return NULL;
    base = node_base(c, node);
    abs = feed_url_resolve(base, link);
    free(base);
    if (abs != NULL && (!feed_url_is_http(abs) || strlen(abs) > NEWS_URL_MAX)) {
        free(abs);
        abs = NULL;
    }
    return abs;
}

/* The text of n as a link, resolved at n. */
static char *text_link(const struct pctx *c, xmlNodePtr n)
{
    char *raw = plain(c, n, NEWS_URL_MAX), *out = resolve(c, n, raw);

    free(raw);
    return out;
}

/* The href of the first Atom link under parent whose rel is one of rels (NULL in the list:
 * no rel at all), resolved. */
static char *atom_link(const struct pctx *c, xmlNodePtr parent, const char *ns,
                       const char *const *rels, bool none_ok)
{
    for (xmlNodePtr n = parent->children; n != NULL; n = n->next) {
        xmlChar *rel, *href;
        char *out = NULL;

        if (!is_el(n, ns, "link"))
            continue;
        rel = xmlGetProp(n, (const xmlChar *)"rel");
        href = xmlGetProp(n, (const xmlChar *)"href");
        if (href != NULL && ((rel == NULL && none_ok) || (rel != NULL && prop_is(n, "rel", rels))))
            out = resolve(c, n, (const char *)href);
        xmlFree(rel);
        xmlFree(href);
        if (out != NULL)
            return out;
    }
    return NULL;
}

static const char *const rel_self[] = {"self", NULL};
static const char *const rel_alternate[] = {"alternate", NULL};

/* The base of a document that did not come over http(s): the feed's own self link, else its
 * alternate (site) link, when either is http(s). A new string or NULL. */
static char *fallback_base(const struct pctx *c, xmlNodePtr root, xmlNodePtr chan)
{
    char *out = NULL;
    xmlNodePtr n;

    if (c->format == FEED_ATOM) {
        out = atom_link(c, root, c->atom_ns, rel_self, false);
        if (out == NULL)
            out = atom_link(c, root, c->atom_ns, rel_alternate, true);
        return out;
    }
    if (chan == NULL)
        return NULL;
    out = atom_link(c, chan, NS_ATOM, rel_self, false);
    if (out == NULL && (n = rss_child(c, chan, "link")) != NULL)
        out = text_link(c, n);
    return out;
}

/* ---- entries ---- */

/* "feed-" and 32 hex digits of SHA-256 of key. */
static void stable_id(const char *key, char out[NEWS_ID_MAX + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    if (EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) != 1)
        fail("SHA-256 failed");
    snprintf(out, NEWS_ID_MAX + 1, "feed-");
    for (unsigned i = 0; i < 16 && i < mdlen; i++)
        snprintf(out + 5 + 2 * i, 3, "%02x", md[i]);
}

struct entry {
    char *guid, *title, *content, *link;
    char *date_key; /* the first date field's text, part of a guid-less, link-less id */
    int64_t ms;
    enum feed_date_kind date;
    json_t *topics;
    struct feed_images images;
};

/* ---- images ---- */

/* Where an image reference was written. */
struct img_at {
    const struct pctx *c;
    xmlNodePtr node;
};

/* An image reference as written at a node: from a document read from a file, a reference that
 * is not http(s) resolves against the file and is kept only inside the file's folder (the
 * pictures that travel with it); otherwise as links resolve (http(s) only). */
static char *image_resolve(void *ctx, const char *ref)
{
    const struct img_at *at = ctx;
    const struct pctx *c = at->c;
    const char *r = ref;
    char *abs, *dir;
    size_t n;

    while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
        r++;
    if (*r == '\0')
        return NULL;
    if (c->file_url == NULL || strncasecmp(r, "http:", 5) == 0 || strncasecmp(r, "https:", 6) == 0)
        return resolve(c, at->node, r);
    /* The folder as resolution writes it (dot segments gone), so the comparison is like with
     * like. */
    dir = feed_url_resolve(c->file_url, "./");
    abs = feed_url_resolve(c->file_url, r);
    n = dir != NULL ? strlen(dir) : 0;
    if (abs != NULL && (dir == NULL || strncmp(abs, dir, n) != 0 || strlen(abs) > NEWS_URL_MAX ||
                        abs[n] == '\0')) {
        free(abs);
        abs = NULL;
    }
    free(dir);
    return abs;
}

/* The plain text of parent's first ns:name child, or NULL when none or empty. */
static char *child_text(const struct pctx *c, xmlNodePtr parent, const char *ns, const char *name,
                        size_t max)
{
    xmlNodePtr n = child(parent, ns, name);
    char *t;

    if (n == NULL)
        return NULL;
    t = plain(c, n, max);
    if (*t == '\0') {
        free(t);
        return NULL;
    }
    return t;
}

static int dim_prop(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    long d = v != NULL ? strtol((const char *)v, NULL, 10) : 0;

    xmlFree(v);
    return d > 0 && d <= 100000 ? (int)d : 0;
}

/* Adds the image at node n whose URL is in attribute attr, as kind, when it is one: a declared
 * media type must be an image's; media:content also counts with medium="image", or with
 * neither medium nor type when its URL ends like a picture's file. */
static void add_image(const struct pctx *c, struct entry *e, xmlNodePtr n, const char *attr,
                      enum feed_image_kind kind, const char *credit)
{
    xmlChar *url = xmlGetProp(n, (const xmlChar *)attr);
    xmlChar *type = xmlGetProp(n, (const xmlChar *)"type");
    xmlChar *medium = xmlGetProp(n, (const xmlChar *)"medium");
    struct img_at at = {c, n};
    struct feed_image img = {.kind = kind};
    bool ok;

    switch (kind) {
    case FEED_IMAGE_MEDIA_CONTENT:
        ok = (medium != NULL && strcasecmp((const char *)medium, "image") == 0) ||
             (medium == NULL && feed_image_type((const char *)type)) ||
             (medium == NULL && type == NULL && feed_image_url_looks((const char *)url));
        break;
    case FEED_IMAGE_ENCLOSURE:
    case FEED_IMAGE_ATOM_ENCLOSURE:
        ok = feed_image_type((const char *)type);
        break;
    default:
        ok = true;
    }
    if (ok && url != NULL && (img.url = image_resolve(&at, (const char *)url)) != NULL) {
        img.type = type != NULL ? feed_clean_text((const char *)type, 100) : NULL;
        img.width = dim_prop(n, "width");
        img.height = dim_prop(n, "height");
        img.credit = child_text(c, n, NS_MEDIA, "credit", SOURCE_MAX);
        if (img.credit == NULL && credit != NULL)
            img.credit = xstrdup(credit);
        img.alt = child_text(c, n, NS_MEDIA, "title", 300);
        if (img.alt == NULL)
            img.alt = child_text(c, n, NS_MEDIA, "description", 300);
        feed_images_add(&e->images, &img);
        free(img.url);
        free(img.type);
        free(img.credit);
        free(img.alt);
    }
    xmlFree(url);
    xmlFree(type);
    xmlFree(medium);
}

/* Media RSS: media:content in the item or its media:group; without any image among them, the
 * media:thumbnail elements (the item's, its groups', its contents'), which are otherwise
 * smaller copies of the same pictures. */
static void read_media(const struct pctx *c, xmlNodePtr item, struct entry *e)
{
    char *credit = child_text(c, item, NS_MEDIA, "credit", SOURCE_MAX);
    size_t before = e->images.n;

    for (int pass = 0; pass < 2; pass++) {
        const char *name = pass == 0 ? "content" : "thumbnail";
        enum feed_image_kind kind =
            pass == 0 ? FEED_IMAGE_MEDIA_CONTENT : FEED_IMAGE_MEDIA_THUMBNAIL;

        if (pass == 1 && e->images.n > before)
            break;
        for (xmlNodePtr n = item->children; n != NULL; n = n->next) {
            xmlNodePtr holders[2] = {n, NULL};

            if (is_el(n, NS_MEDIA, name)) {
                add_image(c, e, n, "url", kind, credit);
                continue;
            }
            if (!is_el(n, NS_MEDIA, "group") && !(pass == 1 && is_el(n, NS_MEDIA, "content")))
                continue;
            for (int h = 0; holders[h] != NULL; h++)
                for (xmlNodePtr k = holders[h]->children; k != NULL; k = k->next) {
                    if (is_el(k, NS_MEDIA, name)) {
                        char *gc = child_text(c, holders[h], NS_MEDIA, "credit", SOURCE_MAX);

                        add_image(c, e, k, "url", kind, gc != NULL ? gc : credit);
                        free(gc);
                    } else if (pass == 1 && is_el(k, NS_MEDIA, "content")) {
                        for (xmlNodePtr t = k->children; t != NULL; t = t->next)
                            if (is_el(t, NS_MEDIA, "thumbnail"))
                                add_image(c, e, t, "url", kind, credit);
                    }
                }
        }
    }
    free(credit);
}

/* Atom link rel="enclosure" elements (in namespace ns) of an image type. */
static void read_atom_enclosures(const struct pctx *c, xmlNodePtr parent, const char *ns,
                                 struct entry *e)
{
    static const char *const rel_enclosure[] = {"enclosure", NULL};

    for (xmlNodePtr n = parent->children; n != NULL; n = n->next)
        if (is_el(n, ns, "link") && prop_is(n, "rel", rel_enclosure))
            add_image(c, e, n, "href", FEED_IMAGE_ATOM_ENCLOSURE, NULL);
}

/* Whether escaped markup holds an <img tag (any case): only then is it parsed for images. */
static bool has_img_tag(const char *raw)
{
    for (const char *p = strchr(raw, '<'); p != NULL; p = strchr(p + 1, '<'))
        if (strncasecmp(p + 1, "img", 3) == 0)
            return true;
    return false;
}

/* The <img> elements of a field that holds HTML: as elements (XHTML, unescaped markup), or
 * escaped in its text. */
static void read_html_images(const struct pctx *c, xmlNodePtr n, struct entry *e)
{
    struct img_at at = {c, n};

    if (n == NULL)
        return;
    if (has_element_child(n)) {
        feed_images_from_tree(&e->images, n, image_resolve, &at);
    } else {
        char *raw = gather(c, n, true);

        if (has_img_tag(raw))
            feed_images_from_html(&e->images, raw, strlen(raw), image_resolve, &at);
        free(raw);
    }
}

/* Every image reference of an RSS item, in the order feed_parse.h gives. */
static void read_rss_images(const struct pctx *c, xmlNodePtr item, struct entry *e)
{
    xmlNodePtr n;

    read_media(c, item, e);
    for (n = item->children; n != NULL; n = n->next)
        if (is_rss(c, n, "enclosure"))
            add_image(c, e, n, "url", FEED_IMAGE_ENCLOSURE, NULL);
    if ((n = child(item, NS_ITUNES, "image")) != NULL)
        add_image(c, e, n, "href", FEED_IMAGE_ITUNES, NULL);
    read_atom_enclosures(c, item, NS_ATOM, e);
    read_html_images(c, child(item, NS_CONTENT, "encoded"), e);
    read_html_images(c, rss_child(c, item, "description"), e);
}

/* Every image reference of an Atom entry: Media RSS, enclosures, then <img> in its content and
 * summary when they hold HTML. */
static void read_atom_images(const struct pctx *c, xmlNodePtr entry, struct entry *e)
{
    static const char *const html[] = {"html", "text/html", "xhtml", "application/xhtml+xml", NULL};
    static const char *const escaped[] = {"escaped", NULL};
    static const char *const fields[] = {"content", "summary", NULL};

    read_media(c, entry, e);
    read_atom_enclosures(c, entry, c->atom_ns, e);
    for (size_t i = 0; fields[i] != NULL; i++) {
        xmlNodePtr n = child(entry, c->atom_ns, fields[i]);

        if (n != NULL && (prop_is(n, "type", html) || prop_is(n, "mode", escaped)))
            read_html_images(c, n, e);
    }
}

static void add_topic(const struct pctx *c, struct entry *e, xmlNodePtr n, const char *attr)
{
    char *t;

    if (attr != NULL) {
        xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);

        if (v == NULL)
            return;
        t = feed_clean_text((const char *)v, TOPIC_MAX);
        xmlFree(v);
    } else {
        t = plain(c, n, TOPIC_MAX);
    }
    if (*t != '\0' && json_array_size(e->topics) < NEWS_TOPICS_MAX) {
        bool seen = false;
        size_t i;
        json_t *v;

        json_array_foreach(e->topics, i, v) seen |= strcmp(json_string_value(v), t) == 0;
        if (!seen)
            json_array_append_new(e->topics, json_string(t));
    }
    free(t);
}

/* A date field of item: ns:name. */
struct date_field {
    const char *ns; /* NULL: the RSS vocabulary; "" the document's Atom namespace */
    const char *name;
};

/* The first readable date among fields (in order), else the first-seen time. The id's date
 * text is that of the first of the first two fields present, readable or not (what ids were
 * always made of). */
static void read_dates(const struct pctx *c, xmlNodePtr item, const struct date_field *fields,
                       struct entry *e)
{
    e->ms = c->now_ms;
    e->date = FEED_DATE_FIRST_SEEN;
    for (const struct date_field *f = fields; f->name != NULL; f++)
        for (xmlNodePtr n = item->children; n != NULL; n = n->next) {
            bool hit = f->ns == NULL    ? is_rss(c, n, f->name)
                       : *f->ns == '\0' ? is_el(n, c->atom_ns, f->name)
                                        : is_el(n, f->ns, f->name);
            char *txt;
            int64_t ms;
            enum feed_date_kind kind;

            if (!hit)
                continue;
            txt = plain(c, n, DATE_MAX);
            if (e->date_key == NULL && f - fields < 2)
                e->date_key = xstrdup(txt);
            if (e->date == FEED_DATE_FIRST_SEEN && feed_parse_date(txt, &ms, &kind) == 0) {
                e->ms = ms;
                e->date = kind;
            }
            free(txt);
        }
}

static void read_rss_item(const struct pctx *c, xmlNodePtr item, struct entry *e)
{
    static const struct date_field rss_dates[] = {{NULL, "pubDate"},
                                                  {NS_DC, "date"},
                                                  {NS_ATOM, "published"},
                                                  {NS_ATOM, "updated"},
                                                  {NULL, NULL}};
    static const char *const permalink[] = {"true", NULL};
    xmlNodePtr n;
    bool rdf = c->format == FEED_RDF || c->format == FEED_RSS090;

    if ((n = rss_child(c, item, "title")) != NULL)
        e->title = html_field(c, n, NEWS_TITLE_MAX);
    if ((n = child(item, NS_CONTENT, "encoded")) != NULL)
        e->content = html_field(c, n, NEWS_CONTENT_MAX);
    if ((e->content == NULL || *e->content == '\0') &&
        (n = rss_child(c, item, "description")) != NULL) {
        free(e->content);
        e->content = html_field(c, n, NEWS_CONTENT_MAX);
    }
    if ((n = rss_child(c, item, "link")) != NULL)
        e->link = text_link(c, n);
    if (rdf) {
        xmlChar *about = xmlGetNsProp(item, (const xmlChar *)"about", (const xmlChar *)NS_RDF);

        if (about != NULL) {
            e->guid = feed_clean_text((const char *)about, NEWS_URL_MAX);
            if (e->link == NULL)
                e->link = resolve(c, item, (const char *)about);
            xmlFree(about);
        }
    } else if ((n = rss_child(c, item, "guid")) != NULL) {
        e->guid = plain(c, n, NEWS_URL_MAX);
        /* A permalink guid (isPermaLink "true", or absent: RSS 2.0's default) is the link
         * when there is no <link>, if it is an absolute http(s) URL, as the spec means it. */
        if (e->link == NULL && feed_url_is_http(e->guid)) {
            xmlChar *perm = xmlGetProp(n, (const xmlChar *)"isPermaLink");

            if (perm == NULL || prop_is(n, "isPermaLink", permalink))
                e->link = resolve(c, n, e->guid);
            xmlFree(perm);
        }
    }
    if (e->link == NULL)
        e->link = atom_link(c, item, NS_ATOM, rel_alternate, true);
    read_dates(c, item, rss_dates, e);
    for (n = item->children; n != NULL; n = n->next)
        if (is_rss(c, n, "category") || is_el(n, NS_DC, "subject"))
            add_topic(c, e, n, NULL);
    read_rss_images(c, item, e);
}

static void read_atom_entry(const struct pctx *c, xmlNodePtr entry, struct entry *e)
{
    static const struct date_field atom_dates[] = {
        {"", "published"}, {"", "updated"}, {"", "issued"}, {"", "modified"},
        {"", "created"},   {NS_DC, "date"}, {NULL, NULL}};
    xmlNodePtr n;

    e->title = atom_text(c, entry, "title", NEWS_TITLE_MAX);
    e->content = atom_text(c, entry, "content", NEWS_CONTENT_MAX);
    if (e->content == NULL || *e->content == '\0') {
        free(e->content);
        e->content = atom_text(c, entry, "summary", NEWS_CONTENT_MAX);
    }
    if ((n = child(entry, c->atom_ns, "id")) != NULL)
        e->guid = plain(c, n, NEWS_URL_MAX);
    e->link = atom_link(c, entry, c->atom_ns, rel_alternate, true);
    for (n = entry->children; n != NULL; n = n->next)
        if (is_el(n, c->atom_ns, "category"))
            add_topic(c, e, n, "term");
    read_dates(c, entry, atom_dates, e);
    read_atom_images(c, entry, e);
}

static void entry_free_fields(struct entry *e)
{
    free(e->guid);
    free(e->title);
    free(e->content);
    free(e->link);
    free(e->date_key);
    json_decref(e->topics);
    feed_images_clear(&e->images);
}

/* The entry as a news item, or NULL with *why. */
static struct news_item *entry_item(const struct entry *e, const char *source, char **why)
{
    char id[NEWS_ID_MAX + 1], *key;
    json_t *o;
    struct news_item *it;
    bool has_title = e->title != NULL && *e->title != '\0';
    bool has_content = e->content != NULL && *e->content != '\0';

    if (!has_title && !has_content) {
        *why = xstrdup("an entry with neither title nor text");
        return NULL;
    }
    if (e->guid != NULL && *e->guid != '\0')
        key = xasprintf("guid\n%s", e->guid);
    else if (e->link != NULL)
        key = xasprintf("link\n%s", e->link);
    else
        key = xasprintf("title\n%s\n%s", has_title ? e->title : e->content,
                        e->date_key != NULL ? e->date_key : "");
    stable_id(key, id);
    free(key);
    o = json_pack("{s:s, s:s, s:s, s:s, s:O}", "id", id, "title",
                  has_title ? e->title : "(untitled)", "content",
                  has_content ? e->content : e->title, "source", source, "topics", e->topics);
    if (e->link != NULL)
        json_object_set_new(o, "url", json_string(e->link));
    if (e->ms > 0)
        json_object_set_new(o, "published", json_integer(e->ms));
    it = news_item_from_json(o, why);
    json_decref(o);
    return it;
}

/* The fallback source name: the URL's host, else its last path segment, else "feed". */
static char *url_source(const char *url)
{
    char *host = feed_url_host(url), *out;

    if (host == NULL && url != NULL && strncasecmp(url, "file:", 5) == 0) {
        const char *slash = strrchr(url, '/');

        host = xstrdup(slash != NULL ? slash + 1 : url);
    }
    out = feed_clean_text(host != NULL && *host != '\0' ? host : "feed", SOURCE_MAX);
    free(host);
    return out;
}

static void add_entry(struct feed_doc *d, const struct pctx *c, xmlNodePtr node, const char *source)
{
    struct entry e = {.topics = json_array()};
    struct news_item *it;
    char *why = NULL;

    if (c->format == FEED_ATOM)
        read_atom_entry(c, node, &e);
    else
        read_rss_item(c, node, &e);
    it = entry_item(&e, source, &why);
    if (it == NULL) {
        d->skipped++;
        if (d->first_skip == NULL)
            d->first_skip = why;
        else
            free(why);
        entry_free_fields(&e);
        return;
    }
    d->entries = xrealloc(d->entries, (d->nentries + 1) * sizeof *d->entries);
    d->entries[d->nentries++] = (struct feed_entry){
        .item = it,
        .guid = e.guid != NULL && *e.guid != '\0' ? e.guid : NULL,
        .date = e.date,
        .text = FEED_TEXT_FEED,
        .images = e.images,
    };
    e.images = (struct feed_images){0}; /* moved */
    if (d->entries[d->nentries - 1].guid != NULL)
        e.guid = NULL; /* moved */
    entry_free_fields(&e);
}

static char *parse_error(xmlParserCtxtPtr ctxt)
{
    const xmlError *err = xmlCtxtGetLastError(ctxt);
    char *msg, *out;

    if (err == NULL || err->message == NULL)
        return xstrdup("not a well-formed XML document");
    msg = feed_clean_text(err->message, 300);
    out = xasprintf("not well-formed XML (line %d): %s", err->line, msg);
    free(msg);
    return out;
}

/* "<prefix:name>" and its namespace, for messages. A new string. */
static char *describe(xmlNodePtr n)
{
    if (n->ns != NULL && n->ns->href != NULL)
        return xasprintf("<%s%s%s> in namespace \"%s\"",
                         n->ns->prefix != NULL ? (const char *)n->ns->prefix : "",
                         n->ns->prefix != NULL ? ":" : "", (const char *)n->name,
                         (const char *)n->ns->href);
    return xasprintf("<%s> (no namespace)", (const char *)n->name);
}

/* Which feed the root makes, and its channel; -1 with *cause when it is none. */
static int classify(struct pctx *c, xmlNodePtr root, xmlNodePtr *chan, char **cause)
{
    char *what;

    *chan = NULL;
    if (root == NULL) {
        *cause = xstrdup("not a feed: the document has no root element");
        return -1;
    }
    if (strcmp((const char *)root->name, "rss") == 0) {
        c->format = FEED_RSS2;
        c->rss_ns = root->ns != NULL ? (const char *)root->ns->href : NULL;
        if ((*chan = rss_child(c, root, "channel")) == NULL) {
            *cause = xstrdup("not a feed: <rss> has no <channel>");
            return -1;
        }
        return 0;
    }
    if (is_el(root, NS_ATOM, "feed") || is_el(root, NS_ATOM03, "feed")) {
        c->format = FEED_ATOM;
        c->atom_ns = (const char *)root->ns->href;
        *chan = root;
        return 0;
    }
    if (is_el(root, NS_RDF, "RDF")) {
        static const char *const kinds[] = {NS_RSS1, NS_RSS090};

        for (size_t k = 0; k < 2; k++)
            if (child(root, kinds[k], "channel") != NULL || child(root, kinds[k], "item") != NULL) {
                c->format = k == 0 ? FEED_RDF : FEED_RSS090;
                c->rss_ns = kinds[k];
                *chan = child(root, kinds[k], "channel");
                return 0;
            }
        *cause = xstrdup("not a feed: <rdf:RDF> holds no RSS 1.0 (" NS_RSS1 ") or RSS 0.90 "
                         "(" NS_RSS090 ") channel or item");
        return -1;
    }
    what = describe(root);
    if (strcmp((const char *)root->name, "feed") == 0)
        *cause = xasprintf("not a feed: the root element is %s, not Atom's "
                           "<feed xmlns=\"" NS_ATOM "\">",
                           what);
    else
        *cause = xasprintf("not a feed: the root element is %s; a feed's is <rss>, Atom's "
                           "<feed> or RDF's <rdf:RDF>",
                           what);
    free(what);
    return -1;
}

int feed_parse(const char *buf, size_t len, const char *url, int64_t now_ms, struct feed_doc *out,
               char **cause)
{
    struct pctx c = {.now_ms = now_ms};
    xmlParserCtxtPtr ctxt;
    xmlNodePtr root, chan;
    const char *enc = NULL;
    char *source;

    memset(out, 0, sizeof *out);
    feed_parse_init();
    if (feed_sniff(buf, len, &enc) == FEED_SNIFF_EMPTY) {
        *cause = xstrdup("empty document: no bytes but white space");
        return -1;
    }
    if (len > FEED_PARSE_MAX) {
        *cause = xasprintf("document of %zu bytes is over the %u byte limit", len, FEED_PARSE_MAX);
        return -1;
    }
    if (enc != NULL && len >= 4 && strncmp(enc, "UTF-32", 6) == 0 &&
        (memcmp(buf, "\0\0\xfe\xff", 4) == 0 || memcmp(buf, "\xff\xfe\0\0", 4) == 0)) {
        buf += 4;
        len -= 4;
    }
    /* White space before an 8-bit document's XML declaration is common and harmless, but
     * libxml2 refuses the declaration after it. */
    if (enc == NULL && len > 0 && xml_space((unsigned char)buf[0])) {
        size_t skip = 0;

        while (skip < len && xml_space((unsigned char)buf[skip]))
            skip++;
        buf += skip;
        len -= skip;
    }
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL)
        fail("out of memory creating an XML parser");
    c.doc = xmlCtxtReadMemory(ctxt, buf, (int)len, url, enc,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (c.doc == NULL || !ctxt->wellFormed) {
        *cause = parse_error(ctxt);
        xmlFreeDoc(c.doc);
        xmlFreeParserCtxt(ctxt);
        return -1;
    }
    xmlFreeParserCtxt(ctxt);
    root = xmlDocGetRootElement(c.doc);
    if (classify(&c, root, &chan, cause) == -1) {
        xmlFreeDoc(c.doc);
        return -1;
    }
    c.base = feed_url_is_http(url) ? xstrdup(url) : fallback_base(&c, root, chan);
    c.file_url = url != NULL && strncasecmp(url, "file:/", 6) == 0 ? url : NULL;
    out->format = c.format;
    if (chan != NULL)
        out->title = c.format == FEED_ATOM
                         ? atom_text(&c, chan, "title", SOURCE_MAX)
                         : (rss_child(&c, chan, "title") != NULL
                                ? html_field(&c, rss_child(&c, chan, "title"), SOURCE_MAX)
                                : NULL);
    if (out->title == NULL)
        out->title = xstrdup("");
    source = *out->title != '\0' ? xstrdup(out->title) : url_source(url);
    if (c.format == FEED_ATOM) {
        for (xmlNodePtr n = root->children; n != NULL; n = n->next)
            if (is_el(n, c.atom_ns, "entry"))
                add_entry(out, &c, n, source);
    } else {
        /* RSS 2.0 items sit in the channel; RSS 1.0 and 0.90 items beside it, under the
         * root. */
        xmlNodePtr holder = c.format == FEED_RSS2 ? chan : root;

        for (xmlNodePtr n = holder->children; n != NULL; n = n->next)
            if (is_rss(&c, n, "item"))
                add_entry(out, &c, n, source);
    }
    free(source);
    free(c.base);
    xmlFreeDoc(c.doc);
    return 0;
}

void feed_entry_clear(struct feed_entry *e)
{
    if (e == NULL)
        return;
    news_item_free(e->item);
    free(e->guid);
    free(e->fulltext);
    feed_images_clear(&e->images);
    memset(e, 0, sizeof *e);
}

void feed_doc_clear(struct feed_doc *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->nentries; i++)
        feed_entry_clear(&d->entries[i]);
    free(d->entries);
    free(d->title);
    free(d->first_skip);
    memset(d, 0, sizeof *d);
}

json_t *feed_entry_meta(const struct feed_entry *e)
{
    static const char *const dates[] = {"feed", "no_zone", "first_seen"};
    json_t *o = json_pack("{s:s, s:s}", "date", dates[e->date], "text",
                          e->text == FEED_TEXT_FULL ? "full" : "feed");

    if (e->guid != NULL)
        json_object_set_new(o, "guid", json_string(e->guid));
    if (e->fulltext != NULL)
        json_object_set_new(o, "fulltext", json_string(e->fulltext));
    if (e->images.n > 0)
        json_object_set_new(o, "images", feed_images_json(&e->images));
    return o;
}
