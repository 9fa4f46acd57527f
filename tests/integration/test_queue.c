/*
 * test_queue.c - the work queues against real redis-servers: the shared test server for the
 * behaviour of one queue (priority order, a blocked dequeue woken by a new task, idempotent
 * completion, batch enqueue, ack-and-next keeping priority order, nack with a delay, the
 * dead-letter stream after the maximum deliveries and after repeated visibility timeouts, a
 * payload that is not JSON, stats), a worker process killed with SIGKILL whose task is claimed
 * after the visibility timeout and completed exactly once, and a private server with an
 * append-only file killed and restarted in the middle of a run of 1,000 tasks.
 *
 * Every queue name carries the test's pid, so runs never see each other's tasks. Waits are for
 * conditions with a deadline; the only waits for time itself are the visibility timeouts and
 * delays under test, kept at a few hundred milliseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "store/queue.h"
#include "store/rlink.h"
#include "testenv.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct rlink_options opts = {
    .connect_timeout_ms = 2000,
    .command_timeout_ms = 3000,
    .reconnect_base_ms = 20,
    .reconnect_max_ms = 200,
    .client_name = "newsroom-test-queue",
};

static struct rlink *link_to(const char *u)
{
    struct redis_addr a;
    char *cause = NULL;

    if (redis_url_parse(u, &a, &cause) == -1)
        fail_msg("%s", cause);
    return rlink_new(&a, &opts);
}

/* A queue name unique to this run. */
static const char *qname(const char *what)
{
    static char buf[8][QUEUE_NAME_MAX + 1];
    static int next;
    char *b = buf[next++ % 8];

    snprintf(b, QUEUE_NAME_MAX + 1, "t%d-%s", (int)getpid(), what);
    return b;
}

static struct queue *open_q(struct rlink *l, const char *name, const char *consumer, int vt,
                            int maxd)
{
    struct queue_options o;
    char *cause = NULL;
    struct queue *q;

    queue_options_default(&o);
    o.visibility_ms = vt;
    o.max_deliveries = maxd;
    q = queue_open(l, name, consumer, &o, &cause);
    if (q == NULL)
        fail_msg("queue_open %s: %s", name, cause);
    return q;
}

static void enqueue(struct queue *q, const char *id, enum queue_priority p, int n)
{
    json_t *payload = json_pack("{s:i, s:s}", "n", n, "title", "a story");
    char *cause = NULL;

    if (queue_enqueue(q, "screen", payload, p, id, NULL, &cause) == -1)
        fail_msg("enqueue %s: %s", id, cause);
    json_decref(payload);
}

static struct queue_task *take(struct queue *q, int timeout_ms)
{
    struct queue_task *t = NULL;
    char *cause = NULL;

    if (queue_dequeue(q, timeout_ms, &t, &cause) == -1)
        fail_msg("dequeue: %s", cause);
    return t;
}

static bool ack(struct queue *q, const struct queue_task *t, const json_t *result)
{
    char *cause = NULL;
    bool first = false;

    if (queue_ack(q, t, result, &first, &cause) == -1)
        fail_msg("ack %s: %s", t->id, cause);
    return first;
}

static enum queue_outcome nack(struct queue *q, const struct queue_task *t, int delay,
                               const char *error)
{
    enum queue_outcome out;
    char *cause = NULL;

    if (queue_nack(q, t, delay, error, &out, &cause) == -1)
        fail_msg("nack %s: %s", t->id, cause);
    return out;
}

static struct queue_stats stats(struct rlink *l, const char *name)
{
    struct queue_stats s;
    char *cause = NULL;

    if (queue_stats(l, name, &s, &cause) == -1)
        fail_msg("stats %s: %s", name, cause);
    return s;
}

static void test_names(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    char *cause = NULL;

    (void)state;
    assert_true(queue_name_valid("screening"));
    assert_true(queue_name_valid("agent:writer-1.b_2"));
    assert_false(queue_name_valid(""));
    assert_false(queue_name_valid("has space"));
    assert_false(queue_name_valid("new\nline"));
    assert_false(queue_name_valid("x{y}"));
    assert_false(queue_name_valid(
        "a-name-that-is-longer-than-sixty-four-characters-is-refused-outright-0123"));
    assert_null(queue_open(l, "bad name", "w", NULL, &cause));
    assert_non_null(strstr(cause, "bad queue name"));
    free(cause);
    cause = NULL;
    assert_null(queue_open(l, "good", "bad consumer", NULL, &cause));
    assert_non_null(strstr(cause, "bad consumer name"));
    free(cause);
    rlink_free(l);
}

