/*
 * fulltext.h - the article's own text out of its web page, for items whose feed carries only
 * a summary: libxml2's HTML parser, then a readability-style scoring of the page's blocks (the
 * Arc90 readability algorithm that Mozilla's Readability.js and Miniflux's "fetch original
 * content" descend from):
 *  - boilerplate out first: script, style and their kind, nav, aside, header, footer, forms
 *    and dialogs, hidden elements, ARIA landmarks that are not content, and elements whose
 *    class or id names boilerplate (comments, share, social, ad, sponsor, cookie, consent,
 *    newsletter, related, promo, sidebar, menu, ...) unless it also names content (article,
 *    body, content, entry, post, story, main, text);
 *  - every paragraph of 25 characters or more scores 1, plus its commas, plus one per 100
 *    characters (at most 3), for its parent (whole) and grandparent (half) and further
 *    ancestors (less);
 *  - a block's score starts from its element (div +5, pre/td/blockquote +3, lists and forms
 *    -3, headings -5) and its class and id (+25 for content names, -25 for boilerplate), and
 *    is scaled by 1 - its link density (the share of its text inside links);
 *  - the best block is the article, with those of its siblings that score at least a fifth of
 *    it, or are paragraphs of prose; inside, blocks that look like boilerplate by class, link
 *    density or text density (little text per element) are dropped.
 * The text is the article's paragraphs, subheadings, list items and quotes, one per paragraph,
 * separated by blank lines.
 *
 * Threads: any; no state (libxml2's set-up is feed_parse_init()'s).
 */
#ifndef NEWSROOM_FULLTEXT_H
#define NEWSROOM_FULLTEXT_H

#include <stddef.h>

/* Fewer words than this is no article (a page of links, an error page, a paywall stub). */
#define FULLTEXT_MIN_WORDS 40

/* Extracts the article of len bytes of HTML: charset is the answer's (Content-Type) or NULL
 * (the page's own <meta>, else UTF-8). Returns 0 with *text (a new string, paragraphs
 * separated by "\n\n", at most max bytes) and *words, or -1 with *cause (a new string: not
 * HTML, no block of text, too few words). */
int fulltext_extract(const char *html, size_t len, const char *charset, size_t max, char **text,
                     size_t *words, char **cause);

#endif
