/*
 * layout.c - where each pane goes; see layout.h. Pure: any thread.
 *
 * The grid is a table of columns, each a width weight and its panes top to bottom with height
 * weights; sizes are shared out by weight, the remainder a row (or column) at a time from the
 * first.
 */
#include "ui/layout.h"

#include <string.h>

#define GRID_MAX_COLS  3
#define GRID_MAX_PANES 5

struct grid_column {
    int weight;
    int count;
    enum layout_pane pane[GRID_MAX_PANES];
    int height[GRID_MAX_PANES];
};

struct grid {
    int count;
    struct grid_column col[GRID_MAX_COLS];
};

/* The review desk is the producer's main screen: the review pane takes the big slot (the
 * widest column's top), the failed stories (the other list a producer acts on) and the audit
 * of decisions under it; the rest share the other columns. */
static const struct grid grid2 = {
    2,
    {
        {3, 3, {PANE_REVIEW, PANE_FAILED, PANE_AUDIT}, {3, 1, 1}},
        {2,
         5,
         {PANE_BLACKBOARD, PANE_DEBATES, PANE_AGENTS, PANE_BUDGET, PANE_EVENTS},
         {3, 2, 2, 2, 2}},
    },
};

static const struct grid grid3 = {
    3,
    {
        {4, 3, {PANE_REVIEW, PANE_FAILED, PANE_AUDIT}, {4, 1, 1}},
        {3, 2, {PANE_BLACKBOARD, PANE_DEBATES}, {2, 1}},
        {3, 3, {PANE_AGENTS, PANE_BUDGET, PANE_EVENTS}, {1, 1, 1}},
    },
};

/* Shares total out by weight into size[0..n). */
static void share(int total, const int *weight, int n, int *size)
{
    int sum = 0, used = 0;

    for (int i = 0; i < n; i++)
        sum += weight[i];
    for (int i = 0; i < n; i++) {
        size[i] = total * weight[i] / sum;
        used += size[i];
    }
    for (int i = 0; used < total; i = (i + 1) % n, used++)
        size[i]++;
}

static void place_grid(const struct grid *g, struct rect body, struct layout *out)
{
    int wweight[GRID_MAX_COLS], width[GRID_MAX_COLS];
    int x = body.x;

    for (int c = 0; c < g->count; c++)
        wweight[c] = g->col[c].weight;
    share(body.w, wweight, g->count, width);
    for (int c = 0; c < g->count; c++) {
        const struct grid_column *col = &g->col[c];
        int height[GRID_MAX_PANES];
        int y = body.y;

        share(body.h, col->height, col->count, height);
        for (int i = 0; i < col->count; i++) {
            out->pane[col->pane[i]] = (struct rect){y, x, height[i], width[c]};
            out->shown[col->pane[i]] = true;
            y += height[i];
        }
        x += width[c];
    }
}

void layout_compute(int rows, int cols, enum layout_pane focused, struct layout *out)
{
    struct rect body;

    memset(out, 0, sizeof *out);
    if ((int)focused < 0 || focused >= PANE_COUNT)
        focused = PANE_BLACKBOARD;
    if (rows < LAYOUT_MIN_ROWS || cols < LAYOUT_MIN_COLS) {
        out->kind = LAYOUT_TOO_SMALL;
        return;
    }
    out->header = (struct rect){0, 0, 2, cols};
    out->status = (struct rect){rows - 1, 0, 1, cols};
    if (rows < LAYOUT_GRID_ROWS || cols < LAYOUT_GRID_COLS) {
        out->kind = LAYOUT_COMPACT;
        out->tabs = (struct rect){2, 0, 1, cols};
        body = (struct rect){3, 0, rows - 4, cols};
        for (int i = 0; i < PANE_COUNT; i++)
            out->pane[i] = body;
        out->shown[focused] = true;
        return;
    }
    out->kind = LAYOUT_GRID;
    out->tabs = (struct rect){2, 0, 0, cols};
    body = (struct rect){2, 0, rows - 3, cols};
    place_grid(rows >= LAYOUT_GRID3_ROWS && cols >= LAYOUT_GRID3_COLS ? &grid3 : &grid2, body, out);
}
