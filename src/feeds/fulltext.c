/*
 * fulltext.c - an article's text out of its page; see fulltext.h for the method. The page is
 * parsed once; boilerplate is cut out of the tree; every remaining element gets its counts
 * (text, text inside links, commas, elements below it) in one bottom-up pass, kept beside the
 * node through libxml2's _private pointer; paragraphs score their ancestors; the best block
 * and its siblings are written out paragraph by paragraph, skipping what looks like
 * boilerplate inside.
 *
 * Threads: any; everything lives in one call.
 */
#include "feeds/fulltext.h"

#include "core/fail.h"
#include "feeds/feed_parse.h"
#include "feeds/feed_text.h"

#include <ctype.h>
#include <libxml/HTMLparser.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A paragraph shorter than this scores nothing. */
#define PARA_MIN 25
/* Deeper than this the tree is not walked (libxml2 bounds HTML depth too). */
#define DEPTH_MAX 256
/* A block with fewer characters of text per element than this is a list of bits (menus,
 * tag clouds, bylines): text density. */
#define DENSITY_MIN  20.0
#define CLASS_WEIGHT 25.0

/* What one element holds, and its score once it is a candidate. */
struct nstat {
    size_t text;     /* characters of text below it */
    size_t links;    /* of them, inside links */
    size_t commas;   /* commas in its text */
    size_t elements; /* elements below it */
    size_t paras;    /* paragraphs of PARA_MIN characters or more below it (itself too) */
    double score;
    bool candidate;
};

static struct nstat *st(xmlNodePtr n)
{
    return n->_private;
}

static bool named(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcasecmp((const char *)n->name, name) == 0;
}

static bool named_any(xmlNodePtr n, const char *const *names)
{
    for (size_t i = 0; names[i] != NULL; i++)
        if (named(n, names[i]))
            return true;
    return false;
}

/* Class and id words that name boilerplate, whole (exact) or as a start (prefix). */
static const char *const negative_exact[] = {
    "ad",     "ads",      "adsbygoogle", "nav",     "menu",       "modal",    "overlay",
    "tags",   "tag",      "meta",        "byline",  "author",     "dateline", "hidden",
    "print",  "rss",      "signup",      "pager",   "skyscraper", "shoutbox", "combx",
    "remark", "replies",  "community",   "contact", "extra",      "legal",    "copyright",
    "login",  "masthead", "cta",         "teaser",  NULL};
static const char *const negative_prefix[] = {
    "comment",  "advert",  "sponsor",    "cookie",     "consent",    "share",   "sharing",
    "social",   "subscri", "newsletter", "related",    "promo",      "sidebar", "breadcrumb",
    "footer",   "header",  "navbar",     "navigation", "pagination", "popup",   "outbrain",
    "taboola",  "disqus",  "gdpr",       "banner",     "widget",     "toolbar", "recommend",
    "trending", "paywall", NULL};
/* ... and content. */
static const char *const positive_exact[] = {"body",   "main",  "text", "blog",
                                             "hentry", "prose", NULL};
static const char *const positive_prefix[] = {"article", "content", "entry", "post", "story", NULL};

static bool word_in(const char *w, const char *const *exact, const char *const *prefix)
{
    for (size_t i = 0; exact[i] != NULL; i++)
        if (strcmp(w, exact[i]) == 0)
            return true;
    for (size_t i = 0; prefix[i] != NULL; i++)
        if (strncmp(w, prefix[i], strlen(prefix[i])) == 0)
            return true;
    return false;
}

/* Whether attribute attr of n holds a negative (*neg) or positive (*pos) word; words are runs
 * of letters and digits, lower-cased. */
static void attr_words(xmlNodePtr n, const char *attr, bool *neg, bool *pos)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
    char w[48];
    size_t k = 0;

    *neg = *pos = false;
    if (v == NULL)
        return;
    for (const unsigned char *p = v;; p++) {
        if (isalnum(*p)) {
            if (k + 1 < sizeof w)
                w[k++] = (char)tolower(*p);
            continue;
        }
        if (k > 0) {
            w[k] = '\0';
            *neg |= word_in(w, negative_exact, negative_prefix);
            *pos |= word_in(w, positive_exact, positive_prefix);
            k = 0;
        }
        if (*p == '\0')
            break;
    }
    xmlFree(v);
}

