/*
 * queue.c - work queues on Redis Streams; see queue.h for the model and the keys.
 *
 * A handle belongs to the thread of its link and is locked by nothing. Besides its keys it
 * keeps when it next promotes delayed tasks and claims idle ones (the dequeue script does both,
 * but runs only when one of them is due or a task waits in the buffer; the common dequeue is a
 * single XREADGROUP on both streams), the XAUTOCLAIM cursors of its two streams, and a small
 * buffer of tasks it has received but not handed out yet: the tasks taken over from a dead
 * consumer by queue_adopt(). (A normal task that a read of both streams returns beside a
 * breaking one is given back to its stream at once, never buffered: see take_read().) While the
 * buffer holds a task, dequeue runs the script with "breaking only" first, so a breaking task that
 * arrives meanwhile still goes first. A buffered task older than half the visibility timeout is
 * dropped rather than handed out, since another worker may be about to claim it; it stays pending
 * and is claimed like any idle task.
 */
#include "store/queue.h"

#include "core/clock.h"
#include "core/fail.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* The longest a waiting dequeue goes without looking for due delayed tasks, and so also the
 * longest single blocking read. */
#define QUEUE_POLL_MS 100
/* Tasks received but not yet handed out. */
#define QUEUE_BUF_MAX 32
#define KEY_MAX       (sizeof QUEUE_PREFIX + QUEUE_NAME_MAX + 16)

enum { S_BREAKING, S_NORMAL };

struct buffered {
    struct queue_task *task;
    int64_t got_ms; /* monotonic */
};

struct queue {
    struct rlink *l; /* borrowed */
    char name[QUEUE_NAME_MAX + 1];
    char consumer[QUEUE_ID_MAX + 1]; /* "" for a handle that does not consume */
    struct queue_options opt;
    char stream[2][KEY_MAX]; /* S_BREAKING, S_NORMAL */
    char delayed[KEY_MAX];
    char dead[KEY_MAX];
    char done_prefix[KEY_MAX];
    char vt[16], maxd[16], ttl[16];
    int64_t next_promote_ms; /* monotonic times after which dequeue promotes / claims */
    int64_t next_claim_ms;
    char cursor[2][48];
    struct buffered buf[QUEUE_BUF_MAX];
    int nbuf;
    uint64_t rng;
};

static const char dead_cap[] = "10000";
_Static_assert(QUEUE_DEAD_MAXLEN == 10000, "dead_cap must match QUEUE_DEAD_MAXLEN");

void queue_options_default(struct queue_options *o)
{
    o->visibility_ms = 30000;
    o->max_deliveries = 5;
    o->done_ttl_ms = 24 * 3600 * 1000;
}

bool queue_name_valid(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n == 0 || n > QUEUE_NAME_MAX)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") == n;
}

static const char *const priority_names[] = {
    [QUEUE_NORMAL] = "normal",
    [QUEUE_BREAKING] = "breaking",
};

const char *queue_priority_name(enum queue_priority p)
{
    return p == QUEUE_BREAKING ? priority_names[QUEUE_BREAKING] : priority_names[QUEUE_NORMAL];
}

static const struct {
    const char *word; /* as the nack script says it */
    enum queue_outcome outcome;
} outcomes[] = {
    {"requeued", QUEUE_REQUEUED}, {"delayed", QUEUE_DELAYED}, {"dead", QUEUE_DEAD},
    {"done", QUEUE_DONE},         {"lost", QUEUE_LOST},
};

const char *queue_outcome_name(enum queue_outcome o)
{
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
        if (outcomes[i].outcome == o)
            return outcomes[i].word;
    return "?";
}

void queue_task_free(struct queue_task *t)
{
    if (t == NULL)
        return;
    free(t->type);
    free(t->last_error);
    json_decref(t->payload);
    free(t);
}

json_t *queue_task_to_json(const struct queue_task *t)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_string(t->id));
    json_object_set_new(o, "type", json_string(t->type));
    json_object_set(o, "payload", t->payload != NULL ? t->payload : json_null());
    json_object_set_new(o, "priority", json_string(queue_priority_name(t->priority)));
    json_object_set_new(o, "deliveries", json_integer(t->deliveries));
    json_object_set_new(o, "enqueued_ms", json_integer(t->enqueued_ms));
    json_object_set_new(o, "last_error",
                        t->last_error != NULL ? json_string(t->last_error) : json_null());
    if (t->dead_ms != 0)
        json_object_set_new(o, "dead_ms", json_integer(t->dead_ms));
    return o;
}

/* The key names of queue `name`. */
static void queue_keys(const char *name, char stream[2][KEY_MAX], char *delayed, char *dead,
                       char *done_prefix)
{
    snprintf(stream[S_BREAKING], KEY_MAX, "%s%s:breaking", QUEUE_PREFIX, name);
    snprintf(stream[S_NORMAL], KEY_MAX, "%s%s:normal", QUEUE_PREFIX, name);
    snprintf(delayed, KEY_MAX, "%s%s:delayed", QUEUE_PREFIX, name);
    snprintf(dead, KEY_MAX, "%s%s:dead", QUEUE_PREFIX, name);
    if (done_prefix != NULL)
        snprintf(done_prefix, KEY_MAX, "%s%s:done:", QUEUE_PREFIX, name);
}

