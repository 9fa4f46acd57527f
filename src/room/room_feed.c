/*
 * room_feed.c - the room's feed thread: every period it builds a struct room_snapshot of the
 * swarm and hands it to the UI (room.c's atomic hand-over, then a ROOM_EV_SNAPSHOT event);
 * between snapshots it follows nr:bb:events with bb_events_read() and pushes each event as
 * ROOM_EV_BB, and once a period it reads new budget alerts from nr:cost:events and circuit
 * breaker transitions from nr:breaker:events (both ROOM_EV_ALERT); the snapshot carries every
 * breaker that is not closed (breaker_list()).
 *
 * The link: when a command fails because the link went down, the feed pushes ROOM_EV_LINK
 * (ok false) once, retries (rlink reconnects with its backoff) and pushes ROOM_EV_LINK (ok
 * true) when it is back; it then reads the events on from the last stream id it saw, so
 * nothing still in the stream is lost.
 *
 * Threads: everything here is the feed thread's own (its link, the flow and spend history);
 * it shares only what room_int.h names with the UI.
 */
#include "room/room_int.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/ring.h"
#include "cost/budget.h"
#include "cost/money.h"
#include "feeds/feed_store.h"
#include "observe/tracer.h"
#include "recovery/breaker.h"
#include "store/audit.h"
#include "store/control.h"
#include "store/debate.h"
#include "store/registry.h"
#include "store/rlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FEED_EVENTS_MAX   128 /* blackboard events per read */
#define FEED_BACKLOG      32  /* events shown from before the room started */
#define FEED_DEBATES_OPEN 50
#define FEED_DEBATES_DONE 20
#define FEED_REQUESTS     100
#define FEED_AUDIT        100
#define TERM_MAX          4096 /* times of the latest stories that entered PUBLISHED/ARCHIVE */
#define SPEND_MAX         128  /* global spend samples, one every SPEND_EVERY_MS at most */
#define SPEND_EVERY_MS    5000
#define SPEND_SPAN_MS     (10 * 60 * 1000)

struct spend_sample {
    int64_t mono, spent;
    char day[USAGE_DAY_LEN];
};

struct feed {
    struct room *r;
    struct rlink *l;
    struct bb *bb;
    struct registry *reg;
    struct budget_options bo;
    bool ready;       /* the stream positions are known */
    bool reported_ok; /* the link state last told to the UI */
    bool told;        /* any link state told yet */
    bool backlog;     /* the next events read are from before the room started */
    char sid[32];     /* last nr:bb:events id seen */
    char cost_sid[32];
    char breaker_sid[32];
    uint16_t flow[BB_SECTION_COUNT][ROOM_FLOW_LEN]; /* oldest first */
    uint32_t entered[BB_SECTION_COUNT];             /* since the last snapshot */
    int64_t term[TERM_MAX];                         /* server ms, a ring */
    size_t term_next, term_n;
    struct spend_sample spend[SPEND_MAX]; /* a ring, oldest at spend_first */
    size_t spend_first, spend_n;
    uint64_t seq;
};

static bool stopping(const struct feed *f)
{
    return atomic_load(&f->r->stop) != 0;
}

/* The link went down (or stays down): tell the UI once. */
static void link_down(struct feed *f)
{
    if (f->told && !f->reported_ok)
        return;
    atomic_store(&f->r->down_since, clock_mono_ms());
    atomic_store(&f->r->link_ok, false);
    f->told = true;
    f->reported_ok = false;
    room_push(f->r, ROOM_EV_LINK, false, 0, clock_wall_ms(), "link", NULL, NULL,
              "the Redis link is down; retrying");
}

static void link_up(struct feed *f)
{
    if (f->told && f->reported_ok)
        return;
    atomic_store(&f->r->link_ok, true);
    atomic_store(&f->r->down_since, 0);
    f->reported_ok = true;
    room_push(f->r, ROOM_EV_LINK, true, 0, clock_wall_ms(), "link", NULL, NULL,
              f->told ? "the Redis link is back" : "the Redis link is up");
    f->told = true;
}

