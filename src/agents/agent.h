/*
 * agent.h - the agent loop and the swarm. One agent is one thread with its own Redis link,
 * blackboard, registry entry, cost context and LLM provider, built from a role entry of
 * agent_table[] (one role per file, src/agents/role_<name>.c). The common loop registers the
 * agent, reads the swarm's halt flag before every cycle (while halted nothing is claimed and
 * no LLM call is made; the agent shows as paused), calls the role's cycle() with an idle
 * backoff, and on stop runs the role's shutdown and unregisters, leaving no lock held.
 *
 * A struct swarm starts N agents per role from a spec ("scout:1,analyst:2"), optionally with
 * the wire simulator (wire.h) as the scouts' input, and stops and joins them. Its heart thread
 * is what keeps the swarm's work alive and takes back the work of the dead: it renews every
 * agent's heartbeat and the locks of their claims (registry_pulse: a render or a slow model call
 * keeps its claim by heartbeat, not by a long lock), reaps the claims and debate seats of dead
 * agents at once (bb_reap: heartbeat lapsed, or a process of this host gone), and, as the last
 * resort, takes back claims whose lock lapsed (bb_reclaim).
 *
 * Recovery in the roles: every paid result is kept with the story as it is made (a checkpoint),
 * so a story taken back resumes at its step without paying again. A failure that is the story's
 * fault counts an attempt of its step (agent_fail_story: retried after a backoff, FAILED with
 * its error history at the step's last attempt); what is not its fault (an outage, an empty
 * budget, a halt, a full disk) parks it with a wait and counts nothing (agent_setback_ask,
 * agent_park).
 *
 * Threads: swarm_* are called from one controlling thread. Each agent thread touches only its
 * own agent_ctx, except for the atomics the heart reads and writes (its sign of life, the
 * re-registration and reaped flags); what agents share is read-only (config, pricing,
 * options), the wire (its own mutex), the stop flag and the counters (atomics). The heart
 * thread has its own link.
 */
#ifndef NEWSROOM_AGENT_H
#define NEWSROOM_AGENT_H

#include "cost/budget.h"
#include "llm/llm.h"
#include "store/blackboard.h"
#include "store/registry.h"
#include "store/rlink.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct bb;
struct config;
struct memory;
struct cost;
struct pricing;
struct registry;
struct swarm;
struct swarm_flow;
struct wire;

/* What every agent counts; summed over the swarm by swarm_stats(). */
struct agent_stats {
    atomic_long cycles;      /* cycles that did work */
    atomic_long llm_calls;   /* cost_complete() calls that made a call (COST_OK) */
    atomic_long deferred;    /* calls the budget deferred */
    atomic_long written;     /* stories written to the blackboard */
    atomic_long duplicates;  /* stories refused as exact duplicates (the same identity again) */
    atomic_long merged;      /* stories merged into another as a further source */
    atomic_long updated;     /* stories updated at their source (revised or recorded) */
    atomic_long claimed;     /* stories claimed */
    atomic_long archived;    /* stories archived */
    atomic_long advanced;    /* stories moved on along the main line */
    atomic_long failed;      /* failed attempts (bb_fail) */
    atomic_long halt_checks; /* halt-flag reads that found the swarm halted */
};