/* xorshift64*: task ids need to be unique, not secret. */
static uint64_t next_random(struct queue *q)
{
    q->rng ^= q->rng >> 12;
    q->rng ^= q->rng << 25;
    q->rng ^= q->rng >> 27;
    return q->rng * 2685821657736338717ULL;
}

/* id, or a new random one when id is NULL, into out. */
static void new_id(struct queue *q, const char *id, char out[QUEUE_ID_MAX + 1])
{
    if (id != NULL) {
        snprintf(out, QUEUE_ID_MAX + 1, "%s", id);
    } else {
        uint64_t a = next_random(q), b = next_random(q);

        snprintf(out, QUEUE_ID_MAX + 1, "%016llx%08llx", (unsigned long long)a,
                 (unsigned long long)(b >> 32));
    }
}

static int create_groups(struct queue *q, char **cause)
{
    const char *argv[] = {q->stream[S_BREAKING], q->stream[S_NORMAL], QUEUE_NAMES_KEY, QUEUE_GROUP,
                          q->name};
    redisReply *r = rlink_eval(q->l, &lua_queue_open, 3, 5, argv, cause);

    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

struct queue *queue_open(struct rlink *l, const char *name, const char *consumer,
                         const struct queue_options *o, char **cause)
{
    struct queue *q;

    if (!queue_name_valid(name)) {
        *cause = xasprintf("bad queue name \"%.80s\": use 1 to %d of A-Z a-z 0-9 _ . : -",
                           name != NULL ? name : "", QUEUE_NAME_MAX);
        return NULL;
    }
    if (consumer != NULL && !queue_name_valid(consumer)) {
        *cause = xasprintf("bad consumer name \"%.80s\": use 1 to %d of A-Z a-z 0-9 _ . : -",
                           consumer, QUEUE_ID_MAX);
        return NULL;
    }
    q = xcalloc(1, sizeof *q);
    q->l = l;
    snprintf(q->name, sizeof q->name, "%s", name);
    snprintf(q->consumer, sizeof q->consumer, "%s", consumer != NULL ? consumer : "");
    if (o != NULL)
        q->opt = *o;
    else
        queue_options_default(&q->opt);
    if (q->opt.visibility_ms < 10)
        q->opt.visibility_ms = 10;
    if (q->opt.max_deliveries < 1)
        q->opt.max_deliveries = 1;
    if (q->opt.done_ttl_ms < 1000)
        q->opt.done_ttl_ms = 1000;
    queue_keys(name, q->stream, q->delayed, q->dead, q->done_prefix);
    snprintf(q->vt, sizeof q->vt, "%d", q->opt.visibility_ms);
    snprintf(q->maxd, sizeof q->maxd, "%d", q->opt.max_deliveries);
    snprintf(q->ttl, sizeof q->ttl, "%d", q->opt.done_ttl_ms);
    snprintf(q->cursor[0], sizeof q->cursor[0], "0-0");
    snprintf(q->cursor[1], sizeof q->cursor[1], "0-0");
    if (getrandom(&q->rng, sizeof q->rng, 0) != (ssize_t)sizeof q->rng)
        q->rng = (uint64_t)clock_mono_us() ^ (uint64_t)(uintptr_t)q;
    q->rng |= 1;
    if (create_groups(q, cause) == -1) {
        free(q);
        return NULL;
    }
    return q;
}

void queue_free(struct queue *q)
{
    if (q == NULL)
        return;
    for (int i = 0; i < q->nbuf; i++)
        queue_task_free(q->buf[i].task);
    free(q);
}

const char *queue_name(const struct queue *q)
{
    return q->name;
}

const char *queue_consumer(const struct queue *q)
{
    return q->consumer[0] != '\0' ? q->consumer : NULL;
}

/* Whether an error from Redis says that the group (or the stream) has gone, as after a
 * restart that lost data or a key deleted by hand; the caller creates them and tries again. */
static bool no_group(const char *cause)
{
    return cause != NULL && strstr(cause, "NOGROUP") != NULL;
}

int queue_enqueue(struct queue *q, const char *type, const json_t *payload, enum queue_priority p,
                  const char *id, char id_out[QUEUE_ID_MAX + 1], char **cause)
{
    char gen[QUEUE_ID_MAX + 1];
    const char *argv[9];
    char *body;
    redisReply *r;

    if (type == NULL || !queue_name_valid(type)) {
        *cause = xasprintf("bad task type \"%.80s\": use 1 to %d of A-Z a-z 0-9 _ . : -",
                           type != NULL ? type : "", QUEUE_NAME_MAX);
        return -1;
    }
    if (id == NULL) {
        new_id(q, NULL, gen);
        id = gen;
    } else if (!queue_name_valid(id)) {
        *cause = xasprintf("bad task id \"%.80s\": use 1 to %d of A-Z a-z 0-9 _ . : -", id,
                           QUEUE_ID_MAX);
        return -1;
    }
    body = payload != NULL ? json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY) : xstrdup("{}");
    if (body == NULL) {
        *cause = xasprintf("the payload of task %s cannot be encoded as JSON", id);
        return -1;
    }
    argv[0] = "XADD";
    argv[1] = q->stream[p == QUEUE_BREAKING ? S_BREAKING : S_NORMAL];
    argv[2] = "*";
    argv[3] = "id";
    argv[4] = id;
    argv[5] = "type";
    argv[6] = type;
    argv[7] = "payload";
    argv[8] = body;
    r = rlink_command_argv(q->l, cause, 9, argv, NULL);
    free(body);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    if (id_out != NULL)
        snprintf(id_out, QUEUE_ID_MAX + 1, "%s", id);
    return 0;
}

