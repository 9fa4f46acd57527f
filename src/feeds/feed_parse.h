/*
 * feed_parse.h - RSS 2.0, Atom 1.0 and RSS 1.0 (RDF) documents turned into news items, with
 * libxml2. The parse never touches the network or the file system (XML_PARSE_NONET, no DTD
 * loading, external entities refused by a loader that loads nothing), never substitutes
 * entities itself (no XML_PARSE_NOENT, XML_PARSE_HUGE off) and bounds what an internal entity
 * may expand to while text is read. Titles and summaries are reduced to plain text through
 * libxml2's HTML parser (entities decoded, tags dropped, white space collapsed); dates in RFC
 * 822 or ISO 8601 become UTC milliseconds; links are resolved against the feed's URL and
 * xml:base; an entry without a guid gets a stable id from a hash of its link, or of its title
 * and date.
 *
 * Threads: any thread; feed_parse_init() runs libxml2's one-time set-up under pthread_once and
 * every call makes it.
 */
#ifndef NEWSROOM_FEED_PARSE_H
#define NEWSROOM_FEED_PARSE_H

#include "store/news_item.h"

#include <stdbool.h>
#include <stddef.h>

/* The biggest document feed_parse() takes, whatever the fetch limit says. */
#define FEED_PARSE_MAX (64u * 1024 * 1024)

enum feed_format { FEED_RSS2, FEED_ATOM, FEED_RDF };

struct feed_doc {
    enum feed_format format;
    char *title;              /* the feed's own title, plain text, "" when none */
    struct news_item **items; /* in document order */
    size_t nitems;
    size_t skipped;   /* entries that made no valid news item */
    char *first_skip; /* why the first of them was skipped, or NULL */
};

/* libxml2's process-wide set-up (parser init, the external entity loader that loads
 * nothing). Idempotent; feed_parse() calls it. */
void feed_parse_init(void);

/* Parses the len bytes at buf (any encoding the document declares or its byte order mark
 * shows) fetched from url (the base of relative links and the fallback source name: its host,
 * or the file name for file:// URLs; may be NULL). Fills *out (release with feed_doc_clear)
 * and returns 0; returns -1 with *cause (a new string: not XML, not well-formed, wrong
 * encoding, entity loop or amplification, not a feed) and *out empty. No item is produced
 * unless the whole document parsed. */
int feed_parse(const char *buf, size_t len, const char *url, struct feed_doc *out, char **cause);
void feed_doc_clear(struct feed_doc *d);

/* Whether the bytes look like an XML document (a byte order mark or '<' first after white
 * space) rather than JSON Lines. */
bool feed_sniff(const char *buf, size_t len);

/* A date in RFC 822 ("Tue, 10 Jun 2003 04:00:00 GMT", zone names or numeric offsets) or ISO
 * 8601 / RFC 3339 ("2003-06-10T04:00:00Z", "2003-06-10") as UTC ms. 0 or -1. */
int feed_parse_date(const char *s, int64_t *ms);

/* HTML (or plain text) reduced to plain text: tags dropped, entities decoded, script and style
 * dropped, control characters and runs of white space made one space, trimmed, at most max
 * bytes (cut on a UTF-8 boundary). Returns a new string (free it). */
char *feed_html_text(const char *html, size_t max);

#endif
