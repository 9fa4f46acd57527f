/*
 * pane_debates.c - the debates pane: the open debates (votes for / against / abstain, a bar of
 * the confidence-weighted score with the threshold marked, the score against the threshold,
 * time left), then the recently closed ones with their outcome. Enter opens the story.
 *
 * Threads: the UI thread's. update() copies the debates from the snapshot.
 */
#include "ui/pane.h"

#include "ui/fmt.h"

#include <stdio.h>
#include <string.h>

static bool match(const void *rec, const char *filter, const void *arg)
{
    const struct room_debate *d = rec;
    const char *fields[] = {d->id, d->title, d->outcome};

    (void)arg;
    return fmt_match_any(fields, 3, filter);
}

static const char *id_of(const void *rec)
{
    return ((const struct room_debate *)rec)->id;
}

static void rebuild(struct pane *p)
{
    struct pane_list_state *st = p->state;

    pane_list_rebuild(p, &st->c, match, id_of);
}

static void debates_update(struct pane *p, const struct room_snapshot *s)
{
    struct pane_list_state *st = p->state;

    pane_copy_set(p, &st->c, s->debates, s->ndebates, sizeof *s->debates, id_of);
    rebuild(p);
}

static void debates_draw(struct pane *p, const struct pane_ctx *c)
{
    struct pane_list_state *st = p->state;
    int w = getmaxx(p->win), rows = pane_list_rows(p), bar = w >= 100 ? 20 : w >= 70 ? 10 : 6;
    int sw = w - 2 >= 70 ? 5 : 0;   /* the open/done column; narrow: the title's colour says */
    int nw = w - 2 >= 60 ? 9 : 0;   /* the score as numbers; narrow: the bar says it */
    int ow = w - 2 >= 70 ? 14 : 12; /* "LEFT / OUTCOME", or "OUTCOME" */
    int fixed = (sw ? sw + 1 : 0) + 10 + bar + 1 + (nw ? nw + 1 : 0) + ow + 1, tw = w - 2 - fixed;
    const struct room_debate *all = st->c.rec;
    size_t open = 0;
    char title[64];
    int x = 1;

    for (size_t i = 0; i < st->c.n; i++)
        open += all[i].open;
    snprintf(title, sizeof title, "Debates: %zu open, %zu closed", open, st->c.n - open);
    pane_frame(p, c, title);
    if (getmaxy(p->win) < 4 || w < 30)
        return;
    x = pane_col(p, c, 1, x, sw, "", THEME_TITLE);
    x = pane_col(p, c, 1, x, tw, "STORY", THEME_TITLE);
    x = pane_col(p, c, 1, x, 9, "FOR/AG/AB", THEME_TITLE);
    x = pane_col(p, c, 1, x, bar, "SCORE", THEME_TITLE);
    x = pane_col(p, c, 1, x, nw, "OF NEEDED", THEME_TITLE);
    pane_col(p, c, 1, x, ow, ow >= 14 ? "LEFT / OUTCOME" : "OUTCOME", THEME_TITLE);
    if (st->c.nidx == 0) {
        pane_empty(p, c, 2);
        return;
    }
    for (int r = 0; r < rows && p->list.top + r < (int)st->c.nidx; r++) {
        int i = p->list.top + r, y = 2 + r;
        const struct room_debate *d = pane_copy_row(&st->c, i);
        bool sel = i == p->list.selected && p->focused;
        char votes[32], score[32], left[32];
        enum theme_role orole = THEME_DIM;

        snprintf(votes, sizeof votes, "%d/%d/%d", d->n_for, d->n_against, d->n_abstain);
        snprintf(score, sizeof score, "%.2f/%.2f", d->score, d->threshold);
        if (d->open) {
            int64_t l = d->deadline_ms - c->now_ms;
            char a[16];

            snprintf(left, sizeof left, "%s left", l > 0 ? fmt_age(l, a, sizeof a) : "0s");
            orole = l < 10000 ? THEME_WARN : THEME_NORMAL;
        } else {
            snprintf(left, sizeof left, "%s", d->outcome[0] ? d->outcome : "closed");
            orole = strcmp(d->outcome, "consensus") == 0      ? THEME_OK
                    : strcmp(d->outcome, "no_consensus") == 0 ? THEME_WARN
                                                              : THEME_DIM;
        }
        pane_row(p, y, sel);
        x = pane_col(p, c, y, 1, sw, d->open ? "open" : "done",
                     PANE_ROLE(sel, d->open ? THEME_OK : THEME_DIM));
        x = pane_col(p, c, y, x, tw, d->title[0] ? d->title : d->id,
                     PANE_ROLE(sel, d->open ? THEME_NORMAL : THEME_DIM));
        x = pane_col(p, c, y, x, 9, votes, PANE_ROLE(sel, THEME_NORMAL));
        if (x + bar < w)
            ui_gauge(p->win, c->term, y, x, bar, d->score, d->threshold > 0 ? d->threshold : -1);
        x += bar + 1;
        x = pane_col(p, c, y, x, nw, score,
                     PANE_ROLE(sel, d->score >= d->threshold ? THEME_OK : THEME_NORMAL));
        pane_col(p, c, y, x, ow, left, PANE_ROLE(sel, orole));
    }
}

static int debates_key(struct pane *p, int action, struct pane_request *req)
{
    struct pane_list_state *st = p->state;
    const struct room_debate *d = pane_copy_selected(p, &st->c);

    switch (action) {
    case ACT_ENTER:
        return d != NULL ? pane_open(req, d->id, d->title) : 0;
    default:
        return pane_list_key(p, action, rebuild);
    }
}

const struct pane_class pane_debates = {
    .name = "Debates",
    .empty = "no debates open or recently closed",
    .head = 1,
    .init = pane_list_init,
    .free = pane_list_free,
    .resize = pane_list_resize,
    .update = debates_update,
    .event = NULL,
    .draw = debates_draw,
    .key = debates_key,
};
