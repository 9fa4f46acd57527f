/*
 * queue.h - work queues on Redis Streams with a consumer group: enqueue with a priority (a
 * "breaking" stream always served before the "normal" one), dequeue with a blocking timeout,
 * ack (idempotent completion), nack with a delay, claim of tasks whose worker went quiet past
 * the visibility timeout, a dead-letter stream after the maximum deliveries that keeps the last
 * error, and stats.
 *
 * Keys of queue Q (docs/redis-keys.md): nr:q:Q:breaking and nr:q:Q:normal (streams, consumer
 * group "workers"), nr:q:Q:delayed (sorted set of nacked tasks by due time), nr:q:Q:dead (the
 * dead-letter stream, capped at about QUEUE_DEAD_MAXLEN), nr:q:Q:done:TASK (done markers with a
 * TTL) and the set nr:queues of queue names.
 *
 * Delivery is at least once; completion is exactly once: queue_ack() sets the task's done
 * marker (SET NX) and acknowledges in one script, so completing a task twice (a slow worker
 * and the one that claimed its task after the visibility timeout, or an ack retried after a
 * lost reply) has one effect, and the second caller is told. A task claimed again whose done
 * marker exists is dropped instead of being handed out. Each stream entry is deleted when it
 * is acknowledged, so a stream's length is its waiting plus its pending tasks.
 *
 * Round trips per task: enqueue 1 (one XADD; a batch of up to QUEUE_BATCH_MAX tasks 1); dequeue
 * 1 (one XREADGROUP on both streams, which also waits; a script that promotes due delayed
 * tasks, claims idle ones and reads breaking before normal runs instead only every so often or
 * when a task waits in the handle's buffer); ack 1; ack and take the next task 1 when one is
 * waiting (queue_ack_next()).
 *
 * Threads: a struct queue uses the caller's link (borrowed, it must outlive the queue), so it
 * belongs to that link's thread. Tasks are plain data owned by whoever holds them.
 * Errors: 0 / -1 with *cause (free it); after a lost link the next call reconnects once the
 * link's backoff has passed (rlink.h). A command is never resent on its own: an enqueue retried
 * by the caller should carry the same task id, an ack may always be retried.
 */
#ifndef NEWSROOM_QUEUE_H
#define NEWSROOM_QUEUE_H

#include "store/keys.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rlink;
struct queue;

#define QUEUE_PREFIX      NR_PREFIX "q:"
#define QUEUE_NAMES_KEY   NR_PREFIX "queues"
#define QUEUE_GROUP       "workers"
#define QUEUE_DEAD_MAXLEN 10000
/* Queue names, consumer names and task ids: 1 to this many of [A-Za-z0-9_.:-]. */
#define QUEUE_NAME_MAX 64
#define QUEUE_ID_MAX   64

enum queue_priority { QUEUE_NORMAL, QUEUE_BREAKING };

struct queue_options {
    int visibility_ms;  /* a delivered task unacknowledged this long may be claimed by another */
    int max_deliveries; /* deliveries before a task goes to the dead-letter stream */
    int done_ttl_ms;    /* how long done markers (and results) are kept */
};

/* Defaults: visibility 30 s, 5 deliveries, done markers for 24 h. */
void queue_options_default(struct queue_options *o);

struct queue_task {
    char id[QUEUE_ID_MAX + 1]; /* stable across redeliveries and nacks */
    char *type;
    json_t *payload; /* owned reference */
    enum queue_priority priority;
    int deliveries;      /* deliveries so far, this one included */
    int64_t enqueued_ms; /* wall time (server clock) of the first enqueue */
    char *last_error;    /* from the last nack, or NULL */
    int64_t dead_ms;     /* dead letters: when it was buried; else 0 */
    char entry[48];      /* the stream entry that carries it (dead letters: in the dead stream) */
};

/* Frees a task and drops its payload reference. NULL is a no-op. */
void queue_task_free(struct queue_task *t);
/* The task as a JSON object (id, type, payload, priority, deliveries, enqueued_ms,
 * last_error, and dead_ms for dead letters). New reference. */
json_t *queue_task_to_json(const struct queue_task *t);

/* Whether s is a valid queue name, consumer name or task id. */
bool queue_name_valid(const char *s);
const char *queue_priority_name(enum queue_priority p); /* "normal", "breaking" */

/* Opens queue `name` on link l (borrowed) for consumer `consumer` (the agent id; NULL for a
 * handle that only enqueues and reads stats), with options o (NULL: defaults). Creates the
 * consumer groups and records the name in nr:queues (one round trip). Returns a handle to free
 * with queue_free(), or NULL with *cause (a bad name, or Redis failed). */
struct queue *queue_open(struct rlink *l, const char *name, const char *consumer,
                         const struct queue_options *o, char **cause);
/* Frees the handle. Tasks it had received but not handed out stay pending under its consumer
 * and are claimed by others after the visibility timeout. NULL is a no-op. */
void queue_free(struct queue *q);
const char *queue_name(const struct queue *q);
const char *queue_consumer(const struct queue *q);

/* Enqueues a task of `type` with payload (borrowed; NULL means {}) at priority p. id: the
 * task's id (a retry after an error should pass the same one), or NULL for a new random id.
 * id_out (may be NULL) receives the id. One XADD. */
int queue_enqueue(struct queue *q, const char *type, const json_t *payload, enum queue_priority p,
                  const char *id, char id_out[QUEUE_ID_MAX + 1], char **cause);

/* A task to enqueue in a batch. */
struct queue_new_task {
    const char *type;
    const json_t *payload; /* borrowed; NULL means {} */
    enum queue_priority priority;
    const char *id; /* NULL: a new random id */
};
#define QUEUE_BATCH_MAX 1000

