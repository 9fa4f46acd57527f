/*
 * test_bus.c - the message bus against real redis-servers: channel names; every message type
 * published and handled; routing by agent, tier and broadcast channel (and nothing delivered
 * where it does not belong); handlers per type and the catch-all; expired and invalid
 * messages dropped and counted; resubscription after a restart of the server and after a
 * server that stops answering (detected by the subscriber's PING); prompt stop while the
 * server is unreachable; AUTH as an ACL user and SELECT on the shared test server.
 *
 * Most tests use a private redis-server this file starts on a socket in a temporary folder,
 * so that nothing else publishes on its channels. Waiting is on conditions with deadlines:
 * handlers signal a condition variable, subscriptions are awaited with
 * bus_sub_wait_subscribed(), never a fixed sleep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "store/bus.h"
#include "store/message.h"
#include "store/rlink.h"
#include "testenv.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 10000

static const struct rlink_options opts = {
    .connect_timeout_ms = 2000,
    .command_timeout_ms = 5000,
    .reconnect_base_ms = 20,
    .reconnect_max_ms = 200,
    .client_name = "newsroom-test-bus",
};

/* ---- what the handlers saw ---- */

#define INBOX_MAX 64

struct got {
    enum msg_type type;
    char channel[128];
    char id[40];
    char sender[64];
    bool via_other;
};

struct inbox {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct got got[INBOX_MAX];
    int n;
    bool overflow;
};

