/*
 * feed_parse.h - RSS 2.0 (with or without a namespace), RSS 0.91/0.92, Atom 1.0 (and 0.3), RSS
 * 1.0 and RSS 0.90 (RDF) documents turned into news items, with libxml2. The parse never touches the
 * network or the file system (XML_PARSE_NONET, no DTD loading, external entities refused by a
 * loader that loads nothing), never substitutes entities itself (no XML_PARSE_NOENT,
 * XML_PARSE_HUGE off) and bounds what an internal entity may expand to while text is read.
 *
 * What an entry becomes, field by field (feedparser and gofeed are the references):
 *  - text: titles, summaries and content reduced to plain text (HTML parsed, entities decoded,
 *    block elements kept apart, script and style dropped, white space collapsed); Atom xhtml
 *    content the same way. C1 characters (U+0080-U+009F, which only ever come from
 *    Windows-1252 text mislabelled as ISO-8859-1, or from references such as &#146;) read as
 *    Windows-1252, as browsers read them.
 *  - links: resolved by RFC 3986 (percent-escapes kept) against xml:base and the document's
 *    URL; a document that is not from http(s) (a file) resolves against the feed's own
 *    rel="self" link, else its alternate (site) link. A permalink guid (isPermaLink="true" or
 *    absent) that is an absolute http(s) URL is the link when there is no <link>. Only http(s)
 *    links are kept.
 *  - dates: RFC 822 and its loose relatives (any day name, or none; "Dec 16 2023 02:02:33 PM";
 *    zone names and offsets), ISO 8601 / RFC 3339 with or without a zone, "2020/1/10 14:03";
 *    a time without a zone is read as UTC and marked so; when no date field is readable the
 *    time the entry was first seen (parsed) is used and marked so.
 *  - ids: an entry without a guid gets a stable id from a hash of its link, or of its title
 *    and date.
 *
 * Threads: any thread; feed_parse_init() runs libxml2's one-time set-up under pthread_once and
 * every call makes it.
 */
#ifndef NEWSROOM_FEED_PARSE_H
#define NEWSROOM_FEED_PARSE_H

#include "feeds/feed_image.h"
#include "store/news_item.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The biggest document feed_parse() takes, whatever the fetch limit says. */
#define FEED_PARSE_MAX (64u * 1024 * 1024)

enum feed_format { FEED_RSS2, FEED_ATOM, FEED_RDF, FEED_RSS090 };

/* Where an item's published time came from. */
enum feed_date_kind {
    FEED_DATE_FEED,      /* a date and time with its zone, as the feed gave it */
    FEED_DATE_NO_ZONE,   /* the feed gave no zone (or no time): read as UTC */
    FEED_DATE_FIRST_SEEN /* no readable date: the time the entry was first seen */
};

/* What an item's text is. */
enum feed_text_kind {
    FEED_TEXT_FEED, /* the feed's own text */
    FEED_TEXT_FULL  /* the article's text, extracted from its page (fulltext.h) */
};

/* One entry of a feed: the news item and what the item itself cannot say. */
struct feed_entry {
    struct news_item *item;
    char *guid; /* the entry's own id as the feed wrote it (guid, Atom id, rdf:about), or NULL */
    enum feed_date_kind date;
    enum feed_text_kind text;
    char *fulltext; /* what full-text extraction did ("extracted", or why the feed's text was
                       kept), or NULL when it was not tried */
    /* The pictures it refers to (feed_image.h), in the order found: media:content (or, without
     * any, media:thumbnail), enclosures of an image type, itunes:image, Atom's
     * link rel="enclosure", <img> in its HTML; then the article page's og:image and
     * twitter:image when full text read the page. http(s) URLs; from a feed read from a file,
     * also file: URLs inside that file's folder (relative references resolve there). */
    struct feed_images images;
};

struct feed_doc {
    enum feed_format format;
    char *title;                /* the feed's own title, plain text, "" when none */
    struct feed_entry *entries; /* in document order */
    size_t nentries;
    size_t skipped;   /* entries that made no valid news item */
    char *first_skip; /* why the first of them was skipped, or NULL */
};

/* libxml2's process-wide set-up (parser init, the external entity loader that loads
 * nothing). Idempotent; feed_parse() calls it. */
void feed_parse_init(void);

/* Parses the len bytes at buf fetched from url (the base of relative links when it is
 * http(s), and the fallback source name: its host, or the file name for file:// URLs; may be
 * NULL). The encoding is what the document declares, its byte order mark shows, or its first
 * four bytes show (XML 1.0 appendix F: UTF-32 and UTF-16 without a mark too). now_ms is the
 * first-seen time given to entries without a readable date. Fills *out (release with
 * feed_doc_clear) and returns 0; returns -1 with *cause (a new string: empty, not XML, not
 * well-formed, wrong encoding, entity loop or amplification, not a feed and why) and *out
 * empty. No entry is produced unless the whole document parsed. */
int feed_parse(const char *buf, size_t len, const char *url, int64_t now_ms, struct feed_doc *out,
               char **cause);
void feed_doc_clear(struct feed_doc *d);
void feed_entry_clear(struct feed_entry *e);

/* What the first bytes of a document are. */
enum feed_sniff {
    FEED_SNIFF_EMPTY, /* nothing, or only white space */
    FEED_SNIFF_XML,   /* a byte order mark, or '<' first after white space in UTF-8, UTF-16 or
                         UTF-32 of either byte order */
    FEED_SNIFF_JSON,  /* '{' first after white space */
    FEED_SNIFF_OTHER  /* anything else */
};

/* Sniffs the first len bytes of a document (64 are plenty); *encoding (may be NULL) gets the
 * encoding the bytes show when libxml2 must be told it (UTF-16 or UTF-32 without a byte order
 * mark), else NULL. A static string. */
enum feed_sniff feed_sniff(const char *buf, size_t len, const char **encoding);

/* A date in any form the header lists as UTC ms, with where it came from (FEED_DATE_FEED or
 * FEED_DATE_NO_ZONE) in *kind (may be NULL). 0 or -1. */
int feed_parse_date(const char *s, int64_t *ms, enum feed_date_kind *kind);

/* What the entry carries beside its item, for the item's body: {"guid" (when known), "date":
 * "feed" | "no_zone" | "first_seen", "text": "feed" | "full", "fulltext" (when tried),
 * "images" (when any: feed_images_json())}. New reference. */
json_t *feed_entry_meta(const struct feed_entry *e);

#endif
