/*
 * budget.h - spending limits and atomic reservations. Each agent may have a daily, an hourly
 * and a per-task limit and an alert threshold (stored in Redis, set with `ctl budget AGENT
 * --set`); the swarm has a global daily limit (config: global_daily_budget). Before an LLM
 * call the caller reserves its estimated cost: one Lua script (cost_budget.lua) checks every
 * limit that applies against committed spend plus live reservations and either records the
 * reservation (with an expiry, so that a dead caller's reservation lapses) or refuses naming
 * the limit it would pass, opening a budget request for an operator (one per agent, limit and
 * window). After the call, budget_commit() replaces the reservation by the actual cost and
 * writes the usage record in the same script; budget_release() returns a reservation whose
 * call never happened. Windows are UTC days and hours of clock_wall_ms(), passed into the
 * scripts, so tests move time with clock_set_wall(). All amounts are micro-dollars.
 *
 * Alerts: the first commit that takes a window's spend past its threshold (once per window)
 * writes an event on BUDGET_EVENTS_KEY and, from the caller, a BUDGET_ALERT message on the
 * nr:bus:broadcast:all channel, when alerts are on.
 *
 * Threads: any thread, each with its own link; no state outside Redis.
 */
#ifndef NEWSROOM_BUDGET_H
#define NEWSROOM_BUDGET_H

#include "cost/usage.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct rlink;

#define BUDGET_RESV_KEY   COST_PREFIX "resv"
#define BUDGET_AGENTS_KEY COST_PREFIX "agents"
#define BUDGET_EVENTS_KEY COST_PREFIX "events"
#define BUDGET_ID_MAX     24
#define BUDGET_AGENT_MAX  128

struct budget_options {
    int64_t global_daily;   /* 0: no global limit */
    bool alerts;            /* enable_cost_alerts */
    int64_t alert_ppm;      /* threshold for agents without their own, and the global one */
    int reservation_ttl_ms; /* a reservation lapses after this */
    /* How long a committed call's unique id is kept, so that a replay of it from the usage
     * journal is refused ([retention] usage_ids; <= 0: 24 h). */
    int64_t usage_ids_ms;
    /* Not a budget option: the response cache's policy ([providers] cache_task_types, see
     * llm_cache_wants()), carried here because every cost context is made from these options
     * (cost_new() copies it). NULL: every task type, as before there was a policy. */
    const char *cache_task_types;
};
/* From the [cost] keys of a configuration, and [providers] cache_task_types (borrowed from c:
 * valid until config_free()). */
void budget_options_from_config(struct budget_options *o, const struct config *c);

/* An agent's limits; 0 is no limit; alert_ppm 0 means the default threshold. */
struct budget_limits {
    int64_t daily, hourly, task;
    int64_t alert_ppm;
};
/* Which fields budget_set_limits() writes. */
enum { BUDGET_SET_DAILY = 1, BUDGET_SET_HOURLY = 2, BUDGET_SET_TASK = 4, BUDGET_SET_ALERT = 8 };

/* Whether agent can be a budget's owner: 1 to BUDGET_AGENT_MAX - 1 bytes, no space, control
 * character, '|' or '*'. Returns 0, or -1 with *cause. */
int budget_check_agent(const char *agent, char **cause);
/* Writes the fields of lim named by mask. Returns 0, or -1 with *cause. */
int budget_set_limits(struct rlink *l, const char *agent, const struct budget_limits *lim,
                      unsigned mask, char **cause);
int budget_get_limits(struct rlink *l, const char *agent, struct budget_limits *out, char **cause);

/* Why a reservation was refused. */
struct budget_refusal {
    char limit[32];   /* agent_daily, agent_hourly, agent_task, global_daily */
    char window[160]; /* "20261128", "2026112816" or "task:<id>" */
    int64_t cap;      /* the limit, with what was granted for that window */
    int64_t used;     /* spent + reserved at the time */
    int64_t amount;   /* what was asked for */
    char request_id[BUDGET_ID_MAX];
};

/* Reserves amount for agent (and task, NULL for none) at now_ms. Returns 0 with the
 * reservation's id in id; 1 (refused) with *refusal filled; -1 with *cause. */
int budget_reserve(struct rlink *l, const struct budget_options *o, int64_t now_ms,
                   const char *agent, const char *task, int64_t amount, char id[BUDGET_ID_MAX],
                   struct budget_refusal *refusal, char **cause);

/* Replaces reservation id (NULL: none, as usage_record()) by u->cost and records u. A second
 * commit of the same id changes nothing and returns 1. Alerts that fired are published
 * (a failure to publish is not an error: the event is written) and counted in *alerts (may be
 * NULL). Returns 0, 1 or -1 with *cause. */
int budget_commit(struct rlink *l, const struct budget_options *o, int64_t now_ms, const char *id,
                  const struct usage_record *u, int *alerts, char **cause);

/* Gives back a reservation whose call never happened. Returns 0 (also when it had already
 * lapsed), or -1 with *cause. */
int budget_release(struct rlink *l, const struct budget_options *o, int64_t now_ms, const char *id,
                   char **cause);

struct budget_window {
    int64_t spent, reserved;
    int64_t limit; /* with today's grants; 0: none */
};
struct budget_row {
    char *agent;
    struct budget_window day, hour;
    int64_t task_limit;
    int64_t alert_ppm; /* the threshold in force */
};
/* Every known agent's windows at now_ms, and the global day. *rows: free with
 * budget_rows_free(). Returns 0, or -1 with *cause. */
int budget_status(struct rlink *l, const struct budget_options *o, int64_t now_ms,
                  struct budget_row **rows, size_t *n, struct budget_window *global, char **cause);
void budget_rows_free(struct budget_row *rows, size_t n);

struct budget_request {
    char *id, *agent, *limit, *window, *status; /* status: open, granted, declined, closed */
    char *agents;     /* the agents refused under it, comma-separated ("" for older requests) */
    char *closed_why; /* why it closed by itself ("" unless closed) */
    int64_t needed, cap, granted, time_ms;
    long long waiting; /* distinct tasks (or agents) refused */
};
/* Requests, newest first, at most limit; open ones only when open_only. *out: free with
 * budget_requests_free(). Returns 0, or -1 with *cause. */
int budget_requests(struct rlink *l, bool open_only, int limit, struct budget_request **out,
                    size_t *n, char **cause);
void budget_requests_free(struct budget_request *r, size_t n);

/* Grants an open request (amount < 0: the amount it needed), raising that limit for that
 * window, or declines it; both audited as the current user. *granted gets the amount (may be
 * NULL). Returns 0, or -1 with *cause (unknown id, already decided). */
int budget_grant(struct rlink *l, const char *id, int64_t amount, int64_t *granted, char **cause);
/* A decline holds for the rest of the request's window: no new request opens for that agent,
 * limit and window until it ends (the refusals go on, naming the declined request). */
int budget_decline(struct rlink *l, const char *id, char **cause);

/* Closes the open requests that wait for nothing any more (cost_sweep.lua): the agent's own
 * limit lifted or raised since, or every agent refused under it gone from the registry. (A
 * request under the swarm's global limit also closes when a call passes under that limit
 * lifted or raised.) Status "closed" with the reason; not audited (no one decided it).
 * *closed (may be NULL) gets how many closed. Returns 0, or -1 with *cause. */
int budget_requests_sweep(struct rlink *l, int64_t now_ms, int *closed, char **cause);

#endif