/* Enqueues n tasks (at most QUEUE_BATCH_MAX) in one round trip (one script), in order.
 * ids_out (may be NULL) receives the n ids. All or nothing. */
int queue_enqueue_batch(struct queue *q, const struct queue_new_task *tasks, size_t n,
                        char (*ids_out)[QUEUE_ID_MAX + 1], char **cause);

/* Takes the next task: breaking before normal, oldest first; tasks whose delay has passed and
 * tasks idle past the visibility timeout count as waiting (a waiting dequeue looks for them at
 * least every 100 ms, idle ones every quarter of the visibility timeout). Waits up to
 * timeout_ms (0: do not wait) for one to arrive, in blocking reads of at most 100 ms, so any
 * timeout suits any command timeout. Returns 0 with *out a task (free with queue_task_free) or
 * NULL when none came in time; -1 with *cause. A task that the maximum deliveries would exceed
 * goes to the dead-letter stream instead of being returned, as does one whose payload is not
 * JSON. */
int queue_dequeue(struct queue *q, int timeout_ms, struct queue_task **out, char **cause);

/* Completes task t: sets its done marker (with result, a JSON value to keep beside it,
 * borrowed, may be NULL) unless one exists, and acknowledges and deletes the entry, in one
 * script. *first (may be NULL) is true for the completion that took effect, false when the task
 * had been completed already (by this or another worker). Safe to retry after an error. */
int queue_ack(struct queue *q, const struct queue_task *t, const json_t *result, bool *first,
              char **cause);

/* queue_ack() of t, then queue_dequeue() of the next task, in one round trip when a task is
 * waiting (and nothing is due to be promoted or claimed), as a worker's loop wants. */
int queue_ack_next(struct queue *q, const struct queue_task *t, const json_t *result, bool *first,
                   int timeout_ms, struct queue_task **next, char **cause);

/* For workers that take tasks in batches: completes done[0..ndone) (each exactly once, as
 * queue_ack() does, keeping no result) and takes up to max next tasks for this consumer,
 * breaking first, in one round trip; the tasks taken are all this consumer's until it
 * completes them, so their visibility timeout runs from now. When none waits and timeout_ms
 * > 0 it waits for one like queue_dequeue(). *next receives *nnext tasks (free each with
 * queue_task_free()); it must hold max. ndone 0 only takes. */
int queue_ack_take(struct queue *q, struct queue_task *const *done, size_t ndone, size_t max,
                   int timeout_ms, struct queue_task **next, size_t *nnext, char **cause);

/* What became of a nacked task. */
enum queue_outcome {
    QUEUE_REQUEUED, /* back in its stream now (delay 0) */
    QUEUE_DELAYED,  /* back in its stream once the delay has passed */
    QUEUE_DEAD,     /* its deliveries reached the maximum: in the dead-letter stream */
    QUEUE_DONE,     /* it had been completed meanwhile: acknowledged, nothing else */
    QUEUE_LOST,     /* another worker had claimed it: nothing changed */
};
const char *queue_outcome_name(enum queue_outcome o);

/* Gives task t back after a failure with `error` (kept as its last error): after delay_ms
 * (0: now), or to the dead-letter stream once it has had the maximum deliveries. *out (may be
 * NULL) says which. */
int queue_nack(struct queue *q, const struct queue_task *t, int delay_ms, const char *error,
               enum queue_outcome *out, char **cause);
/* Moves task t to the dead-letter stream now (an error no retry will fix). */
int queue_bury(struct queue *q, const struct queue_task *t, const char *error,
               enum queue_outcome *out, char **cause);

/* Claims up to max of the tasks pending under consumer `from` (a dead agent) for this handle's
 * consumer, atomically (two callers never both get one); the next dequeues hand them out
 * before anything else. Tasks already done are dropped, tasks at their maximum deliveries are
 * buried. When `from` has nothing pending left it is removed from the consumer group.
 * *adopted (may be NULL) receives how many tasks were taken. */
int queue_adopt(struct queue *q, const char *from, int max, int *adopted, char **cause);

/* Whether task `id` of this queue has been completed (its done marker still exists), and its
 * result (new reference, NULL when none was given; result may be NULL). */
int queue_done(struct queue *q, const char *id, bool *done, json_t **result, char **cause);

struct queue_stats {
    long long waiting_breaking; /* not yet delivered */
    long long waiting_normal;
    long long pending;     /* delivered, not yet acknowledged */
    long long delayed;     /* nacked, waiting for their delay */
    long long consumers;   /* distinct consumers in the groups */
    long long dead;        /* entries in the dead-letter stream */
    int64_t oldest_age_ms; /* age of the oldest waiting or pending task; -1 when none */
};

/* Stats of queue `name` on l (no handle needed), in one round trip. A queue that does not
 * exist has all zeros and oldest_age_ms -1. */
int queue_stats(struct rlink *l, const char *name, struct queue_stats *out, char **cause);
/* The names of the queues opened so far (nr:queues), sorted. *names: an array of n strings;
 * free each and the array. */
int queue_list(struct rlink *l, char ***names, size_t *n, char **cause);
/* Whether queue `name` is known (in nr:queues). */
int queue_exists(struct rlink *l, const char *name, bool *exists, char **cause);
/* Up to limit dead letters of queue `name`, newest first: *out is an array of n tasks (free
 * each with queue_task_free, then the array), each with dead_ms, deliveries and last_error. */
int queue_dead_letters(struct rlink *l, const char *name, size_t limit, struct queue_task ***out,
                       size_t *n, char **cause);

#endif
