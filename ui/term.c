/*
 * term.c - the terminal: setup, capabilities (colours, glyphs), size after a resize, and
 * restoring it; see term.h. Every function is the UI thread's except term_emergency_restore(),
 * which fail() may run from any thread on its way to abort(): it reads the open screen through
 * an atomic flag and only calls endwin(), the least a broken terminal over SSH needs.
 */
#include "ui/term.h"

#include "core/fail.h"

#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

const struct term_glyphs term_glyphs_utf8 = {
    .utf8 = true,
    .h = "\u2500",
    .v = "\u2502",
    .tl = "\u250c",
    .tr = "\u2510",
    .bl = "\u2514",
    .br = "\u2518",
    .spark = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"},
    .full = "\u2588",
    .empty = "\u2591",
    .mark = "\u2502",
    .upper_half = "\u2580",
    .ellipsis = "\u2026",
    .bullet = "\u2022",
    .arrow = "\u203a",
};

const struct term_glyphs term_glyphs_ascii = {
    .utf8 = false,
    .h = "-",
    .v = "|",
    .tl = "+",
    .tr = "+",
    .bl = "+",
    .br = "+",
    .spark = {"_", ".", ":", "-", "=", "+", "*", "#"},
    .full = "#",
    .empty = ".",
    .mark = "|",
    .upper_half = NULL,
    .ellipsis = "...",
    .bullet = "*",
    .arrow = ">",
};

static const struct term_glyphs *glyphs_current = &term_glyphs_utf8;

/* The open screen (one at a time) and the descriptor its size is read from. */
static SCREEN *term_screen;
static int term_out_fd = -1;
static atomic_bool term_is_open;

const struct term_glyphs *term_glyphs_current(void)
{
    return glyphs_current;
}

void term_glyphs_use(const struct term_glyphs *g)
{
    glyphs_current = g != NULL ? g : &term_glyphs_utf8;
}

static bool locale_is_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);

    return cs != NULL && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

static enum term_colors detect_colors(bool no_color, bool *default_colors)
{
    *default_colors = false;
    if (no_color || getenv("NO_COLOR") != NULL || !has_colors() || start_color() == ERR)
        return TERM_MONO;
    *default_colors = use_default_colors() == OK;
    if (COLORS >= 256)
        return TERM_COLORS_256;
    if (COLORS >= 16)
        return TERM_COLORS_16;
    if (COLORS >= 8)
        return TERM_COLORS_8;
    return TERM_MONO;
}

int term_open(struct term *t, FILE *in, FILE *out, bool no_color, char **cause)
{
    const char *name = getenv("TERM");
    SCREEN *sp;

    memset(t, 0, sizeof *t);
    if (term_screen != NULL) {
        *cause = xstrdup("the terminal is already open");
        return -1;
    }
    setlocale(LC_ALL, "");
    if (name == NULL || *name == '\0') {
        *cause = xstrdup("TERM is not set; try TERM=xterm-256color");
        return -1;
    }
    sp = newterm(NULL, out, in);
    if (sp == NULL) {
        /* The name is the user's own environment, but keep it printable all the same. */
        char safe[64];
        size_t i;

        for (i = 0; name[i] != '\0' && i < sizeof safe - 1; i++)
            safe[i] = name[i] > 0x20 && name[i] < 0x7f ? name[i] : '?';
        safe[i] = '\0';
        *cause = xasprintf("no terminfo entry for TERM=\"%s\"; try TERM=xterm-256color", safe);
        return -1;
    }
    term_screen = sp;
    term_out_fd = fileno(out);
    set_term(sp);
    t->colors = detect_colors(no_color, &t->default_colors);
    t->glyphs = locale_is_utf8() ? &term_glyphs_utf8 : &term_glyphs_ascii;
    glyphs_current = t->glyphs;
    set_escdelay(25);
    cbreak();
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    mousemask(0, NULL);
    getmaxyx(stdscr, t->rows, t->cols);
    t->out_fd = fileno(out);
    t->in_tmux = getenv("TMUX") != NULL && getenv("TMUX")[0] != '\0';
    t->open = true;
    atomic_store(&term_is_open, true);
    fail_set_hook(term_emergency_restore);
    return 0;
}

void term_close(struct term *t)
{
    if (t == NULL || !t->open)
        return;
    t->open = false;
    if (term_screen == NULL)
        return;
    atomic_store(&term_is_open, false);
    curs_set(1);
    endwin();
    delscreen(term_screen);
    term_screen = NULL;
    term_out_fd = -1;
}

void term_resized(struct term *t)
{
    struct winsize ws;

    if (!t->open)
        return;
    if (term_out_fd != -1 && ioctl(term_out_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
        ws.ws_col > 0 && (ws.ws_row != LINES || ws.ws_col != COLS))
        resizeterm(ws.ws_row, ws.ws_col);
    getmaxyx(stdscr, t->rows, t->cols);
}

void term_emergency_restore(void)
{
    if (atomic_exchange(&term_is_open, false)) {
        curs_set(1);
        endwin();
    }
}
