/*
 * feed_parse.c - RSS 2.0, Atom 1.0 and RSS 1.0 into news items; see feed_parse.h. A document
 * is read whole with xmlCtxtReadMemory() (no network, no DTD, no entity substitution, errors
 * kept on the context instead of printed), then each entry's fields are read by a walker that
 * follows internal entity references itself under a byte and node budget, so an entity bomb
 * that got past libxml2's own amplification check still ends at the budget, and an external
 * entity is never followed. Items are built as JSON and checked by news_item_from_json(), the
 * one gate every news item passes.
 *
 * Threads: any; libxml2 is initialised once under pthread_once.
 */
#include "feeds/feed_parse.h"

#include "core/fail.h"

#include <curl/curl.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NS_ATOM    "http://www.w3.org/2005/Atom"
#define NS_RDF     "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_DC      "http://purl.org/dc/elements/1.1/"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"

/* What one field's text may grow to while entities are followed, and how many nodes the
 * walker visits for it: the bound on entity expansion. */
#define TEXT_BUDGET  (2u * NEWS_CONTENT_MAX)
#define NODE_BUDGET  200000
#define ENTITY_DEPTH 8
#define SOURCE_MAX   200
#define TOPIC_MAX    100

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

/* A growing string with a hard cap: text past the cap is dropped and remembered. */
struct sbuf {
    char *s;
    size_t len, cap, max;
    long nodes;
    bool full;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->full)
        return;
    if (b->len + n > b->max) {
        n = b->max - b->len;
        b->full = true;
    }
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        if (b->cap > b->max + 1)
            b->cap = b->max + 1;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_adds(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static char *sb_take(struct sbuf *b)
{
    char *s = b->s != NULL ? b->s : xstrdup("");

    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

/* The text under node: text and CDATA, elements' text (for XHTML content), and internal
 * entities' replacement text, within the budgets. */
static void walk_text(xmlDocPtr doc, xmlNodePtr node, struct sbuf *b, int depth)
{
    for (xmlNodePtr n = node->children; n != NULL && !b->full; n = n->next) {
        if (++b->nodes > NODE_BUDGET) {
            b->full = true;
            return;
        }
        switch (n->type) {
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
            if (n->content != NULL)
                sb_adds(b, (const char *)n->content);
            break;
        case XML_ELEMENT_NODE:
            walk_text(doc, n, b, depth);
            break;
        case XML_ENTITY_REF_NODE: {
            xmlEntityPtr ent = xmlGetDocEntity(doc, n->name);

            if (ent == NULL || ent->etype != XML_INTERNAL_GENERAL_ENTITY || depth >= ENTITY_DEPTH)
                break;
            if (ent->children != NULL)
                walk_text(doc, (xmlNodePtr)ent, b, depth + 1);
            else if (ent->content != NULL && strchr((const char *)ent->content, '&') == NULL)
                sb_adds(b, (const char *)ent->content);
            break;
        }
        default:
            break;
        }
    }
}

static char *node_text(xmlDocPtr doc, xmlNodePtr node)
{
    struct sbuf b = {.max = TEXT_BUDGET};

    walk_text(doc, node, &b, 0);
    return sb_take(&b);
}

/* One byte sequence at p: the UTF-8 length of its lead byte (1 for a stray byte). */
static size_t u8len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* Collapses white space and control characters (C0, DEL, C1, no-break space) to one space,
 * trims, and cuts at max bytes on a character boundary. In place. */
static void collapse(char *s, size_t max)
{
    unsigned char *r = (unsigned char *)s, *w = (unsigned char *)s;
    bool space = true; /* drops leading space */

    while (*r != '\0') {
        bool ws = *r <= 0x20 || *r == 0x7f ||
                  (r[0] == 0xc2 && r[1] >= 0x80 && (r[1] <= 0x9f || r[1] == 0xa0));

        if (ws) {
            r += *r == 0xc2 ? 2 : 1;
            if (!space)
                *w++ = ' ';
            space = true;
            continue;
        }
        {
            size_t n = u8len(*r);

            for (size_t i = 0; i < n && *r != '\0'; i++)
                *w++ = *r++;
        }
        space = false;
    }
    while (w > (unsigned char *)s && w[-1] == ' ')
        w--;
    *w = '\0';
    if ((size_t)(w - (unsigned char *)s) > max) {
        size_t n = max;

        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        s[n] = '\0';
        while (n > 0 && s[n - 1] == ' ')
            s[--n] = '\0';
    }
}

static bool block_element(const char *name)
{
    static const char *const blocks[] = {
        "p",  "br", "div", "li",         "ul",  "ol",    "tr", "td",      "h1",      "h2", "h3",
        "h4", "h5", "h6",  "blockquote", "pre", "table", "hr", "section", "article", NULL};

    for (size_t i = 0; blocks[i] != NULL; i++)
        if (strcasecmp(name, blocks[i]) == 0)
            return true;
    return false;
}

static void html_walk(xmlNodePtr node, struct sbuf *b)
{
    for (xmlNodePtr n = node; n != NULL && !b->full; n = n->next) {
        if (++b->nodes > NODE_BUDGET) {
            b->full = true;
            return;
        }
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content != NULL)
                sb_adds(b, (const char *)n->content);
        } else if (n->type == XML_ELEMENT_NODE) {
            const char *name = (const char *)n->name;

            if (strcasecmp(name, "script") == 0 || strcasecmp(name, "style") == 0)
                continue;
            if (block_element(name))
                sb_adds(b, " ");
            html_walk(n->children, b);
            if (block_element(name))
                sb_adds(b, " ");
        }
    }
}

