/*
 * collect.c - the scrape-time metrics read from Redis; see collect.h. Every reading is one of
 * the swarm's own read functions (bb_counts, bb_stage_len, budget_status, early_stop_stats,
 * llm_cache_stats, registry_list, queue_list and queue_stats), about a dozen round trips per
 * scrape. A family whose reading fails is left out of that scrape (and the failure logged at
 * debug); newsroom_redis_up says whether the link answered at all.
 *
 * Threads: the metrics server's thread only.
 */
#include "observe/collect.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "cost/budget.h"
#include "cost/early_stop.h"
#include "llm/cache.h"
#include "observe/metrics.h"
#include "recovery/breaker.h"
#include "store/blackboard.h"
#include "store/queue.h"
#include "store/registry.h"
#include "store/rlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct metric_def fam_redis_up = {
    "newsroom_redis_up",
    "Whether this process's metrics link to Redis answered PING (1) or not "
    "(0).",
    METRIC_GAUGE,
    {NULL},
    NULL,
    0};
static const struct metric_def fam_redis_latency = {
    "newsroom_redis_ping_seconds",
    "The PING round trip of this process's metrics link.",
    METRIC_GAUGE,
    {NULL},
    NULL,
    0};
static const struct metric_def fam_stories = {
    "newsroom_stories",
    "Stories on the blackboard by section and status (the whole swarm; every status in each "
    "section it can be in, zeros included).",
    METRIC_GAUGE,
    {"section", "status", NULL},
    NULL,
    0};
static const struct metric_def fam_stage_depth = {
    "newsroom_stage_depth",
    "Stories waiting for the next agent at each stage: analysis (PENDING), debate (DEBATING), "
    "writing (CONSENSUS_REACHED and the rewrite stage), qa, packaging (the produce stage), "
    "review (REVIEWING), publishing (APPROVED).",
    METRIC_GAUGE,
    {"stage", NULL},
    NULL,
    0};
static const struct metric_def fam_budget_spent = {
    "newsroom_budget_spent_dollars",
    "Spend in the current window (day or hour, UTC), per agent and for the whole swarm "
    "(agent=\"*\"), in US dollars.",
    METRIC_GAUGE,
    {"agent", "window", NULL},
    NULL,
    0};
static const struct metric_def fam_budget_reserved = {
    "newsroom_budget_reserved_dollars",
    "Reservations live in the current window, per agent and for the swarm (agent=\"*\").",
    METRIC_GAUGE,
    {"agent", "window", NULL},
    NULL,
    0};
static const struct metric_def fam_budget_limit = {
    "newsroom_budget_limit_dollars",
    "The limit of the current window with today's grants (0: no limit).",
    METRIC_GAUGE,
    {"agent", "window", NULL},
    NULL,
    0};
static const struct metric_def fam_budget_util = {
    "newsroom_budget_utilization_ratio",
    "Spent and reserved over the limit of the window (only where there is a limit).",
    METRIC_GAUGE,
    {"agent", "window", NULL},
    NULL,
    0};
static const struct metric_def fam_early_stops = {
    "newsroom_early_stops_total",
    "Early stops by reason (low_quality: confidence below early_stop_low; good_enough: above "
    "early_stop_high), the whole swarm.",
    METRIC_COUNTER,
    {"reason", NULL},
    NULL,
    0};
static const struct metric_def fam_early_saved_calls = {"newsroom_early_stop_saved_calls_total",
                                                        "Model calls early stops saved.",
                                                        METRIC_COUNTER,
                                                        {NULL},
                                                        NULL,
                                                        0};
static const struct metric_def fam_early_saved = {
    "newsroom_early_stop_saved_dollars_total",
    "The estimated cost of the calls early stops saved, in US dollars.",
    METRIC_COUNTER,
    {NULL},
    NULL,
    0};
static const struct metric_def fam_cache = {
    "newsroom_llm_cache_lookups_total",
    "Response cache lookups by result (hit, miss), the whole swarm.",
    METRIC_COUNTER,
    {"result", NULL},
    NULL,
    0};
