/*
 * agent.c - the agent loop, the role table and the swarm. Each agent thread owns everything it
 * talks to Redis or a model through (link, bb, registry, cost, provider), made and freed on
 * that thread; the swarm's controlling thread only starts, signals (the stop flag) and joins
 * them. Shared and read-only after start: the options, config and pricing; shared and
 * synchronised: the wire (its mutex), the in-flight count and each agent's counters (atomics),
 * and the stop flag (an atomic_int written once by swarm_stop(), which is what
 * clock_sleep_ms_until() watches to cut an idle sleep short).
 */
#include "agents/agent.h"

#include "agents/wire.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "core/text.h"
#include "cost/budget.h"
#include "cost/cost.h"
#include "cost/pricing.h"
#include "llm/cache.h"
#include "observe/trace.h"
#include "recovery/shared.h"
#include "memory/memory.h"
#include "store/blackboard.h"
#include "store/bus.h"
#include "store/control.h"
#include "store/embedded.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SWARM_MAX_AGENTS  256
#define AGENT_IDLE_MAX_MS 200
/* Between polls of a role the doorbell wakes: a ring lost to a reconnect costs this much. */
#define AGENT_WAKE_IDLE_MAX_MS 1000
#define AGENT_HALT_POLL_MS     100
/* How long a read of the halt flag stands: halting takes at most this plus one cycle. */
#define AGENT_HALT_CACHE_MS 250
/* At most one registry status change in this long (paused always goes at once). */
#define AGENT_STATUS_MIN_MS 500
#define DOORBELL_KEYS       24
#define DOORBELL_NAME_MAX   40

extern const struct agent_role role_scout;
extern const struct agent_role role_analyst;
extern const struct agent_role role_debater;
extern const struct agent_role role_moderator;
extern const struct agent_role role_publisher;
extern const struct agent_role role_archivist;
extern const struct agent_role role_approver;
extern const struct agent_role role_writer;
extern const struct agent_role role_qa;
extern const struct agent_role role_producer;

const struct agent_role *const agent_table[] = {&role_scout,
                                                &role_analyst,
                                                &role_debater,
                                                &role_moderator,
                                                &role_publisher,
                                                &role_archivist,
                                                &role_approver,
                                                &role_writer,
                                                &role_qa,
                                                &role_producer,
                                                NULL};

const struct agent_role *agent_role_find(const char *name)
{
    for (size_t i = 0; agent_table[i] != NULL; i++)
        if (strcmp(agent_table[i]->name, name) == 0)
            return agent_table[i];
    return NULL;
}

struct agent {
    struct swarm *swarm;
    struct agent_ctx ctx;
    struct agent_stats stats;
    pthread_t thread;
    bool started;
    /* The story the cycle works on (agent_hold), "" between cycles: the heart keeps only its
     * lock alive, so a claim the agent had to let go without saying so (Redis failed under it)
     * lapses and goes back. Guarded by claim_mu (the agent writes, the heart reads). */
    pthread_mutex_t claim_mu;
    char claim_id[NEWS_ID_MAX + 1];
};

static struct agent *agent_of(struct agent_ctx *ctx)
{
    return (struct agent *)(void *)((char *)ctx - offsetof(struct agent, ctx));
}

static void agent_claim_set(struct agent_ctx *ctx, const char *id)
{
    struct agent *a = agent_of(ctx);

    pthread_mutex_lock(&a->claim_mu);
    snprintf(a->claim_id, sizeof a->claim_id, "%s", id);
    pthread_mutex_unlock(&a->claim_mu);
}

/* The doorbell: one subscriber per swarm on WAKE_CHANNEL; each ring bumps the generation of
 * its name and wakes the agents waiting. Names are fixed before the subscriber starts. */
struct doorbell {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC; signalled on a ring and on stop */
    char names[DOORBELL_KEYS][DOORBELL_NAME_MAX];
    uint64_t gen[DOORBELL_KEYS]; /* guarded by mu */
    int n;
    struct bus_sub *sub; /* NULL: no doorbell (agents poll) */
};

/* The flow as the heart last read it (bb_flow_read, once a reap pass): the heart thread
 * writes, the agents read, all through atomics. depth and the estimated wait are per flow
 * stage; lessons per role of agent_table (the memory's lesson counts, MEMORY_LESSONS_KEY).
 * The rate estimate (prev_*, rate, last_drain_ms) is the heart's alone. */
#define FLOW_ROLES_MAX 16
struct swarm_flow {
    atomic_int known; /* a reading has been taken */
    atomic_long depth[BB_FLOW_COUNT];
    atomic_llong wait_ms[BB_FLOW_COUNT];
    atomic_llong lessons[FLOW_ROLES_MAX];
    atomic_llong lessons_gen;
    atomic_llong lessons_here[FLOW_ROLES_MAX]; /* memory_learned_here() when they were read */
    long long prev_drained[BB_FLOW_COUNT];
    double rate[BB_FLOW_COUNT]; /* stories a second, an exponential average */
    int64_t prev_ms, last_drain_ms[BB_FLOW_COUNT];
};
_Static_assert(CONFIG_FLOW_STAGES == BB_FLOW_COUNT, "[flow] has one mark per flow stage");

struct swarm {
    struct swarm_options o;
    struct swarm_flow flow;
    struct bb_retry retry; /* every agent's policy (o's, with the defaults filled in) */
    struct doorbell bell;
    struct wire *wire;
    atomic_long inflight;
    atomic_int stop;
    atomic_int running; /* agents inside their loop */
    atomic_int exited;  /* agent threads that have returned (stopped or failed to start) */
    struct agent *agents;
    int nagents;
    bool shared; /* recovery_shared_start() done: undone once by swarm_stop() */
    pthread_t heart;
    bool heart_started;
    atomic_int heart_stop; /* set once every agent thread has been joined */
};

/* After a memory that could not be opened, the next try waits this long. */
#define AGENT_MEMORY_RETRY_MS 30000

struct memory *agent_memory(struct agent_ctx *ctx)
{
    char *cause = NULL;

    if (ctx->memory != NULL || ctx->cfg == NULL || !memory_enabled(ctx->cfg) ||
        clock_mono_ms() < ctx->memory_retry_ms)
        return ctx->memory;
    ctx->memory = memory_open(ctx->cfg, ctx->link, &cause);
    if (ctx->memory == NULL) {
        log_warn("%s: no vector memory (going on without it; next try in %d s): %s", ctx->id,
                 AGENT_MEMORY_RETRY_MS / 1000, cause != NULL ? cause : "off");
        free(cause);
        ctx->memory_retry_ms = clock_mono_ms() + AGENT_MEMORY_RETRY_MS;
    }
    return ctx->memory;
}