/* What a role's functions get: the agent's own resources (all owned by the loop). */
struct agent_ctx {
    char id[REGISTRY_ID_MAX + 1];
    const struct agent_role *role;
    int index; /* 1.. within its role in this process */
    struct rlink *link;
    struct bb *bb;
    struct cost *cost;
    struct llm_provider *provider;
    const struct config *cfg;
    const struct pricing *pricing;
    struct wire *wire;     /* the swarm's wire, NULL when off */
    atomic_long *inflight; /* stories taken from the wire and not yet written */
    int claim_ttl_ms;
    int max_attempts;
    bool baseline;             /* the swarm runs as the cost baseline (agent_tier) */
    bool auto_approve;         /* --auto-approve: reviewed stories are approved by the swarm */
    struct agent_stats *stats; /* this agent's counters */
    const atomic_int *stop;
    const struct bb_retry *retry;  /* every step's attempts and backoff */
    const struct bb_lock *held;    /* the claim of the cycle (agent_hold), or NULL */
    int held_attempts;             /* the held story's failed attempts (mixed into seeds) */
    long held_reaped;              /* `reaped` when the claim was taken */
    int64_t halt_read_ms;          /* when the halt flag was last read (monotonic), 0: never */
    bool halt_seen;                /* what it said */
    struct budget_refusal refusal; /* the last call the budget deferred (agent_ask) */
    /* Shared with the swarm's heart thread: */
    atomic_llong life_ms;  /* the agent's last sign of life (monotonic ms), 0 before its loop */
    atomic_int registered; /* the agent's record is written: the heart beats for it */
    atomic_int reregister; /* the heart found its record gone: register again */
    atomic_long reaped;    /* times it was found declared dead while it lived */
    const struct swarm_flow *flow; /* the swarm's view of the flow (the heart writes it) */
    int64_t flow_rest_until;       /* held by backpressure: no claim before (monotonic ms) */
    int flow_rest_ms;              /* the current rest, doubling while held */
    struct memory *memory;   /* the vector memory, opened by agent_memory(); NULL until then */
    int64_t memory_retry_ms; /* when to try opening it again after a failure (monotonic) */
};

/* The most names that wake a role, and the NULL that ends them. */
#define AGENT_WAKE_MAX 5

struct agent_role {
    const char *name;
    enum llm_tier tier;
    /* The working statuses its claims leave items in (enum bb_status), where the swarm's
     * heart looks for claims whose lock lapsed (bb_reclaim); ended by -1. */
    int reclaim[4];
    /* The statuses whose stories the role moves on (enum bb_status), ended by -1: a --once run
     * waits while any story is in a status one of its roles serves. */
    int serves[4];
    /* What wakes the role's idle agents at once (the blackboard's doorbell, WAKE_CHANNEL):
     * status names, "stage:<name>", "debate", "debate_full", and "drained:<flow stage>" for
     * the stage whose mark holds its claims (rung when that stage drains after a claim was held
     * there: it also ends the agent's flow rest); ended by NULL. A role with none polls at its
     * idle backoff (at most 200 ms); one with some waits up to a second between polls, or until
     * the bell rings. */
    const char *wake[AGENT_WAKE_MAX];
    /* Makes the role's state (*state, may stay NULL). 0, or -1 with *cause. */
    int (*init)(struct agent_ctx *ctx, void **state, char **cause);
    /* One step: 1 did work, 0 idle, -1 error (*cause; the loop logs it and backs off). */
    int (*cycle)(struct agent_ctx *ctx, void *state, char **cause);
    /* Gives back whatever the state holds (no lock may stay held) and frees it. */
    void (*shutdown)(struct agent_ctx *ctx, void *state);
};

/* Every role, ended by NULL. */
extern const struct agent_role *const agent_table[];
/* A role by name, or NULL. */
const struct agent_role *agent_role_find(const char *name);

/* Reads the halt flag: true when halted, or when it cannot be read (safe side). */
bool agent_halted(struct agent_ctx *ctx);

/* The tier a role's call should use: `want`, or PREMIUM for every call when the swarm runs
 * as the cost baseline (swarm_options.baseline: no tiering, no early stops, no cache, no
 * batching; `newsroom bench cost` compares against it). */
enum llm_tier agent_tier(const struct agent_ctx *ctx, enum llm_tier want);
/* Whether the cost savings (early stops, batching) are on: false in the baseline. */
bool agent_savings(const struct agent_ctx *ctx);

