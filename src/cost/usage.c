/*
 * usage.c - usage windows, recording a call without a reservation, and reading the sums back
 * by dimension; see usage.h. The writing itself is cost_budget.lua's (through budget.c), so
 * that a record and its sums land together. Stateless: any thread, its own link.
 */
#include "cost/usage.h"

#include "core/clock.h"
#include "core/fail.h"
#include "cost/budget.h"
#include "store/rlink.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const dim_names[USAGE_DIM_COUNT] = {
    [USAGE_BY_ALL] = "all",     [USAGE_BY_AGENT] = "agent",    [USAGE_BY_TIER] = "tier",
    [USAGE_BY_MODEL] = "model", [USAGE_BY_TYPE] = "task-type",
};
/* The dimension's word inside the hash fields ("cost:type:news_scout"). */
static const char *const dim_fields[USAGE_DIM_COUNT] = {
    [USAGE_BY_ALL] = "all",     [USAGE_BY_AGENT] = "agent", [USAGE_BY_TIER] = "tier",
    [USAGE_BY_MODEL] = "model", [USAGE_BY_TYPE] = "type",
};

void usage_new_uid(char out[USAGE_UID_MAX])
{
    static atomic_llong seq;
    char host[40];

    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "host");
    host[sizeof host - 1] = '\0';
    snprintf(out, USAGE_UID_MAX, "%s-%ld-%lld-%lld", host, (long)getpid(),
             (long long)clock_wall_ms(), atomic_fetch_add(&seq, 1) + 1);
}

void usage_windows(int64_t ms, char day[USAGE_DAY_LEN], char hour[USAGE_HOUR_LEN])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(day, USAGE_DAY_LEN, "%Y%m%d", &tm);
    strftime(hour, USAGE_HOUR_LEN, "%Y%m%d%H", &tm);
}

int usage_record(struct rlink *l, const struct budget_options *o, const struct usage_record *u,
                 char **cause)
{
    return budget_commit(l, o, clock_wall_ms(), NULL, u, NULL, cause) == -1 ? -1 : 0;
}

const char *usage_dim_name(enum usage_dim d)
{
    return (int)d >= 0 && d < USAGE_DIM_COUNT ? dim_names[d] : NULL;
}

int usage_dim_parse(const char *name, enum usage_dim *out)
{
    for (int i = 0; i < USAGE_DIM_COUNT; i++)
        if (strcmp(name, dim_names[i]) == 0) {
            *out = (enum usage_dim)i;
            return 0;
        }
    return -1;
}

/* The metric a field counts, in the order of struct usage_sum's numbers. */
static const char *const metrics[] = {"calls", "cost", "prompt", "completion", "cached"};

static void add_field(struct usage_sum **rows, size_t *n, const char *field, const char *dim,
                      long long v)
{
    const char *c1 = strchr(field, ':'), *c2, *name;
    size_t m, dlen = strlen(dim);
    struct usage_sum *row = NULL;

    if (c1 == NULL || strncmp(c1 + 1, dim, dlen) != 0 || c1[1 + dlen] != ':')
        return;
    c2 = c1 + 1 + dlen;
    name = c2 + 1;
    for (m = 0; m < sizeof metrics / sizeof metrics[0]; m++)
        if (strlen(metrics[m]) == (size_t)(c1 - field) &&
            strncmp(field, metrics[m], c1 - field) == 0)
            break;
    if (m == sizeof metrics / sizeof metrics[0])
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*rows)[i].name, name) == 0)
            row = &(*rows)[i];
    if (row == NULL) {
        *rows = xrealloc(*rows, (*n + 1) * sizeof **rows);
        row = &(*rows)[(*n)++];
        memset(row, 0, sizeof *row);
        row->name = xstrdup(name);
    }
    switch (m) {
    case 0:
        row->calls += v;
        break;
    case 1:
        row->cost += v;
        break;
    case 2:
        row->prompt_tokens += v;
        break;
    case 3:
        row->completion_tokens += v;
        break;
    default:
        row->cached += v;
        break;
    }
}

int usage_sums(struct rlink *l, enum usage_dim dim, int64_t since_ms, int64_t now_ms,
               struct usage_sum **out, size_t *n, char **cause)
{
    const int64_t hour_ms = 3600000, day_ms = 24 * hour_ms;
    bool by_day = now_ms - since_ms > 7 * day_ms;
    int64_t step = by_day ? day_ms : hour_ms;
    struct usage_sum *rows = NULL;
    size_t count = 0;

    if (since_ms > now_ms)
        since_ms = now_ms;
    for (int64_t t = since_ms - since_ms % step; t <= now_ms; t += step) {
        char day[USAGE_DAY_LEN], hour[USAGE_HOUR_LEN];
        redisReply *r;

        usage_windows(t, day, hour);
        r = rlink_command(l, cause, "HGETALL %s%s:%s", COST_PREFIX "u:", by_day ? "d" : "h",
                          by_day ? day : hour);
        if (r == NULL) {
            usage_sums_free(rows, count);
            return -1;
        }
        for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
            if (r->element[i]->str != NULL && r->element[i + 1]->str != NULL)
                add_field(&rows, &count, r->element[i]->str, dim_fields[dim],
                          strtoll(r->element[i + 1]->str, NULL, 10));
        freeReplyObject(r);
    }
    for (size_t i = 1; i < count; i++)
        for (size_t j = i; j > 0 && (rows[j - 1].cost < rows[j].cost ||
                                     (rows[j - 1].cost == rows[j].cost &&
                                      strcmp(rows[j - 1].name, rows[j].name) > 0));
             j--) {
            struct usage_sum t = rows[j];

            rows[j] = rows[j - 1];
            rows[j - 1] = t;
        }
    *out = rows;
    *n = count;
    return 0;
}

void usage_sums_free(struct usage_sum *s, size_t n)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        free(s[i].name);
    free(s);
}
