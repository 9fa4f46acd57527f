/*
 * pane_failed.c - the Failed pane: the dead set, every story whose step ran out of attempts
 * (FAILED, recovery/deadset.h), newest failure first. The list is paged from Redis
 * (ROOM_CMD_FAILED, room_failed.lua, through the pager of pane.h, as the review queue is):
 * the pane holds one page around the cursor and asks for another when the cursor leaves it;
 * the filter is applied to the whole dead set on the server (id, title, step, last error). Each
 * row: the id (from 120 columns), the title, the step that failed, the story's attempts, how long
 * ago it failed and its last error. Enter opens the story (its error history is in the detail); u
 * requeues it at the step that failed, U at a step chosen from the list, A requeues every failed
 * story: the app asks first, naming the story (or how many), and the worker's answer shows in the
 * status line.
 *
 * Threads: the UI thread's. update() notes when fresh data is due; failed_page() copies a
 * page.
 */
#include "ui/pane.h"

#include "core/fail.h"
#include "ui/fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct failed_state {
    struct pane_pager g; /* struct room_failed records */
    long count;          /* FAILED stories in the last snapshot (-1: none yet) */
};

static void *failed_init(void)
{
    struct failed_state *st = xcalloc(1, sizeof *st);

    st->g.size = sizeof(struct room_failed);
    st->g.view_changed = true;
    st->count = -1;
    return st;
}

static void failed_free(void *state)
{
    struct failed_state *st = state;

    if (st == NULL)
        return;
    pane_pager_free(&st->g);
    free(st);
}

static int rows_of(const struct pane *p)
{
    return pane_rows(p, 1);
}

/* The row of list position i when the page holds it, else NULL. */
static const struct room_failed *row_at(const struct failed_state *st, long i)
{
    return pane_pager_row(&st->g, i);
}

/* The server's filter, applied here while its answer is on its way: the same fields, ASCII
 * case folded. */
static bool match(const void *rec, const char *filter, const void *arg)
{
    const struct room_failed *v = rec;
    const char *f[] = {v->id, v->title, v->step, v->error};

    (void)arg;
    return fmt_match_any(f, 4, filter);
}

static const char *id_of(const void *rec)
{
    return ((const struct room_failed *)rec)->id;
}

static void failed_resize(struct pane *p)
{
    pane_fit(p, p->list.count, rows_of(p));
}

/* Fresh rows are asked for when the dead set's size changed, and on every snapshot while the
 * pane is on the screen (a story may fail as another is requeued). */
static void failed_update(struct pane *p, const struct room_snapshot *s)
{
    struct failed_state *st = p->state;
    long count = 0;

    for (int sec = 0; sec < BB_SECTION_COUNT; sec++)
        count += s->counts[sec][BB_FAILED];
    if (count != st->count || p->win != NULL)
        st->g.refresh = true;
    st->count = count;
}

static void failed_page(struct pane *p, const struct room_failed_page *pg)
{
    struct failed_state *st = p->state;
    const struct pane_page page = {pg->seq,   pg->filter, pg->error, pg->rows,
                                   pg->nrows, pg->offset, pg->total, pg->matching};

    pane_pager_take(p, &st->g, &page, match, id_of, rows_of(p));
}

static int failed_query(struct pane *p, struct room_cmd *c)
{
    struct failed_state *st = p->state;
    long offset;

    if (!pane_pager_query(p, &st->g, ROOM_FAILED_PAGE, &offset))
        return 0;
    memset(c, 0, sizeof *c);
    c->kind = ROOM_CMD_FAILED;
    snprintf(c->text, sizeof c->text, "%s", p->filter);
    c->amount = offset;
    return 1;
}