/* One budgeted model call about story `task` (its id): system and user messages, the model of
 * `tier` (through agent_tier()), the task type (pricing's [tasks] and sim's answer kinds),
 * max_tokens, a JSON answer. Counts llm_calls / deferred in the agent's stats.
 * Returns AGENT_ASK_OK with *answer (a JSON object, new reference); or, with *cause and no
 * answer: AGENT_ASK_HALTED (the swarm is halted or stopping: no call, or the call given up),
 * AGENT_ASK_DEFERRED (the budget refused: ctx->refusal says which limit; no call made),
 * AGENT_ASK_OUTAGE (not the story's fault: the provider failed in a retryable way (network,
 * timeout, 408, 429, 5xx, an open circuit breaker: LLM_ERR_RETRYABLE) or Redis could not be
 * reached), AGENT_ASK_LOST (the claim of the cycle was taken back: this agent was declared
 * dead while it lived; no call made, and nothing it writes to the story will be accepted) or
 * AGENT_ASK_FAILED (the story's fault: a fatal answer from the provider, or an answer that was
 * not a JSON object). `seed` varies the sim's answer between calls of one story. */
enum {
    AGENT_ASK_OK = 0,
    AGENT_ASK_HALTED,
    AGENT_ASK_DEFERRED,
    AGENT_ASK_OUTAGE,
    AGENT_ASK_LOST,
    AGENT_ASK_FAILED
};
int agent_ask(struct agent_ctx *ctx, const char *task, enum llm_tier tier, const char *task_type,
              const char *system, const char *user, int max_tokens, uint64_t seed, json_t **answer,
              char **cause);

/* The claim the cycle works under (borrowed until the cycle returns; the loop forgets it
 * then). Its lock is kept alive by the heart; agent_ask() makes no call once the claim was
 * taken back (AGENT_ASK_LOST). attempts (the story's failed attempts so far) is mixed into
 * every call's seed: a retry asks afresh instead of getting the answer that failed it. */
void agent_hold(struct agent_ctx *ctx, const struct bb_lock *lk, int attempts);
/* Whether the claim of the cycle was taken back (the agent was declared dead meanwhile). */
bool agent_lost(const struct agent_ctx *ctx);
/* After a write under the cycle's claim returned *rc (a BB_ code, *cause with it): whether to
 * try it again because Redis could not be reached (a restarting or stopped server must not lose
 * a paid result), after a short wait, for up to half the claim's TTL (while the lock cannot
 * lapse). A refusal after such a try counts as landed (*rc becomes BB_OK) when the story's last
 * change is this agent's: the earlier try was carried out and only its answer was lost. Use:
 *     int64_t since = 0;
 *     do rc = bb_...(...); while (agent_again(ctx, &rc, &since, cause)); */
bool agent_again(struct agent_ctx *ctx, int *rc, int64_t *since, char **cause);

/* Sets the claimed story back without counting an attempt: it waits wait_ms (0: goes on at
 * once, at the front; < 0: the step's park backoff) in its step's queue, with why and patch
 * (may be NULL) recorded, the lock released. On failure logs it (the claim then goes back
 * when this agent's lock or life ends). */
void agent_park(struct agent_ctx *ctx, const struct bb_lock *lk, const char *why, int64_t wait_ms,
                const json_t *patch);
/* What a cycle does with a call that did not answer (rc from agent_ask, why its cause, taken):
 * HALTED parks the story due at once; DEFERRED parks it until the refused budget's window
 * ends (a per-task limit: the park backoff) or its budget request is decided; OUTAGE parks it
 * for the step's park backoff; LOST lets it be (it is someone else's now); FAILED counts an
 * attempt (agent_fail_story). patch (may be NULL: the checkpoints made so far) is kept with it.
 * Returns what the cycle returns: 0 for a park, -1 with *cause for an attempt. */
int agent_setback_ask(struct agent_ctx *ctx, const struct bb_lock *lk, int rc, char *why,
                      const json_t *patch, char **cause);