/* Readability's class weight: +25 or -25 for each of class and id. */
static double class_weight(xmlNodePtr n)
{
    static const char *const attrs[] = {"class", "id"};
    double w = 0;

    for (size_t i = 0; i < 2; i++) {
        bool neg, pos;

        attr_words(n, attrs[i], &neg, &pos);
        if (neg)
            w -= CLASS_WEIGHT;
        if (pos)
            w += CLASS_WEIGHT;
    }
    return w;
}

static bool attr_has(xmlNodePtr n, const char *attr, const char *needle)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
    bool hit = false;

    if (v != NULL) {
        char *squeezed = xmalloc(strlen((const char *)v) + 1);
        size_t k = 0;

        for (const unsigned char *p = v; *p != '\0'; p++)
            if (!isspace(*p))
                squeezed[k++] = (char)tolower(*p);
        squeezed[k] = '\0';
        hit = strstr(squeezed, needle) != NULL;
        free(squeezed);
        xmlFree(v);
    }
    return hit;
}

/* Whether n is boilerplate that goes before anything is scored. */
static bool boilerplate(xmlNodePtr n)
{
    static const char *const tags[] = {"nav",    "aside", "header", "footer", "form",
                                       "dialog", "input", "label",  "menu",   NULL};
    static const char *const keep[] = {"html", "body", "article", "main", NULL};
    static const char *const roles[] = {"navigation", "banner",      "contentinfo", "complementary",
                                        "dialog",     "alertdialog", "search",      "menu",
                                        "menubar",    NULL};
    bool neg_c, pos_c, neg_i, pos_i;
    xmlChar *role;

    if (feed_text_dropped((const char *)n->name) || named_any(n, tags))
        return true;
    if (xmlHasProp(n, (const xmlChar *)"hidden") != NULL || attr_has(n, "aria-hidden", "true") ||
        attr_has(n, "style", "display:none") || attr_has(n, "style", "visibility:hidden"))
        return true;
    role = xmlGetProp(n, (const xmlChar *)"role");
    if (role != NULL) {
        bool hit = false;

        for (size_t i = 0; roles[i] != NULL; i++)
            hit |= strcasecmp((const char *)role, roles[i]) == 0;
        xmlFree(role);
        if (hit)
            return true;
    }
    if (named_any(n, keep))
        return false;
    attr_words(n, "class", &neg_c, &pos_c);
    attr_words(n, "id", &neg_i, &pos_i);
    return (neg_c || neg_i) && !(pos_c || pos_i);
}

static void prune(xmlNodePtr parent, int depth)
{
    xmlNodePtr n = parent->children, next;

    for (; n != NULL; n = next) {
        next = n->next;
        if (n->type == XML_COMMENT_NODE || (n->type == XML_ELEMENT_NODE && boilerplate(n)) ||
            (n->type == XML_ELEMENT_NODE && depth >= DEPTH_MAX)) {
            xmlUnlinkNode(n);
            xmlFreeNode(n);
        } else if (n->type == XML_ELEMENT_NODE) {
            prune(n, depth + 1);
        }
    }
}

/* Characters of text (a run of white space counts one) and commas in s. */
static void count_text(const char *s, size_t *chars, size_t *commas)
{
    bool space = false;

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        bool ws = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f';

        if ((*p & 0xC0) == 0x80)
            continue; /* a continuation byte: counted with its lead */
        if (ws) {
            if (!space)
                (*chars)++;
            space = true;
            continue;
        }
        space = false;
        (*chars)++;
        if (*p == ',' || (p[0] == 0xEF && p[1] == 0xBC && p[2] == 0x8C) ||
            (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x81))
            (*commas)++;
    }
}

/* Whether n has a block element (other than a line break) among its children. */
static bool has_block_child(xmlNodePtr n)
{
    for (xmlNodePtr k = n->children; k != NULL; k = k->next)
        if (k->type == XML_ELEMENT_NODE && feed_text_block((const char *)k->name) &&
            !named(k, "br"))
            return true;
    return false;
}

/* Whether n is a paragraph for scoring: p, pre, or a div, section, article, table cell or
 * quote with no block below it (text laid out in plain divs or cells). */