/* After a failed command: whether the link itself is down (not just an error reply). */
static bool failed_link(struct feed *f, char *cause)
{
    free(cause);
    return !rlink_connected(f->l);
}

/* The id from which to follow a stream: before its newest `keep` entries ("0-0" when it has
 * no more than that). */
static int stream_start(struct feed *f, const char *key, int keep, char *sid, size_t size)
{
    char *cause = NULL, count[16];
    redisReply *r;

    snprintf(count, sizeof count, "%d", keep + 1);
    r = rlink_command(f->l, &cause, "XREVRANGE %s + - COUNT %s", key, count);
    if (r == NULL) {
        free(cause);
        return -1;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == (size_t)keep + 1)
        snprintf(sid, size, "%s", r->element[keep]->element[0]->str);
    else if (keep == 0 && r->type == REDIS_REPLY_ARRAY && r->elements == 1)
        snprintf(sid, size, "%s", r->element[0]->element[0]->str);
    else
        snprintf(sid, size, "0-0");
    freeReplyObject(r);
    return 0;
}

/* Which section an event moved its story into, or -1 when it stayed where it was. */
static int entered_section(const struct bb_event *ev)
{
    int sec = bb_section_parse(ev->section), from, to;

    if (sec < 0)
        return -1;
    if (strcmp(ev->kind, "write") == 0)
        return sec;
    from = bb_status_parse(ev->from);
    to = bb_status_parse(ev->to);
    if (from < 0 || to < 0 || from == to || bb_statuses[to].section == BB_SECTION_KEEP)
        return -1;
    if (bb_statuses[from].section != BB_SECTION_KEEP && bb_statuses[from].section == sec)
        return -1;
    return sec;
}

static void count_event(struct feed *f, const struct bb_event *ev)
{
    int sec = entered_section(ev);

    if (sec < 0)
        return;
    if (!f->backlog)
        f->entered[sec]++;
    if (sec == BB_PUBLISHED || sec == BB_ARCHIVE) {
        f->term[f->term_next] = ev->t_ms;
        f->term_next = (f->term_next + 1) % TERM_MAX;
        if (f->term_n < TERM_MAX)
            f->term_n++;
    }
}

/* Reads and pushes the blackboard events after f->sid, waiting up to block_ms for the
 * first. Returns 0, or -1 when the link failed. */
static int follow(struct feed *f, int block_ms)
{
    struct bb_event ev[FEED_EVENTS_MAX];
    size_t n = 0;
    char *cause = NULL;

    if (bb_events_read(f->bb, f->sid, block_ms, ev, FEED_EVENTS_MAX, &n, &cause) != BB_OK)
        return failed_link(f, cause) ? -1 : 0;
    for (size_t i = 0; i < n; i++) {
        char line[ROOM_TEXT_MAX * 2];

        _Static_assert(sizeof f->sid == sizeof ev[i].sid, "stream ids of one size");
        memcpy(f->sid, ev[i].sid, sizeof f->sid); /* NUL-terminated within its size */
        count_event(f, &ev[i]);
        room_bb_line(&ev[i], line, sizeof line);
        room_push(f->r, ROOM_EV_BB, true, 0, ev[i].t_ms, ev[i].kind, ev[i].id, ev[i].by, line);
    }
    f->backlog = false;
    return 0;
}

/* New budget alerts, as ROOM_EV_ALERT. Returns 0, or -1 when the link failed. */
static int follow_alerts(struct feed *f)
{
    char *cause = NULL;
    redisReply *r =
        rlink_command(f->l, &cause, "XREAD COUNT 64 STREAMS %s %s", BUDGET_EVENTS_KEY, f->cost_sid);

    if (r == NULL)
        return failed_link(f, cause) ? -1 : 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        const redisReply *entries = r->element[0]->element[1];

        for (size_t i = 0; i < entries->elements; i++) {
            const redisReply *e = entries->element[i], *h = e->element[1];
            const char *agent = rlink_reply_field(h, "agent");
            char text[ROOM_TEXT_MAX], spent[MONEY_BUF], cap[MONEY_BUF];

            snprintf(f->cost_sid, sizeof f->cost_sid, "%s", e->element[0]->str);
            snprintf(
                text, sizeof text, "budget alert: %s %s %s spent %s of %s",
                strcmp(agent, "*") == 0 ? "the swarm's" : agent, rlink_reply_field(h, "limit"),
                rlink_reply_field(h, "window"),
                money_format(strtoll(rlink_reply_field(h, "spent"), NULL, 10), spent, sizeof spent),
                money_format(strtoll(rlink_reply_field(h, "cap"), NULL, 10), cap, sizeof cap));
            room_push(f->r, ROOM_EV_ALERT, true, 0, strtoll(rlink_reply_field(h, "t"), NULL, 10),
                      "alert", NULL, agent, text);
        }
    }
    freeReplyObject(r);
    return 0;
}