/* ---- the flow ---- */

/* How the rate of each stage's drain moves: the weight of the newest reading. */
#define FLOW_RATE_WEIGHT 0.2

/* The heart's thread: takes in a reading. A stage's wait is what a story joining it now would
 * wait: its depth over the rate it drains, and at least the time since it last drained while
 * stories wait in it (a stage that stopped draining has a wait that grows). */
static void flow_update(struct swarm *s, const struct bb_flow_reading *r,
                        const long long here[FLOW_ROLES_MAX])
{
    struct swarm_flow *f = &s->flow;
    double dt =
        f->prev_ms > 0 && r->now_ms > f->prev_ms ? (double)(r->now_ms - f->prev_ms) / 1e3 : 0;

    for (int i = 0; i < BB_FLOW_COUNT; i++) {
        long long d = r->drained[i] - f->prev_drained[i];
        int64_t wait = 0;

        if (f->prev_ms == 0) {
            f->last_drain_ms[i] = r->now_ms;
        } else if (dt > 0) {
            double now_rate = d > 0 ? (double)d / dt : 0;

            f->rate[i] = (1 - FLOW_RATE_WEIGHT) * f->rate[i] + FLOW_RATE_WEIGHT * now_rate;
            if (d > 0)
                f->last_drain_ms[i] = r->now_ms;
        }
        f->prev_drained[i] = r->drained[i];
        if (r->depth[i] > 0) {
            int64_t idle = r->now_ms - f->last_drain_ms[i];

            wait = f->rate[i] > 1e-6 ? (int64_t)((double)r->depth[i] / f->rate[i] * 1e3)
                                     : INT64_MAX / 4;
            if (idle > wait || f->rate[i] <= 1e-6)
                wait = idle;
        }
        atomic_store(&f->depth[i], r->depth[i]);
        atomic_store(&f->wait_ms[i], wait);
    }
    f->prev_ms = r->now_ms;
    for (size_t k = 0; agent_table[k] != NULL && k < FLOW_ROLES_MAX; k++) {
        long long n = 0;

        for (size_t e = 0; e < r->nextra; e++)
            if (strcmp(r->extra_name[e], agent_table[k]->name) == 0)
                n = r->extra_value[e];
        atomic_store(&f->lessons[k], n);
        atomic_store(&f->lessons_here[k], here[k]);
    }
    for (size_t e = 0; e < r->nextra; e++)
        if (strcmp(r->extra_name[e], MEMORY_LESSONS_GEN) == 0)
            atomic_store(&f->lessons_gen, r->extra_value[e]);
    atomic_store(&f->known, 1);
}

/* The marks the configuration sets (the defaults without one). */
static void flow_marks(const struct config *c, long hwm[BB_FLOW_COUNT])
{
    for (int i = 0; i < BB_FLOW_COUNT; i++)
        hwm[i] = c != NULL ? c->flow_hwm[i] : 0;
}

void agent_flow_claim(const struct agent_ctx *ctx, int gate, int take_gate, bool stale,
                      struct bb_flow_opts *o)
{
    memset(o, 0, sizeof *o);
    o->gate = gate;
    o->take_gate = take_gate;
    o->gate_hwm = gate >= 0 && ctx->cfg != NULL ? ctx->cfg->flow_hwm[gate] : 0;
    o->take_hwm = take_gate >= 0 && ctx->cfg != NULL ? ctx->cfg->flow_hwm[take_gate] : 0;
    o->stale_ms = stale && ctx->cfg != NULL ? ctx->cfg->flow_stale_ms : 0;
}

bool agent_flow_resting(const struct agent_ctx *ctx)
{
    return ctx->flow_rest_until != 0 && clock_mono_ms() < ctx->flow_rest_until;
}

void agent_flow_note(struct agent_ctx *ctx, int rc)
{
    if (rc != BB_HELD) {
        ctx->flow_rest_ms = 0;
        ctx->flow_rest_until = 0;
        return;
    }
    ctx->flow_rest_ms = ctx->flow_rest_ms == 0 ? AGENT_FLOW_REST_MIN_MS : ctx->flow_rest_ms * 2;
    if (ctx->flow_rest_ms > AGENT_FLOW_REST_MAX_MS)
        ctx->flow_rest_ms = AGENT_FLOW_REST_MAX_MS;
    ctx->flow_rest_until = clock_mono_ms() + ctx->flow_rest_ms;
}

bool agent_flow_full(const struct agent_ctx *ctx, int stage)
{
    const struct swarm_flow *f = ctx->flow;
    long hwm = ctx->cfg != NULL ? ctx->cfg->flow_hwm[stage] : 0;

    return f != NULL && atomic_load(&f->known) && hwm > 0 && atomic_load(&f->depth[stage]) >= hwm;
}

bool agent_flow_wait(const struct agent_ctx *ctx, unsigned stages, char **why)
{
    const struct swarm_flow *f = ctx->flow;
    int64_t limit = ctx->cfg != NULL ? ctx->cfg->flow_max_wait_ms : 0, sum = 0, most = 0;
    int worst = -1;

    if (f == NULL || limit <= 0 || !atomic_load(&f->known))
        return false;
    for (int i = 0; i < BB_FLOW_COUNT; i++) {
        int64_t w;

        if (!(stages & (1u << i)))
            continue;
        w = atomic_load(&f->wait_ms[i]);
        sum = w > INT64_MAX / 8 || sum > INT64_MAX / 8 ? INT64_MAX / 4 : sum + w;
        if (w > most) {
            most = w;
            worst = i;
        }
    }
    if (sum <= limit)
        return false;
    *why = xasprintf("held before a paid call: it would then wait %s%lld s, most of it at the "
                     "%s stage (%ld waiting; the limit is %lld s)",
                     sum >= INT64_MAX / 4 ? "more than " : "about ",
                     (long long)((sum >= INT64_MAX / 4 ? limit : sum) / 1000),
                     bb_flow_stages[worst].name, atomic_load(&f->depth[worst]),
                     (long long)(limit / 1000));
    return true;
}

void agent_lessons(const struct agent_ctx *ctx, const char *role, struct memory_known *k)
{
    const struct swarm_flow *f = ctx->flow;

    k->lessons = -1;
    k->gen = k->here = 0;
    if (f == NULL || !atomic_load(&f->known))
        return;
    for (size_t i = 0; agent_table[i] != NULL && i < FLOW_ROLES_MAX; i++)
        if (strcmp(agent_table[i]->name, role) == 0) {
            k->here = atomic_load(&f->lessons_here[i]);
            k->gen = atomic_load(&f->lessons_gen);
            k->lessons = atomic_load(&f->lessons[i]);
        }
}

