/*
 * pane.h - the pane class table. Each pane of the control room is one file (pane_*.c) that
 * exports one const struct pane_class, the way htop's PanelClass and tmux's window_mode work:
 * init/free its private state, resize when its window changed, update() copies what it shows
 * from a snapshot (or takes one event), draw() is the only function that calls curses, and
 * key() turns an action (keys.h) into a change of its own state or a request for the app
 * (open a story, approve it, grant a budget request, ...).
 *
 * Threads: the UI thread's alone. A pane never sees the room or Redis: only snapshots and
 * events, already display-safe (room.h).
 */
#ifndef NEWSROOM_UI_PANE_H
#define NEWSROOM_UI_PANE_H

#include "room/room.h"
#include "ui/keys.h"
#include "ui/layout.h"
#include "ui/term.h"
#include "ui/widgets.h"

#include <curses.h>
#include <stdbool.h>
#include <stdint.h>

#define PANE_FILTER_MAX 128

/* What a pane asks the app to do after a key (the app runs the prompts and sends commands). */
enum pane_req_kind {
    PANE_REQ_NONE,
    PANE_REQ_DETAIL,  /* open story id */
    PANE_REQ_APPROVE, /* story id, title */
    PANE_REQ_REJECT,
    PANE_REQ_REVISE,
    PANE_REQ_GRANT, /* request id, amount: what it needs */
    PANE_REQ_DECLINE,
    PANE_REQ_MESSAGE,      /* nothing to do: show text in the status line */
    PANE_REQ_REQUEUE,      /* failed story id, title, step (where it failed), attempts (amount),
                              note (its last error) */
    PANE_REQ_REQUEUE_STEP, /* the same, at a step the operator chooses */
    PANE_REQ_REQUEUE_ALL,  /* every failed story: amount, how many there are */
};

struct pane_request {
    int kind; /* enum pane_req_kind */
    char id[ROOM_ID_MAX];
    char title[ROOM_TEXT_MAX];
    int64_t amount;
    /* A bulk decision (approve, reject, revise): the marked stories, borrowed from the pane
     * until its next call (the app copies them); nids 0 for one story (id). */
    const char (*ids)[ROOM_ID_MAX];
    const char (*titles)[ROOM_TEXT_MAX]; /* their titles, for the answers' history */
    size_t nids;
    char step[24];            /* a requeue: the step the story failed at */
    char note[ROOM_TEXT_MAX]; /* a requeue: its last error */
};

/* What draw() may read besides the pane's own state. */
struct pane_ctx {
    const struct term *term;
    int64_t now_ms;      /* the Redis server's clock, estimated from the last snapshot */
    int64_t snap_age_ms; /* how old the data is; -1 before the first snapshot */
    bool stale;          /* the link is down or the data old: titles carry an age mark */
    bool read_only;
};

struct pane;

struct pane_class {
    const char *name;  /* tab and title: "Blackboard" */
    const char *empty; /* what an empty list says */
    /* List panes: header rows between the box's top line and the list (pane_list_rows()). */
    int head;
    /* Makes the pane's private state (never NULL; allocation failure ends in fail()). */
    void *(*init)(void);
    void (*free)(void *state);
    /* The window was made anew for p->rect (p->win is valid, possibly tiny). */
    void (*resize)(struct pane *p);
    /* Copies what the pane shows from a snapshot (borrowed for the call only). */
    void (*update)(struct pane *p, const struct room_snapshot *s);
    /* One event from the ring (borrowed for the call); NULL when the pane ignores events. */
    void (*event)(struct pane *p, const struct room_event *e);
    /* Draws into p->win (curses, without refreshing: the app wnoutrefresh()es). */
    void (*draw)(struct pane *p, const struct pane_ctx *c);
    /* Handles an action (enum ui_action); returns 1 when it was the pane's (then p->dirty is
     * set by the app), 0 when not. May fill *req. ACT_FILTER comes after the app changed
     * p->filter: the pane re-filters its list. */
    int (*key)(struct pane *p, int action, struct pane_request *req);
    /* Panes whose list is paged from Redis (NULL for the others): fills c with the query the
     * pane needs now (its view changed, or fresh data after a snapshot) and returns 1, else
     * 0. The app sends it and keeps its seq in p->query_seq. */
    int (*query)(struct pane *p, struct room_cmd *c);
    /* A page the worker answered (borrowed for the call); NULL for panes without query. */
    void (*page)(struct pane *p, const struct room_review_page *pg);
    /* A page of the dead set the worker answered (borrowed); NULL for the other panes. */
    void (*failed_page)(struct pane *p, const struct room_failed_page *pg);
};

