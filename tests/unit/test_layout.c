/*
 * test_layout.c - the control room's layout at every size from 40x10 to 300x100: too small
 * below 80x24, compact below the grid threshold, and in the grid every pane inside the body,
 * none overlapping another or the header and status line, each at least the minimum size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ui/layout.h"

#include <stdbool.h>

static bool inside(struct rect r, int rows, int cols)
{
    return r.y >= 0 && r.x >= 0 && r.h >= 0 && r.w >= 0 && r.y + r.h <= rows && r.x + r.w <= cols;
}

static bool overlap(struct rect a, struct rect b)
{
    if (a.h == 0 || a.w == 0 || b.h == 0 || b.w == 0)
        return false;
    return a.y < b.y + b.h && b.y < a.y + a.h && a.x < b.x + b.w && b.x < a.x + a.w;
}

static void check(int rows, int cols, enum layout_pane focused)
{
    struct layout l;
    int shown = 0, area = 0;

    layout_compute(rows, cols, focused, &l);
    if (rows < LAYOUT_MIN_ROWS || cols < LAYOUT_MIN_COLS) {
        if (l.kind != LAYOUT_TOO_SMALL)
            fail_msg("%dx%d: not too small", cols, rows);
        for (int i = 0; i < PANE_COUNT; i++)
            assert_false(l.shown[i]);
        return;
    }
    if ((rows >= LAYOUT_GRID_ROWS && cols >= LAYOUT_GRID_COLS) != (l.kind == LAYOUT_GRID))
        fail_msg("%dx%d: kind %d", cols, rows, (int)l.kind);
    assert_int_equal(l.header.y, 0);
    assert_int_equal(l.header.h, 2);
    assert_int_equal(l.header.w, cols);
    assert_int_equal(l.status.y, rows - 1);
    assert_int_equal(l.status.h, 1);
    assert_int_equal(l.status.w, cols);
    if (l.kind == LAYOUT_COMPACT) {
        assert_int_equal(l.tabs.y, 2);
        assert_int_equal(l.tabs.h, 1);
        assert_int_equal(l.tabs.w, cols);
    } else {
        assert_int_equal(l.tabs.h, 0);
    }
    for (int i = 0; i < PANE_COUNT; i++) {
        struct rect r = l.pane[i];

        /* Shown or not, every pane has a place: a hidden one is sized for when it is shown. */
        if (!inside(r, rows, cols) || r.h < LAYOUT_PANE_MIN_ROWS || r.w < LAYOUT_PANE_MIN_COLS)
            fail_msg("%dx%d: pane %d at %d,%d %dx%d", cols, rows, i, r.y, r.x, r.w, r.h);
        if (!l.shown[i])
            continue;
        shown++;
        area += r.h * r.w;
        if (overlap(r, l.header) || overlap(r, l.tabs) || overlap(r, l.status))
            fail_msg("%dx%d: pane %d overlaps the header, tabs or status", cols, rows, i);
        for (int j = 0; j < i; j++)
            if (l.shown[j] && overlap(r, l.pane[j]))
                fail_msg("%dx%d: panes %d and %d overlap", cols, rows, i, j);
    }
    if (l.kind == LAYOUT_COMPACT) {
        assert_int_equal(shown, 1);
        assert_true(l.shown[focused]);
        assert_int_equal(area, (rows - 4) * cols);
    } else {
        assert_int_equal(shown, PANE_COUNT);
        /* The grid covers the body exactly: nothing left blank between panes. */
        assert_int_equal(area, (rows - 3) * cols);
    }
}

static void test_every_size(void **state)
{
    (void)state;
    for (int rows = 10; rows <= 100; rows++)
        for (int cols = 40; cols <= 300; cols++)
            check(rows, cols, (enum layout_pane)((rows + cols) % PANE_COUNT));
}

static void test_thresholds(void **state)
{
    struct layout l;

    (void)state;
    layout_compute(23, 80, PANE_BLACKBOARD, &l);
    assert_int_equal(l.kind, LAYOUT_TOO_SMALL);
    layout_compute(24, 79, PANE_BLACKBOARD, &l);
    assert_int_equal(l.kind, LAYOUT_TOO_SMALL);
    layout_compute(24, 80, PANE_REVIEW, &l);
    assert_int_equal(l.kind, LAYOUT_COMPACT);
    assert_true(l.shown[PANE_REVIEW]);
    assert_int_equal(l.pane[PANE_REVIEW].y, 3);
    assert_int_equal(l.pane[PANE_REVIEW].h, 20);
    assert_int_equal(l.pane[PANE_REVIEW].w, 80);
    layout_compute(39, 200, PANE_BLACKBOARD, &l);
    assert_int_equal(l.kind, LAYOUT_COMPACT);
    layout_compute(40, 119, PANE_BLACKBOARD, &l);
    assert_int_equal(l.kind, LAYOUT_COMPACT);
    /* Out of range focus: the first pane. */
    layout_compute(24, 80, PANE_COUNT, &l);
    assert_true(l.shown[PANE_BLACKBOARD]);
}

/* The sizes the screen tests use, as layout.h describes them. */
static void test_screen_test_sizes(void **state)
{
    static const struct {
        enum layout_pane p;
        struct rect r;
    } at120[] =
        {
            {PANE_REVIEW, {2, 0, 23, 72}},   {PANE_FAILED, {25, 0, 7, 72}},
            {PANE_AUDIT, {32, 0, 7, 72}},    {PANE_BLACKBOARD, {2, 72, 11, 48}},
            {PANE_DEBATES, {13, 72, 7, 48}}, {PANE_AGENTS, {20, 72, 7, 48}},
            {PANE_BUDGET, {27, 72, 6, 48}},  {PANE_EVENTS, {33, 72, 6, 48}},
        },
      at200[] = {
          {PANE_REVIEW, {2, 0, 39, 80}},    {PANE_FAILED, {41, 0, 9, 80}},
          {PANE_AUDIT, {50, 0, 9, 80}},     {PANE_BLACKBOARD, {2, 80, 38, 60}},
          {PANE_DEBATES, {40, 80, 19, 60}}, {PANE_AGENTS, {2, 140, 19, 60}},
          {PANE_BUDGET, {21, 140, 19, 60}}, {PANE_EVENTS, {40, 140, 19, 60}},
      };
    struct layout l;

    (void)state;
    layout_compute(40, 120, PANE_BLACKBOARD, &l);
    assert_int_equal(l.kind, LAYOUT_GRID);
    for (size_t i = 0; i < sizeof at120 / sizeof at120[0]; i++) {
        struct rect r = l.pane[at120[i].p], w = at120[i].r;

        if (r.y != w.y || r.x != w.x || r.h != w.h || r.w != w.w)
            fail_msg("120x40 pane %d: %d,%d %dx%d", (int)at120[i].p, r.y, r.x, r.w, r.h);
    }
    layout_compute(60, 200, PANE_BLACKBOARD, &l);
    assert_int_equal(l.kind, LAYOUT_GRID);
    for (size_t i = 0; i < sizeof at200 / sizeof at200[0]; i++) {
        struct rect r = l.pane[at200[i].p], w = at200[i].r;

        if (r.y != w.y || r.x != w.x || r.h != w.h || r.w != w.w)
            fail_msg("200x60 pane %d: %d,%d %dx%d", (int)at200[i].p, r.y, r.x, r.w, r.h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_size),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_screen_test_sizes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