static void inbox_init(struct inbox *b)
{
    pthread_condattr_t ca;

    memset(b, 0, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
}

static void inbox_done(struct inbox *b)
{
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
}

static void record(struct inbox *b, const struct msg *m, const char *channel, bool other)
{
    pthread_mutex_lock(&b->mu);
    if (b->n < INBOX_MAX) {
        struct got *g = &b->got[b->n++];

        g->type = m->type;
        g->via_other = other;
        snprintf(g->channel, sizeof g->channel, "%s", channel);
        snprintf(g->id, sizeof g->id, "%s", m->id);
        snprintf(g->sender, sizeof g->sender, "%s", m->sender);
    } else {
        b->overflow = true;
    }
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* Runs on the subscriber's thread. */
static void collect(const struct msg *m, const char *channel, void *ctx)
{
    record(ctx, m, channel, false);
}

static void collect_other(const struct msg *m, const char *channel, void *ctx)
{
    record(ctx, m, channel, true);
}

/* Waits until the inbox holds at least n messages; returns how many it holds. */
static int inbox_wait(struct inbox *b, int n, int timeout_ms)
{
    struct timespec ts;
    int have;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&b->mu);
    while (b->n < n && pthread_cond_timedwait(&b->cv, &b->mu, &ts) == 0)
        ;
    have = b->n;
    pthread_mutex_unlock(&b->mu);
    return have;
}

/* The index of the message with id in the inbox, or -1. */
static int inbox_find(struct inbox *b, const char *id)
{
    int at = -1;

    pthread_mutex_lock(&b->mu);
    for (int i = 0; i < b->n; i++)
        if (strcmp(b->got[i].id, id) == 0)
            at = i;
    pthread_mutex_unlock(&b->mu);
    return at;
}

/* ---- set-up ---- */

static int start_server(void **state)
{
    static const char *const extra[] = {"--enable-debug-command", "yes", NULL};

    (void)state;
    return test_private_start(extra);
}

static int stop_server(void **state)
{
    (void)state;
    test_private_stop();
    return 0;
}

static struct rlink *publisher(void)
{
    return rlink_new(test_private_addr(), &opts);
}

/* A subscriber for agent_id of tier whose every type goes to b; started and subscribed. */
static struct bus_sub *agent_sub(const char *agent_id, enum bus_tier tier, struct inbox *b)
{
    struct bus_sub *s = bus_sub_new(test_private_addr(), &opts);
    char *cause = NULL;

    if (bus_sub_add_agent(s, agent_id, tier, &cause) == -1)
        fail_msg("%s", cause);
    for (int t = 0; t < MSG_TYPE_COUNT; t++)
        assert_int_equal(bus_sub_on(s, (enum msg_type)t, collect, b, &cause), 0);
    if (bus_sub_start(s, &cause) == -1)
        fail_msg("%s", cause);
    assert_int_equal(bus_sub_wait_subscribed(s, 1, WAIT_MS), 0);
    return s;
}

static void publish_ok(struct rlink *l, const char *channel, const struct msg *m,
                       long long want_receivers)
{
    long long n = -1;
    char *cause = NULL;

    if (bus_publish(l, channel, m, &n, &cause) == -1)
        fail_msg("publish on %s: %s", channel, cause);
    if (want_receivers >= 0)
        assert_int_equal(n, want_receivers);
}

/* ---- tests ---- */

static void test_channel_names(void **state)
{
    char buf[256], small[16];
    char *cause = NULL;
    enum bus_tier t;

    (void)state;
    assert_string_equal(bus_broadcast_channel(BUS_ALL), "nr:bus:broadcast:all");
    assert_string_equal(bus_broadcast_channel(BUS_CONTROL), "nr:bus:broadcast:control");
    assert_string_equal(bus_broadcast_channel(BUS_EMERGENCY), "nr:bus:broadcast:emergency");
    assert_null(bus_broadcast_channel((enum bus_broadcast)BUS_BROADCAST_COUNT));
    assert_int_equal(BUS_TIER_COUNT, 9);
    for (int i = 0; i < BUS_TIER_COUNT; i++) {
        char want[64];

        snprintf(want, sizeof want, "nr:bus:tier:%s", bus_tier_name((enum bus_tier)i));
        assert_string_equal(bus_tier_channel((enum bus_tier)i), want);
        assert_int_equal(bus_tier_parse(bus_tier_name((enum bus_tier)i), &t), 0);
        assert_int_equal((int)t, i);
    }
    assert_int_equal(bus_tier_parse("qa", &t), 0);
    assert_int_equal(t, BUS_TIER_QA);
    assert_int_equal(bus_tier_parse("Scout", &t), -1);
    assert_null(bus_tier_channel((enum bus_tier) - 1));

    assert_int_equal(bus_agent_channel("writer-1", buf, sizeof buf, &cause), 0);
    assert_string_equal(buf, "nr:bus:agent:writer-1");
    assert_int_equal(bus_agent_channel("", buf, sizeof buf, &cause), -1);
    assert_non_null(strstr(cause, "empty"));
    free(cause);
    assert_int_equal(bus_agent_channel("two words", buf, sizeof buf, &cause), -1);
    assert_non_null(strstr(cause, "space or a control character"));
    free(cause);
    assert_int_equal(bus_agent_channel("esc\033[2J", buf, sizeof buf, &cause), -1);
    free(cause);
    assert_int_equal(bus_agent_channel("writer-1", small, sizeof small, &cause), -1);
    free(cause);
    memset(buf, 'a', BUS_AGENT_ID_MAX + 1);
    buf[BUS_AGENT_ID_MAX + 1] = '\0';
    {
        char out[512];

        assert_int_equal(bus_agent_channel(buf, out, sizeof out, &cause), -1);
        assert_non_null(strstr(cause, "longer than"));
        free(cause);
        buf[BUS_AGENT_ID_MAX] = '\0';
        assert_int_equal(bus_agent_channel(buf, out, sizeof out, &cause), 0);
    }
}

/* One message of every type to one agent: each arrives once, on the agent's channel, intact,
 * at the handler of its type. */
static void test_every_type_delivered(void **state)
{
    struct inbox b;
    struct bus_sub *s;
    struct rlink *l = publisher();
    struct msg *sent[MSG_TYPE_COUNT];
    struct bus_sub_stats st;
    char *cause = NULL;

    (void)state;
    inbox_init(&b);
    s = agent_sub("writer-1", BUS_TIER_WRITER, &b);
    for (int t = 0; t < MSG_TYPE_COUNT; t++) {
        long long n = -1;

        sent[t] = msg_new((enum msg_type)t, "analyst-1", "writer-1", json_pack("{s:i}", "seq", t));
        if (bus_send_agent(l, "writer-1", sent[t], &n, &cause) == -1)
            fail_msg("%s", cause);
        assert_int_equal(n, 1);
    }
    assert_int_equal(inbox_wait(&b, MSG_TYPE_COUNT, WAIT_MS), MSG_TYPE_COUNT);
    for (int t = 0; t < MSG_TYPE_COUNT; t++) {
        int at = inbox_find(&b, sent[t]->id);

        assert_true(at >= 0);
        assert_int_equal(b.got[at].type, t);
        assert_string_equal(b.got[at].channel, "nr:bus:agent:writer-1");
        assert_string_equal(b.got[at].sender, "analyst-1");
        assert_false(b.got[at].via_other);
        msg_free(sent[t]);
    }
    bus_sub_stats(s, &st);
    assert_int_equal(st.received, MSG_TYPE_COUNT);
    assert_int_equal(st.handled, MSG_TYPE_COUNT);
    assert_int_equal(st.unhandled + st.expired + st.invalid + st.disconnects, 0);
    assert_int_equal(st.subscriptions, 1);
    assert_true(st.subscribed);
    bus_sub_free(s);
    inbox_done(&b);
    rlink_free(l);
}

/* Two agents of different tiers: each hears its own channel, its tier's and the broadcasts,
 * and nothing meant for the other. A last broadcast fences the check: pub/sub keeps order on
 * one connection, so once it has arrived everything published before it has too. */
static void test_routing(void **state)
{
    struct inbox wb, sb;
    struct bus_sub *w, *sc;
    struct rlink *l = publisher();
    struct msg *to_writer = msg_new(MSG_TASK_ASSIGN, "producer-1", "writer-1", NULL);
    struct msg *to_scouts = msg_new(MSG_TASK_ASSIGN, "producer-1", "scout", NULL);
    struct msg *to_analysts = msg_new(MSG_TASK_ASSIGN, "producer-1", "analyst", NULL);
    struct msg *to_other = msg_new(MSG_TASK_ASSIGN, "producer-1", "writer-2", NULL);
    struct msg *all = msg_new(MSG_HEARTBEAT, "producer-1", NULL, NULL);
    struct msg *control = msg_new(MSG_CONTROL, "operator:x", NULL, NULL);
    struct msg *emergency = msg_new(MSG_EMERGENCY, "operator:x", NULL, NULL);
    struct msg *fence = msg_new(MSG_HEARTBEAT, "fence", NULL, NULL);
    char *cause = NULL;
    long long n = -1;

    (void)state;
    inbox_init(&wb);
    inbox_init(&sb);
    w = agent_sub("writer-1", BUS_TIER_WRITER, &wb);
    sc = agent_sub("scout-1", BUS_TIER_SCOUT, &sb);

    assert_int_equal(bus_send_agent(l, "writer-1", to_writer, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_int_equal(bus_send_tier(l, BUS_TIER_SCOUT, to_scouts, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_int_equal(bus_send_tier(l, BUS_TIER_ANALYST, to_analysts, &n, &cause), 0);
    assert_int_equal(n, 0);
    assert_int_equal(bus_send_agent(l, "writer-2", to_other, &n, &cause), 0);
    assert_int_equal(n, 0);
    assert_int_equal(bus_broadcast(l, BUS_ALL, all, &n, &cause), 0);
    assert_int_equal(n, 2);
    assert_int_equal(bus_broadcast(l, BUS_CONTROL, control, &n, &cause), 0);
    assert_int_equal(n, 2);
    assert_int_equal(bus_broadcast(l, BUS_EMERGENCY, emergency, &n, &cause), 0);
    assert_int_equal(n, 2);
    publish_ok(l, bus_broadcast_channel(BUS_ALL), fence, 2);

    /* writer: to_writer, all, control, emergency, fence. */
    assert_int_equal(inbox_wait(&wb, 5, WAIT_MS), 5);
    assert_int_equal(inbox_find(&wb, fence->id), 4);
    assert_int_equal(inbox_find(&wb, to_writer->id), 0);
    assert_string_equal(wb.got[0].channel, "nr:bus:agent:writer-1");
    assert_int_equal(inbox_find(&wb, all->id), 1);
    assert_string_equal(wb.got[1].channel, "nr:bus:broadcast:all");
    assert_int_equal(inbox_find(&wb, control->id), 2);
    assert_string_equal(wb.got[2].channel, "nr:bus:broadcast:control");
    assert_int_equal(inbox_find(&wb, emergency->id), 3);
    assert_string_equal(wb.got[3].channel, "nr:bus:broadcast:emergency");
    /* scout: to_scouts, all, control, emergency, fence. */
    assert_int_equal(inbox_wait(&sb, 5, WAIT_MS), 5);
    assert_int_equal(inbox_find(&sb, fence->id), 4);
    assert_int_equal(inbox_find(&sb, to_scouts->id), 0);
    assert_string_equal(sb.got[0].channel, "nr:bus:tier:scout");
    assert_int_equal(inbox_find(&sb, to_writer->id), -1);
    assert_int_equal(inbox_find(&wb, to_scouts->id), -1);
    assert_int_equal(inbox_find(&wb, to_analysts->id) + inbox_find(&sb, to_analysts->id), -2);
    assert_int_equal(inbox_find(&wb, to_other->id) + inbox_find(&sb, to_other->id), -2);
    /* Nothing after the fence either. */
    assert_int_equal(inbox_wait(&wb, 6, 0), 5);
    assert_int_equal(inbox_wait(&sb, 6, 0), 5);

    bus_sub_free(w);
    bus_sub_free(sc);
    inbox_done(&wb);
    inbox_done(&sb);
    msg_free(to_writer);
    msg_free(to_scouts);
    msg_free(to_analysts);
    msg_free(to_other);
    msg_free(all);
    msg_free(control);
    msg_free(emergency);
    msg_free(fence);
    rlink_free(l);
}

/* A handler per type; types without one go to the catch-all, or are counted as unhandled
 * when there is none. Configuration after start is refused. */
static void test_handlers(void **state)
{
    struct inbox only, rest;
    struct bus_sub *a = bus_sub_new(test_private_addr(), &opts),
                   *b = bus_sub_new(test_private_addr(), &opts);
    struct rlink *l = publisher();
    struct msg *hb = msg_new(MSG_HEARTBEAT, "scout-9", NULL, NULL);
    struct msg *task = msg_new(MSG_TASK_ASSIGN, "producer-1", NULL, NULL);
    struct bus_sub_stats st;
    char *cause = NULL;
    const char *ch = bus_broadcast_channel(BUS_ALL);

    (void)state;
    inbox_init(&only);
    inbox_init(&rest);
    /* No channel yet: refused. */
    assert_int_equal(bus_sub_start(a, &cause), -1);
    assert_non_null(strstr(cause, "no channel"));
    free(cause);
    assert_int_equal(bus_sub_add_channel(a, ch, &cause), 0);
    assert_int_equal(bus_sub_add_channel(a, ch, &cause), 0); /* twice: subscribed once */
    assert_int_equal(bus_sub_add_channel(a, "", &cause), -1);
    free(cause);
    /* A first handler replaced by a second: only the second sees anything. */
    assert_int_equal(bus_sub_on(a, MSG_TASK_ASSIGN, collect, &rest, &cause), 0);
    assert_int_equal(bus_sub_on(a, MSG_TASK_ASSIGN, collect, &only, &cause), 0);
    assert_int_equal(bus_sub_start(a, &cause), 0);
    assert_int_equal(bus_sub_start(a, &cause), -1);
    assert_non_null(strstr(cause, "already running"));
    free(cause);
    assert_int_equal(bus_sub_on(a, MSG_HEARTBEAT, collect, &only, &cause), -1);
    free(cause);
    assert_int_equal(bus_sub_wait_subscribed(a, 1, WAIT_MS), 0);

    assert_int_equal(bus_sub_add_channel(b, ch, &cause), 0);
    assert_int_equal(bus_sub_on(b, MSG_TASK_ASSIGN, collect, &rest, &cause), 0);
    assert_int_equal(bus_sub_on_other(b, collect_other, &rest, &cause), 0);
    assert_int_equal(bus_sub_start(b, &cause), 0);
    assert_int_equal(bus_sub_wait_subscribed(b, 1, WAIT_MS), 0);

    publish_ok(l, ch, hb, 2);
    publish_ok(l, ch, task, 2);
    assert_int_equal(inbox_wait(&only, 1, WAIT_MS), 1);
    assert_string_equal(only.got[0].id, task->id);
    assert_int_equal(inbox_wait(&rest, 2, WAIT_MS), 2);
    assert_string_equal(rest.got[0].id, hb->id);
    assert_true(rest.got[0].via_other);
    assert_string_equal(rest.got[1].id, task->id);
    assert_false(rest.got[1].via_other);
    bus_sub_stats(a, &st);
    assert_int_equal(st.received, 2);
    assert_int_equal(st.handled, 1);
    assert_int_equal(st.unhandled, 1);
    bus_sub_stats(b, &st);
    assert_int_equal(st.handled, 2);
    assert_int_equal(st.unhandled, 0);
    assert_int_equal(only.n, 1);

    bus_sub_free(a);
    bus_sub_free(b);
    inbox_done(&only);
    inbox_done(&rest);
    msg_free(hb);
    msg_free(task);
    rlink_free(l);
}

/* Stale and malformed messages never reach a handler; each is counted. */
static void test_expired_and_invalid_dropped(void **state)
{
    struct inbox b;
    struct bus_sub *s;
    struct rlink *l = publisher();
    struct msg *stale = msg_new(MSG_TASK_ASSIGN, "analyst-1", "qa-1", NULL);
    struct msg *fresh = msg_new(MSG_TASK_ASSIGN, "analyst-1", "qa-1", NULL);
    struct bus_sub_stats st;
    char ch[128];
    char *cause = NULL;
    redisReply *r;

    (void)state;
    inbox_init(&b);
    s = agent_sub("qa-1", BUS_TIER_QA, &b);
    assert_int_equal(bus_agent_channel("qa-1", ch, sizeof ch, &cause), 0);
    stale->time_ms = clock_wall_ms() - 60000;
    stale->ttl_ms = 1000;
    fresh->ttl_ms = 60000;
    publish_ok(l, ch, stale, 1);
    r = rlink_command(l, &cause, "PUBLISH %s %s", ch, "this is not JSON");
    assert_non_null(r);
    freeReplyObject(r);
    r = rlink_command(l, &cause, "PUBLISH %s %s", ch,
                      "{\"id\":\"x\",\"type\":\"GOSSIP\",\"sender\":\"s\",\"time_ms\":1}");
    assert_non_null(r);
    freeReplyObject(r);
    publish_ok(l, ch, fresh, 1);

    assert_int_equal(inbox_wait(&b, 1, WAIT_MS), 1);
    assert_string_equal(b.got[0].id, fresh->id);
    bus_sub_stats(s, &st);
    assert_int_equal(st.received, 4);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.invalid, 2);
    assert_int_equal(st.handled, 1);
    bus_sub_free(s);
    inbox_done(&b);
    msg_free(stale);
    msg_free(fresh);
    rlink_free(l);
}

/* Idle, the subscriber PINGs the server; while the server answers, the link stays up. */
static void test_ping_keeps_link(void **state)
{
    struct bus_sub *s = bus_sub_new(test_private_addr(), &opts);
    struct rlink *l = publisher();
    struct bus_sub_stats st;
    char *cause = NULL;
    long long pings = 0;
    int64_t deadline = clock_mono_ms() + WAIT_MS;

    (void)state;
    assert_int_equal(bus_sub_add_channel(s, "nr:bus:test:ping", &cause), 0);
    assert_int_equal(bus_sub_set_ping_interval(s, 5, &cause), -1);
    free(cause);
    assert_int_equal(bus_sub_set_ping_interval(s, 20, &cause), 0);
    freeReplyObject(rlink_command(l, &cause, "CONFIG RESETSTAT"));
    assert_int_equal(bus_sub_start(s, &cause), 0);
    assert_int_equal(bus_sub_wait_subscribed(s, 1, WAIT_MS), 0);
    /* Await five PINGs in the server's own statistics. */
    while (pings < 5 && clock_mono_ms() < deadline) {
        redisReply *r = rlink_command(l, &cause, "INFO commandstats");
        const char *p;

        assert_non_null(r);
        p = strstr(r->str, "cmdstat_ping:calls=");
        pings = p != NULL ? atoll(p + strlen("cmdstat_ping:calls=")) : 0;
        freeReplyObject(r);
        if (pings < 5)
            clock_sleep_ms(10, NULL); /* polling the server's counter, not synchronisation */
    }
    assert_true(pings >= 5);
    bus_sub_stats(s, &st);
    assert_int_equal(st.disconnects, 0);
    assert_int_equal(st.subscriptions, 1);
    assert_true(st.subscribed);
    bus_sub_free(s);
    rlink_free(l);
}

/* A server that stops answering (DEBUG SLEEP) is noticed by the unanswered PING; the
 * subscriber reconnects once it answers again and gets messages again. */
static void test_silent_server_detected(void **state)
{
    struct rlink_options o = opts;
    struct inbox b;
    struct bus_sub *s;
    struct rlink *l = publisher();
    struct msg *after = msg_new(MSG_HEARTBEAT, "x", NULL, NULL);
    struct bus_sub_stats st;
    char *cause = NULL;
    redisReply *r;

    (void)state;
    inbox_init(&b);
    o.command_timeout_ms = 200;
    s = bus_sub_new(test_private_addr(), &o);
    assert_int_equal(bus_sub_add_channel(s, "nr:bus:test:silent", &cause), 0);
    assert_int_equal(bus_sub_on(s, MSG_HEARTBEAT, collect, &b, &cause), 0);
    assert_int_equal(bus_sub_set_ping_interval(s, 50, &cause), 0);
    assert_int_equal(bus_sub_start(s, &cause), 0);
    assert_int_equal(bus_sub_wait_subscribed(s, 1, WAIT_MS), 0);
    /* The server sleeps 1.5 s: longer than ping interval + command timeout. */
    r = rlink_command(l, &cause, "DEBUG SLEEP 1.5");
    if (r == NULL)
        fail_msg("DEBUG SLEEP: %s", cause);
    freeReplyObject(r);
    assert_int_equal(bus_sub_wait_subscribed(s, 2, WAIT_MS), 0);
    bus_sub_stats(s, &st);
    assert_true(st.disconnects >= 1);
    /* Not checking the receiver count: the server may not have reaped the old connection. */
    publish_ok(l, "nr:bus:test:silent", after, -1);
    assert_int_equal(inbox_wait(&b, 1, WAIT_MS), 1);
    assert_string_equal(b.got[0].id, after->id);
    bus_sub_free(s);
    inbox_done(&b);
    msg_free(after);
    rlink_free(l);
}

/* The server restarts: the subscriber notices, reconnects with backoff, subscribes to every
 * channel again and receives what is published after. */
static void test_resubscribe_after_restart(void **state)
{
    struct inbox b;
    struct bus_sub *s;
    struct rlink *l = publisher();
    struct msg *before = msg_new(MSG_TASK_ASSIGN, "p", "debater-1", NULL);
    struct msg *after_own = msg_new(MSG_TASK_ASSIGN, "p", "debater-1", NULL);
    struct msg *after_tier = msg_new(MSG_DEBATE_INVITE, "p", "debater", NULL);
    struct msg *after_all = msg_new(MSG_EMERGENCY, "p", NULL, NULL);
    struct bus_sub_stats st;
    char *cause = NULL;
    long long n = -1;

    (void)state;
    inbox_init(&b);
    s = agent_sub("debater-1", BUS_TIER_DEBATER, &b);
    assert_int_equal(bus_send_agent(l, "debater-1", before, &n, &cause), 0);
    assert_int_equal(inbox_wait(&b, 1, WAIT_MS), 1);

    assert_int_equal(test_redis_restart(test_private()), 0);
    assert_int_equal(bus_sub_wait_subscribed(s, 2, WAIT_MS), 0);
    bus_sub_stats(s, &st);
    assert_true(st.disconnects >= 1);
    assert_true(st.subscriptions >= 2);
    assert_true(st.subscribed);
    /* The publisher's link reconnects too. */
    assert_int_equal(rlink_wait_connected(l, WAIT_MS, NULL, &cause), 0);
    if (bus_send_agent(l, "debater-1", after_own, &n, &cause) == -1) {
        /* The first command on the old connection reports it lost; the next reconnects. */
        free(cause);
        cause = NULL;
        assert_int_equal(rlink_wait_connected(l, WAIT_MS, NULL, &cause), 0);
        assert_int_equal(bus_send_agent(l, "debater-1", after_own, &n, &cause), 0);
    }
    assert_int_equal(n, 1);
    assert_int_equal(bus_send_tier(l, BUS_TIER_DEBATER, after_tier, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_int_equal(bus_broadcast(l, BUS_EMERGENCY, after_all, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_int_equal(inbox_wait(&b, 4, WAIT_MS), 4);
    assert_int_equal(inbox_find(&b, after_own->id), 1);
    assert_int_equal(inbox_find(&b, after_tier->id), 2);
    assert_int_equal(inbox_find(&b, after_all->id), 3);
    bus_sub_free(s);
    inbox_done(&b);
    msg_free(before);
    msg_free(after_own);
    msg_free(after_tier);
    msg_free(after_all);
    rlink_free(l);
}

/* Stopping does not wait for a backoff delay: the subscriber of a server that is not there
 * is freed promptly even with long delays. */
static void test_prompt_stop_when_unreachable(void **state)
{
    struct rlink_options o = opts;
    struct redis_addr nowhere = {.transport = REDIS_UNIX};
    struct bus_sub *s;
    struct bus_sub_stats st;
    char *cause = NULL;
    int64_t t0;

    (void)state;
    o.reconnect_base_ms = 30000;
    o.reconnect_max_ms = 60000;
    snprintf(nowhere.path, sizeof nowhere.path, "%s/nobody-here.sock", test_private_dir());
    s = bus_sub_new(&nowhere, &o);
    assert_int_equal(bus_sub_add_channel(s, "nr:bus:test:nowhere", &cause), 0);
    assert_int_equal(bus_sub_start(s, &cause), 0);
    assert_int_equal(bus_sub_wait_subscribed(s, 1, 100), -1);
    bus_sub_stats(s, &st);
    assert_false(st.subscribed);
    assert_int_equal(st.subscriptions, 0);
    t0 = clock_mono_ms();
    bus_sub_free(s);
    assert_true(clock_mono_ms() - t0 < 2000);
}

/* The shared test server over TCP as its ACL user, in database 5: AUTH and SELECT as an rlink
 * does them. A wrong password never subscribes. */
static void test_acl_user_and_db(void **state)
{
    struct redis_addr a;
    struct rlink_options o = opts;
    struct inbox b;
    struct bus_sub *s;
    struct rlink *l;
    struct msg *m = msg_new(MSG_BUDGET_ALERT, "cost", NULL, NULL);
    char url[512], agent[64];
    char *cause = NULL;
    long long n = -1;

    (void)state;
    inbox_init(&b);
    snprintf(url, sizeof url, "redis://%s:%s@127.0.0.1:%s/5",
             test_env("NEWSROOM_TEST_REDIS_ACL_USER"), test_env("NEWSROOM_TEST_REDIS_ACL_PASSWORD"),
             test_env("NEWSROOM_TEST_REDIS_PORT"));
    assert_int_equal(redis_url_parse(url, &a, &cause), 0);
    /* A channel of our own: others may use the shared server at the same time. */
    snprintf(agent, sizeof agent, "test-bus-%d", (int)getpid());
    s = bus_sub_new(&a, &o);
    assert_int_equal(bus_sub_add_agent(s, agent, BUS_TIER_PUBLISHER, &cause), 0);
    assert_int_equal(bus_sub_on(s, MSG_BUDGET_ALERT, collect, &b, &cause), 0);
    assert_int_equal(bus_sub_start(s, &cause), 0);
    assert_int_equal(bus_sub_wait_subscribed(s, 1, WAIT_MS), 0);
    l = rlink_new(&a, &opts);
    assert_int_equal(bus_send_agent(l, agent, m, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_int_equal(inbox_wait(&b, 1, WAIT_MS), 1);
    assert_string_equal(b.got[0].id, m->id);
    bus_sub_free(s);

    snprintf(a.password, sizeof a.password, "wrong-password-31");
    s = bus_sub_new(&a, &o);
    assert_int_equal(bus_sub_add_agent(s, agent, BUS_TIER_PUBLISHER, &cause), 0);
    assert_int_equal(bus_sub_start(s, &cause), 0);
    assert_int_equal(bus_sub_wait_subscribed(s, 1, 300), -1);
    bus_sub_free(s);
    inbox_done(&b);
    msg_free(m);
    rlink_free(l);
}

int main(void)
{
    /* hiredis writes with write(2): a server that went away must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_channel_names),
        cmocka_unit_test(test_every_type_delivered),
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_handlers),
        cmocka_unit_test(test_expired_and_invalid_dropped),
        cmocka_unit_test(test_ping_keeps_link),
        cmocka_unit_test(test_silent_server_detected),
        cmocka_unit_test(test_resubscribe_after_restart),
        cmocka_unit_test(test_prompt_stop_when_unreachable),
        cmocka_unit_test(test_acl_user_and_db),
    };

    return cmocka_run_group_tests(tests, start_server, stop_server);
}