bool agent_halted(struct agent_ctx *ctx)
{
    struct control_halt h;
    char *cause = NULL;
    int64_t now = clock_mono_ms();

    if (ctx->halt_read_ms != 0 && now - ctx->halt_read_ms < AGENT_HALT_CACHE_MS)
        return ctx->halt_seen;
    if (control_halt_read(ctx->link, &h, &cause) == -1) {
        log_debug("%s: cannot read the halt flag: %s", ctx->id, cause);
        free(cause);
        ctx->halt_read_ms = 0;
        return true;
    }
    ctx->halt_seen = h.halted;
    ctx->halt_read_ms = now;
    control_halt_clear(&h);
    return ctx->halt_seen;
}

/* ---- the doorbell ---- */

static int bell_find(const struct doorbell *b, const char *name, size_t len)
{
    for (int i = 0; i < b->n; i++)
        if (strlen(b->names[i]) == len && memcmp(b->names[i], name, len) == 0)
            return i;
    return -1;
}

/* The subscriber's thread: a ring. */
static void bell_ring(const char *text, size_t len, void *ctx)
{
    struct doorbell *b = ctx;
    int i = bell_find(b, text, len);

    if (i < 0)
        return; /* nobody here waits for it */
    pthread_mutex_lock(&b->mu);
    b->gen[i]++;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* The subscriber's thread: an emergency broadcast goes to the log (the halt flag, which
 * every agent reads, is what stops the work; an alert-only emergency is for the people
 * watching). */
static void bell_emergency(const struct msg *m, const char *channel, void *ctx)
{
    const char *text = json_string_value(json_object_get(m->payload, "message"));
    char *safe = text_safe(text, 512), *from = text_safe(m->sender, 128);

    (void)channel;
    (void)ctx;
    log_warn("swarm: EMERGENCY from %s%s: %s", from,
             json_is_true(json_object_get(m->payload, "halt")) ? " (halt)" : "", safe);
    free(safe);
    free(from);
}

/* Starts the doorbell for every name the swarm's roles wait on, and hears emergencies; when
 * the subscriber cannot start, the agents just poll. */
static void bell_start(struct swarm *s)
{
    struct doorbell *b = &s->bell;
    struct rlink_options lo = s->o.link;
    char *cause = NULL, name[REGISTRY_ID_MAX + 32];

    for (int i = 0; i < s->nagents; i++)
        for (const char *const *w = s->agents[i].ctx.role->wake;
             w < s->agents[i].ctx.role->wake + AGENT_WAKE_MAX && *w != NULL; w++)
            if (bell_find(b, *w, strlen(*w)) < 0 && b->n < DOORBELL_KEYS &&
                strlen(*w) < DOORBELL_NAME_MAX)
                snprintf(b->names[b->n++], DOORBELL_NAME_MAX, "%s", *w);
    snprintf(name, sizeof name, "nr-doorbell-%ld", (long)getpid());
    if (lo.client_name == NULL)
        lo.client_name = name;
    b->sub = bus_sub_new(&s->o.addr, &lo);
    if ((b->n > 0 && bus_sub_add_raw(b->sub, WAKE_CHANNEL, bell_ring, b, &cause) == -1) ||
        bus_sub_add_channel(b->sub, bus_broadcast_channel(BUS_EMERGENCY), &cause) == -1 ||
        bus_sub_on(b->sub, MSG_EMERGENCY, bell_emergency, NULL, &cause) == -1 ||
        bus_sub_start(b->sub, &cause) == -1) {
        log_warn("swarm: no doorbell, the agents poll: %s", cause);
        free(cause);
        bus_sub_free(b->sub);
        b->sub = NULL;
    }
}

/* The generations of the role's names into snap (0 for names the bell lacks). */
static void bell_snapshot(struct doorbell *b, const struct agent_role *r,
                          uint64_t snap[AGENT_WAKE_MAX])
{
    pthread_mutex_lock(&b->mu);
    for (int k = 0; k < AGENT_WAKE_MAX && r->wake[k] != NULL; k++) {
        int i = bell_find(b, r->wake[k], strlen(r->wake[k]));

        snap[k] = i < 0 ? 0 : b->gen[i];
    }
    pthread_mutex_unlock(&b->mu);
}

/* Waits up to ms for a ring of one of the role's names since snap, or the swarm's stop.
 * Returns the names that rang, bit k for r->wake[k] (0: a timeout, the stop). */
static unsigned bell_wait(struct swarm *s, const struct agent_role *r,
                          const uint64_t snap[AGENT_WAKE_MAX], int ms)
{
    struct doorbell *b = &s->bell;
    struct timespec until;
    unsigned rang = 0;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&b->mu);
    while (atomic_load(&s->stop) == 0) {
        for (int k = 0; k < AGENT_WAKE_MAX && r->wake[k] != NULL; k++) {
            int i = bell_find(b, r->wake[k], strlen(r->wake[k]));

            if (i >= 0 && b->gen[i] != snap[k])
                rang |= 1u << k;
        }
        if (rang != 0 || pthread_cond_timedwait(&b->cv, &b->mu, &until) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&b->mu);
    return rang;
}

enum llm_tier agent_tier(const struct agent_ctx *ctx, enum llm_tier want)
{
    return ctx->baseline ? LLM_PREMIUM : want;
}

bool agent_savings(const struct agent_ctx *ctx)
{
    return !ctx->baseline;
}

/* The provider's abort check (llm_provider_set_abort): no retry once the swarm stops or is
 * halted. On the agent's thread. */
static bool agent_go_on(void *arg)
{
    struct agent_ctx *ctx = arg;

    return atomic_load(ctx->stop) == 0 && !agent_halted(ctx);
}

