/*
 * blackboard.h - the blackboard: the shared state of every story, in Redis, moved through the
 * status machine of bb_table.h by Lua scripts that check and change everything at once
 * (allowed move, lock holder, fencing number, indexes, counts, version, one event).
 *
 * Items: nr:bb:item:<id> hashes with the item's state and its body fields (the news item and
 * whatever the agents add), indexed per section and per status (sorted by the time they got
 * there, so claims take the oldest first), counted per section and status, and de-duplicated
 * by content hash. Every change appends one event to nr:bb:events (capped at about 50,000),
 * which control rooms follow. docs/redis-keys.md lists every key.
 *
 * Locks: a grant stores "token:fence" with a TTL; the fencing number grows with every grant
 * and the item remembers the highest it has seen, so a holder whose lock expired is refused
 * once a later grant exists, even if the later holder has not written yet.
 *
 * Claims belong to agents: every lock is granted to the blackboard's actor (an agent id), which
 * becomes the item's owner, and is indexed in nr:bb:held:<agent>. Liveness, not the lock's
 * TTL, decides when a claim is stalled: the agent's heartbeat (registry_pulse.lua, sent by its
 * process's heart thread) keeps the locks of its claims alive however long it works, and when
 * the agent dies bb_reap() takes every claim it held back at once, to the front of the queue it
 * came from, counting no attempt; a write by the dead claimer is refused (its lock is gone). A
 * lock that lapses anyway (an owner nobody could tell dead) is the last resort of bb_reclaim().
 *
 * Steps and retries: a claim does a step of a story's work (bb_table.h: analyze, write, qa,
 * produce, publish, ...). A failure that is the story's fault counts an attempt of that step
 * (each step has its own budget), kept with step, agent, error and time in the body's "errors";
 * the story waits for its retry in its step's queue, scored by when it is due (claims take only
 * due entries), after an exponential backoff with jitter; at the step's last attempt it is
 * FAILED, which is terminal until an operator's bb_requeue(). What is not the story's fault
 * (an outage, an empty budget, a full disk, a halt) parks it the same way without counting.
 *
 * Threads: a struct bb uses the caller's link, so it belongs to the link's thread.
 * Return values: BB_OK, BB_REFUSED (the move, lock or write is not allowed: *cause says why and
 * nothing changed), BB_DUPLICATE, BB_NONE (no such item / nothing to claim), or BB_ERR (Redis
 * failed: *cause).
 */
#ifndef NEWSROOM_BLACKBOARD_H
#define NEWSROOM_BLACKBOARD_H

#include "store/bb_table.h"
#include "store/keys.h"
#include "store/news_item.h"
#include "store/registry.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define BB_PREFIX NR_PREFIX "bb:"
/* The doorbell: every script that makes work for an agent publishes what (a status an item
 * entered, "stage:<name>", "debate", "debate_full") on this channel. */
#define WAKE_CHANNEL BB_PREFIX "wake"
#define BB_ACTOR_MAX 127
#define BB_STAGE_MAX 32

enum {
    BB_ERR = -1,
    BB_OK = 0,
    BB_REFUSED = 1,
    BB_DUPLICATE = 2,
    BB_NONE = 3,
    BB_UPDATED = 4, /* bb_write: updated at source, the change recorded on the story */
    BB_REVISED = 5, /* bb_write: updated at source, the story's text revised */
    BB_MERGED = 6,  /* bb_write_into: a further source of an existing story */
    BB_HELD = 7,    /* a claim refused by backpressure: the queue it feeds is full (*cause) */
};

/* Editorial priority: a story's body "priority", a number (missing: 0), orders every queue a
 * claim takes from (the statuses that are neither terminal nor REVIEWING, and every stage):
 * the highest first, then the oldest. The analyst gives one from its scores (0 to 99); an
 * item flagged breaking (body "breaking": true) enters with BB_PRIORITY_BREAKING and keeps it
 * on top of what the analyst gives. REVIEWING, a person's queue, keeps the order stories came
 * in; the review desk sorts it by priority. */
#define BB_PRIORITY_BREAKING 100

struct bb;
struct rlink;

/* A lock held on an item. */
struct bb_lock {
    char id[NEWS_ID_MAX + 1];
    char holder[80]; /* "token:fence", as stored in the lock key */
    long long fence;
};

