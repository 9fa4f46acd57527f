/*
 * feed_url.h - the URLs of feeds and their articles, read as RFC 3986 says and never decoded:
 * reference resolution (a relative link against its base, section 5.2) that keeps every
 * percent-escape as written (so "a%2Fb" stays one path segment, as feedparser and browsers
 * keep it), the origin that per-host limits are counted by, and the path robots.txt rules
 * match. Pure functions; any thread.
 */
#ifndef NEWSROOM_FEED_URL_H
#define NEWSROOM_FEED_URL_H

#include <stdbool.h>

/* ref resolved against base (RFC 3986 5.2: merge, remove dot segments), or ref itself when it
 * is absolute. base may be NULL (then only an absolute ref resolves). Percent-escapes are kept;
 * bytes a URL cannot hold (controls, space, non-ASCII, and " < > \ ^ ` { | }) are escaped as
 * browsers do; the scheme is lower-cased; leading and trailing white space is dropped. Returns a
 * new string (free it), or NULL when nothing absolute results or ref is empty. */
char *feed_url_resolve(const char *base, const char *ref);

/* Whether url is an http:// or https:// URL with a host. */
bool feed_url_is_http(const char *url);

/* The origin of an http(s) URL, "scheme://host[:port]" in lower case with the default port
 * left out: what per-host limits and robots.txt are kept by. A new string, or NULL when url is
 * not http(s). */
char *feed_url_origin(const char *url);

/* The host of an http(s) URL in lower case, without port, or NULL. A new string. */
char *feed_url_host(const char *url);

/* The path and query of an http(s) URL ("/" when the path is empty), fragment dropped: what
 * robots.txt rules are matched against. A new string, or NULL when url is not http(s). */
char *feed_url_path(const char *url);

#endif
