/*
 * feed_store.h - what the swarm keeps in Redis about its feed sources: one schedule every scout
 * shares (nr:feed:due, a sorted set of due times; claiming a source moves it to the end of a
 * lease, atomically, so two scouts never fetch one source at once; a scout still finishing a
 * poll extends its lease), one status hash per source (nr:feed:src:<source>: last fetch,
 * outcome, items, error, validators for conditional requests, consecutive failures, next
 * poll, items written and refused as duplicates), which `newsroom ctl sources` and a control
 * room read, and a folder's files (nr:feed:folder:<source>), each a source of its own with its
 * own status and validators. Keys are listed in docs/redis-keys.md.
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

#define FEED_DUE_KEY    "nr:feed:due"
#define FEED_FOLDER_KEY "nr:feed:folder:" /* + the folder's source */
#define FEED_SRC_KEY    "nr:feed:src:"    /* + the source */

/* Splits a comma-separated list ([feeds] sources or fulltext) into its trimmed, non-empty
 * words: *out is a new array of new strings (free with feed_store_strv_free). Returns how
 * many. */
size_t feed_store_split(const char *list, char ***out);
/* Whether source, or the folder it is a file of, is one of the n words ("*": every source). */
bool feed_store_listed(char *const *words, size_t n, const char *source);

/* The status hash of source. Returns a new string (free it). */
char *feed_store_key(const char *source);

/* Claims at most max of the n sources (and the files of those that are folders) that are due
 * (or new) for lease_ms. Returns the number claimed with *claimed (a new array of new strings;
 * free with feed_store_strv_free), or -1 with *cause. */
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
    bool folder;        /* the source is a folder ... */
    long files;         /* ... of this many files, each a source of its own */
    const char *by;     /* the agent that polled */
    int interval_ms;    /* the poll interval */
    int backoff_max_ms; /* the ceiling of the backoff after failures */
};

/* Records p for source and schedules its next poll (the interval, or the backoff after a
 * failure). 0 or -1 with *cause. */
int feed_store_done(struct rlink *l, const char *source, const struct feed_poll *p, char **cause);

/* Moves the leases of the n sources (claimed by the caller, polls not yet recorded) to
 * lease_ms from now. 0 or -1 with *cause. */
int feed_store_extend(struct rlink *l, const char *const *sources, size_t n, int lease_ms,
                      char **cause);
/* Gives a claimed source back unpolled: due at once (a scout stopping mid-poll). */
int feed_store_release(struct rlink *l, const char *source, char **cause);
/* Records the n files of folder (sources of their own); files gone from it leave the
 * schedule with their status. 0 or -1 with *cause. */
int feed_store_members(struct rlink *l, const char *folder, const char *const *files, size_t n,
                       char **cause);
/* The server's clock, ms. 0 or -1 with *cause. */
int feed_store_now(struct rlink *l, int64_t *ms, char **cause);
/* How many of the n sources (and their folders' files) are due and not polled since since_ms
 * (server clock): a poll recorded at or after since_ms counts, and a source whose next poll
 * is still to come is not due. *first (may be NULL) gets the first such source (a new string,
 * or NULL). Returns the count, or -1 with *cause. */
long feed_store_unpolled(struct rlink *l, const char *const *sources, size_t n, int64_t since_ms,
                         char **first, char **cause);

/* Counts one item of source written (or refused as a duplicate) on the blackboard. */
int feed_store_count(struct rlink *l, const char *source, bool duplicate, char **cause);

/* Every source in the schedule with its status, as a JSON array of objects (source, status,
 * error, items, skipped, files (-1 unless a folder), written, duplicates, failures,
 * last_fetch_ms, last_ok_ms, next_ms, due_ms, title, etag, last_modified, by), sorted by
 * source. New reference, or NULL with
 * *cause. */
json_t *feed_store_list(struct rlink *l, char **cause);

#endif
