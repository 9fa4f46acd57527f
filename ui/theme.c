/*
 * theme.c - colour themes: the built-in dark theme, the theme file parser, the themes
 * directory, the 256 -> 16 -> 8 colour mapping, and the colour pairs on the terminal; see
 * theme.h. Parsing and mapping are pure and any thread may run them; theme_apply() and
 * theme_attr() are the UI thread's, and the attribute table they share is its alone.
 *
 * A theme file is INI-like: comments (';' or '#' first on a line), one [theme] section, and
 * lines `role = fg, bg, attributes` where bg and attributes may be left out. Theme files are
 * outside input, so every token an error quotes is cut short and made printable ASCII.
 */
#include "ui/theme.h"

#include "core/fail.h"

#include <ctype.h>
#include <curses.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define THEME_MAX_FILE (256 * 1024)

const char *const theme_role_names[THEME_ROLE_COUNT] = {
    [THEME_NORMAL] = "normal",     [THEME_DIM] = "dim",       [THEME_HEADER] = "header",
    [THEME_TITLE] = "title",       [THEME_BORDER] = "border", [THEME_FOCUS] = "focus",
    [THEME_SELECTED] = "selected", [THEME_OK] = "ok",         [THEME_WARN] = "warn",
    [THEME_ALERT] = "alert",       [THEME_GAUGE] = "gauge",   [THEME_MARK] = "mark",
    [THEME_BANNER] = "banner",     [THEME_PROMPT] = "prompt", [THEME_STATUS] = "status",
};

/* The dark theme; themes/dark.theme says the same (a unit test holds them together). */
static const struct theme_style dark_styles[THEME_ROLE_COUNT] = {
    [THEME_NORMAL] = {-1, -1, 0},
    [THEME_DIM] = {244, -1, 0},
    [THEME_HEADER] = {231, 25, THEME_A_BOLD},
    [THEME_TITLE] = {75, -1, THEME_A_BOLD},
    [THEME_BORDER] = {244, -1, 0},
    [THEME_FOCUS] = {81, -1, THEME_A_BOLD},
    [THEME_SELECTED] = {231, 24, 0},
    [THEME_OK] = {114, -1, 0},
    [THEME_WARN] = {214, -1, THEME_A_BOLD},
    [THEME_ALERT] = {203, -1, THEME_A_BOLD},
    [THEME_GAUGE] = {72, -1, 0},
    [THEME_MARK] = {220, -1, THEME_A_BOLD},
    [THEME_BANNER] = {231, 160, THEME_A_BOLD},
    [THEME_PROMPT] = {231, 238, THEME_A_BOLD},
    [THEME_STATUS] = {250, 236, 0},
};

/* What a monochrome terminal adds to any theme (themes/mono.theme says the same). */
static const unsigned mono_attrs[THEME_ROLE_COUNT] = {
    [THEME_DIM] = THEME_A_DIM,
    [THEME_HEADER] = THEME_A_REVERSE | THEME_A_BOLD,
    [THEME_TITLE] = THEME_A_BOLD,
    [THEME_FOCUS] = THEME_A_BOLD,
    [THEME_SELECTED] = THEME_A_REVERSE,
    [THEME_WARN] = THEME_A_BOLD,
    [THEME_ALERT] = THEME_A_BOLD | THEME_A_UNDERLINE,
    [THEME_MARK] = THEME_A_BOLD,
    [THEME_BANNER] = THEME_A_REVERSE | THEME_A_BOLD,
    [THEME_PROMPT] = THEME_A_REVERSE,
    [THEME_STATUS] = THEME_A_REVERSE,
};

static const struct {
    const char *name;
    short value;
} colour_names[] = {
    {"default", -1},       {"black", 0},         {"red", 1},
    {"green", 2},          {"yellow", 3},        {"blue", 4},
    {"magenta", 5},        {"cyan", 6},          {"white", 7},
    {"bright-black", 8},   {"bright-red", 9},    {"bright-green", 10},
    {"bright-yellow", 11}, {"bright-blue", 12},  {"bright-magenta", 13},
    {"bright-cyan", 14},   {"bright-white", 15},
};