struct bb_item {
    char id[NEWS_ID_MAX + 1];
    int section; /* enum bb_section */
    int status;  /* enum bb_status */
    long long version;
    char owner[BB_ACTOR_MAX + 1];
    char hash[65];
    int attempts;
    int64_t created_ms, updated_ms;
    long long fence;
    char by[BB_ACTOR_MAX + 1];         /* who made the last change */
    char decided_by[BB_ACTOR_MAX + 1]; /* who approved or rejected it, "" if nobody yet */
    int64_t decided_ms;
    char *reason;                       /* of the last change, "" if none */
    char *fail_reason;                  /* "" if never failed */
    char *archive_reason;               /* "" unless archived */
    char stage[BB_STAGE_MAX + 1];       /* the stage it was last handed to, "" if none */
    char step[BB_STAGE_MAX + 1];        /* the step of its last claim, "" if never claimed */
    char failed_step[BB_STAGE_MAX + 1]; /* FAILED: the step whose attempts ran out */
    int64_t due_ms;                /* waiting for a retry or parked until (server ms), 0: due */
    int reclaims, parks, requeues; /* taken back from dead claimers; waits; requeues */
    int64_t entered_ms;            /* when it entered its status (server ms) */
    int64_t since_ms;              /* its clock before production (entered the blackboard) */
    int priority;                  /* its place in the queues (body "priority", rounded down) */
    json_t *body;                  /* the body fields (title, content, source, ...): owned */
};

/* A blackboard on link l (borrowed: it must outlive the bb), acting as `actor` (an agent id
 * or "user@address"; recorded with every change). Free with bb_free(). */
struct bb *bb_new(struct rlink *l, const char *actor);
void bb_free(struct bb *b);
const char *bb_actor(const struct bb *b);

/* Creates an item from a news item plus extra body fields (borrowed, may be NULL) in status
 * st (and its section), by the story identity rules (news_item.h): an item whose identity
 * was seen before (the id exists, or it was merged into a story as a further source) is
 * BB_DUPLICATE when its content is unchanged and an update at source when not: BB_REVISED when
 * the story was still PENDING (its title, content, url and published time replaced, body
 * "updated_at_source" {count, at_ms, applied: true, ...}), else BB_UPDATED (the story keeps
 * its text; "updated_at_source" holds the new one with applied: false and the status it had).
 * Among items without an identity of their own, one whose content hash exists is refused as
 * an exact duplicate (BB_DUPLICATE) when check_duplicate is set. existing_id receives the
 * story concerned, *cause a sentence saying what happened, for every answer but BB_OK. */
int bb_write(struct bb *b, const struct news_item *it, const json_t *extra, enum bb_status st,
             bool check_duplicate, char existing_id[NEWS_ID_MAX + 1], char **cause);
/* bb_write() for an item semantic deduplication matched to story `into`: when the item's
 * identity is new and that story exists, the item becomes a further source of it instead of
 * a story of its own: source (a JSON object, borrowed) is appended to the story's body
 * "sources", the item's id is kept as an alias of the story (so it is recognised when it comes
 * again), one "merge" event, BB_MERGED with existing_id = into. Otherwise exactly bb_write()
 * (into and source NULL: bb_write()). */
int bb_write_into(struct bb *b, const struct news_item *it, const json_t *extra, enum bb_status st,
                  bool check_duplicate, const char *into, const json_t *source,
                  char existing_id[NEWS_ID_MAX + 1], char **cause);

/* Reads an item: BB_OK with *out (free with bb_item_free), or BB_NONE. */
int bb_read(struct bb *b, const char *id, struct bb_item **out, char **cause);
void bb_item_free(struct bb_item *item);
/* The item as JSON (state and body). New reference. */
json_t *bb_item_to_json(const struct bb_item *item);

/* Merges patch (a JSON object, borrowed) into the body: each key replaced, null deletes.
 * lk is the caller's lock or NULL. */
int bb_update(struct bb *b, const char *id, const json_t *patch, const struct bb_lock *lk,
              char **cause);

/* Moves an item to status `to` if the table allows it and the caller may (lk: its lock, or
 * NULL when it holds none; refused while another holds one, and when lk's lock has lapsed:
 * every write with a lock needs it live). reason is recorded (may be NULL). A refusal's *cause
 * gives the reason and the item's current status, last actor and time. */
int bb_transition(struct bb *b, const char *id, enum bb_status to, const char *reason,
                  const struct bb_lock *lk, char **cause);
/* A human decision (approve / reject): a transition that also records who and when and, in
 * the same atomic step, appends the audit record audit_argv (audit_argc field/value
 * strings, as audit_record_fill() makes them) to the audit stream; 0 and NULL for none. */
int bb_decide(struct bb *b, const char *id, enum bb_status to, const char *reason, int audit_argc,
              const char *const *audit_argv, char **cause);
/* bb_decide() that also merges patch (a JSON object, borrowed, may be NULL) into the body in
 * the same atomic step (the review record with the decision). */
