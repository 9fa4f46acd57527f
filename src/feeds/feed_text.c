/*
 * feed_text.c - plain text out of feeds and pages; see feed_text.h. Every text ends in
 * feed_clean_text(), which decodes UTF-8 itself (an invalid sequence becomes U+FFFD), so what
 * leaves here is valid UTF-8 that the news item codec accepts.
 *
 * Threads: any; no state.
 */
#include "feeds/feed_text.h"

#include "core/fail.h"

#include <libxml/HTMLparser.h>
#include <libxml/entities.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void feed_sbuf_add(struct feed_sbuf *b, const char *s, size_t n)
{
    if (b->full)
        return;
    if (b->len + n > b->max) {
        n = b->max - b->len;
        b->full = true;
        /* Never half a character: back off a cut inside a UTF-8 sequence. */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
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

void feed_sbuf_adds(struct feed_sbuf *b, const char *s)
{
    feed_sbuf_add(b, s, strlen(s));
}

char *feed_sbuf_take(struct feed_sbuf *b)
{
    char *s = b->s != NULL ? b->s : xstrdup("");

    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

static bool in_list(const char *name, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcasecmp(name, list[i]) == 0)
            return true;
    return false;
}

bool feed_text_dropped(const char *name)
{
    static const char *const dropped[] = {
        "script", "style",  "noscript", "template", "head",   "iframe", "object", "embed",    "svg",
        "math",   "select", "textarea", "button",   "canvas", "audio",  "video",  "frameset", NULL};

    return in_list(name, dropped);
}

bool feed_text_block(const char *name)
{
    static const char *const blocks[] = {
        "p",       "br",     "div",        "li",         "ul",      "ol",      "dl",       "dt",
        "dd",      "tr",     "td",         "th",         "h1",      "h2",      "h3",       "h4",
        "h5",      "h6",     "pre",        "blockquote", "table",   "thead",   "tbody",    "tfoot",
        "caption", "hr",     "section",    "article",    "aside",   "header",  "footer",   "nav",
        "main",    "figure", "figcaption", "address",    "details", "summary", "fieldset", "form",
        "legend",  "center", "hgroup",     "menu",       NULL};

    return in_list(name, blocks);
}

static void walk(xmlDocPtr doc, xmlNodePtr node, struct feed_sbuf *b, bool raw, int depth)
{
    for (xmlNodePtr n = node->children; n != NULL && !b->full; n = n->next) {
        if (++b->nodes > FEED_TEXT_NODE_BUDGET) {
            b->full = true;
            return;
        }
        switch (n->type) {
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
            if (n->content != NULL)
                feed_sbuf_adds(b, (const char *)n->content);
            break;
        case XML_ELEMENT_NODE: {
            const char *name = (const char *)n->name;
            bool block = !raw && feed_text_block(name);

            if (!raw && feed_text_dropped(name))
                break;
            if (block)
                feed_sbuf_adds(b, " ");
            walk(doc, n, b, raw, depth);
            if (block)
                feed_sbuf_adds(b, " ");
            break;
        }
        case XML_ENTITY_REF_NODE: {
            xmlEntityPtr ent = doc != NULL ? xmlGetDocEntity(doc, n->name) : NULL;

            if (ent == NULL || ent->etype != XML_INTERNAL_GENERAL_ENTITY ||
                depth >= FEED_TEXT_ENTITY_DEPTH)
                break;
            if (ent->children != NULL)
                walk(doc, (xmlNodePtr)ent, b, raw, depth + 1);
            else if (ent->content != NULL && strchr((const char *)ent->content, '&') == NULL)
                feed_sbuf_adds(b, (const char *)ent->content);
            break;
        }
        default:
            break;
        }
    }
}

void feed_text_walk(xmlDocPtr doc, xmlNodePtr node, struct feed_sbuf *b, bool raw)
{
    walk(doc, node, b, raw, 0);
}

char *feed_html_text(const char *html, size_t max)
{
    struct feed_sbuf b = {.max = FEED_TEXT_BUDGET};
    size_t len = strlen(html);
    char *raw, *out;

    if (strpbrk(html, "<&") == NULL || len > FEED_TEXT_BUDGET) {
        feed_sbuf_add(&b, html, len);
    } else {
        htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
                                        HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                                            HTML_PARSE_NOWARNING | HTML_PARSE_NOIMPLIED);

        if (doc != NULL) {
            feed_text_walk(NULL, (xmlNodePtr)doc, &b, false);
            xmlFreeDoc(doc);
        }
    }
    raw = feed_sbuf_take(&b);
    out = feed_clean_text(raw, max);
    free(raw);
    return out;
}

/* Windows-1252's characters for 0x80-0x9F; 0 where it has none (those stay controls). */
static const uint16_t cp1252[32] = {0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
                                    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

/* Decodes one UTF-8 character at p (n bytes left): its code point and length, U+FFFD and 1
 * for an invalid sequence. */
static uint32_t decode(const unsigned char *p, size_t n, size_t *used)
{
    uint32_t c;
    size_t len;

    if (p[0] < 0x80) {
        *used = 1;
        return p[0];
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        len = 2;
        c = p[0] & 0x1F;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        len = 3;
        c = p[0] & 0x0F;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        len = 4;
        c = p[0] & 0x07;
    } else {
        *used = 1;
        return 0xFFFD;
    }
    if (n < len) {
        *used = 1;
        return 0xFFFD;
    }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *used = 1;
            return 0xFFFD;
        }
        c = (c << 6) | (p[i] & 0x3F);
    }
    if ((len == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) || (len == 4 && c < 0x10000) ||
        c > 0x10FFFF) {
        *used = 1;
        return 0xFFFD;
    }
    *used = len;
    return c;
}