static const struct metric_def fam_agents = {
    "newsroom_agents",
    "Agents in the registry by role and status (idle, busy, paused, dead).",
    METRIC_GAUGE,
    {"role", "status", NULL},
    NULL,
    0};
static const struct metric_def fam_queue_tasks = {
    "newsroom_queue_tasks",
    "Tasks of each work queue by state (waiting, pending: delivered and not acknowledged, "
    "delayed).",
    METRIC_GAUGE,
    {"queue", "state", NULL},
    NULL,
    0};
static const struct metric_def fam_queue_dead = {"newsroom_queue_dead_letters",
                                                 "Dead letters of each work queue.",
                                                 METRIC_GAUGE,
                                                 {"queue", NULL},
                                                 NULL,
                                                 0};
static const struct metric_def fam_breaker = {
    "newsroom_breaker_state",
    "Circuit breaker per external service (as the breakers share it in Redis): 0 closed, 1 "
    "half-open, 2 open.",
    METRIC_GAUGE,
    {"service", NULL},
    NULL,
    0};
static const struct metric_def fam_breaker_opens = {"newsroom_breaker_opens_total",
                                                    "Times each circuit breaker has opened.",
                                                    METRIC_COUNTER,
                                                    {"service", NULL},
                                                    NULL,
                                                    0};

/* Where each stage's waiting stories are: a status, and a stage queue of the production floor
 * (either may be absent). */
static const struct {
    const char *stage;
    int status;
    const char *queue;
} stages[] = {
    {"analysis", BB_PENDING, NULL},
    {"debate", BB_DEBATING, NULL},
    {"writing", BB_CONSENSUS_REACHED, "rewrite"},
    {"qa", -1, "qa"},
    {"packaging", -1, "produce"},
    {"review", BB_REVIEWING, NULL},
    {"publishing", BB_APPROVED, NULL},
};

static void failed(const char *what, char *cause)
{
    log_debug("metrics: %s: %s", what, cause != NULL ? cause : "?");
    free(cause);
}

/* Whether status st can be in section sec: its own section, or for a status that keeps the
 * section it came from (FAILED), the section of any status that moves to it. */
static bool can_be_in(int st, int sec)
{
    if (bb_statuses[st].section != BB_SECTION_KEEP)
        return bb_statuses[st].section == sec;
    for (int from = 0; from < BB_STATUS_COUNT; from++)
        if (bb_statuses[from].section == sec)
            for (const int *n = bb_statuses[from].next; *n != BB_STATUS_NONE; n++)
                if (*n == st)
                    return true;
    return false;
}

static void stories(struct metrics_text *out, struct rlink *l)
{
    long counts[BB_SECTION_COUNT][BB_STATUS_COUNT];
    struct bb *b = bb_new(l, "metrics");
    char *cause = NULL;

    if (bb_counts(b, counts, &cause) != BB_OK) {
        failed("stories", cause);
        bb_free(b);
        return;
    }
    metrics_text_family(out, &fam_stories);
    for (int sec = 0; sec < BB_SECTION_COUNT; sec++)
        for (int st = 0; st < BB_STATUS_COUNT; st++)
            if (can_be_in(st, sec) || counts[sec][st] != 0)
                metrics_text_sample(out, &fam_stories, "",
                                    (const char *[]){bb_section_names[sec], bb_statuses[st].name},
                                    NULL, NULL, (double)counts[sec][st]);
    metrics_text_family(out, &fam_stage_depth);
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        long n = 0, q = 0;

        if (stages[i].status >= 0)
            for (int sec = 0; sec < BB_SECTION_COUNT; sec++)
                n += counts[sec][stages[i].status];
        if (stages[i].queue != NULL && bb_stage_len(b, stages[i].queue, &q, &cause) != BB_OK) {
            failed("stage depth", cause);
            cause = NULL;
            continue;
        }
        metrics_text_sample(out, &fam_stage_depth, "", (const char *[]){stages[i].stage}, NULL,
                            NULL, (double)(n + q));
    }
    bb_free(b);
}

