/*
 * pane_review.c - the review desk's queue: every story awaiting a person's decision, however
 * many wait. The list is paged from Redis (ROOM_CMD_REVIEW, room_review.lua): the pane holds
 * one page around the cursor and asks for another when the cursor leaves it; the filter and
 * the sort order (s: oldest, newest, priority, QA score, cost; shown in the title) are applied
 * to the whole queue on the server. Each row: a mark of the operator's (Space), the story's
 * marks (V a rendered video, S a storyboard only, R revised after a reviewer's note), the id
 * (from 120 columns), the title, the priority (when any story has one), length, cost so far,
 * the last QA score and how long it waits. Enter opens the story; a approves, r rejects with a
 * reason, R sends it back with a note; with stories marked, a and r decide all of them (the
 * app confirms once, naming how many). Esc clears the marks.
 *
 * Threads: the UI thread's. update() notes that fresh data is due; page() copies a page.
 */
#include "ui/pane.h"

#include "core/fail.h"
#include "ui/fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A story waiting longer than this is marked. */
#define REVIEW_LATE_MS (15 * 60 * 1000)
#define MARKS_MAX      500

struct review_state {
    struct pane_pager g; /* struct room_review records */
    bool any_priority;
    int sort;                      /* enum room_sort asked for */
    char (*marked)[ROOM_ID_MAX];   /* the operator's marks, at most MARKS_MAX */
    char (*mtitle)[ROOM_TEXT_MAX]; /* their titles */
    size_t nmarked;
    int64_t oldest_ms; /* from the snapshot: the longest waiting story entered */
};

static void *review_init(void)
{
    struct review_state *st = xcalloc(1, sizeof *st);

    st->marked = xcalloc(MARKS_MAX, sizeof *st->marked);
    st->mtitle = xcalloc(MARKS_MAX, sizeof *st->mtitle);
    st->g.size = sizeof(struct room_review);
    st->g.view_changed = true;
    return st;
}

static void review_free(void *state)
{
    struct review_state *st = state;

    if (st == NULL)
        return;
    pane_pager_free(&st->g);
    free(st->marked);
    free(st->mtitle);
    free(st);
}

static int rows_of(const struct pane *p)
{
    return pane_rows(p, 1);
}

/* The row of list position i when the page holds it, else NULL. */
static const struct room_review *row_at(const struct review_state *st, long i)
{
    return pane_pager_row(&st->g, i);
}

/* The server's filter, applied here to the base while its answer is on its way: the same
 * fields, ASCII case folded. */
static bool match(const void *rec, const char *filter, const void *arg)
{
    const struct room_review *v = rec;
    const char *f[] = {v->id, v->title, v->source};

    (void)arg;
    return fmt_match_any(f, 3, filter);
}

static const char *id_of(const void *rec)
{
    return ((const struct room_review *)rec)->id;
}

static long mark_index(const struct review_state *st, const char *id)
{
    for (size_t i = 0; i < st->nmarked; i++)
        if (strcmp(st->marked[i], id) == 0)
            return (long)i;
    return -1;
}

static void review_resize(struct pane *p)
{
    pane_fit(p, p->list.count, rows_of(p));
}

static void review_update(struct pane *p, const struct room_snapshot *s)
{
    struct review_state *st = p->state;

    st->oldest_ms = s->review_oldest_ms;
    st->g.refresh = true;
}

static void review_page(struct pane *p, const struct room_review_page *pg)
{
    struct review_state *st = p->state;
    const struct pane_page page = {pg->seq,   pg->filter, pg->error, pg->rows,
                                   pg->nrows, pg->offset, pg->total, pg->matching};

    if (pg->sort != st->sort) { /* an answer to an order left since */
        if (pg->seq > st->g.answered)
            st->g.answered = pg->seq;
        return;
    }
    if (pane_pager_take(p, &st->g, &page, match, id_of, rows_of(p)))
        st->any_priority = pg->any_priority;
}

static int review_query(struct pane *p, struct room_cmd *c)
{
    struct review_state *st = p->state;
    long offset;

    if (!pane_pager_query(p, &st->g, ROOM_REVIEW_PAGE, &offset))
        return 0;
    memset(c, 0, sizeof *c);
    c->kind = ROOM_CMD_REVIEW;
    snprintf(c->text, sizeof c->text, "%s", p->filter);
    c->sort = st->sort;
    c->amount = offset;
    return 1;
}

