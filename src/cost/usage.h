/*
 * usage.h - LLM usage records and their sums. Each record (agent, task, task type, model,
 * tier, tokens, duration, confidence, cached, cost) is appended to the usage stream
 * (USAGE_STREAM_KEY, capped) and added to hashes per UTC hour and per UTC day, by all, agent,
 * tier, model and task type, in the same Lua script that commits the call's budget
 * (cost_budget.lua; see budget.h), so a record and its sums always land together.
 *
 * Threads: any thread, each with its own link (rlink.h). Pure helpers are stateless.
 */
#ifndef NEWSROOM_USAGE_H
#define NEWSROOM_USAGE_H

#include "llm/llm.h"
#include "store/keys.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rlink;
struct budget_options;

#define COST_PREFIX      NR_PREFIX "cost:"
#define USAGE_STREAM_KEY COST_PREFIX "usage"
#define USAGE_MAXLEN_STR "100000"
/* "YYYYMMDD" and "YYYYMMDDHH" (UTC) plus the NUL. */
#define USAGE_DAY_LEN  9
#define USAGE_HOUR_LEN 11

struct usage_record {
    const char *agent;     /* required */
    const char *task;      /* NULL or "": none */
    const char *task_type; /* NULL: "" */
    const char *model;     /* NULL: "": the model that served the call */
    const char *provider;  /* NULL: "": the provider kind that served it (sim, openai, ...) */
    bool fallback;         /* a later member of a fallback chain served it (llm/chain.h) */
    /* NULL or "": none. A unique id of the call (usage_new_uid()): a commit carrying one is
     * applied at most once, however often it is sent (a replay from the journal). */
    const char *uid;
    enum llm_tier tier;
    int prompt_tokens;
    int completion_tokens;
    int64_t duration_ms;
    double confidence; /* -1 when unknown */
    bool cached;
    int64_t cost; /* micro-dollars */
};

/* A unique id for a usage record: host, pid, time and a counter ("h1-4242-1733200000123-17").
 * Any thread. */
#define USAGE_UID_MAX 96
void usage_new_uid(char out[USAGE_UID_MAX]);

/* The UTC day and hour windows of a time in ms. */
void usage_windows(int64_t ms, char day[USAGE_DAY_LEN], char hour[USAGE_HOUR_LEN]);

/* Records one call that had no reservation (a cache hit, a call made outside the budget):
 * its cost counts as spent in the current windows, checking no limit. now from
 * clock_wall_ms(). Returns 0, or -1 with *cause. */
int usage_record(struct rlink *l, const struct budget_options *o, const struct usage_record *u,
                 char **cause);

enum usage_dim { USAGE_BY_ALL, USAGE_BY_AGENT, USAGE_BY_TIER, USAGE_BY_MODEL, USAGE_BY_TYPE };
#define USAGE_DIM_COUNT ((int)USAGE_BY_TYPE + 1)
/* "all", "agent", "tier", "model", "task-type"; and back (-1 for another word). */
const char *usage_dim_name(enum usage_dim d);
int usage_dim_parse(const char *name, enum usage_dim *out);

struct usage_sum {
    char *name; /* the agent, tier, model or task type; "" for all */
    int64_t calls, cost, prompt_tokens, completion_tokens, cached;
};

/* The sums by one dimension from since_ms to now_ms: whole UTC hours when the span is at most
 * seven days (hours kept 9 days), else whole UTC days (kept 40 days); since is rounded down
 * to its hour or day. On success *out (free with usage_sums_free) holds *n rows sorted by cost,
 * highest first. Returns 0, or -1 with *cause. */
int usage_sums(struct rlink *l, enum usage_dim dim, int64_t since_ms, int64_t now_ms,
               struct usage_sum **out, size_t *n, char **cause);
void usage_sums_free(struct usage_sum *s, size_t n);

#endif
