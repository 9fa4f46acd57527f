/*
 * room.c - the control room's engine side: the room itself (its two rings, the feed and the
 * worker threads, start and stop), the atomic hand-over of snapshots and details, and the
 * small helpers the feed and the worker share. See room.h for the threads and room_int.h for
 * what guards what; room_feed.c and room_worker.c hold the two threads.
 *
 * Hand-over: a snapshot (or a detail) goes from its producer to the UI through one atomic
 * pointer: the producer exchanges in the new one and frees what it took out (a snapshot the
 * UI never took), the UI exchanges in NULL. Neither side ever holds a lock.
 */
#include "room/room_int.h"

#include "core/clock.h"
#include "core/fail.h"
#include "core/log.h"
#include "core/ring.h"
#include "core/text.h"
#include "store/bus.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROOM_CMD_CAPACITY 1024 /* a bulk decision sends one command a story */

int room_block_ms(const struct room *r)
{
    int t = r->o.link.command_timeout_ms / 4;

    return t < 20 ? 20 : t > 200 ? 200 : t;
}

void room_copy_safe(char *dst, size_t size, const char *s)
{
    char *safe;

    if (size == 0)
        return;
    if (s == NULL)
        s = "-";
    /* text_safe() never makes a text longer unless it cuts it, and then by "..." at most. */
    safe = text_safe(s, strlen(s) < size ? 0 : (size > 4 ? size - 4 : 1));
    snprintf(dst, size, "%s", safe);
    free(safe);
}

int room_push(struct room *r, int kind, bool ok, uint64_t cmd_seq, int64_t t_ms, const char *what,
              const char *id, const char *by, const char *text)
{
    struct room_event ev;

    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.ok = ok;
    ev.cmd_seq = cmd_seq;
    ev.t_ms = t_ms;
    room_copy_safe(ev.what, sizeof ev.what, what != NULL ? what : "");
    room_copy_safe(ev.id, sizeof ev.id, id != NULL ? id : "");
    room_copy_safe(ev.by, sizeof ev.by, by != NULL ? by : "");
    room_copy_safe(ev.text, sizeof ev.text, text != NULL ? text : "");
    return ring_push(r->events, &ev);
}

void room_bb_line(const struct bb_event *ev, char *buf, size_t size)
{
    int n;

    if (strcmp(ev->kind, "write") == 0)
        n = snprintf(buf, size, "write %s %s in %s by %s", ev->id, ev->to, ev->section, ev->by);
    else if (strcmp(ev->kind, "claim") == 0 || strcmp(ev->kind, "lock") == 0 ||
             strcmp(ev->kind, "take") == 0)
        n = snprintf(buf, size, "%s %s by %s", ev->kind, ev->id, ev->by);
    else if (strcmp(ev->from, ev->to) == 0)
        n = snprintf(buf, size, "%s %s %s by %s", ev->kind, ev->id, ev->to, ev->by);
    else
        n = snprintf(buf, size, "%s %s %s -> %s by %s", ev->kind, ev->id, ev->from, ev->to, ev->by);
    if (n >= 0 && (size_t)n < size && ev->why[0] != '\0')
        snprintf(buf + n, size - (size_t)n, ": %s", ev->why);
}

