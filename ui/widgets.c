/*
 * widgets.c - text cut to display columns, boxes, gauges, sparklines and a list cursor; see
 * widgets.h. The UI thread's: the drawing functions call curses, and widths depend on
 * LC_CTYPE, which term_open() sets once from the environment.
 *
 * Every character goes through one walker (next_char) that both measures and draws, so what
 * ui_width() counts is what ui_text() puts on the screen. In ASCII mode each character above
 * 0x7e becomes as many '?' as its width, and invalid bytes become one '?' each, so nothing
 * outside printable ASCII reaches a terminal that cannot show it.
 */
#include "ui/widgets.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

struct ch {
    size_t len; /* bytes */
    int width;  /* display columns */
    bool valid; /* a character this locale decodes and the terminal may show as it is */
};

/* The character at s (left bytes remain, at least 1). */
static struct ch next_char(const char *s, size_t left, mbstate_t *st)
{
    unsigned char c = (unsigned char)*s;
    struct ch out = {1, 0, true};
    wchar_t wc;
    size_t n;

    if (c < 0x80) {
        out.width = c >= 0x20 && c < 0x7f ? 1 : 0;
        out.valid = out.width == 1;
        return out;
    }
    n = mbrtowc(&wc, s, left, st);
    if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
        memset(st, 0, sizeof *st);
        out.width = 1;
        out.valid = false;
        return out;
    }
    out.len = n;
    if (wc >= 0x80 && wc < 0xa0) { /* C1 controls */
        out.valid = false;
        return out;
    }
    out.width = wcwidth(wc);
    if (out.width < 0)
        out.width = 1; /* printable but unknown to this C library: assume one column */
    return out;
}

int ui_width(const char *s)
{
    mbstate_t st;
    size_t left;
    int cols = 0;

    if (s == NULL)
        return 0;
    memset(&st, 0, sizeof st);
    left = strlen(s);
    while (left > 0) {
        struct ch c = next_char(s, left, &st);

        cols += c.width;
        s += c.len;
        left -= c.len;
    }
    return cols;
}

/* The longest prefix of s that fits in cols columns, keeping room columns free when s does not
 * fit whole. */
static size_t cut_room(const char *s, int cols, int room)
{
    mbstate_t st;
    size_t left, used = 0;
    int width = 0, limit;

    if (s == NULL || cols <= 0)
        return 0;
    if (ui_width(s) <= cols)
        return strlen(s);
    limit = cols - room > 0 ? cols - room : 0;
    memset(&st, 0, sizeof st);
    left = strlen(s);
    while (left > 0) {
        struct ch c = next_char(s + used, left, &st);

        if (width + c.width > limit)
            break;
        width += c.width;
        used += c.len;
        left -= c.len;
    }
    return used;
}

size_t ui_cut(const char *s, int cols, bool ellipsis)
{
    return cut_room(s, cols, ellipsis ? ui_width(term_glyphs_current()->ellipsis) : 0);
}

static const struct term_glyphs *glyphs_of(const struct term *t)
{
    return t != NULL && t->glyphs != NULL ? t->glyphs : term_glyphs_current();
}

/* Draws n bytes of s at the cursor; returns the columns drawn. */
static int put(WINDOW *w, const struct term_glyphs *g, const char *s, size_t n)
{
    mbstate_t st;
    int cols = 0;

    memset(&st, 0, sizeof st);
    while (n > 0) {
        struct ch c = next_char(s, n, &st);

        if (c.len > n)
            break;
        if (c.valid && (g->utf8 || c.len == 1)) {
            waddnstr(w, s, (int)c.len);
        } else if (c.width > 0) {
            for (int i = 0; i < c.width; i++)
                waddch(w, '?');
        }
        cols += c.width;
        s += c.len;
        n -= c.len;
    }
    return cols;
}

int ui_text(WINDOW *w, const struct term *t, int y, int x, const char *s, int cols,
            enum theme_role role)
{
    const struct term_glyphs *g = glyphs_of(t);
    int maxx = getmaxx(w), drawn, ew;
    size_t n;

    if (s == NULL || x < 0 || y < 0 || x >= maxx)
        return 0;
    if (cols > maxx - x)
        cols = maxx - x;
    if (cols <= 0)
        return 0;
    ew = ui_width(g->ellipsis);
    n = cut_room(s, cols, ew < cols ? ew : cols);
    wattrset(w, theme_attr(role));
    wmove(w, y, x);
    drawn = put(w, g, s, n);
    if (s[n] != '\0') {
        /* Cut: as much of the ellipsis as fits (all of it, unless cols is tiny). */
        size_t en = cut_room(g->ellipsis, cols - drawn, 0);

        drawn += put(w, g, g->ellipsis, en);
    }
    wattrset(w, A_NORMAL);
    return drawn;
}