/* New circuit breaker transitions, as ROOM_EV_ALERT ("breaker NAME: closed -> open: why").
 * Returns 0, or -1 when the link failed. */
static int follow_breakers(struct feed *f)
{
    char *cause = NULL;
    redisReply *r = rlink_command(f->l, &cause, "XREAD COUNT 64 STREAMS %s %s", BREAKER_EVENTS_KEY,
                                  f->breaker_sid);

    if (r == NULL)
        return failed_link(f, cause) ? -1 : 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        const redisReply *entries = r->element[0]->element[1];

        for (size_t i = 0; i < entries->elements; i++) {
            const redisReply *e = entries->element[i], *h = e->element[1];
            char text[ROOM_TEXT_MAX];

            snprintf(f->breaker_sid, sizeof f->breaker_sid, "%s", e->element[0]->str);
            snprintf(text, sizeof text, "breaker %s: %s -> %s: %s", rlink_reply_field(h, "name"),
                     rlink_reply_field(h, "from"), rlink_reply_field(h, "to"),
                     rlink_reply_field(h, "why"));
            room_push(f->r, ROOM_EV_ALERT, true, 0, strtoll(rlink_reply_field(h, "t"), NULL, 10),
                      "breaker", NULL, "breakers", text);
        }
    }
    freeReplyObject(r);
    return 0;
}

/* ---- the snapshot, part by part; each returns 0, or -1 when the link failed ---- */

/* The statuses in which an agent holds a story under its lock. */
static const int working[] = {BB_PROCESSING, BB_PRODUCING, BB_REVIEWING,
                              BB_APPROVED,   BB_REJECTED,  BB_FAILED};
#define NWORKING ((int)(sizeof working / sizeof working[0]))

static int snap_items(struct feed *f, struct room_snapshot *s, redisReply **held)
{
    char limit[16], nw[8], *cause = NULL;
    const char *argv[5 + NWORKING + BB_SECTION_COUNT];
    redisReply *r;
    size_t total = 0;
    int argc = 0;

    snprintf(limit, sizeof limit, "%d", ROOM_ITEMS_MAX);
    snprintf(nw, sizeof nw, "%d", NWORKING);
    argv[argc++] = BB_PREFIX;
    argv[argc++] = COST_PREFIX;
    argv[argc++] = limit;
    argv[argc++] = bb_statuses[BB_REVIEWING].name;
    argv[argc++] = nw;
    for (int i = 0; i < NWORKING; i++)
        argv[argc++] = bb_statuses[working[i]].name;
    for (int i = 0; i < BB_SECTION_COUNT; i++)
        argv[argc++] = bb_section_names[i];
    r = rlink_eval(f->l, &lua_room_items, 0, argc, argv, &cause);
    if (r == NULL)
        return failed_link(f, cause) ? -1 : 0;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 + BB_SECTION_COUNT) {
        freeReplyObject(r);
        return 0;
    }
    s->taken_ms = r->element[0]->integer;
    s->review_oldest_ms = strtoll(rlink_reply_str(r, 1), NULL, 10);
    for (size_t k = 3; k < r->elements; k++)
        total += r->element[k]->elements;
    s->items = xcalloc(total + 1, sizeof *s->items);
    for (size_t k = 3; k < r->elements; k++) {
        const redisReply *list = r->element[k];

        for (size_t i = 0; i < list->elements; i++) {
            const redisReply *e = list->element[i];
            struct room_item *it = &s->items[s->nitems++];

            room_copy_safe(it->id, sizeof it->id, rlink_reply_str(e, 0));
            it->status = bb_status_parse(rlink_reply_str(e, 1));
            it->section = bb_section_parse(rlink_reply_str(e, 2));
            room_copy_safe(it->owner, sizeof it->owner, rlink_reply_str(e, 3));
            it->updated_ms = rlink_reply_int(e, 4);
            it->created_ms = rlink_reply_int(e, 5);
            it->attempts = (int)rlink_reply_int(e, 6);
            room_copy_safe(it->title, sizeof it->title, rlink_reply_str(e, 7));
        }
    }
    /* The held stories stay for snap_agents(), which names each agent's. */
    *held = r;
    return 0;
}

