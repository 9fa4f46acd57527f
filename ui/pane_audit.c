/*
 * pane_audit.c - the audit view: the operator actions of the audit stream, newest first
 * (when, who, from where, what, which story, why), as the snapshot carries them; every
 * control room and `ctl` adds to the same stream, so each sees the others' actions.
 *
 * Threads: the UI thread's. update() copies the audit records from the snapshot.
 */
#include "ui/pane.h"

#include "core/text.h"
#include "ui/fmt.h"

#include <stdio.h>
#include <string.h>

static bool match(const void *rec, const char *filter, const void *arg)
{
    const struct room_audit *a = rec;
    const char *f[] = {a->user, a->from, a->what, a->item, a->reason};

    (void)arg;
    return fmt_match_any(f, 5, filter);
}

static void rebuild(struct pane *p)
{
    struct pane_list_state *st = p->state;

    pane_list_rebuild(p, &st->c, match, NULL);
}

static void audit_update(struct pane *p, const struct room_snapshot *s)
{
    struct pane_list_state *st = p->state;

    pane_copy_set(p, &st->c, s->audit, s->naudit, sizeof *s->audit, NULL);
    rebuild(p);
}

static void audit_draw(struct pane *p, const struct pane_ctx *c)
{
    struct pane_list_state *st = p->state;
    int w = getmaxx(p->win), rows = pane_list_rows(p), x = 1;
    /* The story column stays from 60 columns on (the grids' audit pane is that wide); the
     * date of the time goes first, then who is cut shorter. */
    int tw = w - 2 >= 100 ? 19 : 8, whow = w - 2 >= 90 ? 16 : 12, sw = w - 2 >= 56 ? 16 : 0;
    char title[64];

    snprintf(title, sizeof title, "Audit: %zu operator actions", st->c.n);
    pane_frame(p, c, title);
    if (getmaxy(p->win) < 4 || w < 30)
        return;
    x = pane_col(p, c, 1, x, tw, tw >= 19 ? "WHEN (UTC)" : "WHEN UTC", THEME_TITLE);
    x = pane_col(p, c, 1, x, whow, "WHO", THEME_TITLE);
    x = pane_col(p, c, 1, x, 12, "WHAT", THEME_TITLE);
    x = pane_col(p, c, 1, x, sw, "STORY", THEME_TITLE);
    pane_col(p, c, 1, x, w - 1 - x, "WHY", THEME_TITLE);
    if (st->c.nidx == 0) {
        pane_empty(p, c, 2);
        return;
    }
    for (int r = 0; r < rows && p->list.top + r < (int)st->c.nidx; r++) {
        int i = p->list.top + r, y = 2 + r;
        const struct room_audit *a = pane_copy_row(&st->c, i);
        bool sel = i == p->list.selected && p->focused;
        char when[32], who[160];

        if (a->from[0] != '\0')
            snprintf(who, sizeof who, "%s@%s", a->user, a->from);
        else
            snprintf(who, sizeof who, "%s", a->user);
        pane_row(p, y, sel);
        text_utc(a->time_ms, when, sizeof when);
        x = pane_col(p, c, y, 1, tw, tw < 19 && strlen(when) > 11 ? when + 11 : when,
                     PANE_ROLE(sel, THEME_DIM));
        x = pane_col(p, c, y, x, whow, who, PANE_ROLE(sel, THEME_NORMAL));
        x = pane_col(p, c, y, x, 12, a->what,
                     PANE_ROLE(sel, strcmp(a->what, "emergency") == 0 ? THEME_ALERT : THEME_TITLE));
        x = pane_col(p, c, y, x, sw, a->item[0] ? a->item : "-", PANE_ROLE(sel, THEME_DIM));
        pane_col(p, c, y, x, w - 1 - x, a->reason, PANE_ROLE(sel, THEME_NORMAL));
    }
}

static int audit_key(struct pane *p, int action, struct pane_request *req)
{
    struct pane_list_state *st = p->state;
    const struct room_audit *a = pane_copy_selected(p, &st->c);

    switch (action) {
    case ACT_ENTER: /* the story acted on */
        return pane_open(req, a != NULL && a->item[0] != '\0' ? a->item : NULL, NULL);
    default:
        return pane_list_key(p, action, rebuild);
    }
}

const struct pane_class pane_audit = {
    .name = "Audit",
    .empty = "no operator actions recorded",
    .head = 1,
    .init = pane_list_init,
    .free = pane_list_free,
    .resize = pane_list_resize,
    .update = audit_update,
    .event = NULL,
    .draw = audit_draw,
    .key = audit_key,
};