static const struct {
    const char *name;
    unsigned value;
} attr_names[] = {
    {"none", 0},
    {"bold", THEME_A_BOLD},
    {"dim", THEME_A_DIM},
    {"underline", THEME_A_UNDERLINE},
    {"reverse", THEME_A_REVERSE},
    {"standout", THEME_A_STANDOUT},
};

void theme_default(struct theme *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "dark");
    memcpy(out->style, dark_styles, sizeof out->style);
}

/* A token from a file, fit to quote in a message: at most 32 bytes, printable ASCII. */
static void quote(const char *s, size_t n, char buf[40])
{
    size_t i, max = n < 32 ? n : 32;

    for (i = 0; i < max; i++)
        buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (n > max) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
}

/* The theme's name from a path: the file name without ".theme", printable and short. */
static void name_from(const char *path, char out[64])
{
    const char *base = strrchr(path, '/');
    size_t n, i;

    base = base != NULL ? base + 1 : path;
    n = strlen(base);
    if (n > 6 && strcmp(base + n - 6, ".theme") == 0)
        n -= 6;
    if (n > 63)
        n = 63;
    for (i = 0; i < n; i++)
        out[i] = isalnum((unsigned char)base[i]) || strchr("._-", base[i]) != NULL ? base[i] : '?';
    out[n] = '\0';
    if (n == 0)
        snprintf(out, 64, "theme");
}

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *trim_end(const char *p, const char *end)
{
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    return end;
}

static int parse_colour(const char *s, size_t n, short *out)
{
    for (size_t i = 0; i < sizeof colour_names / sizeof colour_names[0]; i++)
        if (strlen(colour_names[i].name) == n && strncmp(colour_names[i].name, s, n) == 0) {
            *out = colour_names[i].value;
            return 0;
        }
    if (n >= 1 && n <= 3) {
        int v = 0;

        for (size_t i = 0; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            v = v * 10 + (s[i] - '0');
        }
        if (v <= 255) {
            *out = (short)v;
            return 0;
        }
    }
    return -1;
}

static int parse_attrs(const char *p, const char *end, unsigned *out, char **why)
{
    *out = 0;
    for (;;) {
        const char *w;
        size_t n, i;

        p = skip_space(p, end);
        if (p == end)
            return 0;
        w = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        n = (size_t)(p - w);
        for (i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++)
            if (strlen(attr_names[i].name) == n && strncmp(attr_names[i].name, w, n) == 0)
                break;
        if (i == sizeof attr_names / sizeof attr_names[0]) {
            char q[40];

            quote(w, n, q);
            *why = xasprintf("\"%s\" is not an attribute (bold, dim, underline, reverse, "
                             "standout, none)",
                             q);
            return -1;
        }
        *out |= attr_names[i].value;
    }
}

/* `fg, bg, attributes` (bg and attributes optional). */
static int parse_style(const char *p, const char *end, struct theme_style *st, char **why)
{
    const char *field[3], *fend[3];
    int nf = 0;
    const char *q = p;

    st->fg = -1;
    st->bg = -1;
    st->attrs = 0;
    for (;;) {
        const char *c = memchr(q, ',', (size_t)(end - q));
        const char *stop = c != NULL ? c : end;

        if (nf == 3) {
            *why = xstrdup("too many fields (fg, bg, attributes)");
            return -1;
        }
        field[nf] = skip_space(q, stop);
        fend[nf] = trim_end(field[nf], stop);
        nf++;
        if (c == NULL)
            break;
        q = c + 1;
    }
    for (int i = 0; i < nf && i < 2; i++) {
        short *dst = i == 0 ? &st->fg : &st->bg;
        size_t n = (size_t)(fend[i] - field[i]);

        if (n == 0) {
            *why = xasprintf("missing %s colour (fg, bg, attributes)",
                             i == 0 ? "foreground" : "background");
            return -1;
        }
        if (parse_colour(field[i], n, dst) == -1) {
            char qb[40];

            quote(field[i], n, qb);
            *why = xasprintf("\"%s\" is not a colour (default, black, red, green, yellow, "
                             "blue, magenta, cyan, white, bright-NAME, or 0-255)",
                             qb);
            return -1;
        }
    }
    if (nf == 3)
        return parse_attrs(field[2], fend[2], &st->attrs, why);
    return 0;
}

