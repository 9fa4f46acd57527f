/*
 * trace_view.h - a trace made readable from its events (as trace_store.h keeps them): the
 * events of one id merged into observations (a create and its updates are one span or
 * generation), put in a tree (stage spans, the agents' task spans under them, generations,
 * decisions and scores under those) in time order, with the trace's totals (model calls,
 * tokens, cost, time) and its cost by step (task type), so `newsroom ctl trace` can answer
 * "why did this story cost $3?" without Langfuse. Pure: no I/O, no state.
 */
#ifndef NEWSROOM_TRACE_VIEW_H
#define NEWSROOM_TRACE_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum trace_obs_kind { TRACE_SPAN, TRACE_GENERATION, TRACE_EVENT, TRACE_SCORE };

struct trace_obs {
    enum trace_obs_kind kind;
    int depth;                /* 0 at the top of the tree */
    char *name;               /* the span's step or stage, the generation's task type, ... */
    char *agent, *role;       /* "" when unknown */
    char *model;              /* generations: the model; else "" */
    char *detail;             /* decisions, votes, scores: what was decided and why; errors */
    bool error;               /* level ERROR */
    int64_t start_ms, end_ms; /* 0 when unknown */
    int tokens_in, tokens_out;
    int64_t cost; /* micro-dollars; generations only */
};

struct trace_step_cost {
    char *step; /* the task type */
    int calls;
    int tokens;
    int64_t cost;
};

struct trace_view {
    char *id, *name;           /* the trace's id and its last name (stage or outcome) */
    char *title, *source;      /* from its input, "" when none */
    char *status, *reason;     /* from its output, "" while it runs */
    int64_t first_ms, last_ms; /* its first and last event */
    struct trace_obs *obs;     /* depth first, each level in time order */
    size_t nobs;
    int calls, tokens_in, tokens_out;
    int64_t cost;
    struct trace_step_cost *steps; /* by cost, highest first */
    size_t nsteps;
};

/* Builds the view of the events (a JSON array, borrowed) of trace id. Returns 0, or -1 when
 * there is no event of it. Free with trace_view_free(). */
int trace_view_build(const json_t *events, const char *id, struct trace_view *out);
void trace_view_free(struct trace_view *v);

/* "2026-11-28T10:00:00.123Z" in ms since the epoch, or 0 when s is not such a time. */
int64_t trace_view_time(const char *s);

#endif