static bool paragraph_like(xmlNodePtr n)
{
    static const char *const paras[] = {"p", "pre", NULL};
    static const char *const divs[] = {"div", "section", "article", "td", "blockquote", NULL};

    return named_any(n, paras) || (named_any(n, divs) && !has_block_child(n));
}

/* Gives every element below (and at) n its counts; returns n's. stats is the pool, *used
 * how much of it is taken. */
static void measure(xmlNodePtr n, struct nstat *pool, size_t *used, size_t cap, bool in_link)
{
    struct nstat *s;

    if (*used >= cap)
        return;
    s = &pool[(*used)++];
    memset(s, 0, sizeof *s);
    n->_private = s;
    in_link |= named(n, "a");
    for (xmlNodePtr k = n->children; k != NULL; k = k->next) {
        if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
            size_t chars = 0, commas = 0;

            if (k->content != NULL)
                count_text((const char *)k->content, &chars, &commas);
            s->text += chars;
            s->commas += commas;
            if (in_link)
                s->links += chars;
        } else if (k->type == XML_ELEMENT_NODE) {
            struct nstat *ks;

            measure(k, pool, used, cap, in_link);
            if ((ks = st(k)) == NULL)
                continue;
            s->text += ks->text;
            s->links += ks->links;
            s->commas += ks->commas;
            s->elements += ks->elements + 1;
            s->paras += ks->paras;
        }
    }
    if (paragraph_like(n) && s->text >= PARA_MIN)
        s->paras++;
}

static size_t count_elements(xmlNodePtr n)
{
    size_t c = 1;

    for (xmlNodePtr k = n->children; k != NULL; k = k->next)
        if (k->type == XML_ELEMENT_NODE)
            c += count_elements(k);
    return c;
}

static double link_density(xmlNodePtr n)
{
    const struct nstat *s = st(n);

    return s == NULL || s->text == 0 ? 0 : (double)s->links / (double)s->text;
}

/* A candidate's starting score: its element and its class and id. */
static void init_candidate(xmlNodePtr n)
{
    static const char *const plus5[] = {"div", "article", "main", NULL};
    static const char *const plus3[] = {"pre", "td", "blockquote", NULL};
    static const char *const minus3[] = {"address", "ol", "ul",   "dl", "dd",
                                         "dt",      "li", "form", NULL};
    static const char *const minus5[] = {"h1", "h2", "h3", "h4", "h5", "h6", "th", NULL};
    struct nstat *s = st(n);

    s->candidate = true;
    s->score = class_weight(n);
    if (named_any(n, plus5))
        s->score += 5;
    else if (named_any(n, plus3))
        s->score += 3;
    else if (named_any(n, minus3))
        s->score -= 3;
    else if (named_any(n, minus5))
        s->score -= 5;
}

/* Scores every paragraph below n into its ancestors up to (and including) top. */
static void score(xmlNodePtr n, xmlNodePtr top)
{
    for (xmlNodePtr k = n->children; k != NULL; k = k->next) {
        const struct nstat *ks;

        if (k->type != XML_ELEMENT_NODE || (ks = st(k)) == NULL)
            continue;
        if (paragraph_like(k) && ks->text >= PARA_MIN) {
            double s = 1.0 + (double)ks->commas + (double)(ks->text / 100 < 3 ? ks->text / 100 : 3);
            int level = 0;

            for (xmlNodePtr a = k->parent; a != NULL && a->type == XML_ELEMENT_NODE && level < 5;
                 a = a->parent, level++) {
                if (st(a) == NULL)
                    break;
                if (!st(a)->candidate)
                    init_candidate(a);
                st(a)->score += level == 0 ? s : level == 1 ? s / 2 : s / (level * 3);
                if (a == top)
                    break;
            }
        }
        score(k, top);
    }
}

/* The best candidate below n (final score: score * (1 - link density)). */
static void best(xmlNodePtr n, xmlNodePtr *top, double *top_score)
{
    for (xmlNodePtr k = n->children; k != NULL; k = k->next) {
        struct nstat *ks;

        if (k->type != XML_ELEMENT_NODE || (ks = st(k)) == NULL)
            continue;
        if (ks->candidate) {
            ks->score *= 1.0 - link_density(k);
            if (*top == NULL || ks->score > *top_score) {
                *top = k;
                *top_score = ks->score;
            }
        }
        best(k, top, top_score);
    }
}