int bb_decide_with(struct bb *b, const char *id, enum bb_status to, const char *reason,
                   const json_t *patch, int audit_argc, const char *const *audit_argv,
                   char **cause);

/* Takes the first due unlocked item in status `from` (highest priority, then oldest), locks it
 * for ttl_ms and moves it to `to`, atomically: BB_OK with *lk filled, or BB_NONE when there is
 * nothing to take. */
int bb_claim(struct bb *b, enum bb_status from, enum bb_status to, int ttl_ms, struct bb_lock *lk,
             char **cause);
/* Moves a claimed item on to `to` and releases its lock, in one step. */
int bb_complete(struct bb *b, const struct bb_lock *lk, enum bb_status to, const char *reason,
                char **cause);
/* bb_complete() that also merges patch (a JSON object, borrowed, may be NULL) into the body in
 * the same atomic step. */
int bb_complete_with(struct bb *b, const struct bb_lock *lk, enum bb_status to, const json_t *patch,
                     const char *reason, char **cause);
/* bb_complete_with() that moves the item only if it is in status `from` now (BB_REFUSED,
 * nothing written, otherwise). lk may name the item without holding it (holder ""): then the
 * move is refused while anyone holds the item's lock. */
int bb_complete_from(struct bb *b, const struct bb_lock *lk, enum bb_status from, enum bb_status to,
                     const json_t *patch, const char *reason, char **cause);
/* bb_claim() that also returns the claimed item as it is after the claim (*item, free with
 * bb_item_free), in the same round trip. */
int bb_claim_item(struct bb *b, enum bb_status from, enum bb_status to, int ttl_ms,
                  struct bb_lock *lk, struct bb_item **item, char **cause);

/* Stages: work queues inside one working status (the production floor: "qa", "produce",
 * "rewrite"). bb_handoff() merges patch (may be NULL) into the claimed item, queues it on
 * `stage` (a name of [a-z_], at most 32 bytes) and releases the lock, all in one step, with
 * one event (kind "handoff"); the item keeps its status. While it waits on a stage, nobody
 * holds it and bb_reclaim() leaves it alone. bb_take() takes the oldest item waiting on
 * `stage` that is still in status st, locks it for ttl_ms and returns it (*item may be
 * NULL to skip reading): BB_OK, or BB_NONE when nothing waits. Items that left st meanwhile
 * (an operator moved them) are dropped from the stage. A taker that dies leaves the item
 * unlocked and off the stage, so bb_reclaim() takes it back as for any expired claim. */
int bb_handoff(struct bb *b, const struct bb_lock *lk, const char *stage, const json_t *patch,
               const char *reason, char **cause);
/* bb_handoff() that first moves the item to status `to` (a move the table allows; -1: stay),
 * all in the same step: a REJECTED story sent back for revision goes to PRODUCING and onto
 * the writer's stage at once. */
int bb_handoff_to(struct bb *b, const struct bb_lock *lk, int to, const char *stage,
                  const json_t *patch, const char *reason, char **cause);
int bb_take(struct bb *b, const char *stage, enum bb_status st, int ttl_ms, struct bb_lock *lk,
            struct bb_item **item, char **cause);
/* bb_take() over several stages, tried in order, then (claim_from >= 0) a claim of the oldest
 * due item of status claim_from into st, as bb_claim_item() does: one round trip for a role that
 * takes its work from more than one place (the writer: reworks, retried scripts, new stories).
 * *source (may be NULL) receives the index of the stage it came from, or nstages for the
 * claim. */
int bb_take_any(struct bb *b, const char *const *stages, size_t nstages, enum bb_status st,
                int claim_from, int ttl_ms, struct bb_lock *lk, struct bb_item **item,
                size_t *source, char **cause);
/* Items waiting on a stage. */
int bb_stage_len(struct bb *b, const char *stage, long *n, char **cause);

/* The flow of a claim (bb_table.h's flow stages): backpressure and staleness, checked in the
 * claim's own round trip. A claim from a status is refused with BB_HELD while the stage it
 * feeds (gate, enum bb_flow; -1: none) holds gate_hwm stories or more (0: no mark); a take from
 * stages likewise by take_gate. A story the claim finds waiting longer than stale_ms before
 * production (since it entered the blackboard or was requeued; 0: no limit) is archived on the
 * way as "stale: waited ... before production", audited as the system, and the claim goes on
 * to the next. */
struct bb_flow_opts {
    int gate;
    long gate_hwm;
    int take_gate;
    long take_hwm;
    int64_t stale_ms;
};
/* bb_claim_item() with a flow (o may be NULL: none). BB_HELD with *cause naming the full
 * stage, nothing taken. */
