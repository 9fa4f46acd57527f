/*
 * layout.h - where each pane goes for a terminal size (pure; unit-tested). Below
 * LAYOUT_MIN_COLS x LAYOUT_MIN_ROWS the control room shows only a "terminal too small"
 * message. From there up to the grid threshold it is compact: the header, a tab bar, the
 * focused pane on the whole body, the status line. From LAYOUT_GRID_COLS x LAYOUT_GRID_ROWS up
 * it is a grid showing every pane at once (the focused one marked): two columns, and three
 * from LAYOUT_GRID3_COLS x LAYOUT_GRID3_ROWS. In the grid every pane gets at least
 * LAYOUT_PANE_MIN_ROWS x LAYOUT_PANE_MIN_COLS (borders included).
 *
 *   80x24   compact: header 2 rows, tabs 1, the focused pane 20x80, status 1 (the review
 *           pane in front at the start)
 *   120x40  two columns of 72 and 48: review 23, failed 7, audit 7 rows | blackboard 11,
 *           debates 7, agents 7, budget 6, events 6 rows
 *   200x60  three columns of 80, 60, 60: review 39, failed 9, audit 9 | blackboard 38,
 *           debates 19 | agents 19, budget 19, events 19
 *
 * Threads: pure functions, any thread.
 */
#ifndef NEWSROOM_UI_LAYOUT_H
#define NEWSROOM_UI_LAYOUT_H

#include <stdbool.h>

#define LAYOUT_MIN_COLS      80
#define LAYOUT_MIN_ROWS      24
#define LAYOUT_GRID_COLS     120
#define LAYOUT_GRID_ROWS     40
#define LAYOUT_GRID3_COLS    200
#define LAYOUT_GRID3_ROWS    60
#define LAYOUT_PANE_MIN_ROWS 5
#define LAYOUT_PANE_MIN_COLS 30

/* The panes, in tab order (the keys 1-8). */
enum layout_pane {
    PANE_BLACKBOARD,
    PANE_DEBATES,
    PANE_AGENTS,
    PANE_BUDGET,
    PANE_REVIEW,
    PANE_EVENTS,
    PANE_AUDIT,
    PANE_FAILED,
    PANE_COUNT
};

enum layout_kind { LAYOUT_TOO_SMALL, LAYOUT_COMPACT, LAYOUT_GRID };

struct rect {
    int y, x, h, w;
};

struct layout {
    enum layout_kind kind;
    struct rect header;           /* 2 rows */
    struct rect tabs;             /* compact only (h 0 in the grid) */
    struct rect status;           /* the last row */
    struct rect pane[PANE_COUNT]; /* compact: every pane gets the body, so a hidden pane is
                                     already sized when it comes to the front */
    bool shown[PANE_COUNT];       /* compact: only the focused one */
};

/* The layout of a rows x cols terminal with pane `focused` in front (out of range: the
 * first). Too small: every rect is empty and nothing is shown. */
void layout_compute(int rows, int cols, enum layout_pane focused, struct layout *out);

#endif