int queue_enqueue_batch(struct queue *q, const struct queue_new_task *tasks, size_t n,
                        char (*ids_out)[QUEUE_ID_MAX + 1], char **cause)
{
    const char **argv;
    char(*ids)[QUEUE_ID_MAX + 1];
    char **bodies;
    redisReply *r;
    int rc = -1;
    size_t k = 0;

    if (n == 0)
        return 0;
    if (n > QUEUE_BATCH_MAX) {
        *cause = xasprintf("a batch holds at most %d tasks, not %zu", QUEUE_BATCH_MAX, n);
        return -1;
    }
    argv = xcalloc(2 + 4 * n, sizeof *argv);
    ids = xcalloc(n, sizeof *ids);
    bodies = xcalloc(n, sizeof *bodies);
    argv[k++] = q->stream[S_BREAKING];
    argv[k++] = q->stream[S_NORMAL];
    for (size_t i = 0; i < n; i++) {
        const struct queue_new_task *t = &tasks[i];

        if (t->type == NULL || !queue_name_valid(t->type) ||
            (t->id != NULL && !queue_name_valid(t->id))) {
            *cause = xasprintf("task %zu of the batch: bad type or id (use 1 to %d of A-Z a-z "
                               "0-9 _ . : -)",
                               i, QUEUE_NAME_MAX);
            goto out;
        }
        new_id(q, t->id, ids[i]);
        bodies[i] = t->payload != NULL ? json_dumps(t->payload, JSON_COMPACT | JSON_ENCODE_ANY)
                                       : xstrdup("{}");
        if (bodies[i] == NULL) {
            *cause = xasprintf("the payload of task %s cannot be encoded as JSON", ids[i]);
            goto out;
        }
        argv[k++] = t->priority == QUEUE_BREAKING ? "b" : "n";
        argv[k++] = ids[i];
        argv[k++] = t->type;
        argv[k++] = bodies[i];
    }
    r = rlink_eval(q->l, &lua_queue_enqueue, 2, (int)k, argv, cause);
    if (r == NULL)
        goto out;
    freeReplyObject(r);
    if (ids_out != NULL)
        memcpy(ids_out, ids, n * sizeof *ids);
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(bodies[i]);
    free(bodies);
    free(ids);
    free(argv);
    return rc;
}

/* The value of field `name` in a flat field/value array reply, or NULL. */
static const char *field(const redisReply *f, const char *name)
{
    if (f == NULL || f->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < f->elements; i += 2)
        if (f->element[i]->type == REDIS_REPLY_STRING &&
            f->element[i + 1]->type == REDIS_REPLY_STRING && strcmp(f->element[i]->str, name) == 0)
            return f->element[i + 1]->str;
    return NULL;
}

static int64_t to_ms(const char *s)
{
    return s != NULL ? strtoll(s, NULL, 10) : 0;
}

/* A task from a stream entry's id and fields. The payload is NULL when it is not JSON (the
 * caller buries such a task). */
static struct queue_task *task_from_entry(const char *entry, const redisReply *f,
                                          enum queue_priority p, int deliveries)
{
    struct queue_task *t = xcalloc(1, sizeof *t);
    const char *id = field(f, "id"), *type = field(f, "type"), *payload = field(f, "payload");
    const char *enq = field(f, "enq"), *err = field(f, "err");

    snprintf(t->id, sizeof t->id, "%s", id != NULL ? id : "");
    snprintf(t->entry, sizeof t->entry, "%s", entry);
    t->type = xstrdup(type != NULL ? type : "");
    t->payload = payload != NULL ? json_loads(payload, JSON_DECODE_ANY, NULL) : NULL;
    t->priority = p;
    t->deliveries = deliveries;
    t->enqueued_ms = enq != NULL ? to_ms(enq) : to_ms(entry); /* "ms-seq": strtoll stops at - */
    t->last_error = err != NULL && *err != '\0' ? xstrdup(err) : NULL;
    return t;
}

/* A task from the scripts' form {stream (1 breaking, 2 normal), entry id, deliveries, fields};
 * NULL when the reply does not have that shape. */
static struct queue_task *task_from_script(const redisReply *x)
{
    if (x == NULL || x->type != REDIS_REPLY_ARRAY || x->elements != 4 ||
        x->element[0]->type != REDIS_REPLY_INTEGER || x->element[1]->type != REDIS_REPLY_STRING ||
        x->element[2]->type != REDIS_REPLY_INTEGER)
        return NULL;
    return task_from_entry(x->element[1]->str, x->element[3],
                           x->element[0]->integer == 1 ? QUEUE_BREAKING : QUEUE_NORMAL,
                           (int)x->element[2]->integer);
}

static void buffer_push(struct queue *q, struct queue_task *t)
{
    if (q->nbuf == QUEUE_BUF_MAX) {
        /* Cannot happen (adopt takes no more than there is room for); the task stays pending
         * and is claimed after the visibility timeout. */
        queue_task_free(t);
        return;
    }
    q->buf[q->nbuf].task = t;
    q->buf[q->nbuf].got_ms = clock_mono_ms();
    q->nbuf++;
}

static struct queue_task *buffer_shift(struct queue *q)
{
    struct queue_task *t = q->buf[0].task;