static void review_draw(struct pane *p, const struct pane_ctx *c)
{
    struct review_state *st = p->state;
    int w = getmaxx(p->win), rows = rows_of(p), inner = w - 2;
    int idw = inner >= 118 ? 16 : 0, pw = st->any_priority ? 4 : 0;
    int fixed = 3 + 3 + (idw ? idw + 1 : 0) + (pw ? pw + 1 : 0) + 7 + 9 + 5 + 4 + 1;
    int tw = inner - fixed, x;
    char title[160], age[16], of[48];
    const struct term_glyphs *g = c->term->glyphs;

    if (st->g.local)
        snprintf(of, sizeof of, "%zu of %ld (searching)", st->g.nview, st->g.total);
    else if (st->g.matching != st->g.total)
        snprintf(of, sizeof of, "%ld of %ld", st->g.matching, st->g.total);
    else
        snprintf(of, sizeof of, "%ld", st->g.total);
    {
        int n = snprintf(title, sizeof title, "Review: %s waiting", of);

        if (st->oldest_ms > 0 && n > 0 && (size_t)n < sizeof title)
            n += snprintf(title + n, sizeof title - (size_t)n, ", oldest %s",
                          fmt_age(c->now_ms - st->oldest_ms, age, sizeof age));
        /* The marks before the order: at 80 columns the title is cut at the end. */
        if (st->nmarked > 0 && n > 0 && (size_t)n < sizeof title)
            n += snprintf(title + n, sizeof title - (size_t)n, "  %zu marked", st->nmarked);
        if (n > 0 && (size_t)n < sizeof title)
            snprintf(title + n, sizeof title - (size_t)n, "  sort %s%s (s)",
                     room_sort_names[st->sort],
                     st->sort == ROOM_SORT_PRIORITY && !st->any_priority ? ", none set" : "");
    }
    pane_frame(p, c, title);
    if (getmaxy(p->win) < 4 || w < 30)
        return;
    x = pane_col(p, c, 1, 1, 2, "", THEME_TITLE);
    x = pane_col(p, c, 1, x, 2, "", THEME_TITLE);
    x = pane_col(p, c, 1, x, idw, "ID", THEME_TITLE);
    x = pane_col(p, c, 1, x, tw, "TITLE", THEME_TITLE);
    x = pane_col(p, c, 1, x, pw, "PRI", THEME_TITLE);
    x = pane_col(p, c, 1, x, 6, "LENGTH", THEME_TITLE);
    x = pane_col(p, c, 1, x, 8, "COST", THEME_TITLE);
    x = pane_col(p, c, 1, x, 4, "QA", THEME_TITLE);
    pane_col(p, c, 1, x, 4, "WAIT", THEME_TITLE);
    if (p->list.count == 0) {
        pane_empty(p, c, 2);
        return;
    }
    for (int r = 0; r < rows && p->list.top + r < p->list.count; r++) {
        int i = p->list.top + r, y = 2 + r;
        const struct room_review *v = row_at(st, i);
        bool sel = i == p->list.selected && p->focused;
        char dur[16], cost[32], qa[16], marks[4] = "", pri[16];
        int64_t waiting;

        pane_row(p, y, sel);
        if (v == NULL) {
            pane_col(p, c, y, 1 + 2 + 3, inner - 5, g->ellipsis, PANE_ROLE(sel, THEME_DIM));
            continue;
        }
        waiting = c->now_ms - v->waiting_since_ms;
        if (v->qa_score >= 0)
            snprintf(qa, sizeof qa, "%.1f", v->qa_score);
        else
            snprintf(qa, sizeof qa, "-");
        snprintf(marks, sizeof marks, "%s%s",
                 v->marks & ROOM_MARK_VIDEO        ? "V"
                 : v->marks & ROOM_MARK_STORYBOARD ? "S"
                                                   : " ",
                 v->marks & ROOM_MARK_REVISED ? "R" : "");
        snprintf(pri, sizeof pri, "%g", v->priority);
        x = pane_col(p, c, y, 1, 2, mark_index(st, v->id) >= 0 ? g->bullet : "",
                     PANE_ROLE(sel, THEME_WARN));
        x = pane_col(p, c, y, x, 2, marks,
                     PANE_ROLE(sel, v->marks & ROOM_MARK_VIDEO ? THEME_OK : THEME_WARN));
        x = pane_col(p, c, y, x, idw, v->id, PANE_ROLE(sel, THEME_DIM));
        x = pane_col(p, c, y, x, tw, v->title, PANE_ROLE(sel, THEME_NORMAL));
        x = pane_col(p, c, y, x, pw, pri, PANE_ROLE(sel, THEME_NORMAL));
        x = pane_col(p, c, y, x, 6, fmt_duration(v->duration_s, dur, sizeof dur),
                     PANE_ROLE(sel, THEME_NORMAL));
        x = pane_col(p, c, y, x, 8, fmt_money(v->cost, cost, sizeof cost),
                     PANE_ROLE(sel, THEME_NORMAL));
        x = pane_col(p, c, y, x, 4, qa, PANE_ROLE(sel, v->qa_score >= 7.0 ? THEME_OK : THEME_WARN));
        pane_col(p, c, y, x, 4, fmt_age(waiting, age, sizeof age),
                 PANE_ROLE(sel, waiting > REVIEW_LATE_MS ? THEME_WARN : THEME_DIM));
    }
}

