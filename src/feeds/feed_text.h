/*
 * feed_text.h - plain text out of what feeds and article pages hold: a bounded text buffer,
 * the walk of an XML or HTML tree that keeps block elements apart and leaves script, style
 * and their kind out (following internal entity references within a byte and node budget, so
 * an entity bomb ends at the budget), HTML reduced to text through libxml2's HTML parser, and
 * the one cleaning every text gets: C1 characters read as Windows-1252 (as browsers read
 * ISO-8859-1 and &#128;-&#159;), control characters and runs of white space made one space,
 * trimmed, cut on a UTF-8 boundary.
 *
 * Threads: any; no state (libxml2's set-up is feed_parse_init()'s).
 */
#ifndef NEWSROOM_FEED_TEXT_H
#define NEWSROOM_FEED_TEXT_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

/* What one field's text may grow to while it is gathered, and how many nodes a walk visits:
 * the bound on entity expansion and on hostile markup. */
#define FEED_TEXT_BUDGET       (2u * 1024 * 1024)
#define FEED_TEXT_NODE_BUDGET  200000
#define FEED_TEXT_ENTITY_DEPTH 8

/* A growing string with a hard cap: text past the cap is dropped (never half a UTF-8
 * character) and remembered in full. */
struct feed_sbuf {
    char *s;
    size_t len, cap, max;
    long nodes; /* nodes visited by walks into it */
    bool full;
};

void feed_sbuf_add(struct feed_sbuf *b, const char *s, size_t n);
void feed_sbuf_adds(struct feed_sbuf *b, const char *s);
/* The text so far as a new string ("" when none); the buffer is empty afterwards. */
char *feed_sbuf_take(struct feed_sbuf *b);

/* Whether element name (any case) never holds readable text: script, style, noscript,
 * template, head, iframe, object, embed, svg, math, select, textarea, button. */
bool feed_text_dropped(const char *name);
/* Whether element name (any case) separates text: paragraphs, headings, list items, table
 * cells, line breaks and the sectioning elements. */
bool feed_text_block(const char *name);

/* Appends the text under node's children to b: text and CDATA, elements' text with a space
 * around block elements, dropped elements left out; with doc, internal entities' replacement
 * text (external ones never), at most FEED_TEXT_ENTITY_DEPTH deep. Stops at b's cap or the
 * node budget. raw: every element's text, none dropped and no spaces added (the text of a
 * field that holds escaped markup). */
void feed_text_walk(xmlDocPtr doc, xmlNodePtr node, struct feed_sbuf *b, bool raw);

/* HTML (or plain text) reduced to plain text: tags dropped, entities decoded, block elements
 * kept apart, dropped elements left out, then cleaned as feed_clean_text(). Returns a new
 * string (free it). */
char *feed_html_text(const char *html, size_t max);

/* s cleaned: C1 characters as Windows-1252, control characters (C0, DEL, undefined C1) and
 * white space (no-break space too) made one space, trimmed, at most max bytes cut on a UTF-8
 * boundary. Returns a new string (free it). */
char *feed_clean_text(const char *s, size_t max);

/* Words in s: runs of characters between white space, and each Han, kana or Hangul character
 * (scripts written without spaces between words). */
size_t feed_word_count(const char *s);

#endif