/* The flow: every stage's depth against its mark (bb_flow_read), and which holds it back. */
static int snap_flow_stages(struct feed *f, struct room_snapshot *s)
{
    struct bb_flow_reading fr;
    char *cause = NULL;

    s->flow_holding = -1;
    if (bb_flow_read(f->bb, NULL, NULL, &fr, &cause) != BB_OK)
        return failed_link(f, cause) ? -1 : 0;
    for (int i = 0; i < BB_FLOW_COUNT; i++) {
        s->flow_depth[i] = fr.depth[i];
        /* A swarm's heart publishes the marks it enforces; without one, this room's own. */
        s->flow_hwm[i] = fr.hwm[i] >= 0        ? fr.hwm[i]
                         : f->r->o.cfg != NULL ? f->r->o.cfg->flow_hwm[i]
                                               : 0;
    }
    s->flow_holding = bb_flow_holding(s->flow_depth, s->flow_hwm);
    return 0;
}

/* The feed sources' states (feed_store_list). */
static int snap_feeds(struct feed *f, struct room_snapshot *s)
{
    char *cause = NULL;
    json_t *list = feed_store_list(f->l, &cause), *src;
    size_t i;

    if (list == NULL)
        return failed_link(f, cause) ? -1 : 0;
    json_array_foreach(list, i, src)
    {
        const char *st = json_string_value(json_object_get(src, "status"));

        s->feeds++;
        if (st != NULL && strcmp(st, "error") == 0 && s->feeds_error++ == 0) {
            char line[ROOM_TEXT_MAX * 2];

            const char *name = json_string_value(json_object_get(src, "source"));
            const char *why = json_string_value(json_object_get(src, "error"));

            snprintf(line, sizeof line, "%s: %s", name != NULL ? name : "?",
                     why != NULL ? why : "?");
            room_copy_safe(s->feed_error, sizeof s->feed_error, line);
        }
    }
    json_decref(list);
    return 0;
}

/* What the swarm's trace exporters report (TRACE_STATUS_KEY). */
static int snap_tracing(struct feed *f, struct room_snapshot *s)
{
    char *cause = NULL, line[ROOM_TEXT_MAX];

    if (tracer_status_summary(f->l, clock_wall_ms(), line, sizeof line, &cause) == -1)
        return failed_link(f, cause) ? -1 : 0;
    room_copy_safe(s->tracing, sizeof s->tracing, line);
    return 0;
}

static int snap_halt(struct feed *f, struct room_snapshot *s)
{
    struct control_halt h;
    char *cause = NULL, by[ROOM_NAME_MAX];

    if (control_halt_read(f->l, &h, &cause) == -1)
        return failed_link(f, cause) ? -1 : 0;
    s->halted = h.halted;
    if (h.halted) {
        snprintf(by, sizeof by, "%s@%s", h.user != NULL ? h.user : "?",
                 h.from != NULL ? h.from : "?");
        room_copy_safe(s->halt_by, sizeof s->halt_by, by);
        room_copy_safe(s->halt_message, sizeof s->halt_message, h.message);
        s->halt_ms = h.time_ms;
    }
    control_halt_clear(&h);
    return 0;
}