/* Counts a failed attempt at the claimed story's step (bb_setback BB_ATTEMPT: retried after the
 * step's backoff, or FAILED with `why` and its error history once the step's attempts run
 * out), releasing the lock; patch (may be NULL) kept with it; counted in stats.failed.
 * Failures to record it are logged. */
void agent_fail_story_with(struct agent_ctx *ctx, const struct bb_lock *lk, const char *why,
                           const json_t *patch);
void agent_fail_story(struct agent_ctx *ctx, const struct bb_lock *lk, const char *why);
/* Writes a checkpoint (patch, borrowed) into the claimed story without moving it. 0, or -1
 * with *cause (the claim was lost, or Redis failed). */
int agent_checkpoint(struct agent_ctx *ctx, const struct bb_lock *lk, const json_t *patch,
                     char **cause);
/* Releases a lock, logging (not returning) a failure. */
void agent_release(struct agent_ctx *ctx, const struct bb_lock *lk);

/* The agent's vector memory (memory.h), opened on first use on the agent's link; NULL when
 * [memory] backend is off or it cannot be opened (logged; tried again after 30 s), so a
 * role goes on without it. */
struct memory *agent_memory(struct agent_ctx *ctx);

/* The flow (bb_table.h's stages), as the swarm's heart reads it once a reap pass: each stage's
 * depth, and the wait of a story joining it (its depth over the rate it drains; at least the
 * time since it last drained while stories wait there).
 *
 * agent_flow_claim() fills the flow of a claim: gate (the stage the claim from a status feeds;
 * -1: none) and take_gate (the stage a take from stages feeds; -1: none) with their [flow]
 * marks, and, with stale, [flow] stale_after: bb_claim_flow / bb_take_flow refuse with BB_HELD
 * while the stage is full, and archive a stale story they meet. */
void agent_flow_claim(const struct agent_ctx *ctx, int gate, int take_gate, bool stale,
                      struct bb_flow_opts *o);
/* A role's claims under backpressure: agent_flow_resting() says whether the agent rests after
 * a claim refused with BB_HELD (its doorbell rings for every story upstream; asking again at
 * each would cost a round trip each), agent_flow_note() records a claim's outcome (held: rest
 * AGENT_FLOW_REST_MIN_MS, doubling to AGENT_FLOW_REST_MAX_MS while it stays held; else none). */
#define AGENT_FLOW_REST_MIN_MS 50
#define AGENT_FLOW_REST_MAX_MS 1000
bool agent_flow_resting(const struct agent_ctx *ctx);
void agent_flow_note(struct agent_ctx *ctx, int rc);
/* Whether flow stage `stage` was at or above its mark at the last reading. */
bool agent_flow_full(const struct agent_ctx *ctx, int stage);
/* How long a story held before a paid call (agent_flow_wait) waits before it is tried again. */
#define AGENT_FLOW_HOLD_MS 15000
/* Whether a paid call should wait: the story's way from here goes through the stages of the
 * mask `stages` (1u << enum bb_flow), and their waits add up to more than [flow] max_wait (no
 * model call is paid for a story that would then wait that long). true with *why (a new
 * string) naming the stage; false when the flow is not known yet or max_wait is 0. */
bool agent_flow_wait(const struct agent_ctx *ctx, unsigned stages, char **why);
/* What the last reading says of the lessons the memory holds for role (MEMORY_LESSONS_KEY), for
 * memory_with_lessons_known(): k->lessons -1 when nothing is known yet. */
struct memory_known;
void agent_lessons(const struct agent_ctx *ctx, const char *role, struct memory_known *k);

/* A role's reading of JSON (a model's answer, a story's body): the string at key, borrowed
 * from o, or "" when it is missing or not a string; the number at key, or def. o may be
 * NULL. */
const char *agent_json_str(const json_t *o, const char *key);
double agent_json_num(const json_t *o, const char *key, double def);
/* The shutdown of a role whose state is one plain allocation (or NULL) and holds no claim
 * between cycles: frees the state. */