int agent_ask(struct agent_ctx *ctx, const char *task, enum llm_tier tier, const char *task_type,
              const char *system, const char *user, int max_tokens, uint64_t seed, json_t **answer,
              char **cause)
{
    struct llm_message msgs[2] = {{"system", system}, {"user", user}};
    struct llm_request req = {0};
    struct llm_response resp = {0};
    struct budget_refusal refusal;
    struct llm_error err;
    char *why = NULL;
    int rc;

    *answer = NULL;
    atomic_store(&ctx->life_ms, clock_mono_ms());
    if (agent_lost(ctx)) {
        *cause =
            xasprintf("the claim of %s was taken back before a %s call", ctx->held->id, task_type);
        return AGENT_ASK_LOST;
    }
    if (agent_halted(ctx)) {
        atomic_fetch_add(&ctx->stats->halt_checks, 1);
        *cause = xasprintf("the swarm is halted");
        return AGENT_ASK_HALTED;
    }
    req.model = pricing_tier_model(ctx->pricing, agent_tier(ctx, tier))->name;
    req.messages = msgs;
    req.nmessages = 2;
    req.temperature = 0.3;
    req.max_tokens = max_tokens;
    req.json = true;
    req.task_type = task_type;
    req.seed = ctx->held != NULL && ctx->held_attempts > 0
                   ? seed ^ ((uint64_t)ctx->held_attempts << 32)
                   : seed;
    memset(&err, 0, sizeof err);
    rc = cost_complete(ctx->cost, ctx->provider, task, &req, &resp, &refusal, &err, &why);
    atomic_store(&ctx->life_ms, clock_mono_ms());
    if (rc == COST_DEFERRED) {
        atomic_fetch_add(&ctx->stats->deferred, 1);
        ctx->refusal = refusal;
        *cause = xasprintf("budget deferred by the %s limit", refusal.limit);
        return AGENT_ASK_DEFERRED;
    }
    if (rc == COST_FAILED) {
        bool stopped = !agent_go_on(ctx);

        *cause = xasprintf("%s call failed: %s", task_type, why);
        free(why);
        /* Given up because the swarm stopped or halted: not the story's fault. Neither is a
         * provider's outage (retryable), nor a budget or link that could not be reached (no
         * answer from the provider at all); only a fatal answer is. */
        if (stopped)
            return AGENT_ASK_HALTED;
        return err.kind == LLM_ERR_FATAL ? AGENT_ASK_FAILED : AGENT_ASK_OUTAGE;
    }
    atomic_fetch_add(&ctx->stats->llm_calls, 1);
    *answer = json_loads(resp.text, 0, NULL);
    llm_response_clear(&resp);
    if (!json_is_object(*answer)) {
        json_decref(*answer);
        *answer = NULL;
        *cause = xasprintf("the %s answer was not a JSON object", task_type);
        return AGENT_ASK_FAILED;
    }
    return AGENT_ASK_OK;
}

void agent_hold(struct agent_ctx *ctx, const struct bb_lock *lk, int attempts)
{
    ctx->held = lk;
    ctx->held_attempts = attempts;
    ctx->held_reaped = atomic_load(&ctx->reaped);
    agent_claim_set(ctx, lk->id);
    trace_task(lk->id);
}

bool agent_again(struct agent_ctx *ctx, int *rc, int64_t *since, char **cause)
{
    int64_t now = clock_mono_ms(), wait;
    struct bb_item *it = NULL;
    char *why = NULL;

    if (*rc == BB_REFUSED && *since != 0 && ctx->held != NULL) {
        /* Refused after a try whose answer was lost: if the story's last change is ours, that
         * try was carried out. */
        if (bb_read(ctx->bb, ctx->held->id, &it, &why) == BB_OK && strcmp(it->by, ctx->id) == 0) {
            free(*cause);
            *cause = NULL;
            *rc = BB_OK;
        }
        bb_item_free(it);
        free(why);
        return false;
    }
    if (*rc != BB_ERR || atomic_load(ctx->stop))
        return false;
    if (*since == 0)
        *since = now;
    if (now - *since > ctx->claim_ttl_ms / 2)
        return false;
    log_debug("%s: Redis failed under a write, trying again: %s", ctx->id, *cause);
    free(*cause);
    *cause = NULL;
    wait = (now - *since) / 4 + 100;
    clock_sleep_ms_until(wait < 1000 ? wait : 1000, ctx->stop);
    atomic_store(&ctx->life_ms, clock_mono_ms());
    return true;
}

bool agent_lost(const struct agent_ctx *ctx)
{
    return ctx->held != NULL && atomic_load(&ctx->reaped) != ctx->held_reaped;
}

void agent_release(struct agent_ctx *ctx, const struct bb_lock *lk)
{
    char *cause = NULL;

    if (bb_lock_release(ctx->bb, lk, &cause) != BB_OK) {
        log_warn("%s: cannot release %s: %s", ctx->id, lk->id, cause ? cause : "not ours");
        free(cause);
    }
}

const char *agent_json_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s != NULL ? s : "";
}

double agent_json_num(const json_t *o, const char *key, double def)
{
    const json_t *v = json_object_get(o, key);

    return json_is_number(v) ? json_number_value(v) : def;
}

void agent_free_state(struct agent_ctx *ctx, void *state)
{
    (void)ctx;
    free(state);
}

/* Sets the claimed story back (bb_setback), logging a failure: the claim then goes back when
 * this agent's lock or life ends. */
static void setback(struct agent_ctx *ctx, const struct bb_lock *lk, enum bb_setback kind,
                    const char *why, int64_t wait_ms, const char *req, const json_t *patch)
{
    char *cause = NULL;

    if (bb_setback(ctx->bb, lk->id, lk, kind, why, ctx->retry, wait_ms, req, patch, NULL, &cause) !=
        BB_OK) {
        log_warn("%s: cannot set %s back (%s): %s", ctx->id, lk->id, why,
                 cause ? cause : "refused");
        free(cause);
    }
}

void agent_park(struct agent_ctx *ctx, const struct bb_lock *lk, const char *why, int64_t wait_ms,
                const json_t *patch)
{
    setback(ctx, lk, BB_PARK, why, wait_ms, NULL, patch);
}

void agent_fail_story_with(struct agent_ctx *ctx, const struct bb_lock *lk, const char *why,
                           const json_t *patch)
{
    atomic_fetch_add(&ctx->stats->failed, 1);
    trace_failed_attempt();
    setback(ctx, lk, BB_ATTEMPT, why, -1, NULL, patch);
}

void agent_fail_story(struct agent_ctx *ctx, const struct bb_lock *lk, const char *why)
{
    agent_fail_story_with(ctx, lk, why, NULL);
}

int agent_checkpoint(struct agent_ctx *ctx, const struct bb_lock *lk, const json_t *patch,
                     char **cause)
{
    int64_t since = 0;
    int rc;

    do
        rc = bb_update(ctx->bb, lk->id, patch, lk, cause);
    while (agent_again(ctx, &rc, &since, cause));
    return rc == BB_OK ? 0 : -1;
}

/* How long a call the budget refused waits: until the refused window ends (a UTC hour or day,
 * with a few seconds of jitter so the waiting stories do not all come back at once), or, for a
 * per-task limit, which only a grant lifts, the step's park backoff (-1). */
