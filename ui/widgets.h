/*
 * widgets.h - drawing helpers the panes share: text cut to a number of display columns
 * (multibyte and wide characters measured with wcwidth, never bytes), boxes with titles,
 * gauges with a threshold mark, sparklines, confidence bars, and a scrolling list's cursor.
 * Text given to them is already display-safe (it came through a snapshot); they never
 * interpret it.
 *
 * Threads: the UI thread's (curses). ui_width(), ui_cut() and the ui_list_* functions are
 * pure and unit-tested.
 */
#ifndef NEWSROOM_UI_WIDGETS_H
#define NEWSROOM_UI_WIDGETS_H

#include "ui/term.h"
#include "ui/theme.h"

#include <curses.h>
#include <stddef.h>
#include <stdint.h>

/* Display columns of a UTF-8 string in the current LC_CTYPE (term_open() sets it from the
 * environment): wide characters 2, combining ones 0, invalid bytes 1, control characters 0
 * (a snapshot holds none). NULL: 0. */
int ui_width(const char *s);
/* The longest prefix of s that fits in cols columns, as a byte count (whole characters; a
 * combining character stays with its base); when s does not fit and ellipsis is set, room is
 * kept for the current glyph set's ellipsis (term_glyphs_current(): 1 column in UTF-8, 3 in
 * ASCII; the caller draws it). */
size_t ui_cut(const char *s, int cols, bool ellipsis);

/* Draws s at (y, x) in at most cols columns (and never past the window's edge) with role's
 * attributes, ending in the ellipsis when cut. With the ASCII glyph set every character above
 * 0x7e is drawn as '?' (one per column), so nothing else reaches the terminal. Returns the
 * columns drawn. */
int ui_text(WINDOW *w, const struct term *t, int y, int x, const char *s, int cols,
            enum theme_role role);
/* printf-style ui_text(). */
int ui_textf(WINDOW *w, const struct term *t, int y, int x, int cols, enum theme_role role,
             const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* A box around the whole window with title (cut to fit) on its top line; the focused pane's
 * box and title in THEME_FOCUS. */
void ui_box(WINDOW *w, const struct term *t, const char *title, bool focused);
/* A gauge of width cols: frac (0..1, clamped) filled, and the threshold mark at mark (0..1;
 * < 0: none). Over 1 it is drawn full in THEME_ALERT. */
void ui_gauge(WINDOW *w, const struct term *t, int y, int x, int cols, double frac, double mark);
/* A sparkline of the last cols values of v[0..n) (oldest first), scaled to the largest. */
void ui_sparkline(WINDOW *w, const struct term *t, int y, int x, int cols, const uint16_t *v,
                  int n);

/* A scrolling list's cursor: count rows, `rows` visible. */
struct ui_list {
    int count, selected, top;
};
/* Moves the cursor for a key (j/k, arrows, PgUp/PgDn by `rows`, Home/End; `rows` visible).
 * Returns 1 when the key was a movement key (even at the end of the list), else 0. */
int ui_list_key(struct ui_list *l, int key, int rows);
/* Keeps selected within [0, count) (0 when empty) and visible in rows, with no empty rows
 * below the last item when it can (after count changed or a resize). */
void ui_list_fit(struct ui_list *l, int rows);

#endif