/* Which request each acting key makes of the selected story (or the marked ones). */
static const struct {
    int action, req;
    bool bulk;
} review_actions[] = {
    {ACT_ENTER, PANE_REQ_DETAIL, false},
    {ACT_APPROVE, PANE_REQ_APPROVE, true},
    {ACT_REJECT, PANE_REQ_REJECT, true},
    {ACT_REVISE, PANE_REQ_REVISE, true},
};

static void toggle_mark(struct pane *p, struct pane_request *req)
{
    struct review_state *st = p->state;
    const struct room_review *v = row_at(st, p->list.selected);
    long k;

    if (v == NULL)
        return;
    if ((k = mark_index(st, v->id)) >= 0) {
        memmove(st->marked[k], st->marked[k + 1],
                (st->nmarked - (size_t)k - 1) * sizeof st->marked[0]);
        memmove(st->mtitle[k], st->mtitle[k + 1],
                (st->nmarked - (size_t)k - 1) * sizeof st->mtitle[0]);
        st->nmarked--;
    } else if (st->nmarked == MARKS_MAX) {
        req->kind = PANE_REQ_MESSAGE;
        snprintf(req->title, sizeof req->title,
                 "at most %d stories can be marked at once; decide these first", MARKS_MAX);
        return;
    } else {
        snprintf(st->mtitle[st->nmarked], sizeof st->mtitle[0], "%s", v->title);
        snprintf(st->marked[st->nmarked++], sizeof st->marked[0], "%s", v->id);
    }
    pane_list_action(p, ACT_DOWN, rows_of(p));
}

static int review_key(struct pane *p, int action, struct pane_request *req)
{
    struct review_state *st = p->state;
    const struct room_review *v = row_at(st, p->list.selected);

    for (size_t i = 0; i < sizeof review_actions / sizeof review_actions[0]; i++) {
        if (review_actions[i].action != action)
            continue;
        if (review_actions[i].bulk && st->nmarked > 0) {
            req->kind = review_actions[i].req;
            req->ids = (const char(*)[ROOM_ID_MAX])st->marked;
            req->titles = (const char(*)[ROOM_TEXT_MAX])st->mtitle;
            req->nids = st->nmarked;
            snprintf(req->id, sizeof req->id, "%s", st->marked[0]);
            snprintf(req->title, sizeof req->title, "%zu marked stories", st->nmarked);
            return 1;
        }
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
    switch (action) {
    case ACT_MARK:
        toggle_mark(p, req);
        return 1;
    case ACT_SORT:
        st->sort = (st->sort + 1) % ROOM_SORT_COUNT;
        st->g.view_changed = true;
        p->list.selected = p->list.top = 0;
        return 1;
    case ACT_BACK:
        if (st->nmarked == 0)
            return 0;
        st->nmarked = 0;
        req->kind = PANE_REQ_MESSAGE;
        snprintf(req->title, sizeof req->title, "marks cleared");
        return 1;
    case ACT_FILTER: /* the app changed p->filter: the server filters the whole queue, the
                      * page here narrows at once */
        pane_pager_filter(p, &st->g, match, rows_of(p));
        return 1;
    default:
        return pane_list_action(p, action, rows_of(p));
    }
}

const struct pane_class pane_review = {
    .name = "Review",
    .empty = "no story awaiting review",
    .head = 1,
    .init = review_init,
    .free = review_free,
    .resize = review_resize,
    .update = review_update,
    .event = NULL,
    .draw = review_draw,
    .key = review_key,
    .query = review_query,
    .page = review_page,
};