static size_t encode(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* White space and controls, after the C1 mapping. */
static bool blank(uint32_t c)
{
    return c <= 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == 0xA0 || c == 0x2028 ||
           c == 0x2029 || c == 0xFEFF;
}

char *feed_clean_text(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), w = 0;
    /* A C1 character (2 bytes) can become 3; nothing else grows. */
    char *out = xmalloc(n + n / 2 + 4);
    bool space = true; /* drops leading space */

    while (n > 0) {
        size_t used;
        uint32_t c = decode(p, n, &used);
        char enc[4];
        size_t k;

        p += used;
        n -= used;
        if (c >= 0x80 && c <= 0x9F && cp1252[c - 0x80] != 0)
            c = cp1252[c - 0x80];
        if (blank(c)) {
            if (!space)
                out[w++] = ' ';
            space = true;
            continue;
        }
        k = encode(c, enc);
        memcpy(out + w, enc, k);
        w += k;
        space = false;
    }
    while (w > 0 && out[w - 1] == ' ')
        w--;
    out[w] = '\0';
    if (w > max) {
        size_t cut = max;

        while (cut > 0 && ((unsigned char)out[cut] & 0xC0) == 0x80)
            cut--;
        while (cut > 0 && out[cut - 1] == ' ')
            cut--;
        out[cut] = '\0';
    }
    return out;
}

/* Whether c is written without spaces between words (Han, kana, Hangul): each counts as a
 * word. */
static bool wordlike(uint32_t c)
{
    return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x9FFF) ||
           (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x20000 && c <= 0x2FFFF);
}

size_t feed_word_count(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), words = 0;
    bool in = false;

    while (n > 0) {
        size_t used;
        uint32_t c = decode(p, n, &used);
        bool ws = c == ' ' || c == '\t' || c == '\n' || c == '\r';

        p += used;
        n -= used;
        if (wordlike(c)) {
            words++;
            in = false;
            continue;
        }
        if (!ws && !in)
            words++;
        in = !ws;
    }
    return words;
}
