/*
 * budget.c - limits, reservations, commits, releases, alerts and budget requests on Redis;
 * see budget.h. Every decision is taken inside cost_budget.lua or cost_request.lua, so many
 * processes on many machines can spend at once without overspending; this file builds the
 * arguments, reads the replies and publishes the alerts a commit raised. Stateless: any
 * thread may call it with its own link.
 */
#include "cost/budget.h"

#include "core/config.h"
#include "core/fail.h"
#include "cost/money.h"
#include "cost/pricing.h"
#include "store/audit.h"
#include "store/bus.h"
#include "store/lua_scripts.h"
#include "store/message.h"
#include "store/registry.h"
#include "store/rlink.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_KEY_FMT COST_PREFIX "limit:%s"

void budget_options_from_config(struct budget_options *o, const struct config *c)
{
    o->global_daily = c->global_daily_budget;
    o->alerts = c->enable_cost_alerts;
    o->alert_ppm = c->alert_threshold_ppm;
    o->reservation_ttl_ms = c->reservation_ttl_ms;
    o->usage_ids_ms = c->retention_usage_ids_ms;
    o->cache_task_types = c->llm_cache_task_types;
}

int budget_check_agent(const char *agent, char **cause)
{
    size_t n = agent != NULL ? strlen(agent) : 0;

    if (n == 0 || n >= BUDGET_AGENT_MAX) {
        *cause = xasprintf("an agent id has 1 to %d bytes", BUDGET_AGENT_MAX - 1);
        return -1;
    }
    for (const char *p = agent; *p != '\0'; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '|' || *p == '*') {
            *cause = xstrdup("an agent id holds no space, control character, '|' or '*'");
            return -1;
        }
    return 0;
}

static int64_t reply_int(const redisReply *r)
{
    if (r == NULL)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return strtoll(r->str, NULL, 10);
    return 0;
}

int budget_set_limits(struct rlink *l, const char *agent, const struct budget_limits *lim,
                      unsigned mask, char **cause)
{
    static const struct {
        unsigned bit;
        const char *field;
        size_t offset;
    } fields[] = {
        {BUDGET_SET_DAILY, "daily", offsetof(struct budget_limits, daily)},
        {BUDGET_SET_HOURLY, "hourly", offsetof(struct budget_limits, hourly)},
        {BUDGET_SET_TASK, "task", offsetof(struct budget_limits, task)},
        {BUDGET_SET_ALERT, "alert", offsetof(struct budget_limits, alert_ppm)},
    };
    const char *argv[2 + 2 * 4];
    char values[4][24], *key;
    int argc = 2;
    redisReply *r;

    if (budget_check_agent(agent, cause) == -1)
        return -1;
    key = xasprintf(LIMIT_KEY_FMT, agent);
    argv[0] = "HSET";
    argv[1] = key;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!(mask & fields[i].bit))
            continue;
        snprintf(values[i], sizeof values[i], "%lld",
                 (long long)*(const int64_t *)(const void *)((const char *)lim + fields[i].offset));
        argv[argc++] = fields[i].field;
        argv[argc++] = values[i];
    }
    if (argc == 2) {
        free(key);
        return 0;
    }
    r = rlink_command_argv(l, cause, argc, argv, NULL);
    free(key);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    r = rlink_command(l, cause, "SADD %s %s", BUDGET_AGENTS_KEY, agent);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

int budget_get_limits(struct rlink *l, const char *agent, struct budget_limits *out, char **cause)
{
    redisReply *r;
    char *key = xasprintf(LIMIT_KEY_FMT, agent);

    r = rlink_command(l, cause, "HMGET %s daily hourly task alert", key);
    free(key);
    if (r == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 4) {
        out->daily = reply_int(r->element[0]);
        out->hourly = reply_int(r->element[1]);
        out->task = reply_int(r->element[2]);
        out->alert_ppm = reply_int(r->element[3]);
    }
    freeReplyObject(r);
    return 0;
}

/* The fixed arguments of cost_budget.lua (see its header); usage fields stay empty unless u
 * is given. */
#define SCRIPT_ARGC 29
struct script_args {
    const char *argv[SCRIPT_ARGC];
    char now[24], amount[24], ttl[16], global[24], ppm[24], pt[16], ct[16], ms[24], conf[24];
    char ids[24];
    char day[USAGE_DAY_LEN], hour[USAGE_HOUR_LEN], limkey[BUDGET_AGENT_MAX + 32];
};