void agent_free_state(struct agent_ctx *ctx, void *state);

/* What `newsroom swarm` and the control room's in-process swarm run by default: every role,
 * and the wire at a rate the default roles keep up with at the sim's default latencies. */
#define SWARM_DEFAULT_ROLES                                                                        \
    "scout:1,analyst:2,debater:3,moderator:1,writer:2,qa:1,producer:1,publisher:1,archivist:1"
#define SWARM_DEFAULT_WIRE_RATE 0.5 /* stories a second */

struct swarm_options {
    struct redis_addr addr;        /* every agent makes its own link to it */
    struct rlink_options link;     /* client_name is set per agent */
    const struct config *cfg;      /* borrowed: must outlive the swarm */
    const struct pricing *pricing; /* borrowed: must outlive the swarm */
    const char *roles;             /* "scout:1,analyst:2"; a bare name means 1 */
    bool wire;                     /* run the wire simulator for the scouts */
    uint64_t wire_seed;
    double wire_rate_per_s; /* <= 0: as fast as the scouts take them */
    long wire_limit;        /* <= 0: endless */
    int claim_ttl_ms;       /* <= 0: 60000; kept alive by the heartbeat */
    int max_attempts;       /* of each step; <= 0: 8 */
    int retry_base_ms;      /* the first retry's wait, doubling; < 0: at once; 0: 30000 */
    int retry_max_ms;       /* <= 0: 1800000 */
    int max_reclaims;       /* < 0: never counted; 0: 10 */
    int heartbeat_ttl_ms;   /* <= 0: 10000 */
    int reap_every_ms;      /* the heart's pass; <= 0: 1000 */
    int reclaim_every_ms;   /* lapsed locks (the last resort); <= 0: 5000 */
    int stall_ms;           /* <= 0: 900000 */
    bool baseline;          /* the cost baseline: every call PREMIUM, no savings */
    bool auto_approve;      /* approve every reviewed story (audited) */
};

/* A swarm as the spec says (not started). NULL with *cause for a bad spec: an unknown role is
 * named, with the known ones. Free with swarm_free(). */
struct swarm *swarm_new(const struct swarm_options *o, char **cause);
/* Starts every agent thread. 0, or -1 with *cause (then swarm_stop() what started). */
int swarm_start(struct swarm *s, char **cause);
/* Asks every agent to stop and joins them (each unregisters and leaves nothing locked). */
void swarm_stop(struct swarm *s);
/* Agents in their loop now, and agent threads that have ended before swarm_stop() asked them
 * to (they could not start: no LLM provider, a role's init failed). */
int swarm_running(struct swarm *s);
int swarm_failed(struct swarm *s);
void swarm_free(struct swarm *s);
/* Agents started. */
int swarm_size(const struct swarm *s);
/* Whether no new story can come from inside: the wire is off or has ended, and nothing taken
 * from it is still on its way to the blackboard. */
bool swarm_settled(struct swarm *s);
/* The counters summed over every agent (plain copies). */
struct swarm_totals {
    long cycles, llm_calls, deferred, written, duplicates, merged, updated, claimed, archived,
        advanced, failed, halt_checks;
};
void swarm_totals(struct swarm *s, struct swarm_totals *out);
/* The counters summed over the agents of one role (NULL: every agent). */
void swarm_role_totals(struct swarm *s, const char *role, struct swarm_totals *out);
/* Whether one of the swarm's roles moves stories on from status st (agent_role.serves). */
bool swarm_serves(const struct swarm *s, int st);
/* Whether one of the swarm's roles takes stories from stage `stage` (its wake list names
 * "stage:<stage>"). */
bool swarm_takes_stage(const struct swarm *s, const char *stage);
/* Agent i's id (0 <= i < swarm_size()), borrowed. */
const char *swarm_agent_id(const struct swarm *s, int i);

#endif
