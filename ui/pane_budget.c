/*
 * pane_budget.c - the budget pane: open budget requests at the top (g grants, d declines the
 * selected one), then the swarm's day (gauge with the alert threshold marked, the spend rate
 * and where today ends at that rate) and every agent's day and hour gauges.
 *
 * Threads: the UI thread's. update() copies budgets and requests from the snapshot. The list
 * runs over the requests first, then the budget rows (the global one first).
 */
#include "ui/pane.h"

#include "core/fail.h"
#include "ui/fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct budget_state {
    struct pane_copy req;  /* struct room_request; its idx lists the rows passing the filter:
                            * < req.n a request, else req.n + budget row */
    struct room_budget *b; /* the global row first */
    size_t nb;
    int64_t rate_per_h;
};

static void *budget_init(void)
{
    return xcalloc(1, sizeof(struct budget_state));
}

static void budget_free(void *state)
{
    struct budget_state *st = state;

    if (st == NULL)
        return;
    pane_copy_free(&st->req);
    free(st->b);
    free(st);
}

static bool match(const void *rec, const char *filter, const void *arg)
{
    const struct room_request *q = rec;
    const char *f[] = {q->id, q->agent, q->limit, q->window};

    (void)arg;
    return fmt_match_any(f, 4, filter);
}

static const char *id_of(const void *rec)
{
    return ((const struct room_request *)rec)->id;
}

static void rebuild(struct pane *p)
{
    struct budget_state *st = p->state;
    struct pane_copy *c = &st->req;

    pane_copy_filter(p, c, st->nb, match, NULL, id_of);
    for (size_t i = 0; i < st->nb; i++)
        if (fmt_match(st->b[i].agent, p->filter) || strcmp(st->b[i].agent, "*") == 0)
            c->idx[c->nidx++] = c->n + i;
    pane_fit(p, (int)c->nidx, pane_list_rows(p));
}

static void budget_update(struct pane *p, const struct room_snapshot *s)
{
    struct budget_state *st = p->state;
    size_t k = 0;

    pane_copy_set(p, &st->req, s->requests, s->nrequests, sizeof *s->requests, id_of);
    st->b = xrealloc(st->b, (s->nbudgets + 1) * sizeof *st->b);
    /* The global row ("*", last in the snapshot) goes first. */
    for (size_t i = 0; i < s->nbudgets; i++)
        if (strcmp(s->budgets[i].agent, "*") == 0)
            st->b[k++] = s->budgets[i];
    for (size_t i = 0; i < s->nbudgets; i++)
        if (strcmp(s->budgets[i].agent, "*") != 0)
            st->b[k++] = s->budgets[i];
    st->nb = k;
    st->rate_per_h = s->spend_rate_per_h;
    rebuild(p);
}

static double frac(int64_t spent, int64_t limit)
{
    return limit > 0 ? (double)spent / (double)limit : 0.0;
}

/* "$1.20/$5.00" or "$1.20/none". */
static const char *amounts(int64_t spent, int64_t limit, char *buf, size_t size)
{
    char a[32], b[32];

    snprintf(buf, size, "%s/%s", fmt_money(spent, a, sizeof a),
             limit > 0 ? fmt_money(limit, b, sizeof b) : "none");
    return buf;
}

static void draw_request(struct pane *p, const struct pane_ctx *c, int y,
                         const struct room_request *q, bool sel)
{
    char needed[32], age[16], line[256];
    int x;

    snprintf(line, sizeof line, "%s %s %s needs %s, %lld waiting, %s ago", q->agent, q->limit,
             q->window, fmt_money(q->needed, needed, sizeof needed), q->waiting,
             fmt_age(c->now_ms - q->time_ms, age, sizeof age));
    pane_row(p, y, sel);
    x = pane_col(p, c, y, 1, 8, "REQUEST", PANE_ROLE(sel, THEME_WARN));
    x = pane_col(p, c, y, x, 12, q->id, PANE_ROLE(sel, THEME_DIM));
    pane_col(p, c, y, x, getmaxx(p->win) - 1 - x, line, PANE_ROLE(sel, THEME_NORMAL));
}