static void fill_args(struct script_args *a, const struct budget_options *o, const char *op,
                      int64_t now_ms, const char *agent, const char *task, int64_t amount,
                      const char *id, const struct usage_record *u)
{
    usage_windows(now_ms, a->day, a->hour);
    snprintf(a->limkey, sizeof a->limkey, LIMIT_KEY_FMT, agent);
    snprintf(a->now, sizeof a->now, "%lld", (long long)now_ms);
    snprintf(a->amount, sizeof a->amount, "%lld", (long long)amount);
    snprintf(a->ttl, sizeof a->ttl, "%d", o->reservation_ttl_ms);
    snprintf(a->global, sizeof a->global, "%lld", (long long)o->global_daily);
    snprintf(a->ppm, sizeof a->ppm, "%lld", (long long)o->alert_ppm);
    a->argv[0] = BUDGET_RESV_KEY;
    a->argv[1] = a->limkey;
    a->argv[2] = BUDGET_AGENTS_KEY;
    a->argv[3] = op;
    a->argv[4] = COST_PREFIX;
    a->argv[5] = a->now;
    a->argv[6] = a->day;
    a->argv[7] = a->hour;
    a->argv[8] = agent;
    a->argv[9] = task != NULL ? task : "";
    a->argv[10] = a->amount;
    a->argv[11] = a->ttl;
    a->argv[12] = a->global;
    a->argv[13] = o->alerts ? "1" : "0";
    a->argv[14] = a->ppm;
    a->argv[15] = id != NULL ? id : "";
    for (int i = 16; i < SCRIPT_ARGC; i++)
        a->argv[i] = "";
    if (u != NULL) {
        const char *tier = pricing_tier_name(u->tier);

        snprintf(a->pt, sizeof a->pt, "%d", u->prompt_tokens);
        snprintf(a->ct, sizeof a->ct, "%d", u->completion_tokens);
        snprintf(a->ms, sizeof a->ms, "%lld", (long long)u->duration_ms);
        snprintf(a->conf, sizeof a->conf, "%.3f", u->confidence);
        a->argv[16] = u->task_type != NULL ? u->task_type : "";
        a->argv[17] = u->model != NULL ? u->model : "";
        a->argv[18] = tier != NULL ? tier : "";
        a->argv[19] = a->pt;
        a->argv[20] = a->ct;
        a->argv[21] = a->ms;
        a->argv[22] = a->conf;
        a->argv[23] = u->cached ? "1" : "0";
        a->argv[25] = u->uid != NULL ? u->uid : "";
        a->argv[26] = u->provider != NULL ? u->provider : "";
        a->argv[27] = u->fallback ? "1" : "0";
    }
    a->argv[24] = USAGE_MAXLEN_STR;
    snprintf(a->ids, sizeof a->ids, "%lld",
             (long long)(o->usage_ids_ms > 0 ? o->usage_ids_ms : 86400000LL));
    a->argv[28] = a->ids;
}

int budget_reserve(struct rlink *l, const struct budget_options *o, int64_t now_ms,
                   const char *agent, const char *task, int64_t amount, char id[BUDGET_ID_MAX],
                   struct budget_refusal *refusal, char **cause)
{
    struct script_args a;
    redisReply *r;
    int rc;

    if (budget_check_agent(agent, cause) == -1)
        return -1;
    if (amount < 0) {
        *cause = xstrdup("a reservation cannot be negative");
        return -1;
    }
    fill_args(&a, o, "reserve", now_ms, agent, task, amount, NULL, NULL);
    r = rlink_eval(l, &lua_cost_budget, 3, SCRIPT_ARGC, a.argv, cause);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        freeReplyObject(r);
        *cause = xstrdup("cost_budget: unexpected reply");
        return -1;
    }
    if (reply_int(r->element[0]) == 1) {
        snprintf(id, BUDGET_ID_MAX, "%s", rlink_reply_str(r, 1));
        rc = 0;
    } else {
        memset(refusal, 0, sizeof *refusal);
        snprintf(refusal->limit, sizeof refusal->limit, "%s", rlink_reply_str(r, 1));
        snprintf(refusal->window, sizeof refusal->window, "%s", rlink_reply_str(r, 2));
        refusal->cap = strtoll(rlink_reply_str(r, 3), NULL, 10);
        refusal->used = strtoll(rlink_reply_str(r, 4), NULL, 10);
        refusal->amount = amount;
        snprintf(refusal->request_id, sizeof refusal->request_id, "%s", rlink_reply_str(r, 5));
        id[0] = '\0';
        rc = 1;
    }
    freeReplyObject(r);
    return rc;
}

