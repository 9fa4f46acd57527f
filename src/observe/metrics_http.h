/*
 * metrics_http.h - the process's /metrics endpoint: a libmicrohttpd server on one address
 * (HOST:PORT from [observe] metrics or --metrics) answering GET /metrics with the text
 * exposition format (Content-Type text/plain; version=0.0.4): the registry's series
 * (metrics.h), then every collector's families, read at scrape time (collect.h). Anything but
 * GET or HEAD of /metrics gets 404 or 405.
 *
 * Threads: one server thread of its own runs libmicrohttpd's loop and the collectors, and owns
 * the Redis link they read through (made on that thread, freed there). Collectors are added
 * before metrics_http_start(); their arguments must stay valid until metrics_http_stop().
 */
#ifndef NEWSROOM_METRICS_HTTP_H
#define NEWSROOM_METRICS_HTTP_H

#include "store/redis_url.h"
#include "store/rlink.h"

#include <stdbool.h>
#include <stdint.h>

struct metrics;
struct metrics_text;

/* Writes families into out at scrape time; l is the server thread's link (NULL when the
 * server has no Redis address), arg what was given to metrics_http_add(). */
typedef void (*metrics_collector)(struct metrics_text *out, struct rlink *l, void *arg);

/* "HOST:PORT" or "[IPv6]:PORT" into host and port (0 to 65535; 0: any free port). Returns 0,
 * or -1 with *why. Also the configuration's check of [observe] metrics. */
int metrics_listen_parse(const char *listen, char *host, size_t size, int *port, char **why);
int metrics_listen_check(const char *listen, char **why);

struct metrics_http;

/* A server for listen over registry m (borrowed), reading Redis at addr with link options lo
 * (both copied; addr NULL: no Redis). Returns NULL with *cause for a bad address. Free with
 * metrics_http_free(). */
struct metrics_http *metrics_http_new(const char *listen, struct metrics *m,
                                      const struct redis_addr *addr, const struct rlink_options *lo,
                                      char **cause);
void metrics_http_add(struct metrics_http *h, metrics_collector fn, void *arg);
/* Binds and starts the server thread. 0, or -1 with *cause (the address in use, ...). */
int metrics_http_start(struct metrics_http *h, char **cause);
/* The port it listens on (the one the kernel picked for port 0). */
int metrics_http_port(const struct metrics_http *h);
/* Scrapes served so far, and the CPU time of the server thread (collectors included) so far,
 * in microseconds. */
long metrics_http_scrapes(const struct metrics_http *h);
int64_t metrics_http_cpu_us(const struct metrics_http *h);
void metrics_http_stop(struct metrics_http *h);
void metrics_http_free(struct metrics_http *h);

#endif