static void budget_window(struct metrics_text *out, const struct metric_def *d, const char *agent,
                          const char *window, double v)
{
    metrics_text_sample(out, d, "", (const char *[]){agent, window}, NULL, NULL, v);
}

static void budgets(struct metrics_text *out, struct rlink *l, const struct config *cfg)
{
    struct budget_options bo;
    struct budget_row *rows = NULL;
    struct budget_window g;
    size_t n = 0;
    char *cause = NULL;
    const struct metric_def *fams[] = {&fam_budget_spent, &fam_budget_reserved, &fam_budget_limit,
                                       &fam_budget_util};

    budget_options_from_config(&bo, cfg);
    if (budget_status(l, &bo, clock_wall_ms(), &rows, &n, &g, &cause) == -1) {
        failed("budgets", cause);
        return;
    }
    for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
        metrics_text_family(out, fams[f]);
        for (size_t i = 0; i <= n; i++) {
            const char *agent = i < n ? rows[i].agent : "*";
            const struct budget_window *w[2] = {i < n ? &rows[i].day : &g,
                                                i < n ? &rows[i].hour : NULL};
            const char *names[2] = {"day", "hour"};

            for (int k = 0; k < 2; k++) {
                if (w[k] == NULL)
                    continue;
                if (fams[f] == &fam_budget_spent)
                    budget_window(out, fams[f], agent, names[k], (double)w[k]->spent / 1e6);
                else if (fams[f] == &fam_budget_reserved)
                    budget_window(out, fams[f], agent, names[k], (double)w[k]->reserved / 1e6);
                else if (fams[f] == &fam_budget_limit)
                    budget_window(out, fams[f], agent, names[k], (double)w[k]->limit / 1e6);
                else if (w[k]->limit > 0)
                    budget_window(out, fams[f], agent, names[k],
                                  (double)(w[k]->spent + w[k]->reserved) / (double)w[k]->limit);
            }
        }
    }
    budget_rows_free(rows, n);
}

static void savings(struct metrics_text *out, struct rlink *l)
{
    struct early_stop_stats es;
    struct llm_cache_stats cs;
    struct llm_cache *cache;
    char *cause = NULL;

    if (early_stop_stats(l, &es, &cause) == 0) {
        metrics_text_family(out, &fam_early_stops);
        metrics_text_sample(out, &fam_early_stops, "", (const char *[]){"low_quality"}, NULL, NULL,
                            (double)es.low_quality);
        metrics_text_sample(out, &fam_early_stops, "", (const char *[]){"good_enough"}, NULL, NULL,
                            (double)es.good_enough);
        metrics_text_family(out, &fam_early_saved_calls);
        metrics_text_sample(out, &fam_early_saved_calls, "", NULL, NULL, NULL,
                            (double)es.calls_saved);
        metrics_text_family(out, &fam_early_saved);
        metrics_text_sample(out, &fam_early_saved, "", NULL, NULL, NULL, (double)es.saved / 1e6);
    } else {
        failed("early stops", cause);
        cause = NULL;
    }
    cache = llm_cache_new(l, 0);
    if (llm_cache_stats(cache, &cs, &cause) == 0) {
        metrics_text_family(out, &fam_cache);
        metrics_text_sample(out, &fam_cache, "", (const char *[]){"hit"}, NULL, NULL,
                            (double)cs.hits);
        metrics_text_sample(out, &fam_cache, "", (const char *[]){"miss"}, NULL, NULL,
                            (double)cs.misses);
    } else {
        failed("cache", cause);
    }
    llm_cache_free(cache);
}

