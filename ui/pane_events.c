/*
 * pane_events.c - the events log: every blackboard event, budget alert, command result and
 * link change the ring brings, oldest at the top, following the newest. Scrolling back pauses
 * the following; End resumes it. "/" filters. It keeps the last EVENTS_KEEP events.
 *
 * Threads: the UI thread's. event() copies one event from the ring.
 */
#include "ui/pane.h"

#include "core/fail.h"
#include "ui/fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS_KEEP 1000

struct events_state {
    struct room_event *ev; /* a circular buffer of EVENTS_KEEP */
    size_t head, n;        /* the oldest, and how many */
    size_t *idx;           /* logical positions (0 = oldest) passing the filter */
    size_t nidx;
    bool follow;
    unsigned long paused_new; /* events that arrived while paused */
};

static const char *const kind_names[] = {
    [ROOM_EV_SNAPSHOT] = "snapshot", [ROOM_EV_DETAIL] = "detail", [ROOM_EV_BB] = "",
    [ROOM_EV_ALERT] = "ALERT",       [ROOM_EV_RESULT] = "result", [ROOM_EV_LINK] = "link",
};

static void *events_init(void)
{
    struct events_state *st = xcalloc(1, sizeof *st);

    st->ev = xcalloc(EVENTS_KEEP, sizeof *st->ev);
    st->idx = xcalloc(EVENTS_KEEP, sizeof *st->idx);
    st->follow = true;
    return st;
}

static void events_free(void *state)
{
    struct events_state *st = state;

    if (st == NULL)
        return;
    free(st->ev);
    free(st->idx);
    free(st);
}

static const struct room_event *at(const struct events_state *st, size_t i)
{
    return &st->ev[(st->head + i) % EVENTS_KEEP];
}

static int rows_of(const struct pane *p)
{
    return pane_rows(p, 0);
}

static bool passes(const struct room_event *e, const char *filter)
{
    const char *f[] = {e->what, e->id, e->by, e->text,
                       e->kind >= 0 && e->kind <= ROOM_EV_LINK ? kind_names[e->kind] : ""};

    return fmt_match_any(f, 5, filter);
}

static void fit(struct pane *p)
{
    struct events_state *st = p->state;
    int rows = rows_of(p);

    if (st->follow && st->nidx > 0)
        p->list.selected = (int)st->nidx - 1;
    pane_fit(p, (int)st->nidx, rows);
    if (st->follow && rows > 0) {
        p->list.top = (int)st->nidx - rows;
        if (p->list.top < 0)
            p->list.top = 0;
    }
}

static void rebuild(struct pane *p)
{
    struct events_state *st = p->state;

    st->nidx = 0;
    for (size_t i = 0; i < st->n; i++)
        if (passes(at(st, i), p->filter))
            st->idx[st->nidx++] = i;
    fit(p);
}

static void events_resize(struct pane *p)
{
    fit(p);
}

static void events_update(struct pane *p, const struct room_snapshot *s)
{
    (void)p;
    (void)s;
}

static void events_event(struct pane *p, const struct room_event *e)
{
    struct events_state *st = p->state;

    /* Hand-overs of data asked for are not events a person follows. */
    if (e->kind == ROOM_EV_SNAPSHOT || e->kind == ROOM_EV_DETAIL || e->kind == ROOM_EV_REVIEW ||
        e->kind == ROOM_EV_FRAMES || e->kind == ROOM_EV_FAILED)
        return;
    if (st->n == EVENTS_KEEP) {
        /* The oldest goes: every logical position moves down by one. */
        size_t k = 0;

        for (size_t i = 0; i < st->nidx; i++)
            if (st->idx[i] != 0)
                st->idx[k++] = st->idx[i] - 1;
        if (k < st->nidx && !st->follow && p->list.selected > 0)
            p->list.selected--;
        st->nidx = k;
        st->head = (st->head + 1) % EVENTS_KEEP;
        st->n--;
    }
    st->ev[(st->head + st->n) % EVENTS_KEEP] = *e;
    st->n++;
    if (passes(e, p->filter)) {
        st->idx[st->nidx++] = st->n - 1;
        if (!st->follow)
            st->paused_new++;
    }
    fit(p);
}

