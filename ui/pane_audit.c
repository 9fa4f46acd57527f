/*
 * pane_audit.c - the audit view: the operator actions of the audit stream, newest first
 * (when, who, from where, what, which story, why), as the snapshot carries them; every
 * control room and `ctl` adds to the same stream, so each sees the others' actions.
 *
 * Threads: the UI thread's. update() copies the audit records from the snapshot.
 */
#include "ui/pane.h"

#include "core/fail.h"
#include "core/text.h"
#include "ui/fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct audit_state {
    struct pane_copy c; /* struct room_audit */
};

static void *audit_init(void)
{
    return xcalloc(1, sizeof(struct audit_state));
}

static void audit_free(void *state)
{
    struct audit_state *st = state;

    if (st == NULL)
        return;
    pane_copy_free(&st->c);
    free(st);
}

static int rows_of(const struct pane *p)
{
    return pane_rows(p, 1);
}

static bool match(const void *rec, const char *filter, const void *arg)
{
    const struct room_audit *a = rec;
    const char *f[] = {a->user, a->from, a->what, a->item, a->reason};

    (void)arg;
    return fmt_match_any(f, 5, filter);
}

static void rebuild(struct pane *p)
{
    struct audit_state *st = p->state;

    pane_copy_filter(p, &st->c, 0, match, NULL, NULL);
    pane_fit(p, (int)st->c.nidx, rows_of(p));
}

static void audit_resize(struct pane *p)
{
    pane_fit(p, p->list.count, rows_of(p));
}

static void audit_update(struct pane *p, const struct room_snapshot *s)
{
    struct audit_state *st = p->state;

    pane_copy_set(p, &st->c, s->audit, s->naudit, sizeof *s->audit, NULL);
    rebuild(p);
}

static void audit_draw(struct pane *p, const struct pane_ctx *c)
{
    struct audit_state *st = p->state;
    int w = getmaxx(p->win), rows = rows_of(p), x = 1;
    int tw = w - 2 >= 90 ? 19 : 8, sw = w - 2 >= 70 ? 16 : 0;
    char title[64];

    snprintf(title, sizeof title, "Audit: %zu operator actions", st->c.n);
    pane_frame(p, c, title);
    if (getmaxy(p->win) < 4 || w < 30)
        return;
    x = pane_col(p, c, 1, x, tw, "WHEN (UTC)", THEME_TITLE);
    x = pane_col(p, c, 1, x, 16, "WHO", THEME_TITLE);
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
        x = pane_col(p, c, y, x, 16, who, PANE_ROLE(sel, THEME_NORMAL));
        x = pane_col(p, c, y, x, 12, a->what,
                     PANE_ROLE(sel, strcmp(a->what, "emergency") == 0 ? THEME_ALERT : THEME_TITLE));
        x = pane_col(p, c, y, x, sw, a->item[0] ? a->item : "-", PANE_ROLE(sel, THEME_DIM));
        pane_col(p, c, y, x, w - 1 - x, a->reason, PANE_ROLE(sel, THEME_NORMAL));
    }
}

static int audit_key(struct pane *p, int action, struct pane_request *req)
{
    struct audit_state *st = p->state;
    const struct room_audit *a = pane_copy_selected(p, &st->c);

    switch (action) {
    case ACT_ENTER:
        if (a == NULL || a->item[0] == '\0')
            return 0;
        req->kind = PANE_REQ_DETAIL;
        snprintf(req->id, sizeof req->id, "%s", a->item);
        return 1;
    case ACT_FILTER:
        rebuild(p);
        return 1;
    default:
        return pane_list_action(p, action, rows_of(p));
    }
}

const struct pane_class pane_audit = {
    .name = "Audit",
    .empty = "no operator actions recorded",
    .init = audit_init,
    .free = audit_free,
    .resize = audit_resize,
    .update = audit_update,
    .event = NULL,
    .draw = audit_draw,
    .key = audit_key,
};