static void agents(struct metrics_text *out, struct rlink *l)
{
    static const char *const statuses[] = {"idle", "busy", "paused", "dead"};
    struct registry *reg = registry_new(l);
    struct registry_agent *a = NULL;
    size_t n = 0;
    char *cause = NULL;

    if (registry_list(reg, &a, &n, NULL, &cause) == -1) {
        failed("agents", cause);
        registry_free(reg);
        return;
    }
    metrics_text_family(out, &fam_agents);
    /* Every role seen, with every status (zeros included). */
    for (size_t i = 0; i < n; i++) {
        bool seen = false;

        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(a[j].role, a[i].role) == 0;
        if (seen)
            continue;
        for (size_t s = 0; s < sizeof statuses / sizeof statuses[0]; s++) {
            long c = 0;

            for (size_t j = i; j < n; j++)
                c += strcmp(a[j].role, a[i].role) == 0 &&
                     strcmp(registry_status_name(a[j].status), statuses[s]) == 0;
            metrics_text_sample(out, &fam_agents, "", (const char *[]){a[i].role, statuses[s]},
                                NULL, NULL, (double)c);
        }
    }
    free(a);
    registry_free(reg);
}

static void queues(struct metrics_text *out, struct rlink *l)
{
    char **names = NULL, *cause = NULL;
    size_t n = 0;

    if (queue_list(l, &names, &n, &cause) == -1) {
        failed("queues", cause);
        return;
    }
    if (n > 0) {
        struct queue_stats *st = xcalloc(n, sizeof *st);
        bool *ok = xcalloc(n, sizeof *ok);

        for (size_t i = 0; i < n; i++) {
            ok[i] = queue_stats(l, names[i], &st[i], &cause) == 0;
            if (!ok[i]) {
                failed("queue", cause);
                cause = NULL;
            }
        }
        metrics_text_family(out, &fam_queue_tasks);
        for (size_t i = 0; i < n; i++)
            if (ok[i]) {
                metrics_text_sample(out, &fam_queue_tasks, "",
                                    (const char *[]){names[i], "waiting"}, NULL, NULL,
                                    (double)(st[i].waiting_breaking + st[i].waiting_normal));
                metrics_text_sample(out, &fam_queue_tasks, "",
                                    (const char *[]){names[i], "pending"}, NULL, NULL,
                                    (double)st[i].pending);
                metrics_text_sample(out, &fam_queue_tasks, "",
                                    (const char *[]){names[i], "delayed"}, NULL, NULL,
                                    (double)st[i].delayed);
            }
        metrics_text_family(out, &fam_queue_dead);
        for (size_t i = 0; i < n; i++)
            if (ok[i])
                metrics_text_sample(out, &fam_queue_dead, "", (const char *[]){names[i]}, NULL,
                                    NULL, (double)st[i].dead);
        free(st);
        free(ok);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void breakers(struct metrics_text *out, struct rlink *l)
{
    struct breaker_info *b = NULL;
    size_t n = 0;
    char *cause = NULL;

    if (breaker_list(l, &b, &n, NULL, &cause) == -1) {
        failed("breakers", cause);
        return;
    }
    if (n > 0) {
        metrics_text_family(out, &fam_breaker);
        for (size_t i = 0; i < n; i++)
            metrics_text_sample(out, &fam_breaker, "", (const char *[]){b[i].name}, NULL, NULL,
                                b[i].state == BREAKER_OPEN        ? 2
                                : b[i].state == BREAKER_HALF_OPEN ? 1
                                                                  : 0);
        metrics_text_family(out, &fam_breaker_opens);
        for (size_t i = 0; i < n; i++)
            metrics_text_sample(out, &fam_breaker_opens, "", (const char *[]){b[i].name}, NULL,
                                NULL, (double)b[i].opens);
    }
    free(b);
}

void collect_redis(struct metrics_text *out, struct rlink *l, void *arg)
{
    const struct config *cfg = arg;
    int64_t us = 0;
    char *cause = NULL;
    bool up = l != NULL && rlink_ping(l, &us, &cause) == 0;

    free(cause);
    metrics_text_family(out, &fam_redis_up);
    metrics_text_sample(out, &fam_redis_up, "", NULL, NULL, NULL, up ? 1 : 0);
    if (!up)
        return;
    metrics_text_family(out, &fam_redis_latency);
    metrics_text_sample(out, &fam_redis_latency, "", NULL, NULL, NULL, (double)us / 1e6);
    stories(out, l);
    budgets(out, l, cfg);
    savings(out, l);
    agents(out, l);
    queues(out, l);
    breakers(out, l);
}