redisReply *room_page_eval(struct rlink *l, const struct lua_script *s, int argc, const char **argv,
                           size_t n, char **error)
{
    char *cause = NULL;
    redisReply *r = rlink_eval(l, s, 0, argc, argv, &cause);

    if (r == NULL) {
        *error = text_safe(cause, 0);
        free(cause);
        return NULL;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n ||
        r->element[n - 1]->type != REDIS_REPLY_ARRAY) {
        *error = xasprintf("the script %s answered in an unknown form", s->name);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

void room_put_snapshot(struct room *r, struct room_snapshot *s)
{
    room_snapshot_free(atomic_exchange(&r->snap, s));
}

void room_put_detail(struct room *r, struct room_detail *d)
{
    room_detail_free(atomic_exchange(&r->detail, d));
}

void room_put_frames(struct room *r, struct room_frames *f)
{
    room_frames_free(atomic_exchange(&r->frames, f));
}

void room_put_review(struct room *r, struct room_review_page *p)
{
    room_review_page_free(atomic_exchange(&r->review, p));
}

void room_put_failed(struct room *r, struct room_failed_page *p)
{
    room_failed_page_free(atomic_exchange(&r->failed, p));
}

void room_snapshot_free(struct room_snapshot *s)
{
    if (s == NULL)
        return;
    free(s->items);
    free(s->debates);
    free(s->agents);
    free(s->budgets);
    free(s->requests);
    free(s->audit);
    free(s->breakers);
    free(s);
}

void room_detail_free(struct room_detail *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < ROOM_SEC_COUNT; i++)
        free(d->section[i]);
    free(d->error);
    free(d);
}

void room_frames_free(struct room_frames *f)
{
    if (f == NULL)
        return;
    free(f->thumb.rgb);
    for (size_t i = 0; i < f->nsheet; i++)
        free(f->sheet[i].rgb);
    free(f->sheet);
    free(f);
}

struct room *room_new(const struct room_options *o)
{
    struct room *r = xcalloc(1, sizeof *r);
    char *cause = NULL;
    size_t cap = o->event_capacity > 0 ? o->event_capacity : 4096;

    r->o = *o;
    if (r->o.period_ms <= 0)
        r->o.period_ms = 1000;
    if (r->o.link.command_timeout_ms <= 0)
        r->o.link.command_timeout_ms = 2000;
    r->o.link.client_name = NULL; /* set per thread */
    r->events = ring_new(cap, sizeof(struct room_event), &cause);
    if (r->events == NULL)
        fail("room: event ring: %s", cause);
    r->cmds = ring_new(ROOM_CMD_CAPACITY, sizeof(struct room_cmd), &cause);
    if (r->cmds == NULL)
        fail("room: command ring: %s", cause);
    atomic_init(&r->stop, 0);
    atomic_init(&r->cmd_seq, 0);
    atomic_init(&r->snap, NULL);
    atomic_init(&r->detail, NULL);
    atomic_init(&r->frames, NULL);
    atomic_init(&r->review, NULL);
    atomic_init(&r->failed, NULL);
    atomic_init(&r->link_ok, false);
    atomic_init(&r->down_since, 0);
    return r;
}

/* The bus subscriber's thread: an emergency or a control message (another operator's, or
 * this room's own) as an alert line in the events and the status line. */
static void on_broadcast(const struct msg *m, const char *channel, void *ctx)
{
    struct room *r = ctx;
    const char *text = json_string_value(json_object_get(m->payload, "message"));
    const char *cmd = json_string_value(json_object_get(m->payload, "command"));
    char line[ROOM_TEXT_MAX];

    (void)channel;
    if (m->type == MSG_EMERGENCY)
        snprintf(line, sizeof line, "EMERGENCY from %s%s: %s", m->sender,
                 json_is_true(json_object_get(m->payload, "halt")) ? " (halt)" : "",
                 text != NULL ? text : "");
    else
        snprintf(line, sizeof line, "%s from %s", cmd != NULL ? cmd : msg_type_name(m->type),
                 m->sender);
    room_push(r, ROOM_EV_ALERT, m->type != MSG_EMERGENCY, 0, m->time_ms,
              m->type == MSG_EMERGENCY ? "emergency" : "control", NULL, m->sender, line);
}

/* Subscribes to the emergency and control broadcasts; without them the room still runs. */
static void bus_start(struct room *r)
{
    struct rlink_options lo = r->o.link;
    char name[64], *cause = NULL;

    snprintf(name, sizeof name, "nr-room-bus-%ld", (long)getpid());
    lo.client_name = name;
    r->bus = bus_sub_new(&r->o.addr, &lo);
    if (bus_sub_add_channel(r->bus, bus_broadcast_channel(BUS_EMERGENCY), &cause) == -1 ||
        bus_sub_add_channel(r->bus, bus_broadcast_channel(BUS_CONTROL), &cause) == -1 ||
        bus_sub_on_other(r->bus, on_broadcast, r, &cause) == -1 ||
        bus_sub_start(r->bus, &cause) == -1) {
        log_warn("room: no broadcasts: %s", cause);
        free(cause);
        bus_sub_free(r->bus);
        r->bus = NULL;
    }
}

int room_start(struct room *r, char **cause)
{
    int err;

    r->started_mono = clock_mono_ms();
    atomic_store(&r->stop, 0);
    if ((err = pthread_create(&r->feed, NULL, room_feed_main, r)) != 0) {
        *cause = xasprintf("cannot start the room's feed thread: %s", strerror(err));
        return -1;
    }
    r->feed_started = true;
    if ((err = pthread_create(&r->worker, NULL, room_worker_main, r)) != 0) {
        *cause = xasprintf("cannot start the room's command worker: %s", strerror(err));
        room_stop(r);
        return -1;
    }
    r->worker_started = true;
    bus_start(r);
    return 0;
}

void room_stop(struct room *r)
{
    atomic_store(&r->stop, 1);
    bus_sub_free(r->bus); /* joins its thread: nothing pushes from it after this */
    r->bus = NULL;
    if (r->feed_started)
        pthread_join(r->feed, NULL);
    if (r->worker_started)
        pthread_join(r->worker, NULL);
    r->feed_started = r->worker_started = false;
}

void room_free(struct room *r)
{
    if (r == NULL)
        return;
    room_stop(r);
    room_snapshot_free(atomic_exchange(&r->snap, NULL));
    room_detail_free(atomic_exchange(&r->detail, NULL));
    room_frames_free(atomic_exchange(&r->frames, NULL));
    room_review_page_free(atomic_exchange(&r->review, NULL));
    room_failed_page_free(atomic_exchange(&r->failed, NULL));
    ring_free(r->events);
    ring_free(r->cmds);
    free(r);
}

int room_fd(const struct room *r)
{
    return ring_fd(r->events);
}

size_t room_pop_events(struct room *r, struct room_event *out, size_t max)
{
    return ring_pop_batch(r->events, out, max);
}

int room_arm(struct room *r)
{
    return ring_arm(r->events);
}

void room_clear(struct room *r)
{
    ring_clear_wake(r->events);
}

uint64_t room_dropped(const struct room *r)
{
    return ring_dropped(r->events);
}

struct room_snapshot *room_take_snapshot(struct room *r)
{
    return atomic_exchange(&r->snap, NULL);
}

struct room_detail *room_take_detail(struct room *r)
{
    return atomic_exchange(&r->detail, NULL);
}

struct room_frames *room_take_frames(struct room *r)
{
    return atomic_exchange(&r->frames, NULL);
}

struct room_review_page *room_take_review(struct room *r)
{
    return atomic_exchange(&r->review, NULL);
}

uint64_t room_send(struct room *r, struct room_cmd *c)
{
    c->seq = (uint64_t)atomic_fetch_add(&r->cmd_seq, 1) + 1;
    c->id[sizeof c->id - 1] = '\0';
    c->text[sizeof c->text - 1] = '\0';
    if (ring_push(r->cmds, c) == -1)
        return 0;
    return c->seq;
}

struct room_failed_page *room_take_failed(struct room *r)
{
    return atomic_exchange(&r->failed, NULL);
}

bool room_link_ok(const struct room *r, int64_t *down_since_mono)
{
    bool ok = atomic_load(&r->link_ok);

    if (down_since_mono != NULL)
        *down_since_mono = ok ? 0 : (int64_t)atomic_load(&r->down_since);
    return ok;
}
