/*
 * pane_agents.c - the agents pane: id (cut in the middle, so ids that differ at the end stay
 * apart), role, tier, status ("waiting on budget" when an open budget request refused one of
 * its calls), heartbeat age coloured by how stale it is, the story it holds now (its lock),
 * its spend today. Dead agents stand out. Under them, when any circuit breaker of the services
 * the agents call is not closed, a block of those breakers: name, state, when it lets trial
 * calls through again, how often it opened, its last error (at most half the pane; `ctl
 * breakers` lists every one).
 *
 * Threads: the UI thread's. update() copies the agents and the breakers from the snapshot.
 */
#include "ui/pane.h"

#include "core/fail.h"
#include "ui/fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct agents_state {
    struct pane_list_state l; /* the agents */
    struct room_breaker *br;  /* the breakers that are not closed */
    size_t nbr;
};

static void *agents_init(void)
{
    return xcalloc(1, sizeof(struct agents_state));
}

static void agents_free(void *state)
{
    struct agents_state *st = state;

    if (st == NULL)
        return;
    pane_copy_free(&st->l.c);
    free(st->br);
    free(st);
}

/* Rows the breakers' block takes under the list: its heading and a row each, at most half of
 * the rows under the column headings. */
static int foot_rows(const struct pane *p)
{
    const struct agents_state *st = p->state;
    int avail = pane_list_rows(p), want = st->nbr > 0 ? 1 + (int)st->nbr : 0;

    return want < avail / 2 ? want : st->nbr > 0 ? avail / 2 : 0;
}

static int rows_of(const struct pane *p)
{
    return pane_list_rows(p) - foot_rows(p);
}

/* Heartbeat ages: late from 5 s (agents beat every few seconds), stale from 15 s (the TTL). */
#define HB_LATE_MS  5000
#define HB_STALE_MS 15000

static bool match(const void *rec, const char *filter, const void *arg)
{
    const struct room_agent *a = rec;
    const char *fields[] = {a->id, a->role, a->tier, a->status, a->task, a->host};

    (void)arg;
    return fmt_match_any(fields, 6, filter);
}

static void rebuild(struct pane *p)
{
    struct agents_state *st = p->state;

    pane_copy_filter(p, &st->l.c, 0, match, NULL, NULL);
    pane_fit(p, (int)st->l.c.nidx, rows_of(p));
}

static void agents_resize(struct pane *p)
{
    pane_fit(p, p->list.count, rows_of(p));
}

static void agents_update(struct pane *p, const struct room_snapshot *s)
{
    struct agents_state *st = p->state;

    pane_copy_set(p, &st->l.c, s->agents, s->nagents, sizeof *s->agents, NULL);
    st->l.tally = 0; /* dead agents */
    for (size_t i = 0; i < s->nagents; i++)
        st->l.tally += strcmp(s->agents[i].status, "dead") == 0;
    st->br = xrealloc(st->br, (s->nbreakers + 1) * sizeof *st->br);
    if (s->nbreakers > 0)
        memcpy(st->br, s->breakers, s->nbreakers * sizeof *st->br);
    st->nbr = s->nbreakers;
    rebuild(p);
}

/* The breakers' block from row y0 to the box's bottom line. */
static void draw_breakers(struct pane *p, const struct pane_ctx *c, int y0)
{
    struct agents_state *st = p->state;
    int h = getmaxy(p->win), inner = getmaxx(p->win) - 2;
    int nw = inner * 2 / 5 > 48 ? 48 : inner * 2 / 5, ew = inner - nw - 1 - 10 - 10 - 6, x;
    size_t shown = (size_t)(h - 1 - y0 - 1);
    char head[64];

    if (st->nbr == 0 || y0 >= h - 1)
        return;
    if (shown > st->nbr)
        shown = st->nbr;
    snprintf(head, sizeof head, "BREAKER (%zu not closed%s)", st->nbr,
             shown < st->nbr ? ", more in ctl breakers" : "");
    x = pane_col(p, c, y0, 1, nw, head, THEME_TITLE);
    x = pane_col(p, c, y0, x, 9, "STATE", THEME_TITLE);
    x = pane_col(p, c, y0, x, 9, "TRIAL IN", THEME_TITLE);
    x = pane_col(p, c, y0, x, 5, "OPENS", THEME_TITLE);
    pane_col(p, c, y0, x, ew, "LAST ERROR", THEME_TITLE);
    for (size_t i = 0; i < shown; i++) {
        const struct room_breaker *b = &st->br[i];
        bool open = strcmp(b->state, "open") == 0;
        char in[16], opens[24];
        int y = y0 + 1 + (int)i;

        if (!open)
            snprintf(in, sizeof in, "trying");
        else if (b->next_ms > c->now_ms)
            fmt_age(b->next_ms - c->now_ms, in, sizeof in);
        else
            snprintf(in, sizeof in, "due");
        snprintf(opens, sizeof opens, "%lld", b->opens);
        x = pane_col(p, c, y, 1, nw, b->name, THEME_NORMAL);
        x = pane_col(p, c, y, x, 9, open ? "OPEN" : "half-open", open ? THEME_ALERT : THEME_WARN);
        x = pane_col(p, c, y, x, 9, in, THEME_NORMAL);
        x = pane_col(p, c, y, x, 5, opens, THEME_DIM);
        pane_col(p, c, y, x, ew, b->last_error[0] ? b->last_error : "-", THEME_WARN);
    }
}

