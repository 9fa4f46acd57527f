/*
 * pane.c - what the pane files share: the frame (box, title, filter, age mark), the list's
 * visible rows and movement, the empty-list line, and the copied list (records copied from a
 * snapshot, filtered, the selection following its record's id), the pager of a list paged
 * from Redis, and the state, resize and keys of a list pane over one copied list. Curses only
 * in the drawing helpers, which the panes call from their draw().
 *
 * Threads: the UI thread's.
 */
#include "ui/pane.h"

#include "core/fail.h"
#include "ui/fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pane_frame(struct pane *p, const struct pane_ctx *c, const char *title)
{
    char buf[PANE_FILTER_MAX + 160], age[16];
    int n;

    n = snprintf(buf, sizeof buf, "%s", title);
    if (p->filter[0] != '\0' && n >= 0 && (size_t)n < sizeof buf)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " /%s", p->filter);
    if (c->stale && n >= 0 && (size_t)n < sizeof buf) {
        if (c->snap_age_ms < 0)
            snprintf(buf + n, sizeof buf - (size_t)n, " (no data yet)");
        else
            snprintf(buf + n, sizeof buf - (size_t)n, " (updated %s ago)",
                     fmt_age(c->snap_age_ms, age, sizeof age));
    }
    pane_background(p->win);
    werase(p->win);
    ui_box(p->win, c->term, buf, p->focused);
}

void pane_background(WINDOW *w)
{
    wbkgdset(w, (chtype)theme_attr(THEME_NORMAL) | ' ');
}

int pane_rows(const struct pane *p, int extra)
{
    int rows = p->win != NULL ? getmaxy(p->win) - 2 - extra : 0;

    return rows > 0 ? rows : 0;
}

/* The curses key ui_list_key() knows for each movement action. */
static const struct {
    int action, key;
} moves[] = {
    {ACT_UP, KEY_UP},      {ACT_DOWN, KEY_DOWN}, {ACT_PGUP, KEY_PPAGE},
    {ACT_PGDN, KEY_NPAGE}, {ACT_HOME, KEY_HOME}, {ACT_END, KEY_END},
};

int pane_list_action(struct pane *p, int action, int rows)
{
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
        if (moves[i].action == action) {
            ui_list_key(&p->list, moves[i].key, rows > 0 ? rows : 1);
            return 1;
        }
    return 0;
}

void pane_empty(struct pane *p, const struct pane_ctx *c, int y)
{
    const char *what = p->filter[0] != '\0' ? "nothing matches the filter" : p->cls->empty;

    if (y < getmaxy(p->win) - 1)
        ui_text(p->win, c->term, y, 2, what, getmaxx(p->win) - 4, THEME_DIM);
}

int pane_col(struct pane *p, const struct pane_ctx *c, int y, int x, int cols, const char *s,
             enum theme_role role)
{
    int right = getmaxx(p->win) - 1;

    if (cols <= 0)
        return x; /* a column left out at this width */
    if (cols > right - x)
        cols = right - x;
    if (cols > 0)
        ui_text(p->win, c->term, y, x, s, cols, role);
    return x + (cols > 0 ? cols : 0) + 1;
}

void pane_row(struct pane *p, int y, bool selected)
{
    if (!selected || y <= 0 || y >= getmaxy(p->win) - 1)
        return;
    wattrset(p->win, theme_attr(THEME_SELECTED));
    mvwhline(p->win, y, 1, ' ', getmaxx(p->win) - 2);
    wattrset(p->win, A_NORMAL);
}

void pane_fit(struct pane *p, int count, int rows)
{
    p->list.count = count;
    ui_list_fit(&p->list, rows > 0 ? rows : 1);
}

void pane_copy_free(struct pane_copy *c)
{
    free(c->rec);
    free(c->idx);
    c->rec = NULL;
    c->idx = NULL;
    c->n = c->nidx = 0;
}

void pane_copy_set(const struct pane *p, struct pane_copy *c, const void *rec, size_t n,
                   size_t size, pane_id_fn id)
{
    const void *was = id != NULL ? pane_copy_selected(p, c) : NULL;

    snprintf(c->keep, sizeof c->keep, "%s", was != NULL ? id(was) : "");
    c->rec = xrealloc(c->rec, (n + 1) * size);
    if (n > 0)
        memcpy(c->rec, rec, n * size);
    c->n = n;
    c->size = size;
}

const void *pane_copy_row(const struct pane_copy *c, int i)
{
    return (const char *)c->rec + c->idx[i] * c->size;
}

const void *pane_copy_selected(const struct pane *p, const struct pane_copy *c)
{
    if (p->list.selected < 0 || (size_t)p->list.selected >= c->nidx ||
        c->idx[p->list.selected] >= c->n)
        return NULL;
    return pane_copy_row(c, p->list.selected);
}

void pane_copy_filter(struct pane *p, struct pane_copy *c, size_t extra, pane_match_fn match,
                      const void *arg, pane_id_fn id)
{
    const void *was = id != NULL && c->keep[0] == '\0' ? pane_copy_selected(p, c) : NULL;
    char keep[sizeof c->keep];

    /* After a new copy: the record selected before it; else (the filter changed) the one
     * selected now. */
    snprintf(keep, sizeof keep, "%s", c->keep[0] != '\0' ? c->keep : was != NULL ? id(was) : "");
    c->keep[0] = '\0';
    c->idx = xrealloc(c->idx, (c->n + extra + 1) * sizeof *c->idx);
    c->nidx = 0;
    for (size_t i = 0; i < c->n; i++) {
        const void *rec = (const char *)c->rec + i * c->size;

        if (match != NULL && !match(rec, p->filter, arg))
            continue;
        if (keep[0] != '\0' && strcmp(id(rec), keep) == 0)
            p->list.selected = (int)c->nidx;
        c->idx[c->nidx++] = i;
    }
}