static void copy_debate(struct room_debate *out, const struct debate *d)
{
    struct consensus c;

    debate_consensus(d, &c);
    room_copy_safe(out->id, sizeof out->id, d->id);
    room_copy_safe(out->title, sizeof out->title, d->title);
    out->open = d->open;
    out->n_for = c.n_for;
    out->n_against = c.n_against;
    out->n_abstain = c.n_abstain;
    for (size_t i = 0; i < d->nvotes; i++) {
        if (d->votes[i].vote == DEBATE_FOR)
            out->w_for += d->votes[i].confidence;
        else if (d->votes[i].vote == DEBATE_AGAINST)
            out->w_against += d->votes[i].confidence;
        if (out->nvotes < (int)(sizeof out->votes / sizeof out->votes[0])) {
            struct room_vote *v = &out->votes[out->nvotes++];

            room_copy_safe(v->agent, sizeof v->agent, d->votes[i].agent);
            v->vote = (int)d->votes[i].vote;
            v->confidence = d->votes[i].confidence;
        }
    }
    /* A closed debate shows the score it was closed with; an open one the current one. */
    out->score = d->open ? c.score : d->score;
    out->threshold = d->threshold;
    out->panel = d->panel;
    out->quorum = d->quorum;
    out->opened_ms = d->opened_ms;
    out->deadline_ms = d->deadline_ms;
    out->closed_ms = d->closed_ms;
    room_copy_safe(out->outcome, sizeof out->outcome, d->open ? "" : d->outcome);
}

static int snap_debates(struct feed *f, struct room_snapshot *s)
{
    struct debate *open = NULL, *done = NULL;
    size_t nopen = 0, ndone = 0;
    char *cause = NULL;

    if (debate_list(f->l, true, FEED_DEBATES_OPEN, &open, &nopen, &cause) != DEBATE_OK)
        return failed_link(f, cause) ? -1 : 0;
    if (debate_list(f->l, false, FEED_DEBATES_DONE, &done, &ndone, &cause) != DEBATE_OK) {
        debate_list_free(open, nopen);
        return failed_link(f, cause) ? -1 : 0;
    }
    s->debates = xcalloc(nopen + ndone + 1, sizeof *s->debates);
    for (size_t i = 0; i < nopen; i++)
        copy_debate(&s->debates[s->ndebates++], &open[i]);
    for (size_t i = 0; i < ndone; i++)
        copy_debate(&s->debates[s->ndebates++], &done[i]);
    debate_list_free(open, nopen);
    debate_list_free(done, ndone);
    return 0;
}

/* The story an agent holds now: one whose lock is held, with the agent as its owner (the
 * held list of room_items.lua); none when it holds nothing. */
static void agent_task(const redisReply *held, struct room_agent *a)
{
    const redisReply *list = held != NULL && held->type == REDIS_REPLY_ARRAY && held->elements > 2
                                 ? held->element[2]
                                 : NULL;

    for (size_t i = 0; list != NULL && i < list->elements; i++)
        if (strcmp(rlink_reply_str(list->element[i], 0), a->id) == 0) {
            room_copy_safe(a->task, sizeof a->task, rlink_reply_str(list->element[i], 1));
            return;
        }
}

static int snap_agents(struct feed *f, struct room_snapshot *s, const redisReply *held,
                       int64_t *now_ms)
{
    struct registry_agent *a = NULL;
    size_t n = 0;
    char *cause = NULL;

    if (registry_list(f->reg, &a, &n, now_ms, &cause) == -1)
        return failed_link(f, cause) ? -1 : 0;
    s->agents = xcalloc(n + 1, sizeof *s->agents);
    for (size_t i = 0; i < n; i++) {
        struct room_agent *o = &s->agents[s->nagents++];

        room_copy_safe(o->id, sizeof o->id, a[i].id);
        room_copy_safe(o->role, sizeof o->role, a[i].role);
        room_copy_safe(o->tier, sizeof o->tier, a[i].tier);
        room_copy_safe(o->status, sizeof o->status, registry_status_name(a[i].status));
        room_copy_safe(o->host, sizeof o->host, a[i].host);
        o->heartbeat_ms = a[i].heartbeat_ms;
        agent_task(held, o);
    }
    free(a);
    return 0;
}