    memmove(&q->buf[0], &q->buf[1], (size_t)(q->nbuf - 1) * sizeof q->buf[0]);
    q->nbuf--;
    return t;
}

static void buffer_drop_stale(struct queue *q, int64_t now)
{
    while (q->nbuf > 0 && now - q->buf[0].got_ms > q->opt.visibility_ms / 2)
        queue_task_free(buffer_shift(q));
}

static int nack_script(struct queue *q, const struct queue_task *t, int delay_ms, const char *error,
                       bool bury, enum queue_outcome *out, char **cause);

/* Hands out t unless its payload is not JSON: such a task can never be done, so it is buried.
 * Returns t, or NULL after burying (or failing to; the task then stays pending). */
static struct queue_task *accept_task(struct queue *q, struct queue_task *t)
{
    char *why = NULL;

    if (t == NULL || t->payload != NULL)
        return t;
    if (nack_script(q, t, 0, "the payload is not valid JSON", true, NULL, &why) == -1)
        free(why);
    queue_task_free(t);
    return NULL;
}

/* One run of the dequeue script. *out: a task or NULL; *again: the script returned a task that
 * had to be buried, so the queue may hold more at once. */
static int dequeue_script(struct queue *q, int64_t now, struct queue_task **out, bool *again,
                          char **cause)
{
    char flags[4];
    int nf = 0;
    bool promote = now >= q->next_promote_ms, claim = now >= q->next_claim_ms;
    const char *argv[13];
    redisReply *r;
    char *why = NULL;

    *out = NULL;
    *again = false;
    if (promote)
        flags[nf++] = 'p';
    if (claim)
        flags[nf++] = 'c';
    if (q->nbuf > 0)
        flags[nf++] = 'b';
    flags[nf] = '\0';
    argv[0] = q->stream[S_BREAKING];
    argv[1] = q->stream[S_NORMAL];
    argv[2] = q->delayed;
    argv[3] = q->dead;
    argv[4] = QUEUE_GROUP;
    argv[5] = q->consumer;
    argv[6] = flags;
    argv[7] = q->vt;
    argv[8] = q->maxd;
    argv[9] = q->cursor[0];
    argv[10] = q->cursor[1];
    argv[11] = q->done_prefix;
    argv[12] = dead_cap;
    r = rlink_eval(q->l, &lua_queue_dequeue, 4, 13, argv, &why);
    if (r == NULL && no_group(why)) {
        free(why);
        why = NULL;
        if (create_groups(q, cause) == -1)
            return -1;
        r = rlink_eval(q->l, &lua_queue_dequeue, 4, 13, argv, &why);
    }
    if (r == NULL) {
        *cause = why;
        return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
        r->element[1]->type != REDIS_REPLY_INTEGER || r->element[2]->type != REDIS_REPLY_STRING ||
        r->element[3]->type != REDIS_REPLY_STRING || r->element[4]->type != REDIS_REPLY_INTEGER) {
        freeReplyObject(r);
        *cause = xasprintf("queue %s: unexpected reply from queue_dequeue.lua", q->name);
        return -1;
    }
    if (promote) {
        long long due = r->element[1]->integer;

        q->next_promote_ms = now + (due >= 0 && due < QUEUE_POLL_MS ? due : QUEUE_POLL_MS);
    }
    if (claim) {
        int every = q->opt.visibility_ms / 4;

        snprintf(q->cursor[0], sizeof q->cursor[0], "%s", r->element[2]->str);
        snprintf(q->cursor[1], sizeof q->cursor[1], "%s", r->element[3]->str);
        /* Keep claiming while there is something to find; otherwise a quarter of the
         * visibility timeout, between 10 ms and 5 s. */
        if (r->element[4]->integer != 0)
            every = 0;
        else if (every < 10)
            every = 10;
        else if (every > 5000)
            every = 5000;
        q->next_claim_ms = now + every;
    }
    if (r->element[0]->type == REDIS_REPLY_ARRAY) {
        *out = accept_task(q, task_from_script(r->element[0]));
        *again = *out == NULL;
    }
    freeReplyObject(r);
    return 0;
}

/* Gives a normal task back to its stream (queue_giveback.lua), for any worker to take. */
static void give_back(struct queue *q, const char *entry, const redisReply *fields)
{
    const char **argv = xcalloc(fields->elements + 6, sizeof *argv);
    char *cause = NULL;
    redisReply *r;
    int argc = 0;

    argv[argc++] = q->stream[S_NORMAL];
    argv[argc++] = QUEUE_GROUP;
    argv[argc++] = entry;
    for (size_t i = 0; i < fields->elements; i++)
        argv[argc++] = fields->element[i]->str;
    r = rlink_eval(q->l, &lua_queue_giveback, 1, argc, argv, &cause);
    /* If it fails the task stays pending here and is claimed after the visibility timeout,
     * like the task of a worker that died. */
    if (r != NULL)
        freeReplyObject(r);
    free(cause);
    free(argv);
}

/* The task of an XREADGROUP reply (NULL when it holds none). A blocking read of both streams
 * may answer with a task from each when both filled in the same instant: the breaking one is
 * returned and the normal one given back to its stream at once, never held here, so another
 * worker takes it without its delivery being counted. */
static struct queue_task *take_read(struct queue *q, const redisReply *r)
{
    struct queue_task *got[2] = {NULL, NULL};
    const redisReply *normal_entry = NULL;