static void agents_draw(struct pane *p, const struct pane_ctx *c)
{
    struct pane_list_state *st = p->state;
    const struct agents_state *as = p->state;
    int w = getmaxx(p->win), rows = rows_of(p), inner = w - 2;
    /* Columns by width: the task and "waiting on budget" from 76, the tier from 100. */
    int tierw = inner >= 100 ? 9 : 0, taskw = inner >= 100 ? 18 : inner >= 76 ? 16 : 0;
    int statw = inner >= 76 ? 17 : 7;
    int fixed = 10 + (tierw ? tierw + 1 : 0) + statw + 1 + 6 + (taskw ? taskw + 1 : 0) + 9;
    int iw = inner - fixed;
    char title[96];
    int x = 1, n;

    if (iw > 32)
        iw = 32;
    n = snprintf(title, sizeof title, "Agents: %zu, %ld dead", st->c.n, st->tally);
    if (as->nbr > 0 && n > 0)
        snprintf(title + n, sizeof title - (size_t)n, "; %zu breaker%s not closed", as->nbr,
                 as->nbr == 1 ? "" : "s");
    pane_frame(p, c, title);
    if (getmaxy(p->win) < 4 || w < 30)
        return;
    draw_breakers(p, c, 2 + rows);
    x = pane_col(p, c, 1, x, iw, "AGENT", THEME_TITLE);
    x = pane_col(p, c, 1, x, 9, "ROLE", THEME_TITLE);
    x = pane_col(p, c, 1, x, tierw, "TIER", THEME_TITLE);
    x = pane_col(p, c, 1, x, statw, "STATUS", THEME_TITLE);
    x = pane_col(p, c, 1, x, 5, "BEAT", THEME_TITLE);
    x = pane_col(p, c, 1, x, taskw, "TASK", THEME_TITLE);
    pane_col(p, c, 1, x, 8, "TODAY", THEME_TITLE);
    if (st->c.nidx == 0) {
        pane_empty(p, c, 2);
        return;
    }
    for (int r = 0; r < rows && p->list.top + r < (int)st->c.nidx; r++) {
        int i = p->list.top + r, y = 2 + r;
        const struct room_agent *a = pane_copy_row(&st->c, i);
        bool sel = i == p->list.selected && p->focused;
        bool dead = strcmp(a->status, "dead") == 0;
        int64_t age = c->now_ms - a->heartbeat_ms;
        static const enum theme_role by_age[] = {THEME_OK, THEME_WARN, THEME_ALERT};
        enum theme_role row = dead ? THEME_ALERT : THEME_NORMAL;
        const char *status = dead             ? "DEAD"
                             : a->budget_wait ? (statw >= 17 ? "waiting on budget" : "budget")
                                              : a->status;
        char beat[16], money[32], id[ROOM_NAME_MAX + 8];

        pane_row(p, y, sel);
        /* Cut in the middle: ids of one role and host differ at their end. */
        x = pane_col(
            p, c, y, 1, iw,
            fmt_middle(a->id, iw > 0 ? (size_t)iw : 0, c->term->glyphs->ellipsis, id, sizeof id),
            PANE_ROLE(sel, row));
        x = pane_col(p, c, y, x, 9, a->role, PANE_ROLE(sel, row));
        x = pane_col(p, c, y, x, tierw, a->tier, PANE_ROLE(sel, dead ? THEME_ALERT : THEME_DIM));
        x = pane_col(p, c, y, x, statw, status,
                     PANE_ROLE(sel, dead                               ? THEME_ALERT
                                    : a->budget_wait                   ? THEME_WARN
                                    : strcmp(a->status, "paused") == 0 ? THEME_WARN
                                    : strcmp(a->status, "busy") == 0   ? THEME_OK
                                                                       : THEME_NORMAL));
        x = pane_col(p, c, y, x, 5, a->heartbeat_ms > 0 ? fmt_age(age, beat, sizeof beat) : "-",
                     PANE_ROLE(sel, by_age[fmt_staleness(age, HB_LATE_MS, HB_STALE_MS)]));
        x = pane_col(p, c, y, x, taskw, a->task[0] ? a->task : "-", PANE_ROLE(sel, THEME_DIM));
        pane_col(p, c, y, x, 8, fmt_money(a->spent_today, money, sizeof money),
                 PANE_ROLE(sel, THEME_NORMAL));
    }
}

static int agents_key(struct pane *p, int action, struct pane_request *req)
{
    struct pane_list_state *st = p->state;
    const struct room_agent *a = pane_copy_selected(p, &st->c);

    switch (action) {
    case ACT_ENTER: /* the story it holds */
        return pane_open(req, a != NULL && a->task[0] != '\0' ? a->task : NULL, NULL);
    case ACT_FILTER:
        rebuild(p);
        return 1;
    default:
        return pane_list_action(p, action, rows_of(p));
    }
}

const struct pane_class pane_agents = {
    .name = "Agents",
    .empty = "no agents registered",
    .head = 1,
    .init = agents_init,
    .free = agents_free,
    .resize = agents_resize,
    .update = agents_update,
    .event = NULL,
    .draw = agents_draw,
    .key = agents_key,
};