static void draw_budget(struct pane *p, const struct pane_ctx *c, int y,
                        const struct room_budget *b, bool sel)
{
    int w = getmaxx(p->win), inner = w - 2, gw, x;
    bool hour = inner >= 90; /* narrow panes show the day only */
    char buf[64], id[ROOM_NAME_MAX + 8];
    double alert = b->alert_ppm > 0 ? (double)b->alert_ppm / 1e6 : -1;
    bool global = strcmp(b->agent, "*") == 0;
    int64_t day = b->day_spent + b->day_reserved;

    /* agent | day gauge | amounts | hour gauge | amounts */
    gw = global || !hour ? inner - 15 - 5 - 15 - 2 : (inner - 15 - 2 * (5 + 15 + 1)) / 2;
    if (gw > 40)
        gw = 40;
    if (gw < 4)
        gw = 4;
    pane_row(p, y, sel);
    x = pane_col(p, c, y, 1, 14,
                 global ? "SWARM"
                        : fmt_middle(b->agent, 14, c->term->glyphs->ellipsis, id, sizeof id),
                 PANE_ROLE(sel, global ? THEME_TITLE : THEME_NORMAL));
    x = pane_col(p, c, y, x, 4, "day", PANE_ROLE(sel, THEME_DIM));
    if (x + gw < w)
        ui_gauge(p->win, c->term, y, x, gw, frac(day, b->day_limit), alert);
    x += gw + 1;
    x = pane_col(p, c, y, x, 14, amounts(day, b->day_limit, buf, sizeof buf),
                 PANE_ROLE(sel, b->day_limit > 0 && frac(day, b->day_limit) >= alert && alert > 0
                                    ? THEME_WARN
                                    : THEME_NORMAL));
    if (global || !hour)
        return;
    x = pane_col(p, c, y, x, 4, "hour", PANE_ROLE(sel, THEME_DIM));
    day = b->hour_spent + b->hour_reserved;
    if (x + gw < w)
        ui_gauge(p->win, c->term, y, x, gw, frac(day, b->hour_limit), alert);
    x += gw + 1;
    pane_col(p, c, y, x, 14, amounts(day, b->hour_limit, buf, sizeof buf),
             PANE_ROLE(sel, THEME_NORMAL));
}

static void budget_draw(struct pane *p, const struct pane_ctx *c)
{
    struct budget_state *st = p->state;
    int w = getmaxx(p->win), rows = pane_list_rows(p);
    char title[64], line[256], a[32], b[32], d[32];
    const struct room_budget *g = NULL;

    for (size_t i = 0; i < st->nb; i++)
        if (strcmp(st->b[i].agent, "*") == 0)
            g = &st->b[i];
    snprintf(title, sizeof title, "Budget: %zu open request%s", st->req.n,
             st->req.n == 1 ? "" : "s");
    pane_frame(p, c, title);
    if (getmaxy(p->win) < 5 || w < 30)
        return;
    if (g != NULL) {
        int64_t spent = g->day_spent + g->day_reserved;
        int64_t end = fmt_day_end(spent, st->rate_per_h, c->now_ms);

        snprintf(line, sizeof line, "spending %s/h; today ends at %s%s%s",
                 fmt_money(st->rate_per_h, a, sizeof a), fmt_money(end, b, sizeof b),
                 g->day_limit > 0 ? " of " : "",
                 g->day_limit > 0 ? fmt_money(g->day_limit, d, sizeof d) : "");
        ui_text(p->win, c->term, 1, 2, line, w - 4,
                g->day_limit > 0 && end > g->day_limit ? THEME_ALERT : THEME_NORMAL);
    } else {
        ui_text(p->win, c->term, 1, 2, "no budget figures yet", w - 4, THEME_DIM);
    }
    ui_text(p->win, c->term, 2, 2,
            st->req.n > 0 ? "g grant / d decline the selected request" : "no open requests", w - 4,
            THEME_DIM);
    if (st->req.nidx == 0) {
        pane_empty(p, c, 3);
        return;
    }
    for (int r = 0; r < rows && p->list.top + r < (int)st->req.nidx; r++) {
        int i = p->list.top + r;
        size_t k = st->req.idx[i];
        bool sel = i == p->list.selected && p->focused;

        if (k < st->req.n)
            draw_request(p, c, 3 + r, pane_copy_row(&st->req, i), sel);
        else
            draw_budget(p, c, 3 + r, &st->b[k - st->req.n], sel);
    }
}

static int budget_key(struct pane *p, int action, struct pane_request *req)
{
    struct budget_state *st = p->state;
    const struct room_request *q = pane_copy_selected(p, &st->req);

    switch (action) {
    case ACT_GRANT:
    case ACT_DECLINE:
        if (q == NULL) {
            req->kind = PANE_REQ_MESSAGE;
            snprintf(req->title, sizeof req->title,
                     st->req.n > 0 ? "select an open request (the top rows) first"
                                   : "no open budget request");
            return 1;
        }
        req->kind = action == ACT_GRANT ? PANE_REQ_GRANT : PANE_REQ_DECLINE;
        snprintf(req->id, sizeof req->id, "%s", q->id);
        snprintf(req->title, sizeof req->title, "%s %s (%s)", q->agent, q->limit, q->window);
        req->amount = q->needed;
        return 1;
    default:
        return pane_list_key(p, action, rebuild);
    }
}

const struct pane_class pane_budget = {
    .name = "Budget",
    .empty = "no budgets yet",
    .head = 2, /* the header row, and the global line's gauge, then rate and day end */
    .init = budget_init,
    .free = budget_free,
    .resize = pane_list_resize,
    .update = budget_update,
    .event = NULL,
    .draw = budget_draw,
    .key = budget_key,
};