/* Publishes one alert "scope|limit|window|spent|cap" as a BUDGET_ALERT broadcast. */
static void publish_alert(struct rlink *l, const char *sender, const char *alert)
{
    char *copy = xstrdup(alert), *f[5] = {0}, *save = NULL, *p = copy;
    char spent[MONEY_BUF], cap[MONEY_BUF];
    struct msg *m;
    char *cause = NULL;

    for (int i = 0; i < 5; i++, p = NULL)
        f[i] = strtok_r(p, "|", &save);
    if (f[4] == NULL) {
        free(copy);
        return;
    }
    money_format(strtoll(f[3], NULL, 10), spent, sizeof spent);
    money_format(strtoll(f[4], NULL, 10), cap, sizeof cap);
    m = msg_new(MSG_BUDGET_ALERT, sender, NULL,
                json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "agent", f[0], "limit", f[1],
                          "window", f[2], "spent_micro", (json_int_t)strtoll(f[3], NULL, 10),
                          "limit_micro", (json_int_t)strtoll(f[4], NULL, 10), "spent", spent,
                          "limit_usd", cap));
    if (bus_broadcast(l, BUS_ALL, m, NULL, &cause) == -1)
        free(cause); /* the event on the stream stays; pub/sub may be missed by design */
    msg_free(m);
    free(copy);
}

int budget_commit(struct rlink *l, const struct budget_options *o, int64_t now_ms, const char *id,
                  const struct usage_record *u, int *alerts, char **cause)
{
    struct script_args a;
    redisReply *r;
    int rc = 0;

    if (alerts != NULL)
        *alerts = 0;
    if (budget_check_agent(u->agent, cause) == -1)
        return -1;
    if (u->cost < 0) {
        *cause = xstrdup("a cost cannot be negative");
        return -1;
    }
    fill_args(&a, o, "commit", now_ms, u->agent, u->task, u->cost, id, u);
    r = rlink_eval(l, &lua_cost_budget, 3, SCRIPT_ARGC, a.argv, cause);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
        freeReplyObject(r);
        *cause = xstrdup("cost_budget: unexpected reply");
        return -1;
    }
    if (reply_int(r->element[0]) == 0) {
        rc = 1;
    } else {
        for (size_t i = 1; i < r->elements; i++) {
            publish_alert(l, u->agent, rlink_reply_str(r, i));
            if (alerts != NULL)
                (*alerts)++;
        }
    }
    freeReplyObject(r);
    return rc;
}

int budget_release(struct rlink *l, const struct budget_options *o, int64_t now_ms, const char *id,
                   char **cause)
{
    struct script_args a;
    redisReply *r;

    fill_args(&a, o, "release", now_ms, "-", NULL, 0, id, NULL);
    r = rlink_eval(l, &lua_cost_budget, 3, SCRIPT_ARGC, a.argv, cause);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

/* HMGET key spent:F res:F grant:F into w (limit gets the grant added when limit > 0). */
static int read_window(struct rlink *l, const char *key, const char *field, int64_t limit,
                       struct budget_window *w, char **cause)
{
    redisReply *r =
        rlink_command(l, cause, "HMGET %s spent:%s res:%s grant:%s", key, field, field, field);

    if (r == NULL)
        return -1;
    memset(w, 0, sizeof *w);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
        w->spent = reply_int(r->element[0]);
        w->reserved = reply_int(r->element[1]);
        w->limit = limit > 0 ? limit + reply_int(r->element[2]) : 0;
    }
    freeReplyObject(r);
    return 0;
}

int budget_status(struct rlink *l, const struct budget_options *o, int64_t now_ms,
                  struct budget_row **rows, size_t *n, struct budget_window *global, char **cause)
{
    char day[USAGE_DAY_LEN], hour[USAGE_HOUR_LEN], dkey[64], hkey[64];
    struct script_args pa;
    redisReply *members, *pr;
    struct budget_row *out = NULL;
    size_t count = 0;

