/*
 * feed_fetch.h - getting a feed's bytes: http:// and https:// with libcurl (timeouts, a bound
 * on redirects, a size limit that stops the transfer as soon as it is passed, compressed
 * transfer, conditional requests with ETag and Last-Modified), file:// URLs and plain paths
 * (a file, or a folder whose regular files are each a feed) from the file system with the
 * same size limit and a validator built from size and modification time.
 *
 * Threads: any; each call makes and frees its own CURL easy handle.
 */
#ifndef NEWSROOM_FEED_FETCH_H
#define NEWSROOM_FEED_FETCH_H

#include <stdbool.h>
#include <stddef.h>

struct feed_fetch_options {
    int timeout_ms;    /* the whole transfer */
    size_t max_bytes;  /* a body (or file) longer than this is refused */
    int max_redirects; /* redirects followed; one more is an error */
};

/* One document fetched. */
struct feed_body {
    char *url; /* where it came from (the final URL after redirects, or the file's path) */
    char *data;
    size_t len;
};

struct feed_response {
    long status;              /* HTTP status; 200 for files */
    bool not_modified;        /* 304, or files unchanged since the validator */
    struct feed_body *bodies; /* one for a URL or file, one per file for a folder */
    size_t nbodies;
    char *etag;          /* the validator to send next time, or NULL */
    char *last_modified; /* likewise */
};

/* Fetches source (a URL or a path) sending etag / last_modified (either may be NULL) as
 * If-None-Match / If-Modified-Since. Returns 0 with *out filled (release with
 * feed_response_clear): a 2xx with bodies, or not_modified. Returns -1 with *cause (a new
 * string naming the reason: an HTTP status, too big, too many redirects, a timeout, a
 * connection error, an unreadable file) and *out empty. */
int feed_fetch(const char *source, const char *etag, const char *last_modified,
               const struct feed_fetch_options *o, struct feed_response *out, char **cause);
void feed_response_clear(struct feed_response *r);

/* Whether source names the file system (file:// or a path) rather than HTTP. */
bool feed_source_is_file(const char *source);

#endif