static void test_priority_order(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    const char *name = qname("prio");
    struct queue *q = open_q(l, name, "w1", 30000, 5);
    static const char *const want[] = {"b1", "b2", "n1", "n2", "n3"};
    struct queue_stats s;

    (void)state;
    enqueue(q, "n1", QUEUE_NORMAL, 1);
    enqueue(q, "n2", QUEUE_NORMAL, 2);
    enqueue(q, "b1", QUEUE_BREAKING, 3);
    enqueue(q, "n3", QUEUE_NORMAL, 4);
    enqueue(q, "b2", QUEUE_BREAKING, 5);
    s = stats(l, name);
    assert_int_equal(s.waiting_breaking, 2);
    assert_int_equal(s.waiting_normal, 3);
    for (int i = 0; i < 5; i++) {
        struct queue_task *t = take(q, 0);

        assert_non_null(t);
        assert_string_equal(t->id, want[i]);
        assert_int_equal(t->priority, i < 2 ? QUEUE_BREAKING : QUEUE_NORMAL);
        assert_int_equal(t->deliveries, 1);
        assert_string_equal(t->type, "screen");
        assert_string_equal(json_string_value(json_object_get(t->payload, "title")), "a story");
        assert_true(ack(q, t, NULL));
        queue_task_free(t);
    }
    assert_null(take(q, 0));
    s = stats(l, name);
    assert_int_equal(s.waiting_breaking + s.waiting_normal + s.pending + s.delayed + s.dead, 0);
    assert_int_equal(s.oldest_age_ms, -1);
    queue_free(q);
    rlink_free(l);
}

/* A breaking task that arrives while a worker waits is served at once. No cmocka calls off
 * the main thread: a failure shows as the task never arriving. */
static void *late_breaking(void *arg)
{
    struct redis_addr a;
    struct rlink *l;
    struct queue *q;
    char *cause = NULL;

    if (redis_url_parse(test_shared_url(), &a, &cause) == -1) {
        free(cause);
        return NULL;
    }
    l = rlink_new(&a, &opts);
    q = queue_open(l, arg, NULL, NULL, &cause);
    if (q != NULL) {
        /* The point: arrive while the other thread is blocked. Wait until the server says a
         * client is blocked (polling a condition, with a deadline). */
        int64_t deadline = clock_mono_ms() + 5000;

        while (clock_mono_ms() < deadline) {
            char *why = NULL;
            redisReply *r = rlink_command(l, &why, "INFO clients");
            const char *b = r != NULL ? strstr(r->str, "blocked_clients:") : NULL;
            bool blocked = b != NULL && atoi(b + 16) > 0;

            if (r != NULL)
                freeReplyObject(r);
            free(why);
            if (blocked)
                break;
            clock_sleep_ms(5, NULL);
        }
        if (queue_enqueue(q, "screen", NULL, QUEUE_BREAKING, "late", NULL, &cause) == -1)
            free(cause);
    } else {
        free(cause);
    }
    queue_free(q);
    rlink_free(l);
    return NULL;
}

/* A worker busy with a breaking task holds nothing else: the normal task that waited beside it
 * goes to the next worker at once, on its first delivery (even with max deliveries 1). */
static void test_no_task_held_beside_breaking(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    const char *name = qname("held");
    struct queue *a = open_q(l, name, "wa", 400, 1), *b;
    struct rlink *l2 = link_to(test_shared_url());
    struct queue_task *ta, *tb;
    struct queue_stats s;

    (void)state;
    b = open_q(l2, name, "wb", 400, 1);
    enqueue(a, "n1", QUEUE_NORMAL, 1);
    enqueue(a, "b1", QUEUE_BREAKING, 2);
    ta = take(a, 0);
    assert_non_null(ta);
    assert_string_equal(ta->id, "b1");
    tb = take(b, 0);
    assert_non_null(tb);
    assert_string_equal(tb->id, "n1");
    assert_int_equal(tb->deliveries, 1);
    s = stats(l, name);
    assert_int_equal(s.pending, 2);
    assert_int_equal(s.dead, 0);
    assert_true(ack(a, ta, NULL));
    assert_true(ack(b, tb, NULL));
    queue_task_free(ta);
    queue_task_free(tb);
    queue_free(b);
    queue_free(a);
    rlink_free(l2);
    rlink_free(l);
}

