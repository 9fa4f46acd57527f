/*
 * test_room.c - the control room's engine side (src/room/): the feed's snapshots of a seeded
 * swarm (stories in several statuses, a debate with votes, agents one of which is dead, budget
 * limits with an open request, audit records), the events it follows, the command worker's
 * operator actions with their audit records and results, the dead set's pages and requeues,
 * the circuit breakers that are not closed, the detail of a story, and a link
 * lost and found again on a private redis-server (SIGSTOP / SIGCONT) without losing events.
 * Shared test Redis, database 14. Waits are conditions with deadlines, never blind sleeps.
 * Single-threaded test code (the room's threads are the code under test).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/config.h"
#include "cost/budget.h"
#include "room/room.h"
#include "store/audit.h"
#include "store/blackboard.h"
#include "store/control.h"
#include "store/debate.h"
#include "store/registry.h"
#include "recovery/breaker.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "feeds/feed_store.h"
#include "testenv.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB         14
#define MAX_EVENTS 20000

struct fx {
    struct rlink *l;
    struct bb *bb;
    struct config *cfg;
    struct room *room;
    struct room_snapshot *snap; /* the newest taken */
    struct room_event *ev;      /* every event seen */
    size_t nev;
};

static struct fx *fx_new(void)
{
    struct fx *f = calloc(1, sizeof *f);

    f->ev = calloc(MAX_EVENTS, sizeof *f->ev);
    f->cfg = config_new();
    return f;
}

static void fx_free(struct fx *f)
{
    room_free(f->room);
    room_snapshot_free(f->snap);
    bb_free(f->bb);
    rlink_free(f->l);
    config_free(f->cfg);
    free(f->ev);
    free(f);
}

static void start_room(struct fx *f, const struct redis_addr *addr, int cmd_timeout_ms)
{
    struct room_options o = {0};
    char *cause = NULL;

    o.addr = *addr;
    o.link.connect_timeout_ms = cmd_timeout_ms;
    o.link.command_timeout_ms = cmd_timeout_ms;
    o.link.reconnect_base_ms = 20;
    o.link.reconnect_max_ms = 200;
    o.cfg = f->cfg;
    o.period_ms = 200;
    f->room = room_new(&o);
    if (room_start(f->room, &cause) == -1)
        fail_msg("room_start: %s", cause);
}

static struct redis_addr shared_addr(void)
{
    struct redis_addr a = {.transport = REDIS_UNIX, .db = DB, .db_set = true};

    snprintf(a.path, sizeof a.path, "%s", test_env("NEWSROOM_TEST_REDIS_SOCKET"));
    snprintf(a.password, sizeof a.password, "%s", test_env("NEWSROOM_TEST_REDIS_PASSWORD"));
    return a;
}

/* Takes what the room has: events into the log, the newest snapshot. */
static void pump(struct fx *f)
{
    struct room_event buf[64];
    struct room_snapshot *s;
    size_t n;

    while ((n = room_pop_events(f->room, buf, 64)) > 0)
        for (size_t i = 0; i < n && f->nev < MAX_EVENTS; i++)
            f->ev[f->nev++] = buf[i];
    if ((s = room_take_snapshot(f->room)) != NULL) {
        room_snapshot_free(f->snap);
        f->snap = s;
    }
}

/* The first event of kind (from index *from on) whose text holds needle (NULL: any). */
static const struct room_event *find_event(struct fx *f, int kind, const char *needle, size_t from)
{
    pump(f);
    for (size_t i = from; i < f->nev; i++)
        if (f->ev[i].kind == kind && (needle == NULL || strstr(f->ev[i].text, needle) != NULL))
            return &f->ev[i];
    return NULL;
}

/* The result of command seq, waiting for it. */
static const struct room_event *result(struct fx *f, uint64_t seq)
{
    const struct room_event *e = NULL;
    int64_t end = clock_mono_ms() + 10000;

    assert_true(seq > 0);
    while (e == NULL) {
        pump(f);
        for (size_t i = 0; i < f->nev && e == NULL; i++)
            if ((f->ev[i].kind == ROOM_EV_RESULT || f->ev[i].kind == ROOM_EV_DETAIL ||
                 f->ev[i].kind == ROOM_EV_REVIEW || f->ev[i].kind == ROOM_EV_FAILED) &&
                f->ev[i].cmd_seq == seq)
                e = &f->ev[i];
        if (e == NULL && clock_mono_ms() > end)
            fail_msg("no result for command %llu", (unsigned long long)seq);
        if (e == NULL)
            clock_sleep_ms(5, NULL);
    }
    return e;
}

static uint64_t send(struct fx *f, int kind, const char *id, const char *text, bool halt,
                     int64_t amount)
{
    struct room_cmd c = {.kind = kind, .halt = halt, .amount = amount};

    snprintf(c.id, sizeof c.id, "%s", id != NULL ? id : "");
    snprintf(c.text, sizeof c.text, "%s", text != NULL ? text : "");
    return room_send(f->room, &c);
}

/* A page of the review queue (ROOM_CMD_REVIEW), taken; free it with room_review_page_free. */
static struct room_review_page *review(struct fx *f, int sort, const char *filter, long offset)
{
    struct room_cmd c = {.kind = ROOM_CMD_REVIEW, .sort = sort, .amount = offset};
    const struct room_event *e;
    struct room_review_page *p;

    snprintf(c.text, sizeof c.text, "%s", filter);
    e = result(f, room_send(f->room, &c));
    assert_int_equal(e->kind, ROOM_EV_REVIEW);
    p = room_take_review(f->room);
    assert_non_null(p);
    assert_null(p->error);
    return p;
}

/* A page of the dead set (ROOM_CMD_FAILED), taken; free it with room_failed_page_free. */
static struct room_failed_page *failed(struct fx *f, const char *filter, long offset)
{
    struct room_cmd c = {.kind = ROOM_CMD_FAILED, .amount = offset};
    const struct room_event *e;
    struct room_failed_page *p;