    usage_windows(now_ms, day, hour);
    snprintf(dkey, sizeof dkey, COST_PREFIX "d:%s", day);
    snprintf(hkey, sizeof hkey, COST_PREFIX "h:%s", hour);
    /* A reservation whose caller never came back is not reserved any more: out of the sums
     * before they are read (the next reservation would do the same). */
    fill_args(&pa, o, "prune", now_ms, "-", NULL, 0, NULL, NULL);
    if ((pr = rlink_eval(l, &lua_cost_budget, 3, SCRIPT_ARGC, pa.argv, cause)) == NULL)
        return -1;
    freeReplyObject(pr);
    if (read_window(l, dkey, "*", o->global_daily, global, cause) == -1)
        return -1;
    members = rlink_command(l, cause, "SMEMBERS %s", BUDGET_AGENTS_KEY);
    if (members == NULL)
        return -1;
    if (members->type == REDIS_REPLY_ARRAY && members->elements > 0)
        out = xcalloc(members->elements, sizeof *out);
    for (size_t i = 0; members->type == REDIS_REPLY_ARRAY && i < members->elements; i++) {
        const char *agent = members->element[i]->str;
        struct budget_row *row = &out[count];
        struct budget_limits lim;

        if (agent == NULL || budget_get_limits(l, agent, &lim, cause) == -1 ||
            read_window(l, dkey, agent, lim.daily, &row->day, cause) == -1 ||
            read_window(l, hkey, agent, lim.hourly, &row->hour, cause) == -1) {
            if (agent == NULL)
                continue;
            freeReplyObject(members);
            budget_rows_free(out, count);
            return -1;
        }
        row->agent = xstrdup(agent);
        row->task_limit = lim.task;
        row->alert_ppm = lim.alert_ppm > 0 ? lim.alert_ppm : o->alert_ppm;
        count++;
    }
    freeReplyObject(members);
    for (size_t i = 1; i < count; i++) /* by name: a stable listing */
        for (size_t j = i; j > 0 && strcmp(out[j - 1].agent, out[j].agent) > 0; j--) {
            struct budget_row t = out[j];

            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    *rows = out;
    *n = count;
    return 0;
}

void budget_rows_free(struct budget_row *rows, size_t n)
{
    for (size_t i = 0; rows != NULL && i < n; i++)
        free(rows[i].agent);
    free(rows);
}

static char *hash_field(const redisReply *r, const char *name)
{
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
        if (r->element[i]->str != NULL && strcmp(r->element[i]->str, name) == 0 &&
            r->element[i + 1]->str != NULL)
            return xstrdup(r->element[i + 1]->str);
    return xstrdup("");
}

static void budget_request_clear(struct budget_request *q)
{
    free(q->id);
    free(q->agent);
    free(q->limit);
    free(q->window);
    free(q->status);
    free(q->agents);
    free(q->closed_why);
}

/* The members of a SMEMBERS reply, sorted and comma-separated (a new string). */
static int compare_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *join_members(const redisReply *r)
{
    size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0, len = 1;
    const char **v = xcalloc(n + 1, sizeof *v);
    char *out;

    for (size_t i = 0; i < n; i++) {
        v[i] = r->element[i]->str != NULL ? r->element[i]->str : "";
        len += strlen(v[i]) + 1;
    }
    qsort(v, n, sizeof *v, compare_str);
    out = xmalloc(len);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(out, ",");
        strcat(out, v[i]);
    }
    free(v);
    return out;
}

int budget_requests(struct rlink *l, bool open_only, int limit, struct budget_request **out,
                    size_t *n, char **cause)
{
    redisReply *ids;
    struct budget_request *reqs = NULL;
    size_t count = 0;

    *out = NULL;
    *n = 0;
    ids = rlink_command(l, cause, "ZREVRANGE %s 0 -1", COST_PREFIX "requests");
    if (ids == NULL)
        return -1;
    for (size_t i = 0; ids->type == REDIS_REPLY_ARRAY && i < ids->elements; i++) {
        const char *id = ids->element[i]->str;
        redisReply *h, *w;
        struct budget_request *q;
        char *s;

        if ((int)count >= limit)
            break;
        h = rlink_command(l, cause, "HGETALL %s%s", COST_PREFIX "req:", id);
        if (h == NULL)
            goto fail;
        s = hash_field(h, "status");
        if (*s == '\0' || (open_only && strcmp(s, "open") != 0)) {
            free(s);
            freeReplyObject(h);
            continue;
        }
        w = rlink_command(l, cause, "SCARD %s%s:tasks", COST_PREFIX "req:", id);
        if (w == NULL) {
            free(s);
            freeReplyObject(h);
            goto fail;
        }
        reqs = xrealloc(reqs, (count + 1) * sizeof *reqs);
        q = &reqs[count++];
        memset(q, 0, sizeof *q);
        q->id = xstrdup(id);
        q->status = s;
        q->agent = hash_field(h, "agent");
        q->limit = hash_field(h, "limit");
        q->closed_why = hash_field(h, "closed_why");
        q->window = hash_field(h, "window");
        s = hash_field(h, "needed");
        q->needed = strtoll(s, NULL, 10);
        free(s);
        s = hash_field(h, "limit_value");
        q->cap = strtoll(s, NULL, 10);
        free(s);
        s = hash_field(h, "granted");
        q->granted = strtoll(s, NULL, 10);
        free(s);
        s = hash_field(h, "time_ms");
        q->time_ms = strtoll(s, NULL, 10);
        free(s);
        q->waiting = w->integer;
        freeReplyObject(w);
        w = rlink_command(l, cause, "SMEMBERS %s%s:agents", COST_PREFIX "req:", id);
        if (w == NULL) {
            freeReplyObject(h);
            count--;
            budget_request_clear(q);
            goto fail;
        }
        q->agents = join_members(w);
        freeReplyObject(w);
        freeReplyObject(h);
    }
    freeReplyObject(ids);
    *out = reqs;
    *n = count;
    return 0;
fail:
    freeReplyObject(ids);
    budget_requests_free(reqs, count);
    return -1;
}