    if (r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < r->elements; i++) {
            const redisReply *st = r->element[i], *e;
            int which;

            if (st->type != REDIS_REPLY_ARRAY || st->elements != 2 ||
                st->element[0]->type != REDIS_REPLY_STRING ||
                st->element[1]->type != REDIS_REPLY_ARRAY || st->element[1]->elements == 0)
                continue;
            which = strcmp(st->element[0]->str, q->stream[S_BREAKING]) == 0 ? S_BREAKING : S_NORMAL;
            e = st->element[1]->element[0];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
                e->element[0]->type != REDIS_REPLY_STRING)
                continue;
            got[which] = task_from_entry(e->element[0]->str, e->element[1],
                                         which == S_BREAKING ? QUEUE_BREAKING : QUEUE_NORMAL,
                                         (int)to_ms(field(e->element[1], "att")) + 1);
            if (which == S_NORMAL)
                normal_entry = e;
        }
    }
    if (got[S_BREAKING] != NULL && got[S_NORMAL] != NULL) {
        give_back(q, normal_entry->element[0]->str, normal_entry->element[1]);
        queue_task_free(got[S_NORMAL]);
        got[S_NORMAL] = NULL;
    }
    got[S_BREAKING] = accept_task(q, got[S_BREAKING]);
    if (got[S_BREAKING] != NULL)
        return got[S_BREAKING];
    return accept_task(q, got[S_NORMAL]);
}

/* One XREADGROUP of the breaking stream, the normal one, or both (streams: 1, 2 or 3),
 * waiting up to block_ms (0: not at all). */
static int read_streams(struct queue *q, int streams, int64_t block_ms, struct queue_task **out,
                        char **cause)
{
    char block[24];
    const char *argv[13];
    int argc = 0;
    redisReply *r;
    char *why = NULL;

    *out = NULL;
    argv[argc++] = "XREADGROUP";
    argv[argc++] = "GROUP";
    argv[argc++] = QUEUE_GROUP;
    argv[argc++] = q->consumer;
    argv[argc++] = "COUNT";
    argv[argc++] = "1";
    if (block_ms > 0) { /* BLOCK 0 would wait for ever: leave BLOCK out */
        snprintf(block, sizeof block, "%lld", (long long)block_ms);
        argv[argc++] = "BLOCK";
        argv[argc++] = block;
    }
    argv[argc++] = "STREAMS";
    if (streams & 1)
        argv[argc++] = q->stream[S_BREAKING];
    if (streams & 2)
        argv[argc++] = q->stream[S_NORMAL];
    if (streams & 1)
        argv[argc++] = ">";
    if (streams & 2)
        argv[argc++] = ">";
    r = rlink_command_argv(q->l, &why, argc, argv, NULL);
    if (r == NULL && no_group(why)) {
        free(why);
        why = NULL;
        if (create_groups(q, cause) == -1)
            return -1;
        r = rlink_command_argv(q->l, &why, argc, argv, NULL);
    }
    if (r == NULL) {
        *cause = why;
        return -1;
    }
    *out = take_read(q, r);
    freeReplyObject(r);
    return 0;
}

/* The next new task: breaking first, then normal, each read on its own so that a normal task
 * is never taken beside a breaking one; only when both are empty does it wait, up to block_ms,
 * on both at once. */
static int dequeue_block(struct queue *q, int64_t block_ms, struct queue_task **out, char **cause)
{
    if (read_streams(q, 1, 0, out, cause) == -1 || *out != NULL)
        return *out != NULL ? 0 : -1;
    if (read_streams(q, 2, 0, out, cause) == -1 || *out != NULL)
        return *out != NULL ? 0 : -1;
    if (block_ms <= 0)
        return 0;
    return read_streams(q, 3, block_ms, out, cause);
}

int queue_dequeue(struct queue *q, int timeout_ms, struct queue_task **out, char **cause)
{
    int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);

    *out = NULL;
    if (q->consumer[0] == '\0') {
        *cause =
            xasprintf("queue %s: this handle has no consumer name and cannot dequeue", q->name);
        return -1;
    }
    for (;;) {
        int64_t now = clock_mono_ms(), block;
        bool again;

        buffer_drop_stale(q, now);
        /* The script only when it has work to do: promoting, claiming, or checking the
         * breaking stream before a buffered normal task. Otherwise one XREADGROUP, which
         * serves breaking first too and waits in the same round trip. */
        if (q->nbuf > 0 || now >= q->next_promote_ms || now >= q->next_claim_ms) {
            if (dequeue_script(q, now, out, &again, cause) == -1)
                return -1;
            if (*out != NULL)
                return 0;
            if (again)
                continue;
            if (q->nbuf > 0) {
                *out = buffer_shift(q);
                return 0;
            }
            now = clock_mono_ms();
            if (now >= deadline)
                return 0;
        }
        block = deadline - now;
        if (q->next_promote_ms - now < block)
            block = q->next_promote_ms - now;
        if (q->next_claim_ms - now < block)
            block = q->next_claim_ms - now;
        if (dequeue_block(q, block > 0 ? block : 0, out, cause) == -1)
            return -1;
        if (*out != NULL || clock_mono_ms() >= deadline)
            return 0;
    }
}