static int64_t budget_wait_ms(const struct budget_refusal *r)
{
    int64_t now = clock_wall_ms(), hour = 3600000, day = 24 * hour, end;
    size_t n = strlen(r->window);

    if (n == 8)
        end = (now / day + 1) * day;
    else if (n == 10)
        end = (now / hour + 1) * hour;
    else
        return -1;
    return end - now + (int64_t)(clock_mono_ms() % 5000);
}

int agent_setback_ask(struct agent_ctx *ctx, const struct bb_lock *lk, int rc, char *why,
                      const json_t *patch, char **cause)
{
    switch (rc) {
    case AGENT_ASK_HALTED:
        setback(ctx, lk, BB_PARK, why, 0, NULL, patch);
        break;
    case AGENT_ASK_DEFERRED:
        setback(ctx, lk, BB_PARK, why, budget_wait_ms(&ctx->refusal), ctx->refusal.request_id,
                patch);
        break;
    case AGENT_ASK_OUTAGE:
        setback(ctx, lk, BB_PARK, why, -1, NULL, patch);
        break;
    case AGENT_ASK_LOST:
        log_info("%s: %s", ctx->id, why);
        break;
    default:
        agent_fail_story_with(ctx, lk, why, patch);
        *cause = xasprintf("%s: %s", lk->id, why);
        free(why);
        return -1;
    }
    log_debug("%s: %s set back: %s", ctx->id, lk->id, why);
    free(why);
    return 0;
}

/* The part of the host name that fits an agent id: [A-Za-z0-9.-], at most 24 bytes. */
static void host_part(char *out, size_t size)
{
    char host[256] = "";
    size_t j = 0;

    if (gethostname(host, sizeof host - 1) == -1 || host[0] == '\0')
        snprintf(host, sizeof host, "host");
    for (size_t i = 0; host[i] != '\0' && j + 1 < size && j < 24; i++) {
        char c = host[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '-')
            out[j++] = c;
    }
    out[j] = '\0';
}

static void agent_set_status(struct agent_ctx *ctx, struct registry *reg, enum registry_status *cur,
                             enum registry_status want)
{
    static _Thread_local int64_t last_ms;
    char *cause = NULL;
    int64_t now = clock_mono_ms();

    /* Busy and idle flip at every cycle: the registry hears of it at most every
     * AGENT_STATUS_MIN_MS (a pause at once), which is all a control room can show anyway. */
    if (*cur == want || (want != REGISTRY_PAUSED && now - last_ms < AGENT_STATUS_MIN_MS))
        return;
    last_ms = now;
    if (registry_set_status(reg, want, &cause) == -1) {
        log_debug("%s: cannot set status %s: %s", ctx->id, registry_status_name(want), cause);
        free(cause);
        return;
    }
    *cur = want;
}

static void *agent_main(void *arg)
{
    struct agent *a = arg;
    struct agent_ctx *ctx = &a->ctx;
    struct swarm *s = a->swarm;
    struct rlink_options lo = s->o.link;
    struct llm_provider_config pc;
    struct llm_cache *cache = NULL;
    struct budget_options bo;
    struct registry_agent ra;
    struct registry *reg;
    enum registry_status status = REGISTRY_IDLE;
    char name[REGISTRY_ID_MAX + 32], *cause = NULL;
    void *state = NULL;
    int64_t idle_ms = 0;
    int64_t idle_max = s->bell.sub != NULL && ctx->role->wake[0] != NULL ? AGENT_WAKE_IDLE_MAX_MS
                                                                         : AGENT_IDLE_MAX_MS;
    uint64_t snap[AGENT_WAKE_MAX] = {0};
    const int ttl = s->o.heartbeat_ttl_ms;

    lo.client_name = embedded_client_name(ctx->id, name, sizeof name);
    ctx->link = rlink_new(&s->o.addr, &lo);
    ctx->bb = bb_new(ctx->link, ctx->id);
    reg = registry_new(ctx->link);
    budget_options_from_config(&bo, s->o.cfg);
    ctx->cost = cost_new(ctx->link, s->o.pricing, &bo, ctx->id);
    /* The response cache is one of the savings the cost baseline goes without. */
    if (!s->o.baseline && s->o.cfg->llm_cache_ttl_s > 0) {
        cache = llm_cache_new(ctx->link, s->o.cfg->llm_cache_ttl_s);
        cost_set_cache(ctx->cost, cache);
    }
    llm_provider_config_from(&pc, s->o.cfg, s->o.cfg->llm_kind);
    ctx->provider = llm_provider_new(&pc, &cause);
    if (ctx->provider == NULL) {
        log_error("%s: no LLM provider: %s", ctx->id, cause);
        free(cause);
        goto out;
    }
    llm_provider_set_abort(ctx->provider, agent_go_on, ctx);
    trace_agent(ctx->id, ctx->role->name);
    if (ctx->role->init != NULL && ctx->role->init(ctx, &state, &cause) == -1) {
        log_error("%s: cannot start: %s", ctx->id, cause);
        free(cause);
        goto out;
    }
    memset(&ra, 0, sizeof ra);
    snprintf(ra.id, sizeof ra.id, "%s", ctx->id);
    snprintf(ra.role, sizeof ra.role, "%s", ctx->role->name);
    snprintf(ra.tier, sizeof ra.tier, "%s", pricing_tier_name(ctx->role->tier));
    ra.status = REGISTRY_IDLE;
    atomic_fetch_add(&s->running, 1);
    log_info("%s: started", ctx->id);

    while (!atomic_load(&s->stop)) {
        int64_t now = clock_mono_ms();
        int rc;

        /* The heart beats for it from now on; it registers (again, when the heart found its
         * record gone) here. */
        atomic_store(&ctx->life_ms, now);
        if (!atomic_load(&ctx->registered) || atomic_exchange(&ctx->reregister, 0)) {
            if (registry_register(reg, &ra, ttl, &cause) == 0) {
                atomic_store(&ctx->registered, 1);
            } else {
                log_warn("%s: registry: %s", ctx->id, cause);
                free(cause);
                cause = NULL;
                clock_sleep_ms_until(AGENT_IDLE_MAX_MS, &s->stop);
                continue;
            }
        }
        /* Nothing is claimed and no model is asked while the swarm is halted. */
        if (agent_halted(ctx)) {
            atomic_fetch_add(&ctx->stats->halt_checks, 1);
            agent_set_status(ctx, reg, &status, REGISTRY_PAUSED);
            clock_sleep_ms_until(AGENT_HALT_POLL_MS, &s->stop);
            continue;
        }
        bell_snapshot(&s->bell, ctx->role, snap);
        trace_cycle_begin();
        rc = ctx->role->cycle(ctx, state, &cause);
        trace_cycle_end(rc, cause);
        if (ctx->held != NULL) /* a claim never outlives its cycle's frame */
            agent_claim_set(ctx, "");
        ctx->held = NULL;
        ctx->held_attempts = 0;
        if (rc == 1) {
            atomic_fetch_add(&ctx->stats->cycles, 1);
            agent_set_status(ctx, reg, &status, REGISTRY_BUSY);
            idle_ms = 0;
            continue;
        }
        if (rc == -1) {
            log_warn("%s: %s", ctx->id, cause);
            free(cause);
            cause = NULL;
            idle_ms = AGENT_IDLE_MAX_MS;
        } else {
            idle_ms = idle_ms == 0 ? 5 : idle_ms * 2;
            if (idle_ms > idle_max)
                idle_ms = idle_max;
        }
        agent_set_status(ctx, reg, &status, REGISTRY_IDLE);
        if (s->bell.sub != NULL && ctx->role->wake[0] != NULL) {
            unsigned rang = bell_wait(s, ctx->role, snap, (int)idle_ms);

            /* The stage whose mark held it drained: the rest is over, it tries again now. */
            for (int k = 0; k < AGENT_WAKE_MAX && ctx->role->wake[k] != NULL; k++)
                if ((rang & 1u << k) && strncmp(ctx->role->wake[k], "drained:", 8) == 0)
                    ctx->flow_rest_until = 0;
        } else
            clock_sleep_ms_until(idle_ms, &s->stop);
    }
    if (ctx->role->shutdown != NULL)
        ctx->role->shutdown(ctx, state);
    if (atomic_exchange(&ctx->registered, 0) && registry_unregister(reg, &cause) == -1) {
        log_warn("%s: cannot unregister: %s", ctx->id, cause);
        free(cause);
    }
    atomic_fetch_sub(&s->running, 1);
    log_info("%s: stopped", ctx->id);
out:
    atomic_fetch_add(&s->exited, 1);
    memory_free(ctx->memory);
    ctx->memory = NULL;
    llm_provider_free(ctx->provider);
    cost_free(ctx->cost);
    llm_cache_free(cache);
    registry_free(reg);
    bb_free(ctx->bb);
    rlink_free(ctx->link);
    ctx->provider = NULL;
    ctx->cost = NULL;
    ctx->bb = NULL;
    ctx->link = NULL;
    return NULL;
}