int ui_textf(WINDOW *w, const struct term *t, int y, int x, int cols, enum theme_role role,
             const char *fmt, ...)
{
    char buf[512], *p = buf;
    va_list ap;
    int n, drawn;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return 0;
    if ((size_t)n >= sizeof buf) {
        p = malloc((size_t)n + 1);
        if (p == NULL)
            return 0;
        va_start(ap, fmt);
        vsnprintf(p, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    drawn = ui_text(w, t, y, x, p, cols, role);
    if (p != buf)
        free(p);
    return drawn;
}

void ui_box(WINDOW *w, const struct term *t, const char *title, bool focused)
{
    const struct term_glyphs *g = glyphs_of(t);
    enum theme_role role = focused ? THEME_FOCUS : THEME_BORDER;
    int h, wd;

    getmaxyx(w, h, wd);
    if (h < 2 || wd < 2)
        return;
    wattrset(w, theme_attr(role));
    mvwaddstr(w, 0, 0, g->tl);
    for (int x = 1; x < wd - 1; x++)
        waddstr(w, g->h);
    waddstr(w, g->tr);
    for (int y = 1; y < h - 1; y++) {
        mvwaddstr(w, y, 0, g->v);
        mvwaddstr(w, y, wd - 1, g->v);
    }
    mvwaddstr(w, h - 1, 0, g->bl);
    for (int x = 1; x < wd - 1; x++)
        waddstr(w, g->h);
    waddstr(w, g->br); /* the last cell: curses reports ERR for the cursor, the glyph is drawn */
    wattrset(w, A_NORMAL);
    if (title != NULL && *title != '\0' && wd >= 7) {
        int n;

        wattrset(w, theme_attr(role));
        mvwaddch(w, 0, 1, ' ');
        n = ui_text(w, t, 0, 2, title, wd - 5, focused ? THEME_FOCUS : THEME_TITLE);
        wattrset(w, theme_attr(role));
        mvwaddch(w, 0, 2 + n, ' ');
        wattrset(w, A_NORMAL);
    }
}

void ui_gauge(WINDOW *w, const struct term *t, int y, int x, int cols, double frac, double mark)
{
    const struct term_glyphs *g = glyphs_of(t);
    int maxx = getmaxx(w), filled, mi = -1;
    bool over;

    if (x < 0 || y < 0 || x >= maxx)
        return;
    if (cols > maxx - x)
        cols = maxx - x;
    if (cols <= 0)
        return;
    if (!(frac >= 0.0)) /* NaN too */
        frac = 0.0;
    over = frac > 1.0;
    if (over)
        frac = 1.0;
    filled = (int)(frac * cols + 0.5);
    if (mark >= 0.0 && !over) {
        mi = (int)((mark > 1.0 ? 1.0 : mark) * cols);
        if (mi >= cols)
            mi = cols - 1;
    }
    wmove(w, y, x);
    for (int i = 0; i < cols; i++) {
        enum theme_role role = over ? THEME_ALERT : i < filled ? THEME_GAUGE : THEME_DIM;

        if (i == mi)
            role = THEME_MARK;
        wattrset(w, theme_attr(role));
        waddstr(w, i == mi ? g->mark : i < filled ? g->full : g->empty);
    }
    wattrset(w, A_NORMAL);
}

void ui_sparkline(WINDOW *w, const struct term *t, int y, int x, int cols, const uint16_t *v, int n)
{
    const struct term_glyphs *g = glyphs_of(t);
    int maxx = getmaxx(w), start, count;
    uint32_t max = 0;

    if (x < 0 || y < 0 || x >= maxx)
        return;
    if (cols > maxx - x)
        cols = maxx - x;
    if (cols <= 0)
        return;
    if (v == NULL || n < 0)
        n = 0;
    start = n > cols ? n - cols : 0;
    count = n - start;
    for (int i = start; i < n; i++)
        if (v[i] > max)
            max = v[i];
    wattrset(w, theme_attr(THEME_GAUGE));
    wmove(w, y, x);
    for (int i = count; i < cols; i++)
        waddch(w, ' ');
    for (int i = start; i < n; i++) {
        uint32_t level = max == 0 ? 0 : ((uint32_t)v[i] * 7 + max - 1) / max;

        waddstr(w, g->spark[level > 7 ? 7 : level]);
    }
    wattrset(w, A_NORMAL);
}

void ui_list_fit(struct ui_list *l, int rows)
{
    int last_top;

    if (rows < 1)
        rows = 1;
    if (l->count <= 0) {
        l->count = 0;
        l->selected = 0;
        l->top = 0;
        return;
    }
    if (l->selected >= l->count)
        l->selected = l->count - 1;
    if (l->selected < 0)
        l->selected = 0;
    if (l->top > l->selected)
        l->top = l->selected;
    if (l->selected >= l->top + rows)
        l->top = l->selected - rows + 1;
    last_top = l->count > rows ? l->count - rows : 0;
    if (l->top > last_top)
        l->top = last_top;
    if (l->top < 0)
        l->top = 0;
}

int ui_list_key(struct ui_list *l, int key, int rows)
{
    int page = rows > 1 ? rows : 1;

    switch (key) {
    case 'j':
    case KEY_DOWN:
        l->selected++;
        break;
    case 'k':
    case KEY_UP:
        l->selected--;
        break;
    case KEY_NPAGE:
        l->selected += page;
        break;
    case KEY_PPAGE:
        l->selected -= page;
        break;
    case KEY_HOME:
        l->selected = 0;
        break;
    case KEY_END:
        l->selected = l->count - 1;
        break;
    default:
        return 0;
    }
    ui_list_fit(l, rows);
    return 1;
}