static int parse_line(const char *p, const char *end, bool *in_section, struct theme *t, char **why)
{
    const char *eq, *kend;
    size_t klen;
    char q[40];
    int role;

    p = skip_space(p, end);
    end = trim_end(p, end);
    if (p == end || *p == ';' || *p == '#')
        return 0;
    if (*p == '[') {
        const char *s, *e;

        if (end[-1] != ']' || end - p < 2) {
            *why = xstrdup("a section line must end in ']'");
            return -1;
        }
        s = skip_space(p + 1, end - 1);
        e = trim_end(s, end - 1);
        if ((size_t)(e - s) != 5 || strncmp(s, "theme", 5) != 0) {
            quote(s, (size_t)(e - s), q);
            *why = xasprintf("unknown section [%s] (a theme file has one [theme] section)", q);
            return -1;
        }
        *in_section = true;
        return 0;
    }
    eq = memchr(p, '=', (size_t)(end - p));
    if (eq == NULL) {
        quote(p, (size_t)(end - p), q);
        *why = xasprintf("missing '=' in \"%s\" (role = fg, bg, attributes)", q);
        return -1;
    }
    kend = trim_end(p, eq);
    klen = (size_t)(kend - p);
    quote(p, klen, q);
    if (!*in_section) {
        *why = xasprintf("\"%s\" is outside the [theme] section", q);
        return -1;
    }
    for (role = 0; role < THEME_ROLE_COUNT; role++)
        if (strlen(theme_role_names[role]) == klen && strncmp(theme_role_names[role], p, klen) == 0)
            break;
    if (role == THEME_ROLE_COUNT) {
        *why = xasprintf("unknown role \"%s\" (normal, dim, header, title, border, focus, "
                         "selected, ok, warn, alert, gauge, mark, banner, prompt, status)",
                         q);
        return -1;
    }
    if (parse_style(eq + 1, end, &t->style[role], why) == -1) {
        char *w = xasprintf("%s: %s", theme_role_names[role], *why);

        free(*why);
        *why = w;
        return -1;
    }
    return 0;
}

int theme_parse(const char *text, const char *name, struct theme *out, char **cause)
{
    struct theme t;
    bool in_section = false;
    int line = 0;
    const char *p = text;

    theme_default(&t);
    name_from(name, t.name);
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        const char *end = nl != NULL ? nl : p + strlen(p);
        char *why = NULL;

        line++;
        if (parse_line(p, end, &in_section, &t, &why) == -1) {
            *cause = xasprintf("%s:%d: %s", name, line, why);
            free(why);
            theme_default(out);
            return -1;
        }
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    *out = t;
    return 0;
}

int theme_load(const char *path, struct theme *out, char **cause)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    int rc;

    if (f == NULL) {
        *cause = xasprintf("%s: %s", path, strerror(errno));
        theme_default(out);
        return -1;
    }
    buf = xmalloc(THEME_MAX_FILE + 1);
    n = fread(buf, 1, THEME_MAX_FILE + 1, f);
    if (ferror(f) || n > THEME_MAX_FILE) {
        *cause = ferror(f) ? xasprintf("%s: cannot read it", path)
                           : xasprintf("%s: larger than %d bytes", path, THEME_MAX_FILE);
        fclose(f);
        free(buf);
        theme_default(out);
        return -1;
    }
    fclose(f);
    buf[n] = '\0';
    if (memchr(buf, '\0', n) != NULL) {
        *cause = xasprintf("%s: a NUL byte; not a theme file", path);
        free(buf);
        theme_default(out);
        return -1;
    }
    rc = theme_parse(buf, path, out, cause);
    free(buf);
    return rc;
}