/* ---- the heart ---- */

/* Whether the heart keeps agent a alive: registered, and showing signs of life (a cycle, a
 * call) within the stall limit. */
static bool heart_alive(const struct swarm *s, struct agent *a, int64_t now)
{
    int64_t life = atomic_load(&a->ctx.life_ms);

    return atomic_load(&a->ctx.registered) && life > 0 && now - life < s->o.stall_ms;
}

/* One pulse for every live agent of the swarm, keeping the claim each works on alive. 0, or
 * -1 when Redis failed. */
static int heart_beat(struct swarm *s, struct rlink *l, const char **ids,
                      char (*claims)[NEWS_ID_MAX + 1], struct registry_pulse_result *res,
                      struct agent **who)
{
    int64_t now = clock_mono_ms();
    const char **claim_ids = ids + s->nagents;
    size_t n = 0;
    char *cause = NULL;

    for (int i = 0; i < s->nagents; i++)
        if (heart_alive(s, &s->agents[i], now)) {
            struct agent *a = &s->agents[i];

            pthread_mutex_lock(&a->claim_mu);
            memcpy(claims[n], a->claim_id, sizeof claims[n]);
            pthread_mutex_unlock(&a->claim_mu);
            who[n] = a;
            claim_ids[n] = claims[n];
            ids[n++] = a->ctx.id;
        }
    if (n == 0)
        return 0;
    if (registry_pulse(l, ids, claim_ids, n, s->o.heartbeat_ttl_ms, s->o.claim_ttl_ms, res,
                       &cause) == -1) {
        log_warn("swarm: heartbeat: %s", cause);
        free(cause);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!res[i].exists)
            atomic_store(&who[i]->ctx.reregister, 1);
        if (res[i].reaped_ms > 0) {
            /* Declared dead while it lived: whatever it was doing belongs to others now. */
            log_warn("%s: was declared dead (its claims were taken back); alive again",
                     who[i]->ctx.id);
            atomic_fetch_add(&who[i]->ctx.reaped, 1);
        }
    }
    return 0;
}

/* The ids of the agents in local[0..n) whose process is gone (a new array of new strings in
 * *gone, *ngone of them): each pid is looked at once. */
static void heart_gone(const struct bb_local_agent *local, size_t n, char ***gone, size_t *ngone)
{
    *gone = NULL;
    *ngone = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false, dead = false;

        for (size_t k = 0; k < i && !seen; k++)
            if (local[k].pid == local[i].pid) {
                seen = true;
                dead = registry_process_gone(local[k].pid, local[k].pstart);
            }
        if (!seen)
            dead = registry_process_gone(local[i].pid, local[i].pstart);
        if (dead) {
            *gone = xrealloc(*gone, (*ngone + 1) * sizeof **gone);
            (*gone)[(*ngone)++] = xstrdup(local[i].id);
        }
    }
}