static void events_draw(struct pane *p, const struct pane_ctx *c)
{
    struct events_state *st = p->state;
    int w = getmaxx(p->win), rows = rows_of(p);
    char title[96];

    if (st->follow)
        snprintf(title, sizeof title, "Events: %zu", st->nidx);
    else
        snprintf(title, sizeof title, "Events: paused, %lu new (End follows)", st->paused_new);
    pane_frame(p, c, title);
    if (getmaxy(p->win) < 3 || w < 30)
        return;
    if (st->nidx == 0) {
        pane_empty(p, c, 1);
        return;
    }
    for (int r = 0; r < rows && p->list.top + r < (int)st->nidx; r++) {
        int i = p->list.top + r, y = 1 + r, x;
        const struct room_event *e = at(st, st->idx[i]);
        bool sel = i == p->list.selected && p->focused && !st->follow;
        enum theme_role role =
            e->kind == ROOM_EV_ALERT ? THEME_WARN
            : (e->kind == ROOM_EV_RESULT && !e->ok) || (e->kind == ROOM_EV_LINK && !e->ok)
                ? THEME_ALERT
            : e->kind == ROOM_EV_RESULT || e->kind == ROOM_EV_LINK ? THEME_OK
                                                                   : THEME_NORMAL;
        char tbuf[16], what[48];
        time_t t = (time_t)(e->t_ms / 1000);
        struct tm tm;

        if (e->t_ms > 0 && gmtime_r(&t, &tm) != NULL)
            strftime(tbuf, sizeof tbuf, "%H:%M:%S", &tm);
        else
            snprintf(tbuf, sizeof tbuf, "--:--:--");
        snprintf(what, sizeof what, "%s",
                 e->kind == ROOM_EV_BB || e->kind < 0 || e->kind > ROOM_EV_LINK
                     ? e->what
                     : kind_names[e->kind]);
        pane_row(p, y, sel);
        x = pane_col(p, c, y, 1, 8, tbuf, PANE_ROLE(sel, THEME_DIM));
        x = pane_col(p, c, y, x, 9, what, PANE_ROLE(sel, role));
        x = pane_col(p, c, y, x, w - 2 >= 100 ? 16 : 0, e->id[0] ? e->id : "",
                     PANE_ROLE(sel, THEME_DIM));
        x = pane_col(p, c, y, x, w - 2 >= 130 ? 18 : 0, e->by, PANE_ROLE(sel, THEME_DIM));
        pane_col(p, c, y, x, w - 1 - x, e->text, PANE_ROLE(sel, role));
    }
}

static int events_key(struct pane *p, int action, struct pane_request *req)
{
    struct events_state *st = p->state;

    switch (action) {
    case ACT_END:
        st->follow = true;
        st->paused_new = 0;
        fit(p);
        return 1;
    case ACT_UP:
    case ACT_PGUP:
    case ACT_HOME:
        if (st->follow) {
            st->follow = false;
            st->paused_new = 0;
        }
        return pane_list_action(p, action, rows_of(p));
    case ACT_DOWN:
    case ACT_PGDN:
        pane_list_action(p, action, rows_of(p));
        return 1;
    case ACT_ENTER: {
        const struct room_event *e;

        if (p->list.selected < 0 || (size_t)p->list.selected >= st->nidx)
            return 0;
        e = at(st, st->idx[p->list.selected]);
        if (e->id[0] == '\0')
            return 0;
        req->kind = PANE_REQ_DETAIL;
        snprintf(req->id, sizeof req->id, "%s", e->id);
        return 1;
    }
    case ACT_FILTER:
        rebuild(p);
        return 1;
    default:
        return 0;
    }
}

const struct pane_class pane_events = {
    .name = "Events",
    .empty = "no events yet",
    .init = events_init,
    .free = events_free,
    .resize = events_resize,
    .update = events_update,
    .event = events_event,
    .draw = events_draw,
    .key = events_key,
};
