/*
 * feed_fetch.h - getting the bytes of feeds, article pages and robots.txt files:
 *  - over http:// and https:// as libcurl easy handles that the fetcher pool (feed_pool.h)
 *    drives in its multi handle: a time limit for the whole transfer, a bound on redirects
 *    (http and https only), a size limit that stops the transfer as soon as it is passed (a
 *    declared length over it is refused before the body is read), compressed transfer,
 *    conditional requests with ETag and Last-Modified; a page must answer text/html;
 *  - from the file system (file:// URLs and plain paths) with the same size limit and a
 *    validator built from size and modification time; a folder is read as the list of its
 *    files, each of which is a source of its own.
 *
 * Threads: a transfer belongs to the thread that made it (it owns a CURL easy handle); file
 * functions run on any thread. feed_fetch_init() runs curl_global_init once.
 */
#ifndef NEWSROOM_FEED_FETCH_H
#define NEWSROOM_FEED_FETCH_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

struct feed_fetch_options {
    int timeout_ms;    /* the whole transfer */
    size_t max_bytes;  /* a body (or file) longer than this is refused */
    int max_redirects; /* redirects followed; one more is an error */
};

/* What is fetched: what it is checked as and which headers go with it. */
enum feed_fetch_kind {
    FEED_FETCH_FEED,   /* a feed: conditional, any content type */
    FEED_FETCH_PAGE,   /* an article page: text/html or application/xhtml+xml only */
    FEED_FETCH_ROBOTS, /* a robots.txt: every status is an answer (the caller reads it) */
    FEED_FETCH_MEDIA   /* a picture or a clip (media/image.h): any content type, the caller
                          checks the bytes themselves */
};

/* One answer. */
struct feed_answer {
    long status;       /* HTTP status; 200 for files */
    bool not_modified; /* 304, or a file unchanged since its validator */
    char *url;         /* the final URL after redirects, or the file's file:// URL */
    char *data;        /* the body, NUL-terminated, or NULL */
    size_t len;
    char *etag;          /* the validator to send next time, or NULL */
    char *last_modified; /* likewise */
    char *charset;       /* from Content-Type, or NULL */
    char **members;      /* a folder: its regular files as sources, sorted */
    size_t nmembers;
    bool host_fault; /* a failed transfer the host is to blame for (no answer, a timeout,
                        a connection error, 5xx, 429): what a per-host breaker counts */
};
void feed_answer_clear(struct feed_answer *a);

/* curl_global_init, once per process. */
void feed_fetch_init(void);

struct feed_transfer;

/* A request for url of kind, sending etag / last_modified (either may be NULL) as
 * If-None-Match / If-Modified-Since. Free with feed_transfer_free(). */
struct feed_transfer *feed_transfer_new(enum feed_fetch_kind kind, const char *url,
                                        const char *etag, const char *last_modified,
                                        const struct feed_fetch_options *o);
/* Its easy handle (borrowed): add it to a multi handle; CURLOPT_PRIVATE is the caller's. */
CURL *feed_transfer_easy(struct feed_transfer *t);
/* Reads the outcome once libcurl is done with it (rc from CURLMSG_DONE). Returns 0 with *out
 * filled (release with feed_answer_clear): a 2xx with its body, a 304 as not_modified, and for
 * robots.txt any status (host_fault set for 5xx and 429). Returns -1 with *cause (a new string
 * naming the reason: an HTTP status, too big, too many redirects, no answer in time, a
 * connection error, not HTML) and *out empty but for status and host_fault. */
int feed_transfer_finish(struct feed_transfer *t, CURLcode rc, struct feed_answer *out,
                         char **cause);
/* Frees the transfer and its easy handle (remove it from its multi handle first). */
void feed_transfer_free(struct feed_transfer *t);

/* Whether source names the file system (file:// or a path) rather than HTTP. */
bool feed_source_is_file(const char *source);

/* Reads a file source (at most max bytes; a longer file is refused without being read): not
 * modified when its size-and-time validator equals etag, else its bytes; a folder gives the
 * list of its regular files (hidden ones left out, at most 1,000) as sources of their own
 * (source "/" name). 0 with *out, or -1 with *cause. */
int feed_file_fetch(const char *source, const char *etag, size_t max, struct feed_answer *out,
                    char **cause);

#endif