/* Batches: take several (breaking first), complete them all and take the next in one call. */
static void test_ack_take_batches(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    const char *name = qname("acktake");
    struct queue *q = open_q(l, name, "wb1", 30000, 5);
    struct queue_task *got[8], *next[8];
    static const char *const first[] = {"b1", "b2", "n1", "n2"};
    size_t n = 0, m = 0;
    char *cause = NULL;
    struct queue_stats s;

    (void)state;
    enqueue(q, "n1", QUEUE_NORMAL, 1);
    enqueue(q, "b1", QUEUE_BREAKING, 2);
    enqueue(q, "n2", QUEUE_NORMAL, 3);
    enqueue(q, "b2", QUEUE_BREAKING, 4);
    enqueue(q, "n3", QUEUE_NORMAL, 5);
    enqueue(q, "n4", QUEUE_NORMAL, 6);
    enqueue(q, "n5", QUEUE_NORMAL, 7);
    if (queue_ack_take(q, NULL, 0, 4, 0, got, &n, &cause) == -1)
        fail_msg("%s", cause);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(got[i]->id, first[i]);
        assert_int_equal(got[i]->deliveries, 1);
    }
    s = stats(l, name);
    assert_int_equal(s.pending, 4);
    if (queue_ack_take(q, got, n, 8, 0, next, &m, &cause) == -1)
        fail_msg("%s", cause);
    assert_int_equal(m, 3);
    assert_string_equal(next[0]->id, "n3");
    assert_string_equal(next[2]->id, "n5");
    s = stats(l, name);
    assert_int_equal(s.pending, 3);
    /* Completing the same tasks again has no further effect. */
    if (queue_ack_take(q, got, n, 0, 0, NULL, &n, &cause) == -1)
        fail_msg("%s", cause);
    for (size_t i = 0; i < 4; i++)
        queue_task_free(got[i]);
    if (queue_ack_take(q, next, m, 8, 0, got, &n, &cause) == -1)
        fail_msg("%s", cause);
    assert_int_equal(n, 0);
    for (size_t i = 0; i < m; i++)
        queue_task_free(next[i]);
    s = stats(l, name);
    assert_int_equal(s.waiting_breaking + s.waiting_normal + s.pending + s.delayed + s.dead, 0);
    queue_free(q);
    rlink_free(l);
}

static void test_blocking_dequeue_wakes(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    const char *name = qname("block");
    struct queue *q = open_q(l, name, "w1", 30000, 5);
    struct queue_task *t;
    pthread_t th;
    int64_t t0;

    (void)state;
    t0 = clock_mono_ms();
    assert_null(take(q, 200)); /* nothing: waits out the timeout */
    assert_true(clock_mono_ms() - t0 >= 200);
    pthread_create(&th, NULL, late_breaking, (void *)name);
    t0 = clock_mono_ms();
    t = take(q, 5000);
    pthread_join(th, NULL);
    assert_non_null(t);
    assert_string_equal(t->id, "late");
    assert_true(clock_mono_ms() - t0 < 2000);
    assert_true(ack(q, t, NULL));
    queue_task_free(t);
    queue_free(q);
    rlink_free(l);
}

static void test_ack_is_idempotent(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    const char *name = qname("ack");
    struct queue *q = open_q(l, name, "w1", 30000, 5);
    json_t *result = json_pack("{s:s}", "verdict", "newsworthy"), *got = NULL;
    struct queue_task *t;
    char *cause = NULL;
    bool done = false;

    (void)state;
    enqueue(q, "once", QUEUE_NORMAL, 7);
    t = take(q, 0);
    assert_non_null(t);
    assert_int_equal(queue_done(q, "once", &done, NULL, &cause), 0);
    assert_false(done);
    assert_true(ack(q, t, result));
    assert_false(ack(q, t, NULL)); /* the second completion has no effect... */
    assert_int_equal(queue_done(q, "once", &done, &got, &cause), 0);
    assert_true(done);
    assert_non_null(got); /* ...and did not replace the first one's result */
    assert_true(json_equal(got, result));
    assert_int_equal(stats(l, name).pending, 0);
    /* The same task enqueued again (a producer's retry) is dropped when completed. */
    enqueue(q, "once", QUEUE_NORMAL, 7);
    queue_task_free(t);
    t = take(q, 0);
    assert_non_null(t);
    assert_false(ack(q, t, NULL));
    queue_task_free(t);
    json_decref(got);
    json_decref(result);
    queue_free(q);
    rlink_free(l);
}