static void strings_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The heart thread: heartbeats, the reaper, and the last resort for lapsed locks. */
static void *heart_main(void *arg)
{
    struct swarm *s = arg;
    struct rlink_options lo = s->o.link;
    char name[64], actor[REGISTRY_ID_MAX + 1], host[32], host_key[192], *cause = NULL;
    struct registry_pulse_result *res = xcalloc((size_t)s->nagents, sizeof *res);
    struct agent **who = xcalloc((size_t)s->nagents, sizeof *who);
    const char **ids = xcalloc(2 * (size_t)s->nagents, sizeof *ids);
    char(*claims)[NEWS_ID_MAX + 1] = xcalloc((size_t)s->nagents, sizeof *claims);
    char **gone = NULL;
    size_t ngone = 0;
    struct rlink *l;
    struct bb *b;
    int64_t now = clock_mono_ms(), next_beat = 0, next_reclaim = now + s->o.reclaim_every_ms;
    int64_t healthy_since = now;

    snprintf(name, sizeof name, "nr-heart-%ld", (long)getpid());
    lo.client_name = name;
    lo.quiet = true;
    l = rlink_new(&s->o.addr, &lo);
    host_part(host, sizeof host);
    snprintf(actor, sizeof actor, "heart-%s-%ld", host, (long)getpid());
    b = bb_new(l, actor);
    registry_host_key(host_key, sizeof host_key);
    while (!atomic_load(&s->heart_stop)) {
        struct bb_local_agent *local = NULL;
        size_t nlocal = 0;
        int taken = 0, rc;
        bool again = false;

        now = clock_mono_ms();
        if (now >= next_beat) {
            if (heart_beat(s, l, ids, claims, res, who) == 0) {
                next_beat = now + s->o.heartbeat_ttl_ms / 3;
            } else {
                healthy_since = clock_mono_ms();
                next_beat = now; /* at the next pass */
            }
        }
        /* Lapsed heartbeats say an agent died only once this process has seen Redis sound for
         * a whole TTL: right after an outage every agent's heartbeat looks lapsed, and the
         * living need a TTL to beat again. A gone process is dead whatever the link did. */
        rc = bb_reap(b, &s->retry, now - healthy_since >= s->o.heartbeat_ttl_ms, 3600000, host_key,
                     (long)getpid(), (const char *const *)gone, ngone, &taken, &local, &nlocal,
                     &cause);
        strings_free(gone, ngone);
        gone = NULL;
        ngone = 0;
        if (rc != BB_OK) {
            log_warn("swarm: reaper: %s", cause);
            free(cause);
            cause = NULL;
            healthy_since = clock_mono_ms();
        } else {
            trace_reclaimed("dead_agent", taken);
            if (taken > 0)
                log_info("swarm: took back %d claim(s) of dead agents", taken);
            if (s->o.cfg == NULL || s->o.cfg->reap_by_pid)
                heart_gone(local, nlocal, &gone, &ngone);
            again = ngone > 0; /* reap them now, not in a second */
        }
        free(local);
        {
            struct bb_flow_reading fr;
            long hwm[BB_FLOW_COUNT];

            long long here[FLOW_ROLES_MAX] = {0};

            /* Before the read: a lesson stored here after it makes the reading out of date. */
            for (size_t k = 0; agent_table[k] != NULL && k < FLOW_ROLES_MAX; k++)
                here[k] = memory_learned_here(agent_table[k]->name);
            flow_marks(s->o.cfg, hwm);
            if (bb_flow_read(b, hwm, MEMORY_LESSONS_KEY, &fr, &cause) == BB_OK) {
                flow_update(s, &fr, here);
            } else {
                log_debug("swarm: flow: %s", cause);
                free(cause);
                cause = NULL;
            }
        }
        if (!again && now >= next_reclaim) {
            static const enum bb_status working[] = {BB_PROCESSING, BB_PRODUCING};

            for (size_t i = 0; i < sizeof working / sizeof working[0]; i++) {
                int n = 0;

                if (bb_reclaim(b, working[i], &s->retry, 32, &n, &cause) != BB_OK) {
                    log_warn("swarm: reclaim: %s", cause);
                    free(cause);
                    cause = NULL;
                } else {
                    trace_reclaimed("lapsed_lock", n);
                    if (n > 0)
                        log_info("swarm: took back %d claim(s) whose lock lapsed", n);
                }
            }
            next_reclaim = now + s->o.reclaim_every_ms;
        }
        if (!again)
            clock_sleep_ms_until(s->o.reap_every_ms, &s->heart_stop);
    }
    strings_free(gone, ngone);
    bb_free(b);
    rlink_free(l);
    free(res);
    free(who);
    free(ids);
    free(claims);
    return NULL;
}

/* Parses "name[:N],..." into the agents of s. */
static int parse_spec(struct swarm *s, const char *spec, char **cause)
{
    char host[32];
    char *copy, *save = NULL, *tok;
    int total = 0;

    host_part(host, sizeof host);
    if (spec == NULL || *spec == '\0') {
        *cause = xstrdup("no roles given");
        return -1;
    }
    s->agents = xcalloc(SWARM_MAX_AGENTS, sizeof *s->agents);
    copy = xstrdup(spec);
    for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':'), *end;
        const struct agent_role *role;
        long n = 1;

        if (colon != NULL) {
            *colon = '\0';
            n = strtol(colon + 1, &end, 10);
            if (colon[1] == '\0' || *end != '\0' || n < 1 || n > 64) {
                *cause =
                    xasprintf("role \"%s\": \"%s\" is not a count from 1 to 64", tok, colon + 1);
                free(copy);
                return -1;
            }
        }
        if ((role = agent_role_find(tok)) == NULL) {
            char known[256] = "";
            for (size_t i = 0; agent_table[i] != NULL; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                         agent_table[i]->name);
            *cause = xasprintf("unknown role \"%s\" (known roles: %s)", tok, known);
            free(copy);
            return -1;
        }
        for (long i = 0; i < n; i++) {
            struct agent *a;
            int index = 1;

            if (total >= SWARM_MAX_AGENTS) {
                *cause = xasprintf("more than %d agents", SWARM_MAX_AGENTS);
                free(copy);
                return -1;
            }
            for (int k = 0; k < total; k++)
                if (s->agents[k].ctx.role == role)
                    index++;
            a = &s->agents[total++];
            a->swarm = s;
            a->ctx.role = role;
            a->ctx.index = index;
            snprintf(a->ctx.id, sizeof a->ctx.id, "%s-%s-%ld-%d", role->name, host, (long)getpid(),
                     index);
        }
    }
    free(copy);
    if (total == 0) {
        *cause = xstrdup("no roles given");
        return -1;
    }
    s->nagents = total;
    return 0;
}

struct swarm *swarm_new(const struct swarm_options *o, char **cause)
{
    struct swarm *s = xcalloc(1, sizeof *s);

