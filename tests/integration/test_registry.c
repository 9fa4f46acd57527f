/*
 * test_registry.c - the agent registry against the shared test redis-server: register, status,
 * heartbeat, list; an agent whose heartbeat expires reads as dead; a record that vanished is
 * put back by the next heartbeat; and a dead agent's pending tasks are taken over by a live
 * agent (and by one only), while the dead agent is removed from the queue's consumers. Agent
 * ids and queue names carry the test's pid so runs never see each other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "store/queue.h"
#include "store/registry.h"
#include "store/rlink.h"
#include "testenv.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct rlink *shared_link(void)
{
    return test_shared_link(0, "newsroom-test-registry");
}

/* A name unique to this run. */
static const char *uniq(const char *what)
{
    static char buf[8][REGISTRY_ID_MAX + 1];
    static int next;
    char *b = buf[next++ % 8];

    snprintf(b, REGISTRY_ID_MAX + 1, "t%d-%s", (int)getpid(), what);
    return b;
}

static struct registry_agent agent(const char *id, const char *role, const char *tier,
                                   const char *caps)
{
    struct registry_agent a;

    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.role, sizeof a.role, "%s", role);
    snprintf(a.tier, sizeof a.tier, "%s", tier);
    snprintf(a.capabilities, sizeof a.capabilities, "%s", caps);
    return a;
}

static struct registry_agent get(struct registry *r, const char *id, bool *found)
{
    struct registry_agent a;
    char *cause = NULL;

    if (registry_get(r, id, &a, found, &cause) == -1)
        fail_msg("registry_get %s: %s", id, cause);
    return a;
}

/* Waits until agent id reads as dead, or timeout_ms. */
static bool await_dead(struct registry *r, const char *id, int timeout_ms)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;

    for (;;) {
        bool found = false;
        struct registry_agent a = get(r, id, &found);

        if (found && a.status == REGISTRY_DEAD)
            return true;
        if (clock_mono_ms() > deadline)
            return false;
        clock_sleep_ms(20, NULL); /* polling the registry */
    }
}

static void test_status_names(void **state)
{
    enum registry_status s;

    (void)state;
    for (int i = REGISTRY_IDLE; i <= REGISTRY_DEAD; i++) {
        assert_int_equal(registry_status_parse(registry_status_name(i), &s), 0);
        assert_int_equal((int)s, i);
    }
    assert_int_equal(registry_status_parse("asleep", &s), -1);
    assert_int_equal(registry_status_parse(NULL, &s), -1);
}

static void test_register_status_heartbeat_list(void **state)
{
    struct rlink *l = shared_link();
    struct registry *r = registry_new(l);
    const char *id = uniq("scout-1");
    struct registry_agent a = agent(id, "scout", "FAST", "rss,web"), b, *all = NULL;
    char host[256] = "";
    char *cause = NULL;
    bool found = false, listed = false;
    size_t n = 0;
    int64_t now = 0, beat0;
    json_t *j;

    (void)state;
    gethostname(host, sizeof host - 1);
    assert_int_equal(registry_register(r, &a, 10000, &cause), 0);
    b = get(r, id, &found);
    assert_true(found);
    assert_string_equal(b.role, "scout");
    assert_string_equal(b.tier, "FAST");
    assert_string_equal(b.capabilities, "rss,web");
    assert_string_equal(b.host, host);
    assert_int_equal(b.pid, getpid());
    assert_int_equal(b.status, REGISTRY_IDLE);
    assert_int_equal(b.ttl_ms, 10000);
    assert_int_equal(b.expires_ms, b.heartbeat_ms + 10000);
    beat0 = b.heartbeat_ms;

    assert_int_equal(registry_set_status(r, REGISTRY_BUSY, &cause), 0);
    assert_int_equal(get(r, id, &found).status, REGISTRY_BUSY);
    assert_int_equal(registry_heartbeat(r, &cause), 0); /* keeps the status */
    b = get(r, id, &found);
    assert_int_equal(b.status, REGISTRY_BUSY);
    assert_true(b.heartbeat_ms >= beat0);
    assert_int_equal(registry_set_status(r, REGISTRY_PAUSED, &cause), 0);
    assert_int_equal(get(r, id, &found).status, REGISTRY_PAUSED);
    assert_int_equal(registry_set_status(r, REGISTRY_DEAD, &cause), -1);
    free(cause);
    cause = NULL;

    assert_int_equal(registry_list(r, &all, &n, &now, &cause), 0);
    assert_true(now > 0);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].id, id) == 0)
            listed = all[i].status == REGISTRY_PAUSED;
        if (i > 0)
            assert_true(strcmp(all[i - 1].id, all[i].id) < 0);
    }
    assert_true(listed);
    j = registry_agent_to_json(&b, now);
    assert_int_equal(json_array_size(json_object_get(j, "capabilities")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "capabilities"), 1)),
                        "web");
    assert_true(json_integer_value(json_object_get(j, "heartbeat_age_ms")) >= 0);
    json_decref(j);
    free(all);

    assert_int_equal(registry_unregister(r, &cause), 0);
    get(r, id, &found);
    assert_false(found);
    registry_free(r);
    rlink_free(l);
}