static void test_enqueue_batch(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    const char *name = qname("batch");
    struct queue *q = open_q(l, name, "w1", 30000, 5);
    json_t *p1 = json_pack("{s:i}", "n", 1), *p2 = json_pack("{s:i}", "n", 2);
    struct queue_new_task tasks[4] = {
        {.type = "screen", .payload = p1, .priority = QUEUE_NORMAL, .id = "bn1"},
        {.type = "screen", .payload = NULL, .priority = QUEUE_NORMAL, .id = NULL},
        {.type = "alert", .payload = p2, .priority = QUEUE_BREAKING, .id = "bb1"},
        {.type = "bad type", .payload = NULL, .priority = QUEUE_NORMAL, .id = NULL},
    };
    char ids[4][QUEUE_ID_MAX + 1];
    struct queue_task *t;
    struct queue_stats s;
    char *cause = NULL;

    (void)state;
    /* One bad task refuses the whole batch. */
    assert_int_equal(queue_enqueue_batch(q, tasks, 4, ids, &cause), -1);
    assert_non_null(strstr(cause, "task 3"));
    free(cause);
    cause = NULL;
    s = stats(l, name);
    assert_int_equal(s.waiting_normal + s.waiting_breaking, 0);

    assert_int_equal(queue_enqueue_batch(q, tasks, 3, ids, &cause), 0);
    assert_string_equal(ids[0], "bn1");
    assert_int_equal(strlen(ids[1]), 24); /* a generated id */
    assert_string_equal(ids[2], "bb1");
    t = take(q, 0);
    assert_string_equal(t->id, "bb1");
    assert_string_equal(t->type, "alert");
    assert_int_equal(json_integer_value(json_object_get(t->payload, "n")), 2);
    assert_true(ack(q, t, NULL));
    queue_task_free(t);
    t = take(q, 0);
    assert_string_equal(t->id, "bn1");
    assert_true(ack(q, t, NULL));
    queue_task_free(t);
    t = take(q, 0);
    assert_string_equal(t->id, ids[1]);
    assert_true(json_is_object(t->payload) && json_object_size(t->payload) == 0);
    assert_true(ack(q, t, NULL));
    queue_task_free(t);
    json_decref(p1);
    json_decref(p2);
    queue_free(q);
    rlink_free(l);
}

/* Acks t and takes the next one in the same call. */
static struct queue_task *ack_next(struct queue *q, struct queue_task *t, bool want_first,
                                   int timeout_ms)
{
    struct queue_task *next = NULL;
    bool first = !want_first;
    char *cause = NULL;

    if (queue_ack_next(q, t, NULL, &first, timeout_ms, &next, &cause) == -1)
        fail_msg("ack_next %s: %s", t->id, cause);
    assert_int_equal(first, want_first);
    queue_task_free(t);
    return next;
}

static void test_ack_next(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    const char *name = qname("acknext");
    struct queue *q = open_q(l, name, "w1", 30000, 5);
    struct queue_task *t;

    (void)state;
    enqueue(q, "n1", QUEUE_NORMAL, 1);
    enqueue(q, "n2", QUEUE_NORMAL, 2);
    enqueue(q, "b1", QUEUE_BREAKING, 3);
    enqueue(q, "b2", QUEUE_BREAKING, 4);
    t = take(q, 0);
    assert_string_equal(t->id, "b1");
    /* The read after the ack takes both streams at once: b2 comes back, n1 is kept aside... */
    t = ack_next(q, t, true, 0);
    assert_non_null(t);
    assert_string_equal(t->id, "b2");
    /* ...and a breaking task that arrives meanwhile still goes first. */
    enqueue(q, "b3", QUEUE_BREAKING, 5);
    t = ack_next(q, t, true, 0);
    assert_non_null(t);
    assert_string_equal(t->id, "b3");
    t = ack_next(q, t, true, 0);
    assert_non_null(t);
    assert_string_equal(t->id, "n1");
    assert_int_equal(t->deliveries, 1);
    t = ack_next(q, t, true, 0);
    assert_non_null(t);
    assert_string_equal(t->id, "n2");
    /* The last one: nothing comes next within the timeout, and the ack still counts. */
    assert_null(ack_next(q, t, true, 50));
    assert_int_equal(stats(l, name).pending, 0);
    assert_int_equal(stats(l, name).waiting_normal, 0);
    queue_free(q);
    rlink_free(l);
}

static void test_nack_with_delay(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    const char *name = qname("delay");
    struct queue *q = open_q(l, name, "w1", 30000, 5);
    struct queue_task *t;
    int64_t t0;

    (void)state;
    enqueue(q, "later", QUEUE_BREAKING, 1);
    t = take(q, 0);
    assert_non_null(t);
    t0 = clock_mono_ms();
    assert_int_equal(nack(q, t, 400, "rate limited"), QUEUE_DELAYED);
    queue_task_free(t);
    assert_int_equal(stats(l, name).delayed, 1);
    assert_int_equal(stats(l, name).pending, 0);
    assert_null(take(q, 0)); /* not before its delay */
    t = take(q, 5000);
    assert_non_null(t);
    assert_true(clock_mono_ms() - t0 >= 400);
    assert_true(clock_mono_ms() - t0 < 2000);
    assert_string_equal(t->id, "later");
    assert_int_equal(t->priority, QUEUE_BREAKING);
    assert_int_equal(t->deliveries, 2);
    assert_string_equal(t->last_error, "rate limited");
    assert_int_equal(json_integer_value(json_object_get(t->payload, "n")), 1);
    /* A nack with no delay puts it straight back. */
    assert_int_equal(nack(q, t, 0, "again"), QUEUE_REQUEUED);
    queue_task_free(t);
    t = take(q, 0);
    assert_non_null(t);
    assert_int_equal(t->deliveries, 3);
    assert_true(ack(q, t, NULL));
    queue_task_free(t);
    assert_int_equal(stats(l, name).delayed, 0);
    queue_free(q);
    rlink_free(l);
}