    s->o = *o;
    s->o.roles = NULL; /* borrowed for parsing only */
    /* Unset options come from the configuration's [recovery] keys, else the defaults. */
#define OPT(field, cond, key, dflt)                                                                \
    if (s->o.field cond)                                                                           \
        s->o.field = s->o.cfg != NULL ? s->o.cfg->key : (dflt);
    OPT(claim_ttl_ms, <= 0, claim_ttl_ms, 60000)
    OPT(max_attempts, <= 0, max_attempts, 8)
    OPT(retry_base_ms, == 0, retry_base_ms, 30000)
    OPT(retry_max_ms, <= 0, retry_max_ms, 1800000)
    OPT(max_reclaims, == 0, max_reclaims, 10)
    OPT(heartbeat_ttl_ms, <= 0, heartbeat_ttl_ms, 10000)
    OPT(reap_every_ms, <= 0, reap_every_ms, 1000)
    OPT(stall_ms, <= 0, stall_s * 1000, 900000)
#undef OPT
    if (s->o.reclaim_every_ms <= 0)
        s->o.reclaim_every_ms = 5000;
    if (s->o.retry_base_ms == 0) /* configured as 0: at once */
        s->o.retry_base_ms = -1;
    if (s->o.max_reclaims == 0)
        s->o.max_reclaims = -1;
    s->retry.max_attempts = s->o.max_attempts;
    s->retry.base_ms = s->o.retry_base_ms > 0 ? s->o.retry_base_ms : 0;
    s->retry.max_ms = s->o.retry_max_ms;
    s->retry.reclaims = s->o.max_reclaims > 0 ? s->o.max_reclaims : 0;
    atomic_init(&s->inflight, 0);
    {
        pthread_condattr_t ca;

        if (pthread_mutex_init(&s->bell.mu, NULL) != 0 || pthread_condattr_init(&ca) != 0 ||
            pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
            pthread_cond_init(&s->bell.cv, &ca) != 0)
            fail("swarm: cannot make the doorbell's mutex and condition variable");
        pthread_condattr_destroy(&ca);
    }
    if (parse_spec(s, o->roles, cause) == -1) {
        swarm_free(s);
        return NULL;
    }
    if (o->wire) {
        struct wire_options wo = {
            .seed = o->wire_seed, .rate_per_s = o->wire_rate_per_s, .limit = o->wire_limit};
        s->wire = wire_new(&wo);
    }
    for (int i = 0; i < s->nagents; i++) {
        struct agent_ctx *c = &s->agents[i].ctx;

        if (pthread_mutex_init(&s->agents[i].claim_mu, NULL) != 0)
            fail("swarm: cannot make an agent's mutex");
        c->cfg = s->o.cfg;
        c->pricing = s->o.pricing;
        c->wire = s->wire;
        c->inflight = &s->inflight;
        c->claim_ttl_ms = s->o.claim_ttl_ms;
        c->max_attempts = s->o.max_attempts;
        c->retry = &s->retry;
        c->baseline = s->o.baseline;
        c->auto_approve = s->o.auto_approve;
        c->stats = &s->agents[i].stats;
        c->stop = &s->stop;
        c->flow = &s->flow;
    }
    return s;
}

int swarm_start(struct swarm *s, char **cause)
{
    int rc;

    if (recovery_shared_start(s->o.cfg, &s->o.addr, &s->o.link, cause) == -1)
        return -1;
    s->shared = true;
    bell_start(s);
    if ((rc = pthread_create(&s->heart, NULL, heart_main, s)) != 0) {
        *cause = xasprintf("cannot start the swarm's heart: %s", strerror(rc));
        return -1;
    }
    s->heart_started = true;
    for (int i = 0; i < s->nagents; i++) {
        struct agent *a = &s->agents[i];

        rc = pthread_create(&a->thread, NULL, agent_main, a);

        if (rc != 0) {
            *cause = xasprintf("cannot start agent %s: %s", a->ctx.id, strerror(rc));
            return -1;
        }
        a->started = true;
    }
    return 0;
}

void swarm_stop(struct swarm *s)
{
    atomic_store(&s->stop, 1);
    pthread_mutex_lock(&s->bell.mu);
    pthread_cond_broadcast(&s->bell.cv);
    pthread_mutex_unlock(&s->bell.mu);
    for (int i = 0; i < s->nagents; i++) {
        if (s->agents[i].started)
            pthread_join(s->agents[i].thread, NULL);
        s->agents[i].started = false;
    }
    /* The heart goes last: it beats for agents until they have let go of their claims. */
    atomic_store(&s->heart_stop, 1);
    if (s->heart_started)
        pthread_join(s->heart, NULL);
    s->heart_started = false;
    bus_sub_free(s->bell.sub);
    s->bell.sub = NULL;
    if (s->shared)
        recovery_shared_stop();
    s->shared = false;
}

void swarm_free(struct swarm *s)
{
    if (s == NULL)
        return;
    swarm_stop(s);
    pthread_cond_destroy(&s->bell.cv);
    pthread_mutex_destroy(&s->bell.mu);
    for (int i = 0; i < s->nagents && s->agents[i].ctx.cfg != NULL; i++)
        pthread_mutex_destroy(&s->agents[i].claim_mu);
    wire_free(s->wire);
    free(s->agents);
    free(s);
}

int swarm_size(const struct swarm *s)
{
    return s->nagents;
}

bool swarm_serves(const struct swarm *s, int st)
{
    for (int i = 0; i < s->nagents; i++)
        for (const int *v = s->agents[i].ctx.role->serves; *v >= 0; v++)
            if (*v == st)
                return true;
    return false;
}

bool swarm_takes_stage(const struct swarm *s, const char *stage)
{
    for (int i = 0; i < s->nagents; i++) {
        const struct agent_role *r = s->agents[i].ctx.role;

        for (int k = 0; k < AGENT_WAKE_MAX && r->wake[k] != NULL; k++)
            if (strncmp(r->wake[k], "stage:", 6) == 0 && strcmp(r->wake[k] + 6, stage) == 0)
                return true;
    }
    return false;
}

const char *swarm_agent_id(const struct swarm *s, int i)
{
    return s->agents[i].ctx.id;
}

bool swarm_settled(struct swarm *s)
{
    return (s->wire == NULL || wire_done(s->wire)) && atomic_load(&s->inflight) == 0;
}

void swarm_totals(struct swarm *s, struct swarm_totals *out)
{
    swarm_role_totals(s, NULL, out);
}

void swarm_role_totals(struct swarm *s, const char *role, struct swarm_totals *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < s->nagents; i++) {
        struct agent_stats *t = &s->agents[i].stats;

        if (role != NULL && strcmp(s->agents[i].ctx.role->name, role) != 0)
            continue;
        out->cycles += atomic_load(&t->cycles);
        out->llm_calls += atomic_load(&t->llm_calls);
        out->deferred += atomic_load(&t->deferred);
        out->written += atomic_load(&t->written);
        out->duplicates += atomic_load(&t->duplicates);
        out->merged += atomic_load(&t->merged);
        out->updated += atomic_load(&t->updated);
        out->claimed += atomic_load(&t->claimed);
        out->archived += atomic_load(&t->archived);
        out->advanced += atomic_load(&t->advanced);
        out->failed += atomic_load(&t->failed);
        out->halt_checks += atomic_load(&t->halt_checks);
    }
}

int swarm_running(struct swarm *s)
{
    return atomic_load(&s->running);
}

int swarm_failed(struct swarm *s)
{
    /* Threads that returned while nobody asked them to stop never made it into their loop
     * (or left it on their own): the swarm is short of them. */
    return atomic_load(&s->stop) ? 0 : atomic_load(&s->exited);
}