/* Whether a sibling of the best block belongs to the article. */
static bool sibling_belongs(xmlNodePtr k, double threshold)
{
    const struct nstat *s = st(k);
    double ld;

    if (s == NULL)
        return false;
    if (s->candidate && s->score >= threshold)
        return true;
    if (!named(k, "p"))
        return false;
    ld = link_density(k);
    if (s->text > 80)
        return ld < 0.25;
    if (s->text == 0 || ld > 0)
        return false;
    /* A short paragraph without links that reads as a sentence. */
    {
        xmlChar *c = xmlNodeGetContent(k);
        bool sentence = false;

        if (c != NULL) {
            size_t n = strlen((const char *)c);

            while (n > 0 && isspace(c[n - 1]))
                n--;
            sentence = strstr((const char *)c, ". ") != NULL || (n > 0 && c[n - 1] == '.');
            xmlFree(c);
        }
        return sentence;
    }
}

/* Whether a block inside the article is boilerplate after all (readability's conditional
 * cleaning, with text density). */
static bool clean_away(xmlNodePtr n)
{
    static const char *const blocks[] = {"div", "section", "ul",    "ol",
                                         "dl",  "table",   "aside", NULL};
    static const char *const skip[] = {"h1", "figure", "figcaption", "img", "picture", NULL};
    const struct nstat *s = st(n);
    double weight, ld, density;

    if (named_any(n, skip))
        return true;
    if (s == NULL || !named_any(n, blocks))
        return false;
    weight = class_weight(n);
    ld = link_density(n);
    density = (double)s->text / (double)(s->elements + 1);
    if (weight < 0)
        return true;
    if ((ld > 0.2 && weight < CLASS_WEIGHT) || ld > 0.5)
        return true;
    /* Bits of text spread over many elements, and no paragraph among them. */
    return s->paras == 0 && (s->text < PARA_MIN || density < DENSITY_MIN);
}

/* Whether n holds a paragraph of the article when it is written out: paragraphs, quotes,
 * list items, subheadings, and divs or cells of text with no block inside. */
static bool paragraph_level(xmlNodePtr n)
{
    static const char *const paras[] = {"p",  "pre", "blockquote", "li", "dd", "dt",
                                        "h2", "h3",  "h4",         "h5", "h6", NULL};
    static const char *const holders[] = {"div", "section", "article", "td", "th", NULL};

    return named_any(n, paras) || (named_any(n, holders) && !has_block_child(n));
}

/* Writes the article's paragraphs: text gathers into the paragraph in hand, and every block
 * boundary closes it. Text outside any paragraph (a title in a font tag, a "posted on" line,
 * a list of links) is kept only when it reads as prose. */
struct writer {
    struct feed_sbuf para; /* the paragraph in hand */
    struct feed_sbuf out;
    size_t words, max;
    int in_para;       /* paragraph-level elements around the text now */
    int in_link;       /* links around the text now */
    bool loose;        /* some of the paragraph in hand is outside any paragraph */
    size_t link_bytes; /* of the paragraph in hand, inside links */
};

/* A run of loose text worth keeping: a sentence or more, not mostly links. */
static bool prose(const char *txt, size_t bytes, size_t link_bytes)
{
    size_t n = strlen(txt);

    if (n < PARA_MIN || link_bytes * 2 > bytes)
        return false;
    return strstr(txt, ". ") != NULL || txt[n - 1] == '.' || txt[n - 1] == '!' || txt[n - 1] == '?';
}

static void flush(struct writer *w)
{
    size_t bytes = w->para.len;
    char *raw = feed_sbuf_take(&w->para), *txt = feed_clean_text(raw, w->max);

    if (*txt != '\0' && !w->out.full && (!w->loose || prose(txt, bytes, w->link_bytes))) {
        if (w->out.len > 0)
            feed_sbuf_adds(&w->out, "\n\n");
        feed_sbuf_adds(&w->out, txt);
        w->words += feed_word_count(txt);
    }
    free(raw);
    free(txt);
    w->para = (struct feed_sbuf){.max = FEED_TEXT_BUDGET};
    w->loose = false;
    w->link_bytes = 0;
}

