/*
 * theme.h - colour themes: one style (foreground, background, attributes) per colour role,
 * read from themes/NAME.theme (INI, one [theme] section: `role = fg, bg, attr attr ...`;
 * colours are names (default, black, red, green, yellow, blue, magenta, cyan, white, and the
 * bright- forms) or 0-255; attributes bold, dim, underline, reverse, standout, none). A bad
 * line names file:line and what is wrong, and the default theme is used instead. Applied to
 * the terminal's capability: 256-colour values are mapped down to 16 or 8, and a monochrome
 * terminal keeps the attributes only (reverse for the selection, bold for titles).
 *
 * Threads: parsing is pure; theme_apply() and theme_attr() are the UI thread's (curses).
 */
#ifndef NEWSROOM_UI_THEME_H
#define NEWSROOM_UI_THEME_H

#include "ui/term.h"

#include <stdbool.h>
#include <stddef.h>

enum theme_role {
    THEME_NORMAL,   /* text */
    THEME_DIM,      /* secondary text, ages, stale data */
    THEME_HEADER,   /* the header bar */
    THEME_TITLE,    /* pane titles */
    THEME_BORDER,   /* pane borders */
    THEME_FOCUS,    /* the focused pane's border and title */
    THEME_SELECTED, /* the selected row */
    THEME_OK,       /* good: published, alive, passed */
    THEME_WARN,     /* attention: near a limit, stale heartbeat */
    THEME_ALERT,    /* bad: dead agent, failed, over budget, halted */
    THEME_GAUGE,    /* gauge fill */
    THEME_MARK,     /* the alert threshold on a gauge */
    THEME_BANNER,   /* "link lost" and emergency banners */
    THEME_PROMPT,   /* prompts and overlays */
    THEME_STATUS,   /* the status line */
    THEME_ROLE_COUNT
};

/* "normal", "dim", ... as they appear in theme files. */
extern const char *const theme_role_names[THEME_ROLE_COUNT];

struct theme_style {
    short fg, bg;   /* 0-255, or -1 for the terminal's default */
    unsigned attrs; /* THEME_A_* */
};
enum {
    THEME_A_BOLD = 1,
    THEME_A_DIM = 2,
    THEME_A_UNDERLINE = 4,
    THEME_A_REVERSE = 8,
    THEME_A_STANDOUT = 16
};

struct theme {
    char name[64];
    struct theme_style style[THEME_ROLE_COUNT];
};

/* The built-in dark theme (equal to themes/dark.theme). */
void theme_default(struct theme *out);
/* Parses a theme file's text (name: what errors call it, e.g. the path). Roles it does not
 * set keep the default theme's style. Returns 0, or -1 with *cause ("NAME:LINE: ...") and
 * *out left as the default theme. */
int theme_parse(const char *text, const char *name, struct theme *out, char **cause);
/* Reads and parses path; the theme's name is the file name without ".theme". */
int theme_load(const char *path, struct theme *out, char **cause);
/* The names of the *.theme files in dir, sorted (free each, then the array). Names with
 * characters other than letters, digits, '.', '_' and '-' are left out. Returns 0, or -1 with
 * *cause when dir cannot be read. */
int theme_list(const char *dir, char ***names, size_t *n, char **cause);

/* The themes directory: configured ([ui] themes_dir, which $NEWSROOM_THEMES_DIR overrides
 * through the configuration) when not empty, else ./themes when it is a directory, else NULL
 * (only the built-in theme). Returns a new string (free it) or NULL. */
char *theme_dir(const char *configured);
/* The theme a configuration names ([ui] theme): a path to a .theme file when spec contains '/'
 * or ends in ".theme", else NAME.theme in dir (dir may be NULL); "dark" without that file is
 * the built-in default. Returns 0, or -1 with *cause and *out left as the default theme. */
int theme_resolve(const char *spec, const char *dir, struct theme *out, char **cause);

/* Makes the colour pairs for t on the open terminal term (mapped to its colours; on 8 colours
 * a bright foreground becomes bold). Monochrome (or too few colour pairs): attributes only, the
 * theme's and the built-in mono theme's together (selection reverse, titles bold). */
void theme_apply(const struct theme *t, const struct term *term);
/* The curses attributes (colour pair and attributes) of a role, after theme_apply(). */
int theme_attr(enum theme_role role);

/* The WCAG 2 contrast ratio (1 to 21) of a role's foreground on its background in the xterm
 * palette; "default" is the terminal's own: light text on black on a dark terminal, black on
 * white on a light one (light_terminal). Reverse video swaps nothing here: the ratio is the
 * same either way. Pure. */
double theme_contrast(const struct theme *t, enum theme_role role, bool light_terminal);

/* The nearest of the 16 and of the 8 basic colours to a 256-colour index (pure). */
short theme_to16(short c256);
short theme_to8(short c256);

#endif