    snprintf(c.text, sizeof c.text, "%s", filter);
    e = result(f, room_send(f->room, &c));
    assert_int_equal(e->kind, ROOM_EV_FAILED);
    p = room_take_failed(f->room);
    assert_non_null(p);
    assert_null(p->error);
    return p;
}

/* A fresh snapshot taken after now. */
static const struct room_snapshot *fresh(struct fx *f)
{
    uint64_t seen = f->snap != NULL ? f->snap->seq : 0;

    AWAIT(10, (pump(f), f->snap != NULL && f->snap->seq > seen + 1));
    return f->snap;
}

static void put(struct fx *f, const char *id, const char *title, enum bb_status st, json_t *extra)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "title", title, "content",
                          "Body of the story.", "source", "Wire", "url", "https://example.com/a");
    char *cause = NULL, existing[NEWS_ID_MAX + 1];
    struct news_item *it = news_item_from_json(j, &cause);

    if (it == NULL)
        fail_msg("news item: %s", cause);
    if (bb_write(f->bb, it, extra, st, false, existing, &cause) != BB_OK)
        fail_msg("bb_write %s: %s", id, cause);
    news_item_free(it);
    json_decref(extra);
    json_decref(j);
}

static void reg(struct rlink *l, const char *id, const char *role, int ttl_ms)
{
    struct registry *r = registry_new(l);
    struct registry_agent a = {0};
    char *cause = NULL;

    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.role, sizeof a.role, "%s", role);
    snprintf(a.tier, sizeof a.tier, "FAST");
    if (registry_register(r, &a, ttl_ms, &cause) == -1)
        fail_msg("register %s: %s", id, cause);
    registry_free(r);
}

/* The seeded swarm. */
static void seed(struct fx *f)
{
    struct debate_options o;
    struct budget_options bo;
    struct budget_limits lim = {.daily = 1000};
    struct budget_refusal ref;
    struct debate d;
    char *cause = NULL, rid[BUDGET_ID_MAX];
    const char *voters[] = {"debater-1", "debater-2", "debater-3"};

    put(f, "raw-1", "A raw story", BB_PENDING, NULL);
    put(f, "raw-2", "Plain title", BB_PENDING, NULL);
    /* A title with an escape sequence, as a broken or hostile writer could store it. */
    freeReplyObject(
        test_must(f->l, "HSET nr:bb:item:raw-2 f:title %s", "\"Evil \\u001b[2J title\""));
    put(f, "deb-1", "A debated story", BB_DEBATING, NULL);
    put(f, "rev-1", "Ready for review", BB_REVIEWING,
        json_pack("{s:{s:f, s:s}, s:[{s:f}, {s:f}], s:{s:s, s:[]}}", "package", "duration_s", 42.5,
                  "captions_srt", "1\n00:00:00,000 --> 00:00:04,000\nHello\n", "qa", "score", 6.0,
                  "score", 8.5, "script", "final", "Line one.\nLine two.", "revisions"));
    put(f, "rev-2", "Another for review", BB_REVIEWING, NULL);
    put(f, "rev-3", "A third for review", BB_REVIEWING, NULL);
    put(f, "pub-1", "Published", BB_PUBLISHED_S, NULL);
    /* A story analyst-1 holds now (its lock), and one whose owner let go (no lock). */
    put(f, "proc-1", "Being analysed", BB_PROCESSING, NULL);
    freeReplyObject(test_must(f->l, "HSET nr:bb:item:proc-1 owner %s", "analyst-1"));
    freeReplyObject(test_must(f->l, "SET nr:bb:lock:proc-1 %s PX 60000", "tok:1"));
    put(f, "proc-2", "Let go", BB_PROCESSING, NULL);
    freeReplyObject(test_must(f->l, "HSET nr:bb:item:proc-2 owner %s", "writer-1"));
    /* A debate with votes. */
    debate_options_default(&o);
    o.panel = 3;
    o.quorum = 2;
    if (debate_open(f->l, "deb-1", "A debated story", "sum", "brief", &o, "analyst-1", NULL,
                    &cause) != DEBATE_OK)
        fail_msg("debate_open: %s", cause);
    for (int i = 0; i < 2; i++) {
        struct debate_vote v = {.vote = i == 0 ? DEBATE_FOR : DEBATE_AGAINST,
                                .confidence = i == 0 ? 0.9 : 0.3,
                                .reasoning = (char *)"because"};

        if (debate_seat(f->l, voters[i], 60000, &d, &cause) != DEBATE_OK)
            fail_msg("seat: %s", cause);
        debate_clear(&d);
        snprintf(v.agent, sizeof v.agent, "%s", voters[i]);
        if (debate_vote(f->l, "deb-1", &v, NULL, &cause) != DEBATE_OK)
            fail_msg("vote: %s", cause);
    }
    /* Agents: two alive, one whose heartbeat lapses at once. */
    reg(f->l, "analyst-1", "analyst", 60000);
    reg(f->l, "writer-1", "writer", 60000);
    reg(f->l, "ghost-1", "scout", 1);
    /* A budget limit, spending and an open request (a reservation past the limit). */
    budget_options_from_config(&bo, f->cfg);
    if (budget_set_limits(f->l, "writer-1", &lim, BUDGET_SET_DAILY, &cause) == -1)
        fail_msg("limits: %s", cause);
    {
        struct usage_record u = {
            .agent = "writer-1", .task = "rev-1", .model = "m", .confidence = -1, .cost = 300};

        if (budget_reserve(f->l, &bo, clock_wall_ms(), "writer-1", "rev-1", 300, rid, &ref,
                           &cause) != 0)
            fail_msg("reserve: %s", cause ? cause : "refused");
        if (budget_commit(f->l, &bo, clock_wall_ms(), rid, &u, NULL, &cause) == -1)
            fail_msg("commit: %s", cause);
    }
    assert_int_equal(
        budget_reserve(f->l, &bo, clock_wall_ms(), "writer-1", "rev-2", 5000, rid, &ref, &cause),
        1);
    /* An audit record. */
    if (audit_append(f->l, "note", "raw-1", "seeded by the test", &cause) == -1)
        fail_msg("audit: %s", cause);
}