/* The global spend rate from the samples of the last ten minutes of this UTC day. */
static int64_t spend_rate(struct feed *f, const struct budget_window *g)
{
    int64_t now = clock_mono_ms(), rate = 0;
    char day[USAGE_DAY_LEN], hour[USAGE_HOUR_LEN];

    usage_windows(clock_wall_ms(), day, hour);
    for (size_t k = 0; k < f->spend_n; k++) {
        const struct spend_sample *p = &f->spend[(f->spend_first + k) % SPEND_MAX];

        if (now - p->mono > SPEND_SPAN_MS || strcmp(p->day, day) != 0)
            continue;
        if (now - p->mono >= 1000 && g->spent >= p->spent)
            rate = (g->spent - p->spent) * 3600000 / (now - p->mono);
        break;
    }
    if (f->spend_n == 0 ||
        now - f->spend[(f->spend_first + f->spend_n - 1) % SPEND_MAX].mono >= SPEND_EVERY_MS) {
        struct spend_sample *p;

        if (f->spend_n == SPEND_MAX) {
            f->spend_first = (f->spend_first + 1) % SPEND_MAX;
            f->spend_n--;
        }
        p = &f->spend[(f->spend_first + f->spend_n++) % SPEND_MAX];
        p->mono = now;
        p->spent = g->spent;
        snprintf(p->day, sizeof p->day, "%s", day);
    }
    return rate;
}

static int snap_budgets(struct feed *f, struct room_snapshot *s)
{
    struct budget_row *rows = NULL;
    struct budget_window g;
    size_t n = 0;
    char *cause = NULL;

    if (budget_status(f->l, &f->bo, clock_wall_ms(), &rows, &n, &g, &cause) == -1)
        return failed_link(f, cause) ? -1 : 0;
    s->budgets = xcalloc(n + 1, sizeof *s->budgets);
    for (size_t i = 0; i < n; i++) {
        struct room_budget *b = &s->budgets[s->nbudgets++];

        room_copy_safe(b->agent, sizeof b->agent, rows[i].agent);
        b->day_spent = rows[i].day.spent;
        b->day_reserved = rows[i].day.reserved;
        b->day_limit = rows[i].day.limit;
        b->hour_spent = rows[i].hour.spent;
        b->hour_reserved = rows[i].hour.reserved;
        b->hour_limit = rows[i].hour.limit;
        b->alert_ppm = rows[i].alert_ppm;
        for (size_t k = 0; k < s->nagents; k++)
            if (strcmp(s->agents[k].id, rows[i].agent) == 0)
                s->agents[k].spent_today = rows[i].day.spent;
    }
    snprintf(s->budgets[s->nbudgets].agent, sizeof s->budgets[0].agent, "*");
    s->budgets[s->nbudgets].day_spent = g.spent;
    s->budgets[s->nbudgets].day_reserved = g.reserved;
    s->budgets[s->nbudgets].day_limit = g.limit;
    s->budgets[s->nbudgets].alert_ppm = f->bo.alert_ppm;
    s->nbudgets++;
    s->spend_rate_per_h = spend_rate(f, &g);
    budget_rows_free(rows, n);
    return 0;
}