struct pane {
    const struct pane_class *cls;
    void *state;
    WINDOW *win; /* NULL while not shown */
    struct rect rect;
    bool dirty, focused;
    char filter[PANE_FILTER_MAX]; /* "/" filter of its list, "" for none */
    struct ui_list list;          /* its list's cursor, in the pane's own rows */
    uint64_t query_seq;           /* the last query the app sent for it (query()) */
};

/* The panes in tab order (enum layout_pane). */
extern const struct pane_class pane_blackboard, pane_debates, pane_agents, pane_budget, pane_review,
    pane_events, pane_audit, pane_failed;

/* Shared by the pane files: the box with the title, the filter and the age mark (when the
 * data is stale), and the list's visible rows (the window's height less the box and `extra`
 * header rows). */
void pane_frame(struct pane *p, const struct pane_ctx *c, const char *title);
int pane_rows(const struct pane *p, int extra);
/* Moves p->list for a movement action (ACT_UP, ...); returns 1 when it was one. */
int pane_list_action(struct pane *p, int action, int rows);
/* Draws the "nothing here" line of an empty list at row y. */
void pane_empty(struct pane *p, const struct pane_ctx *c, int y);
/* Fills the window with the normal role's background (a theme whose normal text has a
 * background of its own leaves no gaps of the terminal's colour between columns). */
void pane_background(WINDOW *w);
/* Draws s in a column of `cols` at (y, x), cut at the box; returns the next column's x.
 * cols <= 0 is a column left out at this width: nothing drawn, x returned. */
int pane_col(struct pane *p, const struct pane_ctx *c, int y, int x, int cols, const char *s,
             enum theme_role role);
/* Paints row y as the selected row (when selected). */
void pane_row(struct pane *p, int y, bool selected);
/* Sets the list's row count and keeps the cursor in range and visible. */
void pane_fit(struct pane *p, int count, int rows);
/* The role of a cell: THEME_SELECTED on the selected row, else role. */
#define PANE_ROLE(sel, role) ((sel) ? THEME_SELECTED : (role))

/*
 * A copied list: the records a pane shows, copied from a snapshot (the snapshot is borrowed
 * for update() only), and the positions of those passing the pane's filter in list order. A
 * zeroed struct is an empty list; pane_copy_free() frees what it holds (not the struct).
 */
struct pane_copy {
    void *rec; /* n records of size bytes */
    size_t n, size;
    size_t *idx; /* list row -> position in rec (a pane may add rows of its own, >= n) */
    /* The id of the record selected before pane_copy_set() replaced them, for the next
     * pane_copy_filter() to find again ("" when none). */
    char keep[ROOM_ID_MAX > ROOM_NAME_MAX ? ROOM_ID_MAX : ROOM_NAME_MAX];
    size_t nidx;
};

/* Whether a record passes the filter; arg is what the pane handed to pane_copy_filter(). */
typedef bool (*pane_match_fn)(const void *rec, const char *filter, const void *arg);
/* The id a selection follows across a rebuild (borrowed from the record). */
typedef const char *(*pane_id_fn)(const void *rec);

void pane_copy_free(struct pane_copy *c);
/* Replaces the records with a copy of n records of `size` bytes at rec (borrowed). With id,
 * the selected record's id is remembered first, so the next pane_copy_filter() keeps the
 * selection on that record wherever it moved. */
void pane_copy_set(const struct pane *p, struct pane_copy *c, const void *rec, size_t n,
                   size_t size, pane_id_fn id);
/* Rebuilds c->idx from the records that pass match (all of them when match is NULL), with
 * room for `extra` rows the caller appends. When id is not NULL, the selected row follows its
 * record's id. Does not fit the list: the caller calls pane_fit() with c->nidx and its rows. */
void pane_copy_filter(struct pane *p, struct pane_copy *c, size_t extra, pane_match_fn match,
                      const void *arg, pane_id_fn id);
/* The record on list row i (0 <= i < c->nidx, a row of c's). */
const void *pane_copy_row(const struct pane_copy *c, int i);
/* The selected row's record, or NULL when nothing is selected or the row is not one of c's. */
const void *pane_copy_selected(const struct pane *p, const struct pane_copy *c);

