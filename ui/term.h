/*
 * term.h - the terminal, owned by the UI thread alone: setup (locale, newterm with its result
 * checked, cbreak/noecho/keypad, a short escape delay, no cursor), what the terminal can do
 * (colours: 256, 16, 8 or none; glyphs: UTF-8 or ASCII), and restoring it on every way out.
 *
 * Colours: NO_COLOR set (to anything) or --no-color means monochrome; otherwise COLORS from
 * terminfo decides (>= 256, >= 16, >= 8, else none). Glyphs: UTF-8 line drawing and blocks
 * when nl_langinfo(CODESET) is UTF-8, an ASCII set otherwise (LANG=C shows no byte above
 * 0x7e). A TERM without a terminfo entry fails with a hint naming TERM=xterm-256color.
 *
 * Threads: every function here is the UI thread's, except term_emergency_restore(), which
 * fail() (src/core/fail.h) may call from any thread on the way to abort().
 */
#ifndef NEWSROOM_UI_TERM_H
#define NEWSROOM_UI_TERM_H

#include <stdbool.h>
#include <stdio.h>

enum term_colors { TERM_MONO, TERM_COLORS_8, TERM_COLORS_16, TERM_COLORS_256 };

/* The characters panes draw with, UTF-8 or ASCII. Each is a NUL-terminated string of one
 * display column, except the ellipsis, which is "..." (3 columns) in ASCII: measure it with
 * ui_width() or let ui_text()/ui_cut() handle it. No ASCII glyph has a byte above 0x7e. */
struct term_glyphs {
    bool utf8;
    const char *h, *v, *tl, *tr, *bl, *br; /* box lines and corners */
    const char *spark[8];                  /* sparkline levels, lowest first */
    const char *full, *empty, *mark;       /* gauge fill, gauge background, threshold mark */
    const char *upper_half;                /* half-block art ("\u2580"; ASCII: none, NULL) */
    const char *ellipsis;                  /* a cut string's end */
    const char *bullet, *arrow;            /* list markers */
};

struct term {
    bool open;
    enum term_colors colors;
    bool default_colors; /* use_default_colors() worked: colour -1 is the terminal's own */
    const struct term_glyphs *glyphs;
    int rows, cols;
    int images;   /* enum images_mode (images.h), set by the app after term_open() */
    int out_fd;   /* the terminal's output, for what curses does not write (OSC 52) */
    bool in_tmux; /* $TMUX is set: escape sequences for the outer terminal are wrapped */
};

/* Opens the terminal on in/out (stdin/stdout for the control room, a pty in the benchmark):
 * setlocale(LC_ALL, ""), newterm(NULL, out, in) checked, colours and glyphs as above
 * (no_color forces monochrome), ESCDELAY 25 ms, keypad, no echo, cbreak, nonl, cursor hidden,
 * mouse off, and getch() never waits (nodelay: the caller polls the input descriptor first).
 * Makes the chosen glyph set current (term_glyphs_current()) and installs
 * term_emergency_restore() as fail()'s hook. Returns 0, or -1 with *cause (free it; a missing
 * terminfo entry: "no terminfo entry for TERM=\"...\"; try TERM=xterm-256color"). */
int term_open(struct term *t, FILE *in, FILE *out, bool no_color, char **cause);
/* Restores the terminal (endwin, the cursor back) and frees the screen. Idempotent. */
void term_close(struct term *t);
/* After KEY_RESIZE (or a SIGWINCH the caller caught itself): reads the terminal's size from
 * the tty (TIOCGWINSZ), resizes curses to it when it differs, and sets rows/cols. */
void term_resized(struct term *t);
/* endwin() if a terminal is open: for fail() on the way to abort(). */
void term_emergency_restore(void);

/* The glyph sets, for tests. */
extern const struct term_glyphs term_glyphs_utf8, term_glyphs_ascii;
/* The glyph set term_open() chose (UTF-8 before any term_open()); ui_cut() keeps room for its
 * ellipsis. term_glyphs_use() sets it (tests). UI thread. */
const struct term_glyphs *term_glyphs_current(void);
void term_glyphs_use(const struct term_glyphs *g);

#endif
