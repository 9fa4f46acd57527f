/*
 * trace_store.h - each trace's events kept in Redis, so `newsroom ctl trace ID` can show a
 * story's whole trace without Langfuse: the same events the exporter sends (tracer.h), less a
 * generation's fields for Langfuse alone (its prompt and answer, model parameters, the v2
 * usage and the cost details beside usageDetails and the cost in metadata: trace.c writes them
 * last, and the copy keeps the text before them) and with every string longer than
 * TRACE_STORE_STRING_MAX bytes cut. The terminal needs the step, agent, model, tokens, cost,
 * times, decision and reasoning; the prompts and answers were most of the copy's bytes, which
 * Redis stores, appends to its AOF and rewrites. One list per trace (TRACE_KEY_PREFIX<trace id>: a
 * story's trace id is the story id), one entry per batch the exporter sent (a JSON array of that
 * batch's events of the trace), capped at its newest entries and expiring keep_days after its last
 * event, and one sorted set of trace ids by their last event time (TRACE_INDEX_KEY, the writer's
 * clock), trimmed to the same window and to TRACE_INDEX_MAX traces. A batch is written by one
 * transaction (MULTI/EXEC: one round trip, and one list entry per story whatever the number of
 * its events), not a Lua script: a script's arguments are copied into Lua and hashed byte by
 * byte, which cost Redis about 11 instructions per byte of the copy, more than the rest of
 * tracing put together.
 *
 * Threads: any thread, with its own link.
 */
#ifndef NEWSROOM_TRACE_STORE_H
#define NEWSROOM_TRACE_STORE_H

#include "observe/jsonw.h"
#include "store/keys.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct rlink;

#define TRACE_KEY_PREFIX       NR_PREFIX "trace:"
#define TRACE_INDEX_KEY        NR_PREFIX "traces"
#define TRACE_STORE_STRING_MAX 400
#define TRACE_INDEX_MAX        200000 /* traces listed in the index at most */
#define TRACE_ID_MAX           160

/* The copy of one event (JSON text of len bytes) to keep: the same text with every string
 * longer than max bytes cut at a character boundary and ended with "...", in one pass without
 * parsing. Returns a new string of *out_len bytes (free it). */
char *trace_store_cut(const char *event, size_t len, size_t max, size_t *out_len);

/* trace_store_cut() for an event whose strings longer than max are known: the n of them, at[k]
 * where a string's text is (in order, as jsonw's longs lists them),
 * so nothing is scanned. Writes the copy at out (room for len + 3 * n bytes; not
 * NUL-terminated) and returns its length: the same bytes trace_store_cut() makes. */
size_t trace_store_cut_at(const char *event, size_t len, size_t max, const struct jsonw_span *at,
                          size_t n, char *out);

/* Appends n entries, entries[i] the JSON array of this batch's events of trace ids[i] (ids
 * distinct), in one transaction; each list keeps its newest max entries. Returns 0, or -1 with
 * *cause (nothing written unless Redis refused a command at its run, which a well-formed batch
 * never meets; a link lost before EXEC arrived leaves nothing either). */
int trace_store_put(struct rlink *l, char *const *ids, char *const *entries, size_t n,
                    int64_t keep_ms, int max, char **cause);

/* A trace's events, oldest first, as a JSON array (new reference, empty when none). Returns
 * 0, or -1 with *cause. */
int trace_store_get(struct rlink *l, const char *trace_id, json_t **events, char **cause);

/* The newest traces first, at most limit: a JSON array of {"id", "last_ms"} (new reference).
 * Returns 0, or -1 with *cause. */
int trace_store_list(struct rlink *l, size_t limit, json_t **out, char **cause);

#endif
