/*
 * wire.h - the wire simulator: a deterministic stream of plausible synthetic news stories
 * across topics (politics, business, science, weather, sport, tech, health), so a swarm has
 * something to work on without a network. Story n of a seed is always the same story: about
 * 5% are exact duplicates of an earlier story (same title and body, another id) and about
 * 15% are weak (short and vague); the rest have a title and a body of several sentences with
 * figures and named sources, and about 2% of those are flagged breaking ("breaking": true).
 *
 * Threads: wire_story() is pure and safe from any thread. A struct wire is the swarm's one
 * shared stream: wire_take() may be called from any thread (a mutex guards the position and
 * the rate clock).
 */
#ifndef NEWSROOM_WIRE_H
#define NEWSROOM_WIRE_H

#include "store/news_item.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum wire_kind { WIRE_NORMAL, WIRE_WEAK, WIRE_DUPLICATE };

/* "normal", "weak", "duplicate". */
const char *wire_kind_name(enum wire_kind k);

/* Story n (from 0) of seed as a news item JSON object that news_item_from_json() accepts
 * (id, title, content, source, url, published, topics; breaking when flagged). *kind (may be NULL)
 * receives what it is; for a duplicate, *dup_of (may be NULL) the number of the story it repeats,
 * else -1. New reference. */
json_t *wire_story(uint64_t seed, long n, enum wire_kind *kind, long *dup_of);

struct wire_options {
    uint64_t seed;
    double rate_per_s; /* stories per second handed out; <= 0: as fast as they are taken */
    long limit;        /* stories in all; <= 0: endless */
};

struct wire;

/* A stream from o (copied); the rate clock starts now. Free with wire_free(). */
struct wire *wire_new(const struct wire_options *o);
void wire_free(struct wire *w);

/* The next story if one is due: 1 with *out (free with news_item_free), 0 when none is due
 * yet, -1 when the stream has ended (limit reached). */
int wire_take(struct wire *w, struct news_item **out);
/* Whether the stream has ended. */
bool wire_done(struct wire *w);

#endif