static int setup(void **state)
{
    struct fx *f = fx_new();

    f->l = test_shared_link(DB, "test_room");
    freeReplyObject(test_must(f->l, "FLUSHDB%s", ""));
    f->bb = bb_new(f->l, "test");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

static const struct room_item *item(const struct room_snapshot *s, const char *id)
{
    for (size_t i = 0; i < s->nitems; i++)
        if (strcmp(s->items[i].id, id) == 0)
            return &s->items[i];
    fail_msg("no item %s in the snapshot", id);
    abort();
}

static const struct room_agent *agent(const struct room_snapshot *s, const char *id)
{
    for (size_t i = 0; i < s->nagents; i++)
        if (strcmp(s->agents[i].id, id) == 0)
            return &s->agents[i];
    return NULL;
}

static const struct room_agent *must_agent(const struct room_snapshot *s, const char *id)
{
    const struct room_agent *a = agent(s, id);

    if (a == NULL) {
        fail_msg("no agent %s in the snapshot", id);
        abort();
    }
    return a;
}

static bool agent_dead(struct fx *f, const char *id)
{
    const struct room_agent *a;

    pump(f);
    a = f->snap != NULL ? agent(f->snap, id) : NULL;
    return a != NULL && strcmp(a->status, "dead") == 0;
}

static void test_snapshot(void **state)
{
    struct fx *f = *state;
    struct redis_addr a = shared_addr();
    const struct room_snapshot *s;
    const struct room_item *it;
    const struct room_debate *d = NULL;
    const struct room_agent *ag;
    bool seen_writer = false;

    seed(f);
    {
        /* Two feed sources, one failing. */
        struct feed_poll good = {.outcome = "ok",
                                 .items = 3,
                                 .by = "scout-1",
                                 .interval_ms = 60000,
                                 .backoff_max_ms = 60000};
        struct feed_poll bad = {.outcome = "error",
                                .error = "not well-formed XML (line 1)",
                                .by = "scout-1",
                                .interval_ms = 60000,
                                .backoff_max_ms = 60000};
        char *cause = NULL;

        if (feed_store_done(f->l, "file:///feeds/good.xml", &good, &cause) == -1 ||
            feed_store_done(f->l, "file:///feeds/bad.xml", &bad, &cause) == -1)
            fail_msg("feed status: %s", cause);
    }
    start_room(f, &a, 2000);
    AWAIT(10, agent_dead(f, "ghost-1"));
    s = fresh(f);
    assert_true(room_link_ok(f->room, NULL));
    assert_true(s->address[0] != '\0');
    assert_null(strstr(s->address, test_env("NEWSROOM_TEST_REDIS_PASSWORD")));
    assert_true(s->taken_ms > 0);
    assert_int_equal(s->feeds, 2);
    assert_int_equal(s->feeds_error, 1);
    assert_non_null(strstr(s->feed_error, "bad.xml: not well-formed XML"));
    assert_int_equal(s->counts[BB_RAW_FEED][BB_PENDING], 2);
    assert_int_equal(s->counts[BB_REVIEW_QUEUE][BB_REVIEWING], 3);
    /* Items: newest first per section, titles made safe. */
    it = item(s, "raw-2");
    assert_null(strchr(it->title, '\x1b'));
    assert_int_equal(it->status, BB_PENDING);
    assert_int_equal(it->section, BB_RAW_FEED);
    assert_int_equal(item(s, "pub-1")->status, BB_PUBLISHED_S);
    assert_int_equal(item(s, "pub-1")->section, BB_PUBLISHED);
    for (size_t i = 0; i + 1 < s->nitems; i++)
        if (s->items[i].section == s->items[i + 1].section)
            assert_true(s->items[i].updated_ms >= s->items[i + 1].updated_ms ||
                        s->items[i].created_ms >= s->items[i + 1].created_ms);
    /* The debate with its tally and current score. */
    for (size_t i = 0; i < s->ndebates; i++)
        if (strcmp(s->debates[i].id, "deb-1") == 0)
            d = &s->debates[i];
    if (d == NULL) {
        fail_msg("no debate deb-1 in the snapshot");
        abort();
    }
    assert_true(d->open);
    assert_int_equal(d->n_for, 1);
    assert_int_equal(d->n_against, 1);
    assert_int_equal(d->nvotes, 2);
    assert_true(d->score > 0.74 && d->score < 0.76); /* 0.9 / (0.9 + 0.3) */
    /* Agents: the dead one, spending from the budget rows. */
    ag = must_agent(s, "analyst-1");
    assert_string_equal(ag->status, "idle");
    assert_int_equal(must_agent(s, "writer-1")->spent_today, 300);
    /* Budgets: the agent's row with its limit, the global row last; the open request. */
    assert_true(s->nbudgets >= 2);
    assert_string_equal(s->budgets[s->nbudgets - 1].agent, "*");
    assert_int_equal(s->budgets[s->nbudgets - 1].day_spent, 300);
    for (size_t i = 0; i < s->nbudgets; i++)
        if (strcmp(s->budgets[i].agent, "writer-1") == 0) {
            assert_int_equal(s->budgets[i].day_limit, 1000);
            seen_writer = true;
        }
    assert_true(seen_writer);
    assert_int_equal(s->nrequests, 1);
    assert_string_equal(s->requests[0].agent, "writer-1");
    assert_string_equal(s->requests[0].limit, "agent_daily");
    /* The agent refused under the open request waits on budget. */
    assert_true(must_agent(s, "writer-1")->budget_wait);
    assert_false(must_agent(s, "analyst-1")->budget_wait);
    /* The story an agent holds now: the one whose lock it holds, none for the others. */
    assert_string_equal(must_agent(s, "analyst-1")->task, "proc-1");
    assert_string_equal(must_agent(s, "writer-1")->task, "");
    /* The longest waiting story in review. */
    assert_true(s->review_oldest_ms > 0);
    /* Review queue, paged from Redis: oldest first, with package, QA, cost and marks. */
    {
        struct room_review_page *p = review(f, ROOM_SORT_OLDEST, "", 0);

        assert_int_equal(p->total, 3);
        assert_int_equal(p->matching, 3);
        assert_int_equal(p->nrows, 3);
        assert_string_equal(p->rows[0].id, "rev-1");
        assert_true(p->rows[0].duration_s > 42.4 && p->rows[0].duration_s < 42.6);
        assert_true(p->rows[0].qa_score > 8.4 && p->rows[0].qa_score < 8.6);
        assert_int_equal(p->rows[0].cost, 300);
        assert_true(p->rows[0].marks & ROOM_MARK_STORYBOARD);
        assert_true(p->rows[1].qa_score < 0);
        assert_int_equal(p->rows[1].marks, 0);
        assert_false(p->any_priority);
        room_review_page_free(p);
        /* The filter searches the whole queue on the server, titles folded. */
        p = review(f, ROOM_SORT_OLDEST, "third", 0);
        assert_int_equal(p->total, 3);
        assert_int_equal(p->matching, 1);
        assert_string_equal(p->rows[0].id, "rev-3");
        room_review_page_free(p);
        /* Newest first, and a page further on. */
        p = review(f, ROOM_SORT_NEWEST, "", 1);
        assert_int_equal(p->offset, 1);
        assert_int_equal(p->nrows, 2);
        assert_string_equal(p->rows[0].id, "rev-2");
        room_review_page_free(p);
        /* By QA score and by cost: the scored / costly one first. */
        p = review(f, ROOM_SORT_QA, "", 0);
        assert_string_equal(p->rows[0].id, "rev-1");
        room_review_page_free(p);
        p = review(f, ROOM_SORT_COST, "", 0);
        assert_string_equal(p->rows[0].id, "rev-1");
        room_review_page_free(p);
        /* Priority: a number in the body; missing counts as 0. */
        freeReplyObject(test_must(f->l, "HSET nr:bb:item:rev-3 f:priority %s", "5"));
        p = review(f, ROOM_SORT_PRIORITY, "", 0);
        assert_true(p->any_priority);
        assert_string_equal(p->rows[0].id, "rev-3");
        assert_true(p->rows[0].priority > 4.9);
        room_review_page_free(p);
    }
    /* Audit. */
    assert_true(s->naudit >= 1);
    assert_string_equal(s->audit[0].what, "note");
    assert_string_equal(s->audit[0].item, "raw-1");
    assert_false(s->halted);
}

static void test_follow_and_commands(void **state)
{
    struct fx *f = *state;
    struct redis_addr a = shared_addr();
    const struct room_event *e;
    const struct room_snapshot *s;
    struct bb_item *it = NULL;
    char *cause = NULL;
    size_t mark;

    seed(f);
    start_room(f, &a, 2000);
    fresh(f);
    /* A transition made here shows up as an event. */
    mark = f->nev;
    assert_int_equal(bb_transition(f->bb, "raw-1", BB_ARCHIVED, "not newsworthy", NULL, &cause),
                     BB_OK);
    AWAIT(10, find_event(f, ROOM_EV_BB, "raw-1 PENDING -> ARCHIVED", mark) != NULL);
    e = find_event(f, ROOM_EV_BB, "raw-1 PENDING -> ARCHIVED", mark);
    assert_non_null(strstr(e->text, "not newsworthy"));
    assert_string_equal(e->id, "raw-1");
    AWAIT(10, (pump(f), f->snap->stories_per_min >= 1.0));
    AWAIT(10, (pump(f), f->snap->flow[BB_ARCHIVE][ROOM_FLOW_LEN - 1] > 0 ||
                            f->snap->flow[BB_ARCHIVE][ROOM_FLOW_LEN - 2] > 0 ||
                            f->snap->flow[BB_ARCHIVE][ROOM_FLOW_LEN - 3] > 0));

    /* Approve, then approve again: refused, saying who decided. */
    e = result(f, send(f, ROOM_CMD_APPROVE, "rev-1", "", false, 0));
    assert_true(e->ok);
    assert_string_equal(e->text, "approved rev-1");
    assert_int_equal(bb_read(f->bb, "rev-1", &it, &cause), BB_OK);
    assert_int_equal(it->status, BB_APPROVED);
    bb_item_free(it);
    e = result(f, send(f, ROOM_CMD_APPROVE, "rev-1", "", false, 0));
    assert_false(e->ok);
    assert_non_null(strstr(e->text, "already approved by "));
    /* Reject with no reason: refused before Redis. */
    e = result(f, send(f, ROOM_CMD_REJECT, "rev-2", "", false, 0));
    assert_false(e->ok);
    assert_string_equal(e->text, "reject needs a reason");
    e = result(f, send(f, ROOM_CMD_REVISE, "rev-2", "", false, 0));
    assert_false(e->ok);
    e = result(f, send(f, ROOM_CMD_REJECT, "rev-3", "off topic", false, 0));
    assert_true(e->ok);
    e = result(f, send(f, ROOM_CMD_REVISE, "rev-2", "shorter please", false, 0));
    assert_true(e->ok);
    assert_int_equal(bb_read(f->bb, "rev-2", &it, &cause), BB_OK);
    assert_int_equal(it->status, BB_REJECTED);
    assert_string_equal(it->reason, "revise: shorter please");
    bb_item_free(it);
    /* The audit stream has the decisions, shown in the next snapshot. */
    s = fresh(f);
    assert_true(s->naudit >= 4);
    assert_string_equal(s->audit[0].what, "revise");
    assert_string_equal(s->audit[0].item, "rev-2");
    assert_string_equal(s->audit[0].reason, "shorter please");
    assert_string_equal(s->audit[2].what, "approve");

    /* Emergency with halt; resume. */
    e = result(f, send(f, ROOM_CMD_EMERGENCY, NULL, "stop the presses", true, 0));
    assert_true(e->ok);
    AWAIT(10, (pump(f), f->snap->halted));
    assert_string_equal(f->snap->halt_message, "stop the presses");
    /* The broadcast itself reaches every control room as an alert. */
    AWAIT(10, find_event(f, ROOM_EV_ALERT, "EMERGENCY", 0) != NULL);
    assert_non_null(strstr(find_event(f, ROOM_EV_ALERT, "EMERGENCY", 0)->text, "stop the presses"));
    /* A circuit breaker another process opens reaches the room as an alert too. */
    {
        const char *argv[] = {"sync",
                              BREAKER_PREFIX,
                              BREAKER_SET_KEY,
                              BREAKER_EVENTS_KEY,
                              "100",
                              "1",
                              "60000",
                              "30000",
                              "2",
                              "2",
                              "llm:test@room",
                              "1",
                              "0",
                              "0",
                              "HTTP 503 from the room test"};
        redisReply *r =
            rlink_eval(f->l, &lua_breaker, 0, sizeof argv / sizeof argv[0], argv, &cause);

        assert_non_null(r);
        freeReplyObject(r);
        AWAIT(10, find_event(f, ROOM_EV_ALERT, "breaker llm:test@room: closed -> open", 0) != NULL);
        /* And the snapshot carries it while it is not closed, with when it tries again. */
        AWAIT(10, (pump(f), f->snap->nbreakers == 1));
        assert_string_equal(f->snap->breakers[0].name, "llm:test@room");
        assert_string_equal(f->snap->breakers[0].state, "open");
        assert_true(f->snap->breakers[0].next_ms > f->snap->breakers[0].changed_ms);
        assert_int_equal(f->snap->breakers[0].opens, 1);
        assert_string_equal(f->snap->breakers[0].last_error, "HTTP 503 from the room test");
    }
    /* Another halt is refused while this one is in force, saying whose it is. */
    e = result(f, send(f, ROOM_CMD_HALT, NULL, "second halt", false, 0));
    assert_false(e->ok);
    assert_non_null(strstr(e->text, "already halted by"));
    e = result(f, send(f, ROOM_CMD_EMERGENCY, NULL, "", false, 0));
    assert_false(e->ok);
    /* A resume of a halt this operator did not see lifts nothing. */
    e = result(f, send(f, ROOM_CMD_RESUME, NULL, "stale", false, f->snap->halt_ms - 1));
    assert_false(e->ok);
    assert_non_null(strstr(e->text, "since you looked"));
    e = result(f, send(f, ROOM_CMD_RESUME, NULL, "all clear", false, f->snap->halt_ms));
    assert_true(e->ok);
    assert_non_null(strstr(e->text, "resumed"));
    AWAIT(10, (pump(f), !f->snap->halted));

    /* Grant and decline. */
    s = fresh(f);
    assert_int_equal(s->nrequests, 1);
    {
        char rid[32];

        snprintf(rid, sizeof rid, "%s", s->requests[0].id);
        e = result(f, send(f, ROOM_CMD_GRANT, rid, NULL, false, 0));
        assert_true(e->ok);
        e = result(f, send(f, ROOM_CMD_DECLINE, rid, NULL, false, 0));
        assert_false(e->ok); /* decided already */
    }
    AWAIT(10, (pump(f), f->snap->nrequests == 0));
    e = result(f, send(f, ROOM_CMD_DECLINE, "999999", NULL, false, 0));
    assert_false(e->ok);

    /* The dead set: a FAILED story requeued at its step, once. */
    put(f, "dead-1", "A failed story", BB_PENDING, NULL);
    {
        int ended = -1;

        assert_int_equal(bb_fail(f->bb, "dead-1", NULL, "model refused", 1, &ended, &cause), BB_OK);
        assert_int_equal(ended, BB_FAILED);
    }
    e = result(f, send(f, ROOM_CMD_REQUEUE, "dead-1", "", false, 0));
    assert_true(e->ok);
    assert_string_equal(e->text, "requeued dead-1 at step analyze");
    assert_int_equal(bb_read(f->bb, "dead-1", &it, &cause), BB_OK);
    assert_int_equal(it->status, BB_PENDING);
    bb_item_free(it);
    e = result(f, send(f, ROOM_CMD_REQUEUE, "dead-1", "", false, 0));
    assert_false(e->ok);
    assert_non_null(strstr(e->text, "only a FAILED story"));
}

/* The dead set through the worker: pages newest failure first, filtered and offset on the
 * server, the step read from the checkpoints when the story does not name it, titles made safe;
 * a FAILED story's detail; requeue all, each audited. */
static void test_dead_set(void **state)
{
    struct fx *f = *state;
    struct redis_addr a = shared_addr();
    struct room_failed_page *p;
    const struct room_event *e;
    struct room_detail *d;
    struct bb_lock lk;
    struct bb_item *it = NULL;
    char *cause = NULL;
    int ended = -1;

    put(f, "dead-a", "Harbour crane collapses", BB_PENDING, NULL);
    put(f, "dead-b", "Council delays the vote", BB_PENDING, NULL);
    /* dead-a and dead-b as an agent fails them: claimed (step analyze), two attempts each. */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(bb_claim_item(f->bb, BB_PENDING, BB_PROCESSING, 60000, &lk, &it, &cause),
                         BB_OK);
        bb_item_free(it);
        it = NULL;
        assert_int_equal(bb_fail(f->bb, lk.id, &lk, "no JSON in the answer", 2, &ended, &cause),
                         BB_OK);
    }
    assert_int_equal(ended, BB_FAILED);
    put(f, "dead-c", "Storm floods the path", BB_PENDING, NULL);
    put(f, "alive-1", "A story still pending", BB_PENDING, NULL);
    /* dead-c moved to FAILED by hand: no step of its own; its checkpoints say analyze. */
    assert_int_equal(bb_transition(f->bb, "dead-c", BB_FAILED, "by hand", NULL, &cause), BB_OK);
    freeReplyObject(test_must(f->l, "HSET nr:bb:item:dead-c f:title %s",
                              "\"Storm \\u001b]0;pwned\\u0007 floods\""));
    freeReplyObject(test_must(f->l, "HSET nr:bb:item:dead-c fail_reason %s", "disk \x1b[2J full"));
    start_room(f, &a, 2000);

    p = failed(f, "", 0);
    assert_int_equal(p->total, 3);
    assert_int_equal(p->matching, 3);
    assert_int_equal(p->nrows, 3);
    assert_string_equal(p->rows[0].id, "dead-c"); /* the newest failure first */
    assert_string_equal(p->rows[0].step, "analyze");
    assert_null(strchr(p->rows[0].title, '\x1b'));
    assert_null(strchr(p->rows[0].title, '\a'));
    assert_non_null(strstr(p->rows[0].title, "pwned"));
    assert_null(strchr(p->rows[0].error, '\x1b'));
    for (size_t i = 1; i < 3; i++) {
        assert_string_equal(p->rows[i].step, "analyze");
        assert_int_equal(p->rows[i].attempts, 2);
        assert_string_equal(p->rows[i].error, "no JSON in the answer");
        assert_true(p->rows[i].failed_ms > 0);
        assert_true(p->rows[i].failed_ms <= p->rows[0].failed_ms);
    }
    room_failed_page_free(p);
    /* The filter searches titles, steps and errors on the server; an offset pages. */
    p = failed(f, "COUNCIL", 0);
    assert_int_equal(p->total, 3);
    assert_int_equal(p->matching, 1);
    assert_string_equal(p->rows[0].id, "dead-b");
    room_failed_page_free(p);
    p = failed(f, "no json", 1);
    assert_int_equal(p->matching, 2);
    assert_int_equal(p->offset, 1);
    assert_int_equal(p->nrows, 1);
    room_failed_page_free(p);
    p = failed(f, "", 2);
    assert_int_equal(p->nrows, 1);
    room_failed_page_free(p);

    /* A FAILED story's detail names the step that failed, for u in the detail. */
    e = result(f, send(f, ROOM_CMD_DETAIL, "dead-a", NULL, true, 0));
    assert_true(e->ok);
    d = room_take_detail(f->room);
    assert_non_null(d);
    assert_string_equal(d->failed_step, "analyze");
    assert_int_equal(d->attempts, 2);
    assert_string_equal(d->fail_reason, "no JSON in the answer");
    assert_non_null(strstr(d->section[ROOM_SEC_DECISION], "FAILED at step analyze after 2"));
    assert_non_null(strstr(d->section[ROOM_SEC_DECISION], "no JSON in the answer"));
    room_detail_free(d);

    /* Requeue all: every one back, each audited; the count told differs from what was done. */
    e = result(f, send(f, ROOM_CMD_REQUEUE_ALL, NULL, NULL, false, 4));
    assert_true(e->ok);
    assert_string_equal(e->text, "requeued 3 failed stories, each at the step that failed (4 "
                                 "were failed when you asked)");
    p = failed(f, "", 0);
    assert_int_equal(p->total, 0);
    assert_int_equal(p->nrows, 0);
    room_failed_page_free(p);
    {
        struct audit_entry *ae = NULL;
        size_t n = 0, requeues = 0;

        assert_int_equal(audit_read(f->l, 10, &ae, &n, &cause), 0);
        for (size_t i = 0; i < n; i++)
            requeues += strcmp(ae[i].what, "requeue") == 0;
        assert_int_equal(requeues, 3);
        audit_entries_free(ae, n);
    }
    e = result(f, send(f, ROOM_CMD_REQUEUE_ALL, NULL, NULL, false, 0));
    assert_true(e->ok);
    assert_string_equal(e->text, "no failed story to requeue");
}

