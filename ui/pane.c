/*
 * pane.c - what the pane files share: the frame (box, title, filter, age mark), the list's
 * visible rows and movement, and the empty-list line. Curses only in the drawing helpers,
 * which the panes call from their draw().
 *
 * Threads: the UI thread's.
 */
#include "ui/pane.h"

#include "ui/fmt.h"

#include <stdio.h>

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
    werase(p->win);
    ui_box(p->win, c->term, buf, p->focused);
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