/* The ack script; with next != NULL it also reads the next task (*next, or NULL). */
static int ack_script(struct queue *q, const struct queue_task *t, const json_t *result,
                      bool *first, struct queue_task **next, char **cause)
{
    char done[KEY_MAX + QUEUE_ID_MAX];
    char *value = NULL;
    const char *argv[9];
    redisReply *r;
    int rc = 0;

    if (result != NULL) {
        value = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
        if (value == NULL) {
            *cause = xasprintf("the result of task %s cannot be encoded as JSON", t->id);
            return -1;
        }
    }
    snprintf(done, sizeof done, "%s%s", q->done_prefix, t->id);
    argv[0] = q->stream[t->priority == QUEUE_BREAKING ? S_BREAKING : S_NORMAL];
    argv[1] = done;
    argv[2] = q->stream[S_BREAKING];
    argv[3] = q->stream[S_NORMAL];
    argv[4] = QUEUE_GROUP;
    argv[5] = t->entry;
    argv[6] = q->ttl;
    argv[7] = value != NULL ? value : "";
    argv[8] = q->consumer;
    if (next != NULL) {
        r = rlink_eval(q->l, &lua_queue_ack, 4, 9, argv, cause);
    } else {
        const char *av[6] = {argv[0], argv[1], argv[4], argv[5], argv[6], argv[7]};

        r = rlink_eval(q->l, &lua_queue_ack, 2, 6, av, cause);
    }
    free(value);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER) {
        *cause = xasprintf("queue %s: unexpected reply from queue_ack.lua", q->name);
        rc = -1;
    } else {
        if (first != NULL)
            *first = r->element[0]->integer == 1;
        if (next != NULL)
            *next = take_read(q, r->element[1]);
    }
    freeReplyObject(r);
    return rc;
}

/* Every task of an XREADGROUP reply for one stream, into out[*n..max). */
static void take_all(struct queue *q, const redisReply *r, int which, struct queue_task **out,
                     size_t *n, size_t max)
{
    const redisReply *st, *entries;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0)
        return;
    st = r->element[0];
    if (st->type != REDIS_REPLY_ARRAY || st->elements != 2 ||
        st->element[1]->type != REDIS_REPLY_ARRAY)
        return;
    entries = st->element[1];
    for (size_t i = 0; i < entries->elements && *n < max; i++) {
        const redisReply *e = entries->element[i];
        struct queue_task *t;

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING)
            continue;
        t = accept_task(q, task_from_entry(e->element[0]->str, e->element[1],
                                           which == S_BREAKING ? QUEUE_BREAKING : QUEUE_NORMAL,
                                           (int)to_ms(field(e->element[1], "att")) + 1));
        if (t != NULL)
            out[(*n)++] = t;
    }
}

/* One run of queue_ack_take.lua: completes done[0..ndone) and takes up to want tasks into
 * next[*nnext..]. */
static int ack_take_script(struct queue *q, struct queue_task *const *done, size_t ndone,
                           size_t want, struct queue_task **next, size_t *nnext, size_t max,
                           char **cause)
{
    const char **argv = xcalloc(7 + 3 * ndone, sizeof *argv);
    char(*ids)[QUEUE_ID_MAX + 1] = xcalloc(ndone + 1, sizeof *ids);
    char count[24];
    redisReply *r;
    int argc = 0;

    snprintf(count, sizeof count, "%zu", want);
    argv[argc++] = q->stream[S_BREAKING];
    argv[argc++] = q->stream[S_NORMAL];
    argv[argc++] = QUEUE_GROUP;
    argv[argc++] = q->consumer;
    argv[argc++] = q->done_prefix;
    argv[argc++] = q->ttl;
    argv[argc++] = count;
    for (size_t i = 0; i < ndone; i++) {
        argv[argc++] = done[i]->priority == QUEUE_BREAKING ? "1" : "2";
        argv[argc++] = done[i]->entry;
        snprintf(ids[i], sizeof ids[i], "%s", done[i]->id);
        argv[argc++] = ids[i];
    }
    r = rlink_eval(q->l, &lua_queue_ack_take, 2, argc, argv, cause);
    free(argv);
    free(ids);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
        freeReplyObject(r);
        *cause = xasprintf("queue %s: unexpected reply from queue_ack_take.lua", q->name);
        return -1;
    }
    take_all(q, r->element[1], S_BREAKING, next, nnext, max);
    take_all(q, r->element[2], S_NORMAL, next, nnext, max);
    freeReplyObject(r);
    return 0;
}

int queue_ack_take(struct queue *q, struct queue_task *const *done, size_t ndone, size_t max,
                   int timeout_ms, struct queue_task **next, size_t *nnext, char **cause)
{
    int64_t now = clock_mono_ms();
    struct queue_task *t = NULL;

    *nnext = 0;
    if (q->consumer[0] == '\0') {
        *cause = xasprintf("queue %s: this handle has no consumer name", q->name);
        return -1;
    }
    if (q->nbuf == 0 && now < q->next_promote_ms && now < q->next_claim_ms) {
        /* The common case: one round trip, and a wait only when nothing came. */
        if (ack_take_script(q, done, ndone, max, next, nnext, max, cause) == -1)
            return -1;
        if (*nnext > 0 || timeout_ms <= 0 || max == 0)
            return 0;
        if (queue_dequeue(q, timeout_ms, &t, cause) == -1)
            return -1;
        if (t != NULL)
            next[(*nnext)++] = t;
        return 0;
    }
    /* Promotions or claims are due, or adopted tasks wait: complete first, let the dequeue
     * script do its work and hand out one task, then take the rest. */
    if (ndone > 0 && ack_take_script(q, done, ndone, 0, next, nnext, max, cause) == -1)
        return -1;
    if (max == 0)
        return 0;
    if (queue_dequeue(q, 0, &t, cause) == -1)
        return -1;
    if (t != NULL)
        next[(*nnext)++] = t;
    if (*nnext < max && ack_take_script(q, NULL, 0, max - *nnext, next, nnext, max, cause) == -1)
        return -1;
    if (*nnext == 0 && timeout_ms > 0) {
        if (queue_dequeue(q, timeout_ms, &t, cause) == -1)
            return -1;
        if (t != NULL)
            next[(*nnext)++] = t;
    }
    return 0;
}