static bool safe_name(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
            return false;
    return true;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int theme_list(const char *dir, char ***names, size_t *n, char **cause)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t cap = 0;

    *names = NULL;
    *n = 0;
    if (d == NULL) {
        *cause = xasprintf("%s: %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);

        if (len <= 6 || strcmp(e->d_name + len - 6, ".theme") != 0 ||
            !safe_name(e->d_name, len - 6) || len - 6 > 63)
            continue;
        if (*n == cap) {
            cap = cap == 0 ? 8 : cap * 2;
            *names = xrealloc(*names, cap * sizeof **names);
        }
        (*names)[*n] = xmalloc(len - 5);
        memcpy((*names)[*n], e->d_name, len - 6);
        (*names)[*n][len - 6] = '\0';
        (*n)++;
    }
    closedir(d);
    if (*n > 0)
        qsort(*names, *n, sizeof **names, compare_names);
    return 0;
}

static bool is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *theme_dir(const char *configured)
{
    if (configured != NULL && *configured != '\0')
        return xstrdup(configured);
    if (is_dir("themes"))
        return xstrdup("themes");
    return NULL;
}

int theme_resolve(const char *spec, const char *dir, struct theme *out, char **cause)
{
    size_t n = spec != NULL ? strlen(spec) : 0;
    char *path;
    int rc;

    if (n == 0) {
        theme_default(out);
        return 0;
    }
    if (strchr(spec, '/') != NULL || (n > 6 && strcmp(spec + n - 6, ".theme") == 0))
        return theme_load(spec, out, cause);
    if (!safe_name(spec, n)) {
        char q[40];

        quote(spec, n, q);
        *cause = xasprintf("\"%s\" is not a theme name (letters, digits, '.', '_', '-')", q);
        theme_default(out);
        return -1;
    }
    if (dir != NULL) {
        struct stat st;

        path = xasprintf("%s/%s.theme", dir, spec);
        if (stat(path, &st) == 0 || strcmp(spec, "dark") != 0) {
            rc = theme_load(path, out, cause);
            free(path);
            return rc;
        }
        free(path);
    }
    theme_default(out);
    if (strcmp(spec, "dark") == 0)
        return 0;
    *cause = xasprintf("theme \"%s\": no themes directory (set [ui] themes_dir or "
                       "NEWSROOM_THEMES_DIR)",
                       spec);
    return -1;
}

/* The xterm palette's RGB for an index 16-255. */
static void rgb_of(short c, int *r, int *g, int *b)
{
    static const int level[6] = {0, 95, 135, 175, 215, 255};

    if (c >= 232) {
        *r = *g = *b = 8 + 10 * (c - 232);
    } else {
        c = (short)(c - 16);
        *r = level[c / 36];
        *g = level[(c / 6) % 6];
        *b = level[c % 6];
    }
}

/* An xterm palette colour's relative luminance (WCAG 2). */
static double luminance(short c, bool fg, bool light_terminal)
{
    static const int basic[16][3] = {
        {0, 0, 0},       {205, 0, 0},   {0, 205, 0},   {205, 205, 0},
        {0, 0, 238},     {205, 0, 205}, {0, 205, 205}, {229, 229, 229},
        {127, 127, 127}, {255, 0, 0},   {0, 255, 0},   {255, 255, 0},
        {92, 92, 255},   {255, 0, 255}, {0, 255, 255}, {255, 255, 255},
    };
    int rgb[3];
    double l[3];

    if (c < 0) /* the terminal's own colour */
        c = (short)(fg == light_terminal ? 0 : light_terminal ? 15 : 7);
    if (c < 16) {
        memcpy(rgb, basic[c], sizeof rgb);
    } else {
        rgb_of(c, &rgb[0], &rgb[1], &rgb[2]);
    }
    for (int i = 0; i < 3; i++) {
        double v = rgb[i] / 255.0;

        l[i] = v <= 0.03928 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
    }
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
}

double theme_contrast(const struct theme *t, enum theme_role role, bool light_terminal)
{
    const struct theme_style *st = &t->style[role];
    /* A role without a background of its own shows on the normal role's (the panes fill
     * with it). */
    short bg = st->bg >= 0 ? st->bg : t->style[THEME_NORMAL].bg;
    double a = luminance(st->fg, true, light_terminal), b = luminance(bg, false, light_terminal);

    return a > b ? (a + 0.05) / (b + 0.05) : (b + 0.05) / (a + 0.05);
}

short theme_to16(short c)
{
    int r, g, b, mx;
    short base;

    if (c < 16)
        return c; /* -1 (default) and the basic 16 as they are */
    if (c > 255)
        return -1;
    rgb_of(c, &r, &g, &b);
    mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
    if (r == g && g == b) {
        if (mx < 0x40)
            return 0;
        if (mx < 0x90)
            return 8;
        return mx < 0xd0 ? 7 : 15;
    }
    /* A channel counts when it is more than two thirds of the strongest one: amber stays
     * yellow, pink magenta, teal cyan and a dark blue blue. */
    base = (short)((r * 3 > mx * 2 ? 1 : 0) | (g * 3 > mx * 2 ? 2 : 0) | (b * 3 > mx * 2 ? 4 : 0));
    return (short)(mx == 255 ? base + 8 : base);
}

short theme_to8(short c)
{
    short c16 = theme_to16(c);
    int r, g, b;

    if (c16 < 0)
        return c16;
    if (c16 != 8)
        return (short)(c16 & 7);
    /* Bright black: dark greys go black, the rest white, so grey text stays readable. */
    if (c < 16)
        return 7;
    rgb_of(c, &r, &g, &b);
    (void)g;
    (void)b;
    return r >= 0x50 ? 7 : 0;
}

/* The curses attributes of each role after theme_apply(): the UI thread's. */
static int role_attr[THEME_ROLE_COUNT];

static int curses_attrs(unsigned a)
{
    int out = A_NORMAL;

    if (a & THEME_A_BOLD)
        out |= (int)A_BOLD;
    if (a & THEME_A_DIM)
        out |= (int)A_DIM;
    if (a & THEME_A_UNDERLINE)
        out |= (int)A_UNDERLINE;
    if (a & THEME_A_REVERSE)
        out |= (int)A_REVERSE;
    if (a & THEME_A_STANDOUT)
        out |= (int)A_STANDOUT;
    return out;
}

static short map_colour(short c, const struct term *term, bool fg)
{
    if (c < 0)
        return term->default_colors ? -1 : (fg ? COLOR_WHITE : COLOR_BLACK);
    switch (term->colors) {
    case TERM_COLORS_256:
        return c;
    case TERM_COLORS_16:
        return theme_to16(c);
    default:
        return theme_to8(c);
    }
}

void theme_apply(const struct theme *t, const struct term *term)
{
    bool colour = term->colors != TERM_MONO && COLOR_PAIRS > THEME_ROLE_COUNT;

    for (int i = 0; i < THEME_ROLE_COUNT; i++) {
        const struct theme_style *st = &t->style[i];
        unsigned attrs = st->attrs;

        if (!colour) {
            role_attr[i] = curses_attrs(attrs | mono_attrs[i]);
            continue;
        }
        if (term->colors == TERM_COLORS_8 && st->fg >= 0 && theme_to16(st->fg) >= 8)
            attrs |= THEME_A_BOLD;
        init_pair((short)(i + 1), map_colour(st->fg, term, true), map_colour(st->bg, term, false));
        role_attr[i] = (int)COLOR_PAIR(i + 1) | curses_attrs(attrs);
    }
}

int theme_attr(enum theme_role role)
{
    if ((int)role < 0 || role >= THEME_ROLE_COUNT)
        return A_NORMAL;
    return role_attr[role];
}