static int snap_requests(struct feed *f, struct room_snapshot *s)
{
    struct budget_request *q = NULL;
    size_t n = 0;
    char *cause = NULL;

    /* Requests that wait for nothing any more close first (a limit lifted or raised, the
     * agent gone), so the pane never offers one to grant. */
    if (budget_requests_sweep(f->l, clock_wall_ms(), NULL, &cause) == -1)
        return failed_link(f, cause) ? -1 : 0;
    if (budget_requests(f->l, true, FEED_REQUESTS, &q, &n, &cause) == -1)
        return failed_link(f, cause) ? -1 : 0;
    s->requests = xcalloc(n + 1, sizeof *s->requests);
    for (size_t i = n; i-- > 0;) { /* newest first in, oldest first out */
        struct room_request *o = &s->requests[s->nrequests++];

        room_copy_safe(o->id, sizeof o->id, q[i].id);
        room_copy_safe(o->agent, sizeof o->agent, q[i].agent);
        room_copy_safe(o->limit, sizeof o->limit, q[i].limit);
        room_copy_safe(o->window, sizeof o->window, q[i].window);
        o->needed = q[i].needed;
        o->cap = q[i].cap;
        o->time_ms = q[i].time_ms;
        o->waiting = q[i].waiting;
        room_copy_safe(o->waiting_agents, sizeof o->waiting_agents, q[i].agents);
        /* Its agents wait on budget (the agents pane says so). */
        for (size_t k = 0; k < s->nagents; k++) {
            const char *a = s->agents[k].id, *p = q[i].agents;
            size_t len = strlen(a);

            while (len > 0 && (p = strstr(p, a)) != NULL) {
                if ((p == q[i].agents || p[-1] == ',') && (p[len] == ',' || p[len] == '\0')) {
                    s->agents[k].budget_wait = true;
                    break;
                }
                p += len;
            }
        }
    }
    budget_requests_free(q, n);
    return 0;
}

static int snap_audit(struct feed *f, struct room_snapshot *s)
{
    struct audit_entry *e = NULL;
    size_t n = 0;
    char *cause = NULL;

    if (audit_read(f->l, FEED_AUDIT, &e, &n, &cause) == -1)
        return failed_link(f, cause) ? -1 : 0;
    s->audit = xcalloc(n + 1, sizeof *s->audit);
    for (size_t i = 0; i < n; i++) {
        struct room_audit *a = &s->audit[s->naudit++];

        a->time_ms = e[i].time_ms;
        room_copy_safe(a->user, sizeof a->user, e[i].user);
        room_copy_safe(a->from, sizeof a->from, e[i].from);
        room_copy_safe(a->what, sizeof a->what, e[i].what);
        room_copy_safe(a->item, sizeof a->item, e[i].item != NULL ? e[i].item : "");
        room_copy_safe(a->reason, sizeof a->reason, e[i].reason != NULL ? e[i].reason : "");
    }
    audit_entries_free(e, n);
    return 0;
}

/* The circuit breakers that are not closed (breaker_list(): every one any process reported). */
static int snap_breakers(struct feed *f, struct room_snapshot *s)
{
    struct breaker_info *b = NULL;
    size_t n = 0;
    char *cause = NULL;

    if (breaker_list(f->l, &b, &n, NULL, &cause) == -1)
        return failed_link(f, cause) ? -1 : 0;
    s->breakers = xcalloc(n + 1, sizeof *s->breakers);
    for (size_t i = 0; i < n; i++) {
        struct room_breaker *o;

        if (b[i].state == BREAKER_CLOSED)
            continue;
        o = &s->breakers[s->nbreakers++];
        room_copy_safe(o->name, sizeof o->name, b[i].name);
        room_copy_safe(o->state, sizeof o->state, breaker_state_name(b[i].state));
        o->changed_ms = b[i].changed_ms;
        o->next_ms = b[i].next_ms;
        o->opens = b[i].opens;
        room_copy_safe(o->last_error, sizeof o->last_error, b[i].last_error);
    }
    free(b);
    return 0;
}

/* The flow samples, moved on by one period, and the stories that reached the end of the line
 * in the last minute. */
static void snap_flow(struct feed *f, struct room_snapshot *s)
{
    for (int sec = 0; sec < BB_SECTION_COUNT; sec++) {
        memmove(f->flow[sec], f->flow[sec] + 1, (ROOM_FLOW_LEN - 1) * sizeof f->flow[sec][0]);
        f->flow[sec][ROOM_FLOW_LEN - 1] =
            (uint16_t)(f->entered[sec] > UINT16_MAX ? UINT16_MAX : f->entered[sec]);
        f->entered[sec] = 0;
    }
    memcpy(s->flow, f->flow, sizeof s->flow);
    for (size_t i = 0; i < f->term_n; i++)
        if (f->term[i] > s->taken_ms - 60000)
            s->stories_per_min += 1.0;
}