static void test_bad_agent_refused(void **state)
{
    struct rlink *l = shared_link();
    struct registry *r = registry_new(l);
    struct registry_agent a = agent("has space", "scout", "FAST", "");
    char *cause = NULL;

    (void)state;
    assert_int_equal(registry_register(r, &a, 1000, &cause), -1);
    assert_non_null(strstr(cause, "bad agent id"));
    free(cause);
    cause = NULL;
    assert_int_equal(registry_heartbeat(r, &cause), -1); /* nothing registered */
    free(cause);
    registry_free(r);
    rlink_free(l);
}

static void test_expired_heartbeat_is_dead(void **state)
{
    struct rlink *l = shared_link();
    struct registry *r = registry_new(l);
    const char *id = uniq("flaky");
    struct registry_agent a = agent(id, "writer", "BALANCED", "");
    char *cause = NULL;
    bool found = false;
    int64_t t0;

    (void)state;
    assert_int_equal(registry_register(r, &a, 300, &cause), 0);
    t0 = clock_mono_ms();
    assert_int_equal(get(r, id, &found).status, REGISTRY_IDLE);
    assert_true(await_dead(r, id, 5000));
    assert_true(clock_mono_ms() - t0 >= 250); /* not before its TTL (less the clocks' grain) */
    /* A heartbeat brings it back with its status. */
    assert_int_equal(registry_heartbeat(r, &cause), 0);
    assert_int_equal(get(r, id, &found).status, REGISTRY_IDLE);
    /* Its record removed by hand: the next heartbeat puts it back. */
    assert_int_equal(registry_remove(r, id, &cause), 0);
    get(r, id, &found);
    assert_false(found);
    assert_int_equal(registry_heartbeat(r, &cause), 0);
    assert_string_equal(get(r, id, &found).role, "writer");
    assert_true(found);
    assert_int_equal(registry_unregister(r, &cause), 0);
    registry_free(r);
    rlink_free(l);
}

static void test_list_drops_vanished_records(void **state)
{
    struct rlink *l = shared_link();
    struct registry *r = registry_new(l);
    const char *id = uniq("ghost");
    struct registry_agent a = agent(id, "qa", "FAST", ""), *all = NULL;
    char *cause = NULL;
    size_t n = 0;
    redisReply *rep;

    (void)state;
    assert_int_equal(registry_register(r, &a, 10000, &cause), 0);
    rep = rlink_command(l, &cause, "DEL %s%s", REGISTRY_AGENT_PREFIX, id);
    assert_non_null(rep);
    freeReplyObject(rep);
    assert_int_equal(registry_list(r, &all, &n, NULL, &cause), 0);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(all[i].id, id);
    free(all);
    rep = rlink_command(l, &cause, "ZSCORE %s %s", REGISTRY_SET_KEY, id);
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_NIL);
    freeReplyObject(rep);
    registry_free(r);
    rlink_free(l);
}

static struct queue *open_q(struct rlink *l, const char *name, const char *consumer)
{
    struct queue_options o;
    char *cause = NULL;
    struct queue *q;

    queue_options_default(&o);
    o.visibility_ms = 60000; /* long: only the registry can rescue these tasks in time */
    q = queue_open(l, name, consumer, &o, &cause);
    if (q == NULL)
        fail_msg("queue_open: %s", cause);
    return q;
}