static void write_node(struct writer *w, xmlNodePtr n, int depth)
{
    for (xmlNodePtr k = n->children; k != NULL && depth < DEPTH_MAX; k = k->next) {
        if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
            size_t len = k->content != NULL ? strlen((const char *)k->content) : 0;

            if (len == 0)
                continue;
            if (w->in_para == 0 && strspn((const char *)k->content, " \t\r\n") < len)
                w->loose = true;
            if (w->in_link > 0)
                w->link_bytes += len;
            feed_sbuf_adds(&w->para, (const char *)k->content);
        } else if (k->type == XML_ELEMENT_NODE && !clean_away(k)) {
            bool block = feed_text_block((const char *)k->name);
            bool para = paragraph_level(k), link = named(k, "a");

            if (block)
                flush(w);
            w->in_para += para;
            w->in_link += link;
            write_node(w, k, depth + 1);
            w->in_para -= para;
            w->in_link -= link;
            if (block)
                flush(w);
        }
    }
}

/* Writes one chosen block: as a paragraph of its own when it is one. */
static void write_block(struct writer *w, xmlNodePtr n)
{
    bool para = paragraph_level(n);

    flush(w);
    w->in_para += para;
    write_node(w, n, 0);
    w->in_para -= para;
    flush(w);
}

static xmlNodePtr find_body(xmlNodePtr n)
{
    for (; n != NULL; n = n->next) {
        xmlNodePtr b;

        if (named(n, "body"))
            return n;
        if (n->type == XML_ELEMENT_NODE && (b = find_body(n->children)) != NULL)
            return b;
    }
    return NULL;
}

int fulltext_extract(const char *html, size_t len, const char *charset, size_t max, char **text,
                     size_t *words, char **cause)
{
    const int opts = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING;
    htmlDocPtr doc;
    xmlNodePtr body, top = NULL;
    struct nstat *pool;
    size_t cap, used = 0;
    double top_score = 0;
    struct writer w = {.para = {.max = FEED_TEXT_BUDGET}, .out = {.max = max}, .max = max};

    *text = NULL;
    *words = 0;
    feed_parse_init();
    if (len == 0 || len > (size_t)0x7fffffff) {
        *cause = xstrdup(len == 0 ? "an empty page" : "a page too big to parse");
        return -1;
    }
    doc = htmlReadMemory(html, (int)len, NULL, charset, opts);
    if (doc == NULL && charset != NULL) /* a charset libxml2 does not know: the page's own */
        doc = htmlReadMemory(html, (int)len, NULL, NULL, opts);
    if (doc == NULL || (body = find_body(doc->children)) == NULL) {
        if (doc == NULL || (body = xmlDocGetRootElement(doc)) == NULL) {
            xmlFreeDoc(doc);
            *cause = xstrdup("not an HTML page: nothing parsed");
            return -1;
        }
    }
    prune(body, 0);
    cap = count_elements(body);
    pool = xcalloc(cap, sizeof *pool);
    measure(body, pool, &used, cap, false);
    score(body, body);
    if (st(body)->candidate) {
        st(body)->score *= 1.0 - link_density(body);
        top = body;
        top_score = st(body)->score;
    }
    best(body, &top, &top_score);
    if (top == NULL) {
        *cause = xasprintf("no paragraph of %d characters or more on the page", PARA_MIN);
    } else {
        xmlNodePtr parent = top->parent;
        double threshold = top_score * 0.2 > 10 ? top_score * 0.2 : 10;

        if (top == body || parent == NULL || parent->type != XML_ELEMENT_NODE ||
            st(parent) == NULL) {
            write_block(&w, top);
        } else {
            for (xmlNodePtr k = parent->children; k != NULL; k = k->next)
                if (k->type == XML_ELEMENT_NODE && (k == top || sibling_belongs(k, threshold)) &&
                    (k == top || !clean_away(k)))
                    write_block(&w, k);
        }
        flush(&w);
        free(feed_sbuf_take(&w.para));
        if (w.words < FULLTEXT_MIN_WORDS) {
            *cause = xasprintf("only %zu words in the page's best block of text", w.words);
        } else {
            *text = feed_sbuf_take(&w.out);
            *words = w.words;
        }
    }
    free(w.out.s);
    free(w.para.s);
    free(pool); /* the nodes' _private pointers into it die with the tree, unread */
    xmlFreeDoc(doc);
    return *text != NULL ? 0 : -1;
}