static void test_detail(void **state)
{
    struct fx *f = *state;
    struct redis_addr a = shared_addr();
    const struct room_event *e;
    struct room_detail *d;
    char *cause = NULL;

    seed(f);
    {
        json_t *patch =
            json_pack("{s:{s:b, s:f, s:f, s:s, s:[{s:s, s:s, s:f, s:s}]}}", "consensus", "reached",
                      1, "score", 0.75, "threshold", 0.6, "by", "moderator-1", "votes", "agent",
                      "debater-1", "vote", "for", "confidence", 0.9, "reasoning", "solid \x1b[31m");

        assert_int_equal(bb_update(f->bb, "rev-1", patch, NULL, &cause), BB_OK);
        json_decref(patch);
        /* Its pictures, as the visual chain records them on the package's shots (a credit from
         * outside with an escape sequence in it). */
        patch = json_pack(
            "{s:{s:f, s:s, s:[{s:s, s:i, s:{s:s, s:s, s:s}}, {s:s, s:i, s:{s:s, s:s, s:s}}, "
            "{s:s, s:i, s:{s:s, s:s, s:s}}]}}",
            "package", "duration_s", 42.5, "captions_srt",
            "1\n00:00:00,000 --> 00:00:04,000\nHello\n", "shots", "kind", "title_card", "start_ms",
            0, "picture", "source", "feed", "label", "feed image", "credit",
            "Image: Ana \x1b[7mLopez / Valley Herald", "kind", "key_fact", "start_ms", 62000,
            "picture", "source", "chart", "label", "chart", "credit", "Chart: Newsroom", "kind",
            "narration", "start_ms", 70000, "picture", "source", "text", "label", "text slide",
            "credit", "");
        assert_int_equal(bb_update(f->bb, "rev-1", patch, NULL, &cause), BB_OK);
        json_decref(patch);
    }
    start_room(f, &a, 2000);
    e = result(f, send(f, ROOM_CMD_DETAIL, "rev-1", NULL, false, 0));
    assert_int_equal(e->kind, ROOM_EV_DETAIL);
    assert_true(e->ok);
    d = room_take_detail(f->room);
    assert_non_null(d);
    assert_true(d->found);
    assert_null(d->error);
    /* The decision first: title, source and URL, priority, length, cost, QA, the video. */
    {
        const char *dec = d->section[ROOM_SEC_DECISION];

        assert_non_null(strstr(dec, "title     Ready for review"));
        assert_non_null(strstr(dec, "source    Wire  https://example.com/a"));
        assert_non_null(strstr(dec, "priority  none (counts as 0)   length 0:42   cost $"));
        assert_non_null(strstr(dec, "QA        "));
        assert_non_null(strstr(dec, "score 8.5 of 10"));
        assert_non_null(strstr(dec, "video     storyboard only: no video was rendered"));
        /* Each shot: what it shows, and its credit. */
        assert_non_null(strstr(dec, "pictures  feed image 1, chart 1, text slide 1"));
        assert_non_null(strstr(dec, "  shot 1 0:00 feed image   Image: Ana ?[7mLopez / Valley "
                                    "Herald"));
        assert_non_null(strstr(dec, "  shot 2 1:02 chart        Chart: Newsroom"));
        assert_null(strstr(dec, "shot 3"));
        assert_non_null(strstr(dec, "status    awaiting your decision since "));
        assert_true(d->reviewing);
        assert_string_equal(d->preview_url, ""); /* no rendered video: no preview */
        assert_false(d->frames_coming);
    }
    assert_string_equal(d->section[ROOM_SEC_SCRIPT], "Line one.\nLine two.");
    assert_non_null(strstr(d->section[ROOM_SEC_CAPTIONS], "00:00:00,000 --> 00:00:04,000\nHello"));
    assert_non_null(strstr(d->section[ROOM_SEC_WIRE], "Body of the story."));
    assert_non_null(
        strstr(d->section[ROOM_SEC_DEBATE], "vote debater-1: for (confidence 0.90) solid ?[31m"));
    assert_non_null(strstr(d->section[ROOM_SEC_DEBATE], "qa          round -: -, score 8.50"));
    for (int i = 0; i < ROOM_SEC_COUNT; i++)
        assert_null(strchr(d->section[i], '\x1b'));
    assert_non_null(
        strstr(d->section[ROOM_SEC_HISTORY], "write rev-1 REVIEWING in REVIEW_QUEUE by test"));
    assert_non_null(strstr(d->section[ROOM_SEC_HISTORY], "update rev-1"));
    assert_true(strstr(d->section[ROOM_SEC_HISTORY], "write rev-1") <
                strstr(d->section[ROOM_SEC_HISTORY], "update rev-1"));
    room_detail_free(d);

    /* Who decided a story: nobody yet, then the full "already approved by NAME at TIME". */
    e = result(f, send(f, ROOM_CMD_DECIDED, "rev-1", NULL, false, 0));
    assert_false(e->ok);
    e = result(f, send(f, ROOM_CMD_APPROVE, "rev-1", "", false, 0));
    assert_true(e->ok);
    e = result(f, send(f, ROOM_CMD_DECIDED, "rev-1", NULL, false, 0));
    assert_true(e->ok);
    assert_non_null(strstr(e->text, "already approved by "));
    assert_non_null(strstr(e->text, " at 20"));
    assert_non_null(strstr(e->text, "story rev-1"));

    e = result(f, send(f, ROOM_CMD_DETAIL, "nope-1", NULL, false, 0));
    assert_false(e->ok);
    d = room_take_detail(f->room);
    assert_non_null(d);
    assert_false(d->found);
    assert_non_null(d->error);
    room_detail_free(d);
}

