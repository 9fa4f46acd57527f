/*
 * feed_pool.h - the fetcher pool: one thread that fetches, parses and completes feeds for
 * every scout of a process (and for `ctl ingest`), so no fetch ever blocks a caller. A caller
 * submits a job (a source with its validators) and later takes events for it without
 * waiting: the items of the feed, each ready for the blackboard, then one "done" event with
 * the poll's outcome and the validators to keep, which the caller stores only once it has
 * written every item before it (so an item is never lost to a validator saved too early).
 *
 * Inside, one libcurl multi handle runs every transfer: feeds, article pages and robots.txt
 * files. Per host (scheme, host and port) at most host_connections transfers run at once, and
 * pages and robots.txt files are spaced page_interval_ms apart (or by the host's
 * Crawl-delay, if longer); a slow or hanging host holds only its own queue. Files and
 * folders are read on the pool's thread too. An item whose text has fewer than
 * fulltext_min_words words, from a job asking for full text, waits while its link is checked
 * against the host's robots.txt (fetched once and kept robots_ttl_s) and fetched as an HTML
 * page, and its text is replaced by the article extracted from it (fulltext.h) when that has
 * more words; otherwise it keeps the feed's text, and the entry says why. A page that was read
 * adds its og:image and twitter:image to the entry's pictures (feed_image.h), whatever became of
 * its text.
 *
 * The per-host circuit breaker plugs in here (breaker_for("feed", origin), which
 * feed_pool_options_from_config() sets):
 * host_allow is asked before every transfer to a host, as breaker_allow() is (a refusal fails
 * that request with the reason given, and nothing is sent; a pass may be a half-open trial),
 * and host_report hears the outcome of every transfer it let through, as breaker_success() and
 * breaker_failure() want it: a failure only when the host is to blame (no answer, a timeout,
 * a connection error, 5xx, 429). Both run on the pool's thread and must not block.
 *
 * Threads: the pool's own thread owns the multi handle, every easy handle, the host table and
 * the jobs in progress; callers' threads touch only the submission list, the cancellations
 * and the event queues, under the pool's mutex, and wake the pool with curl_multi_wakeup().
 * A cancel or a free returns at once: transfers in flight are cut, never waited for.
 */
#ifndef NEWSROOM_FEED_POOL_H
#define NEWSROOM_FEED_POOL_H

#include "feeds/feed_fetch.h"
#include "feeds/feed_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

struct feed_pool_options {
    int host_connections;   /* transfers at once to one host (>= 1) */
    int page_interval_ms;   /* between two page or robots.txt requests to one host */
    int robots_ttl_s;       /* how long a host's robots.txt is kept */
    int fulltext_min_words; /* an item's text below this many words is a summary */
    /* The per-host breaker, or NULL: may transfers go to origin ("https://host:port") now?
     * false with *why (a new string) refuses them. */
    bool (*host_allow)(void *ctx, const char *origin, char **why);
    /* Every transfer's outcome: ok, or (the host's fault) why (borrowed). */
    void (*host_report)(void *ctx, const char *origin, bool ok, const char *why);
    void *host_ctx;
};

/* The options from [feeds] (host_connections, fulltext_host_interval_ms, robots_ttl_s,
 * fulltext_min_words), with each host's circuit breaker (breaker_for("feed", origin)) as the
 * host hooks. */
void feed_pool_options_from_config(struct feed_pool_options *o, const struct config *cfg);

/* One poll of one source. Strings are copied. */
struct feed_job {
    const char *source; /* a URL or path, as configured (or a folder's member) */
    const char *etag;   /* validators kept from the last poll, or NULL */
    const char *last_modified;
    struct feed_fetch_options fetch; /* for the feed and for its articles' pages */
    bool fulltext;                   /* fetch the article of items with a summary */
    const char *data;                /* the document itself, when it is not to be fetched */
    size_t len;
};

enum feed_event_kind { FEED_EVENT_ITEM, FEED_EVENT_DONE };

/* What a job gives its caller: its items, then one done. */
struct feed_event {
    enum feed_event_kind kind;
    char *source; /* the job's source */
    /* FEED_EVENT_ITEM */
    struct feed_entry entry;
    /* FEED_EVENT_DONE */
    const char *outcome; /* "ok", "not_modified" or "error" (static) */
    char *error;         /* why, for "error" */
    long items;          /* items parsed */
    long skipped;        /* entries that made no item */
    char *title;         /* the feed's title, or NULL */
    char *etag;          /* the validators to keep once every item is written, or NULL */
    char *last_modified;
    char **members; /* a folder: its files, each a source of its own; NULL otherwise */
    size_t nmembers;
    long fulltext_tried; /* items whose article was looked for */
    long fulltext_used;  /* of them, those that now carry the article's text */
};
void feed_event_free(struct feed_event *e);

struct feed_pool;

/* Starts a pool and its thread. Free with feed_pool_free(). */
struct feed_pool *feed_pool_new(const struct feed_pool_options *o);
/* Stops the thread (cutting whatever is in flight), drops every job and event. NULL: no-op. */
void feed_pool_free(struct feed_pool *p);

/* The process's pool, shared by every scout in it: made on the first acquire with o, freed
 * when the last holder releases it. */
struct feed_pool *feed_pool_acquire(const struct feed_pool_options *o);
void feed_pool_release(struct feed_pool *p);

/* Queues a job for owner (any value the caller alone uses, e.g. its address). At once. */
void feed_pool_submit(struct feed_pool *p, uintptr_t owner, const struct feed_job *j);
/* owner's next event, or NULL at once when there is none. Free with feed_event_free(). */
struct feed_event *feed_pool_take(struct feed_pool *p, uintptr_t owner);
/* The same, waiting up to timeout_ms for one. */
struct feed_event *feed_pool_wait(struct feed_pool *p, uintptr_t owner, int timeout_ms);
/* Drops owner's jobs (cutting their transfers) and events. At once. */
void feed_pool_cancel(struct feed_pool *p, uintptr_t owner);

/* What the pool has done, for tests and benchmarks. */
struct feed_pool_counts {
    long feeds;         /* feed transfers finished (any outcome) */
    long pages;         /* page transfers finished */
    long robots;        /* robots.txt transfers finished */
    long robots_denied; /* pages not fetched because robots.txt disallows them */
    long refused;       /* requests host_allow refused */
};
void feed_pool_counts(struct feed_pool *p, struct feed_pool_counts *out);

#endif
