/*
 * pane_agents.c - the agents pane: id (cut in the middle, so ids that differ at the end stay
 * apart), role, tier, status ("waiting on budget" when an open budget request refused one of
 * its calls), heartbeat age coloured by how stale it is, the story it holds now (its lock),
 * its spend today. Dead agents stand out.
 *
 * Threads: the UI thread's. update() copies the agents from the snapshot.
 */
#include "ui/pane.h"

#include "ui/fmt.h"

#include <stdio.h>
#include <string.h>

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
    struct pane_list_state *st = p->state;

    pane_list_rebuild(p, &st->c, match, NULL);
}

static void agents_update(struct pane *p, const struct room_snapshot *s)
{
    struct pane_list_state *st = p->state;

    pane_copy_set(p, &st->c, s->agents, s->nagents, sizeof *s->agents, NULL);
    st->tally = 0; /* dead agents */
    for (size_t i = 0; i < s->nagents; i++)
        st->tally += strcmp(s->agents[i].status, "dead") == 0;
    rebuild(p);
}

static void agents_draw(struct pane *p, const struct pane_ctx *c)
{
    struct pane_list_state *st = p->state;
    int w = getmaxx(p->win), rows = pane_list_rows(p), inner = w - 2;
    /* Columns by width: the task and "waiting on budget" from 76, the tier from 100. */
    int tierw = inner >= 100 ? 9 : 0, taskw = inner >= 100 ? 18 : inner >= 76 ? 16 : 0;
    int statw = inner >= 76 ? 17 : 7;
    int fixed = 10 + (tierw ? tierw + 1 : 0) + statw + 1 + 6 + (taskw ? taskw + 1 : 0) + 9;
    int iw = inner - fixed;
    char title[64];
    int x = 1;

    if (iw > 32)
        iw = 32;
    snprintf(title, sizeof title, "Agents: %zu, %ld dead", st->c.n, st->tally);
    pane_frame(p, c, title);
    if (getmaxy(p->win) < 4 || w < 30)
        return;
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
    default:
        return pane_list_key(p, action, rebuild);
    }
}

const struct pane_class pane_agents = {
    .name = "Agents",
    .empty = "no agents registered",
    .head = 1,
    .init = pane_list_init,
    .free = pane_list_free,
    .resize = pane_list_resize,
    .update = agents_update,
    .event = NULL,
    .draw = agents_draw,
    .key = agents_key,
};