/* The open request of agent's limit `limit`, or NULL. */
static const struct room_request *request_of(const struct room_snapshot *s, const char *agent)
{
    for (size_t i = 0; i < s->nrequests; i++)
        if (strcmp(s->requests[i].agent, agent) == 0)
            return &s->requests[i];
    return NULL;
}

static void req_field(struct fx *f, const char *id, const char *field, const char *want)
{
    char key[64];
    redisReply *r;

    snprintf(key, sizeof key, "nr:cost:req:%s", id);
    r = test_must(f->l, field[0] == 's' ? "HGET %s status" : "HGET %s closed_why", key);

    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_string_equal(r->str, want);
    freeReplyObject(r);
}

/* Budget requests that behave: a decline holds for the rest of its window; a request closes
 * by itself when its limit is raised or lifted, when its agent is gone, and (the swarm's
 * global limit) when a call passes under a raised one. */
static void test_budget_requests(void **state)
{
    struct fx *f = *state;
    struct redis_addr a = shared_addr();
    struct budget_options bo;
    struct budget_refusal ref;
    struct budget_limits lim = {.daily = 100};
    const struct room_event *e;
    const struct room_snapshot *s;
    char rid[BUDGET_ID_MAX], id[32], *cause = NULL, day[USAGE_DAY_LEN], hour[USAGE_HOUR_LEN];
    redisReply *r;

    seed(f);
    budget_options_from_config(&bo, f->cfg);
    start_room(f, &a, 2000);
    s = fresh(f);
    assert_non_null(request_of(s, "writer-1"));
    snprintf(id, sizeof id, "%s", request_of(s, "writer-1")->id);
    e = result(f, send(f, ROOM_CMD_DECLINE, id, NULL, false, 0));
    assert_true(e->ok);
    /* Refused again in the same window: no new request, the declined one named. */
    assert_int_equal(
        budget_reserve(f->l, &bo, clock_wall_ms(), "writer-1", "rev-3", 5000, rid, &ref, &cause),
        1);
    assert_string_equal(ref.request_id, id);
    usage_windows(clock_wall_ms(), day, hour);
    (void)hour;
    r = test_must(f->l, "PTTL nr:cost:req:declined:writer-1|agent_daily|%s", day);
    assert_true(r->integer > 0 && r->integer <= 86400000);
    freeReplyObject(r);
    s = fresh(f);
    assert_null(request_of(s, "writer-1"));
    assert_false(must_agent(s, "writer-1")->budget_wait);

    /* Raised: analyst-1's request closes once its daily limit is above what refused it. */
    assert_int_equal(budget_set_limits(f->l, "analyst-1", &lim, BUDGET_SET_DAILY, &cause), 0);
    assert_int_equal(
        budget_reserve(f->l, &bo, clock_wall_ms(), "analyst-1", "raw-2", 500, rid, &ref, &cause),
        1);
    AWAIT(10, (pump(f), request_of(f->snap, "analyst-1") != NULL));
    assert_true(must_agent(f->snap, "analyst-1")->budget_wait);
    lim.daily = 10000;
    assert_int_equal(budget_set_limits(f->l, "analyst-1", &lim, BUDGET_SET_DAILY, &cause), 0);
    AWAIT(10, (pump(f), request_of(f->snap, "analyst-1") == NULL));
    req_field(f, ref.request_id, "status", "closed");
    req_field(f, ref.request_id, "closed_why", "the limit was raised");

    /* Lifted: a limit set to 0 (none). */
    lim.daily = 100;
    assert_int_equal(budget_set_limits(f->l, "analyst-1", &lim, BUDGET_SET_DAILY, &cause), 0);
    assert_int_equal(
        budget_reserve(f->l, &bo, clock_wall_ms(), "analyst-1", "raw-2", 50000, rid, &ref, &cause),
        1);
    AWAIT(10, (pump(f), request_of(f->snap, "analyst-1") != NULL));
    lim.daily = 0;
    assert_int_equal(budget_set_limits(f->l, "analyst-1", &lim, BUDGET_SET_DAILY, &cause), 0);
    AWAIT(10, (pump(f), request_of(f->snap, "analyst-1") == NULL));
    req_field(f, ref.request_id, "closed_why", "the limit was lifted");

    /* Its agent gone: the registry record removed. */
    reg(f->l, "qa-9", "qa", 60000);
    lim.daily = 100;
    assert_int_equal(budget_set_limits(f->l, "qa-9", &lim, BUDGET_SET_DAILY, &cause), 0);
    assert_int_equal(
        budget_reserve(f->l, &bo, clock_wall_ms(), "qa-9", "raw-2", 500, rid, &ref, &cause), 1);
    AWAIT(10, (pump(f), request_of(f->snap, "qa-9") != NULL));
    freeReplyObject(test_must(f->l, "DEL nr:agent:%s", "qa-9"));
    AWAIT(10, (pump(f), request_of(f->snap, "qa-9") == NULL));
    req_field(f, ref.request_id, "closed_why", "its agent is gone");

    /* The swarm's global limit: its request closes when a call passes under a raised one. */
    bo.global_daily = 100; /* 300 spent today already */
    assert_int_equal(
        budget_reserve(f->l, &bo, clock_wall_ms(), "analyst-1", "raw-2", 50, rid, &ref, &cause), 1);
    assert_string_equal(ref.limit, "global_daily");
    AWAIT(10, (pump(f), request_of(f->snap, "*") != NULL));
    bo.global_daily = 1000000;
    assert_int_equal(
        budget_reserve(f->l, &bo, clock_wall_ms(), "analyst-1", "raw-2", 50, rid, &ref, &cause), 0);
    req_field(f, ref.request_id, "status", "closed");
    req_field(f, ref.request_id, "closed_why", "the limit was raised");
    AWAIT(10, (pump(f), request_of(f->snap, "*") == NULL));
}

