/*
 * tracer.h - the exporter of trace events: a bounded queue that agent threads push finished
 * events into (never waiting: when it is full the oldest events are dropped and counted) and
 * one background thread that takes them out in batches (by count, by bytes under Langfuse's
 * 3.5 MB, and at least every flush_ms) and delivers each batch:
 *
 *   - with both Langfuse keys: POST {host}/api/public/ingestion (langfuse.h), retrying network
 *     errors, timeouts, 429 (waiting its Retry-After) and 5xx with exponential backoff and
 *     jitter up to `retries` attempts, then dropping the batch (counted); 200/201/207 count as
 *     delivered and every entry of a 207's "errors" list is logged; any other status drops the
 *     batch (counted, logged once per batch);
 *   - without keys: one line {"batch": [...]} appended to a JSON Lines file, ready for
 *     `newsroom ctl traces replay FILE`.
 *
 * Before delivering, the thread also keeps a copy of each batch's events per story in Redis
 * (trace_store.h) for `newsroom ctl trace`, when it was given an address. At start it checks
 * GET /api/public/health and says in the log whether tracing works; that state, and the
 * counts, go to Redis (TRACE_STATUS_KEY) for control rooms every few seconds.
 *
 * Memory: at most queue_max events and queue_max_bytes bytes of JSON wait, plus the one batch
 * in flight (at most LANGFUSE_BATCH_LIMIT bytes).
 *
 * Threads: tracer_push() and tracer_stats() from any thread (one mutex, held for a few
 * pointer moves); new/start/stop/free from the owning thread. The exporter thread owns its
 * Redis link and its HTTP handle.
 */
#ifndef NEWSROOM_TRACER_H
#define NEWSROOM_TRACER_H

#include "store/redis_url.h"
#include "store/rlink.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct jsonw_span;

struct tracer_options {
    const char *host;       /* Langfuse base URL */
    const char *public_key; /* both keys set: Langfuse; else the file */
    const char *secret_key;
    const char *file; /* the JSON Lines file (used without keys) */
    size_t queue_max, queue_max_bytes, batch_max;
    int flush_ms, timeout_ms, retries;
    int retry_base_ms, retry_max_ms; /* 0: 250 and 30000 */
    int drain_ms;                    /* at stop, how long to go on delivering; 0: 5000 */
    /* Where to keep each story's events for `ctl trace` (copied); NULL: nowhere. */
    const struct redis_addr *addr;
    const struct rlink_options *link;
    int keep_days; /* 0: no copy in Redis */
    int story_max; /* batches (entries) kept per story */
    int status_ms; /* between two writes of the status key; 0: 5000 */
};

/* Options from the [observe] keys of c, the file defaulting to traces.jsonl in data_dir; the
 * strings are borrowed from c and data_dir (file: *file_owned, free it). */
void tracer_options_from(struct tracer_options *o, const struct config *c, const char *data_dir,
                         char **file_owned);

struct tracer;

/* A tracer (not started). Returns NULL with *cause when the options cannot work (no file in
 * file mode, a bad host). Free with tracer_free(). */
struct tracer *tracer_new(const struct tracer_options *o, char **cause);
/* Starts the exporter thread (which checks health first). 0, or -1 with *cause. */
int tracer_start(struct tracer *t, char **cause);
/* Stops taking events, delivers what is queued for at most drain_ms, drops (and counts) the
 * rest, and joins the thread. */
void tracer_stop(struct tracer *t);
void tracer_free(struct tracer *t);

/* Queues a copy of one event (JSON text of len bytes) of the trace trace_id (copied too, in the
 * same allocation; NULL when it names none). The copy for ctl trace keeps the first keep
 * bytes (len or more: all of it; less: the text up to a field of the body, after which come
 * the fields for Langfuse alone), closed with "}}". nlong: how many of its strings are longer than
 * TRACE_STORE_STRING_MAX, at: where the first ones are (up to JSONW_LONGS; jsonw's longs),
 * so the copy for ctl trace cuts only the events that need it, without scanning them (it
 * scans the part it keeps only when that part may hold more long strings than were listed). Never
 * waits for the network: a full queue drops its oldest events first. */
void tracer_push(struct tracer *t, const char *json, size_t len, size_t keep, const char *trace_id,
                 const struct jsonw_span *at, size_t nlong);

/* Whether events go to Langfuse (true) or to the file. */
bool tracer_to_langfuse(const struct tracer *t);

struct tracer_stats {
    uint64_t queued;          /* events pushed */
    uint64_t queued_bytes;    /* their bytes */
    uint64_t delivered;       /* events in batches Langfuse took (or written to the file) */
    uint64_t rejected;        /* of those, events a 207 listed as errors */
    uint64_t dropped_full;    /* dropped because the queue was full */
    uint64_t dropped_failed;  /* dropped with a batch that failed every attempt, or at stop */
    uint64_t dropped_refused; /* dropped with a batch refused for good (4xx other than 429) */
    uint64_t batches;         /* requests (or lines) that delivered */
    uint64_t retries;         /* attempts after the first */
    uint64_t stored;          /* events copied to Redis for ctl trace */
    size_t queue_events, queue_bytes;
    size_t peak_events, peak_bytes; /* the most ever waiting at once */
    int64_t cpu_us;                 /* CPU time of the exporter thread so far */
    int health;                     /* 1 up, 0 down, -1 not known yet (or file mode) */
    char health_detail[320];        /* "Langfuse 3.29.0", "GET ...: HTTP 503", ... */
};
void tracer_stats(struct tracer *t, struct tracer_stats *out);

/* The Redis hash every tracer reports its state in (field: its process, value: JSON). */
#define TRACE_STATUS_KEY "nr:observe:tracing"
/* A one-line summary of the swarm's tracing for the control room, from TRACE_STATUS_KEY on
 * link l: "langfuse ok (3 processes)", "langfuse DOWN: HTTP 503", "file traces.jsonl", or ""
 * when no live process reports (states older than 30 s are ignored). Returns 0, or -1 with
 * *cause when Redis failed. */
int tracer_status_summary(struct rlink *l, int64_t now_ms, char *out, size_t size, char **cause);

#endif