int bb_claim_flow(struct bb *b, enum bb_status from, enum bb_status to, int ttl_ms,
                  const struct bb_flow_opts *o, struct bb_lock *lk, struct bb_item **item,
                  char **cause);
/* bb_take_any() with a flow (o may be NULL: none): the stages' takes by o->take_gate, the claim
 * by o->gate. */
int bb_take_flow(struct bb *b, const char *const *stages, size_t nstages, enum bb_status st,
                 int claim_from, int ttl_ms, const struct bb_flow_opts *o, struct bb_lock *lk,
                 struct bb_item **item, size_t *source, char **cause);
/* Where flow stage `stage`'s depth is kept: key and field ("" : key is a sorted set, its size
 * the depth), for scripts of other families that gate on it (debate_seat). */
void bb_flow_depth_key(int stage, char *key, size_t key_size, char *field, size_t field_size);

/* The flow in one round trip (bb_flow.lua): every stage's depth, how many stories have left it
 * so far (a counter: the rate is the caller's to make), and the marks the swarm's heart
 * published (-1: none). With publish (the marks, by stage; NULL: none) the marks are published
 * first. extra (may be NULL) is a hash read along: its fields (at most BB_FLOW_EXTRA_MAX) come
 * back in extra_name / extra_value. */
#define BB_FLOW_EXTRA_MAX 32
struct bb_flow_reading {
    int64_t now_ms; /* the server's */
    long depth[BB_FLOW_COUNT];
    long long drained[BB_FLOW_COUNT];
    long hwm[BB_FLOW_COUNT];
    size_t nextra;
    char extra_name[BB_FLOW_EXTRA_MAX][64];
    long long extra_value[BB_FLOW_EXTRA_MAX];
};
int bb_flow_read(struct bb *b, const long publish[BB_FLOW_COUNT], const char *extra,
                 struct bb_flow_reading *out, char **cause);

/* One pass of expiry for the system (bb_expire.lua): stories waiting longer than stale_ms
 * before production (PENDING, DEBATING, CONSENSUS_REACHED; 0: none) are archived as stale, and
 * stories waiting for review longer than review_ms (0: none) as "not reviewed in time", each
 * audited (user "system", from this bb's actor, what "expire") in the same step; at most
 * limit looked at per queue. *stale and *unreviewed (may be NULL) receive how many. */
int bb_expire(struct bb *b, int64_t stale_ms, int64_t review_ms, int limit, long *stale,
              long *unreviewed, char **cause);

/* The retry policy of every step: its attempts, and the backoff before a retry (base_ms
 * doubling to max_ms, the second half of each wait random; base_ms 0: at once), also used for
 * parks without a wait of their own. reclaims: how often a story may be taken back from dead
 * claimers before each further time counts as an attempt (a story that kills its workers);
 * 0: never. */
struct bb_retry {
    int max_attempts;
    int base_ms, max_ms;
    int reclaims;
};

/* Sets item id back (lk, when given, is released): BB_ATTEMPT counts a failed attempt at its
 * step (the error history gains {step, agent, error, t, attempt}; the story waits out the
 * policy's backoff in its step's queue, or is FAILED at the step's max_attempts, the reason
 * kept); BB_PARK counts nothing and waits wait_ms (< 0: the policy's backoff over the step's
 * parks), remembering wait_req (a budget request id, NULL for none: the story goes on at once
 * when the request is decided, see bb_reap). patch (may be NULL) is merged in the same step.
 * *now (may be NULL) receives the status it ended in. */
enum bb_setback { BB_ATTEMPT, BB_PARK };
int bb_setback(struct bb *b, const char *id, const struct bb_lock *lk, enum bb_setback kind,
               const char *reason, const struct bb_retry *policy, int64_t wait_ms,
               const char *wait_req, const json_t *patch, int *now, char **cause);
/* A failed attempt retried at once (bb_setback BB_ATTEMPT, no backoff): below max_attempts of
 * its step it goes back for a retry, at max_attempts it becomes FAILED with the reason kept. */
int bb_fail(struct bb *b, const char *id, const struct bb_lock *lk, const char *reason,
            int max_attempts, int *now, char **cause);
/* bb_fail() that also merges patch (may be NULL) into the body in the same step. */
int bb_fail_with(struct bb *b, const char *id, const struct bb_lock *lk, const char *reason,
                 int max_attempts, const json_t *patch, int *now, char **cause);