/*
 * A list paged from Redis (the review queue, the dead set): the pane holds one page of what
 * matched its filter on the server (list rows offset .. offset + nrows - 1) and asks for
 * another when the cursor nears the page's edge, for fresh rows when told to (refresh), and
 * from the top when the view changed (view_changed: the filter, the order). While the filter
 * typed differs from the page's (its answer on its way, or the link down), the list is the
 * rows of the last unfiltered page (base) that pass it, filtered here (local). Records are of
 * one size, each starting with its id (pane_id_fn). A zeroed struct with view_changed set is
 * an empty pager; pane_pager_free() frees what it holds (not the struct).
 */
struct pane_pager {
    size_t size; /* of a record */
    void *rows;  /* the page */
    size_t nrows;
    char page_filter[ROOM_FILTER_MAX]; /* the filter the page answered */
    void *base;                        /* the last unfiltered page */
    size_t nbase;
    size_t *vidx, nview; /* local: list row -> base record */
    bool local;
    long offset, total, matching;
    bool have;
    uint64_t page_seq;          /* the newest page taken */
    uint64_t answered;          /* the newest answer, taken or not (an error, a view left) */
    bool view_changed, refresh; /* ask again: the view changed / fresh rows are due */
    long asked_offset;          /* the offset of the last query */
    char keep[ROOM_ID_MAX];     /* the selected record, followed across pages */
};

/* One page as the worker answered it (the fields of a struct room_*_page). */
struct pane_page {
    uint64_t seq;
    const char *filter, *error; /* error: NULL when fetched */
    const void *rows;
    size_t nrows;
    long offset, total, matching;
};

void pane_pager_free(struct pane_pager *g);
/* The record on list row i when the page holds it, else NULL. */
const void *pane_pager_row(const struct pane_pager *g, long i);
/* Takes a page (copied) unless it answers a view left since (an error, an older query, another
 * filter; the caller checks what else its view holds, such as the order): the selection
 * follows its record, and the list is refitted to `rows`. match filters the base locally.
 * Returns whether it was taken. */
bool pane_pager_take(struct pane *p, struct pane_pager *g, const struct pane_page *pg,
                     pane_match_fn match, pane_id_fn id, int rows);
/* Refits the list to the filter typed now (the page, or the base narrowed here). */
void pane_pager_view(struct pane *p, struct pane_pager *g, pane_match_fn match, int rows);
/* The app changed p->filter: the view starts again from the top, the base narrowing at once. */
void pane_pager_filter(struct pane *p, struct pane_pager *g, pane_match_fn match, int rows);
/* Whether a query is due now (the view changed, fresh rows are due and none is on its way, or
 * the cursor nears the page's edge): then *offset is where the page should start (page: the
 * rows a page holds), and the pager counts the query as sent. */
bool pane_pager_query(const struct pane *p, struct pane_pager *g, long page, long *offset);

/*
 * A list pane: one copied list under `head` header rows (struct pane_class). A pane whose
 * state is no more than a struct pane_list_state points its table's init, free and resize at
 * pane_list_init(), pane_list_free() and pane_list_resize().
 */
struct pane_list_state {
    struct pane_copy c;
    long tally; /* a count the title shows besides the list (dead agents, stories waiting) */
};

/* Makes a zeroed struct pane_list_state (never NULL); pane_list_free() frees it and what its
 * list holds (NULL is a no-op). */
void *pane_list_init(void);
void pane_list_free(void *state);
/* The list's visible rows: the window's height less the box and p->cls->head rows. */
int pane_list_rows(const struct pane *p);
/* The window changed: keeps the cursor in range and visible in the new rows. */
void pane_list_resize(struct pane *p);
/* Refilters c (pane_copy_filter() without extra rows) and fits the list to what passes. */
void pane_list_rebuild(struct pane *p, struct pane_copy *c, pane_match_fn match, pane_id_fn id);
/* The keys list panes share: ACT_FILTER (the app changed p->filter) calls rebuild(p), a
 * movement action moves the cursor over pane_list_rows(). Returns 1 when it was one of them. */
int pane_list_key(struct pane *p, int action, void (*rebuild)(struct pane *p));
/* Asks the app to open story id (Enter): fills req with id and, unless NULL, title; returns 1.
 * Returns 0, req untouched, when id is NULL (nothing to open). */
int pane_open(struct pane_request *req, const char *id, const char *title);

#endif