static void failed_draw(struct pane *p, const struct pane_ctx *c)
{
    struct failed_state *st = p->state;
    int w = getmaxx(p->win), rows = rows_of(p), inner = w - 2;
    int idw = inner >= 110 ? 16 : 0;
    /* The step, tries and when columns take 20; the rest is shared by title and error. */
    int rest = inner - (idw ? idw + 1 : 0) - 20, tw = rest * 2 / 5, ew = rest - tw - 1, x, n;
    const char *hint = "  u requeue  U at a step  A all";
    char title[160], age[16];

    if (st->g.local)
        n = snprintf(title, sizeof title, "Failed: %zu of %ld (searching)", st->g.nview,
                     st->g.total);
    else if (st->g.matching != st->g.total)
        n = snprintf(title, sizeof title, "Failed: %ld of %ld", st->g.matching, st->g.total);
    else
        n = snprintf(title, sizeof title, "Failed: %ld stor%s", st->g.total,
                     st->g.total == 1 ? "y" : "ies");
    /* The keys that act, while the title leaves room for them and the filter. */
    if (!c->read_only && st->g.total > 0 && n > 0 &&
        n + (int)strlen(hint) + (int)strlen(p->filter) + 24 < w)
        snprintf(title + n, sizeof title - (size_t)n, "%s", hint);
    pane_frame(p, c, title);
    if (getmaxy(p->win) < 4 || w < 30)
        return;
    x = pane_col(p, c, 1, 1, idw, "ID", THEME_TITLE);
    x = pane_col(p, c, 1, x, tw, "TITLE", THEME_TITLE);
    x = pane_col(p, c, 1, x, 7, "STEP", THEME_TITLE);
    x = pane_col(p, c, 1, x, 5, "TRIES", THEME_TITLE);
    x = pane_col(p, c, 1, x, 5, "AGO", THEME_TITLE);
    pane_col(p, c, 1, x, ew, "LAST ERROR", THEME_TITLE);
    if (p->list.count == 0) {
        pane_empty(p, c, 2);
        return;
    }
    for (int r = 0; r < rows && p->list.top + r < p->list.count; r++) {
        int i = p->list.top + r, y = 2 + r;
        const struct room_failed *v = row_at(st, i);
        bool sel = i == p->list.selected && p->focused;
        char tries[16];

        pane_row(p, y, sel);
        if (v == NULL) {
            pane_col(p, c, y, 1, inner, c->term->glyphs->ellipsis, PANE_ROLE(sel, THEME_DIM));
            continue;
        }
        snprintf(tries, sizeof tries, "%d", v->attempts);
        x = pane_col(p, c, y, 1, idw, v->id, PANE_ROLE(sel, THEME_DIM));
        x = pane_col(p, c, y, x, tw, v->title, PANE_ROLE(sel, THEME_NORMAL));
        x = pane_col(p, c, y, x, 7, v->step, PANE_ROLE(sel, THEME_TITLE));
        x = pane_col(p, c, y, x, 5, tries, PANE_ROLE(sel, THEME_NORMAL));
        x = pane_col(p, c, y, x, 5, fmt_age(c->now_ms - v->failed_ms, age, sizeof age),
                     PANE_ROLE(sel, THEME_DIM));
        pane_col(p, c, y, x, ew, v->error, PANE_ROLE(sel, THEME_WARN));
    }
}

/* The request an acting key makes of the selected story. */
static const struct {
    int action, req;
} failed_actions[] = {
    {ACT_REQUEUE, PANE_REQ_REQUEUE},
    {ACT_REQUEUE_STEP, PANE_REQ_REQUEUE_STEP},
};

static int failed_key(struct pane *p, int action, struct pane_request *req)
{
    struct failed_state *st = p->state;
    const struct room_failed *v = row_at(st, p->list.selected);

    for (size_t i = 0; i < sizeof failed_actions / sizeof failed_actions[0]; i++) {
        if (failed_actions[i].action != action)
            continue;
        if (v == NULL) {
            req->kind = PANE_REQ_MESSAGE;
            snprintf(req->title, sizeof req->title, "no failed story is selected");
            return 1;
        }
        req->kind = failed_actions[i].req;
        snprintf(req->id, sizeof req->id, "%s", v->id);
        snprintf(req->title, sizeof req->title, "%s", v->title);
        snprintf(req->step, sizeof req->step, "%s", v->step);
        snprintf(req->note, sizeof req->note, "%s", v->error);
        req->amount = v->attempts;
        return 1;
    }
    switch (action) {
    case ACT_ENTER:
        return pane_open(req, v != NULL ? v->id : NULL, v != NULL ? v->title : NULL);
    case ACT_REQUEUE_ALL:
        if (st->g.total == 0) {
            req->kind = PANE_REQ_MESSAGE;
            snprintf(req->title, sizeof req->title, "no failed story to requeue");
        } else {
            req->kind = PANE_REQ_REQUEUE_ALL;
            req->amount = st->g.total;
        }
        return 1;
    case ACT_FILTER: /* the app changed p->filter: the server filters the whole dead set, the
                      * page here narrows at once */
        pane_pager_filter(p, &st->g, match, rows_of(p));
        return 1;
    default:
        return pane_list_action(p, action, rows_of(p));
    }
}

const struct pane_class pane_failed = {
    .name = "Failed",
    .empty = "no failed stories",
    .head = 1,
    .init = failed_init,
    .free = failed_free,
    .resize = failed_resize,
    .update = failed_update,
    .event = NULL,
    .draw = failed_draw,
    .key = failed_key,
    .query = failed_query,
    .page = NULL,
    .failed_page = failed_page,
};