/* A whole snapshot, handed over. Returns 0, or -1 when the link failed on the way. */
static int snapshot(struct feed *f)
{
    struct room_snapshot *s = xcalloc(1, sizeof *s);
    redisReply *held = NULL;
    char *cause = NULL;
    int64_t now_ms = 0;
    int rc = -1;

    s->seq = ++f->seq;
    s->taken_mono = clock_mono_ms();
    s->started_mono = f->r->started_mono;
    if (f->r->o.cfg != NULL)
        room_copy_safe(s->swarm, sizeof s->swarm, f->r->o.cfg->swarm_name);
    room_copy_safe(s->address, sizeof s->address, rlink_address(f->l));
    if (rlink_ping(f->l, &s->latency_us, &cause) == -1 && failed_link(f, cause))
        goto out;
    if (bb_counts(f->bb, s->counts, &cause) != BB_OK && failed_link(f, cause))
        goto out;
    if (snap_items(f, s, &held) == -1 || snap_flow_stages(f, s) == -1 || snap_halt(f, s) == -1 ||
        snap_feeds(f, s) == -1 || snap_tracing(f, s) == -1 || snap_debates(f, s) == -1 ||
        snap_agents(f, s, held, &now_ms) == -1 || snap_budgets(f, s) == -1 ||
        snap_requests(f, s) == -1 || snap_audit(f, s) == -1 || snap_breakers(f, s) == -1)
        goto out;
    if (s->taken_ms == 0)
        s->taken_ms = now_ms;
    snap_flow(f, s);
    room_put_snapshot(f->r, s);
    s = NULL;
    room_push(f->r, ROOM_EV_SNAPSHOT, true, 0, clock_wall_ms(), "snapshot", NULL, NULL, NULL);
    rc = 0;
out:
    if (held != NULL)
        freeReplyObject(held);
    room_snapshot_free(s);
    return rc;
}

/* Connects when needed and learns where to follow the streams from. Returns 0 when ready. */
static int ensure(struct feed *f)
{
    char *cause = NULL;

    if (rlink_ensure(f->l, &cause) == -1) {
        free(cause);
        return -1;
    }
    if (!f->ready) {
        if (stream_start(f, BB_PREFIX "events", FEED_BACKLOG, f->sid, sizeof f->sid) == -1 ||
            stream_start(f, BUDGET_EVENTS_KEY, 0, f->cost_sid, sizeof f->cost_sid) == -1 ||
            stream_start(f, BREAKER_EVENTS_KEY, 0, f->breaker_sid, sizeof f->breaker_sid) == -1)
            return -1;
        f->ready = true;
        f->backlog = true;
    }
    return 0;
}

void *room_feed_main(void *arg)
{
    struct room *r = arg;
    struct feed *f = xcalloc(1, sizeof *f);
    struct rlink_options lo = r->o.link;
    char name[64];
    int64_t next = 0;

    f->r = r;
    snprintf(name, sizeof name, "nr-room-feed-%ld", (long)getpid());
    lo.client_name = name;
    lo.quiet = true;
    f->l = rlink_new(&r->o.addr, &lo);
    f->bb = bb_new(f->l, "room");
    f->reg = registry_new(f->l);
    if (r->o.cfg != NULL)
        budget_options_from_config(&f->bo, r->o.cfg);
    while (!stopping(f)) {
        int64_t now;

        if (ensure(f) == -1) {
            link_down(f);
            clock_sleep_ms_until(room_block_ms(r), &r->stop);
            continue;
        }
        link_up(f);
        now = clock_mono_ms();
        if (now >= next) {
            next = now + r->o.period_ms;
            if (follow_alerts(f) == -1 || follow_breakers(f) == -1 || snapshot(f) == -1) {
                link_down(f);
                continue;
            }
            now = clock_mono_ms();
        }
        if (follow(f, (int)(next - now < room_block_ms(r) ? (next - now > 0 ? next - now : 1)
                                                          : room_block_ms(r))) == -1)
            link_down(f);
    }
    registry_free(f->reg);
    bb_free(f->bb);
    rlink_free(f->l);
    free(f);
    return NULL;
}
