/*
 * cost.c - the budgeted LLM call, and the budgeted media call of the visual chain; see cost.h.
 * A struct cost holds only borrowed pointers and the agent's id, and belongs to the thread of
 * its link.
 */
#include "cost/cost.h"

#include "core/clock.h"
#include "core/fail.h"
#include "core/log.h"
#include "cost/journal.h"
#include "llm/cache.h"
#include "llm/chain.h"
#include "observe/trace.h"
#include "store/rlink.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct cost {
    struct rlink *l;
    const struct pricing *p;
    struct budget_options o;
    char *agent;
    struct llm_cache *cache;
    char *cache_task_types; /* owned; the policy of llm_cache_wants() */
};

/* Retries of a call that failed in a retryable way, within one reservation. */
#define COST_ATTEMPTS    3
#define COST_MAX_WAIT_MS 30000

void cost_set_cache(struct cost *c, struct llm_cache *cache)
{
    c->cache = cache;
}

struct cost *cost_new(struct rlink *l, const struct pricing *p, const struct budget_options *o,
                      const char *agent)
{
    struct cost *c = xcalloc(1, sizeof *c);

    c->l = l;
    c->p = p;
    c->o = *o;
    c->agent = xstrdup(agent);
    c->cache_task_types = xstrdup(o->cache_task_types != NULL ? o->cache_task_types : "*");
    c->o.cache_task_types = c->cache_task_types;
    return c;
}

void cost_free(struct cost *c)
{
    if (c == NULL)
        return;
    free(c->agent);
    free(c->cache_task_types);
    free(c);
}

const struct pricing_model *cost_model_for(const struct pricing *p, const struct llm_request *req)
{
    const struct pricing_model *m = req->model != NULL ? pricing_model(p, req->model) : NULL;
    enum llm_tier t = LLM_FAST;

    if (m != NULL)
        return m;
    if (req->task_type == NULL || pricing_task_tier(p, req->task_type, &t) == -1)
        t = LLM_FAST;
    return pricing_tier_model(p, t);
}

int64_t cost_estimate(const struct pricing *p, const struct llm_request *req)
{
    size_t bytes = 0;
    int tokens, est;

    for (size_t i = 0; i < req->nmessages; i++)
        if (req->messages[i].content != NULL)
            bytes += strlen(req->messages[i].content);
    /* An upper bound, not a guess: a reservation that comes out short would let the actual
     * cost pass the limit. Every token is at least one byte; chat formats add a few tokens
     * per message and for the reply. */
    tokens = (int)(bytes > (size_t)INT_MAX / 2 ? INT_MAX / 2 : bytes) + 4 * (int)req->nmessages + 3;
    est = llm_estimate_prompt_tokens(req);
    if (est > tokens)
        tokens = est;
    return pricing_cost(cost_model_for(p, req), tokens, req->max_tokens > 0 ? req->max_tokens : 0);
}

/* The reservation for req through provider: the dearest model that may answer it (a
 * fallback chain's members; "" is the request's own model). */
static int64_t reserve_for(const struct cost *c, struct llm_provider *provider,
                           const struct llm_request *req)
{
    const char *models[LLM_CHAIN_MAX];
    size_t n = llm_provider_models(provider, req->tier, models, LLM_CHAIN_MAX);
    int64_t most = cost_estimate(c->p, req);

    for (size_t i = 0; i < n; i++) {
        struct llm_request r = *req;
        int64_t e;

        if (models[i][0] == '\0')
            continue;
        r.model = models[i];
        if ((e = cost_estimate(c->p, &r)) > most)
            most = e;
    }
    return most;
}

/* The usage record could not reach Redis: into the journal, to be replayed when the link is
 * back; only when there is none is it lost, loudly. */
static void keep_usage(struct cost *c, const struct usage_record *u, const char *id, int64_t t_ms,
                       char *why)
{
    char *jwhy = NULL;

    if (!rlink_connected(c->l) && journal_append(u, id, t_ms, &jwhy) == 0) {
        log_warn("cost: usage of a %s call by %s kept in the journal (Redis: %s)", u->model,
                 c->agent, why);
    } else {
        /* The call was made and paid for: its answer is kept (a retry would pay twice); the
         * reservation, still counted, lapses after its TTL. */
        log_error("cost: usage of a %s call by %s not recorded: %s%s%s", u->model, c->agent, why,
                  jwhy != NULL ? "; journal: " : "", jwhy != NULL ? jwhy : "");
    }
    free(jwhy);
    free(why);
}

/* Records u (its uid and agent filled here) under reservation id (NULL: none), keeping it in
 * the journal when Redis cannot be reached, and replays what the journal holds when it can. */
static void commit_usage(struct cost *c, const char *id, struct usage_record *u)
{
    char uid[USAGE_UID_MAX], *why = NULL;
    int64_t t_ms = clock_wall_ms();

    usage_new_uid(uid);
    u->uid = uid;
    u->agent = c->agent;
    if (budget_commit(c->l, &c->o, t_ms, id, u, NULL, &why) == -1) {
        keep_usage(c, u, id, t_ms, why);
    } else if (journal_pending() && journal_replay(c->l, &c->o, NULL, &why) == -1) {
        log_warn("cost: the usage journal waits for Redis: %s", why);
        free(why);
    }
    u->uid = NULL;
}