char *feed_html_text(const char *html, size_t max)
{
    struct sbuf b = {.max = TEXT_BUDGET};
    size_t len = strlen(html);
    char *out;

    feed_parse_init();
    if (strpbrk(html, "<&") == NULL || len > TEXT_BUDGET) {
        sb_add(&b, html, len);
    } else {
        htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
                                        HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                                            HTML_PARSE_NOWARNING | HTML_PARSE_NOIMPLIED);

        if (doc != NULL) {
            html_walk(doc->children, &b);
            xmlFreeDoc(doc);
        }
    }
    out = sb_take(&b);
    collapse(out, max);
    return out;
}

bool feed_sniff(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t i = 0;

    if (len >= 2 && ((p[0] == 0xFE && p[1] == 0xFF) || (p[0] == 0xFF && p[1] == 0xFE)))
        return true;
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        i = 3;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i < len && p[i] == '<';
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int feed_parse_date(const char *s, int64_t *ms)
{
    char buf[128];
    int y, m, d, used = 0;
    time_t t;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    if (*s == '\0' || strlen(s) >= sizeof buf)
        return -1;
    snprintf(buf, sizeof buf, "%s", s);
    buf[strcspn(buf, "\r\n")] = '\0';
    for (size_t n = strlen(buf); n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'); n--)
        buf[n - 1] = '\0';
    if (news_parse_time(buf, ms) == 0)
        return 0;
    /* A bare ISO 8601 date: midnight UTC. */
    if (sscanf(buf, "%4d-%2d-%2d%n", &y, &m, &d, &used) == 3 && buf[used] == '\0' && m >= 1 &&
        m <= 12 && d >= 1 && d <= 31) {
        *ms = days_from_civil(y, m, d) * 86400000;
        return 0;
    }
    /* RFC 822 / 1123 and the looser forms feeds use; curl_getdate() is pure and thread safe. */
    t = curl_getdate(buf, NULL);
    if (t == (time_t)-1)
        return -1;
    *ms = (int64_t)t * 1000;
    return 0;
}

/* Whether node is element name in namespace ns (NULL: no namespace or any for RSS 2.0). */
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

/* The plain text of child ns:name of parent as HTML reduced, or NULL when there is none. */
static char *child_html(xmlDocPtr doc, xmlNodePtr parent, const char *ns, const char *name,
                        size_t max)
{
    xmlNodePtr n = child(parent, ns, name);
    char *raw, *txt;

    if (n == NULL)
        return NULL;
    raw = node_text(doc, n);
    txt = feed_html_text(raw, max);
    free(raw);
    return txt;
}

/* An Atom text construct (RFC 4287 3.1): type text, html or xhtml. */
static char *atom_text(xmlDocPtr doc, xmlNodePtr parent, const char *name, size_t max)
{
    xmlNodePtr n = child(parent, NS_ATOM, name);
    xmlChar *type;
    char *raw, *txt;

    if (n == NULL)
        return NULL;
    type = xmlGetProp(n, (const xmlChar *)"type");
    raw = node_text(doc, n);
    if (type != NULL &&
        (strcmp((const char *)type, "html") == 0 || strcmp((const char *)type, "text/html") == 0)) {
        txt = feed_html_text(raw, max);
        free(raw);
    } else {
        /* text and xhtml: the characters are the text (the walker took XHTML's text). */
        txt = raw;
        collapse(txt, max);
    }
    xmlFree(type);
    return txt;
}

static char *plain(xmlDocPtr doc, xmlNodePtr n, size_t max)
{
    char *t = node_text(doc, n);

    collapse(t, max);
    return t;
}

/* link (relative, or NULL) resolved against the entry's base (xml:base over the document's
 * URL); only http and https links are kept. Returns a new string or NULL. */
static char *resolve(xmlDocPtr doc, xmlNodePtr entry, const char *link)
{
    xmlChar *base, *abs;
    char *out = NULL;

    if (link == NULL || *link == '\0')
        return NULL;
    base = xmlNodeGetBase(doc, entry);
    abs =
        base != NULL ? xmlBuildURI((const xmlChar *)link, base) : xmlStrdup((const xmlChar *)link);
    if (abs != NULL &&
        (strncasecmp((const char *)abs, "http://", 7) == 0 ||
         strncasecmp((const char *)abs, "https://", 8) == 0) &&
        strlen((const char *)abs) <= NEWS_URL_MAX)
        out = xstrdup((const char *)abs);
    xmlFree(abs);
    xmlFree(base);
    return out;
}

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
    char *guid, *title, *content, *link, *date;
    json_t *topics;
};

static void add_topic(struct entry *e, xmlDocPtr doc, xmlNodePtr n, const char *attr)
{
    char *t;

    if (attr != NULL) {
        xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);

        if (v == NULL)
            return;
        t = xstrdup((const char *)v);
        xmlFree(v);
        collapse(t, TOPIC_MAX);
    } else {
        t = plain(doc, n, TOPIC_MAX);
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

static void read_rss_item(xmlDocPtr doc, xmlNodePtr item, bool rdf, struct entry *e)
{
    xmlNodePtr n;
    const char *ns = rdf ? "http://purl.org/rss/1.0/" : NULL;
    char *raw;

    e->title = child_html(doc, item, ns, "title", NEWS_TITLE_MAX);
    e->content = child_html(doc, item, NS_CONTENT, "encoded", NEWS_CONTENT_MAX);
    if (e->content == NULL || *e->content == '\0') {
        free(e->content);
        e->content = child_html(doc, item, ns, "description", NEWS_CONTENT_MAX);
    }
    if ((n = child(item, ns, "link")) != NULL) {
        raw = plain(doc, n, NEWS_URL_MAX);
        e->link = resolve(doc, item, raw);
        free(raw);
    }
    if (rdf) {
        xmlChar *about = xmlGetNsProp(item, (const xmlChar *)"about", (const xmlChar *)NS_RDF);

        if (about != NULL) {
            e->guid = xstrdup((const char *)about);
            if (e->link == NULL)
                e->link = resolve(doc, item, (const char *)about);
            xmlFree(about);
        }
    } else if ((n = child(item, NULL, "guid")) != NULL) {
        e->guid = plain(doc, n, NEWS_URL_MAX);
    }
    if ((n = child(item, ns, "pubDate")) != NULL || (n = child(item, NS_DC, "date")) != NULL)
        e->date = plain(doc, n, 127);
    for (n = item->children; n != NULL; n = n->next)
        if (is_el(n, ns, "category") || is_el(n, NS_DC, "subject"))
            add_topic(e, doc, n, NULL);
}

static void read_atom_entry(xmlDocPtr doc, xmlNodePtr entry, struct entry *e)
{
    xmlNodePtr n;

    e->title = atom_text(doc, entry, "title", NEWS_TITLE_MAX);
    e->content = atom_text(doc, entry, "content", NEWS_CONTENT_MAX);
    if (e->content == NULL || *e->content == '\0') {
        free(e->content);
        e->content = atom_text(doc, entry, "summary", NEWS_CONTENT_MAX);
    }
    if ((n = child(entry, NS_ATOM, "id")) != NULL)
        e->guid = plain(doc, n, NEWS_URL_MAX);
    for (n = entry->children; n != NULL; n = n->next) {
        if (is_el(n, NS_ATOM, "link")) {
            xmlChar *rel = xmlGetProp(n, (const xmlChar *)"rel");
            xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");

            if (e->link == NULL && href != NULL &&
                (rel == NULL || strcmp((const char *)rel, "alternate") == 0))
                e->link = resolve(doc, n, (const char *)href);
            xmlFree(rel);
            xmlFree(href);
        } else if (is_el(n, NS_ATOM, "category")) {
            add_topic(e, doc, n, "term");
        }
    }
    if ((n = child(entry, NS_ATOM, "published")) != NULL ||
        (n = child(entry, NS_ATOM, "updated")) != NULL)
        e->date = plain(doc, n, 127);
}

static void entry_clear(struct entry *e)
{
    free(e->guid);
    free(e->title);
    free(e->content);
    free(e->link);
    free(e->date);
    json_decref(e->topics);
}

/* The entry as a news item, or NULL with *why. */
static struct news_item *entry_item(struct entry *e, const char *source, char **why)
{
    char id[NEWS_ID_MAX + 1], *key;
    int64_t ms = 0;
    json_t *o;
    struct news_item *it;
    bool has_title = e->title != NULL && *e->title != '\0';
    bool has_content = e->content != NULL && *e->content != '\0';

    if (!has_title && !has_content) {
        *why = xstrdup("an entry with neither title nor text");
        return NULL;
    }
    if (e->date != NULL && *e->date != '\0' && feed_parse_date(e->date, &ms) == -1)
        ms = 0; /* an unreadable date is an unknown one, not a lost story */
    if (e->guid != NULL && *e->guid != '\0')
        key = xasprintf("guid\n%s", e->guid);
    else if (e->link != NULL)
        key = xasprintf("link\n%s", e->link);
    else
        key = xasprintf("title\n%s\n%s", has_title ? e->title : e->content,
                        e->date != NULL ? e->date : "");
    stable_id(key, id);
    free(key);
    o = json_pack("{s:s, s:s, s:s, s:s, s:O}", "id", id, "title",
                  has_title ? e->title : "(untitled)", "content",
                  has_content ? e->content : e->title, "source", source, "topics", e->topics);
    if (e->link != NULL)
        json_object_set_new(o, "url", json_string(e->link));
    if (ms > 0)
        json_object_set_new(o, "published", json_integer(ms));
    it = news_item_from_json(o, why);
    json_decref(o);
    return it;
}

/* The fallback source name: the URL's host, else its last path segment, else "feed". */
static char *url_source(const char *url)
{
    xmlURIPtr u = url != NULL ? xmlParseURI(url) : NULL;
    char *out = NULL;

    if (u != NULL && u->server != NULL && *u->server != '\0') {
        out = xstrdup(u->server);
    } else if (u != NULL && u->path != NULL) {
        const char *slash = strrchr(u->path, '/');

        out = xstrdup(slash != NULL ? slash + 1 : u->path);
    }
    xmlFreeURI(u);
    if (out == NULL || *out == '\0') {
        free(out);
        out = xstrdup("feed");
    }
    collapse(out, SOURCE_MAX);
    return out;
}

static void add_entry(struct feed_doc *d, xmlDocPtr doc, xmlNodePtr node, const char *source)
{
    struct entry e = {.topics = json_array()};
    struct news_item *it;
    char *why = NULL;

    if (d->format == FEED_ATOM)
        read_atom_entry(doc, node, &e);
    else
        read_rss_item(doc, node, d->format == FEED_RDF, &e);
    it = entry_item(&e, source, &why);
    entry_clear(&e);
    if (it == NULL) {
        d->skipped++;
        if (d->first_skip == NULL)
            d->first_skip = why;
        else
            free(why);
        return;
    }
    d->items = xrealloc(d->items, (d->nitems + 1) * sizeof *d->items);
    d->items[d->nitems++] = it;
}

static char *parse_error(xmlParserCtxtPtr ctxt)
{
    const xmlError *err = xmlCtxtGetLastError(ctxt);
    char *msg, *out;

    if (err == NULL || err->message == NULL)
        return xstrdup("not a well-formed XML document");
    msg = xstrdup(err->message);
    collapse(msg, 300);
    out = xasprintf("not well-formed XML (line %d): %s", err->line, msg);
    free(msg);
    return out;
}

int feed_parse(const char *buf, size_t len, const char *url, struct feed_doc *out, char **cause)
{
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;
    xmlNodePtr root, chan = NULL;
    char *source;

    memset(out, 0, sizeof *out);
    feed_parse_init();
    if (len == 0) {
        *cause = xstrdup("empty document");
        return -1;
    }
    if (len > FEED_PARSE_MAX) {
        *cause = xasprintf("document of %zu bytes is over the %u byte limit", len, FEED_PARSE_MAX);
        return -1;
    }
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL)
        fail("out of memory creating an XML parser");
    doc = xmlCtxtReadMemory(ctxt, buf, (int)len, url, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL || !ctxt->wellFormed) {
        *cause = parse_error(ctxt);
        xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctxt);
        return -1;
    }
    xmlFreeParserCtxt(ctxt);
    root = xmlDocGetRootElement(doc);
    if (root != NULL && is_el(root, NULL, "rss")) {
        out->format = FEED_RSS2;
        chan = child(root, NULL, "channel");
    } else if (root != NULL && is_el(root, NS_ATOM, "feed")) {
        out->format = FEED_ATOM;
        chan = root;
    } else if (root != NULL && is_el(root, NS_RDF, "RDF")) {
        out->format = FEED_RDF;
        chan = child(root, "http://purl.org/rss/1.0/", "channel");
    }
    if (root == NULL || (chan == NULL && out->format != FEED_RDF) ||
        (out->format == FEED_RSS2 && !is_el(root, NULL, "rss"))) {
        *cause = xasprintf("not a feed: the root element is <%s>, not <rss>, Atom <feed> or "
                           "RSS 1.0 <rdf:RDF>",
                           root != NULL ? (const char *)root->name : "");
        xmlFreeDoc(doc);
        return -1;
    }
    if (chan != NULL)
        out->title =
            out->format == FEED_ATOM
                ? atom_text(doc, chan, "title", SOURCE_MAX)
                : child_html(doc, chan, out->format == FEED_RDF ? "http://purl.org/rss/1.0/" : NULL,
                             "title", SOURCE_MAX);
    if (out->title == NULL)
        out->title = xstrdup("");
    source = *out->title != '\0' ? xstrdup(out->title) : url_source(url);
    if (out->format == FEED_ATOM) {
        for (xmlNodePtr n = root->children; n != NULL; n = n->next)
            if (is_el(n, NS_ATOM, "entry"))
                add_entry(out, doc, n, source);
    } else {
        /* RSS 2.0 items sit in the channel; RSS 1.0 items beside it, under the root. */
        xmlNodePtr holder = out->format == FEED_RSS2 ? chan : root;
        const char *ns = out->format == FEED_RDF ? "http://purl.org/rss/1.0/" : NULL;

        for (xmlNodePtr n = holder->children; n != NULL; n = n->next)
            if (is_el(n, ns, "item"))
                add_entry(out, doc, n, source);
    }
    free(source);
    xmlFreeDoc(doc);
    return 0;
}

void feed_doc_clear(struct feed_doc *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->nitems; i++)
        news_item_free(d->items[i]);
    free(d->items);
    free(d->title);
    free(d->first_skip);
    memset(d, 0, sizeof *d);
}
