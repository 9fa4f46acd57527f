/*
 * news_item.h - a news item as the swarm receives it: id, title, content, source, url,
 * published time, topics, and a content hash of the normalised title and body (case, white
 * space and punctuation folded). Pure data and functions; safe from any thread.
 *
 * Story identity: an item is identified by its source's identity, the id it came with (a
 * feed's guid or id), else its link (id "u-" and 16 hex digits of the URL's SHA-256), else its
 * content (id "n-" and the first 16 hex digits of the content hash). The same identity again
 * is the same story (unchanged, or updated at source); exact duplicates by content hash are
 * looked for only among items identified by their content (blackboard.h, bb_write).
 */
#ifndef NEWSROOM_NEWS_ITEM_H
#define NEWSROOM_NEWS_ITEM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NEWS_ID_MAX      128
#define NEWS_TITLE_MAX   1024
#define NEWS_CONTENT_MAX (1024 * 1024)
#define NEWS_URL_MAX     4096
#define NEWS_TOPICS_MAX  64

struct news_item {
    char id[NEWS_ID_MAX + 1]; /* [A-Za-z0-9._:-]; from the url or the hash when not given */
    char *title;
    char *content;
    char *source;
    char *url;            /* "" when none */
    int64_t published_ms; /* UTC milliseconds; 0 when unknown */
    char **topics;
    size_t ntopics;
    char hash[65]; /* hex SHA-256 of the normalised title and content */
    bool breaking; /* flagged breaking by its source: it goes before everything (blackboard.h) */
};

/* Builds an item from a JSON object (borrowed):
 *   {"id": str?, "title": str, "content": str, "source": str, "url": str?,
 *    "published": "RFC 3339 time" | integer ms?, "topics": [str]?, "breaking": bool?}
 * Refuses, with *cause naming the field and what is wrong: a missing or empty title, content
 * or source; a value of the wrong type; an unknown field; text over the size limits; control
 * characters (other than tab and newline in the content); a bad id or time. Returns the item
 * (free with news_item_free) or NULL. */
struct news_item *news_item_from_json(const json_t *obj, char **cause);

/* Whether the item is identified by its source (an id given, or a link) rather than by its
 * content (an id made from the content hash). */
bool news_item_has_identity(const struct news_item *item);

/* The item as a JSON object with every field, hash included ("breaking" only when it is
 * flagged). New reference. */
json_t *news_item_to_json(const struct news_item *item);

void news_item_free(struct news_item *item);

/* Writes the folded form used for the hash: lower case ASCII, punctuation dropped, runs of
 * white space made one space, trimmed. Returns a new string (free it). */
char *news_normalise(const char *text);

/* news_normalise() of the first n bytes of text into out (room for n + 1 bytes; a character
 * cut by n is left out). Returns the folded length. No allocation. */
size_t news_normalise_into(const char *text, size_t n, char *out);

/* Hex SHA-256 of normalise(title) "\n" normalise(content) into out (65 bytes). */
void news_content_hash(const char *title, const char *content, char out[65]);

/* Parses an RFC 3339 / ISO 8601 UTC time ("2026-11-28T10:00:00Z", with optional fraction and
 * numeric offset) into milliseconds. Returns 0 or -1. */
int news_parse_time(const char *s, int64_t *ms);

#endif
