/*
 * robots.h - robots.txt as RFC 9309 reads it, for the pages full-text extraction fetches: the
 * group of the most specific user-agent line that matches our product token (else "*"),
 * Allow and Disallow rules with "*" and "$", the longest matching rule deciding (Allow on a
 * tie), and Crawl-delay, which the fetcher honours as a floor under its per-host interval.
 * An unreadable or absent file (4xx) allows everything; a server error or no answer (5xx,
 * network) disallows everything until it is asked again, as the RFC says.
 *
 * Threads: any; a struct robots is immutable once parsed.
 */
#ifndef NEWSROOM_ROBOTS_H
#define NEWSROOM_ROBOTS_H

#include <stdbool.h>
#include <stddef.h>

/* The product token Newsroom's requests are matched by (User-agent lines). */
#define ROBOTS_AGENT "newsroom"

struct robots;

/* Parses len bytes of robots.txt (at most the first 500 KiB are read, as RFC 9309 allows) for
 * the agent ROBOTS_AGENT. Never fails; free with robots_free(). */
struct robots *robots_parse(const char *txt, size_t len);
/* Rules that allow everything (4xx) or nothing (5xx, unreachable). */
struct robots *robots_allow_all(void);
struct robots *robots_deny_all(void);
void robots_free(struct robots *r);

/* Whether path (path and query, as feed_url_path() gives it; percent-escapes compared as
 * written, after upper-casing their hex digits) may be fetched. */
bool robots_allowed(const struct robots *r, const char *path);
/* The group's Crawl-delay in ms, 0 when none (capped at a minute). */
int robots_crawl_delay_ms(const struct robots *r);

#endif