void budget_requests_free(struct budget_request *r, size_t n)
{
    for (size_t i = 0; r != NULL && i < n; i++)
        budget_request_clear(&r[i]);
    free(r);
}

int budget_requests_sweep(struct rlink *l, int64_t now_ms, int *closed, char **cause)
{
    char now[24];
    const char *argv[4] = {COST_PREFIX, REGISTRY_AGENT_PREFIX, REGISTRY_SET_KEY, now};
    redisReply *r;

    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    r = rlink_eval(l, &lua_cost_sweep, 0, 4, argv, cause);
    if (r == NULL)
        return -1;
    if (closed != NULL)
        *closed = r->type == REDIS_REPLY_ARRAY ? (int)r->elements : 0;
    freeReplyObject(r);
    return 0;
}

static int decide(struct rlink *l, const char *op, const char *id, int64_t amount, int64_t *granted,
                  char **cause)
{
    struct audit_record rec;
    const char *argv[7 + AUDIT_ARGV_MAX];
    char key[64], amt[24], now[24], *reason = NULL, *item;
    redisReply *r;
    int argc = 0;

    for (const char *p = id; *p != '\0'; p++)
        if (*p < '0' || *p > '9' || p - id > 18) {
            *cause = xasprintf("\"%s\" is not a request id (a number)", id);
            return -1;
        }
    if (*id == '\0') {
        *cause = xstrdup("a request id is a number");
        return -1;
    }
    snprintf(key, sizeof key, COST_PREFIX "req:%s", id);
    if (amount >= 0) {
        char money[MONEY_BUF];

        snprintf(amt, sizeof amt, "%lld", (long long)amount);
        reason = xasprintf("amount %s", money_format(amount, money, sizeof money));
    } else {
        amt[0] = '\0';
    }
    item = xasprintf("budget-request:%s", id);
    if (audit_record_fill(&rec, strcmp(op, "grant") == 0 ? "budget-grant" : "budget-decline", item,
                          reason, cause) == -1) {
        free(reason);
        free(item);
        return -1;
    }
    free(reason);
    snprintf(now, sizeof now, "%s", rec.time_ms);
    argv[argc++] = key;
    argv[argc++] = COST_PREFIX "req:open";
    argv[argc++] = AUDIT_KEY;
    argv[argc++] = op;
    argv[argc++] = amt;
    argv[argc++] = now;
    argv[argc++] = AUDIT_MAXLEN_STR;
    for (int i = 0; i < rec.argc; i++)
        argv[argc++] = rec.argv[i];
    r = rlink_eval(l, &lua_cost_request, 3, argc, argv, cause);
    audit_record_done(&rec);
    free(item);
    if (r == NULL)
        return -1;
    if (granted != NULL)
        *granted = strtoll(rlink_reply_str(r, 1), NULL, 10);
    freeReplyObject(r);
    return 0;
}

int budget_grant(struct rlink *l, const char *id, int64_t amount, int64_t *granted, char **cause)
{
    return decide(l, "grant", id, amount, granted, cause);
}

int budget_decline(struct rlink *l, const char *id, char **cause)
{
    return decide(l, "decline", id, -1, NULL, cause);
}
