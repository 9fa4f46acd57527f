/*
 * feed_store.h - what the swarm keeps in Redis about its feed sources: one schedule every scout
 * shares (nr:feed:due, a sorted set of due times; claiming a source moves it to the end of a
 * lease, atomically, so two scouts never fetch one source at once), and one status hash per
 * source (nr:feed:src:<source>: last fetch, outcome, items, error, validators for conditional
 * requests, consecutive failures, next poll, items written and refused as duplicates), which
 * `newsroom ctl sources` and a control room read. Keys are listed in docs/redis-keys.md.
 *
 * Threads: the thread that owns the link.
 */
#ifndef NEWSROOM_FEED_STORE_H
#define NEWSROOM_FEED_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rlink;

#define FEED_DUE_KEY "nr:feed:due"

/* The status hash of source. Returns a new string (free it). */
char *feed_store_key(const char *source);

/* Claims at most max of the n sources that are due (or new) for lease_ms. Returns the number
 * claimed with *claimed (a new array of new strings; free with feed_store_strv_free), or -1 with
 * *cause. */
int feed_store_claim(struct rlink *l, const char *const *sources, size_t n, int lease_ms,
                     size_t max, char ***claimed, char **cause);
void feed_store_strv_free(char **v, size_t n);

/* The validators kept for source: new strings or NULL when none. 0 or -1 with *cause. */
int feed_store_validators(struct rlink *l, const char *source, char **etag, char **last_modified,
                          char **cause);

/* One poll's outcome. */
struct feed_poll {
    const char *outcome; /* "ok", "not_modified" or "error" */
    const char *error;   /* the reason, for "error" */
    long items;          /* items parsed from the fetched document(s) */
    long skipped;        /* entries that made no item */
    const char *title;   /* the feed's title, or NULL */
    const char *etag;    /* validators to keep (NULL: leave as they are) */
    const char *last_modified;
    const char *by;     /* the agent that polled */
    int interval_ms;    /* the poll interval */
    int backoff_max_ms; /* the ceiling of the backoff after failures */
};

/* Records p for source and schedules its next poll (the interval, or the backoff after a
 * failure). 0 or -1 with *cause. */
int feed_store_done(struct rlink *l, const char *source, const struct feed_poll *p, char **cause);

/* Counts one item of source written (or refused as a duplicate) on the blackboard. */
int feed_store_count(struct rlink *l, const char *source, bool duplicate, char **cause);

/* Every source in the schedule with its status, as a JSON array of objects (source, status,
 * error, items, skipped, written, duplicates, failures, last_fetch_ms, last_ok_ms, next_ms,
 * due_ms, title, etag, last_modified, by), sorted by source. New reference, or NULL with
 * *cause. */
json_t *feed_store_list(struct rlink *l, char **cause);

#endif