/* ---- link loss, on a private server ---- */

static int private_setup(void **state)
{
    if (test_private_start(NULL) == -1)
        return -1;
    return setup(state);
}

static int private_teardown(void **state)
{
    teardown(state);
    test_private_stop();
    return 0;
}

static void test_link_loss(void **state)
{
    struct fx *f = *state;
    const struct rlink_options lo = {.connect_timeout_ms = 1000,
                                     .command_timeout_ms = 1000,
                                     .reconnect_base_ms = 20,
                                     .reconnect_max_ms = 200,
                                     .client_name = "test_room_private"};
    struct rlink *pl = rlink_new(test_private_addr(), &lo);
    struct bb *pb = bb_new(pl, "test");
    const struct room_event *down, *up;
    char *cause = NULL;
    size_t mark;
    int64_t since = 0;

    bb_free(f->bb);
    f->bb = pb;
    start_room(f, test_private_addr(), 1000);
    AWAIT(10, find_event(f, ROOM_EV_LINK, NULL, 0) != NULL && room_link_ok(f->room, NULL));
    fresh(f);
    mark = f->nev;
    assert_int_equal(kill(test_private()->pid, SIGSTOP), 0);
    AWAIT(15, (down = find_event(f, ROOM_EV_LINK, NULL, mark)) != NULL);
    assert_false(down->ok);
    assert_false(room_link_ok(f->room, &since));
    assert_true(since > 0);
    assert_int_equal(kill(test_private()->pid, SIGCONT), 0);
    /* Written while the feed may still be reconnecting: none of it is lost. */
    put(f, "late-1", "Late one", BB_PENDING, NULL);
    put(f, "late-2", "Late two", BB_PENDING, NULL);
    AWAIT(15, (up = find_event(f, ROOM_EV_LINK, "back", mark)) != NULL);
    assert_true(up->ok);
    assert_true(room_link_ok(f->room, NULL));
    AWAIT(10, find_event(f, ROOM_EV_BB, "write late-1", mark) != NULL &&
                  find_event(f, ROOM_EV_BB, "write late-2", mark) != NULL);
    /* Exactly one "down" report for the outage. */
    {
        int downs = 0;

        for (size_t i = mark; i < f->nev; i++)
            if (f->ev[i].kind == ROOM_EV_LINK && !f->ev[i].ok)
                downs++;
        assert_int_equal(downs, 1);
    }
    room_free(f->room);
    f->room = NULL;
    f->bb = NULL;
    bb_free(pb);
    rlink_free(pl);
    free(cause);
}

int main(void)
{
    const struct CMUnitTest shared[] = {
        cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_and_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_set, setup, teardown),
    };
    const struct CMUnitTest priv[] = {
        cmocka_unit_test_setup_teardown(test_link_loss, private_setup, private_teardown),
    };
    int failed;

    signal(SIGPIPE, SIG_IGN);
    failed = cmocka_run_group_tests_name("room", shared, NULL, NULL);
    return failed + cmocka_run_group_tests_name("room_link", priv, NULL, NULL);
}