static void test_dead_agents_tasks_reclaimed(void **state)
{
    struct rlink *l = shared_link();
    struct registry *ra = registry_new(l), *rb = registry_new(l), *rc = registry_new(l);
    const char *qn = uniq("reclaim"), *ida = uniq("analyst-a"), *idb = uniq("analyst-b"),
               *idc = uniq("analyst-c");
    struct registry_agent a = agent(ida, "analyst", "BALANCED", "screen");
    struct registry_agent b = agent(idb, "analyst", "BALANCED", "screen");
    struct registry_agent c = agent(idc, "analyst", "BALANCED", "screen");
    struct queue *qa = open_q(l, qn, ida), *qb = open_q(l, qn, idb), *qc = open_q(l, qn, idc);
    struct queue_task *ta1 = NULL, *ta2 = NULL, *t = NULL;
    struct queue_stats s;
    char *cause = NULL;
    int claimed = -1;
    bool first = false;

    (void)state;
    assert_int_equal(registry_register(ra, &a, 300, &cause), 0);
    assert_int_equal(registry_register(rb, &b, 30000, &cause), 0);
    assert_int_equal(registry_register(rc, &c, 30000, &cause), 0);
    assert_int_equal(queue_enqueue(qa, "screen", NULL, QUEUE_NORMAL, "n-1", NULL, &cause), 0);
    assert_int_equal(queue_enqueue(qa, "screen", NULL, QUEUE_BREAKING, "b-1", NULL, &cause), 0);
    assert_int_equal(queue_enqueue(qa, "screen", NULL, QUEUE_NORMAL, "n-2", NULL, &cause), 0);
    /* a takes two tasks, then stops beating (it hangs, or its machine went away). */
    assert_int_equal(queue_dequeue(qa, 0, &ta1, &cause), 0);
    assert_int_equal(queue_dequeue(qa, 0, &ta2, &cause), 0);
    assert_non_null(ta1);
    assert_non_null(ta2);
    assert_string_equal(ta1->id, "b-1");
    assert_string_equal(ta2->id, "n-1");

    /* While a lives, nothing is reclaimed. */
    assert_int_equal(registry_reclaim(rb, qb, 10, &claimed, &cause), 0);
    assert_int_equal(claimed, 0);
    assert_true(await_dead(rb, ida, 5000));

    /* b takes over a's two tasks; c, a moment later, finds nothing left to take. */
    assert_int_equal(registry_reclaim(rb, qb, 10, &claimed, &cause), 0);
    assert_int_equal(claimed, 2);
    assert_int_equal(registry_reclaim(rc, qc, 10, &claimed, &cause), 0);
    assert_int_equal(claimed, 0);
    /* b is handed them first, breaking first, each on its second delivery. */
    assert_int_equal(queue_dequeue(qb, 0, &t, &cause), 0);
    assert_non_null(t);
    assert_string_equal(t->id, "b-1");
    assert_int_equal(t->deliveries, 2);
    assert_int_equal(queue_ack(qb, t, NULL, &first, &cause), 0);
    assert_true(first);
    queue_task_free(t);
    assert_int_equal(queue_dequeue(qb, 0, &t, &cause), 0);
    assert_non_null(t);
    assert_string_equal(t->id, "n-1");
    assert_int_equal(t->deliveries, 2);
    assert_int_equal(queue_ack(qb, t, NULL, &first, &cause), 0);
    assert_true(first);
    queue_task_free(t);
    /* Then the queue as usual. */
    assert_int_equal(queue_dequeue(qb, 0, &t, &cause), 0);
    assert_non_null(t);
    assert_string_equal(t->id, "n-2");
    assert_int_equal(queue_ack(qb, t, NULL, &first, &cause), 0);
    queue_task_free(t);

    /* a wakes up and finishes its old task: it was done already, so nothing happens twice. */
    assert_int_equal(queue_ack(qa, ta1, NULL, &first, &cause), 0);
    assert_false(first);
    s = (struct queue_stats){0};
    assert_int_equal(queue_stats(l, qn, &s, &cause), 0);
    assert_int_equal(s.pending, 0);
    assert_int_equal(s.waiting_breaking + s.waiting_normal, 0);
    assert_int_equal(s.consumers, 1); /* b; a was removed, c never read */

    queue_task_free(ta1);
    queue_task_free(ta2);
    queue_free(qa);
    queue_free(qb);
    queue_free(qc);
    registry_remove(ra, ida, &cause);
    registry_unregister(rb, &cause);
    registry_unregister(rc, &cause);
    registry_free(ra);
    registry_free(rb);
    registry_free(rc);
    rlink_free(l);
}

/* A dead agent that was a real process, killed mid-task. */
static void test_killed_agent_process_reclaimed(void **state)
{
    const char *tool = test_env("NEWSROOM_QUEUE_TOOL");
    struct rlink *l = shared_link();
    struct registry *r = registry_new(l);
    const char *qn = uniq("reclaim-proc"), *dead = uniq("producer-x"), *me = uniq("producer-y");
    struct registry_agent a = agent(me, "producer", "PREMIUM", "render");
    struct queue *q = open_q(l, qn, me);
    struct queue_task *t = NULL;
    const char *url = test_shared_url();
    char ttl[] = "300", line[128];
    char *cause = NULL;
    int fds[2], claimed = 0;
    pid_t pid;
    FILE *f;
    bool first = false;

    (void)state;
    assert_int_equal(registry_register(r, &a, 30000, &cause), 0);
    assert_int_equal(queue_enqueue(q, "render", NULL, QUEUE_NORMAL, "video-1", NULL, &cause), 0);
    /* The doomed agent registers (TTL 300 ms) and takes the task in a process of its own. */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(tool, tool, url, "agent", dead, "producer", "PREMIUM", ttl, "busy", (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execl(tool, tool, url, "hold", qn, dead, "60000", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "got video-1 1\n");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fclose(f);

    assert_true(await_dead(r, dead, 5000));
    assert_int_equal(registry_reclaim(r, q, 10, &claimed, &cause), 0);
    assert_int_equal(claimed, 1);
    assert_int_equal(queue_dequeue(q, 0, &t, &cause), 0);
    assert_non_null(t);
    assert_string_equal(t->id, "video-1");
    assert_int_equal(queue_ack(q, t, NULL, &first, &cause), 0);
    assert_true(first);
    queue_task_free(t);
    queue_free(q);
    registry_remove(r, dead, &cause);
    registry_unregister(r, &cause);
    registry_free(r);
    rlink_free(l);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_register_status_heartbeat_list),
        cmocka_unit_test(test_bad_agent_refused),
        cmocka_unit_test(test_expired_heartbeat_is_dead),
        cmocka_unit_test(test_list_drops_vanished_records),
        cmocka_unit_test(test_dead_agents_tasks_reclaimed),
        cmocka_unit_test(test_killed_agent_process_reclaimed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
