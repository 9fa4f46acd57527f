/*
 * observe.h - one process's observability, as `newsroom` and `newsroom swarm` run it: the
 * trace exporter ([observe] tracing: to Langfuse with keys, else to the JSON Lines file), the
 * Prometheus registry and, with a metrics address, the /metrics server with its collectors
 * (the Redis readings, the exporter's own counts, the swarm's counters, the control room's
 * ring), all installed for the agents' tracing calls (trace.h) before the agents start.
 *
 * Order: observe_start(), then start the agents and observe_set_swarm(); at the end stop the
 * agents, observe_set_swarm(NULL), observe_stop() (which delivers what is queued), then free
 * the swarm.
 *
 * Threads: start, stop and the setters from the owning (main) thread; the collectors read
 * the swarm and room pointers atomically on the metrics thread.
 */
#ifndef NEWSROOM_OBSERVE_H
#define NEWSROOM_OBSERVE_H

#include "store/redis_url.h"
#include "store/rlink.h"

#include <stdbool.h>
#include <stdint.h>

struct config;
struct room;
struct swarm;
struct tracer;
struct metrics;

struct observe_options {
    const struct config *cfg;      /* borrowed: must outlive the observe */
    const char *data_dir;          /* where the JSON Lines file goes by default */
    const struct redis_addr *addr; /* copied; NULL: no Redis (no ctl trace copy, no readings) */
    const struct rlink_options *link;
    const char *metrics; /* the /metrics address, over [observe] metrics; NULL: the key */
    bool no_tracing;     /* no exporter whatever [observe] tracing says (no agents here) */
};

struct observe;

/* Starts what the configuration asks for and installs it. Returns NULL with *cause when it
 * cannot (a bad metrics address or one in use, a bad Langfuse host): a configuration error. */
struct observe *observe_start(const struct observe_options *o, char **cause);
/* The swarm (or room) whose counters /metrics shows; NULL before they are freed. */
void observe_set_swarm(struct observe *ob, struct swarm *s);
void observe_set_room(struct observe *ob, struct room *r);
/* The exporter and the registry (NULL when off), and the metrics port (0 when off). */
struct tracer *observe_tracer(struct observe *ob);
struct metrics *observe_metrics(struct observe *ob);
int observe_metrics_port(const struct observe *ob);
/* CPU time the metrics server's thread has used so far (scrapes and their Redis readings), in
 * microseconds; 0 when off. */
int64_t observe_metrics_cpu_us(const struct observe *ob);
/* Uninstalls, stops the server, delivers what the exporter holds (up to its drain time), and
 * frees everything. NULL is a no-op. */
void observe_stop(struct observe *ob);

#endif