int queue_ack(struct queue *q, const struct queue_task *t, const json_t *result, bool *first,
              char **cause)
{
    return ack_script(q, t, result, first, NULL, cause);
}

int queue_ack_next(struct queue *q, const struct queue_task *t, const json_t *result, bool *first,
                   int timeout_ms, struct queue_task **next, char **cause)
{
    int64_t now = clock_mono_ms();

    *next = NULL;
    if (q->consumer[0] == '\0' || q->nbuf > 0 || now >= q->next_promote_ms ||
        now >= q->next_claim_ms) {
        /* The dequeue script has work to do first: two round trips this time. */
        if (queue_ack(q, t, result, first, cause) == -1)
            return -1;
        return queue_dequeue(q, timeout_ms, next, cause);
    }
    if (ack_script(q, t, result, first, next, cause) == -1)
        return -1;
    if (*next != NULL)
        return 0;
    return queue_dequeue(q, timeout_ms, next, cause);
}

static int nack_script(struct queue *q, const struct queue_task *t, int delay_ms, const char *error,
                       bool bury, enum queue_outcome *out, char **cause)
{
    char done[KEY_MAX + QUEUE_ID_MAX], delay[16];
    const char *argv[13];
    redisReply *r;
    int rc = -1;

    if (q->consumer[0] == '\0') {
        *cause = xasprintf("queue %s: this handle has no consumer name", q->name);
        return -1;
    }
    snprintf(done, sizeof done, "%s%s", q->done_prefix, t->id);
    snprintf(delay, sizeof delay, "%d", delay_ms > 0 ? delay_ms : 0);
    argv[0] = q->stream[t->priority == QUEUE_BREAKING ? S_BREAKING : S_NORMAL];
    argv[1] = q->delayed;
    argv[2] = q->dead;
    argv[3] = done;
    argv[4] = QUEUE_GROUP;
    argv[5] = t->entry;
    argv[6] = q->consumer;
    argv[7] = q->maxd;
    argv[8] = delay;
    argv[9] = error != NULL ? error : "";
    argv[10] = bury ? "bury" : "nack";
    argv[11] = t->priority == QUEUE_BREAKING ? "b" : "n";
    argv[12] = dead_cap;
    r = rlink_eval(q->l, &lua_queue_nack, 4, 13, argv, cause);
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_STRING) {
        for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
            if (strcmp(r->element[0]->str, outcomes[i].word) == 0) {
                if (out != NULL)
                    *out = outcomes[i].outcome;
                rc = 0;
            }
    }
    if (rc == -1)
        *cause = xasprintf("queue %s: unexpected reply from queue_nack.lua", q->name);
    freeReplyObject(r);
    return rc;
}

int queue_nack(struct queue *q, const struct queue_task *t, int delay_ms, const char *error,
               enum queue_outcome *out, char **cause)
{
    return nack_script(q, t, delay_ms, error, false, out, cause);
}

int queue_bury(struct queue *q, const struct queue_task *t, const char *error,
               enum queue_outcome *out, char **cause)
{
    return nack_script(q, t, 0, error, true, out, cause);
}

int queue_adopt(struct queue *q, const char *from, int max, int *adopted, char **cause)
{
    char most[16];
    const char *argv[10];
    redisReply *r;
    int n = 0;

    if (adopted != NULL)
        *adopted = 0;
    if (q->consumer[0] == '\0' || !queue_name_valid(from)) {
        *cause = xasprintf("queue %s: adopt needs a consumer name and a valid one to take from",
                           q->name);
        return -1;
    }
    if (strcmp(from, q->consumer) == 0)
        return 0;
    if (max > QUEUE_BUF_MAX - q->nbuf)
        max = QUEUE_BUF_MAX - q->nbuf;
    if (max <= 0)
        return 0;
    snprintf(most, sizeof most, "%d", max);
    argv[0] = q->stream[S_BREAKING];
    argv[1] = q->stream[S_NORMAL];
    argv[2] = q->dead;
    argv[3] = QUEUE_GROUP;
    argv[4] = q->consumer;
    argv[5] = from;
    argv[6] = most;
    argv[7] = q->maxd;
    argv[8] = q->done_prefix;
    argv[9] = dead_cap;
    r = rlink_eval(q->l, &lua_queue_adopt, 3, 10, argv, cause);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        *cause = xasprintf("queue %s: unexpected reply from queue_adopt.lua", q->name);
        return -1;
    }
    /* Breaking first, so that the buffer hands them out in priority order. */
    for (int pass = 1; pass <= 2; pass++)
        for (size_t i = 0; i < r->element[0]->elements; i++) {
            const redisReply *x = r->element[0]->element[i];
            struct queue_task *t;

            if (x->type != REDIS_REPLY_ARRAY || x->elements != 4 ||
                x->element[0]->type != REDIS_REPLY_INTEGER || x->element[0]->integer != pass)
                continue;
            t = accept_task(q, task_from_script(x));
            if (t != NULL) {
                buffer_push(q, t);
                n++;
            }
        }
    freeReplyObject(r);
    if (adopted != NULL)
        *adopted = n;
    return 0;
}