int cost_complete(struct cost *c, struct llm_provider *provider, const char *task,
                  const struct llm_request *request, struct llm_response *resp,
                  struct budget_refusal *refusal, struct llm_error *err, char **cause)
{
    const struct pricing_model *m = cost_model_for(c->p, request);
    const struct pricing_model *served;
    struct llm_request rq = *request, *req = &rq;
    char id[BUDGET_ID_MAX], model[LLM_SERVED_MAX], kind[16] = "";
    struct usage_record u = {0};
    struct trace_gen gen;
    const char *colon;
    char *why = NULL;
    int64_t t0, reserved, in_cost;
    int rc;

    /* The tier picks the fallback chain: the tier of the priced model. */
    rq.tier = m->tier;
    reserved = reserve_for(c, provider, req);
    rc = budget_reserve(c->l, &c->o, clock_wall_ms(), c->agent, task, reserved, id, refusal, cause);
    if (rc == -1)
        return COST_FAILED;
    if (rc == 1)
        return COST_DEFERRED;
    t0 = clock_mono_ms();
    memset(resp, 0, sizeof *resp);
    trace_gen_begin(&gen, task, req, req->model != NULL ? req->model : m->name, m->tier);
    /* Only task types whose prompts come back are worth a lookup and a store; a miss is asked
     * with the same retries as any call. */
    rc = llm_complete_cached(llm_cache_wants(c->cache_task_types, req->task_type) ? c->cache : NULL,
                             provider, req, resp, err, COST_ATTEMPTS, COST_MAX_WAIT_MS, cause);
    if (rc == -1) {
        trace_gen_end(&gen, NULL, *cause, 0, 0, NULL);
        if (budget_release(c->l, &c->o, clock_wall_ms(), id, &why) == -1)
            free(why); /* the reservation lapses by itself after its TTL */
        return COST_FAILED;
    }
    /* Priced as the model that served it ("kind:model"; a cache hit: the request's). */
    colon = strchr(resp->served_by, ':');
    snprintf(model, sizeof model, "%s",
             colon != NULL ? colon + 1 : (req->model != NULL ? req->model : m->name));
    served = pricing_model(c->p, model);
    if (served == NULL)
        served = m;
    u.task = task;
    u.task_type = req->task_type;
    u.model = model;
    if (colon != NULL)
        snprintf(kind, sizeof kind, "%.*s", (int)(colon - resp->served_by), resp->served_by);
    u.provider = kind;
    u.fallback = resp->fallback;
    u.tier = m->tier;
    u.prompt_tokens = resp->prompt_tokens;
    u.completion_tokens = resp->completion_tokens;
    u.duration_ms = resp->latency_ms > 0 ? resp->latency_ms : clock_mono_ms() - t0;
    u.confidence = resp->confidence;
    u.cached = resp->cached;
    u.cost = resp->cached ? 0 : pricing_cost(served, resp->prompt_tokens, resp->completion_tokens);
    if (u.cost > reserved)
        /* Only a provider that ignores max_tokens gets here: the money is spent, so it is
         * recorded (and can pass the limit); say so loudly. */
        log_error("cost: %s call by %s cost %lld µ$, more than the %lld µ$ reserved", u.model,
                  c->agent, (long long)u.cost, (long long)reserved);
    /* The trace records what the usage record says: the model that served, the tokens and
     * the cost (the prompt's share priced alone, the rest the completion's). */
    in_cost = u.cached ? 0 : pricing_cost(served, resp->prompt_tokens, 0);
    trace_gen_end(&gen, resp, NULL, u.cost, in_cost < u.cost ? in_cost : u.cost, model);
    commit_usage(c, id, &u);
    return COST_OK;
}

int cost_media_reserve(struct cost *c, const char *task, const struct pricing_media *m,
                       double units, char id[BUDGET_ID_MAX], struct budget_refusal *refusal,
                       char **cause)
{
    int64_t amount = pricing_media_cost(m, units);
    int rc;

    /* A free call (a Pexels search) holds nothing: it is recorded at commit without a
     * reservation (a reservation of 0 would be taken back as "-0", which Redis refuses as an
     * integer). */
    if (amount == 0) {
        id[0] = '\0';
        return COST_OK;
    }
    rc = budget_reserve(c->l, &c->o, clock_wall_ms(), c->agent, task, amount, id, refusal, cause);
    return rc == -1 ? COST_FAILED : rc == 1 ? COST_DEFERRED : COST_OK;
}

int64_t cost_media_commit(struct cost *c, const char *task, const struct pricing_media *m,
                          double units, const char *id, int64_t duration_ms)
{
    struct usage_record u = {0};
    enum llm_tier tier = LLM_FAST;

    if (pricing_task_tier(c->p, m->task, &tier) == -1)
        tier = LLM_FAST;
    u.task = task;
    u.task_type = m->task;
    u.model = m->name;
    u.provider = m->provider;
    u.tier = tier;
    u.duration_ms = duration_ms;
    u.confidence = -1;
    u.cost = pricing_media_cost(m, units);
    commit_usage(c, id[0] != '\0' ? id : NULL, &u);
    return u.cost;
}

void cost_media_release(struct cost *c, const char *id)
{
    char *why = NULL;

    if (id[0] != '\0' && budget_release(c->l, &c->o, clock_wall_ms(), id, &why) == -1)
        free(why); /* the reservation lapses by itself after its TTL */
}

const struct pricing *cost_pricing(const struct cost *c)
{
    return c->p;
}