void pane_pager_free(struct pane_pager *g)
{
    free(g->rows);
    free(g->base);
    free(g->vidx);
    g->rows = g->base = NULL;
    g->vidx = NULL;
    g->nrows = g->nbase = g->nview = 0;
}

const void *pane_pager_row(const struct pane_pager *g, long i)
{
    if (g->local)
        return i >= 0 && i < (long)g->nview ? (const char *)g->base + g->vidx[i] * g->size : NULL;
    if (i < g->offset || i >= g->offset + (long)g->nrows)
        return NULL;
    return (const char *)g->rows + (size_t)(i - g->offset) * g->size;
}

void pane_pager_view(struct pane *p, struct pane_pager *g, pane_match_fn match, int rows)
{
    g->local = strcmp(g->page_filter, p->filter) != 0;
    g->nview = 0;
    g->vidx = xrealloc(g->vidx, (g->nbase + 1) * sizeof *g->vidx);
    for (size_t i = 0; g->local && i < g->nbase; i++)
        if (match((const char *)g->base + i * g->size, p->filter, NULL))
            g->vidx[g->nview++] = i;
    pane_fit(p, g->local ? (int)g->nview : (int)g->matching, rows);
}

/* Copies n records of size bytes into *dst (grown as needed). */
static void copy_records(void **dst, const void *src, size_t n, size_t size)
{
    *dst = xrealloc(*dst, (n + 1) * size);
    if (n > 0)
        memcpy(*dst, src, n * size);
}

bool pane_pager_take(struct pane *p, struct pane_pager *g, const struct pane_page *pg,
                     pane_match_fn match, pane_id_fn id, int rows)
{
    const void *sel = pane_pager_row(g, p->list.selected);

    if (pg->seq > g->answered)
        g->answered = pg->seq;
    if (pg->error != NULL || pg->seq < g->page_seq || strcmp(pg->filter, p->filter) != 0)
        return false; /* an answer to a view left since */
    if (sel != NULL)
        snprintf(g->keep, sizeof g->keep, "%s", id(sel));
    g->page_seq = pg->seq;
    copy_records(&g->rows, pg->rows, pg->nrows, g->size);
    g->nrows = pg->nrows;
    g->offset = pg->offset;
    g->total = pg->total;
    g->matching = pg->matching;
    snprintf(g->page_filter, sizeof g->page_filter, "%s", pg->filter);
    if (pg->filter[0] == '\0') { /* the base a filter narrows at once, before its answer */
        copy_records(&g->base, pg->rows, pg->nrows, g->size);
        g->nbase = pg->nrows;
    }
    g->have = true;
    /* The selection follows its record when the page still holds it. */
    for (size_t i = 0; g->keep[0] != '\0' && i < g->nrows; i++)
        if (strcmp(id((const char *)g->rows + i * g->size), g->keep) == 0) {
            p->list.selected = (int)(g->offset + (long)i);
            break;
        }
    pane_pager_view(p, g, match, rows);
    return true;
}

void pane_pager_filter(struct pane *p, struct pane_pager *g, pane_match_fn match, int rows)
{
    g->view_changed = true;
    p->list.selected = p->list.top = 0;
    pane_pager_view(p, g, match, rows);
}

bool pane_pager_query(const struct pane *p, struct pane_pager *g, long page, long *offset)
{
    long sel = p->list.selected, want = g->offset;
    bool paged = g->have && !g->local;
    bool outside =
        paged &&
        ((sel < g->offset + 5 && g->offset > 0) ||
         (sel >= g->offset + (long)g->nrows - 5 && g->offset + (long)g->nrows < g->matching));

    if (outside)
        want = sel > page / 2 ? sel - page / 2 : 0;
    if (g->view_changed)
        want = 0;
    if (!g->view_changed && !g->refresh && !(outside && want != g->asked_offset))
        return false;
    if (!g->view_changed && !outside && p->query_seq > g->answered)
        return false; /* a refresh is on its way already */
    *offset = g->asked_offset = want;
    g->view_changed = g->refresh = false;
    return true;
}

void *pane_list_init(void)
{
    return xcalloc(1, sizeof(struct pane_list_state));
}

void pane_list_free(void *state)
{
    struct pane_list_state *st = state;

    if (st == NULL)
        return;
    pane_copy_free(&st->c);
    free(st);
}

int pane_list_rows(const struct pane *p)
{
    return pane_rows(p, p->cls->head);
}

void pane_list_resize(struct pane *p)
{
    pane_fit(p, p->list.count, pane_list_rows(p));
}

void pane_list_rebuild(struct pane *p, struct pane_copy *c, pane_match_fn match, pane_id_fn id)
{
    pane_copy_filter(p, c, 0, match, NULL, id);
    pane_fit(p, (int)c->nidx, pane_list_rows(p));
}

int pane_list_key(struct pane *p, int action, void (*rebuild)(struct pane *p))
{
    if (action == ACT_FILTER) {
        rebuild(p);
        return 1;
    }
    return pane_list_action(p, action, pane_list_rows(p));
}

int pane_open(struct pane_request *req, const char *id, const char *title)
{
    if (id == NULL)
        return 0;
    req->kind = PANE_REQ_DETAIL;
    snprintf(req->id, sizeof req->id, "%s", id);
    if (title != NULL)
        snprintf(req->title, sizeof req->title, "%s", title);
    return 1;
}
