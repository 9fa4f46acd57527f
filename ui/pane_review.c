/*
 * pane_review.c - the review queue: stories awaiting a person's decision, oldest first
 * (title, the package's duration, the cost so far, the last QA score, how long it waits).
 * Enter opens the story; a approves, r rejects with a reason, R sends it back with a note
 * (the app runs the prompts and the worker the decision).
 *
 * Threads: the UI thread's. update() copies the queue from the snapshot.
 */
#include "ui/pane.h"

#include "ui/fmt.h"

#include <stdio.h>

/* A story waiting longer than this is marked. */
#define REVIEW_LATE_MS (15 * 60 * 1000)

static bool match(const void *rec, const char *filter, const void *arg)
{
    const struct room_review *v = rec;
    const char *f[] = {v->id, v->title};

    (void)arg;
    return fmt_match_any(f, 2, filter);
}

static const char *id_of(const void *rec)
{
    return ((const struct room_review *)rec)->id;
}

static void rebuild(struct pane *p)
{
    struct pane_list_state *st = p->state;

    pane_list_rebuild(p, &st->c, match, id_of);
}

static void review_update(struct pane *p, const struct room_snapshot *s)
{
    struct pane_list_state *st = p->state;

    pane_copy_set(p, &st->c, s->reviews, s->nreviews, sizeof *s->reviews, id_of);
    st->tally = s->counts[BB_REVIEW_QUEUE][BB_REVIEWING]; /* the list stops at ROOM_ITEMS_MAX */
    rebuild(p);
}

static void review_draw(struct pane *p, const struct pane_ctx *c)
{
    struct pane_list_state *st = p->state;
    int w = getmaxx(p->win), rows = pane_list_rows(p);
    int idw = w - 2 >= 70 ? 16 : 0;
    int fixed = (idw ? idw + 1 : 0) + 6 + 1 + 9 + 1 + 5 + 1 + 7, tw = w - 2 - fixed;
    char title[96];
    int x = 1;

    snprintf(title, sizeof title, "Review queue: %ld waiting%s", st->tally,
             c->read_only  ? " (read-only)"
             : st->c.n > 0 ? "  a approve  r reject  R revise"
                           : "");
    pane_frame(p, c, title);
    if (getmaxy(p->win) < 4 || w < 30)
        return;
    x = pane_col(p, c, 1, x, idw, "ID", THEME_TITLE);
    x = pane_col(p, c, 1, x, tw, "TITLE", THEME_TITLE);
    x = pane_col(p, c, 1, x, 6, "LENGTH", THEME_TITLE);
    x = pane_col(p, c, 1, x, 9, "COST", THEME_TITLE);
    x = pane_col(p, c, 1, x, 5, "QA", THEME_TITLE);
    pane_col(p, c, 1, x, 7, "WAITING", THEME_TITLE);
    if (st->c.nidx == 0) {
        pane_empty(p, c, 2);
        return;
    }
    for (int r = 0; r < rows && p->list.top + r < (int)st->c.nidx; r++) {
        int i = p->list.top + r, y = 2 + r;
        const struct room_review *v = pane_copy_row(&st->c, i);
        bool sel = i == p->list.selected && p->focused;
        int64_t waiting = c->now_ms - v->waiting_since_ms;
        char dur[16], cost[32], qa[16], age[16];

        if (v->qa_score >= 0)
            snprintf(qa, sizeof qa, "%.1f", v->qa_score);
        else
            snprintf(qa, sizeof qa, "-");
        pane_row(p, y, sel);
        x = pane_col(p, c, y, 1, idw, v->id, PANE_ROLE(sel, THEME_DIM));
        x = pane_col(p, c, y, x, tw, v->title, PANE_ROLE(sel, THEME_NORMAL));
        x = pane_col(p, c, y, x, 6, fmt_duration(v->duration_s, dur, sizeof dur),
                     PANE_ROLE(sel, THEME_NORMAL));
        x = pane_col(p, c, y, x, 9, fmt_money(v->cost, cost, sizeof cost),
                     PANE_ROLE(sel, THEME_NORMAL));
        x = pane_col(p, c, y, x, 5, qa, PANE_ROLE(sel, v->qa_score >= 7.0 ? THEME_OK : THEME_WARN));
        pane_col(p, c, y, x, 7, fmt_age(waiting, age, sizeof age),
                 PANE_ROLE(sel, waiting > REVIEW_LATE_MS ? THEME_WARN : THEME_DIM));
    }
}

/* Which request each acting key makes of the selected story. */
static const struct {
    int action, req;
} review_actions[] = {
    {ACT_ENTER, PANE_REQ_DETAIL},
    {ACT_APPROVE, PANE_REQ_APPROVE},
    {ACT_REJECT, PANE_REQ_REJECT},
    {ACT_REVISE, PANE_REQ_REVISE},
};

static int review_key(struct pane *p, int action, struct pane_request *req)
{
    struct pane_list_state *st = p->state;
    const struct room_review *v = pane_copy_selected(p, &st->c);

    for (size_t i = 0; i < sizeof review_actions / sizeof review_actions[0]; i++) {
        if (review_actions[i].action != action)
            continue;
        if (v == NULL) {
            req->kind = PANE_REQ_MESSAGE;
            snprintf(req->title, sizeof req->title, "no story awaiting review is selected");
            return 1;
        }
        req->kind = review_actions[i].req;
        snprintf(req->id, sizeof req->id, "%s", v->id);
        snprintf(req->title, sizeof req->title, "%s", v->title);
        return 1;
    }
    return pane_list_key(p, action, rebuild);
}

const struct pane_class pane_review = {
    .name = "Review",
    .empty = "no story awaiting review",
    .head = 1,
    .init = pane_list_init,
    .free = pane_list_free,
    .resize = pane_list_resize,
    .update = review_update,
    .event = NULL,
    .draw = review_draw,
    .key = review_key,
};