/* The last resort for claims whose owner cannot be told dead: takes back up to scan of the
 * oldest items in working status st whose lock has expired (their claimer died or hung, and
 * no reaper saw it): each goes back to the front of its queue without counting an attempt
 * (past policy->reclaims takings back, each counts one). *n (may be NULL) receives how many
 * were taken back. BB_REFUSED for a status that cannot fail. */
int bb_reclaim(struct bb *b, enum bb_status st, const struct bb_retry *policy, int scan, int *n,
               char **cause);

/* One pass of the reaper (see the top of this file). Agents are dead when their process is
 * gone (gone[0..ngone), found by the caller) or, when lapsed is true, their heartbeat has
 * lapsed within the last window_ms; every claim and debate seat they held is taken back
 * (debate.h), and the stories parked for a budget request that is no longer open go on.
 * host_key and pid say who is asking: the live agents of the same host key, other than pid,
 * come back in *local (an array of *nlocal, free() it; may be NULL) for the caller to look at
 * their processes. *taken (may be NULL) receives how many claims were taken back. */
struct bb_local_agent {
    char id[REGISTRY_ID_MAX + 1];
    long pid;
    long long pstart; /* the process's start time (clock ticks since boot), 0 if unknown */
};
int bb_reap(struct bb *b, const struct bb_retry *policy, bool lapsed, int64_t window_ms,
            const char *host_key, long pid, const char *const *gone, size_t ngone, int *taken,
            struct bb_local_agent **local, size_t *nlocal, char **cause);

/* An operator's requeue of a FAILED story (or, with archived, an ARCHIVED one) at step (a name
 * of bb_steps) with a fresh attempt budget for it, at the front of its queue; patch (may be
 * NULL) is merged in the same step, and the audit record audit_argv (as bb_decide takes it)
 * appended. BB_REFUSED with *cause for a story in another status or an unknown step. */
int bb_requeue(struct bb *b, const char *id, const char *step, bool archived, const json_t *patch,
               int audit_argc, const char *const *audit_argv, char **cause);

/* Locks the oldest item of status st that nobody holds, for ttl_ms, without moving it, and
 * returns it (*item may be NULL to skip reading): BB_OK, or BB_NONE when every one is held or
 * there is none. One round trip for bb_query + bb_lock_acquire + bb_read. */
int bb_lock_first(struct bb *b, enum bb_status st, int ttl_ms, struct bb_lock *lk,
                  struct bb_item **item, char **cause);

/* Locks. acquire: BB_OK, BB_REFUSED when another holds it, BB_NONE without the item.
 * extend and release: BB_OK, or BB_REFUSED when the lock is no longer ours. */
int bb_lock_acquire(struct bb *b, const char *id, int ttl_ms, struct bb_lock *lk, char **cause);
int bb_lock_extend(struct bb *b, const struct bb_lock *lk, int ttl_ms, char **cause);
int bb_lock_release(struct bb *b, const struct bb_lock *lk, char **cause);
/* Runs fn with the item's lock held and releases it on every path: returns fn's result, or
 * what bb_lock_acquire returned when the lock could not be had. */
int bb_with_lock(struct bb *b, const char *id, int ttl_ms,
                 int (*fn)(struct bb *, const struct bb_lock *, void *), void *ctx, char **cause);

/* Items of a section and/or status (-1 for any; at least one given), oldest first, after
 * cursor `after` ("" or NULL from the start), at most limit. *items (free each with
 * bb_item_free, then the array) and *n; next receives the cursor of the next page, "" at the
 * end (next may be the same buffer as after). Cursors are positions, not counts: items that
 * move meanwhile never make a page skip or repeat one. */
#define BB_CURSOR_MAX (32 + NEWS_ID_MAX)
int bb_query(struct bb *b, int section, int status, const char *after, size_t limit,
             struct bb_item ***items, size_t *n, char next[BB_CURSOR_MAX + 1], char **cause);

/* Item counts per section and status. */
int bb_counts(struct bb *b, long counts[BB_SECTION_COUNT][BB_STATUS_COUNT], char **cause);

struct bb_event {
    char sid[32];  /* stream id: follow from here */
    char kind[16]; /* write, claim, move, decide, retry, failed, update */
    char id[NEWS_ID_MAX + 1];
    char from[24], to[24], section[24];
    long long version;
    char by[BB_ACTOR_MAX + 1];
    char why[256];
    int64_t t_ms;
};

/* Up to max events after stream id `after` ("0" from the oldest kept, "$" only new ones),
 * waiting up to block_ms for the first (0: do not wait; keep it below the command timeout).
 * Resuming from the last sid after a reconnect loses nothing still in the stream. */
int bb_events_read(struct bb *b, const char *after, int block_ms, struct bb_event *out, size_t max,
                   size_t *n, char **cause);

#endif