int queue_done(struct queue *q, const char *id, bool *done, json_t **result, char **cause)
{
    char key[KEY_MAX + QUEUE_ID_MAX];
    const char *argv[2] = {"GET", key};
    redisReply *r;

    *done = false;
    if (result != NULL)
        *result = NULL;
    snprintf(key, sizeof key, "%s%s", q->done_prefix, id);
    r = rlink_command_argv(q->l, cause, 2, argv, NULL);
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_STRING) {
        *done = true;
        if (result != NULL && r->len > 0)
            *result = json_loads(r->str, JSON_DECODE_ANY, NULL);
    }
    freeReplyObject(r);
    return 0;
}

int queue_stats(struct rlink *l, const char *name, struct queue_stats *out, char **cause)
{
    char stream[2][KEY_MAX], delayed[KEY_MAX], dead[KEY_MAX];
    const char *argv[5];
    redisReply *r;
    long long v[7];

    memset(out, 0, sizeof *out);
    out->oldest_age_ms = -1;
    if (!queue_name_valid(name)) {
        *cause = xasprintf("bad queue name \"%.80s\"", name != NULL ? name : "");
        return -1;
    }
    queue_keys(name, stream, delayed, dead, NULL);
    argv[0] = stream[S_BREAKING];
    argv[1] = stream[S_NORMAL];
    argv[2] = delayed;
    argv[3] = dead;
    argv[4] = QUEUE_GROUP;
    r = rlink_eval(l, &lua_queue_stats, 4, 5, argv, cause);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 7) {
        freeReplyObject(r);
        *cause = xasprintf("queue %s: unexpected reply from queue_stats.lua", name);
        return -1;
    }
    for (int i = 0; i < 7; i++)
        v[i] = r->element[i]->type == REDIS_REPLY_INTEGER ? r->element[i]->integer : 0;
    freeReplyObject(r);
    out->waiting_breaking = v[0];
    out->waiting_normal = v[1];
    out->pending = v[2];
    out->delayed = v[3];
    out->consumers = v[4];
    out->dead = v[5];
    out->oldest_age_ms = v[6];
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int queue_list(struct rlink *l, char ***names, size_t *n, char **cause)
{
    redisReply *r = rlink_command(l, cause, "SMEMBERS %s", QUEUE_NAMES_KEY);

    *names = NULL;
    *n = 0;
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        *names = xcalloc(r->elements, sizeof **names);
        for (size_t i = 0; i < r->elements; i++)
            if (r->element[i]->type == REDIS_REPLY_STRING)
                (*names)[(*n)++] = xstrdup(r->element[i]->str);
        qsort(*names, *n, sizeof **names, cmp_str);
    }
    freeReplyObject(r);
    return 0;
}

int queue_exists(struct rlink *l, const char *name, bool *exists, char **cause)
{
    redisReply *r = rlink_command(l, cause, "SISMEMBER %s %s", QUEUE_NAMES_KEY, name);

    *exists = false;
    if (r == NULL)
        return -1;
    *exists = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return 0;
}

int queue_dead_letters(struct rlink *l, const char *name, size_t limit, struct queue_task ***out,
                       size_t *n, char **cause)
{
    char stream[2][KEY_MAX], delayed[KEY_MAX], dead[KEY_MAX];
    redisReply *r;

    *out = NULL;
    *n = 0;
    if (!queue_name_valid(name)) {
        *cause = xasprintf("bad queue name \"%.80s\"", name != NULL ? name : "");
        return -1;
    }
    queue_keys(name, stream, delayed, dead, NULL);
    r = rlink_command(l, cause, "XREVRANGE %s + - COUNT %lld", dead,
                      (long long)(limit > 0 ? limit : 1));
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        *out = xcalloc(r->elements, sizeof **out);
        for (size_t i = 0; i < r->elements; i++) {
            const redisReply *e = r->element[i];
            struct queue_task *t;
            const char *pri, *d;

            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
                e->element[0]->type != REDIS_REPLY_STRING)
                continue;
            pri = field(e->element[1], "pri");
            d = field(e->element[1], "deliveries");
            t = task_from_entry(e->element[0]->str, e->element[1],
                                pri != NULL && strcmp(pri, "b") == 0 ? QUEUE_BREAKING
                                                                     : QUEUE_NORMAL,
                                (int)to_ms(d));
            t->dead_ms = to_ms(field(e->element[1], "at"));
            if (t->dead_ms == 0)
                t->dead_ms = to_ms(e->element[0]->str);
            if (t->payload == NULL) { /* kept as text when it never was JSON */
                const char *raw = field(e->element[1], "payload");

                t->payload = json_string(raw != NULL ? raw : "");
                if (t->payload == NULL) /* not even UTF-8 */
                    t->payload = json_null();
            }
            (*out)[(*n)++] = t;
        }
    }
    freeReplyObject(r);
    return 0;
}
