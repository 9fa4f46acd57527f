/*
 * fake_feed.h - a local feed server for the feed tests: libmicrohttpd on 127.0.0.1, a port the
 * kernel picks. Paths:
 *   /feed.xml      the feed set by fake_feed_set(), with its ETag and Last-Modified; 304 on a
 *                  matching If-None-Match or an equal If-Modified-Since
 *   /big           50 MB with a declared Content-Length
 *   /big-chunked   50 MB without one (chunked)
 *   /hop/N         a redirect to /hop/N-1; /hop/0 redirects to /feed.xml
 *   routes         any path given to fake_feed_route(): a status, a content type and a body,
 *                  after a delay or held until released (a hanging host)
 * Everything else is 404. It counts requests (all, and per route), 304 answers, bytes of the
 * big bodies sent, and the most requests it was answering at once.
 *
 * Threads: the server answers on its own threads; everything else takes its mutex.
 */
#ifndef NEWSROOM_FAKE_FEED_H
#define NEWSROOM_FAKE_FEED_H

#include <stddef.h>

struct fake_feed;

/* Starts a server; aborts the test program if it cannot. */
struct fake_feed *fake_feed_start(void);
void fake_feed_stop(struct fake_feed *f);
/* "http://127.0.0.1:PORT", owned by f. */
const char *fake_feed_base(const struct fake_feed *f);
/* The body /feed.xml serves (copied) with its validators. */
void fake_feed_set(struct fake_feed *f, const char *body, size_t len, const char *etag,
                   const char *last_modified);
int fake_feed_requests(struct fake_feed *f);
int fake_feed_not_modified(struct fake_feed *f);
/* Bytes of /big and /big-chunked handed to the network so far. */
long long fake_feed_big_sent(struct fake_feed *f);

/* Serves len bytes of body (copied) at path with status and Content-Type type (NULL: none),
 * after delay_ms, or, with delay_ms -1, only once fake_feed_release() is called (or the server
 * stops). Replaces an earlier route of the same path. */
void fake_feed_route(struct fake_feed *f, const char *path, unsigned status, const char *type,
                     const char *body, size_t len, int delay_ms);
/* Requests that reached path's route so far. */
int fake_feed_hits(struct fake_feed *f, const char *path);
/* Lets every held request go (answered as its route says). */
void fake_feed_release(struct fake_feed *f);
/* The most requests being answered at once so far, and now. */
int fake_feed_max_active(struct fake_feed *f);
int fake_feed_active(struct fake_feed *f);

#endif