static void test_dead_letter_after_max_deliveries(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    const char *name = qname("poison");
    struct queue *q = open_q(l, name, "w1", 30000, 3);
    struct queue_task **dead = NULL;
    struct queue_stats s;
    char *cause = NULL;
    size_t n = 0;

    (void)state;
    enqueue(q, "poison", QUEUE_NORMAL, 42);
    enqueue(q, "fine", QUEUE_NORMAL, 43);
    for (int k = 1; k <= 3; k++) {
        struct queue_task *t = take(q, 0);
        char err[32];

        assert_non_null(t);
        if (strcmp(t->id, "fine") == 0) { /* the healthy one is served in between */
            assert_true(ack(q, t, NULL));
            queue_task_free(t);
            t = take(q, 0);
            assert_non_null(t);
        }
        assert_string_equal(t->id, "poison");
        assert_int_equal(t->deliveries, k);
        snprintf(err, sizeof err, "boom #%d", k);
        assert_int_equal(nack(q, t, 0, err), k < 3 ? QUEUE_REQUEUED : QUEUE_DEAD);
        queue_task_free(t);
    }
    assert_null(take(q, 0));
    s = stats(l, name);
    assert_int_equal(s.dead, 1);
    assert_int_equal(s.waiting_normal + s.pending + s.delayed, 0);
    assert_int_equal(queue_dead_letters(l, name, 10, &dead, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_string_equal(dead[0]->id, "poison");
    assert_string_equal(dead[0]->last_error, "boom #3");
    assert_int_equal(dead[0]->deliveries, 3);
    assert_int_equal(json_integer_value(json_object_get(dead[0]->payload, "n")), 42);
    assert_true(dead[0]->dead_ms >= dead[0]->enqueued_ms);
    queue_task_free(dead[0]);
    free(dead);
    queue_free(q);
    rlink_free(l);
}

static void test_claim_after_visibility_timeout(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    const char *name = qname("vt");
    struct queue *a = open_q(l, name, "worker-a", 250, 2);
    struct queue *b = open_q(l, name, "worker-b", 250, 2);
    struct queue_task *t, *u, **dead = NULL;
    char *cause = NULL;
    size_t n = 0;
    int64_t t0;

    (void)state;
    enqueue(a, "slow", QUEUE_NORMAL, 1);
    t = take(a, 0);
    assert_non_null(t);
    t0 = clock_mono_ms();
    assert_null(take(b, 0)); /* a holds it and is within its visibility timeout */
    u = take(b, 5000);
    assert_non_null(u);
    assert_true(clock_mono_ms() - t0 >= 250);
    assert_string_equal(u->id, "slow");
    assert_int_equal(u->deliveries, 2);
    /* a comes back late: its nack is refused, since b holds the task now. */
    assert_int_equal(nack(a, t, 0, "late"), QUEUE_LOST);
    queue_task_free(t);
    /* b goes quiet too: the next claim would be delivery 3 of at most 2, so it is buried. */
    assert_null(take(a, 1000));
    assert_int_equal(queue_dead_letters(l, name, 10, &dead, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_string_equal(dead[0]->id, "slow");
    assert_int_equal(dead[0]->deliveries, 2);
    assert_non_null(strstr(dead[0]->last_error, "visibility timeout"));
    /* b finishes after all: its completion still counts once, and the task is done. */
    assert_true(ack(b, u, NULL));
    queue_task_free(u);
    queue_task_free(dead[0]);
    free(dead);
    assert_int_equal(stats(l, name).pending, 0);
    queue_free(a);
    queue_free(b);
    rlink_free(l);
}

static void test_bad_payload_is_buried(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    const char *name = qname("junk");
    struct queue *q = open_q(l, name, "w1", 30000, 5);
    char key[128];
    struct queue_task **dead = NULL;
    char *cause = NULL;
    size_t n = 0;
    redisReply *r;

    (void)state;
    snprintf(key, sizeof key, "%s%s:normal", QUEUE_PREFIX, name);
    r = rlink_command(l, &cause, "XADD %s * id junk type screen payload %s", key, "{not json");
    assert_non_null(r);
    freeReplyObject(r);
    enqueue(q, "good", QUEUE_NORMAL, 1);
    {
        struct queue_task *t = take(q, 0);

        assert_non_null(t);
        assert_string_equal(t->id, "good");
        assert_true(ack(q, t, NULL));
        queue_task_free(t);
    }
    assert_int_equal(queue_dead_letters(l, name, 10, &dead, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_string_equal(dead[0]->id, "junk");
    assert_non_null(strstr(dead[0]->last_error, "not valid JSON"));
    assert_string_equal(json_string_value(dead[0]->payload), "{not json");
    queue_task_free(dead[0]);
    free(dead);
    queue_free(q);
    rlink_free(l);
}

static void test_stats(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    const char *name = qname("stats");
    struct queue *p = open_q(l, name, NULL, 30000, 5);
    struct queue *w = open_q(l, name, "w1", 30000, 5);
    struct queue *w2 = open_q(l, name, "w2", 30000, 5);
    struct queue_task *t1, *t2;
    struct queue_stats s;
    char *cause = NULL;
    char **names = NULL;
    size_t n = 0;
    bool found = false, exists = false;
    enum queue_outcome out;

    (void)state;
    s = stats(l, qname("never-opened"));
    assert_int_equal(s.waiting_normal + s.pending + s.consumers + s.dead, 0);
    assert_int_equal(s.oldest_age_ms, -1);
    assert_int_equal(queue_exists(l, qname("never-opened"), &exists, &cause), 0);
    assert_false(exists);

    enqueue(p, "s1", QUEUE_NORMAL, 1);
    enqueue(p, "s2", QUEUE_NORMAL, 2);
    enqueue(p, "s3", QUEUE_BREAKING, 3);
    enqueue(p, "s4", QUEUE_NORMAL, 4);
    t1 = take(w, 0);  /* s3 */
    t2 = take(w2, 0); /* s1 */
    s = stats(l, name);
    assert_int_equal(s.waiting_breaking, 0);
    assert_int_equal(s.waiting_normal, 2);
    assert_int_equal(s.pending, 2);
    assert_int_equal(s.consumers, 2);
    assert_int_equal(s.delayed, 0);
    assert_int_equal(s.dead, 0);
    assert_true(s.oldest_age_ms >= 0 && s.oldest_age_ms < 60000);
    assert_int_equal(queue_nack(w, t1, 60000, "later", &out, &cause), 0);
    assert_int_equal(out, QUEUE_DELAYED);
    assert_int_equal(queue_bury(w2, t2, "hopeless", &out, &cause), 0);
    assert_int_equal(out, QUEUE_DEAD);
    s = stats(l, name);
    assert_int_equal(s.pending, 0);
    assert_int_equal(s.delayed, 1);
    assert_int_equal(s.dead, 1);
    assert_int_equal(s.waiting_normal, 2);
    queue_task_free(t1);
    queue_task_free(t2);

    assert_int_equal(queue_list(l, &names, &n, &cause), 0);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0)
            found = true;
        if (i > 0)
            assert_true(strcmp(names[i - 1], names[i]) < 0);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    assert_true(found);
    assert_int_equal(queue_exists(l, name, &exists, &cause), 0);
    assert_true(exists);
    queue_free(p);
    queue_free(w);
    queue_free(w2);
    rlink_free(l);
}

/* Reads one line from fd into buf within timeout_ms. Returns 0 or -1. */
static int read_line(int fd, char *buf, size_t size, int timeout_ms)
{
    size_t n = 0;
    int64_t deadline = clock_mono_ms() + timeout_ms;

    while (n + 1 < size) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = deadline - clock_mono_ms();
        ssize_t got;

        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return -1;
        got = read(fd, buf + n, 1);
        if (got <= 0)
            return -1;
        if (buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
    return 0;
}

static void test_killed_worker_task_claimed_once(void **state)
{
    struct rlink *l = link_to(test_shared_url());
    const char *name = qname("kill");
    const char *tool = test_env("NEWSROOM_QUEUE_TOOL");
    struct queue *q = open_q(l, name, "survivor", 300, 5);
    struct queue_task *t;
    char line[256];
    int fds[2], status;
    pid_t pid;
    bool done = false;
    char *cause = NULL;

    (void)state;
    enqueue(q, "story-1", QUEUE_NORMAL, 1);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execl(tool, tool, test_shared_url(), "hold", name, "doomed", "300", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    if (read_line(fds[0], line, sizeof line, 10000) == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("the worker process did not report its task");
    }
    /* It holds the task, mid-work: kill it. */
    assert_string_equal(line, "got story-1 1");
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(fds[0]);
    assert_int_equal(stats(l, name).pending, 1);

    t = take(q, 5000);
    assert_non_null(t);
    assert_string_equal(t->id, "story-1");
    assert_int_equal(t->deliveries, 2);
    assert_true(ack(q, t, NULL));  /* completed once... */
    assert_false(ack(q, t, NULL)); /* ...and only once */
    queue_task_free(t);
    assert_int_equal(queue_done(q, "story-1", &done, NULL, &cause), 0);
    assert_true(done);
    assert_null(take(q, 700)); /* nothing comes back: not after another visibility timeout */
    assert_int_equal(stats(l, name).pending, 0);
    assert_int_equal(stats(l, name).waiting_normal, 0);
    queue_free(q);
    rlink_free(l);
}

/* --- Redis killed and restarted in the middle of 1,000 tasks --- */

#define RUN_TASKS   1000
#define RUN_WORKERS 4

struct run {
    char url[200];
    const char *name;
    atomic_int enqueued;
    atomic_int acked;      /* completions that reported first == true */
    atomic_int done_count; /* distinct tasks known done */
    atomic_int errors;     /* calls that failed because the server went away */
    atomic_int restarted;
    atomic_int stop;
    atomic_int first[RUN_TASKS];    /* first == true per task: must end at exactly 0 or 1 */
    atomic_int resolved[RUN_TASKS]; /* done by an ack whose reply was lost, then retried */
    atomic_int done[RUN_TASKS];
};

static int task_index(const char *id)
{
    int i;

    if (sscanf(id, "task-%d", &i) != 1 || i < 0 || i >= RUN_TASKS)
        return -1;
    return i;
}

static void settle(struct rlink *l, struct run *run)
{
    char *cause = NULL;

    atomic_fetch_add(&run->errors, 1);
    if (rlink_wait_connected(l, 20000, NULL, &cause) == -1)
        free(cause);
}

static void *run_producer(void *p)
{
    struct run *run = p;
    struct rlink *l = link_to(run->url);
    struct queue *q = NULL;
    char *cause = NULL;

    while (q == NULL && !atomic_load(&run->stop)) {
        q = queue_open(l, run->name, NULL, NULL, &cause);
        if (q == NULL) {
            free(cause);
            cause = NULL;
            settle(l, run);
        }
    }
    for (int i = 0; i < RUN_TASKS && !atomic_load(&run->stop); i++) {
        char id[32];
        json_t *payload = json_pack("{s:i}", "n", i);

        snprintf(id, sizeof id, "task-%d", i);
        /* An error may hide an XADD that happened: retrying with the same id is safe. */
        while (queue_enqueue(q, "work", payload, i % 7 == 0 ? QUEUE_BREAKING : QUEUE_NORMAL, id,
                             NULL, &cause) == -1) {
            free(cause);
            cause = NULL;
            settle(l, run);
            if (atomic_load(&run->stop))
                break;
        }
        json_decref(payload);
        atomic_fetch_add(&run->enqueued, 1);
        if (i == RUN_TASKS / 2 - 1) /* half before the restart, half after */
            while (!atomic_load(&run->restarted) && !atomic_load(&run->stop))
                clock_sleep_ms(5, NULL); /* polling a condition the main thread sets */
    }
    queue_free(q);
    rlink_free(l);
    return NULL;
}

static void *run_worker(void *p)
{
    struct run *run = p;
    struct rlink *l = link_to(run->url);
    struct queue *q = NULL;
    char consumer[32], *cause = NULL;
    struct queue_options o;

    snprintf(consumer, sizeof consumer, "worker-%lx", (unsigned long)pthread_self() & 0xffffff);
    queue_options_default(&o);
    o.visibility_ms = 300;
    o.max_deliveries = 10;
    while (q == NULL && !atomic_load(&run->stop)) {
        q = queue_open(l, run->name, consumer, &o, &cause);
        if (q == NULL) {
            free(cause);
            cause = NULL;
            settle(l, run);
        }
    }
    while (!atomic_load(&run->stop)) {
        struct queue_task *t = NULL;
        bool first = false, retried = false;
        int i;

        if (queue_dequeue(q, 100, &t, &cause) == -1) {
            free(cause);
            cause = NULL;
            settle(l, run);
            continue;
        }
        if (t == NULL)
            continue;
        i = task_index(t->id);
        while (queue_ack(q, t, NULL, &first, &cause) == -1) {
            free(cause);
            cause = NULL;
            retried = true;
            settle(l, run);
        }
        if (i >= 0) {
            if (first) {
                atomic_fetch_add(&run->first[i], 1);
                atomic_fetch_add(&run->acked, 1);
            } else if (retried) {
                atomic_fetch_add(&run->resolved[i], 1);
            }
            if ((first || retried) && atomic_exchange(&run->done[i], 1) == 0)
                atomic_fetch_add(&run->done_count, 1);
        }
        queue_task_free(t);
    }
    queue_free(q);
    rlink_free(l);
    return NULL;
}

/* The private server of the test that runs now (tests/support: test_private_*); the teardown
 * stops it even when an assertion ended the test early. */
static int stop_private_server(void **state)
{
    (void)state;
    test_private_stop();
    return 0;
}

/* Waits until *v >= want or the deadline passes. */
static bool await_at_least(atomic_int *v, int want, int timeout_ms)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;

    while (atomic_load(v) < want) {
        if (clock_mono_ms() > deadline)
            return false;
        clock_sleep_ms(5, NULL); /* polling a counter the other threads advance */
    }
    return true;
}

static void test_restart_mid_run(void **state)
{
    static const char *const extra[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};
    struct run *run = calloc(1, sizeof *run);
    pthread_t producer, workers[RUN_WORKERS];
    struct rlink *l;
    struct queue *q;
    struct queue_stats s;
    int64_t deadline;
    int acked_at_kill, missing = 0, twice = 0;
    char *cause = NULL;

    (void)state;
    assert_non_null(run);
    assert_int_equal(test_private_start(extra), 0);
    snprintf(run->url, sizeof run->url, "unix://%s", test_private()->sock);
    run->name = qname("restart");
    l = link_to(run->url);

    pthread_create(&producer, NULL, run_producer, run);
    for (int i = 0; i < RUN_WORKERS; i++)
        pthread_create(&workers[i], NULL, run_worker, run);
    if (!await_at_least(&run->acked, RUN_TASKS / 4, 30000)) {
        atomic_store(&run->stop, 1);
        fail_msg("workers did not get through %d tasks before the restart", RUN_TASKS / 4);
    }
    /* A crash, not a shutdown: nothing but what appendfsync always wrote survives. */
    acked_at_kill = atomic_load(&run->acked);
    assert_int_equal(kill(test_private()->pid, SIGKILL), 0);
    waitpid(test_private()->pid, NULL, 0);
    test_private()->pid = 0;
    assert_int_equal(test_redis_start(test_private(), test_private_dir(), extra), 0);
    atomic_store(&run->restarted, 1);

    /* Everything gets done, by clients that reconnected on their own. */
    if (!await_at_least(&run->done_count, RUN_TASKS, 60000)) {
        atomic_store(&run->stop, 1);
        fail_msg("only %d of %d tasks done after the restart", atomic_load(&run->done_count),
                 RUN_TASKS);
    }
    /* And nothing is left over: duplicates and tasks whose dequeue reply was lost are drained. */
    deadline = clock_mono_ms() + 20000;
    for (;;) {
        if (rlink_wait_connected(l, 5000, NULL, &cause) == -1)
            fail_msg("%s", cause);
        if (queue_stats(l, run->name, &s, &cause) == -1)
            fail_msg("%s", cause);
        if (s.waiting_breaking + s.waiting_normal + s.pending + s.delayed == 0)
            break;
        assert_true(clock_mono_ms() < deadline);
        clock_sleep_ms(20, NULL); /* polling the queue's stats */
    }
    atomic_store(&run->stop, 1);
    pthread_join(producer, NULL);
    for (int i = 0; i < RUN_WORKERS; i++)
        pthread_join(workers[i], NULL);

    assert_true(acked_at_kill < RUN_TASKS / 2); /* the restart really was mid-run */
    assert_true(atomic_load(&run->errors) > 0); /* the clients saw it */
    assert_int_equal(atomic_load(&run->enqueued), RUN_TASKS);
    assert_int_equal(s.dead, 0);
    q = open_q(l, run->name, NULL, 300, 10);
    for (int i = 0; i < RUN_TASKS; i++) {
        char id[32];
        bool done = false;
        int f = atomic_load(&run->first[i]);

        snprintf(id, sizeof id, "task-%d", i);
        if (queue_done(q, id, &done, NULL, &cause) == -1)
            fail_msg("%s", cause);
        if (!done || (f == 0 && atomic_load(&run->resolved[i]) == 0))
            missing++;
        if (f > 1)
            twice++;
    }
    print_message("restart after %d acks; %d errors seen by clients\n", acked_at_kill,
                  atomic_load(&run->errors));
    assert_int_equal(missing, 0);
    assert_int_equal(twice, 0);
    queue_free(q);
    rlink_free(l);
    free(run);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_priority_order),
        cmocka_unit_test(test_no_task_held_beside_breaking),
        cmocka_unit_test(test_ack_take_batches),
        cmocka_unit_test(test_blocking_dequeue_wakes),
        cmocka_unit_test(test_ack_is_idempotent),
        cmocka_unit_test(test_enqueue_batch),
        cmocka_unit_test(test_ack_next),
        cmocka_unit_test(test_nack_with_delay),
        cmocka_unit_test(test_dead_letter_after_max_deliveries),
        cmocka_unit_test(test_claim_after_visibility_timeout),
        cmocka_unit_test(test_bad_payload_is_buried),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_killed_worker_task_claimed_once),
        cmocka_unit_test_teardown(test_restart_mid_run, stop_private_server),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
